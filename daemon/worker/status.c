/*
 * status.c - the worker's status records: services of the current
 * generation with their counters and certificates, the event loops and
 * the hand-off pool.
 *
 * Runs in: the worker's control thread. Owns the description of the
 * current generation (replaced by each status_collect).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "evloop.h"
#include "fwdtarget.h"
#include "ocsp.h"
#include "ocspresp.h"
#include "pool.h"
#include "sni.h"
#include "stats.h"
#include "status.h"
#include "tkring.h"
#include "watchdog.h"

/* A certificate in use. */
struct st_cert {
	char	*subject;	/* RFC 2253 */
	char	*algorithm;	/* key type: RSA, EC, ED25519, ... */
	int	 bits;
	time_t	 not_after;
	int	 stapled;	/* an OCSP response is kept for it: */
	struct ocsp_staple_info staple;
};

struct st_svc {
	char		*name;
	char		*role;
	char		*listen;	/* as in services.cf */
	struct st_cert	*certs;
	size_t		 ncerts;
	int		 csc;		/* client side: the session cache's
					 * counters are reported */
	int64_t		 csc_ttl_s;	/* its timeout (0: off) */
};

static struct {
	struct st_svc	*v;
	size_t		 n;
} S;

void
status_field(struct buf *b, const char *name, const char *value)
{
	buf_addf(b, " %s=", name);
	buf_add_pct(b, value);
}

static void
field_u64(struct buf *b, const char *name, unsigned long long v)
{
	buf_addf(b, " %s=%llu", name, v);
}

static char *
subject_text(X509 *x)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *data, *s;
	long len;

	if (mem == NULL)
		return xstrdup("?");
	X509_NAME_print_ex(mem, X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
	len = BIO_get_mem_data(mem, &data);
	s = len > 0 ? xstrndup(data, (size_t)len) : xstrdup("");
	BIO_free(mem);
	return s;
}

static void
cert_add(struct st_svc *sv, SSL_CTX *ctx, X509 *x)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	struct ocsp_staple_info staple;
	struct st_cert *c;
	struct tm tm;

	char *subject = subject_text(x);
	int stapled = ocsp_staple_info(ctx, x, &staple);
	time_t not_after;
	size_t k;

	memset(&tm, 0, sizeof(tm));
	not_after = ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1 ?
	    timegm(&tm) : 0;
	for (k = 0; k < sv->ncerts; k++) {	/* one SNI chain in two sets */
		if (strcmp(sv->certs[k].subject, subject) == 0 &&
		    sv->certs[k].not_after == not_after &&
		    sv->certs[k].bits == (pk != NULL ?
		    EVP_PKEY_get_bits(pk) : 0)) {
			if (stapled && !sv->certs[k].stapled) {
				sv->certs[k].stapled = 1;
				sv->certs[k].staple = staple;
			}
			free(subject);
			return;
		}
	}
	sv->certs = xreallocarray(sv->certs, sv->ncerts + 1, sizeof(*sv->certs));
	c = &sv->certs[sv->ncerts++];
	c->subject = subject;
	c->algorithm = xstrdup(pk != NULL && EVP_PKEY_get0_type_name(pk) ?
	    EVP_PKEY_get0_type_name(pk) : "?");
	c->bits = pk != NULL ? EVP_PKEY_get_bits(pk) : 0;
	c->not_after = not_after;
	c->stapled = stapled;
	if (stapled)
		c->staple = staple;
}

/* Every certificate with a key in ctx (RSA and ECDSA pairs, chain
 * files), leaving the context's current certificate as it was; the
 * responses it staples count into the service's block. */
static void
certs_of(struct st_svc *sv, SSL_CTX *ctx)
{
	struct svc_stats *live;
	X509 *orig, *x;

	if (ctx == NULL || (orig = SSL_CTX_get0_certificate(ctx)) == NULL)
		return;
	if ((live = stats_service(sv->name)) != NULL)
		ocsp_count_sent(ctx, &live->ocsp_sent);
	if (SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST) != 1)
		return;
	do {
		if ((x = SSL_CTX_get0_certificate(ctx)) != NULL)
			cert_add(sv, ctx, x);
	} while (SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT) == 1);
	SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST);
	while (SSL_CTX_get0_certificate(ctx) != orig &&
	    SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT) == 1)
		;
}

static void
status_clear(void)
{
	size_t i, k;

	for (i = 0; i < S.n; i++) {
		for (k = 0; k < S.v[i].ncerts; k++) {
			free(S.v[i].certs[k].subject);
			free(S.v[i].certs[k].algorithm);
		}
		free(S.v[i].certs);
		free(S.v[i].name);
		free(S.v[i].role);
		free(S.v[i].listen);
	}
	free(S.v);
	memset(&S, 0, sizeof(S));
}

void
status_collect(struct rt *rt, const struct snapshot *s)
{
	const char *v;
	SSL_CTX *ctx;
	size_t i, k;

	status_clear();
	S.v = xcalloc(rt->n ? rt->n : 1, sizeof(*S.v));
	S.n = rt->n;
	for (i = 0; i < rt->n; i++) {
		S.v[i].name = xstrdup(rt->svcs[i].name);
		v = snap_getf(s, NULL, "svc.%zu.role", i);
		S.v[i].role = xstrdup(v != NULL ? v : "?");
		v = snap_getf(s, NULL, "svc.%zu.listen", i);
		S.v[i].listen = xstrdup(v != NULL ? v : "?");
		S.v[i].csc = rt->svcs[i].role == SVC_CLIENT ||
		    rt->svcs[i].role == SVC_CONTROL;
		S.v[i].csc_ttl_s = rt->svcs[i].csc_ttl_s;
		certs_of(&S.v[i], rt->svcs[i].ctx);
		for (k = 0; (ctx = sni_map_ctx(rt->svcs[i].sni_map, k)) !=
		    NULL; k++)
			certs_of(&S.v[i], ctx);
	}
}

static void
report_service(struct buf *b, const struct st_svc *sv)
{
	struct svc_stats *live = stats_service(sv->name), st;
	size_t k;

	memset(&st, 0, sizeof(st));
	if (live != NULL)
		stats_read(live, &st);
	buf_adds(b, "service");
	status_field(b, "name", sv->name);
	status_field(b, "role", sv->role);
	status_field(b, "listen", sv->listen);
	field_u64(b, "active", st.active);
	field_u64(b, "sessions", st.sessions);
	field_u64(b, "refused", st.refused);
	field_u64(b, "refused_source", st.refused_source);
	field_u64(b, "hs_ok", st.hs_ok);
	for (k = 0; k < STATS_HS_N; k++) {
		char name[32];

		snprintf(name, sizeof(name), "hs_%s", stats_hs_names[k]);
		field_u64(b, name, st.hs_fail[k]);
	}
	for (k = 0; k < STATS_END_N; k++) {
		char name[32];

		snprintf(name, sizeof(name), "end_%s", stats_end_names[k]);
		field_u64(b, name, st.ends[k]);
	}
	field_u64(b, "bytes_in", st.bytes_in);
	field_u64(b, "bytes_out", st.bytes_out);
	field_u64(b, "ocsp_sent", st.ocsp_sent);
	if (sv->csc) {
		buf_addf(b, " csc_timeout_s=%lld", (long long)sv->csc_ttl_s);
		field_u64(b, "csc_entries", st.csc.entries);
		field_u64(b, "csc_hits", st.csc.hits);
		field_u64(b, "csc_misses", st.csc.misses);
		field_u64(b, "csc_expired", st.csc.expired);
		field_u64(b, "csc_evicted", st.csc.evicted);
	}
	buf_adds(b, "\n");
}

static const char *
iso_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* A certificate's OCSP fields: ocsp=none, or ocsp=stapled|expired (past
 * nextUpdate: ocsp.c sends it no more) with the response's times. */
static void
report_staple(struct buf *b, const struct st_cert *c, time_t now)
{
	char when[32];

	if (!c->stapled) {
		buf_adds(b, " ocsp=none");
		return;
	}
	status_field(b, "ocsp", now >= c->staple.next_update ? "expired" :
	    "stapled");
	status_field(b, "ocsp_status",
	    ocspresp_status_name(c->staple.status));
	status_field(b, "ocsp_this_update", iso_time(c->staple.this_update,
	    when, sizeof(when)));
	status_field(b, "ocsp_next_update", iso_time(c->staple.next_update,
	    when, sizeof(when)));
	buf_addf(b, " ocsp_expires_in_s=%lld",
	    (long long)c->staple.next_update - (long long)now);
}

static void
report_certs(struct buf *b, const struct st_svc *sv, time_t now)
{
	char when[32];
	size_t k;

	for (k = 0; k < sv->ncerts; k++) {
		const struct st_cert *c = &sv->certs[k];
		long long left = ((long long)c->not_after - now) / 86400;

		if (c->not_after < now && ((long long)c->not_after - now) % 86400)
			left--;	/* floor: expired today is -1 */
		iso_time(c->not_after, when, sizeof(when));
		buf_adds(b, "cert");
		status_field(b, "service", sv->name);
		status_field(b, "subject", c->subject);
		status_field(b, "algorithm", c->algorithm);
		buf_addf(b, " bits=%d", c->bits);
		status_field(b, "not_after", when);
		buf_addf(b, " days_left=%lld", left);
		report_staple(b, c, now);
		buf_adds(b, "\n");
	}
}

const char *
status_service_name(size_t i)
{
	return i < S.n ? S.v[i].name : NULL;
}

int
status_service_csc(size_t i)
{
	return i < S.n && S.v[i].csc;
}

void
status_each_cert(void (*fn)(const struct status_cert *, void *), void *arg)
{
	struct status_cert c;
	size_t i, k;

	for (i = 0; i < S.n; i++) {
		for (k = 0; k < S.v[i].ncerts; k++) {
			c.service = S.v[i].name;
			c.subject = S.v[i].certs[k].subject;
			c.algorithm = S.v[i].certs[k].algorithm;
			c.bits = S.v[i].certs[k].bits;
			c.not_after = S.v[i].certs[k].not_after;
			c.stapled = S.v[i].certs[k].stapled;
			c.staple = S.v[i].certs[k].staple;
			fn(&c, arg);
		}
	}
}

/* "forward" records: each forward target of rt's services, its health
 * (fwdtarget.h) and how many addresses it has now. */
static void
report_forward(struct buf *b, struct rt *rt)
{
	struct fwd_target *t;
	struct fwd_addrs *a;
	int64_t now = wd_now_ms(), retry;
	size_t i, j;
	int down;

	for (i = 0; rt != NULL && i < rt->n; i++) {
		for (j = 0; j < rt->svcs[i].nfwdt; j++) {
			t = &rt->svcs[i].fwdt[j];
			a = fwdt_addrs(t);
			down = __atomic_load_n(&t->down, __ATOMIC_ACQUIRE);
			retry = __atomic_load_n(&t->retry_ms, __ATOMIC_RELAXED);
			buf_adds(b, "forward");
			status_field(b, "service", rt->svcs[i].name);
			status_field(b, "target", t->text);
			status_field(b, "state", down ? "down" : "up");
			buf_addf(b, " addresses=%zu retry_in_s=%lld\n", a->n,
			    down && retry > now ?
			    (long long)((retry - now + 999) / 1000) : 0LL);
			fwdt_addrs_unref(a);
		}
	}
}

/* The "tickets" record: the worker's ticket key ring (tkring.h). */
static void
report_tickets(struct buf *b)
{
	struct tkring_info ti;
	size_t k;

	tkring_info(&ti);
	buf_addf(b, "tickets keys=%zu source=%s", ti.keys, ti.from_file ?
	    "file" : "memory");
	if (ti.from_file)
		status_field(b, "path", ti.path);
	if (ti.keys > 0) {
		buf_adds(b, " key_name=");
		for (k = 0; k < sizeof(ti.name); k++)
			buf_addf(b, "%02x", ti.name[k]);
		buf_addf(b, " key_age_s=%lld", (long long)ti.age_s);
		if (ti.from_file)
			buf_addf(b, " key_position=%zu", ti.position);
		else if (!ti.encrypts)
			buf_adds(b, " key_due=1");
	}
	buf_addf(b, " issued=%llu decrypted=%llu refused=%llu\n",
	    (unsigned long long)ti.n.issued,
	    (unsigned long long)ti.n.decrypted,
	    (unsigned long long)ti.n.refused);
}

void
status_report(struct buf *b)
{
	struct evloop_stats es;
	struct pool_stats ps;
	struct rt *rt = rt_current();
	time_t now = time(NULL);
	size_t i;

	pool_stats(&ps);
	evloop_stats(&es);
	buf_addf(b, "worker pid=%ld generation=%u services=%zu\n",
	    (long)getpid(), rt != NULL ? rt->generation : 0, S.n);
	report_forward(b, rt);
	rt_unref(rt);
	buf_addf(b, "events threads=%d sessions=%d max_sessions=%d "
	    "refused=%llu\n", es.threads, es.sessions, es.max_sessions,
	    (unsigned long long)es.refused);
	buf_addf(b, "pool threads=%d busy=%d idle=%d max=%d queued=%d "
	    "queue_limit=%d\n", ps.threads, ps.busy, ps.idle, ps.max, ps.queued,
	    ps.queue_limit);
	report_tickets(b);
	for (i = 0; i < S.n; i++)
		report_service(b, &S.v[i]);
	for (i = 0; i < S.n; i++)
		report_certs(b, &S.v[i], now);
}
