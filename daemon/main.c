/*
 * main.c - tlswardd(8): the phases of the daemon.
 *
 * Runs in: the privileged supervisor (and, with the internal --worker
 * argument, as the entry of the sandboxed worker, which the supervisor
 * execs from its own executable).
 *
 *   0. take what systemd passed (listening sockets, NOTIFY_SOCKET);
 *   1. options; 2. load and check the configuration, read the key
 *   material, open the listeners or take systemd's (loader.c); 3. -t
 *   stops here after building every SSL_CTX; 4. detach (unless -f), pid
 *   file; 5. supervise the worker until SIGTERM (supervisor.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cfcheck.h"
#include "conf.h"
#include "fileio.h"
#include "loader.h"
#include "log.h"
#include "notify.h"
#include "runtime.h"
#include "sandbox.h"
#include "supervisor.h"
#include "systemd.h"
#include "util.h"
#include "worker.h"

struct opts {
	const char	*dir;
	int		 foreground;
	int		 verbose;
	int		 check_only;
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: tlswardd [-c DIR] [-f] [-v] [-t]\n"
	    "       tlswardd -V | --print-policy | -h | --help\n"
	    "  -c DIR          configuration directory (default: "
	    "$TLSWARD_CONFIG_DIR, else %s)\n"
	    "  -f              stay in the foreground, log to stderr\n"
	    "  -v              verbose logging\n"
	    "  -t              check the configuration and key material, "
	    "then exit\n"
	    "  -V              print the version\n"
	    "  --print-policy  print the worker's seccomp policy\n",
	    TLSWARD_CONFDIR);
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'H' },
		{ "print-policy", no_argument, NULL, 'P' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:fhvtV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->dir = optarg;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		case 't':
			o->check_only = 1;
			break;
		case 'V':
			printf("tlswardd %s (%s)%s\n", PACKAGE_VERSION,
			    OpenSSL_version(OPENSSL_VERSION),
#ifdef TLSWARD_TEST_HOOKS
			    " [test hooks: not for production]"
#else
			    ""
#endif
			    );
			exit(0);
		case 'P':
			sbx_policy_print(stdout);
			exit(0);
		case 'h':
		case 'H':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
	return 0;
}

/* -t: everything a start does except binding and forking (cfcheck.c,
 * which "tlsward check" runs too). */
static int
check_config(const char *dir)
{
	int errors;

	if ((errors = cfcheck_run(dir)) > 0) {
		log_errorx("%s: %d error%s", dir, errors, errors == 1 ? "" : "s");
		return 1;
	}
	log_info("%s: configuration OK", dir);
	return 0;
}

static int
pidfile_write(const char *path)
{
	char buf[32], err[1024];

	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (file_replace(path, buf, strlen(buf), 0644, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	return 0;
}

/* Standard input and output go to /dev/null; standard error too when
 * the log has somewhere else to go. */
static void
null_stdio(int keep_stderr)
{
	int fd;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	if (!keep_stderr)
		dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/* The starting process: exits 0 once the daemon says it has written its
 * pid file, 1 if the daemon died before that (a pid file it cannot
 * write is such a death: start-stop-daemon and systemd rely on it). */
static void __attribute__((noreturn))
wait_detached(int rfd)
{
	ssize_t n;
	char c;

	while ((n = read(rfd, &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		log_errorx("the daemon stopped before it was ready (its log "
		    "says why)");
	_exit(n == 1 ? 0 : 1);
}

/* Detaches from the terminal. The starting process returns only after
 * the pid file exists ("tlswardd && cat PIDFILE", start-stop-daemon).
 * Logs go to syslog from here on, or stay on standard error, said once,
 * when no syslog daemon listens on /dev/log. */
static void
daemonize(const struct loader *ld, const char *pidfile)
{
	char why[256];
	int p[2], to_syslog;
	pid_t pid;

	if ((to_syslog = log_syslog_check(why, sizeof(why)) == 0) == 0)
		log_warnx("no syslog daemon (%s): logging to standard error",
		    why);
	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0)
		log_fatal("cannot detach");
	if (pid > 0) {
		close(p[1]);
		wait_detached(p[0]);
	}
	close(p[0]);
	if (setsid() < 0 || chdir("/") < 0)
		log_fatal("cannot detach");
	null_stdio(!to_syslog);
	if (to_syslog)
		log_syslog(ld->g.syslog_ident, ld->g.syslog_facility);
	if (pidfile != NULL && pidfile_write(pidfile) < 0)
		log_fatalx("not starting: no pid file (tlsproxy_pid_file)");
	if (write(p[1], "", 1) < 0)
		log_warn("cannot tell the starting process");
	close(p[1]);
}

/* The supervisor holds every private key: never in a core file, never
 * readable through /proc/PID/mem by the same user. */
static void
no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) < 0 || prctl(PR_SET_DUMPABLE, 0) < 0)
		log_fatal("cannot disable core dumps");
}

int
main(int argc, char **argv)
{
	struct opts o = { NULL, 0, 0, 0 };
	struct loader_opts lo = { 1, NULL, NULL, NULL, NULL };
	struct sup_opts so;
	struct loader ld;
	char *pidfile = NULL, *dir;
	int rc;

	if (argc >= 2 && strcmp(argv[1], "--worker") == 0) {
		log_init("tlswardd", LOG_TO_STDERR, argc > 2);
		return worker_main(WORKER_IPC_FD, WORKER_LOG_FD);
	}
	/* Before anything opens a descriptor: systemd's start at fd 3. */
	systemd_listen_init();
	systemd_close_inherited();
	notify_init();
	parse_opts(argc, argv, &o);
	log_init("tlswardd", LOG_TO_STDERR, o.verbose);
	no_core_dumps();
	/* Absolute: the daemon changes to "/", and names its instance. */
	o.dir = dir = conf_dir_canonical(conf_default_dir(o.dir));
	if (o.check_only) {
		rc = check_config(o.dir);
		free(dir);
		return rc;
	}
	memset(&so, 0, sizeof(so));
	so.dir = o.dir;
	so.verbose = o.verbose;
	if ((so.self_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) < 0)
		log_fatal("cannot open /proc/self/exe");
	if (loader_load(o.dir, &lo, &ld) > 0)
		log_fatalx("%s: not starting (errors above)", o.dir);
	loader_activate(&ld);
	systemd_listen_report_unused();
	if (!o.foreground) {
		notify_disable();	/* systemd: use -f with Type=notify */
		if (ld.g.pid_file[0] != '\0')
			pidfile = xstrdup(ld.g.pid_file);
		daemonize(&ld, pidfile);
	}
	log_info("starting (configuration %s)", o.dir);
	rc = supervisor_run(&so, &ld);
	if (pidfile != NULL)
		unlink(pidfile);
	free(pidfile);
	loader_fini(&ld);
	free(dir);
	return rc;
}
