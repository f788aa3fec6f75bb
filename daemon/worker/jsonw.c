/*
 * jsonw.c - JSON strings from untrusted bytes, within a bound
 * (jsonw.h).
 *
 * Runs in: the worker (the JSON access log). No state.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "jsonw.h"

/* The length of the UTF-8 sequence at p (at most n bytes), or 0 when it
 * is not a well-formed one (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len, k;
	unsigned long c;

	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	len = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	if (n < len)
		return 0;
	c = p[0] & (0x7f >> len);
	for (k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[k] & 0x3f);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return len;
}

/* Appends n bytes if they fit within end (the member's bound). */
static int
put(char *buf, size_t *off, size_t end, const char *s, size_t n)
{
	if (*off + n > end)
		return -1;
	memcpy(buf + *off, s, n);
	*off += n;
	return 0;
}

void
jsonw_string(char *buf, size_t len, size_t *off, const char *s,
    size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t end, n, i = 0, rest;
	char esc[8];

	if (len == 0 || *off >= len - 1)
		return;
	end = len - 1 - *off < max ? len - 1 : *off + max;
	if (s == NULL) {
		(void)put(buf, off, end, "null", 4);
		buf[*off] = '\0';
		return;
	}
	if (end - *off < 2)
		return;
	end--;		/* room for the closing quote */
	buf[(*off)++] = '"';
	rest = strlen(s);
	while (i < rest) {
		n = 1;
		if (p[i] == '"' || p[i] == '\\')
			snprintf(esc, sizeof(esc), "\\%c", p[i]);
		else if (p[i] == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (p[i] < 0x20 || p[i] == 0x7f)
			snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
		else if (p[i] < 0x80) {
			esc[0] = (char)p[i];
			esc[1] = '\0';
		} else if ((n = utf8_len(p + i, rest - i)) == 0) {
			n = 1;
			snprintf(esc, sizeof(esc), "\\ufffd");
		} else {
			if (put(buf, off, end, s + i, n) < 0)
				break;
			i += n;
			continue;
		}
		if (put(buf, off, end, esc, strlen(esc)) < 0)
			break;
		i += n;
	}
	buf[(*off)++] = '"';
	buf[*off] = '\0';
}
