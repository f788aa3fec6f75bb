/*
 * ocspresp.h - judging a DER OCSP response for one certificate: it must
 * be a successful basic response that names the certificate (with any
 * CertID hash), be signed by the certificate's issuer or by a responder
 * the issuer delegated to (id-kp-OCSPSigning), and be current. One
 * judgement for the daemon (what it staples) and the CLI (what
 * fetch-ocsp writes), so that both agree.
 *
 * Runs in: the CLI, the privileged supervisor (tlswardd -t) and the
 * worker. Parses memory only; owns nothing it returns.
 */
#ifndef TLSWARD_OCSPRESP_H
#define TLSWARD_OCSPRESP_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#define OCSPRESP_SKEW_S	300	/* thisUpdate may be this far ahead */

/* What a usable response says about its certificate. */
struct ocspresp_info {
	int	 status;	/* V_OCSP_CERTSTATUS_GOOD, _REVOKED, _UNKNOWN */
	time_t	 this_update;
	time_t	 next_update;	/* always present (a response without one
				 * is refused: it would never go stale) */
	time_t	 revoked_at;	/* status revoked: since when */
};

/* 1 if the DER response names leaf (issued by issuer) in one of its
 * single responses, 0 if it names other certificates, -1 with err if it
 * is not a successful basic OCSP response in DER. Checks no signature. */
int	ocspresp_names(const unsigned char *der, size_t len, X509 *leaf,
	    X509 *issuer, char *err, size_t errlen);

/* The whole judgement at time now: 0 with *info, or -1 with err saying
 * why (not DER, not successful, names another certificate, the
 * signature does not verify against issuer, no nextUpdate, thisUpdate
 * in the future, stale: nextUpdate has passed). Any status passes; the
 * caller decides what good, revoked and unknown mean to it. */
int	ocspresp_check(const unsigned char *der, size_t len, X509 *leaf,
	    X509 *issuer, time_t now, struct ocspresp_info *info, char *err,
	    size_t errlen);

/* The certificate in chain that issued leaf, or NULL. Not referenced. */
X509	*ocspresp_issuer(X509 *leaf, STACK_OF(X509) *chain);

/* "good", "revoked", "unknown". */
const char *ocspresp_status_name(int status);

/* "2026-12-07 16:00:00 UTC" into buf; returns buf. */
const char *ocspresp_time_text(time_t t, char *buf, size_t len);

/* "CN=..." of x, for messages, into buf; returns buf. */
const char *ocspresp_subject(X509 *x, char *buf, size_t len);

#endif
