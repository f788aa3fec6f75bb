/*
 * cmd_tickets.c - "tlsward rotate-ticket-keys": adds a fresh session
 * ticket key to tlsproxy_tls_ticket_key_file, keeps the newest KEEP keys,
 * rewrites the file atomically (mode 0600 from its first byte), and has
 * the running tlswardd reload it.
 *
 * Runs in: the CLI, as root or the daemon's user (the file is theirs).
 * The key comes from OpenSSL's RNG; every copy is wiped before free.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cli.h"
#include "fileio.h"
#include "tkfile.h"
#include "util.h"

#define TK_PARAM	"tlsproxy_tls_ticket_key_file"
#define TK_KEEP		2	/* the newest encrypts, one more decrypts */
#define TK_KEYS_SIZE	((TKF_MAX_KEYS + 1) * TKF_KEY_LEN)

/* The keys of an existing file into keys (room for TKF_MAX_KEYS + 1);
 * the count, 0 if the file does not exist, -1 (reported). */
static int
keys_old(const char *path, unsigned char *keys)
{
	unsigned char *parsed;
	char err[1024], *data;
	size_t len;
	int n;

	if (!file_exists(path))
		return 0;
	if (tkf_read(path, geteuid(), &data, &len, err, sizeof(err)) < 0) {
		cli_fail("%s", err);
		return -1;
	}
	n = tkf_parse(path, data, len, &parsed, err, sizeof(err));
	OPENSSL_clear_free(data, len);
	if (n < 0) {
		cli_fail("%s", err);
		return -1;
	}
	memcpy(keys, parsed, (size_t)n * TKF_KEY_LEN);
	OPENSSL_clear_free(parsed, TKF_MAX_KEYS * TKF_KEY_LEN);
	return n;
}

/* A fresh key as key n, with a name no other key has. */
static int
key_new(unsigned char *keys, int n)
{
	unsigned char *k = keys + (size_t)n * TKF_KEY_LEN;
	int j, again;

	do {
		if (RAND_bytes(k, TKF_KEY_LEN) != 1) {
			cli_fail("no random bytes for a ticket key");
			return -1;
		}
		for (again = 0, j = 0; j < n && !again; j++)
			again = memcmp(keys + (size_t)j * TKF_KEY_LEN, k,
			    TKF_NAME_LEN) == 0;
	} while (again);
	return 0;
}

/* Writes the newest keep of n keys; the number dropped, or -1. */
static int
keys_write(const char *path, const unsigned char *keys, int n, int keep)
{
	int drop = n > keep ? n - keep : 0;
	char err[1024], *text;
	size_t len;
	int rc;

	text = tkf_format(keys + (size_t)drop * TKF_KEY_LEN,
	    (size_t)(n - drop), &len);
	if (text == NULL) {
		cli_fail("out of memory");
		return -1;
	}
	rc = file_replace(path, text, len, 0600, err, sizeof(err));
	OPENSSL_clear_free(text, len + 1);
	if (rc < 0) {
		cli_fail("%s", err);
		return -1;
	}
	return drop;
}

/* The key file of the configuration (caller frees), or NULL (reported). */
static char *
key_path(const struct cli *cli, char **sockp)
{
	struct conf *cf = cli_conf_load(cli);
	char err[1024], *v = NULL, *s = NULL, *path = NULL;

	if (cf == NULL)
		return NULL;
	if (conf_get(cf, TK_PARAM, &v, err, sizeof(err)) < 0 ||
	    conf_get(cf, "tlsproxy_admin_socket", &s, err, sizeof(err)) < 0)
		cli_fail("%s", err);
	else if (*v == '\0')
		cli_fail("%s is not set: name the file first (tlsward config "
		    "-e '%s = ticket-keys')", TK_PARAM, TK_PARAM);
	else {
		path = conf_path(cf, v);
		*sockp = *s != '\0' ? conf_path(cf, s) : xstrdup("");
	}
	free(v);
	free(s);
	conf_free(cf);
	return path;
}

int
cmd_rotate_ticket_keys(struct cli *cli, int argc, char **argv)
{
	unsigned char *keys;
	const char *sock_opt = NULL;
	char *path, *sock = NULL, *end;
	int ch, keep = TK_KEEP, n, drop, rc = CLI_EXIT_FAIL;

	while ((ch = getopt(argc, argv, "n:s:")) != -1) {
		if (ch == 'n') {
			keep = (int)strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || keep < 1 ||
			    keep > TKF_MAX_KEYS)
				return cli_fail("-n %s: want a number of keys "
				    "from 1 to %d", optarg, TKF_MAX_KEYS);
		} else if (ch == 's')
			sock_opt = optarg;
		else
			return cli_usage("rotate-ticket-keys");
	}
	if (optind != argc)
		return cli_usage("rotate-ticket-keys");
	if ((path = key_path(cli, &sock)) == NULL)
		return CLI_EXIT_FAIL;
	keys = OPENSSL_zalloc(TK_KEYS_SIZE);
	if (keys != NULL && (n = keys_old(path, keys)) >= 0 &&
	    key_new(keys, n) == 0 &&
	    (drop = keys_write(path, keys, n + 1, keep)) >= 0) {
		printf("%s: a new session ticket key; %d key%s kept, %d "
		    "retired\n", path, n + 1 - drop, n + 1 - drop == 1 ? "" :
		    "s", drop);
		rc = CLI_EXIT_OK;
	}
	OPENSSL_clear_free(keys, TK_KEYS_SIZE);
	if (rc == CLI_EXIT_OK && (sock_opt != NULL || (*sock != '\0' &&
	    file_exists(sock))))
		rc = ctl_reload(cli, sock_opt);
	else if (rc == CLI_EXIT_OK)
		printf("tlswardd is not running here: the keys take effect at "
		    "its next start or reload\n");
	free(sock);
	free(path);
	return rc;
}
