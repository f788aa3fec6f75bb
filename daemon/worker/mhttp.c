/*
 * mhttp.c - the metrics endpoint's HTTP connections: accept, read one
 * request within the bounds, answer, close.
 *
 * Runs in: the worker's control thread. Owns the listener and the
 * connections.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "mhttp.h"
#include "util.h"
#include "watchdog.h"

struct mconn {
	int		 fd;		/* -1: free */
	int64_t		 deadline;	/* wd_now_ms */
	char		 req[MHTTP_MAX_REQUEST];
	size_t		 len;
	struct buf	 out;		/* the answer, when known */
	size_t		 sent;
	int		 answering;
};

static int mh_listen = -1;
static struct mconn mh_conns[MHTTP_MAX_CONNS];
static int mh_ready;
static struct log_limit mh_limit = LOG_LIMIT_INIT;

static void
mh_init(void)
{
	size_t i;

	if (mh_ready)
		return;
	for (i = 0; i < MHTTP_MAX_CONNS; i++)
		mh_conns[i].fd = -1;
	mh_ready = 1;
}

void
mhttp_listen(int fd)
{
	mh_init();
	if (mh_listen >= 0)
		close(mh_listen);
	mh_listen = fd;
}

static void
conn_close(struct mconn *c)
{
	close(c->fd);
	buf_fini(&c->out);
	c->fd = -1;
	c->len = 0;
	c->sent = 0;
	c->answering = 0;
}

/* The answer: status line, headers, and for a GET the body. */
static void
answer(struct mconn *c, int code, const char *reason, const char *extra,
    const struct buf *body, int head)
{
	buf_init(&c->out);
	buf_addf(&c->out, "HTTP/1.0 %d %s\r\nConnection: close\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s\r\n", code, reason,
	    code == 200 ? "text/plain; version=0.0.4; charset=utf-8" :
	    "text/plain; charset=utf-8", body->len, extra);
	if (!head && body->len > 0)
		buf_add(&c->out, body->data, body->len);
	c->answering = 1;
	/* what the client still sends is not read: no more input */
	(void)shutdown(c->fd, SHUT_RD);
}

static void
answer_text(struct mconn *c, int code, const char *reason,
    const char *extra)
{
	struct buf body;

	buf_init(&body);
	buf_addf(&body, "%d %s\n", code, reason);
	answer(c, code, reason, extra, &body, 0);
	buf_fini(&body);
}

/* The request line "METHOD TARGET HTTP/1.x" of a complete request. */
static void
request(struct mconn *c)
{
	char *sp1, *sp2, *eol = memchr(c->req, '\n', c->len);
	struct buf body;
	int head;

	*eol = '\0';
	if (eol > c->req && eol[-1] == '\r')
		eol[-1] = '\0';
	if ((sp1 = strchr(c->req, ' ')) == NULL ||
	    (sp2 = strchr(sp1 + 1, ' ')) == NULL ||
	    strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp2[8] == '\0' ||
	    sp2[9] != '\0' || sp1 == c->req) {
		answer_text(c, 400, "Bad Request", "");
		return;
	}
	*sp1 = *sp2 = '\0';
	head = strcmp(c->req, "HEAD") == 0;
	if (!head && strcmp(c->req, "GET") != 0) {
		answer_text(c, 405, "Method Not Allowed",
		    "Allow: GET, HEAD\r\n");
		return;
	}
	if (strcmp(sp1 + 1, "/metrics") != 0 &&
	    strncmp(sp1 + 1, "/metrics?", 9) != 0) {
		answer_text(c, 404, "Not Found", "");
		return;
	}
	buf_init(&body);
	metrics_render(&body);
	answer(c, 200, "OK", "", &body, head);
	buf_fini(&body);
}

/* The request is complete at its empty line. */
static int
complete(const struct mconn *c)
{
	size_t i;

	for (i = 1; i < c->len; i++)
		if (c->req[i] == '\n' && (c->req[i - 1] == '\n' ||
		    (i >= 2 && c->req[i - 1] == '\r' && c->req[i - 2] == '\n')))
			return 1;
	return 0;
}

/* Reads what there is; answers when the request is complete or too
 * big. 0, or -1 when the connection is over. */
static int
conn_read(struct mconn *c)
{
	ssize_t n;

	while (c->len < sizeof(c->req)) {
		n = recv(c->fd, c->req + c->len, sizeof(c->req) - c->len, 0);
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->len += (size_t)n;
		if (complete(c)) {
			request(c);
			return 0;
		}
	}
	answer_text(c, 431, "Request Header Fields Too Large", "");
	return 0;
}

/* Sends what is left of the answer; -1 when done or failed. */
static int
conn_write(struct mconn *c)
{
	ssize_t n;

	while (c->sent < c->out.len) {
		n = send(c->fd, c->out.data + c->sent, c->out.len - c->sent,
		    MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->sent += (size_t)n;
	}
	return -1;
}

/* A free slot; when there is none, the slot of the oldest connection
 * that is still waiting for its request, if it has waited for
 * MHTTP_EVICT_AGE_MS (closed for the new one); else NULL. */
static struct mconn *
slot_for_new(void)
{
	int64_t young = wd_now_ms() + MHTTP_DEADLINE_MS - MHTTP_EVICT_AGE_MS;
	struct mconn *old = NULL;
	size_t i;

	for (i = 0; i < MHTTP_MAX_CONNS; i++) {
		if (mh_conns[i].fd < 0)
			return &mh_conns[i];
		if (!mh_conns[i].answering && mh_conns[i].deadline <= young &&
		    (old == NULL || mh_conns[i].deadline < old->deadline))
			old = &mh_conns[i];
	}
	if (old != NULL) {
		log_warnx_limited(&mh_limit, "metrics: %d connections open; "
		    "closing the oldest that sent no request", MHTTP_MAX_CONNS);
		conn_close(old);
	}
	return old;
}

static void
accept_all(void)
{
	struct mconn *c;
	size_t k;
	int fd;

	for (k = 0; k < 2 * MHTTP_MAX_CONNS; k++) {
		if ((fd = accept4(mh_listen, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn_limited(&mh_limit, "metrics: accept");
			return;
		}
		if ((c = slot_for_new()) == NULL) {
			log_warnx_limited(&mh_limit, "metrics: %d connections "
			    "open; refusing one", MHTTP_MAX_CONNS);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->deadline = wd_now_ms() + MHTTP_DEADLINE_MS;
	}
}

size_t
mhttp_pollfds(struct pollfd *pf)
{
	size_t i, n = 0;

	mh_init();
	if (mh_listen >= 0) {
		pf[n].fd = mh_listen;
		pf[n++].events = POLLIN;
	}
	for (i = 0; i < MHTTP_MAX_CONNS; i++) {
		if (mh_conns[i].fd < 0)
			continue;
		pf[n].fd = mh_conns[i].fd;
		pf[n++].events = mh_conns[i].answering ? POLLOUT : POLLIN;
	}
	return n;
}

static struct mconn *
conn_of(int fd)
{
	size_t i;

	for (i = 0; i < MHTTP_MAX_CONNS; i++)
		if (mh_conns[i].fd == fd)
			return &mh_conns[i];
	return NULL;
}

void
mhttp_events(const struct pollfd *pf, size_t n)
{
	int64_t now = wd_now_ms();
	struct mconn *c;
	size_t i;
	int over;

	for (i = 0; i < n; i++) {
		if (pf[i].revents == 0)
			continue;
		if (pf[i].fd == mh_listen) {
			accept_all();
			continue;
		}
		if ((c = conn_of(pf[i].fd)) == NULL)
			continue;
		over = c->answering ? 0 : conn_read(c);
		if (over == 0 && c->answering)
			over = conn_write(c);
		if (over < 0)
			conn_close(c);
	}
	for (i = 0; i < MHTTP_MAX_CONNS; i++)
		if (mh_conns[i].fd >= 0 && now >= mh_conns[i].deadline)
			conn_close(&mh_conns[i]);
}

int
mhttp_timeout_ms(void)
{
	int64_t now = wd_now_ms(), t = -1;
	size_t i;

	for (i = 0; i < MHTTP_MAX_CONNS; i++) {
		if (mh_conns[i].fd < 0)
			continue;
		if (t < 0 || mh_conns[i].deadline - now < t)
			t = mh_conns[i].deadline - now;
	}
	return t < 0 ? -1 : t > 0 ? (int)t : 0;
}
