/*
 * conf_edit.c - changing main.cf in place: set and remove parameters while
 * every other byte (comments, blank lines, unrelated settings, CRLF line
 * ends, a missing final newline) stays as it was.
 *
 * Runs in: the CLI. Owns nothing beyond a call; the file is replaced with
 * file_replace() (temporary file, fsync, rename), so on any error it is
 * untouched.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "conf_edit.h"
#include "conf_int.h"
#include "fileio.h"
#include "util.h"

/* The rewrite of the text for one change. */
struct edit_state {
	const struct conf_change *ch;
	const char	*label;
	struct buf	 out;
	int		 started;	/* a logical line has begun */
	int		 matched;	/* the current one sets ch->name */
	int		 done;		/* the new setting is written */
};

/* The line end for appended lines: "\r\n" when the text's last line end
 * is one, else "\n". */
static const char *
edit_newline(const char *text)
{
	const char *nl = strrchr(text, '\n');

	return nl != NULL && nl > text && nl[-1] == '\r' ? "\r\n" : "\n";
}

/* Writes "name = value" (or "name =" for an empty value) and nl. */
static void
edit_put_setting(struct buf *out, const struct conf_change *ch,
    const char *nl)
{
	char *value = str_trim(xstrdup(ch->value));

	buf_addf(out, "%s =%s%s%s", ch->name, value[0] ? " " : "", value, nl);
	free(value);
}

/* A START line: copy it, drop it, or put the new setting in its place
 * with the same line end. */
static int
edit_start(struct edit_state *st, const struct conf_line *ln, char *err,
    size_t errlen)
{
	char *name;

	if (conf_line_split(ln, st->label, &name, NULL, err, errlen) < 0)
		return -1;
	st->started = 1;
	st->matched = strcmp(name, st->ch->name) == 0;
	free(name);
	if (!st->matched)
		buf_add(&st->out, ln->text, ln->len + ln->eol);
	else if (st->ch->value != NULL && !st->done) {
		edit_put_setting(&st->out, st->ch, !ln->eol ? "" :
		    ln->len > 0 && ln->text[ln->len - 1] == '\r' ? "\r\n" :
		    "\n");
		st->done = 1;
	}
	return 0;
}

static int
edit_line(struct edit_state *st, const struct conf_line *ln, char *err,
    size_t errlen)
{
	switch (ln->kind) {
	case CONF_LINE_START:
		return edit_start(st, ln, err, errlen);
	case CONF_LINE_CONT:
		if (!st->started)
			return conf_line_orphan(ln, st->label, err, errlen);
		if (st->matched)
			return 0;	/* belongs to a replaced setting */
		break;
	case CONF_LINE_BLANK:
	case CONF_LINE_COMMENT:
		break;
	}
	buf_add(&st->out, ln->text, ln->len + ln->eol);
	return 0;
}

/* Applies one change to text: a new text, or NULL with err. */
static char *
edit_one(const char *text, const char *label, const struct conf_change *ch,
    char *err, size_t errlen)
{
	struct edit_state st = { ch, label, { NULL, 0, 0 }, 0, 0, 0 };
	struct conf_scan sc;
	struct conf_line ln;

	conf_scan_init(&sc, text);
	while (conf_scan_next(&sc, &ln))
		if (edit_line(&st, &ln, err, errlen) < 0) {
			buf_fini(&st.out);
			return NULL;
		}
	if (ch->value != NULL && !st.done) {
		if (st.out.len > 0 && st.out.data[st.out.len - 1] != '\n')
			buf_adds(&st.out, edit_newline(text));
		edit_put_setting(&st.out, ch, edit_newline(text));
	}
	return buf_take(&st.out);
}

static int
edit_check_change(const struct conf_change *ch, const char *label,
    char *err, size_t errlen)
{
	if (!conf_name_valid(ch->name))
		return errf(err, errlen, "%s: invalid parameter name \"%s\"",
		    label, ch->name != NULL ? ch->name : "");
	if (ch->value != NULL && strpbrk(ch->value, "\r\n") != NULL)
		return errf(err, errlen, "%s: parameter %s: the value must be "
		    "a single line", label, ch->name);
	return 0;
}

char *
conf_edit_text(const char *text, const char *label,
    const struct conf_change *changes, size_t nchanges, char *err,
    size_t errlen)
{
	char *cur, *next;
	size_t i;

	for (i = 0; i < nchanges; i++)
		if (edit_check_change(&changes[i], label, err, errlen) < 0)
			return NULL;
	cur = xstrdup(text);
	for (i = 0; i < nchanges; i++) {
		next = edit_one(cur, label, &changes[i], err, errlen);
		free(cur);
		if ((cur = next) == NULL)
			return NULL;
	}
	return cur;
}

/* The current text of path: "" when it does not exist. */
static int
edit_read(const char *path, char **textp, char *err, size_t errlen)
{
	struct stat st;
	size_t len;

	if (stat(path, &st) < 0 && errno == ENOENT) {
		*textp = xstrdup("");
		return 0;
	}
	if (file_read(path, CONF_MAX_FILE, textp, &len, err, errlen) < 0)
		return -1;
	if (conf_nul_check(path, *textp, len, err, errlen) < 0) {
		free(*textp);
		return -1;
	}
	return 0;
}

int
conf_edit(const char *path, const struct conf_change *changes,
    size_t nchanges, char *err, size_t errlen)
{
	char *old, *new;
	int rc = 0;

	if (edit_read(path, &old, err, errlen) < 0)
		return -1;
	new = conf_edit_text(old, path, changes, nchanges, err, errlen);
	if (new == NULL)
		rc = -1;
	else if (strcmp(old, new) != 0)	/* no change: no rewrite */
		rc = file_replace(path, new, strlen(new), 0644, err, errlen);
	free(old);
	free(new);
	return rc;
}
