/*
 * tlsalpn.h - ALPN (RFC 7301) of a service: the protocols a server role
 * advertises (tlsproxy_tls_alpn, with tlsproxy_tls_alpn_mismatch for a
 * client that offers none of them) and the ones a client role offers
 * (tlsproxy_client_alpn).
 *
 * Runs in: wherever runtime.c builds a generation (the worker before the
 * sandbox, the supervisor's check of a reload, tlswardd -t, tlsward
 * check); the selection callback runs in the worker's event loops during
 * handshakes. Pure computation on memory. A service without a list
 * installs nothing: no callback, no extension, no cost.
 */
#ifndef TLSWARD_TLSALPN_H
#define TLSWARD_TLSALPN_H

#include <stddef.h>

#include <openssl/ssl.h>

/* What a server's selection needs; it lives as long as the SSL_CTX
 * (in struct rt_svc). */
struct tls_alpn {
	unsigned char	*wire;		/* the list, RFC 7301 wire format */
	size_t		 len;		/* 0: none configured */
	int		 refuse;	/* no overlap: no_application_protocol
					 * alert (else: no ALPN, go on) */
};

/* Parses a list of protocol names (separated by commas and/or white
 * space; each 1 to 255 printable ASCII bytes) into wire format: *wirep
 * (malloc'd, NULL for an empty list) and *lenp. 0, or -1 with err naming
 * parameter pname. */
int	alpn_parse(const char *list, const char *pname, unsigned char **wirep,
	    size_t *lenp, char *err, size_t errlen);

/* Server role: installs the selection of a (which must outlive ctx) in
 * ctx, when a lists anything. */
void	alpn_server(SSL_CTX *ctx, struct tls_alpn *a);

/* Client role: offers wire (len bytes; nothing when 0). 0, or -1 with
 * err. */
int	alpn_client(SSL_CTX *ctx, const unsigned char *wire, size_t len,
	    char *err, size_t errlen);

/* The negotiated protocol of ssl, printable ('?' for other bytes), into
 * buf; "" when none. Returns buf. */
const char *alpn_selected(const SSL *ssl, char *buf, size_t len);

#endif
