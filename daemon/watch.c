/*
 * watch.c - PRIVILEGED: notices that the TLS material on disk changed
 * (inotify on the directories along each file's path, stat signatures to
 * decide), debounced, for the supervisor's automatic reload. See watch.h
 * for what is watched and why.
 *
 * Runs in: the privileged supervisor. Owns its inotify descriptor and its
 * lists of files and directories; reads no file contents.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "snapshot.h"
#include "util.h"
#include "watch.h"

#define WATCH_MAX_LINKS	40	/* symbolic links per path, as the kernel */
#define WATCH_MASK	(IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | \
			 IN_DELETE_SELF | IN_MODIFY | IN_MOVE_SELF | \
			 IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR)
#define FNV_BASIS	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

/* A file (or CApath directory) of the TLS material. */
struct wfile {
	char		*path;
	int		 is_dir;	/* a CApath: every file in it */
	uint64_t	 sig;		/* as the last reload read it */
	int		 mark;		/* watch_set: 0 drop, 1 kept, 2 new */
};

/* A watched directory and the entries in it that matter. */
struct wdir {
	char		*path;
	int		 wd;		/* -1: could not be watched */
	int		 any;		/* every entry matters (a CApath) */
	struct buf	 names;		/* "\nNAME\n..." */
};

struct watch {
	int		 fd;		/* inotify, -1 = none */
	struct wfile	*f;
	size_t		 nf;
	struct wdir	*d;
	size_t		 nd;
	int64_t		 first_ms;	/* first event of a burst, 0 = none */
	int64_t		 last_ms;	/* latest event of the burst */
};

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n-- > 0) {
		h ^= *c++;
		h *= FNV_PRIME;
	}
	return h;
}

/* FNV-1a over the 8 bytes of x. */
static uint64_t
fnv64(uint64_t h, uint64_t x)
{
	int i;

	for (i = 0; i < 8; i++, x >>= 8) {
		h ^= x & 0xff;
		h *= FNV_PRIME;
	}
	return h;
}

/* What stat(2) says of path (links followed), as a number: 0 when it
 * does not exist. */
static uint64_t
stat_sig(const char *path)
{
	struct stat st;
	uint64_t h;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : fnv64(FNV_BASIS, (uint64_t)errno);
	h = fnv64(FNV_BASIS, (uint64_t)st.st_dev);
	h = fnv64(h, (uint64_t)st.st_ino);
	h = fnv64(h, (uint64_t)st.st_size);
	h = fnv64(h, (uint64_t)st.st_mtim.tv_sec);
	h = fnv64(h, (uint64_t)st.st_mtim.tv_nsec);
	h = fnv64(h, (uint64_t)st.st_ctim.tv_sec);
	h = fnv64(h, (uint64_t)st.st_ctim.tv_nsec);
	return h != 0 ? h : 1;
}

/* A CApath directory: its files (as the loader reads them: names not
 * starting with "."), in any order. */
static uint64_t
dir_sig(const char *path)
{
	struct dirent *de;
	uint64_t sum, h, s;
	char *p;
	DIR *dp;

	if ((dp = opendir(path)) == NULL)
		return errno == ENOENT ? 0 : fnv64(FNV_BASIS, (uint64_t)errno);
	sum = 1;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", path, de->d_name);
		s = stat_sig(p);
		free(p);
		h = fnv(FNV_BASIS, de->d_name, strlen(de->d_name));
		sum += fnv64(h, s);
	}
	closedir(dp);
	return sum != 0 ? sum : 1;
}

static uint64_t
file_sig(const struct wfile *f)
{
	return f->is_dir ? dir_sig(f->path) : stat_sig(f->path);
}

/* ---- the directories to watch ---- */

static struct wdir *
dir_get(struct watch *w, const char *path)
{
	size_t i;

	for (i = 0; i < w->nd; i++)
		if (strcmp(w->d[i].path, path) == 0)
			return &w->d[i];
	w->d = xreallocarray(w->d, w->nd + 1, sizeof(*w->d));
	memset(&w->d[w->nd], 0, sizeof(w->d[0]));
	w->d[w->nd].path = xstrdup(path);
	w->d[w->nd].wd = -1;
	buf_init(&w->d[w->nd].names);
	return &w->d[w->nd++];
}

/* Entry name of directory dir ("" is the root) matters. */
static void
dir_name(struct watch *w, const char *dir, const char *name)
{
	struct wdir *d = dir_get(w, *dir != '\0' ? dir : "/");
	char *line = xasprintf("\n%s\n", name);

	if (d->names.data == NULL || strstr(d->names.data, line) == NULL) {
		if (d->names.len == 0)
			buf_add(&d->names, "\n", 1);
		buf_adds(&d->names, line + 1);
	}
	free(line);
}

/* The target of a symbolic link (caller frees), or NULL. */
static char *
link_target(const char *path, size_t size)
{
	char *t = xmalloc(size + 1);
	ssize_t n;

	if ((n = readlink(path, t, size + 1)) < 0 || (size_t)n > size) {
		free(t);
		return NULL;
	}
	t[n] = '\0';
	return t;
}

/* One step of resolve(): prefix is the real path so far (no links in
 * it, "" for the root), c the next component, rest what follows it.
 * Returns 0 with *prefixp extended by c; 1 when c is a symbolic link,
 * with *nextp the path to walk again from the root; -1 when c does not
 * exist (yet). Notes the directory and name of a link or of a missing
 * component: a change there changes what the path means. */
static int
walk_step(struct watch *w, char **prefixp, const char *c, const char *rest,
    int *hops, char **nextp)
{
	char *cand = xasprintf("%s/%s", *prefixp, c), *t;
	struct stat st;

	if (lstat(cand, &st) < 0) {
		dir_name(w, *prefixp, c);
		free(cand);
		return -1;
	}
	if (!S_ISLNK(st.st_mode) || ++*hops > WATCH_MAX_LINKS ||
	    (t = link_target(cand, (size_t)st.st_size + 64)) == NULL) {
		free(*prefixp);
		*prefixp = cand;
		return 0;
	}
	dir_name(w, *prefixp, c);
	*nextp = t[0] == '/' ? xasprintf("%s%s", t, rest) :
	    xasprintf("%s/%s%s", *prefixp, t, rest);
	free(t);
	free(cand);
	return 1;
}

/* Walks path once; 1 with *nextp when a link restarts the walk. At the
 * end, notes the file it resolves to (is_dir: every entry of that
 * directory too). */
static int
walk(struct watch *w, const char *path, int is_dir, int *hops, char **nextp)
{
	char *prefix = xstrdup(""), *c, *slash;
	const char *rest;
	size_t len;
	int rc = 0;

	for (rest = path; rc == 0; ) {
		rest += strspn(rest, "/");
		if ((len = strcspn(rest, "/")) == 0)
			break;
		c = xstrndup(rest, len);
		rest += len;
		if (strcmp(c, "..") == 0) {
			/* prefix has no links: its parent is lexical */
			if ((slash = strrchr(prefix, '/')) != NULL)
				*slash = '\0';
		} else if (strcmp(c, ".") != 0)
			rc = walk_step(w, &prefix, c, rest, hops, nextp);
		free(c);
	}
	if (rc == 0 && (slash = strrchr(prefix, '/')) != NULL) {
		*slash = '\0';
		dir_name(w, prefix, slash + 1);
		*slash = '/';
		if (is_dir)
			dir_get(w, prefix)->any = 1;
	}
	free(prefix);
	return rc == 1;
}

/* Notes the directories and names that path depends on: every symbolic
 * link on the way, and the file it resolves to. */
static void
resolve(struct watch *w, const char *path, int is_dir)
{
	char *cur = xstrdup(path), *next = NULL;
	int hops = 0;

	while (walk(w, cur, is_dir, &hops, &next)) {
		free(cur);
		cur = next;
	}
	free(cur);
}

static void
dirs_clear(struct watch *w)
{
	size_t i;

	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	for (i = 0; i < w->nd; i++) {
		free(w->d[i].path);
		buf_fini(&w->d[i].names);
	}
	free(w->d);
	w->d = NULL;
	w->nd = 0;
}

/* Why inotify refused, for the log. */
static const char *
limit_hint(int e)
{
	if (e == ENOSPC)
		return " (the fs.inotify.max_user_watches limit)";
	if (e == EMFILE)
		return " (the fs.inotify.max_user_instances limit)";
	return "";
}

/* A new inotify instance on every directory the files depend on now
 * (a directory replaced since, a file that appeared). Events that the
 * old instance still held are not needed: the caller compares
 * signatures after this. */
static void
arm(struct watch *w, int report)
{
	size_t i;
	int e;

	dirs_clear(w);
	for (i = 0; i < w->nf; i++)
		resolve(w, w->f[i].path, w->f[i].is_dir);
	if (w->nd == 0)
		return;
	if ((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
		e = errno;
		if (report)
			log_warnx("tlsproxy_watch_files: cannot watch the TLS "
			    "files for changes: inotify: %s%s; reload by hand "
			    "after changing them", strerror(e), limit_hint(e));
		return;
	}
	for (i = 0; i < w->nd; i++) {
		if ((w->d[i].wd = inotify_add_watch(w->fd, w->d[i].path,
		    WATCH_MASK)) >= 0)
			continue;
		e = errno;
		/* gone or not a directory since resolve(): the next event
		 * or reload looks again */
		if (report && e != ENOENT && e != ENOTDIR)
			log_warnx("tlsproxy_watch_files: cannot watch "
			    "directory %s: %s%s; reload by hand after changing "
			    "files there", w->d[i].path, strerror(e),
			    limit_hint(e));
	}
}

/* ---- the files ---- */

/* Keeps (or adds) the file of snapshot key "file.PATH" or
 * "file.dir:PATH". */
static void
file_key(struct watch *w, const char *key)
{
	const char *path;
	int is_dir;
	size_t i;

	if (strncmp(key, "file.", 5) != 0)
		return;
	path = key + 5;
	if ((is_dir = strncmp(path, "dir:", 4) == 0) != 0)
		path += 4;
	if (*path == '\0')
		return;
	for (i = 0; i < w->nf; i++) {
		if (w->f[i].is_dir == is_dir &&
		    strcmp(w->f[i].path, path) == 0) {
			if (w->f[i].mark == 0)
				w->f[i].mark = 1;
			return;
		}
	}
	w->f = xreallocarray(w->f, w->nf + 1, sizeof(*w->f));
	w->f[w->nf].path = xstrdup(path);
	w->f[w->nf].is_dir = is_dir;
	w->f[w->nf].sig = file_sig(&w->f[w->nf]);
	w->f[w->nf++].mark = 2;
}

/* Drops the files watch_set did not mark. */
static void
files_sweep(struct watch *w)
{
	size_t i, k;

	for (i = k = 0; i < w->nf; i++) {
		if (w->f[i].mark == 0)
			free(w->f[i].path);
		else
			w->f[k++] = w->f[i];
	}
	w->nf = k;
}

static void
pending(struct watch *w, int64_t now_ms)
{
	if (w->first_ms == 0)
		w->first_ms = now_ms;
	w->last_ms = now_ms;
}

struct watch *
watch_new(void)
{
	struct watch *w = xcalloc(1, sizeof(*w));

	w->fd = -1;
	return w;
}

void
watch_free(struct watch *w)
{
	size_t i;

	if (w == NULL)
		return;
	dirs_clear(w);
	for (i = 0; i < w->nf; i++)
		free(w->f[i].path);
	free(w->f);
	free(w);
}

void
watch_sync(struct watch *w)
{
	size_t i;

	for (i = 0; i < w->nf; i++)
		w->f[i].sig = file_sig(&w->f[i]);
}

void
watch_set(struct watch *w, const struct snapshot *running, const char *tried,
    int64_t now_ms)
{
	const char *p, *nl;
	char *key;
	size_t i;

	for (i = 0; i < w->nf; i++)
		w->f[i].mark = 0;
	for (i = 0; running != NULL && i < running->n; i++)
		file_key(w, running->kv[i].key);
	for (p = tried; p != NULL && *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		key = xstrndup(p, (size_t)(nl - p));
		file_key(w, key);
		free(key);
	}
	files_sweep(w);
	arm(w, 1);
	/* changed while the reload ran: check again */
	for (i = 0; i < w->nf; i++)
		if (w->f[i].mark == 1 && file_sig(&w->f[i]) != w->f[i].sig)
			pending(w, now_ms);
}

int
watch_fd(const struct watch *w)
{
	return w != NULL ? w->fd : -1;
}

/* 1 if the event concerns a watched file. */
static int
event_counts(const struct watch *w, const struct inotify_event *ev)
{
	const struct wdir *d = NULL;
	char *line;
	size_t i;
	int hit;

	if (ev->mask & IN_Q_OVERFLOW)
		return 1;	/* lost events: look */
	for (i = 0; i < w->nd && d == NULL; i++)
		if (w->d[i].wd == ev->wd)
			d = &w->d[i];
	if (d == NULL)
		return 0;
	if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF) || d->any)
		return 1;
	if (ev->len == 0 || d->names.data == NULL)
		return 0;
	line = xasprintf("\n%s\n", ev->name);
	hit = strstr(d->names.data, line) != NULL;
	free(line);
	return hit;
}

void
watch_read(struct watch *w, int64_t now_ms)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;
	int hit = 0;

	while (w->fd >= 0 && (n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (p = buf; p + sizeof(*ev) <= buf + n;
		    p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			hit |= event_counts(w, ev);
		}
	}
	if (hit) {
		log_debug("watch: a watched file changed; checking in %d ms",
		    WATCH_QUIET_MS);
		pending(w, now_ms);
	}
}

int64_t
watch_timeout(const struct watch *w, int64_t now_ms)
{
	int64_t due;

	if (w == NULL || w->first_ms == 0)
		return -1;
	due = w->last_ms + WATCH_QUIET_MS;
	if (w->first_ms + WATCH_MAX_MS < due)
		due = w->first_ms + WATCH_MAX_MS;
	return due > now_ms ? due - now_ms : 0;
}

size_t
watch_check(struct watch *w, int64_t now_ms, struct buf *changed)
{
	uint64_t sig;
	size_t i, n = 0;

	if (w->first_ms == 0 || watch_timeout(w, now_ms) > 0)
		return 0;
	w->first_ms = w->last_ms = 0;
	arm(w, 0);
	for (i = 0; i < w->nf; i++) {
		if ((sig = file_sig(&w->f[i])) == w->f[i].sig)
			continue;
		w->f[i].sig = sig;
		buf_addf(changed, "%s%s", n++ ? " " : "", w->f[i].path);
	}
	return n;
}

size_t
watch_count(const struct watch *w)
{
	return w != NULL ? w->nf : 0;
}
