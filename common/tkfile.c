/*
 * tkfile.c - the session ticket key file: strict reading (owner, mode,
 * no link), parsing and formatting (tkfile.h has the format).
 *
 * Runs in: the CLI, the privileged loader and the worker (parsing only:
 * the worker gets the text in the snapshot). Owns nothing it returns.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "tkfile.h"
#include "util.h"

#define TKF_B64_LEN	(((TKF_KEY_LEN + 2) / 3) * 4)	/* 108 */
#define TKF_B64_PAD	((3 - TKF_KEY_LEN % 3) % 3)	/* "=" at the end */

/* One line into out (TKF_KEY_LEN bytes): 0, or -1 if it is not exactly
 * one key in base64. */
static int
key_decode(const char *line, size_t len, unsigned char *out)
{
	unsigned char tmp[TKF_B64_LEN];
	int n;

	if (len != TKF_B64_LEN)
		return -1;
	n = EVP_DecodeBlock(tmp, (const unsigned char *)line, (int)len);
	if (n != TKF_KEY_LEN + TKF_B64_PAD ||
	    strspn(line + len - TKF_B64_PAD, "=") != TKF_B64_PAD) {
		OPENSSL_cleanse(tmp, sizeof(tmp));
		return -1;
	}
	memcpy(out, tmp, TKF_KEY_LEN);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return 0;
}

/* 1 if the key name of key k is one of the first k keys'. */
static int
name_seen(const unsigned char *keys, size_t k)
{
	size_t j;

	for (j = 0; j < k; j++)
		if (memcmp(keys + j * TKF_KEY_LEN, keys + k * TKF_KEY_LEN,
		    TKF_NAME_LEN) == 0)
			return 1;
	return 0;
}

/* Trims white space at both ends of [*p, *p + *len). */
static void
trim(const char **p, size_t *len)
{
	while (*len > 0 && strchr(" \t\r", **p) != NULL) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && strchr(" \t\r", (*p)[*len - 1]) != NULL)
		(*len)--;
}

int
tkf_parse(const char *path, const char *data, size_t len,
    unsigned char **keysp, char *err, size_t errlen)
{
	unsigned char *keys = OPENSSL_zalloc(TKF_MAX_KEYS * TKF_KEY_LEN);
	const char *p = data, *end = data + len, *nl, *l;
	size_t n = 0, ll, lineno = 0;

	if (keys == NULL)
		return errf(err, errlen, "%s: out of memory", path);
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		lineno++;
		l = p;
		ll = (size_t)(nl - p);
		trim(&l, &ll);
		if (ll == 0 || *l == '#')
			continue;
		if (n == TKF_MAX_KEYS) {
			errf(err, errlen, "%s:%zu: more than %d keys", path,
			    lineno, TKF_MAX_KEYS);
			goto fail;
		}
		if (key_decode(l, ll, keys + n * TKF_KEY_LEN) < 0) {
			errf(err, errlen, "%s:%zu: not a ticket key (want "
			    "the base64 of %d bytes: %d chars ending in \"=\")",
			    path, lineno, TKF_KEY_LEN, TKF_B64_LEN);
			goto fail;
		}
		if (name_seen(keys, n)) {
			errf(err, errlen, "%s:%zu: a second key with the name "
			    "of an earlier one", path, lineno);
			goto fail;
		}
		n++;
	}
	if (n == 0) {
		errf(err, errlen, "%s: holds no ticket key (\"tlsward "
		    "rotate-ticket-keys\" makes one)", path);
		goto fail;
	}
	*keysp = keys;
	return (int)n;
fail:
	OPENSSL_clear_free(keys, TKF_MAX_KEYS * TKF_KEY_LEN);
	return -1;
}

/* The checks on an open key file. */
static int
check_stat(const char *path, const struct stat *st, uid_t owner, char *err,
    size_t errlen)
{
	if (!S_ISREG(st->st_mode))
		return errf(err, errlen, "%s: not a regular file", path);
	if ((st->st_mode & 077) != 0)
		return errf(err, errlen, "%s: mode %04o: group and others "
		    "must have no access to ticket keys (chmod 600)", path,
		    (unsigned)(st->st_mode & 07777));
	if (st->st_uid != 0 && st->st_uid != owner)
		return errf(err, errlen, "%s: owned by uid %lu: want root or "
		    "uid %lu (the daemon's user)", path,
		    (unsigned long)st->st_uid, (unsigned long)owner);
	return 0;
}

int
tkf_read(const char *path, uid_t owner, char **datap, size_t *lenp,
    char *err, size_t errlen)
{
	char *data = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
	    O_NONBLOCK);
	if (fd < 0)
		return errf_errno(err, errlen, "cannot open %s", path);
	if (fstat(fd, &st) < 0) {
		errf_errno(err, errlen, "cannot read %s", path);
		goto fail;
	}
	if (check_stat(path, &st, owner, err, errlen) < 0)
		goto fail;
	data = OPENSSL_zalloc(TKF_MAX_FILE + 1);
	while (data != NULL && len < TKF_MAX_FILE &&
	    (r = read(fd, data + len, TKF_MAX_FILE - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			errf_errno(err, errlen, "cannot read %s", path);
			goto fail;
		}
		len += (size_t)r;
	}
	if (data == NULL || len == TKF_MAX_FILE) {
		errf(err, errlen, "%s: larger than %d bytes", path,
		    TKF_MAX_FILE - 1);
		goto fail;
	}
	close(fd);
	*datap = data;
	*lenp = len;
	return 0;
fail:
	OPENSSL_clear_free(data, TKF_MAX_FILE + 1);
	close(fd);
	return -1;
}

char *
tkf_format(const unsigned char *keys, size_t n, size_t *lenp)
{
	static const char head[] = "# tlswardd session ticket keys, newest "
	    "last (tlsward rotate-ticket-keys)\n";
	size_t cap = sizeof(head) + n * (TKF_B64_LEN + 2), len, k;
	char *out = OPENSSL_zalloc(cap);

	if (out == NULL)
		return NULL;
	memcpy(out, head, sizeof(head) - 1);
	len = sizeof(head) - 1;
	for (k = 0; k < n; k++) {
		len += (size_t)EVP_EncodeBlock((unsigned char *)out + len,
		    keys + k * TKF_KEY_LEN, TKF_KEY_LEN);
		out[len++] = '\n';
	}
	*lenp = len;
	return out;
}
