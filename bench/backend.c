/*
 * backend.c - the plaintext HTTP/1.1 server behind every proxy in
 * bench/compare.
 *
 * Runs in: the benchmark, an ordinary process listening on a loopback
 * port. Owns: its threads, each with its own SO_REUSEPORT listener and
 * epoll loop (no shared state, no locks).
 *
 * It answers every GET with a fixed response: "/1m" gets 1 MiB, anything
 * else 13 bytes; connections are kept alive until the client closes
 * (or sends "Connection: close"). The responses are static buffers sent
 * with writev, so the backend costs little next to any TLS proxy.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define BIG_LEN		(1u << 20)
#define IN_MAX		8192	/* one request header at most */

static const char small_body[] = "hello, world\n";
static char big_body[BIG_LEN];
static char small_hdr[128], big_hdr[128];
static size_t small_hdr_len, big_hdr_len;

/* One client connection. */
struct client {
	int		 fd;
	uint32_t	 events;	/* registered with epoll */
	char		 in[IN_MAX];	/* request bytes not yet answered */
	size_t		 inlen;
	const char	*hdr, *body;	/* the response being sent */
	size_t		 hdr_len, body_len, off; /* off counts hdr + body */
	int		 close_after;	/* "Connection: close" seen */
};

static struct sockaddr_in listen_addr;

static void
die(const char *what)
{
	fprintf(stderr, "backend: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
client_free(struct client *c)
{
	close(c->fd);	/* also leaves the epoll set */
	free(c);
}

static void
client_want(int ep, struct client *c, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	if (c->events == ev)
		return;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e) < 0)
		die("epoll_ctl");
	c->events = ev;
}

/* Sends what is left of the response: 1 done, 0 would block, -1 error. */
static int
client_send(struct client *c)
{
	while (c->hdr != NULL) {
		struct iovec iov[2];
		int n = 0;
		ssize_t w;

		if (c->off < c->hdr_len) {
			iov[n].iov_base = (char *)c->hdr + c->off;
			iov[n++].iov_len = c->hdr_len - c->off;
		}
		iov[n].iov_base = (char *)c->body + (c->off > c->hdr_len ?
		    c->off - c->hdr_len : 0);
		iov[n].iov_len = c->body_len - (c->off > c->hdr_len ? c->off -
		    c->hdr_len : 0);
		n++;
		if ((w = writev(c->fd, iov, n)) < 0)
			return errno == EAGAIN ? 0 : -1;
		c->off += (size_t)w;
		if (c->off == c->hdr_len + c->body_len)
			c->hdr = NULL;
	}
	return 1;
}

/* Takes one complete request off c->in and sets up its response;
 * 0 if no complete request is buffered, -1 if it is malformed. */
static int
client_request(struct client *c)
{
	char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
	size_t len;
	int big;

	if (end == NULL)
		return c->inlen == sizeof(c->in) ? -1 : 0;
	len = (size_t)(end + 4 - c->in);
	if (c->inlen < 4 || memcmp(c->in, "GET ", 4) != 0)
		return -1;
	big = c->inlen >= 7 && memcmp(c->in + 4, "/1m ", 4) == 0;
	c->close_after = memmem(c->in, len, "Connection: close", 17) != NULL;
	c->hdr = big ? big_hdr : small_hdr;
	c->hdr_len = big ? big_hdr_len : small_hdr_len;
	c->body = big ? big_body : small_body;
	c->body_len = big ? BIG_LEN : sizeof(small_body) - 1;
	c->off = 0;
	memmove(c->in, c->in + len, c->inlen - len);
	c->inlen -= len;
	return 1;
}

/* Answers buffered requests in order; -1 means close. */
static int
client_serve(int ep, struct client *c)
{
	int rc;

	for (;;) {
		if (c->hdr != NULL) {
			if ((rc = client_send(c)) <= 0) {
				if (rc == 0)
					client_want(ep, c, EPOLLOUT);
				return rc;
			}
			if (c->close_after)
				return -1;
		}
		if ((rc = client_request(c)) <= 0) {
			if (rc == 0)
				client_want(ep, c, EPOLLIN);
			return rc;
		}
	}
}

static int
client_read(struct client *c)
{
	ssize_t n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);

	if (n > 0) {
		c->inlen += (size_t)n;
		return 0;
	}
	return n < 0 && errno == EAGAIN ? 0 : -1;
}

static void
client_event(int ep, struct client *c, uint32_t ev)
{
	if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->hdr == NULL &&
	    client_read(c) < 0) {
		client_free(c);
		return;
	}
	if (client_serve(ep, c) < 0)
		client_free(c);
}

static void
accept_all(int ep, int lfd)
{
	struct epoll_event e;
	struct client *c;
	int fd, one = 1;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) >= 0) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->events = EPOLLIN;
		e.events = EPOLLIN;
		e.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0)
			die("epoll_ctl");
	}
	if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED &&
	    errno != EMFILE && errno != ENFILE)
		die("accept4");
}

static int
listener_new(void)
{
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof(one)) < 0)
		die("socket");
	if (bind(fd, (struct sockaddr *)&listen_addr,
	    sizeof(listen_addr)) < 0)
		die("bind");
	if (listen(fd, 4096) < 0)
		die("listen");
	return fd;
}

static void *
worker(void *arg)
{
	struct epoll_event ev[256], e = { .events = EPOLLIN };
	int lfd = (int)(long)arg, ep, n, i;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	e.data.ptr = NULL;	/* NULL marks the listener */
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e) < 0)
		die("epoll_ctl");
	for (;;) {
		if ((n = epoll_wait(ep, ev, 256, -1)) < 0 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL)
				accept_all(ep, lfd);
			else
				client_event(ep, ev[i].data.ptr, ev[i].events);
		}
	}
	return NULL;
}

static void
responses_init(void)
{
	size_t i;

	for (i = 0; i < BIG_LEN; i++)
		big_body[i] = (char)('a' + i % 26);
	small_hdr_len = (size_t)snprintf(small_hdr, sizeof(small_hdr),
	    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n\r\n", sizeof(small_body) - 1);
	big_hdr_len = (size_t)snprintf(big_hdr, sizeof(big_hdr),
	    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
	    "Content-Length: %u\r\n\r\n", BIG_LEN);
}

int
main(int argc, char **argv)
{
	struct rlimit rl;
	pthread_t t;
	int i, nthreads = argc > 2 ? atoi(argv[2]) : 1;
	long port = argc > 1 ? strtol(argv[1], NULL, 10) : 0;

	if (argc < 2 || argc > 3 || port <= 0 || port > 65535 ||
	    nthreads < 1 || nthreads > 16) {
		fprintf(stderr, "usage: backend PORT [THREADS]\n"
		    "  serves HTTP/1.1 on 127.0.0.1:PORT: /1m is 1 MiB, "
		    "anything else 13 bytes\n");
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	responses_init();
	listen_addr.sin_family = AF_INET;
	listen_addr.sin_port = htons((uint16_t)port);
	listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 1; i < nthreads; i++)
		if ((errno = pthread_create(&t, NULL, worker,
		    (void *)(long)listener_new())) != 0)
			die("pthread_create");
	worker((void *)(long)listener_new());
	return 0;
}
