/*
 * acceptor.c - accept loop over all listeners.
 *
 * Runs in: the worker, one thread. Owns the listening descriptors.
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
#include "log.h"
#include "pool.h"
#include "runtime.h"
#include "session.h"
#include "util.h"

static struct {
	int		*fds;
	size_t		 nfds;
	int		 wake[2];	/* write a byte to stop */
	pthread_t	 thread;
	int		 running;
} A = { NULL, 0, { -1, -1 }, 0, 0 };

int
acceptor_init(char *err, size_t errlen)
{
	if (pipe2(A.wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return errf_errno(err, errlen, "pipe2");
	return 0;
}

/* The service index whose listener is idx in rt, or -1. */
static long
svc_of(const struct rt *rt, size_t idx)
{
	size_t i;

	for (i = 0; i < rt->n; i++)
		if (rt->svcs[i].listen_idx == (int)idx)
			return (long)i;
	return -1;
}

/* Accepts everything pending on listener idx. */
static void
accept_some(size_t idx)
{
	struct pool_job job;
	char peer[80];
	long svc;
	int fd;

	for (;;) {
		memset(&job, 0, sizeof(job));
		job.peerlen = sizeof(job.peer);
		fd = accept4(A.fds[idx], (struct sockaddr *)&job.peer,
		    &job.peerlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		job.fd = fd;
		job.rt = rt_current();
		if (job.rt == NULL || (svc = svc_of(job.rt, idx)) < 0) {
			close(fd);	/* a listener no longer configured */
			rt_unref(job.rt);
			continue;
		}
		job.svc = (size_t)svc;
		if (pool_submit(&job) < 0) {
			struct pool_stats st;

			pool_stats(&st);
			log_warnx("service %s: refused connection from %s: all "
			    "%d session threads busy and %d queued",
			    job.rt->svcs[svc].name, sess_addr_text(&job.peer,
			    peer, sizeof(peer)), st.threads, st.queued);
			close(fd);
			rt_unref(job.rt);
		}
	}
}

static void *
acceptor_thread(void *arg)
{
	struct pollfd *pf = xcalloc(A.nfds + 1, sizeof(*pf));
	size_t i;

	for (i = 0; i < A.nfds; i++) {
		pf[i].fd = A.fds[i];
		pf[i].events = POLLIN;
	}
	pf[A.nfds].fd = A.wake[0];
	pf[A.nfds].events = POLLIN;
	for (;;) {
		if (poll(pf, A.nfds + 1, -1) < 0) {
			if (errno != EINTR)
				log_warn("acceptor: poll");
			continue;
		}
		if (pf[A.nfds].revents != 0)
			break;
		for (i = 0; i < A.nfds; i++)
			if (pf[i].revents != 0)
				accept_some(i);
	}
	free(pf);
	return arg;
}

int
acceptor_start(const int *fds, size_t nfds, char *err, size_t errlen)
{
	int rc;

	A.fds = xcalloc(nfds ? nfds : 1, sizeof(int));
	memcpy(A.fds, fds, nfds * sizeof(int));
	A.nfds = nfds;
	if ((rc = pthread_create(&A.thread, NULL, acceptor_thread, NULL)) != 0) {
		errno = rc;
		return errf_errno(err, errlen, "cannot start the acceptor");
	}
	A.running = 1;
	return 0;
}

void
acceptor_stop(void)
{
	size_t i;

	if (!A.running)
		return;
	if (write(A.wake[1], "x", 1) < 0)
		log_warn("acceptor: wake-up");
	pthread_join(A.thread, NULL);
	A.running = 0;
	for (i = 0; i < A.nfds; i++)
		close(A.fds[i]);
	A.nfds = 0;
}
