/*
 * evsess.c - server- and client-role sessions as non-blocking state
 * machines (see evsess.h for the contract).
 *
 * Runs in: an event loop thread; a session never moves between loops.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "csc.h"
#include "evpf.h"
#include "evpp.h"
#include "evsess.h"
#include "fwdtarget.h"
#include "log.h"
#include "runtime.h"
#include "sockbio.h"
#include "srclim.h"
#include "stats.h"
#include "tlsverify.h"
#include "util.h"

static void connect_begin(struct esess *e);

#define EVS_EVENTS	(EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)

static int
evs_ctl(struct esess *e, int op, int fd, struct evh *h)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EVS_EVENTS;
	ev.data.ptr = h;
	return epoll_ctl(e->epfd, op, fd, &ev);
}

int
evs_register(struct esess *e, int fd, struct evh *h)
{
	return evs_ctl(e, EPOLL_CTL_ADD, fd, h);
}

int
evs_rearm(struct esess *e, int fd, struct evh *h)
{
	return evs_ctl(e, EPOLL_CTL_MOD, fd, h);
}

int
evs_ssl(struct esess *e, int fd, int is_server, const char *sni)
{
	BIO *bio = sockbio_new(fd);

	if (bio == NULL) {
		snprintf(e->s.why, sizeof(e->s.why), "TLS: out of memory");
		return -1;
	}
	if (sess_ssl(&e->s, e->s.svc->ctx, fd, bio, is_server, sni) < 0)
		return -1;
	e->r.out = bio;
	return 0;
}

struct esess *
evs_new(int epfd, struct rt *rt, size_t svc, int fd,
    const struct sockaddr_storage *peer, struct svc_stats *stats,
    int nodelay)
{
	struct esess *e = xcalloc(1, sizeof(*e));

	e->hpeer.kind = EVH_PEER;
	e->hfwd.kind = EVH_FWD;
	e->epfd = epfd;
	e->rt = rt;
	sess_init(&e->s, rt, svc, fd, peer, stats);
	if (!nodelay && (peer->ss_family == AF_INET ||
	    peer->ss_family == AF_INET6))
		sess_nodelay(fd);
	if (evs_register(e, fd, &e->hpeer) < 0) {
		snprintf(e->s.why, sizeof(e->s.why), "epoll_ctl: %s",
		    strerror(errno));
		sess_finish(&e->s, &e->r, 1);
		evs_free(e);
		return NULL;
	}
	evpp_new(e, peer);
	if ((e->s.svc->pp.accept != 0 ? evpp_accept_start(e) :
	    evs_begin(e)) == EV_FAIL)
		e->state = EVS_FLUSH;	/* nothing to flush: ends */
	return e;
}

int
evs_begin(struct esess *e)
{
	struct sess *s = &e->s;

	if (s->svc->role == SVC_POSTFIX) {
		if (evpf_start(e) < 0)
			return EV_FAIL;
		e->state = EVS_POSTFIX;
		wd_arm(&s->wd, s->handshake_ms, WD_REQUEST);
	} else if (s->svc->role == SVC_SERVER) {
		if (evs_ssl(e, s->peer_fd, 1, NULL) < 0)
			return EV_FAIL;
		e->state = EVS_HANDSHAKE;
		stats_hs_begin(&s->st);
		wd_arm(&s->wd, s->handshake_ms, WD_HANDSHAKE);
	} else
		connect_begin(e);
	return EV_NEXT;
}

void
evs_free(struct esess *e)
{
	evpf_free(e->pf);
	evpp_free(e->pp);
	srclim_release(e->src);
	fwdt_addrs_unref(e->fwd_fa);
	rt_unref(e->rt);
	free(e);
}

const char *
evs_target_text(const struct esess *e)
{
	const struct rt_svc *svc = e->s.svc;

	if (e->fwd_t < svc->nfwdt)
		return svc->fwdt[e->fwd_t].text;
	return svc->fwd_text;
}

/* The targets to try: those not marked down (or due for a retry), in
 * order; if every one is down, all of them in order all the same. */
static uint32_t
targets_to_try(const struct rt_svc *svc)
{
	int64_t now = wd_now_ms();
	uint32_t all = 0, up = 0;
	size_t j;

	for (j = 0; j < svc->nfwdt; j++) {
		all |= 1u << j;
		if (fwdt_usable(&svc->fwdt[j], now))
			up |= 1u << j;
	}
	return up != 0 ? up : all;
}

/* The deadline of one connect attempt: tlsproxy_forward_connect_timeout
 * within what is left of the phase. */
static void
attempt_arm(struct esess *e)
{
	int64_t left = e->connect_end_ms - wd_now_ms();

	if (left < 1)
		left = 1;	/* the phase's deadline, as it was */
	wd_arm(&e->s.wd, left < e->s.svc->connect_ms ? left :
	    e->s.svc->connect_ms, WD_CONNECT);
}

static void
connect_begin(struct esess *e)
{
	e->state = EVS_CONNECT;
	e->fwd_try = targets_to_try(e->s.svc);
	e->connect_end_ms = wd_now_ms() + e->s.handshake_ms;
	attempt_arm(e);
}

/* Every address of the current target failed: it is marked down and the
 * next target is tried. */
static void
target_failed(struct esess *e)
{
	struct sess *s = &e->s;
	struct fwd_target *t = &s->svc->fwdt[e->fwd_t];

	/* A name that does not resolve: the supervisor knows already. */
	if (e->fwd_fa->n > 0)
		fwdt_failed(t, s->svc->name, s->why, wd_now_ms());
	fwdt_addrs_unref(e->fwd_fa);
	e->fwd_fa = NULL;
	e->fwd_try &= ~(1u << e->fwd_t);
}

/* The next address to try, or NULL when no target is left. */
static const struct sockaddr_storage *
next_addr(struct esess *e)
{
	struct sess *s = &e->s;
	size_t j;

	for (;;) {
		if (e->fwd_fa == NULL) {
			for (j = 0; j < s->svc->nfwdt &&
			    !(e->fwd_try & (1u << j)); j++)
				;
			if (j == s->svc->nfwdt)
				return NULL;
			e->fwd_t = j;
			e->fwd_a = 0;
			e->fwd_fa = fwdt_addrs(&s->svc->fwdt[j]);
			if (e->fwd_fa->n == 0)
				snprintf(s->why, sizeof(s->why), "connect to "
				    "%s: the name does not resolve",
				    s->svc->fwdt[j].text);
		}
		if (e->fwd_a < e->fwd_fa->n)
			return &e->fwd_fa->a[e->fwd_a++];
		target_failed(e);
	}
}

/* Starts connecting to the next forward address. EV_NEXT when connected
 * at once, EV_WAIT in progress, EV_FAIL when no address is left. */
static int
connect_next(struct esess *e)
{
	struct sess *s = &e->s;
	const struct sockaddr_storage *ss;
	int fd, on = 1;

	while ((ss = next_addr(e)) != NULL) {
		fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd < 0) {
			snprintf(s->why, sizeof(s->why), "connect to %s: %s",
			    s->svc->fwdt[e->fwd_t].text, strerror(errno));
			continue;
		}
		if (ss->ss_family != AF_UNIX)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
			    sizeof(on));
		s->fwd_fd = fd;
		if (evs_register(e, fd, &e->hfwd) < 0) {
			snprintf(s->why, sizeof(s->why), "epoll_ctl: %s",
			    strerror(errno));
			return EV_FAIL;		/* fwd_fd closes at the end */
		}
		if (connect(fd, (const struct sockaddr *)ss,
		    sess_addr_len(ss)) == 0)
			return EV_NEXT;
		if (errno == EINPROGRESS) {
			e->connecting = 1;
			attempt_arm(e);
			return EV_WAIT;
		}
		snprintf(s->why, sizeof(s->why), "connect to %s: %s",
		    s->svc->fwdt[e->fwd_t].text, strerror(errno));
		e->fwd_timedout = 0;
		close(fd);		/* also leaves the epoll set */
		s->fwd_fd = -1;
	}
	if (s->why[0] == '\0')
		snprintf(s->why, sizeof(s->why), "connect to %s: no address",
		    s->svc->fwd_text);
	stats_end_set(&s->st, e->fwd_timedout ? STATS_END_CONNECT_TIMEOUT :
	    STATS_END_CONNECT_FAILED);
	return EV_FAIL;
}

/* Both sides are up: relay, edge-triggered. The events of both sockets
 * have been recorded since they were registered; what OpenSSL's
 * handshake read or wrote is not known, so the TLS socket is tried once
 * either way, and a freshly connected socket is writable. */
void
evs_relay_begin(struct esess *e, int tfd, int pfd)
{
	e->probe_io = -1;	/* probes are scheduled from the progress */
	e->idle_probed = -1;
	e->r.tfd = tfd;
	e->r.pfd = pfd;
	e->r.ssl = e->s.ssl;
	e->r.edge = 1;
	e->r.ready |= RELAY_R_T_RD | RELAY_R_T_WR | RELAY_R_P_WR;
	e->state = EVS_RELAY;
}

/* A client: the session cache's key is the generation, the service,
 * the server's address (the one just connected to) and the SNI; the
 * rest of the policy is the service's context. */
static void
cache_begin(struct esess *e, const struct sockaddr_storage *to)
{
	struct sess *s = &e->s;
	char gen[16], addr[128];
	const char *w[6];

	if (s->svc->csc_ttl_s <= 0 || to == NULL)
		return;
	snprintf(gen, sizeof(gen), "%u", s->rt->generation);
	w[0] = "client";
	w[1] = gen;
	w[2] = s->svc->name;
	w[3] = sess_addr_text(to, addr, sizeof(addr));
	w[4] = s->svc->sni != NULL ? s->svc->sni : "";
	w[5] = NULL;
	csc_begin(s->ssl, w, s->svc->csc_ttl_s, s->st.svc);
}

/* The state after a connection to the forward target is up. */
static int
connected(struct esess *e)
{
	struct sess *s = &e->s;
	struct sockaddr_storage to;
	int have_to = 0;

	e->connecting = 0;
	wd_disarm(&s->wd);
	if (e->fwd_fa != NULL) {
		if (e->fwd_a > 0) {	/* the address just connected to */
			to = e->fwd_fa->a[e->fwd_a - 1];
			have_to = 1;
		}
		fwdt_succeeded(&s->svc->fwdt[e->fwd_t], s->svc->name);
		fwdt_addrs_unref(e->fwd_fa);
		e->fwd_fa = NULL;
	}
	if (s->svc->role == SVC_SERVER) {
		if (s->svc->pp.send != 0)
			return evpp_send_start(e);
		evs_relay_begin(e, s->peer_fd, s->fwd_fd);
		return EV_NEXT;
	}
	if (evs_ssl(e, s->fwd_fd, 0, s->svc->sni) < 0)
		return EV_FAIL;
	cache_begin(e, have_to ? &to : NULL);
	stats_hs_begin(&s->st);
	wd_arm(&s->wd, s->handshake_ms, WD_HANDSHAKE);
	e->state = EVS_HANDSHAKE;
	return EV_NEXT;
}

static int
step_connect(struct esess *e, int from_fwd, uint32_t events)
{
	struct sess *s = &e->s;
	int err = 0, rc;
	socklen_t elen = sizeof(err);

	if (!e->connecting) {
		if ((rc = connect_next(e)) != EV_NEXT)
			return rc;
		return connected(e);
	}
	if (!from_fwd || !(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		return EV_WAIT;
	/* Writable without an error or hang-up: connected (a refused or
	 * failed connect always reports EPOLLERR). */
	if (!(events & (EPOLLERR | EPOLLHUP)))
		return connected(e);
	if (getsockopt(s->fwd_fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 &&
	    err == 0)
		return connected(e);
	snprintf(s->why, sizeof(s->why), "connect to %s: %s",
	    s->svc->fwdt[e->fwd_t].text, strerror(err != 0 ? err : errno));
	e->fwd_timedout = 0;
	close(s->fwd_fd);
	s->fwd_fd = -1;
	e->connecting = 0;
	return EV_NEXT;		/* the next address, if any */
}

/* The handshake waits for the peer: send it what OpenSSL wrote. */
static int
handshake_send(struct esess *e)
{
	struct sess *s = &e->s;

	int gone;

	if (sockbio_flush(e->r.out) >= 0)
		return EV_WAIT;	/* all sent, or the rest on EPOLLOUT */
	gone = errno == EPIPE || errno == ECONNRESET;
	stats_hs_fail(&s->st, gone ? STATS_HS_PEER_CLOSED : STATS_HS_OTHER);
	stats_end_set(&s->st, gone ? STATS_END_PEER_CLOSED : STATS_END_OTHER);
	snprintf(s->why, sizeof(s->why), "TLS handshake: %s",
	    strerror(errno));
	return EV_FAIL;
}

static int
step_handshake(struct esess *e)
{
	struct sess *s = &e->s;
	int rc, want, is_server = s->svc->role != SVC_CLIENT;

	if (evpp_health_check_over(e))
		return EV_DONE;
	if ((rc = sess_handshake_step(s, &want)) == 0)
		return handshake_send(e);
	if (rc < 0)
		return EV_FAIL;
	if (tlsverify_check(s->ssl, s->svc, s->why, sizeof(s->why)) < 0) {
		stats_end_set(&s->st, STATS_END_TLS_ERROR);
		return EV_FAIL;
	}
	wd_disarm(&s->wd);
	if (!is_server)
		csc_verified(s->ssl);
	sess_established(s, is_server, is_server ? s->peer :
	    evs_target_text(e));
	/* What the handshake left collected: a TLS 1.3 server's session
	 * tickets, which wait for the first data (EVS_TICKET_MS at most);
	 * else a Finished the peer waits for (ours as a client, a TLS 1.2
	 * server's), which goes now. A send error shows in the relay. */
	if (is_server && SSL_version(s->ssl) == TLS1_3_VERSION &&
	    (e->r.held = sockbio_pending(e->r.out)) > 0)
		e->ticket_due = wd_now_ms() + EVS_TICKET_MS;
	else
		(void)sockbio_flush(e->r.out);
	if (s->svc->role == SVC_POSTFIX)
		return evpf_established(e);
	if (is_server) {
		connect_begin(e);
		return EV_NEXT;
	}
	evs_relay_begin(e, s->fwd_fd, s->peer_fd);
	return EV_NEXT;
}

static int
step_relay(struct esess *e)
{
	int moved, rc;

	rc = relay_pump(&e->r, &moved, e->s.why, sizeof(e->s.why));
	if (moved)
		wd_progress(&e->s.wd);
	if (rc < 0) {
		e->state = EVS_FLUSH;
		return EV_NEXT;
	}
	return rc == RELAY_DONE ? EV_DONE : EV_WAIT;
}

/* Ends the session; returns 1 (over). */
static int
evs_end(struct esess *e, int failed)
{
	/* After a failure: an alert or a ticket may still be collected. */
	if (e->r.out != NULL)
		(void)sockbio_flush(e->r.out);
	relay_fini(&e->r);
	sess_finish(&e->s, &e->r, failed);
	e->state = EVS_OVER;
	return 1;
}

/* The failure was a TLS error: the peer may still be sending (its
 * Finished, its first request) when our alert goes out. */
static int
linger_wanted(const struct esess *e)
{
	enum stats_end end = e->s.st.end != STATS_END_OTHER ? e->s.st.end :
	    e->r.end;

	return end == STATS_END_TLS_ERROR && e->s.ssl != NULL &&
	    e->r.out != NULL && SSL_get_fd(e->s.ssl) >= 0;
}

/* After a failure and the delivery of what was decrypted: 1 if the
 * session lingers (EVS_LINGER, to be run at once), 0 to end now. */
static int
linger_start(struct esess *e)
{
	if (!linger_wanted(e))
		return 0;
	relay_unhold(&e->r);
	e->state = EVS_LINGER;
	wd_arm(&e->s.wd, EVS_LINGER_MS, WD_LINGER);
	e->ticket_due = 0;
	return 1;
}

/* EVS_LINGER: sends the alert, shuts our side once it is out, then reads
 * and drops what the peer sends until it closes; never more than
 * EVS_LINGER_BYTES. EV_WAIT, or EV_DONE when the session may close. */
static int
step_linger(struct esess *e)
{
	int fd = SSL_get_fd(e->s.ssl);
	char buf[4096];
	ssize_t n;

	if (sockbio_flush(e->r.out) < 0)
		return EV_DONE;
	if (sockbio_pending(e->r.out) > 0)
		return EV_WAIT;
	if (!(e->r.flags & RELAY_F_T_SHUT)) {
		e->r.flags |= RELAY_F_T_SHUT;
		if (shutdown(fd, SHUT_WR) < 0)
			return EV_DONE;
	}
	while (e->lingered < EVS_LINGER_BYTES) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0)
			e->lingered += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && errno == EAGAIN)
			return EV_WAIT;
		else
			break;		/* closed, or reset */
	}
	return EV_DONE;
}

#ifdef TLSWARD_TEST_HOOKS
/* Test hook: a relaying session ignores its first N input events from
 * the forward side (N: $TLSWARD_TEST_LOSE_EVENTS), as if the kernel had
 * not reported them; only the readiness probes can find that data. */
static int
test_lose(struct esess *e, int from_fwd, uint32_t events)
{
	static int lose = -1;
	const char *v;
	int n = __atomic_load_n(&lose, __ATOMIC_RELAXED);

	if (n < 0) {
		v = getenv("TLSWARD_TEST_LOSE_EVENTS");
		n = v != NULL ? atoi(v) : 0;
		__atomic_store_n(&lose, n, __ATOMIC_RELAXED);
	}
	if (e->state != EVS_RELAY || !from_fwd || !(events & EPOLLIN) ||
	    e->test_lost >= n)
		return 0;
	e->test_lost++;
	return 1;
}
#endif

int
evs_drive(struct esess *e, int from_fwd, uint32_t events)
{
	int rc;

#ifdef TLSWARD_TEST_HOOKS
	if (test_lose(e, from_fwd, events))
		return 0;
#endif
	if (events != 0)	/* in every state: see relay_ready */
		relay_ready(&e->r, from_fwd == (e->s.svc->role != SVC_SERVER),
		    events);
	for (;;) {
		switch (e->state) {
		case EVS_PROXY_IN:
			rc = evpp_accept_step(e);
			break;
		case EVS_PROXY_OUT:
			rc = evpp_send_step(e);
			break;
		case EVS_POSTFIX:
			rc = evpf_step(e, from_fwd, events);
			break;
		case EVS_CONNECT:
			rc = step_connect(e, from_fwd, events);
			break;
		case EVS_HANDSHAKE:
			rc = step_handshake(e);
			break;
		case EVS_RELAY:
			rc = step_relay(e);
			break;
		case EVS_FLUSH:
			if (!relay_flush(&e->r))
				return 0;
			if (!linger_start(e))
				return evs_end(e, 1);
			continue;	/* the alert goes now */
		case EVS_LINGER:
			if (step_linger(e) == EV_WAIT)
				return 0;
			return evs_end(e, 1);
		default:
			return 1;
		}
		if (rc == EV_WAIT)
			return 0;
		if (rc == EV_DONE)
			return evs_end(e, 0);
		if (rc == EV_FAIL) {
			e->state = EVS_FLUSH;
			continue;
		}
		events = 0;	/* EV_NEXT: the event was for the last state */
	}
}

/* When a relaying session probes next (see EVS_PROBE_FIRST_MS). */
static int64_t
probe_due(const struct esess *e)
{
	if (e->probe_io != e->s.wd.last_io_ms)	/* it moved since */
		return e->s.wd.last_io_ms + EVS_PROBE_FIRST_MS;
	return e->probe_next;
}

/* Re-arms both descriptors: readiness they have now is reported again
 * by the next epoll_wait. */
static void
probe(struct esess *e)
{
	struct sess *s = &e->s;
	int64_t now = wd_now_ms();

	if (e->probe_io != s->wd.last_io_ms) {
		e->probe_io = s->wd.last_io_ms;
		e->probe_gap = EVS_PROBE_FIRST_MS;
	}
	e->probe_gap = e->probe_gap * 2 > EVS_PROBE_MAX_MS ?
	    EVS_PROBE_MAX_MS : e->probe_gap * 2;
	e->probe_next = now + e->probe_gap;
	(void)evs_rearm(e, s->peer_fd, &e->hpeer);
	if (s->fwd_fd >= 0)
		(void)evs_rearm(e, s->fwd_fd, &e->hfwd);
}

int64_t
evs_deadline(const struct esess *e)
{
	enum wd_kind kind;
	int64_t due = wd_now_ms() + wd_timeout(&e->s.wd, &kind), p;

	if (e->state == EVS_RELAY) {
		p = probe_due(e);
		/* Past the idle deadline, the verdict waits for the answer
		 * to the probe made there (evs_expire). */
		if (p < due || (kind == WD_IDLE &&
		    e->idle_probed == e->s.wd.last_io_ms))
			due = p;
	}
	return e->ticket_due != 0 && e->ticket_due < due ? e->ticket_due : due;
}

/* The session ticket waited long enough: it goes now (a relay that
 * would wait sends it; a session not yet relaying sends it when it
 * starts). 1 if the session ended meanwhile. */
static int
ticket_expire(struct esess *e)
{
	e->ticket_due = 0;
	relay_unhold(&e->r);
	if (e->state != EVS_RELAY)
		return 0;
	return evs_drive(e, 0, 0);
}

/* A connect attempt's deadline passed: the next address or target,
 * while the phase lasts; 1 if the session ended. */
static int
attempt_expired(struct esess *e)
{
	struct sess *s = &e->s;
	int over = wd_now_ms() >= e->connect_end_ms;

	snprintf(s->why, sizeof(s->why), "connect to %s: timed out",
	    s->svc->fwdt[e->fwd_t].text);
	close(s->fwd_fd);	/* also leaves the epoll set */
	s->fwd_fd = -1;
	e->connecting = 0;
	e->fwd_timedout = 1;
	if (!over)
		return evs_drive(e, 0, 0);	/* the next address */
	if (e->fwd_fa != NULL)
		target_failed(e);
	sess_timeout(s, WD_CONNECT);
	return evs_end(e, 1);
}

int
evs_expire(struct esess *e)
{
	enum wd_kind kind;
	struct sess *s = &e->s;

	if (e->state == EVS_OVER)
		return 0;
	if (e->ticket_due != 0 && e->ticket_due <= wd_now_ms() &&
	    ticket_expire(e))
		return 1;
	if (e->state == EVS_RELAY && probe_due(e) <= wd_now_ms())
		probe(e);
	if (wd_timeout(&s->wd, &kind) > 0)
		return 0;
	if (e->state == EVS_RELAY && kind == WD_IDLE &&
	    e->idle_probed != s->wd.last_io_ms) {
		/* Idle by our events: the last word is the kernel's. */
		e->idle_probed = s->wd.last_io_ms;
		probe(e);
		e->probe_next = wd_now_ms() + 1;  /* after the next poll */
		return 0;
	}
	if (e->state == EVS_LINGER)	/* the failure is logged as it was */
		return evs_end(e, 1);
	if (e->state == EVS_CONNECT && kind == WD_CONNECT && e->connecting)
		return attempt_expired(e);
	sess_timeout(s, kind);
	if (e->state == EVS_HANDSHAKE)
		sess_handshake_timeout(s);
	if (e->state == EVS_RELAY)
		relay_close_notify(&e->r);	/* evs_end flushes it */
	return evs_end(e, 1);
}
