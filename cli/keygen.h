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

struct conf;

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
 * hyphen, optionally one trailing dot (not counted in the 253); else 0.
 * Wildcards ("*.example.com") and underscores are not host names. */
int	keygen_host_valid(const char *name);

/* A new private key as spec says, or NULL with err. */
EVP_PKEY *keygen_key_new(const struct keygen_spec *spec, char *err,
	    size_t errlen);

/* A self-signed certificate for key: subject = issuer = CN hosts[0];
 * subjectAltName DNS:hosts[0..n-1] in order; random 128-bit serial;
 * valid now .. now + KEYGEN_DAYS; SHA-256; basicConstraints CA:FALSE;
 * subjectKeyIdentifier; extendedKeyUsage serverAuth, clientAuth.
 * A trailing dot is dropped from every name (CN and SANs); basicConstraints
 * is not critical (as `postfix tls` makes it). */
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
 * paths, absolute (keygen_abspath), are returned in *keypathp and
 * *certpathp (caller frees). */
int	keygen_write_pair(const char *dir, EVP_PKEY *key, X509 *cert,
	    char **keypathp, char **certpathp, char *err, size_t errlen);

/*
 * Glue shared by the key subcommands (cmd_keys.c, cmd_output.c,
 * cmd_check.c, cmd_enable.c).
 */

/* name as an absolute path: itself when absolute, else dir/name, with the
 * current directory in front when dir is relative (no symbolic links are
 * resolved). keygen_write_pair() returns paths made this way. A new
 * string, or NULL with err for an empty name. */
char	*keygen_abspath(const char *dir, const char *name, char *err,
	    size_t errlen);

/* The main.cf parameters of the server pair for alg:
 * smtpd_tls_key_file/smtpd_tls_cert_file (RSA) or
 * smtpd_tls_eckey_file/smtpd_tls_eccert_file (ECDSA). */
const char *keygen_key_param(enum pem_alg alg);
const char *keygen_cert_param(enum pem_alg alg);

/* The effective (expanded) key file configured for alg, as an absolute
 * path in *pathp (caller frees), or *pathp = NULL when the value is empty
 * or "none". -1 with err on an expansion error. */
int	keygen_conf_key(const struct conf *cf, enum pem_alg alg, char **pathp,
	    char *err, size_t errlen);

/* The host list of a certificate or CSR: copies of argv[0..argc-1], or
 * the expanded myhostname when argc is 0, each checked with
 * keygen_host_valid() (err names the first bad one). Free the list with
 * keygen_hosts_free(). */
int	keygen_hosts(const struct conf *cf, int argc, char **argv,
	    char ***hostsp, size_t *np, char *err, size_t errlen);
void	keygen_hosts_free(char **hosts, size_t nhosts);

/* Checks a host list before any key is made: 1..KEYGEN_MAX_HOSTS names,
 * each keygen_host_valid(); with for_cert, hosts[0] (without a trailing
 * dot) must also fit a common name (64 characters). keygen_selfsigned()
 * and keygen_csr() check the same. 0, or -1 with err naming the host. */
int	keygen_hosts_check(char *const *hosts, size_t nhosts, int for_cert,
	    char *err, size_t errlen);

#endif
