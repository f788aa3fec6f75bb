/*
 * loader.h - the privileged loader: reads main.cf and services.cf,
 * validates them, resolves forward targets and the worker's user, reads
 * every key, certificate, CA and DH file and the OCSP responses found
 * beside the server certificates, and opens the listeners (or
 * takes them over from the running configuration, or from systemd).
 *
 * Runs in: the privileged supervisor only (at start, at reload, and for
 * "tlswardd -t"). It never touches network input.
 */
#ifndef TLSWARD_LOADER_H
#define TLSWARD_LOADER_H

#include <stddef.h>

#include "listen.h"
#include "sandbox.h"
#include "snapshot.h"

/* Daemon-wide settings the supervisor itself needs. */
struct loader_globals {
	char		*pid_file;	/* tlsproxy_pid_file ("" = none) */
	char		*admin_socket;	/* tlsproxy_admin_socket, resolved
					 * ("" = none) */
	char		*syslog_ident;	/* "$syslog_name/tlswardd" */
	int		 syslog_facility;	/* LOG_MAIL, ... */
	long long	 drain_timeout_s;	/* tlsproxy_drain_timeout */
	long long	 stop_grace_s;	/* tlsproxy_stop_grace_time */
	int		 watch_files;	/* tlsproxy_watch_files */
	long long	 resolve_interval_s;	/* tlsproxy_forward_resolve_
						 * interval (> 0) */
	struct sbx_opts	 sbx;		/* worker identity and seccomp mode */
};

/* One open listener. */
struct loader_listener {
	char	*key;		/* identity across reloads: "127.0.0.1:8443",
				 * "unix:/abs/path", "systemd:NAME" */
	char	*unix_path;	/* unix: listeners: the socket file */
	int	 fd;		/* owned (a dup when taken over or passed by
				 * systemd) */
	char	*announce;	/* "service NAME: listening on ADDR" for a
				 * listener this load opened, until logged */
	int	 reapply;	/* a kept unix: listener: apply ua */
	struct listen_unix_attr ua;	/* its mode and owner */
};

struct loader {
	struct snapshot		 snap;	/* sealed */
	struct loader_listener	*lsn;	/* svc.I.listen_fd indexes this */
	size_t			 nlsn;
	size_t			 nservices;
	struct loader_globals	 g;
	char			*files;	/* the snapshot keys (file.PATH,
					 * file.dir:PATH) of every file and
					 * directory read or looked for, each
					 * ending with "\n": what
					 * tlsproxy_watch_files watches */
};

struct buf;
struct resolver;

/* How to load. */
struct loader_opts {
	int			 open_listeners;	/* 0 for -t */
	const struct loader	*prev;	/* reload: the running configuration,
					 * whose listeners are taken over
					 * (dup) when their key is unchanged;
					 * NULL at start */
	struct buf		*errors;	/* if not NULL, gets every error
						 * line (each ends with "\n") */
	struct buf		*files;	/* if not NULL, gets the snapshot
					 * key (file.PATH, file.dir:PATH) of
					 * every file and directory the load
					 * read or tried to read, each ending
					 * with "\n", also when it failed */
	struct resolver		*res;	/* reload: forward names it watches
					 * take its current addresses, with no
					 * look-up that could hold up the
					 * supervisor; NULL: look every name
					 * up */
};

/* Loads everything for configuration directory dir. Every problem is
 * logged with log_warnx (file:line and parameter named) and counted;
 * returns the number of errors (0 = ld is complete and owned by the
 * caller; >0 = ld is empty, and every listener this load opened is
 * closed again; prev is never changed). */
int	loader_load(const char *dir, const struct loader_opts *lo,
	    struct loader *ld);

/* Once the configuration is in use (at start, or after a reload the
 * worker accepted): logs the listeners this load opened ("service NAME:
 * listening on ADDR", with the port the kernel chose for port 0) and
 * applies a changed mode or owner to the UNIX listeners it kept, so
 * that a refused configuration leaves no trace. */
void	loader_activate(struct loader *ld);

/* The listener descriptors in svc.I.listen_fd order, into fds (at least
 * ld->nlsn entries); returns the count. Still owned by ld. */
size_t	loader_fds(const struct loader *ld, int *fds);

/* After a reload: removes the socket files of old's unix: listeners that
 * cur no longer has (their descriptors close with loader_fini(old)). */
void	loader_unlink_dropped(const struct loader *old, const struct loader *cur);

/* Closes every listener still owned (at stop: the kernel then refuses new
 * connections once the worker has closed its copies too). */
void	loader_close_listeners(struct loader *ld);

/* Closes the listeners still owned and wipes the snapshot. */
void	loader_fini(struct loader *ld);

#endif
