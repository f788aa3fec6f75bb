/*
 * tlsinfo.c - the tlsproxy(8)-style description of a TLS session.
 *
 * Runs in: worker session threads. No state.
 */
#include "config.h"

#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "tlsinfo.h"

/* Postfix's names for signature algorithms. */
static const char *
sig_type_name(int nid)
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
		off += (size_t)snprintf(buf + off, len - off, " key-exchange %s",
		    OBJ_nid2sn(group) != NULL ? OBJ_nid2sn(group) :
		    SSL_group_to_name(ssl, group));
	if (peer != NULL)
		key = X509_get0_pubkey(peer);
	if (off < len && (is_server ? SSL_get_signature_type_nid(ssl, &tnid) :
	    SSL_get_peer_signature_type_nid(ssl, &tnid)) == 1 && key != NULL)
		off += (size_t)snprintf(buf + off, len - off,
		    " server-signature %s (%d bits)", sig_type_name(tnid),
		    EVP_PKEY_get_bits(key));
	if (off < len && (is_server ? SSL_get_signature_nid(ssl, &dnid) :
	    SSL_get_peer_signature_nid(ssl, &dnid)) == 1 && dnid != NID_undef)
		snprintf(buf + off, len - off, " server-digest %s",
		    OBJ_nid2sn(dnid));
}

const char *
tlsinfo_trust(SSL *ssl)
{
	X509 *peer = SSL_get0_peer_certificate(ssl);

	if (peer == NULL)
		return "Anonymous";
	if (SSL_get_verify_mode(ssl) == SSL_VERIFY_NONE ||
	    SSL_get_verify_result(ssl) != X509_V_OK)
		return "Untrusted";
	return SSL_get0_peername(ssl) != NULL ? "Verified" : "Trusted";
}

void
tlsinfo_established(SSL *ssl, int is_server, char *buf, size_t len)
{
	char kx[256];
	int alg = 0, used = SSL_get_cipher_bits(ssl, &alg);

	kx_text(ssl, is_server, kx, sizeof(kx));
	snprintf(buf, len, "%s with cipher %s (%d/%d bits)%s",
	    SSL_get_version(ssl), SSL_get_cipher_name(ssl), used, alg, kx);
}
