/*
 * handoff.h - a session of a control service: the hand-off of one
 * application's peer socket (tlsward-handoff(7)), in two stages. The
 * request is read without a thread of its own (the acceptor's request
 * stage, horeq.h, calls handoff_read when the connection is readable);
 * only a complete request goes to a pool thread (handoff_run), for the
 * answer, the descriptor, the handshake, the report and the relay.
 *
 * Runs in: the acceptor thread (handoff_new up to handoff_read's 1, or
 * to the session's end) and then one pool thread (handoff_run). Uses
 * session.c's building blocks (deadlines, handshake, established line),
 * control.c's protocol pieces and tlspolicy.c's per-session policy.
 */
#ifndef TLSWARD_HANDOFF_H
#define TLSWARD_HANDOFF_H

#include <stdint.h>
#include <sys/socket.h>

#include "control.h"

struct rt;
struct svc_stats;
struct ho_conn;

/* A new hand-off session on the accepted connection fd (taken over),
 * for service svc of rt (the reference is taken over), with its request
 * deadline (the service's tlsproxy_handshake_timeout) armed. It takes a
 * place in tlsproxy_max_sessions (evloop_session_take); when none is
 * left it answers "refused overloaded", logs (rate-limited), releases
 * everything and returns NULL. */
struct ho_conn	*handoff_new(struct rt *rt, size_t svc, int fd,
		    const struct sockaddr_storage *peer,
		    struct svc_stats *stats);

/* The connection, for the request stage's poll set. */
int		 handoff_fd(const struct ho_conn *c);

/* When the request deadline (or another of the session's deadlines)
 * passes: monotonic ms (wd_now_ms). */
int64_t		 handoff_due_ms(const struct ho_conn *c);

/* Reads what has arrived of the request without blocking, and nothing
 * beyond it (the descriptor message must stay in the socket). 1: the
 * request is complete (hand c to handoff_run); 0: more is needed (call
 * again when the connection is readable; until then nothing is buffered
 * beyond a first read); -1: the session ends here (a bad request was
 * answered, or the client is gone): take c out of the poll set, then
 * handoff_close it. */
int		 handoff_read(struct ho_conn *c);

/* Ends c before it is served: logs the session's end (why it failed),
 * closes the connection, frees c. */
void		 handoff_close(struct ho_conn *c);

/* handoff_close after answering "refused r text" (best effort); an
 * overloaded refusal counts in the service's refused sessions. */
void		 handoff_refuse(struct ho_conn *c, enum ctl_refusal r,
		    const char *text);

/* The request deadline has passed: counts the ending as a request
 * timeout and refuses with "timeout" (handoff_refuse). */
void		 handoff_expire(struct ho_conn *c);

/* The pool's job function (pool_fn) for a c whose handoff_read said 1:
 * parses and decides, answers, receives the peer's socket, runs the TLS
 * handshake on it in the requested role, checks the level, reports the
 * outcome when asked, relays, then logs the end and frees c. Every wait
 * before the handshake is bounded by the control service's
 * tlsproxy_handshake_timeout counted from accept; the handshake by the
 * profile's. */
void		 handoff_run(void *c);

#endif
