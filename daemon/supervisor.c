/*
 * supervisor.c - PRIVILEGED: starts the worker, hands it the snapshot and
 * the listeners, relays its log lines, restarts it when it dies, reloads
 * on SIGHUP (and "tlsward reload") and when the TLS files change
 * (watch.c, tlsproxy_watch_files), answers "tlsward status", drains on
 * SIGTERM/SIGINT, and keeps the service manager informed (notify.c).
 *
 * Runs in: the privileged supervisor (root, or the container user). It
 * never reads network input: its only peers are the worker's two
 * sockets, the signals, the root-only admin socket (admin.c) and the
 * inotify events of the directories that hold the TLS files.
 *
 * Reload: load everything into a new struct loader (listeners whose key
 * is unchanged are taken over, new ones opened), build every TLS context
 * here as "tlswardd -t" does, then send the snapshot and the whole
 * listener set to the worker and wait for its answer. Only when all of
 * that succeeded does the new configuration replace the running one;
 * otherwise every error is logged (and returned to tlsward reload) and
 * nothing changes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "admin.h"
#include "ipc.h"
#include "loader.h"
#include "log.h"
#include "notify.h"
#include "ocsp.h"
#include "resolver.h"
#include "runtime.h"
#include "sandbox.h"
#include "status.h"
#include "supervisor.h"
#include "systemd.h"
#include "util.h"
#include "watch.h"
#include "watchdog.h"
#include "worker.h"
#include "worker/fwdtarget.h"

#define SUP_READY_TIMEOUT_MS	30000	/* worker setup, or a reload */
#define SUP_STATUS_TIMEOUT_MS	5000	/* worker status answer */
#define SUP_BACKOFF_MIN_MS	100	/* first restart */
#define SUP_BACKOFF_MAX_MS	30000
#define SUP_HEALTHY_MS		60000	/* a worker this old resets backoff */

struct sup {
	const struct sup_opts	*o;
	struct loader		*ld;		/* current configuration */
	pid_t			 pid;		/* worker, 0 = none */
	int			 ipc;		/* worker IPC socket */
	int			 logfd;		/* worker log datagrams */
	int			 sigfd;
	int			 admin;		/* admin socket, -1 = none */
	char			*admin_path;
	int64_t			 t0_ms;		/* supervisor start */
	int64_t			 started_ms;	/* worker start */
	int64_t			 backoff_ms;
	int64_t			 restart_at_ms;	/* 0 = no restart pending */
	int			 stopping;	/* SIGTERM seen */
	int64_t			 grace_end_ms;	/* SIGTERM seen, still accepting
						 * until then (0 = not) */
	int64_t			 stop_deadline_ms;
	unsigned		 generation;	/* the worker's, from READY */
	unsigned		 restarts;	/* worker restarts */
	unsigned		 reloads;	/* successful reloads */
	unsigned		 reload_failures;	/* failed reloads */
	const char		*last_reload;	/* "none", "ok", "failed" */
	struct watch		*watch;		/* NULL: tlsproxy_watch_files
						 * = no */
	struct resolver		*res;		/* forward names looked up
						 * again; NULL if its thread
						 * could not start */
};

static struct resolver *relay_res;	/* relay_record's resolver_poke */

/* Relays one record (priority byte + text) from the worker; names a
 * seccomp victim. */
static void
relay_record(const char *rec)
{
	const char *text = rec + 1;

	if (strncmp(text, WORKER_SECCOMP_TAG, strlen(WORKER_SECCOMP_TAG)) ==
	    0) {
		int nr = atoi(text + strlen(WORKER_SECCOMP_TAG));

		log_relay(LOG_CRIT, "worker: forbidden system call refused "
		    "by the seccomp filter; killing the worker");
		log_warnx("worker made forbidden system call %s (%d)",
		    sbx_syscall_name(nr), nr);
		return;
	}
	if (strncmp(text, FWDT_DOWN_TAG, strlen(FWDT_DOWN_TAG)) == 0) {
		unsigned long si, ti;

		/* A target stopped answering: its name may have moved. */
		if (relay_res != NULL && sscanf(text + strlen(FWDT_DOWN_TAG),
		    "%lu %lu", &si, &ti) == 2)
			resolver_poke(relay_res, si, ti);
		return;
	}
	log_relay((unsigned char)rec[0] & 7, text);
}

/* Relays the worker's pending datagrams, each one or more records
 * (log.h). */
static void
relay_log(struct sup *s)
{
	static char dg[LOG_BATCH_MAX + 1];
	char *p, *end;
	ssize_t n;

	if (s->logfd < 0)
		return;
	while ((n = recv(s->logfd, dg, sizeof(dg) - 1, MSG_DONTWAIT)) > 0) {
		dg[n] = '\0';
		for (p = dg; p < dg + n; p = end + 1) {
			end = p + strlen(p);
			if (end > p)
				relay_record(p);
		}
	}
}

/* The child side of a spawn: fds 3 and 4, nothing else, then exec
 * ourselves from the descriptor opened at start. */
static void
spawn_child(const struct sup_opts *o, int ipc, int logfd)
{
	static char a0[] = "tlswardd", a1[] = "--worker", a2[] = "-v";
	char *argv[4] = { a0, a1, NULL, NULL };
	sigset_t none;
	int exe;

	if (o->verbose)
		argv[2] = a2;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Above every descriptor that must survive, out of dup2's way. */
	if ((exe = fcntl(o->self_fd, F_DUPFD_CLOEXEC, 64)) < 0 ||
	    dup2(ipc, WORKER_IPC_FD) < 0 || dup2(logfd, WORKER_LOG_FD) < 0) {
		log_warn("worker: cannot set up descriptors");
		_exit(127);
	}
	close_range(WORKER_LOG_FD + 1, (unsigned)exe - 1, 0);
	close_range((unsigned)exe + 1, ~0U, 0);
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	unsetenv("NOTIFY_SOCKET");
	fexecve(exe, argv, environ);
	log_warn("worker: cannot execute %s", "/proc/self/exe");
	_exit(127);
}

/* Waits up to ms for the worker's next message, relaying its logs.
 * 1 with *m (ipc_msg_fini it), 0 on EOF or timeout, -1 on error. */
static int
await_msg(struct sup *s, int ms, struct ipc_msg *m)
{
	int64_t end = wd_now_ms() + ms, left;
	struct pollfd pf[2] = { { s->ipc, POLLIN, 0 }, { s->logfd, POLLIN, 0 } };
	int rc;

	while ((left = end - wd_now_ms()) > 0) {
		if (poll(pf, 2, (int)left) <= 0)
			continue;
		if (pf[1].revents)
			relay_log(s);
		if (!pf[0].revents)
			continue;
		rc = ipc_recv(s->ipc, m);
		relay_log(s);
		return rc;
	}
	relay_log(s);
	return 0;
}

/* Sends the current snapshot and listener set. */
static int
send_snapshot(struct sup *s, const struct loader *ld)
{
	unsigned char *buf;
	size_t len;
	int *fds = xcalloc(ld->nlsn + 1, sizeof(int)), rc;

	snap_encode(&ld->snap, &buf, &len);
	rc = ipc_send(s->ipc, IPC_SNAPSHOT, buf, len, fds, loader_fds(ld, fds));
	explicit_bzero(buf, len);
	free(buf);
	free(fds);
	return rc;
}

/* Tells the worker the restart and reload counts (its metrics). */
static void
send_counters(struct sup *s)
{
	char text[128];

	if (s->pid == 0)
		return;
	snprintf(text, sizeof(text), "restarts=%u reloads_ok=%u "
	    "reloads_failed=%u", s->restarts, s->reloads, s->reload_failures);
	if (ipc_send(s->ipc, IPC_COUNTERS, text, strlen(text), NULL, 0) < 0)
		log_warn("worker: cannot send the counters");
}

/* "serving N services (worker PID, generation G)" for STATUS=. */
static void
status_line(const struct sup *s, char *buf, size_t len)
{
	snprintf(buf, len, "serving %zu service%s (worker %ld, generation %u)",
	    s->ld->nservices, s->ld->nservices == 1 ? "" : "s", (long)s->pid,
	    s->generation);
}

/* Forks and execs a worker, sends it the current snapshot and waits for
 * READY. */
static int
worker_spawn(struct sup *s)
{
	struct ipc_msg m;
	int ipc[2], lg[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ipc) < 0 ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, lg) < 0) {
		log_warn("socketpair");
		return -1;
	}
	if ((s->pid = fork()) < 0) {
		log_warn("fork");
		close(ipc[0]), close(ipc[1]), close(lg[0]), close(lg[1]);
		s->pid = 0;
		return -1;
	}
	if (s->pid == 0)
		spawn_child(s->o, ipc[1], lg[1]);
	close(ipc[1]);
	close(lg[1]);
	s->ipc = ipc[0];
	s->logfd = lg[0];
	s->started_ms = wd_now_ms();
	rc = send_snapshot(s, s->ld) < 0 ? -1 :
	    await_msg(s, SUP_READY_TIMEOUT_MS, &m);
	if (rc == 1) {
		rc = m.type == IPC_READY ? 0 : -1;
		ipc_msg_fini(&m);
	} else
		rc = -1;
	if (rc < 0) {
		log_warnx("worker %ld did not start", (long)s->pid);
		return -1;
	}
	s->generation = 1;
	log_info("worker %ld started", (long)s->pid);
	send_counters(s);
	return 0;
}

/* Logs how the worker ended. */
static void
log_exit(pid_t pid, int status)
{
	if (WIFEXITED(status))
		log_warnx("worker %ld exited with status %d", (long)pid,
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		log_warnx("worker %ld killed by the seccomp filter (signal %d)",
		    (long)pid, WTERMSIG(status));
	else if (WIFSIGNALED(status))
		log_warnx("worker %ld killed by signal %d (%s)", (long)pid,
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
}

/* Reaps the worker; schedules a restart with backoff unless stopping. */
static void
worker_reap(struct sup *s)
{
	char st[128];
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid != s->pid)
			continue;
		relay_log(s);
		if (!s->stopping)
			log_exit(pid, status);
		close(s->ipc);
		close(s->logfd);
		s->ipc = s->logfd = -1;
		s->pid = 0;
		if (s->stopping)
			return;
		if (wd_now_ms() - s->started_ms > SUP_HEALTHY_MS)
			s->backoff_ms = SUP_BACKOFF_MIN_MS;
		s->restart_at_ms = wd_now_ms() + s->backoff_ms;
		log_info("restarting the worker in %lld ms",
		    (long long)s->backoff_ms);
		snprintf(st, sizeof(st), "worker %ld died; restarting it in "
		    "%lld ms", (long)pid, (long long)s->backoff_ms);
		notify_status(st);
		s->backoff_ms = s->backoff_ms * 2 > SUP_BACKOFF_MAX_MS ?
		    SUP_BACKOFF_MAX_MS : s->backoff_ms * 2;
	}
}

/* Adds an error line to the reload report. */
static void
reload_error(struct buf *errs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reload_error(struct buf *errs, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s", msg);
	buf_addf(errs, "%s\n", msg);
}

/* Every TLS context of the new configuration, built here as -t does, so
 * that a key the worker would refuse never replaces a working one. */
static int
reload_tls_check(const struct loader *nl, struct buf *errs)
{
	char err[1024];
	struct rt *rt;

	ocsp_set_quiet(1);	/* the worker logs its findings */
	rt = rt_build(&nl->snap, err, sizeof(err));
	ocsp_set_quiet(0);
	if (rt == NULL) {
		reload_error(errs, "%s", err);
		return -1;
	}
	rt_unref(rt);
	return 0;
}

/* Hands the new configuration to the worker; 0 when it serves it. */
static int
reload_push(struct sup *s, const struct loader *nl, struct buf *errs)
{
	struct ipc_msg m;
	int rc;

	if (s->pid == 0)
		return 0;	/* the next worker starts with it */
	if (send_snapshot(s, nl) < 0) {
		reload_error(errs, "reload: cannot send the configuration to "
		    "the worker: %s", strerror(errno));
		return -1;
	}
	if (await_msg(s, SUP_READY_TIMEOUT_MS, &m) != 1) {
		reload_error(errs, "reload: the worker did not answer");
		return -1;
	}
	if (m.type == IPC_READY) {
		s->generation = (unsigned)strtoul((char *)m.data, NULL, 10);
		rc = 0;
	} else {
		reload_error(errs, "reload refused by the worker: %s",
		    m.type == IPC_REJECT ? (char *)m.data : "unexpected answer");
		rc = -1;
	}
	ipc_msg_fini(&m);
	return rc;
}

/* tlsproxy_watch_files of the running configuration: starts or stops
 * the watcher, and gives it the files the running configuration read or
 * looked for and those a refused reload tried ("\n"-separated snapshot
 * keys, or NULL). */
static void
sup_watch_update(struct sup *s, const char *tried)
{
	int fresh = s->watch == NULL;
	struct buf keys;

	if (!s->ld->g.watch_files) {
		if (s->watch != NULL)
			log_info("no longer watching the TLS files for changes "
			    "(tlsproxy_watch_files = no)");
		watch_free(s->watch);
		s->watch = NULL;
		return;
	}
	if (fresh)
		s->watch = watch_new();
	buf_init(&keys);
	buf_adds(&keys, s->ld->files != NULL ? s->ld->files : "");
	buf_adds(&keys, tried != NULL ? tried : "");
	watch_set(s->watch, &s->ld->snap, keys.data, wd_now_ms());
	buf_fini(&keys);
	if (fresh)
		log_info("watching %zu TLS file%s for changes "
		    "(tlsproxy_watch_files)", watch_count(s->watch),
		    watch_count(s->watch) == 1 ? "" : "s");
}

/* The forward names of the running configuration, for the resolver. */
static void
sup_resolver_update(struct sup *s)
{
	struct resolver_ent *ents;
	size_t n;

	if (s->res == NULL)
		return;
	ents = resolver_ents(&s->ld->snap, s->ld->nservices, &n);
	resolver_set(s->res, ents, n, s->ld->g.resolve_interval_s);
}

/* Forward names that resolve to new addresses: to the worker, which
 * swaps them in without a reload. */
static void
on_resolved(struct sup *s)
{
	struct resolver_update *u;
	struct ipc_forward f;
	size_t i, n;

	u = resolver_take(s->res, &n);
	for (i = 0; i < n && s->pid != 0; i++) {
		memset(&f, 0, sizeof(f));
		f.svc_idx = (uint32_t)u[i].svc_idx;
		f.tgt_idx = (uint32_t)u[i].tgt_idx;
		f.naddr = (uint32_t)(u[i].naddr < IPC_FWD_MAX_ADDRS ?
		    u[i].naddr : IPC_FWD_MAX_ADDRS);
		snprintf(f.svc, sizeof(f.svc), "%s", u[i].svc);
		snprintf(f.text, sizeof(f.text), "%s", u[i].text);
		memcpy(f.addr, u[i].addr, f.naddr * sizeof(f.addr[0]));
		if (ipc_send(s->ipc, IPC_FORWARD, &f, sizeof(f), NULL, 0) < 0)
			log_warn("service %s: forward %s: cannot send the new "
			    "addresses to the worker", u[i].svc, u[i].text);
	}
	resolver_updates_free(u, n);
}

/* sup_reload's load, check and switch. */
static int
sup_reload_load(struct sup *s, const struct loader_opts *lo)
{
	struct buf *errs = lo->errors;
	struct loader *nl = xcalloc(1, sizeof(*nl));
	char st[256];
	int errors;

	notify_reloading();
	log_info("reload: reading the configuration");
	if ((errors = loader_load(s->o->dir, lo, nl)) == 0 &&
	    reload_tls_check(nl, errs) == 0 && reload_push(s, nl, errs) == 0) {
		loader_unlink_dropped(s->ld, nl);
		loader_fini(s->ld);
		*s->ld = *nl;
		free(nl);
		loader_activate(s->ld);
		systemd_listen_report_unused();
		log_syslog_update(s->ld->g.syslog_ident,
		    s->ld->g.syslog_facility);
		sup_resolver_update(s);
		s->reloads++;
		s->last_reload = "ok";
		send_counters(s);
		log_info("reload: done (generation %u)", s->generation);
		status_line(s, st, sizeof(st));
		notify_ready(st);
		return 0;
	}
	if (errors == 0) {
		errors = 1;
		loader_fini(nl);	/* closes only what this load opened */
	}
	free(nl);
	log_warnx("reload: %d error%s; the running configuration is unchanged",
	    errors, errors == 1 ? "" : "s");
	s->last_reload = "failed";
	s->reload_failures++;
	send_counters(s);
	snprintf(st, sizeof(st), "reload failed (%d error%s); still serving "
	    "generation %u", errors, errors == 1 ? "" : "s", s->generation);
	notify_ready(st);
	return -1;
}

/* SIGHUP, "tlsward reload" or changed files: re-read everything; on any
 * error keep what runs. Error lines go to errs. Returns 0 when the new
 * configuration is serving. */
static int
sup_reload(struct sup *s, struct buf *errs)
{
	struct buf tried;
	struct loader_opts lo = { 1, s->ld, errs, &tried, s->res };
	int rc;

	buf_init(&tried);
	if (s->watch != NULL)
		watch_sync(s->watch);	/* what this reload reads, at least */
	rc = sup_reload_load(s, &lo);
	sup_watch_update(s, tried.data);
	buf_fini(&tried);
	return rc;
}

/* SIGTERM with tlsproxy_stop_grace_time: keep serving, new connections
 * too, while a load balancer still sends them (a Kubernetes endpoint
 * removal spreads after the signal). 1 if the grace period began. */
static int
sup_grace(struct sup *s)
{
	long long g = s->ld->g.stop_grace_s;
	char st[128];

	if (g <= 0 || s->grace_end_ms != 0 || s->stopping || s->pid == 0)
		return 0;
	s->grace_end_ms = wd_now_ms() + g * 1000;
	log_info("stopping: still accepting for %llds "
	    "(tlsproxy_stop_grace_time), then draining", g);
	snprintf(st, sizeof(st), "accepting for %llds more, then draining",
	    g);
	notify_stopping(st);
	return 1;
}

/* SIGTERM/SIGINT: drain once (after the grace period, if any: a signal
 * during it drains at once); a second one stops at once. */
static void
sup_stop(struct sup *s)
{
	char ms[32], st[128];

	if (sup_grace(s))
		return;
	s->grace_end_ms = 0;

	if (s->stopping || s->pid == 0) {
		if (s->pid != 0) {
			log_info("stopping now: second signal");
			kill(s->pid, SIGKILL);
		}
		s->stopping = 2;
		notify_stopping("stopping");
		return;
	}
	s->stopping = 1;
	snprintf(ms, sizeof(ms), "%lld", s->ld->g.drain_timeout_s * 1000);
	log_info("stopping: draining sessions for up to %llds",
	    s->ld->g.drain_timeout_s);
	snprintf(st, sizeof(st), "draining sessions for up to %llds",
	    s->ld->g.drain_timeout_s);
	notify_stopping(st);
	s->stop_deadline_ms = wd_now_ms() + s->ld->g.drain_timeout_s * 1000 +
	    2000;
	/* Our copies of the listeners go too, so that once the worker has
	 * closed its own the kernel refuses new connections. The worker is
	 * busy draining: nobody would answer on the admin socket. */
	loader_close_listeners(s->ld);
	admin_close(s->admin, s->admin_path);
	s->admin = -1;
	(void)ipc_send(s->ipc, IPC_DRAIN, ms, strlen(ms), NULL, 0);
}

/* "tlsward status": our record, then the worker's. */
static void
sup_status(struct sup *s, struct buf *out)
{
	struct ipc_msg m;
	int rc;

	buf_addf(out, "daemon pid=%ld version=%s uptime_s=%lld worker_pid=%ld "
	    "worker_restarts=%u reloads=%u last_reload=%s watched_files=%zu",
	    (long)getpid(), PACKAGE_VERSION,
	    (long long)((wd_now_ms() - s->t0_ms) / 1000), (long)s->pid,
	    s->restarts, s->reloads, s->last_reload, watch_count(s->watch));
	status_field(out, "config", s->o->dir);
	buf_adds(out, "\n");
	if (s->pid == 0 || ipc_send(s->ipc, IPC_STATUS, NULL, 0, NULL, 0) < 0)
		return;
	while ((rc = await_msg(s, SUP_STATUS_TIMEOUT_MS, &m)) == 1 &&
	    m.type != IPC_STATUS)
		ipc_msg_fini(&m);	/* nothing else is outstanding */
	if (rc == 1) {
		buf_add(out, m.data, m.len);
		ipc_msg_fini(&m);
	}
}

/* A request may name the configuration directory of the instance it is
 * for ("CMD config=DIR", DIR %XX-encoded and canonical): that must be
 * ours, or two daemons on one host could be confused. Strips the field
 * from cmd; -1 with the refusal in out. */
static int
admin_for_us(struct sup *s, char *cmd, struct buf *out)
{
	char *f = strstr(cmd, " config=");

	if (f == NULL)
		return 0;
	*f = '\0';
	pct_decode(f + 8);
	if (strcmp(f + 8, s->o->dir) == 0)
		return 0;
	log_warnx("admin socket: refused \"%s\" for the configuration in %s "
	    "(this daemon serves %s)", cmd, f + 8, s->o->dir);
	buf_adds(out, "error this tlswardd serves the configuration in ");
	buf_add_pct(out, s->o->dir);
	buf_adds(out, ", not ");
	buf_add_pct(out, f + 8);
	buf_adds(out, "\nfailed errors=1\n");
	return -1;
}

/* One admin request. */
static void
on_admin(struct sup *s)
{
	char cmd[ADMIN_REQ_MAX];
	struct buf out, errs;
	int cfd;

	if ((cfd = admin_accept(s->admin, cmd, sizeof(cmd))) < 0)
		return;
	buf_init(&out);
	buf_init(&errs);
	if (admin_for_us(s, cmd, &out) < 0)
		;	/* another instance's request: refused */
	else if (strcmp(cmd, "status") == 0)
		sup_status(s, &out);
	else if (strcmp(cmd, "reload") == 0) {
		log_info("reload requested by tlsward");
		if (sup_reload(s, &errs) == 0)
			buf_addf(&out, "ok generation=%u\n", s->generation);
		else {
			char *line, *save = NULL;
			int n = 0;

			for (line = strtok_r(errs.data, "\n", &save); line;
			    line = strtok_r(NULL, "\n", &save), n++)
				buf_addf(&out, "error %s\n", line);
			buf_addf(&out, "failed errors=%d\n", n ? n : 1);
		}
	} else
		buf_addf(&out, "error unknown command \"%s\"\nfailed errors=1\n",
		    cmd);
	admin_reply(cfd, out.data != NULL ? out.data : "", out.len);
	buf_fini(&out);
	buf_fini(&errs);
}

static void
on_signal(struct sup *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			worker_reap(s);
			break;
		case SIGHUP:
			if (!s->stopping) {
				struct buf errs;

				buf_init(&errs);
				(void)sup_reload(s, &errs);
				buf_fini(&errs);
			}
			break;
		case SIGTERM:
		case SIGINT:
			sup_stop(s);
			break;
#ifdef TLSWARD_TEST_HOOKS
		case SIGUSR2:	/* test hook: worker makes a bad syscall */
			if (s->pid != 0)
				(void)ipc_send(s->ipc, IPC_TEST_SYSCALL, NULL, 0,
				    NULL, 0);
			break;
#endif
		}
	}
}

/* The sooner of t and d (-1 = none). */
static int64_t
sooner(int64_t t, int64_t d)
{
	return t < 0 || (d >= 0 && d < t) ? d : t;
}

/* Milliseconds until the next timed event, or -1. */
static int
next_timeout(const struct sup *s)
{
	int64_t now = wd_now_ms(), t = -1;

	if (s->restart_at_ms != 0)
		t = s->restart_at_ms > now ? s->restart_at_ms - now : 0;
	if (s->stopping == 1)
		t = sooner(t, s->stop_deadline_ms > now ?
		    s->stop_deadline_ms - now : 0);
	if (s->grace_end_ms != 0)
		t = sooner(t, s->grace_end_ms > now ? s->grace_end_ms - now : 0);
	t = sooner(t, notify_watchdog_timeout(now));
	if (!s->stopping)
		t = sooner(t, watch_timeout(s->watch, now));
	return (int)t;
}

/* A pending restart is due. */
static void
restart_worker(struct sup *s)
{
	char st[256];

	s->restart_at_ms = 0;
	s->restarts++;
	if (worker_spawn(s) < 0) {
		if (s->pid != 0)
			kill(s->pid, SIGKILL);	/* reaped, retried */
		return;
	}
	if (s->res != NULL)
		resolver_resend(s->res);	/* it has the load's */
	status_line(s, st, sizeof(st));
	notify_status(st);
}

/* A message nobody waits for (a late answer): logged and dropped. */
static void
on_ipc(struct sup *s)
{
	struct ipc_msg m;

	if (ipc_recv(s->ipc, &m) == 1) {
		log_debug("worker: unexpected message type %u", m.type);
		ipc_msg_fini(&m);
	}
}

/* The watched files changed and things are quiet again: reload as
 * "tlsward reload" does, if they really changed. */
static void
on_watch(struct sup *s)
{
	struct buf changed, errs;

	buf_init(&changed);
	buf_init(&errs);
	if (watch_check(s->watch, wd_now_ms(), &changed) > 0) {
		log_info("reload: files changed: %s", changed.data);
		(void)sup_reload(s, &errs);
	}
	buf_fini(&changed);
	buf_fini(&errs);
}

static void
sup_loop(struct sup *s)
{
	struct pollfd pf[6];

	while (!(s->stopping && s->pid == 0)) {
		pf[0] = (struct pollfd){ s->sigfd, POLLIN, 0 };
		pf[1] = (struct pollfd){ s->logfd, POLLIN, 0 };
		pf[2] = (struct pollfd){ s->ipc, POLLIN, 0 };
		pf[3] = (struct pollfd){ s->admin, POLLIN, 0 };
		pf[4] = (struct pollfd){ watch_fd(s->watch), POLLIN, 0 };
		pf[5] = (struct pollfd){ resolver_fd(s->res), POLLIN, 0 };
		if (poll(pf, 6, next_timeout(s)) < 0 && errno != EINTR)
			log_fatal("poll");
		notify_watchdog(wd_now_ms());
		/* first: the handlers below may reload, which re-arms it */
		if (s->watch != NULL && pf[4].revents)
			watch_read(s->watch, wd_now_ms());
		if (pf[0].revents)
			on_signal(s);
		if (s->logfd >= 0 && pf[1].revents)
			relay_log(s);
		if (s->ipc >= 0 && pf[2].revents)
			on_ipc(s);
		if (s->admin >= 0 && pf[3].revents && !s->stopping)
			on_admin(s);
		if (s->res != NULL && pf[5].revents)
			on_resolved(s);
		if (s->grace_end_ms != 0 && wd_now_ms() >= s->grace_end_ms)
			sup_stop(s);	/* the grace period is over */
		if (s->stopping == 1 && wd_now_ms() >= s->stop_deadline_ms &&
		    s->pid != 0)
			kill(s->pid, SIGKILL);
		if (s->restart_at_ms != 0 && wd_now_ms() >= s->restart_at_ms &&
		    !s->stopping)
			restart_worker(s);
		if (s->watch != NULL && !s->stopping &&
		    watch_timeout(s->watch, wd_now_ms()) == 0)
			on_watch(s);
	}
}

/* The admin socket, if configured; a daemon without one still serves. */
static void
admin_start(struct sup *s)
{
	char err[1024];

	s->admin = -1;
	if (s->ld->g.admin_socket == NULL || s->ld->g.admin_socket[0] == '\0')
		return;
	s->admin_path = xstrdup(s->ld->g.admin_socket);
	if ((s->admin = admin_listen(s->admin_path, err, sizeof(err))) < 0)
		log_warnx("%s; \"tlsward status\" and \"tlsward reload\" are "
		    "not available (SIGHUP still reloads)", err);
	else
		log_info("admin socket %s", s->admin_path);
}

int
supervisor_run(const struct sup_opts *o, struct loader *ld)
{
	struct sup s;
	sigset_t set;
	char st[256];

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.ld = ld;
	s.ipc = s.logfd = s.sigfd = s.admin = -1;
	s.backoff_ms = SUP_BACKOFF_MIN_MS;
	s.t0_ms = wd_now_ms();
	s.last_reload = "none";
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
#ifdef TLSWARD_TEST_HOOKS
	sigaddset(&set, SIGUSR2);
#endif
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((s.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		log_fatal("signalfd");
	admin_start(&s);
	sup_watch_update(&s, NULL);	/* sees changes during the start */
	relay_res = s.res = resolver_new();
	sup_resolver_update(&s);
	if (worker_spawn(&s) < 0) {
		if (s.pid != 0) {
			kill(s.pid, SIGKILL);
			waitpid(s.pid, NULL, 0);
		}
		watch_free(s.watch);
		relay_res = NULL;
		resolver_free(s.res);
		admin_close(s.admin, s.admin_path);
		free(s.admin_path);
		log_warnx("the worker could not start; exiting");
		return 1;
	}
	status_line(&s, st, sizeof(st));
	notify_ready(st);
	sup_loop(&s);
	watch_free(s.watch);
	relay_res = NULL;
	resolver_free(s.res);
	admin_close(s.admin, s.admin_path);
	free(s.admin_path);
	log_info("stopped");
	return 0;
}
