/*
 * evsess.h - a server- or client-role session as a state machine driven
 * by an event loop: connect, TLS handshake, relay, each step
 * non-blocking, each phase under the session's own watchdog deadlines.
 *
 * Runs in: one event loop thread (evloop.c) for the whole life of the
 * session. Both sockets are registered edge-triggered for input and
 * output; on any event on either, evs_drive runs the current state until
 * it has to wait (every call saw EAGAIN or has nothing to do), so no
 * interest set is ever changed.
 *
 * Semantics are those of the blocking sessions they replace: server role
 * = TLS handshake with the peer, level check, "established" line, then
 * connect to the forward target (each target that is not marked down, in
 * order, each of its addresses in turn), then relay; client role =
 * connect, handshake with SNI, verification, relay. Connect and
 * handshake each get tlsproxy_handshake_timeout, and one connect attempt
 * tlsproxy_forward_connect_timeout within it; the relay the idle and
 * lifetime limits. A failure logs its reason, and after a
 * TLS error the relay first delivers what was already decrypted.
 */
#ifndef TLSWARD_EVSESS_H
#define TLSWARD_EVSESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "relay.h"
#include "session.h"

struct rt;
struct svc_stats;
struct evpf;
struct evpp;
struct srclim_ent;
struct fwd_addrs;

/* What an epoll event's data.ptr points at: the first member of a
 * loop's wake-up handle, a listener handle, or a session's hpeer/hfwd. */
enum evh_kind { EVH_WAKE, EVH_LISTEN, EVH_PEER, EVH_FWD };
struct evh {
	enum evh_kind	 kind;
};

enum evs_state {
	EVS_PROXY_IN,		/* reading a load balancer's PROXY header */
	EVS_POSTFIX,		/* postfix role: tlsproxy(8)'s set-up (evpf.c) */
	EVS_CONNECT,		/* connecting to the forward target */
	EVS_HANDSHAKE,		/* TLS handshake */
	EVS_PROXY_OUT,		/* sending the PROXY header to the backend */
	EVS_RELAY,		/* two-way relay */
	EVS_FLUSH,		/* after a failure: delivering decrypted data */
	EVS_LINGER,		/* after a TLS error: the alert out, our side
				 * shut, the peer's bytes read and dropped
				 * until it closes (EVS_LINGER_MS at most) */
	EVS_OVER,		/* finished; freed by the loop */
};

struct esess {
	struct evh	 hpeer;		/* data.ptr of peer_fd's events */
	struct evh	 hfwd;		/* data.ptr of fwd_fd's events */
	struct sess	 s;
	struct relay	 r;
	enum evs_state	 state;
	int		 epfd;		/* the loop's epoll instance */
	uint32_t	 fwd_try;	/* forward targets still to try
					 * (bit J: svc->fwdt[J]) */
	size_t		 fwd_t;		/* the target being tried */
	struct fwd_addrs *fwd_fa;	/* its addresses (reference owned),
					 * or NULL between targets */
	size_t		 fwd_a;		/* next address in fwd_fa */
	int64_t		 connect_end_ms; /* the whole connect phase */
	int		 fwd_timedout;	/* the last attempt timed out */
	int		 connecting;	/* fwd_fd: connect in progress */
	struct rt	*rt;		/* generation (reference owned) */
	int64_t		 due;		/* timer key (evloop.c), <= the
					 * watchdog's nearest deadline */
	size_t		 hidx;		/* index in the loop's timer heap */
	struct evpf	*pf;		/* postfix role: the set-up's state */
	struct evpp	*pp;		/* PROXY protocol (evpp.c), or NULL
					 * when the service uses none */
	struct srclim_ent *src;		/* its per-source count, or NULL */
	struct esess	*hq_next;	/* the loop's handshake queue */
	struct esess	*hq_prev;
	int		 hq_in;		/* in it */
	uint32_t	 hq_peer_ev;	/* events recorded while queued */
	uint32_t	 hq_fwd_ev;
	int64_t		 ticket_due;	/* a TLS 1.3 ticket waits in r.out
					 * until then at most, or 0 */
	size_t		 lingered;	/* bytes dropped in EVS_LINGER */
	int64_t		 probe_io;	/* s.wd.last_io_ms when the probes
					 * below were scheduled */
	int64_t		 probe_next;	/* the next readiness probe */
	int64_t		 probe_gap;	/* ... comes this long after the last */
	int64_t		 idle_probed;	/* s.wd.last_io_ms of the idle
					 * deadline's last probe, or -1 */
#ifdef TLSWARD_TEST_HOOKS
	int		 test_lost;	/* input events dropped on purpose */
#endif
};

/* A TLS 1.3 server's session ticket waits for the first application
 * data, to leave in the same segment; at most this long, so a client that
 * sends nothing or waits for it (to resume later) still gets it. Short,
 * well under TCP's 40 ms delayed ACK: a client without TCP_NODELAY sends
 * its request only once its Finished is acknowledged, and the ticket
 * carries that acknowledgement (with 50 ms, such clients waited ~45 ms). */
#define EVS_TICKET_MS	2

/* A relaying session that waits re-arms its two descriptors in the
 * epoll set (EPOLL_CTL_MOD: any readiness they have is reported again)
 * this long after its last progress, then at doubling gaps up to the
 * maximum, and once more before its idle deadline ends it. Insurance
 * against an edge-triggered wake-up that never comes: under heavy CPU
 * starvation the build machine's kernel (6.18) was seen not to report
 * data that arrived after the relay had read a socket empty, and the
 * session sat with the data unread until its idle timeout. A probe
 * costs two system calls; an idle session makes a few dozen an hour. */
#define EVS_PROBE_FIRST_MS	1000
#define EVS_PROBE_MAX_MS	64000

/* After a TLS error: see SESS_LINGER_MS (session.h). */
#define EVS_LINGER_MS		SESS_LINGER_MS
#define EVS_LINGER_BYTES	SESS_LINGER_BYTES

/* A session for connection fd (non-blocking) from peer, accepted for
 * service svc of rt (the reference moves in), registered with epfd;
 * nodelay: fd has TCP_NODELAY already (inherited from its listener). NULL
 * if the connection could not be registered (fd is closed, rt dropped,
 * and the failure logged). Call evs_drive next. */
struct esess	*evs_new(int epfd, struct rt *rt, size_t svc, int fd,
		    const struct sockaddr_storage *peer,
		    struct svc_stats *stats, int nodelay);

/* Runs the session after an event (from_fwd: on fwd_fd; events: the
 * epoll bits) or, with events 0, at its start. Returns 1 when the session
 * is over: logged, counters updated, descriptors closed; the caller frees
 * it with evs_free after its current batch of events. 0 to wait. */
int		 evs_drive(struct esess *e, int from_fwd, uint32_t events);

/* The nearest deadline (monotonic ms, wd_now_ms): the watchdog's, or
 * the end of a session ticket's wait. */
int64_t		 evs_deadline(const struct esess *e);

/* The timer fired: 1 if a deadline really passed (the session is over
 * as with evs_drive), 0 if progress moved it (see evs_deadline) or only
 * a waiting session ticket was due (it is sent). */
int		 evs_expire(struct esess *e);

/* Frees an over session, drops its generation and its per-source
 * count. */
void		 evs_free(struct esess *e);

/* For the postfix role's steps (evpf.c), which run inside evs_drive:
 * step results, and the pieces of a session they share with evsess.c. */
#define EV_WAIT		0	/* wait for an event */
#define EV_NEXT		1	/* the state changed: run the new one */
#define EV_FAIL		(-1)	/* over, s.why set */
#define EV_DONE		2	/* over, normally */

/* The forward target the session connects or connected to (the first
 * before it tried one), as written in services.cf; the forward column
 * for a service without targets. */
const char	*evs_target_text(const struct esess *e);

/* Registers fd (peer_fd or fwd_fd, handle h) with the loop's epoll set. */
int	evs_register(struct esess *e, int fd, struct evh *h);

/* The same, registered already: what fd is ready for now is reported
 * again (EPOLL_CTL_MOD). */
int	evs_rearm(struct esess *e, int fd, struct evh *h);

/* The session's SSL on fd with a sockbio the relay sends from. */
int	evs_ssl(struct esess *e, int fd, int is_server, const char *sni);

/* The role's first step (the postfix set-up, the server's handshake,
 * the client's connect) with its deadline: EV_NEXT, or EV_FAIL. After a
 * PROXY header (evpp.c), or at once. */
int	evs_begin(struct esess *e);

/* Both sides are up: relay between tfd (TLS) and pfd (plaintext). */
void	evs_relay_begin(struct esess *e, int tfd, int pfd);

#endif
