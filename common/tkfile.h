/*
 * tkfile.h - the session ticket key file (tlsproxy_tls_ticket_key_file):
 * its format, its strict reading, and its text.
 *
 * Format: one key a line, newest last, each the base64 of 80 bytes (key
 * name 16, HMAC-SHA256 key 32, AES-256-CBC key 32: the fields a ticket
 * carries and is protected with, in one line an operator can copy
 * between hosts); "#" lines and blank lines are ignored.
 *
 * Runs in: the CLI (tlsward rotate-ticket-keys), the privileged loader,
 * and the worker (which parses the copy the snapshot carries; it opens
 * no file).
 */
#ifndef TLSWARD_TKFILE_H
#define TLSWARD_TKFILE_H

#include <stddef.h>
#include <sys/types.h>

#define TKF_NAME_LEN	16
#define TKF_HMAC_LEN	32
#define TKF_AES_LEN	32
#define TKF_KEY_LEN	(TKF_NAME_LEN + TKF_HMAC_LEN + TKF_AES_LEN)
#define TKF_MAX_KEYS	64	/* keys a file may hold */
#define TKF_MAX_FILE	16384	/* bytes */

/* Parses file text (path only names it in messages). Returns the number
 * of keys (1 to TKF_MAX_KEYS) with *keysp a new array of n *
 * TKF_KEY_LEN bytes in file order (the caller OPENSSL_clear_free()s it),
 * or -1 with err naming path:line (a line that is not one base64 key, no
 * key at all, too many, two keys with one name). */
int	tkf_parse(const char *path, const char *data, size_t len,
	    unsigned char **keysp, char *err, size_t errlen);

/* Reads path for the privileged side: no symbolic link, a regular file
 * that neither group nor others may read or write, owned by root or by
 * owner. Returns 0 with *datap (NUL-terminated, the caller
 * OPENSSL_clear_free()s it) and *lenp, or -1 with err naming the file. */
int	tkf_read(const char *path, uid_t owner, char **datap, size_t *lenp,
	    char *err, size_t errlen);

/* The file text for n keys (newest last), into a new buffer the caller
 * OPENSSL_clear_free()s; *lenp gets its length. */
char	*tkf_format(const unsigned char *keys, size_t n, size_t *lenp);

#endif
