/*
 * tlsverify.h - the security-level decision after a handshake: whether
 * the peer's certificate satisfies the service's level (fingerprint,
 * verify, secure in the client role; a required client certificate in the
 * server role).
 *
 * Runs in: worker session threads, right after a successful handshake and
 * before any data is relayed.
 */
#ifndef TLSWARD_TLSVERIFY_H
#define TLSWARD_TLSVERIFY_H

#include <stddef.h>

#include <openssl/ssl.h>

struct rt_svc;

/* 0 when the session may proceed; -1 with why ("certificate verification
 * failed: <reason>") when the level's requirements are not met. A peer
 * that passed a fingerprint or name check is marked for
 * tlsinfo_trust() ("Verified"). */
int	tlsverify_check(SSL *ssl, const struct rt_svc *svc, char *why,
	    size_t whylen);

#endif
