/*
 * metrics.c - the Prometheus exposition of the worker's counters: the
 * per-service counters (stats.h), the certificates in use and their OCSP
 * staples (status.h), the client session cache, the ticket key ring
 * (tkring.h), the event loops and the pool, and what the supervisor
 * reports (restarts, reloads).
 *
 * Runs in: the worker's control thread. Owns the supervisor's counters
 * as last received.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evloop.h"
#include "log.h"
#include "metrics.h"
#include "ocspresp.h"
#include "pool.h"
#include "runtime.h"
#include "stats.h"
#include "status.h"
#include "tkring.h"

static struct {
	unsigned long long	restarts;
	unsigned long long	reloads_ok;
	unsigned long long	reloads_failed;
} sup;

void
metrics_sup_counters(const char *text, size_t len)
{
	char copy[256], *w, *save = NULL, *eq;

	snprintf(copy, sizeof(copy), "%.*s", (int)(len < 255 ? len : 255),
	    text);
	for (w = strtok_r(copy, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		if ((eq = strchr(w, '=')) == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(w, "restarts") == 0)
			sup.restarts = strtoull(eq, NULL, 10);
		else if (strcmp(w, "reloads_ok") == 0)
			sup.reloads_ok = strtoull(eq, NULL, 10);
		else if (strcmp(w, "reloads_failed") == 0)
			sup.reloads_failed = strtoull(eq, NULL, 10);
	}
}

void
metrics_label_value(struct buf *b, const char *value)
{
	const char *p;

	for (p = value; *p != '\0'; p++) {
		if (*p == '\\')
			buf_adds(b, "\\\\");
		else if (*p == '"')
			buf_adds(b, "\\\"");
		else if (*p == '\n')
			buf_adds(b, "\\n");
		else
			buf_add(b, p, 1);
	}
}

/* # HELP and # TYPE of a family. */
static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_addf(b, "# HELP tlsward_%s %s\n# TYPE tlsward_%s %s\n", name, help,
	    name, type);
}

/* tlsward_NAME{service="S"[,K="V"]} N */
static void
sample(struct buf *b, const char *name, const char *svc, const char *k,
    const char *v, unsigned long long n)
{
	buf_addf(b, "tlsward_%s{service=\"", name);
	metrics_label_value(b, svc);
	buf_adds(b, "\"");
	if (k != NULL) {
		buf_addf(b, ",%s=\"", k);
		metrics_label_value(b, v);
		buf_adds(b, "\"");
	}
	buf_addf(b, "} %llu\n", n);
}

/* The counters of every service of the current generation. */
static struct svc_stats *
read_all(size_t *np)
{
	struct svc_stats *v, *live;
	const char *name;
	size_t n;

	for (n = 0; status_service_name(n) != NULL; n++)
		;
	/* the blocks are 64-byte aligned (stats.h) */
	if ((v = aligned_alloc(64, (n ? n : 1) * sizeof(*v))) == NULL)
		log_panic("out of memory");
	memset(v, 0, (n ? n : 1) * sizeof(*v));
	for (*np = 0; (name = status_service_name(*np)) != NULL; (*np)++) {
		if ((live = stats_service(name)) != NULL)
			stats_read(live, &v[*np]);
		else
			snprintf(v[*np].name, sizeof(v[*np].name), "%s", name);
	}
	return v;
}

static void
render_sessions(struct buf *b, const struct svc_stats *v, size_t n)
{
	size_t i, k;

	family(b, "sessions_active", "gauge", "Sessions now.");
	for (i = 0; i < n; i++)
		sample(b, "sessions_active", v[i].name, NULL, NULL,
		    v[i].active);
	family(b, "sessions_total", "counter", "Sessions since the worker "
	    "started.");
	for (i = 0; i < n; i++)
		sample(b, "sessions_total", v[i].name, NULL, NULL,
		    v[i].sessions);
	family(b, "sessions_refused_total", "counter", "Connections refused: "
	    "all sessions in use (limit) or over a per-source limit (source).");
	for (i = 0; i < n; i++) {
		sample(b, "sessions_refused_total", v[i].name, "reason",
		    "limit", v[i].refused);
		sample(b, "sessions_refused_total", v[i].name, "reason",
		    "source", v[i].refused_source);
	}
	family(b, "sessions_ended_total", "counter", "Sessions ended, by how.");
	for (i = 0; i < n; i++)
		for (k = 0; k < STATS_END_N; k++)
			sample(b, "sessions_ended_total", v[i].name, "end",
			    stats_end_names[k], v[i].ends[k]);
	family(b, "tls_received_bytes_total", "counter", "Plaintext bytes "
	    "received from the TLS peers.");
	for (i = 0; i < n; i++)
		sample(b, "tls_received_bytes_total", v[i].name, NULL, NULL,
		    v[i].bytes_in);
	family(b, "tls_sent_bytes_total", "counter", "Plaintext bytes sent to "
	    "the TLS peers.");
	for (i = 0; i < n; i++)
		sample(b, "tls_sent_bytes_total", v[i].name, NULL, NULL,
		    v[i].bytes_out);
}

static void
render_handshakes(struct buf *b, const struct svc_stats *v, size_t n)
{
	unsigned long long failed;
	size_t i, k;

	family(b, "handshakes_total", "counter", "TLS handshakes, by result "
	    "(ok: passed the security level).");
	for (i = 0; i < n; i++) {
		for (failed = 0, k = 0; k < STATS_HS_N; k++)
			failed += v[i].hs_fail[k];
		sample(b, "handshakes_total", v[i].name, "result", "ok",
		    v[i].hs_ok);
		sample(b, "handshakes_total", v[i].name, "result", "failed",
		    failed);
	}
	family(b, "handshake_failures_total", "counter", "Failed TLS "
	    "handshakes, by reason.");
	for (i = 0; i < n; i++)
		for (k = 0; k < STATS_HS_N; k++)
			sample(b, "handshake_failures_total", v[i].name,
			    "reason", stats_hs_names[k], v[i].hs_fail[k]);
}

/* One service's histogram series. */
static void
histogram(struct buf *b, const struct svc_stats *st)
{
	unsigned long long cum = 0;
	char le[32];
	size_t k;

	for (k = 0; k <= STATS_HS_BUCKETS; k++) {
		cum += st->hs_us[k];
		if (k < STATS_HS_BUCKETS)
			snprintf(le, sizeof(le), "%g",
			    (double)stats_hs_bucket_us[k] / 1e6);
		else
			snprintf(le, sizeof(le), "+Inf");
		sample(b, "handshake_duration_seconds_bucket", st->name, "le",
		    le, cum);
	}
	buf_adds(b, "tlsward_handshake_duration_seconds_sum{service=\"");
	metrics_label_value(b, st->name);
	buf_addf(b, "\"} %llu.%06llu\n",
	    (unsigned long long)(st->hs_us_sum / 1000000),
	    (unsigned long long)(st->hs_us_sum % 1000000));
	sample(b, "handshake_duration_seconds_count", st->name, NULL, NULL,
	    cum);
}

static void
cert_sample(const struct status_cert *c, void *arg)
{
	struct buf *b = arg;

	buf_adds(b, "tlsward_certificate_expiry_timestamp_seconds{service=\"");
	metrics_label_value(b, c->service);
	buf_adds(b, "\",subject=\"");
	metrics_label_value(b, c->subject);
	buf_adds(b, "\",algorithm=\"");
	metrics_label_value(b, c->algorithm);
	buf_addf(b, "\",bits=\"%d\"} %lld\n", c->bits, (long long)c->not_after);
}

/* The labels of a certificate: service, subject, algorithm. */
static void
cert_labels(struct buf *b, const char *name, const struct status_cert *c)
{
	buf_addf(b, "tlsward_%s{service=\"", name);
	metrics_label_value(b, c->service);
	buf_adds(b, "\",subject=\"");
	metrics_label_value(b, c->subject);
	buf_adds(b, "\",algorithm=\"");
	metrics_label_value(b, c->algorithm);
	buf_adds(b, "\"");
}

/* Which of the staple families cert_staple writes. */
enum staple_family { STAPLE_NEXT, STAPLE_THIS, STAPLE_VALID };
struct staple_arg {
	struct buf		*b;
	enum staple_family	 which;
	time_t			 now;
};

static void
cert_staple(const struct status_cert *c, void *arg)
{
	struct staple_arg *a = arg;

	if (!c->stapled)
		return;
	switch (a->which) {
	case STAPLE_NEXT:
		cert_labels(a->b, "ocsp_staple_next_update_timestamp_seconds",
		    c);
		buf_addf(a->b, "} %lld\n", (long long)c->staple.next_update);
		break;
	case STAPLE_THIS:
		cert_labels(a->b, "ocsp_staple_this_update_timestamp_seconds",
		    c);
		buf_addf(a->b, "} %lld\n", (long long)c->staple.this_update);
		break;
	case STAPLE_VALID:
		cert_labels(a->b, "ocsp_staple_valid", c);
		buf_addf(a->b, ",cert_status=\"%s\"} %d\n",
		    ocspresp_status_name(c->staple.status),
		    a->now < c->staple.next_update);
		break;
	}
}

static void
render_ocsp(struct buf *b, const struct svc_stats *v, size_t n)
{
	struct staple_arg a = { b, STAPLE_NEXT, time(NULL) };
	size_t i;

	family(b, "ocsp_staple_next_update_timestamp_seconds", "gauge",
	    "nextUpdate of the OCSP response kept for a certificate (Unix "
	    "time); not stapled from then on.");
	status_each_cert(cert_staple, &a);
	a.which = STAPLE_THIS;
	family(b, "ocsp_staple_this_update_timestamp_seconds", "gauge",
	    "thisUpdate of the OCSP response kept for a certificate (Unix "
	    "time).");
	status_each_cert(cert_staple, &a);
	a.which = STAPLE_VALID;
	family(b, "ocsp_staple_valid", "gauge", "1 while the OCSP response "
	    "kept for a certificate is stapled, 0 past its nextUpdate.");
	status_each_cert(cert_staple, &a);
	family(b, "ocsp_staples_sent_total", "counter", "OCSP responses "
	    "stapled to handshakes.");
	for (i = 0; i < n; i++)
		sample(b, "ocsp_staples_sent_total", v[i].name, NULL, NULL,
		    v[i].ocsp_sent);
}

static void
render_tickets(struct buf *b)
{
	struct tkring_info ti;

	tkring_info(&ti);
	family(b, "ticket_keys", "gauge", "Session ticket keys in the "
	    "worker's ring, by source (file: tlsproxy_tls_ticket_key_file; "
	    "memory: made by the worker).");
	buf_addf(b, "tlsward_ticket_keys{source=\"file\"} %zu\n"
	    "tlsward_ticket_keys{source=\"memory\"} %zu\n",
	    ti.from_file ? ti.keys : 0, ti.from_file ? 0 : ti.keys);
	family(b, "ticket_key_age_seconds", "gauge", "Seconds since the "
	    "newest ticket key was made or first loaded (0 without a key).");
	buf_addf(b, "tlsward_ticket_key_age_seconds %lld\n",
	    ti.keys > 0 ? (long long)ti.age_s : 0LL);
	family(b, "tickets_issued_total", "counter", "Session tickets "
	    "issued.");
	buf_addf(b, "tlsward_tickets_issued_total %llu\n",
	    (unsigned long long)ti.n.issued);
	family(b, "tickets_decrypted_total", "counter", "Session tickets "
	    "presented under a key the ring holds.");
	buf_addf(b, "tlsward_tickets_decrypted_total %llu\n",
	    (unsigned long long)ti.n.decrypted);
	family(b, "tickets_refused_total", "counter", "Session tickets "
	    "presented under an unknown or retired key.");
	buf_addf(b, "tlsward_tickets_refused_total %llu\n",
	    (unsigned long long)ti.n.refused);
}

/* The client session cache's counters of the client-side services. */
static void
render_csc(struct buf *b, const struct svc_stats *v, size_t n)
{
	static const struct {
		const char	*name, *type, *help;
		size_t		 off;	/* of the counter in svc_stats */
	} fam[] = {
		{ "client_session_cache_entries", "gauge", "Sessions the "
		    "client session cache holds for the service.",
		    offsetof(struct svc_stats, csc.entries) },
		{ "client_session_cache_hits_total", "counter", "Client-side "
		    "handshakes that resumed a cached session.",
		    offsetof(struct svc_stats, csc.hits) },
		{ "client_session_cache_misses_total", "counter", "Client-side "
		    "full handshakes with the session cache on.",
		    offsetof(struct svc_stats, csc.misses) },
		{ "client_session_cache_expired_total", "counter", "Cached "
		    "sessions dropped at the end of their lifetime.",
		    offsetof(struct svc_stats, csc.expired) },
		{ "client_session_cache_evicted_total", "counter", "Cached "
		    "sessions replaced by another policy's.",
		    offsetof(struct svc_stats, csc.evicted) },
	};
	const uint64_t *val;
	size_t f, i;

	for (f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		family(b, fam[f].name, fam[f].type, fam[f].help);
		for (i = 0; i < n; i++) {
			if (!status_service_csc(i))
				continue;
			val = (const uint64_t *)(const void *)
			    ((const char *)&v[i] + fam[f].off);
			sample(b, fam[f].name, v[i].name, NULL, NULL, *val);
		}
	}
}

static void
render_worker(struct buf *b)
{
	struct evloop_stats es;
	struct pool_stats ps;
	struct rt *rt = rt_current();

	evloop_stats(&es);
	pool_stats(&ps);
	family(b, "worker_restarts_total", "counter", "Times the supervisor "
	    "started a new worker after one died.");
	buf_addf(b, "tlsward_worker_restarts_total %llu\n", sup.restarts);
	family(b, "reloads_total", "counter", "Reloads, by result.");
	buf_addf(b, "tlsward_reloads_total{result=\"ok\"} %llu\n"
	    "tlsward_reloads_total{result=\"failed\"} %llu\n", sup.reloads_ok,
	    sup.reloads_failed);
	family(b, "config_generation", "gauge", "The configuration generation "
	    "new sessions get (1 at start, one more per reload).");
	buf_addf(b, "tlsward_config_generation %u\n", rt != NULL ?
	    rt->generation : 0);
	rt_unref(rt);
	family(b, "event_loop_threads", "gauge", "Event-loop threads.");
	buf_addf(b, "tlsward_event_loop_threads %d\n", es.threads);
	family(b, "sessions_in_use", "gauge", "Sessions of all services now, "
	    "hand-offs too.");
	buf_addf(b, "tlsward_sessions_in_use %d\n", es.sessions);
	family(b, "sessions_limit", "gauge", "The session limit in effect.");
	buf_addf(b, "tlsward_sessions_limit %d\n", es.max_sessions);
	family(b, "sessions_over_limit_total", "counter", "Connections "
	    "refused because the session limit was reached.");
	buf_addf(b, "tlsward_sessions_over_limit_total %llu\n",
	    (unsigned long long)es.refused);
	family(b, "pool_threads", "gauge", "Hand-off pool threads, by state.");
	buf_addf(b, "tlsward_pool_threads{state=\"busy\"} %d\n"
	    "tlsward_pool_threads{state=\"idle\"} %d\n"
	    "tlsward_pool_threads{state=\"starting\"} %d\n", ps.busy, ps.idle,
	    ps.starting);
	family(b, "pool_max_threads", "gauge", "tlsproxy_max_threads.");
	buf_addf(b, "tlsward_pool_max_threads %d\n", ps.max);
	family(b, "pool_queued_jobs", "gauge", "Hand-off jobs waiting for a "
	    "thread.");
	buf_addf(b, "tlsward_pool_queued_jobs %d\n", ps.queued);
	family(b, "pool_queue_limit", "gauge", "tlsproxy_queue_limit.");
	buf_addf(b, "tlsward_pool_queue_limit %d\n", ps.queue_limit);
}

void
metrics_render(struct buf *b)
{
	struct svc_stats *v;
	size_t n, i;

	v = read_all(&n);
	render_sessions(b, v, n);
	render_handshakes(b, v, n);
	family(b, "handshake_duration_seconds", "histogram", "Duration of the "
	    "TLS handshakes that passed.");
	for (i = 0; i < n; i++)
		histogram(b, &v[i]);
	family(b, "certificate_expiry_timestamp_seconds", "gauge", "When a "
	    "certificate in use expires (notAfter, Unix time).");
	status_each_cert(cert_sample, b);
	render_ocsp(b, v, n);
	render_csc(b, v, n);
	free(v);
	render_tickets(b);
	render_worker(b);
}
