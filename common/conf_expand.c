/*
 * conf_expand.c - lazy $name expansion of parameter values and the typed
 * getters built on it.
 *
 * Forms: $name ${name} $(name) ${name?text} ${name:text} $$, and Postfix
 * 3's ${name?{text}} ${name:{text}} ${name?{t1}:{t2}} (braces stripped).
 * Expansion is recursive; an explicit stack of the names being expanded
 * turns a reference loop into an error that names the chain, and caps the
 * depth (CONF_EXP_MAX_DEPTH), the number of references (CONF_EXP_MAX_REFS)
 * and the length of the result (CONF_EXP_MAX_LEN), so no main.cf can make
 * expansion crash or run away.
 *
 * Runs in: the CLI and the privileged supervisor. Owns no state beyond a
 * call.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "util.h"

/* One name on the expansion stack (not NUL-terminated). */
struct exp_name {
	const char	*name;
	size_t		 len;
};

/* The state of one top-level expansion. */
struct exp_ctx {
	const struct conf *cf;
	struct exp_name	 stack[CONF_EXP_MAX_DEPTH + 1];
	size_t		 depth;
	size_t		 refs;		/* $name references so far */
	char		*err;
	size_t		 errlen;
};

static int	exp_text(struct exp_ctx *, const char *, size_t, struct buf *);

#define EXP_IS_NAMECHAR(c) (((c) >= 'a' && (c) <= 'z') || \
	((c) >= 'A' && (c) <= 'Z') || ((c) >= '0' && (c) <= '9') || (c) == '_')

static size_t
exp_namelen(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && EXP_IS_NAMECHAR(s[i]))
		i++;
	return i;
}

/* Writes "a -> b -> c" (the stack, then next) into err after prefix. */
static int
exp_chain_error(struct exp_ctx *x, const char *prefix, const char *next,
    size_t nextlen)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	buf_adds(&b, prefix);
	for (i = 0; i < x->depth; i++)
		buf_addf(&b, "%.*s -> ", (int)x->stack[i].len,
		    x->stack[i].name);
	buf_addf(&b, "%.*s", (int)nextlen, next);
	errf(x->err, x->errlen, "%s", b.data);
	buf_fini(&b);
	return -1;
}

/* A syntax error inside the value being expanded. */
static int
exp_syntax_error(struct exp_ctx *x, const char *what, const char *s,
    size_t n)
{
	if (x->depth == 0)
		return errf(x->err, x->errlen, "%s in \"%.*s\"", what, (int)n,
		    s);
	return errf(x->err, x->errlen, "%s in \"%.*s\" (value of %.*s)", what,
	    (int)n, s, (int)x->stack[x->depth - 1].len,
	    x->stack[x->depth - 1].name);
}

/* Pushes name unless that makes a loop or goes too deep. */
static int
exp_push(struct exp_ctx *x, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < x->depth; i++)
		if (x->stack[i].len == len &&
		    memcmp(x->stack[i].name, name, len) == 0)
			return exp_chain_error(x, "expansion loop: ", name,
			    len);
	if (x->depth == CONF_EXP_MAX_DEPTH)
		return exp_chain_error(x, "expansion nested deeper than "
		    "100 levels: ", name, len);
	if (++x->refs > CONF_EXP_MAX_REFS)
		return errf(x->err, x->errlen, "expansion needs more than %d "
		    "references", CONF_EXP_MAX_REFS);
	x->stack[x->depth].name = name;
	x->stack[x->depth].len = len;
	x->depth++;
	return 0;
}

/* Appends the expanded value of name (len bytes) to out. */
static int
exp_name(struct exp_ctx *x, const char *name, size_t len, struct buf *out)
{
	char *key = xstrndup(name, len);
	const char *raw;
	int rc;

	if (exp_push(x, name, len) < 0) {
		free(key);
		return -1;
	}
	raw = conf_raw(x->cf, key);
	free(key);
	rc = raw != NULL ? exp_text(x, raw, strlen(raw), out) : 0;
	x->depth--;
	return rc;
}

/* The offset of the bracket that closes the one before s (open/close
 * nest), or n when there is none. */
static size_t
exp_match(const char *s, size_t n, char open, char close)
{
	size_t i, level = 1;

	for (i = 0; i < n; i++) {
		if (s[i] == open)
			level++;
		else if (s[i] == close && --level == 0)
			return i;
	}
	return n;
}

static size_t
exp_skip_space(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* The parts of a conditional ${name?...} / ${name:...}. */
struct exp_cond {
	const char	*if_set;	/* text when the value is non-empty */
	size_t		 if_set_len;
	const char	*if_empty;	/* text when it is empty */
	size_t		 if_empty_len;
};

/* Parses the Postfix 3 form "{t1}" or "{t1}:{t2}" (s[0] is '{'); on
 * success t1 and t2 are the texts inside the braces (t2 may be NULL). */
static int
exp_braced(const char *s, size_t n, const char **t1, size_t *l1,
    const char **t2, size_t *l2)
{
	size_t e1 = exp_match(s + 1, n - 1, '{', '}') + 1, i;

	if (e1 >= n)
		return -1;
	*t1 = s + 1;
	*l1 = e1 - 1;
	*t2 = NULL;
	*l2 = 0;
	i = exp_skip_space(s, n, e1 + 1);
	if (i == n)
		return 0;
	if (s[i] != ':')
		return -1;
	i = exp_skip_space(s, n, i + 1);
	if (i == n || s[i] != '{' || exp_match(s + i + 1, n - i - 1, '{',
	    '}') != n - i - 2)
		return -1;
	*t2 = s + i + 1;
	*l2 = n - i - 2;
	return 0;
}

/* Fills c from the operator op and the text after it. */
static int
exp_cond_parse(char op, const char *s, size_t n, struct exp_cond *c)
{
	const char *t1 = s, *t2 = NULL;
	size_t l1 = n, l2 = 0, i = exp_skip_space(s, n, 0);

	if (i < n && s[i] == '{') {
		if (exp_braced(s + i, n - i, &t1, &l1, &t2, &l2) < 0)
			return -1;
		if (t2 != NULL && op != '?')
			return -1;
	}
	memset(c, 0, sizeof(*c));
	if (op == '?') {
		c->if_set = t1;
		c->if_set_len = l1;
		c->if_empty = t2;
		c->if_empty_len = l2;
	} else {
		c->if_empty = t1;
		c->if_empty_len = l1;
	}
	return 0;
}

/* Expands a conditional: name's value decides which text is used. */
static int
exp_cond(struct exp_ctx *x, const char *name, size_t len,
    const struct exp_cond *c, struct buf *out)
{
	struct buf val;
	int set;

	buf_init(&val);
	if (exp_name(x, name, len, &val) < 0) {
		buf_fini(&val);
		return -1;
	}
	set = val.len > 0;
	buf_fini(&val);
	if (set && c->if_set != NULL)
		return exp_text(x, c->if_set, c->if_set_len, out);
	if (!set && c->if_empty != NULL)
		return exp_text(x, c->if_empty, c->if_empty_len, out);
	return 0;
}

/* Expands the inside of ${...} or $(...) (s, n bytes). */
static int
exp_bracketed(struct exp_ctx *x, const char *s, size_t n, struct buf *out)
{
	size_t len = exp_namelen(s, n), i = exp_skip_space(s, n, len);
	struct exp_cond c;

	if (len == 0)
		return exp_syntax_error(x, "missing parameter name", s, n);
	if (len == n)
		return exp_name(x, s, len, out);
	if (i == n || (s[i] != '?' && s[i] != ':'))
		return exp_syntax_error(x, "invalid parameter name", s, n);
	if (exp_cond_parse(s[i], s + i + 1, n - i - 1, &c) < 0)
		return exp_syntax_error(x, "malformed conditional", s, n);
	return exp_cond(x, s, len, &c, out);
}

/* Expands the reference that starts at s[0] == '$' (n bytes to the end
 * of the text); *usedp gets the number of bytes it takes. */
static int
exp_dollar(struct exp_ctx *x, const char *s, size_t n, struct buf *out,
    size_t *usedp)
{
	size_t len = exp_namelen(s + 1, n - 1);
	char close;

	*usedp = 1;
	if (len > 0) {
		*usedp += len;
		return exp_name(x, s + 1, len, out);
	}
	if (n < 2 || (s[1] != '$' && s[1] != '{' && s[1] != '(')) {
		buf_adds(out, "$");	/* not a reference: kept literally */
		return 0;
	}
	if (s[1] == '$') {
		*usedp = 2;
		buf_adds(out, "$");
		return 0;
	}
	close = s[1] == '{' ? '}' : ')';
	len = exp_match(s + 2, n - 2, s[1], close);
	if (len == n - 2)
		return exp_syntax_error(x, close == '}' ? "missing \"}\"" :
		    "missing \")\"", s, n);
	*usedp = len + 3;
	return exp_bracketed(x, s + 2, len, out);
}

static int
exp_text(struct exp_ctx *x, const char *s, size_t n, struct buf *out)
{
	size_t i = 0, lit, used;

	while (i < n) {
		lit = i;
		while (i < n && s[i] != '$')
			i++;
		buf_add(out, s + lit, i - lit);
		if (i < n && exp_dollar(x, s + i, n - i, out, &used) < 0)
			return -1;
		if (out->len > CONF_EXP_MAX_LEN)
			return errf(x->err, x->errlen, "expanded value is "
			    "longer than %d bytes", CONF_EXP_MAX_LEN);
		if (i < n)
			i += used;
	}
	return 0;
}

/* ------------------------------------------------------ public API */

static void
exp_init(struct exp_ctx *x, const struct conf *cf, char *err, size_t errlen)
{
	x->cf = cf;
	x->depth = 0;
	x->refs = 0;
	x->err = err;
	x->errlen = errlen;
}

int
conf_get(const struct conf *cf, const char *name, char **valp, char *err,
    size_t errlen)
{
	struct exp_ctx x;
	struct buf b;

	exp_init(&x, cf, err, errlen);
	buf_init(&b);
	*valp = NULL;
	if (exp_name(&x, name, strlen(name), &b) < 0) {
		buf_fini(&b);
		return -1;
	}
	*valp = buf_take(&b);
	return 0;
}

int
conf_expand(const struct conf *cf, const char *text, char **valp,
    char *err, size_t errlen)
{
	struct exp_ctx x;
	struct buf b;

	exp_init(&x, cf, err, errlen);
	buf_init(&b);
	*valp = NULL;
	if (exp_text(&x, text, strlen(text), &b) < 0) {
		buf_fini(&b);
		return -1;
	}
	*valp = buf_take(&b);
	return 0;
}

/* Expands name and checks the result as type; errors say where name is
 * set. *valp is the caller's on success. */
static int
conf_get_typed(const struct conf *cf, const char *name, enum conf_type type,
    char **valp, char *err, size_t errlen)
{
	char where[512], why[4096];

	if (conf_get(cf, name, valp, why, sizeof(why)) == 0 &&
	    conf_type_check(type, *valp, why, sizeof(why)) == 0)
		return 0;
	free(*valp);
	*valp = NULL;
	conf_where(cf, name, where, sizeof(where));
	return errf(err, errlen, "%s%s", where, why);
}

int
conf_get_bool(const struct conf *cf, const char *name, int *valp,
    char *err, size_t errlen)
{
	char *v;
	int rc;

	if (conf_get_typed(cf, name, CONF_T_BOOL, &v, err, errlen) < 0)
		return -1;
	rc = conf_bool_parse(v, valp, err, errlen);
	free(v);
	return rc;
}

int
conf_get_int(const struct conf *cf, const char *name, long long *valp,
    char *err, size_t errlen)
{
	char *v;
	int rc;

	if (conf_get_typed(cf, name, CONF_T_INT, &v, err, errlen) < 0)
		return -1;
	rc = conf_int_parse(v, valp, err, errlen);
	free(v);
	return rc;
}

int
conf_get_time(const struct conf *cf, const char *name, long long *secondsp,
    char *err, size_t errlen)
{
	char *v;
	int rc;

	if (conf_get_typed(cf, name, CONF_T_TIME, &v, err, errlen) < 0)
		return -1;
	rc = conf_time_parse(v, secondsp, err, errlen);
	free(v);
	return rc;
}

/* Checks one setting; returns 1 for an error, else 0. */
static int
conf_check_entry(const struct conf *cf, const struct conf_entry *e,
    conf_report_fn *report, void *arg)
{
	const struct conf_param *p = conf_param_find(e->name);
	char msg[4096 + 600], *val;

	if (p == NULL && !conf_postfix_param(e->name)) {
		if (e->line > 0)
			snprintf(msg, sizeof(msg), "%s:%d: warning: unknown "
			    "parameter %s", cf->label, e->line, e->name);
		else
			snprintf(msg, sizeof(msg), "warning: unknown "
			    "parameter %s", e->name);
		report(0, msg, arg);
	}
	if (conf_get_typed(cf, e->name, p != NULL ? p->type : CONF_T_STR,
	    &val, msg, sizeof(msg)) < 0) {
		report(1, msg, arg);
		return 1;
	}
	free(val);
	return 0;
}

int
conf_check(const struct conf *cf, conf_report_fn *report, void *arg)
{
	size_t i;
	int nerr = 0;

	for (i = 0; i < cf->nitems; i++)
		nerr += conf_check_entry(cf, &cf->items[i]->pub, report, arg);
	return nerr;
}
