/*
 * worker.c - the sandboxed worker process: receives a snapshot and the
 * listeners from the supervisor, builds its SSL_CTXs, confines itself,
 * then serves until told to drain or until the supervisor goes away.
 *
 * Runs in: the worker (exec'd by the supervisor as "tlswardd --worker").
 * Sequence: snapshot -> SSL_CTXs -> event loops' descriptors -> SIGSYS
 * reporter -> sbx_enter -> wipe the snapshot -> threads (pool, acceptor,
 * event loops) -> READY -> control loop.
 * No thread exists before sbx_enter, so the filter covers all of them.
 * The control loop (this process's main thread) answers the supervisor:
 * a new snapshot with the new listener set (reload), drain, status.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "acceptor.h"
#include "evloop.h"
#include "fwdtarget.h"
#include "handoff.h"
#include "ipc.h"
#include "log.h"
#include "lset.h"
#include "metrics.h"
#include "mhttp.h"
#include "pool.h"
#include "runtime.h"
#include "sandbox.h"
#include "session.h"
#include "snapshot.h"
#include "stats.h"
#include "status.h"
#include "tkring.h"
#include "util.h"
#include "watchdog.h"
#include "worker.h"

static int worker_log_fd = -1;

/*
 * SIGSYS from the seccomp filter: tell the supervisor which syscall, then
 * die of the same signal (SA_RESETHAND restored the default action).
 * Async-signal-safe: only send(2) and raise(3).
 */
static void
sigsys_report(int sig, siginfo_t *si, void *uc)
{
	char msg[48] = "\002" WORKER_SECCOMP_TAG;
	size_t n = strlen(msg);
	unsigned nr = (unsigned)si->si_syscall, div = 1000000;

	for (; div > 0; div /= 10)
		if (nr >= div || div == 1)
			msg[n++] = (char)('0' + (nr / div) % 10);
	(void)send(worker_log_fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	raise(sig);
}

static void
sigsys_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_report;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigaction(SIGSYS, &sa, NULL);
}

/* Sandbox options the supervisor resolved. */
static int
sbx_opts_get(const struct snapshot *s, struct sbx_opts *o, char *err,
    size_t errlen)
{
	const char *cid = snap_get(s, "global.sbx.change_id", NULL);
	const char *uid = snap_get(s, "global.sbx.uid", NULL);
	const char *gid = snap_get(s, "global.sbx.gid", NULL);
	const char *mode = snap_get(s, "global.tlsproxy_sandbox", NULL);

	if (cid == NULL || uid == NULL || gid == NULL || mode == NULL ||
	    sbx_mode_parse(mode, &o->mode) < 0)
		return errf(err, errlen, "snapshot without sandbox settings");
	o->change_id = atoi(cid);
	o->uid = (uid_t)strtoul(uid, NULL, 10);
	o->gid = (gid_t)strtoul(gid, NULL, 10);
	return 0;
}

/* The metrics listener's index among m's descriptors, or -1. */
static long
metrics_idx(const struct snapshot *s, const struct ipc_msg *m)
{
	const char *v = snap_get(s, "global.metrics.listen_fd", NULL);
	long i;

	if (v == NULL)
		return -1;
	i = atol(v);
	return i >= 0 && (size_t)i < m->nfds ? i : -1;
}

/* Gives the metrics listener (descriptor idx of m, or none) to the
 * endpoint, which the control loop serves; the listener set gets -1 in
 * its place. Handshakes are timed only while there is an endpoint. */
static void
metrics_take(struct ipc_msg *m, long idx)
{
	int fd = -1;

	if (idx >= 0) {
		fd = m->fds[idx];
		m->fds[idx] = -1;
	}
	mhttp_listen(fd);
	stats_timing_enable(fd >= 0);
}

/* Reports a refusal to the supervisor and logs it. */
static int
reject(int ipc, const char *why)
{
	log_warnx("worker: %s", why);
	(void)ipc_send(ipc, IPC_REJECT, why, strlen(why), NULL, 0);
	return 1;
}

/* The first snapshot: everything up to serving. */
static int
worker_setup(int ipc, struct ipc_msg *m, char *err, size_t errlen)
{
	struct snapshot snap;
	struct sbx_opts so = { 0 };
	struct lset *ls;
	struct rt *rt;
	size_t n;

	if (m->type != IPC_SNAPSHOT || snap_decode(&snap, m->data, m->len) < 0)
		return errf(err, errlen, "bad first message from the supervisor");
	explicit_bzero(m->data, m->len);
	metrics_take(m, metrics_idx(&snap, m));
	if (sbx_opts_get(&snap, &so, err, errlen) < 0 ||
	    (rt = rt_build(&snap, err, errlen)) == NULL) {
		snap_fini(&snap);
		return -1;
	}
	if (tkring_load(&snap, err, errlen) < 0) {
		rt_unref(rt);
		snap_fini(&snap);
		return -1;
	}
	status_collect(rt, &snap);
	snap_fini(&snap);	/* wipes the PEM copies */
	/* Lazy initialisation before the filter: the RNG, the socket
	 * layer's wake-up pipe. */
	tzset();	/* certificate time checks would read /etc/localtime */
	if (RAND_status() != 1 || acceptor_init(err, errlen) < 0 ||
	    evloop_init(rt->event_threads, err, errlen) < 0) {
		rt_unref(rt);
		return errf(err, errlen, "initialisation failed");
	}
	sigsys_install();
	if (sbx_enter(&so, err, errlen) < 0) {
		rt_unref(rt);
		return -1;
	}
	rt_install(rt);
	rt = rt_current();
	if (pool_start(handoff_run, rt->min_threads, rt->max_threads,
	    rt->queue_limit, err, errlen) < 0) {
		rt_unref(rt);
		return -1;
	}
	log_info("worker: serving %zu service%s (pid %ld, sandbox %s)", rt->n,
	    rt->n == 1 ? "" : "s", (long)getpid(), sbx_mode_name(so.mode));
	/* The listener set owns the listeners and this reference from
	 * here; the acceptor and the event loops share it. */
	n = m->nfds;
	m->nfds = 0;
	ls = lset_new(m->fds, n, rt);
	/* The loops first: they set the session limit hand-offs count in. */
	if (evloop_start(lset_ref(ls), rt->max_sessions, err, errlen) < 0) {
		lset_unref(ls);
		return -1;
	}
	return acceptor_start(ls, err, errlen);
}

/* The forward targets of rt that the current generation has too (same
 * service, same text) keep their health: a reload does not make the
 * worker try a dead backend again before its pause ends. */
static void
carry_health(struct rt *rt)
{
	struct rt *old = rt_current();
	struct rt_svc *v, *o;
	size_t i, j, k, l;

	if (old == NULL)
		return;
	for (i = 0; i < rt->n; i++) {
		v = &rt->svcs[i];
		for (k = 0; k < old->n &&
		    strcmp(old->svcs[k].name, v->name) != 0; k++)
			;
		if (k == old->n)
			continue;
		o = &old->svcs[k];
		for (j = 0; j < v->nfwdt; j++)
			for (l = 0; l < o->nfwdt; l++)
				if (strcmp(v->fwdt[j].text,
				    o->fwdt[l].text) == 0)
					fwdt_inherit(&v->fwdt[j],
					    &o->fwdt[l]);
	}
	rt_unref(old);
}

/* A later snapshot: a new generation for new sessions, and the new
 * listener set (kept listeners are the same sockets). READY carries the
 * generation number. */
static void
worker_reload(int ipc, struct ipc_msg *m)
{
	struct snapshot snap;
	struct lset *ls;
	struct rt *rt;
	char err[1024], gen[32];
	size_t n;
	long midx;

	if (snap_decode(&snap, m->data, m->len) < 0) {
		reject(ipc, "reload: malformed snapshot");
		return;
	}
	midx = metrics_idx(&snap, m);
	rt = rt_build(&snap, err, sizeof(err));
	if (rt != NULL && tkring_load(&snap, err, sizeof(err)) < 0) {
		rt_unref(rt);
		rt = NULL;
	}
	if (rt != NULL)
		status_collect(rt, &snap);
	snap_fini(&snap);
	if (rt == NULL) {
		reject(ipc, err);	/* the new listeners close with m */
		return;
	}
	pool_limits(rt->min_threads, rt->max_threads, rt->queue_limit);
	metrics_take(m, midx);
	carry_health(rt);
	rt_install(rt);
	n = m->nfds;
	m->nfds = 0;
	ls = lset_new(m->fds, n, rt_current());
	acceptor_set(lset_ref(ls));
	evloop_set(ls, rt->max_sessions);
	log_info("worker: reloaded (generation %u)", rt->generation);
	snprintf(gen, sizeof(gen), "%u", rt->generation);
	(void)ipc_send(ipc, IPC_READY, gen, strlen(gen), NULL, 0);
}

/* Serves the metrics endpoint (if any) until the monotonic time until:
 * a drain's wait between its looks at the sessions. */
static void
metrics_serve_until(int64_t until)
{
	struct pollfd pf[MHTTP_MAX_CONNS + 1];
	int64_t left;
	size_t n;
	int rc, t;

	while ((left = until - wd_now_ms()) > 0) {
		n = mhttp_pollfds(pf);
		t = mhttp_timeout_ms();
		if (t < 0 || t > left)
			t = (int)left;
		if ((rc = poll(pf, n, t)) < 0 && errno != EINTR)
			return;
		mhttp_events(pf, rc > 0 ? n : 0);
	}
}

/* Stops accepting, waits for sessions up to the deadline (the metrics
 * endpoint still answers: a scrape shows the drain), exits. */
static void
worker_drain(const struct ipc_msg *m)
{
	long long ms = m->len > 0 ? atoll((const char *)m->data) : 0;
	int64_t deadline = wd_now_ms() + ms, now;
	int busy;

	acceptor_stop();
	evloop_stop_accepting();
	for (;;) {
		now = wd_now_ms();
		busy = evloop_wait_idle(now);
		busy += pool_wait_idle(now);
		if (busy == 0 || now >= deadline)
			break;
		metrics_serve_until(now + 50 < deadline ? now + 50 : deadline);
	}
	if (busy > 0)
		log_info("worker: drain deadline reached, closing %d "
		    "session%s", busy, busy == 1 ? "" : "s");
	else
		log_info("worker: all sessions finished");
	_exit(0);
}

/* The status records (status.h) for the supervisor. */
static void
worker_status(int ipc)
{
	struct buf b;

	buf_init(&b);
	status_report(&b);
	(void)ipc_send(ipc, IPC_STATUS, b.data != NULL ? b.data : "", b.len,
	    NULL, 0);
	buf_fini(&b);
}

/* IPC_FORWARD: new addresses for one forward target of the generation
 * that serves, if it still has that target (see ipc.h). Sessions that
 * are connecting keep the addresses they started with. */
static void
worker_forward(const struct ipc_msg *m)
{
	const struct ipc_forward *f = (const void *)m->data;
	struct rt_svc *v;
	struct rt *rt;

	if (m->len != sizeof(*f) || f->naddr > IPC_FWD_MAX_ADDRS ||
	    memchr(f->svc, '\0', sizeof(f->svc)) == NULL ||
	    memchr(f->text, '\0', sizeof(f->text)) == NULL) {
		log_warnx("worker: malformed forward update");
		return;
	}
	rt = rt_current();
	if (f->svc_idx < rt->n) {
		v = &rt->svcs[f->svc_idx];
		if (strcmp(v->name, f->svc) == 0 && f->tgt_idx < v->nfwdt &&
		    strcmp(v->fwdt[f->tgt_idx].text, f->text) == 0)
			fwdt_update(&v->fwdt[f->tgt_idx], f->addr, f->naddr);
	}
	rt_unref(rt);
}

#ifdef TLSWARD_TEST_HOOKS
/* Test hook: make a forbidden system call (never in normal builds). */
static void
worker_test_syscall(void)
{
	log_warnx("worker: test hook: calling a forbidden system call");
	(void)syscall(SYS_openat, -100, "/etc/hostname", 0);
}
#endif

/* Serves the metrics endpoint until the supervisor's socket is
 * readable: 1, or -1 on a poll error. */
static int
control_wait(int ipc)
{
	struct pollfd pf[MHTTP_MAX_CONNS + 2];
	size_t n;
	int rc;

	for (;;) {
		pf[0].fd = ipc;
		pf[0].events = POLLIN;
		n = mhttp_pollfds(pf + 1);
		if ((rc = poll(pf, n + 1, mhttp_timeout_ms())) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("worker: poll");
			return -1;
		}
		if (rc == 0)
			n = 0;		/* deadlines only */
		mhttp_events(pf + 1, n);
		if (rc > 0 && pf[0].revents != 0)
			return 1;
	}
}

int
worker_main(int ipc, int logfd)
{
	struct ipc_msg m;
	char err[1024];
	int rc;

	worker_log_fd = logfd;
	log_to_fd(logfd);
	fwdt_set_report_fd(logfd);
	/* A peer that resets its connection must not kill the worker with
	 * SIGPIPE (OpenSSL's socket BIO writes with write(2)). */
	signal(SIGPIPE, SIG_IGN);
	/* Only the supervisor tells the worker what to do: a terminal's
	 * Ctrl-C or systemd's SIGTERM to the whole cgroup must not end
	 * sessions that the supervisor is draining. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	if (ipc_recv(ipc, &m) != 1)
		return reject(ipc, "no snapshot from the supervisor");
	rc = worker_setup(ipc, &m, err, sizeof(err));
	ipc_msg_fini(&m);
	if (rc < 0)
		return reject(ipc, err);
	(void)ipc_send(ipc, IPC_READY, NULL, 0, NULL, 0);
	while ((rc = control_wait(ipc)) == 1 && (rc = ipc_recv(ipc, &m)) == 1) {
		if (m.type == IPC_SNAPSHOT)
			worker_reload(ipc, &m);
		else if (m.type == IPC_DRAIN)
			worker_drain(&m);
		else if (m.type == IPC_STATUS)
			worker_status(ipc);
		else if (m.type == IPC_COUNTERS && m.data != NULL)
			metrics_sup_counters((const char *)m.data, m.len);
		else if (m.type == IPC_FORWARD)
			worker_forward(&m);
#ifdef TLSWARD_TEST_HOOKS
		else if (m.type == IPC_TEST_SYSCALL)
			worker_test_syscall();
#endif
		ipc_msg_fini(&m);
	}
	/* The supervisor is gone: nobody to serve for. */
	log_warnx("worker: supervisor connection closed; exiting");
	_exit(rc == 0 ? 0 : 1);
}
