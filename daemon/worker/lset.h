/*
 * lset.h - a listener set: the listening descriptors the supervisor
 * passed, the generation their connections are served with, and for each
 * listener its service and counters, looked up once.
 *
 * Runs in: the worker. A set is immutable and reference-counted: the
 * acceptor thread (control-role listeners) and every event loop
 * (server- and client-role listeners) hold a reference; a reload builds
 * a new set, and the last holder of the old one closes its descriptors.
 * Holders must stop polling a descriptor (EPOLL_CTL_DEL) before they drop
 * their reference: an epoll registration outlives close(2) while another
 * descriptor of the same socket (the new set's copy) is open.
 */
#ifndef TLSWARD_LSET_H
#define TLSWARD_LSET_H

#include <stddef.h>

struct rt;
struct svc_stats;

struct lset {
	int			 refs;	/* atomic */
	int			*fds;
	size_t			 nfds;
	struct rt		*rt;	/* reference owned */
	long			*svc;	/* per listener: index in rt, or -1 */
	struct svc_stats	**stats;	/* per listener, or NULL */
	unsigned char		*nodelay;	/* per listener: accepted
						 * sockets inherit TCP_NODELAY */
};

/* A set of fds (index i is the listen_idx of rt's services) for rt; takes
 * over the fds and the reference to rt. One reference, the caller's.
 * TCP listeners of server- and client-role services get TCP_NODELAY,
 * which accepted sockets inherit (one system call per listener instead
 * of one per connection); server-role ones also get TCP_DEFER_ACCEPT
 * (see lset.c). Both are socket options of the listener: no privilege
 * is needed, and listeners from systemd get them too. */
struct lset	*lset_new(const int *fds, size_t nfds, struct rt *rt);

struct lset	*lset_ref(struct lset *ls);

/* Drops a reference; the last one closes the fds and drops the
 * generation. NULL is ignored. */
void		 lset_unref(struct lset *ls);

/* The role (enum svc_role) of listener i's service, or -1 for a listener
 * the generation no longer serves. */
int		 lset_role(const struct lset *ls, size_t i);

#endif
