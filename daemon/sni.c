/*
 * sni.c - the contexts of a tls_server_sni_maps table and the
 * servername callback that chooses among them.
 *
 * Runs in: the worker (building; the callback in session threads) and
 * the supervisor or CLI for the configuration check (building). The
 * snapshot's table is "NAME\tPATHS\tORIGIN\n" lines (loader.c). Owns
 * the map and the contexts it made; a map is read-only once attached,
 * so the callback takes no lock.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "hostname.h"
#include "log.h"
#include "sni.h"
#include "util.h"

#define SNI_EXPIRY_DAYS	30		/* warn when a certificate ends sooner */
#define SNI_PROBE	"tlsward-sni-probe"	/* a name under a .domain */

struct sni_name {
	char		*name;		/* lower case; ".domain" for a parent */
	SSL_CTX		*ctx;		/* borrowed from the map's ctxs */
};

struct sni_map {
	char		*service;	/* for messages */
	SSL_CTX		*dflt;		/* the service's context (borrowed) */
	struct sni_name	*names;		/* sorted by name */
	size_t		 nnames;
	SSL_CTX		**ctxs;		/* one per distinct chains text */
	char		**chains;	/* that text, per ctxs entry */
	size_t		 nctxs;
	int		 refuse;	/* tlsproxy_sni_refuse_unknown */
	int		 errors;	/* while building */
};

/* SSL_CTX ex_data: set (to the map) on the contexts a map made. SSL
 * ex_data: the client's text and session (sni_set_client; not owned). */
static int sni_ctx_idx = -1, sni_ssl_idx = -1;
static pthread_once_t sni_once = PTHREAD_ONCE_INIT;

struct sni_client {
	const char		*peer;
	unsigned long long	 id;
};

static void
sni_client_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	free(ptr);
}

static void
sni_index(void)
{
	if ((sni_ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
	    NULL)) < 0 || (sni_ssl_idx = SSL_get_ex_new_index(0, NULL, NULL,
	    NULL, sni_client_free)) < 0)
		log_panic("cannot allocate an OpenSSL ex_data index");
}

void
sni_set_client(SSL *ssl, const char *peer, unsigned long long id)
{
	struct sni_client *c;

	pthread_once(&sni_once, sni_index);
	c = xmalloc(sizeof(*c));
	c->peer = peer;
	c->id = id;
	if (SSL_set_ex_data(ssl, sni_ssl_idx, c) != 1)
		free(c);	/* the lines fall back to the socket's peer */
}

const char *
sni_matched(const SSL *ssl)
{
	if (sni_ctx_idx < 0 ||
	    SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), sni_ctx_idx) == NULL)
		return NULL;
	return SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
}

void
sni_map_free(struct sni_map *m)
{
	size_t k;

	if (m == NULL)
		return;
	for (k = 0; k < m->nctxs; k++) {
		SSL_CTX_free(m->ctxs[k]);
		free(m->chains[k]);
	}
	for (k = 0; k < m->nnames; k++)
		free(m->names[k].name);
	free(m->ctxs);
	free(m->chains);
	free(m->names);
	free(m->service);
	free(m);
}

SSL_CTX *
sni_map_ctx(const struct sni_map *m, size_t k)
{
	return m != NULL && k < m->nctxs ? m->ctxs[k] : NULL;
}

/* ---------------------------------------------------------- the callback */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sni_name *)a)->name,
	    ((const struct sni_name *)b)->name);
}

static SSL_CTX *
lookup_one(const struct sni_map *m, const char *key)
{
	struct sni_name want = { (char *)(uintptr_t)key, NULL }, *hit;

	hit = bsearch(&want, m->names, m->nnames, sizeof(*m->names),
	    name_cmp);
	return hit != NULL ? hit->ctx : NULL;
}

/* The name itself, then ".parent" for each parent domain. */
static SSL_CTX *
lookup(const struct sni_map *m, const char *name)
{
	const char *cp = name;
	SSL_CTX *ctx = lookup_one(m, name);

	while (ctx == NULL && (cp = strchr(cp + 1, '.')) != NULL)
		ctx = lookup_one(m, cp);
	return ctx;
}

/* "sess=N service=S peer=P" for a log line: the client sni_set_client
 * named, else the socket's peer (the session's own line follows with
 * its id). */
static void
peer_text(SSL *ssl, const char *service, char *buf, size_t len)
{
	const struct sni_client *c = sni_ssl_idx < 0 ? NULL :
	    SSL_get_ex_data(ssl, sni_ssl_idx);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char a[INET6_ADDRSTRLEN];
	int fd = SSL_get_fd(ssl);

	if (c != NULL) {
		snprintf(buf, len, "sess=%llu service=%s peer=%s", c->id,
		    service, c->peer);
		return;
	}
	snprintf(buf, len, "service=%s peer=unknown", service);
	memset(&ss, 0, sizeof(ss));
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (ss.ss_family == AF_INET && inet_ntop(AF_INET,
	    &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a)) != NULL)
		snprintf(buf, len, "service=%s peer=[%s]:%u", service, a,
		    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	else if (ss.ss_family == AF_INET6 && inet_ntop(AF_INET6,
	    &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof(a)) != NULL)
		snprintf(buf, len, "service=%s peer=[%s]:%u", service, a,
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	else if (ss.ss_family == AF_UNIX)
		snprintf(buf, len, "service=%s peer=local", service);
}

/* The sent name in lower case with bytes outside printable ASCII as
 * '?' (for logs and the lookup); 0 if it does not fit (buf then holds
 * what did). */
static int
name_fold(const char *sent, char *buf, size_t len)
{
	size_t k;

	for (k = 0; sent[k] != '\0' && k + 1 < len; k++)
		buf[k] = sent[k] > 0x20 && sent[k] < 0x7f ?
		    (char)tolower((unsigned char)sent[k]) : '?';
	buf[k] = '\0';
	return sent[k] == '\0';
}

/* No entry for the name (or an invalid one): the default certificate,
 * or the refusal. */
static int
unknown(SSL *ssl, const struct sni_map *m, const char *name, int valid,
    int *al)
{
	static struct log_limit invalid = LOG_LIMIT_INIT,
	    refused = LOG_LIMIT_INIT;
	char who[512];

	peer_text(ssl, m->service, who, sizeof(who));
	if (!valid)
		log_warnx_limited(&invalid, "%s: TLS SNI \"%s\" is invalid%s",
		    who, name, m->refuse ? ": refused" : "");
	if (m->refuse) {
		if (valid)
			log_warnx_limited(&refused, "%s: TLS SNI %s not "
			    "matched: refused (unrecognized_name)", who, name);
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	if (valid)
		log_info("%s: TLS SNI %s not matched, using the default "
		    "certificate", who, name);
	return SSL_TLSEXT_ERR_NOACK;
}

static int
sni_cb(SSL *ssl, int *al, void *arg)
{
	const struct sni_map *m = arg;
	const char *sent = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	char name[HOSTNAME_MAX_LEN + 2];
	SSL_CTX *ctx, *cur;

	if (sent == NULL || *sent == '\0')
		return SSL_TLSEXT_ERR_NOACK;	/* the default certificate */
	if (!name_fold(sent, name, sizeof(name)) ||
	    !hostname_valid(name, NULL, 0))
		return unknown(ssl, m, name, 0, al);
	if ((ctx = lookup(m, name)) == NULL)
		return unknown(ssl, m, name, 1, al);
	/* A second ClientHello (after a HelloRetryRequest) may not move a
	 * handshake that has moved already (Postfix keeps the first). */
	cur = SSL_get_SSL_CTX(ssl);
	if (cur != m->dflt && cur != ctx)
		return SSL_TLSEXT_ERR_NOACK;
	if (cur != ctx && SSL_set_SSL_CTX(ssl, ctx) == NULL) {
		ERR_clear_error();
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

/* ----------------------------------------------------- building, judging */

/* Validity dates of the leaf certificate of ctx's current key. */
static void
check_dates(const struct sni_map *m, const char *origin, X509 *x)
{
	time_t soon = time(NULL) + SNI_EXPIRY_DAYS * 86400;
	int days = 0, secs = 0;

	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		log_warnx("service %s: tls_server_sni_maps: %s: the "
		    "certificate is not valid yet", m->service, origin);
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		log_warnx("service %s: tls_server_sni_maps: %s: the "
		    "certificate has expired", m->service, origin);
	else if (X509_cmp_time(X509_get0_notAfter(x), &soon) < 0 &&
	    ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)))
		log_warnx("service %s: tls_server_sni_maps: %s: the "
		    "certificate expires in %d day%s", m->service, origin,
		    days, days == 1 ? "" : "s");
}

/* Whether a certificate covers the entry's name: an exact name must be
 * covered (an error), a ".domain" should be (a wildcard; a warning). */
static void
check_name(struct sni_map *m, const char *name, const char *origin, X509 *x)
{
	char subj[256], *probe;

	if (X509_NAME_oneline(X509_get_subject_name(x), subj,
	    sizeof(subj)) == NULL)
		snprintf(subj, sizeof(subj), "(unreadable subject)");
	if (name[0] != '.') {
		if (X509_check_host(x, name, 0, 0, NULL) == 1)
			return;
		log_errorx("service %s: tls_server_sni_maps: %s: the "
		    "certificate %s does not cover %s (subjectAltName or "
		    "CN)", m->service, origin, subj, name);
		m->errors++;
		return;
	}
	probe = xasprintf("%s%s", SNI_PROBE, name);
	if (X509_check_host(x, probe, 0, 0, NULL) != 1)
		log_warnx("service %s: tls_server_sni_maps: %s: the "
		    "certificate %s does not cover names under %s (no "
		    "*%s)", m->service, origin, subj, name + 1, name);
	free(probe);
	ERR_clear_error();
}

/* Every certificate of ctx (one per key type) against the entry. */
static void
check_entry(struct sni_map *m, SSL_CTX *ctx, const char *name,
    const char *origin, int is_new)
{
	X509 *orig = SSL_CTX_get0_certificate(ctx), *x;
	int rc;

	for (rc = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST); rc == 1;
	    rc = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT)) {
		if ((x = SSL_CTX_get0_certificate(ctx)) == NULL)
			continue;
		check_name(m, name, origin, x);
		if (is_new)
			check_dates(m, origin, x);
	}
	/* The context's current certificate as it was. */
	SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST);
	while (SSL_CTX_get0_certificate(ctx) != orig &&
	    SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT) == 1)
		;
	ERR_clear_error();
}

/* The one place a context for a set of chain files is made (a
 * per-context addition, such as a stapled OCSP response, goes here). */
static SSL_CTX *
sni_ctx_new(const struct snapshot *s, size_t i, enum tls_level level,
    const char *chains, char *err, size_t errlen)
{
	return tlsctx_new_chains(s, i, level, chains, err, errlen);
}

/* A tlsctx error without the service and parameter it begins with. */
static const char *
why_alone(const char *err, const char *svc)
{
	static const char param[] = "parameter tls_server_sni_maps: ";
	size_t n = strlen(svc);

	if (strncmp(err, "service ", 8) == 0 && strncmp(err + 8, svc, n) == 0 &&
	    strncmp(err + 8 + n, ": ", 2) == 0)
		err += 8 + n + 2;
	if (strncmp(err, param, sizeof(param) - 1) == 0)
		err += sizeof(param) - 1;
	return err;
}

/* The context for chains: the one made for the same text before, else
 * a new one (NULL after logging why). *is_newp says which. */
static SSL_CTX *
ctx_for(struct sni_map *m, const struct snapshot *s, size_t i,
    enum tls_level level, const char *chains, const char *origin,
    int *is_newp)
{
	char err[1024];
	SSL_CTX *ctx;
	size_t k;

	*is_newp = 0;
	for (k = 0; k < m->nctxs; k++)
		if (strcmp(m->chains[k], chains) == 0)
			return m->ctxs[k];
	if ((ctx = sni_ctx_new(s, i, level, chains, err, sizeof(err))) ==
	    NULL) {
		log_errorx("service %s: tls_server_sni_maps: %s: %s",
		    m->service, origin, why_alone(err, m->service));
		m->errors++;
		return NULL;
	}
	pthread_once(&sni_once, sni_index);
	SSL_CTX_set_ex_data(ctx, sni_ctx_idx, m);
	m->ctxs = xreallocarray(m->ctxs, m->nctxs + 1, sizeof(*m->ctxs));
	m->chains = xreallocarray(m->chains, m->nctxs + 1,
	    sizeof(*m->chains));
	m->ctxs[m->nctxs] = ctx;
	m->chains[m->nctxs++] = xstrdup(chains);
	*is_newp = 1;
	return ctx;
}

/* One "NAME\tPATHS\tORIGIN" line of the snapshot table. */
static void
add_line(struct sni_map *m, const struct snapshot *s, size_t i,
    enum tls_level level, char *line)
{
	char *name = line, *chains, *origin;
	SSL_CTX *ctx;
	int is_new;

	if ((chains = strchr(name, '\t')) == NULL ||
	    (origin = strchr(chains + 1, '\t')) == NULL) {
		log_errorx("service %s: tls_server_sni_maps: malformed "
		    "snapshot line", m->service);
		m->errors++;
		return;
	}
	*chains++ = '\0';
	*origin++ = '\0';
	if ((ctx = ctx_for(m, s, i, level, chains, origin, &is_new)) == NULL)
		return;
	check_entry(m, ctx, name, origin, is_new);
	m->names = xreallocarray(m->names, m->nnames + 1, sizeof(*m->names));
	m->names[m->nnames].name = xstrdup(name);
	m->names[m->nnames++].ctx = ctx;
}

int
sni_map_build(const struct snapshot *s, size_t i, enum tls_level level,
    SSL_CTX *dflt, struct sni_map **mp, char *err, size_t errlen)
{
	const char *table = snap_getf(s, NULL, "svc.%zu.sni", i);
	const char *refuse = snap_getf(s, NULL,
	    "svc.%zu.param.tlsproxy_sni_refuse_unknown", i);
	char *copy, *save = NULL, *line;
	struct sni_map *m;

	*mp = NULL;
	if (table == NULL || *table == '\0')
		return 0;
	m = xcalloc(1, sizeof(*m));
	m->service = xstrdup(snap_getf(s, NULL, "svc.%zu.name", i));
	m->dflt = dflt;
	m->refuse = refuse != NULL && strcasecmp(refuse, "yes") == 0;
	copy = xstrdup(table);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		add_line(m, s, i, level, line);
	free(copy);
	if (m->errors > 0) {
		errf(err, errlen, "service %s: parameter tls_server_sni_maps: "
		    "%d error%s (logged above)", m->service, m->errors,
		    m->errors == 1 ? "" : "s");
		sni_map_free(m);
		return -1;
	}
	qsort(m->names, m->nnames, sizeof(*m->names), name_cmp);
	SSL_CTX_set_tlsext_servername_callback(dflt, sni_cb);
	SSL_CTX_set_tlsext_servername_arg(dflt, m);
	*mp = m;
	return 0;
}
