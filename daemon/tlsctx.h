/*
 * tlsctx.h - building a service's SSL_CTX from the snapshot: certificates
 * and keys from memory, protocols, cipher grades, curves.
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

/* Security levels as the daemon uses them. */
enum tls_level {
	TLS_LEVEL_NONE,
	TLS_LEVEL_MAY,
	TLS_LEVEL_ENCRYPT,
	TLS_LEVEL_FINGERPRINT,
	TLS_LEVEL_VERIFY,
	TLS_LEVEL_SECURE,
};

/* The parameter value of service i ("" if absent). */
const char *tlsctx_param(const struct snapshot *s, size_t i, const char *name);

/* The effective level of service i for role: *_security_level, or when
 * empty the obsolete enforce_tls/use_tls switches (Postfix semantics). */
enum tls_level tlsctx_level(const struct snapshot *s, size_t i,
	    enum svc_role role);

/* A new SSL_CTX for service i in role (server: SVC_SERVER/SVC_CONTROL).
 * Key material is parsed from the snapshot's file.* entries. NULL with
 * err naming the service and parameter on failure (no usable certificate
 * for a server, a key that does not match its certificate, a bad
 * protocol list or cipher grade, ...). */
SSL_CTX	*tlsctx_new(const struct snapshot *s, size_t i, enum svc_role role,
	    char *err, size_t errlen);

#endif
