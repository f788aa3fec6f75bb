/*
 * watchdog.h - per-session deadlines.
 *
 * Runs in: worker session threads and event loops. Every blocking step
 * of a session (request, connect, handshake, relay) waits with a timeout
 * computed here, so a stalled peer costs its session at most the
 * deadline, never more, and never affects another session.
 *
 * A session has at most one phase deadline at a time (the request, the
 * connect, the handshake), and while one is armed it alone bounds the
 * wait: the idle limit is for the relay, where silence is normal. The
 * lifetime bounds everything. Whichever deadline passes names itself, so
 * the log and the counters say which limit ended the session.
 */
#ifndef TLSWARD_WATCHDOG_H
#define TLSWARD_WATCHDOG_H

#include <stdint.h>

/* Which deadline: a phase (wd_arm), the idle limit, the lifetime. */
enum wd_kind {
	WD_IDLE,		/* no I/O for idle_ms (relay) */
	WD_HANDSHAKE,		/* the TLS handshake */
	WD_CONNECT,		/* the connect to the forward target */
	WD_REQUEST,		/* a hand-off or Postfix request */
	WD_PROXY,		/* the PROXY header of a load balancer */
	WD_LINGER,		/* after a fatal TLS error: the peer reads
				 * the alert */
	WD_LIFETIME,		/* tlsproxy_max_session_time */
};

struct wd {
	int64_t		 start_ms;	/* session start, monotonic */
	int64_t		 phase_end_ms;	/* end of the phase, 0 = none */
	enum wd_kind	 phase;		/* which phase is armed */
	int64_t		 last_io_ms;	/* last progress in either direction */
	int64_t		 idle_ms;	/* no progress for this long ends the
					 * session (no phase armed) */
	int64_t		 life_end_ms;	/* absolute end of the session, 0 =
					 * none */
};

/* Monotonic milliseconds. */
int64_t	wd_now_ms(void);

/* Starts the clock: idle limit idle_ms (>0), lifetime life_ms (0 = none). */
void	wd_init(struct wd *w, int64_t idle_ms, int64_t life_ms);

/* Arms the deadline of phase (WD_HANDSHAKE, WD_CONNECT, WD_REQUEST,
 * WD_PROXY, WD_LINGER) phase_ms from now, replacing any armed phase; wd_disarm
 * ends it and the idle limit applies again, counted from now. */
void	wd_arm(struct wd *w, int64_t phase_ms, enum wd_kind phase);
void	wd_disarm(struct wd *w);

/* Records I/O progress. */
void	wd_progress(struct wd *w);

/* The poll(2) timeout until the nearest deadline (>= 0), and which one
 * in *kind. Returns 0 when that deadline has passed. */
int	wd_timeout(const struct wd *w, enum wd_kind *kind);

/* The log text of a deadline: "handshake timeout", "connect timeout",
 * "request timeout", "proxy header timeout", "linger
 * timeout", "idle timeout", "session lifetime
 * exceeded". */
const char *wd_text(enum wd_kind kind);

#endif
