/*
 * fwdtarget.c - forward targets' address sets and passive health (see
 * fwdtarget.h).
 *
 * Runs in: the worker's event loops and main thread. Owns each target's
 * address sets (freed at the last reference) and its health state.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fwdtarget.h"
#include "log.h"
#include "util.h"

static int fwdt_report_fd = -1;

void
fwdt_set_report_fd(int fd)
{
	fwdt_report_fd = fd;
}

static struct fwd_addrs *
addrs_new(const struct sockaddr_storage *ss, size_t n)
{
	struct fwd_addrs *a = xcalloc(1, sizeof(*a) + n * sizeof(a->a[0]));

	a->refs = 1;
	a->n = n;
	if (n > 0)
		memcpy(a->a, ss, n * sizeof(a->a[0]));
	return a;
}

void
fwdt_init(struct fwd_target *t, const char *text, size_t svc_idx,
    size_t tgt_idx, const void *addr, size_t len)
{
	memset(t, 0, sizeof(*t));
	t->text = xstrdup(text != NULL ? text : "?");
	t->svc_idx = svc_idx;
	t->tgt_idx = tgt_idx;
	pthread_mutex_init(&t->lock, NULL);
	t->addrs = addrs_new(addr, addr != NULL ? len /
	    sizeof(struct sockaddr_storage) : 0);
	t->backoff_ms = FWDT_BACKOFF_MIN_MS;
}

void
fwdt_fini(struct fwd_target *t)
{
	if (t->text == NULL)
		return;		/* never set up */
	fwdt_addrs_unref(t->addrs);
	pthread_mutex_destroy(&t->lock);
	free(t->text);
	memset(t, 0, sizeof(*t));
}

struct fwd_addrs *
fwdt_addrs(struct fwd_target *t)
{
	struct fwd_addrs *a;

	pthread_mutex_lock(&t->lock);
	a = t->addrs;
	__atomic_add_fetch(&a->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&t->lock);
	return a;
}

void
fwdt_addrs_unref(struct fwd_addrs *a)
{
	if (a != NULL && __atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(a);
}

void
fwdt_inherit(struct fwd_target *t, struct fwd_target *old)
{
	pthread_mutex_lock(&old->lock);
	t->down = old->down;
	t->retry_ms = old->retry_ms;
	t->backoff_ms = old->backoff_ms;
	pthread_mutex_unlock(&old->lock);
}

void
fwdt_update(struct fwd_target *t, const struct sockaddr_storage *ss,
    size_t n)
{
	struct fwd_addrs *a = addrs_new(ss, n), *old;
	int changed;

	pthread_mutex_lock(&t->lock);
	old = t->addrs;
	changed = old->n != n ||
	    memcmp(old->a, ss, n * sizeof(*ss)) != 0;
	t->addrs = a;
	if (changed && t->down)
		__atomic_store_n(&t->retry_ms, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&t->lock);
	fwdt_addrs_unref(old);
}

int
fwdt_usable(const struct fwd_target *t, int64_t now_ms)
{
	return !__atomic_load_n(&t->down, __ATOMIC_ACQUIRE) ||
	    now_ms >= __atomic_load_n(&t->retry_ms, __ATOMIC_RELAXED);
}

/* Tells the supervisor (async, best effort): it looks the name up. */
static void
report_down(const struct fwd_target *t)
{
	char msg[64];
	int n;

	if (fwdt_report_fd < 0)
		return;
	n = snprintf(msg, sizeof(msg), "\004" FWDT_DOWN_TAG "%zu %zu",
	    t->svc_idx, t->tgt_idx);
	(void)send(fwdt_report_fd, msg, (size_t)n, MSG_DONTWAIT |
	    MSG_NOSIGNAL);
}

void
fwdt_failed(struct fwd_target *t, const char *svc, const char *why,
    int64_t now_ms)
{
	int was_down;

	pthread_mutex_lock(&t->lock);
	was_down = t->down;
	/* Sessions that tried before it went down fail after it too: only
	 * a retry that failed lengthens the pause. */
	if (was_down && now_ms < t->retry_ms) {
		pthread_mutex_unlock(&t->lock);
		return;
	}
	if (!was_down)
		t->backoff_ms = FWDT_BACKOFF_MIN_MS;
	else if ((t->backoff_ms *= 2) > FWDT_BACKOFF_MAX_MS)
		t->backoff_ms = FWDT_BACKOFF_MAX_MS;
	__atomic_store_n(&t->retry_ms, now_ms + t->backoff_ms,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&t->down, 1, __ATOMIC_RELEASE);
	log_warnx("service %s: forward target %s %s: %s; skipped for %lld s",
	    svc, t->text, was_down ? "still down" : "down", why,
	    (long long)(t->backoff_ms / 1000));
	pthread_mutex_unlock(&t->lock);
	report_down(t);
}

void
fwdt_succeeded(struct fwd_target *t, const char *svc)
{
	if (!__atomic_load_n(&t->down, __ATOMIC_ACQUIRE))
		return;		/* the usual case: nothing to change */
	pthread_mutex_lock(&t->lock);
	if (t->down) {
		__atomic_store_n(&t->down, 0, __ATOMIC_RELEASE);
		t->backoff_ms = FWDT_BACKOFF_MIN_MS;
		log_info("service %s: forward target %s up again", svc,
		    t->text);
	}
	pthread_mutex_unlock(&t->lock);
}
