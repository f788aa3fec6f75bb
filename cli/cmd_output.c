/*
 * cmd_output.c - output-server-csr and output-server-tlsa: print a
 * certificate signing request, or DANE TLSA "3 1 1" records, for server
 * keys named on the command line or configured in main.cf.
 *
 * Runs in: the CLI, as the administrator. Reads keys, changes nothing.
 * Output goes to stdout only when all of it could be made, so a failure
 * never leaves half a record set behind.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "cli.h"
#include "keygen.h"
#include "log.h"
#include "util.h"

/* A key name as the user gave it: "rsa" / "ecdsa" mean the configured
 * file, "none" and "" mean no key, other names are files (relative to
 * the configuration directory). *pathp is NULL for no key. */
static int
output_key_path(const struct conf *cf, const char *name, char **pathp,
    char *err, size_t errlen)
{
	*pathp = NULL;
	if (strcmp(name, "rsa") == 0)
		return keygen_conf_key(cf, PEM_ALG_RSA, pathp, err, errlen);
	if (strcmp(name, "ecdsa") == 0)
		return keygen_conf_key(cf, PEM_ALG_ECDSA, pathp, err, errlen);
	if (name[0] == '\0' || strcmp(name, "none") == 0)
		return 0;
	*pathp = keygen_abspath(conf_dir(cf), name, err, errlen);
	return *pathp == NULL ? -1 : 0;
}

/* The CSR key: -k, else the configured RSA key, else the ECDSA one. */
static EVP_PKEY *
csr_key(const struct conf *cf, const char *karg, char *err, size_t errlen)
{
	char *path = NULL;
	EVP_PKEY *key = NULL;
	int rc;

	rc = output_key_path(cf, karg != NULL ? karg : "rsa", &path, err,
	    errlen);
	if (rc == 0 && path == NULL && karg == NULL)
		rc = output_key_path(cf, "ecdsa", &path, err, errlen);
	if (rc == 0 && path == NULL && karg == NULL)
		errf(err, errlen, "no server key is configured (%s and %s are "
		    "empty or none); name one with -k keyfile",
		    keygen_key_param(PEM_ALG_RSA),
		    keygen_key_param(PEM_ALG_ECDSA));
	else if (rc == 0 && path == NULL)
		errf(err, errlen, "-k %s: no key%s", karg,
		    strcmp(karg, "rsa") == 0 || strcmp(karg, "ecdsa") == 0 ?
		    " is configured for that algorithm" : "");
	else if (rc == 0)
		key = pem_key_load(path, err, errlen);
	free(path);
	return key;
}

static int
csr_print(EVP_PKEY *key, char **hosts, size_t nhosts)
{
	char err[1024];
	X509_REQ *req;
	int rc = CLI_EXIT_OK;

	if ((req = keygen_csr(key, hosts, nhosts, err, sizeof(err))) == NULL)
		return cli_fail("%s", err);
	if (PEM_write_X509_REQ(stdout, req) != 1)
		rc = cli_fail("cannot write the CSR to standard output");
	X509_REQ_free(req);
	return rc;
}

int
cmd_output_server_csr(struct cli *cli, int argc, char **argv)
{
	const char *karg = NULL;
	struct conf *cf;
	EVP_PKEY *key = NULL;
	char err[1024], **hosts = NULL;
	size_t nhosts = 0;
	int ch, rc;

	while ((ch = getopt(argc, argv, "k:")) != -1) {
		if (ch != 'k')
			return cli_usage(argv[0]);
		karg = optarg;
	}
	if ((cf = cli_conf_load(cli)) == NULL)
		return CLI_EXIT_FAIL;
	if (keygen_hosts(cf, argc - optind, argv + optind, &hosts, &nhosts,
	    err, sizeof(err)) < 0 ||
	    (key = csr_key(cf, karg, err, sizeof(err))) == NULL)
		rc = cli_fail("%s", err);
	else
		rc = csr_print(key, hosts, nhosts);
	EVP_PKEY_free(key);
	keygen_hosts_free(hosts, nhosts);
	conf_free(cf);
	return rc;
}

/* Appends the comment line and the TLSA record of one key to out. */
static int
tlsa_add(struct buf *out, const char *path, const char *host, char *err,
    size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	EVP_PKEY *key;
	char *hex;
	size_t hlen = strlen(host);
	int n;

	if ((key = pem_key_load(path, err, errlen)) == NULL)
		return -1;
	n = pem_spki_digest(key, EVP_sha256(), md);
	EVP_PKEY_free(key);
	if (n < 0)
		return errf(err, errlen, "%s: cannot digest the public key",
		    path);
	hex = pem_hex(md, (size_t)n, 0);
	/* Postfix appends "." even to "a.b."; we do not double it. */
	buf_addf(out, "; %s\n_25._tcp.%s%s IN TLSA 3 1 1 %s\n", path, host,
	    hlen > 0 && host[hlen - 1] == '.' ? "" : ".", hex);
	free(hex);
	return 0;
}

/* Builds the records of every usable key; -1 on the first error. */
static int
tlsa_build(const struct conf *cf, const char *host, int nkeys,
    char *const *keys, struct buf *out, char *err, size_t errlen)
{
	char *path;
	int i, count = 0;

	for (i = 0; i < nkeys; i++) {
		if (output_key_path(cf, keys[i], &path, err, errlen) < 0)
			return -1;
		if (path == NULL)
			continue;
		if (tlsa_add(out, path, host, err, errlen) < 0) {
			free(path);
			return -1;
		}
		free(path);
		count++;
	}
	return count;
}

/* The owner name: -h, else myhostname; validated. */
static char *
tlsa_host(const struct conf *cf, const char *harg, char *err, size_t errlen)
{
	char *host = NULL;

	if (harg != NULL)
		host = xstrdup(harg);
	else if (conf_get(cf, "myhostname", &host, err, errlen) < 0)
		return NULL;
	if (!keygen_host_valid(host)) {
		errf(err, errlen, "invalid host name: \"%s\"%s", host,
		    harg != NULL ? "" : " (the value of myhostname)");
		free(host);
		return NULL;
	}
	return host;
}

static int
tlsa_run(const struct conf *cf, const char *harg, int nkeys,
    char *const *keys)
{
	static char rsa[] = "rsa", ecdsa[] = "ecdsa";
	char *const defkeys[] = { rsa, ecdsa };
	char err[1024], *host;
	struct buf out;
	int n = -1;

	if ((host = tlsa_host(cf, harg, err, sizeof(err))) == NULL)
		return cli_fail("%s", err);
	buf_init(&out);
	if (nkeys == 0)
		n = tlsa_build(cf, host, 2, defkeys, &out, err, sizeof(err));
	else
		n = tlsa_build(cf, host, nkeys, keys, &out, err, sizeof(err));
	if (n == 0)
		errf(err, sizeof(err), "%s", nkeys == 0 ? "no server key "
		    "is configured (smtpd_tls_key_file and smtpd_tls_eckey_file "
		    "are empty or none)" : "no key to print TLSA records for");
	if (n > 0)
		fputs(out.data, stdout);
	buf_fini(&out);
	free(host);
	return n > 0 ? CLI_EXIT_OK : cli_fail("%s", err);
}

int
cmd_output_server_tlsa(struct cli *cli, int argc, char **argv)
{
	const char *harg = NULL;
	struct conf *cf;
	int ch, rc;

	while ((ch = getopt(argc, argv, "h:")) != -1) {
		if (ch != 'h')
			return cli_usage(argv[0]);
		harg = optarg;
	}
	if ((cf = cli_conf_load(cli)) == NULL)
		return CLI_EXIT_FAIL;
	rc = tlsa_run(cf, harg, argc - optind, argv + optind);
	conf_free(cf);
	return rc;
}
