/*
 * test_srclim.c - common/cidr.c (network lists: syntax, errors, matching,
 * prefixes) and daemon/worker/srclim.c (per-source limits: sessions open
 * at once, connections a second, networks by prefix, exemptions, one
 * logged refusal per source with a count of the rest, services apart).
 *
 * Runs in: "make check" (TAP).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cidr.h"
#include "srclim.h"
#include "tap.h"

static struct sockaddr_storage
addr(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *s6 = (void *)&ss;

		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, text, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		inet_pton(AF_INET, text, &s4->sin_addr);
	}
	return ss;
}

static void
test_parse(void)
{
	static const struct {
		const char *text;
		int rc;
		size_t n;
		const char *err;
	} cases[] = {
		{ "", 0, 0, NULL },
		{ "127.0.0.0/8, 192.0.2.10 [2001:db8::]/32", 0, 3, NULL },
		{ "::1,10.0.0.0/8", 0, 2, NULL },
		{ "10.0.0.1/8", -1, 0, "host bits set" },
		{ "10.0.0.0/33", -1, 0, "prefix longer" },
		{ "10.0.0.0/", -1, 0, "bad prefix length" },
		{ "10.0.0.0/x", -1, 0, "bad prefix length" },
		{ "example.com", -1, 0, "not an IP address" },
		{ "[2001:db8::1]/129", -1, 0, "prefix longer" },
	};
	char err[256], buf[64];
	struct cidr *v;
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		v = NULL;
		is_int(cidr_list_parse(cases[i].text, &v, &n, err,
		    sizeof(err)), cases[i].rc, "parse \"%s\"", cases[i].text);
		if (cases[i].rc == 0)
			is_int((int)n, (int)cases[i].n, "... %zu networks",
			    cases[i].n);
		else
			ok(strstr(err, cases[i].err) != NULL, "... says "
			    "\"%s\" (%s)", cases[i].err, err);
		free(v);
	}
	cidr_list_parse("[2001:db8::]/32", &v, &n, err, sizeof(err));
	is_str(cidr_text(&v[0], buf, sizeof(buf)), "2001:db8::/32",
	    "an IPv6 network in text");
	free(v);
}

static void
test_match(void)
{
	struct sockaddr_storage a;
	struct cidr *v, c;
	char err[256], buf[64];
	size_t n;

	cidr_list_parse("127.0.0.0/8 192.0.2.10 2001:db8::/32", &v, &n, err,
	    sizeof(err));
	a = addr("127.1.2.3");
	ok(cidr_list_match(v, n, &a), "127.1.2.3 is in 127.0.0.0/8");
	a = addr("192.0.2.10");
	ok(cidr_list_match(v, n, &a), "a host entry matches its address");
	a = addr("192.0.2.11");
	ok(!cidr_list_match(v, n, &a), "... and only it");
	a = addr("::ffff:127.0.0.1");
	ok(cidr_list_match(v, n, &a), "an IPv4-mapped address counts as IPv4");
	a = addr("2001:db8:1::5");
	ok(cidr_list_match(v, n, &a), "an IPv6 address in its /32");
	a = addr("2001:db9::5");
	ok(!cidr_list_match(v, n, &a), "... and one outside it");
	free(v);
	a = addr("198.51.100.77");
	cidr_of(&a, 24, 64, &c);
	is_str(cidr_text(&c, buf, sizeof(buf)), "198.51.100.0/24",
	    "an address's /24");
	a = addr("2001:db8:aa:bb:1:2:3:4");
	cidr_of(&a, 24, 64, &c);
	is_str(cidr_text(&c, buf, sizeof(buf)), "2001:db8:aa:bb::/64",
	    "an IPv6 address's /64");
}

static void
test_sessions(void)
{
	struct rt_srclim l = { 2, 0, 24, 64, NULL, 0 };
	struct sockaddr_storage a = addr("192.0.2.1"), b = addr("192.0.2.99");
	struct sockaddr_storage c = addr("198.51.100.1");
	struct srclim_ent *e1, *e2, *e3, *e4;
	struct srclim_refusal r;
	static int svc1, svc2;

	is_int(srclim_admit(&svc1, &l, &a, &e1, &r), SRCLIM_OK, "first session");
	is_int(srclim_admit(&svc1, &l, &b, &e2, &r), SRCLIM_OK,
	    "second, from the same /24");
	is_int(srclim_admit(&svc1, &l, &a, &e3, &r), SRCLIM_SESSIONS,
	    "a third from the /24 is over the limit");
	ok(r.log && r.suppressed == 0, "the first refusal is logged");
	is_int(srclim_admit(&svc1, &l, &b, &e3, &r), SRCLIM_SESSIONS,
	    "and a fourth");
	ok(!r.log, "the next one within 10 s is not");
	is_int(srclim_admit(&svc1, &l, &c, &e3, &r), SRCLIM_OK,
	    "another network is not affected");
	is_int(srclim_admit(&svc2, &l, &a, &e4, &r), SRCLIM_OK,
	    "nor is another service");
	srclim_release(e1);
	is_int(srclim_admit(&svc1, &l, &a, &e1, &r), SRCLIM_OK,
	    "a session that ends makes room");
	srclim_release(e1);
	srclim_release(e2);
	srclim_release(e3);
	srclim_release(e4);
	srclim_release(NULL);
	ok(1, "releasing NULL is a no-op");
}

static void
test_rate_and_exempt(void)
{
	struct rt_srclim l = { 0, 3, 32, 64, NULL, 0 };
	struct sockaddr_storage a = addr("203.0.113.5");
	struct srclim_ent *e;
	struct srclim_refusal r;
	static int svc;
	int tries, i, got[5];
	time_t t0;
	char err[64];
	size_t n;

	/* five connections within one second (retried if a second
	 * boundary fell between them) */
	for (tries = 0; tries < 3; tries++) {
		t0 = time(NULL);
		for (i = 0; i < 5; i++) {
			got[i] = srclim_admit(&svc, &l, &a, &e, &r);
			srclim_release(e);
		}
		if (time(NULL) == t0)
			break;
		struct timespec ts = { 1, 0 };
		nanosleep(&ts, NULL);
	}
	ok(got[0] == SRCLIM_OK && got[1] == SRCLIM_OK && got[2] == SRCLIM_OK,
	    "rate 3: three connections in a second pass (released at once)");
	ok(got[3] == SRCLIM_RATE && got[4] == SRCLIM_RATE,
	    "the fourth and fifth are over the rate");
	cidr_list_parse("203.0.113.0/24", &l.exempt, &n, err, sizeof(err));
	l.nexempt = n;
	is_int(srclim_admit(&svc, &l, &a, &e, &r), SRCLIM_OK,
	    "an exempt network is never limited");
	ok(e == NULL, "... and nothing is counted for it");
	free(l.exempt);
	l.rate = 0;
	ok(srclim_admit(&svc, &l, &a, &e, &r) == SRCLIM_OK && e == NULL,
	    "no limits: nothing is counted");
}

int
main(void)
{
	test_parse();
	test_match();
	test_sessions();
	test_rate_and_exempt();
	return done();
}
