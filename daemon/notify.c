/*
 * notify.c - the sd_notify(3) protocol, written out: one datagram of
 * "KEY=VALUE\n" lines to the AF_UNIX socket named by NOTIFY_SOCKET (a
 * path, or "@name" for the abstract namespace). systemd learns our pid
 * from the kernel (SO_PASSCRED on its side), so nothing else is needed.
 * Not libsystemd: this is forty lines, and without it the privileged
 * supervisor has no extra dependency (libsystemd brings liblz4, libzstd,
 * libgcrypt, ...) and the same binary runs in a minimal container.
 *
 * Runs in: the privileged supervisor. Owns the notification socket.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

static struct {
	int			 fd;		/* -1: not notifying */
	struct sockaddr_un	 sun;
	socklen_t		 sunlen;
	int64_t			 wd_interval_ms;	/* 0: no watchdog */
	int64_t			 wd_next_ms;
} N = { -1, { 0 }, 0, 0, 0 };

/* WATCHDOG_USEC/2 in ms, if the watchdog is for this process. */
static void
watchdog_init(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	long long v;

	if (usec == NULL || (v = atoll(usec)) <= 0)
		return;
	if (pid != NULL && atol(pid) != (long)getpid())
		return;
	N.wd_interval_ms = v / 2000 > 0 ? v / 2000 : 1;
	N.wd_next_ms = 0;	/* the first one at once */
}

void
notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;

	if (path != NULL && (path[0] == '/' || path[0] == '@') &&
	    (len = strlen(path)) < sizeof(N.sun.sun_path)) {
		N.sun.sun_family = AF_UNIX;
		memcpy(N.sun.sun_path, path, len);
		if (path[0] == '@')	/* abstract: a leading NUL, no final */
			N.sun.sun_path[0] = '\0';
		N.sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    len + (path[0] == '/'));
		N.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (N.fd < 0)
			log_warn("NOTIFY_SOCKET: socket");
		else
			watchdog_init();
	} else if (path != NULL)
		log_warnx("NOTIFY_SOCKET=\"%s\": not an absolute path or "
		    "@abstract name; not notifying", path);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

void
notify_disable(void)
{
	if (N.fd >= 0)
		close(N.fd);
	N.fd = -1;
}

/* Sends one message; a failure is logged once per kind of errno, never
 * fatal (the service manager may be gone or restarting). */
static void
notify_send(const char *msg)
{
	static int last_errno;

	if (N.fd < 0)
		return;
	if (sendto(N.fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&N.sun, N.sunlen) < 0) {
		if (errno != last_errno)
			log_warn("NOTIFY_SOCKET: cannot notify the service "
			    "manager");
		last_errno = errno;
	} else
		last_errno = 0;
}

/* "HEAD\nSTATUS=status" with newlines in status made spaces. */
static void
notify_with_status(const char *head, const char *status)
{
	char msg[1024], *p;
	int n;

	n = snprintf(msg, sizeof(msg), "%s%sSTATUS=", head,
	    head[0] != '\0' ? "\n" : "");
	if (n > 0 && (size_t)n < sizeof(msg)) {
		snprintf(msg + n, sizeof(msg) - (size_t)n, "%s", status);
		for (p = msg + n; *p != '\0'; p++)
			if (*p == '\n')
				*p = ' ';
	}
	notify_send(msg);
}

void
notify_ready(const char *status)
{
	notify_with_status("READY=1", status);
}

void
notify_reloading(void)
{
	struct timespec ts;
	char head[128];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(head, sizeof(head), "RELOADING=1\nMONOTONIC_USEC=%lld",
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	notify_with_status(head, "reloading the configuration");
}

void
notify_stopping(const char *status)
{
	notify_with_status("STOPPING=1", status);
}

void
notify_status(const char *status)
{
	notify_with_status("", status);
}

int
notify_watchdog_timeout(int64_t now_ms)
{
	if (N.fd < 0 || N.wd_interval_ms == 0)
		return -1;
	return N.wd_next_ms > now_ms ? (int)(N.wd_next_ms - now_ms) : 0;
}

void
notify_watchdog(int64_t now_ms)
{
	if (N.fd < 0 || N.wd_interval_ms == 0 || now_ms < N.wd_next_ms)
		return;
	notify_send("WATCHDOG=1");
	N.wd_next_ms = now_ms + N.wd_interval_ms;
}
