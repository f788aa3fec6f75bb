/*
 * acceptor.h - the thread that accepts connections on every listener and
 * hands them to the pool; past the pool's queue, connections are closed
 * at once with a log line.
 *
 * Runs in: the worker (one thread).
 */
#ifndef TLSWARD_ACCEPTOR_H
#define TLSWARD_ACCEPTOR_H

#include <stddef.h>

/* Prepares the wake-up pipe; call before the sandbox. 0 or -1. */
int	acceptor_init(char *err, size_t errlen);

/* Starts accepting on fds (the listener array; index i is the
 * listen_idx of services). The array is copied; the fds are owned. */
int	acceptor_start(const int *fds, size_t nfds, char *err, size_t errlen);

/* Stops accepting and closes the listeners (drain). Returns when the
 * thread has finished. */
void	acceptor_stop(void);

#endif
