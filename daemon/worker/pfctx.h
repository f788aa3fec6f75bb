/*
 * pfctx.h - the TLS context that tlsproxy(8) returns to smtpd(8) when a
 * request asks for it (flag 4), filled from a live server-role SSL the
 * way Postfix 3.7 fills its TLS_SESS_STATE.
 *
 * Runs in: worker session threads (read-only use of the SSL).
 */
#ifndef TLSWARD_PFCTX_H
#define TLSWARD_PFCTX_H

#include <openssl/ssl.h>

#include "pfproto.h"

/* The strings a context points to. */
struct pfctx_text {
	char	 peer_cn[256], issuer_cn[256];
	char	*peer_fp, *peer_pkey_fp;	/* owned: pfctx_fini */
	char	 kex[32], kex_curve[64];
	char	 clnt_sig[32], clnt_sig_curve[64], clnt_sig_digest[32];
	char	 srvr_sig[32], srvr_sig_curve[64], srvr_sig_digest[32];
};

/* Fills c (its strings in t) for the established server-role session
 * ssl with the remote peer namaddr ("[addr]:port", lower case). */
void	pfctx_fill(SSL *ssl, const char *namaddr, struct pfp_ctx *c,
	    struct pfctx_text *t);
void	pfctx_fini(struct pfctx_text *t);

#endif
