/*
 * cmd_handoff.c - "tlsward handoff": hands descriptor N (a connected
 * socket) to tlswardd's hand-off service with libtlsward-client, then
 * runs a command whose standard input and output are the plaintext side
 * of the TLS session. For shell scripts and tests; see tlsward(1).
 *
 *   tlsward handoff --role client --fd 3 --level fingerprint \
 *       --fingerprint AB:.. -- sh -c 'echo hello; cat'
 *
 * Runs in: the CLI, as any user who may connect to the control socket.
 * The socket is --socket, else the first control service of services.cf
 * in the configuration directory. The report goes into the command's
 * environment (TLSWARD_PROTOCOL, TLSWARD_CIPHER, TLSWARD_BITS,
 * TLSWARD_KEX, TLSWARD_LEVEL, TLSWARD_TRUST, TLSWARD_PEER_CN,
 * TLSWARD_ISSUER_CN, TLSWARD_PEER_FINGERPRINT,
 * TLSWARD_PEER_PUBKEY_FINGERPRINT) and, with -v, to stderr.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "services.h"
#include "tlsward-client.h"

#define HANDOFF_FPT_MAX	16

/* The parsed command line. */
struct ho_args {
	struct tw_request	 req;
	const char		*fpts[HANDOFF_FPT_MAX];
	const char		*socket;
	int			 fd;
	int			 timeout_s;
	char			**argv;	/* the command */
};

/* The unix: path of the first control service, or NULL (printed). */
static char *
control_socket(const struct cli *cli)
{
	struct services svcs;
	struct conf *cf;
	char err[1024], *path = NULL;
	size_t i;
	int missing;

	if ((cf = cli_conf_load(cli)) == NULL)
		return NULL;
	if (services_load(cf, &svcs, &missing, err, sizeof(err)) < 0) {
		cli_fail("%s", err);
		conf_free(cf);
		return NULL;
	}
	for (i = 0; i < svcs.n && path == NULL; i++)
		if (svcs.v[i].role == SVC_CONTROL &&
		    svcs.v[i].listen.kind == SVC_ADDR_UNIX)
			path = strdup(svcs.v[i].listen.path);
	if (path == NULL)
		cli_fail("%s: no control service with a unix: address (or use "
		    "--socket)", svcs.path);
	services_fini(&svcs);
	conf_free(cf);
	return path;
}

/* A decimal number in min..max, or -1. */
static int
number(const char *s, int min, int max)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s != '\0' && *end == '\0' && v >= min && v <= max ? (int)v :
	    -1;
}

static int
parse_args(struct ho_args *a, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "peer", required_argument, NULL, 'p' },
		{ "profile", required_argument, NULL, 'P' },
		{ "servername", required_argument, NULL, 'n' },
		{ "level", required_argument, NULL, 'l' },
		{ "fingerprint", required_argument, NULL, 'f' },
		{ "handshake-timeout", required_argument, NULL, 'H' },
		{ "idle-timeout", required_argument, NULL, 'I' },
		{ "timeout", required_argument, NULL, 't' },
		{ "socket", required_argument, NULL, 's' },
		{ "fd", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	tw_request_init(&a->req, TW_ROLE_SERVER, NULL);
	a->req.fingerprints = a->fpts;
	a->fd = -1;
	a->timeout_s = 60;
	while ((ch = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		switch (ch) {
		case 'r':
			if (strcmp(optarg, "server") != 0 &&
			    strcmp(optarg, "client") != 0)
				return -1;
			a->req.role = strcmp(optarg, "server") == 0 ?
			    TW_ROLE_SERVER : TW_ROLE_CLIENT;
			break;
		case 'p': a->req.peer = optarg; break;
		case 'P': a->req.profile = optarg; break;
		case 'n': a->req.servername = optarg; break;
		case 'l': a->req.level = optarg; break;
		case 'f':
			if (a->req.nfingerprints == HANDOFF_FPT_MAX)
				return -1;
			a->fpts[a->req.nfingerprints++] = optarg;
			break;
		case 'H':
			if ((ch = number(optarg, 1, 86400)) < 0)
				return -1;
			a->req.handshake_timeout = (unsigned)ch;
			break;
		case 'I':
			if ((ch = number(optarg, 1, 86400)) < 0)
				return -1;
			a->req.idle_timeout = (unsigned)ch;
			break;
		case 't':
			if ((a->timeout_s = number(optarg, 1, 86400)) < 0)
				return -1;
			break;
		case 's': a->socket = optarg; break;
		case 'd':
			if ((a->fd = number(optarg, 0, 1 << 20)) < 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (a->fd < 0 || optind >= argc)
		return -1;
	a->argv = argv + optind;
	return 0;
}

/* The report into the command's environment (and onto stderr). */
static void
export_outcome(const struct tw_outcome *o, int verbose)
{
	const struct { const char *name, *value; } v[] = {
		{ "TLSWARD_PROTOCOL", o->protocol },
		{ "TLSWARD_CIPHER", o->cipher },
		{ "TLSWARD_KEX", o->kex },
		{ "TLSWARD_LEVEL", o->level },
		{ "TLSWARD_TRUST", o->trust },
		{ "TLSWARD_PEER_CN", o->peer_cn },
		{ "TLSWARD_ISSUER_CN", o->issuer_cn },
		{ "TLSWARD_PEER_FINGERPRINT", o->peer_fingerprint },
		{ "TLSWARD_PEER_PUBKEY_FINGERPRINT",
		  o->peer_pubkey_fingerprint },
	};
	char bits[16];
	size_t k;

	snprintf(bits, sizeof(bits), "%d", o->bits);
	setenv("TLSWARD_BITS", bits, 1);
	for (k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		setenv(v[k].name, v[k].value, 1);
		if (verbose && v[k].value[0] != '\0')
			fprintf(stderr, "tlsward: %s=%s\n", v[k].name,
			    v[k].value);
	}
}

int
cmd_handoff(struct cli *cli, int argc, char **argv)
{
	struct ho_args a;
	struct tw_outcome out;
	struct tw_error err;
	char *path;
	int fd;

	memset(&a, 0, sizeof(a));
	if (parse_args(&a, argc, argv) < 0)
		return cli_usage("handoff");
	if (a.req.peer == NULL)
		a.req.peer = "local";
	path = a.socket != NULL ? strdup(a.socket) : control_socket(cli);
	if (path == NULL)
		return CLI_EXIT_FAIL;
	fd = tw_handoff(path, &a.req, a.fd, a.timeout_s * 1000, &out, &err);
	free(path);
	if (fd < 0)
		return cli_fail("hand-off: %s", err.text);
	close(a.fd);	/* tlswardd has its own copy */
	export_outcome(&out, cli->verbose);
	if (dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
		return cli_fail("dup2: %s", strerror(errno));
	if (fd > STDOUT_FILENO)
		close(fd);
	execvp(a.argv[0], a.argv);
	return cli_fail("%s: %s", a.argv[0], strerror(errno));
}
