/*
 * log.c - stderr/syslog logging with fixed severities.
 *
 * Runs in: every tlsward process. Owns the static program name and
 * destination set by log_init(); after that it only reads them, so any
 * thread may log.
 */
#include "config.h"

#include <errno.h>
#include <paths.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "log.h"

static const char *log_prog = "tlsward";
static enum log_dest log_to = LOG_TO_STDERR;
static int log_level_verbose;
static int log_fd = -1;
static int log_journal;		/* stderr is the journal: "<N>" prefixes */

/* openlog(3) keeps the ident pointer, so it must outlive every
 * configuration that named it: a reload frees the old one. */
static char log_ident[64];
static int log_facility;

/* 1 if JOURNAL_STREAM names the device and inode of our stderr. */
static int
log_stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (v == NULL || sscanf(v, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *progname, enum log_dest dest, int verbose)
{
	log_prog = progname;
	log_to = dest;
	log_level_verbose = verbose;
	log_journal = log_stderr_is_journal();
}

void
log_syslog(const char *ident, int facility)
{
	if (log_to == LOG_TO_SYSLOG)
		closelog();
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_facility = facility;
	openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
	log_to = LOG_TO_SYSLOG;
}

void
log_syslog_update(const char *ident, int facility)
{
	if (log_to == LOG_TO_SYSLOG && (strcmp(ident, log_ident) != 0 ||
	    facility != log_facility))
		log_syslog(ident, facility);
}

int
log_syslog_check(char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", _PATH_LOG);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", _PATH_LOG, strerror(errno));
	close(fd);
	return rc < 0 ? -1 : 0;
}

void
log_to_fd(int fd)
{
	log_fd = fd;
	log_to = LOG_TO_FD;
}

/* The calling thread's batch (log_batch_start), or NULL. */
static __thread char *log_batch;
static __thread size_t log_batch_len;

void
log_batch_start(void)
{
	if (log_to == LOG_TO_FD && log_batch == NULL)
		log_batch = malloc(LOG_BATCH_MAX);	/* NULL: unbatched */
	log_batch_len = 0;
}

/* Losing lines to a full socket is better than blocking a session. */
void
log_batch_flush(void)
{
	if (log_batch == NULL || log_batch_len == 0)
		return;
	(void)send(log_fd, log_batch, log_batch_len, MSG_DONTWAIT |
	    MSG_NOSIGNAL);
	log_batch_len = 0;
}

/* One record: priority byte + text + NUL, sent now or batched. */
static void
log_send(int prio, const char *text)
{
	char dg[LOG_DGRAM_MAX];
	size_t n = strlen(text);

	if (n > sizeof(dg) - 2)
		n = sizeof(dg) - 2;
	if (log_batch != NULL) {
		if (log_batch_len + n + 2 > LOG_BATCH_MAX)
			log_batch_flush();
		log_batch[log_batch_len] = (char)prio;
		memcpy(log_batch + log_batch_len + 1, text, n);
		log_batch[log_batch_len + n + 1] = '\0';
		log_batch_len += n + 2;
		return;
	}
	dg[0] = (char)prio;
	memcpy(dg + 1, text, n);
	dg[n + 1] = '\0';
	(void)send(log_fd, dg, n + 2, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* "<N>" for the journal's stream parser (sd-daemon(3) levels), or "". */
static const char *
log_prefix(int prio)
{
	static const char *const lv[8] = { "<0>", "<1>", "<2>", "<3>", "<4>",
	    "<5>", "<6>", "<7>" };

	return log_journal ? lv[LOG_PRI(prio)] : "";
}

void
log_relay(int prio, const char *text)
{
	char line[LOG_DGRAM_MAX + 64];
	int n;

	if (log_to == LOG_TO_SYSLOG) {
		syslog(prio, "%s", text);
		return;
	}
	if (log_to == LOG_TO_FD) {
		log_send(prio, text);
		return;
	}
	n = snprintf(line, sizeof(line), "%s%s: %s\n", log_prefix(prio),
	    log_prog, text);
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n < sizeof(line) ?
	    (size_t)n : sizeof(line) - 1) < 0)
		return;
}

int
log_verbose(void)
{
	return log_level_verbose;
}

static log_capture_fn *log_cap_fn;	/* log_capture() */
static void *log_cap_arg;

void
log_capture(log_capture_fn *fn, void *arg)
{
	log_cap_fn = fn;
	log_cap_arg = arg;
}

/* Emits one line; tail (may be NULL) is appended after ": ". */
static void
log_emit(int prio, const char *sev, const char *tail, const char *fmt,
    va_list ap)
{
	char msg[2048], line[2300];
	int n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_cap_fn != NULL && prio >= LOG_ERR && prio <= LOG_INFO) {
		snprintf(line, sizeof(line), "%s%s%s", msg, tail != NULL ?
		    ": " : "", tail != NULL ? tail : "");
		log_cap_fn(prio, line, log_cap_arg);
		return;
	}
	if (log_to == LOG_TO_FD) {
		snprintf(line, sizeof(line), "%s%s%s%s", sev, msg,
		    tail != NULL ? ": " : "", tail != NULL ? tail : "");
		log_send(prio, line);
		return;
	}
	if (log_to == LOG_TO_SYSLOG) {
		if (tail != NULL)
			syslog(prio, "%s%s: %s", sev, msg, tail);
		else
			syslog(prio, "%s%s", sev, msg);
		return;
	}
	n = snprintf(line, sizeof(line), "%s%s: %s%s%s%s\n", log_prefix(prio),
	    log_prog, sev, msg,
	    tail != NULL ? ": " : "", tail != NULL ? tail : "");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* One write(2): lines from different threads never interleave. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

char *
log_tls_errors(char *buf, size_t len)
{
	unsigned long e;
	size_t off = 0;
	char one[256];

	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, one, sizeof(one));
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			    off ? "; " : "", one);
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "unknown error");
	return buf;
}

#define LOG_BODY(prio, sev, tail) do {			\
	va_list ap;					\
	va_start(ap, fmt);				\
	log_emit(prio, sev, tail, fmt, ap);		\
	va_end(ap);					\
} while (0)

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, "", NULL);
}

void
log_debug(const char *fmt, ...)
{
	if (log_level_verbose <= 0)
		return;
	LOG_BODY(LOG_DEBUG, "debug: ", NULL);
}

void
log_warn(const char *fmt, ...)
{
	char buf[256];
	const char *err = strerror_r(errno, buf, sizeof(buf));	/* GNU */

	LOG_BODY(LOG_WARNING, "warning: ", err);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, "warning: ", NULL);
}

void
log_errorx(const char *fmt, ...)
{
	LOG_BODY(LOG_ERR, "error: ", NULL);
}

void
log_tls(const char *fmt, ...)
{
	char err[1024];

	log_tls_errors(err, sizeof(err));
	LOG_BODY(LOG_WARNING, "warning: ", err);
}

void
log_fatal(const char *fmt, ...)
{
	char buf[256];
	const char *err = strerror_r(errno, buf, sizeof(buf));	/* GNU */

	LOG_BODY(LOG_CRIT, "fatal: ", err);
	exit(1);
}

void
log_fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, "fatal: ", NULL);
	exit(1);
}

void
log_panic(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, "panic: ", NULL);
	abort();
}

/* ------------------------------------------------------ rate limits */

static pthread_mutex_t log_limit_lock = PTHREAD_MUTEX_INITIALIZER;

int
log_limit_check(struct log_limit *l, int64_t now_ms, unsigned long *suppressed)
{
	if (l->said && now_ms - l->last_ms < LOG_LIMIT_MS) {
		l->suppressed++;
		return 0;
	}
	*suppressed = l->suppressed;
	l->suppressed = 0;
	l->last_ms = now_ms;
	l->said = 1;
	return 1;
}

/* log_limit_check at the monotonic clock's now, locked. */
static int
log_limit_now(struct log_limit *l, unsigned long *suppressed)
{
	struct timespec ts;
	int say;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&log_limit_lock);
	say = log_limit_check(l, (int64_t)ts.tv_sec * 1000 +
	    ts.tv_nsec / 1000000, suppressed);
	pthread_mutex_unlock(&log_limit_lock);
	return say;
}

/* A warning's line, with the errno text err (or NULL) and the count of
 * what was suppressed before it. */
static void
log_limited_emit(unsigned long suppressed, const char *err, const char *fmt,
    va_list ap)
{
	char msg[1800], more[48] = "";

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (suppressed > 0)
		snprintf(more, sizeof(more), " (%lu more suppressed)",
		    suppressed);
	if (err != NULL)
		log_warnx("%s: %s%s", msg, err, more);
	else
		log_warnx("%s%s", msg, more);
}

void
log_warn_limited(struct log_limit *l, const char *fmt, ...)
{
	char buf[256];
	const char *err = strerror_r(errno, buf, sizeof(buf));	/* GNU */
	unsigned long n;
	va_list ap;

	if (!log_limit_now(l, &n))
		return;
	va_start(ap, fmt);
	log_limited_emit(n, err, fmt, ap);
	va_end(ap);
}

void
log_warnx_limited(struct log_limit *l, const char *fmt, ...)
{
	unsigned long n;
	va_list ap;

	if (!log_limit_now(l, &n))
		return;
	va_start(ap, fmt);
	log_limited_emit(n, NULL, fmt, ap);
	va_end(ap);
}
