/*
 * snapshot.c - the flat key/value snapshot and its wire format.
 *
 * Runs in: supervisor (build, encode) and worker (decode, look up). A
 * snapshot is immutable once sealed, so worker threads read it without
 * locks.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"
#include "util.h"

void
snap_init(struct snapshot *s)
{
	s->kv = NULL;
	s->n = 0;
}

void
snap_fini(struct snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		explicit_bzero(s->kv[i].val, s->kv[i].vlen);
		free(s->kv[i].key);
		free(s->kv[i].val);
	}
	free(s->kv);
	snap_init(s);
}

void
snap_set(struct snapshot *s, const char *key, const void *val, size_t vlen)
{
	struct snap_kv *kv;

	s->kv = xreallocarray(s->kv, s->n + 1, sizeof(*s->kv));
	kv = &s->kv[s->n++];
	kv->key = xstrdup(key);
	kv->val = xmalloc(vlen + 1);
	memcpy(kv->val, val, vlen);
	kv->val[vlen] = '\0';
	kv->vlen = vlen;
}

void
snap_setf(struct snapshot *s, const char *val, const char *keyfmt, ...)
{
	va_list ap;
	char *key;

	va_start(ap, keyfmt);
	if (vasprintf(&key, keyfmt, ap) < 0)
		key = NULL;
	va_end(ap);
	if (key == NULL)
		abort();
	snap_set(s, key, val, strlen(val));
	free(key);
}

static int
kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct snap_kv *)a)->key,
	    ((const struct snap_kv *)b)->key);
}

int
snap_seal(struct snapshot *s)
{
	size_t i;

	if (s->n > 0)
		qsort(s->kv, s->n, sizeof(*s->kv), kv_cmp);
	for (i = 1; i < s->n; i++)
		if (strcmp(s->kv[i - 1].key, s->kv[i].key) == 0)
			return -1;
	return 0;
}

const char *
snap_get(const struct snapshot *s, const char *key, size_t *vlenp)
{
	struct snap_kv k = { (char *)(uintptr_t)key, NULL, 0 }, *kv;

	kv = s->n ? bsearch(&k, s->kv, s->n, sizeof(*s->kv), kv_cmp) : NULL;
	if (kv == NULL)
		return NULL;
	if (vlenp != NULL)
		*vlenp = kv->vlen;
	return kv->val;
}

const char *
snap_getf(const struct snapshot *s, size_t *vlenp, const char *keyfmt, ...)
{
	char key[512];
	va_list ap;

	va_start(ap, keyfmt);
	vsnprintf(key, sizeof(key), keyfmt, ap);
	va_end(ap);
	return snap_get(s, key, vlenp);
}

static void
put_u32(struct buf *b, uint32_t v)
{
	buf_add(b, &v, sizeof(v));
}

void
snap_encode(const struct snapshot *s, unsigned char **bufp, size_t *lenp)
{
	struct buf b;
	size_t i, klen;

	buf_init(&b);
	put_u32(&b, (uint32_t)s->n);
	for (i = 0; i < s->n; i++) {
		klen = strlen(s->kv[i].key);
		put_u32(&b, (uint32_t)klen);
		buf_add(&b, s->kv[i].key, klen);
		put_u32(&b, (uint32_t)s->kv[i].vlen);
		buf_add(&b, s->kv[i].val, s->kv[i].vlen);
	}
	*lenp = b.len;
	*bufp = (unsigned char *)buf_take(&b);
}

/* Reads a u32 length and that many bytes at *off. */
static int
get_field(const unsigned char *buf, size_t len, size_t *off,
    const unsigned char **p, uint32_t *n)
{
	if (len - *off < sizeof(*n))
		return -1;
	memcpy(n, buf + *off, sizeof(*n));
	*off += sizeof(*n);
	if (len - *off < *n)
		return -1;
	*p = buf + *off;
	*off += *n;
	return 0;
}

int
snap_decode(struct snapshot *s, const unsigned char *buf, size_t len)
{
	const unsigned char *k, *v;
	uint32_t count, kl, vl, i;
	size_t off = 0;
	char *key;

	snap_init(s);
	if (len < sizeof(count))
		return -1;
	memcpy(&count, buf, sizeof(count));
	off = sizeof(count);
	for (i = 0; i < count; i++) {
		if (get_field(buf, len, &off, &k, &kl) < 0 ||
		    get_field(buf, len, &off, &v, &vl) < 0 ||
		    memchr(k, '\0', kl) != NULL) {
			snap_fini(s);
			return -1;
		}
		key = xstrndup((const char *)k, kl);
		snap_set(s, key, v, vl);
		free(key);
	}
	if (off != len || snap_seal(s) < 0) {
		snap_fini(s);
		return -1;
	}
	return 0;
}
