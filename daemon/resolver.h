/*
 * resolver.h - forward targets' host names, looked up at load time and
 * again while the daemon runs: when the DNS answer's TTL runs out
 * (dnsttl.h; at most every RESOLVER_RETRY_S) or after
 * tlsproxy_forward_resolve_interval, whichever comes first, sooner
 * (RESOLVER_RETRY_S) while a name does not resolve, and at once when
 * the worker reports that a target stopped answering.
 *
 * Runs in: the privileged supervisor (the worker cannot read
 * /etc/hosts or /etc/resolv.conf, nor reach a resolver). The periodic
 * look-ups run on a thread of their own: getaddrinfo can block for as
 * long as the resolver's timeouts and retries (resolv.conf's "timeout"
 * times "attempts" per name server, 30 s and more), and the supervisor's
 * loop must keep answering signals, "tlsward status" and the worker
 * meanwhile. The thread touches nothing of the supervisor's: it gets
 * copies of the names and hands back results through a locked queue
 * and a pipe the loop polls.
 */
#ifndef TLSWARD_RESOLVER_H
#define TLSWARD_RESOLVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RESOLVER_MAX_ADDRS	16	/* addresses kept per target */
#define RESOLVER_RETRY_S	5	/* a name that does not resolve is
					 * tried again this often (or at the
					 * interval, if shorter) */

/* Looks host:port up (TCP). 0 with the addresses in ss[0..*np), or -1
 * with the reason in why; *softp (may be NULL) is set to 1 when the
 * failure may pass (no such name yet, no answer, a temporary failure),
 * 0 when it cannot (a bad port, a bad host name). Blocking. */
int	resolver_lookup(const char *host, const char *port,
	    struct sockaddr_storage *ss, size_t *np, int *softp, char *why,
	    size_t whylen);

/* The retry period of an unresolved name, in seconds. */
long long resolver_retry_s(long long interval_s);

/* One forward target that has a host name to look up again. */
struct resolver_ent {
	char		*svc;		/* service name */
	size_t		 svc_idx;	/* svc.I */
	size_t		 tgt_idx;	/* its forward target J */
	char		*text;		/* HOST:PORT as written */
	char		*host;
	char		*port;
	struct sockaddr_storage addr[RESOLVER_MAX_ADDRS];
	size_t		 naddr;		/* 0: did not resolve */
	int64_t		 due_ms;	/* next look-up (monotonic) */
	int64_t		 last_ms;	/* last look-up, 0 = by the loader */
	int64_t		 got_ms;	/* when addr was got */
	long		 ttl_s;		/* its DNS TTL, -1: none known */
	int		 ttl_pending;	/* to learn it (after a load) */
	int		 failing;	/* the last look-up failed (logged) */
};

struct snapshot;

/* The targets of snapshot s (nsvc services) that have a host name to
 * look up again (svc.I.forward.J.host), with the load's addresses. *np
 * entries; the array moves into resolver_set. */
struct resolver_ent *resolver_ents(const struct snapshot *s, size_t nsvc,
		    size_t *np);

/* A changed result, for the worker (resolver_take). */
struct resolver_update {
	char		*svc;
	size_t		 svc_idx;
	size_t		 tgt_idx;
	char		*text;
	struct sockaddr_storage addr[RESOLVER_MAX_ADDRS];
	size_t		 naddr;
};

struct resolver;

/* Starts the thread. NULL (logged) if it cannot. */
struct resolver	*resolver_new(void);

/* Stops the thread, frees everything. NULL is a no-op. */
void		 resolver_free(struct resolver *r);

/* Replaces the names to watch (a load or reload): ents[0..n) move in
 * (their addresses are what the load found); interval_s > 0. */
void		 resolver_set(struct resolver *r, struct resolver_ent *ents,
		    size_t n, long long interval_s);

/* Looks svc_idx's target tgt_idx up again soon (the worker saw it fail),
 * at most once per RESOLVER_RETRY_S. */
void		 resolver_poke(struct resolver *r, size_t svc_idx,
		    size_t tgt_idx);

/* What the thread has for host:port (any service's target): 0 with its
 * current addresses in ss[0..*np) (the last good ones while a look-up
 * fails; *np is 0 while it has never resolved), or -1 if it does not watch that name. Never blocks on a
 * look-up. */
int		 resolver_cached(struct resolver *r, const char *host,
		    const char *port, struct sockaddr_storage *ss,
		    size_t *np);

/* Queues every target's current addresses again (a new worker started
 * with the load's). */
void		 resolver_resend(struct resolver *r);

/* The descriptor that is readable while updates wait, or -1. */
int		 resolver_fd(const struct resolver *r);

/* Takes the waiting updates: *np of them, caller frees with
 * resolver_updates_free. */
struct resolver_update *resolver_take(struct resolver *r, size_t *np);
void		 resolver_updates_free(struct resolver_update *u, size_t n);

#endif
