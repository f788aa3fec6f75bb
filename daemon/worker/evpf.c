/*
 * evpf.c - tlsproxy(8)'s protocol for postscreen(8) and smtpd(8) as
 * non-blocking steps of an event-loop session (the contract is in
 * evpf.h; the messages are pfproto.c's).
 *
 * Runs in: an event loop thread. Each list leaves in one send(2) where
 * the socket takes it, as postscreen needs: it reads a whole list from
 * what one readable event brought. Requests that cannot be served (the
 * client role, bad flags, TLS disabled for the service) are answered
 * with status 0 and a logged reason, as tlsproxy(8) answers them;
 * malformed ones end the connection with a logged reason.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"
#include "evpf.h"
#include "evsess.h"
#include "log.h"
#include "pfctx.h"
#include "pfproto.h"
#include "runtime.h"
#include "util.h"

#define PF_REQ_MAX	2048	/* the base request is far smaller */
#define PF_IDLE_EXTRA_S	10	/* tlsproxy(8): second timeout + 10 s */

enum pf_step {
	PF_GREET,		/* sending the greeting */
	PF_REQUEST,		/* reading the request */
	PF_STATUS,		/* sending status 1 */
	PF_REFUSE,		/* sending status 0, then the end */
	PF_FD,			/* waiting for the descriptor */
	PF_CONTEXT,		/* sending the context, then the relay */
};

struct evpf {
	enum pf_step	 step;
	struct pfp_req	 req;
	char		 in[PF_REQ_MAX];	/* the request so far */
	size_t		 in_len;
	struct buf	 out;		/* a list being sent */
	size_t		 out_off;
	char		 refusal[256];	/* why status 0 */
};

void
evpf_free(struct evpf *pf)
{
	if (pf == NULL)
		return;
	buf_fini(&pf->out);
	free(pf);
}

/* Sends what is left of pf->out: EV_NEXT when all is sent, EV_WAIT when
 * the socket is full, EV_FAIL. */
static int
pf_flush(struct esess *e, const char *what)
{
	struct evpf *pf = e->pf;
	ssize_t n;

	while (pf->out_off < pf->out.len) {
		n = send(e->s.peer_fd, pf->out.data + pf->out_off,
		    pf->out.len - pf->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			pf->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return EV_WAIT;
		snprintf(e->s.why, sizeof(e->s.why), "send %s: %s", what,
		    strerror(errno));
		return EV_FAIL;
	}
	buf_fini(&pf->out);
	buf_init(&pf->out);
	pf->out_off = 0;
	return EV_NEXT;
}

int
evpf_start(struct esess *e)
{
	e->pf = xcalloc(1, sizeof(*e->pf));
	buf_init(&e->pf->out);
	pfp_greeting(&e->pf->out);
	e->pf->step = PF_GREET;
	return 0;
}

/* "[addr]:port" as tlsproxy(8) logs and returns it: lower case. */
static void
pf_peer(struct esess *e)
{
	size_t i;

	snprintf(e->s.peer, sizeof(e->s.peer), "%s", e->pf->req.endpoint);
	for (i = 0; e->s.peer[i] != '\0'; i++)
		e->s.peer[i] = (char)tolower((unsigned char)e->s.peer[i]);
}

/* Why this request cannot be served (status 0), or NULL. */
static const char *
pf_refusal(struct esess *e)
{
	struct evpf *pf = e->pf;
	unsigned f = pf->req.flags, role = f & (PFP_ROLE_SERVER |
	    PFP_ROLE_CLIENT);

	if (role == 0 || role == (PFP_ROLE_SERVER | PFP_ROLE_CLIENT) ||
	    (f & ~(unsigned)(PFP_ROLE_SERVER | PFP_ROLE_CLIENT |
	    PFP_SEND_CONTEXT)) != 0)
		snprintf(pf->refusal, sizeof(pf->refusal), "bad request "
		    "flags: 0x%x", f);
	else if (role == PFP_ROLE_CLIENT)
		snprintf(pf->refusal, sizeof(pf->refusal), "the TLS client "
		    "role (smtp connection reuse) is not supported: request "
		    "flags 0x%x", f);
	else if (e->s.svc->ctx == NULL)
		snprintf(pf->refusal, sizeof(pf->refusal), "TLS server role "
		    "is disabled: %s", e->s.svc->no_ctx_why != NULL ?
		    e->s.svc->no_ctx_why : "no server context");
	else
		return NULL;
	return pf->refusal;
}

/* The request is in: log it, and queue the status. */
static int
pf_answer(struct esess *e)
{
	struct evpf *pf = e->pf;
	const char *no;

	pf_peer(e);
	if (e->s.svc->session_log)
		log_info("sess=%llu service=%s: CONNECT from %s (serverid=%s, "
		    "flags=%u)", (unsigned long long)e->s.id, e->s.svc->name,
		    e->s.peer, pf->req.serverid, pf->req.flags);
	no = pf_refusal(e);
	pfp_status(&pf->out, no == NULL);
	pf->step = no == NULL ? PF_STATUS : PF_REFUSE;
	return EV_NEXT;
}

/* Reads until the request is complete (edge-triggered: until EAGAIN). */
static int
pf_read(struct esess *e)
{
	struct evpf *pf = e->pf;
	char why[256];
	size_t used;
	ssize_t n;
	int rc;

	for (;;) {
		n = recv(e->s.peer_fd, pf->in + pf->in_len, sizeof(pf->in) -
		    pf->in_len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return EV_WAIT;
		if (n <= 0) {
			snprintf(e->s.why, sizeof(e->s.why), "receive request "
			    "attributes: %s", n == 0 ? (pf->in_len ?
			    "unexpected end-of-input" : "closed before the "
			    "request") : strerror(errno));
			return EV_FAIL;
		}
		pf->in_len += (size_t)n;
		rc = pfp_request(pf->in, pf->in_len, &used, &pf->req, why,
		    sizeof(why));
		if (rc == 1 && used == pf->in_len)
			return pf_answer(e);
		if (rc == 0 && pf->in_len < sizeof(pf->in))
			continue;
		snprintf(e->s.why, sizeof(e->s.why), "receive request "
		    "attributes: %s", rc < 0 ? why : rc == 1 ? "bytes after "
		    "the request" : "request too long");
		return EV_FAIL;
	}
}

/* The descriptor: into fwd_fd, registered; then the handshake under the
 * request's timeouts. */
static int
pf_take_fd(struct esess *e)
{
	struct sess *s = &e->s;
	char why[256];
	int fd, closed, rc, fl;

	if ((rc = ctl_fd_recv(s->peer_fd, '\0', &fd, &closed, why,
	    sizeof(why))) == 0)
		return EV_WAIT;
	if (rc == 1 && ctl_fd_check(fd, why, sizeof(why)) == 0 &&
	    (fl = fcntl(fd, F_GETFL)) >= 0 &&
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0) {
		s->fwd_fd = fd;		/* closed by sess_finish */
		sess_nodelay(fd);
		if (evs_register(e, fd, &e->hfwd) < 0 ||
		    evs_ssl(e, fd, 1, NULL) < 0)
			return EV_FAIL;
		wd_disarm(&s->wd);
		s->handshake_ms = (int64_t)e->pf->req.handshake_s * 1000;
		s->wd.idle_ms = ((int64_t)e->pf->req.session_s +
		    PF_IDLE_EXTRA_S) * 1000;
		stats_hs_begin(&s->st);
		wd_arm(&s->wd, s->handshake_ms, WD_HANDSHAKE);
		e->state = EVS_HANDSHAKE;
		return EV_NEXT;
	}
	if (rc == 1)
		close(fd);
	snprintf(s->why, sizeof(s->why), "receive remote SMTP peer file "
	    "descriptor: %s", why);
	return EV_FAIL;
}

int
evpf_step(struct esess *e, int from_fwd, uint32_t events)
{
	struct evpf *pf = e->pf;
	int rc;

	(void)events;
	if (from_fwd && pf->step != PF_CONTEXT)
		return EV_WAIT;		/* the TLS socket: the handshake's */
	switch (pf->step) {
	case PF_GREET:
		if ((rc = pf_flush(e, "greeting")) == EV_NEXT)
			pf->step = PF_REQUEST;
		return rc;
	case PF_REQUEST:
		return pf_read(e);
	case PF_STATUS:
		if ((rc = pf_flush(e, "status")) == EV_NEXT)
			pf->step = PF_FD;
		return rc;
	case PF_REFUSE:
		if ((rc = pf_flush(e, "status")) != EV_NEXT)
			return rc;
		snprintf(e->s.why, sizeof(e->s.why), "%s", pf->refusal);
		return EV_FAIL;
	case PF_FD:
		return pf_take_fd(e);
	case PF_CONTEXT:
		if ((rc = pf_flush(e, "TLS context")) != EV_NEXT)
			return rc;
		wd_disarm(&e->s.wd);
		evs_relay_begin(e, e->s.fwd_fd, e->s.peer_fd);
		return EV_NEXT;
	}
	return EV_FAIL;
}

int
evpf_established(struct esess *e)
{
	struct pfctx_text t;
	struct pfp_ctx c;

	if (!(e->pf->req.flags & PFP_SEND_CONTEXT)) {
		evs_relay_begin(e, e->s.fwd_fd, e->s.peer_fd);
		return EV_NEXT;
	}
	pfctx_fill(e->s.ssl, e->s.peer, &c, &t);
	pfp_context(&e->pf->out, &c);
	pfctx_fini(&t);
	e->pf->step = PF_CONTEXT;
	e->state = EVS_POSTFIX;
	wd_arm(&e->s.wd, e->s.handshake_ms, WD_REQUEST);
	return EV_NEXT;
}
