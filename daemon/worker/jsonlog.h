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
 * numbers. Every string is escaped (peers choose the SNI, the ALPN and
 * the certificate subjects): quote, backslash and control bytes, and
 * bytes that are not UTF-8 become U+FFFD. Strings are cut at a per-member
 * bound, so that a record fits one log line (LOG_DGRAM_MAX).
 *
 * Runs in: the worker (session threads and event loops). The line goes
 * the way every worker log line goes: to the supervisor, which writes it
 * to syslog or to standard error.
 */
#ifndef TLSWARD_JSONLOG_H
#define TLSWARD_JSONLOG_H

#include <stddef.h>

#include "stats.h"

struct sess;
struct relay;

/* Logs s's record: r's byte counts, ended by end (failed: with s->why). */
void	jsonlog_session(const struct sess *s, const struct relay *r,
	    int failed, enum stats_end end);

/* Appends s as a JSON string (quotes included) to buf of size len at
 * *off, escaping as above and writing at most max bytes of it (always a
 * whole escape and the closing quote); NULL appends null. For tests. */
void	jsonlog_string(char *buf, size_t len, size_t *off, const char *s,
	    size_t max);

#endif
