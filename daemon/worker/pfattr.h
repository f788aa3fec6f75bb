/*
 * pfattr.h - Postfix's "attr0" attribute encoding, as postscreen(8) and
 * smtp(8) speak it on the tlsproxy(8) socket: a list is attributes
 * "name NUL value NUL" ended by one more NUL (an empty name). Numbers
 * are unsigned decimal, strings are the bytes as they are.
 *
 * Runs in: the sandboxed worker (and the unit and fuzz tests). Owns
 * nothing: a scanned list points into the caller's buffer.
 *
 * Strict by design: a name outside [A-Za-z0-9_], a name or value over its
 * limit, too many attributes, a list that is not exactly the one
 * expected (names, order, count) and a number with a sign or trailing
 * bytes are errors. Postfix's own reader is laxer in places (it takes
 * "-1" as 4294967295 and skips an unknown last attribute); a peer of
 * ours never needs that.
 */
#ifndef TLSWARD_PFATTR_H
#define TLSWARD_PFATTR_H

#include <stddef.h>

#include "util.h"

#define PFA_NAME_MAX	64	/* bytes of a name, without its NUL */
#define PFA_VALUE_MAX	4096	/* bytes of a value, without its NUL */
#define PFA_LIST_MAX	64	/* attributes in one list */

/* One attribute: both strings point into the scanned buffer. */
struct pfa {
	const char	*name;
	const char	*value;
};

struct pfa_list {
	struct pfa	 v[PFA_LIST_MAX];
	size_t		 n;
};

/* Scans the list at the start of buf[0..len). 1: complete, *used = its
 * length in bytes (the terminator included); 0: incomplete so far (a
 * partial name or value within its limit); -1: malformed, why says how.
 * buf is not changed, and every name and value in l ends at a NUL of
 * buf. */
int	pfa_scan(const char *buf, size_t len, struct pfa_list *l,
	    size_t *used, char *why, size_t whylen);

/* 0 if l holds exactly the names given, in that order; -1 with why
 * naming the first difference ("unexpected attribute X (expecting Y)",
 * "missing attribute Y", "extra attribute X"). */
int	pfa_expect(const struct pfa_list *l, const char *const *names,
	    size_t n, char *why, size_t whylen);

/* An unsigned decimal without sign, spaces or trailing bytes, at most
 * max: 0 and *vp, or -1. */
int	pfa_uint(const char *v, unsigned max, unsigned *vp);

/* Appends one attribute, or the list terminator, to b. The caller keeps
 * names and values free of NUL bytes (a NUL would end them early). */
void	pfa_put_str(struct buf *b, const char *name, const char *value);
void	pfa_put_uint(struct buf *b, const char *name, unsigned value);
void	pfa_end(struct buf *b);

#endif
