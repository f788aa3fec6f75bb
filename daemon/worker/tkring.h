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

#endif
