/*
 * evloop.c - event loop threads: accepting, dispatching socket events to
 * sessions, and the timer heap of their deadlines (see evloop.h).
 *
 * Runs in: the worker. Each loop's sessions, heap and listener handles
 * belong to its thread alone; what loops share (the listener set to
 * serve, the session count) is in E, under E.lock or atomic.
 *
 * A session's timer key never lies after its watchdog's nearest deadline:
 * it is set after every event, and progress only moves that deadline
 * later, so a key that comes due is checked (evs_expire) and moved on
 * if the session made progress since.
 *
 * Established sessions come first. A handshake step costs a millisecond
 * or more of CPU (a signature, a key exchange), a relay step
 * microseconds; so the events of sessions in their handshake (and new
 * connections) wait in a FIFO, and after each batch of events the loop
 * runs handshake steps for one slice of EVLOOP_HS_SLICE_US only, then
 * looks at its sockets again. A flood of handshakes then delays another
 * session's data by about a slice, not by the flood; a loop with a long
 * queue stops accepting until it shrinks (the kernel's listen queue
 * holds the rest).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "evloop.h"
#include "evsess.h"
#include "log.h"
#include "lset.h"
#include "runtime.h"
#include "sockbio.h"
#include "srclim.h"
#include "stack.h"
#include "stats.h"
#include "util.h"
#include "watchdog.h"

#define EVLOOP_MAX_THREADS	64
#define EVLOOP_BATCH		64	/* events per epoll_wait */
#define EVLOOP_ACCEPTS		32	/* accepts per listener event */
#define EVLOOP_PAUSE_MS		100	/* out of descriptors: stop accepting */
#define EVLOOP_FD_RESERVE	64	/* descriptors not counted for sessions */
#define EVLOOP_HS_SLICE_US	2000	/* handshake work between looks */
#define EVLOOP_TRIM_DROP	128	/* sessions gone since the peak: trim */
#define EVLOOP_TRIM_GAP_MS	1000	/* at most one trim a second */
#define EVLOOP_HSQ_MAX		256	/* queued handshakes: stop accepting */
#define NOT_IN_HEAP		SIZE_MAX

struct lhandle {
	struct evh	 h;		/* EVH_LISTEN */
	size_t		 idx;		/* listener index in the set */
};

struct loop {
	struct evh	 hwake;		/* EVH_WAKE */
	int		 epfd;
	int		 wake[2];	/* a byte: look at E.gen */
	pthread_t	 thread;
	struct lset	*ls;		/* the set served (reference), or NULL */
	struct lhandle	*lh;		/* per listener of ls */
	int		 listening;	/* ls's listeners are in epfd */
	unsigned	 gen;		/* the E.gen taken */
	int64_t		 resume_ms;	/* paused (EMFILE) until, or 0 */
	struct esess	**heap;		/* min-heap on due */
	size_t		 nheap, capheap;
	struct esess	**dead;		/* over in this batch: free after */
	size_t		 ndead, capdead;
	struct esess	*hq_head;	/* sessions whose handshake step */
	struct esess	*hq_tail;	/* waits, oldest first */
	size_t		 nhq;
};

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 taken;		/* a loop took a new gen */
	struct loop	*loops;
	int		 n;
	int		 running;
	struct lset	*cur;		/* to serve (under lock), or NULL */
	unsigned	 gen;		/* under lock */
	int		 ntaken;	/* loops at gen (under lock) */
	int		 fd_cap;	/* sessions the fd limit allows */
	int		 mem_cap;	/* the cgroup memory limit's, or 0 */
	struct cg_limits cg;		/* read before the sandbox */
	int		 max;		/* effective limit (atomic) */
	int		 active;	/* sessions now, hand-offs too
					 * (atomic) */
	int		 handoffs;	/* of which hand-offs (atomic) */
	uint64_t	 refused;	/* (atomic) */
	int		 peak;		/* most sessions since the last trim
					 * (atomic) */
	int64_t		 trim_next;	/* no trim before (atomic) */
} E = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.taken = PTHREAD_COND_INITIALIZER,
};

/* ------------------------------------------------------------ timers */

static void
heap_set(struct loop *L, size_t i, struct esess *e)
{
	L->heap[i] = e;
	e->hidx = i;
}

static void
heap_up(struct loop *L, size_t i)
{
	struct esess *e = L->heap[i];

	while (i > 0 && L->heap[(i - 1) / 2]->due > e->due) {
		heap_set(L, i, L->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(L, i, e);
}

static void
heap_down(struct loop *L, size_t i)
{
	struct esess *e = L->heap[i];
	size_t c;

	while ((c = 2 * i + 1) < L->nheap) {
		if (c + 1 < L->nheap && L->heap[c + 1]->due < L->heap[c]->due)
			c++;
		if (L->heap[c]->due >= e->due)
			break;
		heap_set(L, i, L->heap[c]);
		i = c;
	}
	heap_set(L, i, e);
}

static void
heap_push(struct loop *L, struct esess *e)
{
	if (L->nheap == L->capheap) {
		L->capheap = L->capheap ? 2 * L->capheap : 256;
		L->heap = xreallocarray(L->heap, L->capheap,
		    sizeof(*L->heap));
	}
	e->due = evs_deadline(e);
	heap_set(L, L->nheap++, e);
	heap_up(L, e->hidx);
}

static void
heap_remove(struct loop *L, struct esess *e)
{
	size_t i = e->hidx;

	if (i == NOT_IN_HEAP)
		return;
	e->hidx = NOT_IN_HEAP;
	if (i == --L->nheap)
		return;
	heap_set(L, i, L->heap[L->nheap]);
	heap_up(L, i);		/* if it moved up, sifting down is a no-op */
	heap_down(L, i);
}

/* After an event: the session's new nearest deadline. */
static void
heap_update(struct loop *L, struct esess *e)
{
	int64_t old = e->due;

	e->due = evs_deadline(e);
	if (e->due < old)
		heap_up(L, e->hidx);
	else if (e->due > old)
		heap_down(L, e->hidx);
}

/* ------------------------------------------------- handshake queue */

/* Records events for a session in its handshake and queues it (once). */
static void
hq_push(struct loop *L, struct esess *e, int from_fwd, uint32_t events)
{
	if (from_fwd)
		e->hq_fwd_ev |= events;
	else
		e->hq_peer_ev |= events;
	if (e->hq_in)
		return;
	e->hq_in = 1;
	e->hq_next = NULL;
	e->hq_prev = L->hq_tail;
	if (L->hq_tail != NULL)
		L->hq_tail->hq_next = e;
	else
		L->hq_head = e;
	L->hq_tail = e;
	L->nhq++;
}

static void
hq_unlink(struct loop *L, struct esess *e)
{
	if (!e->hq_in)
		return;
	if (e->hq_prev != NULL)
		e->hq_prev->hq_next = e->hq_next;
	else
		L->hq_head = e->hq_next;
	if (e->hq_next != NULL)
		e->hq_next->hq_prev = e->hq_prev;
	else
		L->hq_tail = e->hq_prev;
	e->hq_in = 0;
	L->nhq--;
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* --------------------------------------------------------- sessions */

/* A session is over: out of the heap and the queue now, freed after the
 * batch (another event of this batch may still point at it). */
static void
loop_end(struct loop *L, struct esess *e)
{
	hq_unlink(L, e);
	heap_remove(L, e);
	if (L->ndead == L->capdead) {
		L->capdead = L->capdead ? 2 * L->capdead : 64;
		L->dead = xreallocarray(L->dead, L->capdead,
		    sizeof(*L->dead));
	}
	L->dead[L->ndead++] = e;
	__atomic_sub_fetch(&E.active, 1, __ATOMIC_RELAXED);
}

static void
loop_reap(struct loop *L)
{
	size_t i;

	for (i = 0; i < L->ndead; i++)
		evs_free(L->dead[i]);
	L->ndead = 0;
}

static void
loop_event(struct loop *L, struct evh *h, uint32_t events)
{
	struct esess *e;
	int from_fwd = h->kind == EVH_FWD;

	e = (struct esess *)((char *)h - (from_fwd ?
	    offsetof(struct esess, hfwd) : offsetof(struct esess, hpeer)));
	if (e->state == EVS_OVER)
		return;
	if (e->hq_in || e->state == EVS_HANDSHAKE) {
		hq_push(L, e, from_fwd, events);
		return;
	}
	if (evs_drive(e, from_fwd, events))
		loop_end(L, e);
	else
		heap_update(L, e);
}

/* Runs queued handshake steps, oldest first, for one slice (at least
 * one step). A session that is still in its handshake afterwards waits
 * for its next event like any other. */
static void
loop_handshakes(struct loop *L)
{
	int64_t end = now_us() + EVLOOP_HS_SLICE_US;
	uint32_t peer, fwd;
	struct esess *e;
	int over;

	while ((e = L->hq_head) != NULL) {
		hq_unlink(L, e);
		peer = e->hq_peer_ev;
		fwd = e->hq_fwd_ev;
		e->hq_peer_ev = e->hq_fwd_ev = 0;
		over = 0;
		if (peer != 0 || fwd == 0)
			over = evs_drive(e, 0, peer);
		if (!over && fwd != 0)
			over = evs_drive(e, 1, fwd);
		if (over)
			loop_end(L, e);
		else
			heap_update(L, e);
		if (now_us() >= end)
			break;
	}
}

static void
loop_expire(struct loop *L)
{
	int64_t now = wd_now_ms();
	struct esess *e;

	while (L->nheap > 0 && (e = L->heap[0])->due <= now) {
		if (evs_expire(e))
			loop_end(L, e);
		else
			heap_update(L, e);
	}
}

/* -------------------------------------------------------- listeners */

static void
loop_listen(struct loop *L, int on)
{
	struct epoll_event ev;
	size_t i;
	int role;

	if (L->ls == NULL || L->listening == on)
		return;
	for (i = 0; i < L->ls->nfds; i++) {
		role = lset_role(L->ls, i);
		if (role != SVC_SERVER && role != SVC_CLIENT &&
		    role != SVC_POSTFIX)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.ptr = &L->lh[i].h;
		if (epoll_ctl(L->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
		    L->ls->fds[i], &ev) < 0)
			log_warn("event loop: epoll_ctl on a listener");
	}
	L->listening = on;
}

/* Logs (rate-limited: a flood repeats it at will) and closes a
 * connection over the session limit. */
static void
refuse(const struct lset *ls, size_t idx, int fd,
    const struct sockaddr_storage *peer)
{
	static struct log_limit lim = LOG_LIMIT_INIT;
	char text[80];

	__atomic_add_fetch(&E.refused, 1, __ATOMIC_RELAXED);
	stats_refused(ls->stats[idx]);
	log_warnx_limited(&lim, "service %s: refused connection from %s: "
	    "all %d sessions in use", ls->rt->svcs[ls->svc[idx]].name,
	    sess_addr_text(peer, text, sizeof(text)),
	    __atomic_load_n(&E.max, __ATOMIC_RELAXED));
	close(fd);
}

/* Logs (at most once per source per SRCLIM_LOG_MS) and closes a
 * connection over a per-source limit. */
static void
refuse_source(const struct lset *ls, size_t idx, int fd,
    const struct sockaddr_storage *peer, enum srclim_verdict v,
    const struct srclim_refusal *r)
{
	const struct rt_svc *svc = &ls->rt->svcs[ls->svc[idx]];
	char text[80], net[64], more[48] = "";

	stats_refused_source(ls->stats[idx]);
	close(fd);
	if (!r->log)
		return;
	if (r->suppressed > 0)
		snprintf(more, sizeof(more), " (%lu more not logged)",
		    r->suppressed);
	log_warnx("service %s: refused connection from %s: %s %d from %s "
	    "(tlsproxy_source_%s_limit)%s", svc->name,
	    sess_addr_text(peer, text, sizeof(text)),
	    v == SRCLIM_SESSIONS ? "sessions at the limit of" :
	    "connections this second at the limit of",
	    v == SRCLIM_SESSIONS ? svc->srclim.sessions : svc->srclim.rate,
	    cidr_text(&r->net, net, sizeof(net)),
	    v == SRCLIM_SESSIONS ? "session" : "rate", more);
}

/* accept(2) failed for want of descriptors or memory: stop accepting for
 * a moment, or the level-triggered listener would spin. */
static void
loop_pause(struct loop *L)
{
	static struct log_limit lim = LOG_LIMIT_INIT;

	log_warn_limited(&lim, "event loop: accept; not accepting for %d ms",
	    EVLOOP_PAUSE_MS);
	loop_listen(L, 0);
	L->resume_ms = wd_now_ms() + EVLOOP_PAUSE_MS;
}

static void
loop_accept(struct loop *L, size_t idx)
{
	struct lset *ls = L->ls;
	struct sockaddr_storage peer;
	struct srclim_refusal r;
	struct srclim_ent *src;
	enum srclim_verdict v;
	socklen_t plen;
	static struct log_limit lim = LOG_LIMIT_INIT;
	struct esess *e;
	int fd, k;

	for (k = 0; k < EVLOOP_ACCEPTS; k++) {
		plen = sizeof(peer);
		fd = accept4(ls->fds[idx], (struct sockaddr *)&peer, &plen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				loop_pause(L);
			else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn_limited(&lim, "event loop: accept");
			return;
		}
		/* Behind a PROXY header the source is known only once the
		 * header is in: the session admits it then (evpp.c). */
		src = NULL;
		if (ls->rt->svcs[ls->svc[idx]].pp.accept == 0 &&
		    (v = srclim_admit(ls->stats[idx],
		    &ls->rt->svcs[ls->svc[idx]].srclim, &peer, &src, &r)) !=
		    SRCLIM_OK) {
			refuse_source(ls, idx, fd, &peer, v, &r);
			continue;
		}
		if (__atomic_add_fetch(&E.active, 1, __ATOMIC_RELAXED) >
		    __atomic_load_n(&E.max, __ATOMIC_RELAXED)) {
			__atomic_sub_fetch(&E.active, 1, __ATOMIC_RELAXED);
			srclim_release(src);
			refuse(ls, idx, fd, &peer);
			continue;
		}
		e = evs_new(L->epfd, rt_ref(ls->rt), (size_t)ls->svc[idx], fd,
		    &peer, ls->stats[idx], ls->nodelay[idx]);
		if (e == NULL) {
			__atomic_sub_fetch(&E.active, 1, __ATOMIC_RELAXED);
			srclim_release(src);
			continue;
		}
		e->src = src;
		e->hidx = NOT_IN_HEAP;
		heap_push(L, e);
		if (e->state == EVS_HANDSHAKE)
			hq_push(L, e, 0, 0);	/* its first step waits its turn */
		else if (evs_drive(e, 0, 0))
			loop_end(L, e);
		else
			heap_update(L, e);
	}
}

/* The wake-up pipe: takes the listener set of a new E.gen. */
static void
loop_wake(struct loop *L)
{
	struct lset *old;
	char drain[64];
	size_t i;

	while (read(L->wake[0], drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&E.lock);
	if (L->gen != E.gen) {
		loop_listen(L, 0);
		old = L->ls;
		L->ls = E.cur != NULL ? lset_ref(E.cur) : NULL;
		free(L->lh);
		L->lh = NULL;
		if (L->ls != NULL) {
			L->lh = xcalloc(L->ls->nfds ? L->ls->nfds : 1,
			    sizeof(*L->lh));
			for (i = 0; i < L->ls->nfds; i++) {
				L->lh[i].h.kind = EVH_LISTEN;
				L->lh[i].idx = i;
			}
		}
		if (L->resume_ms == 0)
			loop_listen(L, 1);
		lset_unref(old);
		L->gen = E.gen;
		E.ntaken++;
		pthread_cond_broadcast(&E.taken);
	}
	pthread_mutex_unlock(&E.lock);
}

/* ----------------------------------------------------------- memory */

/* Sessions gone since the peak that the next trim gives back, or 0. */
static int
trim_due(void)
{
	int drop = __atomic_load_n(&E.peak, __ATOMIC_RELAXED) -
	    __atomic_load_n(&E.active, __ATOMIC_RELAXED);

	return drop >= EVLOOP_TRIM_DROP ? drop : 0;
}

/* After a burst: glibc keeps what the sessions freed in its arenas (one
 * per loop thread), so the worker would stay at its peak size for good.
 * Once EVLOOP_TRIM_DROP sessions have ended since the peak, a loop gives
 * the free pages of every arena back (malloc_trim), at most once per
 * EVLOOP_TRIM_GAP_MS; loop_timeout wakes loop 0 for the last one. */
static void
loop_trim(void)
{
	int active = __atomic_load_n(&E.active, __ATOMIC_RELAXED);
	int peak = __atomic_load_n(&E.peak, __ATOMIC_RELAXED);
	int64_t now;

	if (active > peak) {
		__atomic_store_n(&E.peak, active, __ATOMIC_RELAXED);
		return;
	}
	if (trim_due() == 0 ||
	    (now = wd_now_ms()) < __atomic_load_n(&E.trim_next,
	    __ATOMIC_RELAXED) ||
	    !__atomic_compare_exchange_n(&E.peak, &peak, active, 0,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;		/* not yet, or another loop trims */
	__atomic_store_n(&E.trim_next, now + EVLOOP_TRIM_GAP_MS,
	    __ATOMIC_RELAXED);
	(void)malloc_trim(0);
}

/* ------------------------------------------------------------- loop */

static int
loop_timeout(const struct loop *L)
{
	int64_t now = wd_now_ms(), t = INT64_MAX;

	if (L->hq_head != NULL)
		return 0;		/* handshakes wait: just look */
	if (L->nheap > 0)
		t = L->heap[0]->due - now;
	if (L->resume_ms != 0 && L->resume_ms - now < t)
		t = L->resume_ms - now;
	if (L == &E.loops[0] && trim_due() &&
	    __atomic_load_n(&E.trim_next, __ATOMIC_RELAXED) - now < t)
		t = __atomic_load_n(&E.trim_next, __ATOMIC_RELAXED) - now;
	if (t == INT64_MAX)
		return -1;
	if (t < 0)
		return 0;
	return t > INT_MAX ? INT_MAX : (int)t;
}

static void *
loop_main(void *arg)
{
	struct loop *L = arg;
	struct epoll_event ev[EVLOOP_BATCH];
	static struct log_limit lim = LOG_LIMIT_INIT;
	struct evh *h;
	int i, n, woken;

	log_batch_start();
	for (;;) {
		log_batch_flush();
		n = epoll_wait(L->epfd, ev, EVLOOP_BATCH, loop_timeout(L));
		if (n < 0 && errno != EINTR)
			log_warn_limited(&lim, "event loop: epoll_wait");
		/* A new listener set is taken after the batch: listener
		 * events of this batch point into the current one. */
		woken = 0;
		for (i = 0; i < n; i++) {
			h = ev[i].data.ptr;
			if (h->kind == EVH_WAKE)
				woken = 1;
			else if (h->kind == EVH_LISTEN) {
				if (L->nhq < EVLOOP_HSQ_MAX)
					loop_accept(L,
					    ((struct lhandle *)h)->idx);
			} else
				loop_event(L, h, ev[i].events);
		}
		if (woken)
			loop_wake(L);
		loop_handshakes(L);
		loop_expire(L);
		if (L->resume_ms != 0 && wd_now_ms() >= L->resume_ms) {
			L->resume_ms = 0;
			loop_listen(L, 1);
		}
		loop_reap(L);
		loop_trim();
	}
	return NULL;
}

/* ------------------------------------------------------------- API */

int
evloop_init(int nthreads, char *err, size_t errlen)
{
	struct epoll_event ev;
	struct rlimit rl;
	struct loop *L;
	int i;

	/* The defaults' limits come from /proc and /sys, gone after the
	 * sandbox. */
	cg_limits_get(&E.cg);
	E.mem_cap = cg_max_sessions(E.cg.memory_max);
	if (nthreads <= 0) {
		nthreads = cg_event_threads(E.cg.cpus, cg_cpu_count());
		if (nthreads == E.cg.cpus)
			log_info("event loops: %d (the cgroup CPU limit)",
			    nthreads);
	}
	if (nthreads > EVLOOP_MAX_THREADS)
		nthreads = EVLOOP_MAX_THREADS;
	if (sockbio_init() < 0)
		return errf(err, errlen, "event loop: cannot make the socket "
		    "BIO method");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur > INT_MAX)
		rl.rlim_cur = INT_MAX;
	E.fd_cap = rl.rlim_cur > 2 * EVLOOP_FD_RESERVE ?
	    (int)((rl.rlim_cur - EVLOOP_FD_RESERVE) / 2) : EVLOOP_FD_RESERVE;
	E.loops = xcalloc((size_t)nthreads, sizeof(*E.loops));
	E.n = nthreads;
	for (i = 0; i < nthreads; i++) {
		L = &E.loops[i];
		L->hwake.kind = EVH_WAKE;
		if ((L->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
		    pipe2(L->wake, O_CLOEXEC | O_NONBLOCK) < 0)
			return errf_errno(err, errlen, "event loop");
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = &L->hwake;
		if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, L->wake[0], &ev) < 0)
			return errf_errno(err, errlen, "event loop: epoll_ctl");
	}
	return 0;
}

/* The set limit, or by default the cgroup memory limit's; never more
 * than the descriptors allow. */
static int
effective_max(int max_sessions)
{
	int want = max_sessions > 0 ? max_sessions : E.mem_cap;

	return want > 0 && want < E.fd_cap ? want : E.fd_cap;
}

/* Says where the limits come from when it is not obvious. */
static void
limits_log(int max_sessions)
{
	if (max_sessions > E.fd_cap)
		log_warnx("tlsproxy_max_sessions %d: the open-files limit "
		    "allows %d sessions", max_sessions, E.fd_cap);
	else if (max_sessions > 0 && E.mem_cap > 0 &&
	    max_sessions > E.mem_cap)
		log_warnx("tlsproxy_max_sessions %d: more than the %d sessions "
		    "the cgroup memory limit (%llu MiB) has room for at %u KiB "
		    "each", max_sessions, E.mem_cap,
		    (unsigned long long)(E.cg.memory_max >> 20),
		    CG_SESSION_BYTES / 1024);
	else if (max_sessions == 0 && E.mem_cap > 0 && E.mem_cap < E.fd_cap)
		log_info("event loops: at most %d sessions (the cgroup memory "
		    "limit, %llu MiB, at %u KiB each)", E.mem_cap,
		    (unsigned long long)(E.cg.memory_max >> 20),
		    CG_SESSION_BYTES / 1024);
}

int
evloop_start(struct lset *ls, int max_sessions, char *err, size_t errlen)
{
	pthread_attr_t attr;
	int i, rc = 0;

	E.cur = ls;
	E.gen = 1;
	__atomic_store_n(&E.max, effective_max(max_sessions),
	    __ATOMIC_RELAXED);
	limits_log(max_sessions);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	for (i = 0; i < E.n && rc == 0; i++) {
		if ((rc = pthread_create(&E.loops[i].thread, &attr, loop_main,
		    &E.loops[i])) == 0 &&
		    write(E.loops[i].wake[1], "s", 1) < 0)
			log_warn("event loop: wake-up");
	}
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		errno = rc;
		return errf_errno(err, errlen, "cannot start event loop %d",
		    i);
	}
	E.running = 1;
	return 0;
}

void
evloop_set(struct lset *ls, int max_sessions)
{
	struct lset *old;
	int i;

	__atomic_store_n(&E.max, effective_max(max_sessions),
	    __ATOMIC_RELAXED);
	pthread_mutex_lock(&E.lock);
	old = E.cur;
	E.cur = ls;
	E.gen++;
	E.ntaken = 0;
	for (i = 0; E.running && i < E.n; i++)
		if (write(E.loops[i].wake[1], "s", 1) < 0)
			log_warn("event loop: wake-up");
	while (E.running && E.ntaken < E.n)
		pthread_cond_wait(&E.taken, &E.lock);
	pthread_mutex_unlock(&E.lock);
	lset_unref(old);
}

void
evloop_stop_accepting(void)
{
	evloop_set(NULL, __atomic_load_n(&E.max, __ATOMIC_RELAXED));
}

/* Sessions on the loops (the pool counts its own). */
static int
loop_sessions(void)
{
	return __atomic_load_n(&E.active, __ATOMIC_RELAXED) -
	    __atomic_load_n(&E.handoffs, __ATOMIC_RELAXED);
}

int
evloop_wait_idle(int64_t deadline_ms)
{
	struct timespec ts = { 0, 20 * 1000000 };
	int n;

	while ((n = loop_sessions()) > 0 && wd_now_ms() < deadline_ms)
		nanosleep(&ts, NULL);
	return n;
}

int
evloop_session_take(void)
{
	if (__atomic_add_fetch(&E.active, 1, __ATOMIC_RELAXED) >
	    __atomic_load_n(&E.max, __ATOMIC_RELAXED)) {
		__atomic_sub_fetch(&E.active, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&E.refused, 1, __ATOMIC_RELAXED);
		return -1;
	}
	__atomic_add_fetch(&E.handoffs, 1, __ATOMIC_RELAXED);
	return 0;
}

void
evloop_session_put(void)
{
	__atomic_sub_fetch(&E.handoffs, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&E.active, 1, __ATOMIC_RELAXED);
}

int
evloop_max_sessions(void)
{
	return __atomic_load_n(&E.max, __ATOMIC_RELAXED);
}

void
evloop_stats(struct evloop_stats *st)
{
	st->threads = E.n;
	st->sessions = __atomic_load_n(&E.active, __ATOMIC_RELAXED);
	st->max_sessions = __atomic_load_n(&E.max, __ATOMIC_RELAXED);
	st->refused = __atomic_load_n(&E.refused, __ATOMIC_RELAXED);
}
