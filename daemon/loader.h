/*
 * loader.h - the privileged loader: reads main.cf and services.cf,
 * validates them, resolves forward targets and the worker's user, reads
 * every key, certificate, CA and DH file, and opens the listeners.
 *
 * Runs in: the privileged supervisor only (at start, at reload, and for
 * "tlswardd -t"). It never touches network input.
 */
#ifndef TLSWARD_LOADER_H
#define TLSWARD_LOADER_H

#include <stddef.h>

#include "sandbox.h"
#include "snapshot.h"

/* Daemon-wide settings the supervisor itself needs. */
struct loader_globals {
	char		*pid_file;	/* tlsproxy_pid_file ("" = none) */
	char		*syslog_name;
	int		 syslog_facility;	/* LOG_MAIL, ... */
	long long	 drain_timeout_s;	/* tlsproxy_drain_timeout */
	struct sbx_opts	 sbx;		/* worker identity and seccomp mode */
};

struct loader {
	struct snapshot		 snap;	/* sealed */
	int			*fds;	/* listeners; svc.I.listen_fd indexes */
	size_t			 nfds;
	struct loader_globals	 g;
};

/* Loads everything for configuration directory dir. With open_listeners
 * 0 (for -t), listeners are not opened. Every problem is logged with
 * log_warnx (file:line and parameter named); returns the number of
 * errors (0 = ld is complete and owned by the caller; >0 = ld is empty). */
int	loader_load(const char *dir, int open_listeners, struct loader *ld);

/* Closes the listeners still owned and wipes the snapshot. */
void	loader_fini(struct loader *ld);

#endif
