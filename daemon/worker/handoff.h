/*
 * handoff.h - a session of a control service: the hand-off of one
 * application's peer socket (tlsward-handoff(7)), up to the point where
 * the relay takes over.
 *
 * Runs in: worker session threads (sess_run, for a service with role
 * control). Uses session.c's building blocks (deadlines, handshake,
 * established line), control.c's protocol pieces and tlspolicy.c's
 * per-session policy.
 */
#ifndef TLSWARD_HANDOFF_H
#define TLSWARD_HANDOFF_H

struct sess;
struct relay;

/* Reads the request, answers, receives the peer's socket (into
 * s->fwd_fd, which the session closes), runs the TLS handshake on it in
 * the requested role, checks the level, reports the outcome when asked,
 * and points the relay at the sockets (TLS: the passed one; plaintext:
 * the control connection). 0 when the relay may start; -1 when the
 * session ends here (s->why says why, for the session's log line; a
 * refusal or failure report has been written). Every wait is bounded by
 * the control service's tlsproxy_handshake_timeout (request and
 * descriptor) and the profile's (handshake). */
int	handoff_serve(struct sess *s, struct relay *r);

#endif
