/*
 * main.c - tlsward(1): global options, then one subcommand.
 *
 * Runs in: the CLI, as the administrator. Reads the configuration
 * directory chosen by -c / $TLSWARD_CONFIG_DIR / the built-in default and
 * dispatches to the subcommand table below.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "fileio.h"
#include "log.h"

const struct cli_cmd cli_cmds[] = {
	{ "enable-client", cmd_enable_client, "[-r randsource]",
	  "Enable opportunistic TLS in the SMTP client settings if they are all\n"
	  "at their defaults; otherwise print suggested settings and change\n"
	  "nothing." },
	{ "enable-server", cmd_enable_server,
	  "[-r randsource] [-a algorithm] [-b bits] [hostname ...]",
	  "If the server TLS settings are all at their defaults, create a key\n"
	  "and self-signed certificate, deploy them and enable opportunistic\n"
	  "TLS; otherwise print suggested settings and change nothing." },
	{ "new-server-key", cmd_new_server_key,
	  "[-a algorithm] [-b bits] [hostname ...]",
	  "Create a new private key and self-signed certificate without\n"
	  "deploying them, and print the commands for the next steps." },
	{ "new-server-cert", cmd_new_server_cert,
	  "[-a algorithm] [-b bits] [hostname ...]",
	  "Like new-server-key, but reuse the deployed key of that algorithm\n"
	  "so that TLSA \"3 1 1\" records stay valid." },
	{ "deploy-server-cert", cmd_deploy_server_cert, "certfile keyfile",
	  "Check that the certificate matches the key, then configure them as\n"
	  "the server pair for the key's algorithm." },
	{ "output-server-csr", cmd_output_server_csr,
	  "[-k keyfile] [hostname ...]",
	  "Write a certificate signing request for the key to stdout." },
	{ "output-server-tlsa", cmd_output_server_tlsa,
	  "[-h hostname] [keyfile ...]",
	  "Write DANE TLSA \"3 1 1\" records for the keys to stdout." },
	{ "all-default-client", cmd_all_default_client, "",
	  "Exit 0 if all SMTP client TLS settings are at their defaults, else 1." },
	{ "all-default-server", cmd_all_default_server, "",
	  "Exit 0 if all SMTP server TLS settings are at their defaults, else 1." },
	{ "config", cmd_config,
	  "[-n] [-d] [-x] [name ...] | -e 'name = value' ... | -X name ...",
	  "Print parameters as postconf does (-n: only those set in main.cf,\n"
	  "-d: defaults, -x: expanded), set them (-e) or remove them (-X)." },
	{ "check", cmd_check, "",
	  "Validate main.cf and the configured server keys and certificates;\n"
	  "print one line per finding; exit 0 when there is no error." },
	{ "status", cmd_status, "[--json] [-q] [-s socket]",
	  "Ask the running tlswardd for its state: per service the sessions,\n"
	  "handshake outcomes, bytes and certificates in use; the thread pool.\n"
	  "Exit 0 when its worker serves; -q prints nothing (for probes)." },
	{ "fetch-ocsp", cmd_fetch_ocsp,
	  "[-t timeout] [-i issuerfile] [-o outfile] [certfile ...]",
	  "For each server certificate (by default every one the configuration\n"
	  "serves), ask the OCSP responder of its Authority Information Access\n"
	  "about it, check the answer (signed by its issuer, about it, fresh)\n"
	  "and store it beside it as CERTFILE.ocsp (-o: there), where tlswardd\n"
	  "staples it from the next start or reload. -i: a file that holds the\n"
	  "issuer when CERTFILE does not; -t: seconds per responder (10)." },
	{ "rotate-ticket-keys", cmd_rotate_ticket_keys, "[-n keep] [-s socket]",
	  "Add a fresh session ticket key to tlsproxy_tls_ticket_key_file\n"
	  "(created, mode 0600, if missing), keep the newest keep keys (2)\n"
	  "and drop older ones, rewriting the file atomically; then reload\n"
	  "the running tlswardd (the newest key encrypts, the others still\n"
	  "decrypt). Copy the file to every instance that shares it." },
	{ "reload", cmd_reload, "[-s socket]",
	  "Make the running tlswardd re-read its configuration and keys;\n"
	  "print the new generation, or every error that kept the old one." },
	{ "handoff", cmd_handoff,
	  "--fd N [options] -- command [arg ...]",
	  "Hand the connected socket on descriptor N to tlswardd's hand-off\n"
	  "service (TLS starts on it), then run the command with its standard\n"
	  "input and output on the plaintext side of that TLS session; the\n"
	  "daemon's report is in its environment (TLSWARD_PROTOCOL, ...).\n"
	  "Options: --role server|client, --peer TEXT, --profile NAME,\n"
	  "--servername HOST, --level LEVEL, --fingerprint FP (repeatable),\n"
	  "--handshake-timeout S, --idle-timeout S, --timeout S (whole\n"
	  "hand-off, default 60), --socket PATH (default: the first control\n"
	  "service in services.cf)." },
	{ NULL, NULL, NULL, NULL },
};

static const struct cli_cmd *
cmd_find(const char *name)
{
	const struct cli_cmd *c;

	for (c = cli_cmds; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int
cli_usage(const char *name)
{
	const struct cli_cmd *c = cmd_find(name);

	if (c != NULL)
		fprintf(stderr, "usage: tlsward [-c DIR] [-v] %s%s%s\n",
		    c->name, c->usage[0] ? " " : "", c->usage);
	return CLI_EXIT_USAGE;
}

static void
usage_all(FILE *fp)
{
	const struct cli_cmd *c;

	fprintf(fp, "usage: tlsward [-c DIR] [-v] SUBCOMMAND [options] [args]\n"
	    "       tlsward -V | --help | SUBCOMMAND --help\n\nsubcommands:\n");
	for (c = cli_cmds; c->name != NULL; c++)
		fprintf(fp, "  %-20s %s\n", c->name, c->usage);
	fprintf(fp, "\n  -c DIR   configuration directory (default: "
	    "$TLSWARD_CONFIG_DIR, else %s)\n  -v       more output\n",
	    TLSWARD_CONFDIR);
}

static int
cmd_help(const struct cli_cmd *c)
{
	printf("usage: tlsward [-c DIR] [-v] %s%s%s\n\n%s\n", c->name,
	    c->usage[0] ? " " : "", c->usage, c->help);
	return CLI_EXIT_OK;
}

int
cli_fail(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "tlsward: fatal: %s\n", msg);
	return CLI_EXIT_FAIL;
}

/* The absolute form of dir when it exists: file names written into main.cf
 * must not depend on the directory tlsward was started in. */
static const char *
cli_dir_resolve(const char *dir, char *buf)
{
	return realpath(dir, buf) != NULL ? buf : dir;
}

struct conf *
cli_conf_load(const struct cli *cli)
{
	struct conf *cf = conf_new(cli->dir);
	char err[1024];

	if (conf_load(cf, err, sizeof(err)) < 0) {
		cli_fail("%s", err);
		conf_free(cf);
		return NULL;
	}
	return cf;
}

struct conf *
cli_conf_load_rw(const struct cli *cli)
{
	struct cli rw = *cli;
	char err[1024], dirbuf[PATH_MAX];

	if (!file_exists(cli->dir)) {
		if (file_mkdirs(cli->dir, 0755, err, sizeof(err)) < 0) {
			cli_fail("configuration directory: %s", err);
			return NULL;
		}
		/* Resolved now that it exists: paths written into main.cf
		 * are absolute. */
		rw.dir = cli_dir_resolve(cli->dir, dirbuf);
	}
	return cli_conf_load(&rw);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'H' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *c;
	struct cli cli = { NULL, 0, 0 };
	const char *dir_opt = NULL, *env;
	char dirbuf[PATH_MAX];
	int ch, rc;

	log_init("tlsward", LOG_TO_STDERR, 0);
	/* "+": stop at the subcommand; its options are its own. */
	while ((ch = getopt_long(argc, argv, "+c:vV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			dir_opt = optarg;
			break;
		case 'v':
			cli.verbose++;
			break;
		case 'V':
			printf("tlsward %s (%s)\n", PACKAGE_VERSION,
			    OpenSSL_version(OPENSSL_VERSION));
			return CLI_EXIT_OK;
		case 'H':
			usage_all(stdout);
			return CLI_EXIT_OK;
		default:
			usage_all(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage_all(stderr);
		return CLI_EXIT_USAGE;
	}
	if ((c = cmd_find(argv[0])) == NULL) {
		log_warnx("unknown subcommand: %s", argv[0]);
		usage_all(stderr);
		return CLI_EXIT_USAGE;
	}
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-?") == 0))
		return cmd_help(c);
	log_init("tlsward", LOG_TO_STDERR, cli.verbose);
	cli.dir = cli_dir_resolve(conf_default_dir(dir_opt), dirbuf);
	env = getenv("TLSWARD_CONFIG_DIR");
	cli.dir_named = dir_opt != NULL || (env != NULL && *env != '\0');
	optind = 0;	/* glibc: full reset of getopt for the subcommand */
	rc = c->fn(&cli, argc, argv);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_warn("error writing to standard output");
		rc = CLI_EXIT_FAIL;
	}
	return rc;
}
