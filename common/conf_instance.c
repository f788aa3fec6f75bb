/*
 * conf_instance.c - which tlswardd instance a configuration directory
 * is: its canonical name, and the admin socket and pid file that an
 * instance uses when main.cf names none. Two daemons started with two
 * directories never share these files, so "tlsward -c DIR reload" can
 * only reach the daemon of DIR.
 *
 * Runs in: the CLI and the privileged supervisor. Owns nothing.
 *
 * The directory built in (TLSWARD_CONFDIR) keeps the plain names
 * /run/tlswardd/admin.sock and /run/tlswardd.pid; any other directory D
 * gets /run/tlswardd/admin-H.sock and /run/tlswardd-H.pid, where H is
 * the first 12 hex digits of SHA-256 of D's canonical absolute path.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "conf.h"
#include "util.h"

#define INSTANCE_RUN_DIR	"/run/tlswardd"
#define INSTANCE_ID_HEX		12

/* A directory that does not exist (yet): absolute, without trailing
 * slashes, so "D" and "D/" name one instance. */
static char *
conf_dir_absolute(const char *dir)
{
	char cwd[PATH_MAX], *abs;
	size_t n;

	if (dir[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		abs = xstrdup(dir);
	else
		abs = xasprintf("%s/%s", cwd, dir);
	n = strlen(abs);
	while (n > 1 && abs[n - 1] == '/')
		abs[--n] = '\0';
	return abs;
}

char *
conf_dir_canonical(const char *dir)
{
	char buf[PATH_MAX];

	if (realpath(dir, buf) != NULL)
		return xstrdup(buf);
	return conf_dir_absolute(dir);
}

/* "" for the built-in directory, else "-" and INSTANCE_ID_HEX digits. */
static void
conf_instance_suffix(const char *dir, char *out, size_t outlen)
{
	char *canon = conf_dir_canonical(dir), *deflt;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	size_t off = 1;

	deflt = conf_dir_canonical(TLSWARD_CONFDIR);
	out[0] = '\0';
	if (strcmp(canon, deflt) != 0 && outlen > INSTANCE_ID_HEX + 1 &&
	    EVP_Digest(canon, strlen(canon), md, &mdlen, EVP_sha256(),
	    NULL) == 1) {
		out[0] = '-';
		for (i = 0; i < mdlen && off + 2 <= INSTANCE_ID_HEX + 1; i++)
			off += (size_t)snprintf(out + off, outlen - off,
			    "%02x", md[i]);
	}
	free(canon);
	free(deflt);
}

char *
conf_instance_default(const char *dir, const char *name)
{
	char sfx[INSTANCE_ID_HEX + 2];

	conf_instance_suffix(dir, sfx, sizeof(sfx));
	if (strcmp(name, "tlsproxy_admin_socket") == 0)
		return xasprintf("%s/admin%s.sock", INSTANCE_RUN_DIR, sfx);
	return xasprintf("%s%s.pid", INSTANCE_RUN_DIR, sfx);
}
