/*
 * proxyproto.c - PROXY protocol v1/v2 parser and encoders (see
 * proxyproto.h for the contract).
 *
 * Runs in: event loop threads and the unit test; pure functions.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proxyproto.h"

static const unsigned char pp_v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
static const char pp_v1_sig[] = "PROXY ";

#define PP2_CMD_LOCAL		0x00
#define PP2_CMD_PROXY		0x01
#define PP2_FAM_UNSPEC		0x00
#define PP2_FAM_TCP4		0x11
#define PP2_FAM_TCP6		0x21
#define PP2_TYPE_ALPN		0x01
#define PP2_TYPE_AUTHORITY	0x02
#define PP2_TYPE_CRC32C		0x03
#define PP2_TYPE_SSL		0x20
#define PP2_SUBTYPE_SSL_VERSION	0x21
#define PP2_SUBTYPE_SSL_CN	0x22
#define PP2_SUBTYPE_SSL_CIPHER	0x23
#define PP2_CLIENT_SSL		0x01
#define PP2_CLIENT_CERT_CONN	0x02

static int
pp_fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ------------------------------------------------------------- v1 */

/* A port: decimal, 0..65535, no leading zero. */
static int
v1_port(const char *t, in_port_t *p)
{
	unsigned long n = 0;
	size_t k;

	if (t[0] == '\0' || strlen(t) > 5 || (t[0] == '0' && t[1] != '\0'))
		return -1;
	for (k = 0; t[k] != '\0'; k++) {
		if (t[k] < '0' || t[k] > '9')
			return -1;
		n = n * 10 + (unsigned long)(t[k] - '0');
	}
	if (n > 65535)
		return -1;
	*p = htons((in_port_t)n);
	return 0;
}

/* An address of family af and its port into ss. */
static int
v1_addr(int af, const char *a, const char *port, struct sockaddr_storage *ss)
{
	in_port_t p;

	memset(ss, 0, sizeof(*ss));
	if (v1_port(port, &p) < 0)
		return -1;
	if (af == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = p;
		/* glibc's inet_pton refuses leading zeros, as the
		 * specification does */
		return inet_pton(AF_INET, a, &s4->sin_addr) == 1 ? 0 : -1;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = p;
		return inet_pton(AF_INET6, a, &s6->sin6_addr) == 1 ? 0 : -1;
	}
}

/* The complete line (CRLF excluded, NUL-terminated in line). */
static int
v1_line(char *line, struct pp_hdr *h, char *why, size_t whylen)
{
	char *tok[7], *p = line;
	int n = 0, af;

	if (strncmp(line, "PROXY UNKNOWN", 13) == 0 &&
	    (line[13] == '\0' || line[13] == ' ')) {
		h->local = 1;		/* the rest is to be ignored */
		return 0;
	}
	while (n < 7) {
		tok[n++] = p;
		if ((p = strchr(p, ' ')) == NULL)
			break;
		*p++ = '\0';
	}
	if (n != 6)
		return pp_fail(why, whylen, "PROXY v1 header: %d fields, "
		    "want 6", n);
	if (strcmp(tok[1], "TCP4") == 0)
		af = AF_INET;
	else if (strcmp(tok[1], "TCP6") == 0)
		af = AF_INET6;
	else
		return pp_fail(why, whylen, "PROXY v1 header: unknown "
		    "protocol");
	if (v1_addr(af, tok[2], tok[4], &h->src) < 0 ||
	    v1_addr(af, tok[3], tok[5], &h->dst) < 0)
		return pp_fail(why, whylen, "PROXY v1 header: bad address "
		    "or port");
	return 0;
}

static int
v1_parse(const unsigned char *buf, size_t len, struct pp_hdr *h, char *why,
    size_t whylen)
{
	char line[PP_V1_MAX + 1];
	size_t k, sig = sizeof(pp_v1_sig) - 1;

	if (memcmp(buf, pp_v1_sig, len < sig ? len : sig) != 0)
		return pp_fail(why, whylen, "not a PROXY header");
	for (k = 0; k < len && k < PP_V1_MAX; k++) {
		if (buf[k] == '\r') {
			if (k + 1 == len)
				return 0;
			if (buf[k + 1] != '\n')
				return pp_fail(why, whylen, "PROXY v1 header: "
				    "CR without LF");
			memcpy(line, buf, k);
			line[k] = '\0';
			h->version = 1;
			return v1_line(line, h, why, whylen) < 0 ? -1 :
			    (int)k + 2;
		}
		if (buf[k] < 0x20 || buf[k] > 0x7e)
			return pp_fail(why, whylen, "PROXY v1 header: byte "
			    "0x%02x at %zu", buf[k], k);
	}
	if (k >= PP_V1_MAX)
		return pp_fail(why, whylen, "PROXY v1 header: no CRLF in %d "
		    "bytes", PP_V1_MAX);
	return 0;
}

/* ------------------------------------------------------------- v2 */

/* TLVs: each type, 2-byte length and value must fit exactly. */
static int
v2_tlvs(const unsigned char *p, size_t len)
{
	size_t vlen;

	while (len > 0) {
		if (len < 3)
			return -1;
		vlen = (size_t)p[1] << 8 | p[2];
		if (vlen > len - 3)
			return -1;
		p += 3 + vlen;
		len -= 3 + vlen;
	}
	return 0;
}

/* CRC-32C (Castagnoli, as RFC 4960 appendix B computes it) of the n
 * bytes at p, the 4 at offset zero taken as zeros (the checksum's own
 * field). Bitwise: only for headers that carry the TLV. */
static uint32_t
crc32c(const unsigned char *p, size_t n, size_t zero)
{
	uint32_t c = 0xffffffff;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= i >= zero && i < zero + 4 ? 0 : p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78U & (0U - (c & 1)));
	}
	return ~c;
}

/* The header's PP2_TYPE_CRC32C, if it has one, matches the header
 * (hlen bytes; its TLVs, well formed, start at tlv). */
static int
v2_crc_ok(const unsigned char *hdr, size_t hlen, size_t tlv)
{
	size_t vlen;
	uint32_t want;

	for (; tlv + 3 <= hlen; tlv += 3 + vlen) {
		vlen = (size_t)hdr[tlv + 1] << 8 | hdr[tlv + 2];
		if (hdr[tlv] != PP2_TYPE_CRC32C)
			continue;
		if (vlen != 4)
			return 0;
		want = (uint32_t)hdr[tlv + 3] << 24 |
		    (uint32_t)hdr[tlv + 4] << 16 |
		    (uint32_t)hdr[tlv + 5] << 8 | hdr[tlv + 6];
		return crc32c(hdr, hlen, tlv + 3) == want;
	}
	return 1;
}

/* The address block of a PROXY command (body of blen bytes); *tlvp
 * gets the offset of its TLVs in the body (blen when none is known). */
static int
v2_addrs(unsigned fam, const unsigned char *b, size_t blen,
    struct pp_hdr *h, size_t *tlvp)
{
	*tlvp = blen;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&h->src;
	struct sockaddr_in *d4 = (struct sockaddr_in *)&h->dst;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&h->src;
	struct sockaddr_in6 *d6 = (struct sockaddr_in6 *)&h->dst;
	size_t used;

	if (fam == PP2_FAM_TCP4) {
		if (blen < 12)
			return -1;
		s4->sin_family = d4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, b, 4);
		memcpy(&d4->sin_addr, b + 4, 4);
		memcpy(&s4->sin_port, b + 8, 2);
		memcpy(&d4->sin_port, b + 10, 2);
		used = 12;
	} else if (fam == PP2_FAM_TCP6) {
		if (blen < 36)
			return -1;
		s6->sin6_family = d6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, b, 16);
		memcpy(&d6->sin6_addr, b + 16, 16);
		memcpy(&s6->sin6_port, b + 32, 2);
		memcpy(&d6->sin6_port, b + 34, 2);
		used = 36;
	} else {
		/* UNSPEC, UDP, UNIX: not a TCP client address to use
		 * (the specification's fallback to UNSPEC); the length
		 * says what to skip, so no TLV boundary is known */
		h->local = 1;
		return 0;
	}
	*tlvp = used;
	return v2_tlvs(b + used, blen - used);
}

static int
v2_parse(const unsigned char *buf, size_t len, struct pp_hdr *h, char *why,
    size_t whylen)
{
	size_t blen, tlv;
	unsigned cmd, fam;

	if (memcmp(buf, pp_v2_sig, len < 12 ? len : 12) != 0)
		return pp_fail(why, whylen, "not a PROXY header");
	if (len > 12 && (buf[12] >> 4) != 2)
		return pp_fail(why, whylen, "PROXY v2 header: version %u",
		    buf[12] >> 4);
	if (len > 12 && (cmd = buf[12] & 0x0f) > PP2_CMD_PROXY)
		return pp_fail(why, whylen, "PROXY v2 header: command %u",
		    cmd);
	if (len > 13) {
		fam = buf[13];
		if (fam != 0x00 && fam != 0x11 && fam != 0x12 &&
		    fam != 0x21 && fam != 0x22 && fam != 0x31 && fam != 0x32)
			return pp_fail(why, whylen, "PROXY v2 header: family "
			    "0x%02x", fam);
	}
	if (len < PP_V2_FIXED)
		return 0;
	blen = (size_t)buf[14] << 8 | buf[15];
	if (blen > PP_V2_MAX_BODY)
		return pp_fail(why, whylen, "PROXY v2 header: %zu bytes, "
		    "more than %d", blen, PP_V2_MAX_BODY);
	if (len < PP_V2_FIXED + blen)
		return 0;
	h->version = 2;
	if ((buf[12] & 0x0f) == PP2_CMD_LOCAL)
		h->local = 1;
	else if (v2_addrs(buf[13], buf + PP_V2_FIXED, blen, h, &tlv) < 0)
		return pp_fail(why, whylen, "PROXY v2 header: address block "
		    "or TLVs malformed");
	else if (!v2_crc_ok(buf, PP_V2_FIXED + blen, PP_V2_FIXED + tlv))
		return pp_fail(why, whylen, "PROXY v2 header: CRC32C "
		    "checksum does not match");
	return (int)(PP_V2_FIXED + blen);
}

int
pp_parse(const unsigned char *buf, size_t len, unsigned accept,
    struct pp_hdr *h, char *why, size_t whylen)
{
	memset(h, 0, sizeof(*h));
	if (len == 0)
		return 0;
	if (buf[0] == 'P') {
		if (!(accept & PP_ACCEPT_V1))
			return pp_fail(why, whylen, "PROXY v1 header, but "
			    "only v2 is accepted");
		return v1_parse(buf, len, h, why, whylen);
	}
	if (buf[0] == pp_v2_sig[0]) {
		if (!(accept & PP_ACCEPT_V2))
			return pp_fail(why, whylen, "PROXY v2 header (or not "
			    "a PROXY header), but only v1 is accepted");
		return v2_parse(buf, len, h, why, whylen);
	}
	return pp_fail(why, whylen, "not a PROXY header (first byte 0x%02x)",
	    buf[0]);
}

/* -------------------------------------------------------- encoders */

static int
same_ip_family(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	return a->ss_family == b->ss_family && (a->ss_family == AF_INET ||
	    a->ss_family == AF_INET6);
}

size_t
pp_encode_v1(const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, char *buf, size_t len)
{
	char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	unsigned sp, dp;
	int n;

	if (!same_ip_family(src, dst))
		n = snprintf(buf, len, "PROXY UNKNOWN\r\n");
	else if (src->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)src;
		const struct sockaddr_in *d = (const void *)dst;

		inet_ntop(AF_INET, &s->sin_addr, sa, sizeof(sa));
		inet_ntop(AF_INET, &d->sin_addr, da, sizeof(da));
		sp = ntohs(s->sin_port);
		dp = ntohs(d->sin_port);
		n = snprintf(buf, len, "PROXY TCP4 %s %s %u %u\r\n", sa, da,
		    sp, dp);
	} else {
		const struct sockaddr_in6 *s = (const void *)src;
		const struct sockaddr_in6 *d = (const void *)dst;

		inet_ntop(AF_INET6, &s->sin6_addr, sa, sizeof(sa));
		inet_ntop(AF_INET6, &d->sin6_addr, da, sizeof(da));
		sp = ntohs(s->sin6_port);
		dp = ntohs(d->sin6_port);
		n = snprintf(buf, len, "PROXY TCP6 %s %s %u %u\r\n", sa, da,
		    sp, dp);
	}
	return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

/* A growing v2 header. */
struct pp_out {
	unsigned char	*b;
	size_t		 len, cap;
	int		 full;
};

static void
out_put(struct pp_out *o, const void *p, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->b + o->len, p, n);
	o->len += n;
}

static void
out_tlv(struct pp_out *o, unsigned type, const void *v, size_t n)
{
	unsigned char th[3];

	if (n > 0xffff) {
		o->full = 1;
		return;
	}
	th[0] = (unsigned char)type;
	th[1] = (unsigned char)(n >> 8);
	th[2] = (unsigned char)n;
	out_put(o, th, 3);
	out_put(o, v, n);
}

static void
out_str(struct pp_out *o, unsigned type, const char *s)
{
	if (s != NULL && *s != '\0')
		out_tlv(o, type, s, strlen(s));
}

/* The PP2_TYPE_SSL TLV and its sub-TLVs. */
static void
out_ssl(struct pp_out *o, const struct pp_tls *t)
{
	size_t at = o->len, vlen;
	unsigned char head[5];
	uint32_t verify = t->cert_conn && t->verified ? 0 : 1;

	head[0] = PP2_CLIENT_SSL | (t->cert_conn ? PP2_CLIENT_CERT_CONN : 0);
	head[1] = (unsigned char)(verify >> 24);
	head[2] = (unsigned char)(verify >> 16);
	head[3] = (unsigned char)(verify >> 8);
	head[4] = (unsigned char)verify;
	out_tlv(o, PP2_TYPE_SSL, head, sizeof(head));
	out_str(o, PP2_SUBTYPE_SSL_VERSION, t->version);
	if (t->cert_conn)
		out_str(o, PP2_SUBTYPE_SSL_CN, t->cn);
	out_str(o, PP2_SUBTYPE_SSL_CIPHER, t->cipher);
	if (o->full)
		return;
	vlen = o->len - at - 3;		/* the sub-TLVs are its value */
	if (vlen > 0xffff) {
		o->full = 1;
		return;
	}
	o->b[at + 1] = (unsigned char)(vlen >> 8);
	o->b[at + 2] = (unsigned char)vlen;
}

/* The family byte and the address block. */
static void
out_addrs(struct pp_out *o, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst)
{
	unsigned char fam = PP2_FAM_UNSPEC;

	if (same_ip_family(src, dst))
		fam = src->ss_family == AF_INET ? PP2_FAM_TCP4 : PP2_FAM_TCP6;
	out_put(o, &fam, 1);
	out_put(o, "\0\0", 2);		/* the length, set at the end */
	if (fam == PP2_FAM_TCP4) {
		const struct sockaddr_in *s = (const void *)src;
		const struct sockaddr_in *d = (const void *)dst;

		out_put(o, &s->sin_addr, 4);
		out_put(o, &d->sin_addr, 4);
		out_put(o, &s->sin_port, 2);
		out_put(o, &d->sin_port, 2);
	} else if (fam == PP2_FAM_TCP6) {
		const struct sockaddr_in6 *s = (const void *)src;
		const struct sockaddr_in6 *d = (const void *)dst;

		out_put(o, &s->sin6_addr, 16);
		out_put(o, &d->sin6_addr, 16);
		out_put(o, &s->sin6_port, 2);
		out_put(o, &d->sin6_port, 2);
	}
}

size_t
pp_encode_v2(const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, const struct pp_tls *tls,
    unsigned char *buf, size_t len)
{
	struct pp_out o = { buf, 0, len, 0 };
	unsigned char vc = 0x20 | PP2_CMD_PROXY;
	size_t blen;

	out_put(&o, pp_v2_sig, sizeof(pp_v2_sig));
	out_put(&o, &vc, 1);
	out_addrs(&o, src, dst);
	if (tls != NULL) {
		if (tls->alpn != NULL && tls->alpn_len > 0)
			out_tlv(&o, PP2_TYPE_ALPN, tls->alpn, tls->alpn_len);
		out_str(&o, PP2_TYPE_AUTHORITY, tls->sni);
		out_ssl(&o, tls);
	}
	if (o.full || o.len - PP_V2_FIXED > 0xffff)
		return 0;
	blen = o.len - PP_V2_FIXED;
	buf[14] = (unsigned char)(blen >> 8);
	buf[15] = (unsigned char)blen;
	return o.len;
}
