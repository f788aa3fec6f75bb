/*
 * tlsward-client.h - libtlsward-client: hand a connected socket to
 * tlswardd's hand-off (control) service, so that tlswardd speaks TLS
 * with the peer and the application goes on in plaintext over the
 * control connection. The protocol is tlsward-handoff(7); the API is
 * libtlsward-client(3).
 *
 * Runs in: the application (any process that may connect to the control
 * socket). Blocking calls with a timeout each; no global state, no
 * signals (SIGPIPE is avoided with MSG_NOSIGNAL), thread-safe: threads
 * may hand off concurrently, each on its own connection.
 *
 *   struct tw_request req;
 *   struct tw_outcome out;
 *   struct tw_error err;
 *   int fd;
 *
 *   tw_request_init(&req, TW_ROLE_SERVER, "[192.0.2.1]:41234");
 *   fd = tw_handoff("/etc/tlsward/private/handoff", &req, peer_fd,
 *       30000, &out, &err);
 *   if (fd < 0)
 *       log("no TLS: %s", err.text);   (err.code says which kind)
 *   else
 *       talk plaintext on fd; close(peer_fd) is up to the caller
 */
#ifndef TLSWARD_CLIENT_H
#define TLSWARD_CLIENT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TW_PROTOCOL_VERSION	1	/* the version this library speaks */

enum tw_role {
	TW_ROLE_SERVER,		/* the peer is a TLS client (e.g. STARTTLS
				 * received by a server) */
	TW_ROLE_CLIENT,		/* the peer is a TLS server */
};

/* What to ask for. Strings are borrowed for the duration of the call;
 * NULL or "" leaves a field out (the daemon's default applies). */
struct tw_request {
	enum tw_role		 role;
	const char		*peer;		/* remote endpoint, for the
						 * daemon's logs (required;
						 * bytes outside printable
						 * ASCII are sent as '?',
						 * cut at 255) */
	const char		*profile;	/* services.cf profile */
	unsigned		 handshake_timeout;	/* seconds, 0: daemon's */
	unsigned		 idle_timeout;		/* seconds, 0: daemon's */
	/* client role only: */
	const char		*servername;	/* SNI and name checks */
	const char		*level;		/* may encrypt fingerprint
						 * verify secure */
	const char *const	*fingerprints;	/* with level fingerprint */
	size_t			 nfingerprints;	/* at most 16 */
	int			 report;	/* 1: read the outcome (the
						 * default of tw_request_init) */
};

/* Error classes; tw_code_name() gives their names. */
enum tw_code {
	TW_OK = 0,
	TW_E_ARG,		/* a bad argument; nothing was sent */
	TW_E_SYSTEM,		/* a system call failed: sys_errno */
	TW_E_CONNECT,		/* cannot connect to the control socket */
	TW_E_TIMEOUT,		/* the call's timeout expired */
	TW_E_CLOSED,		/* the daemon closed the connection early */
	TW_E_PROTOCOL,		/* the daemon's answer is malformed */
	TW_E_REFUSED,		/* "refused CODE TEXT": refusal = CODE */
	TW_E_HANDSHAKE,		/* the TLS handshake or the peer's
				 * verification failed (the outcome says
				 * why) */
};

/* Why a call failed. */
struct tw_error {
	enum tw_code	 code;
	int		 sys_errno;	/* TW_E_SYSTEM / TW_E_CONNECT */
	char		 refusal[32];	/* TW_E_REFUSED: "bad-request",
					 * "unsupported-version",
					 * "unknown-profile", "no-certificate",
					 * "level-not-permitted", "overloaded",
					 * "bad-descriptor", "timeout" */
	char		 text[512];	/* one line for a log */
};

/* The daemon's report after the handshake (report=yes). Fields the
 * daemon left out are "" (bits: -1). */
struct tw_outcome {
	int		 ok;		/* status=ok */
	char		 reason[512];	/* status=failed: why */
	char		 protocol[32];	/* "TLSv1.3" */
	char		 cipher[128];	/* "TLS_AES_256_GCM_SHA384" */
	int		 bits;
	char		 kex[64];	/* "X25519" */
	char		 level[16];	/* security level applied */
	char		 trust[16];	/* Anonymous Untrusted Trusted
					 * Verified */
	char		 peer_cn[256];
	char		 issuer_cn[256];
	char		 digest[16];	/* fingerprint_digest, "sha256" */
	char		 peer_fingerprint[200];
	char		 peer_pubkey_fingerprint[200];
	char		 alpn[256];	/* the ALPN protocol agreed, "h2";
					 * "" when none */
};

/* Fills req with role and peer, report = 1, everything else unset. */
void	tw_request_init(struct tw_request *req, enum tw_role role,
	    const char *peer);

/* The whole hand-off: connect to the control socket at path, send req,
 * read the answer, pass peer_fd, and (req->report) read the outcome.
 * Returns the control connection (blocking, close-on-exec; the caller
 * owns it: it is now the plaintext side of the TLS session), or -1 with
 * err filled. The caller keeps peer_fd and should close it (the daemon
 * has its own copy). timeout_ms bounds the whole call (> 0). An outcome
 * with ok = 0 gives -1 with TW_E_HANDSHAKE, *out still filled. */
int	tw_handoff(const char *path, const struct tw_request *req,
	    int peer_fd, int timeout_ms, struct tw_outcome *out,
	    struct tw_error *err);

/* The same in steps (each bounded by its own timeout_ms): */

/* A connection to the control socket at path (blocking, close-on-exec),
 * or -1. */
int	tw_connect(const char *path, int timeout_ms, struct tw_error *err);

/* Sends req. 0 or -1. */
int	tw_send_request(int fd, const struct tw_request *req, int timeout_ms,
	    struct tw_error *err);

/* Reads the answer: 0 for "ok", -1 (TW_E_REFUSED with the refusal, or
 * another code). Reads nothing beyond the answer line. */
int	tw_read_answer(int fd, int timeout_ms, struct tw_error *err);

/* Passes peer_fd (one byte "F" with SCM_RIGHTS). 0 or -1. */
int	tw_send_fd(int fd, int peer_fd, int timeout_ms, struct tw_error *err);

/* Reads the report up to its empty line, nothing beyond it (plaintext
 * from the peer may follow at once). 0 for status=ok, -1 otherwise
 * (TW_E_HANDSHAKE with *out filled; TW_E_REFUSED for a refused
 * descriptor; ...). */
int	tw_read_outcome(int fd, int timeout_ms, struct tw_outcome *out,
	    struct tw_error *err);

/* "ok", "bad-argument", "system-error", "connect-failed", "timeout",
 * "closed", "protocol-error", "refused", "handshake-failed". */
const char *tw_code_name(enum tw_code code);

#ifdef __cplusplus
}
#endif

#endif
