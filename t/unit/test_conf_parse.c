/*
 * test_conf_parse.c - main.cf parsing: comments, continuation lines,
 * blank lines, white space, CRLF, later-wins, malformed lines with their
 * line numbers; conf_load on real directories; lookups, overrides,
 * run-time defaults and the choice of the configuration directory.
 *
 * Runs in: "make check" (TAP). Owns a temporary directory it removes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "conf_int.h"	/* conf_dup (proposed for conf.h) */
#include "util.h"
#include "tap.h"

/* One parser case: text, and either the entries it gives ("name=value@line"
 * per entry, "|" separated, in order) or the exact error. */
struct parse_case {
	const char	*what;
	const char	*text;
	const char	*want;		/* entries, or NULL when an error */
	const char	*want_err;
};

static const struct parse_case parse_cases[] = {
	{ "empty text", "", "", NULL },
	{ "only blank and comment lines", "\n   \n\t\n# c\n  # c2\n", "",
	  NULL },
	{ "simple setting", "a = b\n", "a=b@1", NULL },
	{ "no spaces around =", "a=b\n", "a=b@1", NULL },
	{ "white space around = and at the end", "a \t=\t  b c \t \n",
	  "a=b c@1", NULL },
	{ "empty value", "a =\nb=\n", "a=@1|b=@2", NULL },
	{ "no final newline", "a = 1", "a=1@1", NULL },
	{ "comment lines", "# x = 1\na = 1\n#b = 2\nc = 3\n",
	  "a=1@2|c=3@4", NULL },
	{ "# inside a value is not a comment", "a = x # y\n", "a=x # y@1",
	  NULL },
	{ "= inside a value", "a = b = c\n", "a=b = c@1", NULL },
	{ "continuation lines joined with one space",
	  "a = 1\n  2\n\t3   \nb = x\n", "a=1 2 3@1|b=x@4", NULL },
	{ "comment and blank lines inside a continued line",
	  "a = 1\n# note\n\n   2\nb = 3\n", "a=1 2@1|b=3@5", NULL },
	{ "continuation of an empty value", "a =\n   x\n", "a=x@1", NULL },
	{ "later setting wins, first position kept",
	  "a = 1\nb = 2\na = 3\n", "a=3@3|b=2@2", NULL },
	{ "CRLF line ends", "a = 1\r\nb = 2\r\n  3\r\n\r\n", "a=1@1|b=2 3@2",
	  NULL },
	{ "dollar signs are kept raw", "a = $b ${c} $$\n", "a=$b ${c} $$@1",
	  NULL },
	{ "names with digits, underscores and capitals",
	  "smtp_tls_CAfile = /x\nA_1 = 2\n", "smtp_tls_CAfile=/x@1|A_1=2@2",
	  NULL },
	{ "missing =", "a = 1\nbogus line\n", NULL,
	  "t.cf:2: missing \"=\" in \"bogus line\"" },
	{ "missing = after blank and comment lines",
	  "# c\n\na = 1\n  more\n\n\nbad\n", NULL,
	  "t.cf:7: missing \"=\" in \"bad\"" },
	{ "empty name", "= x\n", NULL, "t.cf:1: empty parameter name" },
	{ "name with a space", "a b = 1\n", NULL,
	  "t.cf:1: invalid parameter name \"a b\"" },
	{ "name with a dash", "x = 1\na-b = 1\n", NULL,
	  "t.cf:2: invalid parameter name \"a-b\"" },
	{ "name with a dollar", "$a = 1\n", NULL,
	  "t.cf:1: invalid parameter name \"$a\"" },
	{ "continuation before any parameter", "  x = 1\n", NULL,
	  "t.cf:1: continuation line without a parameter before it" },
	{ "continuation after comments only", "# c\n\n\tcont\n", NULL,
	  "t.cf:3: continuation line without a parameter before it" },
	{ "malformed line in CRLF text", "a = 1\r\nb\r\n", NULL,
	  "t.cf:2: missing \"=\" in \"b\"" },
};

/* The entries of cf as "name=value@line|...". */
static char *
entries_str(const struct conf *cf)
{
	const struct conf_entry *e;
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < conf_count(cf); i++) {
		e = conf_entry_at(cf, i);
		buf_addf(&b, "%s%s=%s@%d", i ? "|" : "", e->name, e->value,
		    e->line);
	}
	return buf_take(&b);
}

static void
test_parse_cases(void)
{
	const struct parse_case *c;
	struct conf *cf;
	char err[512], *got;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		c = &parse_cases[i];
		cf = conf_new("/nonexistent");
		err[0] = '\0';
		rc = conf_load_text(cf, "t.cf", c->text, err, sizeof(err));
		if (c->want != NULL) {
			is_int(rc, 0, "%s: parses", c->what);
			got = entries_str(cf);
			is_str(got, c->want, "%s: entries", c->what);
			free(got);
		} else {
			is_int(rc, -1, "%s: fails", c->what);
			is_str(err, c->want_err, "%s: message", c->what);
			is_int((long long)conf_count(cf), 0,
			    "%s: nothing kept", c->what);
		}
		conf_free(cf);
	}
}

static void
test_failed_load_keeps_old(void)
{
	struct conf *cf = conf_new("/nonexistent");
	char err[256], *got;

	conf_load_text(cf, "one", "a = 1\n", err, sizeof(err));
	ok(conf_load_text(cf, "two", "b = 2\nbad\n", err, sizeof(err)) < 0,
	    "a failing load fails");
	got = entries_str(cf);
	is_str(got, "a=1@1", "a failing load changes nothing");
	free(got);
	conf_free(cf);
}

static void
test_lookups(void)
{
	struct conf *cf = conf_new("/etc/tw");
	const struct conf_entry *e;
	char err[256], *p;

	conf_load_text(cf, "t", "smtpd_use_tls = yes\nzz_unknown = 1\n", err,
	    sizeof(err));
	is_str(conf_dir(cf), "/etc/tw", "conf_dir");
	is_str(conf_main_path(cf), "/etc/tw/main.cf", "conf_main_path");
	is_str(conf_raw(cf, "smtpd_use_tls"), "yes", "raw: set in main.cf");
	is_str(conf_raw(cf, "smtpd_tls_key_file"), "$smtpd_tls_cert_file",
	    "raw: built-in default, unexpanded");
	is_str(conf_raw(cf, "zz_unknown"), "1", "raw: unknown but set");
	ok(conf_raw(cf, "zz_other") == NULL, "raw: unknown and unset is NULL");
	ok(conf_lookup(cf, "smtpd_tls_key_file") == NULL,
	    "lookup: a default is not a setting");
	e = conf_lookup(cf, "zz_unknown");
	ok(e != NULL && e->line == 2, "lookup: entry with its line");
	is_int(conf_override(cf, "smtpd_use_tls", "no", err, sizeof(err)), 0,
	    "override a setting");
	e = conf_lookup(cf, "smtpd_use_tls");
	ok(e != NULL && strcmp(e->value, "no") == 0 && e->line == 0,
	    "override: new value, line 0");
	is_str(conf_entry_at(cf, 0)->name, "smtpd_use_tls",
	    "override keeps the position");
	conf_override(cf, "new_one", "v", err, sizeof(err));
	is_str(conf_entry_at(cf, 2)->name, "new_one", "override appends");
	ok(conf_entry_at(cf, 3) == NULL, "entry_at past the end is NULL");
	is_int(conf_override(cf, "bad name", "v", err, sizeof(err)), -1,
	    "override: invalid name");
	is_str(err, "invalid parameter name \"bad name\"",
	    "override: message");
	p = conf_path(cf, "key.pem");
	is_str(p, "/etc/tw/key.pem", "conf_path: relative");
	free(p);
	p = conf_path(cf, "/k/key.pem");
	is_str(p, "/k/key.pem", "conf_path: absolute");
	free(p);
	conf_free(cf);
}

/* Many names exercise the index growth and later-wins at scale. */
static void
test_many(void)
{
	struct conf *cf = conf_new("/x");
	struct buf b;
	char err[256], name[32];
	int i, bad = 0;

	buf_init(&b);
	for (i = 0; i < 5000; i++)
		buf_addf(&b, "p%d = %d\n", i % 2500, i);
	is_int(conf_load_text(cf, "t", b.data, err, sizeof(err)), 0,
	    "5000 lines");
	is_int((long long)conf_count(cf), 2500, "2500 distinct names");
	for (i = 0; i < 2500; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		if (conf_lookup(cf, name) == NULL ||
		    atoi(conf_lookup(cf, name)->value) != i + 2500)
			bad++;
	}
	is_int(bad, 0, "every name has its later value");
	buf_fini(&b);
	conf_free(cf);
}

static void
test_dup(void)
{
	struct conf *cf = conf_new("/d"), *copy;
	char err[256], *got;

	conf_load_text(cf, "f.cf", "a = 1\nb = $a\n", err, sizeof(err));
	copy = conf_dup(cf);
	conf_override(cf, "a", "changed", err, sizeof(err));
	conf_override(copy, "c", "3", err, sizeof(err));
	got = entries_str(copy);
	is_str(got, "a=1@1|b=$a@2|c=3@0", "dup: an independent copy");
	free(got);
	got = entries_str(cf);
	is_str(got, "a=changed@0|b=$a@2", "dup: the original unchanged");
	free(got);
	is_str(conf_dir(copy), "/d", "dup: same directory");
	conf_override(copy, "smtpd_use_tls", "x", err, sizeof(err));
	conf_free(cf);
	conf_load_text(copy, "f.cf", "", err, sizeof(err));
	is_str(conf_raw(copy, "b"), "$a", "dup: survives the original");
	conf_free(copy);
}

static void
test_runtime_defaults(void)
{
	struct conf *cf = conf_new("/some/dir");
	const char *host;
	char err[256], *v;

	is_str(conf_raw(cf, "config_directory"), "/some/dir",
	    "config_directory defaults to the conf's directory");
	host = conf_raw(cf, "myhostname");
	ok(host != NULL && host[0] != '\0', "myhostname has a default (%s)",
	    host ? host : "NULL");
	conf_override(cf, "myhostname", "mail.example.com", err, sizeof(err));
	is_str(conf_raw(cf, "mydomain"), "example.com",
	    "mydomain: myhostname minus its first label");
	conf_override(cf, "myhostname", "bare", err, sizeof(err));
	is_str(conf_raw(cf, "mydomain"), "localdomain",
	    "mydomain: localdomain for a name without dots");
	conf_override(cf, "dom_copy", conf_raw(cf, "mydomain"), err,
	    sizeof(err));
	is_str(conf_raw(cf, "dom_copy"), "localdomain",
	    "override with a value that points into the conf");
	conf_override(cf, "dom_copy", conf_raw(cf, "dom_copy"), err,
	    sizeof(err));
	is_str(conf_raw(cf, "dom_copy"), "localdomain",
	    "override a name with its own value");
	conf_override(cf, "myhostname", "mx.$mydomain", err, sizeof(err));
	ok(conf_get(cf, "myhostname", &v, err, sizeof(err)) == 0,
	    "myhostname = mx.$mydomain does not recurse forever");
	is_str(v, "mx.localdomain", "... and gives mx.localdomain");
	free(v);
	conf_free(cf);
}

static void
test_default_dir(void)
{
	unsetenv("TLSWARD_CONFIG_DIR");
	is_str(conf_default_dir(NULL), TLSWARD_CONFDIR,
	    "default dir: built-in");
	setenv("TLSWARD_CONFIG_DIR", "", 1);
	is_str(conf_default_dir(NULL), TLSWARD_CONFDIR,
	    "default dir: empty environment variable ignored");
	setenv("TLSWARD_CONFIG_DIR", "/env/dir", 1);
	is_str(conf_default_dir(NULL), "/env/dir", "default dir: environment");
	is_str(conf_default_dir("/opt/dir"), "/opt/dir", "default dir: -c wins");
	unsetenv("TLSWARD_CONFIG_DIR");
}

/* The admin socket and pid file an instance gets when main.cf names none:
 * plain names for the built-in directory, hashed ones for any other. */
static void
test_instance_defaults(void)
{
	char *a = conf_instance_default(TLSWARD_CONFDIR,
	    "tlsproxy_admin_socket");
	char *p = conf_instance_default(TLSWARD_CONFDIR, "tlsproxy_pid_file");
	char *o = conf_instance_default("/nonexistent/other",
	    "tlsproxy_admin_socket");
	char *o2 = conf_instance_default("/nonexistent/other/",
	    "tlsproxy_admin_socket");
	char *op = conf_instance_default("/nonexistent/other",
	    "tlsproxy_pid_file");

	is_str(a, "/run/tlswardd/admin.sock", "built-in directory: admin socket");
	is_str(p, "/run/tlswardd.pid", "built-in directory: pid file");
	ok(strncmp(o, "/run/tlswardd/admin-", 20) == 0 && strlen(o) == 20 +
	    12 + 5 && strcmp(o + 32, ".sock") == 0,
	    "other directory: /run/tlswardd/admin-HASH12.sock (got %s)", o);
	ok(strncmp(op, "/run/tlswardd-", 14) == 0 && strncmp(op + 14, o + 20,
	    12) == 0, "other directory: pid file with the same hash (got %s)",
	    op);
	is_str(o2, o, "a trailing slash does not make another instance");
	free(a);
	free(p);
	free(o);
	free(o2);
	free(op);
}

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fwrite(data, 1, len, fp) != len || fclose(fp) != 0)
		ok(0, "cannot write %s", path);
}

/* conf_load on real directories. */
static void
test_load_files(void)
{
	char dir[] = "/tmp/tw-conf-parse.XXXXXX", err[512], want[600];
	char *mc, *missing;
	struct conf *cf;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	mc = xasprintf("%s/main.cf", dir);
	missing = xasprintf("%s/nope", dir);
	cf = conf_new(dir);
	is_int(conf_load(cf, err, sizeof(err)), 0, "load: no main.cf is ok");
	is_int((long long)conf_count(cf), 0, "load: no main.cf is empty");
	conf_free(cf);

	write_file(mc, "# x\na = 1\n  2\n", 14);
	cf = conf_new(dir);
	is_int(conf_load(cf, err, sizeof(err)), 0, "load: main.cf");
	is_str(conf_raw(cf, "a"), "1 2", "load: value");
	conf_free(cf);

	write_file(mc, "a = 1\nb\n", 8);
	cf = conf_new(dir);
	is_int(conf_load(cf, err, sizeof(err)), -1, "load: malformed main.cf");
	snprintf(want, sizeof(want), "%s:2: missing \"=\" in \"b\"", mc);
	is_str(err, want, "load: message names PATH:LINE");
	conf_free(cf);

	write_file(mc, "a = 1\nb = x\0y\n", 13);
	cf = conf_new(dir);
	is_int(conf_load(cf, err, sizeof(err)), -1, "load: NUL byte");
	snprintf(want, sizeof(want), "%s:2: NUL byte in file", mc);
	is_str(err, want, "load: NUL byte message");
	conf_free(cf);

	cf = conf_new(missing);
	is_int(conf_load(cf, err, sizeof(err)), -1, "load: missing directory");
	snprintf(want, sizeof(want), "cannot open configuration directory "
	    "%s: No such file or directory", missing);
	is_str(err, want, "load: missing directory message");
	conf_free(cf);

	unlink(mc);
	mkdir(mc, 0755);	/* main.cf that is a directory */
	cf = conf_new(dir);
	ok(conf_load(cf, err, sizeof(err)) < 0 && strstr(err, mc) != NULL,
	    "load: main.cf that is a directory fails (%s)", err);
	conf_free(cf);
	rmdir(mc);
	rmdir(dir);
	free(mc);
	free(missing);
}

int
main(void)
{
	test_parse_cases();
	test_failed_load_keeps_old();
	test_lookups();
	test_many();
	test_dup();
	test_runtime_defaults();
	test_default_dir();
	test_instance_defaults();
	test_load_files();
	return done();
}
