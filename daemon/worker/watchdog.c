/*
 * watchdog.c - deadline arithmetic for sessions.
 *
 * Runs in: worker session threads; each struct wd belongs to one session.
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
wd_arm(struct wd *w, int64_t phase_ms)
{
	w->phase_end_ms = wd_now_ms() + phase_ms;
}

void
wd_disarm(struct wd *w)
{
	w->phase_end_ms = 0;
}

void
wd_progress(struct wd *w)
{
	w->last_io_ms = wd_now_ms();
}

int
wd_timeout(const struct wd *w, const char **whyp)
{
	int64_t now = wd_now_ms(), end, t;

	end = w->last_io_ms + w->idle_ms;
	*whyp = "idle timeout";
	if (w->phase_end_ms != 0 && w->phase_end_ms < end) {
		end = w->phase_end_ms;
		*whyp = "handshake/connect timeout";
	}
	if (w->life_end_ms != 0 && w->life_end_ms < end) {
		end = w->life_end_ms;
		*whyp = "session lifetime exceeded";
	}
	t = end - now;
	if (t <= 0)
		return 0;
	return t > INT_MAX ? INT_MAX : (int)t;
}
