/*
 * systemd.h - socket activation: the listening sockets systemd passes
 * with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES (sd_listen_fds(3)'s
 * protocol), taken by services.cf entries whose listen column is
 * "systemd" and whose name equals the socket's FileDescriptorName=.
 *
 * Runs in: the privileged supervisor. Owns the passed descriptors for the
 * life of the process: a reload may start or stop using any of them, and
 * systemd keeps its own copies anyway.
 */
#ifndef TLSWARD_SYSTEMD_H
#define TLSWARD_SYSTEMD_H

#include <stddef.h>

/* Takes the passed sockets, if LISTEN_PID names this process: marks them
 * close-on-exec and non-blocking and removes the three variables from the
 * environment. Call first in main, before any descriptor is opened.
 * Returns the number of sockets taken (0 when not socket-activated). */
int	systemd_listen_init(void);

/* Closes every descriptor above stderr that is not a socket taken by
 * systemd_listen_init: whatever the starting process left open (a shell's
 * "exec 7>file", a leaked pipe) must not live on in a daemon that holds
 * keys, nor reach its worker. Call right after systemd_listen_init. */
void	systemd_close_inherited(void);

/* Forgets which sockets were used (call before each configuration load). */
void	systemd_listen_begin(void);

/* The passed socket named name, marked as used; -1 with err explaining
 * what was passed instead (nothing, other names, or not a listening
 * stream socket). The descriptor stays owned here: dup it to keep it. */
int	systemd_listen_take(const char *name, char *err, size_t errlen);

/* Logs a warning for every passed socket that no service took since
 * systemd_listen_begin. */
void	systemd_listen_report_unused(void);

#endif
