/*
 * pfsess.h - a session of the "postfix" role (tlsproxy(8)'s protocol
 * for postscreen(8) and smtpd(8)).
 *
 * Runs in: worker pool threads.
 */
#ifndef TLSWARD_PFSESS_H
#define TLSWARD_PFSESS_H

struct sess;
struct relay;

/* Serves the protocol on s->peer_fd up to an established TLS session on
 * the passed socket (s->fwd_fd) and sets r's two descriptors for the
 * relay: 0. -1 with s->why set when the session is over (a refused or
 * malformed request, a failed handshake, a deadline). */
int	pfsess_serve(struct sess *s, struct relay *r);

#endif
