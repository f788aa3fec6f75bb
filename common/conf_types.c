/*
 * conf_types.c - parameter value types: checking a value against its
 * type, converting booleans, integers and times, and Postfix protocol
 * lists (">=TLSv1.2", "!SSLv2, !SSLv3", "TLSv1.2:TLSv1.3").
 *
 * Runs in: the CLI and the privileged supervisor. Owns no state.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "conf_int.h"
#include "util.h"

/* A type whose values are one word from a fixed list. */
struct conf_words {
	const char	*what;		/* "security level" */
	const char	*want;		/* the list, for messages */
	const char	*words[9];	/* NULL-terminated */
};

static const struct conf_words conf_levels = {
	"security level",
	"none, may, encrypt, fingerprint, verify, secure, dane or dane-only",
	{ "none", "may", "encrypt", "fingerprint", "verify", "secure", "dane",
	  "dane-only", NULL },
};
static const struct conf_words conf_grades = {
	"cipher grade", "export, low, medium, high or null",
	{ "export", "low", "medium", "high", "null", NULL },
};
static const struct conf_words conf_eecdh = {
	"eecdh grade", "auto, strong, ultra or none",
	{ "auto", "strong", "ultra", "none", NULL },
};
static const struct conf_words conf_digests = {
	"digest", "md5, sha1, sha224, sha256, sha384 or sha512",
	{ "md5", "sha1", "sha224", "sha256", "sha384", "sha512", NULL },
};

/* Protocol names, in the order of their CONF_PROTO_* bits. */
static const char *const conf_proto_names[] = {
	"SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3",
};
#define CONF_NPROTOS	6
#define CONF_PROTO_WANT	"SSLv2, SSLv3, TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3"

/* Empty values are valid for word types ("not set"). */
static int
conf_word_check(const struct conf_words *w, const char *value, char *err,
    size_t errlen)
{
	size_t i;

	if (value[0] == '\0')
		return 0;
	for (i = 0; w->words[i] != NULL; i++)
		if (strcasecmp(value, w->words[i]) == 0)
			return 0;
	return errf(err, errlen, "invalid %s \"%s\" (want %s)", w->what, value,
	    w->want);
}

int
conf_bool_parse(const char *value, int *valp, char *err, size_t errlen)
{
	if (strcasecmp(value, "yes") == 0)
		*valp = 1;
	else if (strcasecmp(value, "no") == 0)
		*valp = 0;
	else
		return errf(err, errlen, "invalid boolean value \"%s\" "
		    "(want yes or no)", value);
	return 0;
}

/* Reads the decimal digits at *sp into *valp, advancing *sp; -1 when there
 * is no digit, 1 on overflow. */
static int
conf_digits(const char **sp, long long *valp)
{
	const char *s = *sp;
	long long v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (LLONG_MAX - (*s - '0')) / 10)
			return 1;
		v = v * 10 + (*s - '0');
	}
	*sp = s;
	*valp = v;
	return 0;
}

int
conf_int_parse(const char *value, long long *valp, char *err, size_t errlen)
{
	const char *s = value;
	int rc = conf_digits(&s, valp);

	if (rc == 1)
		return errf(err, errlen, "integer value \"%s\" is too large",
		    value);
	if (rc < 0 || *s != '\0')
		return errf(err, errlen, "invalid integer value \"%s\" (want a "
		    "decimal number >= 0)", value);
	return 0;
}

/* Seconds per unit letter, or 0 for an unknown unit. */
static long long
conf_time_unit(char unit)
{
	switch (unit) {
	case 's': return 1;
	case 'm': return 60;
	case 'h': return 3600;
	case 'd': return 86400;
	case 'w': return 604800;
	default: return 0;
	}
}

int
conf_time_parse(const char *value, long long *secondsp, char *err,
    size_t errlen)
{
	const char *s = value;
	long long n, mult = 1;
	int rc = conf_digits(&s, &n);

	if (rc == 0 && *s != '\0')
		mult = s[1] == '\0' ? conf_time_unit(*s) : 0;
	if (rc < 0 || mult == 0)
		return errf(err, errlen, "invalid time value \"%s\" (want a "
		    "number >= 0 with an optional unit s, m, h, d or w)",
		    value);
	if (rc == 1 || n > LLONG_MAX / mult)
		return errf(err, errlen, "time value \"%s\" is too large",
		    value);
	*secondsp = n * mult;
	return 0;
}

int
conf_type_check(enum conf_type type, const char *value, char *err,
    size_t errlen)
{
	long long n;
	unsigned mask;
	int b;

	switch (type) {
	case CONF_T_STR:
		return 0;
	case CONF_T_BOOL:
		return conf_bool_parse(value, &b, err, errlen);
	case CONF_T_INT:
		return conf_int_parse(value, &n, err, errlen);
	case CONF_T_TIME:
		return conf_time_parse(value, &n, err, errlen);
	case CONF_T_LEVEL:
		return conf_word_check(&conf_levels, value, err, errlen);
	case CONF_T_PROTOCOLS:
		return conf_protocols_parse(value, &mask, err, errlen);
	case CONF_T_GRADE:
		return conf_word_check(&conf_grades, value, err, errlen);
	case CONF_T_EECDH:
		return conf_word_check(&conf_eecdh, value, err, errlen);
	case CONF_T_DIGEST:
		return conf_word_check(&conf_digests, value, err, errlen);
	}
	return errf(err, errlen, "unknown parameter type %d", (int)type);
}

/* ---------------------------------------------------------- protocols */

/* What a protocol list says, token by token. */
struct conf_protos {
	unsigned	include;	/* bare names */
	unsigned	exclude;	/* !NAME */
	int		min;		/* index of the highest >=NAME, or 0 */
	int		max;		/* index of the lowest <=NAME */
};

static int
conf_proto_index(const char *name, size_t len)
{
	int i;

	for (i = 0; i < CONF_NPROTOS; i++)
		if (strlen(conf_proto_names[i]) == len &&
		    strncasecmp(name, conf_proto_names[i], len) == 0)
			return i;
	return -1;
}

/* Adds one token (tok, len bytes) to ps. */
static int
conf_proto_token(struct conf_protos *ps, const char *tok, size_t len,
    char *err, size_t errlen)
{
	size_t skip = 0;
	int i;

	if (tok[0] == '!')
		skip = 1;
	else if (len >= 2 && (strncmp(tok, ">=", 2) == 0 ||
	    strncmp(tok, "<=", 2) == 0))
		skip = 2;
	if (skip == len)
		return errf(err, errlen, "missing protocol name after \"%.*s\"",
		    (int)len, tok);
	if ((i = conf_proto_index(tok + skip, len - skip)) < 0)
		return errf(err, errlen, "invalid protocol \"%.*s\" (want "
		    CONF_PROTO_WANT ")", (int)len, tok);
	if (skip == 0)
		ps->include |= 1u << i;
	else if (tok[0] == '!')
		ps->exclude |= 1u << i;
	else if (tok[0] == '>')
		ps->min = i > ps->min ? i : ps->min;
	else
		ps->max = i < ps->max ? i : ps->max;
	return 0;
}

int
conf_protocols_parse(const char *value, unsigned *maskp, char *err,
    size_t errlen)
{
	static const char sep[] = " \t\r\n\v\f,:";
	struct conf_protos ps = { 0, 0, 0, CONF_NPROTOS - 1 };
	const char *s = value;
	unsigned mask;
	size_t len;

	while (*(s += strspn(s, sep)) != '\0') {
		len = strcspn(s, sep);
		if (conf_proto_token(&ps, s, len, err, errlen) < 0)
			return -1;
		s += len;
	}
	mask = ps.include != 0 ? ps.include : CONF_PROTO_ALL;
	mask &= ~ps.exclude;
	mask &= ((1u << (ps.max + 1)) - 1) & ~((1u << ps.min) - 1);
	if (mask == 0)
		return errf(err, errlen, "protocol list \"%s\" enables no "
		    "protocol", value);
	*maskp = mask;
	return 0;
}
