/*
 * conf.c - struct conf: reading main.cf (Postfix syntax), the settings it
 * holds, lookups with built-in and run-time defaults, in-memory overrides
 * and the choice of the configuration directory.
 *
 * Runs in: the CLI and the privileged supervisor (single-threaded use;
 * conf_raw() fills a per-conf cache on first use).
 * Owns: every string of a struct conf (copies of what it was given) and
 * the cache of computed defaults (myhostname, mydomain).
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "conf_int.h"
#include "fileio.h"
#include "util.h"

#ifndef TLSWARD_CONFDIR
#error "TLSWARD_CONFDIR must be defined in config.h (configure)"
#endif

#define CONF_ISSPACE(c)	((c) == ' ' || (c) == '\t' || (c) == '\r' || \
			 (c) == '\v' || (c) == '\f')

static void	conf_set(struct conf *, const char *, const char *, int);

/* ------------------------------------------------------------ lifecycle */

struct conf *
conf_new(const char *dir)
{
	struct conf *cf = xcalloc(1, sizeof(*cf));

	cf->dir = xstrdup(dir);
	cf->main_path = xasprintf("%s/%s", dir, CONF_MAIN_FILE);
	cf->label = xstrdup(cf->main_path);
	cf->cache = xcalloc(1, sizeof(*cf->cache));
	return cf;
}

struct conf *
conf_dup(const struct conf *cf)
{
	struct conf *copy = conf_new(cf->dir);
	size_t i;

	for (i = 0; i < cf->nitems; i++)
		conf_set(copy, cf->items[i]->name, cf->items[i]->value,
		    cf->items[i]->pub.line);
	free(copy->label);
	copy->label = xstrdup(cf->label);
	if (cf->cache->hostname != NULL)
		copy->cache->hostname = xstrdup(cf->cache->hostname);
	return copy;
}

void
conf_free(struct conf *cf)
{
	size_t i;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->nitems; i++) {
		free(cf->items[i]->name);
		free(cf->items[i]->value);
		free(cf->items[i]);
	}
	free(cf->items);
	free(cf->index);
	free(cf->cache->hostname);
	free(cf->cache->domain);
	free(cf->cache->admin_socket);
	free(cf->cache->pid_file);
	free(cf->cache);
	free(cf->label);
	free(cf->main_path);
	free(cf->dir);
	free(cf);
}

const char *
conf_dir(const struct conf *cf)
{
	return cf->dir;
}

const char *
conf_main_path(const struct conf *cf)
{
	return cf->main_path;
}

char *
conf_path(const struct conf *cf, const char *name)
{
	if (name[0] == '/')
		return xstrdup(name);
	return xasprintf("%s/%s", cf->dir, name);
}

const char *
conf_default_dir(const char *dir_opt)
{
	const char *env;

	if (dir_opt != NULL)
		return dir_opt;
	env = getenv("TLSWARD_CONFIG_DIR");
	if (env != NULL && env[0] != '\0')
		return env;
	return TLSWARD_CONFDIR;
}

int
conf_name_valid(const char *name)
{
	const char *p;

	if (name == NULL || name[0] == '\0')
		return 0;
	for (p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

/* ---------------------------------------------------- the name index */

/* FNV-1a. */
static size_t
conf_hash(const char *s)
{
	size_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void
conf_index_put(struct conf *cf, size_t item)
{
	size_t mask = cf->nindex - 1;
	size_t slot = conf_hash(cf->items[item]->name) & mask;

	while (cf->index[slot] != 0)
		slot = (slot + 1) & mask;
	cf->index[slot] = item + 1;
}

/* Makes room for one more item, keeping the index at most half full. */
static void
conf_index_grow(struct conf *cf)
{
	size_t i;

	if (2 * (cf->nitems + 1) <= cf->nindex)
		return;
	free(cf->index);
	cf->nindex = cf->nindex ? 2 * cf->nindex : 64;
	cf->index = xcalloc(cf->nindex, sizeof(*cf->index));
	for (i = 0; i < cf->nitems; i++)
		conf_index_put(cf, i);
}

static struct conf_item *
conf_item_find(const struct conf *cf, const char *name)
{
	size_t mask = cf->nindex - 1, slot;
	struct conf_item *it;

	if (cf->nindex == 0)
		return NULL;
	for (slot = conf_hash(name) & mask; cf->index[slot] != 0;
	    slot = (slot + 1) & mask) {
		it = cf->items[cf->index[slot] - 1];
		if (strcmp(it->name, name) == 0)
			return it;
	}
	return NULL;
}

/* Sets name (valid) to value: a new name goes to the end, a known one
 * keeps its place and gets the new value and line. value may point into
 * cf (a conf_raw() result): it is copied before anything is freed. */
static void
conf_set(struct conf *cf, const char *name, const char *value, int line)
{
	struct conf_item *it = conf_item_find(cf, name);
	char *copy = xstrdup(value);

	free(cf->cache->domain);	/* may derive from what changes */
	cf->cache->domain = NULL;
	free(cf->cache->hostname);	/* so may myhostname (mydomain) */
	cf->cache->hostname = NULL;
	if (it == NULL) {
		if (cf->nitems == cf->capitems) {
			cf->capitems = cf->capitems ? 2 * cf->capitems : 32;
			cf->items = xreallocarray(cf->items, cf->capitems,
			    sizeof(*cf->items));
		}
		it = xcalloc(1, sizeof(*it));
		it->name = xstrdup(name);
		it->pub.name = it->name;
		conf_index_grow(cf);
		cf->items[cf->nitems++] = it;
		conf_index_put(cf, cf->nitems - 1);
	}
	free(it->value);
	it->value = copy;
	it->pub.value = it->value;
	it->pub.line = line;
}

/* ------------------------------------------------------ line scanner */

void
conf_scan_init(struct conf_scan *sc, const char *text)
{
	sc->pos = text;
	sc->lineno = 0;
}

static enum conf_line_kind
conf_line_classify(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && CONF_ISSPACE(s[i]))
		i++;
	if (i == len)
		return CONF_LINE_BLANK;
	if (s[i] == '#')
		return CONF_LINE_COMMENT;
	return i > 0 ? CONF_LINE_CONT : CONF_LINE_START;
}

int
conf_scan_next(struct conf_scan *sc, struct conf_line *ln)
{
	const char *nl;

	if (*sc->pos == '\0')
		return 0;
	nl = strchr(sc->pos, '\n');
	ln->text = sc->pos;
	ln->len = nl != NULL ? (size_t)(nl - sc->pos) : strlen(sc->pos);
	ln->eol = nl != NULL;
	ln->lineno = ++sc->lineno;
	ln->kind = conf_line_classify(ln->text, ln->len);
	sc->pos += ln->len + ln->eol;
	return 1;
}

int
conf_line_split(const struct conf_line *ln, const char *label,
    char **namep, char **valuep, char *err, size_t errlen)
{
	char *line = str_trim(xstrndup(ln->text, ln->len)), *eq;

	if ((eq = strchr(line, '=')) == NULL) {
		errf(err, errlen, "%s:%d: missing \"=\" in \"%s\"", label,
		    ln->lineno, line);
		free(line);
		return -1;
	}
	*eq = '\0';
	str_trim(line);
	if (!conf_name_valid(line)) {
		if (line[0] == '\0')
			errf(err, errlen, "%s:%d: empty parameter name",
			    label, ln->lineno);
		else
			errf(err, errlen, "%s:%d: invalid parameter name "
			    "\"%s\"", label, ln->lineno, line);
		free(line);
		return -1;
	}
	if (valuep != NULL)
		*valuep = str_trim(xstrdup(eq + 1));
	*namep = line;
	return 0;
}

int
conf_line_orphan(const struct conf_line *ln, const char *label,
    char *err, size_t errlen)
{
	return errf(err, errlen, "%s:%d: continuation line without a "
	    "parameter before it", label, ln->lineno);
}

/* ----------------------------------------------------------- parsing */

/* A logical line being assembled. */
struct conf_pending {
	char		*name;		/* NULL before the first logical line */
	struct buf	 value;
	int		 line;
};

/* Moves a finished logical line into cf. */
static void
conf_pending_flush(struct conf *cf, struct conf_pending *pd)
{
	if (pd->name == NULL)
		return;
	conf_set(cf, pd->name, pd->value.data ? pd->value.data : "",
	    pd->line);
	free(pd->name);
	pd->name = NULL;
	buf_fini(&pd->value);
}

static void
conf_pending_join(struct conf_pending *pd, const struct conf_line *ln)
{
	char *more = str_trim(xstrndup(ln->text, ln->len));

	if (pd->value.len > 0)
		buf_adds(&pd->value, " ");
	buf_adds(&pd->value, more);
	free(more);
}

/* Parses text into into (a scratch conf), all or nothing for the caller. */
static int
conf_parse(struct conf *into, const char *label, const char *text,
    char *err, size_t errlen)
{
	struct conf_pending pd = { NULL, { NULL, 0, 0 }, 0 };
	struct conf_scan sc;
	struct conf_line ln;
	char *value;

	conf_scan_init(&sc, text);
	while (conf_scan_next(&sc, &ln)) {
		if (ln.kind == CONF_LINE_CONT && pd.name == NULL)
			return conf_line_orphan(&ln, label, err, errlen);
		if (ln.kind == CONF_LINE_CONT)
			conf_pending_join(&pd, &ln);
		if (ln.kind != CONF_LINE_START)
			continue;
		conf_pending_flush(into, &pd);
		if (conf_line_split(&ln, label, &pd.name, &value, err,
		    errlen) < 0)
			return -1;
		buf_adds(&pd.value, value);
		pd.line = ln.lineno;
		free(value);
	}
	conf_pending_flush(into, &pd);
	return 0;
}

int
conf_load_text(struct conf *cf, const char *label, const char *text,
    char *err, size_t errlen)
{
	struct conf *tmp = conf_new(cf->dir);
	size_t i;

	if (conf_parse(tmp, label, text, err, errlen) < 0) {
		conf_free(tmp);
		return -1;
	}
	for (i = 0; i < tmp->nitems; i++)
		conf_set(cf, tmp->items[i]->name, tmp->items[i]->value,
		    tmp->items[i]->pub.line);
	free(cf->label);
	cf->label = xstrdup(label);
	conf_free(tmp);
	return 0;
}

int
conf_nul_check(const char *path, const char *data, size_t len, char *err,
    size_t errlen)
{
	const char *nul = memchr(data, '\0', len), *p;
	int line = 1;

	if (nul == NULL)
		return 0;
	for (p = data; p < nul; p++)
		line += *p == '\n';
	return errf(err, errlen, "%s:%d: NUL byte in file", path, line);
}

int
conf_load(struct conf *cf, char *err, size_t errlen)
{
	struct stat st;
	char *data;
	size_t len;
	int rc;

	if (stat(cf->dir, &st) < 0)
		return errf_errno(err, errlen, "cannot open configuration "
		    "directory %s", cf->dir);
	if (!S_ISDIR(st.st_mode))
		return errf(err, errlen, "cannot open configuration "
		    "directory %s: Not a directory", cf->dir);
	if (stat(cf->main_path, &st) < 0 && errno == ENOENT)
		return 0;		/* no main.cf: all defaults */
	if (file_read(cf->main_path, CONF_MAX_FILE, &data, &len, err,
	    errlen) < 0)
		return -1;
	rc = conf_nul_check(cf->main_path, data, len, err, errlen);
	if (rc == 0)
		rc = conf_load_text(cf, cf->main_path, data, err, errlen);
	free(data);
	return rc;
}

int
conf_override(struct conf *cf, const char *name, const char *value,
    char *err, size_t errlen)
{
	if (!conf_name_valid(name))
		return errf(err, errlen, "invalid parameter name \"%s\"", name);
	conf_set(cf, name, value, 0);
	return 0;
}

/* ----------------------------------------------------------- lookups */

size_t
conf_count(const struct conf *cf)
{
	return cf->nitems;
}

const struct conf_entry *
conf_entry_at(const struct conf *cf, size_t i)
{
	return i < cf->nitems ? &cf->items[i]->pub : NULL;
}

const struct conf_entry *
conf_lookup(const struct conf *cf, const char *name)
{
	struct conf_item *it = conf_item_find(cf, name);

	return it != NULL ? &it->pub : NULL;
}

const char *
conf_raw(const struct conf *cf, const char *name)
{
	const struct conf_entry *e = conf_lookup(cf, name);
	const struct conf_param *p;

	if (e != NULL)
		return e->value;
	if ((p = conf_param_find(name)) == NULL)
		return NULL;
	if (p->defval == conf_def_runtime)
		return conf_runtime_default(cf, name);
	return p->defval;
}

void
conf_where(const struct conf *cf, const char *name, char *buf, size_t len)
{
	const struct conf_entry *e = conf_lookup(cf, name);

	if (e != NULL && e->line > 0)
		snprintf(buf, len, "%s:%d: parameter %s: ", cf->label,
		    e->line, name);
	else
		snprintf(buf, len, "parameter %s: ", name);
}

/* ------------------------------------------------- run-time defaults */

/* myhostname's default as Postfix computes it: gethostname(), and when
 * that has no dot, ".$mydomain" appended (mydomain as main.cf sets it,
 * else "localdomain"). No resolver lookup: "postconf -d" gives the same
 * name on a machine whose /etc/hosts or DNS would say otherwise. */
static char *
conf_sys_hostname(const struct conf *cf)
{
	char host[256], *dom = NULL, *fqdn;

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if (strchr(host, '.') != NULL)
		return xstrdup(host);
	if (conf_lookup(cf, "mydomain") != NULL &&
	    conf_get(cf, "mydomain", &dom, NULL, 0) < 0)
		dom = NULL;
	fqdn = xasprintf("%s.%s", host, dom != NULL && *dom != '\0' ? dom :
	    "localdomain");
	free(dom);
	return fqdn;
}

/* mydomain: the effective myhostname minus its first label. */
static char *
conf_domain_of(const struct conf *cf)
{
	char *host, *dot, *dom;

	if (conf_get(cf, "myhostname", &host, NULL, 0) < 0)
		return xstrdup("localdomain");
	dot = strchr(host, '.');
	dom = xstrdup(dot != NULL && dot[1] != '\0' ? dot + 1 :
	    "localdomain");
	free(host);
	return dom;
}

/* 1 if compatibility_level (as main.cf sets it, else Postfix's 0) is at
 * least major.minor, compared the way Postfix compares levels. */
static int
conf_compat_at_least(const struct conf *cf, unsigned long major,
    unsigned long minor)
{
	const struct conf_entry *e = conf_lookup(cf, "compatibility_level");
	unsigned long ma = 0, mi = 0;
	char *v = NULL, *end;

	if (e != NULL && conf_get(cf, "compatibility_level", &v, NULL, 0) == 0) {
		ma = strtoul(v, &end, 10);
		if (*end == '.')
			mi = strtoul(end + 1, NULL, 10);
	}
	free(v);
	return ma > major || (ma == major && mi >= minor);
}

const char *
conf_runtime_default(const struct conf *cf, const char *name)
{
	struct conf_cache *c = cf->cache;

	if (strcmp(name, "config_directory") == 0)
		return cf->dir;
	/* Postfix: ${{$compatibility_level} <level {3.6} ? {md5} : {sha256}} */
	if (strcmp(name, "smtp_tls_fingerprint_digest") == 0 ||
	    strcmp(name, "smtpd_tls_fingerprint_digest") == 0)
		return conf_compat_at_least(cf, 3, 6) ? "sha256" : "md5";
	if (strcmp(name, "tlsproxy_admin_socket") == 0) {
		if (c->admin_socket == NULL)
			c->admin_socket = conf_instance_default(cf->dir, name);
		return c->admin_socket;
	}
	if (strcmp(name, "tlsproxy_pid_file") == 0) {
		if (c->pid_file == NULL)
			c->pid_file = conf_instance_default(cf->dir, name);
		return c->pid_file;
	}
	if (strcmp(name, "myhostname") == 0) {
		if (c->hostname == NULL) {
			if (c->host_busy)	/* mydomain refers to it */
				return "localhost";
			c->host_busy = 1;
			c->hostname = conf_sys_hostname(cf);
			c->host_busy = 0;
		}
		return c->hostname;
	}
	if (c->domain == NULL) {
		if (c->busy)	/* myhostname refers to mydomain */
			return "localdomain";
		c->busy = 1;
		c->domain = conf_domain_of(cf);
		c->busy = 0;
	}
	return c->domain;
}
