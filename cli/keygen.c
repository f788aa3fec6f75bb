/*
 * keygen.c - new keys, self-signed certificates and CSRs as `postfix tls`
 * makes them, written with libcrypto only; plus the small pieces of CLI
 * glue that the key subcommands share (host lists, key file settings,
 * absolute paths).
 *
 * Runs in: the CLI, as the administrator. Owns no state. Private keys
 * reach the disk only through file_create() with mode 0600 from the
 * first byte; their PEM buffers are wiped before they are freed.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "fileio.h"
#include "keygen.h"
#include "log.h"
#include "util.h"

#define KEYGEN_RSA_MAX_BITS	16384
#define KEYGEN_CN_MAX		64	/* ub-common-name, RFC 5280 */

/* The curves we make keys on, by every name we accept. */
static const struct {
	const char	*name;
	int		 nid;
} keygen_curves[] = {
	{ "secp256r1",	NID_X9_62_prime256v1 },
	{ "prime256v1",	NID_X9_62_prime256v1 },
	{ "secp384r1",	NID_secp384r1 },
	{ "secp521r1",	NID_secp521r1 },
};

static int
keygen_rsa_bits(const char *bits, struct keygen_spec *spec, char *err,
    size_t errlen)
{
	const char *p;
	long n = 0;

	for (p = bits; *p != '\0' && isdigit((unsigned char)*p); p++)
		if ((n = n * 10 + (*p - '0')) > KEYGEN_RSA_MAX_BITS)
			break;
	if (*bits == '\0' || *p != '\0' || n < KEYGEN_RSA_BITS ||
	    n > KEYGEN_RSA_MAX_BITS)
		return errf(err, errlen, "unsupported RSA key size: \"%s\" "
		    "(want a number of bits from %d to %d)", bits,
		    KEYGEN_RSA_BITS, KEYGEN_RSA_MAX_BITS);
	spec->rsa_bits = (int)n;
	return 0;
}

static int
keygen_ec_curve(const char *curve, struct keygen_spec *spec, char *err,
    size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(keygen_curves) / sizeof(keygen_curves[0]); i++) {
		if (strcmp(curve, keygen_curves[i].name) == 0) {
			spec->ec_nid = keygen_curves[i].nid;
			spec->ec_name = curve;
			return 0;
		}
	}
	return errf(err, errlen, "unsupported EC curve: \"%s\" (want "
	    "secp256r1, secp384r1 or secp521r1)", curve);
}

int
keygen_spec_parse(const char *alg, const char *bits, struct keygen_spec *spec,
    char *err, size_t errlen)
{
	memset(spec, 0, sizeof(*spec));
	if (alg == NULL || strcmp(alg, "rsa") == 0) {
		spec->alg = PEM_ALG_RSA;
		return keygen_rsa_bits(bits != NULL ? bits : "2048", spec, err,
		    errlen);
	}
	if (strcmp(alg, "ecdsa") == 0) {
		spec->alg = PEM_ALG_ECDSA;
		return keygen_ec_curve(bits != NULL ? bits : KEYGEN_EC_CURVE,
		    spec, err, errlen);
	}
	return errf(err, errlen, "unsupported algorithm: \"%s\" (want rsa or "
	    "ecdsa)", alg);
}

/* One DNS label of len bytes at p: LDH, no hyphen at either end. */
static int
keygen_label_valid(const char *p, size_t len)
{
	size_t i;

	if (len < 1 || len > 63 || p[0] == '-' || p[len - 1] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '-')
			return 0;
	return 1;
}

int
keygen_host_valid(const char *name)
{
	size_t len = strlen(name);
	const char *p, *dot;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len < 1 || len > 253 || name[len - 1] == '.')
		return 0;
	for (p = name; p < name + len; p = dot + 1) {
		if ((dot = memchr(p, '.', (size_t)(name + len - p))) == NULL)
			dot = name + len;
		if (!keygen_label_valid(p, (size_t)(dot - p)))
			return 0;
	}
	return 1;
}

EVP_PKEY *
keygen_key_new(const struct keygen_spec *spec, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	char why[512];

	ERR_clear_error();
	if (spec->alg == PEM_ALG_RSA)
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)spec->rsa_bits);
	else if (spec->alg == PEM_ALG_ECDSA)
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
		    OBJ_nid2sn(spec->ec_nid));
	if (key == NULL)
		errf(err, errlen, "cannot generate a new %s key: %s",
		    pem_alg_name(spec->alg), log_tls_errors(why, sizeof(why)));
	return key;
}

/* The host name as certificates carry it: without a trailing dot. */
static char *
keygen_host_bare(const char *host)
{
	size_t len = strlen(host);

	if (len > 0 && host[len - 1] == '.')
		len--;
	return xstrndup(host, len);
}

/* One DNS general name, or NULL. */
static GENERAL_NAME *
keygen_dns_name(const char *host)
{
	GENERAL_NAME *gen = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
	char *bare = keygen_host_bare(host);

	if (gen == NULL || ia5 == NULL || !ASN1_STRING_set(ia5, bare, -1)) {
		GENERAL_NAME_free(gen);
		ASN1_IA5STRING_free(ia5);
		gen = NULL;
	} else
		GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
	free(bare);
	return gen;
}

/* subjectAltName: DNS:hosts[0], DNS:hosts[1], ... in order. */
static GENERAL_NAMES *
keygen_san_new(char *const *hosts, size_t nhosts)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	GENERAL_NAME *gen;
	size_t i;

	for (i = 0; gens != NULL && i < nhosts; i++) {
		if ((gen = keygen_dns_name(hosts[i])) == NULL ||
		    !sk_GENERAL_NAME_push(gens, gen)) {
			GENERAL_NAME_free(gen);
			GENERAL_NAMES_free(gens);
			gens = NULL;
		}
	}
	return gens;
}

/* subjectKeyIdentifier: SHA-1 of the subjectPublicKey bits (RFC 5280
 * 4.2.1.2 method 1, what "hash" means to OpenSSL). */
static ASN1_OCTET_STRING *
keygen_ski_new(EVP_PKEY *key)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	const unsigned char *pk;
	X509_PUBKEY *pub = NULL;
	ASN1_OCTET_STRING *ski = NULL;
	unsigned int mdlen;
	int pklen;

	if (X509_PUBKEY_set(&pub, key) &&
	    X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, pub) &&
	    EVP_Digest(pk, (size_t)pklen, md, &mdlen, EVP_sha1(), NULL) &&
	    (ski = ASN1_OCTET_STRING_new()) != NULL &&
	    !ASN1_OCTET_STRING_set(ski, md, (int)mdlen)) {
		ASN1_OCTET_STRING_free(ski);
		ski = NULL;
	}
	X509_PUBKEY_free(pub);
	return ski;
}

static EXTENDED_KEY_USAGE *
keygen_eku_new(void)
{
	EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();

	if (eku != NULL &&
	    (!sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth)) ||
	     !sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_client_auth)))) {
		sk_ASN1_OBJECT_free(eku);
		eku = NULL;
	}
	return eku;
}

/* Encodes val as extension nid and appends it; val may be NULL (then the
 * failure to build it is reported here). 0 or -1. */
static int
keygen_ext_push(STACK_OF(X509_EXTENSION) *exts, int nid, int critical,
    void *val)
{
	X509_EXTENSION *ext;

	if (val == NULL || (ext = X509V3_EXT_i2d(nid, critical, val)) == NULL)
		return -1;
	if (!sk_X509_EXTENSION_push(exts, ext)) {
		X509_EXTENSION_free(ext);
		return -1;
	}
	return 0;
}

/* The extensions of our certificates (with_bc) and CSRs, or NULL. */
static STACK_OF(X509_EXTENSION) *
keygen_exts_new(EVP_PKEY *key, char *const *hosts, size_t nhosts, int with_bc)
{
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	BASIC_CONSTRAINTS *bc = with_bc ? BASIC_CONSTRAINTS_new() : NULL;
	ASN1_OCTET_STRING *ski = keygen_ski_new(key);
	EXTENDED_KEY_USAGE *eku = keygen_eku_new();
	GENERAL_NAMES *san = keygen_san_new(hosts, nhosts);
	int rc = exts == NULL ? -1 : 0;

	/* CA:FALSE, not critical: what `postfix tls` (openssl req) makes. */
	if (rc == 0 && with_bc)
		rc = keygen_ext_push(exts, NID_basic_constraints, 0, bc);
	if (rc == 0)
		rc = keygen_ext_push(exts, NID_subject_key_identifier, 0, ski);
	if (rc == 0)
		rc = keygen_ext_push(exts, NID_ext_key_usage, 0, eku);
	if (rc == 0)
		rc = keygen_ext_push(exts, NID_subject_alt_name, 0, san);
	BASIC_CONSTRAINTS_free(bc);
	ASN1_OCTET_STRING_free(ski);
	sk_ASN1_OBJECT_free(eku);	/* the OIDs are static */
	GENERAL_NAMES_free(san);
	if (rc < 0) {
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
		return NULL;
	}
	return exts;
}

/* A random positive 128-bit serial number. */
static int
keygen_serial(X509 *x)
{
	unsigned char rnd[16];
	BIGNUM *bn = NULL;
	int ok;

	ok = RAND_bytes(rnd, sizeof(rnd)) == 1 &&
	    (bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) != NULL &&
	    (!BN_is_zero(bn) || BN_set_word(bn, 1)) &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

/* Subject = issuer = CN host (without a trailing dot). */
static int
keygen_cert_names(X509 *x, const char *host)
{
	X509_NAME *name = X509_NAME_new();
	char *cn = keygen_host_bare(host);
	int ok;

	ok = name != NULL &&
	    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_ASC,
	    (unsigned char *)cn, -1, -1, 0) &&
	    X509_set_subject_name(x, name) && X509_set_issuer_name(x, name);
	X509_NAME_free(name);
	free(cn);
	return ok ? 0 : -1;
}


/* SHA-256, except for Ed25519 and Ed448, which hash internally and take
 * no digest (OpenSSL refuses one). */
static const EVP_MD *
keygen_sign_md(const EVP_PKEY *key)
{
	int id = EVP_PKEY_get_base_id(key);

	return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? NULL :
	    EVP_sha256();
}
/* Everything but the signature. */
static int
keygen_cert_fill(X509 *x, EVP_PKEY *key, char *const *hosts, size_t nhosts)
{
	STACK_OF(X509_EXTENSION) *exts;
	int i, ok;

	if (!X509_set_version(x, X509_VERSION_3) || keygen_serial(x) < 0 ||
	    keygen_cert_names(x, hosts[0]) < 0 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), KEYGEN_DAYS, 0,
	    NULL) == NULL || !X509_set_pubkey(x, key) ||
	    (exts = keygen_exts_new(key, hosts, nhosts, 1)) == NULL)
		return -1;
	ok = 1;
	for (i = 0; ok && i < sk_X509_EXTENSION_num(exts); i++)
		ok = X509_add_ext(x, sk_X509_EXTENSION_value(exts, i), -1);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return ok ? 0 : -1;
}

int
keygen_hosts_check(char *const *hosts, size_t nhosts, int for_cert,
    char *err, size_t errlen)
{
	size_t i, len;

	if (nhosts < 1)
		return errf(err, errlen, "no host name for the certificate");
	if (nhosts > KEYGEN_MAX_HOSTS)
		return errf(err, errlen, "too many host names (at most %d)",
		    KEYGEN_MAX_HOSTS);
	for (i = 0; i < nhosts; i++)
		if (!keygen_host_valid(hosts[i]))
			return errf(err, errlen, "invalid host name: \"%s\"",
			    hosts[i]);
	len = strlen(hosts[0]) - (hosts[0][strlen(hosts[0]) - 1] == '.');
	if (for_cert && len > KEYGEN_CN_MAX)
		return errf(err, errlen, "host name \"%s\" is too long for "
		    "the certificate's common name (at most %d characters); "
		    "put a shorter name first", hosts[0], KEYGEN_CN_MAX);
	return 0;
}

X509 *
keygen_selfsigned(EVP_PKEY *key, char *const *hosts, size_t nhosts,
    char *err, size_t errlen)
{
	X509 *x;
	char why[512];

	if (keygen_hosts_check(hosts, nhosts, 1, err, errlen) < 0)
		return NULL;
	ERR_clear_error();
	if ((x = X509_new()) == NULL ||
	    keygen_cert_fill(x, key, hosts, nhosts) < 0 ||
	    X509_sign(x, key, keygen_sign_md(key)) <= 0) {
		errf(err, errlen, "cannot make a self-signed certificate: %s",
		    log_tls_errors(why, sizeof(why)));
		X509_free(x);
		return NULL;
	}
	return x;
}

X509_REQ *
keygen_csr(EVP_PKEY *key, char *const *hosts, size_t nhosts, char *err,
    size_t errlen)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_REQ *req;
	char why[512];
	int ok;

	if (keygen_hosts_check(hosts, nhosts, 0, err, errlen) < 0)
		return NULL;
	ERR_clear_error();
	/* The subject stays empty: the names are in subjectAltName. */
	ok = (req = X509_REQ_new()) != NULL &&
	    X509_REQ_set_version(req, X509_REQ_VERSION_1) &&
	    X509_REQ_set_pubkey(req, key) &&
	    (exts = keygen_exts_new(key, hosts, nhosts, 0)) != NULL &&
	    X509_REQ_add_extensions(req, exts) &&
	    X509_REQ_sign(req, key, keygen_sign_md(key)) > 0;
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	if (!ok) {
		errf(err, errlen, "cannot make a certificate signing request: "
		    "%s", log_tls_errors(why, sizeof(why)));
		X509_REQ_free(req);
		return NULL;
	}
	return req;
}

char *
keygen_abspath(const char *dir, const char *name, char *err, size_t errlen)
{
	char cwd[4096];

	if (name[0] == '\0') {
		errf(err, errlen, "empty file name");
		return NULL;
	}
	if (name[0] == '/')
		return xstrdup(name);
	if (dir[0] == '/')
		return xasprintf("%s/%s", dir, name);
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		errf_errno(err, errlen, "cannot find the current directory");
		return NULL;
	}
	return xasprintf("%s/%s/%s", cwd, dir, name);
}

/* DIR/PREFIX-STAMP.pem, absolute. */
static char *
keygen_pair_path(const char *dir, const char *prefix, const char *stamp,
    char *err, size_t errlen)
{
	char *name = xasprintf("%s-%s.pem", prefix, stamp), *path;

	path = keygen_abspath(dir, name, err, errlen);
	free(name);
	return path;
}

/* Both new names, or -1 if either exists (nothing is overwritten). */
static int
keygen_pair_names(const char *dir, enum pem_alg alg, char **keyp,
    char **certp, char *err, size_t errlen)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm) == 0)
		return errf(err, errlen, "cannot format the current time");
	*keyp = keygen_pair_path(dir, alg == PEM_ALG_ECDSA ? "eckey" : "key",
	    stamp, err, errlen);
	*certp = keygen_pair_path(dir, alg == PEM_ALG_ECDSA ? "eccert" :
	    "cert", stamp, err, errlen);
	if (*keyp == NULL || *certp == NULL)
		goto fail;
	if (file_exists(*keyp) || file_exists(*certp)) {
		errf(err, errlen, "%s already exists; not overwriting it "
		    "(the file names carry the time to the second: try again "
		    "in a second)", file_exists(*keyp) ? *keyp : *certp);
		goto fail;
	}
	return 0;
fail:
	free(*keyp);
	free(*certp);
	*keyp = *certp = NULL;
	return -1;
}

/* Writes both files; removes the key again if the certificate fails. */
static int
keygen_write_files(const char *keypath, const char *certpath, EVP_PKEY *key,
    X509 *cert, char *err, size_t errlen)
{
	char *kpem = NULL, *cpem = NULL;
	size_t klen = 0, clen = 0;
	int rc = -1;

	if (pem_key_to_pkcs8(key, &kpem, &klen, err, errlen) == 0 &&
	    pem_cert_to_pem(cert, &cpem, &clen, err, errlen) == 0 &&
	    file_create(keypath, kpem, klen, 0600, err, errlen) == 0) {
		rc = file_create(certpath, cpem, clen, 0644, err, errlen);
		if (rc < 0)
			file_remove_quiet(keypath);
	}
	OPENSSL_clear_free(kpem, klen);
	free(cpem);
	return rc;
}

int
keygen_write_pair(const char *dir, EVP_PKEY *key, X509 *cert,
    char **keypathp, char **certpathp, char *err, size_t errlen)
{
	enum pem_alg alg = pem_key_alg(key);
	char *keypath = NULL, *certpath = NULL;

	if (alg == PEM_ALG_NONE)
		return errf(err, errlen, "unsupported key type");
	if (!pem_key_matches_cert(key, cert))
		return errf(err, errlen, "the certificate is not for the key");
	if (keygen_pair_names(dir, alg, &keypath, &certpath, err, errlen) < 0)
		return -1;
	if (keygen_write_files(keypath, certpath, key, cert, err,
	    errlen) < 0) {
		free(keypath);
		free(certpath);
		return -1;
	}
	*keypathp = keypath;
	*certpathp = certpath;
	return 0;
}

const char *
keygen_key_param(enum pem_alg alg)
{
	return alg == PEM_ALG_ECDSA ? "smtpd_tls_eckey_file" :
	    "smtpd_tls_key_file";
}

const char *
keygen_cert_param(enum pem_alg alg)
{
	return alg == PEM_ALG_ECDSA ? "smtpd_tls_eccert_file" :
	    "smtpd_tls_cert_file";
}

int
keygen_conf_key(const struct conf *cf, enum pem_alg alg, char **pathp,
    char *err, size_t errlen)
{
	char *val, *name;

	*pathp = NULL;
	if (conf_get(cf, keygen_key_param(alg), &val, err, errlen) < 0)
		return -1;
	name = str_trim(val);
	if (name[0] != '\0' && strcmp(name, "none") != 0 &&
	    (*pathp = keygen_abspath(conf_dir(cf), name, err,
	    errlen)) == NULL) {
		free(val);
		return -1;
	}
	free(val);
	return 0;
}

void
keygen_hosts_free(char **hosts, size_t nhosts)
{
	while (hosts != NULL && nhosts > 0)
		free(hosts[--nhosts]);
	free(hosts);
}

int
keygen_hosts(const struct conf *cf, int argc, char **argv, char ***hostsp,
    size_t *np, char *err, size_t errlen)
{
	size_t i, n = argc > 0 ? (size_t)argc : 1;
	char **hosts;

	if (argc > KEYGEN_MAX_HOSTS)
		return errf(err, errlen, "too many host names (at most %d)",
		    KEYGEN_MAX_HOSTS);
	hosts = xcalloc(n, sizeof(*hosts));
	for (i = 0; argc > 0 && i < n; i++)
		hosts[i] = xstrdup(argv[i]);
	if (argc <= 0 && conf_get(cf, "myhostname", &hosts[0], err,
	    errlen) < 0) {
		free(hosts);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (keygen_host_valid(hosts[i]))
			continue;
		errf(err, errlen, "invalid host name: \"%s\"%s", hosts[i],
		    argc > 0 ? "" : " (the value of myhostname)");
		keygen_hosts_free(hosts, n);
		return -1;
	}
	*hostsp = hosts;
	*np = n;
	return 0;
}
