/*
 * supervisor.h - the privileged supervisor's main loop.
 *
 * Runs in: the privileged supervisor, after the loader has read the
 * configuration and opened the listeners.
 */
#ifndef TLSWARD_SUPERVISOR_H
#define TLSWARD_SUPERVISOR_H

#include "loader.h"

struct sup_opts {
	const char	*dir;		/* configuration directory */
	int		 verbose;
	int		 self_fd;	/* our own executable, for the worker */
};

/* Runs the worker until SIGTERM/SIGINT. ld is the current configuration
 * (replaced on reload). Serves the admin socket (admin.h) when
 * tlsproxy_admin_socket is set, and notifies the service manager
 * (notify.h). Returns the exit status. */
int	supervisor_run(const struct sup_opts *o, struct loader *ld);

#endif
