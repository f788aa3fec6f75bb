/*
 * tlspolicy.c - a service's peer-certificate policy: trust anchors,
 * client-certificate requests, verification depth, the names and
 * fingerprints a peer must match, and the verify callback that records
 * what a handshake's verification found.
 *
 * Runs in: wherever tlsctx.c runs (tlspol_attach: parsing memory only),
 * and worker session threads (the callback and the accessors). The
 * policy is immutable once attached; each SSL has its own record.
 *
 * The callback never fails a handshake: it records the first problem and
 * lets OpenSSL finish, so that tlsverify.c decides by the level and the
 * session logs one clear reason ("certificate verification failed: ...").
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "pem.h"
#include "tlspolicy.h"
#include "util.h"

static pthread_once_t pol_once = PTHREAD_ONCE_INIT;
static int pol_ctx_idx = -1;	/* SSL_CTX ex_data: struct tls_policy */
static int pol_ssl_idx = -1;	/* SSL ex_data: struct tls_peer */
static int pol_sess_idx = -1;	/* SSL ex_data: a session's own policy */

static void
pol_free(struct tls_policy *p)
{
	if (p == NULL)
		return;
	free(p->service);
	free(p->names);
	fpt_list_fini(&p->fpts);
	free(p);
}

static void
pol_ctx_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	(void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
	pol_free(ptr);
}

static void
pol_ssl_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	(void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
	free(ptr);
}

/* Once per process, from the first service built: the ex_data indexes.
 * (The C library's time zone, which certificate time checks would load
 * from /etc/localtime on first use, is loaded by the worker before its
 * sandbox: worker.c.) */
static void
pol_indexes(void)
{
	pol_ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
	    pol_ctx_free);
	pol_ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, pol_ssl_free);
	pol_sess_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, pol_ctx_free);
	if (pol_ctx_idx < 0 || pol_ssl_idx < 0 || pol_sess_idx < 0)
		log_panic("cannot allocate OpenSSL ex_data indexes");
}

const struct tls_policy *
tlspol_ctx(const SSL_CTX *ctx)
{
	return SSL_CTX_get_ex_data(ctx, pol_ctx_idx);
}

const struct tls_policy *
tlspol_get(const SSL *ssl)
{
	const struct tls_policy *own = SSL_get_ex_data(ssl, pol_sess_idx);

	return own != NULL ? own : tlspol_ctx(SSL_get_SSL_CTX(ssl));
}

int
tlspol_session(SSL *ssl, enum tls_level level, const char *name,
    struct fpt_list *fpts, char *err, size_t errlen)
{
	const struct tls_policy *base = tlspol_ctx(SSL_get_SSL_CTX(ssl));
	struct tls_policy *p = xcalloc(1, sizeof(*p));

	*p = *base;
	p->service = xstrdup(base->service);
	p->level = level;
	p->names = xstrdup(name != NULL ? name : base->names != NULL ?
	    base->names : "");
	if (fpts != NULL) {	/* taken over */
		p->fpts = *fpts;
		memset(fpts, 0, sizeof(*fpts));
	} else if (base->fpts.n > 0) {
		p->fpts.d = xreallocarray(NULL, base->fpts.n, base->fpts.len);
		memcpy(p->fpts.d, base->fpts.d, base->fpts.n * base->fpts.len);
	} else
		memset(&p->fpts, 0, sizeof(p->fpts));
	/* The name replaces the context's: the verify callback and
	 * SSL_get0_peername then see this one. */
	if (name != NULL)
		X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(ssl),
		    X509_VERIFY_PARAM_get_hostflags(SSL_get0_param(ssl)) |
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if ((name != NULL && SSL_set1_host(ssl, name) != 1) ||
	    SSL_set_ex_data(ssl, pol_sess_idx, p) != 1) {
		pol_free(p);
		return errf(err, errlen, "cannot set the session's policy");
	}
	return 0;
}

unsigned long long
tlspol_sess_id(const SSL *ssl)
{
	const struct tls_peer *p = SSL_get_ex_data(ssl, pol_ssl_idx);

	return p != NULL ? p->sess_id : 0;
}

struct tls_peer *
tlspol_peer(SSL *ssl)
{
	struct tls_peer *p = SSL_get_ex_data(ssl, pol_ssl_idx);

	if (p == NULL) {
		p = xcalloc(1, sizeof(*p));
		if (SSL_set_ex_data(ssl, pol_ssl_idx, p) != 1)
			log_panic("SSL_set_ex_data failed");
	}
	return p;
}

void
tlspol_cn(const X509_NAME *n, char *buf, size_t len)
{
	char *p;

	buf[0] = '\0';
	if (n != NULL && X509_NAME_get_text_by_NID(n, NID_commonName, buf,
	    (int)len) < 0 && X509_NAME_get_text_by_NID(n,
	    NID_organizationName, buf, (int)len) < 0)
		buf[0] = '\0';
	/* The peer chose these bytes, and they go into log lines. */
	for (p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
}

/* Records the first problem at each certificate; always continues. The
 * depth limit is Postfix's: certificates at depths 0..verify_depth. */
static int
pol_verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	const struct tls_policy *pol = tlspol_get(ssl);
	struct tls_peer *peer = tlspol_peer(ssl);
	int depth = X509_STORE_CTX_get_error_depth(xs);
	int err = X509_STORE_CTX_get_error(xs);

	peer->checked = 1;
	if (ok && pol != NULL && depth > pol->verify_depth) {
		err = X509_V_ERR_CERT_CHAIN_TOO_LONG;
		X509_STORE_CTX_set_error(xs, err);
		ok = 0;
	}
	/* A name mismatch is no chain error: tlsverify.c asks OpenSSL
	 * whether a name matched (SSL_get0_peername). */
	if (!ok && err != X509_V_ERR_HOSTNAME_MISMATCH &&
	    peer->chain_err == 0) {
		peer->chain_err = err;
		peer->chain_depth = depth;
		tlspol_cn(X509_get_subject_name(
		    X509_STORE_CTX_get_current_cert(xs)), peer->chain_cn,
		    sizeof(peer->chain_cn));
	}
	return 1;
}

int
tlspol_trusted(SSL *ssl)
{
	const struct tls_policy *pol = tlspol_get(ssl);
	struct tls_peer *peer = tlspol_peer(ssl);

	if (SSL_get0_peer_certificate(ssl) == NULL || pol == NULL ||
	    pol->ncas == 0)
		return 0;
	/* A resumed session was verified when it was made: OpenSSL kept
	 * that result (the callback's first error is not kept with it). */
	if (!peer->checked)
		return SSL_get_verify_result(ssl) == X509_V_OK;
	return peer->chain_err == 0;
}

const char *
tlspol_chain_reason(SSL *ssl, char *buf, size_t len)
{
	const struct tls_policy *pol = tlspol_get(ssl);
	struct tls_peer *peer = tlspol_peer(ssl);
	char a[64];

	if (SSL_get0_peer_certificate(ssl) == NULL)
		snprintf(buf, len, "no peer certificate");
	else if (pol == NULL || pol->ncas == 0)
		snprintf(buf, len, "no trust anchors (%s and CApath are "
		    "empty)", tlsctx_rname(pol != NULL ? pol->role :
		    SVC_SERVER, "CAfile", a, sizeof(a)));
	else if (!peer->checked)
		snprintf(buf, len, "%s", X509_verify_cert_error_string(
		    SSL_get_verify_result(ssl)));
	else
		snprintf(buf, len, "%s at depth %d%s%s%s",
		    X509_verify_cert_error_string(peer->chain_err),
		    peer->chain_depth, peer->chain_cn[0] ? " (CN=" : "",
		    peer->chain_cn, peer->chain_cn[0] ? ")" : "");
	return buf;
}

/* ------------------------------------------------------ building */

/* The certificates of one loaded CA file (or CApath directory) into the
 * context's store; with announce, their subjects also go into the list of
 * CA names a server sends with its certificate request. Returns how many,
 * or -1. */
static int
add_cas(SSL_CTX *ctx, int announce, const char *data, size_t len,
    const char *label, char *err, size_t errlen)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	STACK_OF(X509) *certs;
	X509 *x;
	int n = 0;

	if ((certs = pem_certs_parse(data, len, label, err, errlen)) == NULL)
		return -1;
	while ((x = sk_X509_shift(certs)) != NULL) {
		/* A duplicate (CApath hash links) is accepted, and counted. */
		if (X509_STORE_add_cert(store, x) == 1)
			n++;
		if (announce)
			(void)SSL_CTX_add_client_CA(ctx, x);
		X509_free(x);
	}
	ERR_clear_error();
	sk_X509_free(certs);
	return n;
}

/* The role's CAfile (each listed file) and CApath; the count of anchors,
 * or -1. */
static int
load_cas(SSL_CTX *ctx, const struct snapshot *s, size_t i,
    enum svc_role role, char *err, size_t errlen)
{
	const char *list[2] = { tlsctx_rfile(s, i, role, "CAfile"),
	    tlsctx_rfile(s, i, role, "CApath") };
	char pname[64], why[512], *copy, *save, *w, *key;
	const char *data;
	size_t len;
	int k, n, total = 0;

	for (k = 0; k < 2; k++) {
		tlsctx_rname(role, k == 0 ? "CAfile" : "CApath", pname,
		    sizeof(pname));
		copy = xstrdup(list[k]);
		for (save = NULL, w = strtok_r(copy, " ", &save); w != NULL;
		    w = strtok_r(NULL, " ", &save)) {
			key = k == 0 ? xstrdup(w) : xasprintf("dir:%s", w);
			data = tlsctx_file_data(s, key, &len);
			n = data == NULL ? errf(why, sizeof(why), "%s: not "
			    "loaded", w) : add_cas(ctx, k == 0 &&
			    role != SVC_CLIENT, data, len, w, why, sizeof(why));
			free(key);
			if (n < 0) {
				free(copy);
				return errf(err, errlen, "parameter %s: %s",
				    pname, why);
			}
			total += n;
		}
		free(copy);
	}
	return total;
}

/* 1 if host is an IP address literal. */
static int
is_address(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

/* Adds one name to the verify parameters and to the text list. */
static void
add_name(X509_VERIFY_PARAM *vp, struct buf *text, const char *name)
{
	if (text->len == 0)
		X509_VERIFY_PARAM_set1_host(vp, name, 0);
	else
		X509_VERIFY_PARAM_add1_host(vp, name, 0);
	buf_addf(text, "%s%s", text->len ? ", " : "", name);
}

/* 1 for a control service or a hand-off profile: entries that forward
 * nowhere, whose peers' names and fingerprints may come with each
 * hand-off request. */
static int
handoff_only(const struct snapshot *s, size_t i)
{
	const char *fwd = snap_getf(s, NULL, "svc.%zu.forward", i);

	return fwd != NULL && strcmp(fwd, "-") == 0;
}

/* Client verify/secure: the *_cert_match strategies against the forward
 * host, as Postfix applies them to its next hop. "hostname" and
 * "nexthop" are the forward host, "dot-nexthop" any name below it, and
 * any other word is a name of its own (a leading "." matches names below
 * it). An address as forward host gives no name. */
static int
set_names(SSL_CTX *ctx, struct tls_policy *pol, const struct snapshot *s,
    size_t i, char *err, size_t errlen)
{
	const char *pname = pol->level == TLS_LEVEL_SECURE ?
	    "tlsproxy_client_secure_cert_match" :
	    "tlsproxy_client_verify_cert_match";
	const char *host = snap_getf(s, NULL, "svc.%zu.forward_host", i);
	X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(ctx);
	char *copy = xstrdup(tlsctx_param(s, i, pname)), *save = NULL, *w;
	int named = host != NULL && *host != '\0' && !is_address(host);
	unsigned flags = X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
	struct buf text;

	buf_init(&text);
	for (w = strtok_r(copy, " \t,:", &save); w != NULL;
	    w = strtok_r(NULL, " \t,:", &save)) {
		if (strcasecmp(w, "hostname") == 0 ||
		    strcasecmp(w, "nexthop") == 0) {
			if (named)
				add_name(vp, &text, host);
		} else if (strcasecmp(w, "dot-nexthop") == 0) {
			if (named) {
				char *dot = xasprintf(".%s", host);

				add_name(vp, &text, dot);
				free(dot);
			}
		} else
			add_name(vp, &text, w);
	}
	free(copy);
	/* A hand-off request may name the host instead. */
	if (text.len == 0 && !handoff_only(s, i)) {
		buf_fini(&text);
		return errf(err, errlen, "parameter %s: security level %s "
		    "needs a name to check, and \"%s\" gives none for "
		    "forward host \"%s\" (list the names)", pname,
		    pol->level == TLS_LEVEL_SECURE ? "secure" : "verify",
		    tlsctx_param(s, i, pname), host != NULL ? host : "");
	}
	if (strcasecmp(tlsctx_param(s, i,
	    "tls_wildcard_matches_multiple_labels"), "yes") == 0)
		flags |= X509_CHECK_FLAG_MULTI_LABEL_WILDCARDS;
	X509_VERIFY_PARAM_set_hostflags(vp, flags);
	pol->names = buf_take(&text);
	return 0;
}

/* Client fingerprint level: the list, which must not be empty (but for
 * the hand-off, where requests may bring their own). */
static int
set_fingerprints(struct tls_policy *pol, const struct snapshot *s,
    size_t i, char *err, size_t errlen)
{
	const char *pname = "tlsproxy_client_fingerprint_cert_match";
	char why[512];

	if (fpt_list_parse(tlsctx_param(s, i, pname), pol->md, &pol->fpts,
	    why, sizeof(why)) < 0)
		return errf(err, errlen, "parameter %s: %s: %s", pname,
		    pol->md_name, why);
	if (pol->fpts.n == 0 && !handoff_only(s, i))
		return errf(err, errlen, "parameter %s: security level "
		    "fingerprint needs at least one fingerprint", pname);
	return 0;
}

/* Whether the server asks for / requires a client certificate, with
 * Postfix's rules: req_ccert implies asking, and only counts at a
 * mandatory level. */
static void
server_ccert(struct tls_policy *pol, const struct snapshot *s, size_t i)
{
	int ask = strcasecmp(tlsctx_param(s, i, "tlsproxy_tls_ask_ccert"),
	    "yes") == 0;
	int req = strcasecmp(tlsctx_param(s, i, "tlsproxy_tls_req_ccert"),
	    "yes") == 0;

	if (req && pol->level < TLS_LEVEL_ENCRYPT)
		log_warnx("service %s: tlsproxy_tls_req_ccert = yes is "
		    "ignored: a client certificate can only be required at "
		    "security level encrypt", pol->service);
	pol->require_cert = req && pol->level >= TLS_LEVEL_ENCRYPT;
	pol->ask_cert = ask || pol->require_cert;
}

/* Settings of the digest, depth and log level; the level's checks. */
static int
pol_settings(SSL_CTX *ctx, struct tls_policy *pol, const struct snapshot *s,
    size_t i, char *err, size_t errlen)
{
	char pname[64];
	const char *v;

	tlsctx_rname(pol->role, "fingerprint_digest", pname, sizeof(pname));
	v = tlsctx_param(s, i, pname);
	if ((pol->md = fpt_md(v)) == NULL)
		return errf(err, errlen, "parameter %s: unknown digest \"%s\"",
		    pname, v);
	snprintf(pol->md_name, sizeof(pol->md_name), "%s", v);
	if (tlsctx_int(s, i, pol->role == SVC_CLIENT ?
	    "tlsproxy_client_scert_verifydepth" :
	    "tlsproxy_tls_ccert_verifydepth", 100000, &pol->verify_depth, err,
	    errlen) < 0 ||
	    tlsctx_int(s, i, pol->role == SVC_CLIENT ?
	    "tlsproxy_client_loglevel" : "tlsproxy_tls_loglevel", 100000,
	    &pol->loglevel, err, errlen) < 0)
		return -1;
	if (pol->role != SVC_CLIENT) {
		server_ccert(pol, s, i);
		return 0;
	}
	if (pol->level == TLS_LEVEL_FINGERPRINT)
		return set_fingerprints(pol, s, i, err, errlen);
	if (pol->level == TLS_LEVEL_VERIFY || pol->level == TLS_LEVEL_SECURE)
		return set_names(ctx, pol, s, i, err, errlen);
	return 0;
}

/* 1 if the service's level rests on trust anchors. */
static int
needs_cas(const struct tls_policy *pol)
{
	if (pol->role != SVC_CLIENT)
		return pol->require_cert;
	return pol->level == TLS_LEVEL_VERIFY || pol->level == TLS_LEVEL_SECURE;
}

/* Trust anchors; the levels that rest on them cannot do without. The
 * system bundle cannot be appended (the worker reads no files): where
 * anchors matter that is an error, elsewhere a warning. */
static int
pol_cas(SSL_CTX *ctx, struct tls_policy *pol, const struct snapshot *s,
    size_t i, char *err, size_t errlen)
{
	char a[64], b[64];

	tlsctx_rname(pol->role, "CAfile", a, sizeof(a));
	tlsctx_rname(pol->role, "CApath", b, sizeof(b));
	if (strcasecmp(tlsctx_param(s, i, "tls_append_default_CA"),
	    "yes") == 0) {
		if (needs_cas(pol))
			return errf(err, errlen, "parameter "
			    "tls_append_default_CA: yes is not supported (the "
			    "worker reads no files): name the system bundle "
			    "(e.g. /etc/ssl/certs/ca-certificates.crt) in %s",
			    a);
		log_warnx("service %s: tls_append_default_CA = yes is "
		    "ignored (name the system bundle in %s)", pol->service, a);
	}
	if ((pol->ncas = load_cas(ctx, s, i, pol->role, err, errlen)) < 0)
		return -1;
	if (pol->ncas > 0 || !needs_cas(pol))
		return 0;
	if (pol->role == SVC_CLIENT)
		return errf(err, errlen, "security level %s needs trust "
		    "anchors: set %s or %s", pol->level == TLS_LEVEL_SECURE ?
		    "secure" : "verify", a, b);
	return errf(err, errlen, "tlsproxy_tls_req_ccert needs trust anchors "
	    "for client certificates: set %s or %s", a, b);
}

int
tlspol_attach(SSL_CTX *ctx, const struct snapshot *s, size_t i,
    enum svc_role role, enum tls_level level, char *err, size_t errlen)
{
	struct tls_policy *pol = xcalloc(1, sizeof(*pol));
	int mode;

	pthread_once(&pol_once, pol_indexes);
	pol->service = xstrdup(snap_getf(s, NULL, "svc.%zu.name", i));
	pol->role = role;
	pol->level = level;
	if (pol_settings(ctx, pol, s, i, err, errlen) < 0 ||
	    pol_cas(ctx, pol, s, i, err, errlen) < 0) {
		pol_free(pol);
		return -1;
	}
	/* OpenSSL's limit one beyond ours, so the callback sees and names a
	 * chain that is too long. */
	SSL_CTX_set_verify_depth(ctx, pol->verify_depth + 1);
	if (role == SVC_CLIENT)
		mode = SSL_VERIFY_PEER;
	else
		mode = pol->ask_cert ? SSL_VERIFY_PEER |
		    SSL_VERIFY_CLIENT_ONCE : SSL_VERIFY_NONE;
	SSL_CTX_set_verify(ctx, mode, mode == SSL_VERIFY_NONE ? NULL :
	    pol_verify_cb);
	if (SSL_CTX_set_ex_data(ctx, pol_ctx_idx, pol) != 1) {
		pol_free(pol);
		return errf(err, errlen, "SSL_CTX_set_ex_data failed");
	}
	return 0;
}
