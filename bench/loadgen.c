/*
 * loadgen.c - TLS load generator for bench/compare.
 *
 * Runs in: the benchmark client, an ordinary process on the same machine
 * as the proxy under test; it connects to loopback addresses only.
 * Owns: one client SSL_CTX and its threads; each thread runs an epoll
 * loop over its own share of the connections (no locks between threads,
 * the totals are added up after the join).
 *
 * Every operation is one HTTP/1.1 request and its whole response. Modes:
 *   full       a new TCP connection and a full handshake per operation:
 *              no session cache, no ticket; a resumed one fails the run
 *   resume     the same, offering each connection slot's last session;
 *              reports the share that really resumed
 *   keepalive  small requests over persistent connections
 *   bulk       1 MiB responses over persistent connections
 *   rate       small requests at a fixed rate over persistent
 *              connections; latency from the scheduled send time
 *   idle       open N sessions (handshake + one request each), hold them
 *              until SIGUSR1 (or -H), then check each with one request
 * Every loop is bounded by a count and a deadline. The last line is
 * "result key=value ..."; exit 0 if the run is clean, 1 if it is flagged
 * (errors above 0.1 %, or a resumed connection in full mode), 2 on a
 * usage or setup error.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define NS		1000000000LL
#define MS		1000000LL
#define POLL_NS		(50 * MS)	/* longest epoll wait */
#define SWEEP_NS	(100 * MS)	/* timeout sweep period */
#define DRAIN_NS	(3 * NS)	/* grace for in-flight ops at the end */
#define LAT_MAX		(4u << 20)	/* latency samples kept per thread */
#define ERR_PCT_MAX	0.1		/* a run above this is flagged */
#define READ_BUF	16384

enum mode { M_FULL, M_RESUME, M_KEEPALIVE, M_BULK, M_RATE, M_IDLE };

static const char *const mode_names[] = {
	"full", "resume", "keepalive", "bulk", "rate", "idle",
};

/* Error classes, counted separately. */
enum err {
	E_SETUP, E_CONNECT, E_HANDSHAKE, E_WRITE, E_READ, E_CLOSED, E_HTTP,
	E_TIMEOUT, E_MAX
};

static const char *const err_names[] = {
	"setup", "connect", "handshake", "write", "read", "closed", "http",
	"timeout",
};

enum cstate {
	CS_FREE,	/* no connection */
	CS_CONNECT,	/* TCP connect in progress */
	CS_HANDSHAKE,	/* TLS handshake in progress */
	CS_WRITE,	/* sending the request */
	CS_READ,	/* reading the response */
	CS_READY,	/* connected, nothing outstanding */
};

/* Idle mode phases (G.phase). */
enum phase { P_OPEN, P_HOLD, P_CHECK };

/* Step results of the connection state machine; a failure is -1 - err. */
#define STEP_WAIT	0	/* waiting for epoll */
#define STEP_NEXT	1	/* state changed, run the machine again */

struct thr;

struct conn {
	struct thr	*thr;
	int		 fd;
	SSL		*ssl;
	enum cstate	 st;
	uint32_t	 events;	/* registered with epoll, 0 = none */
	int64_t		 op_start_ns;	/* op start; scheduled time in rate */
	int64_t		 deadline_ns;	/* op timeout, 0 = none */
	size_t		 req_off;	/* bytes of the request sent */
	char		 hdr[1024];	/* response header so far, NUL-ended */
	size_t		 hdr_len;
	int		 in_body;	/* header seen */
	uint64_t	 body_left;	/* body bytes still expected */
	SSL_SESSION	*sess;		/* resume: offered on the next connect */
};

struct stats {
	uint64_t	 ops;		/* complete request/response pairs */
	uint64_t	 resumed;	/* handshakes that resumed */
	uint64_t	 handshakes;	/* handshakes completed */
	uint64_t	 bytes;		/* response body bytes */
	uint64_t	 unfinished;	/* ops cut off by the end of the run */
	uint64_t	 err[E_MAX];
	uint64_t	 established;	/* idle: sessions opened */
	uint64_t	 alive;		/* idle: sessions that passed the check */
	uint64_t	 dropped;	/* idle: closed by the server while held */
	int64_t		*lat;		/* latencies in ns */
	size_t		 nlat, caplat;
};

struct thr {
	pthread_t	 tid;
	int		 idx;
	int		 ep;		/* epoll descriptor */
	struct conn	*conns;
	size_t		 nconns;	/* slots in conns */
	size_t		 active;	/* slots not CS_FREE */
	size_t		 busy;		/* slots with an op outstanding */
	int64_t		 end_ns;	/* no new op after this */
	int64_t		 last_sweep_ns;
	uint64_t	 max_ops;	/* this thread's share of -n */
	struct stats	 st;
	/* idle mode */
	size_t		 started;	/* sessions started so far */
	size_t		 concurrency;	/* opens in flight at most */
	/* rate mode */
	int64_t		 interval_ns;	/* between scheduled requests */
	int64_t		*backlog;	/* scheduled times waiting for a conn */
	size_t		 bl_head, bl_len, bl_cap;
	struct conn	**ready;	/* stack of CS_READY conns */
	size_t		 nready;
	int		 verbose_left;	/* error messages still to print */
};

static struct {
	enum mode	 mode;
	struct sockaddr_storage addr;
	socklen_t	 addrlen;
	const char	*target;
	int		 threads;
	int		 conns;
	double		 duration_s;
	uint64_t	 max_ops;
	int		 tls_ver;	/* TLS1_2_VERSION or TLS1_3_VERSION */
	const char	*path;
	double		 rate;
	double		 timeout_s;
	double		 hold_s;
	size_t		 sessions;	/* idle: how many */
	int		 verbose;
	const char	*suites, *ciphers, *groups, *sigalgs;
} O = {
	.mode = M_FULL, .target = "127.0.0.1:8443", .threads = 2,
	.conns = 16, .duration_s = 5, .max_ops = 100000000, .tls_ver = 0,
	.path = NULL, .rate = 1000, .timeout_s = 10, .hold_s = 300,
	.sessions = 1000,
	.suites = "TLS_AES_128_GCM_SHA256",
	.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
	.groups = "X25519:P-256", .sigalgs = NULL,
};

/* Shared state; the threads only read it, main writes it. */
static struct {
	SSL_CTX		*ctx;
	char		 req[512];
	size_t		 req_len;
	volatile int	 stop;		/* end now (signal or hard deadline) */
	volatile int	 phase;		/* idle mode: enum phase */
	int		 threads_done;	/* atomic */
	int		 opens_done;	/* atomic: idle threads past opening */
	int64_t		 start_ns;
} G;

static struct thr *Thr;		/* O.threads of them */

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "loadgen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

/* ------------------------------------------------------------------ */
/* Statistics                                                          */

static void
stats_latency(struct stats *st, int64_t ns)
{
	if (st->nlat == st->caplat) {
		if (st->caplat >= LAT_MAX)
			return;	/* enough samples */
		st->caplat = st->caplat ? st->caplat * 2 : 4096;
		st->lat = realloc(st->lat, st->caplat * sizeof(*st->lat));
		if (st->lat == NULL)
			fatal("out of memory");
	}
	st->lat[st->nlat++] = ns;
}

static uint64_t
stats_errors(const struct stats *st)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < E_MAX; i++)
		n += st->err[i];
	return n;
}

/* Adds src into dst (latency samples included). */
static void
stats_add(struct stats *dst, const struct stats *src)
{
	size_t i;

	dst->ops += src->ops;
	dst->resumed += src->resumed;
	dst->handshakes += src->handshakes;
	dst->bytes += src->bytes;
	dst->unfinished += src->unfinished;
	dst->established += src->established;
	dst->alive += src->alive;
	dst->dropped += src->dropped;
	for (i = 0; i < E_MAX; i++)
		dst->err[i] += src->err[i];
	for (i = 0; i < src->nlat; i++)
		stats_latency(dst, src->lat[i]);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of the sorted samples, in microseconds. */
static double
stats_quantile_us(const struct stats *st, double q)
{
	if (st->nlat == 0)
		return 0;
	return (double)st->lat[(size_t)((double)(st->nlat - 1) * q)] / 1e3;
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */

static void
conn_want(struct conn *c, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	if (c->events == ev)
		return;
	if (epoll_ctl(c->thr->ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	    c->fd, &e) < 0)
		fatal("epoll_ctl: %s", strerror(errno));
	c->events = ev;
}

/* Closes the connection; with tidy, sends close_notify first. */
static void
conn_close(struct conn *c, int tidy)
{
	if (c->st == CS_FREE)
		return;
	if (c->ssl != NULL) {
		if (tidy) {
			ERR_clear_error();
			(void)SSL_shutdown(c->ssl);	/* close_notify, no wait */
		}
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	ERR_clear_error();
	close(c->fd);	/* also leaves the epoll set */
	c->fd = -1;
	c->events = 0;
	c->st = CS_FREE;
	c->deadline_ns = 0;
	c->thr->active--;
}

static void
conn_log(struct conn *c, enum err e, const char *what)
{
	unsigned long code = ERR_peek_error();
	char buf[256] = "";

	if (c->thr->verbose_left <= 0)
		return;
	c->thr->verbose_left--;
	if (code != 0)
		ERR_error_string_n(code, buf, sizeof(buf));
	fprintf(stderr, "loadgen: thread %d: %s error: %s %s%s\n",
	    c->thr->idx, err_names[e], what, buf,
	    code == 0 && errno ? strerror(errno) : "");
}

/* Opens a TCP connection towards the target (non-blocking). */
static int
conn_start(struct conn *c, int64_t now)
{
	int one = 1;

	c->fd = socket(O.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1 - E_SETUP;
	c->st = CS_CONNECT;
	c->thr->active++;
	c->op_start_ns = now;
	c->deadline_ns = now + (int64_t)(O.timeout_s * NS);
	c->events = 0;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&O.addr, O.addrlen) < 0 &&
	    errno != EINPROGRESS)
		return -1 - E_CONNECT;
	conn_want(c, EPOLLOUT);
	return STEP_WAIT;
}

/* The TCP connect finished: a client SSL on the socket. */
static int
conn_connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
	    err != 0) {
		errno = err;
		return -1 - E_CONNECT;
	}
	if ((c->ssl = SSL_new(G.ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		return -1 - E_SETUP;
	/* The socket BIO does not own fd: conn_close closes it. */
	SSL_set_connect_state(c->ssl);
	if (O.mode == M_RESUME && c->sess != NULL)
		SSL_set_session(c->ssl, c->sess);
	c->st = CS_HANDSHAKE;
	return STEP_NEXT;
}

/* Maps an SSL result to a wait or a failure of class e. */
static int
conn_ssl_wait(struct conn *c, int ret, enum err e)
{
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		conn_want(c, EPOLLIN);
		return STEP_WAIT;
	case SSL_ERROR_WANT_WRITE:
		conn_want(c, EPOLLOUT);
		return STEP_WAIT;
	case SSL_ERROR_ZERO_RETURN:
		return -1 - E_CLOSED;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0 && (errno == 0 || errno == ECONNRESET
		    || errno == EPIPE))
			return -1 - E_CLOSED;
		return -1 - e;
	default:
		return -1 - e;
	}
}

/* Starts a request; op_start is the time its latency counts from. */
static void
conn_request(struct conn *c, int64_t op_start)
{
	c->st = CS_WRITE;
	c->req_off = 0;
	c->hdr_len = 0;
	c->in_body = 0;
	c->body_left = 0;
	c->op_start_ns = op_start;
	c->deadline_ns = now_ns() + (int64_t)(O.timeout_s * NS);
	c->thr->busy++;
}

static void thr_ready(struct thr *t, struct conn *c);

static int
conn_handshake(struct conn *c)
{
	int n;

	ERR_clear_error();
	if ((n = SSL_do_handshake(c->ssl)) != 1)
		return conn_ssl_wait(c, n, E_HANDSHAKE);
	c->thr->st.handshakes++;
	if (SSL_session_reused(c->ssl))
		c->thr->st.resumed++;
	if (O.mode == M_RATE) {
		thr_ready(c->thr, c);
		return STEP_WAIT;
	}
	conn_request(c, c->op_start_ns);
	return STEP_NEXT;
}

static int
conn_write(struct conn *c)
{
	int n;

	ERR_clear_error();
	n = SSL_write(c->ssl, G.req + c->req_off, (int)(G.req_len -
	    c->req_off));
	if (n <= 0)
		return conn_ssl_wait(c, n, E_WRITE);
	c->req_off += (size_t)n;
	if (c->req_off == G.req_len)
		c->st = CS_READ;
	return STEP_NEXT;
}

/* The header is complete: status 200 and a Content-Length. */
static int
resp_header(struct conn *c)
{
	const char *cl;
	char *end;

	if (strncmp(c->hdr, "HTTP/1.1 200 ", 13) != 0 &&
	    strncmp(c->hdr, "HTTP/1.0 200 ", 13) != 0)
		return -1;
	if ((cl = strcasestr(c->hdr, "\r\ncontent-length:")) == NULL)
		return -1;
	errno = 0;
	c->body_left = strtoull(cl + 17, &end, 10);
	return errno == 0 && end != cl + 17 ? 0 : -1;
}

/* Feeds response bytes; 1 when the response is complete, 0 for more,
 * -1 if it is malformed. */
static int
resp_feed(struct conn *c, const char *p, size_t n)
{
	if (!c->in_body) {
		size_t room = sizeof(c->hdr) - 1 - c->hdr_len;
		size_t take = n < room ? n : room, hlen;
		char *end;

		memcpy(c->hdr + c->hdr_len, p, take);
		c->hdr_len += take;
		c->hdr[c->hdr_len] = '\0';
		if ((end = strstr(c->hdr, "\r\n\r\n")) == NULL)
			return take == n && room > take ? 0 : -1;
		hlen = (size_t)(end + 4 - c->hdr);
		if (resp_header(c) < 0)
			return -1;
		c->in_body = 1;
		n = c->hdr_len - hlen + (n - take);	/* body bytes here */
	}
	if (n > c->body_left)
		return -1;	/* more than announced */
	c->body_left -= n;
	c->thr->st.bytes += n;
	return c->body_left == 0;
}

static int conn_done(struct conn *c);

static int
conn_read(struct conn *c)
{
	char buf[READ_BUF];
	int n, rc;

	for (;;) {
		ERR_clear_error();
		if ((n = SSL_read(c->ssl, buf, sizeof(buf))) <= 0)
			return conn_ssl_wait(c, n, E_READ);
		if ((rc = resp_feed(c, buf, (size_t)n)) < 0)
			return -1 - E_HTTP;
		if (rc == 1)
			return conn_done(c);
	}
}

/* Input on a connection with nothing outstanding: a late TLS record
 * (a session ticket) is fine, data or a close is not. */
static int
conn_idle_input(struct conn *c)
{
	char buf[256];
	int n;

	ERR_clear_error();
	if ((n = SSL_read(c->ssl, buf, sizeof(buf))) > 0)
		return -1 - E_HTTP;
	n = conn_ssl_wait(c, n, E_READ);
	if (n == STEP_WAIT)
		conn_want(c, EPOLLIN);	/* keep watching for a close */
	return n;
}

/* ------------------------------------------------------------------ */
/* Threads                                                             */

static int
thr_running(const struct thr *t, int64_t now)
{
	return !G.stop && now < t->end_ns && t->st.ops < t->max_ops;
}

/* Puts c on the ready stack (rate mode) and serves the backlog. */
static void
thr_ready(struct thr *t, struct conn *c)
{
	c->st = CS_READY;
	c->deadline_ns = 0;
	conn_want(c, EPOLLIN);
	if (O.mode != M_RATE)
		return;
	if (t->bl_len > 0) {
		int64_t ts = t->backlog[t->bl_head];

		t->bl_head = (t->bl_head + 1) % t->bl_cap;
		t->bl_len--;
		conn_request(c, ts);
		conn_want(c, EPOLLOUT);
		return;
	}
	t->ready[t->nready++] = c;
}

/* Records a complete op; decides what the connection does next. */
static int
conn_done(struct conn *c)
{
	struct thr *t = c->thr;
	int64_t now = now_ns();

	t->busy--;
	t->st.ops++;
	stats_latency(&t->st, now - c->op_start_ns);
	switch (O.mode) {
	case M_RESUME:
		SSL_SESSION_free(c->sess);
		c->sess = SSL_get1_session(c->ssl);
		/* FALLTHROUGH */
	case M_FULL:
		conn_close(c, 1);
		if (thr_running(t, now))
			return conn_start(c, now);
		return STEP_WAIT;
	case M_KEEPALIVE:
	case M_BULK:
		if (!thr_running(t, now)) {
			conn_close(c, 1);
			return STEP_WAIT;
		}
		conn_request(c, now);
		return STEP_NEXT;
	case M_IDLE:
		if (G.phase == P_CHECK)
			t->st.alive++;
		else
			t->st.established++;
		/* FALLTHROUGH */
	case M_RATE:
		thr_ready(t, c);
		return STEP_WAIT;
	}
	return STEP_WAIT;
}

/* Counts a failure of class e and closes c; in the looping modes a new
 * connection takes its place while the run goes on. */
static void
conn_fail(struct conn *c, enum err e, int64_t now)
{
	struct thr *t = c->thr;

	conn_log(c, e, c->st == CS_READY ? "while idle" : "in an op");
	if (c->st == CS_WRITE || c->st == CS_READ)
		t->busy--;
	if (O.mode == M_IDLE && G.phase == P_HOLD)
		t->st.dropped++;
	else
		t->st.err[e]++;
	conn_close(c, 0);
	/* A refused connect is retried by the next sweep, not at once, so
	 * a dead target cannot turn the run into a busy loop. */
	if (O.mode != M_IDLE && e != E_CONNECT && e != E_SETUP &&
	    thr_running(t, now)) {
		int rc = conn_start(c, now);

		if (rc < 0) {
			t->st.err[-1 - rc]++;
			conn_close(c, 0);
		}
	}
}

/* Runs c's state machine until it waits or fails. */
static void
conn_io(struct conn *c)
{
	int rc;

	do {
		switch (c->st) {
		case CS_CONNECT:
			rc = conn_connected(c);
			break;
		case CS_HANDSHAKE:
			rc = conn_handshake(c);
			break;
		case CS_WRITE:
			rc = conn_write(c);
			if (rc == STEP_NEXT && c->st == CS_READ)
				conn_want(c, EPOLLIN);
			break;
		case CS_READ:
			rc = conn_read(c);
			break;
		case CS_READY:
			rc = conn_idle_input(c);
			break;
		default:
			return;
		}
	} while (rc == STEP_NEXT);
	if (rc < 0)
		conn_fail(c, (enum err)(-1 - rc), now_ns());
}

static void thr_start(struct thr *t, struct conn *c, int64_t now);

/* Fails every op past its deadline; in the looping modes, restarts the
 * slots whose connect failed. */
static void
thr_sweep(struct thr *t, int64_t now)
{
	size_t i;

	t->last_sweep_ns = now;
	for (i = 0; i < t->nconns; i++) {
		struct conn *c = &t->conns[i];

		if (c->st != CS_FREE && c->deadline_ns != 0 &&
		    now > c->deadline_ns) {
			errno = ETIMEDOUT;
			conn_fail(c, E_TIMEOUT, now);
		}
		if (c->st == CS_FREE && O.mode != M_IDLE && thr_running(t, now))
			thr_start(t, c, now);
	}
}

/* One epoll round of at most wait_ns. */
static void
thr_poll(struct thr *t, int64_t wait_ns)
{
	struct epoll_event ev[256];
	struct timespec ts;
	int64_t now;
	int n, i;

	if (wait_ns < 0)
		wait_ns = 0;
	if (wait_ns > POLL_NS)
		wait_ns = POLL_NS;
	ts.tv_sec = wait_ns / NS;
	ts.tv_nsec = wait_ns % NS;
	n = epoll_pwait2(t->ep, ev, 256, &ts, NULL);
	if (n < 0 && errno != EINTR)
		fatal("epoll_pwait2: %s", strerror(errno));
	for (i = 0; i < n; i++)
		conn_io(ev[i].data.ptr);
	now = now_ns();
	if (now - t->last_sweep_ns >= SWEEP_NS)
		thr_sweep(t, now);
}

/* Starts a connection in slot c; a failure is counted at once. */
static void
thr_start(struct thr *t, struct conn *c, int64_t now)
{
	int rc = conn_start(c, now);

	if (rc < 0) {
		conn_log(c, (enum err)(-1 - rc), "starting");
		t->st.err[-1 - rc]++;
		conn_close(c, 0);
	}
}

/* Ends the run: what is still in flight is unfinished, not an error. */
static void
thr_close_all(struct thr *t)
{
	size_t i;

	t->st.unfinished += t->busy + t->bl_len;
	for (i = 0; i < t->nconns; i++) {
		conn_close(&t->conns[i], 1);
		SSL_SESSION_free(t->conns[i].sess);
		t->conns[i].sess = NULL;
	}
}

/* full, resume, keepalive, bulk: every slot loops until the end. */
static void
thr_load(struct thr *t)
{
	int64_t now = now_ns();
	size_t i;

	for (i = 0; i < t->nconns; i++)
		thr_start(t, &t->conns[i], now);
	while (t->active > 0 || thr_running(t, now)) {
		now = now_ns();
		if (G.stop || now > t->end_ns + DRAIN_NS)
			break;
		if (!thr_running(t, now) && t->busy == 0 &&
		    (O.mode == M_KEEPALIVE || O.mode == M_BULK))
			break;	/* connections between requests */
		thr_poll(t, POLL_NS);
	}
}

/* Queues a scheduled request, or starts it on a ready connection. */
static void
thr_schedule(struct thr *t, int64_t ts)
{
	struct conn *c;

	if (t->nready == 0) {
		if (t->bl_len == t->bl_cap) {
			size_t k, cap = t->bl_cap ? t->bl_cap * 2 : 1024;
			int64_t *nb = malloc(cap * sizeof(*nb));

			if (nb == NULL)
				fatal("out of memory");
			for (k = 0; k < t->bl_len; k++)
				nb[k] = t->backlog[(t->bl_head + k) %
				    t->bl_cap];
			free(t->backlog);
			t->backlog = nb;
			t->bl_cap = cap;
			t->bl_head = 0;
		}
		t->backlog[(t->bl_head + t->bl_len++) % t->bl_cap] = ts;
		return;
	}
	c = t->ready[--t->nready];
	conn_request(c, ts);
	conn_io(c);
}

/* Waits until every slot is connected (or failed), within the timeout. */
static void
thr_connect_all(struct thr *t)
{
	int64_t now = now_ns(), end = now + (int64_t)(O.timeout_s * NS);
	size_t i;

	for (i = 0; i < t->nconns; i++)
		thr_start(t, &t->conns[i], now);
	while (!G.stop && t->nready < t->active && now_ns() < end)
		thr_poll(t, POLL_NS);
}

/* rate: requests at fixed times after every connection is up. */
static void
thr_rate(struct thr *t)
{
	int64_t t0, next, now;

	thr_connect_all(t);
	t0 = now_ns();
	next = t0 + t->interval_ns * t->idx / O.threads;
	t->end_ns = t0 + (int64_t)(O.duration_s * NS);
	for (;;) {
		now = now_ns();
		while (next <= now && next < t->end_ns &&
		    t->st.ops + t->busy + t->bl_len < t->max_ops) {
			thr_schedule(t, next);
			next += t->interval_ns;
		}
		if (G.stop || (now >= t->end_ns && (t->busy + t->bl_len == 0
		    || now > t->end_ns + DRAIN_NS)))
			break;
		thr_poll(t, next < t->end_ns ? next - now : POLL_NS);
	}
}

/* idle: sessions started and not yet ready (nor failed). */
static size_t
thr_opening(const struct thr *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->started; i++)
		if (t->conns[i].st != CS_FREE && t->conns[i].st != CS_READY)
			n++;
	return n;
}

/* idle: opening, up to t->concurrency at a time. */
static void
thr_idle_open(struct thr *t)
{
	int64_t end = now_ns() + (int64_t)(O.duration_s * NS);
	size_t inflight;

	for (;;) {
		int64_t now = now_ns();

		inflight = thr_opening(t);
		while (t->started < t->nconns && inflight < t->concurrency &&
		    now < end && !G.stop) {
			thr_start(t, &t->conns[t->started++], now);
			inflight++;	/* recounted on the next round */
		}
		if (G.stop || (t->started == t->nconns && inflight == 0))
			break;
		if (now >= end) {	/* give up on the rest */
			t->st.err[E_TIMEOUT] += t->nconns - t->started +
			    inflight;
			break;
		}
		thr_poll(t, POLL_NS);
	}
}

/* idle: hold until told, then one request on every open session. */
static void
thr_idle(struct thr *t)
{
	int64_t end;
	size_t i;

	thr_idle_open(t);
	for (i = 0; i < t->nconns; i++)	/* unfinished opens are over */
		if (t->conns[i].st != CS_READY)
			conn_close(&t->conns[i], 0);
	__atomic_add_fetch(&G.opens_done, 1, __ATOMIC_SEQ_CST);
	while (!G.stop && G.phase != P_CHECK)
		thr_poll(t, POLL_NS);
	for (i = 0; i < t->nconns; i++) {
		if (t->conns[i].st == CS_READY) {
			conn_request(&t->conns[i], now_ns());
			conn_io(&t->conns[i]);
		}
	}
	end = now_ns() + (int64_t)(O.timeout_s * NS);
	while (!G.stop && t->busy > 0 && now_ns() < end)
		thr_poll(t, POLL_NS);
	t->st.err[E_TIMEOUT] += t->busy;
	t->busy = 0;
}

static void *
thr_main(void *arg)
{
	struct thr *t = arg;

	switch (O.mode) {
	case M_IDLE:
		thr_idle(t);
		break;
	case M_RATE:
		thr_rate(t);
		break;
	default:
		thr_load(t);
		break;
	}
	thr_close_all(t);
	__atomic_add_fetch(&G.threads_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Thread i's share of total. */
static size_t
share(size_t total, int i)
{
	return total / (size_t)O.threads + ((size_t)i < total %
	    (size_t)O.threads ? 1 : 0);
}

static void
thr_init(struct thr *t, int i)
{
	size_t k;

	memset(t, 0, sizeof(*t));
	t->idx = i;
	t->verbose_left = O.verbose ? 10 : 0;
	if ((t->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		fatal("epoll_create1: %s", strerror(errno));
	t->nconns = share(O.mode == M_IDLE ? O.sessions : (size_t)O.conns, i);
	t->concurrency = share((size_t)O.conns, i);
	if (t->concurrency == 0)
		t->concurrency = 1;
	t->conns = calloc(t->nconns ? t->nconns : 1, sizeof(*t->conns));
	t->ready = calloc(t->nconns ? t->nconns : 1, sizeof(*t->ready));
	if (t->conns == NULL || t->ready == NULL)
		fatal("out of memory");
	for (k = 0; k < t->nconns; k++) {
		t->conns[k].thr = t;
		t->conns[k].fd = -1;
	}
	t->max_ops = share(O.max_ops, i);
	t->end_ns = G.start_ns + (int64_t)(O.duration_s * NS);
	t->interval_ns = (int64_t)((double)NS * O.threads / O.rate);
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */

static SSL_CTX *
ctx_new(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		fatal("SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(ctx, O.tls_ver ? O.tls_ver :
	    TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, O.tls_ver ? O.tls_ver :
	    TLS1_3_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);	/* self-signed */
	/* X25519 is the key exchange (first, the only TLS 1.3 key share);
	 * P-256 is offered because TLS 1.2 needs an ECDSA certificate's
	 * curve in the client's list. */
	if (SSL_CTX_set_ciphersuites(ctx, O.suites) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, O.ciphers) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, O.groups) != 1 ||
	    (O.sigalgs != NULL && SSL_CTX_set1_sigalgs_list(ctx,
	    O.sigalgs) != 1))
		fatal("bad -s, -C, -g or -S list");
	/* Sessions are kept by hand (resume mode) or not at all. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (O.mode == M_FULL)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

/* host:port, IPv4 in 127/8 or [::1] only: this tool loads loopback. */
static void
opt_target(const char *s)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&O.addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&O.addr;
	const char *colon = strrchr(s, ':');
	char host[64];
	long port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host) ||
	    (port = strtol(colon + 1, NULL, 10)) <= 0 || port > 65535)
		fatal("bad target %s (want 127.0.0.1:PORT)", s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(&O.addr, 0, sizeof(O.addr));
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1 &&
	    (ntohl(a4->sin_addr.s_addr) >> 24) == 127) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		O.addrlen = sizeof(*a4);
	} else if (strcmp(host, "[::1]") == 0) {
		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_loopback;
		a6->sin6_port = htons((uint16_t)port);
		O.addrlen = sizeof(*a6);
	} else
		fatal("target %s is not a loopback address", s);
	O.target = s;
}

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen MODE [options]\n"
	    "modes: full resume keepalive bulk rate idle\n"
	    "  -a host:port  target, loopback only (127.0.0.1:8443)\n"
	    "  -t N          threads (2)\n"
	    "  -c N          connections; idle: opens in flight (16)\n"
	    "  -d SEC        duration; idle: time allowed to open (5)\n"
	    "  -n N          at most N ops (100000000); idle: sessions (1000)\n"
	    "  -V 1.2|1.3    TLS version (both)\n"
	    "  -p PATH       request path (/; bulk /1m)\n"
	    "  -r RATE       rate mode: requests per second (1000)\n"
	    "  -T SEC        timeout of one op (10)\n"
	    "  -H SEC        idle: longest hold before the check (300)\n"
	    "  -s SUITES -C CIPHERS -g GROUPS -S SIGALGS  client offer\n"
	    "  -v            print the first errors of each thread\n");
	exit(2);
}

static enum mode
opt_mode(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strcmp(s, mode_names[i]) == 0)
			return (enum mode)i;
	usage();
}

static void
opt_parse(int argc, char **argv)
{
	int ch, nset = 0;

	if (argc < 2)
		usage();
	O.mode = opt_mode(argv[1]);
	optind = 2;
	opt_target(O.target);
	while ((ch = getopt(argc, argv, "a:t:c:d:n:V:p:r:T:H:s:C:g:S:v")) !=
	    -1) {
		switch (ch) {
		case 'a': opt_target(optarg); break;
		case 't': O.threads = atoi(optarg); break;
		case 'c': O.conns = atoi(optarg); break;
		case 'd': O.duration_s = atof(optarg); break;
		case 'n': O.max_ops = strtoull(optarg, NULL, 10); nset = 1;
			break;
		case 'V':
			O.tls_ver = strcmp(optarg, "1.2") == 0 ? TLS1_2_VERSION :
			    strcmp(optarg, "1.3") == 0 ? TLS1_3_VERSION : -1;
			break;
		case 'p': O.path = optarg; break;
		case 'r': O.rate = atof(optarg); break;
		case 'T': O.timeout_s = atof(optarg); break;
		case 'H': O.hold_s = atof(optarg); break;
		case 's': O.suites = optarg; break;
		case 'C': O.ciphers = optarg; break;
		case 'g': O.groups = optarg; break;
		case 'S': O.sigalgs = optarg; break;
		case 'v': O.verbose = 1; break;
		default: usage();
		}
	}
	if (O.mode == M_IDLE) {
		O.sessions = nset ? (size_t)O.max_ops : 1000;
		O.max_ops = 100000000;
	}
	if (optind != argc || O.threads < 1 || O.threads > 64 || O.conns < 1 ||
	    O.conns > 100000 || O.duration_s <= 0 || O.duration_s > 3600 ||
	    O.max_ops == 0 || O.tls_ver < 0 || O.rate <= 0 ||
	    O.timeout_s <= 0 || O.hold_s < 0 || O.hold_s > 3600 ||
	    (O.mode == M_IDLE && (O.sessions == 0 || O.sessions > 100000)))
		usage();
	if ((size_t)O.conns < (size_t)O.threads && O.mode != M_IDLE)
		O.threads = O.conns;
}

/* Open files: the hard limit (idle mode holds one per session). */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			fprintf(stderr, "loadgen: setrlimit: %s\n",
			    strerror(errno));
	}
	if (O.mode == M_IDLE && getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < O.sessions + 64)
		fatal("%zu sessions need %zu open files; the limit is %llu",
		    O.sessions, O.sessions + 64,
		    (unsigned long long)rl.rlim_cur);
}

/* ------------------------------------------------------------------ */
/* Main: signals, the hold, the report                                 */

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Idle mode: every thread has opened its sessions. */
static void
main_ready(void)
{
	uint64_t est = 0, fail = 0;
	int i;

	for (i = 0; i < O.threads; i++) {
		est += Thr[i].st.established;
		fail += stats_errors(&Thr[i].st);
	}
	printf("ready established=%llu failed=%llu secs=%.2f\n",
	    (unsigned long long)est, (unsigned long long)fail,
	    (double)(now_ns() - G.start_ns) / NS);
	fflush(stdout);
}

/* The idle mode's hold: "ready" once every thread has opened, then
 * SIGUSR1 (or -H) starts the check. Returns when the threads end. */
static void
main_wait(sigset_t *sigs, int64_t hard_end)
{
	struct timespec ts = { 0, 100 * MS };
	int64_t hold_end = 0;
	int sig;

	while (__atomic_load_n(&G.threads_done, __ATOMIC_SEQ_CST) <
	    O.threads) {
		sig = sigtimedwait(sigs, NULL, &ts);
		if (now_ns() > hard_end)
			G.stop = 1;
		if (O.mode == M_IDLE && G.phase == P_OPEN &&
		    __atomic_load_n(&G.opens_done, __ATOMIC_SEQ_CST) ==
		    O.threads) {
			G.phase = P_HOLD;
			hold_end = now_ns() + (int64_t)(O.hold_s * NS);
			main_ready();
		}
		if (O.mode == M_IDLE && G.phase == P_HOLD &&
		    (sig == SIGUSR1 || sig == SIGTERM || now_ns() > hold_end))
			G.phase = P_CHECK;
		else if (sig == SIGINT || sig == SIGTERM)
			G.stop = 1;
	}
}

/* Prints the result line; returns the exit status. */
static int
report(struct stats *st, double secs, double cpu)
{
	uint64_t errs = stats_errors(st);
	uint64_t base = O.mode == M_IDLE ? O.sessions : st->ops + errs;
	double errpct = base ? 100.0 * (double)errs / (double)base : 0;
	const char *status = "ok";
	int i;

	qsort(st->lat, st->nlat, sizeof(*st->lat), cmp_i64);
	if (O.mode == M_FULL && st->resumed > 0)
		status = "FAIL-resumed";
	else if (errpct > ERR_PCT_MAX || (O.mode != M_IDLE && st->ops == 0))
		status = "FLAG-errors";
	else if (O.mode == M_IDLE && st->alive < O.sessions)
		status = "FLAG-sessions";
	printf("errors:");
	for (i = 0; i < E_MAX; i++)
		printf(" %s=%llu", err_names[i], (unsigned long long)st->err[i]);
	printf("\nresult mode=%s ops=%llu secs=%.3f rate=%.1f errors=%llu "
	    "errpct=%.3f handshakes=%llu resumed=%llu resumed_pct=%.1f "
	    "bytes=%llu mbps=%.1f p50_us=%.0f p99_us=%.0f p999_us=%.0f "
	    "max_us=%.0f unfinished=%llu client_cpu_s=%.2f",
	    mode_names[O.mode], (unsigned long long)st->ops, secs,
	    secs > 0 ? (double)st->ops / secs : 0, (unsigned long long)errs,
	    errpct, (unsigned long long)st->handshakes,
	    (unsigned long long)st->resumed, st->handshakes ? 100.0 *
	    (double)st->resumed / (double)st->handshakes : 0,
	    (unsigned long long)st->bytes, secs > 0 ? (double)st->bytes /
	    1e6 / secs : 0, stats_quantile_us(st, 0.5),
	    stats_quantile_us(st, 0.99), stats_quantile_us(st, 0.999),
	    stats_quantile_us(st, 1.0), (unsigned long long)st->unfinished,
	    cpu);
	if (O.mode == M_IDLE)
		printf(" sessions=%zu established=%llu alive=%llu dropped=%llu",
		    O.sessions, (unsigned long long)st->established,
		    (unsigned long long)st->alive,
		    (unsigned long long)st->dropped);
	printf(" status=%s\n", status);
	return strcmp(status, "ok") == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct stats total;
	sigset_t sigs;
	double cpu0;
	int i, rc;

	opt_parse(argc, argv);
	raise_nofile();
	G.ctx = ctx_new();
	G.req_len = (size_t)snprintf(G.req, sizeof(G.req),
	    "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n", O.path ? O.path :
	    O.mode == M_BULK ? "/1m" : "/");
	if (G.req_len >= sizeof(G.req))
		fatal("path too long");
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);	/* main takes them */
	signal(SIGPIPE, SIG_IGN);
	if ((Thr = calloc((size_t)O.threads, sizeof(*Thr))) == NULL)
		fatal("out of memory");
	cpu0 = cpu_seconds();
	G.start_ns = now_ns();
	for (i = 0; i < O.threads; i++) {
		thr_init(&Thr[i], i);
		if ((rc = pthread_create(&Thr[i].tid, NULL, thr_main,
		    &Thr[i])) != 0)
			fatal("pthread_create: %s", strerror(rc));
	}
	main_wait(&sigs, G.start_ns + (int64_t)((O.duration_s * 2 +
	    O.hold_s + O.timeout_s * 2 + 30) * NS));
	memset(&total, 0, sizeof(total));
	for (i = 0; i < O.threads; i++) {
		pthread_join(Thr[i].tid, NULL);
		stats_add(&total, &Thr[i].st);
	}
	/* rate: the achieved rate over the schedule, not the connects. */
	return report(&total, O.mode == M_RATE ? O.duration_s :
	    (double)(now_ns() - G.start_ns) / NS, cpu_seconds() - cpu0);
}
