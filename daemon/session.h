/*
 * session.h - one proxied connection: connect, TLS handshake, relay,
 * and the tlsproxy(8)-style log lines around them.
 *
 * Runs in: a worker session thread (pool_fn). Never exits the process
 * for anything a peer does; every failure ends only this session.
 */
#ifndef TLSWARD_SESSION_H
#define TLSWARD_SESSION_H

#include "pool.h"

/* Serves job (server or client role) and releases it. */
void	sess_run(struct pool_job *job);

/* "[addr]:port" of a socket address into buf. */
const char *sess_addr_text(const struct sockaddr_storage *ss, char *buf,
	    size_t len);

#endif
