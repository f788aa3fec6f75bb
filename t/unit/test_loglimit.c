/*
 * test_loglimit.c - the rate limit for repeated warnings (common/log.c):
 * log_limit_check over a table of moments, then the lines that
 * log_warnx_limited and log_warn_limited emit (captured), with the
 * "(N more suppressed)" count.
 *
 * Runs in: "make check" (TAP).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "tap.h"

/* One occurrence: when, whether it is said, and the count it carries. */
struct limit_case {
	int64_t		 now_ms;
	int		 say;
	unsigned long	 suppressed;
};

static const struct limit_case limit_cases[] = {
	{ 5, 1, 0 },		/* the first is always said */
	{ 6, 0, 0 },
	{ 500, 0, 0 },
	{ 1004, 0, 0 },		/* 999 ms after: still quiet */
	{ 1005, 1, 3 },		/* a second later: said, with three */
	{ 1006, 0, 0 },
	{ 9000, 1, 1 },		/* long after: said, with one */
	{ 20000, 1, 0 },	/* nothing in between */
	{ 20001, 0, 0 },
	{ 20002, 0, 0 },
	{ 20999, 0, 0 },
	{ 21000, 1, 3 },	/* exactly LOG_LIMIT_MS later */
};

static void
test_check(void)
{
	struct log_limit l = LOG_LIMIT_INIT;
	unsigned long n;
	size_t i;
	int say;

	for (i = 0; i < sizeof(limit_cases) / sizeof(limit_cases[0]); i++) {
		const struct limit_case *c = &limit_cases[i];

		n = 12345;
		say = log_limit_check(&l, c->now_ms, &n);
		is_int(say, c->say, "at %lld ms: %s", (long long)c->now_ms,
		    c->say ? "said" : "suppressed");
		if (c->say)
			is_int((long long)n, (long long)c->suppressed,
			    "at %lld ms: suppressed before",
			    (long long)c->now_ms);
	}
}

static char lines[8][256];
static int nlines;

static void
capture(int prio, const char *text, void *arg)
{
	(void)arg;
	if (prio == LOG_WARNING && nlines < 8)
		snprintf(lines[nlines++], sizeof(lines[0]), "%s", text);
}

/* Three warnings at once and one after a second: two lines. */
static void
test_lines(void)
{
	static struct log_limit lx = LOG_LIMIT_INIT, le = LOG_LIMIT_INIT;
	struct timespec pause = { 1, 50 * 1000000 };
	int i;

	log_capture(capture, NULL);
	for (i = 0; i < 3; i++)
		log_warnx_limited(&lx, "refused connection %d", i);
	for (i = 0; i < 4; i++) {
		errno = EMFILE;
		log_warn_limited(&le, "accept");
	}
	nanosleep(&pause, NULL);
	log_warnx_limited(&lx, "refused connection %d", 9);
	errno = EMFILE;
	log_warn_limited(&le, "accept");
	log_capture(NULL, NULL);
	is_int(nlines, 4, "four lines said of ten");
	is_str(lines[0], "refused connection 0", "the first as is");
	is_str(lines[1], "accept: Too many open files", "errno appended");
	is_str(lines[2], "refused connection 9 (2 more suppressed)",
	    "the count on the next line");
	is_str(lines[3], "accept: Too many open files (3 more suppressed)",
	    "the count after the errno text");
}

int
main(void)
{
	log_init("test_loglimit", LOG_TO_STDERR, 0);
	test_check();
	test_lines();
	return done();
}
