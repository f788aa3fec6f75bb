/*
 * horeq.c - the hand-off request stage (horeq.h): an epoll set and a
 * deadline-ordered list of connections whose request is being read.
 *
 * Runs in: the acceptor thread; no lock, nothing here is shared. A
 * connection is in the set and the list from horeq_add until its
 * request is complete (then it belongs to the pool) or its session ends.
 * The set is edge-triggered: handoff_read consumes what has arrived, so
 * a client that sends nothing more causes no further wake-up.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "handoff.h"
#include "horeq.h"
#include "log.h"
#include "pool.h"
#include "util.h"

#define HOREQ_BATCH	64	/* events per epoll_wait */

/* One waiting connection. */
struct hnode {
	struct ho_conn	*c;
	int64_t		 due_ms;	/* its request deadline */
	struct hnode	*prev, *next;	/* in H's list, by due_ms */
};

static struct {
	int		 epfd;
	struct hnode	*head, *tail;	/* earliest deadline first */
} H = { .epfd = -1 };

int
horeq_init(char *err, size_t errlen)
{
	if ((H.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return errf_errno(err, errlen, "hand-off requests: epoll");
	return 0;
}

int
horeq_fd(void)
{
	return H.epfd;
}

/* Into the list at its deadline's place: from the tail, since deadlines
 * mostly come in the order of their connections. */
static void
list_insert(struct hnode *x)
{
	struct hnode *p = H.tail;

	while (p != NULL && p->due_ms > x->due_ms)
		p = p->prev;
	x->prev = p;
	x->next = p != NULL ? p->next : H.head;
	if (x->next != NULL)
		x->next->prev = x;
	else
		H.tail = x;
	if (p != NULL)
		p->next = x;
	else
		H.head = x;
}

/* Out of the list and the epoll set; frees x and returns its c. */
static struct ho_conn *
node_remove(struct hnode *x)
{
	struct ho_conn *c = x->c;

	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		H.head = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	else
		H.tail = x->prev;
	(void)epoll_ctl(H.epfd, EPOLL_CTL_DEL, handoff_fd(c), NULL);
	free(x);
	return c;
}

void
horeq_add(struct ho_conn *c)
{
	static struct log_limit lim = LOG_LIMIT_INIT;
	struct hnode *x = xcalloc(1, sizeof(*x));
	struct epoll_event ev;

	x->c = c;
	x->due_ms = handoff_due_ms(c);
	memset(&ev, 0, sizeof(ev));
	/* Bytes already there are reported by the first epoll_wait. */
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = x;
	if (epoll_ctl(H.epfd, EPOLL_CTL_ADD, handoff_fd(c), &ev) < 0) {
		log_warn_limited(&lim, "hand-off requests: epoll_ctl");
		free(x);
		handoff_refuse(c, CTL_OVERLOADED, "cannot wait for the "
		    "request");
		return;
	}
	list_insert(x);
}

/* A complete request: to a pool thread, or refused when all are busy
 * and the queue is full. */
static void
to_pool(struct ho_conn *c)
{
	static struct log_limit lim = LOG_LIMIT_INIT;
	struct pool_stats st;

	if (pool_submit(c) == 0)
		return;
	pool_stats(&st);
	log_warnx_limited(&lim, "hand-off refused: all %d session threads "
	    "busy and %d queued", st.threads, st.queued);
	handoff_refuse(c, CTL_OVERLOADED, "all session threads busy");
}

/* News on x's connection. */
static void
node_ready(struct hnode *x)
{
	switch (handoff_read(x->c)) {
	case 1:
		to_pool(node_remove(x));
		break;
	case -1:
		handoff_close(node_remove(x));
		break;
	default:
		break;
	}
}

void
horeq_events(void)
{
	struct epoll_event ev[HOREQ_BATCH];
	int i, n;

	do {
		n = epoll_wait(H.epfd, ev, HOREQ_BATCH, 0);
		for (i = 0; i < n; i++)
			node_ready(ev[i].data.ptr);
	} while (n == HOREQ_BATCH);
}

void
horeq_expire(int64_t now_ms)
{
	while (H.head != NULL && H.head->due_ms <= now_ms)
		handoff_expire(node_remove(H.head));
}

int
horeq_timeout_ms(int64_t now_ms)
{
	int64_t t;

	if (H.head == NULL)
		return -1;
	t = H.head->due_ms - now_ms;
	return t < 0 ? 0 : t > INT_MAX ? INT_MAX : (int)t;
}

void
horeq_clear(const char *why)
{
	while (H.head != NULL)
		handoff_refuse(node_remove(H.head), CTL_OVERLOADED, why);
}
