/*
 * acceptor.h - the thread that accepts connections on the control-role
 * (hand-off) listeners and reads their requests without blocking (the
 * request stage, horeq.h); a complete request goes to the pool. Over
 * tlsproxy_max_sessions, or past the pool's queue, a client is answered
 * "refused overloaded", closed and logged (rate-limited). Server- and
 * client-role listeners belong to the event loops (evloop.h).
 *
 * Runs in: the worker (one thread). The listener set and the generation
 * its sessions are served with travel together: a reload replaces both
 * at once, so a connection is never matched to a service of another
 * generation, and listeners the new configuration keeps are the same
 * sockets (nothing pending in their backlog is lost).
 */
#ifndef TLSWARD_ACCEPTOR_H
#define TLSWARD_ACCEPTOR_H

#include <stddef.h>

struct lset;

/* Prepares the wake-up pipe; call before the sandbox. 0 or -1. */
int	acceptor_init(char *err, size_t errlen);

/* Starts accepting on the control-role listeners of as. The reference
 * to as is taken over in every case. */
int	acceptor_start(struct lset *as, char *err, size_t errlen);

/* Replaces the listener set (reload); takes over the reference. Returns
 * once the acceptor thread accepts only on the new set and has dropped
 * the old one. */
void	acceptor_set(struct lset *as);

/* Stops accepting and closes the listeners (drain). Returns when the
 * thread has finished. */
void	acceptor_stop(void);

#endif
