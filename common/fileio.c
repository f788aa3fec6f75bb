/*
 * fileio.c - whole-file reads, exclusive creation and atomic replacement.
 *
 * Runs in: CLI and privileged supervisor. Owns no state.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "util.h"

int
file_read(const char *path, size_t max, char **datap, size_t *lenp,
    char *err, size_t errlen)
{
	struct stat st;
	struct buf b;
	char chunk[8192];
	ssize_t n;
	int fd;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer; only
	 * regular files are read. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errf_errno(err, errlen, "cannot open %s", path);
	if (fstat(fd, &st) < 0) {
		errf_errno(err, errlen, "cannot read %s", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode)) {
			errno = EISDIR;
			errf_errno(err, errlen, "cannot read %s", path);
		} else
			errf(err, errlen, "cannot read %s: not a regular file",
			    path);
		close(fd);
		return -1;
	}
	buf_init(&b);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errf_errno(err, errlen, "cannot read %s", path);
			goto fail;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > max) {
			errf(err, errlen, "%s: file too large (limit %zu bytes)",
			    path, max);
			goto fail;
		}
		buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	explicit_bzero(chunk, sizeof(chunk));
	*lenp = b.len;
	*datap = buf_take(&b);
	return 0;
fail:
	if (b.data != NULL)
		explicit_bzero(b.data, b.len);
	buf_fini(&b);
	explicit_bzero(chunk, sizeof(chunk));
	close(fd);
	return -1;
}

/* Writes all of data to fd; 0 or -1 with errno set. */
static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsyncs the directory that holds path. */
static int
fsync_parent(const char *path)
{
	char *copy = xstrdup(path);
	int fd, rc = 0;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		rc = -1;
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

int
file_create(const char *path, const void *data, size_t len, mode_t mode,
    char *err, size_t errlen)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode & 0600);
	if (fd < 0)
		return errf_errno(err, errlen, "cannot create %s", path);
	/* The file never holds a byte under a wider mode than asked for. */
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 ||
	    fsync(fd) < 0) {
		errf_errno(err, errlen, "cannot write %s", path);
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) < 0) {
		errf_errno(err, errlen, "cannot write %s", path);
		unlink(path);
		return -1;
	}
	if (fsync_parent(path) < 0) {
		errf_errno(err, errlen, "cannot sync the directory of %s",
		    path);
		unlink(path);
		return -1;
	}
	return 0;
}

int
file_replace(const char *path, const void *data, size_t len,
    mode_t new_mode, char *err, size_t errlen)
{
	struct stat st;
	char *tmp;
	int fd, have_old;

	have_old = stat(path, &st) == 0;
	if (!have_old && errno != ENOENT)
		return errf_errno(err, errlen, "cannot stat %s", path);
	{
		char *copy = xstrdup(path), *base;

		base = basename(copy);
		tmp = xasprintf("%.*s.%s.tmpXXXXXX",
		    (int)(strlen(path) - strlen(base)), path, base);
		free(copy);
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		errf_errno(err, errlen, "cannot create a temporary file "
		    "beside %s", path);
		free(tmp);
		return -1;
	}
	if (fchmod(fd, have_old ? (st.st_mode & 07777) : new_mode) < 0 ||
	    (have_old && fchown(fd, st.st_uid, st.st_gid) < 0 &&
	     (errno != EPERM || st.st_uid != geteuid())) ||
	    write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		errf_errno(err, errlen, "cannot write %s", tmp);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		errf_errno(err, errlen, "cannot write %s", tmp);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		errf_errno(err, errlen, "cannot rename %s to %s", tmp, path);
		goto fail;
	}
	free(tmp);
	if (fsync_parent(path) < 0)
		return errf_errno(err, errlen, "cannot sync the directory "
		    "of %s", path);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

void
file_remove_quiet(const char *path)
{
	int saved = errno;

	if (path != NULL)
		(void)unlink(path);
	errno = saved;
}

int
file_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* One directory of file_mkdirs: made with exactly mode, or already one. */
static int
mkdir_one(const char *dir, mode_t mode, const char *path, char *err,
    size_t errlen)
{
	struct stat st;

	if (mkdir(dir, mode) == 0) {
		if (chmod(dir, mode) < 0)	/* the umask does not narrow it */
			return errf_errno(err, errlen, "cannot create "
			    "directory %s: chmod %s", path, dir);
		return 0;
	}
	if (errno != EEXIST)
		return errf_errno(err, errlen, "cannot create directory %s: "
		    "%s", path, dir);
	if (stat(dir, &st) < 0)
		return errf_errno(err, errlen, "cannot create directory %s: "
		    "%s", path, dir);
	if (!S_ISDIR(st.st_mode))
		return errf(err, errlen, "cannot create directory %s: %s is "
		    "not a directory", path, dir);
	return 0;
}

int
file_mkdirs(const char *path, mode_t mode, char *err, size_t errlen)
{
	char *dir = xstrdup(path), *p, c;
	int rc = 0;

	for (p = dir + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (p[-1] != '/') {	/* not an empty component */
			c = *p;
			*p = '\0';
			rc = mkdir_one(dir, mode, path, err, errlen);
			*p = c;
		}
		if (*p == '\0')
			break;
	}
	free(dir);
	return rc;
}
