/*
 * stats.c - per-service counters (relaxed atomics) and the handshake
 * failure classification.
 *
 * Runs in: the worker. Session threads add; the control thread creates
 * blocks (under a lock, rare) and reads. Owns the blocks, for the life
 * of the process.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "log.h"
#include "stats.h"

const char *const stats_hs_names[STATS_HS_N] = {
	[STATS_HS_TIMEOUT]	= "timeout",
	[STATS_HS_PROTOCOL]	= "protocol",
	[STATS_HS_CIPHER]	= "cipher",
	[STATS_HS_CERT]		= "certificate",
	[STATS_HS_PEER_CLOSED]	= "peer_closed",
	[STATS_HS_OTHER]	= "other",
};

const char *const stats_end_names[STATS_END_N] = {
	[STATS_END_OTHER]		= "other",
	[STATS_END_CLOSED]		= "closed",
	[STATS_END_HANDSHAKE_TIMEOUT]	= "handshake_timeout",
	[STATS_END_CONNECT_TIMEOUT]	= "connect_timeout",
	[STATS_END_REQUEST_TIMEOUT]	= "request_timeout",
	[STATS_END_IDLE_TIMEOUT]	= "idle_timeout",
	[STATS_END_LIFETIME]		= "lifetime",
	[STATS_END_PEER_CLOSED]		= "peer_closed",
	[STATS_END_TLS_ERROR]		= "tls_error",
	[STATS_END_CONNECT_FAILED]	= "connect_failed",
};

const uint64_t stats_hs_bucket_us[STATS_HS_BUCKETS] = {
	5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
	5000000, 10000000,
};

static int stats_timing;	/* atomic: stats_timing_enable */

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct svc_stats *stats_v[STATS_MAX_SERVICES];
static size_t stats_n;

#define ADD(field, n)	__atomic_add_fetch(&(field), (n), __ATOMIC_RELAXED)
#define SUB(field, n)	__atomic_sub_fetch(&(field), (n), __ATOMIC_RELAXED)
#define GET(field)	__atomic_load_n(&(field), __ATOMIC_RELAXED)

struct svc_stats *
stats_service(const char *name)
{
	struct svc_stats *st = NULL;
	size_t i;

	pthread_mutex_lock(&stats_lock);
	for (i = 0; i < stats_n && st == NULL; i++)
		if (strcmp(stats_v[i]->name, name) == 0)
			st = stats_v[i];
	if (st == NULL && stats_n < STATS_MAX_SERVICES) {
		/* aligned: blocks of busy services do not share a line */
		if ((st = aligned_alloc(64, sizeof(*st))) == NULL)
			log_panic("out of memory");
		memset(st, 0, sizeof(*st));
		snprintf(st->name, sizeof(st->name), "%s", name);
		stats_v[stats_n++] = st;
	}
	pthread_mutex_unlock(&stats_lock);
	return st;
}

void
stats_read(const struct svc_stats *st, struct svc_stats *out)
{
	size_t i;

	memcpy(out->name, st->name, sizeof(out->name));
	out->active = GET(st->active);
	out->sessions = GET(st->sessions);
	out->refused = GET(st->refused);
	out->refused_source = GET(st->refused_source);
	out->hs_ok = GET(st->hs_ok);
	for (i = 0; i < STATS_HS_N; i++)
		out->hs_fail[i] = GET(st->hs_fail[i]);
	for (i = 0; i < STATS_END_N; i++)
		out->ends[i] = GET(st->ends[i]);
	out->bytes_in = GET(st->bytes_in);
	out->bytes_out = GET(st->bytes_out);
	for (i = 0; i <= STATS_HS_BUCKETS; i++)
		out->hs_us[i] = GET(st->hs_us[i]);
	out->hs_us_sum = GET(st->hs_us_sum);
	out->ocsp_sent = GET(st->ocsp_sent);
	out->csc.entries = GET(st->csc.entries);
	out->csc.hits = GET(st->csc.hits);
	out->csc.misses = GET(st->csc.misses);
	out->csc.expired = GET(st->csc.expired);
	out->csc.evicted = GET(st->csc.evicted);
}

void
stats_timing_enable(int on)
{
	__atomic_store_n(&stats_timing, on, __ATOMIC_RELAXED);
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
stats_hs_begin(struct stats_sess *ss)
{
	ss->hs_start_us = GET(stats_timing) ? now_us() : 0;
}

/* A handshake that passed took this long since stats_hs_begin. */
static void
hs_time(struct svc_stats *st, int64_t start_us)
{
	int64_t us = now_us() - start_us;
	size_t k;

	if (us < 0)
		us = 0;
	for (k = 0; k < STATS_HS_BUCKETS; k++)
		if ((uint64_t)us <= stats_hs_bucket_us[k])
			break;
	ADD(st->hs_us[k], 1);
	ADD(st->hs_us_sum, (uint64_t)us);
}

void
stats_refused(struct svc_stats *st)
{
	if (st != NULL)
		ADD(st->refused, 1);
}

void
stats_refused_source(struct svc_stats *st)
{
	if (st != NULL)
		ADD(st->refused_source, 1);
}

void
stats_sess_start(struct stats_sess *ss, struct svc_stats *svc)
{
	ss->svc = svc;
	ss->hs_counted = 0;
	ss->end = STATS_END_OTHER;
	ss->hs_start_us = 0;
	if (svc != NULL) {
		ADD(svc->active, 1);
		ADD(svc->sessions, 1);
	}
}

void
stats_hs_ok(struct stats_sess *ss)
{
	if (ss->svc != NULL && !ss->hs_counted) {
		ADD(ss->svc->hs_ok, 1);
		if (ss->hs_start_us != 0)
			hs_time(ss->svc, ss->hs_start_us);
	}
	ss->hs_counted = 1;
}

void
stats_hs_fail(struct stats_sess *ss, enum stats_hs why)
{
	if (ss->svc != NULL && !ss->hs_counted && why < STATS_HS_N)
		ADD(ss->svc->hs_fail[why], 1);
	ss->hs_counted = 1;
}

/* OpenSSL reasons (ERR_LIB_SSL) that are not plain protocol errors. */
static const struct {
	int		reason;
	enum stats_hs	why;
} hs_reasons[] = {
	{ SSL_R_NO_SHARED_CIPHER, STATS_HS_CIPHER },
	{ SSL_R_NO_CIPHERS_AVAILABLE, STATS_HS_CIPHER },
	{ SSL_R_NO_SHARED_GROUPS, STATS_HS_CIPHER },
	{ SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM, STATS_HS_CIPHER },
	{ SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS, STATS_HS_CIPHER },
	{ SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE, STATS_HS_CIPHER },
	{ SSL_R_TLSV1_ALERT_INSUFFICIENT_SECURITY, STATS_HS_CIPHER },
	{ SSL_R_CERTIFICATE_VERIFY_FAILED, STATS_HS_CERT },
	{ SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE, STATS_HS_CERT },
	{ SSL_R_SSLV3_ALERT_BAD_CERTIFICATE, STATS_HS_CERT },
	{ SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE, STATS_HS_CERT },
	{ SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED, STATS_HS_CERT },
	{ SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED, STATS_HS_CERT },
	{ SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN, STATS_HS_CERT },
	{ SSL_R_TLSV1_ALERT_UNKNOWN_CA, STATS_HS_CERT },
	{ SSL_R_TLSV1_ALERT_ACCESS_DENIED, STATS_HS_CERT },
	{ SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED, STATS_HS_CERT },
	{ SSL_R_UNEXPECTED_EOF_WHILE_READING, STATS_HS_PEER_CLOSED },
};

enum stats_hs
stats_hs_reason(int ssl_error)
{
	unsigned long e = ERR_peek_error();
	size_t i;

	if (ssl_error == SSL_ERROR_ZERO_RETURN)
		return STATS_HS_PEER_CLOSED;
	if (ssl_error == SSL_ERROR_SYSCALL && e == 0)
		return errno == 0 || errno == ECONNRESET || errno == EPIPE ?
		    STATS_HS_PEER_CLOSED : STATS_HS_OTHER;
	if (e == 0 || ERR_GET_LIB(e) != ERR_LIB_SSL)
		return STATS_HS_OTHER;
	for (i = 0; i < sizeof(hs_reasons) / sizeof(hs_reasons[0]); i++)
		if (ERR_GET_REASON(e) == hs_reasons[i].reason)
			return hs_reasons[i].why;
	/* versions, records, messages: the rest of libssl's reasons */
	return STATS_HS_PROTOCOL;
}

void
stats_end_set(struct stats_sess *ss, enum stats_end why)
{
	if (ss->end == STATS_END_OTHER)
		ss->end = why;
}

enum stats_end
stats_end_of_wd(enum wd_kind kind)
{
	switch (kind) {
	case WD_HANDSHAKE:
		return STATS_END_HANDSHAKE_TIMEOUT;
	case WD_CONNECT:
		return STATS_END_CONNECT_TIMEOUT;
	case WD_REQUEST:
	case WD_PROXY:
		return STATS_END_REQUEST_TIMEOUT;
	case WD_LIFETIME:
		return STATS_END_LIFETIME;
	case WD_IDLE:
		return STATS_END_IDLE_TIMEOUT;
	default:
		return STATS_END_OTHER;
	}
}

enum stats_end
stats_sess_end(struct stats_sess *ss, SSL *ssl, uint64_t bytes_in,
    uint64_t bytes_out, int failed, enum stats_end fallback)
{
	enum stats_end end = !failed ? STATS_END_CLOSED :
	    ss->end != STATS_END_OTHER ? ss->end : fallback;

	if (ss->svc == NULL)
		return end;
	if (!ss->hs_counted && ssl != NULL && SSL_is_init_finished(ssl))
		stats_hs_fail(ss, STATS_HS_CERT);
	ADD(ss->svc->ends[end], 1);
	ADD(ss->svc->bytes_in, bytes_in);
	ADD(ss->svc->bytes_out, bytes_out);
	SUB(ss->svc->active, 1);
	return end;
}
