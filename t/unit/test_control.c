/*
 * test_control.c - the hand-off protocol pieces of daemon/worker/control.c:
 * requests (good ones and every class of bad one, with the exact
 * refusal), where a request ends in a stream, the answer and report
 * lines, and the descriptor checks with real sockets: one good socket,
 * no descriptor, two, a regular file, a listening socket, an unconnected
 * socket, a UDP socket, a wrong payload byte.
 *
 * Runs in: "make check" (TAP).
 */
#include "config.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"
#include "tap.h"

#define V	"version=1\n"
#define SRV	V "role=server\npeer=[192.0.2.1]:25\n"
#define CLI	V "role=client\npeer=[192.0.2.1]:25\n"
#define FP	"AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:" \
		"EE:FF:00:11:22:33:44:55:66:77:88:99"

/* One request: bytes, the refusal wanted, a piece of the reason. */
struct req_case {
	const char	*in;
	const char	*want;		/* ctl_refusal_name */
	const char	*why;		/* substring of the reason, or NULL */
};

static const struct req_case req_cases[] = {
	{ SRV "\n", "ok", NULL },
	{ SRV "report=yes\nhandshake_timeout=10\nidle_timeout=300\n"
	  "profile=smtp-in\n\n", "ok", NULL },
	{ CLI "servername=mx.example.org\nlevel=verify\n\n", "ok", NULL },
	{ CLI "level=fingerprint\nfingerprint=" FP "\nfingerprint=aabb\n\n",
	  "ok", NULL },
	{ CLI "level=may\n\n", "ok", NULL },
	/* version */
	{ "version=2\nrole=server\npeer=x\n\n", "unsupported-version",
	  "version 2: this daemon speaks version 1" },
	{ "version=999999\n\n", "unsupported-version", NULL },
	{ "role=server\nversion=1\npeer=x\n\n", "bad-request",
	  "starts with version=1" },
	{ "version=01\nrole=server\npeer=x\n\n", "bad-request", "number" },
	{ "version=1x\n\n", "bad-request", "number" },
	{ "\n", "bad-request", "empty request" },
	{ V "\n", "bad-request", "missing role" },
	/* missing, unknown, duplicate, empty */
	{ V "role=server\n\n", "bad-request", "missing peer" },
	{ SRV "colour=blue\n\n", "bad-request", "unknown name \"colour\"" },
	{ SRV "role=client\n\n", "bad-request", "role given twice" },
	{ SRV "peer=y\n\n", "bad-request", "peer given twice" },
	{ SRV "report=\n\n", "bad-request", "empty value" },
	{ SRV "=x\n\n", "bad-request", "unknown name" },
	{ SRV "junk\n\n", "bad-request", "want name=value" },
	/* values */
	{ V "role=both\npeer=x\n\n", "bad-request", "role: want server" },
	{ SRV "report=maybe\n\n", "bad-request", "report: want yes or no" },
	{ SRV "handshake_timeout=0\n\n", "bad-request", "handshake_timeout" },
	{ SRV "handshake_timeout=86401\n\n", "bad-request", NULL },
	{ SRV "idle_timeout=-5\n\n", "bad-request", "idle_timeout" },
	{ SRV "idle_timeout= 5\n\n", "bad-request", NULL },
	{ SRV "profile=../etc\n\n", "bad-request", "not a service name" },
	{ CLI "servername=-bad.example\n\n", "bad-request", "not a host" },
	{ CLI "servername=a..b\n\n", "bad-request", "not a host" },
	{ CLI "servername=a.b.\n\n", "bad-request", "not a host" },
	{ CLI "servername=a_b\n\n", "bad-request", "not a host" },
	{ CLI "level=dane\n\n", "bad-request", "level: want" },
	{ CLI "level=fingerprint\nfingerprint=xyz\n\n", "bad-request",
	  "hex digits" },
	/* combinations */
	{ SRV "servername=a.example\n\n", "bad-request", "client role" },
	{ SRV "level=may\n\n", "bad-request", "client role" },
	{ CLI "level=fingerprint\n\n", "bad-request",
	  "needs at least one fingerprint" },
	{ CLI "fingerprint=aabb\n\n", "bad-request",
	  "needs level=fingerprint" },
	{ CLI "level=verify\n\n", "bad-request", "needs servername" },
	{ CLI "level=secure\n\n", "bad-request", "needs servername" },
	/* framing and garbage */
	{ SRV, "bad-request", "not ended by an empty line" },
	{ SRV "\nextra", "bad-request", "bytes after" },
	{ "version=1\r\nrole=server\r\npeer=x\r\n\r\n", "bad-request",
	  "not printable ASCII" },
	{ V "role=server\npeer=caf\xc3\xa9\n\n", "bad-request",
	  "not printable" },
	{ "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n", "bad-request",
	  NULL },
	{ "GET / HTTP/1.1\nHost: x\n\n", "bad-request", "version=1" },
};

static void
test_requests(void)
{
	char why[512];
	struct ctl_req req;
	enum ctl_refusal r;
	size_t i;

	for (i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
		const struct req_case *c = &req_cases[i];

		why[0] = '\0';
		r = ctl_req_parse(c->in, strlen(c->in), &req, why,
		    sizeof(why));
		if (!is_str(ctl_refusal_name(r), c->want, "request %zu: %s",
		    i, c->want))
			diag("reason: %s", why);
		if (c->why != NULL && !ok(strstr(why, c->why) != NULL,
		    "request %zu: reason has \"%s\"", i, c->why))
			diag("got reason \"%s\"", why);
	}
}

static void
test_fields(void)
{
	static const char in[] = CLI "servername=mx.example.org\n"
	    "level=fingerprint\nfingerprint=" FP "\nprofile=out\n"
	    "handshake_timeout=7\nidle_timeout=86400\nreport=yes\n\n";
	struct ctl_req req;
	char why[256];

	is_str(ctl_refusal_name(ctl_req_parse(in, sizeof(in) - 1, &req, why,
	    sizeof(why))), "ok", "full client request");
	is_int(req.role, CTL_ROLE_CLIENT, "role");
	is_str(req.peer, "[192.0.2.1]:25", "peer");
	is_str(req.servername, "mx.example.org", "servername");
	is_int(req.level, CTL_LEVEL_FINGERPRINT, "level");
	is_int((long long)req.nfpt, 1, "one fingerprint");
	is_str(req.fpt[0], FP, "fingerprint text");
	is_str(req.profile, "out", "profile");
	is_int(req.handshake_timeout_s, 7, "handshake_timeout");
	is_int(req.idle_timeout_s, 86400, "idle_timeout");
	is_int(req.report, 1, "report");
}

/* Limits: a line of 1024 bytes with its LF is fine, 1025 is not; 32
 * lines are fine, 33 are not; 17 fingerprints are too many. */
static void
test_limits(void)
{
	char buf[CTL_REQUEST_MAX * 2], why[256];
	struct ctl_req req;
	size_t off;
	int k;

	off = (size_t)snprintf(buf, sizeof(buf), SRV "profile=");
	memset(buf + off, 'p', 64);
	off += 64;
	memcpy(buf + off, "\n\n", 3);
	is_str(ctl_refusal_name(ctl_req_parse(buf, off + 2, &req, why,
	    sizeof(why))), "ok", "profile of 64 bytes");
	buf[off] = 'p';
	memcpy(buf + off + 1, "\n\n", 3);
	is_str(ctl_refusal_name(ctl_req_parse(buf, off + 3, &req, why,
	    sizeof(why))), "bad-request", "profile of 65 bytes");

	off = (size_t)snprintf(buf, sizeof(buf), V "role=server\npeer=");
	memset(buf + off, 'a', 255);
	memcpy(buf + off + 255, "\n\n", 3);
	is_str(ctl_refusal_name(ctl_req_parse(buf, off + 257, &req, why,
	    sizeof(why))), "ok", "peer of 255 bytes");
	buf[off + 255] = 'a';
	memcpy(buf + off + 256, "\n\n", 3);
	is_str(ctl_refusal_name(ctl_req_parse(buf, off + 258, &req, why,
	    sizeof(why))), "bad-request", "peer of 256 bytes");

	/* line length, through ctl_req_end as the daemon reads */
	off = (size_t)snprintf(buf, sizeof(buf), V "x=");
	memset(buf + off, 'a', 1021);	/* "x=" + 1021 + LF = 1024 */
	memcpy(buf + off + 1021, "\n\n", 2);
	is_int(ctl_req_end(buf, off + 1023), (long long)(off + 1023),
	    "a line of 1024 bytes ends normally");
	buf[off + 1021] = 'a';
	is_int(ctl_req_end(buf, off + 1022), -1, "a line of 1025 bytes: -1");
	is_int(ctl_req_end(buf, 5), 0, "a partial request: 0");
	is_int(ctl_req_end("ab\0cd\n", 6), -1, "a NUL: -1");
	memset(buf, 'a', sizeof(buf));
	for (k = 0; k + 100 <= (int)sizeof(buf); k += 100)
		buf[k + 99] = '\n';
	is_int(ctl_req_end(buf, CTL_REQUEST_MAX + 10), -1,
	    "8 KiB without an empty line: -1");

	off = (size_t)snprintf(buf, sizeof(buf), SRV);
	for (k = 0; k < 29; k++)	/* 3 + 29 + the empty one = 33 */
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    "report=no\n");
	buf[off++] = '\n';
	is_int(ctl_req_end(buf, off), -1, "33 lines: -1");
	is_str(ctl_refusal_name(ctl_req_parse(buf, off, &req, why,
	    sizeof(why))), "bad-request", "33 lines are refused");

	off = (size_t)snprintf(buf, sizeof(buf), CLI "level=fingerprint\n");
	for (k = 0; k < 17; k++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    "fingerprint=aa\n");
	buf[off++] = '\n';
	is_str(ctl_refusal_name(ctl_req_parse(buf, off, &req, why,
	    sizeof(why))), "bad-request", "17 fingerprints");
	ok(strstr(why, "more than 16") != NULL, "... reason: %s", why);
}

static void
test_output(void)
{
	char buf[CTL_REPORT_MAX], small[80];
	struct ctl_outcome o;
	ssize_t n;

	n = ctl_answer_fmt(buf, sizeof(buf), CTL_OK, NULL);
	is_str(buf, "ok\n", "answer ok");
	is_int(n, 3, "answer ok length");
	ctl_answer_fmt(buf, sizeof(buf), CTL_UNKNOWN_PROFILE,
	    "no profile \"x\"\nsecond line");
	is_str(buf, "refused unknown-profile no profile \"x\"?second line\n",
	    "refusal: one line, control bytes replaced");
	n = ctl_answer_fmt(small, sizeof(small), CTL_BAD_REQUEST,
	    "a very long reason that cannot possibly fit into eighty bytes "
	    "of buffer space at all");
	ok(n > 0 && (size_t)n < sizeof(small) && small[n - 1] == '\n',
	    "a refusal is cut to fit and still ends with LF");
	is_int(ctl_answer_fmt(small, 10, CTL_OK, NULL), -1, "tiny buffer: -1");

	memset(&o, 0, sizeof(o));
	o.ok = 1;
	o.protocol = "TLSv1.3";
	o.cipher = "TLS_AES_256_GCM_SHA384";
	o.bits = 256;
	o.kex = "X25519";
	o.trust = "Anonymous";
	o.peer_cn = "evil\ncn";
	ctl_report_fmt(buf, sizeof(buf), &o);
	is_str(buf, "status=ok\nprotocol=TLSv1.3\ncipher=TLS_AES_256_GCM_SHA384"
	    "\nbits=256\nkex=X25519\ntrust=Anonymous\npeer_cn=evil?cn\n\n",
	    "report: fields in order, empty ones left out, no line injection");
	memset(&o, 0, sizeof(o));
	o.bits = -1;
	o.reason = "certificate verification failed: fingerprint mismatch";
	ctl_report_fmt(buf, sizeof(buf), &o);
	is_str(buf, "status=failed\nreason=certificate verification failed: "
	    "fingerprint mismatch\n\n", "report of a failure");
	is_int(ctl_report_fmt(small, 20, &o), -1, "report too long: -1");
}

/* ------------------------------------------------------------ fds */

/* Sends byte with the descriptors fds[0..n) over s. */
static int
send_fds(int s, char byte, const int *fds, size_t n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 16)];
	struct msghdr msg;
	struct cmsghdr *c;
	struct iovec iov = { &byte, 1 };

	memset(&msg, 0, sizeof(msg));
	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (n > 0) {
		msg.msg_control = cbuf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	return sendmsg(s, &msg, 0) == 1 ? 0 : -1;
}

/* Passes fds, receives them; returns ctl_fd_recv's result, the received
 * fd's ctl_fd_check result in *checkp (2 if none), the reason in why. */
static int
pass(char byte, const int *fds, size_t n, int *checkp, char *why,
    size_t whylen)
{
	int sv[2], fd, closed, rc;

	*checkp = 2;
	why[0] = '\0';
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 ||
	    send_fds(sv[0], byte, fds, n) < 0)
		return -9;
	rc = ctl_fd_recv(sv[1], 'F', &fd, &closed, why, whylen);
	if (rc == 1) {
		*checkp = ctl_fd_check(fd, why, whylen);
		close(fd);
	}
	close(sv[0]);
	close(sv[1]);
	return rc;
}

static int
tcp_pair(int *cfd, int *sfd, int *lfd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(*lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(*lfd, 4) < 0 ||
	    getsockname(*lfd, (struct sockaddr *)&sin, &len) < 0)
		return -1;
	*cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*cfd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -1;
	*sfd = accept(*lfd, NULL, NULL);
	return *sfd < 0 ? -1 : 0;
}

static void
test_fds(void)
{
	char why[256], path[] = "/tmp/test_control.XXXXXX";
	int c, s, l, chk, fds[3], file, udp, fresh, sv[2], closed, fd, base;

	base = open("/dev/null", O_RDONLY);
	close(base);
	if (tcp_pair(&c, &s, &l) < 0) {
		ok(0, "TCP pair on loopback");
		return;
	}
	fds[0] = s;
	is_int(pass('F', fds, 1, &chk, why, sizeof(why)), 1,
	    "a connected TCP socket arrives");
	is_int(chk, 0, "... and passes the check (%s)", why);

	is_int(pass('F', fds, 0, &chk, why, sizeof(why)), -1, "no descriptor");
	is_str(why, "no descriptor", "... reason");

	fds[1] = c;
	is_int(pass('F', fds, 2, &chk, why, sizeof(why)), -1,
	    "two descriptors");
	is_str(why, "2 descriptors (want exactly one)", "... reason");

	is_int(pass('X', fds, 1, &chk, why, sizeof(why)), -1, "wrong byte");
	ok(strstr(why, "want the byte 0x46") != NULL, "... reason: %s", why);

	file = mkstemp(path);
	unlink(path);
	fds[0] = file;
	is_int(pass('F', fds, 1, &chk, why, sizeof(why)), 1, "a regular file "
	    "arrives");
	is_int(chk, -1, "... and is refused");
	is_str(why, "not a socket", "... reason");

	fds[0] = l;
	pass('F', fds, 1, &chk, why, sizeof(why));
	is_int(chk, -1, "a listening socket is refused");
	is_str(why, "a listening socket", "... reason");

	fresh = socket(AF_INET, SOCK_STREAM, 0);
	fds[0] = fresh;
	pass('F', fds, 1, &chk, why, sizeof(why));
	is_int(chk, -1, "an unconnected socket is refused");
	is_str(why, "not connected", "... reason");

	udp = socket(AF_INET, SOCK_DGRAM, 0);
	fds[0] = udp;
	pass('F', fds, 1, &chk, why, sizeof(why));
	is_int(chk, -1, "a UDP socket is refused");
	is_str(why, "not a TCP or UNIX stream socket", "... reason");

	/* nothing yet, then EOF */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
		is_int(ctl_fd_recv(sv[1], 'F', &fd, &closed, why, sizeof(why)), 0,
		    "nothing sent yet: 0 (poll again)");
		close(sv[0]);
		is_int(ctl_fd_recv(sv[1], 'F', &fd, &closed, why, sizeof(why)), -1,
		    "closed: -1");
		is_int(closed, 1, "... closed is set");
		close(sv[1]);
	}
	close(file);
	close(fresh);
	close(udp);
	close(c);
	close(s);
	close(l);
	/* Every descriptor that arrived was closed: the next one is the
	 * lowest free number again. */
	fd = open("/dev/null", O_RDONLY);
	is_int(fd, base, "no descriptor leaked: the next free one is the "
	    "same as before");
	close(fd);
}

int
main(void)
{
	test_requests();
	test_fields();
	test_limits();
	test_output();
	test_fds();
	return done();
}
