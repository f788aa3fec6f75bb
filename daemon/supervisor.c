/*
 * supervisor.c - PRIVILEGED: starts the worker, hands it the snapshot and
 * the listeners, relays its log lines, restarts it when it dies, reloads
 * on SIGHUP and drains on SIGTERM/SIGINT.
 *
 * Runs in: the privileged supervisor (root, or the container user). It
 * never reads network input: its only peers are the worker's two sockets
 * and the signals.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "ipc.h"
#include "loader.h"
#include "log.h"
#include "sandbox.h"
#include "supervisor.h"
#include "util.h"
#include "watchdog.h"
#include "worker.h"

#define SUP_READY_TIMEOUT_MS	30000	/* worker setup */
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
	int64_t			 started_ms;	/* worker start */
	int64_t			 backoff_ms;
	int64_t			 restart_at_ms;	/* 0 = no restart pending */
	int			 stopping;	/* SIGTERM seen */
	int64_t			 stop_deadline_ms;
};

/* Relays one datagram from the worker; names a seccomp victim. */
static void
relay_log(struct sup *s)
{
	char dg[LOG_DGRAM_MAX + 1];
	ssize_t n;
	const char *text;

	while ((n = recv(s->logfd, dg, sizeof(dg) - 1, MSG_DONTWAIT)) > 0) {
		dg[n] = '\0';
		text = dg + 1;
		if (strncmp(text, WORKER_SECCOMP_TAG,
		    strlen(WORKER_SECCOMP_TAG)) == 0) {
			int nr = atoi(text + strlen(WORKER_SECCOMP_TAG));

			log_relay(LOG_CRIT, "worker: forbidden system call "
			    "refused by the seccomp filter; killing the worker");
			log_warnx("worker made forbidden system call %s (%d)",
			    sbx_syscall_name(nr), nr);
			continue;
		}
		log_relay((unsigned char)dg[0] & 7, text);
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

/* Waits for READY or REJECT from a new worker, relaying its logs. */
static int
await_ready(struct sup *s)
{
	int64_t end = wd_now_ms() + SUP_READY_TIMEOUT_MS;
	struct pollfd pf[2] = { { s->ipc, POLLIN, 0 }, { s->logfd, POLLIN, 0 } };
	struct ipc_msg m;
	int rc;

	while (wd_now_ms() < end) {
		if (poll(pf, 2, (int)(end - wd_now_ms())) <= 0)
			continue;
		if (pf[1].revents)
			relay_log(s);
		if (!pf[0].revents)
			continue;
		if ((rc = ipc_recv(s->ipc, &m)) != 1)
			break;
		rc = m.type == IPC_READY ? 0 : -1;
		ipc_msg_fini(&m);
		relay_log(s);
		return rc;
	}
	relay_log(s);
	return -1;
}

/* Forks and execs a worker and sends it the current snapshot. */
static int
worker_spawn(struct sup *s)
{
	unsigned char *buf;
	size_t len;
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
	snap_encode(&s->ld->snap, &buf, &len);
	rc = ipc_send(s->ipc, IPC_SNAPSHOT, buf, len, s->ld->fds, s->ld->nfds);
	explicit_bzero(buf, len);
	free(buf);
	if (rc < 0 || await_ready(s) < 0) {
		log_warnx("worker %ld did not start", (long)s->pid);
		return -1;
	}
	log_info("worker %ld started", (long)s->pid);
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
		s->backoff_ms = s->backoff_ms * 2 > SUP_BACKOFF_MAX_MS ?
		    SUP_BACKOFF_MAX_MS : s->backoff_ms * 2;
	}
}

/* SIGHUP: re-read everything; on any error keep what runs. */
static void
sup_reload(struct sup *s)
{
	struct loader *nl = xcalloc(1, sizeof(*nl));
	unsigned char *buf;
	size_t len;
	int errors;

	log_info("reload: reading the configuration");
	if ((errors = loader_load(s->o->dir, 0, nl)) > 0) {
		log_warnx("reload: %d error%s; the running configuration is "
		    "unchanged", errors, errors == 1 ? "" : "s");
		free(nl);
		return;
	}
	/* Listeners stay as they are: the new snapshot's listen_fd indexes
	 * refer to the same services.cf order. */
	nl->fds = s->ld->fds;
	nl->nfds = s->ld->nfds;
	s->ld->fds = NULL;
	s->ld->nfds = 0;
	loader_fini(s->ld);
	*s->ld = *nl;
	free(nl);
	if (s->pid == 0)
		return;
	snap_encode(&s->ld->snap, &buf, &len);
	if (ipc_send(s->ipc, IPC_SNAPSHOT, buf, len, NULL, 0) < 0)
		log_warn("reload: cannot send the snapshot to the worker");
	explicit_bzero(buf, len);
	free(buf);
}

/* SIGTERM/SIGINT: drain once; a second one stops at once. */
static void
sup_stop(struct sup *s)
{
	char ms[32];

	if (s->stopping || s->pid == 0) {
		if (s->pid != 0)
			kill(s->pid, SIGKILL);
		s->stopping = 2;
		return;
	}
	s->stopping = 1;
	snprintf(ms, sizeof(ms), "%lld", s->ld->g.drain_timeout_s * 1000);
	log_info("stopping: draining sessions for up to %llds",
	    s->ld->g.drain_timeout_s);
	s->stop_deadline_ms = wd_now_ms() + s->ld->g.drain_timeout_s * 1000 +
	    2000;
	(void)ipc_send(s->ipc, IPC_DRAIN, ms, strlen(ms), NULL, 0);
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
			sup_reload(s);
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

/* Milliseconds until the next timed event, or -1. */
static int
next_timeout(const struct sup *s)
{
	int64_t now = wd_now_ms(), t = -1;

	if (s->restart_at_ms != 0)
		t = s->restart_at_ms > now ? s->restart_at_ms - now : 0;
	if (s->stopping == 1) {
		int64_t d = s->stop_deadline_ms > now ?
		    s->stop_deadline_ms - now : 0;

		t = t < 0 || d < t ? d : t;
	}
	return (int)t;
}

static void
sup_loop(struct sup *s)
{
	struct pollfd pf[3];

	while (!(s->stopping && s->pid == 0)) {
		pf[0] = (struct pollfd){ s->sigfd, POLLIN, 0 };
		pf[1] = (struct pollfd){ s->logfd, POLLIN, 0 };
		pf[2] = (struct pollfd){ s->ipc, POLLIN, 0 };
		if (poll(pf, 3, next_timeout(s)) < 0 && errno != EINTR)
			log_fatal("poll");
		if (pf[0].revents)
			on_signal(s);
		if (s->logfd >= 0 && pf[1].revents)
			relay_log(s);
		if (s->ipc >= 0 && pf[2].revents) {
			struct ipc_msg m;

			if (ipc_recv(s->ipc, &m) == 1) {
				if (m.type == IPC_REJECT)
					log_warnx("reload refused by the worker; "
					    "it keeps serving the previous "
					    "configuration");
				ipc_msg_fini(&m);
			}
		}
		if (s->stopping == 1 && wd_now_ms() >= s->stop_deadline_ms &&
		    s->pid != 0)
			kill(s->pid, SIGKILL);
		if (s->restart_at_ms != 0 && wd_now_ms() >= s->restart_at_ms &&
		    !s->stopping) {
			s->restart_at_ms = 0;
			if (worker_spawn(s) < 0 && s->pid != 0)
				kill(s->pid, SIGKILL);	/* reaped, retried */
		}
	}
}

int
supervisor_run(const struct sup_opts *o, struct loader *ld)
{
	struct sup s = { o, ld, 0, -1, -1, -1, 0, SUP_BACKOFF_MIN_MS, 0, 0, 0 };
	sigset_t set;

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
	if (worker_spawn(&s) < 0) {
		if (s.pid != 0) {
			kill(s.pid, SIGKILL);
			waitpid(s.pid, NULL, 0);
		}
		log_warnx("the worker could not start; exiting");
		return 1;
	}
	if (o->ready != NULL)
		o->ready(o->ready_arg);
	sup_loop(&s);
	log_info("stopped");
	return 0;
}
