/*
 * relay.h - the two-way pump between a TLS connection and a plaintext
 * connection, on non-blocking sockets, with half-close.
 *
 * Runs in: a worker session thread (relay_run, blocking with poll) or an
 * event loop (relay_pump); one struct relay per session.
 * Semantics:
 *  - every byte read from one side is written to the other before the
 *    relay ends normally;
 *  - EOF on the plaintext side is passed on as a TLS close_notify, and
 *    close_notify (or EOF) from the TLS peer as shutdown(SHUT_WR) on the
 *    plaintext side; the other direction keeps flowing;
 *  - a TLS error first delivers what was already decrypted, then ends;
 *  - the watchdog's deadlines end a stalled relay;
 *  - the buffers (64 KiB towards TLS: four records per read(2); 16 KiB,
 *    one record, from TLS) exist only while data moves: relay_pump frees
 *    them whenever nothing is in flight, relay_run after RELAY_IDLE_MS
 *    without I/O (and trims the thread's stack), so idle sessions stay
 *    small.
 */
#ifndef TLSWARD_RELAY_H
#define TLSWARD_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "stats.h"
#include "watchdog.h"

#define RELAY_BUF	16384	/* one TLS record of plaintext */
#define RELAY_P2T_BUF	65536	/* plaintext read at once */
#define RELAY_IDLE_MS	1000	/* no I/O for this long: release buffers */

struct relay {
	SSL		*ssl;		/* borrowed; its BIO owns no fd */
	BIO		*out;		/* event loops: ssl's sockbio (owned
					 * by ssl), whose collected bytes
					 * relay_pump sends; else NULL */
	int		 out_data;	/* out holds application data */
	size_t		 held;		/* the first bytes of out are a TLS
					 * 1.3 session ticket that waits for
					 * data (relay_unhold) */
	int		 tfd;		/* TLS peer socket (borrowed) */
	int		 pfd;		/* plaintext socket (borrowed) */
	unsigned char	*p2t;		/* plaintext -> TLS, RELAY_P2T_BUF */
	size_t		 p2t_len, p2t_off;
	unsigned char	*t2p;		/* TLS -> plaintext, RELAY_BUF */
	size_t		 t2p_len, t2p_off;
	unsigned	 flags;		/* RELAY_F_* */
	int		 ssl_want_r;	/* last SSL call wants readable tfd */
	int		 ssl_want_w;	/* ... wants writable tfd */
	int		 released;	/* idle: buffers and stack given back */
	unsigned	 ready;		/* edge mode: RELAY_R_* */
	int		 edge;		/* relay_pump: skip what cannot move */
	uint64_t	 to_tls;	/* plaintext bytes sent over TLS */
	uint64_t	 from_tls;	/* plaintext bytes received over TLS */
	enum stats_end	 end;		/* after a failure: which kind */
};

#define RELAY_F_P_EOF	0x01	/* plaintext side sent EOF */
#define RELAY_F_T_EOF	0x02	/* TLS peer sent close_notify or EOF */
#define RELAY_F_T_SHUT	0x04	/* we sent close_notify */
#define RELAY_F_P_SHUT	0x08	/* we shut down the plaintext write side */
#define RELAY_F_T_DIRTY	0x10	/* TLS peer closed without close_notify */

/* Edge-triggered readiness (relay_pump): set from epoll events
 * (relay_ready), cleared when a call sees EAGAIN; a step whose socket is
 * not ready is not tried, which saves the system calls that would only
 * say EAGAIN. */
#define RELAY_R_P_RD	0x01	/* plaintext socket readable */
#define RELAY_R_P_WR	0x02	/* ... writable */
#define RELAY_R_T_RD	0x04	/* TLS socket readable */
#define RELAY_R_T_WR	0x08	/* ... writable */
#define RELAY_R_ALL	0x0f
#define RELAY_R_P_MAYEOF 0x10	/* an EOF or error on the plaintext
				 * socket may not have been read yet (a
				 * hang-up event was seen, and no EAGAIN
				 * since): a short read does not mean the
				 * socket is drained */
#define RELAY_R_T_MAYEOF 0x20	/* the same for the TLS socket */

/* Runs until both directions are closed (0) or an error or deadline ends
 * the relay (-1, with why set to a reason for the log). The buffers are
 * allocated and freed here. */
int	relay_run(struct relay *r, struct wd *w, char *why, size_t whylen);

/* Event-loop use: runs every step until none moves. Returns RELAY_DONE
 * (both directions closed), RELAY_WAIT (every step saw EAGAIN or has
 * nothing to do: wait for any event on either socket), or -1 with why
 * set. *moved tells whether anything moved (for the watchdog). Buffers
 * exist only while data is in flight: a waiting relay with both empty
 * holds none. With r->edge set, steps whose socket is not ready
 * (r->ready, from relay_ready) are skipped. With r->out, what the TLS
 * records collect there is sent when no step moves any more (and when
 * the collection is full): alerts, KeyUpdates and other post-handshake
 * messages leave before the relay waits. Only r->held bytes (a TLS 1.3
 * session ticket) wait, for application data, the close_notify or
 * relay_unhold. The relay is done only when it is all sent. */
#define RELAY_WAIT	0
#define RELAY_DONE	1
int	relay_pump(struct relay *r, int *moved, char *why, size_t whylen);

/* The deferred TLS 1.3 session ticket (r->held bytes at the front of
 * r->out) may go: the next relay_pump sends it even without data. */
void	relay_unhold(struct relay *r);

/* Edge mode: an epoll event (EPOLLIN, EPOLLOUT, ... bits) on the TLS
 * socket (is_tls) or the plaintext socket. Every event of a session is
 * to be passed, from its first: readiness that was reported and not
 * recorded is never reported again. */
void	relay_ready(struct relay *r, int is_tls, uint32_t events);

/* After relay_pump failed: writes what was already decrypted to the
 * plaintext side. 1 when there is nothing more to do (all written, or the
 * write failed), 0 to wait for the plaintext socket. */
int	relay_flush(struct relay *r);

/* A session that ends on a deadline: sends TLS close_notify once, if the
 * handshake is done and neither side has closed the TLS stream yet, so
 * the peer reads an orderly end instead of a truncation. Never waits:
 * what does not fit in the socket is dropped (the event-loop owner
 * flushes its sockbio before closing). relay_run does this itself. */
void	relay_close_notify(struct relay *r);

/* Wipes and frees the buffers (relay_run does this itself). */
void	relay_fini(struct relay *r);

#endif
