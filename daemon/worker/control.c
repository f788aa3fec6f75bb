/*
 * control.c - the hand-off protocol's pieces on the daemon side: the
 * strict request parser, the answer line, receiving and checking the
 * passed socket, the outcome report.
 *
 * Runs in: worker session threads (through handoff.c) and the fuzz
 * target. The parser and the formatters are pure functions over the
 * caller's buffers: they neither allocate nor log, so that every byte a
 * client can send is reachable from t/fuzz/fuzz_handoff.c.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"

static const char *const refusal_names[CTL_REFUSAL_N] = {
	[CTL_OK] = "ok",
	[CTL_BAD_REQUEST] = "bad-request",
	[CTL_UNSUPPORTED_VERSION] = "unsupported-version",
	[CTL_UNKNOWN_PROFILE] = "unknown-profile",
	[CTL_NO_CERTIFICATE] = "no-certificate",
	[CTL_LEVEL_NOT_PERMITTED] = "level-not-permitted",
	[CTL_OVERLOADED] = "overloaded",
	[CTL_BAD_DESCRIPTOR] = "bad-descriptor",
	[CTL_TIMEOUT] = "timeout",
};

const char *
ctl_refusal_name(enum ctl_refusal r)
{
	return (unsigned)r < CTL_REFUSAL_N ? refusal_names[r] : "bad-request";
}

static enum ctl_refusal refuse(char *why, size_t whylen, enum ctl_refusal r,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Writes the reason, returns r. */
static enum ctl_refusal
refuse(char *why, size_t whylen, enum ctl_refusal r, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return r;
}

ssize_t
ctl_req_end(const char *buf, size_t len)
{
	size_t i, line_start = 0, lines = 0;

	for (i = 0; i < len && i < CTL_REQUEST_MAX; i++) {
		if (buf[i] == '\0')
			return -1;
		if (buf[i] != '\n') {
			if (i - line_start + 1 >= CTL_LINE_MAX)
				return -1;	/* no room left for its LF */
			continue;
		}
		if (++lines > CTL_LINES_MAX)
			return -1;
		if (i == line_start)	/* the empty line */
			return (ssize_t)(i + 1);
		line_start = i + 1;
	}
	return len >= CTL_REQUEST_MAX ? -1 : 0;
}

/* ------------------------------------------------------------ fields */

/* Field bits, for "given" and duplicate checks. */
#define F_VERSION	0x001
#define F_ROLE		0x002
#define F_PEER		0x004
#define F_PROFILE	0x008
#define F_HS_TIMEOUT	0x010
#define F_IDLE_TIMEOUT	0x020
#define F_SERVERNAME	0x040
#define F_LEVEL		0x080
#define F_FINGERPRINT	0x100
#define F_REPORT	0x200
#define F_CLIENT_ONLY	(F_SERVERNAME | F_LEVEL | F_FINGERPRINT)

/* One value: v[0..n), printable ASCII, n > 0. 0 or -1 with why. */
typedef int field_fn(struct ctl_req *req, const char *v, size_t n,
    char *why, size_t whylen);

static int
bad(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
is_word(const char *v, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(v, word, n) == 0;
}

/* A decimal number 1..max without sign or leading zero. */
static int
number(const char *v, size_t n, unsigned max, unsigned *out)
{
	unsigned long x = 0;
	size_t i;

	if (n == 0 || n > 9 || v[0] == '0')
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (unsigned long)(v[i] - '0');
	}
	if (x > max)
		return -1;
	*out = (unsigned)x;
	return 0;
}

static void
copy(char *dst, const char *v, size_t n)
{
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static int
f_role(struct ctl_req *req, const char *v, size_t n, char *why, size_t wl)
{
	if (is_word(v, n, "server"))
		req->role = CTL_ROLE_SERVER;
	else if (is_word(v, n, "client"))
		req->role = CTL_ROLE_CLIENT;
	else
		return bad(why, wl, "role: want server or client");
	return 0;
}

static int
f_peer(struct ctl_req *req, const char *v, size_t n, char *why, size_t wl)
{
	if (n > CTL_PEER_MAX)
		return bad(why, wl, "peer: longer than %d bytes", CTL_PEER_MAX);
	copy(req->peer, v, n);
	return 0;
}

static int
f_profile(struct ctl_req *req, const char *v, size_t n, char *why,
    size_t wl)
{
	size_t i;

	if (n > CTL_PROFILE_MAX)
		return bad(why, wl, "profile: longer than %d bytes",
		    CTL_PROFILE_MAX);
	for (i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') ||
		    (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || strchr("_.-", v[i]) != NULL))
			return bad(why, wl, "profile: not a service name "
			    "(letters, digits, \"_.-\")");
	copy(req->profile, v, n);
	return 0;
}

static int
f_hs_timeout(struct ctl_req *req, const char *v, size_t n, char *why,
    size_t wl)
{
	if (number(v, n, CTL_TIMEOUT_MAX, &req->handshake_timeout_s) < 0)
		return bad(why, wl, "handshake_timeout: want seconds from 1 "
		    "to %d", CTL_TIMEOUT_MAX);
	return 0;
}

static int
f_idle_timeout(struct ctl_req *req, const char *v, size_t n, char *why,
    size_t wl)
{
	if (number(v, n, CTL_TIMEOUT_MAX, &req->idle_timeout_s) < 0)
		return bad(why, wl, "idle_timeout: want seconds from 1 to %d",
		    CTL_TIMEOUT_MAX);
	return 0;
}

/* A DNS name: labels of letters, digits and '-' (not at either end),
 * joined by single dots; a final dot is not allowed. */
static int
f_servername(struct ctl_req *req, const char *v, size_t n, char *why,
    size_t wl)
{
	size_t i, label = 0;

	if (n > CTL_HOST_MAX)
		return bad(why, wl, "servername: longer than %d bytes",
		    CTL_HOST_MAX);
	for (i = 0; i < n; i++) {
		char c = v[i];

		if (c == '.') {
			if (label == 0 || v[i - 1] == '-')
				break;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
			if (++label > 63)
				break;
		} else
			break;
	}
	if (i < n || label == 0 || v[n - 1] == '-')
		return bad(why, wl, "servername: not a host name");
	copy(req->servername, v, n);
	return 0;
}

static int
f_level(struct ctl_req *req, const char *v, size_t n, char *why, size_t wl)
{
	static const char *const names[] = {
		[CTL_LEVEL_MAY] = "may", [CTL_LEVEL_ENCRYPT] = "encrypt",
		[CTL_LEVEL_FINGERPRINT] = "fingerprint",
		[CTL_LEVEL_VERIFY] = "verify", [CTL_LEVEL_SECURE] = "secure",
	};
	size_t k;

	for (k = CTL_LEVEL_MAY; k <= CTL_LEVEL_SECURE; k++) {
		if (is_word(v, n, names[k])) {
			req->level = (enum ctl_level)k;
			return 0;
		}
	}
	return bad(why, wl, "level: want may, encrypt, fingerprint, verify or "
	    "secure");
}

/* Hex digits, optionally with ':' between the pairs; the daemon checks
 * the length against the profile's fingerprint_digest. */
static int
f_fingerprint(struct ctl_req *req, const char *v, size_t n, char *why,
    size_t wl)
{
	size_t i;

	if (req->nfpt == CTL_FPT_MAX)
		return bad(why, wl, "fingerprint: more than %d", CTL_FPT_MAX);
	if (n > CTL_FPT_LEN)
		return bad(why, wl, "fingerprint: longer than %d bytes",
		    CTL_FPT_LEN);
	for (i = 0; i < n; i++)
		if (!((v[i] >= '0' && v[i] <= '9') ||
		    (v[i] >= 'a' && v[i] <= 'f') ||
		    (v[i] >= 'A' && v[i] <= 'F') || v[i] == ':'))
			return bad(why, wl, "fingerprint: want hex digits, "
			    "pairs optionally separated by ':'");
	copy(req->fpt[req->nfpt++], v, n);
	return 0;
}

static int
f_report(struct ctl_req *req, const char *v, size_t n, char *why, size_t wl)
{
	if (is_word(v, n, "yes"))
		req->report = 1;
	else if (is_word(v, n, "no"))
		req->report = 0;
	else
		return bad(why, wl, "report: want yes or no");
	return 0;
}

static const struct {
	const char	*name;
	unsigned	 bit;
	field_fn	*fn;
	int		 repeatable;
} fields[] = {
	{ "role", F_ROLE, f_role, 0 },
	{ "peer", F_PEER, f_peer, 0 },
	{ "profile", F_PROFILE, f_profile, 0 },
	{ "handshake_timeout", F_HS_TIMEOUT, f_hs_timeout, 0 },
	{ "idle_timeout", F_IDLE_TIMEOUT, f_idle_timeout, 0 },
	{ "servername", F_SERVERNAME, f_servername, 0 },
	{ "level", F_LEVEL, f_level, 0 },
	{ "fingerprint", F_FINGERPRINT, f_fingerprint, 1 },
	{ "report", F_REPORT, f_report, 0 },
};

/* ------------------------------------------------------------ parser */

/* Parse state shared by the line handlers. */
struct pstate {
	struct ctl_req	*req;
	unsigned	 given;		/* F_* seen */
	int		 lineno;
	char		*why;
	size_t		 whylen;
};

/* The first line: "version=N". */
static enum ctl_refusal
version_line(struct pstate *ps, const char *line, size_t n)
{
	unsigned v;

	if (n < 8 || memcmp(line, "version=", 8) != 0)
		return refuse(ps->why, ps->whylen, CTL_BAD_REQUEST, "line 1: "
		    "a request starts with version=%d", CTL_VERSION);
	if (number(line + 8, n - 8, 1000000, &v) < 0)
		return refuse(ps->why, ps->whylen, CTL_BAD_REQUEST, "line 1: "
		    "version: want a number");
	if (v != CTL_VERSION)
		return refuse(ps->why, ps->whylen, CTL_UNSUPPORTED_VERSION,
		    "version %u: this daemon speaks version %d", v,
		    CTL_VERSION);
	ps->given |= F_VERSION;
	return CTL_OK;
}

/* One "name=value" line (after the first). */
static enum ctl_refusal
field_line(struct pstate *ps, const char *line, size_t n)
{
	const char *eq = memchr(line, '=', n);
	size_t k, nlen;
	char why[256];

	if (eq == NULL)
		return refuse(ps->why, ps->whylen, CTL_BAD_REQUEST, "line %d: "
		    "want name=value", ps->lineno);
	nlen = (size_t)(eq - line);
	for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
		if (is_word(line, nlen, fields[k].name))
			break;
	if (k == sizeof(fields) / sizeof(fields[0]))
		return refuse(ps->why, ps->whylen, CTL_BAD_REQUEST, "line %d: "
		    "unknown name \"%.*s\"", ps->lineno,
		    nlen > 32 ? 32 : (int)nlen, line);
	if ((ps->given & fields[k].bit) && !fields[k].repeatable)
		return refuse(ps->why, ps->whylen, CTL_BAD_REQUEST, "line %d: "
		    "%s given twice", ps->lineno, fields[k].name);
	if (nlen + 1 == n)
		return refuse(ps->why, ps->whylen, CTL_BAD_REQUEST, "line %d: "
		    "%s: empty value", ps->lineno, fields[k].name);
	if (fields[k].fn(ps->req, eq + 1, n - nlen - 1, why, sizeof(why)) < 0)
		return refuse(ps->why, ps->whylen, CTL_BAD_REQUEST, "line %d: "
		    "%s", ps->lineno, why);
	ps->given |= fields[k].bit;
	return CTL_OK;
}

/* Characters of a line: printable ASCII only. */
static int
line_printable(const char *line, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 ||
		    (unsigned char)line[i] > 0x7e)
			return 0;
	return 1;
}

/* What the fields say together. */
static enum ctl_refusal
req_combined(struct pstate *ps)
{
	const struct ctl_req *req = ps->req;

	if (!(ps->given & F_ROLE) || !(ps->given & F_PEER))
		return refuse(ps->why, ps->whylen, CTL_BAD_REQUEST, "missing "
		    "%s", !(ps->given & F_ROLE) ? "role" : "peer");
	if (req->role == CTL_ROLE_SERVER && (ps->given & F_CLIENT_ONLY))
		return refuse(ps->why, ps->whylen, CTL_BAD_REQUEST,
		    "servername, level and fingerprint are for the client "
		    "role");
	if (req->level == CTL_LEVEL_FINGERPRINT && req->nfpt == 0)
		return refuse(ps->why, ps->whylen, CTL_BAD_REQUEST,
		    "level fingerprint needs at least one fingerprint");
	if (req->nfpt > 0 && req->level != CTL_LEVEL_FINGERPRINT)
		return refuse(ps->why, ps->whylen, CTL_BAD_REQUEST,
		    "fingerprint needs level=fingerprint");
	if (req->level >= CTL_LEVEL_VERIFY && req->servername[0] == '\0')
		return refuse(ps->why, ps->whylen, CTL_BAD_REQUEST,
		    "level %s needs servername", req->level ==
		    CTL_LEVEL_VERIFY ? "verify" : "secure");
	return CTL_OK;
}

enum ctl_refusal
ctl_req_parse(const char *buf, size_t len, struct ctl_req *req, char *why,
    size_t whylen)
{
	struct pstate ps = { req, 0, 0, why, whylen };
	const char *p = buf, *end = buf + len, *nl = NULL;
	enum ctl_refusal r;
	size_t n;

	memset(req, 0, sizeof(*req));
	if (len > CTL_REQUEST_MAX)
		return refuse(why, whylen, CTL_BAD_REQUEST, "request longer "
		    "than %d bytes", CTL_REQUEST_MAX);
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		n = (size_t)(nl - p);
		if (++ps.lineno > CTL_LINES_MAX)
			return refuse(why, whylen, CTL_BAD_REQUEST, "more than "
			    "%d lines", CTL_LINES_MAX);
		if (n + 1 > CTL_LINE_MAX)
			return refuse(why, whylen, CTL_BAD_REQUEST, "line %d: "
			    "longer than %d bytes", ps.lineno, CTL_LINE_MAX);
		if (n == 0)
			break;
		if (!line_printable(p, n))
			return refuse(why, whylen, CTL_BAD_REQUEST, "line %d: "
			    "a byte that is not printable ASCII (lines end "
			    "with LF alone)", ps.lineno);
		r = ps.lineno == 1 ? version_line(&ps, p, n) :
		    field_line(&ps, p, n);
		if (r != CTL_OK)
			return r;
	}
	if (p >= end || nl == NULL)
		return refuse(why, whylen, CTL_BAD_REQUEST, "request not ended "
		    "by an empty line");
	if (nl + 1 != end)
		return refuse(why, whylen, CTL_BAD_REQUEST, "bytes after the "
		    "empty line that ends the request");
	if (!(ps.given & F_VERSION))
		return refuse(why, whylen, CTL_BAD_REQUEST, "empty request");
	return req_combined(&ps);
}

/* ------------------------------------------------------------ output */

/* Appends s (at most max bytes of it) to buf at *off with bytes outside
 * printable ASCII as '?'. 0, or -1 if it did not fit. */
static int
put_clean(char *buf, size_t len, size_t *off, const char *s, size_t max)
{
	size_t i;

	/* cppcheck-suppress arrayIndexOutOfBoundsCond ; s ends with NUL */
	for (i = 0; i < max && s[i] != '\0'; i++) {
		if (*off + 1 >= len)
			return -1;
		buf[(*off)++] = (unsigned char)s[i] >= 0x20 &&
		    (unsigned char)s[i] <= 0x7e ? s[i] : '?';
	}
	buf[*off] = '\0';
	return 0;
}

ssize_t
ctl_answer_fmt(char *buf, size_t len, enum ctl_refusal r, const char *text)
{
	size_t off;
	int n;

	if (len < 64)
		return -1;
	if (r == CTL_OK) {
		memcpy(buf, "ok\n", 4);
		return 3;
	}
	n = snprintf(buf, len, "refused %s ", ctl_refusal_name(r));
	off = (size_t)n;
	/* Leave room for the LF; a text that does not fit is cut. */
	(void)put_clean(buf, len - 1, &off, text != NULL ? text : "",
	    CTL_LINE_MAX - 48);
	buf[off++] = '\n';
	buf[off] = '\0';
	return (ssize_t)off;
}

/* "name=value\n" unless value is empty. */
static int
put_field(char *buf, size_t len, size_t *off, const char *name,
    const char *value)
{
	if (value == NULL || *value == '\0')
		return 0;
	if (put_clean(buf, len, off, name, 64) < 0 ||
	    put_clean(buf, len, off, "=", 1) < 0 ||
	    put_clean(buf, len, off, value, CTL_LINE_MAX - 64) < 0 ||
	    *off + 1 >= len)
		return -1;
	buf[(*off)++] = '\n';
	buf[*off] = '\0';
	return 0;
}

ssize_t
ctl_report_fmt(char *buf, size_t len, const struct ctl_outcome *o)
{
	char bits[16] = "";
	size_t off = 0;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if (o->bits >= 0)
		snprintf(bits, sizeof(bits), "%d", o->bits);
	if (put_field(buf, len, &off, "status", o->ok ? "ok" : "failed") < 0 ||
	    (!o->ok && put_field(buf, len, &off, "reason", o->reason != NULL &&
	    *o->reason != '\0' ? o->reason : "unknown") < 0) ||
	    put_field(buf, len, &off, "protocol", o->protocol) < 0 ||
	    put_field(buf, len, &off, "cipher", o->cipher) < 0 ||
	    put_field(buf, len, &off, "bits", bits) < 0 ||
	    put_field(buf, len, &off, "kex", o->kex) < 0 ||
	    put_field(buf, len, &off, "level", o->level) < 0 ||
	    put_field(buf, len, &off, "trust", o->trust) < 0 ||
	    put_field(buf, len, &off, "peer_cn", o->peer_cn) < 0 ||
	    put_field(buf, len, &off, "issuer_cn", o->issuer_cn) < 0 ||
	    put_field(buf, len, &off, "fingerprint_digest", o->digest) < 0 ||
	    put_field(buf, len, &off, "peer_fingerprint",
	    o->peer_fingerprint) < 0 ||
	    put_field(buf, len, &off, "peer_pubkey_fingerprint",
	    o->peer_pubkey_fingerprint) < 0 ||
	    put_field(buf, len, &off, "alpn", o->alpn) < 0 || off + 1 >= len)
		return -1;
	buf[off++] = '\n';
	buf[off] = '\0';
	return (ssize_t)off;
}

/* ------------------------------------------------------------ the fd */

#define CTL_FDS_ROOM	8	/* more than this: MSG_CTRUNC */

/* Closes every descriptor in the control messages of msg; their count. */
static int
close_passed(struct msghdr *msg, int *other)
{
	struct cmsghdr *c;
	int n = 0;

	*other = 0;
	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t k, cnt = (c->cmsg_len - CMSG_LEN(0)) /
			    sizeof(int);
			int fd;

			for (k = 0; k < cnt; k++) {
				memcpy(&fd, CMSG_DATA(c) + k * sizeof(int),
				    sizeof(int));
				close(fd);
				n++;
			}
		} else
			*other = 1;
	}
	return n;
}

int
ctl_fd_recv(int sock, int payload, int *fdp, int *closedp, char *why,
    size_t whylen)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * CTL_FDS_ROOM)];
	} cm;
	struct msghdr msg;
	struct iovec iov;
	char byte = 0;
	ssize_t n;
	int nfds, other;

	*fdp = -1;
	*closedp = 0;
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return 0;
	if (n <= 0) {
		*closedp = 1;
		return bad(why, whylen, "%s before passing the descriptor",
		    n == 0 ? "closed" : strerror(errno));
	}
	/* Count (and close) first: every path below owns what arrived. */
	if ((msg.msg_flags & MSG_CTRUNC) || byte != (char)payload) {
		nfds = close_passed(&msg, &other);
		if (msg.msg_flags & MSG_CTRUNC)
			return bad(why, whylen, "more than %d descriptors",
			    CTL_FDS_ROOM);
		return bad(why, whylen, "want the byte 0x%02x with the "
		    "descriptor, got 0x%02x%s", (unsigned char)payload,
		    (unsigned char)byte, nfds ? "" : " and no descriptor");
	}
	{
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

		if (c != NULL && c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)) &&
		    CMSG_NXTHDR(&msg, c) == NULL) {
			memcpy(fdp, CMSG_DATA(c), sizeof(int));
			return 1;
		}
	}
	nfds = close_passed(&msg, &other);
	if (other)
		return bad(why, whylen, "control data other than SCM_RIGHTS");
	return bad(why, whylen, nfds == 0 ? "no descriptor" :
	    "%d descriptors (want exactly one)", nfds);
}

int
ctl_fd_check(int fd, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int);
	int type = 0, domain = 0, listening = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return bad(why, whylen, "%s", errno == ENOTSOCK ?
		    "not a socket" : strerror(errno));
	len = sizeof(int);
	if (type != SOCK_STREAM ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    (domain != AF_INET && domain != AF_INET6 && domain != AF_UNIX))
		return bad(why, whylen, "not a TCP or UNIX stream socket");
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return bad(why, whylen, "SO_ACCEPTCONN: %s", strerror(errno));
	if (listening)
		return bad(why, whylen, "a listening socket");
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return bad(why, whylen, "%s", errno == ENOTCONN ?
		    "not connected" : strerror(errno));
	return 0;
}
