/*
 * pem.h - loading keys and certificates with precise errors, and the
 * digests that identify them (TLSA "3 1 1", key/cert match).
 *
 * Runs in: the CLI and the privileged supervisor (which reads files and
 * hands the bytes to the worker). Parsing from memory is used by both.
 * Never prompts for a passphrase: an encrypted key is an error.
 */
#ifndef TLSWARD_PEM_H
#define TLSWARD_PEM_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define PEM_MAX_FILE	(1024 * 1024)	/* larger key/cert files: error */

/* Key algorithms as the CLI names them. */
enum pem_alg {
	PEM_ALG_NONE = 0,
	PEM_ALG_RSA,		/* "rsa" */
	PEM_ALG_ECDSA,		/* "ecdsa" */
};

/* Parses the first private key in buf (PEM; PKCS#8, traditional RSA/EC).
 * label names the source in messages. Errors, each naming label: no key,
 * garbage, an encrypted key ("is encrypted; tlsward needs an unencrypted
 * key"), a key type other than RSA/EC. Returns a new key or NULL. */
EVP_PKEY	*pem_key_parse(const char *buf, size_t len, const char *label,
		    char *err, size_t errlen);

/* pem_key_parse() on the contents of path; the buffer is wiped. */
EVP_PKEY	*pem_key_load(const char *path, char *err, size_t errlen);

/* All certificates in buf in order (leaf first by convention). Error when
 * there is none or one does not parse. Caller frees with
 * sk_X509_pop_free(sk, X509_free). */
STACK_OF(X509)	*pem_certs_parse(const char *buf, size_t len,
		    const char *label, char *err, size_t errlen);
STACK_OF(X509)	*pem_certs_load(const char *path, char *err, size_t errlen);

/* The algorithm of a key (RSA or EC), PEM_ALG_NONE for anything else. */
enum pem_alg	 pem_key_alg(const EVP_PKEY *key);
const char	*pem_alg_name(enum pem_alg alg);	/* "rsa", "ecdsa", "none" */

/* digest (e.g. EVP_sha256()) of the DER SubjectPublicKeyInfo of key.
 * out must hold EVP_MAX_MD_SIZE bytes. Returns the length, or -1. */
int	pem_spki_digest(const EVP_PKEY *key, const EVP_MD *md,
	    unsigned char *out);

/* 1 if the certificate's public key is the key's public key (compared as
 * SHA-256 of the DER SPKI), 0 if not. */
int	pem_key_matches_cert(const EVP_PKEY *key, X509 *cert);

/* Lower-case hex of len bytes into a new string (caller frees); with
 * colons=1, upper-case pairs separated by ':' as Postfix prints
 * fingerprints. */
char	*pem_hex(const unsigned char *p, size_t len, int colons);

/* Serializes key as unencrypted PKCS#8 PEM into a new buffer (caller
 * frees with OPENSSL_clear_free(p, len)). */
int	pem_key_to_pkcs8(const EVP_PKEY *key, char **pemp, size_t *lenp,
	    char *err, size_t errlen);

/* Serializes a certificate as PEM into a new buffer (caller frees). */
int	pem_cert_to_pem(X509 *cert, char **pemp, size_t *lenp, char *err,
	    size_t errlen);

#endif
