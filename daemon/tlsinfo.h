/*
 * tlsinfo.h - describing an established TLS session the way tlsproxy(8)
 * logs it: protocol, cipher, bits, key exchange, signature, and the trust
 * outcome of the peer certificate.
 *
 * Runs in: worker session threads (read-only use of a live SSL).
 */
#ifndef TLSWARD_TLSINFO_H
#define TLSWARD_TLSINFO_H

#include <stddef.h>

#include <openssl/ssl.h>

/* "Anonymous" (no peer certificate), "Untrusted" (not verified),
 * "Trusted" (CA-verified) or "Verified" (CA-verified, name matched). */
const char	*tlsinfo_trust(SSL *ssl);

/* "TLSv1.3 with cipher X (256/256 bits) key-exchange X25519
 * server-signature RSA-PSS (2048 bits) server-digest SHA256" into buf.
 * is_server: we are the TLS server (the signature is ours). */
void		 tlsinfo_established(SSL *ssl, int is_server, char *buf,
		    size_t len);

#endif
