/*
 * acceptor.c - accept loop over the control-role (hand-off) listeners,
 * and the loop of their request stage (horeq.c).
 *
 * Runs in: the worker, one thread. Holds a reference to the current
 * listener set (lset.h) and polls only its control-role listeners, the
 * request stage's epoll set, and that stage's nearest deadline. The
 * control thread hands a new set over under a lock and wakes the thread
 * through a pipe; the accept path itself takes no lock.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acceptor.h"
#include "handoff.h"
#include "horeq.h"
#include "lset.h"
#include "log.h"
#include "runtime.h"
#include "util.h"
#include "watchdog.h"

#define ACCEPT_PAUSE_MS	100	/* no descriptors: try again after this */
#define ACCEPT_BATCH	64	/* accepts per wake-up: the request stage
				 * gets its turn during a connect flood */

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 taken;		/* the thread took next */
	struct lset	*next;		/* handed over (under lock) */
	int		 stop;		/* under lock */
	int		 wake[2];	/* a byte: look at next and stop */
	pthread_t	 thread;
	int		 running;
} A = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.taken = PTHREAD_COND_INITIALIZER,
	.wake = { -1, -1 },
};

int
acceptor_init(char *err, size_t errlen)
{
	if (pipe2(A.wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return errf_errno(err, errlen, "pipe2");
	return horeq_init(err, errlen);
}

/* Accepts up to ACCEPT_BATCH pending connections on listener idx (the
 * listener stays readable for the rest); 1 if it ran out of
 * descriptors or memory: the caller stops accepting for ACCEPT_PAUSE_MS,
 * or the listener, still readable, would spin. */
static int
accept_some(const struct lset *as, size_t idx)
{
	static struct log_limit starved = LOG_LIMIT_INIT, failed =
	    LOG_LIMIT_INIT;
	struct sockaddr_storage peer;
	struct ho_conn *c;
	socklen_t plen;
	int fd, k;

	for (k = 0; k < ACCEPT_BATCH; k++) {
		memset(&peer, 0, sizeof(peer));
		plen = sizeof(peer);
		fd = accept4(as->fds[idx], (struct sockaddr *)&peer, &plen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn_limited(&starved, "acceptor: accept; "
				    "not accepting for %d ms", ACCEPT_PAUSE_MS);
				return 1;
			}
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn_limited(&failed, "acceptor: accept");
			return 0;
		}
		if (as->rt == NULL || as->svc[idx] < 0) {
			close(fd);	/* a listener no longer configured */
			continue;
		}
		/* The request is read without a thread (horeq.h). */
		if ((c = handoff_new(rt_ref(as->rt), (size_t)as->svc[idx], fd,
		    &peer, as->stats[idx])) != NULL)
			horeq_add(c);
	}
	return 0;
}

/* Stops (on) or resumes polling the listeners of pf for input. */
static void
listeners_pause(struct pollfd *pf, size_t n, int on)
{
	size_t i;

	for (i = 0; i < n; i++)
		pf[i].events = on ? 0 : POLLIN;
}

/* The poll set for as, then the wake-up pipe (PF_WAKE) and the request
 * stage's epoll set (PF_REQ). */
#define PF_WAKE(as)	((as)->nfds)
#define PF_REQ(as)	((as)->nfds + 1)

static struct pollfd *
poll_set(const struct lset *as)
{
	struct pollfd *pf = xcalloc(as->nfds + 2, sizeof(*pf));
	size_t i;

	for (i = 0; i < as->nfds; i++) {
		/* The event loops serve the other roles (evloop.h). */
		pf[i].fd = lset_role(as, i) == SVC_CONTROL ? as->fds[i] : -1;
		pf[i].events = POLLIN;
	}
	pf[PF_WAKE(as)].fd = A.wake[0];
	pf[PF_WAKE(as)].events = POLLIN;
	pf[PF_REQ(as)].fd = horeq_fd();
	pf[PF_REQ(as)].events = POLLIN;
	return pf;
}

/* After a wake-up: takes a new set if one was handed over. Returns 1 to
 * stop. */
static int
take_next(struct lset **cur, struct pollfd **pf)
{
	struct lset *old = NULL;
	char drain[64];
	int stop;

	while (read(A.wake[0], drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&A.lock);
	if (A.next != NULL) {
		old = *cur;
		*cur = A.next;
		A.next = NULL;
		free(*pf);
		*pf = poll_set(*cur);
		pthread_cond_broadcast(&A.taken);
	}
	stop = A.stop;
	pthread_mutex_unlock(&A.lock);
	lset_unref(old);
	return stop;
}

/* The poll timeout: the request stage's nearest deadline, and the end
 * of a pause. */
static int
poll_timeout(int paused)
{
	int t = horeq_timeout_ms(wd_now_ms());

	if (paused && (t < 0 || t > ACCEPT_PAUSE_MS))
		t = ACCEPT_PAUSE_MS;
	return t;
}

static void *
acceptor_thread(void *arg)
{
	static struct log_limit lim = LOG_LIMIT_INIT;
	struct lset *cur = arg;
	struct pollfd *pf = poll_set(cur);
	int64_t resume_ms = 0;
	size_t i;

	/* Hundreds of request deadlines can pass at once: their lines go
	 * to the supervisor in a few datagrams, not one each. */
	log_batch_start();
	for (;;) {
		log_batch_flush();
		if (poll(pf, cur->nfds + 2, poll_timeout(resume_ms != 0)) < 0) {
			if (errno != EINTR)
				log_warn_limited(&lim, "acceptor: poll");
			continue;
		}
		if (pf[PF_REQ(cur)].revents != 0)
			horeq_events();
		horeq_expire(wd_now_ms());
		if (resume_ms != 0 && wd_now_ms() >= resume_ms) {
			listeners_pause(pf, cur->nfds, 0);
			resume_ms = 0;
		}
		if (pf[PF_WAKE(cur)].revents != 0) {
			if (take_next(&cur, &pf))
				break;
			/* A new array polls everything; the old one resumes. */
			listeners_pause(pf, cur->nfds, 0);
			resume_ms = 0;
			continue;
		}
		for (i = 0; i < cur->nfds && resume_ms == 0; i++)
			if ((pf[i].revents & POLLIN) && accept_some(cur, i)) {
				listeners_pause(pf, cur->nfds, 1);
				resume_ms = wd_now_ms() + ACCEPT_PAUSE_MS;
			}
	}
	horeq_clear("the worker is stopping");
	log_batch_flush();
	free(pf);
	lset_unref(cur);
	return NULL;
}

int
acceptor_start(struct lset *as, char *err, size_t errlen)
{
	int rc;

	if ((rc = pthread_create(&A.thread, NULL, acceptor_thread, as)) != 0) {
		lset_unref(as);
		errno = rc;
		return errf_errno(err, errlen, "cannot start the acceptor");
	}
	A.running = 1;
	return 0;
}

void
acceptor_set(struct lset *as)
{
	if (!A.running) {
		lset_unref(as);
		return;
	}
	pthread_mutex_lock(&A.lock);
	A.next = as;
	if (write(A.wake[1], "s", 1) < 0)
		log_warn("acceptor: wake-up");
	while (A.next != NULL)
		pthread_cond_wait(&A.taken, &A.lock);
	pthread_mutex_unlock(&A.lock);
}

void
acceptor_stop(void)
{
	if (!A.running)
		return;
	pthread_mutex_lock(&A.lock);
	A.stop = 1;
	pthread_mutex_unlock(&A.lock);
	if (write(A.wake[1], "x", 1) < 0)
		log_warn("acceptor: wake-up");
	pthread_join(A.thread, NULL);
	A.running = 0;
}
