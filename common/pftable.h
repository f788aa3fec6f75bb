/*
 * pftable.h - Postfix lookup tables of the kinds tlsward reads:
 * "inline:{ key=value, { key = value, with commas } }" and
 * "texthash:/path" (postmap(1) input: "key whitespace value" lines,
 * '#' comments, continuation lines that start with white space). Keys
 * are folded to lower case, as Postfix folds them; of two entries with
 * the same key the first is kept (with a warning), as Postfix's
 * texthash does.
 *
 * Runs in: the privileged supervisor and the CLI (the loader reads the
 * tables; the worker gets their entries in its snapshot). Parses memory
 * only: the caller reads the files. Owns the entries it returns.
 */
#ifndef TLSWARD_PFTABLE_H
#define TLSWARD_PFTABLE_H

#include <stddef.h>

struct pft_ent {
	char	*key;		/* lower case */
	char	*val;		/* trimmed */
	char	*origin;	/* "PATH:LINE", or "inline: entry N" */
};

struct pft {
	struct pft_ent	*v;	/* in table order */
	size_t		 n;
};

/* Called once per problem; is_error 0 for a warning. */
typedef void	pft_report_fn(int is_error, const char *msg, void *arg);

void	pft_init(struct pft *t);
void	pft_fini(struct pft *t);

/* Splits a list of tables (a *_maps value) on commas and white space
 * outside braces into *tabp (new strings; pft_split_free them). Returns
 * the count, or -1 with err when braces do not balance. */
int	pft_split(const char *list, char ***tabp, char *err, size_t errlen);
void	pft_split_free(char **tab, int n);

/* Adds the entries of an inline table; text is what follows "inline:".
 * Returns the number of problems reported as errors (an empty table is
 * one, as in Postfix). */
int	pft_inline_parse(struct pft *t, const char *text, pft_report_fn *rep,
	    void *arg);

/* Adds the entries of texthash file path, whose contents are data.
 * Returns the number of problems reported as errors (a line without a
 * value, a NUL byte). */
int	pft_text_parse(struct pft *t, const char *path, const char *data,
	    size_t len, pft_report_fn *rep, void *arg);

#endif
