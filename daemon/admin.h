/*
 * admin.h - the administration socket: a UNIX stream socket (mode 0600,
 * the supervisor's user) on which tlsward(1) asks for "status" and
 * "reload". One request per connection:
 *
 *   client: "tlsward-admin 1 status\n"  or  "tlsward-admin 1 reload\n"
 *   daemon: the answer (see supervisor.c), then closes.
 *
 * Only root and the daemon's own user may ask (SO_PEERCRED, on top of the
 * file mode).
 *
 * Runs in: the privileged supervisor. The socket is local, its peers are
 * the administrators, and a request is one short line read with a
 * deadline; nothing from the network reaches it.
 */
#ifndef TLSWARD_ADMIN_H
#define TLSWARD_ADMIN_H

#include <stddef.h>

#define ADMIN_PROTO	"tlsward-admin 1"
#define ADMIN_REQ_MAX	8192	/* a directory name, %XX-encoded */

/* Creates the socket at path (and its directory, mode 0755, if that is
 * missing). A stale socket file is replaced; one a live daemon answers
 * on is not (-1: "in use by another tlswardd"). Returns the listening
 * descriptor or -1 with err. */
int	admin_listen(const char *path, char *err, size_t errlen);

/* Accepts one client and reads its request (the command word, e.g.
 * "status") into cmd. Returns the client descriptor, or -1 (logged when
 * it is worth it: a refused peer, a malformed request). */
int	admin_accept(int lfd, char *cmd, size_t cmdlen);

/* Writes text to the client (bounded by a send timeout) and closes it. */
void	admin_reply(int cfd, const char *text, size_t len);

/* Closes the socket and removes its file if it is still ours. */
void	admin_close(int lfd, const char *path);

#endif
