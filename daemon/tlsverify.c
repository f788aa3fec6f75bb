/*
 * tlsverify.c - post-handshake checks of the peer against the level.
 *
 * Runs in: worker session threads, after the handshake and before any
 * data is relayed. Reads the service's policy and what the verify
 * callback recorded (tlspolicy.c); marks a peer that passed a name or
 * fingerprint check, so that it is logged as "Verified".
 *
 * Levels, as Postfix has them:
 *   server  a client certificate is required (req_ccert at encrypt):
 *           it must be present and chain to a trust anchor
 *   client  fingerprint: the certificate's or its public key's digest is
 *           listed; verify, secure: it chains to a trust anchor and a
 *           name matches (the names come from *_cert_match)
 * may and encrypt authenticate nobody: the handshake is all they need.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/x509.h>

#include "fingerprint.h"
#include "runtime.h"
#include "tlspolicy.h"
#include "tlsverify.h"

static int fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "certificate verification failed: " + the reason; returns -1. */
static int
fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(why, whylen, "certificate verification failed: ");
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < whylen)
		vsnprintf(why + n, whylen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* The chain must lead to a trust anchor. */
static int
check_chain(SSL *ssl, char *why, size_t whylen)
{
	char r[256];

	if (tlspol_trusted(ssl))
		return 0;
	return fail(why, whylen, "%s", tlspol_chain_reason(ssl, r, sizeof(r)));
}

static int
check_fingerprint(SSL *ssl, const struct tls_policy *pol, X509 *cert,
    char *why, size_t whylen)
{
	char *c, *k;

	if (fpt_list_match(&pol->fpts, cert, pol->md)) {
		tlspol_peer(ssl)->matched = 1;
		return 0;
	}
	c = fpt_text(cert, pol->md, 0);
	k = fpt_text(cert, pol->md, 1);
	fail(why, whylen, "fingerprint mismatch: neither the %s fingerprint "
	    "%s nor pkey_fingerprint %s is in "
	    "tlsproxy_client_fingerprint_cert_match", pol->md_name,
	    c ? c : "?", k ? k : "?");
	free(c);
	free(k);
	return -1;
}

static int
check_names(SSL *ssl, const struct tls_policy *pol, X509 *cert, char *why,
    size_t whylen)
{
	char cn[80] = "";

	if (check_chain(ssl, why, whylen) < 0)
		return -1;
	/* OpenSSL sets the peer name when one of the names matched. */
	if (SSL_get0_peername(ssl) != NULL) {
		tlspol_peer(ssl)->matched = 1;
		return 0;
	}
	tlspol_cn(X509_get_subject_name(cert), cn, sizeof(cn));
	return fail(why, whylen, "name mismatch: the certificate (CN=%s) "
	    "matches none of: %s", cn, pol->names);
}

int
tlsverify_check(SSL *ssl, const struct rt_svc *svc, char *why, size_t whylen)
{
	const struct tls_policy *pol = tlspol_get(ssl);
	X509 *cert = SSL_get0_peer_certificate(ssl);

	(void)svc;	/* the policy travels with the SSL's context */
	if (pol->role != SVC_CLIENT) {
		if (!pol->require_cert)
			return 0;
		if (cert == NULL)
			return fail(why, whylen, "no client certificate");
		return check_chain(ssl, why, whylen);
	}
	if (pol->level < TLS_LEVEL_FINGERPRINT)
		return 0;
	/* A client resumes only sessions of the session cache, which holds
	 * those whose handshake passed these checks under the same policy
	 * (its key: worker/csc.h); the certificate is the one they were
	 * passed for, and no names were matched this time. */
	if (SSL_session_reused(ssl) && cert != NULL) {
		tlspol_peer(ssl)->matched = 1;
		return 0;
	}
	if (cert == NULL)
		return fail(why, whylen, "no server certificate");
	if (pol->level == TLS_LEVEL_FINGERPRINT)
		return check_fingerprint(ssl, pol, cert, why, whylen);
	return check_names(ssl, pol, cert, why, whylen);
}
