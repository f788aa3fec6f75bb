/*
 * session.c - server and client role sessions.
 *
 * Runs in: worker session threads. Each session owns its sockets, its SSL
 * and its watchdog; it borrows the generation (struct rt) it started with.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "handoff.h"
#include "log.h"
#include "relay.h"
#include "runtime.h"
#include "session.h"
#include "stats.h"
#include "tlsinfo.h"
#include "tlsverify.h"
#include "util.h"
#include "watchdog.h"

static uint64_t sess_ids;

const char *
sess_addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else if (ss->ss_family == AF_UNIX) {
		snprintf(buf, len, "local");
	} else
		snprintf(buf, len, "unknown");
	return buf;
}

static socklen_t
addr_len(const struct sockaddr_storage *ss)
{
	switch (ss->ss_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return sizeof(struct sockaddr_un);
	}
}

int
sess_wait(struct sess *s, int fd, short events)
{
	struct pollfd pf = { fd, events, 0 };
	const char *reason;
	int timeout, n;

	for (;;) {
		if ((timeout = wd_timeout(&s->wd, &reason)) == 0) {
			snprintf(s->why, sizeof(s->why), "%s", reason);
			return -1;
		}
		n = poll(&pf, 1, timeout);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR) {
			snprintf(s->why, sizeof(s->why), "poll: %s",
			    strerror(errno));
			return -1;
		}
	}
}

/* Non-blocking connect to one address within the phase deadline. */
static int
connect_one(struct sess *s, const struct sockaddr_storage *ss)
{
	int fd, err = 0, on = 1;
	socklen_t elen = sizeof(err);

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		return -1;
	if (ss->ss_family != AF_UNIX)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(fd, (const struct sockaddr *)ss, addr_len(ss)) == 0)
		return fd;
	if (errno == EINPROGRESS && sess_wait(s, fd, POLLOUT) == 1 &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0)
		return fd;
	if (err != 0)
		errno = err;
	if (s->why[0] == '\0')
		snprintf(s->why, sizeof(s->why), "connect to %s: %s",
		    s->svc->fwd_text, strerror(errno));
	close(fd);
	return -1;
}

/* Connects to the forward target, trying each address. */
static int
sess_connect(struct sess *s)
{
	size_t i;

	wd_arm(&s->wd, s->svc->handshake_ms);
	for (i = 0; i < s->svc->nfwd && s->fwd_fd < 0; i++) {
		s->why[0] = '\0';
		s->fwd_fd = connect_one(s, &s->svc->fwd[i]);
	}
	wd_disarm(&s->wd);
	if (s->fwd_fd < 0 && s->why[0] == '\0')
		snprintf(s->why, sizeof(s->why), "connect to %s: no address",
		    s->svc->fwd_text);
	return s->fwd_fd < 0 ? -1 : 0;
}

int
sess_handshake(struct sess *s, int fd)
{
	char tls[512];
	int n, e;

	wd_arm(&s->wd, s->handshake_ms);
	for (;;) {
		ERR_clear_error();
		if ((n = SSL_do_handshake(s->ssl)) == 1)
			break;
		e = SSL_get_error(s->ssl, n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (sess_wait(s, fd, e == SSL_ERROR_WANT_READ ? POLLIN :
			    POLLOUT) < 0) {
				strncat(s->why, " in TLS handshake",
				    sizeof(s->why) - strlen(s->why) - 1);
				stats_hs_fail(&s->st, STATS_HS_TIMEOUT);
				return -1;
			}
			continue;
		}
		stats_hs_fail(&s->st, stats_hs_reason(e));
		if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
			snprintf(s->why, sizeof(s->why), "TLS handshake: %s",
			    errno ? strerror(errno) : "lost connection");
		else
			snprintf(s->why, sizeof(s->why), "TLS handshake: %s",
			    log_tls_errors(tls, sizeof(tls)));
		return -1;
	}
	wd_disarm(&s->wd);
	return 0;
}

void
sess_established(struct sess *s, int is_server, const char *where)
{
	char text[1024];

	stats_hs_ok(&s->st);
	tlsinfo_established(s->ssl, is_server, text, sizeof(text));
	log_info("sess=%llu service=%s: %s %s %s: %s",
	    (unsigned long long)s->id, s->svc->name,
	    tlsinfo_trust(s->ssl), is_server ? "TLS connection established from" :
	    "TLS connection established to", where, text);
}

int
sess_ssl(struct sess *s, SSL_CTX *ctx, int fd, int is_server,
    const char *sni)
{
	char tls[512];

	if ((s->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(s->ssl, fd) != 1) {
		snprintf(s->why, sizeof(s->why), "SSL_new: %s",
		    log_tls_errors(tls, sizeof(tls)));
		return -1;
	}
	/* SSL_set_fd's socket BIO does not close fd: the session does. */
	if (is_server)
		SSL_set_accept_state(s->ssl);
	else {
		SSL_set_connect_state(s->ssl);
		if (sni != NULL)
			SSL_set_tlsext_host_name(s->ssl, sni);
	}
	return 0;
}

/* server role: TLS from the peer, then plaintext to the target. */
static int
sess_server(struct sess *s, struct relay *r)
{
	if (sess_ssl(s, s->svc->ctx, s->peer_fd, 1, NULL) < 0 ||
	    sess_handshake(s, s->peer_fd) < 0)
		return -1;
	if (tlsverify_check(s->ssl, s->svc, s->why, sizeof(s->why)) < 0)
		return -1;
	sess_established(s, 1, s->peer);
	if (sess_connect(s) < 0)
		return -1;
	r->tfd = s->peer_fd;
	r->pfd = s->fwd_fd;
	return 0;
}

/* client role: plaintext from the peer, TLS to the target. */
static int
sess_client(struct sess *s, struct relay *r)
{
	if (sess_connect(s) < 0 ||
	    sess_ssl(s, s->svc->ctx, s->fwd_fd, 0, s->svc->sni) < 0 ||
	    sess_handshake(s, s->fwd_fd) < 0 ||
	    tlsverify_check(s->ssl, s->svc, s->why, sizeof(s->why)) < 0)
		return -1;
	sess_established(s, 0, s->svc->fwd_text);
	r->tfd = s->fwd_fd;
	r->pfd = s->peer_fd;
	return 0;
}

static void
sess_close(struct sess *s, const struct relay *r, int failed)
{
	int64_t ms = wd_now_ms() - s->wd.start_ms;

	if (failed)
		log_info("sess=%llu service=%s: %s: %s",
		    (unsigned long long)s->id, s->svc->name, s->peer, s->why);
	log_info("sess=%llu service=%s: DISCONNECT %s in=%llu out=%llu "
	    "time=%lld.%03llds%s", (unsigned long long)s->id, s->svc->name,
	    s->peer, (unsigned long long)r->from_tls,
	    (unsigned long long)r->to_tls, (long long)(ms / 1000),
	    (long long)(ms % 1000),
	    (r->flags & RELAY_F_T_DIRTY) ? " (peer closed without "
	    "close_notify)" : "");
	SSL_free(s->ssl);
	if (s->fwd_fd >= 0)
		close(s->fwd_fd);
	close(s->peer_fd);
}

/* Small TLS records (the session tickets after a TLS 1.3 handshake, a
 * short response) must not wait for the peer's delayed ACK: without
 * TCP_NODELAY a 40 ms stall per connection is the norm. */
static void
sess_nodelay(int fd, const struct sockaddr_storage *peer)
{
	int on = 1;

	if (peer->ss_family == AF_INET || peer->ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

void
sess_run(struct pool_job *job)
{
	struct sess s;
	struct relay r;
	int rc;

	memset(&s, 0, sizeof(s));
	memset(&r, 0, sizeof(r));
	s.id = __atomic_add_fetch(&sess_ids, 1, __ATOMIC_RELAXED);
	s.rt = job->rt;
	s.svc = &job->rt->svcs[job->svc];
	s.handshake_ms = s.svc->handshake_ms;
	s.peer_fd = job->fd;
	s.fwd_fd = -1;
	sess_addr_text(&job->peer, s.peer, sizeof(s.peer));
	wd_init(&s.wd, s.svc->idle_ms, s.svc->life_ms);
	stats_sess_start(&s.st, job->stats);
	sess_nodelay(s.peer_fd, &job->peer);
	/* Every log line is a datagram to the supervisor: CONNECT only when
	 * asked for (loglevel 2); DISCONNECT and failures always. */
	if (s.svc->loglevel >= 2)
		log_info("sess=%llu service=%s: CONNECT from %s",
		    (unsigned long long)s.id, s.svc->name, s.peer);
	rc = s.svc->role == SVC_SERVER ? sess_server(&s, &r) :
	    s.svc->role == SVC_CLIENT ? sess_client(&s, &r) :
	    handoff_serve(&s, &r);
	if (rc == 0) {
		r.ssl = s.ssl;
		rc = relay_run(&r, &s.wd, s.why, sizeof(s.why));
	}
	stats_sess_end(&s.st, s.ssl, r.from_tls, r.to_tls);
	sess_close(&s, &r, rc < 0);
	rt_unref(job->rt);
}
