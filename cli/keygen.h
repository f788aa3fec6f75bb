/*
 * keygen.h - making keys, self-signed certificates and CSRs the way
 * `postfix tls` does, with libcrypto only.
 *
 * Runs in: the CLI.
 */
#ifndef TLSWARD_KEYGEN_H
#define TLSWARD_KEYGEN_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pem.h"

#define KEYGEN_DAYS		36525	/* 100 years, as Postfix */
#define KEYGEN_RSA_BITS		2048
#define KEYGEN_EC_CURVE		"secp256r1"
#define KEYGEN_MAX_HOSTS	64

/* Validated key parameters. */
struct keygen_spec {
	enum pem_alg	 alg;		/* PEM_ALG_RSA or PEM_ALG_ECDSA */
	int		 rsa_bits;	/* 2048..16384 for RSA */
	int		 ec_nid;	/* NID of secp256r1/secp384r1/secp521r1 */
	const char	*ec_name;	/* the curve as the user named it */
};

/* Validates -a and -b (either may be NULL for the default): algorithm
 * rsa (default) or ecdsa; RSA bits an integer 2048..16384 (default 2048);
 * EC curve secp256r1 (alias prime256v1, default), secp384r1, secp521r1.
 * -1 with a message such as "unsupported algorithm: dsa". */
int	keygen_spec_parse(const char *alg, const char *bits,
	    struct keygen_spec *spec, char *err, size_t errlen);

/* 1 if name is a valid DNS host name for a certificate: 1..253 chars,
 * labels of 1..63 letters/digits/hyphens not starting or ending with a
 * hyphen, optionally one trailing dot; else 0. */
int	keygen_host_valid(const char *name);

/* A new private key as spec says, or NULL with err. */
EVP_PKEY *keygen_key_new(const struct keygen_spec *spec, char *err,
	    size_t errlen);

/* A self-signed certificate for key: subject = issuer = CN hosts[0];
 * subjectAltName DNS:hosts[0..n-1] in order; random 128-bit serial;
 * valid now .. now + KEYGEN_DAYS; SHA-256; basicConstraints CA:FALSE;
 * subjectKeyIdentifier; extendedKeyUsage serverAuth, clientAuth. */
X509	*keygen_selfsigned(EVP_PKEY *key, char *const *hosts, size_t nhosts,
	    char *err, size_t errlen);

/* A CSR for key: empty subject; SHA-256; extensions subjectKeyIdentifier,
 * extendedKeyUsage serverAuth+clientAuth, subjectAltName DNS:hosts. */
X509_REQ *keygen_csr(EVP_PKEY *key, char *const *hosts, size_t nhosts,
	    char *err, size_t errlen);

/* Writes key (PKCS#8, mode 0600 from creation) and cert (mode 0644) as
 * DIR/key-STAMP.pem + DIR/cert-STAMP.pem (RSA) or DIR/eckey-STAMP.pem +
 * DIR/eccert-STAMP.pem (ECDSA), STAMP the UTC time YYYYMMDD-HHMMSS. Never
 * overwrites an existing file; on failure nothing is left behind. The new
 * paths are returned in *keypathp and *certpathp (caller frees). */
int	keygen_write_pair(const char *dir, EVP_PKEY *key, X509 *cert,
	    char **keypathp, char **certpathp, char *err, size_t errlen);

#endif
