/*
 * tlsalpn.c - a service's ALPN lists and the server's selection (see
 * tlsalpn.h for the contract).
 *
 * Runs in: the worker (building, and the callback in event loops), the
 * supervisor and the CLI (building, for checks only).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tlsalpn.h"
#include "util.h"

int
alpn_parse(const char *list, const char *pname, unsigned char **wirep,
    size_t *lenp, char *err, size_t errlen)
{
	size_t n = strlen(list), len = 0, k;
	unsigned char *w = xmalloc(n + 1);	/* never longer than text */
	const char *p = list;

	while (*p != '\0') {
		p += strspn(p, ", \t\r\n");
		if ((k = strcspn(p, ", \t\r\n")) == 0)
			break;
		if (k > 255) {
			free(w);
			return errf(err, errlen, "parameter %s: a protocol "
			    "name longer than 255 bytes", pname);
		}
		w[len++] = (unsigned char)k;
		for (; k > 0; k--, p++) {
			if (*p < 0x21 || *p > 0x7e) {
				free(w);
				return errf(err, errlen, "parameter %s: a "
				    "protocol name with a non-printable "
				    "byte", pname);
			}
			w[len++] = (unsigned char)*p;
		}
	}
	if (len == 0) {
		free(w);
		w = NULL;
	}
	*wirep = w;
	*lenp = len;
	return 0;
}

/* Our preference order: the first of our protocols the client offers. */
static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	const struct tls_alpn *a = arg;
	unsigned char *sel;

	(void)ssl;
	if (SSL_select_next_proto(&sel, outlen, a->wire, (unsigned)a->len,
	    in, inlen) == OPENSSL_NPN_NEGOTIATED) {
		*out = sel;
		return SSL_TLSEXT_ERR_OK;
	}
	return a->refuse ? SSL_TLSEXT_ERR_ALERT_FATAL : SSL_TLSEXT_ERR_NOACK;
}

void
alpn_server(SSL_CTX *ctx, struct tls_alpn *a)
{
	if (a->len > 0)
		SSL_CTX_set_alpn_select_cb(ctx, alpn_select, a);
}

int
alpn_client(SSL_CTX *ctx, const unsigned char *wire, size_t len, char *err,
    size_t errlen)
{
	/* 0 is success for this one call of OpenSSL's */
	if (len > 0 && SSL_CTX_set_alpn_protos(ctx, wire, (unsigned)len) != 0)
		return errf(err, errlen, "SSL_CTX_set_alpn_protos failed");
	return 0;
}

const char *
alpn_selected(const SSL *ssl, char *buf, size_t len)
{
	const unsigned char *p = NULL;
	unsigned int n = 0, k;

	SSL_get0_alpn_selected(ssl, &p, &n);
	for (k = 0; k < n && k + 1 < len; k++)
		buf[k] = p[k] >= 0x21 && p[k] <= 0x7e ? (char)p[k] : '?';
	if (len > 0)
		buf[k] = '\0';
	return buf;
}
