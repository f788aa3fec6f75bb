/*
 * cmd_status.c - "tlsward status": asks the running tlswardd over its
 * admin socket (tlsproxy_admin_socket) and prints per service the
 * sessions, handshake outcomes, bytes and certificates, and the pool;
 * --json for machines. Also ctl_request(), the admin-socket client that
 * "tlsward reload" shares.
 *
 * Runs in: the CLI, as root or the daemon's user (the socket is 0600 and
 * the daemon checks the peer's uid).
 *
 * The daemon answers with records, one per line: a type word, then
 * NAME=VALUE fields, values %XX-encoded (see tlswardd(8), STATUS).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "util.h"

#define CTL_PROTO	"tlsward-admin 1"
#define CTL_MAX_REPLY	(4u << 20)
#define CTL_TIMEOUT_S	60	/* a reload builds every TLS context */

/* The admin socket: -s, else tlsproxy_admin_socket of the configuration.
 * Caller frees; NULL (reported) when there is none. */
static char *
ctl_socket_path(const struct cli *cli, const char *opt)
{
	struct conf *cf;
	char err[1024], *v, *path = NULL;

	if (opt != NULL)
		return xstrdup(opt);
	if ((cf = cli_conf_load(cli)) == NULL)
		return NULL;
	if (conf_get(cf, "tlsproxy_admin_socket", &v, err, sizeof(err)) < 0)
		cli_fail("%s", err);
	else if (*v == '\0') {
		cli_fail("tlsproxy_admin_socket is empty in %s: the daemon has "
		    "no admin socket (send it SIGHUP to reload)",
		    conf_main_path(cf));
		free(v);
	} else {
		path = conf_path(cf, v);
		free(v);
	}
	conf_free(cf);
	return path;
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un sun;
	struct timeval tv = { CTL_TIMEOUT_S, 0 };
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* "tlsward-admin 1 CMD[ config=DIR]\n": the instance the request is for
 * (see ctl_request). Caller frees. */
static char *
ctl_request_line(const struct cli *cli, const char *sock_opt,
    const char *cmd)
{
	struct buf b;
	char *canon;

	buf_init(&b);
	buf_addf(&b, "%s %s", CTL_PROTO, cmd);
	if (sock_opt == NULL || cli->dir_named) {
		canon = conf_dir_canonical(cli->dir);
		buf_adds(&b, " config=");
		buf_add_pct(&b, canon);
		free(canon);
	}
	buf_adds(&b, "\n");
	return buf_take(&b);
}

int
ctl_request(const struct cli *cli, const char *sock_opt, const char *cmd,
    char **replyp)
{
	char *path, *req, chunk[4096];
	struct buf b;
	ssize_t n;
	int fd;

	*replyp = NULL;
	if ((path = ctl_socket_path(cli, sock_opt)) == NULL)
		return -1;
	if ((fd = ctl_connect(path)) < 0) {
		cli_fail("cannot reach tlswardd at %s: %s%s%s%s", path,
		    strerror(errno), errno == ENOENT || errno == ECONNREFUSED ?
		    " (is a tlswardd running with the configuration in " :
		    errno == EACCES ? " (root or the daemon's user only)" : "",
		    errno == ENOENT || errno == ECONNREFUSED ? cli->dir : "",
		    errno == ENOENT || errno == ECONNREFUSED ? "?)" : "");
		free(path);
		return -1;
	}
	req = ctl_request_line(cli, sock_opt, cmd);
	buf_init(&b);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		n = -1;
	else
		while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0 &&
		    b.len + (size_t)n <= CTL_MAX_REPLY)
			buf_add(&b, chunk, (size_t)n);
	free(req);
	close(fd);
	if (n < 0 || b.len == 0) {
		cli_fail("no answer from tlswardd at %s%s%s", path,
		    n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		free(path);
		buf_fini(&b);
		return -1;
	}
	free(path);
	*replyp = buf_take(&b);
	return 0;
}

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
	for (i = 0; i < rs->n; i++) {
		const struct rec *c = &rs->v[i];
		long long left;

		if (strcmp(c->type, "cert") != 0 ||
		    strcmp(get(c, "service"), name) != 0)
			continue;
		left = strtoll(get(c, "days_left"), NULL, 10);
		printf("  certificate: %s, %s %s bits, expires %s (%lld day%s "
		    "%s)\n", get(c, "subject"), get(c, "algorithm"),
		    get(c, "bits"), get(c, "not_after"),
		    left < 0 ? -left : left, left == 1 || left == -1 ? "" : "s",
		    left < 0 ? "ago: EXPIRED" : "left");
	}
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

/* Numbers as numbers: an optional "-" and digits. */
static void
json_val(const char *v)
{
	const char *p = v + (*v == '-');

	if (*p != '\0' && strspn(p, "0123456789") == strlen(p))
		fputs(v, stdout);
	else
		json_str(v);
}

static void
json_kv(const char *k, const char *v, int *nth)
{
	printf("%s", (*nth)++ ? ", " : "");
	json_str(k);
	printf(": ");
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

static void
json_service(const struct recs *rs, const struct rec *sv)
{
	static const char *const grouped[] = { "hs_", "bytes_", "end_", NULL };
	static const char *const service_field[] = { "service", NULL };
	char key[32];
	size_t i;
	int nth = 0, certs = 0;

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
	printf(", \"bytes\": {\"in\": %llu, \"out\": %llu}, "
	    "\"certificates\": [", num(sv, "bytes_in"), num(sv, "bytes_out"));
	for (i = 0; i < rs->n; i++) {
		const struct rec *c = &rs->v[i];

		if (strcmp(c->type, "cert") != 0 ||
		    strcmp(get(c, "service"), get(sv, "name")) != 0)
			continue;
		printf("%s{", certs++ ? ", " : "");
		nth = 0;
		json_fields(c, service_field, &nth);
		printf("}");
	}
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
cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	int ch, json = 0, quiet = 0, rc;
	struct recs rs;
	char *reply;

	while ((ch = getopt_long(argc, argv, "jqs:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 's':
			sock = optarg;
			break;
		default:
			return cli_usage("status");
		}
	}
	if (optind != argc)
		return cli_usage("status");
	if (ctl_request(cli, sock, "status", &reply) < 0)
		return CLI_EXIT_FAIL;
	if (reply_errors(reply) > 0) {
		free(reply);
		return CLI_EXIT_FAIL;
	}
	recs_parse(reply, &rs);
	rc = first(&rs, "worker") != NULL ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	if (json && !quiet)
		json_print(&rs);
	else if (!quiet)
		text_print(&rs);
	if (rc != CLI_EXIT_OK && !quiet)
		fprintf(stderr, "tlsward: the worker is not serving (the "
		    "daemon restarts it; see its log)\n");
	recs_free(&rs);
	free(reply);
	return rc;
}
