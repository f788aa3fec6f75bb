/*
 * services.c - parsing services.cf into struct services.
 *
 * Runs in: the privileged supervisor and the CLI. Owns the struct
 * services it fills (services_fini frees it). Nothing here touches the
 * network: host names are resolved by the daemon's loader.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "services.h"
#include "util.h"

#define SERVICES_MAX_FILE	(256 * 1024)

static const char *const role_names[] = {
	[SVC_SERVER] = "server",
	[SVC_CLIENT] = "client",
	[SVC_CONTROL] = "control",
	[SVC_POSTFIX] = "postfix",
};

const char *
svc_role_name(enum svc_role role)
{
	return role_names[role];
}

static int
name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SERVICES_NAME_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("_.-", *s) == NULL)
			return 0;
	return 1;
}

static void
addr_fini(struct svc_addr *a)
{
	free(a->host);
	free(a->port);
	free(a->path);
	free(a->text);
	memset(a, 0, sizeof(*a));
}

/* "host:port" or "[v6]:port" into a->host/a->port. */
static int
addr_parse_inet(const char *s, struct svc_addr *a, char *err, size_t errlen)
{
	const char *colon, *host = s;
	size_t hlen;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return errf(err, errlen, "bad address \"%s\" (want "
			    "[IPv6]:port)", s);
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL || strchr(s, ':') != colon)
			return errf(err, errlen, "bad address \"%s\" (want "
			    "host:port, [IPv6]:port or unix:path)", s);
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || colon[1] == '\0')
		return errf(err, errlen, "bad address \"%s\": empty host or "
		    "port", s);
	a->kind = SVC_ADDR_INET;
	a->host = xstrndup(host, hlen);
	a->port = xstrdup(colon + 1);
	return 0;
}

/* One listen or forward column. */
static int
addr_parse(const char *s, const char *dir, int is_listen, struct svc_addr *a,
    char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (strcmp(s, "-") == 0) {
		a->kind = SVC_ADDR_NONE;	/* listen: a profile */
	} else if (strcmp(s, "systemd") == 0) {
		if (!is_listen)
			return errf(err, errlen, "\"systemd\" is a listen "
			    "address, not a forward target");
		a->kind = SVC_ADDR_SYSTEMD;
	} else if (strncmp(s, "unix:", 5) == 0) {
		if (s[5] == '\0')
			return errf(err, errlen, "empty path in \"%s\"", s);
		a->kind = SVC_ADDR_UNIX;
		a->path = s[5] == '/' ? xstrdup(s + 5) :
		    xasprintf("%s/%s", dir, s + 5);
	} else if (addr_parse_inet(s, a, err, errlen) < 0)
		return -1;
	a->text = xstrdup(s);
	return 0;
}

int
svc_listen_addr_parse(const char *s, const char *dir, struct svc_addr *a,
    char *err, size_t errlen)
{
	if (addr_parse(s, dir, 1, a, err, errlen) < 0)
		return -1;
	if (a->kind == SVC_ADDR_INET || a->kind == SVC_ADDR_UNIX)
		return 0;
	addr_fini(a);
	return errf(err, errlen, "bad address \"%s\" (want host:port, "
	    "[IPv6]:port or unix:path)", s);
}

void
svc_addr_fini(struct svc_addr *a)
{
	addr_fini(a);
}

/* A deep copy of a, with text as its text. */
static void
addr_copy(struct svc_addr *to, const struct svc_addr *a, const char *text)
{
	memset(to, 0, sizeof(*to));
	to->kind = a->kind;
	to->host = a->host != NULL ? xstrdup(a->host) : NULL;
	to->port = a->port != NULL ? xstrdup(a->port) : NULL;
	to->path = a->path != NULL ? xstrdup(a->path) : NULL;
	to->text = xstrdup(text);
}

/* One target of a forward list into svc->fwds. */
static int
forward_add(const char *item, const char *dir, struct service *svc,
    char *err, size_t errlen)
{
	if (svc->nfwds == SVC_FORWARD_MAX)
		return errf(err, errlen, "at most %d forward targets",
		    SVC_FORWARD_MAX);
	svc->fwds = xreallocarray(svc->fwds, svc->nfwds + 1,
	    sizeof(*svc->fwds));
	memset(&svc->fwds[svc->nfwds], 0, sizeof(*svc->fwds));
	return addr_parse(item, dir, 0, &svc->fwds[svc->nfwds++], err, errlen);
}

/* The forward column: "-", one target, or a comma-separated list of
 * targets. The first target also fills svc->forward, with the whole
 * column as its text. */
static int
forward_parse(const char *s, const char *dir, struct service *svc,
    char *err, size_t errlen)
{
	char *copy, *item, *save = NULL;
	int rc = 0;

	if (strchr(s, ',') == NULL) {
		if (addr_parse(s, dir, 0, &svc->forward, err, errlen) < 0)
			return -1;
		if (svc->forward.kind != SVC_ADDR_NONE)
			return forward_add(s, dir, svc, err, errlen);
		return 0;
	}
	if (s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,") != NULL)
		return errf(err, errlen, "bad forward list \"%s\": an empty "
		    "target", s);
	copy = xstrdup(s);
	for (item = strtok_r(copy, ",", &save); item != NULL && rc == 0;
	    item = strtok_r(NULL, ",", &save)) {
		if (strcmp(item, "-") == 0)
			rc = errf(err, errlen, "bad forward list \"%s\": "
			    "\"-\" stands alone", s);
		else
			rc = forward_add(item, dir, svc, err, errlen);
	}
	free(copy);
	if (rc == 0)
		addr_copy(&svc->forward, &svc->fwds[0], s);
	return rc;
}

static int
role_parse(const char *s, enum svc_role *rolep)
{
	size_t i;

	for (i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
		if (strcmp(s, role_names[i]) == 0) {
			*rolep = (enum svc_role)i;
			return 0;
		}
	}
	return -1;
}

/* "-o name=value" pairs from the option words. */
static int
opts_parse(char **words, size_t n, struct service *svc, char *err,
    size_t errlen)
{
	size_t i;
	char *eq;

	for (i = 0; i < n; i++) {
		if (strcmp(words[i], "-o") != 0 || i + 1 == n)
			return errf(err, errlen, "bad option \"%s\" (want "
			    "-o name=value)", words[i]);
		i++;
		if ((eq = strchr(words[i], '=')) == NULL || eq == words[i])
			return errf(err, errlen, "bad option \"-o %s\" (want "
			    "-o name=value)", words[i]);
		svc->opts = xreallocarray(svc->opts, svc->nopts + 1,
		    sizeof(*svc->opts));
		svc->opts[svc->nopts].name = xstrndup(words[i],
		    (size_t)(eq - words[i]));
		svc->opts[svc->nopts].value = xstrdup(eq + 1);
		svc->nopts++;
	}
	return 0;
}

static void
service_fini(struct service *svc)
{
	size_t i;

	free(svc->name);
	addr_fini(&svc->listen);
	addr_fini(&svc->forward);
	for (i = 0; i < svc->nfwds; i++)
		addr_fini(&svc->fwds[i]);
	free(svc->fwds);
	for (i = 0; i < svc->nopts; i++) {
		free(svc->opts[i].name);
		free(svc->opts[i].value);
	}
	free(svc->opts);
	memset(svc, 0, sizeof(*svc));
}

/* A postfix service: Postfix's programs connect to a UNIX socket and
 * pass the remote client's socket; nothing is forwarded. */
static int
service_check_postfix(const struct service *svc, char *err, size_t errlen)
{
	if (svc->listen.kind != SVC_ADDR_UNIX && svc->listen.kind !=
	    SVC_ADDR_SYSTEMD)
		return errf(err, errlen, "a postfix service listens on a UNIX "
		    "socket (unix:$queue_directory/private/tlsproxy)");
	if (svc->forward.kind != SVC_ADDR_NONE)
		return errf(err, errlen, "a postfix service forwards nowhere: "
		    "use \"-\" as its forward target");
	return 0;
}

/* Checks the columns' combination. */
static int
service_check(const struct service *svc, char *err, size_t errlen)
{
	if (svc->role == SVC_POSTFIX)
		return service_check_postfix(svc, err, errlen);
	if (svc->listen.kind == SVC_ADDR_NONE) {
		/* A profile: parameters for hand-off requests only. */
		if (svc->role == SVC_CONTROL)
			return errf(err, errlen, "a control service needs a "
			    "listen address (\"-\" is for hand-off profiles, "
			    "role server or client)");
		if (svc->forward.kind != SVC_ADDR_NONE)
			return errf(err, errlen, "a hand-off profile (listen "
			    "\"-\") forwards nowhere: use \"-\" as its "
			    "forward target");
		return 0;
	}
	if (svc->role == SVC_CONTROL && svc->forward.kind != SVC_ADDR_NONE)
		return errf(err, errlen, "a control service forwards nowhere: "
		    "use \"-\" as its forward target");
	if (svc->role != SVC_CONTROL && svc->forward.kind == SVC_ADDR_NONE)
		return errf(err, errlen, "a %s service needs a forward target",
		    svc_role_name(svc->role));
	return 0;
}

/* Splits a logical line into words; returns the count (words point into
 * line, which is modified). */
static size_t
split_words(char *line, char **words, size_t max)
{
	size_t n = 0;
	char *save = NULL, *w;

	for (w = strtok_r(line, " \t\r\n", &save); w != NULL && n < max;
	    w = strtok_r(NULL, " \t\r\n", &save))
		words[n++] = w;
	return w == NULL ? n : max + 1;
}

/* One logical line (continuations joined) into a new service. */
static int
service_parse(char *line, const char *dir, struct service *svc, char *err,
    size_t errlen)
{
	char *words[64];
	size_t n = split_words(line, words, 64);

	if (n > 64)
		return errf(err, errlen, "too many words");
	if (n < 4)
		return errf(err, errlen, "want: name listen role forward "
		    "[-o name=value ...]");
	if (!name_valid(words[0]))
		return errf(err, errlen, "bad service name \"%s\" (letters, "
		    "digits, \"_.-\", at most %d)", words[0], SERVICES_NAME_MAX);
	svc->name = xstrdup(words[0]);
	if (role_parse(words[2], &svc->role) < 0)
		return errf(err, errlen, "unknown role \"%s\" (want server, "
		    "client or control)", words[2]);
	if (addr_parse(words[1], dir, 1, &svc->listen, err, errlen) < 0 ||
	    forward_parse(words[3], dir, svc, err, errlen) < 0 ||
	    opts_parse(words + 4, n - 4, svc, err, errlen) < 0)
		return -1;
	return service_check(svc, err, errlen);
}

/* Adds svc unless its name is taken. */
static int
services_add(struct services *svcs, struct service *svc, char *err,
    size_t errlen)
{
	size_t i;

	/* every name was set by service_parse (the analyser cannot see it) */
	for (i = 0; i < svcs->n; i++)
		if (strcmp(svcs->v[i].name, svc->name) == 0) /* NOLINT */
			return errf(err, errlen, "duplicate service name \"%s\" "
			    "(first at line %d)", svc->name, svcs->v[i].line);
	if (svcs->n == SERVICES_MAX)
		return errf(err, errlen, "too many services (at most %d)",
		    SERVICES_MAX);
	svcs->v = xreallocarray(svcs->v, svcs->n + 1, sizeof(*svcs->v));
	svcs->v[svcs->n++] = *svc;
	return 0;
}

/* Parses the pending logical line in b, if any. */
static int
flush_entry(struct services *svcs, struct buf *b, int line, const char *dir,
    const char *label, char *err, size_t errlen)
{
	struct service svc = { 0 };
	char why[512];

	if (b->len == 0)
		return 0;
	svc.line = line;
	if (service_parse(b->data, dir, &svc, why, sizeof(why)) < 0 ||
	    services_add(svcs, &svc, why, sizeof(why)) < 0) {
		service_fini(&svc);
		buf_fini(b);
		return errf(err, errlen, "%s:%d: %s", label, line, why);
	}
	buf_fini(b);
	return 0;
}

int
services_parse(const char *text, const char *label, const char *dir,
    struct services *svcs, char *err, size_t errlen)
{
	const char *p = text, *nl;
	struct buf b;
	int lineno = 0, start = 0;

	memset(svcs, 0, sizeof(*svcs));
	svcs->path = xstrdup(label);
	buf_init(&b);
	for (; *p != '\0'; p = *nl ? nl + 1 : nl) {
		size_t len;
		const char *q;

		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		len = (size_t)(nl - p);
		lineno++;
		for (q = p; q < nl && isspace((unsigned char)*q); q++)
			;
		if (q == nl || *q == '#')
			continue;
		if (q != p) {	/* continuation */
			if (b.len == 0) {
				services_fini(svcs);
				return errf(err, errlen, "%s:%d: continuation "
				    "line without an entry before it", label,
				    lineno);
			}
			buf_add(&b, " ", 1);
			buf_add(&b, p, len);
			continue;
		}
		if (flush_entry(svcs, &b, start, dir, label, err, errlen) < 0)
			goto fail;
		start = lineno;
		buf_add(&b, p, len);
	}
	if (flush_entry(svcs, &b, start, dir, label, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	services_fini(svcs);
	return -1;
}

int
services_load(const struct conf *cf, struct services *svcs, int *missingp,
    char *err, size_t errlen)
{
	char *path = conf_path(cf, SERVICES_FILE), *text = NULL;
	size_t len;
	int rc;

	*missingp = 0;
	memset(svcs, 0, sizeof(*svcs));
	if (file_read(path, SERVICES_MAX_FILE, &text, &len, err, errlen) < 0) {
		*missingp = errno == ENOENT;
		free(path);
		return -1;
	}
	if (memchr(text, '\0', len) != NULL) {
		rc = errf(err, errlen, "%s: contains a NUL byte", path);
	} else
		rc = services_parse(text, path, conf_dir(cf), svcs, err,
		    errlen);
	free(text);
	free(path);
	return rc;
}

void
services_fini(struct services *svcs)
{
	size_t i;

	for (i = 0; i < svcs->n; i++)
		service_fini(&svcs->v[i]);
	free(svcs->v);
	free(svcs->path);
	memset(svcs, 0, sizeof(*svcs));
}

struct conf *
services_conf(const struct conf *base, const struct service *svc, char *err,
    size_t errlen)
{
	struct conf *cf = conf_dup(base);
	char why[512];
	size_t i;

	for (i = 0; i < svc->nopts; i++) {
		if (conf_override(cf, svc->opts[i].name, svc->opts[i].value,
		    why, sizeof(why)) < 0) {
			conf_free(cf);
			errf(err, errlen, "service %s: -o %s=%s: %s", svc->name,
			    svc->opts[i].name, svc->opts[i].value, why);
			return NULL;
		}
	}
	return cf;
}
