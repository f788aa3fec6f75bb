/*
 * tlsctx.c - SSL_CTX construction from a snapshot.
 *
 * Runs in: the worker (before the sandbox at start, inside it on reload)
 * and the supervisor for -t. Parses only memory. Owns nothing beyond the
 * SSL_CTX it returns.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "log.h"
#include "pem.h"
#include "tlsctx.h"
#include "util.h"

/* Parameter name prefixes by role. */
#define PFX_SERVER	"tlsproxy_tls_"
#define PFX_CLIENT	"tlsproxy_client_"

const char *
tlsctx_param(const struct snapshot *s, size_t i, const char *name)
{
	const char *v = snap_getf(s, NULL, "svc.%zu.param.%s", i, name);

	return v != NULL ? v : "";
}

/* A role-prefixed parameter: ("tlsproxy_tls_" or "tlsproxy_client_") +
 * suffix. */
static const char *
rparam(const struct snapshot *s, size_t i, enum svc_role role,
    const char *suffix)
{
	char name[128];

	snprintf(name, sizeof(name), "%s%s",
	    role == SVC_CLIENT ? PFX_CLIENT : PFX_SERVER, suffix);
	return tlsctx_param(s, i, name);
}

static int
is_yes(const char *v)
{
	return strcasecmp(v, "yes") == 0;
}

enum tls_level
tlsctx_level(const struct snapshot *s, size_t i, enum svc_role role)
{
	static const char *const names[] = {
		"none", "may", "encrypt", "fingerprint", "verify", "secure",
	};
	const char *lv = rparam(s, i, role, "security_level");
	size_t k;

	if (*lv == '\0') {	/* the obsolete switches decide */
		const char *enf = role == SVC_CLIENT ?
		    tlsctx_param(s, i, "tlsproxy_client_enforce_tls") :
		    tlsctx_param(s, i, "tlsproxy_enforce_tls");
		const char *use = role == SVC_CLIENT ?
		    tlsctx_param(s, i, "tlsproxy_client_use_tls") :
		    tlsctx_param(s, i, "tlsproxy_use_tls");

		return is_yes(enf) ? TLS_LEVEL_ENCRYPT :
		    is_yes(use) ? TLS_LEVEL_MAY : TLS_LEVEL_NONE;
	}
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strcmp(lv, names[k]) == 0)
			return (enum tls_level)k;
	/* dane / dane-only need DNSSEC lookups: treated as encrypt. */
	return TLS_LEVEL_ENCRYPT;
}

/* Protocol list -> min/max version and SSL_OP_NO_* for holes. */
static int
set_protocols(SSL_CTX *ctx, const char *list, const char *pname, char *err,
    size_t errlen)
{
	static const struct { unsigned bit; int ver; uint64_t op; } v[] = {
		{ CONF_PROTO_TLSv1, TLS1_VERSION, SSL_OP_NO_TLSv1 },
		{ CONF_PROTO_TLSv1_1, TLS1_1_VERSION, SSL_OP_NO_TLSv1_1 },
		{ CONF_PROTO_TLSv1_2, TLS1_2_VERSION, SSL_OP_NO_TLSv1_2 },
		{ CONF_PROTO_TLSv1_3, TLS1_3_VERSION, SSL_OP_NO_TLSv1_3 },
	};
	unsigned mask;
	int lo = 0, hi = 0;
	size_t k;
	char why[256];

	if (conf_protocols_parse(list, &mask, why, sizeof(why)) < 0)
		return errf(err, errlen, "parameter %s: %s", pname, why);
	for (k = 0; k < 4; k++) {
		if (mask & v[k].bit) {
			if (lo == 0)
				lo = v[k].ver;
			hi = v[k].ver;
		}
	}
	if (lo == 0)
		return errf(err, errlen, "parameter %s: \"%s\" enables no TLS "
		    "version this daemon supports", pname, list);
	SSL_CTX_set_min_proto_version(ctx, lo);
	SSL_CTX_set_max_proto_version(ctx, hi);
	for (k = 0; k < 4; k++)
		if (!(mask & v[k].bit) && v[k].ver > lo && v[k].ver < hi)
			SSL_CTX_set_options(ctx, v[k].op);
	return 0;
}

/* Grade -> tls_GRADE_cipherlist, minus the exclusions. */
static int
set_ciphers(SSL_CTX *ctx, const struct snapshot *s, size_t i,
    enum svc_role role, int mandatory, char *err, size_t errlen)
{
	const char *grade = rparam(s, i, role, mandatory ? "mandatory_ciphers" :
	    "ciphers");
	char name[64], *copy, *save = NULL, *w;
	struct buf b;
	int rc = 0;

	snprintf(name, sizeof(name), "tls_%s_cipherlist", grade);
	buf_init(&b);
	buf_adds(&b, tlsctx_param(s, i, name));
	copy = xasprintf("%s %s", rparam(s, i, role, "exclude_ciphers"),
	    mandatory ? rparam(s, i, role, "mandatory_exclude_ciphers") : "");
	for (w = strtok_r(copy, " \t,:", &save); w != NULL;
	    w = strtok_r(NULL, " \t,:", &save))
		buf_addf(&b, ":!%s", w);
	if (b.len == 0 || SSL_CTX_set_cipher_list(ctx, b.data) != 1) {
		char tls[512];

		rc = errf(err, errlen, "cipher grade \"%s\" with exclusions "
		    "gives an unusable cipher list \"%s\": %s", grade,
		    b.data ? b.data : "", log_tls_errors(tls, sizeof(tls)));
	}
	if (rc == 0 && is_yes(tlsctx_param(s, i, "tls_preempt_cipherlist")))
		SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	free(copy);
	buf_fini(&b);
	return rc;
}

/* ECDHE groups: the eecdh grade's curves, keeping those OpenSSL knows. */
static void
set_groups(SSL_CTX *ctx, const struct snapshot *s, size_t i)
{
	const char *grade = tlsctx_param(s, i, "tlsproxy_tls_eecdh_grade");
	const char *list = strcmp(grade, "strong") == 0 ?
	    tlsctx_param(s, i, "tls_eecdh_strong_curve") :
	    strcmp(grade, "ultra") == 0 ?
	    tlsctx_param(s, i, "tls_eecdh_ultra_curve") :
	    tlsctx_param(s, i, "tls_eecdh_auto_curves");
	char *copy = xstrdup(list), *save = NULL, *w;
	struct buf ok;

	buf_init(&ok);
	for (w = strtok_r(copy, " \t,:", &save); w != NULL;
	    w = strtok_r(NULL, " \t,:", &save)) {
		if (SSL_CTX_set1_groups_list(ctx, w) == 1)
			buf_addf(&ok, "%s%s", ok.len ? ":" : "", w);
	}
	ERR_clear_error();
	if (ok.len > 0)
		SSL_CTX_set1_groups_list(ctx, ok.data);
	else	/* nothing usable named: OpenSSL's defaults */
		SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384");
	buf_fini(&ok);
	free(copy);
}

/* The contents of a file the loader put in the snapshot. */
static const char *
file_data(const struct snapshot *s, const char *path, size_t *lenp)
{
	return snap_getf(s, lenp, "file.%s", path);
}

/* Installs the key in keypath and the chain in certpath (leaf first). */
static int
use_pair(SSL_CTX *ctx, const struct snapshot *s, const char *certpath,
    const char *keypath, const char *what, char *err, size_t errlen)
{
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *key = NULL;
	X509 *leaf;
	const char *kd, *cd;
	size_t kl, cl;
	int rc = -1;

	if ((kd = file_data(s, keypath, &kl)) == NULL ||
	    (cd = file_data(s, certpath, &cl)) == NULL)
		return errf(err, errlen, "%s: file not loaded", what);
	if ((key = pem_key_parse(kd, kl, keypath, err, errlen)) == NULL ||
	    (certs = pem_certs_parse(cd, cl, certpath, err, errlen)) == NULL)
		goto out;
	leaf = sk_X509_shift(certs);
	if (!pem_key_matches_cert(key, leaf))
		errf(err, errlen, "%s: the key in %s does not match the "
		    "certificate in %s", what, keypath, certpath);
	else if (SSL_CTX_use_cert_and_key(ctx, leaf, key, certs, 1) != 1) {
		char tls[512];

		errf(err, errlen, "%s: %s", what, log_tls_errors(tls,
		    sizeof(tls)));
	} else
		rc = 0;
	X509_free(leaf);
out:
	if (certs != NULL)
		sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	return rc;
}

/* A parameter's resolved file list (loader: svc.I.file.NAME). */
static const char *
rfile(const struct snapshot *s, size_t i, enum svc_role role,
    const char *suffix)
{
	char name[128];
	const char *v;

	snprintf(name, sizeof(name), "%s%s",
	    role == SVC_CLIENT ? PFX_CLIENT : PFX_SERVER, suffix);
	v = snap_getf(s, NULL, "svc.%zu.file.%s", i, name);
	return v != NULL ? v : "";
}

/* Every configured pair and chain file; returns how many were
 * installed, or -1. */
static int
use_certs(SSL_CTX *ctx, const struct snapshot *s, size_t i,
    enum svc_role role, char *err, size_t errlen)
{
	const char *chains = rfile(s, i, role, "chain_files");
	char *copy, *save = NULL, *w;
	int n = 0;

	if (*chains != '\0') {	/* chain files take precedence */
		copy = xstrdup(chains);
		for (w = strtok_r(copy, " ", &save); w != NULL;
		    w = strtok_r(NULL, " ", &save), n++) {
			if (use_pair(ctx, s, w, w, "chain_files", err,
			    errlen) < 0) {
				free(copy);
				return -1;
			}
		}
		free(copy);
		return n;
	}
	if (*rfile(s, i, role, "cert_file") != '\0') {
		if (use_pair(ctx, s, rfile(s, i, role, "cert_file"),
		    rfile(s, i, role, "key_file"), "cert_file/key_file", err,
		    errlen) < 0)
			return -1;
		n++;
	}
	if (*rfile(s, i, role, "eccert_file") != '\0') {
		if (use_pair(ctx, s, rfile(s, i, role, "eccert_file"),
		    rfile(s, i, role, "eckey_file"), "eccert_file/eckey_file",
		    err, errlen) < 0)
			return -1;
		n++;
	}
	return n;
}

/* DH parameters for FFDHE ciphers (TLS 1.2): the configured file, else
 * OpenSSL's built-in groups sized to the certificate. */
static int
set_dh(SSL_CTX *ctx, const struct snapshot *s, size_t i, char *err,
    size_t errlen)
{
	const char *path = rfile(s, i, SVC_SERVER, "dh1024_param_file");
	const char *data;
	EVP_PKEY *dh = NULL;
	size_t len;
	BIO *bio;

	if (*path == '\0') {
		SSL_CTX_set_dh_auto(ctx, 1);
		return 0;
	}
	if ((data = file_data(s, path, &len)) == NULL ||
	    (bio = BIO_new_mem_buf(data, (int)len)) == NULL)
		return errf(err, errlen, "dh1024_param_file: %s not loaded",
		    path);
	dh = PEM_read_bio_Parameters(bio, NULL);
	BIO_free(bio);
	if (dh == NULL || EVP_PKEY_get_base_id(dh) != EVP_PKEY_DH ||
	    SSL_CTX_set0_tmp_dh_pkey(ctx, dh) != 1) {
		EVP_PKEY_free(dh);
		ERR_clear_error();
		return errf(err, errlen, "dh1024_param_file: %s holds no "
		    "usable DH parameters", path);
	}
	return 0;	/* ctx owns dh */
}

/* Settings shared by both roles. */
static int
ctx_common(SSL_CTX *ctx, const struct snapshot *s, size_t i,
    enum svc_role role, char *err, size_t errlen)
{
	int mandatory = tlsctx_level(s, i, role) >= TLS_LEVEL_ENCRYPT;
	char pname[128];

	snprintf(pname, sizeof(pname), "%s%s",
	    role == SVC_CLIENT ? PFX_CLIENT : PFX_SERVER,
	    mandatory ? "mandatory_protocols" : "protocols");
	if (set_protocols(ctx, tlsctx_param(s, i, pname), pname, err,
	    errlen) < 0 ||
	    set_ciphers(ctx, s, i, role, mandatory, err, errlen) < 0)
		return -1;
	/* Non-blocking relay: SSL_write may return partial counts and be
	 * retried with a moved buffer; idle sessions give their buffers
	 * back. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION);
	return 0;
}

SSL_CTX *
tlsctx_new(const struct snapshot *s, size_t i, enum svc_role role,
    char *err, size_t errlen)
{
	const char *svc = snap_getf(s, NULL, "svc.%zu.name", i);
	SSL_CTX *ctx;
	char why[1024];
	int n;

	ctx = SSL_CTX_new(role == SVC_CLIENT ? TLS_client_method() :
	    TLS_server_method());
	if (ctx == NULL) {
		errf(err, errlen, "service %s: %s", svc,
		    log_tls_errors(why, sizeof(why)));
		return NULL;
	}
	if (ctx_common(ctx, s, i, role, why, sizeof(why)) < 0 ||
	    (n = use_certs(ctx, s, i, role, why, sizeof(why))) < 0)
		goto fail;
	if (role != SVC_CLIENT) {
		set_groups(ctx, s, i);
		if (set_dh(ctx, s, i, why, sizeof(why)) < 0)
			goto fail;
		if (n == 0 && role == SVC_SERVER) {
			snprintf(why, sizeof(why), "no server certificate: set "
			    "tlsproxy_tls_cert_file (or smtpd_tls_cert_file), "
			    "tlsproxy_tls_eccert_file or tlsproxy_tls_chain_files"
			    " (\"tlsward enable-server\" makes one)");
			goto fail;
		}
	}
	return ctx;
fail:
	errf(err, errlen, "service %s: %s", svc, why);
	SSL_CTX_free(ctx);
	return NULL;
}
