/*
 * systemd.c - PRIVILEGED: the socket-activation half of the systemd
 * protocol (sd_listen_fds_with_names), written out rather than linked
 * from libsystemd: it is three environment variables and a range of
 * descriptors starting at 3, and the supervisor then needs no extra
 * library (libsystemd pulls in liblz4, libzstd, libgcrypt ...), which
 * keeps the privileged process small and the container image minimal.
 *
 * Runs in: the privileged supervisor, at start (init) and at every
 * configuration load (take). Owns the passed descriptors.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "systemd.h"
#include "util.h"

#define SD_LISTEN_FDS_START	3	/* sd_listen_fds(3) */
#define SD_LISTEN_MAX		256

struct sd_sock {
	int	 fd;
	char	*name;		/* FileDescriptorName=, "unknown" if none */
	int	 used;		/* taken since systemd_listen_begin */
};

static struct {
	struct sd_sock	*v;
	size_t		 n;
	char		*why_none;	/* why nothing was taken, for errors */
} SD;

/* LISTEN_FDNAMES entry i (colon-separated), or "unknown" as systemd
 * names descriptors without FileDescriptorName=. */
static char *
fd_name(const char *names, size_t i)
{
	const char *p = names, *end;

	while (p != NULL && i-- > 0)
		if ((p = strchr(p, ':')) != NULL)
			p++;
	if (p == NULL || *p == '\0' || *p == ':')
		return xstrdup("unknown");
	end = strchr(p, ':');
	return end != NULL ? xstrndup(p, (size_t)(end - p)) : xstrdup(p);
}

/* Reads the variables; 0 and *np, or -1 with SD.why_none set. */
static int
env_parse(size_t *np)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char *end;
	unsigned long v;

	if (fds == NULL) {
		SD.why_none = xstrdup("LISTEN_FDS is not set: tlswardd was not "
		    "started by socket activation");
		return -1;
	}
	errno = 0;
	v = pid != NULL ? strtoul(pid, &end, 10) : 0;
	if (pid == NULL || errno != 0 || *end != '\0' ||
	    (pid_t)v != getpid()) {
		SD.why_none = xasprintf("LISTEN_PID (%s) does not name this "
		    "process (%ld)", pid != NULL ? pid : "unset",
		    (long)getpid());
		return -1;
	}
	v = strtoul(fds, &end, 10);
	if (*fds == '\0' || *end != '\0' || v > SD_LISTEN_MAX) {
		SD.why_none = xasprintf("LISTEN_FDS=\"%s\" is not a count", fds);
		return -1;
	}
	*np = v;
	return 0;
}

int
systemd_listen_init(void)
{
	const char *names = getenv("LISTEN_FDNAMES");
	size_t i, n;
	int fd, fl;

	if (env_parse(&n) == 0) {
		SD.v = xcalloc(n ? n : 1, sizeof(*SD.v));
		for (i = 0; i < n; i++) {
			fd = SD_LISTEN_FDS_START + (int)i;
			/* Not inherited by the worker's exec; the acceptor
			 * loops on accept4 until EAGAIN. */
			if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
			    (fl = fcntl(fd, F_GETFL)) < 0 ||
			    fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
				log_warn("systemd passed descriptor %d", fd);
				continue;
			}
			SD.v[SD.n].fd = fd;
			SD.v[SD.n++].name = fd_name(names, i);
		}
		if (SD.n == 0)
			SD.why_none = xstrdup("LISTEN_FDS is 0");
	}
	/* Not for the worker, nor for anything else we start. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)SD.n;
}

/* close_range(2) where the kernel has it (5.9), else one by one. */
static void
close_from_to(unsigned int lo, unsigned int hi)
{
	long max;
	unsigned int fd;

	if (lo > hi || close_range(lo, hi, 0) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 1 << 20)
		max = 1 << 20;
	for (fd = lo; fd <= hi && fd < (unsigned int)max; fd++)
		(void)close((int)fd);
}

void
systemd_close_inherited(void)
{
	unsigned int next = STDERR_FILENO + 1;
	size_t i;

	/* SD.v is in ascending descriptor order. */
	for (i = 0; i < SD.n; i++) {
		if (SD.v[i].fd > 0 && (unsigned int)SD.v[i].fd > next)
			close_from_to(next, (unsigned int)SD.v[i].fd - 1);
		next = (unsigned int)SD.v[i].fd + 1;
	}
	close_from_to(next, ~0U);
}

void
systemd_listen_begin(void)
{
	size_t i;

	for (i = 0; i < SD.n; i++)
		SD.v[i].used = 0;
}

/* 0 if fd is a listening stream socket. */
static int
is_stream_listener(int fd)
{
	int type = 0, acc = 0;
	socklen_t len = sizeof(type), alen = sizeof(acc);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &alen) < 0)
		return -1;
	return type == SOCK_STREAM && acc ? 0 : -1;
}

/* The names passed, "a, b", into buf. */
static const char *
names_list(char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < SD.n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    i ? ", " : "", SD.v[i].name);
	return buf;
}

int
systemd_listen_take(const char *name, char *err, size_t errlen)
{
	char names[512];
	size_t i;

	if (SD.n == 0)
		return errf(err, errlen, "no socket was passed by systemd (%s; "
		    "use a .socket unit with FileDescriptorName=%s)",
		    SD.why_none != NULL ? SD.why_none : "none", name);
	for (i = 0; i < SD.n; i++) {
		if (strcmp(SD.v[i].name, name) != 0)
			continue;
		if (is_stream_listener(SD.v[i].fd) < 0)
			return errf(err, errlen, "the socket systemd passed as "
			    "\"%s\" (fd %d) is not a listening stream socket "
			    "(ListenStream= with Accept=no)", name,
			    SD.v[i].fd);
		SD.v[i].used = 1;
		return SD.v[i].fd;
	}
	return errf(err, errlen, "systemd passed no socket named \"%s\" "
	    "(FileDescriptorName= of the sockets passed: %s)", name,
	    names_list(names, sizeof(names)));
}

void
systemd_listen_report_unused(void)
{
	size_t i;

	for (i = 0; i < SD.n; i++)
		if (!SD.v[i].used)
			log_warnx("systemd passed a socket named \"%s\" (fd %d) "
			    "that no services.cf entry uses (its listen column "
			    "must be \"systemd\" and its name \"%s\")",
			    SD.v[i].name, SD.v[i].fd, SD.v[i].name);
}
