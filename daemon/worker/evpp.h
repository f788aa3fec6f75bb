/*
 * evpp.h - the PROXY protocol steps of an event-loop session (evsess.h):
 * the header a trusted load balancer sends before anything else
 * (tlsproxy_proxy_accept), and the header sent to the backend after the
 * TLS handshake and the connect, before any client data
 * (tlsproxy_proxy_send).
 *
 * Runs in: an event loop thread, inside evs_drive. A service that uses
 * neither has no struct evpp and runs none of this.
 *
 * Accepting: the source must be in tlsproxy_proxy_trusted_networks; the
 * header must be complete within tlsproxy_proxy_header_timeout (watchdog
 * kind WD_PROXY); the bytes are peeked and only the header's are read, so
 * the TLS data behind it stays in the socket. The header's source becomes
 * the session's client address: in the log lines, for the per-source
 * limits (admitted here, not at accept) and in a header sent onward.
 */
#ifndef TLSWARD_EVPP_H
#define TLSWARD_EVPP_H

#include <sys/socket.h>

struct esess;
struct evpp;

/* The PROXY state of e, whose connection came from peer, if its service
 * accepts or sends headers; else e->pp stays NULL. */
void	evpp_new(struct esess *e, const struct sockaddr_storage *peer);

/* Frees it (NULL is fine). */
void	evpp_free(struct evpp *p);

/* Accepting: the trust check and the deadline. EV_NEXT (state
 * EVS_PROXY_IN) or EV_FAIL. */
int	evpp_accept_start(struct esess *e);

/* Reads the header. EV_WAIT, EV_FAIL, or EV_NEXT with the role's first
 * state begun (evs_begin). */
int	evpp_accept_step(struct esess *e);

/* Before a handshake step: 1 if the connection came with a LOCAL
 * header (v2 LOCAL, v1 UNKNOWN: a load balancer's health check) and the
 * balancer closed it before sending any TLS byte. The session then ends
 * as a normal one (s->why says so, counted as closed by the peer, not as
 * a failed handshake); 0 otherwise (one recv(2) for LOCAL connections,
 * nothing for the others). */
int	evpp_health_check_over(struct esess *e);

/* Sending, once the handshake is done and the backend connected: the
 * header is built; EV_NEXT (state EVS_PROXY_OUT) or EV_FAIL. */
int	evpp_send_start(struct esess *e);

/* Sends it. EV_WAIT, EV_FAIL, or EV_NEXT with the relay begun. */
int	evpp_send_step(struct esess *e);

#endif
