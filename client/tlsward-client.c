/*
 * tlsward-client.c - libtlsward-client: the application's side of the
 * hand-off protocol (tlsward-handoff(7)).
 *
 * Runs in: the application, in any thread. Owns nothing between calls:
 * every call works on the caller's descriptor and buffers. Reads never
 * go past the end of the daemon's answer or report (MSG_PEEK, then
 * exactly that many bytes), so plaintext that follows stays in the
 * socket for the caller.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tlsward-client.h"

#define TW_LINE_MAX	1024	/* the protocol's line limit */
#define TW_REPORT_MAX	8192	/* larger than any report the daemon sends */
#define TW_PEER_MAX	255

static const char *const code_names[] = {
	[TW_OK] = "ok",
	[TW_E_ARG] = "bad-argument",
	[TW_E_SYSTEM] = "system-error",
	[TW_E_CONNECT] = "connect-failed",
	[TW_E_TIMEOUT] = "timeout",
	[TW_E_CLOSED] = "closed",
	[TW_E_PROTOCOL] = "protocol-error",
	[TW_E_REFUSED] = "refused",
	[TW_E_HANDSHAKE] = "handshake-failed",
};

const char *
tw_code_name(enum tw_code code)
{
	if ((unsigned)code >= sizeof(code_names) / sizeof(code_names[0]))
		return "unknown";
	return code_names[code];
}

static int tw_fail(struct tw_error *err, enum tw_code code, int sys,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Fills err (if any); returns -1. */
static int
tw_fail(struct tw_error *err, enum tw_code code, int sys, const char *fmt,
    ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	memset(err, 0, sizeof(*err));
	err->code = code;
	err->sys_errno = sys;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return -1;
}

static void
tw_ok(struct tw_error *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
}

/* ------------------------------------------------------------ time */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the absolute deadline. 1 ready, 0 timed
 * out, -1 error (errno). */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pf = { fd, events, 0 };
	long long left;
	int n;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			return 0;
		n = poll(&pf, 1, left > 1000000 ? 1000000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* ------------------------------------------------------------ connect */

int
tw_connect(const char *path, int timeout_ms, struct tw_error *err)
{
	struct sockaddr_un sun;
	long long deadline = now_ms() + timeout_ms;
	int fd, e = 0, rc;
	socklen_t elen = sizeof(e);

	if (path == NULL || timeout_ms <= 0)
		return tw_fail(err, TW_E_ARG, 0, "no socket path or timeout");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return tw_fail(err, TW_E_ARG, 0, "socket path too long: %s",
		    path);
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return tw_fail(err, TW_E_SYSTEM, errno, "socket: %s",
		    strerror(errno));
	/* A full backlog gives EAGAIN on a non-blocking UNIX connect: try
	 * again until the deadline. */
	while ((rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun))) < 0 &&
	    (errno == EAGAIN || errno == EINTR) && now_ms() < deadline)
		(void)poll(NULL, 0, 10);
	if (rc < 0 && errno == EINPROGRESS) {
		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e,
		    &elen) == 0 && e == 0)
			rc = 0;
		else {
			errno = rc == 0 ? ETIMEDOUT : e != 0 ? e : errno;
			rc = -1;
		}
	}
	if (rc < 0) {
		e = errno;
		close(fd);
		return tw_fail(err, e == ETIMEDOUT || e == EAGAIN ?
		    TW_E_TIMEOUT : TW_E_CONNECT, e, "connect to %s: %s", path,
		    strerror(e));
	}
	/* The caller gets an ordinary blocking socket; our own I/O polls
	 * and uses MSG_DONTWAIT. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		e = errno;
		close(fd);
		return tw_fail(err, TW_E_SYSTEM, e, "fcntl: %s", strerror(e));
	}
	tw_ok(err);
	return fd;
}

/* ------------------------------------------------------------ request */

/* 1 if s is non-empty printable ASCII. */
static int
printable(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* Appends "name=value\n" to buf at *off. -1 if it does not fit. */
static int
put_line(char *buf, size_t len, size_t *off, const char *name,
    const char *value)
{
	int n = snprintf(buf + *off, len - *off, "%s=%s\n", name, value);

	if (n < 0 || (size_t)n >= len - *off || n > TW_LINE_MAX)
		return -1;
	*off += (size_t)n;
	return 0;
}

/* peer as the protocol takes it: printable ASCII, at most 255 bytes. */
static void
clean_peer(const char *peer, char *out)
{
	size_t i;

	for (i = 0; i < TW_PEER_MAX && peer[i] != '\0'; i++)
		out[i] = (unsigned char)peer[i] >= 0x20 &&
		    (unsigned char)peer[i] <= 0x7e ? peer[i] : '?';
	out[i] = '\0';
}

/* The optional string fields; -1 names the bad one in err. */
static int
opt_fields(const struct tw_request *req, char *buf, size_t len, size_t *off,
    struct tw_error *err)
{
	const struct { const char *name, *value; } f[] = {
		{ "profile", req->profile },
		{ "servername", req->servername },
		{ "level", req->level },
	};
	size_t k;

	for (k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		if (f[k].value == NULL || *f[k].value == '\0')
			continue;
		if (!printable(f[k].value) ||
		    put_line(buf, len, off, f[k].name, f[k].value) < 0)
			return tw_fail(err, TW_E_ARG, 0, "bad %s", f[k].name);
	}
	for (k = 0; k < req->nfingerprints; k++)
		if (req->fingerprints[k] == NULL ||
		    !printable(req->fingerprints[k]) ||
		    put_line(buf, len, off, "fingerprint",
		    req->fingerprints[k]) < 0)
			return tw_fail(err, TW_E_ARG, 0, "bad fingerprint");
	return 0;
}

/* The request's bytes into buf; its length, or -1. */
static int
format_request(const struct tw_request *req, char *buf, size_t len,
    struct tw_error *err)
{
	char peer[TW_PEER_MAX + 1], num[16];
	size_t off = 0;

	if (req == NULL || req->peer == NULL || *req->peer == '\0')
		return tw_fail(err, TW_E_ARG, 0, "no peer");
	if (req->role != TW_ROLE_SERVER && req->role != TW_ROLE_CLIENT)
		return tw_fail(err, TW_E_ARG, 0, "bad role");
	if (req->nfingerprints > 16 || (req->nfingerprints > 0 &&
	    req->fingerprints == NULL))
		return tw_fail(err, TW_E_ARG, 0, "bad fingerprint list");
	clean_peer(req->peer, peer);
	snprintf(num, sizeof(num), "%d", TW_PROTOCOL_VERSION);
	if (put_line(buf, len, &off, "version", num) < 0 ||
	    put_line(buf, len, &off, "role", req->role == TW_ROLE_SERVER ?
	    "server" : "client") < 0 ||
	    put_line(buf, len, &off, "peer", peer) < 0)
		return tw_fail(err, TW_E_ARG, 0, "request too long");
	if (opt_fields(req, buf, len, &off, err) < 0)
		return -1;
	if (req->handshake_timeout > 0) {
		snprintf(num, sizeof(num), "%u", req->handshake_timeout);
		if (put_line(buf, len, &off, "handshake_timeout", num) < 0)
			return tw_fail(err, TW_E_ARG, 0, "request too long");
	}
	if (req->idle_timeout > 0) {
		snprintf(num, sizeof(num), "%u", req->idle_timeout);
		if (put_line(buf, len, &off, "idle_timeout", num) < 0)
			return tw_fail(err, TW_E_ARG, 0, "request too long");
	}
	if (put_line(buf, len, &off, "report", req->report ? "yes" : "no") < 0
	    || off + 1 >= len)
		return tw_fail(err, TW_E_ARG, 0, "request too long");
	buf[off++] = '\n';
	return (int)off;
}

/* Writes all of buf before the deadline. */
static int
send_all(int fd, const char *buf, size_t len, long long deadline,
    struct tw_error *err)
{
	ssize_t n;
	int rc;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EPIPE)
			return tw_fail(err, TW_E_CLOSED, errno, "the daemon "
			    "closed the connection");
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return tw_fail(err, TW_E_SYSTEM, errno, "send: %s",
			    strerror(errno));
		if ((rc = wait_fd(fd, POLLOUT, deadline)) <= 0)
			return tw_fail(err, rc == 0 ? TW_E_TIMEOUT :
			    TW_E_SYSTEM, rc == 0 ? 0 : errno,
			    "sending the request: %s", rc == 0 ? "timeout" :
			    strerror(errno));
	}
	return 0;
}

void
tw_request_init(struct tw_request *req, enum tw_role role, const char *peer)
{
	memset(req, 0, sizeof(*req));
	req->role = role;
	req->peer = peer;
	req->report = 1;
}

int
tw_send_request(int fd, const struct tw_request *req, int timeout_ms,
    struct tw_error *err)
{
	char buf[8192];
	int n;

	if ((n = format_request(req, buf, sizeof(buf), err)) < 0)
		return -1;
	if (send_all(fd, buf, (size_t)n, now_ms() + timeout_ms, err) < 0)
		return -1;
	tw_ok(err);
	return 0;
}

/* ------------------------------------------------------------ reading */

/* Reads one message that ends with term (1 byte "\n" for the answer,
 * 2 bytes "\n\n" for the report) into buf, and not a byte more: peeks
 * until term is there, then reads exactly through it. Returns its
 * length (NUL-terminated), or -1. */
static int
read_until(int fd, const char *term, size_t tlen, char *buf, size_t len,
    long long deadline, struct tw_error *err)
{
	ssize_t n;
	size_t i;
	int rc;

	for (;;) {
		n = recv(fd, buf, len - 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0)
			return tw_fail(err, TW_E_CLOSED, 0, "the daemon closed "
			    "the connection without an answer");
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return tw_fail(err, errno == ECONNRESET ? TW_E_CLOSED :
			    TW_E_SYSTEM, errno, "recv: %s", strerror(errno));
		for (i = 0; n > 0 && i + tlen <= (size_t)n; i++) {
			if (memcmp(buf + i, term, tlen) != 0)
				continue;
			/* The first line may be a refusal, which ends at
			 * its first LF whatever we wait for. */
			n = recv(fd, buf, i + tlen, MSG_DONTWAIT);
			if (n != (ssize_t)(i + tlen))
				return tw_fail(err, TW_E_SYSTEM, errno,
				    "recv: short read");
			buf[n] = '\0';
			return (int)n;
		}
		if (n > 0 && tlen == 2 && strncmp(buf, "refused ", 8) == 0 &&
		    memchr(buf, '\n', (size_t)n) != NULL)
			return read_until(fd, "\n", 1, buf, len, deadline,
			    err);
		if (n == (ssize_t)len - 1)
			return tw_fail(err, TW_E_PROTOCOL, 0, "the daemon's "
			    "answer is too long");
		if ((rc = wait_fd(fd, POLLIN, deadline)) <= 0)
			return tw_fail(err, rc == 0 ? TW_E_TIMEOUT :
			    TW_E_SYSTEM, rc == 0 ? 0 : errno, "waiting for the "
			    "daemon: %s", rc == 0 ? "timeout" :
			    strerror(errno));
	}
}

/* "refused CODE TEXT\n" into err. */
static int
refusal(const char *line, struct tw_error *err)
{
	const char *code = line + 8, *sp = strchr(code, ' ');
	size_t clen = sp != NULL ? (size_t)(sp - code) : strcspn(code, "\n");
	const char *text = sp != NULL ? sp + 1 : "";

	tw_fail(err, TW_E_REFUSED, 0, "refused: %.*s: %.*s", (int)clen, code,
	    (int)strcspn(text, "\n"), text);
	if (err != NULL)
		snprintf(err->refusal, sizeof(err->refusal), "%.*s",
		    (int)(clen < sizeof(err->refusal) ? clen :
		    sizeof(err->refusal) - 1), code);
	return -1;
}

int
tw_read_answer(int fd, int timeout_ms, struct tw_error *err)
{
	char buf[TW_LINE_MAX + 1];

	if (read_until(fd, "\n", 1, buf, sizeof(buf), now_ms() + timeout_ms,
	    err) < 0)
		return -1;
	if (strcmp(buf, "ok\n") == 0) {
		tw_ok(err);
		return 0;
	}
	if (strncmp(buf, "refused ", 8) == 0)
		return refusal(buf, err);
	return tw_fail(err, TW_E_PROTOCOL, 0, "unexpected answer \"%.*s\"",
	    (int)strcspn(buf, "\n"), buf);
}

int
tw_send_fd(int fd, int peer_fd, int timeout_ms, struct tw_error *err)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	long long deadline = now_ms() + timeout_ms;
	struct msghdr msg;
	struct cmsghdr *c;
	struct iovec iov;
	char byte = 'F';
	int rc;

	if (peer_fd < 0)
		return tw_fail(err, TW_E_ARG, 0, "no descriptor to pass");
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &peer_fd, sizeof(int));
	for (;;) {
		if (sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
			break;
		if (errno == EPIPE)
			return tw_fail(err, TW_E_CLOSED, errno, "the daemon "
			    "closed the connection");
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return tw_fail(err, TW_E_SYSTEM, errno, "sendmsg: %s",
			    strerror(errno));
		if ((rc = wait_fd(fd, POLLOUT, deadline)) <= 0)
			return tw_fail(err, rc == 0 ? TW_E_TIMEOUT :
			    TW_E_SYSTEM, rc == 0 ? 0 : errno,
			    "passing the descriptor: %s", rc == 0 ?
			    "timeout" : strerror(errno));
	}
	tw_ok(err);
	return 0;
}

/* One "name=value" of the report into out; unknown names are ignored
 * (a later minor revision may add some). */
static void
outcome_field(struct tw_outcome *out, const char *name, size_t nlen,
    const char *value)
{
	const struct { const char *name; char *dst; size_t len; } f[] = {
		{ "reason", out->reason, sizeof(out->reason) },
		{ "protocol", out->protocol, sizeof(out->protocol) },
		{ "cipher", out->cipher, sizeof(out->cipher) },
		{ "kex", out->kex, sizeof(out->kex) },
		{ "level", out->level, sizeof(out->level) },
		{ "trust", out->trust, sizeof(out->trust) },
		{ "peer_cn", out->peer_cn, sizeof(out->peer_cn) },
		{ "issuer_cn", out->issuer_cn, sizeof(out->issuer_cn) },
		{ "fingerprint_digest", out->digest, sizeof(out->digest) },
		{ "peer_fingerprint", out->peer_fingerprint,
		  sizeof(out->peer_fingerprint) },
		{ "peer_pubkey_fingerprint", out->peer_pubkey_fingerprint,
		  sizeof(out->peer_pubkey_fingerprint) },
		{ "alpn", out->alpn, sizeof(out->alpn) },
	};
	size_t k;

	if (nlen == 6 && memcmp(name, "status", 6) == 0)
		out->ok = strcmp(value, "ok") == 0;
	else if (nlen == 4 && memcmp(name, "bits", 4) == 0)
		out->bits = atoi(value);
	for (k = 0; k < sizeof(f) / sizeof(f[0]); k++)
		if (strlen(f[k].name) == nlen && memcmp(name, f[k].name,
		    nlen) == 0)
			snprintf(f[k].dst, f[k].len, "%s", value);
}

/* The report's lines into out; -1 if one is not name=value or status
 * is missing. */
static int
outcome_parse(char *buf, struct tw_outcome *out)
{
	char *line = buf, *nl, *eq;
	int status = 0;

	while ((nl = strchr(line, '\n')) != NULL && nl != line) {
		*nl = '\0';
		if ((eq = strchr(line, '=')) == NULL || eq == line)
			return -1;
		*eq = '\0';
		outcome_field(out, line, (size_t)(eq - line), eq + 1);
		status |= strcmp(line, "status") == 0;
		line = nl + 1;
	}
	return status ? 0 : -1;
}

int
tw_read_outcome(int fd, int timeout_ms, struct tw_outcome *out,
    struct tw_error *err)
{
	char buf[TW_REPORT_MAX];

	memset(out, 0, sizeof(*out));
	out->bits = -1;
	if (read_until(fd, "\n\n", 2, buf, sizeof(buf), now_ms() + timeout_ms,
	    err) < 0)
		return -1;
	if (strncmp(buf, "refused ", 8) == 0)
		return refusal(buf, err);
	if (outcome_parse(buf, out) < 0)
		return tw_fail(err, TW_E_PROTOCOL, 0, "malformed report");
	if (!out->ok)
		return tw_fail(err, TW_E_HANDSHAKE, 0, "TLS failed: %s",
		    out->reason[0] ? out->reason : "no reason given");
	tw_ok(err);
	return 0;
}

/* ------------------------------------------------------------ all */

/* Milliseconds left until deadline, at least 1. */
static int
left_ms(long long deadline)
{
	long long left = deadline - now_ms();

	return left < 1 ? 1 : left > 0x7fffffff ? 0x7fffffff : (int)left;
}

int
tw_handoff(const char *path, const struct tw_request *req, int peer_fd,
    int timeout_ms, struct tw_outcome *out, struct tw_error *err)
{
	long long deadline = now_ms() + timeout_ms;
	char buf[8192];
	int fd, e;

	if (out != NULL) {
		memset(out, 0, sizeof(*out));
		out->bits = -1;
	}
	if (format_request(req, buf, sizeof(buf), err) < 0)
		return -1;
	if (req->report && out == NULL)
		return tw_fail(err, TW_E_ARG, 0, "report asked for, no outcome "
		    "to fill");
	if ((fd = tw_connect(path, timeout_ms, err)) < 0)
		return -1;
	if (tw_send_request(fd, req, left_ms(deadline), err) < 0 ||
	    tw_read_answer(fd, left_ms(deadline), err) < 0 ||
	    tw_send_fd(fd, peer_fd, left_ms(deadline), err) < 0 ||
	    (req->report && tw_read_outcome(fd, left_ms(deadline), out,
	    err) < 0)) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
