/*
 * hostname.c - host name syntax (Postfix valid_hostname() rules).
 *
 * Runs in: the supervisor, the CLI and the worker. Pure computation.
 */
#include "config.h"

#include <string.h>

#include "hostname.h"
#include "util.h"

static int
is_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* The problem at p, or NULL. */
static const char *
label_problem(const unsigned char *p, size_t *labelp, int *numericp)
{
	if (is_label_char(*p)) {
		if (++*labelp > HOSTNAME_MAX_LABEL)
			return "a label is longer than 63 bytes";
		if (*p < '0' || *p > '9')
			*numericp = 0;
	} else if (*p == '.') {
		if (*labelp == 0 || p[1] == '\0')
			return "misplaced dot";
		*labelp = 0;
	} else if (*p == '-') {
		*numericp = 0;
		if ((*labelp)++ == 0 || p[1] == '\0' || p[1] == '.')
			return "misplaced hyphen";
	} else
		return "invalid character";
	return NULL;
}

int
hostname_valid(const char *name, char *why, size_t whylen)
{
	const unsigned char *p = (const unsigned char *)name;
	const char *problem = NULL;
	size_t label = 0;
	int numeric = 1;

	if (*p == '\0')
		problem = "empty name";
	for (; problem == NULL && *p != '\0'; p++)
		problem = label_problem(p, &label, &numeric);
	if (problem == NULL && strlen(name) > HOSTNAME_MAX_LEN)
		problem = "longer than 255 bytes";
	if (problem == NULL && numeric)
		problem = "numeric name";
	if (problem == NULL)
		return 1;
	errf(why, whylen, "%s", problem);
	return 0;
}
