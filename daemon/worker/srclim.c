/*
 * srclim.c - per-source limits (see srclim.h for the contract).
 *
 * Runs in: the event loops. Each bucket's list is under its own mutex;
 * an entry's counters change only under its bucket's lock.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "srclim.h"
#include "util.h"
#include "watchdog.h"

#define SRCLIM_BUCKETS	256

struct srclim_ent {
	struct srclim_ent *next;
	unsigned	 bucket;
	const void	*key;		/* the service */
	struct cidr	 net;
	int		 active;	/* sessions open */
	int64_t		 sec;		/* the second counted */
	int		 count;		/* connections in it */
	int64_t		 logged_ms;	/* last refusal logged, or 0 */
	unsigned long	 suppressed;	/* refusals since, not logged */
};

static struct bucket {
	pthread_mutex_t	 lock;
	struct srclim_ent *head;
} B[SRCLIM_BUCKETS];

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
init_buckets(void)
{
	size_t i;

	for (i = 0; i < SRCLIM_BUCKETS; i++)
		pthread_mutex_init(&B[i].lock, NULL);
}

static unsigned
hash(const void *key, const struct cidr *net)
{
	uint64_t h = 1469598103934665603ULL, k = (uintptr_t)key;
	size_t i;

	for (i = 0; i < 8; i++, k >>= 8)
		h = (h ^ (k & 0xff)) * 1099511628211ULL;
	for (i = 0; i < sizeof(net->addr); i++)
		h = (h ^ net->addr[i]) * 1099511628211ULL;
	h = (h ^ (unsigned)net->bits) * 1099511628211ULL;
	return (unsigned)(h % SRCLIM_BUCKETS);
}

/* Nothing left to remember: no session, not this second, no refusal in
 * the log interval. */
static int
stale(const struct srclim_ent *e, int64_t now)
{
	return e->active == 0 && e->sec != now / 1000 &&
	    (e->logged_ms == 0 || now - e->logged_ms >= SRCLIM_LOG_MS);
}

/* The entry of (key, net) in bucket b, made if missing; stale entries
 * met on the way are freed. Called with b's lock held. */
static struct srclim_ent *
lookup(unsigned b, const void *key, const struct cidr *net, int64_t now)
{
	struct srclim_ent **pp = &B[b].head, *e;

	while ((e = *pp) != NULL) {
		if (e->key == key && e->net.family == net->family &&
		    e->net.bits == net->bits &&
		    memcmp(e->net.addr, net->addr, sizeof(net->addr)) == 0)
			return e;
		if (stale(e, now)) {
			*pp = e->next;
			free(e);
			continue;
		}
		pp = &e->next;
	}
	e = xcalloc(1, sizeof(*e));
	e->bucket = b;
	e->key = key;
	e->net = *net;
	e->next = B[b].head;
	B[b].head = e;
	return e;
}

/* The limit that this connection would pass, or SRCLIM_OK. */
static enum srclim_verdict
over(struct srclim_ent *e, const struct rt_srclim *l, int64_t now)
{
	if (e->sec != now / 1000) {
		e->sec = now / 1000;
		e->count = 0;
	}
	if (l->sessions > 0 && e->active >= l->sessions)
		return SRCLIM_SESSIONS;
	if (l->rate > 0 && e->count >= l->rate)
		return SRCLIM_RATE;
	return SRCLIM_OK;
}

/* Decides whether this refusal is logged, and with what count. */
static void
refusal(struct srclim_ent *e, int64_t now, struct srclim_refusal *r)
{
	r->net = e->net;
	r->log = e->logged_ms == 0 || now - e->logged_ms >= SRCLIM_LOG_MS;
	r->suppressed = e->suppressed;
	if (r->log) {
		e->logged_ms = now;
		e->suppressed = 0;
	} else
		e->suppressed++;
}

enum srclim_verdict
srclim_admit(const void *key, const struct rt_srclim *l,
    const struct sockaddr_storage *peer, struct srclim_ent **entp,
    struct srclim_refusal *r)
{
	struct srclim_ent *e;
	enum srclim_verdict v;
	struct cidr net;
	int64_t now;
	unsigned b;

	*entp = NULL;
	if ((l->sessions == 0 && l->rate == 0) ||
	    cidr_of(peer, l->v4bits, l->v6bits, &net) < 0 ||
	    cidr_list_match(l->exempt, l->nexempt, peer))
		return SRCLIM_OK;
	pthread_once(&once, init_buckets);
	now = wd_now_ms();
	b = hash(key, &net);
	pthread_mutex_lock(&B[b].lock);
	e = lookup(b, key, &net, now);
	if ((v = over(e, l, now)) == SRCLIM_OK) {
		e->active++;
		e->count++;
		*entp = e;
	} else
		refusal(e, now, r);
	pthread_mutex_unlock(&B[b].lock);
	return v;
}

void
srclim_release(struct srclim_ent *e)
{
	unsigned b;

	if (e == NULL)
		return;
	b = e->bucket;
	pthread_mutex_lock(&B[b].lock);
	e->active--;		/* freed when stale, by a later lookup */
	pthread_mutex_unlock(&B[b].lock);
}
