/*
 * watchdog.c - deadline arithmetic for sessions.
 *
 * Runs in: worker session threads and event loops; each struct wd
 * belongs to one session.
 */
#include "config.h"

#include <limits.h>
#include <time.h>

#include "watchdog.h"

int64_t
wd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
wd_init(struct wd *w, int64_t idle_ms, int64_t life_ms)
{
	w->start_ms = wd_now_ms();
	w->last_io_ms = w->start_ms;
	w->phase_end_ms = 0;
	w->idle_ms = idle_ms;
	w->life_end_ms = life_ms > 0 ? w->start_ms + life_ms : 0;
}

void
wd_arm(struct wd *w, int64_t phase_ms, enum wd_kind phase)
{
	w->phase_end_ms = wd_now_ms() + phase_ms;
	w->phase = phase;
}

void
wd_disarm(struct wd *w)
{
	w->phase_end_ms = 0;
	w->last_io_ms = wd_now_ms();
}

void
wd_progress(struct wd *w)
{
	w->last_io_ms = wd_now_ms();
}

int
wd_timeout(const struct wd *w, enum wd_kind *kind)
{
	int64_t now = wd_now_ms(), end, t;

	if (w->phase_end_ms != 0) {
		end = w->phase_end_ms;
		*kind = w->phase;
	} else {
		end = w->last_io_ms + w->idle_ms;
		*kind = WD_IDLE;
	}
	if (w->life_end_ms != 0 && w->life_end_ms < end) {
		end = w->life_end_ms;
		*kind = WD_LIFETIME;
	}
	t = end - now;
	if (t <= 0)
		return 0;
	return t > INT_MAX ? INT_MAX : (int)t;
}

const char *
wd_text(enum wd_kind kind)
{
	switch (kind) {
	case WD_HANDSHAKE:
		return "handshake timeout";
	case WD_CONNECT:
		return "connect timeout";
	case WD_REQUEST:
		return "request timeout";
	case WD_PROXY:
		return "proxy header timeout";
	case WD_LINGER:
		return "linger timeout";
	case WD_LIFETIME:
		return "session lifetime exceeded";
	default:
		return "idle timeout";
	}
}
