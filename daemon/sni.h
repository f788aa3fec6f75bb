/*
 * sni.h - certificates by TLS SNI (tls_server_sni_maps): for a service
 * in the server role (also the server side of hand-off and postfix
 * services), one SSL_CTX per distinct set of chain files its table
 * names, built exactly as the service's own context, and a servername
 * callback on the service's context that moves a handshake to the
 * context of the name the client sent.
 *
 * Lookup as Postfix does it: the name as sent (folded to lower case,
 * checked as a host name), then each parent domain with a leading dot
 * ("a.b.example.com", ".b.example.com", ".example.com", ".com"). No
 * SNI, an invalid name or a name without an entry: the service's
 * default certificate, unless tlsproxy_sni_refuse_unknown refuses the
 * latter two with an unrecognized_name alert.
 *
 * Runs in: the worker (building, with each generation; the callback in
 * event-loop and hand-off threads, during handshakes) and the
 * supervisor and CLI for the configuration check (building, which also
 * judges every entry). A map is immutable once attached. Without a
 * table nothing is attached: no callback, no per-session cost.
 */
#ifndef TLSWARD_SNI_H
#define TLSWARD_SNI_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "snapshot.h"
#include "tlsctx.h"

struct sni_map;

/* Builds the map of service i from its snapshot table (svc.I.sni) and
 * attaches its callback to dflt, the service's server context, at the
 * same level. *mp is NULL when the service has no table. Every entry is
 * judged (its chain files build a context: keys match certificates;
 * each certificate covers the name, or for a ".domain" entry a name
 * under it; validity dates): problems are logged one by one, naming
 * the table file and line, and any error makes it -1 with err saying
 * how many. The caller frees *mp with sni_map_free after dflt. */
int	sni_map_build(const struct snapshot *s, size_t i, enum tls_level level,
	    SSL_CTX *dflt, struct sni_map **mp, char *err, size_t errlen);

/* The name the client sent if the handshake of ssl moved to its
 * certificate (an entry matched), else NULL. Any thread. */
const char *sni_matched(const SSL *ssl);

/* Names the client of ssl, a server-side SSL of a service with a map,
 * for the map's log lines: peer ("[addr]:port", the address a PROXY
 * header gave where one was accepted) and the session id. peer is not
 * copied: it must outlive ssl (the session's own text, which may change
 * until the handshake starts). Without it the lines name the socket's
 * peer. */
void	sni_set_client(SSL *ssl, const char *peer, unsigned long long id);

/* The map's k-th context (from 0), or NULL past the last or for a NULL
 * map: for the certificates "tlsward status" lists. */
SSL_CTX	*sni_map_ctx(const struct sni_map *m, size_t k);

/* Frees a map and its contexts (NULL: nothing). Sessions that moved to
 * one of them hold their own reference (SSL_set_SSL_CTX). */
void	sni_map_free(struct sni_map *m);

#endif
