/*
 * test_conf_edit.c - editing main.cf: byte-for-byte preservation of what
 * is not changed, replace-first-and-drop-duplicates, removal with
 * continuation lines, appends with and without a final newline, CRLF,
 * bad names and values; and conf_edit() on real files: content, mode, no
 * rewrite without a change, no temporary file left after success or
 * failure (a failing write is forced with RLIMIT_FSIZE, which binds root
 * too).
 *
 * Runs in: "make check" (TAP). Owns a temporary directory it removes.
 */
#include "config.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_edit.h"
#include "fileio.h"
#include "util.h"
#include "tap.h"

#define MAXCH	3

/* One edit: the text, up to MAXCH changes (value NULL = remove; "rm"
 * marks a removal in the table), and the new text or the exact error. */
struct edit_case {
	const char	*what;
	const char	*text;
	struct conf_change ch[MAXCH];
	const char	*want;		/* NULL: an error */
	const char	*want_err;
};

static const char big[] =
	"# main.cf\n"
	"#\n"
	"  # an indented comment\n"
	"\n"
	"alpha = 1\n"
	"\t\n"
	"beta=two   \n"
	"gamma = 3\n"
	"   continued here\n"
	"# trailing comment\n"
	"delta =\n";

static const struct edit_case edit_cases[] = {
	{ "replace one line, keep every other byte", big,
	  { { "beta", "2" } },
	  "# main.cf\n#\n  # an indented comment\n\nalpha = 1\n\t\nbeta = 2\n"
	  "gamma = 3\n   continued here\n# trailing comment\ndelta =\n", NULL },
	{ "replace a continued setting", big, { { "gamma", "x" } },
	  "# main.cf\n#\n  # an indented comment\n\nalpha = 1\n\t\n"
	  "beta=two   \ngamma = x\n# trailing comment\ndelta =\n", NULL },
	{ "remove a continued setting", big, { { "gamma", NULL } },
	  "# main.cf\n#\n  # an indented comment\n\nalpha = 1\n\t\n"
	  "beta=two   \n# trailing comment\ndelta =\n", NULL },
	{ "append after a final newline", big, { { "epsilon", "5" } },
	  "# main.cf\n#\n  # an indented comment\n\nalpha = 1\n\t\n"
	  "beta=two   \ngamma = 3\n   continued here\n# trailing comment\n"
	  "delta =\nepsilon = 5\n", NULL },
	{ "replace first, drop later duplicates",
	  "a = 1\nb = 2\na = 3\n  cont\nc = 4\na=5", { { "a", "9" } },
	  "a = 9\nb = 2\nc = 4\n", NULL },
	{ "comments inside a replaced setting stay",
	  "a = 1\n  2\n# keep\n\n  3\nb = 2\n", { { "a", "x" } },
	  "a = x\n# keep\n\nb = 2\n", NULL },
	{ "remove every setting with its continuation lines",
	  "x = 0\na = 1\n  2\nb = 2\na = 3\n\t4\n", { { "a", NULL } },
	  "x = 0\nb = 2\n", NULL },
	{ "remove the only line", "a = 1\n", { { "a", NULL } }, "", NULL },
	{ "remove what is not there", "a = 1\n# b = 2\n", { { "b", NULL } },
	  "a = 1\n# b = 2\n", NULL },
	{ "append without a final newline", "a = 1", { { "b", "2" } },
	  "a = 1\nb = 2\n", NULL },
	{ "append after a comment without a final newline", "a = 1\n# end",
	  { { "b", "2" } }, "a = 1\n# end\nb = 2\n", NULL },
	{ "append to an empty text", "", { { "b", "2" } }, "b = 2\n", NULL },
	{ "replace the last line without a final newline", "a = 1\nb = 2",
	  { { "b", "3" } }, "a = 1\nb = 3", NULL },
	{ "CRLF: replaced line keeps CRLF", "a = 1\r\nb = 2\r\n",
	  { { "a", "3" } }, "a = 3\r\nb = 2\r\n", NULL },
	{ "CRLF: append uses CRLF", "a = 1\r\n# c\r\n", { { "z", "9" } },
	  "a = 1\r\n# c\r\nz = 9\r\n", NULL },
	{ "mixed line ends: append like the last line", "a = 1\r\nb = 2\n",
	  { { "z", "9" } }, "a = 1\r\nb = 2\nz = 9\n", NULL },
	{ "CRLF without a final newline", "a = 1\r\nb = 2", { { "z", "9" } },
	  "a = 1\r\nb = 2\r\nz = 9\r\n", NULL },
	{ "CRLF: removal keeps the rest", "a = 1\r\n  2\r\nb = 3\r\n",
	  { { "a", NULL } }, "b = 3\r\n", NULL },
	{ "empty value", "a = 1\n", { { "a", "" } }, "a =\n", NULL },
	{ "value is trimmed", "", { { "a", "  x y \t" } }, "a = x y\n", NULL },
	{ "value with $ and #", "", { { "a", "$b # c" } }, "a = $b # c\n",
	  NULL },
	{ "a commented-out setting is not a setting", "#a = 1\na = 2\n",
	  { { "a", "3" } }, "#a = 1\na = 3\n", NULL },
	{ "a longer name is another name", "ab = 1\na = 2\nabc = 3\n",
	  { { "a", "x" } }, "ab = 1\na = x\nabc = 3\n", NULL },
	{ "several changes in one edit", "a = 1\nb = 2\nc = 3\n",
	  { { "a", "x" }, { "b", NULL }, { "d", "4" } },
	  "a = x\nc = 3\nd = 4\n", NULL },
	{ "the later change of a name wins", "a = 1\n",
	  { { "a", "x" }, { "a", "y" } }, "a = y\n", NULL },
	{ "set, then remove", "a = 1\n", { { "a", "x" }, { "a", NULL } },
	  "", NULL },
	{ "remove, then set appends", "a = 1\nb = 2\n",
	  { { "a", NULL }, { "a", "3" } }, "b = 2\na = 3\n", NULL },
	{ "invalid name", "a = 1\n", { { "a b", "1" } }, NULL,
	  "t.cf: invalid parameter name \"a b\"" },
	{ "empty name", "a = 1\n", { { "", "1" } }, NULL,
	  "t.cf: invalid parameter name \"\"" },
	{ "invalid name to remove", "a = 1\n", { { "a=", NULL } }, NULL,
	  "t.cf: invalid parameter name \"a=\"" },
	{ "value with a newline", "a = 1\n", { { "a", "x\ny = 2" } }, NULL,
	  "t.cf: parameter a: the value must be a single line" },
	{ "value with a carriage return", "a = 1\n", { { "a", "x\r" } }, NULL,
	  "t.cf: parameter a: the value must be a single line" },
	{ "a bad change after a good one", "a = 1\n",
	  { { "a", "2" }, { "b-c", "1" } }, NULL,
	  "t.cf: invalid parameter name \"b-c\"" },
	{ "malformed main.cf", "a = 1\n\nbogus\n", { { "a", "2" } }, NULL,
	  "t.cf:3: missing \"=\" in \"bogus\"" },
	{ "orphan continuation line", "# c\n  x\na = 1\n", { { "a", "2" } },
	  NULL, "t.cf:2: continuation line without a parameter before it" },
};

static size_t
nchanges(const struct edit_case *c)
{
	size_t n = 0;

	while (n < MAXCH && c->ch[n].name != NULL)
		n++;
	return n;
}

static void
test_edit_cases(void)
{
	const struct edit_case *c;
	char err[512], *got;
	size_t i;

	for (i = 0; i < sizeof(edit_cases) / sizeof(edit_cases[0]); i++) {
		c = &edit_cases[i];
		err[0] = '\0';
		got = conf_edit_text(c->text, "t.cf", c->ch, nchanges(c), err,
		    sizeof(err));
		if (c->want != NULL) {
			if (!is_str(got, c->want, "%s", c->what))
				diag("error: %s", err);
		} else {
			ok(got == NULL, "%s: fails", c->what);
			is_str(err, c->want_err, "%s: message", c->what);
		}
		free(got);
	}
}

/* ------------------------------------------------------ real files */

static int
write_file(const char *path, const char *data, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fputs(data, fp) == EOF || fclose(fp) != 0)
		return -1;
	return chmod(path, mode);
}

static char *
read_text(const char *path)
{
	char err[256], *data;
	size_t len;

	if (file_read(path, 1 << 20, &data, &len, err, sizeof(err)) < 0)
		return xstrdup("(unreadable)");
	return data;
}

/* The names in dir, sorted, space separated. */
static char *
dir_names(const char *dir)
{
	struct dirent **list;
	struct buf b;
	int i, n;

	buf_init(&b);
	if ((n = scandir(dir, &list, NULL, alphasort)) < 0)
		return xstrdup("(scandir failed)");
	for (i = 0; i < n; i++) {
		if (strcmp(list[i]->d_name, ".") != 0 &&
		    strcmp(list[i]->d_name, "..") != 0)
			buf_addf(&b, "%s%s", b.len ? " " : "", list[i]->d_name);
		free(list[i]);
	}
	free(list);
	return buf_take(&b);
}

static void
is_file(const char *path, const char *want, mode_t want_mode,
    const char *what)
{
	struct stat st;
	char *got = read_text(path);

	is_str(got, want, "%s: content", what);
	free(got);
	if (stat(path, &st) == 0)
		is_int(st.st_mode & 07777, want_mode, "%s: mode", what);
	else
		ok(0, "%s: mode (no file)", what);
}

static void
is_dir(const char *dir, const char *want, const char *what)
{
	char *got = dir_names(dir);

	is_str(got, want, "%s: directory holds only %s", what, want);
	free(got);
}

static void
test_file_success(const char *dir, const char *mc)
{
	static const struct conf_change set_b[] = { { "b", "3" } };
	static const struct conf_change rm_x[] = { { "x", NULL } };
	struct stat before, after;
	char err[512];

	write_file(mc, "# keep\r\na = 1\nb = 2\n  more\n", 0640);
	is_int(conf_edit(mc, set_b, 1, err, sizeof(err)), 0, "edit a file");
	is_file(mc, "# keep\r\na = 1\nb = 3\n", 0640, "edit a file");
	is_dir(dir, "main.cf", "edit a file");

	stat(mc, &before);
	is_int(conf_edit(mc, rm_x, 1, err, sizeof(err)), 0,
	    "edit without a change");
	stat(mc, &after);
	ok(before.st_ino == after.st_ino, "no change: the file is not "
	    "rewritten");

	unlink(mc);
	umask(077);
	is_int(conf_edit(mc, rm_x, 1, err, sizeof(err)), 0,
	    "remove from a missing file");
	ok(!file_exists(mc), "remove from a missing file creates nothing");
	is_int(conf_edit(mc, set_b, 1, err, sizeof(err)), 0,
	    "set in a missing file");
	is_file(mc, "b = 3\n", 0644, "a new main.cf is 0644 whatever the "
	    "umask");
	umask(022);
}

static void
test_file_failure(const char *dir, const char *mc)
{
	static const struct conf_change bad_name[] = { { "a b", "1" } };
	static const struct conf_change set_long[] = {
		{ "a", "a value long enough to pass the file size limit" } };
	struct rlimit old, small;
	char err[512], want[700], *nodir;
	void (*oldsig)(int);
	int rc;

	write_file(mc, "a = 1\nbogus\n", 0600);
	ok(conf_edit(mc, set_long, 1, err, sizeof(err)) < 0,
	    "malformed main.cf: fails");
	snprintf(want, sizeof(want), "%s:2: missing \"=\" in \"bogus\"", mc);
	is_str(err, want, "malformed main.cf: message names PATH:LINE");
	is_file(mc, "a = 1\nbogus\n", 0600, "malformed main.cf: untouched");

	write_file(mc, "a = 1\n", 0600);
	ok(conf_edit(mc, bad_name, 1, err, sizeof(err)) < 0, "bad name fails");
	is_file(mc, "a = 1\n", 0600, "bad name: untouched");

	/* The temporary file cannot grow past 40 bytes: write() fails. */
	oldsig = signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	small = old;
	small.rlim_cur = 40;	/* the soft limit only: it can come back */
	setrlimit(RLIMIT_FSIZE, &small);
	rc = conf_edit(mc, set_long, 1, err, sizeof(err));
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, oldsig);
	ok(rc < 0, "failing write: fails");
	ok(strstr(err, "File too large") != NULL, "failing write: says why "
	    "(%s)", err);
	is_file(mc, "a = 1\n", 0600, "failing write: untouched");
	is_dir(dir, "main.cf", "failing write: no temporary file left");

	nodir = xasprintf("%s/missing/main.cf", dir);
	ok(conf_edit(nodir, set_long, 1, err, sizeof(err)) < 0,
	    "file in a missing directory: fails");
	ok(strstr(err, nodir) != NULL, "... naming the file (%s)", err);
	is_dir(dir, "main.cf", "file in a missing directory");
	free(nodir);
}

static void
test_files(void)
{
	char dir[] = "/tmp/tw-conf-edit.XXXXXX", *mc;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	mc = xasprintf("%s/main.cf", dir);
	test_file_success(dir, mc);
	test_file_failure(dir, mc);
	unlink(mc);
	rmdir(dir);
	free(mc);
}

int
main(void)
{
	test_edit_cases();
	test_files();
	return done();
}
