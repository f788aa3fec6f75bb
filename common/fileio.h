/*
 * fileio.h - reading whole files and writing them so that nothing is ever
 * half-written: new files are created exclusively with their final mode,
 * replacements go through a temporary file in the same directory, fsync,
 * rename and an fsync of the directory.
 *
 * Runs in: the CLI and the privileged supervisor (never the worker).
 */
#ifndef TLSWARD_FILEIO_H
#define TLSWARD_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Reads all of path (at most max bytes, else an error) into a new
 * NUL-terminated buffer. *datap is the caller's (free it; for secrets,
 * OPENSSL_clear_free it). Returns 0, or -1 with err naming the file. */
int	file_read(const char *path, size_t max, char **datap, size_t *lenp,
	    char *err, size_t errlen);

/* Creates path, which must not exist (O_EXCL, O_NOFOLLOW), with exactly
 * mode (the umask is overridden with fchmod before any byte is written),
 * writes data and fsyncs it. On failure the file is removed. Returns 0 or
 * -1 with err naming the file. */
int	file_create(const char *path, const void *data, size_t len, mode_t mode,
	    char *err, size_t errlen);

/* Atomically replaces (or creates) path with data: the temporary file is
 * created in the same directory, gets the mode and owner of the existing
 * file (or new_mode when path does not exist), is written and fsynced,
 * renamed over path, and the directory is fsynced. On any failure the
 * temporary file is removed and path is untouched. Returns 0 or -1. */
int	file_replace(const char *path, const void *data, size_t len,
	    mode_t new_mode, char *err, size_t errlen);

/* Removes path if it exists; used to undo a partly finished operation. */
void	file_remove_quiet(const char *path);

/* Returns 1 if path exists (any type, no link following), else 0. */
int	file_exists(const char *path);

/* mkdir -p: creates path and its missing parents, each new one with
 * exactly mode (whatever the umask). An existing directory is left as
 * it is. Returns 0, or -1 with err naming path (and the component that
 * failed); directories made before a failure stay. */
int	file_mkdirs(const char *path, mode_t mode, char *err, size_t errlen);

#endif
