/*
 * cmd_enable.c - enable-client, enable-server, all-default-client and
 * all-default-server: turn on opportunistic TLS when, and only when, the
 * TLS settings of that side are all at their defaults.
 *
 * Runs in: the CLI. Changes main.cf in one atomic edit; enable-server
 * also creates a key and a self-signed certificate, removed again if the
 * edit fails, so a failure leaves the directory as it was.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "conf_edit.h"
#include "fileio.h"
#include "keygen.h"
#include "log.h"
#include "util.h"

#define DEFAULT_RANDOM_SOURCE	"dev:/dev/urandom"

/*
 * The settings whose presence means "TLS was configured by hand". Postfix
 * looks at the same names; unlike Postfix we count *_tls_chain_files too,
 * since a chain-files-only setup is configured, and a key added beside it
 * would be ignored.
 */
static const char *const client_settings[] = {
	"smtp_use_tls", "smtp_enforce_tls", "smtp_tls_enforce_peername",
	"smtp_tls_security_level", "smtp_tls_cert_file", "smtp_tls_dcert_file",
	"smtp_tls_eccert_file", "smtp_tls_chain_files", NULL,
};
static const char *const server_settings[] = {
	"smtpd_use_tls", "smtpd_enforce_tls", "smtpd_tls_security_level",
	"smtpd_tls_cert_file", "smtpd_tls_dcert_file", "smtpd_tls_eccert_file",
	"smtpd_tls_chain_files", NULL,
};

/* Typical settings printed when we refuse to change a hand-made setup. */
static const char *const client_typical[] = {
	"smtp_tls_security_level = may",
	"smtp_tls_loglevel = 1",
	"smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache",
	NULL,
};
static const char *const server_typical[] = {
	"smtpd_tls_security_level = may",
	"smtpd_tls_loglevel = 1",
	"smtpd_tls_received_header = yes",
	"smtpd_tls_cert_file = /path/to/cert.pem (and smtpd_tls_key_file)",
	"smtpd_tls_eccert_file = /path/to/eccert.pem (and smtpd_tls_eckey_file)",
	NULL,
};

/* 1 if none of names is set to a non-empty value in main.cf. */
static int
all_default(const struct conf *cf, const char *const *names)
{
	const struct conf_entry *e;

	for (; *names != NULL; names++) {
		e = conf_lookup(cf, *names);
		if (e != NULL && e->value[0] != '\0')
			return 0;
	}
	return 1;
}

/* Prints the names that are set and the typical settings; changes
 * nothing. */
static void
suggest(const struct conf *cf, const char *side, const char *const *names,
    const char *const *typical)
{
	const struct conf_entry *e;

	fprintf(stderr, "tlsward: the SMTP %s TLS settings are not all at "
	    "their defaults; main.cf is unchanged\n", side);
	for (; *names != NULL; names++)
		if ((e = conf_lookup(cf, *names)) != NULL && e->value[0] != '\0')
			fprintf(stderr, "tlsward:   %s:%d: %s = %s\n",
			    conf_main_path(cf), e->line, e->name, e->value);
	fprintf(stderr, "tlsward: typical settings to review by hand:\n");
	for (; *typical != NULL; typical++)
		fprintf(stderr, "tlsward:   %s\n", *typical);
}

/*
 * Validates -r: "dev:/path" must be a character device we can read,
 * "egd:/path" an existing UNIX-domain socket. Postfix writes any text
 * verbatim; a bogus entropy source is refused here instead.
 */
static int
randsource_check(const char *src, char *err, size_t errlen)
{
	struct stat st;
	const char *path = src + 4;

	if (strncmp(src, "dev:", 4) == 0) {
		if (stat(path, &st) < 0)
			return errf_errno(err, errlen, "-r %s", src);
		if (!S_ISCHR(st.st_mode))
			return errf(err, errlen, "-r %s: %s is not a character "
			    "device", src, path);
		if (access(path, R_OK) < 0)
			return errf_errno(err, errlen, "-r %s", src);
		return 0;
	}
	if (strncmp(src, "egd:", 4) == 0) {
		if (stat(path, &st) < 0)
			return errf_errno(err, errlen, "-r %s", src);
		if (!S_ISSOCK(st.st_mode))
			return errf(err, errlen, "-r %s: %s is not a socket",
			    src, path);
		return 0;
	}
	return errf(err, errlen, "-r %s: the entropy source must be "
	    "dev:/device/path or egd:/socket/path", src);
}

/* The tls_random_source to write: -r, else main.cf's, else the default. */
static const char *
randsource_value(const struct conf *cf, const char *opt)
{
	const struct conf_entry *e;

	if (opt != NULL)
		return opt;
	e = conf_lookup(cf, "tls_random_source");
	return e != NULL && e->value[0] != '\0' ? e->value :
	    DEFAULT_RANDOM_SOURCE;
}

/* Parses [-r randsource] plus, for the server, [-a alg] [-b bits]. */
struct enable_opts {
	const char	*rand;
	const char	*alg;
	const char	*bits;
};

static int
enable_getopt(int argc, char **argv, const char *optstr,
    struct enable_opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt(argc, argv, optstr)) != -1) {
		switch (ch) {
		case 'r':
			o->rand = optarg;
			break;
		case 'a':
			o->alg = optarg;
			break;
		case 'b':
			o->bits = optarg;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

int
cmd_enable_client(struct cli *cli, int argc, char **argv)
{
	struct conf_change ch[4];
	struct enable_opts o;
	struct conf *cf;
	char err[1024], *datadir = NULL, *cache;
	int rc = CLI_EXIT_FAIL;

	if (enable_getopt(argc, argv, "r:", &o) < 0 || optind != argc)
		return cli_usage(argv[0]);
	if (o.rand != NULL && randsource_check(o.rand, err, sizeof(err)) < 0)
		return cli_fail("%s", err);
	if ((cf = cli_conf_load_rw(cli)) == NULL)
		return CLI_EXIT_FAIL;
	if (!all_default(cf, client_settings)) {
		suggest(cf, "client", client_settings, client_typical);
		conf_free(cf);
		return CLI_EXIT_OK;
	}
	if (conf_get(cf, "data_directory", &datadir, err, sizeof(err)) < 0) {
		conf_free(cf);
		return cli_fail("%s", err);
	}
	/* Postfix writes the expanded path; so do we. */
	cache = xasprintf("btree:%s/smtp_scache", datadir);
	ch[0] = (struct conf_change){ "smtp_tls_security_level", "may" };
	ch[1] = (struct conf_change){ "smtp_tls_loglevel", "1" };
	ch[2] = (struct conf_change){ "smtp_tls_session_cache_database", cache };
	ch[3] = (struct conf_change){ "tls_random_source",
	    randsource_value(cf, o.rand) };
	if (conf_edit(conf_main_path(cf), ch, 4, err, sizeof(err)) < 0)
		cli_fail("%s", err);
	else {
		fprintf(stderr, "tlsward: enabled opportunistic TLS in the "
		    "SMTP client (%s updated)\n", conf_main_path(cf));
		rc = CLI_EXIT_OK;
	}
	free(cache);
	free(datadir);
	conf_free(cf);
	return rc;
}

/* Creates the key and certificate files; *keyp and *certp are the paths. */
static int
server_make_pair(const struct conf *cf, const struct keygen_spec *spec,
    char **hosts, size_t nhosts, char **keyp, char **certp, char *err,
    size_t errlen)
{
	EVP_PKEY *key;
	X509 *cert;
	int rc = -1;

	if ((key = keygen_key_new(spec, err, errlen)) == NULL)
		return -1;
	if ((cert = keygen_selfsigned(key, hosts, nhosts, err, errlen)) != NULL) {
		rc = keygen_write_pair(conf_dir(cf), key, cert, keyp, certp,
		    err, errlen);
		X509_free(cert);
	}
	EVP_PKEY_free(key);
	return rc;
}

/* Creates, deploys and enables; on failure removes what it created. */
static int
server_enable(const struct conf *cf, const struct keygen_spec *spec,
    char **hosts, size_t nhosts, const char *rand)
{
	struct conf_change ch[6];
	char err[1024], *key = NULL, *cert = NULL;
	int ec = spec->alg == PEM_ALG_ECDSA;

	if (server_make_pair(cf, spec, hosts, nhosts, &key, &cert, err,
	    sizeof(err)) < 0)
		return cli_fail("%s", err);
	ch[0] = (struct conf_change){
	    ec ? "smtpd_tls_eccert_file" : "smtpd_tls_cert_file", cert };
	ch[1] = (struct conf_change){
	    ec ? "smtpd_tls_eckey_file" : "smtpd_tls_key_file", key };
	ch[2] = (struct conf_change){ "smtpd_tls_security_level", "may" };
	ch[3] = (struct conf_change){ "smtpd_tls_received_header", "yes" };
	ch[4] = (struct conf_change){ "smtpd_tls_loglevel", "1" };
	ch[5] = (struct conf_change){ "tls_random_source",
	    randsource_value(cf, rand) };
	if (conf_edit(conf_main_path(cf), ch, 6, err, sizeof(err)) < 0) {
		file_remove_quiet(key);
		file_remove_quiet(cert);
		free(key);
		free(cert);
		return cli_fail("%s", err);
	}
	fprintf(stderr, "tlsward: created %s and %s\n", key, cert);
	fprintf(stderr, "tlsward: enabled opportunistic TLS in the SMTP "
	    "server (%s updated)\n", conf_main_path(cf));
	free(key);
	free(cert);
	return CLI_EXIT_OK;
}

int
cmd_enable_server(struct cli *cli, int argc, char **argv)
{
	struct keygen_spec spec;
	struct enable_opts o;
	struct conf *cf;
	char err[1024], **hosts = NULL;
	size_t nhosts = 0;
	int rc;

	if (enable_getopt(argc, argv, "r:a:b:", &o) < 0)
		return cli_usage(argv[0]);
	/* Everything the user typed is validated before anything else. */
	if (keygen_spec_parse(o.alg, o.bits, &spec, err, sizeof(err)) < 0 ||
	    (o.rand != NULL && randsource_check(o.rand, err, sizeof(err)) < 0))
		return cli_fail("%s", err);
	if ((cf = cli_conf_load_rw(cli)) == NULL)
		return CLI_EXIT_FAIL;
	if (keygen_hosts(cf, argc - optind, argv + optind, &hosts, &nhosts,
	    err, sizeof(err)) < 0 ||
	    keygen_hosts_check(hosts, nhosts, 1, err, sizeof(err)) < 0) {
		keygen_hosts_free(hosts, nhosts);
		conf_free(cf);
		return cli_fail("%s", err);
	}
	if (!all_default(cf, server_settings)) {
		suggest(cf, "server", server_settings, server_typical);
		rc = CLI_EXIT_OK;
	} else
		rc = server_enable(cf, &spec, hosts, nhosts, o.rand);
	keygen_hosts_free(hosts, nhosts);
	conf_free(cf);
	return rc;
}

/* all-default-*: silent; 0 if all default, 1 if not, 2 for arguments. */
static int
all_default_cmd(struct cli *cli, int argc, char **argv,
    const char *const *names)
{
	struct conf *cf;
	int rc;

	if (getopt(argc, argv, "") != -1 || optind != argc)
		return cli_usage(argv[0]);
	if ((cf = cli_conf_load(cli)) == NULL)
		return CLI_EXIT_FAIL;
	rc = all_default(cf, names) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	conf_free(cf);
	return rc;
}

int
cmd_all_default_client(struct cli *cli, int argc, char **argv)
{
	return all_default_cmd(cli, argc, argv, client_settings);
}

int
cmd_all_default_server(struct cli *cli, int argc, char **argv)
{
	return all_default_cmd(cli, argc, argv, server_settings);
}
