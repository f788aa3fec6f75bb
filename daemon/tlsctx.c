/*
 * tlsctx.c - SSL_CTX construction from a snapshot: the security level,
 * protocols, cipher grades, curves, certificates, DH parameters, session
 * ids and tickets, OpenSSL options; the peer policy comes from
 * tlspolicy.c, OCSP stapling from ocsp.c.
 *
 * Runs in: the worker (before the sandbox at start, inside it on reload)
 * and the supervisor for -t. Parses only memory. Owns nothing beyond the
 * SSL_CTX it returns.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "log.h"
#include "ocsp.h"
#include "pem.h"
#include "tlsctx.h"
#include "tlspolicy.h"
#include "util.h"
#include "worker/csc.h"
#include "worker/tkring.h"

/* Parameter name prefixes by role. */
#define PFX_SERVER	"tlsproxy_tls_"
#define PFX_CLIENT	"tlsproxy_client_"

const char *
tlsctx_param(const struct snapshot *s, size_t i, const char *name)
{
	const char *v = snap_getf(s, NULL, "svc.%zu.param.%s", i, name);

	return v != NULL ? v : "";
}

int
tlsctx_int(const struct snapshot *s, size_t i, const char *name, int max,
    int *vp, char *err, size_t errlen)
{
	const char *v = tlsctx_param(s, i, name);
	char *end;
	long n = strtol(v, &end, 10);

	if (*v == '\0' || *end != '\0' || n < 0 || n > max)
		return errf(err, errlen, "parameter %s: want a number from 0 "
		    "to %d", name, max);
	*vp = (int)n;
	return 0;
}

const char *
tlsctx_rname(enum svc_role role, const char *suffix, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", role == SVC_CLIENT ? PFX_CLIENT :
	    PFX_SERVER, suffix);
	return buf;
}

const char *
tlsctx_rparam(const struct snapshot *s, size_t i, enum svc_role role,
    const char *suffix)
{
	char name[128];

	return tlsctx_param(s, i, tlsctx_rname(role, suffix, name,
	    sizeof(name)));
}

const char *
tlsctx_rfile(const struct snapshot *s, size_t i, enum svc_role role,
    const char *suffix)
{
	char name[128];
	const char *v;

	v = snap_getf(s, NULL, "svc.%zu.file.%s", i, tlsctx_rname(role,
	    suffix, name, sizeof(name)));
	return v != NULL ? v : "";
}

const char *
tlsctx_file_data(const struct snapshot *s, const char *path, size_t *lenp)
{
	return snap_getf(s, lenp, "file.%s", path);
}

static int
is_yes(const char *v)
{
	return strcasecmp(v, "yes") == 0;
}

static const char *const level_names[] = {
	"none", "may", "encrypt", "fingerprint", "verify", "secure", "dane",
	"dane-only",
};

enum tls_level
tlsctx_level(const struct snapshot *s, size_t i, enum svc_role role)
{
	const char *lv = tlsctx_rparam(s, i, role, "security_level");
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
	for (k = 0; k < sizeof(level_names) / sizeof(level_names[0]); k++)
		if (strcasecmp(lv, level_names[k]) == 0)
			return (enum tls_level)k;
	/* The loader type-checked the value: not reached. */
	return TLS_LEVEL_NONE;
}

int
tlsctx_level_get(const struct snapshot *s, size_t i, enum svc_role role,
    enum tls_level *lp, char *err, size_t errlen)
{
	const char *svc = snap_getf(s, NULL, "svc.%zu.name", i);
	enum tls_level lv = tlsctx_level(s, i, role);
	char pname[64];

	tlsctx_rname(role, "security_level", pname, sizeof(pname));
	if (lv == TLS_LEVEL_NONE)
		return errf(err, errlen, "service %s: the TLS security level "
		    "is none (%s is none, or empty with the obsolete "
		    "use/enforce switches off): a %s service needs may or "
		    "above%s", svc, pname, svc_role_name(role),
		    role == SVC_CLIENT ? " (\"tlsward enable-client\" sets it)" :
		    " (\"tlsward enable-server\" makes a key and certificate "
		    "and sets it)");
	if (role != SVC_CLIENT && lv > TLS_LEVEL_ENCRYPT) {
		log_warnx("service %s: %s = %s: the server role runs it as "
		    "encrypt (set tlsproxy_tls_req_ccert to require client "
		    "certificates)", svc, pname, level_names[lv]);
		lv = TLS_LEVEL_ENCRYPT;
	}
	if (role == SVC_CLIENT && lv >= TLS_LEVEL_DANE)
		return errf(err, errlen, "service %s: parameter %s: level %s "
		    "needs DNSSEC-validated TLSA records, which tlswardd does "
		    "not look up; use fingerprint with the TLSA digests in "
		    "tlsproxy_client_fingerprint_cert_match", svc, pname,
		    level_names[lv]);
	*lp = lv;
	return 0;
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

/* Grade -> tls_GRADE_cipherlist, minus the exclusions (each word W of
 * *exclude_ciphers appended as ":!W"). TLS 1.3 suites are not graded. */
static int
set_ciphers(SSL_CTX *ctx, const struct snapshot *s, size_t i,
    enum svc_role role, int mandatory, char *err, size_t errlen)
{
	const char *sfx = mandatory ? "mandatory_ciphers" : "ciphers";
	const char *grade = tlsctx_rparam(s, i, role, sfx);
	char name[64], gname[64], tls[512], *copy, *save = NULL, *w, *p;
	struct buf b;
	int rc = 0;

	snprintf(name, sizeof(name), "tls_%s_cipherlist", grade);
	for (p = name; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	buf_init(&b);
	buf_adds(&b, tlsctx_param(s, i, name));
	copy = xasprintf("%s %s", tlsctx_rparam(s, i, role, "exclude_ciphers"),
	    mandatory ? tlsctx_rparam(s, i, role,
	    "mandatory_exclude_ciphers") : "");
	for (w = strtok_r(copy, " \t,:", &save); w != NULL;
	    w = strtok_r(NULL, " \t,:", &save))
		buf_addf(&b, ":!%s", w);
	ERR_clear_error();
	if (b.len == 0 || SSL_CTX_set_cipher_list(ctx, b.data) != 1)
		rc = errf(err, errlen, "parameter %s: cipher grade \"%s\" "
		    "(%s) with the exclusions of %s gives no usable TLS 1.2 "
		    "cipher: \"%s\": %s", tlsctx_rname(role, sfx, gname,
		    sizeof(gname)), grade, name, mandatory ?
		    "*exclude_ciphers and *mandatory_exclude_ciphers" :
		    "*exclude_ciphers", b.data ? b.data : "",
		    log_tls_errors(tls, sizeof(tls)));
	if (rc == 0 && is_yes(tlsctx_param(s, i, "tls_preempt_cipherlist")))
		SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	free(copy);
	buf_fini(&b);
	return rc;
}

/* ECDHE groups: the server's eecdh grade (strong, ultra: one curve; auto:
 * tls_eecdh_auto_curves, also the client's list), keeping the curves
 * OpenSSL knows. Warnings name svc; a NULL svc (the service's further
 * contexts) does not warn twice. */
static void
set_groups(SSL_CTX *ctx, const struct snapshot *s, size_t i,
    enum svc_role role, const char *svc)
{
	const char *grade = role == SVC_CLIENT ? "auto" :
	    tlsctx_param(s, i, "tlsproxy_tls_eecdh_grade");
	const char *pname = "tls_eecdh_auto_curves";
	char *copy, *save = NULL, *w;
	struct buf ok;

	if (strcasecmp(grade, "strong") == 0)
		pname = "tls_eecdh_strong_curve";
	else if (strcasecmp(grade, "ultra") == 0)
		pname = "tls_eecdh_ultra_curve";
	else if (strcasecmp(grade, "none") == 0 && svc != NULL)
		log_warnx("service %s: tlsproxy_tls_eecdh_grade = none is no "
		    "longer supported (as in Postfix): using auto", svc);
	copy = xstrdup(tlsctx_param(s, i, pname));
	buf_init(&ok);
	for (w = strtok_r(copy, " \t,:", &save); w != NULL;
	    w = strtok_r(NULL, " \t,:", &save)) {
		if (SSL_CTX_set1_groups_list(ctx, w) == 1)
			buf_addf(&ok, "%s%s", ok.len ? ":" : "", w);
		else if (svc != NULL)
			log_warnx("service %s: %s: ignoring unknown curve "
			    "\"%s\"", svc, pname, w);
	}
	ERR_clear_error();
	if (ok.len > 0)
		SSL_CTX_set1_groups_list(ctx, ok.data);
	else {
		if (svc != NULL)
			log_warnx("service %s: %s names no usable curve: "
			    "using OpenSSL's defaults", svc, pname);
		SSL_CTX_set1_groups_list(ctx, "X25519:P-256:X448:P-521:P-384");
	}
	buf_fini(&ok);
	free(copy);
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

	if ((kd = tlsctx_file_data(s, keypath, &kl)) == NULL ||
	    (cd = tlsctx_file_data(s, certpath, &cl)) == NULL)
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

/* Warnings for certificate settings that are not used. */
static void
certs_warn(const struct snapshot *s, size_t i, enum svc_role role,
    const char *svc)
{
	char a[64], b[64];

	if (*tlsctx_rparam(s, i, role, "dcert_file") != '\0')
		log_warnx("service %s: %s is ignored: DSA certificates are "
		    "not supported", svc, tlsctx_rname(role, "dcert_file", a,
		    sizeof(a)));
	if (*tlsctx_rfile(s, i, role, "chain_files") != '\0' &&
	    (*tlsctx_rfile(s, i, role, "cert_file") != '\0' ||
	    *tlsctx_rfile(s, i, role, "eccert_file") != '\0'))
		log_warnx("service %s: both %s and %s/eccert_file are set: "
		    "the latter are ignored", svc, tlsctx_rname(role,
		    "chain_files", a, sizeof(a)), tlsctx_rname(role,
		    "cert_file", b, sizeof(b)));
}

/* Installs every key of a parsed chain-files list with its chain. */
static int
use_chains(SSL_CTX *ctx, struct pem_chain *v, int n, const char *pname,
    char *err, size_t errlen)
{
	char tls[512];
	X509 *leaf;
	int k, ok;

	for (k = 0; k < n; k++) {
		leaf = sk_X509_shift(v[k].certs);
		ERR_clear_error();
		ok = SSL_CTX_use_cert_and_key(ctx, leaf, v[k].key, v[k].certs,
		    1) == 1;
		X509_free(leaf);
		if (!ok)
			return errf(err, errlen, "parameter %s: %s: %s", pname,
			    v[k].label, log_tls_errors(tls, sizeof(tls)));
	}
	return 0;
}

/* *_chain_files: the files in order as one PEM stream (Postfix):
 * "key, cert, chain, key, cert, ..." across any number of files.
 * Returns the number of keys installed, or -1. */
static int
use_chain_files(SSL_CTX *ctx, const struct snapshot *s, const char *paths,
    const char *pname, char *err, size_t errlen)
{
	char *copy = xstrdup(paths), *save = NULL, *w, why[1024];
	struct pem_src *src = NULL;
	struct pem_chain *v = NULL;
	size_t nsrc = 0;
	int n = -1, rc = -1;

	for (w = strtok_r(copy, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save), nsrc++) {
		src = xreallocarray(src, nsrc + 1, sizeof(*src));
		src[nsrc].label = w;
		if ((src[nsrc].data = tlsctx_file_data(s, w,
		    &src[nsrc].len)) == NULL) {
			errf(err, errlen, "parameter %s: %s: file not loaded",
			    pname, w);
			goto out;
		}
	}
	if ((n = pem_chains_parse(src, nsrc, &v, why, sizeof(why))) < 0)
		errf(err, errlen, "parameter %s: %s", pname, why);
	else if (use_chains(ctx, v, n, pname, err, errlen) == 0)
		rc = n;
out:
	pem_chains_free(v, n);
	free(src);
	free(copy);
	return rc;
}

/* Every configured pair and chain file (or only the chain files in
 * sni_chains, for a tls_server_sni_maps entry); returns how many keys
 * were installed, or -1. */
static int
use_certs(SSL_CTX *ctx, const struct snapshot *s, size_t i,
    enum svc_role role, const char *sni_chains, char *err, size_t errlen)
{
	const char *chains = tlsctx_rfile(s, i, role, "chain_files");
	char pname[64];
	int n = 0;

	if (sni_chains != NULL)
		return use_chain_files(ctx, s, sni_chains,
		    "tls_server_sni_maps", err, errlen);
	if (*chains != '\0')	/* chain files take precedence */
		return use_chain_files(ctx, s, chains, tlsctx_rname(role,
		    "chain_files", pname, sizeof(pname)), err, errlen);
	if (*tlsctx_rfile(s, i, role, "cert_file") != '\0') {
		if (use_pair(ctx, s, tlsctx_rfile(s, i, role, "cert_file"),
		    tlsctx_rfile(s, i, role, "key_file"), "cert_file/key_file",
		    err, errlen) < 0)
			return -1;
		n++;
	}
	if (*tlsctx_rfile(s, i, role, "eccert_file") != '\0') {
		if (use_pair(ctx, s, tlsctx_rfile(s, i, role, "eccert_file"),
		    tlsctx_rfile(s, i, role, "eckey_file"),
		    "eccert_file/eckey_file", err, errlen) < 0)
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
	const char *path = tlsctx_rfile(s, i, SVC_SERVER, "dh1024_param_file");
	const char *data;
	EVP_PKEY *dh = NULL;
	size_t len;
	BIO *bio;

	if (*path == '\0') {
		SSL_CTX_set_dh_auto(ctx, 1);
		return 0;
	}
	if ((data = tlsctx_file_data(s, path, &len)) == NULL ||
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

#define TLSCTX_MAX_TICKET_S	(100LL * 86400)	/* Postfix's cap */
#define TLSCTX_MAX_TICKETS	16	/* TLS 1.3 tickets per handshake */

/* Server session ids and tickets, as Postfix without a session cache
 * database: with always_issue_session_ids a TLS 1.2 session gets an id
 * (never looked up: there is no cache); tickets (RFC 5077, and TLS 1.3
 * resumption) are encrypted with AES-256-CBC under the worker's key
 * ring (tkring.h: kept across reloads, shared by every context), and
 * live
 * smtpd_tls_session_cache_timeout; a timeout of 0 or an empty
 * tls_session_ticket_cipher turns them off. A TLS 1.3 handshake, full or
 * resumed, issues tlsproxy_tls_ticket_count tickets: one, as Postfix
 * does (OpenSSL's default is two; each costs an encryption and a
 * record). */
static int
set_sessions(SSL_CTX *ctx, const struct snapshot *s, size_t i,
    const char *svc, char *err, size_t errlen)
{
	const char *cipher = tlsctx_param(s, i, "tls_session_ticket_cipher");
	const char *tname = "smtpd_tls_session_cache_timeout";
	unsigned char sid[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int tickets = 0;
	long long secs;
	char why[256];

	/* A context for resumed sessions (required with client
	 * certificates): the service. */
	if (EVP_Digest(svc, strlen(svc), sid, &n, EVP_sha256(), NULL) != 1 ||
	    SSL_CTX_set_session_id_context(ctx, sid, n) != 1)
		return errf(err, errlen, "session id context: %s",
		    log_tls_errors(why, sizeof(why)));
	if (conf_time_parse(tlsctx_param(s, i, tname), &secs, why,
	    sizeof(why)) < 0)
		return errf(err, errlen, "parameter %s: %s", tname, why);
	SSL_CTX_set_session_cache_mode(ctx, is_yes(tlsctx_param(s, i,
	    "tlsproxy_tls_always_issue_session_ids")) ?
	    SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL :
	    SSL_SESS_CACHE_OFF);
	if (*cipher == '\0' || secs == 0) {
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(ctx, 0);
		return 0;
	}
	if (strcasecmp(cipher, "aes-256-cbc") != 0)
		return errf(err, errlen, "parameter tls_session_ticket_cipher: "
		    "\"%s\" is not supported (want aes-256-cbc, or empty for "
		    "no tickets)", cipher);
	if (tlsctx_int(s, i, "tlsproxy_tls_ticket_count", TLSCTX_MAX_TICKETS,
	    &tickets, err, errlen) < 0)
		return -1;
	SSL_CTX_set_num_tickets(ctx, (size_t)tickets);
	tkring_attach(ctx);
	SSL_CTX_set_timeout(ctx, (long)(secs < TLSCTX_MAX_TICKET_S ? secs :
	    TLSCTX_MAX_TICKET_S));
	return 0;
}

/* An OpenSSL option by Postfix's name for it. */
struct tls_opt {
	const char	*name;
	uint64_t	 bit;
};

/* tls_disable_workarounds: the bug work-arounds of SSL_OP_ALL, and the
 * names of ones OpenSSL 3 no longer has (accepted, no effect). */
static const struct tls_opt bug_opts[] = {
	{ "CRYPTOPRO_TLSEXT_BUG", SSL_OP_CRYPTOPRO_TLSEXT_BUG },
	{ "DONT_INSERT_EMPTY_FRAGMENTS", SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS },
	{ "LEGACY_SERVER_CONNECT", SSL_OP_LEGACY_SERVER_CONNECT },
	{ "MICROSOFT_BIG_SSLV3_BUFFER", 0 },
	{ "MICROSOFT_SESS_ID_BUG", 0 },
	{ "MSIE_SSLV2_RSA_PADDING", 0 },
	{ "NETSCAPE_CHALLENGE_BUG", 0 },
	{ "NETSCAPE_REUSE_CIPHER_CHANGE_BUG", 0 },
	{ "SAFARI_ECDHE_ECDSA_BUG", SSL_OP_SAFARI_ECDHE_ECDSA_BUG },
	{ "SSLEAY_080_CLIENT_DH_BUG", 0 },
	{ "SSLREF2_REUSE_CERT_TYPE_BUG", 0 },
	{ "TLSEXT_PADDING", SSL_OP_TLSEXT_PADDING },
	{ "TLS_BLOCK_PADDING_BUG", 0 },
	{ "TLS_D5_BUG", 0 },
	{ "TLS_ROLLBACK_BUG", SSL_OP_TLS_ROLLBACK_BUG },
	{ NULL, 0 },
};

/* tls_ssl_options: options to enable (ENABLE_KTLS is left out: the
 * worker's sandbox does not allow kernel TLS). */
static const struct tls_opt ssl_opts[] = {
	{ "ENABLE_MIDDLEBOX_COMPAT", SSL_OP_ENABLE_MIDDLEBOX_COMPAT },
	{ "LEGACY_SERVER_CONNECT", SSL_OP_LEGACY_SERVER_CONNECT },
	{ "NO_ANTI_REPLAY", SSL_OP_NO_ANTI_REPLAY },
	{ "NO_COMPRESSION", SSL_OP_NO_COMPRESSION },
	{ "NO_ENCRYPT_THEN_MAC", SSL_OP_NO_ENCRYPT_THEN_MAC },
	{ "NO_RENEGOTIATION", SSL_OP_NO_RENEGOTIATION },
	{ "NO_SESSION_RESUMPTION_ON_RENEGOTIATION",
	  SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION },
	{ "NO_TICKET", SSL_OP_NO_TICKET },
	{ "PRIORITIZE_CHACHA", SSL_OP_PRIORITIZE_CHACHA },
	{ NULL, 0 },
};

/* The bits a list of option names stands for. */
static int
opts_parse(const struct tls_opt *t, const char *pname, const char *list,
    uint64_t *bitsp, char *err, size_t errlen)
{
	char *copy = xstrdup(list), *save = NULL, *w;
	size_t k;
	int rc = 0;

	*bitsp = 0;
	for (w = strtok_r(copy, " \t,:", &save); w != NULL && rc == 0;
	    w = strtok_r(NULL, " \t,:", &save)) {
		for (k = 0; t[k].name != NULL; k++)
			if (strcasecmp(w, t[k].name) == 0)
				break;
		if (t[k].name == NULL)
			rc = errf(err, errlen, "parameter %s: unknown option "
			    "\"%s\"", pname, w);
		*bitsp |= t[k].bit;
	}
	free(copy);
	return rc;
}

/* SSL_OP_ALL but tls_disable_workarounds, plus tls_ssl_options. */
static int
set_options(SSL_CTX *ctx, const struct snapshot *s, size_t i, char *err,
    size_t errlen)
{
	uint64_t off, on;

	if (opts_parse(bug_opts, "tls_disable_workarounds", tlsctx_param(s,
	    i, "tls_disable_workarounds"), &off, err, errlen) < 0 ||
	    opts_parse(ssl_opts, "tls_ssl_options", tlsctx_param(s, i,
	    "tls_ssl_options"), &on, err, errlen) < 0)
		return -1;
	SSL_CTX_set_options(ctx, (SSL_OP_ALL & ~off) | on);
	SSL_CTX_clear_options(ctx, off & ~on);
	return 0;
}

/* Settings shared by both roles. */
static int
ctx_common(SSL_CTX *ctx, const struct snapshot *s, size_t i,
    enum svc_role role, enum tls_level level, char *err, size_t errlen)
{
	int mandatory = level >= TLS_LEVEL_ENCRYPT;
	char pname[128];

	tlsctx_rname(role, mandatory ? "mandatory_protocols" : "protocols",
	    pname, sizeof(pname));
	if (set_protocols(ctx, tlsctx_param(s, i, pname), pname, err,
	    errlen) < 0 ||
	    set_ciphers(ctx, s, i, role, mandatory, err, errlen) < 0 ||
	    set_options(ctx, s, i, err, errlen) < 0)
		return -1;
	/* Non-blocking relay: SSL_write may return partial counts and be
	 * retried with a moved buffer; idle sessions give their buffers
	 * back. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	/* Read whatever the socket has, not a record header and then its
	 * body: half the read(2) calls. The socket carries nothing but TLS
	 * from the first byte OpenSSL reads to the last. */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION);
	return 0;
}

/* Certificates; for a server DH parameters and sessions, for a client
 * the session cache. */
static int
ctx_role(SSL_CTX *ctx, const struct snapshot *s, size_t i,
    enum svc_role role, const char *sni_chains, char *err, size_t errlen)
{
	const char *svc = snap_getf(s, NULL, "svc.%zu.name", i);
	int n;

	if (sni_chains == NULL)	/* said once, for the default context */
		certs_warn(s, i, role, svc);
	set_groups(ctx, s, i, role, sni_chains != NULL ? NULL : svc);
	if ((n = use_certs(ctx, s, i, role, sni_chains, err, errlen)) < 0)
		return -1;
	if (role == SVC_CLIENT) {
		csc_attach(ctx);	/* sessions for resumption (csc.h) */
		return 0;
	}
	if (set_dh(ctx, s, i, err, errlen) < 0 ||
	    set_sessions(ctx, s, i, svc, err, errlen) < 0)
		return -1;
	if (n == 0)
		return errf(err, errlen, "no server certificate: set "
		    "tlsproxy_tls_cert_file (or smtpd_tls_cert_file), "
		    "tlsproxy_tls_eccert_file or tlsproxy_tls_chain_files"
		    " (\"tlsward enable-server\" makes one)");
	return 0;
}

/* OpenSSL 3 forbids SHA-1 and MD5 signatures from security level 1 on,
 * and TLS 1.0 and 1.1 sign with nothing else, so a peer that offers at
 * most TLS 1.1 can never finish a handshake: it used to get an
 * "internal error" alert, logged as "no suitable signature algorithm".
 * With the floor at TLS 1.2 it is refused as what it is, a protocol
 * version this daemon does not speak. */
static void
tls_version_floor(SSL_CTX *ctx)
{
	int hi = SSL_CTX_get_max_proto_version(ctx);

	if (SSL_CTX_get_security_level(ctx) >= 1 &&
	    (hi == 0 || hi >= TLS1_2_VERSION) &&
	    SSL_CTX_get_min_proto_version(ctx) < TLS1_2_VERSION)
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

/* Handshake progress at loglevel 2 and above (Postfix's "SSL_accept:..."
 * lines), with the session id the session left in its tls_peer. */
static void
info_cb(const SSL *ssl, int where, int ret)
{
	const struct tls_policy *pol = tlspol_get(ssl);
	const char *op = (where & SSL_ST_CONNECT) ? "SSL_connect" :
	    "SSL_accept";
	unsigned long long id;

	if (pol == NULL || pol->loglevel < 2)
		return;
	id = tlspol_sess_id(ssl);
	if (where & SSL_CB_LOOP)
		log_info("sess=%llu service=%s: %s: %s", id, pol->service, op,
		    SSL_state_string_long(ssl));
	else if (where & SSL_CB_ALERT)
		log_info("sess=%llu service=%s: TLS alert %s: %s: %s", id,
		    pol->service, (where & SSL_CB_READ) ? "read" : "write",
		    SSL_alert_type_string_long(ret),
		    SSL_alert_desc_string_long(ret));
}

/* OCSP stapling: the service's own responses for its context, those
 * beside its chain files for a tls_server_sni_maps entry's. */
static void
set_stapling(SSL_CTX *ctx, const struct snapshot *s, size_t i,
    const char *sni_chains, const char *svc)
{
	char *beside;

	if (sni_chains == NULL) {
		ocsp_attach(ctx, s, ocsp_paths(s, i), svc);
		return;
	}
	beside = ocsp_paths_beside(s, i, sni_chains);
	ocsp_attach(ctx, s, beside, svc);
	free(beside);
}

/* tlsctx_new, with the certificates of sni_chains when not NULL. */
static SSL_CTX *
ctx_new(const struct snapshot *s, size_t i, enum svc_role role,
    enum tls_level level, const char *sni_chains, char *err, size_t errlen)
{
	const char *svc = snap_getf(s, NULL, "svc.%zu.name", i);
	SSL_CTX *ctx;
	char why[1024];

	ctx = SSL_CTX_new(role == SVC_CLIENT ? TLS_client_method() :
	    TLS_server_method());
	if (ctx == NULL) {
		errf(err, errlen, "service %s: %s", svc,
		    log_tls_errors(why, sizeof(why)));
		return NULL;
	}
	if (ctx_common(ctx, s, i, role, level, why, sizeof(why)) < 0 ||
	    ctx_role(ctx, s, i, role, sni_chains, why, sizeof(why)) < 0 ||
	    tlspol_attach(ctx, s, i, role, level, why, sizeof(why)) < 0)
		goto fail;
	if (role != SVC_CLIENT)
		set_stapling(ctx, s, i, sni_chains, svc);
	tls_version_floor(ctx);
	SSL_CTX_set_info_callback(ctx, info_cb);
	return ctx;
fail:
	errf(err, errlen, "service %s: %s", svc, why);
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tlsctx_new(const struct snapshot *s, size_t i, enum svc_role role,
    enum tls_level level, char *err, size_t errlen)
{
	return ctx_new(s, i, role, level, NULL, err, errlen);
}

SSL_CTX *
tlsctx_new_chains(const struct snapshot *s, size_t i, enum tls_level level,
    const char *chains, char *err, size_t errlen)
{
	return ctx_new(s, i, SVC_SERVER, level, chains, err, errlen);
}
