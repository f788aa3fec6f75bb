/*
 * test_conf_types.c - value types (each one's good and bad values, time
 * units and overflow, protocol lists and their masks) and the built-in
 * parameter table: sorted, no duplicates, defaults valid for their own
 * types, types that follow the naming rules, the Postfix 3.7 defaults
 * (t/data/conf-good-postfix37-defaults.cf) and every tlsproxy_* parameter
 * of tlsproxy(8) with its documented default.
 *
 * Runs in: "make check" (TAP); reads $TESTDATA (default t/data).
 */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_int.h"	/* conf_time_parse (proposed for conf.h) */
#include "fileio.h"
#include "util.h"
#include "tap.h"

/* One type check: value, and the exact reason or NULL when valid. */
struct type_case {
	enum conf_type	 type;
	const char	*value;
	const char	*want_err;
};

#define BOOL_ERR(v)	"invalid boolean value \"" v "\" (want yes or no)"
#define INT_ERR(v)	"invalid integer value \"" v "\" (want a decimal " \
			"number >= 0)"
#define TIME_ERR(v)	"invalid time value \"" v "\" (want a number >= 0 " \
			"with an optional unit s, m, h, d or w)"
#define LEVEL_ERR(v)	"invalid security level \"" v "\" (want none, may, " \
			"encrypt, fingerprint, verify, secure, dane or " \
			"dane-only)"
#define GRADE_ERR(v)	"invalid cipher grade \"" v "\" (want export, low, " \
			"medium, high or null)"
#define EECDH_ERR(v)	"invalid eecdh grade \"" v "\" (want auto, strong, " \
			"ultra or none)"
#define DIGEST_ERR(v)	"invalid digest \"" v "\" (want md5, sha1, sha224, " \
			"sha256, sha384 or sha512)"
#define PROTO_ERR(v)	"invalid protocol \"" v "\" (want SSLv2, SSLv3, " \
			"TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)"

static const struct type_case type_cases[] = {
	{ CONF_T_STR, "", NULL },
	{ CONF_T_STR, "anything at all $x", NULL },
	{ CONF_T_BOOL, "yes", NULL },
	{ CONF_T_BOOL, "no", NULL },
	{ CONF_T_BOOL, "YES", NULL },
	{ CONF_T_BOOL, "No", NULL },
	{ CONF_T_BOOL, "maybe", BOOL_ERR("maybe") },
	{ CONF_T_BOOL, "", BOOL_ERR("") },
	{ CONF_T_BOOL, "1", BOOL_ERR("1") },
	{ CONF_T_BOOL, "true", BOOL_ERR("true") },
	{ CONF_T_BOOL, "yes ", BOOL_ERR("yes ") },
	{ CONF_T_INT, "0", NULL },
	{ CONF_T_INT, "9", NULL },
	{ CONF_T_INT, "007", NULL },
	{ CONF_T_INT, "9223372036854775807", NULL },
	{ CONF_T_INT, "9223372036854775808",
	  "integer value \"9223372036854775808\" is too large" },
	{ CONF_T_INT, "", INT_ERR("") },
	{ CONF_T_INT, "-1", INT_ERR("-1") },
	{ CONF_T_INT, "+1", INT_ERR("+1") },
	{ CONF_T_INT, "1x", INT_ERR("1x") },
	{ CONF_T_INT, " 1", INT_ERR(" 1") },
	{ CONF_T_INT, "0x10", INT_ERR("0x10") },
	{ CONF_T_TIME, "0", NULL },
	{ CONF_T_TIME, "3600s", NULL },
	{ CONF_T_TIME, "1w", NULL },
	{ CONF_T_TIME, "", TIME_ERR("") },
	{ CONF_T_TIME, "s", TIME_ERR("s") },
	{ CONF_T_TIME, "10x", TIME_ERR("10x") },
	{ CONF_T_TIME, "10S", TIME_ERR("10S") },
	{ CONF_T_TIME, "10 s", TIME_ERR("10 s") },
	{ CONF_T_TIME, "10ss", TIME_ERR("10ss") },
	{ CONF_T_TIME, "1.5h", TIME_ERR("1.5h") },
	{ CONF_T_TIME, "-5s", TIME_ERR("-5s") },
	{ CONF_T_TIME, "9223372036854775807m",
	  "time value \"9223372036854775807m\" is too large" },
	{ CONF_T_TIME, "99999999999999999999",
	  "time value \"99999999999999999999\" is too large" },
	{ CONF_T_LEVEL, "", NULL },
	{ CONF_T_LEVEL, "none", NULL },
	{ CONF_T_LEVEL, "may", NULL },
	{ CONF_T_LEVEL, "encrypt", NULL },
	{ CONF_T_LEVEL, "fingerprint", NULL },
	{ CONF_T_LEVEL, "verify", NULL },
	{ CONF_T_LEVEL, "secure", NULL },
	{ CONF_T_LEVEL, "dane", NULL },
	{ CONF_T_LEVEL, "dane-only", NULL },
	{ CONF_T_LEVEL, "MAY", NULL },
	{ CONF_T_LEVEL, "maybe", LEVEL_ERR("maybe") },
	{ CONF_T_LEVEL, "may encrypt", LEVEL_ERR("may encrypt") },
	{ CONF_T_GRADE, "", NULL },
	{ CONF_T_GRADE, "export", NULL },
	{ CONF_T_GRADE, "low", NULL },
	{ CONF_T_GRADE, "medium", NULL },
	{ CONF_T_GRADE, "high", NULL },
	{ CONF_T_GRADE, "null", NULL },
	{ CONF_T_GRADE, "HIGH:!aNULL", GRADE_ERR("HIGH:!aNULL") },
	{ CONF_T_EECDH, "", NULL },
	{ CONF_T_EECDH, "auto", NULL },
	{ CONF_T_EECDH, "strong", NULL },
	{ CONF_T_EECDH, "ultra", NULL },
	{ CONF_T_EECDH, "none", NULL },
	{ CONF_T_EECDH, "weak", EECDH_ERR("weak") },
	{ CONF_T_DIGEST, "", NULL },
	{ CONF_T_DIGEST, "md5", NULL },
	{ CONF_T_DIGEST, "sha1", NULL },
	{ CONF_T_DIGEST, "sha224", NULL },
	{ CONF_T_DIGEST, "sha256", NULL },
	{ CONF_T_DIGEST, "sha384", NULL },
	{ CONF_T_DIGEST, "sha512", NULL },
	{ CONF_T_DIGEST, "sha3-256", DIGEST_ERR("sha3-256") },
	{ CONF_T_PROTOCOLS, "", NULL },
	{ CONF_T_PROTOCOLS, ">=TLSv1", NULL },
	{ CONF_T_PROTOCOLS, "TLSv9", PROTO_ERR("TLSv9") },
};

static void
test_type_cases(void)
{
	const struct type_case *c;
	char err[512];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(type_cases) / sizeof(type_cases[0]); i++) {
		c = &type_cases[i];
		err[0] = '\0';
		rc = conf_type_check(c->type, c->value, err, sizeof(err));
		if (c->want_err == NULL) {
			if (!is_int(rc, 0, "type %d: \"%s\" is valid",
			    (int)c->type, c->value))
				diag("%s", err);
		} else {
			is_int(rc, -1, "type %d: \"%s\" is invalid",
			    (int)c->type, c->value);
			is_str(err, c->want_err, "type %d: \"%s\": reason",
			    (int)c->type, c->value);
		}
	}
}

/* Time values in seconds. */
static const struct {
	const char	*value;
	long long	 seconds;
} time_cases[] = {
	{ "0", 0 }, { "10", 10 }, { "10s", 10 }, { "2m", 120 },
	{ "3h", 10800 }, { "1d", 86400 }, { "2w", 1209600 },
	{ "3600s", 3600 }, { "153722867280912930m", 9223372036854775800LL },
	{ "9223372036854775807", 9223372036854775807LL },
};

static void
test_time_values(void)
{
	struct conf *cf = conf_new("/x");
	char err[256];
	long long got;
	size_t i;

	for (i = 0; i < sizeof(time_cases) / sizeof(time_cases[0]); i++) {
		got = -1;
		conf_override(cf, "smtpd_starttls_timeout",
		    time_cases[i].value, err, sizeof(err));
		if (conf_get_time(cf, "smtpd_starttls_timeout", &got, err,
		    sizeof(err)) < 0)
			diag("%s", err);
		is_int(got, time_cases[i].seconds, "time \"%s\"",
		    time_cases[i].value);
		got = -1;
		conf_time_parse(time_cases[i].value, &got, err, sizeof(err));
		is_int(got, time_cases[i].seconds, "conf_time_parse \"%s\"",
		    time_cases[i].value);
	}
	conf_free(cf);
}

/* Protocol lists: the mask, or the exact reason. */
static const struct {
	const char	*value;
	unsigned	 mask;
	const char	*want_err;
} proto_cases[] = {
	{ "", CONF_PROTO_ALL, NULL },
	{ " , : ", CONF_PROTO_ALL, NULL },
	{ ">=TLSv1.2", CONF_PROTO_TLSv1_2 | CONF_PROTO_TLSv1_3, NULL },
	{ "<=TLSv1.3", CONF_PROTO_ALL, NULL },
	{ "<=TLSv1", CONF_PROTO_SSLv2 | CONF_PROTO_SSLv3 | CONF_PROTO_TLSv1,
	  NULL },
	{ ">=TLSv1", CONF_PROTO_ALL & ~(CONF_PROTO_SSLv2 | CONF_PROTO_SSLv3),
	  NULL },
	{ "!SSLv2, !SSLv3",
	  CONF_PROTO_ALL & ~(CONF_PROTO_SSLv2 | CONF_PROTO_SSLv3), NULL },
	{ "!SSLv2:!SSLv3:!TLSv1:!TLSv1.1",
	  CONF_PROTO_TLSv1_2 | CONF_PROTO_TLSv1_3, NULL },
	{ "TLSv1.2:TLSv1.3", CONF_PROTO_TLSv1_2 | CONF_PROTO_TLSv1_3, NULL },
	{ "TLSv1.2 TLSv1.3", CONF_PROTO_TLSv1_2 | CONF_PROTO_TLSv1_3, NULL },
	{ "TLSv1.2", CONF_PROTO_TLSv1_2, NULL },
	{ "tlsv1.3", CONF_PROTO_TLSv1_3, NULL },
	{ ">=TLSv1.1 <=TLSv1.2", CONF_PROTO_TLSv1_1 | CONF_PROTO_TLSv1_2,
	  NULL },
	{ ">=TLSv1 >=TLSv1.2", CONF_PROTO_TLSv1_2 | CONF_PROTO_TLSv1_3, NULL },
	{ "TLSv1, TLSv1.2, >=TLSv1.1", CONF_PROTO_TLSv1_2, NULL },
	{ "TLSv1.2, !TLSv1.2, TLSv1.3", CONF_PROTO_TLSv1_3, NULL },
	{ ">=TLSv1.3, <=TLSv1.2", 0, "protocol list \">=TLSv1.3, <=TLSv1.2\" "
	  "enables no protocol" },
	{ "TLSv1.2, !TLSv1.2", 0, "protocol list \"TLSv1.2, !TLSv1.2\" "
	  "enables no protocol" },
	{ "!SSLv2 !SSLv3 !TLSv1 !TLSv1.1 !TLSv1.2 !TLSv1.3", 0,
	  "protocol list \"!SSLv2 !SSLv3 !TLSv1 !TLSv1.1 !TLSv1.2 !TLSv1.3\" "
	  "enables no protocol" },
	{ "TLSv9", 0, PROTO_ERR("TLSv9") },
	{ "!SSLv2, TLSv1.4", 0, PROTO_ERR("TLSv1.4") },
	{ "<TLSv1", 0, PROTO_ERR("<TLSv1") },
	{ "=>TLSv1", 0, PROTO_ERR("=>TLSv1") },
	{ "!!TLSv1", 0, PROTO_ERR("!!TLSv1") },
	{ ">=", 0, "missing protocol name after \">=\"" },
	{ "TLSv1.2, !", 0, "missing protocol name after \"!\"" },
	{ "<= TLSv1.2", 0, "missing protocol name after \"<=\"" },
};

static void
test_protocols(void)
{
	char err[512];
	unsigned mask;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(proto_cases) / sizeof(proto_cases[0]); i++) {
		mask = 0xdead;
		err[0] = '\0';
		rc = conf_protocols_parse(proto_cases[i].value, &mask, err,
		    sizeof(err));
		if (proto_cases[i].want_err == NULL) {
			if (!is_int(rc, 0, "protocols \"%s\": ok",
			    proto_cases[i].value))
				diag("%s", err);
			is_int(mask, proto_cases[i].mask,
			    "protocols \"%s\": mask", proto_cases[i].value);
		} else {
			is_int(rc, -1, "protocols \"%s\": error",
			    proto_cases[i].value);
			is_str(err, proto_cases[i].want_err,
			    "protocols \"%s\": reason", proto_cases[i].value);
		}
	}
}

/* ------------------------------------------------------ the table */

static void
test_table_order(const struct conf_param *tab, size_t n)
{
	size_t i, bad = 0;

	for (i = 1; i < n; i++)
		if (strcmp(tab[i - 1].name, tab[i].name) >= 0) {
			diag("out of order or duplicate: %s, %s",
			    tab[i - 1].name, tab[i].name);
			bad++;
		}
	is_int(bad, 0, "table sorted by name, no duplicates");
	for (i = bad = 0; i < n; i++)
		if (conf_param_find(tab[i].name) != &tab[i])
			bad++;
	is_int(bad, 0, "conf_param_find finds every entry");
	ok(conf_param_find("no_such_parameter") == NULL &&
	    conf_param_find("") == NULL, "conf_param_find: unknown is NULL");
}

static void
test_table_defaults_valid(const struct conf_param *tab, size_t n)
{
	struct conf *cf = conf_new("/etc/tlsward");
	char err[512], *val;
	size_t i, bad = 0;

	for (i = 0; i < n; i++) {
		if (conf_get(cf, tab[i].name, &val, err, sizeof(err)) < 0 ||
		    conf_type_check(tab[i].type, val, err, sizeof(err)) < 0) {
			diag("%s: %s", tab[i].name, err);
			bad++;
		}
		free(val);
	}
	is_int(bad, 0, "every default, expanded against an empty config, "
	    "passes its own type check");
	conf_free(cf);
}

/* The type each name gets from the naming rules. */
static enum conf_type
type_by_name(const char *name)
{
	static const struct {
		const char	*pattern;
		enum conf_type	 type;
	} rules[] = {
		{ "*exclude_ciphers", CONF_T_STR },
		{ "*_verifydepth", CONF_T_INT },
		{ "tls_*_bytes", CONF_T_INT },
		{ "*_loglevel", CONF_T_INT },
		{ "*_timeout", CONF_T_TIME },
		{ "*_period", CONF_T_TIME },
		{ "*_session_time", CONF_T_TIME },
		{ "*_grace_time", CONF_T_TIME },
		{ "*_interval", CONF_T_TIME },
		{ "*_threads", CONF_T_INT },
		{ "*_queue_limit", CONF_T_INT },
		{ "*_max_sessions", CONF_T_INT },
		{ "*_count", CONF_T_INT },
		{ "tlsproxy_source_*_limit", CONF_T_INT },
		{ "tlsproxy_source_*_prefix", CONF_T_INT },
		{ "*security_level", CONF_T_LEVEL },
		{ "*protocols", CONF_T_PROTOCOLS },
		{ "*ciphers", CONF_T_GRADE },
		{ "*eecdh_grade", CONF_T_EECDH },
		{ "*fingerprint_digest", CONF_T_DIGEST },
	};
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (fnmatch(rules[i].pattern, name, 0) == 0)
			return rules[i].type;
	return CONF_T_STR;
}

/* Booleans are the yes/no defaults and the tlsproxy twins of booleans;
 * the other types follow the names. */
static void
test_table_types(const struct conf_param *tab, size_t n)
{
	const struct conf_param *twin;
	enum conf_type want;
	size_t i, bad = 0;

	for (i = 0; i < n; i++) {
		twin = tab[i].defval[0] == '$' ?
		    conf_param_find(tab[i].defval + 1) : NULL;
		if (strcmp(tab[i].defval, "yes") == 0 ||
		    strcmp(tab[i].defval, "no") == 0)
			want = CONF_T_BOOL;
		else if (twin != NULL && twin->type == CONF_T_BOOL)
			want = CONF_T_BOOL;
		else
			want = type_by_name(tab[i].name);
		if (tab[i].type != want || (twin != NULL &&
		    twin->type != tab[i].type)) {
			diag("%s: type %d, want %d", tab[i].name,
			    (int)tab[i].type, (int)want);
			bad++;
		}
	}
	is_int(bad, 0, "every parameter has the type its name and default "
	    "call for, and the type of the parameter it defaults to");
}

/* Postfix's defaults that tlsward deliberately resolves (conf_params.c). */
static const struct {
	const char	*name;
	const char	*defval;
} deviations[] = {
	{ "smtp_tls_dane_insecure_mx_policy", "may" },
	/* Postfix's level expression, evaluated (test_table_extras) */
	{ "smtp_tls_fingerprint_digest", "(computed at run time)" },
	{ "smtpd_starttls_timeout", "300s" },
	{ "smtpd_tls_fingerprint_digest", "(computed at run time)" },
};

static const char *
deviation(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(deviations) / sizeof(deviations[0]); i++)
		if (strcmp(deviations[i].name, name) == 0)
			return deviations[i].defval;
	return NULL;
}

/* The parameters that are not smtpd_/smtp_/tls_/tlsproxy_ ones of
 * Postfix's list; a new tlsward parameter is added here too. */
static const char *const tlsward_only_names[] = {
	"compatibility_level", "config_directory", "data_directory",
	"mail_name", "mydomain", "myhostname", "queue_directory",
	"syslog_facility", "syslog_name",
	/* tlswardd's own parameters */
	"tlsproxy_admin_socket",
	"tlsproxy_client_ciphers",
	"tlsproxy_client_exclude_ciphers",
	"tlsproxy_client_fingerprint_cert_match",
	"tlsproxy_client_mandatory_ciphers",
	"tlsproxy_client_mandatory_exclude_ciphers",
	"tlsproxy_client_mandatory_protocols",
	"tlsproxy_client_protocols",
	"tlsproxy_client_secure_cert_match",
	"tlsproxy_client_session_cache_timeout",
	"tlsproxy_client_verify_cert_match",
	"tlsproxy_client_alpn",
	"tlsproxy_drain_timeout",
	"tlsproxy_event_threads",
	"tlsproxy_forward_connect_timeout",
	"tlsproxy_forward_resolve_interval",
	"tlsproxy_handshake_timeout", "tlsproxy_idle_timeout",
	"tlsproxy_stop_grace_time",
	"tlsproxy_listen_group",
	"tlsproxy_listen_mode",
	"tlsproxy_listen_owner",
	"tlsproxy_max_session_time",
	"tlsproxy_max_sessions",
	"tlsproxy_max_threads",
	"tlsproxy_metrics_listen",
	"tlsproxy_min_threads",
	"tlsproxy_pid_file",
	"tlsproxy_proxy_accept",
	"tlsproxy_proxy_header_timeout",
	"tlsproxy_proxy_send",
	"tlsproxy_proxy_trusted_networks",
	"tlsproxy_queue_limit",
	"tlsproxy_sandbox",
	"tlsproxy_session_log",
	"tlsproxy_session_log_format",
	"tlsproxy_sni_refuse_unknown",
	"tlsproxy_source_ipv4_prefix",
	"tlsproxy_source_ipv6_prefix",
	"tlsproxy_source_limit_exceptions",
	"tlsproxy_source_rate_limit",
	"tlsproxy_source_session_limit",
	"tlsproxy_tls_alpn",
	"tlsproxy_tls_alpn_mismatch",
	"tlsproxy_tls_ocsp_response_files",
	"tlsproxy_tls_ocsp_stapling",
	"tlsproxy_tls_ticket_count",
	"tlsproxy_tls_ticket_key_file",
	"tlsproxy_user",
	"tlsproxy_watch_files",
};

static int
tlsward_only(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(tlsward_only_names) /
	    sizeof(tlsward_only_names[0]); i++)
		if (strcmp(tlsward_only_names[i], name) == 0)
			return 1;
	return 0;
}

static void
test_table_postfix(const struct conf_param *tab, size_t n)
{
	const char *dir = getenv("TESTDATA"), *want;
	const struct conf_param *p;
	const struct conf_entry *e;
	struct conf *ref;
	char *path, *text, err[512];
	size_t i, len, bad = 0, ours = 0;

	path = xasprintf("%s/conf-good-postfix37-defaults.cf",
	    dir != NULL ? dir : "t/data");
	if (file_read(path, CONF_MAX_FILE, &text, &len, err, sizeof(err)) < 0) {
		ok(0, "read the Postfix defaults: %s", err);
		free(path);
		return;
	}
	ref = conf_new("/x");
	is_int(conf_load_text(ref, path, text, err, sizeof(err)), 0,
	    "the Postfix defaults fixture parses");
	for (i = 0; i < conf_count(ref); i++) {
		e = conf_entry_at(ref, i);
		want = deviation(e->name) ? deviation(e->name) : e->value;
		if ((p = conf_param_find(e->name)) == NULL ||
		    strcmp(p->defval, want) != 0) {
			diag("%s: got %s, want \"%s\"", e->name,
			    p ? p->defval : "(missing)", want);
			bad++;
		}
	}
	is_int(bad, 0, "every smtpd_/smtp_/tls_/tlsproxy_ default of Postfix "
	    "3.7 is in the table, verbatim but for the listed deviations");
	for (i = 0; i < n; i++)
		if (conf_lookup(ref, tab[i].name) == NULL &&
		    !tlsward_only(tab[i].name)) {
			diag("%s is neither Postfix's nor in tlsward_only[]",
			    tab[i].name);
			ours++;
		}
	is_int(ours, 0, "every other parameter is listed in tlsward_only[]");
	conf_free(ref);
	free(text);
	free(path);
}

static void
test_table_extras(void)
{
	static const struct {
		const char	*name;
		const char	*value;		/* expanded, empty config */
	} extras[] = {
		{ "config_directory", "/etc/tlsward" },
		{ "data_directory", "/var/lib/postfix" },
		{ "mail_name", "Postfix" },
		{ "queue_directory", "/var/spool/postfix" },
		{ "syslog_name", "postfix" },
		{ "syslog_facility", "mail" },
		{ "compatibility_level", "0" },
		/* Postfix's level expression, evaluated at level 0 */
		{ "smtpd_tls_fingerprint_digest", "md5" },
		{ "smtp_tls_fingerprint_digest", "md5" },
		{ "smtpd_tls_received_header", "no" },
		{ "smtp_tls_session_cache_database", "" },
		{ "tls_random_source", "dev:/dev/urandom" },
		{ "tls_random_exchange_name", "/var/lib/postfix/prng_exch" },
	};
	struct conf *cf = conf_new("/etc/tlsward");
	char err[256], *val;
	size_t i;

	for (i = 0; i < sizeof(extras) / sizeof(extras[0]); i++) {
		conf_get(cf, extras[i].name, &val, err, sizeof(err));
		is_str(val, extras[i].value, "%s default", extras[i].name);
		free(val);
	}
	conf_override(cf, "compatibility_level", "3.6", err, sizeof(err));
	conf_get(cf, "tlsproxy_tls_fingerprint_digest", &val, err, sizeof(err));
	is_str(val, "sha256", "fingerprint digest at compatibility_level 3.6");
	free(val);
	conf_override(cf, "compatibility_level", "3.7", err, sizeof(err));
	conf_get(cf, "tlsproxy_client_fingerprint_digest", &val, err,
	    sizeof(err));
	is_str(val, "sha256", "fingerprint digest at compatibility_level 3.7");
	free(val);
	conf_override(cf, "compatibility_level", "2", err, sizeof(err));
	conf_get(cf, "smtpd_tls_fingerprint_digest", &val, err, sizeof(err));
	is_str(val, "md5", "fingerprint digest at compatibility_level 2");
	free(val);
	ok(conf_param_find("myhostname") && conf_param_find("mydomain"),
	    "myhostname and mydomain are known");
	ok(!conf_param_find("lmtp_tls_loglevel") &&
	    !conf_param_find("postscreen_use_tls"), "no lmtp_/postscreen_");
	conf_free(cf);
}

/* The Postfix name list: sorted, and it holds every parameter of the
 * table but tlswardd's own (tlsward_only_names after the first line). */
static void
test_postfix_names(const struct conf_param *tab, size_t n)
{
	const char *const *pf;
	size_t npf, i, bad = 0;

	pf = conf_postfix_names(&npf);
	is_int(npf, 1043, "Postfix 3.7 knows 1043 parameter names");
	for (i = 1; i < npf; i++)
		if (strcmp(pf[i - 1], pf[i]) >= 0) {
			diag("not sorted: %s, %s", pf[i - 1], pf[i]);
			bad++;
		}
	is_int(bad, 0, "the Postfix name list is sorted, no duplicates");
	for (i = bad = 0; i < n; i++) {
		int own = strncmp(tab[i].name, "tlsproxy_", 9) == 0 &&
		    tlsward_only(tab[i].name);

		if (own == conf_postfix_param(tab[i].name)) {
			diag("%s: %s", tab[i].name, own ? "tlswardd's own, "
			    "but a Postfix name" : "not a Postfix name");
			bad++;
		}
	}
	is_int(bad, 0, "every table parameter is Postfix's, but tlswardd's "
	    "own tlsproxy_* ones");
	ok(conf_postfix_param("alias_maps") && conf_postfix_param(
	    "smtpd_relay_restrictions") && !conf_postfix_param("alias_map") &&
	    !conf_postfix_param(""), "Postfix names: found and not found");
}

/* myhostname as Postfix computes it: gethostname() and, without a dot,
 * .$mydomain or .localdomain. */
static void
test_myhostname(void)
{
	struct conf *cf = conf_new("/x");
	char host[256], err[256], *want, *val;

	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	want = strchr(host, '.') ? xstrdup(host) :
	    xasprintf("%s.localdomain", host);
	conf_get(cf, "myhostname", &val, err, sizeof(err));
	is_str(val, want, "myhostname: the host name%s", strchr(host, '.') ?
	    "" : " + .localdomain");
	free(val);
	free(want);
	conf_load_text(cf, "m", "mydomain = example.org\n", err, sizeof(err));
	want = strchr(host, '.') ? xstrdup(host) :
	    xasprintf("%s.example.org", host);
	conf_get(cf, "myhostname", &val, err, sizeof(err));
	is_str(val, want, "myhostname: + .$mydomain when main.cf sets it");
	free(val);
	free(want);
	conf_load_text(cf, "m", "myhostname = mx.a.example\n", err,
	    sizeof(err));
	conf_get(cf, "mydomain", &val, err, sizeof(err));
	is_str(val, "example.org", "mydomain set stays set");
	free(val);
	conf_free(cf);
	cf = conf_new("/x");
	conf_load_text(cf, "m", "myhostname = mx.a.example\n", err,
	    sizeof(err));
	conf_get(cf, "mydomain", &val, err, sizeof(err));
	is_str(val, "a.example", "mydomain: myhostname minus its first label");
	free(val);
	conf_free(cf);
}

/* tlsproxy(8) (Postfix 3.4): each tlsproxy_* parameter and its
 * documented default. */
static const struct {
	const char	*name;
	const char	*doc;
} tlsproxy_doc[] = {
	{ "tlsproxy_tls_CAfile", "$smtpd_tls_CAfile" },
	{ "tlsproxy_tls_CApath", "$smtpd_tls_CApath" },
	{ "tlsproxy_tls_always_issue_session_ids",
	  "$smtpd_tls_always_issue_session_ids" },
	{ "tlsproxy_tls_ask_ccert", "$smtpd_tls_ask_ccert" },
	{ "tlsproxy_tls_ccert_verifydepth", "$smtpd_tls_ccert_verifydepth" },
	{ "tlsproxy_tls_cert_file", "$smtpd_tls_cert_file" },
	{ "tlsproxy_tls_ciphers", "$smtpd_tls_ciphers" },
	{ "tlsproxy_tls_dcert_file", "$smtpd_tls_dcert_file" },
	{ "tlsproxy_tls_dh1024_param_file", "$smtpd_tls_dh1024_param_file" },
	{ "tlsproxy_tls_dh512_param_file", "$smtpd_tls_dh512_param_file" },
	{ "tlsproxy_tls_dkey_file", "$smtpd_tls_dkey_file" },
	{ "tlsproxy_tls_eccert_file", "$smtpd_tls_eccert_file" },
	{ "tlsproxy_tls_eckey_file", "$smtpd_tls_eckey_file" },
	{ "tlsproxy_tls_eecdh_grade", "$smtpd_tls_eecdh_grade" },
	{ "tlsproxy_tls_exclude_ciphers", "$smtpd_tls_exclude_ciphers" },
	{ "tlsproxy_tls_fingerprint_digest", "$smtpd_tls_fingerprint_digest" },
	{ "tlsproxy_tls_key_file", "$smtpd_tls_key_file" },
	{ "tlsproxy_tls_loglevel", "$smtpd_tls_loglevel" },
	{ "tlsproxy_tls_mandatory_ciphers", "$smtpd_tls_mandatory_ciphers" },
	{ "tlsproxy_tls_mandatory_exclude_ciphers",
	  "$smtpd_tls_mandatory_exclude_ciphers" },
	{ "tlsproxy_tls_mandatory_protocols",
	  "$smtpd_tls_mandatory_protocols" },
	{ "tlsproxy_tls_protocols", "$smtpd_tls_protocols" },
	{ "tlsproxy_tls_req_ccert", "$smtpd_tls_req_ccert" },
	{ "tlsproxy_tls_security_level", "$smtpd_tls_security_level" },
	{ "tlsproxy_tls_chain_files", "$smtpd_tls_chain_files" },
	{ "tlsproxy_client_CAfile", "$smtp_tls_CAfile" },
	{ "tlsproxy_client_CApath", "$smtp_tls_CApath" },
	{ "tlsproxy_client_chain_files", "$smtp_tls_chain_files" },
	{ "tlsproxy_client_cert_file", "$smtp_tls_cert_file" },
	{ "tlsproxy_client_key_file", "$smtp_tls_key_file" },
	{ "tlsproxy_client_dcert_file", "$smtp_tls_dcert_file" },
	{ "tlsproxy_client_dkey_file", "$smtp_tls_dkey_file" },
	{ "tlsproxy_client_eccert_file", "$smtp_tls_eccert_file" },
	{ "tlsproxy_client_eckey_file", "$smtp_tls_eckey_file" },
	{ "tlsproxy_client_fingerprint_digest",
	  "$smtp_tls_fingerprint_digest" },
	{ "tlsproxy_client_loglevel", "$smtp_tls_loglevel" },
	{ "tlsproxy_client_loglevel_parameter", "smtp_tls_loglevel" },
	{ "tlsproxy_client_scert_verifydepth", "$smtp_tls_scert_verifydepth" },
	{ "tlsproxy_client_security_level", "$smtp_tls_security_level" },
	{ "tlsproxy_client_policy_maps", "$smtp_tls_policy_maps" },
	{ "tlsproxy_client_use_tls", "$smtp_use_tls" },
	{ "tlsproxy_client_enforce_tls", "$smtp_enforce_tls" },
	{ "tlsproxy_client_per_site", "$smtp_tls_per_site" },
	{ "tlsproxy_use_tls", "$smtpd_use_tls" },
	{ "tlsproxy_enforce_tls", "$smtpd_enforce_tls" },
	{ "tlsproxy_watchdog_timeout", "10s" },
};

/* Where postconf -d (which the table follows) and tlsproxy(8) differ in
 * text, the values must still agree whenever the twin is set. */
static int
doc_equivalent(const char *name, const char *doc)
{
	const struct conf_param *tab;
	struct conf *cf = conf_new("/x");
	char err[256], *got = NULL, *want = NULL;
	size_t i, n;
	int same;

	tab = conf_param_table(&n);
	for (i = 0; i < n; i++)
		if (strncmp(tab[i].name, "tlsproxy_", 9) != 0) {
			got = xasprintf("v-%s", tab[i].name);
			conf_override(cf, tab[i].name, got, err, sizeof(err));
			free(got);
		}
	same = conf_get(cf, name, &got, err, sizeof(err)) == 0 &&
	    conf_expand(cf, doc, &want, err, sizeof(err)) == 0 &&
	    strcmp(got, want) == 0 && strncmp(got, "v-", 2) == 0;
	free(got);
	free(want);
	conf_free(cf);
	return same;
}

static void
test_table_tlsproxy(void)
{
	const struct conf_param *p;
	size_t i, n = sizeof(tlsproxy_doc) / sizeof(tlsproxy_doc[0]);
	size_t missing = 0, differ = 0, nonequiv = 0;

	for (i = 0; i < n; i++) {
		if ((p = conf_param_find(tlsproxy_doc[i].name)) == NULL) {
			diag("missing %s", tlsproxy_doc[i].name);
			missing++;
			continue;
		}
		if (strcmp(p->defval, tlsproxy_doc[i].doc) == 0)
			continue;
		differ++;
		if (tlsproxy_doc[i].doc[0] != '$' ||
		    !doc_equivalent(p->name, tlsproxy_doc[i].doc)) {
			diag("%s: %s, documented %s", p->name, p->defval,
			    tlsproxy_doc[i].doc);
			nonequiv++;
		}
	}
	is_int(missing, 0, "every tlsproxy_* parameter of tlsproxy(8) is "
	    "present");
	is_int(nonequiv, 0, "each has its documented default");
	is_int(differ, 2, "only tlsproxy_client_security_level and "
	    "tlsproxy_client_policy_maps differ in text (postconf -d's "
	    "${tlsproxy_client_...:$twin})");
}

int
main(void)
{
	const struct conf_param *tab;
	size_t n;

	test_type_cases();
	test_time_values();
	test_protocols();
	tab = conf_param_table(&n);
	test_table_order(tab, n);
	test_table_defaults_valid(tab, n);
	test_table_types(tab, n);
	test_table_postfix(tab, n);
	test_table_extras();
	test_postfix_names(tab, n);
	test_myhostname();
	test_table_tlsproxy();
	return done();
}
