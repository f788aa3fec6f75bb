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

/* Postfix's name of a signature algorithm (SSL_get_signature_type_nid):
 * "RSA", "RSA-PSS", "ECDSA", "ED25519", ..., else OpenSSL's short name. */
const char	*tlsinfo_sig_name(int nid);

/* "Anonymous" (no peer certificate), "Untrusted" (not verified),
 * "Trusted" (CA-verified) or "Verified" (CA-verified and a name matched,
 * or a listed fingerprint: tlsverify_check() decides). */
const char	*tlsinfo_trust(SSL *ssl);

/* "TLSv1.3 with cipher X (256/256 bits) key-exchange X25519
 * server-signature RSA-PSS (2048 bits) server-digest SHA256" into buf,
 * and with a peer certificate ", subject_CN=A, issuer_CN=B" (at the
 * role's loglevel >= 1 also ", fingerprint=.., pkey_fingerprint=.." and
 * for an untrusted chain ", not trusted: <reason>").
 * is_server: we are the TLS server (the signature is ours). */
void		 tlsinfo_established(SSL *ssl, int is_server, char *buf,
		    size_t len);

#endif
