/*
 * watchdog.h - per-session deadlines.
 *
 * Runs in: worker session threads. Every blocking step of a session
 * (connect, handshake, relay) polls with a timeout computed here, so a
 * stalled peer costs its thread at most the deadline, never more, and
 * never affects another session.
 */
#ifndef TLSWARD_WATCHDOG_H
#define TLSWARD_WATCHDOG_H

#include <stdint.h>

struct wd {
	int64_t	 start_ms;	/* session start, monotonic */
	int64_t	 phase_end_ms;	/* end of handshake/connect phase, 0 = none */
	int64_t	 last_io_ms;	/* last progress in either direction */
	int64_t	 idle_ms;	/* no progress for this long ends the session */
	int64_t	 life_end_ms;	/* absolute end of the session, 0 = none */
};

/* Monotonic milliseconds. */
int64_t	wd_now_ms(void);

/* Starts the clock: idle limit idle_ms (>0), lifetime life_ms (0 = none). */
void	wd_init(struct wd *w, int64_t idle_ms, int64_t life_ms);

/* Arms a phase deadline (handshake, connect) phase_ms from now;
 * wd_disarm ends it. */
void	wd_arm(struct wd *w, int64_t phase_ms);
void	wd_disarm(struct wd *w);

/* Records I/O progress. */
void	wd_progress(struct wd *w);

/* The poll(2) timeout until the nearest deadline (>= 0), and which one:
 * *whyp = "handshake/connect timeout", "idle timeout" or "session
 * lifetime exceeded". Returns 0 when a deadline has passed. */
int	wd_timeout(const struct wd *w, const char **whyp);

#endif
