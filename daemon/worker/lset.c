/*
 * lset.c - reference-counted listener sets.
 *
 * Runs in: the worker (built by the control thread, read by the acceptor
 * and the event loops).
 */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lset.h"
#include "runtime.h"
#include "stats.h"
#include "util.h"

/* TLS clients speak first: with TCP_DEFER_ACCEPT the kernel completes
 * accept(2) when the ClientHello is there, so a new connection costs one
 * wake-up and no read that finds nothing. A client that connects and
 * sends nothing is accepted after about this many seconds anyway (the
 * kernel's SYN-ACK retransmission schedule) and then meets the
 * handshake deadline. */
#define LSET_DEFER_ACCEPT_S	1

/* The socket options of listener fd of a role; 1 if accepted sockets
 * inherit TCP_NODELAY. */
static int
listener_opts(int fd, int role)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);
	int on = 1, defer = LSET_DEFER_ACCEPT_S;

	if ((role != SVC_SERVER && role != SVC_CLIENT) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return 0;
	if (role == SVC_SERVER)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer,
		    sizeof(defer));
	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0;
}

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
	ls->nodelay = xcalloc(n, 1);
	for (i = 0; i < nfds; i++) {
		ls->svc[i] = -1;
		for (k = 0; rt != NULL && k < rt->n; k++) {
			if (rt->svcs[k].listen_idx == (int)i) {
				ls->svc[i] = (long)k;
				ls->stats[i] = stats_service(rt->svcs[k].name);
			}
		}
		ls->nodelay[i] = (unsigned char)listener_opts(fds[i],
		    lset_role(ls, i));
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
	free(ls->nodelay);
	free(ls);
}

int
lset_role(const struct lset *ls, size_t i)
{
	if (ls->rt == NULL || ls->svc[i] < 0)
		return -1;
	return (int)ls->rt->svcs[ls->svc[i]].role;
}
