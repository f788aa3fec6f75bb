/*
 * csc.h - the client-role session cache: TLS sessions (TLS 1.2 session
 * ids and tickets, TLS 1.3 tickets) that client-role services and
 * client-role hand-offs got from a server, offered again on the next
 * connection with exactly the same policy, so that repeated connections
 * to one server resume.
 *
 * A session is stored under a key that pins everything that decides
 * whether it may be reused: the configuration generation and the service
 * (its context: trust anchors, protocols, ciphers, client certificate,
 * level and names), the server's address, the SNI, and for a hand-off the
 * profile, level, names and fingerprints it asked for. Only a session
 * whose handshake passed the level's checks is stored; a handshake that
 * resumes one therefore passed them under the same policy (tlsverify.c
 * relies on that). A TLS 1.3 session is used once (RFC 8446 C.4): the
 * resumed handshake's new ticket replaces it. Bounded: one slot per key
 * in a fixed table (a key that hashes onto a used slot replaces it), and
 * each session lives tlsproxy_client_session_cache_timeout at most (and
 * no longer than the server's lifetime for it).
 *
 * Runs in: the worker, any thread (the table is locked in stripes).
 */
#ifndef TLSWARD_CSC_H
#define TLSWARD_CSC_H

#include <stdint.h>

#include <openssl/ssl.h>

/* Makes ctx (a client context) hand its new sessions to the cache. */
void	csc_attach(SSL_CTX *ctx);

struct svc_stats;

/* Before the handshake of ssl: ties it to the cache key made of the
 * policy words (a NULL-terminated list of strings), with a lifetime of
 * ttl_s (0: the cache is off for it, nothing happens), and sets the
 * cached session, if there is one, for resumption. The cache counts
 * into stats' csc block (stats.h; NULL: no counting): the sessions it
 * stores for this service as entries (until they expire, are evicted
 * or, TLS 1.3, taken), and at csc_verified a hit or a miss. */
void	csc_begin(SSL *ssl, const char *const *words, int64_t ttl_s,
	    struct svc_stats *stats);

/* The handshake of ssl passed the level's checks: the session it got
 * (now, or later with a TLS 1.3 ticket) may be stored; counted as a hit
 * if the handshake resumed a session, else a miss. */
void	csc_verified(SSL *ssl);

#endif
