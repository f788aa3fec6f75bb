/*
 * ocsp.h - OCSP stapling for a server SSL_CTX: the responses the loader
 * read (file.PATH entries of the snapshot) are matched to the context's
 * certificates, judged once (ocspresp.h), and the usable ones are sent
 * to clients that ask (status_request), for the certificate the
 * handshake chose, until their nextUpdate.
 *
 * Runs in: wherever tlsctx.c runs (ocsp_attach parses memory only), and
 * worker threads (the status callback: a pointer compare, a time
 * compare and a copy; nothing is parsed per handshake).
 */
#ifndef TLSWARD_OCSP_H
#define TLSWARD_OCSP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "snapshot.h"

/* The response files the loader read for service i's server
 * certificates (svc.I.file.tlsproxy_tls_ocsp_response_files):
 * space-separated paths, "" when none (or tlsproxy_tls_ocsp_stapling =
 * no). */
const char *ocsp_paths(const struct snapshot *s, size_t i);

/* For the context of a tls_server_sni_maps entry of service i, whose
 * chain files are chains (space-separated): the FILE.ocsp beside each
 * that the loader read (with tlsproxy_tls_ocsp_stapling = yes), as a
 * new space-separated string (caller frees; "" when none). */
char	*ocsp_paths_beside(const struct snapshot *s, size_t i,
	    const char *chains);

/* Attaches stapling to ctx, whose certificates (with their chains) are
 * installed: each file of paths (space-separated, each read by the
 * loader into file.PATH; one that is absent is skipped, the loader said
 * why) must name one of the certificates and pass ocspresp_check with
 * the certificate's issuer from its chain; a good or revoked response
 * is kept (with the ctx, freed with it), an unknown one is not.
 * Every response that is not kept is logged once, as a warning naming
 * svc and the file, with the reason; nothing here fails the context.
 * Without a kept response no callback is installed (no cost). Returns
 * the number of responses kept. Call once per SSL_CTX (a context for
 * another server name gets its own call). */
int	ocsp_attach(SSL_CTX *ctx, const struct snapshot *s, const char *paths,
	    const char *svc);

/* What ctx staples for leaf (one of its certificates, by pointer), for
 * "tlsward status" and the metrics. */
struct ocsp_staple_info {
	int	 status;	/* V_OCSP_CERTSTATUS_GOOD or _REVOKED */
	time_t	 this_update;
	time_t	 next_update;	/* not stapled from then on */
};

/* 1 with *info when ctx keeps a response for leaf, else 0. Any thread:
 * the kept responses are immutable. */
int	ocsp_staple_info(SSL_CTX *ctx, X509 *leaf, struct ocsp_staple_info *info);

/* Makes ctx's status callback add one to *sent (atomically, relaxed)
 * for each response it sends; sent must outlive ctx (stats.h blocks
 * do). Nothing when ctx keeps no response. The worker calls it before
 * the context serves. */
void	ocsp_count_sent(SSL_CTX *ctx, uint64_t *sent);

/* With quiet set, ocsp_attach logs nothing: for the supervisor's check
 * of a reload, whose worker then logs the same findings. Not
 * thread-safe: the supervisor is single-threaded. */
void	ocsp_set_quiet(int quiet);

#endif
