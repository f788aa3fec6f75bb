/*
 * log.h - the one logging API of tlsward.
 *
 * Runs in: the CLI, the privileged supervisor and the sandboxed worker.
 * Owns: the program name and the destination (stderr or syslog).
 *
 * Meanings, fixed everywhere:
 *   log_info    something worth knowing happened
 *   log_warn    a problem; appends ": strerror(errno)"
 *   log_warnx   a problem; no errno
 *   log_errorx  an error that fails what it belongs to (a configuration
 *               that cannot start or reload), while the process goes on
 *   log_tls     a problem in OpenSSL; appends and clears the OpenSSL error queue
 *   log_fatal   cannot continue (appends strerror); exit(1). Only before a
 *               daemon serves, and in the CLI.
 *   log_fatalx  as log_fatal without errno
 *   log_panic   a bug: abort()
 *   log_debug   only with -v
 * Messages are lower case, without a trailing newline. Thread-safe: one
 * write(2) or syslog(3) call per line.
 */
#ifndef TLSWARD_LOG_H
#define TLSWARD_LOG_H

#include <stdarg.h>
#include <stdint.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Destination for log lines. */
enum log_dest {
	LOG_TO_STDERR,		/* "prog: severity: text\n" on stderr; with
				 * a "<N>" level prefix when stderr is the
				 * systemd journal (JOURNAL_STREAM) */
	LOG_TO_SYSLOG,		/* syslog(3) with the given ident/facility */
	LOG_TO_FD,		/* one datagram per line to a socket (the
				 * sandboxed worker -> its supervisor) */
};

/* Datagram format of LOG_TO_FD: records of one byte of syslog priority
 * (LOG_INFO, ...) followed by the text, each ended by a NUL byte (the
 * last one's NUL may be missing). A line is at most LOG_DGRAM_MAX bytes
 * with its priority; a datagram at most LOG_BATCH_MAX. */
#define LOG_DGRAM_MAX	2048
#define LOG_BATCH_MAX	8192

/* Sets the program name and destination; verbose > 0 enables log_debug.
 * Call once at startup, before any thread exists. */
void	log_init(const char *progname, enum log_dest dest, int verbose);

/* Switches the destination to syslog with ident and facility (LOG_MAIL...).
 * The ident is copied (at most 63 bytes): the caller's string may go.
 * Called again with another ident (a reload), it reopens the log. */
void	log_syslog(const char *ident, int facility);

/* After a reload: reopens the log with a changed ident or facility, if
 * the destination is syslog; otherwise does nothing. */
void	log_syslog_update(const char *ident, int facility);

/* 0 if a syslog daemon listens on /dev/log; -1 with the reason in err
 * (no such file, nobody listening). syslog(3) would drop lines silently. */
int	log_syslog_check(char *err, size_t errlen);

/* Switches the destination to datagrams on fd (LOG_TO_FD). */
void	log_to_fd(int fd);

/* LOG_TO_FD only: the calling thread collects its lines from now on and
 * sends them as one datagram at log_batch_flush (or when the batch is
 * full). For an event loop: one wake-up of the supervisor per round of
 * events instead of one per line. A thread that never calls
 * log_batch_start sends each line at once. */
void	log_batch_start(void);
void	log_batch_flush(void);

/* Emits text at syslog priority prio to the current destination, as is
 * (the supervisor relaying its worker's lines). */
void	log_relay(int prio, const char *text);

/* While fn is set, the lines of log_info, log_warn(x), log_errorx and
 * log_tls go to fn (syslog priority and the text without program name
 * or severity word) instead of the destination; NULL ends that. For a
 * single-threaded program that reports what shared code logs in its own
 * form ("tlsward check" running the daemon's configuration check). */
typedef void log_capture_fn(int prio, const char *text, void *arg);
void	log_capture(log_capture_fn *fn, void *arg);

/* Returns the verbosity given to log_init. */
int	log_verbose(void);

void	log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_errorx(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_tls(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void	log_fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void	log_panic(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

/* Rate limits for warnings that a peer can repeat at will (accept
 * errors, refusals, overload): one struct log_limit per call site, static,
 * LOG_LIMIT_INIT. Such a line is said at most once per LOG_LIMIT_MS; the
 * next one said ends in "(N more suppressed)" when N were not said in
 * between. Lines suppressed with nothing said after them are not
 * reported. */
#define LOG_LIMIT_MS	1000

struct log_limit {
	int64_t		 last_ms;	/* when last said (monotonic) */
	unsigned long	 suppressed;	/* not said since */
	int		 said;		/* said at least once */
};
#define LOG_LIMIT_INIT	{ 0, 0, 0 }

/* Counts one occurrence at now_ms (monotonic): 1 if it is to be said,
 * with *suppressed set to the number not said since the last one; 0 if
 * it is suppressed. Not locked: log_warn_limited and log_warnx_limited
 * serialise their calls. */
int	log_limit_check(struct log_limit *l, int64_t now_ms,
	    unsigned long *suppressed);

/* log_warn and log_warnx under the limit l. Any thread. */
void	log_warn_limited(struct log_limit *l, const char *fmt, ...)
	    LOG_PRINTF(2, 3);
void	log_warnx_limited(struct log_limit *l, const char *fmt, ...)
	    LOG_PRINTF(2, 3);

/* Formats the OpenSSL error queue (oldest first, "; " separated) into buf
 * and clears the queue. Returns buf; "unknown error" if the queue was empty. */
char	*log_tls_errors(char *buf, size_t len);

#endif
