/*
 * cmd_reload.c - "tlsward reload": asks the running tlswardd to re-read
 * main.cf, services.cf and every key, and reports the outcome: the new
 * generation, or every error that made it keep the running configuration.
 *
 * Runs in: the CLI, as root or the daemon's user. The daemon answers
 * "error TEXT" lines, then "ok generation=N" or "failed errors=N".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int
ctl_reload(struct cli *cli, const char *sock)
{
	const char *last = "";
	char *reply, *line, *save = NULL;
	int errors = 0;

	if (ctl_request(cli, sock, "reload", &reply) < 0)
		return CLI_EXIT_FAIL;
	for (line = strtok_r(reply, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "error ", 6) == 0) {
			fprintf(stderr, "tlsward: error: %s\n", line + 6);
			errors++;
		} else
			last = line;
	}
	if (strncmp(last, "ok generation=", 14) == 0) {
		printf("tlswardd: configuration reloaded (generation %s)\n",
		    last + 14);
		free(reply);
		return CLI_EXIT_OK;
	}
	if (errors == 0) {
		cli_fail("unexpected answer from tlswardd: \"%s\"", last);
		free(reply);
		return CLI_EXIT_FAIL;
	}
	free(reply);
	return cli_fail("reload failed (%d error%s above); tlswardd keeps "
	    "serving the running configuration", errors,
	    errors == 1 ? "" : "s");
}

int
cmd_reload(struct cli *cli, int argc, char **argv)
{
	const char *sock = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "s:")) != -1) {
		if (ch != 's')
			return cli_usage("reload");
		sock = optarg;
	}
	if (optind != argc)
		return cli_usage("reload");
	return ctl_reload(cli, sock);
}
