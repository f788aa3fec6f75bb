/*
 * session.h - one proxied connection: its state, TLS handshake steps,
 * and the tlsproxy(8)-style log lines around it.
 *
 * Runs in: a pool thread (hand-off sessions, handoff.h) or an event loop
 * (server and client roles, evsess.h). Never exits the process for
 * anything a peer does; every failure ends only this session.
 */
#ifndef TLSWARD_SESSION_H
#define TLSWARD_SESSION_H

#include <stdint.h>

#include <openssl/ssl.h>

#include "control.h"
#include "stats.h"
#include "watchdog.h"

struct rt;
struct rt_svc;

/* Everything one session holds. */
struct sess {
	uint64_t		 id;
	const struct rt		*rt;		/* generation (the job's ref) */
	const struct rt_svc	*svc;
	int			 peer_fd;	/* accepted connection */
	int			 fwd_fd;	/* connection we made; for a
						 * hand-off the passed socket */
	SSL			*ssl;
	struct wd		 wd;
	int64_t			 handshake_ms;	/* TLS handshake deadline */
	char			 peer[CTL_PEER_MAX + 1];	/* "[addr]:port"
						 * of peer_fd, or the hand-off
						 * request's peer */
	char			 why[512];	/* failure reason */
	struct stats_sess	 st;		/* counters (tlsward status) */
};

struct relay;

/* Sets up s for connection fd from peer, accepted for service svc of rt
 * (borrowed: the caller holds a reference until sess_finish): id,
 * watchdog, counters (stats may be NULL), the CONNECT line at loglevel 2.
 * TCP_NODELAY is the caller's (sess_nodelay). */
void	sess_init(struct sess *s, const struct rt *rt, size_t svc, int fd,
	    const struct sockaddr_storage *peer, struct svc_stats *stats);

/* Ends s: counters, the failure line (failed: s->why), DISCONNECT with
 * r's byte counts (for a session that did not fail only with
 * tlsproxy_session_log), then frees the SSL and closes both
 * descriptors. */
void	sess_finish(struct sess *s, const struct relay *r, int failed);

/* One SSL_do_handshake: 1 done, 0 to wait (*want is SSL_ERROR_WANT_READ
 * or _WRITE), -1 failed (why set, failure and ending counted). */
int	sess_handshake_step(struct sess *s, int *want);

/* A deadline of kind passed: why names it (a connect timeout with the
 * forward target), the ending is counted as that timeout. */
void	sess_timeout(struct sess *s, enum wd_kind kind);

/* A deadline ended the handshake (after sess_timeout): counted as a
 * handshake that timed out. */
void	sess_handshake_timeout(struct sess *s);

/* TCP_NODELAY on fd if it is a TCP socket (errors are ignored). */
void	sess_nodelay(int fd);

/* The length of a socket address of ss's family. */
socklen_t sess_addr_len(const struct sockaddr_storage *ss);

/* Building blocks, for handoff.c. Each returns 0 (1 for sess_wait) or
 * -1 with s->why set. */

/* Waits for events on fd until the watchdog's nearest deadline. */
int	sess_wait(struct sess *s, int fd, short events);

/* A new SSL (s->ssl) from ctx on fd, accepting (is_server) or
 * connecting with SNI sni (NULL: none), with bio as its BIO (SSL_free
 * frees it) or, with bio NULL, OpenSSL's socket BIO. The session closes
 * fd. */
int	sess_ssl(struct sess *s, SSL_CTX *ctx, int fd, BIO *bio,
	    int is_server, const char *sni);

/* The handshake on fd within s->handshake_ms (counted in the stats). */
int	sess_handshake(struct sess *s, int fd);

/* After a TLS error, the peer's close is awaited this long (and this many
 * of its bytes read and dropped), so that closing a socket with unread
 * data does not send a reset that destroys our alert before the peer
 * reads it (what openssl s_server does too). */
#define SESS_LINGER_MS		1000
#define SESS_LINGER_BYTES	65536

/* For a session that failed with a TLS error on fd (its alert already
 * written by OpenSSL's socket BIO): shuts our side, then reads and drops
 * what the peer sends until it closes, within SESS_LINGER_MS and
 * SESS_LINGER_BYTES. Does nothing for any other ending. Blocks (poll):
 * for the hand-off sessions on pool threads. */
void	sess_linger(struct sess *s, int fd);

/* Counts a handshake that passed the level and logs "<trust> TLS
 * connection established from|to <where>: <details>" (with
 * tlsproxy_session_log). */
void	sess_established(struct sess *s, int is_server, const char *where);

/* "[addr]:port" of a socket address into buf. */
const char *sess_addr_text(const struct sockaddr_storage *ss, char *buf,
	    size_t len);

#endif
