/*
 * pool.h - the session thread pool: a bounded queue of jobs (hand-off
 * sessions whose request has been read) served by threads that grow
 * with load between a minimum and a maximum.
 *
 * Runs in: the worker, inside the sandbox (creating threads is allowed;
 * the first threads are created after the seccomp filter is installed).
 *
 * Thread stacks are STACK_SIZE (stack.h: 256 KiB; 2 MiB with sanitizers):
 * a session needs a few KiB of its own plus OpenSSL's handshake frames
 * (well under 64 KiB), and the relay buffers live on the heap. An idle
 * session gives back the stack pages its handshake touched (stack_trim).
 */
#ifndef TLSWARD_POOL_H
#define TLSWARD_POOL_H

#include <stddef.h>
#include <stdint.h>

/* Serves one job (a hand-off session whose request has been read,
 * handoff.h) and releases it. */
typedef void pool_fn(void *job);

struct pool_stats {
	int		threads;	/* alive */
	int		starting;	/* created, not yet running */
	int		busy;		/* serving a job */
	int		idle;		/* waiting for work */
	int		max;		/* tlsproxy_max_threads */
	int		queued;		/* jobs waiting for a busy thread
					 * (not those an idle or starting
					 * thread is about to take) */
	int		queue_limit;	/* tlsproxy_queue_limit */
	uint64_t	served;		/* jobs finished */
	uint64_t	refused;	/* jobs refused: queue full */
};

/* Starts min threads. 0 or -1 with err. */
int	pool_start(pool_fn *fn, int min_threads, int max_threads,
	    int queue_limit, char *err, size_t errlen);

/* New limits (reload); threads above the maximum retire when idle. */
void	pool_limits(int min_threads, int max_threads, int queue_limit);

/* Queues a job for fn (pool_start) (a thread is started if no idle or starting thread is
 * left for it and the maximum is not reached). -1 if every thread is
 * busy and tlsproxy_queue_limit jobs already wait for one: the caller
 * still owns the job. */
int	pool_submit(void *job);

void	pool_stats(struct pool_stats *st);

/* Waits until no job is queued or running, or until deadline_ms
 * (monotonic, wd_now_ms). Returns the number of jobs still busy. */
int	pool_wait_idle(int64_t deadline_ms);

#endif
