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

/* One service's counters (updated atomically; read with stats_read). */
struct svc_stats {
	char		name[72];
	uint64_t	active;		/* sessions now */
	uint64_t	sessions;	/* sessions since start */
	uint64_t	refused;	/* connections refused: pool full */
	uint64_t	hs_ok;		/* handshakes that passed the level */
	uint64_t	hs_fail[STATS_HS_N];
	uint64_t	bytes_in;	/* plaintext received over TLS */
	uint64_t	bytes_out;	/* plaintext sent over TLS */
} __attribute__((aligned(64)));

/* The block of service name, created on first use (control thread;
 * takes a lock). NULL only past STATS_MAX_SERVICES names. */
#define STATS_MAX_SERVICES	1024
struct svc_stats *stats_service(const char *name);

/* A consistent-enough copy for reporting. */
void	stats_read(const struct svc_stats *st, struct svc_stats *out);

/* A connection refused before it became a session. */
void	stats_refused(struct svc_stats *st);

/* What one session has counted; lives in the session. */
struct stats_sess {
	struct svc_stats	*svc;	/* NULL: count nothing */
	int			 hs_counted;
};

void	stats_sess_start(struct stats_sess *ss, struct svc_stats *svc);
void	stats_hs_ok(struct stats_sess *ss);
void	stats_hs_fail(struct stats_sess *ss, enum stats_hs why);

/* The reason for a failed SSL_do_handshake, from SSL_get_error's result,
 * the OpenSSL error queue (peeked, not consumed) and errno. */
enum stats_hs stats_hs_reason(int ssl_error);

/* Ends the session: a handshake that completed but was never counted
 * was refused by the security level (a certificate reason); adds bytes,
 * drops the active count. */
void	stats_sess_end(struct stats_sess *ss, SSL *ssl, uint64_t bytes_in,
	    uint64_t bytes_out);

#endif
