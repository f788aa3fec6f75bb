/*
 * control.h - the hand-off protocol, version 1, as the daemon speaks it
 * (tlsward-handoff(7); design notes in doc/handoff-design.txt): parsing
 * a request, the one-line answer, receiving and checking the peer's
 * socket, and the outcome report.
 *
 * Runs in: worker session threads (a control service's sessions; see
 * handoff.c for the session around these pieces), and in the fuzz target
 * t/fuzz/fuzz_handoff.c. Everything here but ctl_fd_recv and
 * ctl_fd_check is a pure function over caller-owned memory: no I/O, no
 * allocation, no global state.
 */
#ifndef TLSWARD_CONTROL_H
#define TLSWARD_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#define CTL_VERSION		1
#define CTL_LINE_MAX		1024	/* one request line, LF included */
#define CTL_LINES_MAX		32	/* lines in a request, empty one too */
#define CTL_REQUEST_MAX		8192	/* a whole request */
#define CTL_PEER_MAX		255	/* peer=, bytes */
#define CTL_PROFILE_MAX		64	/* profile= (a services.cf name) */
#define CTL_HOST_MAX		253	/* servername= */
#define CTL_FPT_MAX		16	/* fingerprint= lines */
#define CTL_FPT_LEN		191	/* SHA-512 as colon-separated hex */
#define CTL_TIMEOUT_MAX		86400	/* seconds, before capping */
#define CTL_REPORT_MAX		4096	/* a formatted outcome report */

/* Why a request is refused; the machine-readable words are
 * ctl_refusal_name()'s. CTL_OK is not a refusal. */
enum ctl_refusal {
	CTL_OK,
	CTL_BAD_REQUEST,		/* "bad-request" */
	CTL_UNSUPPORTED_VERSION,	/* "unsupported-version" */
	CTL_UNKNOWN_PROFILE,		/* "unknown-profile" */
	CTL_NO_CERTIFICATE,		/* "no-certificate" */
	CTL_LEVEL_NOT_PERMITTED,	/* "level-not-permitted" */
	CTL_OVERLOADED,			/* "overloaded" */
	CTL_BAD_DESCRIPTOR,		/* "bad-descriptor" */
	CTL_TIMEOUT,			/* "timeout" */
	CTL_REFUSAL_N
};

enum ctl_role {
	CTL_ROLE_SERVER,	/* the peer is a TLS client: we accept */
	CTL_ROLE_CLIENT,	/* the peer is a TLS server: we connect */
};

/* Levels a client-role request may ask for, in Postfix's order (the
 * same order as enum tls_level from may on). */
enum ctl_level {
	CTL_LEVEL_DEFAULT,	/* not given: the profile's */
	CTL_LEVEL_MAY,
	CTL_LEVEL_ENCRYPT,
	CTL_LEVEL_FINGERPRINT,
	CTL_LEVEL_VERIFY,
	CTL_LEVEL_SECURE,
};

/* A parsed request; every string is NUL-terminated printable ASCII. */
struct ctl_req {
	enum ctl_role	 role;
	char		 peer[CTL_PEER_MAX + 1];	/* for logs */
	char		 profile[CTL_PROFILE_MAX + 1];	/* "" = none */
	unsigned	 handshake_timeout_s;		/* 0 = not given */
	unsigned	 idle_timeout_s;		/* 0 = not given */
	char		 servername[CTL_HOST_MAX + 1];	/* client; "" none */
	enum ctl_level	 level;				/* client */
	char		 fpt[CTL_FPT_MAX][CTL_FPT_LEN + 1];	/* client */
	size_t		 nfpt;
	int		 report;			/* report=yes */
};

/* "bad-request", ...; "ok" for CTL_OK. */
const char	*ctl_refusal_name(enum ctl_refusal r);

/* The length of the request at the start of buf (through the LF of its
 * empty line), 0 if more bytes are needed, or -1 if buf cannot start a
 * valid request whatever follows (a line or the whole over its limit, a
 * NUL byte): the caller refuses with bad-request then. */
ssize_t		 ctl_req_end(const char *buf, size_t len);

/* Parses the complete request buf[0..len) (as delimited by ctl_req_end,
 * or any bytes: the parser checks everything again). Returns CTL_OK with
 * *req filled, or the refusal with a one-line reason in why. Strict:
 * "version=1" first, known names only, no duplicates (but fingerprint),
 * values in range, client-only names only in the client role. */
enum ctl_refusal ctl_req_parse(const char *buf, size_t len,
		    struct ctl_req *req, char *why, size_t whylen);

/* "ok\n", or "refused CODE TEXT\n" with text's characters outside
 * printable ASCII replaced by '?', into buf. Returns the length (always
 * less than len; text is cut to fit), or -1 if len < 64. */
ssize_t		 ctl_answer_fmt(char *buf, size_t len, enum ctl_refusal r,
		    const char *text);

/* Receives the peer's socket from the control connection sock: one
 * sendmsg with the one-byte payload given ('F' for the hand-off protocol,
 * '\0' for Postfix's) and exactly one descriptor in SCM_RIGHTS.
 * Returns 1 with *fdp set (close-on-exec, owned by the caller), 0 if
 * nothing has arrived yet (EAGAIN: poll and call again), or -1 with why
 * (bad-descriptor: no descriptor, several, wrong payload, truncated
 * control data; a closed connection or a read error) after closing
 * every descriptor that did arrive. *closedp is set when the connection
 * ended (EOF or error), so that no refusal needs to be written. */
int		 ctl_fd_recv(int sock, int payload, int *fdp, int *closedp,
		    char *why, size_t whylen);

/* Checks that fd is a connected stream socket (TCP or UNIX), not a
 * listening one; 0, or -1 with why ("not a socket", "a listening
 * socket", "not connected", ...). */
int		 ctl_fd_check(int fd, char *why, size_t whylen);

/* What the daemon reports after the handshake (report=yes). Empty
 * strings and bits < 0 are left out of the report. */
struct ctl_outcome {
	int		 ok;		/* status=ok, else failed */
	const char	*reason;	/* failed: why */
	const char	*protocol;	/* "TLSv1.3" */
	const char	*cipher;	/* "TLS_AES_256_GCM_SHA384" */
	int		 bits;		/* cipher bits used, -1 unknown */
	const char	*kex;		/* "X25519" */
	const char	*level;		/* effective security level */
	const char	*trust;		/* Anonymous Untrusted Trusted
					 * Verified */
	const char	*peer_cn;
	const char	*issuer_cn;
	const char	*digest;	/* fingerprint_digest, "sha256" */
	const char	*peer_fingerprint;
	const char	*peer_pubkey_fingerprint;
	const char	*alpn;		/* the ALPN protocol negotiated */
};

/* The report: "name=value\n" lines and an empty line, values with
 * characters outside printable ASCII replaced by '?' and cut at
 * CTL_LINE_MAX, into buf (CTL_REPORT_MAX is always enough). Returns the
 * length, or -1 if it does not fit. */
ssize_t		 ctl_report_fmt(char *buf, size_t len,
		    const struct ctl_outcome *o);

#endif
