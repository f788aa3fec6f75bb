/*
 * tkring.h - the worker's session ticket key ring: one ring for the
 * whole worker, outside the reloadable generations, so that every
 * server context of every generation (SNI contexts too) encrypts with
 * the newest key and decrypts with any key still in the ring.
 *
 * Without tlsproxy_tls_ticket_key_file the worker makes the keys
 * (RAND_bytes) and rotates them as Postfix's tlsmgr does: a key encrypts
 * for T, then only decrypts for another T, T the longest
 * smtpd_tls_session_cache_timeout of the services (at most 100 days).
 * With the file, its keys are the ring (newest last in the file
 * encrypts, all decrypt) and rotation is the operator's. A ticket under
 * an older key is renewed.
 *
 * Runs in: the worker. tkring_ticket_cb runs in handshakes on any
 * thread (a read lock, no allocation); tkring_load on the thread that
 * applies snapshots. Retired keys are wiped.
 */
#ifndef TLSWARD_TKRING_H
#define TLSWARD_TKRING_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "snapshot.h"

/* Makes the ring what snapshot s asks for: the keys of its ticket key
 * file (file.PATH of global.tlsproxy_tls_ticket_key_file) replace the
 * ring; without a file, keys that came from a file are wiped and the
 * worker makes its own from the next handshake, and the rotation period
 * follows the services' timeouts. 0, or -1 with err (the ring is
 * unchanged). */
int	tkring_load(const struct snapshot *s, char *err, size_t errlen);

/* Makes ctx encrypt and decrypt its tickets with the ring. */
void	tkring_attach(SSL_CTX *ctx);

/* Tickets since the worker started, counted in the ticket callback. */
struct tkring_counts {
	uint64_t	issued;		/* encrypted under the ring's newest */
	uint64_t	decrypted;	/* presented under a key the ring holds
					 * (the session may resume) */
	uint64_t	refused;	/* presented under a key it does not
					 * hold (unknown, or past decryption):
					 * a full handshake */
};

/* What "tlsward status" and the metrics show of the ring. Nothing of
 * the key material: the key name (sent in clear in every ticket) only. */
#define TKR_SHOW_NAME	4	/* bytes of the key name shown */
struct tkring_info {
	size_t			keys;		/* in the ring now */
	int			from_file;	/* else made here */
	char			path[512];	/* the file ("" if none) */
	unsigned char		name[TKR_SHOW_NAME];	/* the newest key's
					 * name, first bytes */
	int64_t			age_s;		/* since the newest key was
					 * made, or first loaded */
	size_t			position;	/* file: the newest key's place
					 * among its keys (1 the oldest;
					 * the newest is the last) */
	int			encrypts;	/* the newest key still
					 * encrypts (else the next handshake
					 * makes a new one) */
	struct tkring_counts	n;
};

/* A copy of the ring's description (any thread; takes the read lock). */
void	tkring_info(struct tkring_info *info);

#endif
