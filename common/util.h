/*
 * util.h - small helpers shared by every program: allocation that cannot
 * return NULL, bounded string formatting, error buffers.
 *
 * Runs in: CLI, supervisor, worker. Owns nothing.
 */
#ifndef TLSWARD_UTIL_H
#define TLSWARD_UTIL_H

#include <stdarg.h>
#include <stddef.h>

/* Allocation: on exhaustion these log_panic() (a process that cannot
 * allocate a few bytes cannot do anything useful or safe). */
void	*xmalloc(size_t n);
void	*xcalloc(size_t nmemb, size_t size);
void	*xreallocarray(void *p, size_t nmemb, size_t size);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
char	*xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes a formatted message into a caller's error buffer (the "_check"
 * convention: functions return -1 and explain themselves in err).
 * err may be NULL (then nothing is written). Always returns -1. */
int	errf(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Like errf, with ": strerror(errno)" appended. Returns -1. */
int	errf_errno(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* A growable byte buffer (text is kept NUL-terminated). */
struct buf {
	char	*data;		/* NUL-terminated contents, or NULL when empty */
	size_t	 len;		/* bytes used, excluding the NUL */
	size_t	 cap;		/* bytes allocated */
};
void	buf_init(struct buf *b);
void	buf_add(struct buf *b, const void *p, size_t n);
void	buf_adds(struct buf *b, const char *s);
void	buf_addf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Hands the contents to the caller (never NULL: "" when empty) and resets. */
char	*buf_take(struct buf *b);
void	buf_fini(struct buf *b);

/* The admin socket's field encoding: appends s with bytes <= 0x20, '%'
 * and >= 0x7f as %XX; pct_decode undoes it in place (a '%' without two
 * hex digits after it is kept as is). */
void	buf_add_pct(struct buf *b, const char *s);
char	*pct_decode(char *s);

/* Trims ASCII white space at both ends, in place; returns s. */
char	*str_trim(char *s);

/* 1 if a file list (words separated by commas or white space, as in
 * *_chain_files) names a file: a word other than "none". */
int	list_names_files(const char *list);

#endif
