/*
 * pfproto.h - the messages of the tlsproxy(8) protocol that postscreen(8)
 * and smtpd(8) speak to a TLS proxy on $queue_directory/private/tlsproxy
 * (doc/tlswardd.8, POSTFIX): the greeting, the request, the status
 * answer and the TLS context, in Postfix's attr0 encoding (pfattr.h).
 *
 * Runs in: the sandboxed worker (and the unit and fuzz tests): pure
 * functions over buffers. The session that uses them is pfsess.c.
 */
#ifndef TLSWARD_PFPROTO_H
#define TLSWARD_PFPROTO_H

#include <stddef.h>

#include "util.h"

/* Request flags (Postfix's tls_proxy.h values). */
#define PFP_ROLE_SERVER		1	/* the remote peer is a TLS client */
#define PFP_ROLE_CLIENT		2	/* the remote peer is a TLS server */
#define PFP_SEND_CONTEXT	4	/* the context list after the handshake */

#define PFP_TIMEOUT_MAX		86400	/* seconds, either timeout */
#define PFP_TEXT_MAX		255	/* remote_endpoint, serverid */

/* The base request: remote_endpoint, flags, timeout, timeout, serverid. */
struct pfp_req {
	char		 endpoint[PFP_TEXT_MAX + 1];	/* "[addr]:port" */
	unsigned	 flags;
	unsigned	 handshake_s;	/* first timeout */
	unsigned	 session_s;	/* second timeout */
	char		 serverid[PFP_TEXT_MAX + 1];	/* "smtpd", ... */
};

/* Appends the greeting list: protocol=tlsproxy_protocol. */
void	pfp_greeting(struct buf *b);

/* Scans the request at the start of buf[0..len): 1 and *used when it is
 * complete and valid, 0 while incomplete, -1 with why when malformed
 * (anything but the five attributes in order, a number that is not one,
 * a timeout of 0 or over PFP_TIMEOUT_MAX, text that is not printable
 * ASCII or too long). The flags' values are the caller's to judge. */
int	pfp_request(const char *buf, size_t len, size_t *used,
	    struct pfp_req *r, char *why, size_t whylen);

/* Appends the status list: 1 "go on, send the descriptor", 0 "no". */
void	pfp_status(struct buf *b, int ok);

/* The TLS context, the 22 fields Postfix's TLS_SESS_STATE carries, in
 * its order. Strings are never NULL ("" for none). */
struct pfp_ctx {
	const char	*peer_cn, *issuer_cn;
	const char	*peer_fp, *peer_pkey_fp;	/* "AB:CD:..." or "" */
	unsigned	 level, peer_status;
	const char	*protocol, *cipher;
	unsigned	 usebits, algbits;
	const char	*kex, *kex_curve;
	unsigned	 kex_bits;
	const char	*clnt_sig, *clnt_sig_curve;
	unsigned	 clnt_sig_bits;
	const char	*clnt_sig_digest;
	const char	*srvr_sig, *srvr_sig_curve;
	unsigned	 srvr_sig_bits;
	const char	*srvr_sig_digest;
	const char	*namaddr;
};

/* peer_status bits (Postfix's TLS_CRED_FLAG_*). */
#define PFP_PEER_PRESENT	1
#define PFP_PEER_TRUSTED	4

/* Appends the context list. */
void	pfp_context(struct buf *b, const struct pfp_ctx *c);

#endif
