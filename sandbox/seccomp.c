/*
 * seccomp.c - the worker's seccomp policy: what a sandboxed tlswardd
 * worker may ask of the kernel, with the reason for every entry, and the
 * code that installs it (libseccomp) and prints it (--print-policy, and
 * the golden file t/data/seccomp.policy).
 *
 * Runs in: the worker, single-threaded, as the last confinement step
 * (sbx_seccomp); sbx_policy_print and sbx_syscall_name anywhere. Owns the
 * policy tables below; they are the only statement of the policy, so the
 * installed filter and the printed one cannot disagree.
 *
 * The worker after the sandbox: a pthread pool relaying between sockets
 * with OpenSSL; every file, listener and library it needs is already open
 * or loaded. Everything not listed kills the process (mode enforce).
 * Reviewing a change: make the golden file's diff part of it.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox.h"
#include "util.h"

/* The sanitizer runtime's extra needs are compiled in with it only. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SBX_SANITIZER	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SBX_SANITIZER	1
#endif
#endif

/* One allowed syscall, without conditions. */
struct sbx_rule {
	const char	*name;		/* as libseccomp spells it */
	const char	*reason;
};

/* A table of sbx_rule under a title; rules sorted by name. */
struct sbx_group {
	const char		*title;
	const struct sbx_rule	*rules;
	size_t			 nrules;
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define SBX_GROUP(title, rules)	{ title, rules, NELEM(rules) }

static const struct sbx_rule sbx_memory[] = {
	{ "brk",		"malloc: the heap" },
	{ "madvise",		"malloc trims, thread exit frees its stack" },
	{ "mremap",		"realloc of large blocks" },
	{ "munmap",		"free of large blocks, thread stacks" },
};

static const struct sbx_rule sbx_threads[] = {
	{ "exit",		"a thread ends" },
	{ "exit_group",		"the process ends" },
	{ "futex",		"mutexes, condition variables, pthread_join" },
	{ "getpid",		"abort() names its target, logging" },
	{ "gettid",		"abort() names its thread, logging" },
	{ "restart_syscall",	"the kernel resumes an interrupted sleep or poll" },
	{ "rseq",		"glibc registers every new thread" },
	{ "sched_yield",	"lock back-off" },
	{ "set_robust_list",	"glibc sets up every new thread" },
};

static const struct sbx_rule sbx_signals[] = {
	{ "rt_sigprocmask",	"pthread_create and abort() mask signals" },
	{ "rt_sigreturn",	"return from a signal handler" },
	{ "sigaltstack",	"threads that handle signals on their own stack" },
};

static const struct sbx_rule sbx_time[] = {
	{ "clock_gettime",	"deadlines (the vDSO normally answers)" },
	{ "clock_nanosleep",	"back-off sleeps" },
	{ "gettimeofday",	"log time stamps (the vDSO normally answers)" },
	{ "nanosleep",		"back-off sleeps" },
};

static const struct sbx_rule sbx_random[] = {
	{ "getrandom",		"OpenSSL reseeds its DRBG" },
};

static const struct sbx_rule sbx_io[] = {
	{ "close",		"end of a session's descriptors" },
	{ "epoll_ctl",		"event loops: add and remove sockets" },
	{ "epoll_pwait",	"event loops (some libcs' epoll_wait)" },
	{ "epoll_wait",		"event loops: wait for sockets and deadlines" },
	{ "eventfd2",		"wake-ups between threads" },
	{ "fstat",		"direct callers (glibc's fstat() is newfstatat, below)" },
	{ "pipe2",		"wake-ups between threads" },
	{ "poll",		"wait for sockets, with the watchdog's timeout" },
	{ "ppoll",		"wait for sockets, with the watchdog's timeout" },
	{ "read",		"relay, hand-off socket, supervisor socket" },
	{ "readv",		"relay" },
	{ "write",		"relay, hand-off socket, log lines" },
	{ "writev",		"relay" },
};

static const struct sbx_rule sbx_net[] = {
	{ "accept",		"new connection on a listener" },
	{ "accept4",		"new connection on a listener (CLOEXEC, NONBLOCK)" },
	{ "connect",		"to the backend or the remote server" },
	{ "getpeername",	"peer address for logs" },
	{ "getsockname",	"local address for logs" },
	{ "getsockopt",		"SO_ERROR after a non-blocking connect" },
	{ "recvfrom",		"relay" },
	{ "recvmsg",		"hand-off: the peer's socket (SCM_RIGHTS)" },
	{ "sendmsg",		"descriptor passing, relay" },
	{ "sendto",		"relay" },
	{ "setsockopt",		"TCP_NODELAY, keep-alive, buffer sizes" },
	{ "shutdown",		"half-close, watchdog tear-down" },
};

#ifdef SBX_SANITIZER
/* Needed by the sanitizer runtime: compiled in only when the compiler
 * builds with AddressSanitizer (--enable-sanitizers), so the production
 * policy and t/data/seccomp.policy never contain it. Found by running
 * t/unit/test_sandbox in such a build; UBSan needs nothing until it
 * reports. Not covered: LSan's exit-time leak check (it clones a tracer
 * and ptraces: the worker must end with _exit) and ASan's error reports
 * (ioctl on stderr, /proc/self/maps, a symbolizer: in mode enforce the
 * report is cut off by SIGSYS after its first line; use mode log). */
static const struct sbx_rule sbx_sanitizer[] = {
	{ "sched_getaffinity",	"ASan's thread start: pthread_getattr_np" },
};
#endif

/* In the order they are installed and printed. */
static const struct sbx_group sbx_groups[] = {
	SBX_GROUP("memory", sbx_memory),
	SBX_GROUP("threads and process", sbx_threads),
	SBX_GROUP("signals", sbx_signals),
	SBX_GROUP("time", sbx_time),
	SBX_GROUP("randomness", sbx_random),
	SBX_GROUP("descriptors and I/O", sbx_io),
	SBX_GROUP("sockets", sbx_net),
#ifdef SBX_SANITIZER
	SBX_GROUP("sanitizer runtime (only in --enable-sanitizers builds)",
	    sbx_sanitizer),
#endif
};

/* How an argument filter compares the argument with its value. Integer
 * arguments (int in the C prototype) are compared on their low 32 bits,
 * which is all the kernel looks at. */
enum sbx_cmp {
	SBX_EQ,			/* (int)arg == value */
	SBX_EQ_PID,		/* (int)arg == getpid() at install time */
	SBX_HAS,		/* every bit of value is set in arg */
	SBX_LACKS,		/* no bit of value is set in arg */
};

/* The syscall is allowed when the comparison holds; rows with the same
 * name are alternatives. Sorted by name. */
struct sbx_argrule {
	const char	*name;		/* syscall, as libseccomp spells it */
	unsigned	 arg;		/* argument index, 0..5 */
	enum sbx_cmp	 cmp;
	uint64_t	 value;
	const char	*value_name;	/* value as the policy prints it */
	const char	*reason;
};

static const struct sbx_argrule sbx_argrules[] = {
	{ "clone", 0, SBX_HAS, CLONE_THREAD, "CLONE_THREAD",
	    "pthread_create; fork-like clones are killed" },
	{ "fcntl", 1, SBX_EQ, F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC",
	    "duplicate a descriptor, close-on-exec" },
	{ "fcntl", 1, SBX_EQ, F_GETFD, "F_GETFD", "close-on-exec state" },
	{ "fcntl", 1, SBX_EQ, F_GETFL, "F_GETFL", "non-blocking state" },
	{ "fcntl", 1, SBX_EQ, F_SETFD, "F_SETFD", "close-on-exec" },
	{ "fcntl", 1, SBX_EQ, F_SETFL, "F_SETFL", "O_NONBLOCK on sockets" },
	{ "mmap", 2, SBX_LACKS, PROT_EXEC, "PROT_EXEC",
	    "malloc, thread stacks; never executable memory" },
	{ "mprotect", 2, SBX_LACKS, PROT_EXEC, "PROT_EXEC",
	    "thread stack guards, malloc arenas; never executable" },
	{ "newfstatat", 3, SBX_EQ, AT_EMPTY_PATH, "AT_EMPTY_PATH",
	    "glibc's fstat(); with a path: metadata only" },
	{ "rt_sigaction", 0, SBX_EQ, SIGABRT, "SIGABRT",
	    "abort() restores the default action" },
	{ "rt_sigaction", 0, SBX_EQ, 33, "33 (glibc SIGSETXID)",
	    "the first pthread_create installs it; never SIGSYS" },
	{ "socket", 0, SBX_EQ, AF_INET, "AF_INET", "connect to backends" },
	{ "socket", 0, SBX_EQ, AF_INET6, "AF_INET6", "connect to backends" },
	{ "socket", 0, SBX_EQ, AF_UNIX, "AF_UNIX",
	    "connect to local backends; netlink, packet etc. are killed" },
	{ "socketpair", 0, SBX_EQ, AF_UNIX, "AF_UNIX",
	    "channels between threads" },
	{ "tgkill", 0, SBX_EQ_PID, 0, "getpid()",
	    "abort() and pthread_kill in this process only" },
};

/* Answered with an errno instead of running. */
struct sbx_errrule {
	const char	*name;
	int		 err;		/* positive errno */
	const char	*err_name;
	const char	*reason;
};

static const struct sbx_errrule sbx_errrules[] = {
	{ "clone3", ENOSYS, "ENOSYS",
	    "its flags are behind a pointer; glibc then uses clone" },
};

/* ---------------------------------------------------------- install */

static int
sbx_resolve(const char *name, char *err, size_t errlen)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return errf(err, errlen, "unknown syscall %s", name);
	return nr;
}

static int
sbx_add_groups(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	size_t g, i;
	int nr, rc;

	for (g = 0; g < NELEM(sbx_groups); g++) {
		for (i = 0; i < sbx_groups[g].nrules; i++) {
			const char *name = sbx_groups[g].rules[i].name;

			if ((nr = sbx_resolve(name, err, errlen)) == -1)
				return -1;
			/* A negative pseudo-number (no such syscall on this
			 * architecture) is accepted and ignored. */
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
			if (rc < 0)
				return errf(err, errlen, "allow %s: %s", name,
				    strerror(-rc));
		}
	}
	return 0;
}

static struct scmp_arg_cmp
sbx_arg_cmp(const struct sbx_argrule *r)
{
	struct scmp_arg_cmp c = {
		.arg = r->arg,
		.op = SCMP_CMP_MASKED_EQ,
	};

	switch (r->cmp) {
	case SBX_EQ:
		c.datum_a = 0xffffffffu;
		c.datum_b = r->value;
		break;
	case SBX_EQ_PID:
		c.datum_a = 0xffffffffu;
		c.datum_b = (uint64_t)getpid();
		break;
	case SBX_HAS:
		c.datum_a = r->value;
		c.datum_b = r->value;
		break;
	case SBX_LACKS:
		c.datum_a = r->value;
		c.datum_b = 0;
		break;
	}
	return c;
}

static int
sbx_add_argrules(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	struct scmp_arg_cmp c;
	size_t i;
	int nr, rc;

	for (i = 0; i < NELEM(sbx_argrules); i++) {
		const struct sbx_argrule *r = &sbx_argrules[i];

		if ((nr = sbx_resolve(r->name, err, errlen)) == -1)
			return -1;
		c = sbx_arg_cmp(r);
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &c);
		if (rc < 0)
			return errf(err, errlen, "allow %s if arg%u %s: %s",
			    r->name, r->arg, r->value_name, strerror(-rc));
	}
	return 0;
}

static int
sbx_add_errrules(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	size_t i;
	int nr, rc;

	for (i = 0; i < NELEM(sbx_errrules); i++) {
		const struct sbx_errrule *r = &sbx_errrules[i];

		if ((nr = sbx_resolve(r->name, err, errlen)) == -1)
			return -1;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO((uint32_t)r->err),
		    nr, 0);
		if (rc < 0)
			return errf(err, errlen, "errno %s %s: %s",
			    r->err_name, r->name, strerror(-rc));
	}
	return 0;
}

/* Filter-wide settings: the wrong architecture (i386 int 0x80, x32) is
 * always killed; TSYNC puts every thread under the filter, or fails. */
static int
sbx_set_attrs(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	int rc;

	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS);
	if (rc < 0)
		return errf(err, errlen, "bad-arch action: %s", strerror(-rc));
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc < 0)
		return errf(err, errlen, "TSYNC: %s", strerror(-rc));
	return 0;
}

int
sbx_seccomp(enum sbx_mode mode, char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int rc = -1;

	if (mode == SBX_OFF)
		return 0;
	/* TRAP, not KILL_PROCESS: the worker's SIGSYS handler (installed
	 * before this filter, and unchangeable after it: rt_sigaction is
	 * allowed only for the signals above) reports the syscall number to
	 * the supervisor, then the worker dies of SIGSYS. Either way the
	 * forbidden call never runs. */
	ctx = seccomp_init(mode == SBX_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
	if (ctx == NULL)
		return errf(err, errlen, "seccomp_init failed");
	if (sbx_set_attrs(ctx, err, errlen) == 0 &&
	    sbx_add_groups(ctx, err, errlen) == 0 &&
	    sbx_add_argrules(ctx, err, errlen) == 0 &&
	    sbx_add_errrules(ctx, err, errlen) == 0) {
		/* Negative errno; -ESRCH: a thread could not be synced. */
		rc = seccomp_load(ctx);
		if (rc != 0)
			rc = errf(err, errlen, "seccomp_load: %s",
			    strerror(rc < 0 ? -rc : ESRCH));
	}
	seccomp_release(ctx);
	return rc;
}

/* ---------------------------------------------------------- print */

/* One policy line: the rule, padded so the reasons line up. */
static void
sbx_print_line(FILE *fp, const char *rule, const char *reason)
{
	fprintf(fp, "%-24s # %s\n", rule, reason);
}

static void
sbx_print_argrule(FILE *fp, const struct sbx_argrule *r)
{
	char cond[64], rule[128];

	switch (r->cmp) {
	case SBX_EQ:
	case SBX_EQ_PID:
		snprintf(cond, sizeof(cond), "arg%u == %s", r->arg,
		    r->value_name);
		break;
	case SBX_HAS:
		snprintf(cond, sizeof(cond), "arg%u & %s", r->arg,
		    r->value_name);
		break;
	case SBX_LACKS:
		snprintf(cond, sizeof(cond), "!(arg%u & %s)", r->arg,
		    r->value_name);
		break;
	}
	snprintf(rule, sizeof(rule), "allow %-18s if %-23s", r->name, cond);
	sbx_print_line(fp, rule, r->reason);
}

void
sbx_policy_print(FILE *fp)
{
	const struct sbx_errrule *e;
	char rule[128];
	size_t g, i;

	fprintf(fp, "# tlswardd worker seccomp policy\n");
	for (g = 0; g < NELEM(sbx_groups); g++) {
		fprintf(fp, "\n# %s\n", sbx_groups[g].title);
		for (i = 0; i < sbx_groups[g].nrules; i++) {
			snprintf(rule, sizeof(rule), "allow %s",
			    sbx_groups[g].rules[i].name);
			sbx_print_line(fp, rule, sbx_groups[g].rules[i].reason);
		}
	}
	fprintf(fp, "\n# argument filters (rows with one name are "
	    "alternatives)\n");
	for (i = 0; i < NELEM(sbx_argrules); i++)
		sbx_print_argrule(fp, &sbx_argrules[i]);
	fprintf(fp, "\n# answered with an error\n");
	for (i = 0; i < NELEM(sbx_errrules); i++) {
		e = &sbx_errrules[i];
		snprintf(rule, sizeof(rule), "errno %s %s", e->err_name,
		    e->name);
		sbx_print_line(fp, rule, e->reason);
	}
	fprintf(fp, "\n# everything else\n");
	sbx_print_line(fp, "default trap",
	    "mode enforce: SIGSYS; the worker reports the call and dies");
	sbx_print_line(fp, "default log", "mode log");
	sbx_print_line(fp, "badarch kill-process",
	    "other syscall ABIs (i386, x32), any mode");
}

const char *
sbx_syscall_name(int nr)
{
	/* Valid until this thread's next call. */
	static _Thread_local char name[48];
	char *s;

	s = seccomp_syscall_resolve_num_arch(seccomp_arch_native(), nr);
	if (s == NULL)
		return "?";
	snprintf(name, sizeof(name), "%s", s);
	free(s);
	return name;
}
