/*
 * fingerprint.h - certificate and public-key fingerprints as Postfix
 * prints and matches them: a digest (fingerprint_digest) of the DER
 * certificate ("fingerprint") or of its DER SubjectPublicKeyInfo
 * ("pkey_fingerprint"), written as upper-case hex pairs joined by ':'.
 *
 * Runs in: the worker (lists are parsed when a service is built, digests
 * computed after each handshake) and the supervisor for -t. No state.
 */
#ifndef TLSWARD_FINGERPRINT_H
#define TLSWARD_FINGERPRINT_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* A list of acceptable digests, all of one algorithm. */
struct fpt_list {
	unsigned char	*d;	/* n digests of len bytes in a row */
	size_t		 n;
	size_t		 len;	/* EVP_MD_get_size of the digest */
};

/* The digest named by a *_fingerprint_digest value (md5, sha1, sha224,
 * sha256, sha384, sha512; any case), or NULL. */
const EVP_MD	*fpt_md(const char *name);

/* "AB:CD:..." of the certificate, or of its public key (pkey=1). Caller
 * frees; NULL only if the digest cannot be computed. */
char	*fpt_text(X509 *x, const EVP_MD *md, int pkey);

/* Parses a fingerprint list: entries separated by white space, ',' or
 * '|', each the hex of one digest of md, with or without ':' between
 * the pairs, any case. 0, or -1 with the bad entry in err. An empty list
 * is valid (n = 0). fpt_list_fini frees. */
int	fpt_list_parse(const char *text, const EVP_MD *md,
	    struct fpt_list *l, char *err, size_t errlen);
void	fpt_list_fini(struct fpt_list *l);

/* 1 if the certificate's or its public key's digest is in l. */
int	fpt_list_match(const struct fpt_list *l, X509 *x, const EVP_MD *md);

#endif
