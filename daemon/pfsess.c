/*
 * pfsess.c - a session of the "postfix" role: tlsproxy(8)'s protocol on
 * Postfix's private/tlsproxy socket, for postscreen(8) (flags 1) and
 * smtpd(8) (flags 5). Greeting, request, status, the remote SMTP
 * client's socket by descriptor passing, the server-role handshake with
 * the service's policy, the TLS context when asked for; then the relay
 * between that socket (TLS) and this connection (plaintext).
 *
 * Runs in: worker pool threads, in the sandbox. Each message goes out
 * in one send(2): postscreen reads a whole list from what one readable
 * event brought, and fails on half of one.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "pfctx.h"
#include "pfproto.h"
#include "pfsess.h"
#include "relay.h"
#include "runtime.h"
#include "session.h"
#include "tlsverify.h"
#include "util.h"

#define PF_REQ_MAX	2048	/* the base request is far smaller */
#define PF_IDLE_EXTRA_S	10	/* tlsproxy(8): second timeout + 10 s */

/* Sends b in one send(2) where the socket takes it (it always does for
 * these few bytes on a fresh connection), else the rest as it drains. */
static int
pf_send(struct sess *s, struct buf *b, const char *what)
{
	size_t off = 0;
	ssize_t n;

	while (off < b->len) {
		n = send(s->peer_fd, b->data + off, b->len - off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(s->why, sizeof(s->why), "send %s: %s", what,
			    strerror(errno));
			buf_fini(b);
			return -1;
		}
		if (sess_wait(s, s->peer_fd, POLLOUT) < 0) {
			buf_fini(b);
			return -1;
		}
	}
	buf_fini(b);
	return 0;
}

/* Reads the request; nothing follows it before our status. */
static int
pf_read_request(struct sess *s, struct pfp_req *r)
{
	char buf[PF_REQ_MAX], why[256];
	size_t have = 0, used;
	ssize_t n;
	int rc;

	for (;;) {
		n = recv(s->peer_fd, buf + have, sizeof(buf) - have,
		    MSG_DONTWAIT);
		if (n == 0) {
			snprintf(s->why, sizeof(s->why), "receive request "
			    "attributes: %s", have ? "unexpected end-of-input" :
			    "closed before the request");
			return -1;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(s->why, sizeof(s->why), "receive request "
			    "attributes: %s", strerror(errno));
			return -1;
		}
		if (n < 0) {
			if (sess_wait(s, s->peer_fd, POLLIN) < 0)
				return -1;
			continue;
		}
		have += (size_t)n;
		rc = pfp_request(buf, have, &used, r, why, sizeof(why));
		if (rc == 1 && used == have)
			return 0;
		if (rc == 0 && have < sizeof(buf))
			continue;
		snprintf(s->why, sizeof(s->why), "receive request attributes: "
		    "%s", rc < 0 ? why : rc == 1 ? "bytes after the request" :
		    "request too long");
		return -1;
	}
}

/* Why this request cannot be served (status 0), or NULL. */
static const char *
pf_refusal(const struct sess *s, const struct pfp_req *r, char *buf,
    size_t len)
{
	unsigned role = r->flags & (PFP_ROLE_SERVER | PFP_ROLE_CLIENT);

	if (role == 0 || role == (PFP_ROLE_SERVER | PFP_ROLE_CLIENT) ||
	    (r->flags & ~(unsigned)(PFP_ROLE_SERVER | PFP_ROLE_CLIENT |
	    PFP_SEND_CONTEXT)) != 0)
		snprintf(buf, len, "bad request flags: 0x%x", r->flags);
	else if (role == PFP_ROLE_CLIENT)
		snprintf(buf, len, "the TLS client role (smtp connection "
		    "reuse) is not supported: request flags 0x%x", r->flags);
	else if (s->svc->ctx == NULL)
		snprintf(buf, len, "TLS server role is disabled: %s",
		    s->svc->no_ctx_why != NULL ? s->svc->no_ctx_why :
		    "no server context");
	else
		return NULL;
	return buf;
}

/* After status 0 the client only closes: wait for that (bounded). */
static int
pf_refuse(struct sess *s, const char *reason)
{
	struct buf b;
	char c;

	buf_init(&b);
	pfp_status(&b, 0);
	snprintf(s->why, sizeof(s->why), "%s", reason);
	if (pf_send(s, &b, "status") == 0 &&
	    sess_wait(s, s->peer_fd, POLLIN) > 0)
		(void)recv(s->peer_fd, &c, 1, MSG_DONTWAIT);
	snprintf(s->why, sizeof(s->why), "%s", reason);
	return -1;
}

/* The remote SMTP client's socket into s->fwd_fd. */
static int
pf_recv_fd(struct sess *s)
{
	char why[256];
	int fd, closed, rc, fl;

	while ((rc = ctl_fd_recv(s->peer_fd, '\0', &fd, &closed, why,
	    sizeof(why))) == 0)
		if (sess_wait(s, s->peer_fd, POLLIN) < 0) {
			strncat(s->why, " waiting for the descriptor",
			    sizeof(s->why) - strlen(s->why) - 1);
			return -1;
		}
	if (rc == 1 && ctl_fd_check(fd, why, sizeof(why)) == 0 &&
	    (fl = fcntl(fd, F_GETFL)) >= 0 &&
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0) {
		s->fwd_fd = fd;
		sess_nodelay(fd);
		return 0;
	}
	if (rc == 1)
		close(fd);
	snprintf(s->why, sizeof(s->why), "receive remote SMTP peer file "
	    "descriptor: %s", why);
	return -1;
}

/* The handshake and the level's checks; the context if asked for. */
static int
pf_tls(struct sess *s, const struct pfp_req *r)
{
	struct pfctx_text t;
	struct pfp_ctx c;
	struct buf b;
	int rc;

	if (sess_ssl(s, s->svc->ctx, s->fwd_fd, NULL, 1, NULL) < 0 ||
	    sess_handshake(s, s->fwd_fd) < 0 ||
	    tlsverify_check(s->ssl, s->svc, s->why, sizeof(s->why)) < 0)
		return -1;
	sess_established(s, 1, s->peer);
	if (!(r->flags & PFP_SEND_CONTEXT))
		return 0;
	pfctx_fill(s->ssl, s->peer, &c, &t);
	buf_init(&b);
	pfp_context(&b, &c);
	rc = pf_send(s, &b, "TLS context");
	pfctx_fini(&t);
	return rc;
}

/* Deadlines from the request: the handshake's, then inactivity. */
static void
pf_deadlines(struct sess *s, const struct pfp_req *r)
{
	s->handshake_ms = (int64_t)r->handshake_s * 1000;
	s->wd.idle_ms = ((int64_t)r->session_s + PF_IDLE_EXTRA_S) * 1000;
}

/* "[addr]:port" as tlsproxy(8) logs and returns it: lower case. */
static void
pf_peer(struct sess *s, const struct pfp_req *r)
{
	size_t i;

	snprintf(s->peer, sizeof(s->peer), "%s", r->endpoint);
	for (i = 0; s->peer[i] != '\0'; i++)
		s->peer[i] = (char)tolower((unsigned char)s->peer[i]);
}

int
pfsess_serve(struct sess *s, struct relay *r)
{
	struct pfp_req req;
	struct buf b;
	char why[256];
	const char *no;

	wd_arm(&s->wd, s->svc->handshake_ms);	/* request and descriptor */
	buf_init(&b);
	pfp_greeting(&b);
	if (pf_send(s, &b, "greeting") < 0 || pf_read_request(s, &req) < 0)
		return -1;
	pf_peer(s, &req);
	if (s->svc->session_log)
		log_info("sess=%llu service=%s: CONNECT from %s (serverid=%s, "
		    "flags=%u)", (unsigned long long)s->id, s->svc->name,
		    s->peer, req.serverid, req.flags);
	if ((no = pf_refusal(s, &req, why, sizeof(why))) != NULL)
		return pf_refuse(s, no);
	buf_init(&b);
	pfp_status(&b, 1);
	if (pf_send(s, &b, "status") < 0 || pf_recv_fd(s) < 0)
		return -1;
	wd_disarm(&s->wd);
	pf_deadlines(s, &req);
	if (pf_tls(s, &req) < 0)
		return -1;
	r->tfd = s->fwd_fd;
	r->pfd = s->peer_fd;
	return 0;
}
