/*
 * metrics.h - the worker's counters in the Prometheus text exposition
 * format (version 0.0.4), for the metrics endpoint (mhttp.h).
 *
 * Families (all prefixed tlsward_; labels service, and where said
 * reason, end, result, le, subject, algorithm): sessions_active,
 * sessions_total, sessions_refused_total{reason=limit|source},
 * sessions_ended_total{end}, handshakes_total{result=ok|failed},
 * handshake_failures_total{reason}, tls_received_bytes_total,
 * tls_sent_bytes_total, handshake_duration_seconds (histogram, of the
 * handshakes that passed), certificate_expiry_timestamp_seconds,
 * ocsp_staple_next_update_timestamp_seconds,
 * ocsp_staple_this_update_timestamp_seconds,
 * ocsp_staple_valid{cert_status}, ocsp_staples_sent_total,
 * client_session_cache_entries and client_session_cache_{hits,misses,
 * expired,evicted}_total (services with a client side); and without a
 * service label ticket_keys{source=file|memory},
 * ticket_key_age_seconds, tickets_{issued,decrypted,refused}_total,
 * worker_restarts_total,
 * reloads_total{result=ok|failed}, config_generation,
 * event_loop_threads, sessions_in_use, sessions_limit,
 * sessions_over_limit_total, pool_threads{state=busy|idle|starting},
 * pool_max_threads, pool_queued_jobs, pool_queue_limit. doc/tlswardd.8
 * describes them.
 *
 * Runs in: the worker's control thread only (it owns the status
 * description it reads, status.h, and the supervisor's counters here).
 */
#ifndef TLSWARD_METRICS_H
#define TLSWARD_METRICS_H

#include <stddef.h>

#include "util.h"

/* The supervisor's IPC_COUNTERS payload ("restarts=N reloads_ok=N
 * reloads_failed=N"); unknown words are ignored. */
void	metrics_sup_counters(const char *text, size_t len);

/* Appends the whole exposition to b. */
void	metrics_render(struct buf *b);

/* Appends value as a label value: backslash, double quote and newline
 * escaped as the format says. */
void	metrics_label_value(struct buf *b, const char *value);

#endif
