/*
 * stats.h - per-service counters for "tlsward status": sessions, the
 * outcome of every TLS handshake, bytes each way.
 *
 * Runs in: the worker. Session threads update the counters with relaxed
 * atomic additions (no lock on the hot path); the control thread reads
 * them on request. Counters are kept by service name, so they survive
 * reloads ("since start" means since the worker started); a block is
 * never freed, so a session may hold its pointer without a reference.
 */
#ifndef TLSWARD_STATS_H
#define TLSWARD_STATS_H

#include <stdint.h>

#include <openssl/ssl.h>

#include "watchdog.h"

/* Why a handshake failed. */
enum stats_hs {
	STATS_HS_TIMEOUT,	/* handshake deadline */
	STATS_HS_PROTOCOL,	/* no common version, not TLS, bad record */
	STATS_HS_CIPHER,	/* no shared cipher, group or signature alg. */
	STATS_HS_CERT,		/* certificate missing, refused, unverified */
	STATS_HS_PEER_CLOSED,	/* the peer closed or reset mid-handshake */
	STATS_HS_OTHER,
	STATS_HS_N
};

/* The names used in status output, indexed by enum stats_hs:
 * "timeout", "protocol", "cipher", "certificate", "peer_closed", "other". */
extern const char *const stats_hs_names[STATS_HS_N];

/* How a session ended: normally, or the first failure that ended it. */
enum stats_end {
	STATS_END_OTHER,		/* a failure not listed below */
	STATS_END_CLOSED,		/* both directions closed: normal */
	STATS_END_HANDSHAKE_TIMEOUT,	/* the handshake deadline */
	STATS_END_CONNECT_TIMEOUT,	/* the forward target did not answer */
	STATS_END_REQUEST_TIMEOUT,	/* a hand-off or Postfix request */
	STATS_END_IDLE_TIMEOUT,		/* the relay's idle limit */
	STATS_END_LIFETIME,		/* tlsproxy_max_session_time */
	STATS_END_PEER_CLOSED,		/* the TLS peer closed or reset the
					 * connection too early */
	STATS_END_TLS_ERROR,		/* a TLS protocol error, or a peer
					 * refused by the policy */
	STATS_END_CONNECT_FAILED,	/* the forward target refused or
					 * unreachable */
	STATS_END_N
};

/* The names used in status output ("end_" NAME), indexed by enum
 * stats_end: "other", "closed", "handshake_timeout", "connect_timeout",
 * "request_timeout", "idle_timeout", "lifetime", "peer_closed",
 * "tls_error", "connect_failed". */
extern const char *const stats_end_names[STATS_END_N];

/* The ending a watchdog deadline means. */
enum stats_end stats_end_of_wd(enum wd_kind kind);

/* The handshake duration histogram (tlsward_handshake_duration_seconds
 * of the metrics): upper bounds of its buckets in microseconds, 5 ms to
 * 10 s; a last bucket, +Inf, counts the rest. Recorded only while
 * stats_timing_enable has been called (a metrics endpoint exists): no
 * clock read per handshake otherwise. */
#define STATS_HS_BUCKETS	11
extern const uint64_t stats_hs_bucket_us[STATS_HS_BUCKETS];

/* Turns the handshake timing on or off (the control thread, when a
 * configuration with or without a metrics endpoint is applied). */
void	stats_timing_enable(int on);

/* One service's counters (updated atomically; read with stats_read). */
struct svc_stats {
	char		name[72];
	uint64_t	active;		/* sessions now */
	uint64_t	sessions;	/* sessions since start */
	uint64_t	refused;	/* connections refused: pool full */
	uint64_t	refused_source;	/* ... over a per-source limit */
	uint64_t	hs_ok;		/* handshakes that passed the level */
	uint64_t	hs_fail[STATS_HS_N];
	uint64_t	ends[STATS_END_N];	/* sessions ended, by how */
	uint64_t	bytes_in;	/* plaintext received over TLS */
	uint64_t	bytes_out;	/* plaintext sent over TLS */
	uint64_t	hs_us[STATS_HS_BUCKETS + 1];	/* handshakes that
					 * passed, by duration bucket (not
					 * cumulative; the last is +Inf) */
	uint64_t	hs_us_sum;	/* their durations, microseconds */
	uint64_t	ocsp_sent;	/* OCSP responses stapled (ocsp.h) */
	struct {			/* the client session cache (csc.h) */
		uint64_t entries;	/* sessions held now */
		uint64_t hits;		/* handshakes that resumed one */
		uint64_t misses;	/* full handshakes, cache on */
		uint64_t expired;	/* dropped at their lifetime */
		uint64_t evicted;	/* replaced by another key's */
	} csc;
} __attribute__((aligned(64)));

/* The block of service name, created on first use (control thread;
 * takes a lock). NULL only past STATS_MAX_SERVICES names. */
#define STATS_MAX_SERVICES	1024
struct svc_stats *stats_service(const char *name);

/* A consistent-enough copy for reporting. */
void	stats_read(const struct svc_stats *st, struct svc_stats *out);

/* A connection refused before it became a session: all sessions in use
 * (stats_refused), or a per-source limit (stats_refused_source). */
void	stats_refused(struct svc_stats *st);
void	stats_refused_source(struct svc_stats *st);

/* What one session has counted; lives in the session. */
struct stats_sess {
	struct svc_stats	*svc;	/* NULL: count nothing */
	int			 hs_counted;
	enum stats_end		 end;	/* the first failure recorded */
	int64_t			 hs_start_us;	/* stats_hs_begin, or 0 */
};

void	stats_sess_start(struct stats_sess *ss, struct svc_stats *svc);
/* The TLS handshake starts now (its duration is measured while timing
 * is on). */
void	stats_hs_begin(struct stats_sess *ss);
void	stats_hs_ok(struct stats_sess *ss);
void	stats_hs_fail(struct stats_sess *ss, enum stats_hs why);

/* Records why the session is failing; the first reason recorded is the
 * one counted (what follows is a consequence). */
void	stats_end_set(struct stats_sess *ss, enum stats_end why);

/* The reason for a failed SSL_do_handshake, from SSL_get_error's result,
 * the OpenSSL error queue (peeked, not consumed) and errno. */
enum stats_hs stats_hs_reason(int ssl_error);

/* Ends the session: a handshake that completed but was never counted
 * was refused by the security level (a certificate reason); adds bytes,
 * counts the ending (STATS_END_CLOSED unless failed: then the reason
 * recorded, else fallback), drops the active count. Returns the
 * ending. */
enum stats_end stats_sess_end(struct stats_sess *ss, SSL *ssl,
	    uint64_t bytes_in, uint64_t bytes_out, int failed,
	    enum stats_end fallback);

#endif
