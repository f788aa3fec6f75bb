/*
 * test_dnsttl.c - daemon/dnsttl.c's reply parser: the least TTL of the
 * A, AAAA and CNAME answers; records of other types and classes and the
 * other sections do not count; TTLs with the top bit set are 0, huge
 * ones capped; cut, lying and random replies give -1, never a crash.
 * And when DNS is asked at all, from nsswitch.conf and hosts files.
 *
 * Runs in: "make check" (TAP).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnsttl.h"
#include "tap.h"

struct msg {
	unsigned char	b[1024];
	size_t		n;
};

static void
put(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void
put16(struct msg *m, unsigned v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	put(m, b, 2);
}

static void
put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

/* A reply header with one question for "h.test" of type qtype and the
 * given counts of answer and authority records. */
static void
head(struct msg *m, unsigned qtype, unsigned an, unsigned ns)
{
	static const unsigned char name[] = "\001h\004test";

	m->n = 0;
	put16(m, 0x1234);
	put16(m, 0x8180);		/* response, RD, RA, NOERROR */
	put16(m, 1);
	put16(m, an);
	put16(m, ns);
	put16(m, 0);
	put(m, name, sizeof(name));	/* with the root's 0 */
	put16(m, qtype);
	put16(m, 1);
}

/* One record named by a pointer to the question's name. */
static void
rr(struct msg *m, unsigned type, unsigned cls, uint32_t ttl)
{
	static const unsigned char a[4] = { 192, 0, 2, 1 };
	static const unsigned char cname[] = "\001x\300\014";

	put16(m, 0xc00c);
	put16(m, type);
	put16(m, cls);
	put32(m, ttl);
	if (type == 5) {
		put16(m, sizeof(cname) - 1);
		put(m, cname, sizeof(cname) - 1);
	} else if (type == 28) {
		put16(m, 16);
		put(m, "0123456789abcdef", 16);
	} else {
		put16(m, 4);
		put(m, a, 4);
	}
}

/* Writes text to a new file under dir; its path. */
static const char *
file(const char *dir, const char *name, const char *text)
{
	static char path[8][256];
	static int k;
	char *p = path[k++ % 8];
	FILE *f;

	snprintf(p, 256, "%s/%s", dir, name);
	if ((f = fopen(p, "w")) == NULL)
		return p;
	fputs(text, f);
	fclose(f);
	return p;
}

static void
asks_dns(void)
{
	static const char *const names[] = { "hosts", "n1", "n2", "n3", "n4",
		"n5" };
	char dir[] = "/tmp/test_dnsttl.XXXXXX", path[256];
	const char *hosts, *nss;
	size_t k;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	hosts = file(dir, "hosts", "127.0.0.1 localhost\n"
	    "192.0.2.1 Fixed.Example.test alias.test # fixed.test\n");
	nss = file(dir, "n1", "# hosts: files\npasswd: files\n"
	    "hosts:  files mdns4_minimal [NOTFOUND=return] dns myhostname\n");
	ok(dnsttl_asks_dns("www.example.test", nss, hosts),
	    "files ... dns: a name not in the hosts file goes to DNS");
	ok(!dnsttl_asks_dns("fixed.example.test", nss, hosts),
	    "... a name in the hosts file does not (any case)");
	ok(!dnsttl_asks_dns("alias.test", nss, hosts), "... nor an alias");
	ok(dnsttl_asks_dns("fixed.test", nss, hosts), "... a name in a "
	    "comment is not in the file");
	ok(!dnsttl_asks_dns("192.0.2.7", nss, hosts) &&
	    !dnsttl_asks_dns("2001:db8::1", nss, hosts),
	    "... address literals do not go to DNS");
	nss = file(dir, "n2", "hosts: files\n");
	ok(!dnsttl_asks_dns("www.example.test", nss, hosts),
	    "hosts: files: nothing goes to DNS");
	nss = file(dir, "n3", "hosts: dns files\n");
	ok(dnsttl_asks_dns("fixed.example.test", nss, hosts),
	    "hosts: dns files: even a name in the hosts file goes to DNS");
	nss = file(dir, "n4", "hosts: files resolve [!UNAVAIL=return] dns\n");
	ok(dnsttl_asks_dns("www.example.test", nss, hosts),
	    "systemd-resolved's \"resolve\" counts as DNS");
	ok(dnsttl_asks_dns("www.example.test", file(dir, "n5", "passwd: "
	    "files\n"), hosts) && dnsttl_asks_dns("www.example.test",
	    "/nonexistent/nsswitch.conf", hosts),
	    "no hosts line, or no file: glibc's default (dns first)");
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[k]);
		(void)unlink(path);
	}
	rmdir(dir);
}

static void
fuzz(void)
{
	struct msg m;
	size_t i, j, bad = 0;
	long t;

	srand(1);
	for (i = 0; i < 20000; i++) {
		head(&m, 1, 3, 0);
		rr(&m, 5, 1, 60);
		rr(&m, 1, 1, 30);
		rr(&m, 28, 1, 20);
		for (j = 0; j < 1 + (size_t)rand() % 4; j++)
			m.b[(size_t)rand() % m.n] = (unsigned char)rand();
		t = dnsttl_parse(m.b, (size_t)rand() % (m.n + 1));
		bad += t < -1 || t > 7L * 24 * 3600;
	}
	ok(bad == 0, "20000 damaged replies: no crash, every result -1 or "
	    "a TTL in range (%zu out of range)", bad);
}

int
main(void)
{
	struct msg m;

	head(&m, 1, 1, 0);
	rr(&m, 1, 1, 300);
	is_int(dnsttl_parse(m.b, m.n), 300, "one A record: its TTL");
	head(&m, 1, 2, 0);
	rr(&m, 5, 1, 60);
	rr(&m, 1, 1, 300);
	is_int(dnsttl_parse(m.b, m.n), 60, "CNAME then A: the least TTL");
	head(&m, 28, 2, 0);
	rr(&m, 28, 1, 900);
	rr(&m, 28, 1, 120);
	is_int(dnsttl_parse(m.b, m.n), 120, "two AAAA records: the least");
	head(&m, 1, 2, 0);
	rr(&m, 15, 1, 5);
	rr(&m, 1, 1, 400);
	is_int(dnsttl_parse(m.b, m.n), 400, "an MX record does not count");
	head(&m, 1, 2, 0);
	rr(&m, 1, 3, 5);
	rr(&m, 1, 1, 400);
	is_int(dnsttl_parse(m.b, m.n), 400, "a record of class CH does not "
	    "count");
	head(&m, 1, 1, 1);
	rr(&m, 1, 1, 400);
	rr(&m, 1, 1, 7);
	is_int(dnsttl_parse(m.b, m.n), 400, "an authority record does not "
	    "count");
	head(&m, 1, 0, 0);
	is_int(dnsttl_parse(m.b, m.n), -1, "no answer (NODATA): -1");
	head(&m, 1, 1, 0);
	rr(&m, 1, 1, 0x80000001u);
	is_int(dnsttl_parse(m.b, m.n), 0, "a TTL with the top bit set is 0");
	head(&m, 1, 1, 0);
	rr(&m, 1, 1, 0x7fffffffu);
	is_int(dnsttl_parse(m.b, m.n), 7L * 24 * 3600, "a huge TTL is "
	    "capped at a week");
	head(&m, 1, 1, 0);
	rr(&m, 1, 1, 0);
	is_int(dnsttl_parse(m.b, m.n), 0, "TTL 0 is 0");
	head(&m, 1, 2, 0);
	rr(&m, 1, 1, 300);
	is_int(dnsttl_parse(m.b, m.n), -1, "an answer count that lies: -1");
	head(&m, 1, 1, 0);
	rr(&m, 1, 1, 300);
	is_int(dnsttl_parse(m.b, m.n - 3), -1, "a cut record: -1");
	is_int(dnsttl_parse(m.b, 5), -1, "a cut header: -1");
	is_int(dnsttl_parse(m.b, 0), -1, "nothing: -1");
	fuzz();
	asks_dns();
	return done();
}
