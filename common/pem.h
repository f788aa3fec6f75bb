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

/* Key algorithms as the CLI names them (Postfix allows one key of each
 * in *_tls_chain_files). */
enum pem_alg {
	PEM_ALG_NONE = 0,
	PEM_ALG_RSA,		/* "rsa" */
	PEM_ALG_ECDSA,		/* "ecdsa" */
	PEM_ALG_ED25519,	/* "ed25519" */
	PEM_ALG_ED448,		/* "ed448" */
};
#define PEM_ALG_COUNT	5

/* Parses the first private key in buf (PEM; PKCS#8, traditional RSA/EC).
 * label names the source in messages. Errors, each naming label: no key,
 * garbage, an encrypted key ("is encrypted; tlsward needs an unencrypted
 * key"), a key type other than RSA, EC, Ed25519 or Ed448. Returns a new
 * key or NULL. */
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

/* One file of a *_tls_chain_files list, read into memory by the caller. */
struct pem_src {
	const char	*label;		/* its path, for messages */
	const char	*data;
	size_t		 len;
};

/* One private key of a chain-files list with its certificates. */
struct pem_chain {
	EVP_PKEY	*key;
	STACK_OF(X509)	*certs;		/* the key's certificate, then the
					 * chain that followed it */
	char		*label;		/* the file that held the key */
};

/* Parses a *_tls_chain_files list as Postfix does: the files, in order,
 * are one PEM stream; each private key is followed by its certificate
 * (whose public key is the key's) and then, optionally, the chain of
 * that certificate, until the next key. Other PEM blocks (parameters)
 * are skipped. Errors, each naming the file at fault: a certificate
 * before any key, a key without a certificate, a certificate that does
 * not match the key before it, a second key of one algorithm (RSA,
 * ECDSA, Ed25519, Ed448), no key at all, and what pem_key_parse() and
 * pem_certs_parse() refuse. Returns the number of keys (>= 1) with a new
 * array in *chainsp (pem_chains_free), or -1 with err. */
int	pem_chains_parse(const struct pem_src *src, size_t nsrc,
	    struct pem_chain **chainsp, char *err, size_t errlen);
void	pem_chains_free(struct pem_chain *chains, int n);

/* The algorithm of a key, PEM_ALG_NONE for one tlsward does not use. */
enum pem_alg	 pem_key_alg(const EVP_PKEY *key);
const char	*pem_alg_name(enum pem_alg alg);	/* "rsa", "ecdsa",
							 * "ed25519", "ed448",
							 * "none" */

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
