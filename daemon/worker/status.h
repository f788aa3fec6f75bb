/*
 * status.h - the worker's part of "tlsward status": what each service of
 * the current generation is (name, role, listener, certificates with
 * their expiry) and its counters, plus the pool, as text records.
 *
 * Record format (one per line, sent to the supervisor, which adds its own
 * and passes them to tlsward(1)): a type word, then NAME=VALUE fields
 * separated by one space; values are %XX-encoded for bytes <= 0x20,
 * '%' and >= 0x7f. Types: worker, events, pool, tickets, service,
 * cert, forward.
 * doc/tlswardd.8 lists the fields.
 *
 * Runs in: the worker's control thread only (no locking here).
 */
#ifndef TLSWARD_STATUS_H
#define TLSWARD_STATUS_H

#include <time.h>

#include "ocsp.h"
#include "runtime.h"
#include "snapshot.h"
#include "util.h"

/* Describes generation rt (built from snapshot s) for later reports,
 * replacing the previous description, and points the OCSP staples' sent
 * counters of rt's server contexts at their services' blocks (stats.h).
 * Call before rt is installed: the certificates are read from rt's
 * SSL_CTXs, which nobody else may use at that moment. */
void	status_collect(struct rt *rt, const struct snapshot *s);

/* Appends the worker's records to b. */
void	status_report(struct buf *b);

/* For the metrics (metrics.c), same thread: the services of the current
 * generation (NULL past the last) and their certificates in use. */
const char *status_service_name(size_t i);
/* 1 if service i has a client side (client role, hand-offs): its
 * session cache counters mean something. */
int	status_service_csc(size_t i);
struct status_cert {
	const char	*service;
	const char	*subject;	/* RFC 2253 */
	const char	*algorithm;
	int		 bits;
	time_t		 not_after;
	int		 stapled;	/* an OCSP response is kept: */
	struct ocsp_staple_info staple;
};
void	status_each_cert(void (*fn)(const struct status_cert *, void *),
	    void *arg);

/* Appends " name=value" to b, value encoded as above. */
void	status_field(struct buf *b, const char *name, const char *value);

#endif
