/*
 * pfctx.c - the 22 fields of Postfix's TLS context from a live SSL:
 * peer certificate names and fingerprints (fingerprint_digest, upper-case
 * hex pairs joined by ':'), the trust bits, protocol and cipher, and for
 * TLS 1.3 only the key exchange and both signatures, named as Postfix
 * names them (fields 11-21 stay empty or 0 below TLS 1.3, as in Postfix).
 *
 * Runs in: worker session threads.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "fingerprint.h"
#include "pfctx.h"
#include "tlsinfo.h"
#include "tlspolicy.h"

/* An EC key's curve ("prime256v1"), else "". */
static void
curve_of(EVP_PKEY *key, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
	    buf, len, &n) != 1)
		buf[0] = '\0';
}

/* key_exchange, _curve, _bits: X25519/X448 by name, a NIST curve as
 * "ECDHE" with the curve, a finite-field group as "DHE" with its bits. */
static void
kex_fill(SSL *ssl, struct pfp_ctx *c, struct pfctx_text *t)
{
	int g = SSL_get_negotiated_group(ssl);
	const char *sn = g != 0 && g != NID_undef ? OBJ_nid2sn(g) : NULL;

	if (sn == NULL)
		return;
	if (g == NID_X25519 || g == NID_X448)
		snprintf(t->kex, sizeof(t->kex), "%s", sn);
	else if (strncmp(sn, "ffdhe", 5) == 0) {
		snprintf(t->kex, sizeof(t->kex), "DHE");
		c->kex_bits = (unsigned)atoi(sn + 5);
	} else {
		snprintf(t->kex, sizeof(t->kex), "ECDHE");
		snprintf(t->kex_curve, sizeof(t->kex_curve), "%s", sn);
	}
}

/* One side's signature: type ("RSA-PSS" for any RSA key), curve, RSA
 * bits, digest ("" for EdDSA). */
static void
sig_fill(EVP_PKEY *key, int tnid, int dnid, char *type, size_t tlen,
    char *curve, size_t clen, unsigned *bits, char *dig, size_t dlen)
{
	int id = EVP_PKEY_get_base_id(key);

	snprintf(type, tlen, "%s", id == EVP_PKEY_RSA ||
	    id == EVP_PKEY_RSA_PSS ? "RSA-PSS" : tlsinfo_sig_name(tnid));
	curve_of(key, curve, clen);
	*bits = id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS ?
	    (unsigned)EVP_PKEY_get_bits(key) : 0;
	snprintf(dig, dlen, "%s", dnid != 0 && dnid != NID_undef &&
	    id != EVP_PKEY_ED25519 && id != EVP_PKEY_ED448 ?
	    OBJ_nid2sn(dnid) : "");
}

static void
sigs_fill(SSL *ssl, struct pfp_ctx *c, struct pfctx_text *t)
{
	EVP_PKEY *own = SSL_get_privatekey(ssl);
	X509 *peer = SSL_get0_peer_certificate(ssl);
	int tnid = 0, dnid = 0;

	if (own != NULL && SSL_get_signature_type_nid(ssl, &tnid) == 1) {
		(void)SSL_get_signature_nid(ssl, &dnid);
		sig_fill(own, tnid, dnid, t->srvr_sig, sizeof(t->srvr_sig),
		    t->srvr_sig_curve, sizeof(t->srvr_sig_curve),
		    &c->srvr_sig_bits, t->srvr_sig_digest,
		    sizeof(t->srvr_sig_digest));
	}
	tnid = dnid = 0;
	if (peer != NULL && SSL_get_peer_signature_type_nid(ssl, &tnid) == 1) {
		(void)SSL_get_peer_signature_nid(ssl, &dnid);
		sig_fill(X509_get0_pubkey(peer), tnid, dnid, t->clnt_sig,
		    sizeof(t->clnt_sig), t->clnt_sig_curve,
		    sizeof(t->clnt_sig_curve), &c->clnt_sig_bits,
		    t->clnt_sig_digest, sizeof(t->clnt_sig_digest));
	}
}

/* Names, fingerprints and peer_status of the client certificate. */
static void
peer_fill(SSL *ssl, struct pfp_ctx *c, struct pfctx_text *t)
{
	const struct tls_policy *pol = tlspol_get(ssl);
	X509 *x = SSL_get0_peer_certificate(ssl);

	if (x == NULL)
		return;
	tlspol_cn(X509_get_subject_name(x), t->peer_cn, sizeof(t->peer_cn));
	tlspol_cn(X509_get_issuer_name(x), t->issuer_cn, sizeof(t->issuer_cn));
	if (pol != NULL) {
		t->peer_fp = fpt_text(x, pol->md, 0);
		t->peer_pkey_fp = fpt_text(x, pol->md, 1);
	}
	c->peer_status = PFP_PEER_PRESENT |
	    (tlspol_trusted(ssl) ? PFP_PEER_TRUSTED : 0);
}

void
pfctx_fill(SSL *ssl, const char *namaddr, struct pfp_ctx *c,
    struct pfctx_text *t)
{
	int alg = 0;

	memset(c, 0, sizeof(*c));
	memset(t, 0, sizeof(*t));
	peer_fill(ssl, c, t);
	c->protocol = SSL_get_version(ssl);
	c->cipher = SSL_get_cipher_name(ssl);
	c->usebits = (unsigned)SSL_get_cipher_bits(ssl, &alg);
	c->algbits = (unsigned)alg;
	if (SSL_version(ssl) >= TLS1_3_VERSION) {
		kex_fill(ssl, c, t);
		sigs_fill(ssl, c, t);
	}
	c->peer_cn = t->peer_cn;
	c->issuer_cn = t->issuer_cn;
	c->peer_fp = t->peer_fp != NULL ? t->peer_fp : "";
	c->peer_pkey_fp = t->peer_pkey_fp != NULL ? t->peer_pkey_fp : "";
	c->kex = t->kex;
	c->kex_curve = t->kex_curve;
	c->clnt_sig = t->clnt_sig;
	c->clnt_sig_curve = t->clnt_sig_curve;
	c->clnt_sig_digest = t->clnt_sig_digest;
	c->srvr_sig = t->srvr_sig;
	c->srvr_sig_curve = t->srvr_sig_curve;
	c->srvr_sig_digest = t->srvr_sig_digest;
	c->namaddr = namaddr;
}

void
pfctx_fini(struct pfctx_text *t)
{
	free(t->peer_fp);
	free(t->peer_pkey_fp);
	t->peer_fp = t->peer_pkey_fp = NULL;
}
