/*
 * test_pool.c - the accounting of daemon/worker/pool.c, made
 * deterministic: thread creation is intercepted (the linker's
 * --wrap=pthread_create), so threads the pool starts stay "starting"
 * until the test lets them run. A job handed to a thread that is still
 * starting is not queued: it must neither count against
 * tlsproxy_queue_limit nor show as queued, nor start a second thread.
 *
 * Runs in: "make check" (TAP).
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "pool.h"
#include "tap.h"
#include "watchdog.h"

#define MAX_STARTS	16

int	__real_pthread_create(pthread_t *, const pthread_attr_t *,
	    void *(*)(void *), void *);
int	__wrap_pthread_create(pthread_t *, const pthread_attr_t *,
	    void *(*)(void *), void *);

/* Thread starts the pool asked for and the test has not let run yet. */
static struct {
	void	*(*fn)(void *);
	void	*arg;
} starts[MAX_STARTS];
static int nstarts, nstarted;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open = 1;	/* jobs return at once */
static int served;

int
__wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr,
    void *(*fn)(void *), void *arg)
{
	(void)attr;
	if (nstarts == MAX_STARTS)
		return 11;	/* EAGAIN */
	starts[nstarts].fn = fn;
	starts[nstarts].arg = arg;
	nstarts++;
	*t = 0;
	return 0;
}

/* Lets every starting thread run. */
static void
release_starts(void)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (; nstarted < nstarts; nstarted++)
		if (__real_pthread_create(&t, &attr, starts[nstarted].fn,
		    starts[nstarted].arg) != 0)
			abort();
	pthread_attr_destroy(&attr);
}

static void
serve(void *job)
{
	(void)job;
	pthread_mutex_lock(&lock);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &lock);
	served++;
	pthread_mutex_unlock(&lock);
}

static int
submit(int i)
{
	static int jobs[32];

	return pool_submit(&jobs[i]);
}

static void
gate(int open)
{
	pthread_mutex_lock(&lock);
	gate_open = open;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&lock);
}

/* Waits (at most 5 s) until busy threads are busy. */
static int
wait_busy(int busy)
{
	struct timespec ts = { 0, 5 * 1000000 };
	struct pool_stats st;
	int i;

	for (i = 0; i < 1000; i++) {
		pool_stats(&st);
		if (st.busy == busy)
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* Four threads allowed, none yet, a queue of one: four jobs go to four
 * starting threads, a fifth waits in the queue, a sixth is refused. */
static void
test_starting(void)
{
	struct pool_stats st;
	char err[256];
	int i;

	ok(pool_start(serve, 0, 4, 1, err, sizeof(err)) == 0, "pool_start");
	for (i = 1; i <= 4; i++)
		is_int(submit(i), 0, "job %d accepted (a thread starts for it)",
		    i);
	pool_stats(&st);
	is_int(nstarts, 4, "one thread started per job");
	is_int(st.threads, 4, "threads");
	is_int(st.queued, 0, "jobs waiting for starting threads are not "
	    "queued");
	is_int(submit(5), 0, "job 5 waits in the queue (limit 1)");
	pool_stats(&st);
	is_int(st.queued, 1, "one job queued");
	is_int(submit(6), -1, "job 6 is refused: threads at the maximum, "
	    "queue full");
	is_int(nstarts, 4, "no thread beyond the maximum");
	release_starts();
	is_int(pool_wait_idle(wd_now_ms() + 5000), 0, "every job finished");
	is_int(served, 5, "five jobs served");
}

/* The same four threads, now running: four busy jobs, one queued, the
 * next refused; then everything drains. */
static void
test_busy(void)
{
	struct pool_stats st;
	int i;

	gate(0);
	for (i = 1; i <= 4; i++)
		is_int(submit(10 + i), 0, "busy job %d accepted", i);
	ok(wait_busy(4), "four threads busy");
	is_int(nstarts, 4, "idle threads were reused");
	is_int(submit(15), 0, "a fifth job is queued");
	is_int(submit(16), -1, "a sixth is refused");
	pool_stats(&st);
	is_int(st.queued, 1, "one queued");
	is_int((long long)st.refused, 2, "two refusals counted");
	gate(1);
	is_int(pool_wait_idle(wd_now_ms() + 5000), 0, "every job finished");
	is_int(served, 10, "ten jobs served");
}

int
main(void)
{
	test_starting();
	test_busy();
	return done();
}
