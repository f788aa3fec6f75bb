/*
 * cmd_keys.c - new-server-key, new-server-cert and deploy-server-cert:
 * make a key and a self-signed certificate in the configuration
 * directory (without deploying them), or deploy a key and certificate
 * pair after checking that they belong together.
 *
 * Runs in: the CLI, as the administrator. Everything is validated before
 * anything is created; main.cf changes in one atomic edit; private keys
 * are created 0600 (keygen_write_pair) and never overwritten.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
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

/* Options and arguments of new-server-key and new-server-cert. */
struct keys_opts {
	const char	*alg;		/* -a, or NULL */
	const char	*bits;		/* -b, or NULL */
	int		 argc;		/* host name arguments */
	char		**argv;
};

/* What the two commands share once the key is chosen. */
struct keys_job {
	struct conf	*cf;
	char		**hosts;	/* from the arguments, or myhostname */
	size_t		 nhosts;
	int		 hosts_given;	/* hosts came from the command line */
	EVP_PKEY	*key;		/* new, or the deployed one */
	char		*reused;	/* path of the deployed key, or NULL */
};

static int
keys_opts_parse(int argc, char **argv, struct keys_opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt(argc, argv, "a:b:")) != -1) {
		switch (ch) {
		case 'a':
			o->alg = optarg;
			break;
		case 'b':
			o->bits = optarg;
			break;
		default:
			return cli_usage(argv[0]);
		}
	}
	o->argc = argc - optind;
	o->argv = argv + optind;
	return CLI_EXIT_OK;
}

/* Loads the configuration and the host list; prints the error. */
static int
keys_job_init(struct keys_job *job, const struct cli *cli,
    const struct keys_opts *o)
{
	char err[1024];

	memset(job, 0, sizeof(*job));
	if ((job->cf = cli_conf_load_rw(cli)) == NULL)
		return CLI_EXIT_FAIL;
	if (keygen_hosts(job->cf, o->argc, o->argv, &job->hosts,
	    &job->nhosts, err, sizeof(err)) < 0 ||
	    keygen_hosts_check(job->hosts, job->nhosts, 1, err,
	    sizeof(err)) < 0)
		return cli_fail("%s", err);
	job->hosts_given = o->argc > 0;
	return CLI_EXIT_OK;
}

static void
keys_job_fini(struct keys_job *job)
{
	keygen_hosts_free(job->hosts, job->nhosts);
	EVP_PKEY_free(job->key);
	free(job->reused);
	conf_free(job->cf);
}

/* s quoted for a POSIX shell when it needs it; a new string. */
static char *
sh_quote(const char *s)
{
	struct buf b;
	const char *p;

	if (s[0] != '\0' && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789@%+=:,./_-") == strlen(s))
		return xstrdup(s);
	buf_init(&b);
	buf_adds(&b, "'");
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'')
			buf_adds(&b, "'\\''");
		else
			buf_add(&b, p, 1);
	}
	buf_adds(&b, "'");
	return buf_take(&b);
}

/* The words of the suggested commands, quoted for the shell. */
struct keys_words {
	char	*dir;		/* -c DIR */
	char	*key;
	char	*cert;
	char	*hosts;		/* " h1 h2" when given, else "" */
	char	*tlsa_host;	/* "-h h1 " when given, else "" */
};

static void
keys_words_init(struct keys_words *w, const struct keys_job *job,
    const char *keypath, const char *certpath)
{
	char *dir = xstrndup(keypath, (size_t)(strrchr(keypath, '/') -
	    keypath)), *q;
	struct buf b;
	size_t i;

	w->dir = sh_quote(dir[0] != '\0' ? dir : "/");
	w->key = sh_quote(keypath);
	w->cert = sh_quote(certpath);
	buf_init(&b);
	for (i = 0; job->hosts_given && i < job->nhosts; i++) {
		buf_addf(&b, " %s", (q = sh_quote(job->hosts[i])));
		free(q);
	}
	w->hosts = buf_take(&b);
	/* keygen_hosts_check made sure of one host at least */
	q = sh_quote(job->hosts[0]);	/* NOLINT */
	w->tlsa_host = job->hosts_given ? xasprintf("-h %s ", q) : xstrdup("");
	free(q);
	free(dir);
}

static void
keys_words_fini(struct keys_words *w)
{
	free(w->dir);
	free(w->key);
	free(w->cert);
	free(w->hosts);
	free(w->tlsa_host);
}

/* The guidance after a new pair, as `postfix tls` gives it. */
static void
keys_print_next(const struct keys_job *job, const char *keypath,
    const char *certpath)
{
	struct keys_words w;

	keys_words_init(&w, job, keypath, certpath);
	printf("New private key: %s\n", keypath);
	if (job->reused != NULL)
		printf("  (a copy of the deployed key %s)\n", job->reused);
	printf("New self-signed certificate: %s\n\n", certpath);
	printf("To deploy them:\n"
	    "    tlsward -c %s deploy-server-cert %s %s\n"
	    "and to make a running tlswardd serve them:\n"
	    "    tlsward -c %s reload\n\n", w.dir, w.cert, w.key, w.dir);
	printf("To use a certificate signed by a CA instead, send the CA the "
	    "CSR from:\n    tlsward -c %s output-server-csr -k %s%s\n"
	    "then save the chain the CA returns (the server certificate "
	    "first, then the\nintermediate CA certificates) over\n    %s\n"
	    "and deploy it with the command above.\n\n", w.dir, w.key,
	    w.hosts, certpath);
	if (job->reused != NULL)
		printf("The key is the deployed one: published DANE TLSA "
		    "\"3 1 1\" records stay valid.\n");
	else
		printf("If you publish DANE TLSA records, first add the new "
		    "key's records next to\nthe current ones:\n    tlsward "
		    "-c %s output-server-tlsa %s%s\nand deploy only after all "
		    "the DNS servers have them and stale records have\n"
		    "expired from remote DNS caches.\n", w.dir, w.tlsa_host,
		    w.key);
	keys_words_fini(&w);
}

/* Certificate, files, guidance. */
static int
keys_finish(struct keys_job *job)
{
	char err[1024], *keypath = NULL, *certpath = NULL;
	X509 *cert;
	int rc;

	if ((cert = keygen_selfsigned(job->key, job->hosts, job->nhosts, err,
	    sizeof(err))) == NULL)
		return cli_fail("%s", err);
	rc = keygen_write_pair(conf_dir(job->cf), job->key, cert, &keypath,
	    &certpath, err, sizeof(err));
	X509_free(cert);
	if (rc < 0)
		return cli_fail("%s", err);
	keys_print_next(job, keypath, certpath);
	free(keypath);
	free(certpath);
	return CLI_EXIT_OK;
}

/* Options, key spec, configuration and hosts: all checked up front. */
static int
keys_start(struct cli *cli, int argc, char **argv, struct keygen_spec *spec,
    struct keys_job *job)
{
	struct keys_opts o;
	char err[1024];
	int rc;

	memset(job, 0, sizeof(*job));
	if ((rc = keys_opts_parse(argc, argv, &o)) != CLI_EXIT_OK)
		return rc;
	if (keygen_spec_parse(o.alg, o.bits, spec, err, sizeof(err)) < 0)
		return cli_fail("%s", err);
	return keys_job_init(job, cli, &o);
}

int
cmd_new_server_key(struct cli *cli, int argc, char **argv)
{
	struct keygen_spec spec;
	struct keys_job job;
	char err[1024];
	int rc;

	if ((rc = keys_start(cli, argc, argv, &spec, &job)) == CLI_EXIT_OK) {
		if ((job.key = keygen_key_new(&spec, err, sizeof(err))) == NULL)
			rc = cli_fail("%s", err);
		else
			rc = keys_finish(&job);
	}
	keys_job_fini(&job);
	return rc;
}

/* Loads the deployed key of alg into job->key; leaves it NULL (0) when
 * none is configured or (with a warning) the file is missing. A key that
 * is there but unusable is an error: replacing it silently would break
 * the TLSA records that new-server-cert exists to keep. */
static int
keys_deployed(struct keys_job *job, enum pem_alg alg, char *err,
    size_t errlen)
{
	const char *param = keygen_key_param(alg);
	char why[1024], *path;
	struct stat st;

	if (keygen_conf_key(job->cf, alg, &path, err, errlen) < 0)
		return -1;
	if (path == NULL)
		return 0;
	if (stat(path, &st) < 0 && errno == ENOENT) {
		log_warnx("%s = %s: no such file; making a new %s key instead",
		    param, path, pem_alg_name(alg));
		free(path);
		return 0;
	}
	if ((job->key = pem_key_load(path, why, sizeof(why))) == NULL)
		errf(err, errlen, "cannot reuse the deployed %s key (%s): %s; "
		    "not replacing it, since a new key would invalidate "
		    "published TLSA records: fix %s, or use new-server-key",
		    pem_alg_name(alg), param, why, param);
	else if (pem_key_alg(job->key) != alg)
		errf(err, errlen, "cannot reuse the deployed %s key: %s = %s "
		    "holds an %s key", pem_alg_name(alg), param, path,
		    pem_alg_name(pem_key_alg(job->key)));
	else {
		job->reused = path;
		return 0;
	}
	free(path);
	return -1;
}

int
cmd_new_server_cert(struct cli *cli, int argc, char **argv)
{
	struct keygen_spec spec;
	struct keys_job job;
	char err[1024];
	int rc;

	if ((rc = keys_start(cli, argc, argv, &spec, &job)) != CLI_EXIT_OK) {
		keys_job_fini(&job);
		return rc;
	}
	if (keys_deployed(&job, spec.alg, err, sizeof(err)) < 0)
		rc = cli_fail("%s", err);
	else if (job.key == NULL &&
	    (job.key = keygen_key_new(&spec, err, sizeof(err))) == NULL)
		rc = cli_fail("%s", err);
	else
		rc = keys_finish(&job);
	keys_job_fini(&job);
	return rc;
}

/* Refuses when chain files are set: they take precedence over the
 * cert/key pair, so Postfix (and tlswardd) would ignore what we deploy. */
static int
deploy_chain_check(const struct conf *cf, char *err, size_t errlen)
{
	static const char *const names[] = { "smtpd_tls_chain_files",
	    "tlsproxy_tls_chain_files" };
	char *val;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < sizeof(names) / sizeof(names[0]); i++) {
		if (conf_get(cf, names[i], &val, err, errlen) < 0)
			return -1;
		if (str_trim(val)[0] != '\0')
			rc = errf(err, errlen, "%s is set (\"%s\"); it takes "
			    "precedence over the certificate and key file "
			    "settings, so the server would ignore the pair "
			    "deployed here. Put the key and its certificate "
			    "chain in the chain files instead, or remove %s "
			    "first", names[i], str_trim(val), names[i]);
		free(val);
	}
	return rc;
}

/* Warns about a private key file that others may read. */
static void
deploy_key_mode(const char *keypath)
{
	struct stat st;

	if (stat(keypath, &st) == 0 && (st.st_mode & 077) != 0)
		log_warnx("%s: private key file is accessible by group or "
		    "others (mode %04o); consider chmod 600",
		    keypath, (unsigned)(st.st_mode & 07777));
}

/* The leaf certificate must be for the key. */
static int
deploy_match(EVP_PKEY *key, STACK_OF(X509) *certs, const char *keypath,
    const char *certpath, char *err, size_t errlen)
{
	int i;

	if (pem_key_matches_cert(key, sk_X509_value(certs, 0)))
		return 0;
	for (i = 1; i < sk_X509_num(certs); i++)
		if (pem_key_matches_cert(key, sk_X509_value(certs, i)))
			return errf(err, errlen, "%s: the certificate of the "
			    "key %s is number %d in the file; the server "
			    "certificate must come first", certpath,
			    keypath, i + 1);
	return errf(err, errlen, "%s: the certificate does not match the "
	    "private key %s", certpath, keypath);
}

/* Loads and cross-checks both files; then edits main.cf. */
static int
deploy_pair(const struct conf *cf, const char *certpath,
    const char *keypath, char *err, size_t errlen)
{
	STACK_OF(X509) *certs = NULL;
	struct conf_change ch[2];
	EVP_PKEY *key;
	int rc = -1;

	if ((key = pem_key_load(keypath, err, errlen)) == NULL)
		return -1;
	if ((certs = pem_certs_load(certpath, err, errlen)) != NULL &&
	    deploy_match(key, certs, keypath, certpath, err, errlen) == 0) {
		ch[0] = (struct conf_change){ keygen_cert_param(
		    pem_key_alg(key)), certpath };
		ch[1] = (struct conf_change){ keygen_key_param(
		    pem_key_alg(key)), keypath };
		rc = conf_edit(conf_main_path(cf), ch, 2, err, errlen);
		if (rc == 0)
			log_info("deployed: %s = %s, %s = %s", ch[0].name,
			    certpath, ch[1].name, keypath);
	}
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	return rc;
}

static int
deploy_run(const struct conf *cf, const char *certarg, const char *keyarg)
{
	char err[2048], *certpath = NULL, *keypath = NULL;
	int rc = -1;

	if (certarg[0] == '\0' || keyarg[0] == '\0')
		return cli_fail("the %s file name is empty",
		    certarg[0] == '\0' ? "certificate" : "key");
	if (deploy_chain_check(cf, err, sizeof(err)) == 0 &&
	    (certpath = keygen_abspath(conf_dir(cf), certarg, err,
	    sizeof(err))) != NULL &&
	    (keypath = keygen_abspath(conf_dir(cf), keyarg, err,
	    sizeof(err))) != NULL)
		rc = deploy_pair(cf, certpath, keypath, err, sizeof(err));
	if (rc == 0)
		deploy_key_mode(keypath);
	free(certpath);
	free(keypath);
	return rc == 0 ? CLI_EXIT_OK : cli_fail("%s", err);
}

int
cmd_deploy_server_cert(struct cli *cli, int argc, char **argv)
{
	struct conf *cf;
	int rc;

	if (getopt(argc, argv, "") != -1 || argc - optind != 2)
		return cli_usage(argv[0]);
	if ((cf = cli_conf_load_rw(cli)) == NULL)
		return CLI_EXIT_FAIL;
	rc = deploy_run(cf, argv[optind], argv[optind + 1]);
	conf_free(cf);
	return rc;
}
