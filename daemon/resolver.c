/*
 * resolver.c - forward targets' host names looked up again while the
 * daemon runs (resolver.h says why on a thread of its own).
 *
 * Runs in: the privileged supervisor: resolver_lookup in the loader
 * (start, reload, -t), the rest on the resolver thread and the
 * supervisor's loop. Owns the thread, its table of names (copies), the
 * queue of changed results and the wake-up pipe.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dnsttl.h"
#include "log.h"
#include "resolver.h"
#include "snapshot.h"
#include "util.h"

/* Monotonic milliseconds (the CLI links this file too, without the
 * worker's watchdog.c). */
static int64_t
res_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct resolver {
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;		/* the table changed, or stop */
	int			 stop;
	struct resolver_ent	*ents;		/* the table */
	size_t			 nents;
	int64_t			 interval_ms;
	unsigned		 serial;	/* bumped by resolver_set */
	int			 busy;		/* a getaddrinfo is running */
	struct resolver_update	*q;		/* for the loop */
	size_t			 nq;
	int			 pipe[2];	/* [0] readable: q not empty */
};

int
resolver_lookup(const char *host, const char *port,
    struct sockaddr_storage *ss, size_t *np, int *softp, char *why,
    size_t whylen)
{
	struct addrinfo hints, *res, *ai;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	*np = 0;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		if (softp != NULL)
			*softp = rc == EAI_NONAME || rc == EAI_AGAIN ||
			    rc == EAI_FAIL || rc == EAI_NODATA ||
			    rc == EAI_ADDRFAMILY;
		snprintf(why, whylen, "%s", rc == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && *np < RESOLVER_MAX_ADDRS;
	    ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(*ss))
			continue;
		memset(&ss[*np], 0, sizeof(*ss));
		memcpy(&ss[(*np)++], ai->ai_addr, ai->ai_addrlen);
	}
	freeaddrinfo(res);
	return 0;
}

long long
resolver_retry_s(long long interval_s)
{
	return interval_s < RESOLVER_RETRY_S ? interval_s : RESOLVER_RETRY_S;
}

static void
ents_free(struct resolver_ent *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(e[i].svc);
		free(e[i].text);
		free(e[i].host);
		free(e[i].port);
	}
	free(e);
}

/* Queues ent's addresses for the loop (locked). */
static void
queue_push(struct resolver *r, const struct resolver_ent *ent)
{
	struct resolver_update *u;
	char c = 1;

	r->q = xreallocarray(r->q, r->nq + 1, sizeof(*r->q));
	u = &r->q[r->nq++];
	memset(u, 0, sizeof(*u));
	u->svc = xstrdup(ent->svc);
	u->svc_idx = ent->svc_idx;
	u->tgt_idx = ent->tgt_idx;
	u->text = xstrdup(ent->text);
	memcpy(u->addr, ent->addr, sizeof(u->addr));
	u->naddr = ent->naddr;
	if (write(r->pipe[1], &c, 1) < 0 && errno != EAGAIN)
		log_warn("resolver: wake-up pipe");
}

/* How long ent's addresses stay good, in ms: its DNS answer's TTL when
 * DNS gave one, no less than the retry period and no more than the
 * interval; the interval when it did not. */
static int64_t
valid_ms(const struct resolver *r, const struct resolver_ent *ent)
{
	int64_t floor = resolver_retry_s(r->interval_ms / 1000) * 1000;

	if (ent->ttl_s < 0 || ent->ttl_s * 1000 >= r->interval_ms)
		return r->interval_ms;
	return ent->ttl_s * 1000 > floor ? ent->ttl_s * 1000 : floor;
}

/* When ent is looked up next: the retry period while it does not
 * resolve, else when its addresses (got at ent->got_ms) stop being
 * good. */
static int64_t
next_due(const struct resolver *r, const struct resolver_ent *ent,
    int64_t now)
{
	int64_t retry = resolver_retry_s(r->interval_ms / 1000) * 1000;

	if ((ent->failing || ent->naddr == 0) && retry > 0)
		return now + retry;
	return ent->got_ms + valid_ms(r, ent);
}

static int
addr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct sockaddr_storage));
}

/* 1 if ss[0..n) holds the same addresses as ent, in any order: a DNS
 * server that rotates its answers is no change (the worker keeps the
 * order it has, and gets no message every interval). */
static int
same_set(const struct resolver_ent *ent, const struct sockaddr_storage *ss,
    size_t n)
{
	struct sockaddr_storage a[RESOLVER_MAX_ADDRS], b[RESOLVER_MAX_ADDRS];

	if (n != ent->naddr)
		return 0;
	memcpy(a, ss, n * sizeof(a[0]));
	memcpy(b, ent->addr, n * sizeof(b[0]));
	qsort(a, n, sizeof(a[0]), addr_cmp);
	qsort(b, n, sizeof(b[0]), addr_cmp);
	return memcmp(a, b, n * sizeof(a[0])) == 0;
}

/* The result of a look-up of ent (locked): logged and queued when it
 * changed. */
static void
apply_result(struct resolver *r, struct resolver_ent *ent, int rc,
    const struct sockaddr_storage *ss, size_t n, const char *why)
{
	if (rc < 0) {
		if (!ent->failing)
			log_warnx("service %s: forward %s: cannot resolve "
			    "(%s); %s, retrying every %lld s", ent->svc,
			    ent->text, why, ent->naddr > 0 ? "keeping the "
			    "addresses it had" : "refusing connections",
			    resolver_retry_s(r->interval_ms / 1000));
		ent->failing = 1;
		return;	/* a failing resolver keeps the last good answer */
	}
	if (ent->failing || ent->naddr == 0)
		log_info("service %s: forward %s: resolves again (%zu "
		    "address%s)", ent->svc, ent->text, n, n == 1 ? "" : "es");
	ent->failing = 0;
	if (same_set(ent, ss, n))
		return;
	if (ent->naddr > 0)
		log_info("service %s: forward %s: new addresses (%zu)",
		    ent->svc, ent->text, n);
	memset(ent->addr, 0, sizeof(ent->addr));
	memcpy(ent->addr, ss, n * sizeof(*ss));
	ent->naddr = n;
	queue_push(r, ent);
}

/* Looks ent's name up, unlocked during the look-up: its addresses, and
 * the TTL of their DNS answer; only the TTL if ttl_only (the loader
 * has just found the addresses). Locked on entry and return; 0, or -1
 * if the table was replaced meanwhile. */
static int
lookup_one(struct resolver *r, size_t i, int ttl_only)
{
	struct sockaddr_storage ss[RESOLVER_MAX_ADDRS];
	char *host, *port, why[256];
	unsigned serial = r->serial;
	size_t n = 0;
	long ttl = -1;
	int rc = 0;

	host = xstrdup(r->ents[i].host);
	port = xstrdup(r->ents[i].port);
	r->busy = 1;
	pthread_mutex_unlock(&r->lock);
	if (!ttl_only)
		rc = resolver_lookup(host, port, ss, &n, NULL, why,
		    sizeof(why));
	if (rc == 0)
		ttl = dnsttl_get(host);
	free(host);
	free(port);
	pthread_mutex_lock(&r->lock);
	r->busy = 0;
	if (r->serial != serial || r->stop)
		return -1;
	if (rc == 0)
		r->ents[i].ttl_s = ttl;
	if (!ttl_only) {
		apply_result(r, &r->ents[i], rc, ss, n, why);
		if (rc == 0)
			r->ents[i].got_ms = r->ents[i].last_ms;
	}
	return 0;
}

/* Looks up the first entry that is due; 1 if there was one. Locked on
 * entry and return. */
static int
lookup_due(struct resolver *r, int64_t now)
{
	struct resolver_ent *ent;
	int ttl_only;
	size_t i;

	for (i = 0; i < r->nents && r->ents[i].due_ms > now; i++)
		;
	if (i == r->nents)
		return 0;
	ent = &r->ents[i];
	ttl_only = ent->ttl_pending;
	ent->ttl_pending = 0;
	if (!ttl_only)
		ent->last_ms = now;
	if (lookup_one(r, i, ttl_only) < 0)
		return 1;	/* the table was replaced meanwhile */
	ent = &r->ents[i];
	ent->due_ms = next_due(r, ent, res_now_ms());
	if (ent->failing)
		return 1;
	if (ent->ttl_s >= 0)
		log_debug("service %s: forward %s: DNS TTL %ld s, next "
		    "look-up in %lld s", ent->svc, ent->text, ent->ttl_s,
		    (long long)((ent->due_ms - res_now_ms() + 999) / 1000));
	else
		log_debug("service %s: forward %s: no DNS TTL, next look-up "
		    "in %lld s", ent->svc, ent->text,
		    (long long)((ent->due_ms - res_now_ms() + 999) / 1000));
	return 1;
}

/* Sleeps (locked) until the earliest entry is due or the table changes. */
static void
sleep_until_due(struct resolver *r, int64_t now)
{
	int64_t t = -1;
	struct timespec ts;
	size_t i;

	for (i = 0; i < r->nents; i++)
		if (t < 0 || r->ents[i].due_ms < t)
			t = r->ents[i].due_ms;
	if (t < 0) {
		pthread_cond_wait(&r->cond, &r->lock);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = t > now ? t - now : 0;
	ts.tv_sec += t / 1000;
	ts.tv_nsec += (t % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	(void)pthread_cond_timedwait(&r->cond, &r->lock, &ts);
}

static void *
resolver_thread(void *arg)
{
	struct resolver *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		if (!lookup_due(r, res_now_ms()))
			sleep_until_due(r, res_now_ms());
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

struct resolver *
resolver_new(void)
{
	struct resolver *r = xcalloc(1, sizeof(*r));
	pthread_condattr_t ca;
	int rc;

	if (pipe2(r->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_warn("resolver: pipe");
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&r->thread, NULL, resolver_thread, r)) != 0) {
		log_warnx("resolver: cannot start a thread: %s", strerror(rc));
		close(r->pipe[0]);
		close(r->pipe[1]);
		free(r);
		return NULL;
	}
	return r;
}

void
resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = 1;
	pthread_cond_signal(&r->cond);
	if (r->busy) {
		/* A getaddrinfo may take as long as the resolver's timeouts:
		 * the daemon is stopping and does not wait for it; the
		 * thread finds stop set and the process ends first. */
		pthread_mutex_unlock(&r->lock);
		return;
	}
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	ents_free(r->ents, r->nents);
	resolver_updates_free(r->q, r->nq);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	close(r->pipe[0]);
	close(r->pipe[1]);
	free(r);
}

void
resolver_set(struct resolver *r, struct resolver_ent *ents, size_t n,
    long long interval_s)
{
	int64_t now = res_now_ms();
	size_t i;

	pthread_mutex_lock(&r->lock);
	ents_free(r->ents, r->nents);
	r->ents = ents;
	r->nents = n;
	r->interval_ms = interval_s * 1000;
	r->serial++;
	for (i = 0; i < n; i++) {
		ents[i].failing = ents[i].naddr == 0;	/* the loader said */
		ents[i].ttl_s = -1;
		ents[i].got_ms = now;
		/* A name that resolved: its TTL is learned at once. */
		ents[i].ttl_pending = ents[i].naddr > 0;
		ents[i].due_ms = ents[i].ttl_pending ? now :
		    next_due(r, &ents[i], now);
	}
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

void
resolver_poke(struct resolver *r, size_t svc_idx, size_t tgt_idx)
{
	int64_t now = res_now_ms();
	size_t i;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->nents; i++) {
		if (r->ents[i].svc_idx != svc_idx ||
		    r->ents[i].tgt_idx != tgt_idx)
			continue;
		/* At once, unless it was looked up moments ago. */
		if (now - r->ents[i].last_ms >= RESOLVER_RETRY_S * 1000 &&
		    r->ents[i].due_ms > now) {
			r->ents[i].due_ms = now;
			pthread_cond_signal(&r->cond);
		}
	}
	pthread_mutex_unlock(&r->lock);
}

int
resolver_cached(struct resolver *r, const char *host, const char *port,
    struct sockaddr_storage *ss, size_t *np)
{
	const struct resolver_ent *e;
	size_t i;
	int rc = -1;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->nents && rc < 0; i++) {
		e = &r->ents[i];
		if (strcmp(e->host, host) != 0 || strcmp(e->port, port) != 0)
			continue;
		*np = e->naddr;	/* a failing name keeps its last good ones */
		memcpy(ss, e->addr, *np * sizeof(*ss));
		rc = 0;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void
resolver_resend(struct resolver *r)
{
	size_t i;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->nents; i++)
		queue_push(r, &r->ents[i]);
	pthread_mutex_unlock(&r->lock);
}

struct resolver_ent *
resolver_ents(const struct snapshot *s, size_t nsvc, size_t *np)
{
	struct resolver_ent *v = NULL, *e;
	const char *host, *cnt, *addr;
	size_t i, j, nt, alen;

	*np = 0;
	for (i = 0; i < nsvc; i++) {
		cnt = snap_getf(s, NULL, "svc.%zu.forward_count", i);
		nt = cnt != NULL ? strtoul(cnt, NULL, 10) : 0;
		for (j = 0; j < nt; j++) {
			host = snap_getf(s, NULL, "svc.%zu.forward.%zu.host",
			    i, j);
			if (host == NULL || *host == '\0')
				continue;
			v = xreallocarray(v, *np + 1, sizeof(*v));
			e = &v[(*np)++];
			memset(e, 0, sizeof(*e));
			e->svc = xstrdup(snap_getf(s, NULL, "svc.%zu.name", i));
			e->svc_idx = i;
			e->tgt_idx = j;
			e->text = xstrdup(snap_getf(s, NULL,
			    "svc.%zu.forward.%zu.text", i, j));
			e->host = xstrdup(host);
			e->port = xstrdup(snap_getf(s, NULL,
			    "svc.%zu.forward.%zu.port", i, j));
			addr = snap_getf(s, &alen, "svc.%zu.forward.%zu.addr",
			    i, j);
			e->naddr = addr != NULL ? alen / sizeof(e->addr[0]) : 0;
			if (e->naddr > RESOLVER_MAX_ADDRS)
				e->naddr = RESOLVER_MAX_ADDRS;
			if (e->naddr > 0)
				memcpy(e->addr, addr,
				    e->naddr * sizeof(e->addr[0]));
		}
	}
	return v;
}

int
resolver_fd(const struct resolver *r)
{
	return r != NULL ? r->pipe[0] : -1;
}

struct resolver_update *
resolver_take(struct resolver *r, size_t *np)
{
	struct resolver_update *q;
	char drain[64];

	while (read(r->pipe[0], drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&r->lock);
	q = r->q;
	*np = r->nq;
	r->q = NULL;
	r->nq = 0;
	pthread_mutex_unlock(&r->lock);
	return q;
}

void
resolver_updates_free(struct resolver_update *u, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(u[i].svc);
		free(u[i].text);
	}
	free(u);
}
