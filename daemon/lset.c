/*
 * lset.c - reference-counted listener sets.
 *
 * Runs in: the worker (built by the control thread, read by the acceptor
 * and the event loops).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lset.h"
#include "runtime.h"
#include "stats.h"
#include "util.h"

struct lset *
lset_new(const int *fds, size_t nfds, struct rt *rt)
{
	struct lset *ls = xcalloc(1, sizeof(*ls));
	size_t i, k, n = nfds ? nfds : 1;

	ls->refs = 1;
	ls->fds = xcalloc(n, sizeof(int));
	memcpy(ls->fds, fds, nfds * sizeof(int));
	ls->nfds = nfds;
	ls->rt = rt;
	ls->svc = xcalloc(n, sizeof(long));
	ls->stats = xcalloc(n, sizeof(*ls->stats));
	for (i = 0; i < nfds; i++) {
		ls->svc[i] = -1;
		for (k = 0; rt != NULL && k < rt->n; k++) {
			if (rt->svcs[k].listen_idx == (int)i) {
				ls->svc[i] = (long)k;
				ls->stats[i] = stats_service(rt->svcs[k].name);
			}
		}
	}
	return ls;
}

struct lset *
lset_ref(struct lset *ls)
{
	__atomic_add_fetch(&ls->refs, 1, __ATOMIC_RELAXED);
	return ls;
}

void
lset_unref(struct lset *ls)
{
	size_t i;

	if (ls == NULL || __atomic_sub_fetch(&ls->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (i = 0; i < ls->nfds; i++)
		close(ls->fds[i]);
	rt_unref(ls->rt);
	free(ls->fds);
	free(ls->svc);
	free(ls->stats);
	free(ls);
}

int
lset_role(const struct lset *ls, size_t i)
{
	if (ls->rt == NULL || ls->svc[i] < 0)
		return -1;
	return (int)ls->rt->svcs[ls->svc[i]].role;
}
