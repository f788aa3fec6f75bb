/*
 * tlsctx.h - building a service's SSL_CTX from the snapshot: certificates
 * and keys from memory, protocols, cipher grades, curves, session ids and
 * tickets, OpenSSL options, and (through tlspolicy.c) the peer policy.
 *
 * Runs in: the worker before the sandbox is entered (and on reload, in
 * the sandbox: it only parses memory), and in the supervisor for
 * "tlswardd -t", which must judge the material exactly as a start would.
 */
#ifndef TLSWARD_TLSCTX_H
#define TLSWARD_TLSCTX_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "services.h"
#include "snapshot.h"

/* Security levels as the daemon uses them, in Postfix's order. */
enum tls_level {
	TLS_LEVEL_NONE,
	TLS_LEVEL_MAY,
	TLS_LEVEL_ENCRYPT,
	TLS_LEVEL_FINGERPRINT,
	TLS_LEVEL_VERIFY,
	TLS_LEVEL_SECURE,
	TLS_LEVEL_DANE,
	TLS_LEVEL_DANE_ONLY,
};

/* The parameter value of service i ("" if absent). */
const char *tlsctx_param(const struct snapshot *s, size_t i, const char *name);

/* A parameter of service i that must be a whole number from 0 to max:
 * 0 with *vp set, or -1 with err naming the parameter. */
int	tlsctx_int(const struct snapshot *s, size_t i, const char *name,
	    int max, int *vp, char *err, size_t errlen);

/* The value of the role's parameter: "tlsproxy_tls_" (server) or
 * "tlsproxy_client_" (client) + suffix; "" if absent. */
const char *tlsctx_rparam(const struct snapshot *s, size_t i,
	    enum svc_role role, const char *suffix);

/* The full name of that parameter, into buf; returns buf. */
const char *tlsctx_rname(enum svc_role role, const char *suffix, char *buf,
	    size_t len);

/* The resolved, space-separated paths the loader read for the role's
 * file parameter (svc.I.file.NAME); "" if none. */
const char *tlsctx_rfile(const struct snapshot *s, size_t i,
	    enum svc_role role, const char *suffix);

/* The contents of a file the loader put in the snapshot (a CApath
 * directory is "dir:PATH"); NULL if it was not loaded. */
const char *tlsctx_file_data(const struct snapshot *s, const char *path,
	    size_t *lenp);

/* The configured level of service i for role: *_security_level, or when
 * empty the obsolete enforce_tls/use_tls switches (Postfix semantics). */
enum tls_level tlsctx_level(const struct snapshot *s, size_t i,
	    enum svc_role role);

/* The level service i runs at: 0 with *lp set, or -1 with err naming the
 * service and the parameter. Level none is refused (a listener that does
 * no TLS has nothing to do); the server role runs fingerprint, verify,
 * secure, dane and dane-only as encrypt, with a warning (Postfix); the
 * client role refuses dane and dane-only (no DNSSEC resolver). */
int	tlsctx_level_get(const struct snapshot *s, size_t i,
	    enum svc_role role, enum tls_level *lp, char *err, size_t errlen);

/* A new SSL_CTX for service i in role at the level from
 * tlsctx_level_get. Key material is parsed from the snapshot's file.*
 * entries; the peer policy (tlspolicy.h) is attached. NULL with err
 * naming the service and parameter on failure (no usable certificate for
 * a server, a key that does not match its certificate, a bad protocol
 * list or cipher grade, an unusable CA file, ...). */
SSL_CTX	*tlsctx_new(const struct snapshot *s, size_t i,
	    enum svc_role role, enum tls_level level, char *err,
	    size_t errlen);

/* A server context of service i exactly as tlsctx_new makes it (level,
 * protocols, ciphers, CA, session ids and tickets, peer policy), but
 * with the keys and chains of chains instead of the service's own:
 * space-separated paths whose contents the loader put in the snapshot,
 * read as one *_chain_files stream (a tls_server_sni_maps entry). NULL
 * with err naming the service on failure. */
SSL_CTX	*tlsctx_new_chains(const struct snapshot *s, size_t i,
	    enum tls_level level, const char *chains, char *err,
	    size_t errlen);

#endif
