/*
 * jsonlog.h - the JSON access log: one record per session, at its end,
 * for services with tlsproxy_session_log_format = json (instead of the
 * tlsproxy(8)-style established, failure and DISCONNECT lines).
 *
 * Record: one line, a JSON object (RFC 8259) with the members time
 * (RFC 3339, UTC, milliseconds), session, service, role, client_addr,
 * client_port, sni, alpn, protocol, cipher, client_cert_subject,
 * forward, bytes_in, bytes_out, duration_seconds, end (stats_end_names)
 * and, for a failed session, error. Unknown values are null; numbers are
 * numbers. Every string is escaped (jsonw.h: peers choose the SNI, the
 * ALPN and the certificate subjects) and cut at a per-member bound, so
 * that a record fits one log line (LOG_DGRAM_MAX).
 *
 * Runs in: the worker (session threads and event loops). The line goes
 * the way every worker log line goes: to the supervisor, which writes it
 * to syslog or to standard error.
 */
#ifndef TLSWARD_JSONLOG_H
#define TLSWARD_JSONLOG_H

#include "stats.h"

struct sess;
struct relay;

/* Logs s's record: r's byte counts, ended by end (failed: with s->why). */
void	jsonlog_session(const struct sess *s, const struct relay *r,
	    int failed, enum stats_end end);

#endif
