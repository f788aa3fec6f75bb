/*
 * conf_edit.h - changing main.cf in place.
 *
 * Runs in: the CLI. Every comment, blank line and unrelated line is kept
 * byte for byte; the file is replaced atomically (fileio.h) keeping its
 * mode and owner, or created 0644 if it did not exist.
 */
#ifndef TLSWARD_CONF_EDIT_H
#define TLSWARD_CONF_EDIT_H

#include <stddef.h>

/* One change: set name to value, or remove name when value is NULL. */
struct conf_change {
	const char	*name;
	const char	*value;
};

/* Applies changes to the main.cf at path in one rewrite. A set replaces
 * the first logical line (with its continuation lines) that sets name with
 * "name = value" and deletes later settings of name; a name not present is
 * appended at the end as "name = value" (a missing final newline is added
 * first). A remove deletes every logical line that sets name. Values must
 * be single-line (no newline). Returns 0, or -1 with err naming the file
 * (and line for a malformed main.cf); on -1 the file is untouched. */
int	conf_edit(const char *path, const struct conf_change *changes,
	    size_t nchanges, char *err, size_t errlen);

/* The same on text in memory: returns the new text (caller frees) or NULL
 * with err. label names the text in messages. */
char	*conf_edit_text(const char *text, const char *label,
	    const struct conf_change *changes, size_t nchanges, char *err,
	    size_t errlen);

#endif
