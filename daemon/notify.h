/*
 * notify.h - readiness and state notifications to the service manager
 * (the sd_notify(3) protocol): READY=1, RELOADING=1, STOPPING=1,
 * STATUS=..., WATCHDOG=1.
 *
 * Runs in: the privileged supervisor only (the worker's environment has
 * no NOTIFY_SOCKET). Every function is a no-op when the daemon was not
 * started with NOTIFY_SOCKET.
 */
#ifndef TLSWARD_NOTIFY_H
#define TLSWARD_NOTIFY_H

#include <stdint.h>

/* Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, opens the
 * datagram socket and removes the variables from the environment. Call
 * once at start, before detaching (the watchdog then belongs to the
 * process systemd started; a detached daemon notifies nothing). */
void	notify_init(void);

/* Forgets the socket (after daemon(3): systemd would not accept
 * messages from a new pid anyway). */
void	notify_disable(void);

/* READY=1 with a STATUS= line. */
void	notify_ready(const char *status);

/* RELOADING=1, MONOTONIC_USEC=now, STATUS=reloading. */
void	notify_reloading(void);

/* STOPPING=1 with a STATUS= line. */
void	notify_stopping(const char *status);

/* STATUS= alone. */
void	notify_status(const char *status);

/* Milliseconds until the next WATCHDOG=1 is due (sent at half of
 * WATCHDOG_USEC), -1 when there is no watchdog; notify_watchdog() sends
 * it when due. */
int	notify_watchdog_timeout(int64_t now_ms);
void	notify_watchdog(int64_t now_ms);

#endif
