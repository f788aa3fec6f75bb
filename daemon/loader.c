/*
 * loader.c - PRIVILEGED: builds the worker's snapshot from the files on
 * disk, and opens the listeners.
 *
 * Runs in: the privileged supervisor. Owns the struct loader it fills,
 * until the supervisor hands its contents to the worker. Every problem is
 * logged and counted, so one run reports all of them.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "conf.h"
#include "fileio.h"
#include "hostname.h"
#include "listen.h"
#include "loader.h"
#include "log.h"
#include "pem.h"
#include "pftable.h"
#include "resolver.h"
#include "services.h"
#include "systemd.h"
#include "tkfile.h"
#include "util.h"

#define LOADER_MAX_CA_DIR	(16u << 20)	/* all of a CApath */
#define LOADER_MAX_ADDRS	16		/* forward addresses kept */

/* Parameters whose values name files the worker needs, by role. */
static const char *const server_files[] = {
	"tlsproxy_tls_cert_file", "tlsproxy_tls_key_file",
	"tlsproxy_tls_eccert_file", "tlsproxy_tls_eckey_file",
	"tlsproxy_tls_CAfile", "tlsproxy_tls_dh1024_param_file", NULL,
};
static const char *const client_files[] = {
	"tlsproxy_client_cert_file", "tlsproxy_client_key_file",
	"tlsproxy_client_eccert_file", "tlsproxy_client_eckey_file",
	"tlsproxy_client_CAfile", NULL,
};

/* One load. */
struct lctx {
	const struct conf		*base;
	struct loader			*ld;
	const struct loader_opts	*lo;
	unsigned char			*prev_taken;	/* per lo->prev listener */
	struct buf			 files;	/* "\n"-joined snapshot file
						 * keys */
	int				 errors;
};

static void lerr(struct lctx *lc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
lerr(struct lctx *lc, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_errorx("%s", msg);
	if (lc->lo->errors != NULL)
		buf_addf(lc->lo->errors, "%s\n", msg);
	lc->errors++;
}

static void
report_conf(int is_error, const char *msg, void *arg)
{
	if (is_error)
		lerr(arg, "%s", msg);
	else
		log_warnx("%s", msg);
}

/* 1 the first time key is seen in this load (then remembered, and
 * watched by tlsproxy_watch_files: an optional file that is looked for
 * and not there should pass here too, so that its appearance reloads). */
static int
first_time(struct lctx *lc, const char *key)
{
	char *line = xasprintf("\n%s\n", key);
	int seen = lc->files.data != NULL &&
	    strstr(lc->files.data, line) != NULL;

	if (!seen) {
		if (lc->files.len == 0)
			buf_add(&lc->files, "\n", 1);
		buf_adds(&lc->files, line + 1);
	}
	free(line);
	return !seen;
}

/* Reads path into file.PATH (once). */
static void
add_file(struct lctx *lc, const char *svc, const char *param,
    const char *path)
{
	char err[1024], *data, *key = xasprintf("file.%s", path);
	size_t len;

	if (first_time(lc, key)) {
		if (file_read(path, PEM_MAX_FILE, &data, &len, err,
		    sizeof(err)) < 0)
			lerr(lc, "service %s: parameter %s: %s", svc, param,
			    err);
		else {
			snap_set(&lc->ld->snap, key, data, len);
			explicit_bzero(data, len);
			free(data);
		}
	}
	free(key);
}

/* All regular files of a CApath directory, concatenated, as
 * file.dir:PATH (once). */
static void
add_dir(struct lctx *lc, const char *svc, const char *param, const char *dir)
{
	char err[1024], *path, *data, *key = xasprintf("file.dir:%s", dir);
	struct dirent *de;
	struct buf b;
	size_t len;
	DIR *d;

	if (!first_time(lc, key)) {
		free(key);
		return;
	}
	if ((d = opendir(dir)) == NULL) {
		lerr(lc, "service %s: parameter %s: cannot open directory %s: "
		    "%s", svc, param, dir, strerror(errno));
		free(key);
		return;
	}
	buf_init(&b);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		data = NULL;
		if (file_read(path, PEM_MAX_FILE, &data, &len, err,
		    sizeof(err)) == 0 && b.len + len <= LOADER_MAX_CA_DIR) {
			buf_add(&b, data, len);
			buf_add(&b, "\n", 1);
		}
		free(data);
		free(path);
	}
	closedir(d);
	snap_set(&lc->ld->snap, key, b.data ? b.data : "", b.len);
	buf_fini(&b);
	free(key);
}

/* The expanded value of name for a service (caller frees), or NULL. */
static char *
svc_get(struct lctx *lc, const struct conf *cf, const char *svc,
    const char *name)
{
	char err[1024], *val;

	if (conf_get(cf, name, &val, err, sizeof(err)) < 0) {
		lerr(lc, "service %s: %s", svc, err);
		return NULL;
	}
	return val;
}

/* Every known parameter, expanded and type-checked for the service (so
 * -o overrides are validated too). */
static void
svc_params(struct lctx *lc, const struct conf *cf, size_t i, const char *svc)
{
	const struct conf_param *t;
	char err[1024], *val;
	size_t n, k;

	t = conf_param_table(&n);
	for (k = 0; k < n; k++) {
		if ((val = svc_get(lc, cf, svc, t[k].name)) == NULL)
			continue;
		if (conf_type_check(t[k].type, val, err, sizeof(err)) < 0)
			lerr(lc, "service %s: parameter %s: %s", svc,
			    t[k].name, err);
		snap_setf(&lc->ld->snap, val, "svc.%zu.param.%s", i, t[k].name);
		free(val);
	}
}

/* Replaces svc.I.param.NAME (a list of file names, or a directory when
 * is_dir) with resolved paths, and loads them. */
static void
svc_file_param(struct lctx *lc, const struct conf *cf, size_t i,
    const char *svc, const char *name, int is_dir)
{
	char *val, *save = NULL, *w, *path;
	struct buf out;

	if ((val = svc_get(lc, cf, svc, name)) == NULL)
		return;
	buf_init(&out);
	for (w = strtok_r(val, " \t,", &save); w != NULL;
	    w = strtok_r(NULL, " \t,", &save)) {
		if (strcmp(w, "none") == 0)
			continue;
		path = conf_path(cf, w);
		if (is_dir)
			add_dir(lc, svc, name, path);
		else
			add_file(lc, svc, name, path);
		buf_addf(&out, "%s%s", out.len ? " " : "", path);
		free(path);
	}
	free(val);
	val = buf_take(&out);
	snap_setf(&lc->ld->snap, val, "svc.%zu.file.%s", i, name);
	free(val);
}

/* ------------------------------------------------ tls_server_sni_maps */

static int add_ocsp_file(struct lctx *, const char *, const char *, int);

/* A problem of a service's SNI table. */
struct sni_load {
	struct lctx	*lc;
	const char	*svc;
	struct buf	 out;	/* the snapshot table: NAME\tPATHS\tORIGIN */
	int		 ocsp;	/* tlsproxy_tls_ocsp_stapling: read the
				 * FILE.ocsp beside each chain file */
};

static void
sni_report(int is_error, const char *msg, void *arg)
{
	struct sni_load *sl = arg;

	if (is_error)
		lerr(sl->lc, "service %s: parameter tls_server_sni_maps: %s",
		    sl->svc, msg);
	else
		log_warnx("service %s: parameter tls_server_sni_maps: %s",
		    sl->svc, msg);
}

/* One table of the list into t: inline: as is, texthash: from its file
 * (kept in the snapshot too, as file.PATH, like every file read). */
static void
sni_table(struct sni_load *sl, const struct conf *cf, const char *spec,
    struct pft *t)
{
	char err[1024], *path, *data, *key;
	size_t len;

	if (strncmp(spec, "inline:", 7) == 0) {
		pft_inline_parse(t, spec + 7, sni_report, sl);
		return;
	}
	if (strncmp(spec, "texthash:", 9) != 0) {
		sni_report(1, "only inline: and texthash: tables are "
		    "supported (texthash: reads postmap's input file: no "
		    "\"postmap -F\" needed)", sl);
		return;
	}
	path = conf_path(cf, spec + 9);
	key = xasprintf("file.%s", path);
	if (file_read(path, PEM_MAX_FILE, &data, &len, err, sizeof(err)) < 0)
		sni_report(1, err, sl);
	else {
		if (first_time(sl->lc, key))
			snap_set(&sl->lc->ld->snap, key, data, len);
		pft_text_parse(t, path, data, len, sni_report, sl);
		free(data);
	}
	free(key);
	free(path);
}

/* One entry: a host name or ".domain" key, and chain files that are
 * read into the snapshot. */
static void
sni_entry(struct sni_load *sl, const struct conf *cf,
    const struct pft_ent *e)
{
	const char *host = e->key[0] == '.' ? e->key + 1 : e->key;
	char why[256], *copy, *save = NULL, *w, *path, *param, *look;
	struct buf paths;

	if (!hostname_valid(host, why, sizeof(why))) {
		lerr(sl->lc, "service %s: parameter tls_server_sni_maps: %s: "
		    "\"%s\" is not a host name or .domain (%s); for every "
		    "name under example.com write .example.com", sl->svc,
		    e->origin, e->key, why);
		return;
	}
	buf_init(&paths);
	param = xasprintf("tls_server_sni_maps: %s", e->origin);
	copy = xstrdup(e->val);
	for (w = strtok_r(copy, ", \t", &save); w != NULL;
	    w = strtok_r(NULL, ", \t", &save)) {
		path = conf_path(cf, w);
		add_file(sl->lc, sl->svc, param, path);
		buf_addf(&paths, "%s%s", paths.len ? " " : "", path);
		if (sl->ocsp) {
			look = xasprintf("%s.ocsp", path);
			add_ocsp_file(sl->lc, sl->svc, look, 0);
			free(look);
		}
		free(path);
	}
	if (paths.len == 0)
		lerr(sl->lc, "service %s: parameter %s: \"%s\" names no chain "
		    "file", sl->svc, param, e->key);
	else
		buf_addf(&sl->out, "%s\t%s\t%s\n", e->key, paths.data,
		    e->origin);
	buf_fini(&paths);
	free(copy);
	free(param);
}

/* tls_server_sni_maps of a service with a server side: svc.I.sni. */
static void
svc_sni(struct lctx *lc, const struct conf *cf, size_t i, const char *svc)
{
	struct sni_load sl = { lc, svc, { NULL, 0, 0 }, 0 };
	char err[1024], **tab, *val;
	struct pft t;
	int n, k;
	size_t e;

	if ((val = svc_get(lc, cf, svc, "tlsproxy_tls_ocsp_stapling")) != NULL)
		sl.ocsp = strcasecmp(val, "yes") == 0;
	free(val);
	if ((val = svc_get(lc, cf, svc, "tls_server_sni_maps")) == NULL)
		return;
	if ((n = pft_split(val, &tab, err, sizeof(err))) < 0)
		sni_report(1, err, &sl);
	pft_init(&t);
	for (k = 0; k < n; k++)
		sni_table(&sl, cf, tab[k], &t);
	for (e = 0; e < t.n; e++)
		sni_entry(&sl, cf, &t.v[e]);
	if (sl.out.len > 0)
		snap_setf(&lc->ld->snap, sl.out.data, "svc.%zu.sni", i);
	if (n > 0)
		pft_split_free(tab, n);
	pft_fini(&t);
	buf_fini(&sl.out);
	free(val);
}

/* ------------------------------------------------------------ files */

static void
svc_files(struct lctx *lc, const struct conf *cf, size_t i,
    const struct service *svc)
{
	const char *const *p;
	int srv = svc->role != SVC_CLIENT;
	int cli = svc->role == SVC_CLIENT || svc->role == SVC_CONTROL;

	for (p = server_files; srv && *p != NULL; p++)
		svc_file_param(lc, cf, i, svc->name, *p, 0);
	for (p = client_files; cli && *p != NULL; p++)
		svc_file_param(lc, cf, i, svc->name, *p, 0);
	if (srv) {
		svc_sni(lc, cf, i, svc->name);
		svc_file_param(lc, cf, i, svc->name,
		    "tlsproxy_tls_chain_files", 0);
		svc_file_param(lc, cf, i, svc->name, "tlsproxy_tls_CApath", 1);
	}
	if (cli) {
		svc_file_param(lc, cf, i, svc->name,
		    "tlsproxy_client_chain_files", 0);
		svc_file_param(lc, cf, i, svc->name,
		    "tlsproxy_client_CApath", 1);
	}
}

#define OCSP_PARAM	"tlsproxy_tls_ocsp_response_files"

/* An OCSP response file into file.PATH (once). One looked for beside a
 * certificate may be missing (it is skipped); any other problem is a
 * warning, not an error: the service serves without that response.
 * Returns 1 if path is to be listed. */
static int
add_ocsp_file(struct lctx *lc, const char *svc, const char *path,
    int named)
{
	char err[1024], *data, *key;
	size_t len;

	if (!named && !file_exists(path))
		return 0;
	key = xasprintf("file.%s", path);
	if (first_time(lc, key)) {
		if (file_read(path, PEM_MAX_FILE, &data, &len, err,
		    sizeof(err)) < 0)
			log_warnx("service %s: OCSP response: %s: not stapled",
			    svc, err);
		else {
			snap_set(&lc->ld->snap, key, data, len);
			free(data);
		}
	}
	free(key);
	return 1;
}

/* 1 if word is one of the space-separated words of list (may be NULL). */
static int
word_in(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = list; p != NULL && (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

/* The response files of list (suffix NULL), or the files beside those
 * of list (FILE + suffix), read and added to out (no duplicates). */
static void
ocsp_list(struct lctx *lc, const struct conf *cf, const char *svc,
    const char *list, const char *suffix, struct buf *out)
{
	char *copy = xstrdup(list), *save = NULL, *w, *path, *look;

	for (w = strtok_r(copy, " \t,", &save); w != NULL;
	    w = strtok_r(NULL, " \t,", &save)) {
		if (strcmp(w, "none") == 0)
			continue;
		path = conf_path(cf, w);
		look = suffix != NULL ? xasprintf("%s%s", path, suffix) :
		    xstrdup(path);
		if (add_ocsp_file(lc, svc, look, suffix == NULL) &&
		    !word_in(out->data, look))
			buf_addf(out, "%s%s", out->len ? " " : "", look);
		free(look);
		free(path);
	}
	free(copy);
}

/* svc.I.file.tlsproxy_tls_ocsp_response_files: with
 * tlsproxy_tls_ocsp_stapling = yes, the files it names, or by default
 * FILE.ocsp beside each certificate file the server role uses (the
 * chain files, else the cert and eccert files), where one exists. */
static void
svc_ocsp(struct lctx *lc, const struct conf *cf, size_t i,
    const struct service *svc)
{
	char *on, *named, *chains = NULL, *a = NULL, *b = NULL, *v;
	struct buf out;

	if (svc->role == SVC_CLIENT)
		return;
	buf_init(&out);
	on = svc_get(lc, cf, svc->name, "tlsproxy_tls_ocsp_stapling");
	named = svc_get(lc, cf, svc->name, OCSP_PARAM);
	if (on != NULL && named != NULL && strcasecmp(on, "yes") == 0) {
		chains = svc_get(lc, cf, svc->name, "tlsproxy_tls_chain_files");
		a = svc_get(lc, cf, svc->name, "tlsproxy_tls_cert_file");
		b = svc_get(lc, cf, svc->name, "tlsproxy_tls_eccert_file");
		if (list_names_files(named))
			ocsp_list(lc, cf, svc->name, named, NULL, &out);
		else if (chains != NULL && list_names_files(chains))
			ocsp_list(lc, cf, svc->name, chains, ".ocsp", &out);
		else {
			ocsp_list(lc, cf, svc->name, a ? a : "", ".ocsp", &out);
			ocsp_list(lc, cf, svc->name, b ? b : "", ".ocsp", &out);
		}
	}
	v = buf_take(&out);
	snap_setf(&lc->ld->snap, v != NULL ? v : "", "svc.%zu.file.%s", i,
	    OCSP_PARAM);
	free(v);
	free(on);
	free(named);
	free(chains);
	free(a);
	free(b);
}

/* A host name that may resolve later: syntactically a name, not an
 * address literal. */
static int
host_may_resolve(const char *host)
{
	struct in6_addr a6;

	return hostname_valid(host, NULL, 0) && inet_pton(AF_INET6, host,
	    &a6) != 1;
}

/* Looks target t up into ss[0..*np), or on a reload takes what the
 * supervisor's resolver has for it. A valid host name that does not
 * resolve (yet) is a warning: the service refuses connections until the
 * supervisor's resolver finds it (resolver.h). */
static void
fwd_lookup(struct lctx *lc, const struct service *svc,
    const struct svc_addr *t, struct sockaddr_storage *ss, size_t *np)
{
	char why[256];
	int soft = 0;

	*np = 0;
	if (lc->lo->res != NULL && resolver_cached(lc->lo->res, t->host,
	    t->port != NULL ? t->port : "", ss, np) == 0) {
		if (*np == 0)
			log_warnx("service %s: forward %s: does not resolve "
			    "yet; refusing connections to it, retrying every "
			    "%lld s", svc->name, t->text, resolver_retry_s(
			    lc->ld->g.resolve_interval_s));
		return;
	}
	if (resolver_lookup(t->host, t->port, ss, np, &soft, why,
	    sizeof(why)) == 0)
		return;
	if (soft && host_may_resolve(t->host))
		log_warnx("service %s: forward %s: cannot resolve (%s); "
		    "refusing connections to it, retrying every %lld s",
		    svc->name, t->text, why,
		    resolver_retry_s(lc->ld->g.resolve_interval_s));
	else
		lerr(lc, "service %s: forward %s: %s", svc->name, t->text,
		    why);
}

/* Forward target j: its snapshot keys svc.I.forward.J.*. */
static void
fwd_target(struct lctx *lc, size_t i, size_t j, const struct service *svc,
    const struct svc_addr *t)
{
	struct sockaddr_storage ss[RESOLVER_MAX_ADDRS];
	size_t n = 0;
	char key[96];
	int dynamic = 0;

	memset(ss, 0, sizeof(ss));
	if (t->kind == SVC_ADDR_UNIX) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss[0];

		if (strlen(t->path) >= sizeof(sun->sun_path)) {
			lerr(lc, "service %s: forward %s: path too long",
			    svc->name, t->text);
			return;
		}
		sun->sun_family = AF_UNIX;
		/* the length is checked above */
		memcpy(sun->sun_path, t->path, strlen(t->path) + 1);
		n = 1;
	} else if (t->kind == SVC_ADDR_INET) {
		fwd_lookup(lc, svc, t, ss, &n);
		dynamic = host_may_resolve(t->host);
	}
	snap_setf(&lc->ld->snap, t->text, "svc.%zu.forward.%zu.text", i, j);
	snap_setf(&lc->ld->snap, dynamic ? t->host : "",
	    "svc.%zu.forward.%zu.host", i, j);
	snap_setf(&lc->ld->snap, t->port != NULL ? t->port : "",
	    "svc.%zu.forward.%zu.port", i, j);
	snprintf(key, sizeof(key), "svc.%zu.forward.%zu.addr", i, j);
	snap_set(&lc->ld->snap, key, ss, n * sizeof(ss[0]));
}

/* Resolves the forward targets into sockaddr_storage records. Resolution
 * happens here because the worker cannot read resolv.conf. */
static void
svc_forward(struct lctx *lc, size_t i, const struct service *svc)
{
	char cnt[32];
	size_t j;

	snap_setf(&lc->ld->snap, svc->forward.kind == SVC_ADDR_INET ?
	    svc->forward.host : "", "svc.%zu.forward_host", i);
	snprintf(cnt, sizeof(cnt), "%zu", svc->nfwds);
	snap_setf(&lc->ld->snap, cnt, "svc.%zu.forward_count", i);
	for (j = 0; j < svc->nfwds; j++)
		fwd_target(lc, i, j, svc, &svc->fwds[j]);
}

/* "WHAT: listening on ADDR" (WHAT: "service NAME", "metrics"), with
 * the port the kernel chose for port 0 (caller frees). */
static char *
listening_text_of(const char *what, const struct svc_addr *l, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	memset(&ss, 0, sizeof(ss));

	if (l->kind == SVC_ADDR_UNIX)
		return xasprintf("%s: listening on unix:%s", what,
		    l->path);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_UNIX) {
			struct sockaddr_un *su = (struct sockaddr_un *)&ss;

			return xasprintf("%s: listening on unix:%.*s",
			    what, (int)(len - offsetof(struct sockaddr_un,
			    sun_path)), su->sun_path);
		}
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
			port = ntohs(s6->sin6_port);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
			port = ntohs(s4->sin_port);
		}
	}
	return xasprintf("%s: listening on [%s]:%u", what, a, port);
}

static char *
listening_text(const struct service *svc, int fd)
{
	char what[128];

	snprintf(what, sizeof(what), "service %s", svc->name);
	return listening_text_of(what, &svc->listen, fd);
}

/* tlsproxy_listen_owner / tlsproxy_listen_group for a unix: listener
 * ("" leaves the socket file as created). */
static int
listen_owner(struct lctx *lc, const struct conf *cf, const char *svc,
    struct listen_unix_attr *ua)
{
	char *owner = svc_get(lc, cf, svc, "tlsproxy_listen_owner");
	char *group = svc_get(lc, cf, svc, "tlsproxy_listen_group");
	struct passwd *pw;
	struct group *gr;
	int rc = 0;

	if (owner != NULL && *owner != '\0') {
		if ((pw = getpwnam(owner)) != NULL)
			ua->uid = pw->pw_uid;
		else {
			lerr(lc, "service %s: parameter tlsproxy_listen_owner: "
			    "no such user \"%s\"", svc, owner);
			rc = -1;
		}
	}
	if (group != NULL && *group != '\0') {
		if ((gr = getgrnam(group)) != NULL)
			ua->gid = gr->gr_gid;
		else {
			lerr(lc, "service %s: parameter tlsproxy_listen_group: "
			    "no such group \"%s\"", svc, group);
			rc = -1;
		}
	}
	free(owner);
	free(group);
	return rc;
}

/* The identity of a service's listener across reloads. */
static char *
listen_key(const struct service *svc)
{
	switch (svc->listen.kind) {
	case SVC_ADDR_UNIX:
		return xasprintf("unix:%s", svc->listen.path);
	case SVC_ADDR_SYSTEMD:
		return xasprintf("systemd:%s", svc->name);
	default:
		return xstrdup(svc->listen.text);
	}
}

/* 1 if the running configuration has a listener with this key. */
static int
prev_has(const struct lctx *lc, const char *key)
{
	const struct loader *prev = lc->lo->prev;
	size_t i;

	for (i = 0; prev != NULL && i < prev->nlsn; i++)
		if (strcmp(prev->lsn[i].key, key) == 0)
			return 1;
	return 0;
}

/* A dup of the running configuration's listener with this key (each is
 * taken once: two "127.0.0.1:0" entries keep their two sockets), or -1. */
static int
listen_take_over(struct lctx *lc, const char *key)
{
	const struct loader *prev = lc->lo->prev;
	size_t i;
	int fd;

	for (i = 0; prev != NULL && i < prev->nlsn; i++) {
		if (lc->prev_taken[i] || prev->lsn[i].fd < 0 ||
		    strcmp(prev->lsn[i].key, key) != 0)
			continue;
		if ((fd = fcntl(prev->lsn[i].fd, F_DUPFD_CLOEXEC, 0)) < 0)
			return -1;
		lc->prev_taken[i] = 1;
		return fd;
	}
	return -1;
}

/* Records a listener of service i; a fresh one is announced later, a
 * kept unix: one gets ua later (loader_activate). */
static void
listen_add(struct lctx *lc, size_t i, const struct service *svc, char *key,
    int fd, int fresh, const struct listen_unix_attr *ua)
{
	struct loader *ld = lc->ld;
	char idx[32];

	ld->lsn = xreallocarray(ld->lsn, ld->nlsn + 1, sizeof(*ld->lsn));
	ld->lsn[ld->nlsn].key = key;
	ld->lsn[ld->nlsn].unix_path = svc->listen.kind == SVC_ADDR_UNIX ?
	    xstrdup(svc->listen.path) : NULL;
	ld->lsn[ld->nlsn].fd = fd;
	ld->lsn[ld->nlsn].announce = fresh ? listening_text(svc, fd) : NULL;
	ld->lsn[ld->nlsn].reapply = !fresh && ua != NULL &&
	    svc->listen.kind == SVC_ADDR_UNIX;
	if (ua != NULL)
		ld->lsn[ld->nlsn].ua = *ua;
	snprintf(idx, sizeof(idx), "%zu", ld->nlsn++);
	snap_setf(&ld->snap, idx, "svc.%zu.listen_fd", i);
}

/* The socket systemd passed for this service (a dup). */
static int
listen_systemd(struct lctx *lc, const struct service *svc)
{
	char err[1024];
	int fd;

	if ((fd = systemd_listen_take(svc->name, err, sizeof(err))) < 0) {
		lerr(lc, "service %s: listen \"systemd\": %s", svc->name, err);
		return -1;
	}
	if ((fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
		lerr(lc, "service %s: listen \"systemd\": dup: %s", svc->name,
		    strerror(errno));
	return fd;
}

/* Opens (or takes over) the listener of a service and records its
 * index. */
static void
svc_listen(struct lctx *lc, const struct conf *cf, size_t i,
    const struct service *svc)
{
	struct listen_unix_attr ua = { 0666, (uid_t)-1, (gid_t)-1 };
	char err[1024], *mode, *key = listen_key(svc);
	int fd, fresh;

	if (svc->listen.kind == SVC_ADDR_SYSTEMD) {
		/* Always from the passed set (the same socket a running
		 * configuration has), so that unused ones are known. */
		if ((fd = listen_systemd(lc, svc)) < 0) {
			free(key);
			return;
		}
		listen_add(lc, i, svc, key, fd, !prev_has(lc, key), NULL);
		return;
	}
	if ((mode = svc_get(lc, cf, svc->name, "tlsproxy_listen_mode")) == NULL) {
		free(key);
		return;
	}
	/* Whoever may connect to a hand-off socket may use the daemon's
	 * keys: unless a mode is set explicitly, only the owner may. */
	if (svc->role == SVC_CONTROL &&
	    conf_lookup(cf, "tlsproxy_listen_mode") == NULL) {
		free(mode);
		mode = xstrdup("0600");
	}
	fd = -1;
	fresh = 0;
	if (listen_mode_parse(mode, &ua.mode) < 0)
		lerr(lc, "service %s: parameter tlsproxy_listen_mode: bad mode "
		    "\"%s\" (want octal, e.g. 0660)", svc->name, mode);
	else if (svc->listen.kind == SVC_ADDR_UNIX &&
	    listen_owner(lc, cf, svc->name, &ua) < 0)
		;	/* logged */
	else if ((fd = listen_take_over(lc, key)) >= 0)
		;	/* the same socket */
	else if ((fd = listen_open(&svc->listen, &ua, err, sizeof(err))) < 0)
		lerr(lc, "service %s: %s", svc->name, err);
	else
		fresh = 1;
	if (fd >= 0) {
		listen_add(lc, i, svc, key, fd, fresh, &ua);
		key = NULL;
	}
	free(key);
	free(mode);
}

/* tlsproxy_metrics_listen: the worker's metrics endpoint (plain HTTP),
 * opened or taken over here like a service's listener, its index in
 * global.metrics.listen_fd. A unix: socket file gets mode 0660 (the
 * scraper shares the daemon's group, or the mode is changed). */
static void
metrics_listen(struct lctx *lc, int open_listeners)
{
	struct listen_unix_attr ua = { 0660, (uid_t)-1, (gid_t)-1 };
	struct loader *ld = lc->ld;
	struct svc_addr a;
	char err[1024], idx[32], *key, *v;
	int fd, fresh = 0;

	v = svc_get(lc, lc->base, "-", "tlsproxy_metrics_listen");
	if (v == NULL || *v == '\0') {
		free(v);
		return;
	}
	if (svc_listen_addr_parse(v, conf_dir(lc->base), &a, err,
	    sizeof(err)) < 0) {
		lerr(lc, "parameter tlsproxy_metrics_listen: %s", err);
		free(v);
		return;
	}
	free(v);
	key = xasprintf("metrics:%s", a.kind == SVC_ADDR_UNIX ? a.path :
	    a.text);
	fd = -1;
	if (!open_listeners)
		;	/* -t: the address is checked */
	else if ((fd = listen_take_over(lc, key)) < 0) {
		if ((fd = listen_open(&a, &ua, err, sizeof(err))) < 0)
			lerr(lc, "parameter tlsproxy_metrics_listen: %s", err);
		else
			fresh = 1;
	}
	if (fd < 0) {
		free(key);
		svc_addr_fini(&a);
		return;
	}
	ld->lsn = xreallocarray(ld->lsn, ld->nlsn + 1, sizeof(*ld->lsn));
	memset(&ld->lsn[ld->nlsn], 0, sizeof(*ld->lsn));
	ld->lsn[ld->nlsn].key = key;
	ld->lsn[ld->nlsn].unix_path = a.kind == SVC_ADDR_UNIX ?
	    xstrdup(a.path) : NULL;
	ld->lsn[ld->nlsn].fd = fd;
	ld->lsn[ld->nlsn].announce = fresh ?
	    listening_text_of("metrics", &a, fd) : NULL;
	snprintf(idx, sizeof(idx), "%zu", ld->nlsn++);
	snap_setf(&ld->snap, idx, "global.metrics.listen_fd");
	svc_addr_fini(&a);
}

/* Parameters of the whole daemon: a per-service -o would be ignored, so
 * it is refused. */
static const char *const daemon_wide[] = {
	"syslog_facility", "syslog_name", "tlsproxy_admin_socket",
	"tlsproxy_drain_timeout", "tlsproxy_event_threads",
	"tlsproxy_forward_resolve_interval",
	"tlsproxy_max_sessions", "tlsproxy_max_threads",
	"tlsproxy_metrics_listen", "tlsproxy_min_threads", "tlsproxy_pid_file",
	"tlsproxy_queue_limit", "tlsproxy_sandbox", "tlsproxy_stop_grace_time",
	"tlsproxy_tls_ticket_key_file", "tlsproxy_user",
	"tlsproxy_watch_files", NULL,
};

static int
svc_opts_check(struct lctx *lc, const struct service *svc)
{
	const char *const *p;
	size_t k;
	int bad = 0;

	for (k = 0; k < svc->nopts; k++) {
		for (p = daemon_wide; *p != NULL; p++) {
			if (strcmp(svc->opts[k].name, *p) == 0) {
				lerr(lc, "service %s: -o %s: a daemon-wide "
				    "parameter; set it in main.cf", svc->name,
				    *p);
				bad++;
			}
		}
	}
	return bad ? -1 : 0;
}

/* One services.cf entry. */
static void
svc_load(struct lctx *lc, size_t i, const struct service *svc,
    int open_listeners)
{
	struct conf *cf;
	char err[1024];

	if (svc_opts_check(lc, svc) < 0)
		return;
	if ((cf = services_conf(lc->base, svc, err, sizeof(err))) == NULL) {
		lerr(lc, "%s", err);
		return;
	}
	snap_setf(&lc->ld->snap, svc->name, "svc.%zu.name", i);
	snap_setf(&lc->ld->snap, svc_role_name(svc->role), "svc.%zu.role", i);
	snap_setf(&lc->ld->snap, svc->listen.text, "svc.%zu.listen", i);
	snap_setf(&lc->ld->snap, svc->forward.text, "svc.%zu.forward", i);
	svc_params(lc, cf, i, svc->name);
	svc_files(lc, cf, i, svc);
	svc_ocsp(lc, cf, i, svc);
	svc_forward(lc, i, svc);
	if (open_listeners && svc->listen.kind != SVC_ADDR_NONE)
		svc_listen(lc, cf, i, svc);	/* a profile has none */
	conf_free(cf);
}

static const struct {
	const char	*name;
	int		 facility;
} facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static void
globals_facility(struct lctx *lc, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++) {
		if (strcmp(name, facilities[i].name) == 0) {
			lc->ld->g.syslog_facility = facilities[i].facility;
			return;
		}
	}
	lerr(lc, "parameter syslog_facility: unknown facility \"%s\"", name);
}

/* The worker's identity: tlsproxy_user when started as root. */
static void
globals_user(struct lctx *lc, const char *user)
{
	struct sbx_opts *o = &lc->ld->g.sbx;
	char err[512];

	o->change_id = geteuid() == 0;
	if (!o->change_id)
		return;
	if (sbx_user_lookup(user, &o->uid, &o->gid, err, sizeof(err)) == 0)
		return;
	/* The dedicated user is made by "make install"; a build-tree run
	 * uses nobody, and says so. */
	if (strcmp(user, "tlsward") == 0 &&
	    sbx_user_lookup("nobody", &o->uid, &o->gid, err, sizeof(err)) == 0) {
		log_warnx("tlsproxy_user: user tlsward does not exist; the "
		    "worker runs as nobody (create the user, or set "
		    "tlsproxy_user)");
		return;
	}
	lerr(lc, "parameter tlsproxy_user: %s", err);
}

#define TKF_PARAM	"tlsproxy_tls_ticket_key_file"

/* The session ticket key file, checked (owner, mode, format) and read
 * into file.PATH; global.tlsproxy_tls_ticket_key_file names it ("" for
 * none: the worker makes its own keys). */
static void
globals_ticket_keys(struct lctx *lc)
{
	char err[1024], *v, *path, *key, *data;
	unsigned char *keys;
	size_t len;

	if ((v = svc_get(lc, lc->base, "-", TKF_PARAM)) == NULL)
		return;
	path = *v != '\0' ? conf_path(lc->base, v) : xstrdup("");
	snap_setf(&lc->ld->snap, path, "global.%s", TKF_PARAM);
	key = xasprintf("file.%s", path);
	if (*path != '\0' && first_time(lc, key)) {
		if (tkf_read(path, geteuid(), &data, &len, err,
		    sizeof(err)) < 0)
			lerr(lc, "parameter %s: %s", TKF_PARAM, err);
		else if (tkf_parse(path, data, len, &keys, err,
		    sizeof(err)) < 0) {
			lerr(lc, "parameter %s: %s", TKF_PARAM, err);
			OPENSSL_clear_free(data, len);
		} else {
			snap_set(&lc->ld->snap, key, data, len);
			OPENSSL_clear_free(keys, TKF_MAX_KEYS * TKF_KEY_LEN);
			OPENSSL_clear_free(data, len);
		}
	}
	free(key);
	free(path);
	free(v);
}

/* What the worker needs of the global settings. */
static void
globals_snapshot(struct lctx *lc)
{
	static const char *const names[] = {
		"tlsproxy_sandbox", "tlsproxy_min_threads",
		"tlsproxy_max_threads", "tlsproxy_queue_limit",
		"tlsproxy_event_threads", "tlsproxy_max_sessions", NULL,
	};
	const struct sbx_opts *o = &lc->ld->g.sbx;
	const char *const *p;
	char num[32], *v;

	for (p = names; *p != NULL; p++) {
		if ((v = svc_get(lc, lc->base, "-", *p)) != NULL)
			snap_setf(&lc->ld->snap, v, "global.%s", *p);
		free(v);
	}
	snprintf(num, sizeof(num), "%d", o->change_id);
	snap_setf(&lc->ld->snap, num, "global.sbx.change_id");
	snprintf(num, sizeof(num), "%lu", (unsigned long)o->uid);
	snap_setf(&lc->ld->snap, num, "global.sbx.uid");
	snprintf(num, sizeof(num), "%lu", (unsigned long)o->gid);
	snap_setf(&lc->ld->snap, num, "global.sbx.gid");
}

static void
globals_load(struct lctx *lc)
{
	struct loader_globals *g = &lc->ld->g;
	char *v, err[1024];

	g->pid_file = svc_get(lc, lc->base, "-", "tlsproxy_pid_file");
	if ((v = svc_get(lc, lc->base, "-", "tlsproxy_admin_socket")) != NULL)
		g->admin_socket = *v != '\0' ? conf_path(lc->base, v) :
		    xstrdup("");
	free(v);
	/* As Postfix prefixes its programs: "postfix/tlswardd". */
	if ((v = svc_get(lc, lc->base, "-", "syslog_name")) != NULL)
		g->syslog_ident = xasprintf("%s/tlswardd", v);
	free(v);
	if ((v = svc_get(lc, lc->base, "-", "syslog_facility")) != NULL)
		globals_facility(lc, v);
	free(v);
	if ((v = svc_get(lc, lc->base, "-", "tlsproxy_user")) != NULL)
		globals_user(lc, v);
	free(v);
	if ((v = svc_get(lc, lc->base, "-", "tlsproxy_sandbox")) != NULL &&
	    sbx_mode_parse(v, &g->sbx.mode) < 0)
		lerr(lc, "parameter tlsproxy_sandbox: \"%s\" (want enforce, "
		    "log or off)", v);
	free(v);
	if (conf_get_time(lc->base, "tlsproxy_drain_timeout",
	    &g->drain_timeout_s, err, sizeof(err)) < 0 ||
	    conf_get_time(lc->base, "tlsproxy_stop_grace_time",
	    &g->stop_grace_s, err, sizeof(err)) < 0 ||
	    conf_get_bool(lc->base, "tlsproxy_watch_files", &g->watch_files,
	    err, sizeof(err)) < 0 ||
	    conf_get_time(lc->base, "tlsproxy_forward_resolve_interval",
	    &g->resolve_interval_s, err, sizeof(err)) < 0)
		lerr(lc, "%s", err);
	else if (g->resolve_interval_s <= 0)
		lerr(lc, "parameter tlsproxy_forward_resolve_interval: must be "
		    "more than 0");
	globals_snapshot(lc);
	globals_ticket_keys(lc);
}

/* Loads and checks main.cf and services.cf; NULL base on error. */
static int
load_configs(struct lctx *lc, const char *dir, struct conf **cfp,
    struct services *svcs)
{
	char err[1024];
	int missing;

	*cfp = conf_new(dir);
	if (conf_load(*cfp, err, sizeof(err)) < 0) {
		lerr(lc, "%s", err);
		return -1;
	}
	conf_check(*cfp, report_conf, lc);
	if (services_load(*cfp, svcs, &missing, err, sizeof(err)) < 0) {
		lerr(lc, "%s%s", err, missing ? " (services.cf lists what "
		    "tlswardd serves; see tlsward.cf(5))" : "");
		return -1;
	}
	if (svcs->n == 0)
		lerr(lc, "%s: no services", svcs->path);
	return 0;
}

int
loader_load(const char *dir, const struct loader_opts *lo, struct loader *ld)
{
	/* ld is filled here; keeping its address reads nothing of it */
	/* cppcheck-suppress ctuuninitvar */
	struct lctx lc = { NULL, ld, lo, NULL, { NULL, 0, 0 }, 0 };
	struct services svcs = { NULL, 0, NULL };
	struct conf *cf = NULL;
	char count[32];
	size_t i;

	memset(ld, 0, sizeof(*ld));
	snap_init(&ld->snap);
	if (lo->prev != NULL)
		lc.prev_taken = xcalloc(lo->prev->nlsn + 1, 1);
	systemd_listen_begin();
	if (load_configs(&lc, dir, &cf, &svcs) == 0) {
		lc.base = cf;
		globals_load(&lc);
		for (i = 0; i < svcs.n; i++)
			svc_load(&lc, i, &svcs.v[i], lo->open_listeners);
		metrics_listen(&lc, lo->open_listeners);
		snprintf(count, sizeof(count), "%zu", svcs.n);
		snap_set(&ld->snap, "svc.count", count, strlen(count));
		ld->nservices = svcs.n;
		if (snap_seal(&ld->snap) < 0)
			lerr(&lc, "internal error: duplicate snapshot key");
	}
	services_fini(&svcs);
	conf_free(cf);
	if (lo->files != NULL && lc.files.len > 1)
		buf_add(lo->files, lc.files.data + 1, lc.files.len - 1);
	ld->files = xstrdup(lc.files.len > 1 ? lc.files.data + 1 : "");
	buf_fini(&lc.files);
	free(lc.prev_taken);
	if (lc.errors > 0)
		loader_fini(ld);
	return lc.errors;
}

void
loader_activate(struct loader *ld)
{
	char err[1024];
	size_t i;

	for (i = 0; i < ld->nlsn; i++) {
		if (ld->lsn[i].reapply && listen_unix_attr_apply(
		    ld->lsn[i].unix_path, &ld->lsn[i].ua, err, sizeof(err)) < 0)
			log_warnx("%s", err);
		ld->lsn[i].reapply = 0;
		if (ld->lsn[i].announce == NULL)
			continue;
		if (strncmp(ld->lsn[i].key, "systemd:", 8) == 0)
			log_info("service %s: taking the socket systemd passed "
			    "as \"%s\"", ld->lsn[i].key + 8, ld->lsn[i].key + 8);
		log_info("%s", ld->lsn[i].announce);
		free(ld->lsn[i].announce);
		ld->lsn[i].announce = NULL;
	}
}

size_t
loader_fds(const struct loader *ld, int *fds)
{
	size_t i;

	for (i = 0; i < ld->nlsn; i++)
		fds[i] = ld->lsn[i].fd;
	return ld->nlsn;
}

/* 1 if ld has a unix: listener at path. */
static int
has_unix_path(const struct loader *ld, const char *path)
{
	size_t i;

	for (i = 0; i < ld->nlsn; i++)
		if (ld->lsn[i].unix_path != NULL &&
		    strcmp(ld->lsn[i].unix_path, path) == 0)
			return 1;
	return 0;
}

void
loader_unlink_dropped(const struct loader *old, const struct loader *cur)
{
	char err[1024];
	size_t i;

	for (i = 0; i < old->nlsn; i++) {
		if (old->lsn[i].unix_path == NULL ||
		    has_unix_path(cur, old->lsn[i].unix_path))
			continue;
		if (listen_unix_remove(old->lsn[i].unix_path, err,
		    sizeof(err)) < 0)
			log_warnx("%s", err);
	}
}

void
loader_close_listeners(struct loader *ld)
{
	size_t i;

	for (i = 0; i < ld->nlsn; i++) {
		if (ld->lsn[i].fd >= 0)
			close(ld->lsn[i].fd);
		ld->lsn[i].fd = -1;
	}
}

void
loader_fini(struct loader *ld)
{
	size_t i;

	loader_close_listeners(ld);
	for (i = 0; i < ld->nlsn; i++) {
		free(ld->lsn[i].key);
		free(ld->lsn[i].unix_path);
		free(ld->lsn[i].announce);
	}
	free(ld->lsn);
	snap_fini(&ld->snap);
	free(ld->g.pid_file);
	free(ld->g.admin_socket);
	free(ld->g.syslog_ident);
	free(ld->files);
	memset(ld, 0, sizeof(*ld));
}
