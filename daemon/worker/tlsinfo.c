/*
 * tlsinfo.c - the tlsproxy(8)-style description of a TLS session: the
 * trust word, protocol, cipher, key exchange, signature, and the peer
 * certificate's subject and issuer CN (with the fingerprints, and why an
 * unverified chain is not trusted, at loglevel 1 and above).
 *
 * Runs in: worker session threads. No state of its own: it reads the
 * service's policy and the handshake's verification record
 * (tlspolicy.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "fingerprint.h"
#include "tlsalpn.h"
#include "tlsinfo.h"
#include "tlspolicy.h"

const char *
tlsinfo_sig_name(int nid)
{
	switch (nid) {
	case NID_rsaEncryption:
		return "RSA";
	case NID_rsassaPss:
		return "RSA-PSS";
	case NID_X9_62_id_ecPublicKey:
		return "ECDSA";
	case NID_ED25519:
		return "ED25519";
	case NID_ED448:
		return "ED448";
	default:
		return OBJ_nid2sn(nid);
	}
}

/* " key-exchange X25519 server-signature RSA-PSS (2048 bits)
 * server-digest SHA256", as far as known. */
static void
kx_text(SSL *ssl, int is_server, char *buf, size_t len)
{
	EVP_PKEY *key = is_server ? SSL_get_privatekey(ssl) : NULL;
	X509 *peer = is_server ? NULL : SSL_get0_peer_certificate(ssl);
	int group = SSL_get_negotiated_group(ssl), tnid = 0, dnid = 0;
	size_t off = 0;

	buf[0] = '\0';
	if (group != 0 && group != NID_undef)
		off += (size_t)snprintf(buf + off, len - off,
		    " key-exchange %s", OBJ_nid2sn(group) != NULL ?
		    OBJ_nid2sn(group) : SSL_group_to_name(ssl, group));
	if (peer != NULL)
		key = X509_get0_pubkey(peer);
	if (off < len && (is_server ? SSL_get_signature_type_nid(ssl, &tnid) :
	    SSL_get_peer_signature_type_nid(ssl, &tnid)) == 1 && key != NULL)
		off += (size_t)snprintf(buf + off, len - off,
		    " server-signature %s (%d bits)", tlsinfo_sig_name(tnid),
		    EVP_PKEY_get_bits(key));
	if (off < len && (is_server ? SSL_get_signature_nid(ssl, &dnid) :
	    SSL_get_peer_signature_nid(ssl, &dnid)) == 1 && dnid != NID_undef)
		snprintf(buf + off, len - off, " server-digest %s",
		    OBJ_nid2sn(dnid));
}

const char *
tlsinfo_trust(SSL *ssl)
{
	if (SSL_get0_peer_certificate(ssl) == NULL)
		return "Anonymous";
	if (tlspol_peer(ssl)->matched)
		return "Verified";
	return tlspol_trusted(ssl) ? "Trusted" : "Untrusted";
}

/* ", subject_CN=A, issuer_CN=B" and at loglevel >= 1 ", fingerprint=..,
 * pkey_fingerprint=.." (fingerprint_digest) and why an unverified chain
 * is not trusted. */
static void
peer_text(SSL *ssl, char *buf, size_t len)
{
	const struct tls_policy *pol = tlspol_get(ssl);
	X509 *x = SSL_get0_peer_certificate(ssl);
	char subj[128], iss[128], r[256], *c, *k;
	size_t off;

	buf[0] = '\0';
	if (x == NULL)
		return;
	tlspol_cn(X509_get_subject_name(x), subj, sizeof(subj));
	tlspol_cn(X509_get_issuer_name(x), iss, sizeof(iss));
	off = (size_t)snprintf(buf, len, ", subject_CN=%s, issuer_CN=%s",
	    subj, iss);
	if (pol == NULL || pol->loglevel < 1 || off >= len)
		return;
	c = fpt_text(x, pol->md, 0);
	k = fpt_text(x, pol->md, 1);
	off += (size_t)snprintf(buf + off, len - off, ", fingerprint=%s, "
	    "pkey_fingerprint=%s", c ? c : "?", k ? k : "?");
	free(c);
	free(k);
	if (off < len && !tlspol_peer(ssl)->matched && !tlspol_trusted(ssl))
		snprintf(buf + off, len - off, ", not trusted: %s",
		    tlspol_chain_reason(ssl, r, sizeof(r)));
}

void
tlsinfo_established(SSL *ssl, int is_server, char *buf, size_t len)
{
	char kx[256], peer[768], alpn[256];
	int alg = 0, used = SSL_get_cipher_bits(ssl, &alg);

	kx_text(ssl, is_server, kx, sizeof(kx));
	peer_text(ssl, peer, sizeof(peer));
	alpn_selected(ssl, alpn, sizeof(alpn));
	snprintf(buf, len, "%s with cipher %s (%d/%d bits)%s%s%s%s",
	    SSL_get_version(ssl), SSL_get_cipher_name(ssl), used, alg, kx,
	    peer, alpn[0] != '\0' ? ", alpn=" : "", alpn);
}
