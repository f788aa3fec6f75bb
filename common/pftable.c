/*
 * pftable.c - parsing Postfix inline: and texthash: lookup tables.
 *
 * Runs in: the privileged supervisor and the CLI. Parses memory only;
 * owns the entries it adds to a struct pft.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pftable.h"
#include "util.h"

#define PFT_SEP	", \t\r\n"	/* Postfix's CHARS_COMMA_SP */

__attribute__((format(printf, 4, 5)))
static void
say(pft_report_fn *rep, void *arg, int is_error, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rep(is_error, msg, arg);
}

void
pft_init(struct pft *t)
{
	t->v = NULL;
	t->n = 0;
}

void
pft_fini(struct pft *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].key);
		free(t->v[i].val);
		free(t->v[i].origin);
	}
	free(t->v);
	pft_init(t);
}

/* Adds key = val unless key is there already (the first one stays). */
static void
pft_add(struct pft *t, const char *key, const char *val, char *origin,
    pft_report_fn *rep, void *arg)
{
	char *low = xstrdup(key), *p;
	size_t i;

	for (p = low; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	for (i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].key, low) == 0) {
			say(rep, arg, 0, "%s: duplicate entry \"%s\" ignored: "
			    "the one at %s is used", origin, low,
			    t->v[i].origin);
			free(low);
			free(origin);
			return;
		}
	}
	t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
	t->v[t->n].key = low;
	t->v[t->n].val = xstrdup(val);
	t->v[t->n++].origin = origin;
}

/* The next token of *cpp, ended by a separator outside braces and
 * terminated in place; NULL at the end. *badp is set when a brace has
 * no partner. */
static char *
tok_next(char **cpp, int *badp)
{
	char *s = *cpp + strspn(*cpp, PFT_SEP), *p;
	int level = 0;

	if (*s == '\0')
		return NULL;
	for (p = s; *p != '\0'; p++) {
		if (*p == '{')
			level++;
		else if (*p == '}' && --level < 0)
			*badp = 1;
		else if (level == 0 && strchr(PFT_SEP, *p) != NULL)
			break;
	}
	if (level != 0)
		*badp = 1;
	if (*p != '\0')
		*p++ = '\0';
	*cpp = p;
	return s;
}

int
pft_split(const char *list, char ***tabp, char *err, size_t errlen)
{
	char *copy = xstrdup(list), *cp = copy, *w;
	char **tab = NULL;
	int n = 0, bad = 0;

	while ((w = tok_next(&cp, &bad)) != NULL) {
		tab = xreallocarray(tab, (size_t)n + 1, sizeof(*tab));
		tab[n++] = xstrdup(w);
	}
	free(copy);
	if (bad) {
		pft_split_free(tab, n);
		*tabp = NULL;
		return errf(err, errlen, "unbalanced braces in \"%s\"", list);
	}
	*tabp = tab;
	return n;
}

void
pft_split_free(char **tab, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(tab[i]);
	free(tab);
}

/* "{ text }" -> "text" in place; NULL unless s is exactly one braced
 * group. */
static char *
brace_strip(char *s)
{
	size_t len;

	str_trim(s);
	len = strlen(s);
	if (len < 2 || s[0] != '{' || s[len - 1] != '}')
		return NULL;
	s[len - 1] = '\0';
	return str_trim(s + 1);
}

/* One "name = value" of an inline table (braces already removed). */
static int
inline_entry(struct pft *t, char *nameval, size_t k, pft_report_fn *rep,
    void *arg)
{
	char *eq = strchr(nameval, '=');

	if (eq == NULL || eq == nameval) {
		say(rep, arg, 1, "inline: entry %zu (\"%s\"): %s", k, nameval,
		    eq == NULL ? "missing '=' (write { name = value } when "
		    "there is white space or a comma in it)" :
		    "missing name before '='");
		return 1;
	}
	*eq = '\0';
	str_trim(nameval);
	if (*nameval == '\0') {
		say(rep, arg, 1, "inline: entry %zu: missing name before '='",
		    k);
		return 1;
	}
	pft_add(t, nameval, str_trim(eq + 1), xasprintf("inline: entry %zu "
	    "(\"%s\")", k, nameval), rep, arg);
	return 0;
}

int
pft_inline_parse(struct pft *t, const char *text, pft_report_fn *rep,
    void *arg)
{
	char *copy = xstrdup(text), *body, *w, *cp;
	int bad = 0, errors = 0;
	size_t k = 0;

	if ((body = brace_strip(copy)) == NULL) {
		say(rep, arg, 1, "inline:%s: want inline:{ name=value, ... }",
		    text);
		free(copy);
		return 1;
	}
	cp = body;
	while (errors == 0 && (w = tok_next(&cp, &bad)) != NULL && !bad) {
		k++;
		if (*w == '{' && (w = brace_strip(w)) == NULL) {
			say(rep, arg, 1, "inline: entry %zu: text after '}'",
			    k);
			errors++;
		} else
			errors += inline_entry(t, w, k, rep, arg);
	}
	if (bad)
		say(rep, arg, 1, "inline:%s: unbalanced braces", text);
	else if (k == 0)
		say(rep, arg, 1, "inline:%s: empty table", text);
	free(copy);
	return errors + (bad || k == 0);
}

/* One logical line of a texthash file ("key whitespace value"). */
static int
text_entry(struct pft *t, const char *path, unsigned line, char *text,
    pft_report_fn *rep, void *arg)
{
	char *val = text + strcspn(text, " \t\r\n");

	if (*val == '\0' || *str_trim(val + 1) == '\0') {
		say(rep, arg, 1, "%s:%u: want \"key whitespace value\"", path,
		    line);
		return 1;
	}
	*val = '\0';
	pft_add(t, text, val + 1, xasprintf("%s:%u", path, line), rep, arg);
	return 0;
}

/* Adds the logical line in b (started at line) if there is one. */
static int
text_flush(struct pft *t, const char *path, unsigned line, struct buf *b,
    pft_report_fn *rep, void *arg)
{
	int rc = 0;

	if (b->len > 0)
		rc = text_entry(t, path, line, b->data, rep, arg);
	buf_fini(b);
	return rc;
}

int
pft_text_parse(struct pft *t, const char *path, const char *data,
    size_t len, pft_report_fn *rep, void *arg)
{
	const char *p = data, *end = data + len, *nl, *q;
	unsigned line = 0, start = 0;
	struct buf b;
	int errors = 0;

	if (memchr(data, '\0', len) != NULL) {
		say(rep, arg, 1, "%s: a NUL byte: not a text file", path);
		return 1;
	}
	buf_init(&b);
	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		for (q = p; q < nl && isspace((unsigned char)*q); q++)
			;
		if (q == nl || *q == '#')	/* blank or comment */
			continue;
		if (q == p) {	/* not a continuation: a new entry */
			errors += text_flush(t, path, start, &b, rep, arg);
			start = line;
		} else if (b.len == 0) {
			say(rep, arg, 1, "%s:%u: a continuation line without "
			    "an entry before it", path, line);
			errors++;
			continue;
		}
		buf_add(&b, " ", b.len > 0);
		buf_add(&b, q, (size_t)(nl - q));
	}
	errors += text_flush(t, path, start, &b, rep, arg);
	return errors;
}
