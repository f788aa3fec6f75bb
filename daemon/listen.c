/*
 * listen.c - TCP and UNIX-domain listeners.
 *
 * Runs in: the privileged supervisor. Owns nothing after returning: the
 * descriptors go to the worker.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "util.h"

int
listen_mode_parse(const char *s, mode_t *modep)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 8);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < 0 || v > 0777)
		return -1;
	*modep = (mode_t)v;
	return 0;
}

static int
listen_inet(const struct svc_addr *a, char *err, size_t errlen)
{
	struct addrinfo hints, *res;
	const char *host = strcmp(a->host, "*") == 0 ? NULL : a->host;
	int fd, on = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, a->port, &hints, &res)) != 0)
		return errf(err, errlen, "listen %s: %s", a->text,
		    gai_strerror(rc));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		freeaddrinfo(res);
		return errf_errno(err, errlen, "listen %s: socket", a->text);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (res->ai_family == AF_INET6)	/* "[::1]:p" means IPv6 only */
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		errf_errno(err, errlen, "listen %s", a->text);
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* Removes a stale socket file; refuses to remove anything else. */
static int
unlink_stale(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 :
		    errf_errno(err, errlen, "listen unix:%s", path);
	if (!S_ISSOCK(st.st_mode))
		return errf(err, errlen, "listen unix:%s: exists and is not a "
		    "socket", path);
	if (unlink(path) < 0)
		return errf_errno(err, errlen, "listen unix:%s: unlink", path);
	return 0;
}

int
listen_unix_attr_apply(const char *path, const struct listen_unix_attr *ua,
    char *err, size_t errlen)
{
	if (chmod(path, ua->mode) < 0 ||
	    ((ua->uid != (uid_t)-1 || ua->gid != (gid_t)-1) &&
	     chown(path, ua->uid, ua->gid) < 0))
		return errf_errno(err, errlen, "listen unix:%s", path);
	return 0;
}

int
listen_unix_remove(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;	/* gone already, or not ours to remove */
	if (unlink(path) < 0)
		return errf_errno(err, errlen, "unix:%s: unlink", path);
	return 0;
}

static int
listen_unix(const struct svc_addr *a, const struct listen_unix_attr *ua,
    char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(a->path) >= sizeof(sun.sun_path))
		return errf(err, errlen, "listen unix:%s: path too long",
		    a->path);
	memcpy(sun.sun_path, a->path, strlen(a->path) + 1);	/* checked */
	if (unlink_stale(a->path, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errf_errno(err, errlen, "listen unix:%s: socket",
		    a->path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(a->path, ua->mode) < 0 ||
	    ((ua->uid != (uid_t)-1 || ua->gid != (gid_t)-1) &&
	     chown(a->path, ua->uid, ua->gid) < 0) ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		errf_errno(err, errlen, "listen unix:%s", a->path);
		close(fd);
		return -1;
	}
	return fd;
}

int
listen_open(const struct svc_addr *a, const struct listen_unix_attr *ua,
    char *err, size_t errlen)
{
	switch (a->kind) {
	case SVC_ADDR_INET:
		return listen_inet(a, err, errlen);
	case SVC_ADDR_UNIX:
		return listen_unix(a, ua, err, errlen);
	default:
		return errf(err, errlen, "listen %s: not a listen address",
		    a->text);
	}
}
