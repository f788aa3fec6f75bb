/*
 * pfattr.c - Postfix's "attr0" attribute lists: the strict scanner and
 * the writer (the contract is in pfattr.h).
 *
 * Runs in: the sandboxed worker; pure functions over buffers, so the
 * unit test and the libFuzzer target call them as they are.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pfattr.h"

/* Names as Postfix writes them: letters, digits, '_' (peer_CN, CAfile). */
static int
name_ok(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
			return 0;
	return 1;
}

/* The string at buf[off..len) up to its NUL: 1 and *endp (the NUL's
 * offset), 0 if no NUL yet within max bytes, -1 if longer than max. */
static int
field(const char *buf, size_t len, size_t off, size_t max, size_t *endp)
{
	const char *nul = memchr(buf + off, '\0', len - off);

	if (nul == NULL)
		return len - off > max ? -1 : 0;
	if ((size_t)(nul - (buf + off)) > max)
		return -1;
	*endp = (size_t)(nul - buf);
	return 1;
}

/* One attribute at *offp: 1 (added to l, *offp past it), 2 (the list
 * terminator, *offp past it), 0 (incomplete) or -1. */
static int
scan_one(const char *buf, size_t len, size_t *offp, struct pfa_list *l,
    char *why, size_t whylen)
{
	size_t off = *offp, nend, vend;
	int rc;

	if (off >= len)
		return 0;
	if (buf[off] == '\0') {
		*offp = off + 1;
		return 2;
	}
	if ((rc = field(buf, len, off, PFA_NAME_MAX, &nend)) <= 0)
		return rc < 0 ? errf(why, whylen, "attribute name longer "
		    "than %d bytes", PFA_NAME_MAX) : 0;
	if (!name_ok(buf + off, nend - off))
		return errf(why, whylen, "malformed attribute name");
	if (l->n == PFA_LIST_MAX)
		return errf(why, whylen, "more than %d attributes",
		    PFA_LIST_MAX);
	if ((rc = field(buf, len, nend + 1, PFA_VALUE_MAX, &vend)) <= 0)
		return rc < 0 ? errf(why, whylen, "attribute %s: value "
		    "longer than %d bytes", buf + off, PFA_VALUE_MAX) : 0;
	l->v[l->n].name = buf + off;
	l->v[l->n++].value = buf + nend + 1;
	*offp = vend + 1;
	return 1;
}

int
pfa_scan(const char *buf, size_t len, struct pfa_list *l, size_t *used,
    char *why, size_t whylen)
{
	size_t off = 0;
	int rc;

	l->n = 0;
	while ((rc = scan_one(buf, len, &off, l, why, whylen)) == 1)
		;
	if (rc == 2)
		*used = off;
	return rc == 2 ? 1 : rc;
}

int
pfa_expect(const struct pfa_list *l, const char *const *names, size_t n,
    char *why, size_t whylen)
{
	size_t i;

	for (i = 0; i < n && i < l->n; i++)
		if (strcmp(l->v[i].name, names[i]) != 0)
			return errf(why, whylen, "unexpected attribute %s "
			    "(expecting %s)", l->v[i].name, names[i]);
	if (i < n)
		return errf(why, whylen, "missing attribute %s", names[i]);
	if (i < l->n)
		return errf(why, whylen, "extra attribute %s", l->v[i].name);
	return 0;
}

int
pfa_uint(const char *v, unsigned max, unsigned *vp)
{
	unsigned long long x = 0;

	if (*v == '\0')
		return -1;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return -1;
		x = x * 10 + (unsigned)(*v - '0');
		if (x > max)
			return -1;
	}
	*vp = (unsigned)x;
	return 0;
}

void
pfa_put_str(struct buf *b, const char *name, const char *value)
{
	buf_add(b, name, strlen(name) + 1);
	buf_add(b, value, strlen(value) + 1);
}

void
pfa_put_uint(struct buf *b, const char *name, unsigned value)
{
	char num[16];

	snprintf(num, sizeof(num), "%u", value);
	pfa_put_str(b, name, num);
}

void
pfa_end(struct buf *b)
{
	buf_add(b, "", 1);
}
