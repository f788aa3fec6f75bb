/*
 * fuzz_config.c - libFuzzer target for the configuration engine
 * (common/): main.cf parsing and $name expansion, the typed checks,
 * services.cf parsing with -o overrides, and main.cf editing, over any
 * bytes.
 *
 * The input is up to three parts separated by NUL bytes: main.cf text,
 * services.cf text, and a value for an edit. Each call either succeeds
 * or fails with a non-empty message; the invariants below abort on
 * anything else.
 *
 * Runs in: a fuzzing build only (clang -fsanitize=fuzzer,address);
 * t/96-config-fuzz.t builds and runs it for a bounded time.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_edit.h"
#include "services.h"

#define FUZZ_DIR	"/nonexistent/fuzz"

/* A failed call left a message, and one that fits. */
static void
check_err(const char *err, size_t errlen)
{
	if (err[0] == '\0' || strnlen(err, errlen) >= errlen)
		abort();
}

/* Splits data at NUL bytes into at most n NUL-terminated strings. */
static size_t
split(const uint8_t *data, size_t size, char **part, size_t n)
{
	size_t k = 0, start = 0, i;

	for (i = 0; i <= size && k < n; i++) {
		if (i == size || data[i] == '\0' || k == n - 1) {
			if (k == n - 1)
				i = size;
			part[k] = malloc(i - start + 1);
			if (part[k] == NULL)
				abort();
			memcpy(part[k], data + start, i - start);
			part[k][i - start] = '\0';
			k++;
			start = i + 1;
		}
	}
	return k;
}

/* Every setting expands or names its loop; the typed getters of a few
 * parameters succeed or explain. */
static void
walk(const struct conf *cf)
{
	static const char *const typed[] = {
		"smtpd_tls_session_cache_timeout", "tlsproxy_watchdog_timeout",
		"smtpd_tls_ccert_verifydepth", "tlsproxy_enforce_tls",
		"tlsproxy_tls_protocols", "smtpd_tls_security_level",
	};
	char err[512], *v;
	long long n;
	unsigned mask;
	size_t i;
	int b;

	for (i = 0; i < conf_count(cf); i++) {
		err[0] = '\0';
		if (conf_get(cf, conf_entry_at(cf, i)->name, &v, err,
		    sizeof(err)) < 0) {
			check_err(err, sizeof(err));
			continue;
		}
		(void)conf_protocols_parse(v, &mask, err, sizeof(err));
		(void)conf_time_parse(v, &n, err, sizeof(err));
		free(v);
	}
	for (i = 0; i < sizeof(typed) / sizeof(typed[0]); i++) {
		err[0] = '\0';
		if (conf_get_int(cf, typed[i], &n, err, sizeof(err)) < 0)
			check_err(err, sizeof(err));
		err[0] = '\0';
		if (conf_get_bool(cf, typed[i], &b, err, sizeof(err)) < 0)
			check_err(err, sizeof(err));
		err[0] = '\0';
		if (conf_get_time(cf, typed[i], &n, err, sizeof(err)) < 0)
			check_err(err, sizeof(err));
	}
}

static void
report(int is_error, const char *msg, void *arg)
{
	(void)is_error;
	(void)arg;
	if (msg == NULL || msg[0] == '\0')
		abort();
}

static void
services(const struct conf *cf, const char *text)
{
	struct services svcs;
	struct conf *scf;
	char err[512];
	size_t i;

	memset(&svcs, 0, sizeof(svcs));
	err[0] = '\0';
	if (services_parse(text, "services.cf", FUZZ_DIR, &svcs, err,
	    sizeof(err)) < 0) {
		check_err(err, sizeof(err));
		services_fini(&svcs);
		return;
	}
	if (svcs.n > SERVICES_MAX)
		abort();
	for (i = 0; i < svcs.n; i++) {
		if (svcs.v[i].name == NULL || svcs.v[i].name[0] == '\0')
			abort();
		err[0] = '\0';
		if ((scf = services_conf(cf, &svcs.v[i], err,
		    sizeof(err))) == NULL) {
			check_err(err, sizeof(err));
			continue;
		}
		walk(scf);
		conf_free(scf);
	}
	services_fini(&svcs);
}

/* The blanks main.cf parsing trims around a value (CONF_ISSPACE). */
static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* value without its leading and trailing blanks, in a new string. */
static char *
trimmed(const char *value)
{
	const char *e = value + strlen(value);
	char *t;

	while (blank(*value))
		value++;
	while (e > value && blank(e[-1]))
		e--;
	if ((t = strndup(value, (size_t)(e - value))) == NULL)
		abort();
	return t;
}

/* Setting a parameter to a one-line value (conf_edit_text's contract)
 * gives a text that parses and has that value. */
static void
edit(const char *text, const char *value)
{
	struct conf_change ch = { "tlsproxy_tls_cert_file", value };
	struct conf *cf;
	char err[512], *out, *want;
	const char *got;

	if (strpbrk(value, "\r\n") != NULL)
		return;
	err[0] = '\0';
	if ((out = conf_edit_text(text, "main.cf", &ch, 1, err,
	    sizeof(err))) == NULL) {
		check_err(err, sizeof(err));
		return;
	}
	cf = conf_new(FUZZ_DIR);
	want = trimmed(value);
	if (conf_load_text(cf, "main.cf", out, err, sizeof(err)) < 0 ||
	    (got = conf_raw(cf, ch.name)) == NULL || strcmp(got, want) != 0)
		abort();
	free(want);
	conf_free(cf);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *part[3] = { NULL, NULL, NULL }, err[512];
	struct conf *cf;
	size_t n, i;

	n = split(data, size, part, 3);
	cf = conf_new(FUZZ_DIR);
	err[0] = '\0';
	if (conf_load_text(cf, "main.cf", part[0], err, sizeof(err)) < 0) {
		check_err(err, sizeof(err));
	} else {
		(void)conf_check(cf, report, NULL);
		walk(cf);
		if (n > 1)
			services(cf, part[1]);
		if (n > 2)
			edit(part[0], part[2]);
	}
	conf_free(cf);
	for (i = 0; i < n; i++)
		free(part[i]);
	return 0;
}
