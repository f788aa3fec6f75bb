/*
 * evloop.h - the event loops that serve the server and client roles: a
 * few threads (one per CPU by default), each with its own epoll instance,
 * each accepting on every server- and client-role listener (EPOLLEXCLUSIVE:
 * one loop wakes per connection) and running its sessions to the end as
 * non-blocking state machines (evsess.h), with a timer heap for their
 * watchdog deadlines.
 *
 * Runs in: the worker. evloop_init runs before the sandbox (it creates
 * the epoll instances and wake-up pipes and raises the open-files limit);
 * the threads start after it. The control thread calls the rest.
 *
 * Why not a thread per session: on a 2-core machine the hand-offs between
 * an acceptor, a session thread and poll(2) cost more CPU per connection
 * than the TLS handshake's own code, and every idle session kept a thread
 * stack. A loop accepts and serves in one thread, handles many ready
 * sockets per epoll_wait, and an idle session is its state (a few KiB)
 * plus OpenSSL's. Hand-off (control-role) sessions keep their blocking
 * pool threads (pool.h) once their request has been read (horeq.h):
 * their line protocol is short and rare.
 *
 * Limits: at most tlsproxy_max_sessions sessions at once over all loops
 * and the hand-off sessions together (0: as many as the open-files limit
 * allows, two descriptors each, and the cgroup memory limit has room
 * for, cgroup.h); past it a connection is accepted, logged and closed at
 * once.
 */
#ifndef TLSWARD_EVLOOP_H
#define TLSWARD_EVLOOP_H

#include <stdint.h>

struct lset;

/* Prepares nthreads loops (0: one per CPU the process may use, at most
 * the cgroup CPU limit; never more than 64), reads the cgroup memory
 * limit for the default session limit, and raises RLIMIT_NOFILE's soft
 * limit to the hard one. Before the sandbox. */
int	evloop_init(int nthreads, char *err, size_t errlen);

/* Starts the loop threads on the server- and client-role listeners of
 * ls (the reference is taken over in every case). */
int	evloop_start(struct lset *ls, int max_sessions, char *err,
	    size_t errlen);

/* Replaces the listener set (reload; reference taken over) and the
 * session limit. Returns when every loop accepts only on the new set. */
void	evloop_set(struct lset *ls, int max_sessions);

/* Stops accepting (drain). Returns when no loop polls a listener. */
void	evloop_stop_accepting(void);

/* Waits until no loop session is left or until deadline_ms
 * (wd_now_ms). Returns the number of loop sessions still running. */
int	evloop_wait_idle(int64_t deadline_ms);

/* A session that runs off the loops (a hand-off, from accept to its
 * end) takes a place in the same limit: 0, or -1 when all are in use
 * (counted as refused; the caller refuses the connection). Every 0 is
 * matched by one evloop_session_put. Any thread; before evloop_start
 * the limit is 0. */
int	evloop_session_take(void);
void	evloop_session_put(void);

/* The effective session limit. */
int	evloop_max_sessions(void);

struct evloop_stats {
	int		threads;	/* loops */
	int		sessions;	/* now, hand-offs too */
	int		max_sessions;	/* the effective limit */
	uint64_t	refused;	/* over the limit, since start */
};

void	evloop_stats(struct evloop_stats *st);

#endif
