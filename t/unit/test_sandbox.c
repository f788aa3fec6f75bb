/*
 * test_sandbox.c - unit tests of sandbox/: mode names, the user lookup,
 * syscall names, the printed policy against t/data/seccomp.policy, and
 * the confinement itself. Every confinement case forks a child that
 * enters the sandbox and then does one thing; the parent judges it by
 * the wait status, by /proc/CHILD/status while the child waits on a pipe,
 * or by what the child writes to a pipe.
 *
 * Runs in: the test suite. The confinement cases need root (they switch
 * to "nobody"); without it they are skipped. Children end with _exit(),
 * never exit(): no atexit handlers and no leak checker (LSan stops the
 * world with ptrace, which a confined child may not do).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "fileio.h"
#include "sandbox.h"
#include "tap.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD	1
#endif
#endif

#define CHILD_ALARM_S	20	/* a child that hangs dies of SIGALRM */
#define EXIT_ENTER	100	/* the child's sbx_enter failed */
#define EXIT_BEFORE	101	/* the child's preparation failed */

static uid_t nobody_uid;
static gid_t nobody_gid;
static pid_t parent_pid;
static int listen_fd = -1;		/* 127.0.0.1, for the connect case */
static struct sockaddr_in listen_addr;
static int have_landlock = -1;		/* learnt by the landlock case */
static SSL_CTX *tls_server_ctx;		/* self-signed P-256, built unconfined */

/* ---------------------------------------------------------- children */

/* What a child runs before sbx_enter (0 = fine) or after it (its exit
 * status). */
typedef int (*child_fn)(void);

struct child {
	pid_t	 pid;
	int	 ready_fd;	/* read end: one byte once the child is confined */
	int	 go_fd;		/* write end: closing it lets the child finish */
};

static struct sbx_opts
opts_mode(enum sbx_mode mode, int change_id)
{
	struct sbx_opts o = {
		.change_id = change_id,
		.uid = nobody_uid,
		.gid = nobody_gid,
		.mode = mode,
	};

	return o;
}

static void __attribute__((noreturn))
child_main(const struct sbx_opts *o, child_fn before, child_fn act,
    int ready_fd, int go_fd)
{
	char err[512], c;

	alarm(CHILD_ALARM_S);
	if (before != NULL && before() != 0)
		_exit(EXIT_BEFORE);
	if (sbx_enter(o, err, sizeof(err)) == -1) {
		dprintf(STDERR_FILENO, "# child: %s\n", err);
		_exit(EXIT_ENTER);
	}
	if (ready_fd != -1) {
		if (write(ready_fd, "r", 1) != 1)
			_exit(EXIT_ENTER);
		while (read(go_fd, &c, 1) > 0)
			continue;
	}
	_exit(act != NULL ? act() : 0);
}

/* Starts a child; with hold, it stops after sbx_enter until child_go. */
static int
child_start(const struct sbx_opts *o, child_fn before, child_fn act,
    int hold, struct child *c)
{
	int ready[2] = { -1, -1 }, go[2] = { -1, -1 };

	if (hold && (pipe2(ready, O_CLOEXEC) == -1 ||
	    pipe2(go, O_CLOEXEC) == -1))
		return -1;
	fflush(stdout);
	if ((c->pid = fork()) == -1)
		return -1;
	if (c->pid == 0) {
		if (hold) {
			close(ready[0]);
			close(go[1]);
		}
		child_main(o, before, act, ready[1], go[0]);
	}
	c->ready_fd = ready[0];
	c->go_fd = go[1];
	if (hold) {
		close(ready[1]);
		close(go[0]);
	}
	return 0;
}

/* Waits for the child; describes its end as "exit N" or "signal NAME". */
static const char *
child_wait(struct child *c)
{
	static char desc[64];
	int status;

	if (c->go_fd != -1)
		close(c->go_fd);
	if (c->ready_fd != -1)
		close(c->ready_fd);
	if (waitpid(c->pid, &status, 0) == -1)
		snprintf(desc, sizeof(desc), "waitpid: %s", strerror(errno));
	else if (WIFEXITED(status))
		snprintf(desc, sizeof(desc), "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(desc, sizeof(desc), "signal %s",
		    sigabbrev_np(WTERMSIG(status)) != NULL ?
		    sigabbrev_np(WTERMSIG(status)) : "?");
	else
		snprintf(desc, sizeof(desc), "status %#x", status);
	return desc;
}

static const char *
run_child(const struct sbx_opts *o, child_fn before, child_fn act)
{
	struct child c;

	if (child_start(o, before, act, 0, &c) == -1)
		return "fork failed";
	return child_wait(&c);
}

/* ---------------------------------------------------------- allowed */

static void *
thread_work(void *arg)
{
	char *big = malloc(1 << 20), *small[64];
	size_t i;

	if (big == NULL)
		return NULL;
	memset(big, 1, 1 << 20);
	for (i = 0; i < 64; i++)
		small[i] = malloc(100 + i);
	for (i = 0; i < 64; i++)
		free(small[i]);
	free(big);
	return arg;
}

static int
a_threads(void)
{
	static int tag[4];
	pthread_t t[4];
	void *ret;
	int i;

	for (i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, thread_work, &tag[i]) != 0)
			return 2;
	for (i = 0; i < 4; i++)
		if (pthread_join(t[i], &ret) != 0 || ret != &tag[i])
			return 3;
	return 0;
}

static int
a_malloc(void)
{
	char *p = malloc(10 << 20), *q;

	if (p == NULL)
		return 2;
	memset(p, 7, 10 << 20);
	if ((q = realloc(p, 20 << 20)) == NULL)
		return 3;
	/* Touched after the move: the compiler cannot drop the calls. */
	if (q[(10 << 20) - 1] != 7)
		return 4;
	free(q);
	return 0;
}

static int
a_sockets(void)
{
	int fd[2], s;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 2;
	close(s);
	/* A host without IPv6 says EAFNOSUPPORT: still not killed. */
	s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s == -1 && errno != EAFNOSUPPORT)
		return 3;
	close(s);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 4;
	close(s);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd) == -1)
		return 5;
	close(fd[0]);
	close(fd[1]);
	return 0;
}

/* socket, connect, accept4, socket options, names, send, recv, shutdown. */
static int
a_tcp(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int s, c, one = 1, soerr;
	socklen_t olen = sizeof(soerr);
	char buf[8];

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 2;
	if (connect(s, (struct sockaddr *)&listen_addr,
	    sizeof(listen_addr)) == -1)
		return 3;
	if ((c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return 4;
	if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1 ||
	    getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &olen) == -1)
		return 5;
	if (getsockname(s, (struct sockaddr *)&a, &alen) == -1 ||
	    getpeername(c, (struct sockaddr *)&a, &alen) == -1)
		return 6;
	if (send(s, "ping", 4, 0) != 4 || recv(c, buf, 4, 0) != 4)
		return 7;
	if (shutdown(s, SHUT_WR) == -1 || recv(c, buf, 4, 0) != 0)
		return 8;
	close(c);
	close(s);
	return 0;
}

/* The hand-off: a descriptor passed over a UNIX socket (SCM_RIGHTS). */
static int
a_fd_passing(void)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} u;
	char x = 'x';
	struct iovec iov = { .iov_base = &x, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	int sp[2], p[2], got;
	char c;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1 ||
	    pipe2(p, O_CLOEXEC) == -1)
		return 2;
	if ((cm = CMSG_FIRSTHDR(&m)) == NULL)
		return 2;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &p[1], sizeof(int));
	if (sendmsg(sp[0], &m, 0) != 1)
		return 3;
	iov.iov_base = &c;
	m.msg_controllen = sizeof(u.buf);
	if (recvmsg(sp[1], &m, MSG_CMSG_CLOEXEC) != 1 ||
	    (cm = CMSG_FIRSTHDR(&m)) == NULL)
		return 4;
	memcpy(&got, CMSG_DATA(cm), sizeof(int));
	if (write(got, "y", 1) != 1 || read(p[0], &c, 1) != 1 || c != 'y')
		return 5;
	return 0;
}

static int
a_pipe_io(void)
{
	char ab[] = "ab", cd[] = "cd";
	struct iovec iov[2] = { { ab, 2 }, { cd, 2 } };
	struct pollfd pfd;
	char buf[16];
	int p[2], e;
	uint64_t one = 1;

	if (pipe2(p, O_CLOEXEC) == -1)
		return 2;
	if (write(p[1], "hello", 5) != 5 || writev(p[1], iov, 2) != 4)
		return 3;
	pfd.fd = p[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) != 1 || read(p[0], buf, 9) != 9)
		return 4;
	if ((e = eventfd(0, EFD_CLOEXEC)) == -1 ||
	    write(e, &one, sizeof(one)) != sizeof(one))
		return 5;
	return 0;
}

static int
a_fcntl_fstat(void)
{
	struct stat st;
	int p[2], fl, d;

	if (pipe2(p, O_CLOEXEC) == -1)
		return 2;
	if ((fl = fcntl(p[0], F_GETFL)) == -1 ||
	    fcntl(p[0], F_SETFL, fl | O_NONBLOCK) == -1)
		return 3;
	if (fcntl(p[0], F_GETFD) != FD_CLOEXEC ||
	    fcntl(p[0], F_SETFD, 0) == -1)
		return 4;
	if ((d = fcntl(p[0], F_DUPFD_CLOEXEC, 10)) < 10)
		return 5;
	if (fstat(d, &st) == -1 || !S_ISFIFO(st.st_mode))
		return 6;
	return 0;
}

static int
a_random_time(void)
{
	struct timespec ts = { 0, 1000000 };
	unsigned char r[32];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return 2;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 3;
	ts.tv_sec = 0;
	ts.tv_nsec = 1000000;
	if (nanosleep(&ts, NULL) == -1 ||
	    clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL) != 0)
		return 4;
	return 0;
}

static int
a_mmap_rw(void)
{
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 2;
	if (mprotect(p, 4096, PROT_NONE) == -1 ||
	    mprotect(p, 4096, PROT_READ) == -1)
		return 3;
	if (munmap(p, 8192) == -1)
		return 4;
	return 0;
}

static int
a_abort(void)
{
	abort();
}

/* A TLS session between two threads of a confined child: what the worker
 * does all day. OpenSSL was initialised before the sandbox (the parent
 * built tls_server_ctx); the client SSL_CTX is built inside it, as a
 * worker's reload would. */
static int tls_sp[2];

static void *
tls_server(void *arg)
{
	SSL *s = SSL_new(tls_server_ctx);
	char buf[5];
	int bad;

	if (s == NULL)
		return arg;
	SSL_set_fd(s, tls_sp[0]);
	bad = SSL_accept(s) != 1 || SSL_read(s, buf, 5) != 5 ||
	    SSL_write(s, buf, 5) != 5;
	SSL_shutdown(s);
	SSL_free(s);
	return bad ? arg : NULL;
}

static int
tls_session(SSL_CTX *cctx, int version)
{
	static int fail;
	pthread_t t;
	void *ret = NULL;
	char buf[5];
	SSL *c;
	int rc = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tls_sp) == -1 ||
	    pthread_create(&t, NULL, tls_server, &fail) != 0)
		return 2;
	SSL_CTX_set_min_proto_version(cctx, version);
	SSL_CTX_set_max_proto_version(cctx, version);
	if ((c = SSL_new(cctx)) == NULL || SSL_set_fd(c, tls_sp[1]) != 1)
		rc = 3;
	else if (SSL_connect(c) != 1 || SSL_write(c, "hello", 5) != 5 ||
	    SSL_read(c, buf, 5) != 5 || memcmp(buf, "hello", 5) != 0)
		rc = 4;
	SSL_free(c);
	close(tls_sp[1]);
	pthread_join(t, &ret);
	close(tls_sp[0]);
	return rc != 0 ? rc : ret != NULL ? 5 : 0;
}

static int
a_tls(void)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	int rc;

	if (tls_server_ctx == NULL || cctx == NULL)
		return 2;
	if ((rc = tls_session(cctx, TLS1_3_VERSION)) == 0)
		rc = tls_session(cctx, TLS1_2_VERSION);
	SSL_CTX_free(cctx);
	return rc == 0 ? 0 : 10 + rc;
}

/* clone3 is answered, not fatal: glibc falls back to clone. */
static int
a_clone3(void)
{
	uint64_t args[11];

	memset(args, 0, sizeof(args));
	args[4] = SIGCHLD;		/* exit_signal: a fork, if it ran */
	errno = 0;
	if (syscall(SYS_clone3, args, sizeof(args)) != -1)
		_exit(9);		/* the "forked" child, or the parent */
	return errno == ENOSYS ? 0 : 2;
}

static const struct {
	const char	*name;
	child_fn	 act;
	const char	*want;
} allowed[] = {
	{ "threads: create, allocate, join",	a_threads,	"exit 0" },
	{ "malloc 10 MiB, realloc 20 MiB",	a_malloc,	"exit 0" },
	{ "socket AF_INET/AF_INET6/AF_UNIX, socketpair AF_UNIX",
	    a_sockets, "exit 0" },
	{ "tcp: connect, accept4, options, names, send, shutdown",
	    a_tcp, "exit 0" },
	{ "descriptor passing over a socketpair", a_fd_passing, "exit 0" },
	{ "pipe, eventfd, write, writev, poll, read", a_pipe_io, "exit 0" },
	{ "fcntl GETFL/SETFL/GETFD/SETFD/DUPFD_CLOEXEC, fstat",
	    a_fcntl_fstat, "exit 0" },
	{ "getrandom, clocks, sleeps",		a_random_time,	"exit 0" },
	{ "mmap/mprotect/munmap without PROT_EXEC", a_mmap_rw,	"exit 0" },
	{ "clone3 answers ENOSYS",		a_clone3,	"exit 0" },
	{ "TLS 1.3 and 1.2 sessions between two threads", a_tls, "exit 0" },
	{ "abort() raises SIGABRT (tgkill self)", a_abort,	"signal ABRT" },
};

/* ---------------------------------------------------------- forbidden */

/* Each does one forbidden thing; surviving it means exit 0. */
static int
f_open(void)
{
	int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);

	(void)fd;
	return 0;
}

static int
f_stat_path(void)
{
	struct stat st;

	(void)stat("/etc/hostname", &st);
	return 0;
}

static int
f_execve(void)
{
	char *argv[] = { (char *)(uintptr_t)"/bin/true", NULL };

	syscall(SYS_execve, "/bin/true", argv, argv + 1);
	return 0;
}

static int
f_fork(void)
{
	if (syscall(SYS_fork) == 0)
		_exit(0);
	return 0;
}

static int
f_clone_fork(void)
{
	if (syscall(SYS_clone, (unsigned long)SIGCHLD, 0L, 0L, 0L, 0L) == 0)
		_exit(0);
	return 0;
}

static int
f_netlink(void)
{
	(void)socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
	return 0;
}

static int
f_packet(void)
{
	(void)socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return 0;
}

static int
f_mmap_exec(void)
{
	(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return 0;
}

static int
f_mprotect_exec(void)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 2;
	(void)mprotect(p, 4096, PROT_READ | PROT_EXEC);
	return 0;
}

static int
f_ioctl(void)
{
	int p[2], n;

	if (pipe2(p, O_CLOEXEC) == -1)
		return 2;
	(void)ioctl(p[0], FIONREAD, &n);
	return 0;
}

static int
f_bind(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s == -1)
		return 2;
	(void)bind(s, (struct sockaddr *)&a, sizeof(a));
	return 0;
}

static int
f_listen(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s == -1)
		return 2;
	(void)listen(s, 1);
	return 0;
}

static int
f_ptrace(void)
{
	(void)syscall(SYS_ptrace, 0L /* PTRACE_TRACEME */, 0L, 0L, 0L);
	return 0;
}

static int
f_kill_other(void)
{
	(void)kill(parent_pid, 0);
	return 0;
}

static int
f_tgkill_other(void)
{
	(void)syscall(SYS_tgkill, parent_pid, parent_pid, 0);
	return 0;
}

static int
f_fcntl_setown(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		return 2;
	(void)fcntl(p[0], F_SETOWN, parent_pid);
	return 0;
}

static int
f_unlink(void)
{
	(void)unlink("/nonexistent-tlsward-test");
	return 0;
}

static int
f_chmod(void)
{
	(void)chmod("/nonexistent-tlsward-test", 0777);
	return 0;
}

static int
f_setuid_root(void)
{
	(void)syscall(SYS_setuid, 0);
	return 0;
}

static int
f_prctl(void)
{
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	return 0;
}

/* Installing a SIGSYS handler after confinement would let code survive
 * the filter's trap: refused. */
static int
f_sigaction_sigsys(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGSYS, &sa, NULL);
	return 0;
}

static int
f_getppid(void)
{
	(void)getppid();
	return 0;
}

#if defined(__x86_64__)
/* The i386 ABI (int $0x80, getpid is 20 there): another architecture
 * to the filter. A kernel without IA32 emulation answers SIGSEGV. */
static int
f_i386_abi(void)
{
	long ret = 20;

	__asm__ volatile ("int $0x80" : "+a"(ret) : : "memory");
	return 0;
}

/* The x32 ABI: syscall numbers with bit 30 set (getpid is 39). */
static int
f_x32_abi(void)
{
	(void)syscall(0x40000000L + 39);
	return 0;
}
#endif

static const struct {
	const char	*name;
	child_fn	 act;
} forbidden[] = {
	{ "open(\"/etc/hostname\") (openat)",	f_open },
	{ "stat(\"/etc/hostname\") (newfstatat, no AT_EMPTY_PATH)",
	    f_stat_path },
	{ "execve",				f_execve },
	{ "fork",				f_fork },
	{ "clone without CLONE_THREAD",		f_clone_fork },
	{ "socket(AF_NETLINK)",			f_netlink },
	{ "socket(AF_PACKET)",			f_packet },
	{ "mmap PROT_EXEC",			f_mmap_exec },
	{ "mprotect PROT_EXEC",			f_mprotect_exec },
	{ "ioctl",				f_ioctl },
	{ "bind",				f_bind },
	{ "listen",				f_listen },
	{ "ptrace",				f_ptrace },
	{ "kill another process",		f_kill_other },
	{ "tgkill another process",		f_tgkill_other },
	{ "fcntl F_SETOWN",			f_fcntl_setown },
	{ "unlink",				f_unlink },
	{ "chmod",				f_chmod },
	{ "setuid(0)",				f_setuid_root },
	{ "prctl",				f_prctl },
	{ "getppid",				f_getppid },
	{ "sigaction(SIGSYS)",			f_sigaction_sigsys },
#if defined(__x86_64__)
	{ "i386 syscall ABI (int $0x80)",	f_i386_abi },
	{ "x32 syscall ABI",			f_x32_abi },
#endif
};

/* ---------------------------------------------------------- status */

/* The value of "Name:" in a /proc/PID/status text, or NULL. */
static const char *
status_field(const char *status, const char *name)
{
	static char val[256];
	const char *p = status;
	size_t n = strlen(name), len;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			p += strspn(p, "\t ");
			len = strcspn(p, "\n");
			if (len >= sizeof(val))
				len = sizeof(val) - 1;
			memcpy(val, p, len);
			while (len > 0 && (val[len - 1] == ' ' ||
			    val[len - 1] == '\t'))
				len--;
			val[len] = '\0';
			return val;
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return NULL;
}

/* What /proc/PID/status of a confined child must say. */
struct want_status {
	uid_t		 uid;		/* Uid: all four */
	gid_t		 gid;		/* Gid: all four */
	int		 no_groups;	/* Groups: must be empty */
	int		 bounded;	/* CapBnd must be zero */
	const char	*seccomp;	/* "2" filter, "0" none */
};

static void
check_ids(const char *what, const char *st, const char *field,
    unsigned id)
{
	char want[64];

	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", id, id, id, id);
	is_str(status_field(st, field), want, "%s: %s all %u", what, field,
	    id);
}

static void
check_status(const char *what, const char *st, pid_t pid,
    const struct want_status *w)
{
	static const char *const capsets[] = {
		"CapInh", "CapPrm", "CapEff", "CapAmb",
	};
	const char *v;
	char path[64];
	struct stat sb;
	size_t i;

	check_ids(what, st, "Uid", (unsigned)w->uid);
	check_ids(what, st, "Gid", (unsigned)w->gid);
	if (w->no_groups)
		is_str(status_field(st, "Groups"), "", "%s: no groups", what);
	for (i = 0; i < sizeof(capsets) / sizeof(capsets[0]); i++)
		is_str(status_field(st, capsets[i]), "0000000000000000",
		    "%s: %s empty", what, capsets[i]);
	if (w->bounded)
		is_str(status_field(st, "CapBnd"), "0000000000000000",
		    "%s: CapBnd empty", what);
	else
		diag("%s: CapBnd %s (no CAP_SETPCAP to clear it)", what,
		    status_field(st, "CapBnd"));
	is_str(status_field(st, "NoNewPrivs"), "1", "%s: NoNewPrivs", what);
	is_str(status_field(st, "Seccomp"), w->seccomp, "%s: Seccomp", what);
	if ((v = status_field(st, "Seccomp_filters")) == NULL)
		ok(1, "%s: Seccomp_filters # SKIP kernel does not show it",
		    what);
	else
		ok(atoi(v) >= (w->seccomp[0] == '2'), "%s: Seccomp_filters "
		    "%s", what, v);
	/* Not dumpable: the kernel gives /proc/PID/status (not the
	 * directory) to root, and root, this parent, has just read it. */
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	is_int(stat(path, &sb) == 0 ? (long long)sb.st_uid : -1, 0,
	    "%s: /proc/PID/status owned by root (not dumpable)", what);
}

/* Starts a held child, checks its status, lets it go, checks its end. */
static void
status_case(const char *what, const struct sbx_opts *o, child_fn before,
    const struct want_status *w)
{
	struct child c;
	char path[64], *st = NULL, r, err[256];
	size_t len;

	if (child_start(o, before, NULL, 1, &c) == -1) {
		ok(0, "%s: fork: %s", what, strerror(errno));
		return;
	}
	if (read(c.ready_fd, &r, 1) != 1) {
		ok(0, "%s: child did not enter the sandbox (%s)", what,
		    child_wait(&c));
		return;
	}
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)c.pid);
	if (file_read(path, 1 << 16, &st, &len, err, sizeof(err)) == -1)
		ok(0, "%s: %s", what, err);
	else
		check_status(what, st, c.pid, w);
	free(st);
	is_str(child_wait(&c), "exit 0", "%s: child ends cleanly", what);
}

static int
b_become_nobody(void)
{
	if (setgroups(0, NULL) == -1 ||
	    setresgid(nobody_gid, nobody_gid, nobody_gid) == -1 ||
	    setresuid(nobody_uid, nobody_uid, nobody_uid) == -1)
		return -1;
	return 0;
}

static void
test_status(void)
{
	struct sbx_opts o;
	struct want_status w;

	o = opts_mode(SBX_ENFORCE, 1);
	w = (struct want_status){ nobody_uid, nobody_gid, 1, 1, "2" };
	status_case("enforce, root to nobody", &o, NULL, &w);

	o = opts_mode(SBX_OFF, 1);
	w = (struct want_status){ nobody_uid, nobody_gid, 1, 1, "0" };
	status_case("off", &o, NULL, &w);

	/* Already unprivileged: nothing to switch, no CAP_SETPCAP. */
	o = opts_mode(SBX_ENFORCE, 0);
	w = (struct want_status){ nobody_uid, nobody_gid, 1, 0, "2" };
	status_case("non-root, change_id 0", &o, b_become_nobody, &w);

	/* Root told not to switch (a user namespace's root): stays uid 0
	 * and keeps its groups, but loses every capability, bounding too. */
	o = opts_mode(SBX_ENFORCE, 0);
	w = (struct want_status){ getuid(), getgid(), 0, 1, "2" };
	status_case("root, change_id 0", &o, NULL, &w);
}

/* ---------------------------------------------------------- landlock */

/* 0 if path opens (then it is closed, and removed if created), else the
 * errno. */
static int
l_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (fd == -1)
		return errno;
	close(fd);
	if (flags & O_CREAT)
		unlink(path);
	return 0;
}

/* The child: the steps before landlock, landlock, then two opens.
 * Writes sbx_landlock's result and the errno of each open to fd. */
static void __attribute__((noreturn))
landlock_child(int fd, const char *tmp)
{
	struct sbx_opts o = opts_mode(SBX_OFF, 1);
	int rep[3];
	char err[256];

	alarm(CHILD_ALARM_S);
	if (sbx_drop(&o, err, sizeof(err)) == -1 ||
	    sbx_harden(err, sizeof(err)) == -1) {
		dprintf(STDERR_FILENO, "# child: %s\n", err);
		_exit(EXIT_ENTER);
	}
	if ((rep[0] = sbx_landlock(err, sizeof(err))) == -1)
		dprintf(STDERR_FILENO, "# child: %s\n", err);
	rep[1] = l_open("/etc/hostname", O_RDONLY);
	rep[2] = l_open(tmp, O_WRONLY | O_CREAT | O_EXCL);
	_exit(write(fd, rep, sizeof(rep)) == sizeof(rep) ? 0 : 2);
}

static void
test_landlock(void)
{
	int p[2], rep[3] = { -2, -1, -1 };
	char tmp[64];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1) {
		ok(0, "landlock: pipe: %s", strerror(errno));
		return;
	}
	snprintf(tmp, sizeof(tmp), "/tmp/tlsward-landlock-%ld",
	    (long)getpid());
	fflush(stdout);
	if ((pid = fork()) == 0)
		landlock_child(p[1], tmp);
	close(p[1]);
	if (pid == -1 || read(p[0], rep, sizeof(rep)) != sizeof(rep))
		rep[0] = -2;
	close(p[0]);
	if (pid != -1)
		waitpid(pid, NULL, 0);
	ok(rep[0] == 0 || rep[0] == 1, "landlock: sbx_landlock returns 0 or 1"
	    " (got %d)", rep[0]);
	have_landlock = rep[0] == 1;
	if (!have_landlock) {
		ok(1, "landlock: open refused # SKIP kernel has no landlock");
		ok(1, "landlock: create refused # SKIP kernel has no landlock");
		return;
	}
	is_int(rep[1], EACCES, "landlock: open(\"/etc/hostname\") EACCES");
	is_int(rep[2], EACCES, "landlock: create in /tmp EACCES");
}

/* sbx_enter with mode off still applies landlock. */
static int
a_open_refused(void)
{
	int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);

	if (fd != -1)
		return 2;
	return errno == EACCES ? 0 : 3;
}

/* ---------------------------------------------------------- modes */

static void
test_modes_confined(void)
{
	struct sbx_opts o;

	o = opts_mode(SBX_LOG, 1);
	is_str(run_child(&o, NULL, f_getppid), "exit 0",
	    "log mode: a forbidden syscall (getppid) runs and is logged");
	is_str(run_child(&o, NULL, a_clone3), "exit 0",
	    "log mode: clone3 still answers ENOSYS");
	o = opts_mode(SBX_OFF, 1);
	is_str(run_child(&o, NULL, f_getppid), "exit 0",
	    "off mode: no filter (getppid runs)");
	if (have_landlock)
		is_str(run_child(&o, NULL, a_open_refused), "exit 0",
		    "off mode: landlock still refuses open (EACCES)");
	else
		ok(1, "off mode: landlock refuses open # SKIP no landlock");
}

/* A foreign syscall ABI that the kernel itself lacks (IA32 emulation
 * compiled out or disabled at boot) faults before any filter sees it:
 * a call that fails with no filter at all (SIGSEGV; under ASan, its
 * report and exit) means there is nothing to test. */
static int
abi_missing(const char *name, child_fn act)
{
	struct sbx_opts off = opts_mode(SBX_OFF, 1);

	return strstr(name, "ABI") != NULL &&
	    strcmp(run_child(&off, NULL, act), "exit 0") != 0;
}

static void
test_confinement(void)
{
	struct sbx_opts o = opts_mode(SBX_ENFORCE, 1);
	size_t i;

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		is_str(run_child(&o, NULL, allowed[i].act), allowed[i].want,
		    "allowed: %s", allowed[i].name);
	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		if (abi_missing(forbidden[i].name, forbidden[i].act)) {
			ok(1, "forbidden, killed: %s # SKIP the kernel has "
			    "no such ABI (it faults without a filter)",
			    forbidden[i].name);
			continue;
		}
		is_str(run_child(&o, NULL, forbidden[i].act), "signal SYS",
		    "forbidden, killed: %s", forbidden[i].name);
	}
}

/* ---------------------------------------------------------- more */

/* TSYNC: a thread that exists before sbx_enter is under the filter too. */
static int tsync_pipe[2];
static pthread_t tsync_thread;

static void *
tsync_wait(void *arg)
{
	char c;

	if (read(tsync_pipe[0], &c, 1) == 1)
		(void)getppid();	/* forbidden */
	return arg;
}

static int
b_start_thread(void)
{
	if (pipe2(tsync_pipe, O_CLOEXEC) == -1)
		return -1;
	return pthread_create(&tsync_thread, NULL, tsync_wait, NULL) == 0 ?
	    0 : -1;
}

static int
a_wake_thread(void)
{
	if (write(tsync_pipe[1], "g", 1) != 1)
		return 2;
	pthread_join(tsync_thread, NULL);
	return 0;
}

static void
test_more(void)
{
	struct sbx_opts o = opts_mode(SBX_ENFORCE, 1);
	char want[32];

	is_str(run_child(&o, b_start_thread, a_wake_thread), "signal SYS",
	    "TSYNC: an older thread's forbidden syscall kills the process");
	snprintf(want, sizeof(want), "exit %d", EXIT_ENTER);
	is_str(run_child(&o, b_become_nobody, NULL), want,
	    "change_id without root: sbx_enter fails");
	o.uid = 0;
	is_str(run_child(&o, NULL, NULL), want,
	    "change_id to uid 0: sbx_enter refuses");
}

/* ---------------------------------------------------------- pure */

static void
test_mode_parse(void)
{
	static const struct {
		const char	*in;
		int		 rc;
		enum sbx_mode	 mode;
	} cases[] = {
		{ "enforce",	0,	SBX_ENFORCE },
		{ "log",	0,	SBX_LOG },
		{ "off",	0,	SBX_OFF },
		{ "ENFORCE",	0,	SBX_ENFORCE },	/* like Postfix words */
		{ "Off",	0,	SBX_OFF },
		{ "",		-1,	SBX_ENFORCE },
		{ "strict",	-1,	SBX_ENFORCE },
		{ "enforce ",	-1,	SBX_ENFORCE },
		{ "of",		-1,	SBX_ENFORCE },
	};
	enum sbx_mode m;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = SBX_ENFORCE;
		rc = sbx_mode_parse(cases[i].in, &m);
		is_int(rc, cases[i].rc, "sbx_mode_parse(\"%s\")", cases[i].in);
		if (rc == 0)
			is_str(sbx_mode_name(m), sbx_mode_name(cases[i].mode),
			    "sbx_mode_parse(\"%s\") mode", cases[i].in);
	}
	is_str(sbx_mode_name(SBX_ENFORCE), "enforce", "sbx_mode_name enforce");
	is_str(sbx_mode_name(SBX_LOG), "log", "sbx_mode_name log");
	is_str(sbx_mode_name(SBX_OFF), "off", "sbx_mode_name off");
	is_str(sbx_mode_name((enum sbx_mode)42), "?", "sbx_mode_name bad");
}

static void
test_user_lookup(void)
{
	static const char *const bad[] = {
		"", "root", "0", "no-such-user-tlsward", "4294967295", "12x",
	};
	char err[256];
	uid_t uid;
	gid_t gid;
	size_t i;

	is_int(sbx_user_lookup("nobody", &nobody_uid, &nobody_gid, err,
	    sizeof(err)), 0, "sbx_user_lookup(\"nobody\")");
	uid = 0;
	gid = 0;
	is_int(sbx_user_lookup("65534", &uid, &gid, err, sizeof(err)), 0,
	    "sbx_user_lookup(\"65534\")");
	is_int(uid, nobody_uid, "numeric uid: uid");
	is_int(gid, nobody_gid, "numeric uid: primary gid");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		is_int(sbx_user_lookup(bad[i], &uid, &gid, err, sizeof(err)),
		    -1, "sbx_user_lookup(\"%s\") fails", bad[i]);
		diag("%s", err);
	}
}

static void
test_syscall_name(void)
{
	is_str(sbx_syscall_name(SYS_openat), "openat", "sbx_syscall_name openat");
	is_str(sbx_syscall_name(SYS_execve), "execve", "sbx_syscall_name execve");
	is_str(sbx_syscall_name(99999), "?", "sbx_syscall_name unknown");
}

/* Removes the sanitizer-only group (a blank line, its title, its rules)
 * so a sanitizer build compares the production policy too. */
static void
strip_sanitizer_group(char *s)
{
	char *start = strstr(s, "\n\n# sanitizer runtime"), *end;

	if (start == NULL)
		return;
	end = strstr(start + 2, "\n\n");
	if (end == NULL)
		return;
	memmove(start, end, strlen(end) + 1);
}

/* Compares line by line; reports the first difference. */
static void
compare_lines(const char *got, const char *want, const char *what)
{
	size_t line = 1, gl, wl;

	for (;;) {
		gl = strcspn(got, "\n");
		wl = strcspn(want, "\n");
		if (gl != wl || strncmp(got, want, gl) != 0) {
			ok(0, "%s", what);
			diag("line %zu: got \"%.*s\"", line, (int)gl, got);
			diag("line %zu: want \"%.*s\"", line, (int)wl, want);
			return;
		}
		if (got[gl] == '\0' || want[wl] == '\0')
			break;
		got += gl + 1;
		want += wl + 1;
		line++;
	}
	ok(got[gl] == want[wl], "%s", what);
}

/* SBX_POLICY_OUT=FILE: the printed policy is also written to FILE, for
 * regenerating the golden file from a build without sanitizers. */
static void
write_policy(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fputs(text, fp) == EOF || fclose(fp) == EOF)
		diag("%s: %s", path, strerror(errno));
}

/* $TESTDATA (the Makefile sets it), else t/data next to this source. */
static void
golden_path(char *path, size_t len)
{
	const char *dir = getenv("TESTDATA"), *f = __FILE__;
	const char *tail = "unit/test_sandbox.c";
	size_t n = strlen(f), tn = strlen(tail);

	if (dir != NULL)
		snprintf(path, len, "%s/seccomp.policy", dir);
	else if (n >= tn && strcmp(f + n - tn, tail) == 0)
		snprintf(path, len, "%.*sdata/seccomp.policy", (int)(n - tn), f);
	else
		snprintf(path, len, "t/data/seccomp.policy");
}

static void
test_golden(void)
{
	char path[4096], err[256], *want = NULL, *got = NULL;
	size_t wlen, glen;
	FILE *fp;

	golden_path(path, sizeof(path));
	if ((fp = open_memstream(&got, &glen)) == NULL) {
		ok(0, "open_memstream: %s", strerror(errno));
		return;
	}
	sbx_policy_print(fp);
	fclose(fp);
	if (getenv("SBX_POLICY_OUT") != NULL)
		write_policy(getenv("SBX_POLICY_OUT"), got);
	strip_sanitizer_group(got);
	if (file_read(path, 1 << 20, &want, &wlen, err, sizeof(err)) == -1)
		ok(0, "golden policy: %s", err);
	else
		compare_lines(got, want, "sbx_policy_print matches "
		    "t/data/seccomp.policy");
	free(want);
	free(got);
}

/* ---------------------------------------------------------- main */

/* The server context of the TLS case: a fresh P-256 key and a
 * self-signed certificate, in memory. */
static SSL_CTX *
tls_server_new(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	X509_NAME *name;
	int good;

	good = key != NULL && x != NULL && ctx != NULL &&
	    (name = X509_get_subject_name(x)) != NULL &&
	    X509_set_version(x, 2) == 1 &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 3600) != NULL &&
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"sandbox", -1, -1, 0) == 1 &&
	    X509_set_issuer_name(x, name) == 1 &&
	    X509_set_pubkey(x, key) == 1 &&
	    X509_sign(x, key, EVP_sha256()) > 0 &&
	    SSL_CTX_use_certificate(ctx, x) == 1 &&
	    SSL_CTX_use_PrivateKey(ctx, key) == 1;
	X509_free(x);
	EVP_PKEY_free(key);
	if (!good) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int
listen_loopback(void)
{
	socklen_t len = sizeof(listen_addr);

	listen_addr.sin_family = AF_INET;
	listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd == -1 ||
	    bind(listen_fd, (struct sockaddr *)&listen_addr, len) == -1 ||
	    listen(listen_fd, 8) == -1 ||
	    getsockname(listen_fd, (struct sockaddr *)&listen_addr, &len) == -1)
		return -1;
	return 0;
}

int
main(void)
{
	/* As in the worker (before its sandbox): a TLS peer that closes
	 * first must not kill the other side with SIGPIPE. Inherited by
	 * every child. */
	signal(SIGPIPE, SIG_IGN);
	parent_pid = getpid();
	test_mode_parse();
	test_user_lookup();
	test_syscall_name();
	test_golden();
	if (geteuid() != 0) {
		ok(1, "confinement # SKIP needs root");
		return done();
	}
	if (!ok(listen_loopback() == 0, "loopback listener for the tcp case"))
		diag("%s", strerror(errno));
	tls_server_ctx = tls_server_new();
	ok(tls_server_ctx != NULL, "TLS server context for the TLS case");
	test_status();
	test_landlock();
	test_modes_confined();
	test_confinement();
	test_more();
	SSL_CTX_free(tls_server_ctx);
	return done();
}
