/*
 * ocspresp.c - judging a DER OCSP response for one certificate (see
 * ocspresp.h): parse, find the single response that names the
 * certificate, verify the signature against the issuer alone, check
 * the update times.
 *
 * Runs in: the CLI, the privileged supervisor and the worker. Parses
 * memory only; everything it makes is freed before it returns.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "ocspresp.h"
#include "util.h"

const char *
ocspresp_status_name(int status)
{
	switch (status) {
	case V_OCSP_CERTSTATUS_GOOD:
		return "good";
	case V_OCSP_CERTSTATUS_REVOKED:
		return "revoked";
	default:
		return "unknown";
	}
}

const char *
ocspresp_time_text(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "(time %lld)", (long long)t);
	return buf;
}

const char *
ocspresp_subject(X509 *x, char *buf, size_t len)
{
	if (X509_NAME_oneline(X509_get_subject_name(x), buf, (int)len) == NULL)
		snprintf(buf, len, "(unreadable subject)");
	return buf;
}

X509 *
ocspresp_issuer(X509 *leaf, STACK_OF(X509) *chain)
{
	int i;

	for (i = 0; i < sk_X509_num(chain); i++)
		if (X509_check_issued(sk_X509_value(chain, i), leaf) ==
		    X509_V_OK)
			return sk_X509_value(chain, i);
	return NULL;
}

/* The basic response inside a successful DER response, or NULL. */
static OCSP_BASICRESP *
basic_parse(const unsigned char *der, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *r = NULL;
	OCSP_BASICRESP *bs = NULL;
	int st;

	if (len > 0 && len <= LONG_MAX)
		r = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (r == NULL || p != der + len) {	/* trailing bytes: garbage */
		OCSP_RESPONSE_free(r);
		ERR_clear_error();
		errf(err, errlen, "not a DER OCSP response");
		return NULL;
	}
	if ((st = OCSP_response_status(r)) != OCSP_RESPONSE_STATUS_SUCCESSFUL)
		errf(err, errlen, "the responder answered \"%s\", not a "
		    "status", OCSP_response_status_str(st));
	else if ((bs = OCSP_response_get1_basic(r)) == NULL)
		errf(err, errlen, "not a basic OCSP response");
	OCSP_RESPONSE_free(r);
	ERR_clear_error();
	return bs;
}

/* 1 if id is the CertID of leaf under issuer (computed with id's own
 * hash algorithm). */
static int
id_is(const OCSP_CERTID *id, X509 *leaf, X509 *issuer)
{
	ASN1_OBJECT *alg = NULL;
	OCSP_CERTID *mine;
	const EVP_MD *md;
	int same;

	/* OCSP_id_get0_info takes a non-const id; it only reads it. */
	if (OCSP_id_get0_info(NULL, &alg, NULL, NULL,
	    (OCSP_CERTID *)(uintptr_t)id) != 1 ||
	    (md = EVP_get_digestbyobj(alg)) == NULL ||
	    (mine = OCSP_cert_to_id(md, leaf, issuer)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	same = OCSP_id_cmp(mine, id) == 0;
	OCSP_CERTID_free(mine);
	return same;
}

/* The single response about leaf, or NULL. */
static OCSP_SINGLERESP *
single_find(OCSP_BASICRESP *bs, X509 *leaf, X509 *issuer)
{
	OCSP_SINGLERESP *sr;
	int i;

	for (i = 0; i < OCSP_resp_count(bs); i++) {
		sr = OCSP_resp_get0(bs, i);
		if (id_is(OCSP_SINGLERESP_get0_id(sr), leaf, issuer))
			return sr;
	}
	return NULL;
}

int
ocspresp_names(const unsigned char *der, size_t len, X509 *leaf,
    X509 *issuer, char *err, size_t errlen)
{
	OCSP_BASICRESP *bs;
	int rc;

	if ((bs = basic_parse(der, len, err, errlen)) == NULL)
		return -1;
	rc = single_find(bs, leaf, issuer) != NULL;
	OCSP_BASICRESP_free(bs);
	return rc;
}

/* The signature: by issuer, or by a certificate issuer made for OCSP
 * signing (shipped in the response). Nothing else is trusted. */
static int
sig_check(OCSP_BASICRESP *bs, X509 *issuer, char *err, size_t errlen)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	X509_STORE *st = X509_STORE_new();
	char tls[512];
	int rc = -1;

	if (certs == NULL || st == NULL || !sk_X509_push(certs, issuer) ||
	    X509_STORE_add_cert(st, issuer) != 1)
		errf(err, errlen, "out of memory");
	else {
		/* The issuer may be an intermediate: it is the anchor. */
		X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN);
		if (OCSP_basic_verify(bs, certs, st, OCSP_NOEXPLICIT) == 1)
			rc = 0;
		else
			errf(err, errlen, "its signature does not verify "
			    "against the certificate's issuer: %s",
			    log_tls_errors(tls, sizeof(tls)));
	}
	X509_STORE_free(st);
	sk_X509_free(certs);
	ERR_clear_error();
	return rc;
}

static int
time_get(const ASN1_GENERALIZEDTIME *t, time_t *tp)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return -1;
	*tp = timegm(&tm);
	return 0;
}

/* Status and times of sr. */
static int
times_check(OCSP_SINGLERESP *sr, time_t now, struct ocspresp_info *info,
    char *err, size_t errlen)
{
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	char when[64];
	int reason;

	memset(info, 0, sizeof(*info));
	info->status = OCSP_single_get0_status(sr, &reason, &rev, &thisupd,
	    &nextupd);
	if (time_get(thisupd, &info->this_update) < 0)
		return errf(err, errlen, "its thisUpdate is unreadable");
	if (nextupd == NULL)
		return errf(err, errlen, "it has no nextUpdate (a response "
		    "that never goes stale is not stapled)");
	if (time_get(nextupd, &info->next_update) < 0)
		return errf(err, errlen, "its nextUpdate is unreadable");
	if (info->status == V_OCSP_CERTSTATUS_REVOKED &&
	    time_get(rev, &info->revoked_at) < 0)
		info->revoked_at = 0;
	if (info->this_update > now + OCSPRESP_SKEW_S)
		return errf(err, errlen, "its thisUpdate, %s, is in the "
		    "future", ocspresp_time_text(info->this_update, when,
		    sizeof(when)));
	if (info->next_update <= now)
		return errf(err, errlen, "it is stale: its nextUpdate, %s, "
		    "has passed", ocspresp_time_text(info->next_update, when,
		    sizeof(when)));
	if (info->next_update <= info->this_update)
		return errf(err, errlen, "its nextUpdate is not after its "
		    "thisUpdate");
	return 0;
}

int
ocspresp_check(const unsigned char *der, size_t len, X509 *leaf,
    X509 *issuer, time_t now, struct ocspresp_info *info, char *err,
    size_t errlen)
{
	OCSP_BASICRESP *bs;
	OCSP_SINGLERESP *sr;
	char subj[256];
	int rc = -1;

	if ((bs = basic_parse(der, len, err, errlen)) == NULL)
		return -1;
	if ((sr = single_find(bs, leaf, issuer)) == NULL)
		errf(err, errlen, "it is about another certificate, not %s",
		    ocspresp_subject(leaf, subj, sizeof(subj)));
	else if (sig_check(bs, issuer, err, errlen) == 0)
		rc = times_check(sr, now, info, err, errlen);
	OCSP_BASICRESP_free(bs);
	return rc;
}
