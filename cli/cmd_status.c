/*
 * cmd_status.c - "tlsward status": asks the running tlswardd over its
 * admin socket (tlsproxy_admin_socket) and prints per service the
 * sessions, handshake outcomes, bytes and certificates, and the pool;
 * --json for machines (the reply is read and printed by status_fmt.c).
 * Also ctl_request(), the admin-socket client that "tlsward reload"
 * shares.
 *
 * Runs in: the CLI, as root or the daemon's user (the socket is 0600 and
 * the daemon checks the peer's uid).
 *
 * The daemon answers with records, one per line: a type word, then
 * NAME=VALUE fields, values %XX-encoded (see tlswardd(8), STATUS).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "status_fmt.h"
#include "util.h"

#define CTL_PROTO	"tlsward-admin 1"
#define CTL_MAX_REPLY	(4u << 20)
#define CTL_TIMEOUT_S	60	/* a reload builds every TLS context */

/* The admin socket: -s, else tlsproxy_admin_socket of the configuration.
 * Caller frees; NULL (reported) when there is none. */
static char *
ctl_socket_path(const struct cli *cli, const char *opt)
{
	struct conf *cf;
	char err[1024], *v, *path = NULL;

	if (opt != NULL)
		return xstrdup(opt);
	if ((cf = cli_conf_load(cli)) == NULL)
		return NULL;
	if (conf_get(cf, "tlsproxy_admin_socket", &v, err, sizeof(err)) < 0)
		cli_fail("%s", err);
	else if (*v == '\0') {
		cli_fail("tlsproxy_admin_socket is empty in %s: the daemon has "
		    "no admin socket (send it SIGHUP to reload)",
		    conf_main_path(cf));
		free(v);
	} else {
		path = conf_path(cf, v);
		free(v);
	}
	conf_free(cf);
	return path;
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un sun;
	struct timeval tv = { CTL_TIMEOUT_S, 0 };
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* "tlsward-admin 1 CMD[ config=DIR]\n": the instance the request is for
 * (see ctl_request). Caller frees. */
static char *
ctl_request_line(const struct cli *cli, const char *sock_opt,
    const char *cmd)
{
	struct buf b;
	char *canon;

	buf_init(&b);
	buf_addf(&b, "%s %s", CTL_PROTO, cmd);
	if (sock_opt == NULL || cli->dir_named) {
		canon = conf_dir_canonical(cli->dir);
		buf_adds(&b, " config=");
		buf_add_pct(&b, canon);
		free(canon);
	}
	buf_adds(&b, "\n");
	return buf_take(&b);
}

int
ctl_request(const struct cli *cli, const char *sock_opt, const char *cmd,
    char **replyp)
{
	char *path, *req, chunk[4096];
	struct buf b;
	ssize_t n;
	int fd;

	*replyp = NULL;
	if ((path = ctl_socket_path(cli, sock_opt)) == NULL)
		return -1;
	if ((fd = ctl_connect(path)) < 0) {
		cli_fail("cannot reach tlswardd at %s: %s%s%s%s", path,
		    strerror(errno), errno == ENOENT || errno == ECONNREFUSED ?
		    " (is a tlswardd running with the configuration in " :
		    errno == EACCES ? " (root or the daemon's user only)" : "",
		    errno == ENOENT || errno == ECONNREFUSED ? cli->dir : "",
		    errno == ENOENT || errno == ECONNREFUSED ? "?)" : "");
		free(path);
		return -1;
	}
	req = ctl_request_line(cli, sock_opt, cmd);
	buf_init(&b);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		n = -1;
	else
		while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0 &&
		    b.len + (size_t)n <= CTL_MAX_REPLY)
			buf_add(&b, chunk, (size_t)n);
	free(req);
	close(fd);
	if (n < 0 || b.len == 0) {
		cli_fail("no answer from tlswardd at %s%s%s", path,
		    n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		free(path);
		buf_fini(&b);
		return -1;
	}
	free(path);
	*replyp = buf_take(&b);
	return 0;
}

int
cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	int ch, json = 0, quiet = 0, rc;
	char *reply;

	while ((ch = getopt_long(argc, argv, "jqs:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 's':
			sock = optarg;
			break;
		default:
			return cli_usage("status");
		}
	}
	if (optind != argc)
		return cli_usage("status");
	if (ctl_request(cli, sock, "status", &reply) < 0)
		return CLI_EXIT_FAIL;
	rc = status_print(reply, quiet ? STATUS_QUIET : json ? STATUS_JSON :
	    STATUS_TEXT);
	free(reply);
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
