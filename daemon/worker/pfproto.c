/*
 * pfproto.c - the tlsproxy(8) protocol's messages: greeting, request,
 * status and context (the contract is in pfproto.h).
 *
 * Runs in: the sandboxed worker; pure functions over buffers.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pfattr.h"
#include "pfproto.h"

void
pfp_greeting(struct buf *b)
{
	pfa_put_str(b, "protocol", "tlsproxy_protocol");
	pfa_end(b);
}

/* Printable ASCII, at most PFP_TEXT_MAX bytes, copied into out. */
static int
req_text(const char *name, const char *v, char *out, char *why,
    size_t whylen)
{
	size_t n = strlen(v), i;

	if (n > PFP_TEXT_MAX)
		return errf(why, whylen, "attribute %s: longer than %d bytes",
		    name, PFP_TEXT_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return errf(why, whylen, "attribute %s: not printable "
			    "ASCII", name);
	memcpy(out, v, n + 1);
	return 0;
}

static int
req_timeout(const char *v, unsigned *out, char *why, size_t whylen)
{
	if (pfa_uint(v, PFP_TIMEOUT_MAX, out) < 0 || *out == 0)
		return errf(why, whylen, "attribute timeout: \"%.32s\" is not "
		    "a number of seconds from 1 to %d", v, PFP_TIMEOUT_MAX);
	return 0;
}

int
pfp_request(const char *buf, size_t len, size_t *used, struct pfp_req *r,
    char *why, size_t whylen)
{
	static const char *const names[] = { "remote_endpoint", "flags",
	    "timeout", "timeout", "serverid" };
	struct pfa_list l;
	int rc;

	if ((rc = pfa_scan(buf, len, &l, used, why, whylen)) <= 0)
		return rc;
	if (pfa_expect(&l, names, 5, why, whylen) < 0 ||
	    req_text("remote_endpoint", l.v[0].value, r->endpoint, why,
	    whylen) < 0 ||
	    req_timeout(l.v[2].value, &r->handshake_s, why, whylen) < 0 ||
	    req_timeout(l.v[3].value, &r->session_s, why, whylen) < 0 ||
	    req_text("serverid", l.v[4].value, r->serverid, why, whylen) < 0)
		return -1;
	if (pfa_uint(l.v[1].value, 0xffffffffu, &r->flags) < 0)
		return errf(why, whylen, "attribute flags: \"%.32s\" is not a "
		    "number", l.v[1].value);
	return 1;
}

void
pfp_status(struct buf *b, int ok)
{
	pfa_put_uint(b, "status", ok ? 1 : 0);
	pfa_end(b);
}

void
pfp_context(struct buf *b, const struct pfp_ctx *c)
{
	pfa_put_str(b, "peer_CN", c->peer_cn);
	pfa_put_str(b, "issuer_CN", c->issuer_cn);
	pfa_put_str(b, "peer_fingerprint", c->peer_fp);
	pfa_put_str(b, "peer_pubkey_fingerprint", c->peer_pkey_fp);
	pfa_put_uint(b, "level", c->level);
	pfa_put_uint(b, "peer_status", c->peer_status);
	pfa_put_str(b, "cipher_protocol", c->protocol);
	pfa_put_str(b, "cipher_name", c->cipher);
	pfa_put_uint(b, "cipher_usebits", c->usebits);
	pfa_put_uint(b, "cipher_algbits", c->algbits);
	pfa_put_str(b, "key_exchange", c->kex);
	pfa_put_str(b, "key_exchange_curve", c->kex_curve);
	pfa_put_uint(b, "key_exchange_bits", c->kex_bits);
	pfa_put_str(b, "clnt_signature", c->clnt_sig);
	pfa_put_str(b, "clnt_signature_curve", c->clnt_sig_curve);
	pfa_put_uint(b, "clnt_signature_bits", c->clnt_sig_bits);
	pfa_put_str(b, "clnt_signature_digest", c->clnt_sig_digest);
	pfa_put_str(b, "srvr_signature", c->srvr_sig);
	pfa_put_str(b, "srvr_signature_curve", c->srvr_sig_curve);
	pfa_put_uint(b, "srvr_signature_bits", c->srvr_sig_bits);
	pfa_put_str(b, "srvr_signature_digest", c->srvr_sig_digest);
	pfa_put_str(b, "namaddr", c->namaddr);
	pfa_end(b);
}
