/*
 * smtp-starttls-demo.c - a tiny SMTP responder that does STARTTLS by
 * handing its client's socket to tlswardd (libtlsward-client), an
 * example for integrators.
 *
 *   smtp-starttls-demo --listen 127.0.0.1:PORT --handoff SOCKET_PATH
 *       --spool DIR [--port-file FILE] [--profile NAME]
 *
 * Runs as: an ordinary unprivileged program; one child process per
 * connection. It speaks SMTP in plaintext: 220, EHLO (offering
 * STARTTLS), and on STARTTLS it answers 220, hands the socket over and
 * goes on over the hand-off connection, where EHLO, MAIL, RCPT, DATA and
 * QUIT arrive decrypted. Each message is stored as DIR/msg-PID-N.eml
 * (exactly the DATA content, dot-unstuffed) with DIR/msg-PID-N.env
 * beside it (envelope and the TLS facts from tlswardd's report). MAIL
 * is refused until TLS is on.
 *
 * STARTTLS injection: whatever the client sent after "STARTTLS\r\n"
 * that this program had already read is discarded before the hand-off
 * (and logged), never treated as a command that came over TLS.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tlsward-client.h"

#define LINE_MAX_SMTP	1000		/* RFC 5321 text line */
#define READ_TIMEOUT_MS	(60 * 1000)
#define HANDOFF_MS	(30 * 1000)
#define MSG_MAX		(10 * 1024 * 1024)

/* What the responder was told. */
struct opts {
	const char	*listen;
	const char	*handoff;
	const char	*spool;
	const char	*port_file;
	const char	*profile;
};

/* One SMTP connection. */
struct conn {
	int		 fd;		/* the client, later the hand-off */
	char		 peer[80];	/* "[addr]:port" */
	char		 buf[4096];	/* read ahead */
	size_t		 len;
	int		 tls;		/* after a hand-off */
	struct tw_outcome tlsinfo;
	char		 from[LINE_MAX_SMTP];
	char		 rcpt[LINE_MAX_SMTP];
	int		 nmsg;
};

static void
say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "smtp-starttls-demo[%ld]: ", (long)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int
reply(struct conn *c, const char *text)
{
	size_t len = strlen(text);

	return send(c->fd, text, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* One line without its CRLF into line. 1, 0 at EOF, -1 on error or an
 * overlong line. */
static int
read_line(struct conn *c, char *line, size_t max)
{
	struct pollfd pf = { c->fd, POLLIN, 0 };
	char *nl;
	ssize_t n;
	size_t k;

	for (;;) {
		if ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
			k = (size_t)(nl - c->buf);
			if (k >= max)
				return -1;
			memcpy(line, c->buf, k);
			line[k > 0 && line[k - 1] == '\r' ? k - 1 : k] = '\0';
			memmove(c->buf, nl + 1, c->len - k - 1);
			c->len -= k + 1;
			return 1;
		}
		if (c->len == sizeof(c->buf))
			return -1;
		if (poll(&pf, 1, READ_TIMEOUT_MS) <= 0)
			return -1;
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n <= 0)
			return n == 0 ? 0 : -1;
		c->len += (size_t)n;
	}
}

/* STARTTLS: 220, drop what was read ahead, hand the socket over, and go
 * on over the hand-off connection. */
static int
starttls(struct conn *c, const struct opts *o)
{
	struct tw_request req;
	struct tw_error err;
	int fd;

	if (reply(c, "220 2.0.0 Ready to start TLS\r\n") < 0)
		return -1;
	if (c->len > 0) {
		say("%s: discarding %zu bytes sent after STARTTLS before the "
		    "TLS handshake", c->peer, c->len);
		c->len = 0;
	}
	tw_request_init(&req, TW_ROLE_SERVER, c->peer);
	req.profile = o->profile;
	fd = tw_handoff(o->handoff, &req, c->fd, HANDOFF_MS, &c->tlsinfo, &err);
	if (fd < 0) {
		say("%s: hand-off failed: %s: %s", c->peer,
		    tw_code_name(err.code), err.text);
		return -1;
	}
	close(c->fd);	/* tlswardd has its own copy */
	c->fd = fd;
	c->tls = 1;
	c->from[0] = c->rcpt[0] = '\0';
	say("%s: TLS: %s %s (%d bits) %s", c->peer, c->tlsinfo.protocol,
	    c->tlsinfo.cipher, c->tlsinfo.bits, c->tlsinfo.trust);
	return 0;
}

/* Writes path from data atomically (temporary name, rename). */
static int
spool_write(const char *dir, const char *name, const char *data, size_t len)
{
	char tmp[4096], path[4096];
	FILE *fp;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(tmp, "w")) == NULL)
		return -1;
	ok = fwrite(data, 1, len, fp) == len;
	if (fclose(fp) != 0 || !ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* DATA: reads up to ".", stores message and envelope. */
static int
data(struct conn *c, const struct opts *o)
{
	char line[LINE_MAX_SMTP + 2], name[64], *msg = NULL, *m, env[2048];
	size_t len = 0, k;
	int rc;

	if (reply(c, "354 End data with <CR><LF>.<CR><LF>\r\n") < 0)
		return -1;
	while ((rc = read_line(c, line, sizeof(line))) == 1) {
		if (strcmp(line, ".") == 0)
			break;
		k = strlen(line);
		if (len + k + 2 > MSG_MAX) {
			free(msg);
			return reply(c, "552 5.3.4 Message too big\r\n");
		}
		if ((m = realloc(msg, len + k + 3)) == NULL) {
			free(msg);
			return -1;
		}
		msg = m;
		/* Dot-unstuffing (RFC 5321 4.5.2). */
		memcpy(msg + len, line[0] == '.' ? line + 1 : line,
		    line[0] == '.' ? k - 1 : k);
		len += line[0] == '.' ? k - 1 : k;
		memcpy(msg + len, "\r\n", 2);
		len += 2;
	}
	if (rc != 1) {
		free(msg);
		return -1;
	}
	c->nmsg++;
	snprintf(env, sizeof(env), "from=%s\nrcpt=%s\npeer=%s\nprotocol=%s\n"
	    "cipher=%s\nbits=%d\ntrust=%s\n", c->from, c->rcpt, c->peer,
	    c->tlsinfo.protocol, c->tlsinfo.cipher, c->tlsinfo.bits,
	    c->tlsinfo.trust);
	snprintf(name, sizeof(name), "msg-%ld-%d.eml", (long)getpid(), c->nmsg);
	rc = spool_write(o->spool, name, msg ? msg : "", len);
	free(msg);
	snprintf(name, sizeof(name), "msg-%ld-%d.env", (long)getpid(), c->nmsg);
	if (rc < 0 || spool_write(o->spool, name, env, strlen(env)) < 0) {
		say("%s: cannot write to the spool %s", c->peer, o->spool);
		return reply(c, "451 4.3.0 Cannot store the message\r\n");
	}
	say("%s: stored message %d (%zu bytes)", c->peer, c->nmsg, len);
	c->from[0] = c->rcpt[0] = '\0';
	return reply(c, "250 2.0.0 Ok: queued\r\n");
}

static int
is_cmd(const char *line, const char *cmd)
{
	size_t n = strlen(cmd);

	return strncasecmp(line, cmd, n) == 0 && (line[n] == '\0' ||
	    line[n] == ' ' || line[n] == ':');
}

/* One command; 1 to go on, 0 to end the session. */
static int
command(struct conn *c, const struct opts *o, const char *line)
{
	if (is_cmd(line, "EHLO"))
		return reply(c, c->tls ? "250-demo.invalid\r\n250 8BITMIME\r\n" :
		    "250-demo.invalid\r\n250-8BITMIME\r\n250 STARTTLS\r\n") == 0;
	if (is_cmd(line, "HELO"))
		return reply(c, "250 demo.invalid\r\n") == 0;
	if (is_cmd(line, "STARTTLS")) {
		if (c->tls)
			return reply(c, "554 5.5.1 TLS already active\r\n") == 0;
		return starttls(c, o) == 0;
	}
	if (is_cmd(line, "MAIL FROM")) {
		if (!c->tls)
			return reply(c, "530 5.7.0 Must issue a STARTTLS command "
			    "first\r\n") == 0;
		snprintf(c->from, sizeof(c->from), "%s", line + 10);
		return reply(c, "250 2.1.0 Ok\r\n") == 0;
	}
	if (is_cmd(line, "RCPT TO")) {
		if (c->from[0] == '\0')
			return reply(c, "503 5.5.1 Need MAIL first\r\n") == 0;
		snprintf(c->rcpt, sizeof(c->rcpt), "%s", line + 8);
		return reply(c, "250 2.1.5 Ok\r\n") == 0;
	}
	if (is_cmd(line, "DATA")) {
		if (c->rcpt[0] == '\0')
			return reply(c, "503 5.5.1 Need RCPT first\r\n") == 0;
		return data(c, o) == 0;
	}
	if (is_cmd(line, "RSET")) {
		c->from[0] = c->rcpt[0] = '\0';
		return reply(c, "250 2.0.0 Ok\r\n") == 0;
	}
	if (is_cmd(line, "NOOP"))
		return reply(c, "250 2.0.0 Ok\r\n") == 0;
	if (is_cmd(line, "QUIT")) {
		(void)reply(c, "221 2.0.0 Bye\r\n");
		return 0;
	}
	return reply(c, "502 5.5.2 Command not recognized\r\n") == 0;
}

static void
serve(int fd, const struct sockaddr_storage *ss, const struct opts *o)
{
	char line[LINE_MAX_SMTP + 2], a[INET6_ADDRSTRLEN] = "?";
	struct conn c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.fd = fd;
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    a, sizeof(a));
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof(a));
	snprintf(c.peer, sizeof(c.peer), "[%s]:%u", a, ntohs(ss->ss_family ==
	    AF_INET ? ((const struct sockaddr_in *)ss)->sin_port :
	    ((const struct sockaddr_in6 *)ss)->sin6_port));
	if (reply(&c, "220 demo.invalid ESMTP smtp-starttls-demo\r\n") < 0)
		return;
	while ((rc = read_line(&c, line, sizeof(line))) == 1)
		if (!command(&c, o, line))
			break;
	if (rc < 0)
		(void)reply(&c, "500 5.5.0 Line too long or timeout\r\n");
	close(c.fd);
}

/* Listens on HOST:PORT; writes the chosen port to port_file. */
static int
listen_on(const struct opts *o)
{
	struct addrinfo hints, *res;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char *host = strdup(o->listen), *port = host ? strrchr(host, ':') :
	    NULL;
	int fd, on = 1;
	FILE *fp;

	if (port == NULL) {
		say("--listen: want HOST:PORT");
		return -1;
	}
	*port++ = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		say("--listen %s: bad address", o->listen);
		free(host);
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		say("--listen %s: %s", o->listen, strerror(errno));
		freeaddrinfo(res);
		free(host);
		return -1;
	}
	freeaddrinfo(res);
	free(host);
	say("listening on %s port %u", o->listen, ntohs(ss.ss_family ==
	    AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port));
	if (o->port_file != NULL && (fp = fopen(o->port_file, "w")) != NULL) {
		fprintf(fp, "%u\n", ntohs(ss.ss_family == AF_INET ?
		    ((struct sockaddr_in *)&ss)->sin_port :
		    ((struct sockaddr_in6 *)&ss)->sin6_port));
		fclose(fp);
	}
	return fd;
}

static int
usage(void)
{
	fprintf(stderr, "usage: smtp-starttls-demo --listen HOST:PORT "
	    "--handoff SOCKET --spool DIR [--port-file FILE] "
	    "[--profile NAME]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "handoff", required_argument, NULL, 'h' },
		{ "spool", required_argument, NULL, 's' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "profile", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { NULL, NULL, NULL, NULL, NULL };
	struct sockaddr_storage ss;
	socklen_t len;
	int ch, lfd, fd;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'l': o.listen = optarg; break;
		case 'h': o.handoff = optarg; break;
		case 's': o.spool = optarg; break;
		case 'p': o.port_file = optarg; break;
		case 'P': o.profile = optarg; break;
		default: return usage();
		}
	}
	if (o.listen == NULL || o.handoff == NULL || o.spool == NULL ||
	    optind != argc)
		return usage();
	if ((lfd = listen_on(&o)) < 0)
		return 1;
	signal(SIGCHLD, SIG_IGN);	/* children reap themselves */
	for (;;) {
		len = sizeof(ss);
		if ((fd = accept(lfd, (struct sockaddr *)&ss, &len)) < 0) {
			if (errno != EINTR)
				say("accept: %s", strerror(errno));
			continue;
		}
		switch (fork()) {
		case -1:
			say("fork: %s", strerror(errno));
			break;
		case 0:
			close(lfd);
			serve(fd, &ss, &o);
			_exit(0);
		default:
			break;
		}
		close(fd);
	}
}
