/*
 * jsonlog.c - the JSON access log record of a session (jsonlog.h): a
 * bounded JSON writer into a fixed buffer and the record's members.
 *
 * Runs in: the worker (session threads and event loops). No state.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "jsonlog.h"
#include "jsonw.h"
#include "log.h"
#include "relay.h"
#include "runtime.h"
#include "session.h"
#include "services.h"
#include "tlsalpn.h"

/* Bounds of the members' JSON text, quotes and escapes included: the
 * record stays under LOG_DGRAM_MAX (2048) with every one at its bound. */
#define JL_SERVICE_MAX	100
#define JL_NAME_MAX	64	/* role, protocol, cipher, end: ours */
#define JL_ADDR_MAX	160	/* client address (a hand-off's is text) */
#define JL_SNI_MAX	260
#define JL_ALPN_MAX	100
#define JL_SUBJECT_MAX	360
#define JL_FORWARD_MAX	200
#define JL_ERROR_MAX	240
#define JL_LINE_MAX	(LOG_DGRAM_MAX - 8)

/* Appends text as is (keys, numbers, punctuation). */
static void
raw(char *buf, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
raw(char *buf, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= JL_LINE_MAX)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, JL_LINE_MAX - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n < JL_LINE_MAX - *off ? (size_t)n :
		    JL_LINE_MAX - *off - 1;
}

/* ,"key":"value" */
static void
member(char *buf, size_t *off, const char *key, const char *v, size_t max)
{
	raw(buf, off, ",\"%s\":", key);
	jsonw_string(buf, JL_LINE_MAX, off, v, max);
}

/* "2026-12-07T17:00:31.123Z" */
static void
time_text(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char day[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", day, (int)(ts.tv_nsec / 1000000) % 1000);
}

/* client_addr and client_port from "[addr]:port" (else the text, as a
 * hand-off request or the postfix role names its peer, and no port). */
static void
client_members(char *buf, size_t *off, const char *peer)
{
	const char *close = strstr(peer, "]:");
	char addr[CTL_PEER_MAX + 1];
	char *end;
	unsigned long port;

	if (peer[0] == '[' && close != NULL && close[2] != '\0') {
		port = strtoul(close + 2, &end, 10);
		if (*end == '\0' && port <= 65535) {
			snprintf(addr, sizeof(addr), "%.*s",
			    (int)(close - peer - 1), peer + 1);
			member(buf, off, "client_addr", addr, JL_ADDR_MAX);
			raw(buf, off, ",\"client_port\":%lu", port);
			return;
		}
	}
	member(buf, off, "client_addr", peer, JL_ADDR_MAX);
	raw(buf, off, ",\"client_port\":null");
}

/* The peer certificate's subject (RFC 2253) into buf, or NULL. */
static const char *
subject_of(X509 *x, char *buf, size_t len)
{
	BIO *mem;
	char *data;
	long n;

	if (x == NULL || (mem = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	X509_NAME_print_ex(mem, X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
	n = BIO_get_mem_data(mem, &data);
	snprintf(buf, len, "%.*s", n > 0 ? (int)n : 0, n > 0 ? data : "");
	BIO_free(mem);
	return buf;
}

/* sni, alpn, protocol, cipher, client_cert_subject. */
static void
tls_members(char *buf, size_t *off, SSL *ssl)
{
	/* a cipher was agreed; not SSL_is_init_finished, which a TLS 1.3
	 * post-handshake message or the close turns off again */
	int up = ssl != NULL && SSL_get_current_cipher(ssl) != NULL;
	const char *sni = ssl != NULL ?
	    SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : NULL;
	char alpn[256] = "", subj[1024];

	member(buf, off, "sni", sni, JL_SNI_MAX);
	if (up)
		alpn_selected(ssl, alpn, sizeof(alpn));
	member(buf, off, "alpn", up && alpn[0] != '\0' ? alpn : NULL,
	    JL_ALPN_MAX);
	member(buf, off, "protocol", up ? SSL_get_version(ssl) : NULL,
	    JL_NAME_MAX);
	member(buf, off, "cipher", up ? SSL_get_cipher_name(ssl) : NULL,
	    JL_NAME_MAX);
	/* as a server only: a client role's peer is the server */
	member(buf, off, "client_cert_subject", ssl != NULL &&
	    SSL_is_server(ssl) ? subject_of(SSL_get0_peer_certificate(ssl),
	    subj, sizeof(subj)) : NULL, JL_SUBJECT_MAX);
}

void
jsonlog_session(const struct sess *s, const struct relay *r, int failed,
    enum stats_end end)
{
	int64_t ms = wd_now_ms() - s->wd.start_ms;
	const char *fwd = s->svc->fwd_text;
	char line[JL_LINE_MAX], when[64];
	size_t off = 0;

	time_text(when, sizeof(when));
	raw(line, &off, "{\"time\":\"%s\",\"session\":%llu", when,
	    (unsigned long long)s->id);
	member(line, &off, "service", s->svc->name, JL_SERVICE_MAX);
	member(line, &off, "role", svc_role_name(s->svc->role), JL_NAME_MAX);
	client_members(line, &off, s->peer);
	tls_members(line, &off, s->ssl);
	member(line, &off, "forward", fwd != NULL && strcmp(fwd, "-") != 0 ?
	    fwd : NULL, JL_FORWARD_MAX);
	raw(line, &off, ",\"bytes_in\":%llu,\"bytes_out\":%llu,"
	    "\"duration_seconds\":%lld.%03lld", (unsigned long long)r->from_tls,
	    (unsigned long long)r->to_tls, (long long)(ms / 1000),
	    (long long)(ms % 1000));
	member(line, &off, "end", stats_end_names[end], JL_NAME_MAX);
	if (failed)
		member(line, &off, "error", s->why, JL_ERROR_MAX);
	raw(line, &off, "}");
	log_info("%s", line);
}
