/*
 * horeq.h - the hand-off request stage: connections of control services
 * whose request has not fully arrived, read without a thread each. Each
 * waits in one epoll set (edge-triggered) and in a list ordered by its
 * request deadline; a complete request goes to the pool (pool.h,
 * handoff_run); a full pool, a bad request, a client that leaves or one
 * that misses its deadline ends the session here, with its reason
 * logged. So silent or slow clients cost a few hundred bytes each, not a
 * pool thread, and cannot keep others' requests from being served.
 *
 * Runs in: the worker's acceptor thread (acceptor.c) only, but
 * horeq_init, which runs before the sandbox.
 */
#ifndef TLSWARD_HOREQ_H
#define TLSWARD_HOREQ_H

#include <stddef.h>
#include <stdint.h>

struct ho_conn;

/* Creates the epoll set. Before the sandbox. 0 or -1 with err. */
int	horeq_init(char *err, size_t errlen);

/* The epoll descriptor: readable when a waiting connection has news. */
int	horeq_fd(void);

/* Takes over c (handoff_new's) until its request is complete or its
 * session has ended. */
void	horeq_add(struct ho_conn *c);

/* Reads what arrived on the connections with news (epoll_wait without
 * waiting, in batches); hands complete requests to the pool. */
void	horeq_events(void);

/* Ends every connection whose deadline is at or before now_ms (monotonic)
 * with "refused timeout" (handoff_expire). */
void	horeq_expire(int64_t now_ms);

/* Milliseconds from now_ms to the nearest deadline (>= 0), or -1 when no
 * connection waits. */
int	horeq_timeout_ms(int64_t now_ms);

/* Ends every waiting connection with "refused overloaded" and why (the
 * worker stops accepting). */
void	horeq_clear(const char *why);

#endif
