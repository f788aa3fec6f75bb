/*
 * session.c - what every session has: set-up, handshake steps, the log
 * lines, the end (the hand-off session itself is handoff.c's).
 *
 * Runs in: pool threads (hand-off sessions) and event loops (server and
 * client roles, evsess.c). Each session owns its sockets, its SSL and its
 * watchdog; it borrows the generation (struct rt) it started with.
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

#include "jsonlog.h"
#include "log.h"
#include "relay.h"
#include "runtime.h"
#include "session.h"
#include "sni.h"
#include "tlspolicy.h"
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

socklen_t
sess_addr_len(const struct sockaddr_storage *ss)
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
	enum wd_kind kind;
	int timeout, n;

	for (;;) {
		if ((timeout = wd_timeout(&s->wd, &kind)) == 0) {
			sess_timeout(s, kind);
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

void
sess_linger(struct sess *s, int fd)
{
	int64_t end = wd_now_ms() + SESS_LINGER_MS, left;
	struct pollfd pf = { fd, POLLIN, 0 };
	size_t dropped = 0;
	char buf[4096];
	ssize_t n;

	if (s->st.end != STATS_END_TLS_ERROR || fd < 0 ||
	    shutdown(fd, SHUT_WR) < 0)
		return;
	while (dropped < SESS_LINGER_BYTES &&
	    (left = end - wd_now_ms()) > 0) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0)
			dropped += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			return;		/* closed, or reset */
		else if (errno == EAGAIN && poll(&pf, 1, (int)left) < 0 &&
		    errno != EINTR)
			return;
	}
}

int
sess_handshake_step(struct sess *s, int *want)
{
	char tls[512];
	enum stats_hs why;
	int n, e;

	ERR_clear_error();
	if ((n = SSL_do_handshake(s->ssl)) == 1)
		return 1;
	e = SSL_get_error(s->ssl, n);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		*want = e;
		return 0;
	}
	why = stats_hs_reason(e);
	stats_hs_fail(&s->st, why);
	stats_end_set(&s->st, why == STATS_HS_PEER_CLOSED ?
	    STATS_END_PEER_CLOSED : STATS_END_TLS_ERROR);
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		snprintf(s->why, sizeof(s->why), "TLS handshake: %s",
		    errno ? strerror(errno) : "lost connection");
	else
		snprintf(s->why, sizeof(s->why), "TLS handshake: %s",
		    log_tls_errors(tls, sizeof(tls)));
	return -1;
}

void
sess_timeout(struct sess *s, enum wd_kind kind)
{
	if (kind == WD_CONNECT && s->svc->fwd_text != NULL)
		snprintf(s->why, sizeof(s->why), "connect to %s: timed out",
		    s->svc->fwd_text);
	else
		snprintf(s->why, sizeof(s->why), "%s", wd_text(kind));
	stats_end_set(&s->st, stats_end_of_wd(kind));
}

void
sess_handshake_timeout(struct sess *s)
{
	stats_hs_fail(&s->st, STATS_HS_TIMEOUT);
}

int
sess_handshake(struct sess *s, int fd)
{
	int rc, want;

	stats_hs_begin(&s->st);
	wd_arm(&s->wd, s->handshake_ms, WD_HANDSHAKE);
	while ((rc = sess_handshake_step(s, &want)) == 0) {
		if (sess_wait(s, fd, want == SSL_ERROR_WANT_READ ? POLLIN :
		    POLLOUT) < 0) {
			sess_handshake_timeout(s);
			return -1;
		}
	}
	if (rc < 0)
		return -1;
	wd_disarm(&s->wd);
	return 0;
}

void
sess_established(struct sess *s, int is_server, const char *where)
{
	const char *sni = NULL;
	char text[1024];

	stats_hs_ok(&s->st);
	if (!s->svc->session_log || s->svc->log_json)
		return;
	if (is_server)	/* as Postfix: "from ADDR to NAME" */
		sni = sni_matched(s->ssl);
	tlsinfo_established(s->ssl, is_server, text, sizeof(text));
	log_info("sess=%llu service=%s: %s %s %s%s%s: %s",
	    (unsigned long long)s->id, s->svc->name,
	    tlsinfo_trust(s->ssl), is_server ? "TLS connection established from" :
	    "TLS connection established to", where, sni != NULL ? " to " : "",
	    sni != NULL ? sni : "", text);
}

int
sess_ssl(struct sess *s, SSL_CTX *ctx, int fd, BIO *bio, int is_server,
    const char *sni)
{
	char tls[512];

	if ((s->ssl = SSL_new(ctx)) == NULL ||
	    (bio == NULL && SSL_set_fd(s->ssl, fd) != 1)) {
		snprintf(s->why, sizeof(s->why), "SSL_new: %s",
		    log_tls_errors(tls, sizeof(tls)));
		BIO_free(bio);
		return -1;
	}
	/* Neither BIO closes fd: the session does. */
	if (bio != NULL)
		SSL_set_bio(s->ssl, bio, bio);	/* s->ssl owns bio */
	if (s->svc->loglevel >= 2)	/* the handshake lines name it */
		tlspol_peer(s->ssl)->sess_id = s->id;
	if (is_server && s->svc->sni_map != NULL)	/* its lines name it */
		sni_set_client(s->ssl, s->peer, s->id);
	if (is_server)
		SSL_set_accept_state(s->ssl);
	else {
		SSL_set_connect_state(s->ssl);
		if (sni != NULL)
			SSL_set_tlsext_host_name(s->ssl, sni);
	}
	return 0;
}

/* Small TLS records (the session tickets after a TLS 1.3 handshake, a
 * short response) must not wait for the peer's delayed ACK: without
 * TCP_NODELAY a 40 ms stall per connection is the norm. Sockets accepted
 * on a TCP listener inherit it from the listener (lset.c); this is for
 * the others. Not a TCP socket: nothing to do. */
void
sess_nodelay(int fd)
{
	int on = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

void
sess_init(struct sess *s, const struct rt *rt, size_t svc, int fd,
    const struct sockaddr_storage *peer, struct svc_stats *stats)
{
	memset(s, 0, sizeof(*s));
	s->id = __atomic_add_fetch(&sess_ids, 1, __ATOMIC_RELAXED);
	s->rt = rt;
	s->svc = &rt->svcs[svc];
	s->handshake_ms = s->svc->handshake_ms;
	s->peer_fd = fd;
	s->fwd_fd = -1;
	sess_addr_text(peer, s->peer, sizeof(s->peer));
	wd_init(&s->wd, s->svc->idle_ms, s->svc->life_ms);
	stats_sess_start(&s->st, stats);
	/* Log lines go to the supervisor: CONNECT only when asked for
	 * (loglevel 2); the established and DISCONNECT lines unless
	 * tlsproxy_session_log is off; failures always. */
	if (s->svc->loglevel >= 2)
		log_info("sess=%llu service=%s: CONNECT from %s",
		    (unsigned long long)s->id, s->svc->name, s->peer);
}

/* The end of a session in the log: why it failed, and the DISCONNECT line
 * with what it carried. */
static void
sess_log_end(const struct sess *s, const struct relay *r, int failed)
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
}

void
sess_finish(struct sess *s, const struct relay *r, int failed)
{
	enum stats_end end = stats_sess_end(&s->st, s->ssl, r->from_tls,
	    r->to_tls, failed, r->end);

	if (!failed && !s->svc->session_log)
		;	/* only failures are logged */
	else if (s->svc->log_json)
		jsonlog_session(s, r, failed, end);
	else
		sess_log_end(s, r, failed);
	SSL_free(s->ssl);
	if (s->fwd_fd >= 0)
		close(s->fwd_fd);
	close(s->peer_fd);
}

