/*
 * listen.h - opening the daemon's listening sockets.
 *
 * Runs in: the privileged supervisor (binding low ports and creating
 * socket files needs the privileges the worker gives up). The worker only
 * accepts on the descriptors it is handed.
 */
#ifndef TLSWARD_LISTEN_H
#define TLSWARD_LISTEN_H

#include <stddef.h>
#include <sys/types.h>

#include "services.h"

#define LISTEN_BACKLOG	512

/* Socket-file attributes for unix: listeners. */
struct listen_unix_attr {
	mode_t	 mode;		/* tlsproxy_listen_mode, e.g. 0666 */
	uid_t	 uid;		/* (uid_t)-1: leave as created */
	gid_t	 gid;		/* (gid_t)-1: leave as created */
};

/* Opens a listening, non-blocking, close-on-exec socket for a HOST:PORT
 * or unix:PATH address. For unix:, a stale socket file at PATH is
 * replaced (anything else at PATH is an error), then mode and owner are
 * applied. Returns the descriptor, or -1 with err naming the address. */
int	listen_open(const struct svc_addr *a, const struct listen_unix_attr *ua,
	    char *err, size_t errlen);

/* Applies ua's mode and owner to the socket file path (a listener kept
 * across a reload). 0, or -1 with err. */
int	listen_unix_attr_apply(const char *path,
	    const struct listen_unix_attr *ua, char *err, size_t errlen);

/* Removes the socket file of a listener that was closed; anything other
 * than a socket at path is left alone. 0, or -1 with err. */
int	listen_unix_remove(const char *path, char *err, size_t errlen);

/* Parses an octal mode ("0660"); -1 if not 0..0777. */
int	listen_mode_parse(const char *s, mode_t *modep);

#endif
