/*
 * tlspolicy.h - the peer-certificate policy of one service: trust anchors
 * (CAfile/CApath), whether a server asks for or requires a client
 * certificate, the verification depth, the names a client-role peer must
 * match (verify/secure) or the fingerprints it must have (fingerprint),
 * the fingerprint digest and the log level. The policy is built with the
 * service's SSL_CTX and travels with it (SSL_CTX ex_data); what the
 * verification of one handshake found travels with the SSL (SSL ex_data).
 *
 * Runs in: wherever tlsctx.c runs (building), and in worker session
 * threads (the verify callback during the handshake, then tlsverify.c and
 * tlsinfo.c). Pure computation on memory.
 */
#ifndef TLSWARD_TLSPOLICY_H
#define TLSWARD_TLSPOLICY_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "fingerprint.h"
#include "services.h"
#include "snapshot.h"
#include "tlsctx.h"

/* One service's policy; immutable once attached. */
struct tls_policy {
	char		*service;	/* for messages */
	enum svc_role	 role;
	enum tls_level	 level;		/* effective level */
	int		 ask_cert;	/* server: request a client cert */
	int		 require_cert;	/* server: a trusted one, or no
					 * session */
	int		 verify_depth;	/* deepest certificate; leaf is 0 */
	int		 ncas;		/* anchors from CAfile/CApath */
	char		*names;		/* client verify/secure: the names,
					 * ", "-joined */
	const EVP_MD	*md;		/* fingerprint_digest */
	char		 md_name[16];	/* its name, "sha256" */
	struct fpt_list	 fpts;		/* client fingerprint level */
	int		 loglevel;	/* the role's *_loglevel */
};

/* What the verification of one handshake found. */
struct tls_peer {
	int		 checked;	/* the verify callback ran */
	int		 chain_err;	/* first X509_V_ERR_* (name
					 * mismatches aside); 0 none */
	int		 chain_depth;	/* where it happened */
	char		 chain_cn[80];	/* CN of the certificate there */
	int		 matched;	/* the level's name or fingerprint
					 * check passed: "Verified" */
	unsigned long long sess_id;	/* the session, for loglevel 2 lines
					 * (0: not set) */
};

/* Builds the policy of service i for role at level, installs its trust
 * anchors, verify mode, callback and names in ctx, and attaches it (ctx
 * owns it from then on). 0, or -1 with err naming the parameter (the
 * caller adds the service). */
int	tlspol_attach(SSL_CTX *ctx, const struct snapshot *s, size_t i,
	    enum svc_role role, enum tls_level level, char *err,
	    size_t errlen);

/* The policy of the SSL: its own (tlspol_session), else its context's
 * (never NULL for a tlswardd SSL). */
const struct tls_policy *tlspol_get(const SSL *ssl);

/* The policy attached to ctx. */
const struct tls_policy *tlspol_ctx(const SSL_CTX *ctx);

/* Gives ssl a policy of its own before its handshake (a hand-off
 * request's client role): the context's with level, and when given the
 * peer name to match (replacing the context's names) and the
 * fingerprints (taken over: *fpts is emptied). The SSL owns it. 0, or
 * -1 with err. */
int	tlspol_session(SSL *ssl, enum tls_level level, const char *name,
	    struct fpt_list *fpts, char *err, size_t errlen);

/* The SSL's verification record, created empty on first use. Owned by
 * the SSL (freed by SSL_free). */
struct tls_peer *tlspol_peer(SSL *ssl);

/* The session id left in ssl's tls_peer, or 0 (never allocates). */
unsigned long long tlspol_sess_id(const SSL *ssl);

/* The CN of a name, else its O (as Postfix does for issuers), else "",
 * into buf, with every byte outside printable ASCII replaced by '?'. */
void	tlspol_cn(const X509_NAME *n, char *buf, size_t len);

/* 1 if the peer's certificate chains to a trust anchor (names aside). */
int	tlspol_trusted(SSL *ssl);

/* Why the chain is not trusted ("unable to get local issuer certificate
 * at depth 0 (CN=x)"), into buf; returns buf. */
const char *tlspol_chain_reason(SSL *ssl, char *buf, size_t len);

#endif
