/*
 * evpf.h - the postfix role's set-up on an event loop: tlsproxy(8)'s
 * protocol for postscreen(8) (flags 1) and smtpd(8) (flags 5) as steps of
 * an esess (evsess.h). Greeting, request, status, the remote SMTP
 * client's socket by descriptor passing; then evsess.c's server-role
 * handshake on that socket; then the TLS context when asked for, and the
 * relay between that socket (TLS) and the Postfix connection
 * (plaintext).
 *
 * Runs in: an event loop thread, inside evs_drive.
 */
#ifndef TLSWARD_EVPF_H
#define TLSWARD_EVPF_H

#include <stdint.h>

struct esess;
struct evpf;

/* Begins the set-up of e (the greeting is queued); 0, or -1 with
 * e->s.why set. */
int	evpf_start(struct esess *e);

/* Runs the set-up after an event: an EV_* result (evsess.h). Once the
 * descriptor is in, the session's state becomes EVS_HANDSHAKE. */
int	evpf_step(struct esess *e, int from_fwd, uint32_t events);

/* The handshake is done and checked: the context if the request asked for
 * it, then the relay. An EV_* result. */
int	evpf_established(struct esess *e);

/* Frees a set-up's state (NULL is fine). */
void	evpf_free(struct evpf *pf);

#endif
