/*
 * admin.c - PRIVILEGED: the administration socket of the supervisor.
 *
 * Runs in: the privileged supervisor, from its poll loop. Owns the
 * listening socket and, for the length of one request, the client's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "admin.h"
#include "log.h"
#include "util.h"

#define ADMIN_READ_MS	2000	/* a client has this long to ask */
#define ADMIN_SEND_S	5	/* and to take the answer */

static dev_t admin_dev;		/* the socket file we made, to remove */
static ino_t admin_ino;

/* Creates the socket's directory when it is missing (one level:
 * /run/tlswardd without systemd's RuntimeDirectory=). */
static int
admin_dir(const char *path, char *err, size_t errlen)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int rc = 0;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			rc = errf_errno(err, errlen, "admin socket: mkdir %s",
			    dir);
	}
	free(dir);
	return rc;
}

/* 1 if a daemon answers on sun, 0 if the file is stale. */
static int
admin_alive(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), alive;

	if (fd < 0)
		return 0;
	alive = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return alive;
}

/* Removes a stale socket file at path; -1 for anything else. */
static int
admin_clear(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(sun->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : errf_errno(err, errlen,
		    "admin socket %s", sun->sun_path);
	if (!S_ISSOCK(st.st_mode))
		return errf(err, errlen, "admin socket %s: exists and is not a "
		    "socket", sun->sun_path);
	if (admin_alive(sun))
		return errf(err, errlen, "admin socket %s: in use by another "
		    "tlswardd", sun->sun_path);
	if (unlink(sun->sun_path) < 0)
		return errf_errno(err, errlen, "admin socket %s: unlink",
		    sun->sun_path);
	return 0;
}

int
admin_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return errf(err, errlen, "admin socket %s: path too long", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);	/* length checked */
	if (admin_dir(path, err, errlen) < 0 ||
	    admin_clear(&sun, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errf_errno(err, errlen, "admin socket: socket");
	/* 0600 before listen(): nobody else can connect in between. */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 16) < 0 ||
	    lstat(path, &st) < 0) {
		errf_errno(err, errlen, "admin socket %s", path);
		close(fd);
		return -1;
	}
	admin_dev = st.st_dev;
	admin_ino = st.st_ino;
	return fd;
}

/* Root and our own user only. */
static int
peer_allowed(int cfd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0) {
		log_warn("admin socket: SO_PEERCRED");
		return 0;
	}
	if (uc.uid == 0 || uc.uid == geteuid())
		return 1;
	log_warnx("admin socket: refused a request from uid %lu (pid %ld)",
	    (unsigned long)uc.uid, (long)uc.pid);
	return 0;
}

/* Reads one line within ADMIN_READ_MS; 0 with the line in buf. */
static int
read_line(int cfd, char *buf, size_t len)
{
	struct pollfd pf = { cfd, POLLIN, 0 };
	size_t got = 0;
	ssize_t n;
	char *nl;

	while (got + 1 < len) {
		if (poll(&pf, 1, ADMIN_READ_MS) <= 0)
			return -1;
		if ((n = recv(cfd, buf + got, len - 1 - got, 0)) <= 0) {
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			return -1;
		}
		got += (size_t)n;
		buf[got] = '\0';
		if ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			return 0;
		}
	}
	return -1;
}

int
admin_accept(int lfd, char *cmd, size_t cmdlen)
{
	char line[ADMIN_REQ_MAX];
	struct timeval tv = { ADMIN_SEND_S, 0 };
	size_t plen = strlen(ADMIN_PROTO);
	int cfd;

	if ((cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("admin socket: accept");
		return -1;
	}
	(void)setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!peer_allowed(cfd)) {
		admin_reply(cfd, "error permission denied\nfailed errors=1\n", 0);
		return -1;
	}
	if (read_line(cfd, line, sizeof(line)) < 0 ||
	    strncmp(line, ADMIN_PROTO " ", plen + 1) != 0) {
		log_warnx("admin socket: malformed request");
		admin_reply(cfd, "error malformed request (want \""
		    ADMIN_PROTO " COMMAND\")\nfailed errors=1\n", 0);
		return -1;
	}
	snprintf(cmd, cmdlen, "%s", line + plen + 1);
	return cfd;
}

void
admin_reply(int cfd, const char *text, size_t len)
{
	size_t off = 0;
	ssize_t n;

	if (len == 0)
		len = strlen(text);
	while (off < len) {
		n = send(cfd, text + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* the client went away or stalled */
		off += (size_t)n;
	}
	close(cfd);
}

void
admin_close(int lfd, const char *path)
{
	struct stat st;

	if (lfd < 0)
		return;
	close(lfd);
	/* Not a file another daemon has made since. */
	if (lstat(path, &st) == 0 && st.st_dev == admin_dev &&
	    st.st_ino == admin_ino)
		unlink(path);
}
