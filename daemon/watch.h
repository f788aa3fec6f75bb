/*
 * watch.h - reload on certificate change: the supervisor watches the
 * files of the TLS material (every file.PATH and file.dir:PATH of the
 * snapshot: keys, certificates, chains, CA files and directories, DH
 * parameters, and whatever else the loader reads into the snapshot) with
 * inotify, and says when one of them has changed and things have been
 * quiet for WATCH_QUIET_MS (at most WATCH_MAX_MS after the first
 * change), so that a multi-file update reloads once.
 *
 * What is watched is directories, never the files: the directory of each
 * file (a rename over it, an editor's temporary file renamed into place,
 * a file that does not exist yet), the directory of every symbolic link
 * met while resolving its path (a Kubernetes Secret's "..data" link
 * swapped by a rename), and the directory holding the file the path
 * finally resolves to (an in-place write). An event counts only when it
 * names one of those entries. A change is then decided by comparing
 * stat(2) signatures (device, inode, size, mtime, ctime; for a directory,
 * those of every file in it) with the ones the last reload read, so an
 * event that changed nothing reloads nothing, and a change made while a
 * reload was running is seen afterwards.
 *
 * Runs in: the privileged supervisor. It reads no file contents: only
 * lstat/stat/readlink/readdir on the paths the configuration names.
 * Failures of inotify (no instance or watch left, a directory it may not
 * read) are warnings: those files are then not watched.
 */
#ifndef TLSWARD_WATCH_H
#define TLSWARD_WATCH_H

#include <stddef.h>
#include <stdint.h>

#define WATCH_QUIET_MS	500	/* no further change for this long */
#define WATCH_MAX_MS	5000	/* ... or this long after the first one */

struct buf;
struct snapshot;
struct watch;

/* A watcher with nothing to watch yet. watch_free(NULL) is a no-op. */
struct watch	*watch_new(void);
void		 watch_free(struct watch *w);

/* Just before a reload reads the files (whatever started it): the
 * current signatures become the ones "the last reload read". */
void	watch_sync(struct watch *w);

/* After a reload, applied or refused (and at start): watches the files
 * of running (its file.* keys) and those named in tried ("\n"-separated
 * snapshot keys, as struct loader's files and loader_opts.files give
 * them; may be NULL): those the load looked for and did not find, and
 * those a refused reload wanted, so that fixing them retries.
 * A file that changed since watch_sync makes a check due. Inotify
 * problems are logged here. */
void	watch_set(struct watch *w, const struct snapshot *running,
	    const char *tried, int64_t now_ms);

/* The inotify descriptor to poll for input, or -1. */
int	watch_fd(const struct watch *w);

/* The descriptor is readable: reads its events; one that concerns a
 * watched file starts (or extends) the quiet period. */
void	watch_read(struct watch *w, int64_t now_ms);

/* Milliseconds until a check is due (0 = now), or -1 when none is. */
int64_t	watch_timeout(const struct watch *w, int64_t now_ms);

/* When a check is due: re-arms the watches (a replaced directory, a file
 * that appeared) and compares signatures. Returns the number of changed
 * files, their paths appended to changed (space-separated); 0 also when
 * no check is due. The new signatures are remembered, so a change is
 * reported once. */
size_t	watch_check(struct watch *w, int64_t now_ms, struct buf *changed);

/* The number of files watched. */
size_t	watch_count(const struct watch *w);

#endif
