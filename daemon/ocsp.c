/*
 * ocsp.c - OCSP stapling: judging the loaded responses against a
 * server context's certificates once, and the status callback that
 * sends the right one.
 *
 * Runs in: the worker (at start before the sandbox, at reload inside
 * it) and the supervisor for -t and a reload's check: ocsp_attach
 * parses memory only. The status callback runs on worker threads; the
 * kept responses are immutable but for a "stale, said" flag (atomic) and
 * the sent counter they point at (atomic, set before the context
 * serves).
 * Owns: the kept responses, hung on the SSL_CTX (ex_data) and freed
 * with it.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>

#include "log.h"
#include "ocsp.h"
#include "ocspresp.h"
#include "util.h"

#define OCSP_MAX_CERTS	16	/* more than OpenSSL's key slots */

/* One response kept for one certificate. */
struct staple {
	X509		*leaf;		/* referenced; the context's own, so
					 * SSL_get_certificate() compares
					 * by pointer */
	unsigned char	*der;
	size_t		 len;
	int		 status;	/* good or revoked */
	time_t		 this_update;
	time_t		 next_update;	/* not stapled from then on */
	int		 stale_said;	/* atomic: "went stale" logged */
	char		*path;		/* for the log */
};

/* What one context staples. */
struct staples {
	char		*svc;
	struct staple	 v[OCSP_MAX_CERTS];
	size_t		 n;
	uint64_t	*sent;		/* ocsp_count_sent, or NULL */
};

/* A certificate of the context, with its issuer from its chain. */
struct ocsp_cert {
	X509	*leaf;
	X509	*issuer;	/* NULL: not in the chain */
};

static pthread_once_t ocsp_once = PTHREAD_ONCE_INIT;
static int ocsp_idx = -1;	/* SSL_CTX ex_data: struct staples */
static int ocsp_quiet;

static void
staples_free(struct staples *st)
{
	size_t k;

	if (st == NULL)
		return;
	for (k = 0; k < st->n; k++) {
		X509_free(st->v[k].leaf);
		free(st->v[k].der);
		free(st->v[k].path);
	}
	free(st->svc);
	free(st);
}

static void
staples_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	(void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
	staples_free(ptr);
}

static void
ocsp_index(void)
{
	ocsp_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
	    staples_ex_free);
	if (ocsp_idx < 0)
		log_panic("cannot allocate an OpenSSL ex_data index");
}

void
ocsp_set_quiet(int quiet)
{
	ocsp_quiet = quiet;
}

const char *
ocsp_paths(const struct snapshot *s, size_t i)
{
	const char *v = snap_getf(s, NULL,
	    "svc.%zu.file.tlsproxy_tls_ocsp_response_files", i);

	return v != NULL ? v : "";
}

char *
ocsp_paths_beside(const struct snapshot *s, size_t i, const char *chains)
{
	const char *on = snap_getf(s, NULL,
	    "svc.%zu.param.tlsproxy_tls_ocsp_stapling", i);
	char *copy = xstrdup(chains), *save = NULL, *w, *out;
	struct buf b;

	buf_init(&b);
	for (w = strtok_r(copy, " ", &save); w != NULL && on != NULL &&
	    strcasecmp(on, "yes") == 0; w = strtok_r(NULL, " ", &save))
		if (snap_getf(s, NULL, "file.%s.ocsp", w) != NULL)
			buf_addf(&b, "%s%s.ocsp", b.len ? " " : "", w);
	free(copy);
	out = buf_take(&b);
	return out != NULL ? out : xstrdup("");
}

/* Sends the response for the certificate this handshake uses, if it is
 * still fresh. OpenSSL calls this only when the client asked. */
static int
status_cb(SSL *ssl, void *arg)
{
	struct staples *st = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl),
	    ocsp_idx);
	X509 *x = SSL_get_certificate(ssl);
	struct staple *e = NULL;
	unsigned char *copy;
	char when[64];
	size_t k;

	(void)arg;	/* the context's ex_data: right after an SNI switch */
	for (k = 0; st != NULL && x != NULL && k < st->n; k++)
		if (st->v[k].leaf == x)
			e = &st->v[k];
	if (e == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	if (time(NULL) >= e->next_update) {
		if (!__atomic_exchange_n(&e->stale_said, 1, __ATOMIC_RELAXED))
			log_warnx("service %s: OCSP response %s went stale at "
			    "%s: no longer stapled (fetch a new one and "
			    "reload)", st->svc, e->path, ocspresp_time_text(
			    e->next_update, when, sizeof(when)));
		return SSL_TLSEXT_ERR_NOACK;
	}
	/* OpenSSL frees what it is given: each handshake gets a copy. */
	if ((copy = OPENSSL_memdup(e->der, e->len)) == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	if (SSL_set_tlsext_status_ocsp_resp(ssl, copy, (long)e->len) != 1) {
		OPENSSL_free(copy);
		return SSL_TLSEXT_ERR_NOACK;
	}
	if (st->sent != NULL)
		__atomic_add_fetch(st->sent, 1, __ATOMIC_RELAXED);
	return SSL_TLSEXT_ERR_OK;
}

/* The context's certificates; the current one stays current. */
static size_t
ctx_certs(SSL_CTX *ctx, struct ocsp_cert *v)
{
	X509 *cur = SSL_CTX_get0_certificate(ctx), *x;
	STACK_OF(X509) *chain;
	size_t n = 0;
	int more;

	more = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST);
	while (more == 1 && n < OCSP_MAX_CERTS) {
		chain = NULL;
		if ((x = SSL_CTX_get0_certificate(ctx)) != NULL &&
		    SSL_CTX_get0_chain_certs(ctx, &chain) == 1) {
			v[n].leaf = x;
			v[n++].issuer = ocspresp_issuer(x, chain);
		}
		more = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT);
	}
	if (cur != NULL)
		SSL_CTX_select_current_cert(ctx, cur);
	ERR_clear_error();
	return n;
}

static void notstapled(const char *svc, const char *path, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* "service S: OCSP response FILE: not stapled: WHY" */
static void
notstapled(const char *svc, const char *path, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	if (ocsp_quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_warnx("service %s: OCSP response %s: not stapled: %s", svc, path,
	    why);
}

/* The certificate the response names: its index, or -1 (logged). */
static int
cert_named(const struct ocsp_cert *c, size_t n, const unsigned char *der,
    size_t len, const char *svc, const char *path)
{
	char why[512];
	size_t k, orphans = 0;
	int r;

	for (k = 0; k < n; k++) {
		if (c[k].issuer == NULL) {
			orphans++;
			continue;
		}
		if ((r = ocspresp_names(der, len, c[k].leaf, c[k].issuer, why,
		    sizeof(why))) < 0) {
			notstapled(svc, path, "%s", why);
			return -1;
		}
		if (r == 1)
			return (int)k;
	}
	if (n > 0 && orphans == n)
		notstapled(svc, path, "no certificate of the service has its "
		    "issuer in its chain (the issuer must follow the "
		    "certificate in its file)");
	else
		notstapled(svc, path, "it is about none of the service's "
		    "certificates%s", orphans > 0 ? " (some have no issuer in "
		    "their chain and were not compared)" : "");
	return -1;
}

/* Judges one response and keeps it when it is usable. */
static void
staple_one(struct staples *st, const struct ocsp_cert *c, size_t n,
    const char *path, const unsigned char *der, size_t len)
{
	struct ocspresp_info info;
	char why[1024], subj[256], when[64];
	size_t j;
	int k;

	if ((k = cert_named(c, n, der, len, st->svc, path)) < 0)
		return;
	ocspresp_subject(c[k].leaf, subj, sizeof(subj));
	for (j = 0; j < st->n; j++)
		if (st->v[j].leaf == c[k].leaf) {
			notstapled(st->svc, path, "%s, read before it, "
			    "is about %s too", st->v[j].path, subj);
			return;
		}
	if (ocspresp_check(der, len, c[k].leaf, c[k].issuer, time(NULL),
	    &info, why, sizeof(why)) < 0) {
		notstapled(st->svc, path, "%s", why);
		return;
	}
	if (info.status != V_OCSP_CERTSTATUS_GOOD &&
	    info.status != V_OCSP_CERTSTATUS_REVOKED) {
		notstapled(st->svc, path, "the responder does not know %s "
		    "(status unknown)", subj);
		return;
	}
	if (info.status == V_OCSP_CERTSTATUS_REVOKED && !ocsp_quiet)
		log_warnx("service %s: OCSP response %s: certificate %s is "
		    "REVOKED (since %s); stapling the revocation: replace the "
		    "certificate", st->svc, path, subj, ocspresp_time_text(
		    info.revoked_at, when, sizeof(when)));
	else if (!ocsp_quiet)
		log_info("service %s: OCSP response %s: stapling status good "
		    "for %s until %s", st->svc, path, subj,
		    ocspresp_time_text(info.next_update, when, sizeof(when)));
	X509_up_ref(c[k].leaf);
	st->v[st->n].leaf = c[k].leaf;
	st->v[st->n].der = xmalloc(len);
	memcpy(st->v[st->n].der, der, len);
	st->v[st->n].len = len;
	st->v[st->n].status = info.status;
	st->v[st->n].this_update = info.this_update;
	st->v[st->n].next_update = info.next_update;
	st->v[st->n++].path = xstrdup(path);
}

int
ocsp_attach(SSL_CTX *ctx, const struct snapshot *s, const char *paths,
    const char *svc)
{
	struct ocsp_cert c[OCSP_MAX_CERTS];
	struct staples *st;
	char *copy, *save = NULL, *w;
	const char *data;
	size_t n, len;
	int kept;

	if (*paths == '\0')
		return 0;
	pthread_once(&ocsp_once, ocsp_index);
	n = ctx_certs(ctx, c);
	st = xcalloc(1, sizeof(*st));
	st->svc = xstrdup(svc);
	copy = xstrdup(paths);
	for (w = strtok_r(copy, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save))
		if ((data = snap_getf(s, &len, "file.%s", w)) != NULL)
			staple_one(st, c, n, w, (const unsigned char *)data,
			    len);
	free(copy);
	if ((kept = (int)st->n) == 0 ||
	    SSL_CTX_set_ex_data(ctx, ocsp_idx, st) != 1) {
		staples_free(st);
		return 0;
	}
	SSL_CTX_set_tlsext_status_cb(ctx, status_cb);
	return kept;
}

/* The context's kept responses, or NULL. */
static struct staples *
staples_of(SSL_CTX *ctx)
{
	if (ctx == NULL)
		return NULL;
	pthread_once(&ocsp_once, ocsp_index);
	return SSL_CTX_get_ex_data(ctx, ocsp_idx);
}

int
ocsp_staple_info(SSL_CTX *ctx, X509 *leaf, struct ocsp_staple_info *info)
{
	struct staples *st = staples_of(ctx);
	size_t k;

	for (k = 0; st != NULL && k < st->n; k++) {
		if (st->v[k].leaf != leaf)
			continue;
		info->status = st->v[k].status;
		info->this_update = st->v[k].this_update;
		info->next_update = st->v[k].next_update;
		return 1;
	}
	return 0;
}

void
ocsp_count_sent(SSL_CTX *ctx, uint64_t *sent)
{
	struct staples *st = staples_of(ctx);

	if (st != NULL)
		st->sent = sent;
}
