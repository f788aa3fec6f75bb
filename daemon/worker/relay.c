/*
 * relay.c - non-blocking TLS <-> plaintext pump with half-close.
 *
 * Runs in: worker session threads (relay_run) and event loops
 * (relay_pump). Each step is tried whenever it could make progress; the
 * relay waits only when no step did, so data that OpenSSL has buffered
 * internally is never stranded behind a poll. A step that does nothing
 * has seen EAGAIN or has nothing to do, which is what edge-triggered
 * epoll needs.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "log.h"
#include "relay.h"
#include "sockbio.h"
#include "stack.h"
#include "util.h"

/* Step results. */
#define STEP_IDLE	0	/* nothing to do or would block */
#define STEP_MOVED	1	/* progress */
#define STEP_FAIL	(-1)	/* this session is over */

static int set_why(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
set_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return STEP_FAIL;
}

/* Records what an SSL call wants; -1 for a real error (why is set). */
static int
ssl_result(struct relay *r, int ret, const char *op, char *why, size_t len)
{
	char tls[512];
	int e = SSL_get_error(r->ssl, ret);

	switch (e) {
	case SSL_ERROR_WANT_READ:	/* read(2) said EAGAIN */
		r->ssl_want_r = 1;
		r->ready &= ~(RELAY_R_T_RD | RELAY_R_T_MAYEOF);
		return STEP_IDLE;
	case SSL_ERROR_WANT_WRITE:
		r->ssl_want_w = 1;
		r->ready &= ~RELAY_R_T_WR;
		return STEP_IDLE;
	case SSL_ERROR_ZERO_RETURN:
		r->flags |= RELAY_F_T_EOF;
		return STEP_MOVED;
	case SSL_ERROR_SYSCALL:
		if (errno == 0 || errno == EPIPE || errno == ECONNRESET) {
			/* The peer went away without close_notify. */
			r->flags |= RELAY_F_T_EOF | RELAY_F_T_DIRTY;
			return STEP_MOVED;
		}
		snprintf(why, len, "TLS %s: %s", op, strerror(errno));
		r->end = STATS_END_OTHER;
		return STEP_FAIL;
	default:
		if (ERR_GET_REASON(ERR_peek_error()) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			r->flags |= RELAY_F_T_EOF | RELAY_F_T_DIRTY;
			return STEP_MOVED;
		}
		snprintf(why, len, "TLS %s: %s", op,
		    log_tls_errors(tls, sizeof(tls)));
		r->end = STATS_END_TLS_ERROR;
		return STEP_FAIL;
	}
}

/* plaintext -> p2t, only into an empty buffer (see SSL_write below). */
static int
step_plain_read(struct relay *r, char *why, size_t len)
{
	ssize_t n;

	if ((r->flags & RELAY_F_P_EOF) || r->p2t_len != 0 ||
	    (r->edge && !(r->ready & RELAY_R_P_RD)))
		return STEP_IDLE;
	if (r->p2t == NULL) {	/* idle until now: is there anything? */
		char c;

		if (!r->edge) {
			n = recv(r->pfd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return STEP_IDLE;
		}
		r->p2t = xmalloc(RELAY_P2T_BUF);
	}
	n = read(r->pfd, r->p2t, RELAY_P2T_BUF);
	if (n > 0) {
		r->p2t_len = (size_t)n;
		r->p2t_off = 0;
		/* Edge-triggered: a short read emptied the socket, and data
		 * that comes later is a new event; no read to see EAGAIN.
		 * Unless an EOF may be waiting: read on until it shows. */
		if (r->edge && (size_t)n < RELAY_P2T_BUF &&
		    !(r->ready & RELAY_R_P_MAYEOF))
			r->ready &= ~RELAY_R_P_RD;
		return STEP_MOVED;
	}
	if (n == 0) {
		r->flags |= RELAY_F_P_EOF;
		return STEP_MOVED;
	}
	if (errno == EAGAIN)	/* drained: from now on an EOF is an event */
		r->ready &= ~(RELAY_R_P_RD | RELAY_R_P_MAYEOF);
	if (errno == EAGAIN || errno == EINTR)
		return STEP_IDLE;
	return set_why(why, len, "plaintext read: %s", strerror(errno));
}

/* p2t -> TLS. The buffer is not refilled until it is fully written, so a
 * retried SSL_write always sees the same bytes. */
static int
step_tls_write(struct relay *r, char *why, size_t len)
{
	int n;

	if (r->p2t_off == r->p2t_len ||
	    (r->edge && !(r->ready & RELAY_R_T_WR)))
		return STEP_IDLE;
	ERR_clear_error();
	n = SSL_write(r->ssl, r->p2t + r->p2t_off,
	    (int)(r->p2t_len - r->p2t_off));
	if (n <= 0) {
		int rc = ssl_result(r, n, "write", why, len);

		/* A peer that sent close_notify may still read (TLS 1.3
		 * half-close); one whose socket is gone cannot: what is left
		 * in p2t can no longer be delivered. */
		if (rc == STEP_MOVED) {
			r->end = STATS_END_PEER_CLOSED;
			return set_why(why, len, "TLS write: the peer closed the "
			    "connection before all data was delivered");
		}
		return rc;
	}
	r->p2t_off += (size_t)n;
	r->to_tls += (uint64_t)n;
	r->out_data = 1;
	if (r->p2t_off == r->p2t_len)
		r->p2t_off = r->p2t_len = 0;
	return STEP_MOVED;
}

/* Plaintext EOF and everything written: send close_notify once. If it
 * cannot be sent (the peer is gone, or closed first and its socket is
 * shut), there is nothing more to send: done either way. Counting such a
 * failure as progress without marking the shutdown sent would retry it
 * forever. */
static int
step_tls_shutdown(struct relay *r, char *why, size_t len)
{
	int n, e;

	if (!(r->flags & RELAY_F_P_EOF) || r->p2t_len != 0 ||
	    (r->flags & RELAY_F_T_SHUT))
		return STEP_IDLE;
	if (!(r->flags & RELAY_F_T_DIRTY)) {
		ERR_clear_error();
		n = SSL_shutdown(r->ssl);
		if (n < 0) {
			e = SSL_get_error(r->ssl, n);
			if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
				r->ssl_want_w |= e == SSL_ERROR_WANT_WRITE;
				r->ssl_want_r |= e == SSL_ERROR_WANT_READ;
				r->ready &= e == SSL_ERROR_WANT_WRITE ?
				    ~RELAY_R_T_WR : ~RELAY_R_T_RD;
				return STEP_IDLE;
			}
			ERR_clear_error();
		}
	}
	(void)why;
	(void)len;
	r->flags |= RELAY_F_T_SHUT;
	return STEP_MOVED;
}

/* TLS -> t2p, only into an empty buffer. */
static int
step_tls_read(struct relay *r, char *why, size_t len)
{
	int n;

	if ((r->flags & RELAY_F_T_EOF) || r->t2p_len != 0)
		return STEP_IDLE;
	if (r->edge && !(r->ready & RELAY_R_T_RD) &&
	    SSL_has_pending(r->ssl) == 0) {
		r->ssl_want_r = 1;
		return STEP_IDLE;
	}
	if (r->t2p == NULL) {	/* idle until now: is there anything? */
		char c;

		if (!r->edge && SSL_has_pending(r->ssl) == 0 &&
		    recv(r->tfd, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
		    (errno == EAGAIN || errno == EINTR)) {
			r->ssl_want_r = 1;
			return STEP_IDLE;
		}
		r->t2p = xmalloc(RELAY_BUF);
	}
	ERR_clear_error();
	if (r->out != NULL)
		sockbio_reset_drained(r->out);
	n = SSL_read(r->ssl, r->t2p, RELAY_BUF);
	if (n <= 0)
		return ssl_result(r, n, "read", why, len);
	/* As for plaintext: the last read(2) was short and OpenSSL holds
	 * nothing more, so the socket is empty until the next event. */
	if (r->edge && r->out != NULL && sockbio_drained(r->out) &&
	    !(r->ready & RELAY_R_T_MAYEOF) && SSL_has_pending(r->ssl) == 0)
		r->ready &= ~RELAY_R_T_RD;
	r->t2p_len = (size_t)n;
	r->t2p_off = 0;
	r->from_tls += (uint64_t)n;
	return STEP_MOVED;
}

/* t2p -> plaintext. */
static int
step_plain_write(struct relay *r, char *why, size_t len)
{
	ssize_t n;

	if (r->t2p_off == r->t2p_len ||
	    (r->edge && !(r->ready & RELAY_R_P_WR)))
		return STEP_IDLE;
	n = send(r->pfd, r->t2p + r->t2p_off, r->t2p_len - r->t2p_off,
	    MSG_NOSIGNAL);
	if (n < 0) {
		if (errno == EAGAIN)
			r->ready &= ~RELAY_R_P_WR;
		if (errno == EAGAIN || errno == EINTR)
			return STEP_IDLE;
		return set_why(why, len, "plaintext write: %s",
		    strerror(errno));
	}
	r->t2p_off += (size_t)n;
	if (r->t2p_off == r->t2p_len)
		r->t2p_off = r->t2p_len = 0;
	return STEP_MOVED;
}

/* TLS EOF and everything delivered: half-close the plaintext side. */
static int
step_plain_shutdown(struct relay *r, char *why, size_t len)
{
	if (!(r->flags & RELAY_F_T_EOF) || r->t2p_len != 0 ||
	    (r->flags & RELAY_F_P_SHUT))
		return STEP_IDLE;
	r->flags |= RELAY_F_P_SHUT;
	if (shutdown(r->pfd, SHUT_WR) < 0 && errno != ENOTCONN)
		return set_why(why, len, "plaintext shutdown: %s",
		    strerror(errno));
	return STEP_MOVED;
}

/* Sends what the TLS records collected in r->out; called when nothing
 * else moves, that is before the relay would wait. A TLS 1.3 session
 * ticket alone (r->held) waits for application data, the close_notify or
 * relay_unhold, and goes with the first data: one segment, not two.
 * Anything else (an alert, a KeyUpdate, a reply to one) goes now: the
 * peer may be waiting for it. A peer that is gone fails the relay if
 * application data was collected; else it only ends the TLS side, as a
 * lost connection. */
static int
step_tls_flush(struct relay *r, char *why, size_t len)
{
	long n;

	if (r->out == NULL || sockbio_pending(r->out) == 0 ||
	    (r->edge && !(r->ready & RELAY_R_T_WR)))
		return STEP_IDLE;
	if (!r->out_data && !(r->flags & RELAY_F_T_SHUT) &&
	    sockbio_pending(r->out) <= r->held)
		return STEP_IDLE;
	r->held = 0;
	if ((n = sockbio_flush(r->out)) < 0) {
		if (errno != EPIPE && errno != ECONNRESET)
			return set_why(why, len, "TLS write: %s",
			    strerror(errno));
		if (r->out_data) {
			r->end = STATS_END_PEER_CLOSED;
			return set_why(why, len, "TLS write: the peer closed "
			    "the connection before all data was delivered");
		}
		sockbio_discard(r->out);
		r->flags |= RELAY_F_T_EOF | RELAY_F_T_DIRTY;
		return STEP_MOVED;
	}
	if (sockbio_pending(r->out) > 0)
		r->ready &= ~RELAY_R_T_WR;	/* EAGAIN */
	else
		r->out_data = 0;
	return n > 0 ? STEP_MOVED : STEP_IDLE;
}

static int
relay_done(const struct relay *r)
{
	unsigned all = RELAY_F_P_EOF | RELAY_F_T_EOF | RELAY_F_T_SHUT |
	    RELAY_F_P_SHUT;

	return (r->flags & all) == all && r->p2t_len == 0 && r->t2p_len == 0 &&
	    (r->out == NULL || sockbio_pending(r->out) == 0);
}

/* One round of every step; STEP_MOVED if any moved. */
static int
relay_round(struct relay *r, char *why, size_t len)
{
	int (*const steps[])(struct relay *, char *, size_t) = {
		step_plain_read, step_tls_write, step_tls_shutdown,
		step_tls_read, step_plain_write, step_plain_shutdown,
	};
	int moved = STEP_IDLE, rc;
	size_t i;

	r->ssl_want_r = r->ssl_want_w = 0;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if ((rc = steps[i](r, why, len)) == STEP_FAIL)
			return STEP_FAIL;
		if (rc == STEP_MOVED)
			moved = STEP_MOVED;
	}
	return moved;
}

/* Frees both buffers (both empty) and the stack pages the handshake
 * used: an idle session keeps only what it needs to wake up. */
static void
relay_release(struct relay *r)
{
	free(r->p2t);
	free(r->t2p);
	r->p2t = r->t2p = NULL;
	stack_trim();
	r->released = 1;
}

/* A deadline ended the relay. */
static int
relay_timeout(struct relay *r, enum wd_kind kind, char *why, size_t len)
{
	r->end = stats_end_of_wd(kind);
	return set_why(why, len, "%s", wd_text(kind));
}

/* Waits until a step could make progress; -1 on a deadline. After
 * RELAY_IDLE_MS without any, the session releases its buffers. */
static int
relay_wait(struct relay *r, struct wd *w, char *why, size_t len)
{
	struct pollfd pf[2];
	enum wd_kind kind;
	int timeout, n, idle;

	pf[0].fd = r->pfd;
	pf[0].events = 0;
	if (!(r->flags & RELAY_F_P_EOF) && r->p2t_len == 0)
		pf[0].events |= POLLIN;
	if (r->t2p_len != 0)
		pf[0].events |= POLLOUT;
	pf[1].fd = r->tfd;
	pf[1].events = (r->ssl_want_r ? POLLIN : 0) |
	    (r->ssl_want_w ? POLLOUT : 0);
	/* An fd we expect nothing from is left out, so a hang-up on it
	 * cannot make poll return at once forever. */
	if (pf[0].events == 0)
		pf[0].fd = -1;
	if (pf[1].events == 0)
		pf[1].fd = -1;
	if ((timeout = wd_timeout(w, &kind)) == 0)
		return relay_timeout(r, kind, why, len);
	idle = !r->released && r->p2t_len == 0 && r->t2p_len == 0 &&
	    timeout > RELAY_IDLE_MS;
	n = poll(pf, 2, idle ? RELAY_IDLE_MS : timeout);
	if (n < 0 && errno != EINTR)
		return set_why(why, len, "poll: %s", strerror(errno));
	if (n == 0 && idle)
		relay_release(r);
	else if (n == 0 && wd_timeout(w, &kind) == 0)
		return relay_timeout(r, kind, why, len);
	return 0;
}

/* After a TLS error: deliver what was decrypted, within the deadline. */
static void
relay_drain(struct relay *r, struct wd *w)
{
	struct pollfd pf;
	enum wd_kind kind;
	char why[16];
	int timeout;

	while (r->t2p_len != 0) {
		if (step_plain_write(r, why, sizeof(why)) == STEP_FAIL)
			return;
		if (r->t2p_len == 0)
			return;
		pf.fd = r->pfd;
		pf.events = POLLOUT;
		if ((timeout = wd_timeout(w, &kind)) == 0 ||
		    poll(&pf, 1, timeout) == 0)
			return;
	}
}

int
relay_run(struct relay *r, struct wd *w, char *why, size_t whylen)
{
	int rc = 0, step;

	r->p2t = r->t2p = NULL;	/* allocated when data moves */
	while (!relay_done(r)) {
		step = relay_round(r, why, whylen);
		if (step == STEP_FAIL) {
			relay_drain(r, w);
			rc = -1;
			break;
		}
		if (step == STEP_MOVED) {
			wd_progress(w);
			r->released = 0;
			continue;
		}
		if (relay_wait(r, w, why, whylen) < 0) {
			relay_close_notify(r);
			rc = -1;
			break;
		}
	}
	relay_fini(r);
	return rc;
}

void
relay_close_notify(struct relay *r)
{
	if (r->ssl == NULL || !SSL_is_init_finished(r->ssl) ||
	    (r->flags & (RELAY_F_T_SHUT | RELAY_F_T_DIRTY)))
		return;
	ERR_clear_error();
	(void)SSL_shutdown(r->ssl);
	ERR_clear_error();
	r->flags |= RELAY_F_T_SHUT;
}

void
relay_fini(struct relay *r)
{
	if (r->p2t != NULL)
		explicit_bzero(r->p2t, RELAY_P2T_BUF);
	if (r->t2p != NULL)
		explicit_bzero(r->t2p, RELAY_BUF);
	free(r->p2t);
	free(r->t2p);
	r->p2t = r->t2p = NULL;
}

int
relay_pump(struct relay *r, int *moved, char *why, size_t whylen)
{
	int step;

	*moved = 0;
	for (;;) {
		while ((step = relay_round(r, why, whylen)) == STEP_MOVED)
			*moved = 1;
		/* Nothing moves: send what the records collected; if that
		 * made room, the steps may move again. */
		if (step == STEP_FAIL ||
		    (step = step_tls_flush(r, why, whylen)) == STEP_FAIL)
			return -1;
		if (step == STEP_IDLE)
			break;
		*moved = 1;
	}
	if (relay_done(r))
		return RELAY_DONE;
	if (r->p2t_len == 0 && r->t2p_len == 0 &&
	    (r->p2t != NULL || r->t2p != NULL)) {
		/* Nothing in flight: an idle session holds no buffer. */
		free(r->p2t);
		free(r->t2p);
		r->p2t = r->t2p = NULL;
	}
	return RELAY_WAIT;
}

void
relay_unhold(struct relay *r)
{
	r->held = 0;
}

void
relay_ready(struct relay *r, int is_tls, uint32_t events)
{
	unsigned rd = is_tls ? RELAY_R_T_RD : RELAY_R_P_RD;
	unsigned wr = is_tls ? RELAY_R_T_WR : RELAY_R_P_WR;

	/* An error or hang-up is reported by the next call, so it counts as
	 * both. */
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		r->ready |= rd;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		r->ready |= is_tls ? RELAY_R_T_MAYEOF : RELAY_R_P_MAYEOF;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		r->ready |= wr;
}

int
relay_flush(struct relay *r)
{
	char why[16];

	r->edge = 0;	/* called after any event: just try */
	if (r->t2p_len == 0 ||
	    step_plain_write(r, why, sizeof(why)) == STEP_FAIL)
		return 1;
	return r->t2p_len == 0;
}
