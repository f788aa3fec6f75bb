/*
 * acceptor.h - the thread that accepts connections on every listener and
 * hands them to the pool; past the pool's queue, connections are closed
 * at once with a log line.
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

struct rt;

/* Prepares the wake-up pipe; call before the sandbox. 0 or -1. */
int	acceptor_init(char *err, size_t errlen);

/* Starts accepting on fds (the listener array; index i is the
 * listen_idx of rt's services) for generation rt. The fds and the
 * reference to rt are taken over in every case. */
int	acceptor_start(const int *fds, size_t nfds, struct rt *rt, char *err,
	    size_t errlen);

/* Replaces the listener set and its generation (reload). Takes over the
 * fds and the reference to rt. Returns once the acceptor thread accepts
 * only on the new set; the previous descriptors are closed by then. */
void	acceptor_set(const int *fds, size_t nfds, struct rt *rt);

/* Stops accepting and closes the listeners (drain). Returns when the
 * thread has finished. */
void	acceptor_stop(void);

#endif
