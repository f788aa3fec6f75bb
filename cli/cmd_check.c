/*
 * cmd_check.c - tlsward check: judge the configuration as a start of
 * tlswardd does (cfcheck.c, the code of "tlswardd -t": main.cf,
 * services.cf, key material, TLS contexts; main.cf alone when there is no
 * services.cf, as in a Postfix directory), then look closer at the server
 * keys and certificates of main.cf (the effective tlsproxy_tls_*
 * settings): private key permissions, chain order, validity dates.
 *
 * Runs in: the CLI, as the administrator. Reads only; changes nothing.
 * Output (stdout), one finding per line, then a summary:
 *   error: TEXT
 *   warning: TEXT
 *   ok: TEXT                      (only with -v)
 *   check: N errors, M warnings
 * Exit 0 when there is no error (warnings allowed), else 1.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cfcheck.h"
#include "cli.h"
#include "fileio.h"
#include "keygen.h"
#include "log.h"
#include "services.h"
#include "util.h"

#define CHECK_EXPIRY_DAYS	30	/* warn when a certificate ends sooner */

enum check_sev { CHECK_OK, CHECK_WARN, CHECK_ERROR };

/* One run: the configuration and the counts for the summary. */
struct check {
	const struct conf	*cf;
	int			 errors;
	int			 warnings;
	int			 verbose;	/* print "ok:" lines */
};

/* The server pairs the daemon loads, and the settings users write. */
static const struct check_slot {
	const char	*cert, *key;		/* what tlswardd reads */
	const char	*smtpd_cert, *smtpd_key; /* their defaults */
	enum pem_alg	 alg;
} check_slots[] = {
	{ "tlsproxy_tls_cert_file", "tlsproxy_tls_key_file",
	  "smtpd_tls_cert_file", "smtpd_tls_key_file", PEM_ALG_RSA },
	{ "tlsproxy_tls_eccert_file", "tlsproxy_tls_eckey_file",
	  "smtpd_tls_eccert_file", "smtpd_tls_eckey_file", PEM_ALG_ECDSA },
};

__attribute__((format(printf, 3, 4)))
static void
check_say(struct check *ck, enum check_sev sev, const char *fmt, ...)
{
	static const char *const words[] = { "ok", "warning", "error" };
	va_list ap;

	if (sev == CHECK_ERROR)
		ck->errors++;
	else if (sev == CHECK_WARN)
		ck->warnings++;
	else if (!ck->verbose)
		return;
	printf("%s: ", words[sev]);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* conf_check() findings; a severity word inside the message is dropped,
 * since every line starts with one. */
static void
check_conf_report(int is_error, const char *msg, void *arg)
{
	const char *word = is_error ? "error: " : "warning: ";
	const char *p = strstr(msg, word);
	size_t skip = strlen(word);

	if (p != NULL && (p == msg || (p - msg >= 2 && p[-2] == ':' &&
	    p[-1] == ' ')))
		check_say(arg, is_error ? CHECK_ERROR : CHECK_WARN, "%.*s%s",
		    (int)(p - msg), msg, p + skip);
	else
		check_say(arg, is_error ? CHECK_ERROR : CHECK_WARN, "%s", msg);
}

/* The expanded, trimmed value of name (a new string), or NULL after
 * reporting an expansion error. */
static char *
check_value(struct check *ck, const char *name)
{
	char err[1024], *val, *t;

	if (conf_get(ck->cf, name, &val, err, sizeof(err)) < 0) {
		check_say(ck, CHECK_ERROR, "%s", err);
		return NULL;
	}
	t = xstrdup(str_trim(val));
	free(val);
	return t;
}

/* The parameter to name in messages: the tlsproxy_tls_* one if main.cf
 * sets it, else the smtpd_tls_* one it defaults to. */
static const char *
check_shown(const struct check *ck, const char *own, const char *deflt)
{
	return conf_lookup(ck->cf, own) != NULL ? own : deflt;
}

/* "2026-11-22 12:00:00 UTC" */
static void
check_time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(t, &tm) ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "(unreadable time)");
}

static void
check_subject(X509 *x, char *buf, size_t len)
{
	if (X509_NAME_oneline(X509_get_subject_name(x), buf, (int)len) == NULL)
		snprintf(buf, len, "(unreadable subject)");
}

/* Validity dates of certificate number i (from 1) in what. */
static void
check_dates(struct check *ck, const char *what, int i, X509 *x)
{
	char when[64], subj[256];
	time_t soon = time(NULL) + CHECK_EXPIRY_DAYS * 86400;
	int days = 0, secs = 0;

	check_subject(x, subj, sizeof(subj));
	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
		check_time_text(X509_get0_notBefore(x), when, sizeof(when));
		check_say(ck, CHECK_ERROR, "%s: certificate %d (%s) is not "
		    "valid before %s", what, i, subj, when);
	}
	check_time_text(X509_get0_notAfter(x), when, sizeof(when));
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		check_say(ck, CHECK_ERROR, "%s: certificate %d (%s) expired "
		    "on %s", what, i, subj, when);
	else if (X509_cmp_time(X509_get0_notAfter(x), &soon) < 0 &&
	    ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)))
		check_say(ck, CHECK_WARN, "%s: certificate %d (%s) expires "
		    "on %s, in %d day%s", what, i, subj, when, days,
		    days == 1 ? "" : "s");
}

/* Each certificate must be issued by the next one. */
static void
check_chain(struct check *ck, const char *what, STACK_OF(X509) *certs)
{
	char a[256], b[256];
	int i, n = sk_X509_num(certs);

	for (i = 0; i < n; i++)
		check_dates(ck, what, i + 1, sk_X509_value(certs, i));
	for (i = 0; i + 1 < n; i++) {
		if (X509_check_issued(sk_X509_value(certs, i + 1),
		    sk_X509_value(certs, i)) == X509_V_OK)
			continue;
		check_subject(sk_X509_value(certs, i), a, sizeof(a));
		check_subject(sk_X509_value(certs, i + 1), b, sizeof(b));
		check_say(ck, CHECK_ERROR, "%s: certificate %d (%s) is not "
		    "issued by the next one, certificate %d (%s): the server "
		    "certificate comes first, each followed by its issuer",
		    what, i + 1, a, i + 2, b);
	}
}

/* The "ok:" line of a good key and chain (with -v). */
static void
check_bundle_ok(struct check *ck, const char *what, EVP_PKEY *key,
    STACK_OF(X509) *certs)
{
	char subj[256], until[64];
	int n = sk_X509_num(certs);

	check_subject(sk_X509_value(certs, 0), subj, sizeof(subj));
	check_time_text(X509_get0_notAfter(sk_X509_value(certs, 0)), until,
	    sizeof(until));
	check_say(ck, CHECK_OK, "%s: %s key matches %s, valid until %s; %d "
	    "certificate%s in the chain", what, pem_alg_name(pem_key_alg(key)),
	    subj, until, n, n == 1 ? "" : "s");
}

/* A key and its chain, from a pair of files or a chain file. */
static void
check_bundle(struct check *ck, const char *what, const char *keyname,
    EVP_PKEY *key, STACK_OF(X509) *certs, enum pem_alg want)
{
	int i, n = sk_X509_num(certs), errors = ck->errors;

	if (!pem_key_matches_cert(key, sk_X509_value(certs, 0))) {
		for (i = 1; i < n; i++)
			if (pem_key_matches_cert(key, sk_X509_value(certs, i)))
				break;
		check_say(ck, CHECK_ERROR, "%s: the first certificate does "
		    "not match the private key %s%s", what, keyname, i < n ?
		    " (a later one does: put the server certificate first)" :
		    "");
	}
	if (want != PEM_ALG_NONE && pem_key_alg(key) != want)
		check_say(ck, CHECK_WARN, "%s: holds an %s key where an %s key "
		    "is expected", keyname, pem_alg_name(pem_key_alg(key)),
		    pem_alg_name(want));
	check_chain(ck, what, certs);
	if (ck->errors == errors)
		check_bundle_ok(ck, what, key, certs);
}

/* Private keys must be readable by their owner only. */
static void
check_key_mode(struct check *ck, const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
		check_say(ck, CHECK_WARN, "%s: private key file is accessible "
		    "by group or others (mode %04o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
}

/* One configured key file + certificate file. */
static void
check_files(struct check *ck, const char *keypath, const char *certpath,
    enum pem_alg want)
{
	STACK_OF(X509) *certs;
	EVP_PKEY *key;
	char err[1024];

	check_key_mode(ck, keypath);
	if ((key = pem_key_load(keypath, err, sizeof(err))) == NULL)
		check_say(ck, CHECK_ERROR, "%s", err);
	if ((certs = pem_certs_load(certpath, err, sizeof(err))) == NULL)
		check_say(ck, CHECK_ERROR, "%s", err);
	if (key != NULL && certs != NULL)
		check_bundle(ck, certpath, keypath, key, certs, want);
	else if (certs != NULL)
		check_chain(ck, certpath, certs);
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
}

/* A cert/key pair of settings; returns 1 if it is configured. With
 * ignored (chain files are set) only says that it is ignored. */
static int
check_pair(struct check *ck, const struct check_slot *s, int ignored)
{
	const char *cname = check_shown(ck, s->cert, s->smtpd_cert);
	const char *kname = check_shown(ck, s->key, s->smtpd_key);
	char *cert = check_value(ck, s->cert), *key = check_value(ck, s->key);
	char *cpath = NULL, *kpath = NULL, err[512];
	int used = cert != NULL && key != NULL &&
	    (cert[0] != '\0' || key[0] != '\0');

	if (used && ignored)
		check_say(ck, CHECK_WARN, "%s and %s are ignored: %s takes "
		    "precedence", cname, kname, check_shown(ck,
		    "tlsproxy_tls_chain_files", "smtpd_tls_chain_files"));
	else if (used && cert[0] == '\0')
		check_say(ck, CHECK_ERROR, "%s is set but %s is empty", kname,
		    cname);
	else if (used && key[0] == '\0')
		check_say(ck, CHECK_ERROR, "%s is set but %s is empty", cname,
		    kname);
	else if (used && ((cpath = keygen_abspath(conf_dir(ck->cf), cert,
	    err, sizeof(err))) == NULL || (kpath = keygen_abspath(
	    conf_dir(ck->cf), key, err, sizeof(err))) == NULL))
		check_say(ck, CHECK_ERROR, "%s", err);
	else if (used)
		check_files(ck, kpath, cpath, s->alg);
	free(cert);
	free(key);
	free(cpath);
	free(kpath);
	return used;
}

/* Warns about the group/other access of each file that holds a key. */
static void
check_chain_modes(struct check *ck, const struct pem_chain *v, int n)
{
	int k, j;

	for (k = 0; k < n; k++) {
		for (j = 0; j < k; j++)
			if (strcmp(v[j].label, v[k].label) == 0)
				break;
		if (j == k)
			check_key_mode(ck, v[k].label);
	}
}

/* The files of a chain-files list, read: 0, or -1 after reporting. */
static int
check_chain_read(struct check *ck, char *list, struct pem_src **srcp,
    size_t *np)
{
	char err[1024], *name, *save = NULL, *path, *text;
	struct pem_src *src = NULL;
	size_t n = 0, len;
	int rc = 0;

	for (name = strtok_r(list, " \t,", &save); name != NULL;
	    name = strtok_r(NULL, " \t,", &save)) {
		if ((path = keygen_abspath(conf_dir(ck->cf), name, err,
		    sizeof(err))) == NULL ||
		    file_read(path, PEM_MAX_FILE, &text, &len, err,
		    sizeof(err)) < 0) {
			check_say(ck, CHECK_ERROR, "%s", err);
			free(path);
			rc = -1;
			continue;
		}
		src = xreallocarray(src, n + 1, sizeof(*src));
		src[n].label = path;
		src[n].data = text;
		src[n++].len = len;
	}
	*srcp = src;
	*np = n;
	return rc;
}

static void
check_chain_free(struct pem_src *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		explicit_bzero((char *)(uintptr_t)src[i].data, src[i].len);
		free((char *)(uintptr_t)src[i].data);
		free((char *)(uintptr_t)src[i].label);
	}
	free(src);
}

/* tlsproxy_tls_chain_files, read as Postfix reads it: the files in
 * order are one stream of keys, each followed by its certificate and
 * chain (pem_chains_parse, as tlswardd). Returns 1 if the list names
 * any file. */
static int
check_chain_files(struct check *ck)
{
	char *list = check_value(ck, "tlsproxy_tls_chain_files"), err[1024];
	struct pem_chain *v = NULL;
	struct pem_src *src;
	size_t nsrc = 0;
	int n, k, named;

	if (list == NULL)
		return 0;
	named = list[strspn(list, " \t,")] != '\0';
	if (check_chain_read(ck, list, &src, &nsrc) == 0 && nsrc > 0) {
		if ((n = pem_chains_parse(src, nsrc, &v, err,
		    sizeof(err))) < 0)
			check_say(ck, CHECK_ERROR, "%s", err);
		check_chain_modes(ck, v, n);
		for (k = 0; k < n; k++)
			check_bundle(ck, v[k].label, v[k].label, v[k].key,
			    v[k].certs, PEM_ALG_NONE);
		pem_chains_free(v, n);
	}
	check_chain_free(src, nsrc);
	free(list);
	return named;
}

static void
check_server(struct check *ck)
{
	char *dcert = check_value(ck, "tlsproxy_tls_dcert_file");
	int nchain = check_chain_files(ck), n = nchain;
	size_t i;

	for (i = 0; i < sizeof(check_slots) / sizeof(check_slots[0]); i++)
		n += check_pair(ck, &check_slots[i], nchain > 0);
	if (dcert != NULL && dcert[0] != '\0')
		check_say(ck, CHECK_WARN, "%s is ignored: DSA keys are not "
		    "supported", check_shown(ck, "tlsproxy_tls_dcert_file",
		    "smtpd_tls_dcert_file"));
	if (n == 0)
		check_say(ck, CHECK_WARN, "no server certificate is configured "
		    "(smtpd_tls_cert_file, smtpd_tls_eccert_file and "
		    "smtpd_tls_chain_files are empty): services in the server "
		    "role cannot offer TLS");
	free(dcert);
}

/* A line that the shared check (cfcheck.c) logged. */
static void
check_captured(int prio, const char *text, void *arg)
{
	struct check *ck = arg;

	if (prio <= LOG_ERR)
		check_conf_report(1, text, ck);
	else if (prio <= LOG_NOTICE)
		check_conf_report(0, text, ck);
	else
		check_say(ck, CHECK_OK, "%s", text);
}

/* 1 if dir has a services.cf (a Postfix directory has none). */
static int
check_has_services(const char *dir)
{
	char *path = xasprintf("%s/%s", dir, SERVICES_FILE);
	struct stat st;
	int rc = stat(path, &st) == 0;

	free(path);
	return rc;
}

/* With services.cf, the daemon's own check (as "tlswardd -t"): main.cf,
 * services.cf, every file and every TLS context; without it, main.cf. */
static void
check_config(struct check *ck, const char *dir)
{
	if (check_has_services(dir)) {
		log_capture(check_captured, ck);
		cfcheck_run(dir);
		log_capture(NULL, NULL);
		return;
	}
	check_say(ck, CHECK_OK, "%s/%s does not exist: checking main.cf and "
	    "the server keys only (tlswardd needs it to start)", dir,
	    SERVICES_FILE);
	conf_check(ck->cf, check_conf_report, ck);
}

int
cmd_check(struct cli *cli, int argc, char **argv)
{
	struct check ck = { NULL, 0, 0, cli->verbose > 0 };
	struct conf *cf;
	char err[1024];

	if (getopt(argc, argv, "") != -1 || optind != argc)
		return cli_usage(argv[0]);
	cf = conf_new(cli->dir);
	ck.cf = cf;
	if (conf_load(cf, err, sizeof(err)) < 0) {
		if (check_has_services(cli->dir))
			check_config(&ck, cli->dir);	/* says it too */
		else
			check_say(&ck, CHECK_ERROR, "%s", err);
	} else {
		check_config(&ck, cli->dir);
		check_server(&ck);
	}
	printf("check: %d error%s, %d warning%s\n", ck.errors,
	    ck.errors == 1 ? "" : "s", ck.warnings, ck.warnings == 1 ? "" : "s");
	conf_free(cf);
	return ck.errors == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
