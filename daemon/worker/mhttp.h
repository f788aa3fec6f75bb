/*
 * mhttp.h - the metrics endpoint: a minimal HTTP/1.x server on the
 * listener of tlsproxy_metrics_listen that answers "GET /metrics" with
 * the exposition (metrics.h) and closes.
 *
 * Runs in: the worker's control thread, which polls the supervisor's
 * socket and these descriptors together (worker.c); every socket is
 * non-blocking, so a client can delay nothing but itself.
 *
 * Bounds, for clients that misbehave: at most MHTTP_MAX_CONNS
 * connections; when they are all open, a new one takes the place of the
 * oldest that has not sent its request yet if that one has had
 * MHTTP_EVICT_AGE_MS (so idle connections cannot shut a scraper out for
 * long), else it is closed at once; a request of at
 * most MHTTP_MAX_REQUEST bytes (more: 431 and close), MHTTP_DEADLINE_MS
 * from accept to the last byte of the answer (then closed, whatever the
 * state). Only GET (and HEAD) of /metrics: 200; another path 404,
 * another method 405, something that is not an HTTP request 400. Every
 * answer is "Connection: close".
 */
#ifndef TLSWARD_MHTTP_H
#define TLSWARD_MHTTP_H

#include <poll.h>
#include <stddef.h>

#define MHTTP_MAX_CONNS		16
#define MHTTP_MAX_REQUEST	4096
#define MHTTP_DEADLINE_MS	5000
#define MHTTP_EVICT_AGE_MS	250

/* Serves on fd (a listener, non-blocking; taken over), or on nothing
 * with -1; the previous listener is closed, the connections it accepted
 * are kept. */
void	mhttp_listen(int fd);

/* Fills pf (at least MHTTP_MAX_CONNS + 1 entries) with what to poll;
 * returns the count. */
size_t	mhttp_pollfds(struct pollfd *pf);

/* Handles the poll results of the entries mhttp_pollfds gave, and the
 * deadlines. */
void	mhttp_events(const struct pollfd *pf, size_t n);

/* Milliseconds until the nearest deadline, or -1 for none. */
int	mhttp_timeout_ms(void);

#endif
