/*
 * pool.c - bounded queue + elastic thread pool.
 *
 * Runs in: the worker. All state is behind one mutex; the queue is a ring
 * of job records.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pool.h"
#include "stack.h"
#include "util.h"
#include "watchdog.h"

#define POOL_IDLE_RETIRE_S	60	/* idle threads above min exit */
#define POOL_QUEUE_MAX		100000

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 work;		/* a job was queued */
	pthread_cond_t	 quiet;		/* a job finished */
	pool_fn		*fn;
	void		**ring;		/* jobs; capacity grows to
					 * POOL_QUEUE_MAX */
	size_t		 cap, head, count;
	int		 min, max, limit;
	int		 threads;	/* alive: starting, idle or busy */
	int		 starting;	/* created, not yet waiting for work */
	int		 idle, busy;
	uint64_t	 served, refused;
} P = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.quiet = PTHREAD_COND_INITIALIZER,
};

/* Waits for a job; returns 0 with *job, or -1 when this thread should
 * retire. Called with the lock held. */
static int
take_job(void **job)
{
	struct timespec ts;

	while (P.count == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += POOL_IDLE_RETIRE_S;
		P.idle++;
		int rc = pthread_cond_timedwait(&P.work, &P.lock, &ts);
		P.idle--;
		if (P.count == 0 && (P.threads > P.max ||
		    (rc == ETIMEDOUT && P.threads > P.min)))
			return -1;
	}
	*job = P.ring[P.head];
	P.head = (P.head + 1) % P.cap;
	P.count--;
	return 0;
}

static void *
pool_thread(void *arg)
{
	void *job;

	stack_mark();
	pthread_mutex_lock(&P.lock);
	P.starting--;
	while (take_job(&job) == 0) {
		P.busy++;
		pthread_mutex_unlock(&P.lock);
		P.fn(job);
		pthread_mutex_lock(&P.lock);
		P.busy--;
		P.served++;
		pthread_cond_broadcast(&P.quiet);
	}
	P.threads--;
	pthread_mutex_unlock(&P.lock);
	return arg;
}

/* Starts one detached thread; called with the lock held. */
static int
spawn(void)
{
	static struct log_limit lim = LOG_LIMIT_INIT;
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	rc = pthread_create(&t, &attr, pool_thread, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		errno = rc;
		log_warn_limited(&lim, "cannot start a session thread (%d running)",
		    P.threads);
		return -1;
	}
	P.threads++;
	P.starting++;
	return 0;
}

/* Jobs that no thread will take without waiting: the ring holds, first,
 * the jobs of idle and starting threads (each of those takes one).
 * Called with the lock held. */
static size_t
waiting(void)
{
	size_t ready = (size_t)P.idle + (size_t)P.starting;

	return P.count > ready ? P.count - ready : 0;
}

int
pool_start(pool_fn *fn, int min_threads, int max_threads, int queue_limit,
    char *err, size_t errlen)
{
	int i;

	pthread_mutex_lock(&P.lock);
	P.fn = fn;
	P.min = min_threads;
	P.max = max_threads;
	P.limit = queue_limit;
	P.cap = (size_t)(queue_limit > 0 ? queue_limit : 1);
	P.ring = xcalloc(P.cap, sizeof(*P.ring));
	for (i = 0; i < min_threads; i++) {
		if (spawn() < 0) {
			pthread_mutex_unlock(&P.lock);
			return errf(err, errlen, "cannot start %d session "
			    "threads", min_threads);
		}
	}
	pthread_mutex_unlock(&P.lock);
	return 0;
}

/* Grows the ring to hold limit jobs; called with the lock held. */
static void
ring_resize(size_t limit)
{
	void **ring;
	size_t i;

	if (limit <= P.cap)
		return;
	ring = xcalloc(limit, sizeof(*ring));
	for (i = 0; i < P.count; i++)
		ring[i] = P.ring[(P.head + i) % P.cap];
	free(P.ring);
	P.ring = ring;
	P.cap = limit;
	P.head = 0;
}

void
pool_limits(int min_threads, int max_threads, int queue_limit)
{
	pthread_mutex_lock(&P.lock);
	P.min = min_threads;
	P.max = max_threads;
	P.limit = queue_limit;
	ring_resize((size_t)(queue_limit > 0 ? queue_limit : 1));
	while (P.threads < P.min && spawn() == 0)
		;
	pthread_cond_broadcast(&P.work);	/* surplus threads retire */
	pthread_mutex_unlock(&P.lock);
}

int
pool_submit(void *job)
{
	int rc = 0;

	pthread_mutex_lock(&P.lock);
	/* A job waits in the queue only while every thread is busy: a
	 * thread still starting is as good as an idle one. */
	if (waiting() >= (size_t)P.limit && P.threads >= P.max) {
		P.refused++;
		rc = -1;
	} else {
		if (P.count == P.cap)
			ring_resize(P.cap * 2 < POOL_QUEUE_MAX ? P.cap * 2 :
			    POOL_QUEUE_MAX);
		if (P.count == P.cap) {
			P.refused++;
			rc = -1;
		} else {
			P.ring[(P.head + P.count) % P.cap] = job;
			P.count++;
			if (waiting() > 0 && P.threads < P.max)
				(void)spawn();
			pthread_cond_signal(&P.work);
		}
	}
	pthread_mutex_unlock(&P.lock);
	return rc;
}

void
pool_stats(struct pool_stats *st)
{
	pthread_mutex_lock(&P.lock);
	st->threads = P.threads;
	st->busy = P.busy;
	st->idle = P.idle;
	st->max = P.max;
	st->starting = P.starting;
	st->queued = (int)waiting();
	st->queue_limit = P.limit;
	st->served = P.served;
	st->refused = P.refused;
	pthread_mutex_unlock(&P.lock);
}

int
pool_wait_idle(int64_t deadline_ms)
{
	struct timespec ts;
	int64_t left;
	int busy;

	pthread_mutex_lock(&P.lock);
	while ((busy = P.busy + (int)P.count) > 0 &&
	    (left = deadline_ms - wd_now_ms()) > 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&P.quiet, &P.lock, &ts);
	}
	pthread_mutex_unlock(&P.lock);
	return busy;
}
