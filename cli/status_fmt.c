/*
 * status_fmt.c - the daemon's status reply, read and printed: records
 * (one per line: a type word, then NAME=VALUE fields, values %XX-encoded;
 * see tlswardd(8), STATUS) as text for people or JSON for machines.
 *
 * Runs in: the CLI ("tlsward status"). The reply comes from a socket,
 * so any bytes are possible: unknown records and fields are ignored,
 * missing ones print as empty or 0. Fuzzed by t/56-status-fuzz.t.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status_fmt.h"
#include "util.h"

/* One record of the reply. */
struct rec {
	char	*type;
	char	**key;
	char	**val;		/* decoded */
	size_t	 n;
};

struct recs {
	struct rec	*v;
	size_t		 n;
};

static void
recs_parse(char *text, struct recs *rs)
{
	char *line, *lsave = NULL, *w, *wsave = NULL, *eq;
	struct rec *r;

	memset(rs, 0, sizeof(*rs));
	for (line = strtok_r(text, "\n", &lsave); line != NULL;
	    line = strtok_r(NULL, "\n", &lsave)) {
		if ((w = strtok_r(line, " ", &wsave)) == NULL)
			continue;
		rs->v = xreallocarray(rs->v, rs->n + 1, sizeof(*rs->v));
		r = memset(&rs->v[rs->n++], 0, sizeof(*r));
		r->type = w;
		while ((w = strtok_r(NULL, " ", &wsave)) != NULL) {
			if ((eq = strchr(w, '=')) == NULL)
				continue;
			*eq = '\0';
			pct_decode(eq + 1);
			r->key = xreallocarray(r->key, r->n + 1, sizeof(char *));
			r->val = xreallocarray(r->val, r->n + 1, sizeof(char *));
			r->key[r->n] = w;
			r->val[r->n++] = eq + 1;
		}
	}
}

static void
recs_free(struct recs *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		free(rs->v[i].key);
		free(rs->v[i].val);
	}
	free(rs->v);
}

/* The value of key in r, or "" (or "0" for counters: want_num). */
static const char *
get(const struct rec *r, const char *key)
{
	size_t i;

	for (i = 0; r != NULL && i < r->n; i++)
		if (strcmp(r->key[i], key) == 0)
			return r->val[i];
	return "";
}

static const struct rec *
first(const struct recs *rs, const char *type)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].type, type) == 0)
			return &rs->v[i];
	return NULL;
}

static unsigned long long
num(const struct rec *r, const char *key)
{
	return strtoull(get(r, key), NULL, 10);
}

/* ---- text ---- */

static const char *const hs_reasons[] = {
	"timeout", "protocol", "cipher", "certificate", "peer_closed", "other",
};
#define NREASONS	(sizeof(hs_reasons) / sizeof(hs_reasons[0]))

/* Session endings other than "closed", as the worker names them. */
static const char *const end_reasons[] = {
	"handshake_timeout", "connect_timeout", "request_timeout",
	"idle_timeout", "lifetime", "peer_closed", "tls_error",
	"connect_failed", "other",
};
#define NENDS	(sizeof(end_reasons) / sizeof(end_reasons[0]))

/* "end_idle_timeout" as "idle timeout". */
static void
text_words(const char *s)
{
	for (; *s != '\0'; s++)
		putchar(*s == '_' ? ' ' : *s);
}

/* The endings line: normal ones, then each kind of failure. */
static void
text_endings(const struct rec *sv)
{
	char key[40];
	size_t i;

	printf("  endings:     %llu closed; failed:", num(sv, "end_closed"));
	for (i = 0; i < NENDS; i++) {
		snprintf(key, sizeof(key), "end_%s", end_reasons[i]);
		printf("%s", i ? ", " : " ");
		text_words(end_reasons[i]);
		printf(" %llu", num(sv, key));
	}
	putchar('\n');
}

static void
text_duration(unsigned long long s)
{
	if (s >= 86400)
		printf("%llud %lluh %llum", s / 86400, s % 86400 / 3600,
		    s % 3600 / 60);
	else if (s >= 3600)
		printf("%lluh %llum %llus", s / 3600, s % 3600 / 60, s % 60);
	else if (s >= 60)
		printf("%llum %llus", s / 60, s % 60);
	else
		printf("%llus", s);
}

/* "expires in 1h 2m" or "EXPIRED 3m 4s ago: no longer sent". */
static void
text_staple(const struct rec *c)
{
	long long in = strtoll(get(c, "ocsp_expires_in_s"), NULL, 10);
	int expired = strcmp(get(c, "ocsp"), "expired") == 0;

	printf("    OCSP staple: %s, thisUpdate %s, nextUpdate %s (",
	    get(c, "ocsp_status"), get(c, "ocsp_this_update"),
	    get(c, "ocsp_next_update"));
	if (expired) {
		printf("EXPIRED ");
		text_duration(in < 0 ? 0ULL - (unsigned long long)in : 0);
		printf(" ago: no longer sent)\n");
	} else {
		printf("expires in ");
		text_duration(in > 0 ? (unsigned long long)in : 0);
		printf(")\n");
	}
}

/* A service's certificates, each with its OCSP staple if it has one;
 * the number of staples sent if any was kept or sent. */
static void
text_certs(const struct recs *rs, const struct rec *sv)
{
	const char *name = get(sv, "name");
	size_t i, stapled = 0;
	long long left;

	for (i = 0; i < rs->n; i++) {
		const struct rec *c = &rs->v[i];

		if (strcmp(c->type, "cert") != 0 ||
		    strcmp(get(c, "service"), name) != 0)
			continue;
		left = strtoll(get(c, "days_left"), NULL, 10);
		printf("  certificate: %s, %s %s bits, expires %s (%llu day%s "
		    "%s)\n", get(c, "subject"), get(c, "algorithm"),
		    get(c, "bits"), get(c, "not_after"), left < 0 ?
		    0ULL - (unsigned long long)left : (unsigned long long)left,
		    left == 1 || left == -1 ? "" : "s",
		    left < 0 ? "ago: EXPIRED" : "left");
		if (strcmp(get(c, "ocsp"), "stapled") == 0 ||
		    strcmp(get(c, "ocsp"), "expired") == 0) {
			text_staple(c);
			stapled++;
		}
	}
	if (stapled > 0 || num(sv, "ocsp_sent") > 0)
		printf("  OCSP:        %llu staple%s sent\n",
		    num(sv, "ocsp_sent"), num(sv, "ocsp_sent") == 1 ? "" : "s");
}

/* A client side's session cache: off, or its timeout and counters. */
static void
text_csc(const struct rec *sv)
{
	if (*get(sv, "csc_timeout_s") == '\0')
		return;
	if (num(sv, "csc_timeout_s") == 0 && num(sv, "csc_entries") == 0) {
		printf("  session cache: off\n");
		return;
	}
	printf("  session cache: %llu s timeout; %llu entr%s; %llu hit%s, "
	    "%llu miss%s; %llu expired, %llu evicted\n",
	    num(sv, "csc_timeout_s"), num(sv, "csc_entries"),
	    num(sv, "csc_entries") == 1 ? "y" : "ies", num(sv, "csc_hits"),
	    num(sv, "csc_hits") == 1 ? "" : "s", num(sv, "csc_misses"),
	    num(sv, "csc_misses") == 1 ? "" : "es", num(sv, "csc_expired"),
	    num(sv, "csc_evicted"));
}

/* A service's forward targets: up, or down and when it is tried again;
 * how many addresses each has. */
static void
text_forward(const struct recs *rs, const char *name)
{
	const struct rec *c;
	size_t i;

	for (i = 0; i < rs->n; i++) {
		c = &rs->v[i];
		if (strcmp(c->type, "forward") != 0 ||
		    strcmp(get(c, "service"), name) != 0)
			continue;
		printf("  forward:     %s %s", get(c, "target"),
		    get(c, "state"));
		if (strcmp(get(c, "state"), "down") == 0)
			printf(" (tried again in %llu s)", num(c, "retry_in_s"));
		printf(", %llu address%s\n", num(c, "addresses"),
		    num(c, "addresses") == 1 ? "" : "es");
	}
}

static void
text_service(const struct recs *rs, const struct rec *sv)
{
	unsigned long long failed = 0;
	const char *name = get(sv, "name");
	char key[32];
	size_t i;

	for (i = 0; i < NREASONS; i++) {
		snprintf(key, sizeof(key), "hs_%s", hs_reasons[i]);
		failed += num(sv, key);
	}
	printf("\nservice %s (%s, listen %s)\n", name, get(sv, "role"),
	    get(sv, "listen"));
	printf("  sessions:    %llu active, %llu since start, %llu refused, "
	    "%llu over per-source limits\n", num(sv, "active"),
	    num(sv, "sessions"), num(sv, "refused"),
	    num(sv, "refused_source"));
	printf("  handshakes:  %llu ok, %llu failed (", num(sv, "hs_ok"),
	    failed);
	for (i = 0; i < NREASONS; i++) {
		snprintf(key, sizeof(key), "hs_%s", hs_reasons[i]);
		printf("%s%s %llu", i ? ", " : "", strcmp(hs_reasons[i],
		    "peer_closed") == 0 ? "peer closed" : hs_reasons[i],
		    num(sv, key));
	}
	printf(")\n");
	text_endings(sv);
	printf("  bytes:       %llu in, %llu out\n", num(sv, "bytes_in"),
	    num(sv, "bytes_out"));
	text_csc(sv);
	text_certs(rs, sv);
	text_forward(rs, name);
}

/* The worker's session ticket keys: how many, from where, the newest
 * (its short name, age, place in the file), the tickets counted. */
static void
text_tickets(const struct rec *t)
{
	int file;

	if (t == NULL)
		return;
	file = strcmp(get(t, "source"), "file") == 0;
	printf("session tickets: %llu key%s %s", num(t, "keys"),
	    num(t, "keys") == 1 ? "" : "s", file ? "from " : "made in memory");
	if (file)
		printf("%s", get(t, "path"));
	if (num(t, "keys") > 0) {
		printf(" (newest: ");
		if (file)
			printf("key %s of %s, ", get(t, "key_position"),
			    get(t, "keys"));
		printf("name %s, %s ", get(t, "key_name"), file ? "loaded" :
		    "made");
		text_duration(num(t, "key_age_s"));
		printf(" ago%s)", num(t, "key_due") ? ", replaced at the next "
		    "ticket" : "");
	}
	printf("; %llu issued, %llu decrypted, %llu refused\n",
	    num(t, "issued"), num(t, "decrypted"), num(t, "refused"));
}

static void
text_print(const struct recs *rs)
{
	const struct rec *d = first(rs, "daemon"), *w = first(rs, "worker");
	const struct rec *p = first(rs, "pool"), *e = first(rs, "events");
	size_t i;

	printf("tlswardd %s: pid %s, up ", get(d, "version"), get(d, "pid"));
	text_duration(num(d, "uptime_s"));
	printf(", configuration %s\n", get(d, "config"));
	if (w != NULL)
		printf("worker: pid %s, generation %s, %s restart%s; %s "
		    "reload%s (last: %s)\n", get(w, "pid"),
		    get(w, "generation"), get(d, "worker_restarts"),
		    num(d, "worker_restarts") == 1 ? "" : "s", get(d, "reloads"),
		    num(d, "reloads") == 1 ? "" : "s", get(d, "last_reload"));
	else
		printf("worker: not running (%s restart%s so far)\n",
		    get(d, "worker_restarts"),
		    num(d, "worker_restarts") == 1 ? "" : "s");
	if (*get(d, "watched_files") != '\0')
		printf("files: %s watched for changes\n",
		    get(d, "watched_files"));
	if (e != NULL)
		printf("events: %s loop%s, %s session%s (limit %s); %s "
		    "refused\n", get(e, "threads"),
		    num(e, "threads") == 1 ? "" : "s", get(e, "sessions"),
		    num(e, "sessions") == 1 ? "" : "s", get(e, "max_sessions"),
		    get(e, "refused"));
	if (p != NULL)
		printf("hand-off pool: %s busy, %s idle, %s max threads; %s queued "
		    "(limit %s)\n", get(p, "busy"), get(p, "idle"),
		    get(p, "max"), get(p, "queued"), get(p, "queue_limit"));
	text_tickets(first(rs, "tickets"));
	for (i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].type, "service") == 0)
			text_service(rs, &rs->v[i]);
}

/* ---- JSON ---- */

static void
json_str(const char *s)
{
	const unsigned char *p;

	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* Numbers as numbers: an optional "-" and digits, without a leading
 * zero (JSON has none). */
static void
json_val(const char *v)
{
	const char *p = v + (*v == '-');

	if (*p != '\0' && strspn(p, "0123456789") == strlen(p) &&
	    (*p != '0' || p[1] == '\0'))
		fputs(v, stdout);
	else
		json_str(v);
}

/* Fields that are text even when they look like a number: a key name
 * in hex may be all digits. */
static int
json_is_text(const char *k)
{
	static const char *const text[] = { "key_name", "name", "subject",
	    "path", NULL };
	size_t i;

	for (i = 0; text[i] != NULL; i++)
		if (strcmp(k, text[i]) == 0)
			return 1;
	return 0;
}

static void
json_kv(const char *k, const char *v, int *nth)
{
	printf("%s", (*nth)++ ? ", " : "");
	json_str(k);
	printf(": ");
	if (json_is_text(k))
		json_str(v);
	else
		json_val(v);
}

/* Does key start with one of the prefixes of skip (NULL-terminated, or
 * NULL)? */
static int
json_skip(const char *key, const char *const *skip)
{
	for (; skip != NULL && *skip != NULL; skip++)
		if (strncmp(key, *skip, strlen(*skip)) == 0)
			return 1;
	return 0;
}

/* Every field of r except those skipped. */
static void
json_fields(const struct rec *r, const char *const *skip, int *nth)
{
	size_t i;

	for (i = 0; r != NULL && i < r->n; i++)
		if (!json_skip(r->key[i], skip))
			json_kv(r->key[i], r->val[i], nth);
}

static void
json_object(const char *name, const struct rec *r)
{
	int nth = 0;

	printf("  \"%s\": {", name);
	json_fields(r, NULL, &nth);
	printf("},\n");
}

/* "endings": {"closed": N, "failed": {"handshake_timeout": N, ...}} */
static void
json_endings(const struct rec *sv)
{
	char key[40];
	size_t i;
	int nth = 0;

	printf(", \"endings\": {\"closed\": %llu, \"failed\": {",
	    num(sv, "end_closed"));
	for (i = 0; i < NENDS; i++) {
		snprintf(key, sizeof(key), "end_%s", end_reasons[i]);
		json_kv(end_reasons[i], get(sv, key)[0] ? get(sv, key) : "0",
		    &nth);
	}
	printf("}}");
}

/* The records of a type about service sv, as JSON objects separated by
 * commas (without their "service" field). */
static void
json_service_recs(const struct recs *rs, const struct rec *sv,
    const char *type)
{
	static const char *const service_field[] = { "service", NULL };
	size_t i;
	int n = 0, nth;

	for (i = 0; i < rs->n; i++) {
		const struct rec *c = &rs->v[i];

		if (strcmp(c->type, type) != 0 ||
		    strcmp(get(c, "service"), get(sv, "name")) != 0)
			continue;
		printf("%s{", n++ ? ", " : "");
		nth = 0;
		json_fields(c, service_field, &nth);
		printf("}");
	}
}

/* The fields of r that start with prefix, as "NAME": VALUE without it;
 * the field named bare (if not NULL) as "state". */
static void
json_group(const struct rec *r, const char *prefix, const char *bare,
    int *nth)
{
	size_t i, len = strlen(prefix);

	for (i = 0; r != NULL && i < r->n; i++) {
		if (bare != NULL && strcmp(r->key[i], bare) == 0)
			json_kv("state", r->val[i], nth);
		else if (strncmp(r->key[i], prefix, len) == 0 &&
		    r->key[i][len] != '\0')
			json_kv(r->key[i] + len, r->val[i], nth);
	}
}

/* A service's certificates, each with its "ocsp" object. */
static void
json_certs(const struct recs *rs, const struct rec *sv)
{
	static const char *const skip[] = { "service", "ocsp", NULL };
	size_t i;
	int n = 0, nth;

	for (i = 0; i < rs->n; i++) {
		const struct rec *c = &rs->v[i];

		if (strcmp(c->type, "cert") != 0 ||
		    strcmp(get(c, "service"), get(sv, "name")) != 0)
			continue;
		printf("%s{", n++ ? ", " : "");
		nth = 0;
		json_fields(c, skip, &nth);
		printf("%s\"ocsp\": {", nth ? ", " : "");
		nth = 0;
		json_group(c, "ocsp_", "ocsp", &nth);
		printf("}}");
	}
}

/* "ocsp": {"sent": N}, and for a client side "session_cache": {...}. */
static void
json_service_tls(const struct rec *sv)
{
	int nth = 0;

	printf(", \"ocsp\": {");
	json_group(sv, "ocsp_", NULL, &nth);
	printf("}");
	if (*get(sv, "csc_timeout_s") == '\0')
		return;
	printf(", \"session_cache\": {");
	nth = 0;
	json_group(sv, "csc_", NULL, &nth);
	printf("}");
}

static void
json_service(const struct recs *rs, const struct rec *sv)
{
	static const char *const grouped[] = { "hs_", "bytes_", "end_",
	    "ocsp_", "csc_", NULL };
	char key[32];
	size_t i;
	int nth = 0;

	printf("    {");
	json_fields(sv, grouped, &nth);
	printf(", \"handshakes\": {\"ok\": %llu, \"failed\": {",
	    num(sv, "hs_ok"));
	for (i = 0, nth = 0; i < NREASONS; i++) {
		snprintf(key, sizeof(key), "hs_%s", hs_reasons[i]);
		json_kv(hs_reasons[i], get(sv, key)[0] ? get(sv, key) : "0",
		    &nth);
	}
	printf("}}");
	json_endings(sv);
	printf(", \"bytes\": {\"in\": %llu, \"out\": %llu}",
	    num(sv, "bytes_in"), num(sv, "bytes_out"));
	json_service_tls(sv);
	printf(", \"certificates\": [");
	json_certs(rs, sv);
	printf("], \"forward\": [");
	json_service_recs(rs, sv, "forward");
	printf("]}");
}

static void
json_print(const struct recs *rs)
{
	size_t i;
	int n = 0;

	printf("{\n");
	json_object("daemon", first(rs, "daemon"));
	if (first(rs, "worker") != NULL)
		json_object("worker", first(rs, "worker"));
	if (first(rs, "events") != NULL)
		json_object("events", first(rs, "events"));
	if (first(rs, "pool") != NULL)
		json_object("pool", first(rs, "pool"));
	if (first(rs, "tickets") != NULL)
		json_object("tickets", first(rs, "tickets"));
	printf("  \"services\": [");
	for (i = 0; i < rs->n; i++) {
		if (strcmp(rs->v[i].type, "service") != 0)
			continue;
		printf("%s\n", n++ ? "," : "");
		json_service(rs, &rs->v[i]);
	}
	printf("%s]\n}\n", n ? "\n  " : "");
}

/* An "error TEXT" answer: printed, 1. */
static int
reply_errors(const char *reply)
{
	const char *p = reply, *nl;
	int n = 0;

	while (strncmp(p, "error ", 6) == 0) {
		nl = strchr(p, '\n');
		fprintf(stderr, "tlsward: error: %.*s\n",
		    (int)(nl != NULL ? nl - p - 6 : (long)strlen(p + 6)), p + 6);
		n++;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return n;
}

int
status_print(char *reply, enum status_form form)
{
	struct recs rs;
	int rc;

	if (reply_errors(reply) > 0)
		return -1;
	recs_parse(reply, &rs);
	rc = first(&rs, "worker") != NULL ? 0 : 1;
	if (form == STATUS_JSON)
		json_print(&rs);
	else if (form == STATUS_TEXT)
		text_print(&rs);
	if (rc != 0 && form != STATUS_QUIET)
		fprintf(stderr, "tlsward: the worker is not serving (the "
		    "daemon restarts it; see its log)\n");
	recs_free(&rs);
	return rc;
}
