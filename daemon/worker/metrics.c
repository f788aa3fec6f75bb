/*
 * metrics.c - the Prometheus exposition of the worker's counters: the
 * per-service counters (stats.h), the certificates in use (status.h),
 * the event loops and the pool, and what the supervisor reports
 * (restarts, reloads).
 *
 * Runs in: the worker's control thread. Owns the supervisor's counters
 * as last received.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evloop.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "runtime.h"
#include "stats.h"
#include "status.h"

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
	free(v);
	family(b, "certificate_expiry_timestamp_seconds", "gauge", "When a "
	    "certificate in use expires (notAfter, Unix time).");
	status_each_cert(cert_sample, b);
	render_worker(b);
}
