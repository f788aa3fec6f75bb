/*
 * test_conf_expand.c - $name expansion in every form, nesting, unknown
 * names, loops (self, 2- and 3-cycles, reached through other names),
 * deep chains and run-away values (errors, never a crash or a hang), the
 * typed getters and conf_check().
 *
 * Runs in: "make check" (TAP). Owns nothing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "util.h"
#include "tap.h"

static const char fixture[] =
	"a = A\n"
	"b = $a\n"
	"empty =\n"
	"c = ${a}-$(a)\n"
	"refempty = $empty\n"
	"s = $s\n"
	"l1 = $l2\n"
	"l2 = $l1\n"
	"x = $y\n"
	"y = ${z}\n"
	"z = $(x)\n"
	"top = pre-${l1}\n"
	"condloop = ${s?yes}\n"
	"smtpd_tls_cert_file = /etc/cert.pem\n"
	"smtpd_use_tls = maybe\n"
	"good_bool = $yesval\n"
	"yesval = yes\n";

/* One expansion: text, and the result or the exact error. */
struct exp_case {
	const char	*text;
	const char	*want;		/* NULL: an error */
	const char	*want_err;
};

static const struct exp_case exp_cases[] = {
	{ "plain text", "plain text", NULL },
	{ "", "", NULL },
	{ "$a", "A", NULL },
	{ "${a}", "A", NULL },
	{ "$(a)", "A", NULL },
	{ "x$a.y", "xA.y", NULL },
	{ "$a$a", "AA", NULL },
	{ "$b", "A", NULL },
	{ "$c", "A-A", NULL },
	{ "$$", "$", NULL },
	{ "$$a", "$a", NULL },
	{ "$$$a", "$A", NULL },
	{ "a$", "a$", NULL },
	{ "$-x", "$-x", NULL },
	{ "$ a", "$ a", NULL },
	{ "100$.", "100$.", NULL },
	{ "$unknown", "", NULL },
	{ "${unknown}x", "x", NULL },
	{ "$a_b", "", NULL },
	{ "${a}_b", "A_b", NULL },
	{ "$smtpd_tls_key_file", "/etc/cert.pem", NULL },
	{ "$tlsproxy_tls_key_file", "/etc/cert.pem", NULL },
	{ "${a?yes}", "yes", NULL },
	{ "${empty?yes}", "", NULL },
	{ "${refempty?yes}", "", NULL },
	{ "${unknown?yes}", "", NULL },
	{ "${a:no}", "", NULL },
	{ "${empty:no}", "no", NULL },
	{ "${unknown:no}", "no", NULL },
	{ "$(empty:no)", "no", NULL },
	{ "${a?$b}", "A", NULL },
	{ "${a?${b}x}", "Ax", NULL },
	{ "${a?[$c]}", "[A-A]", NULL },
	{ "${b?${empty:inner}}", "inner", NULL },
	{ "$(a?(x))", "(x)", NULL },
	{ "${a?text with spaces}", "text with spaces", NULL },
	{ "${a?{t}}", "t", NULL },
	{ "${empty:{t}}", "t", NULL },
	{ "${a?{t1}:{t2}}", "t1", NULL },
	{ "${empty?{t1}:{t2}}", "t2", NULL },
	{ "${a ? {t1} : {t2}}", "t1", NULL },
	{ "${a?{$b}:{$s}}", "A", NULL },
	{ "${empty?{x}}", "", NULL },
	{ "${a?{{nested}}}", "{nested}", NULL },
	{ "${empty?$s}", "", NULL },
	{ "${a:$s}", "", NULL },
	{ "${a", NULL, "missing \"}\" in \"${a\"" },
	{ "x $(a", NULL, "missing \")\" in \"$(a\"" },
	{ "${a?{x}", NULL, "missing \"}\" in \"${a?{x}\"" },
	{ "${}", NULL, "missing parameter name in \"\"" },
	{ "${?x}", NULL, "missing parameter name in \"?x\"" },
	{ "${a b}", NULL, "invalid parameter name in \"a b\"" },
	{ "${a-b}", NULL, "invalid parameter name in \"a-b\"" },
	{ "${a?{x}y}", NULL, "malformed conditional in \"a?{x}y\"" },
	{ "${a:{x}:{y}}", NULL, "malformed conditional in \"a:{x}:{y}\"" },
	{ "${a?{x}:y}", NULL, "malformed conditional in \"a?{x}:y\"" },
	{ "$s", NULL, "expansion loop: s -> s" },
	{ "pre $l1", NULL, "expansion loop: l1 -> l2 -> l1" },
	{ "${l2?x}", NULL, "expansion loop: l2 -> l1 -> l2" },
	{ "$x", NULL, "expansion loop: x -> y -> z -> x" },
	{ "$z", NULL, "expansion loop: z -> x -> y -> z" },
	{ "$top", NULL, "expansion loop: top -> l1 -> l2 -> l1" },
	{ "$condloop", NULL, "expansion loop: condloop -> s -> s" },
};

static void
test_exp_cases(const struct conf *cf)
{
	const struct exp_case *c;
	char err[512], *val;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(exp_cases) / sizeof(exp_cases[0]); i++) {
		c = &exp_cases[i];
		err[0] = '\0';
		rc = conf_expand(cf, c->text, &val, err, sizeof(err));
		if (c->want != NULL) {
			if (is_int(rc, 0, "expand \"%s\": ok", c->text))
				is_str(val, c->want, "expand \"%s\"", c->text);
			else
				diag("error: %s", err);
		} else {
			is_int(rc, -1, "expand \"%s\": error", c->text);
			ok(val == NULL, "expand \"%s\": no value", c->text);
			is_str(err, c->want_err, "expand \"%s\": message",
			    c->text);
		}
		free(val);
	}
}

/* A syntax error inside a referenced value names that parameter. */
static void
test_error_context(void)
{
	struct conf *cf = conf_new("/x");
	char err[512], *val;

	conf_load_text(cf, "t", "p = $q\nq = ${broken\n", err, sizeof(err));
	is_int(conf_get(cf, "p", &val, err, sizeof(err)), -1,
	    "syntax error in a referenced value");
	is_str(err, "missing \"}\" in \"${broken\" (value of q)",
	    "... names the parameter whose value is wrong");
	conf_free(cf);
}

static void
test_get(const struct conf *cf)
{
	char err[512], *val;

	is_int(conf_get(cf, "c", &val, err, sizeof(err)), 0, "get c");
	is_str(val, "A-A", "get c: value");
	free(val);
	is_int(conf_get(cf, "nothing_here", &val, err, sizeof(err)), 0,
	    "get an unknown unset name");
	is_str(val, "", "... is the empty string");
	free(val);
	is_int(conf_get(cf, "l1", &val, err, sizeof(err)), -1, "get l1");
	is_str(err, "expansion loop: l1 -> l2 -> l1", "get l1: loop chain");
	ok(val == NULL, "get l1: no value");
	is_int(conf_get(cf, "s", &val, err, sizeof(err)), -1, "self loop");
	is_str(err, "expansion loop: s -> s", "self loop: chain");
}

/* A chain d0 = $d1, ..., d(n-1) = end. */
static struct conf *
chain_conf(int n)
{
	struct conf *cf = conf_new("/x");
	char err[256], name[16], *val;
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		val = i + 1 < n ? xasprintf("$d%d", i + 1) : xstrdup("end");
		conf_override(cf, name, val, err, sizeof(err));
		free(val);
	}
	return cf;
}

static void
test_depth(void)
{
	static const char deep[] = "expansion nested deeper than 100 levels: "
	    "d0 -> d1 -> d2 -> ";
	struct conf *cf;
	char err[8192], *val;

	cf = chain_conf(100);
	is_int(conf_get(cf, "d0", &val, err, sizeof(err)), 0,
	    "chain of 100 names expands");
	is_str(val, "end", "chain of 100 names: value");
	free(val);
	conf_free(cf);

	cf = chain_conf(101);
	is_int(conf_get(cf, "d0", &val, err, sizeof(err)), -1,
	    "chain of 101 names is too deep");
	ok(strncmp(err, deep, strlen(deep)) == 0 &&
	    strstr(err, "-> d98 -> d99 -> d100") != NULL,
	    "too deep: message names the chain");
	conf_free(cf);

	cf = chain_conf(200);
	is_int(conf_get(cf, "d0", &val, err, 64), -1,
	    "chain of 200 names: error, no crash");
	ok(strlen(err) == 63, "too deep: message truncated to the buffer");
	conf_free(cf);
}

/* Values that double at each level must stop with an error, quickly. */
static void
test_runaway(void)
{
	struct conf *cf = conf_new("/x");
	char err[512], name[16], *val;
	int i;

	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		val = xasprintf("$e%d$e%d", i + 1, i + 1);
		conf_override(cf, name, val, err, sizeof(err));
		free(val);
		snprintf(name, sizeof(name), "f%d", i);
		val = xasprintf("${f%d?}${f%d?}", i + 1, i + 1);
		conf_override(cf, name, val, err, sizeof(err));
		free(val);
	}
	conf_override(cf, "e40", "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef", err, sizeof(err));
	conf_override(cf, "f40", "x", err, sizeof(err));
	is_int(conf_get(cf, "e0", &val, err, sizeof(err)), -1,
	    "exponentially long value: error");
	is_str(err, "expanded value is longer than 1048576 bytes",
	    "exponentially long value: message");
	is_int(conf_get(cf, "f0", &val, err, sizeof(err)), -1,
	    "exponentially many references: error");
	is_str(err, "expansion needs more than 100000 references",
	    "exponentially many references: message");
	conf_free(cf);
}

static void
test_typed(void)
{
	struct conf *cf = conf_new("/x");
	char err[512];
	long long n;
	int b;

	conf_load_text(cf, "t.cf", fixture, err, sizeof(err));
	conf_load_text(cf, "t.cf", "smtpd_tls_loglevel = 2\n"
	    "tlsproxy_watchdog_timeout = 2m\nsmtp_tls_loglevel = -1\n"
	    "smtpd_starttls_timeout = 5x\n", err, sizeof(err));
	is_int(conf_get_bool(cf, "good_bool", &b, err, sizeof(err)), 0,
	    "bool through expansion");
	is_int(b, 1, "bool value");
	is_int(conf_get_bool(cf, "smtp_use_tls", &b, err, sizeof(err)), 0,
	    "bool default");
	is_int(b, 0, "bool default value");
	is_int(conf_get_bool(cf, "smtpd_use_tls", &b, err, sizeof(err)), -1,
	    "bad bool");
	is_str(err, "t.cf:15: parameter smtpd_use_tls: invalid boolean value "
	    "\"maybe\" (want yes or no)", "bad bool: message with file:line");
	is_int(conf_get_bool(cf, "tlsproxy_use_tls", &b, err, sizeof(err)),
	    -1, "bad bool through a default");
	is_str(err, "parameter tlsproxy_use_tls: invalid boolean value "
	    "\"maybe\" (want yes or no)", "... message without a line");
	is_int(conf_get_int(cf, "tlsproxy_tls_loglevel", &n, err,
	    sizeof(err)), 0, "int through the tlsproxy default");
	is_int(n, 2, "int value");
	is_int(conf_get_int(cf, "smtp_tls_loglevel", &n, err, sizeof(err)),
	    -1, "bad int");
	is_str(err, "t.cf:3: parameter smtp_tls_loglevel: invalid integer "
	    "value \"-1\" (want a decimal number >= 0)", "bad int: message");
	is_int(conf_get_time(cf, "tlsproxy_watchdog_timeout", &n, err,
	    sizeof(err)), 0, "time");
	is_int(n, 120, "time value 2m");
	is_int(conf_get_time(cf, "smtp_starttls_timeout", &n, err,
	    sizeof(err)), 0, "time default");
	is_int(n, 300, "time default 300s");
	is_int(conf_get_time(cf, "smtpd_starttls_timeout", &n, err,
	    sizeof(err)), -1, "bad time");
	is_str(err, "t.cf:4: parameter smtpd_starttls_timeout: invalid time "
	    "value \"5x\" (want a number >= 0 with an optional unit s, m, h, "
	    "d or w)", "bad time: message");
	is_int(conf_get_bool(cf, "l1", &b, err, sizeof(err)), -1,
	    "typed getter on a loop");
	is_str(err, "t.cf:7: parameter l1: expansion loop: l1 -> l2 -> l1",
	    "typed getter on a loop: message");
	conf_override(cf, "smtpd_tls_loglevel", "x", err, sizeof(err));
	is_int(conf_get_int(cf, "smtpd_tls_loglevel", &n, err, sizeof(err)),
	    -1, "bad override");
	is_str(err, "parameter smtpd_tls_loglevel: invalid integer value "
	    "\"x\" (want a decimal number >= 0)", "bad override: no line");
	conf_free(cf);
}

static void
collect(int is_error, const char *msg, void *arg)
{
	buf_addf(arg, "%s %s\n", is_error ? "E" : "W", msg);
}

static void
test_check(void)
{
	struct conf *cf = conf_new("/x");
	struct buf b;
	char err[512];

	conf_load_text(cf, "m.cf", "smtpd_use_tls = yes\n"
	    "bogus_name = 1\n"
	    "smtpd_tls_loglevel = lots\n"
	    "a = $b\n"
	    "b = $a\n"
	    "smtpd_tls_protocols = >=TLSv1.3, <=TLSv1.2\n"
	    "typo_loop = $typo_loop\n"
	    "smtpd_tls_security_level = ${smtpd_use_tls?may}\n", err,
	    sizeof(err));
	buf_init(&b);
	is_int(conf_check(cf, collect, &b), 5, "check: error count");
	is_str(b.data,
	    "W m.cf:2: warning: unknown parameter bogus_name\n"
	    "E m.cf:3: parameter smtpd_tls_loglevel: invalid integer value "
	    "\"lots\" (want a decimal number >= 0)\n"
	    "W m.cf:4: warning: unknown parameter a\n"
	    "E m.cf:4: parameter a: expansion loop: a -> b -> a\n"
	    "W m.cf:5: warning: unknown parameter b\n"
	    "E m.cf:5: parameter b: expansion loop: b -> a -> b\n"
	    "E m.cf:6: parameter smtpd_tls_protocols: protocol list "
	    "\">=TLSv1.3, <=TLSv1.2\" enables no protocol\n"
	    "W m.cf:7: warning: unknown parameter typo_loop\n"
	    "E m.cf:7: parameter typo_loop: expansion loop: typo_loop -> "
	    "typo_loop\n", "check: findings in main.cf order");
	buf_fini(&b);
	conf_override(cf, "zz_override", "1", err, sizeof(err));
	conf_override(cf, "smtpd_tls_loglevel", "1", err, sizeof(err));
	conf_override(cf, "a", "", err, sizeof(err));
	conf_override(cf, "typo_loop", "", err, sizeof(err));
	conf_override(cf, "smtpd_tls_protocols", "", err, sizeof(err));
	buf_init(&b);
	is_int(conf_check(cf, collect, &b), 0, "check: fixed");
	is_str(b.data, "W m.cf:2: warning: unknown parameter bogus_name\n"
	    "W warning: unknown parameter a\n"
	    "W m.cf:5: warning: unknown parameter b\n"
	    "W warning: unknown parameter typo_loop\n"
	    "W warning: unknown parameter zz_override\n",
	    "check: only warnings left");
	buf_fini(&b);
	conf_free(cf);
}

int
main(void)
{
	struct conf *cf = conf_new("/x");
	char err[512];

	if (!is_int(conf_load_text(cf, "t.cf", fixture, err, sizeof(err)), 0,
	    "fixture parses"))
		diag("%s", err);
	test_exp_cases(cf);
	test_get(cf);
	conf_free(cf);
	test_error_context();
	test_depth();
	test_runaway();
	test_typed();
	test_check();
	return done();
}
