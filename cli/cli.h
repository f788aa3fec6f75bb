/*
 * cli.h - what the subcommands of tlsward(1) share: the invocation
 * context, the subcommand entry points and common helpers.
 *
 * Runs in: the CLI (as the administrator who runs it, usually root).
 *
 * Exit statuses, for every subcommand:
 *   0  success (for all-default-*: everything is at its default)
 *   1  failure (for all-default-*: something is not at its default)
 *   2  usage error (unknown subcommand or option, wrong arguments)
 * Messages go to stderr as "tlsward: fatal: ..." / "tlsward: warning: ...";
 * machine-readable output (PEM, TLSA, parameters) goes to stdout.
 */
#ifndef TLSWARD_CLI_H
#define TLSWARD_CLI_H

#include "conf.h"

#define CLI_EXIT_OK	0
#define CLI_EXIT_FAIL	1
#define CLI_EXIT_USAGE	2

/* The invocation: global options, before the subcommand. */
struct cli {
	const char	*dir;		/* configuration directory (resolved) */
	int		 dir_named;	/* by -c or $TLSWARD_CONFIG_DIR */
	int		 verbose;	/* -v count */
};

/* A subcommand. argv[0] is the subcommand name; options are parsed with
 * getopt(3) (optind is reset by the caller). "--help" as the first
 * argument is handled by the dispatcher, which prints the usage line and
 * the help text below. Returns an exit status. */
typedef int cli_cmd_fn(struct cli *cli, int argc, char **argv);

struct cli_cmd {
	const char	*name;
	cli_cmd_fn	*fn;
	const char	*usage;		/* options and arguments, one line */
	const char	*help;		/* what it does, a few lines */
};

/* The subcommand table (cli/main.c), ending with a NULL name. */
extern const struct cli_cmd cli_cmds[];

/* Prints "usage: tlsward [-c DIR] [-v] NAME USAGE" to stderr and returns
 * CLI_EXIT_USAGE. */
int	cli_usage(const char *name);

/* Prints "tlsward: fatal: MESSAGE" on stderr; returns CLI_EXIT_FAIL. */
int	cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Loads the configuration of cli->dir; on error prints it (fatal) and
 * returns NULL. Warnings about unknown parameters are not printed here
 * (only "tlsward check" reports them). */
struct conf *cli_conf_load(const struct cli *cli);

/* The same for subcommands that write into the directory (main.cf, keys):
 * a missing directory is created first (with its parents, mode 0755), so
 * that a fresh install or a new -c DIR works. */
struct conf *cli_conf_load_rw(const struct cli *cli);

/* Subcommands. */
int	cmd_enable_client(struct cli *, int, char **);
int	cmd_enable_server(struct cli *, int, char **);
int	cmd_all_default_client(struct cli *, int, char **);
int	cmd_all_default_server(struct cli *, int, char **);
int	cmd_new_server_key(struct cli *, int, char **);
int	cmd_new_server_cert(struct cli *, int, char **);
int	cmd_deploy_server_cert(struct cli *, int, char **);
int	cmd_output_server_csr(struct cli *, int, char **);
int	cmd_output_server_tlsa(struct cli *, int, char **);
int	cmd_config(struct cli *, int, char **);
int	cmd_check(struct cli *, int, char **);
int	cmd_status(struct cli *, int, char **);
int	cmd_reload(struct cli *, int, char **);
int	cmd_handoff(struct cli *, int, char **);
int	cmd_fetch_ocsp(struct cli *, int, char **);
int	cmd_rotate_ticket_keys(struct cli *, int, char **);

/* Sends "tlsward-admin 1 CMD config=DIR" to the running tlswardd's admin
 * socket (sock_opt, else tlsproxy_admin_socket of cli->dir) and returns
 * its whole answer in *replyp (caller frees); a daemon that serves another
 * configuration directory refuses with an "error" line. With sock_opt
 * and no directory named (-c, $TLSWARD_CONFIG_DIR) the request names
 * none and main.cf is not read. -1 after printing why (cmd_status.c). */
int	ctl_request(const struct cli *cli, const char *sock_opt,
	    const char *cmd, char **replyp);

/* Asks the running tlswardd to reload (sock: as ctl_request) and prints
 * the outcome; returns the exit status (cmd_reload.c). */
int	ctl_reload(struct cli *cli, const char *sock);

#endif
