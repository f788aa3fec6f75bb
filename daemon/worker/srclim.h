/*
 * srclim.h - per-source limits, as Postfix's anvil(8) keeps them for
 * smtpd: per service and per client network (the address, or its /N
 * prefix), the sessions open at once and the new connections in the
 * current second.
 *
 * Runs in: the event loops (admit at accept, release at the session's
 * end). One table for the worker, in buckets each under its own lock; an
 * entry lives while it has sessions, or counts the current second, or
 * remembers a recent refusal for the log.
 */
#ifndef TLSWARD_SRCLIM_H
#define TLSWARD_SRCLIM_H

#include <stddef.h>
#include <sys/socket.h>

#include "cidr.h"
#include "runtime.h"

#define SRCLIM_LOG_MS	10000	/* one refusal logged per source per */

struct srclim_ent;

enum srclim_verdict {
	SRCLIM_OK,		/* admitted */
	SRCLIM_SESSIONS,	/* tlsproxy_source_session_limit reached */
	SRCLIM_RATE,		/* tlsproxy_source_rate_limit reached */
};

/* What a refusal tells the log. */
struct srclim_refusal {
	struct cidr	 net;		/* the source's network */
	int		 log;		/* log it now (else it is counted) */
	unsigned long	 suppressed;	/* refusals not logged since the last
					 * logged one */
};

/* Admits a connection from peer to the service whose counters are key
 * (stable across reloads) with limits l. SRCLIM_OK with *entp to release
 * at the session's end (NULL when no limit applies: no limit set, not an
 * IP address, or an exempt network); else the refusal in *r. */
enum srclim_verdict srclim_admit(const void *key, const struct rt_srclim *l,
		    const struct sockaddr_storage *peer,
		    struct srclim_ent **entp, struct srclim_refusal *r);

/* The session admitted with ent ended (ent may be NULL). */
void	srclim_release(struct srclim_ent *ent);

#endif
