/*
 * test_proxyproto.c - the PROXY protocol codec (daemon/worker/
 * proxyproto.c): valid v1 and v2 headers parse to the right addresses
 * and lengths, every proper prefix of them asks for more, the bytes after
 * a header are never counted, and malformed, truncated-then-wrong and
 * oversized headers are refused; the encoders' bytes, decoded back.
 *
 * Runs in: the test suite.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "proxyproto.h"
#include "tap.h"

#define BOTH	(PP_ACCEPT_V1 | PP_ACCEPT_V2)

static const unsigned char sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static const char *
addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		port = ntohs(s->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		port = ntohs(s->sin6_port);
	}
	snprintf(buf, len, "[%s]:%u", a, port);
	return buf;
}

/* Every proper prefix of a valid header needs more. */
static void
prefixes(const unsigned char *b, size_t n, const char *name)
{
	struct pp_hdr h;
	char why[128];
	size_t k;
	int bad = 0;

	for (k = 0; k < n; k++)
		if (pp_parse(b, k, BOTH, &h, why, sizeof(why)) != 0)
			bad++;
	is_int(bad, 0, "%s: every proper prefix asks for more", name);
}

static void
test_v1(void)
{
	static const char *good[][3] = {
		{ "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n",
		    "[192.0.2.7]:56324", "[198.51.100.1]:443" },
		{ "PROXY TCP6 2001:db8::7 2001:db8::1 65535 0\r\n",
		    "[2001:db8::7]:65535", "[2001:db8::1]:0" },
		{ "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
		    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
		    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
		    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" },
	};
	unsigned char buf[256];
	struct pp_hdr h;
	char why[128], t[80];
	size_t i, n;
	int rc;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		n = strlen(good[i][0]);
		memcpy(buf, good[i][0], n);
		memcpy(buf + n, "\x16\x03\x01", 3);	/* a ClientHello */
		rc = pp_parse(buf, n + 3, BOTH, &h, why, sizeof(why));
		is_int(rc, (long long)n, "v1 %zu: length without what follows",
		    i);
		is_int(h.version, 1, "v1 %zu: version", i);
		is_int(h.local, 0, "v1 %zu: not local", i);
		is_str(addr_text(&h.src, t, sizeof(t)), good[i][1],
		    "v1 %zu: source", i);
		is_str(addr_text(&h.dst, t, sizeof(t)), good[i][2],
		    "v1 %zu: destination", i);
		prefixes(buf, n, "v1");
	}
	rc = pp_parse((const unsigned char *)"PROXY UNKNOWN\r\n", 15, BOTH,
	    &h, why, sizeof(why));
	ok(rc == 15 && h.local == 1, "v1 UNKNOWN: local, 15 bytes (%d)", rc);
	rc = pp_parse((const unsigned char *)"PROXY UNKNOWN ffff::1 x 1 2\r\n",
	    29, BOTH, &h, why, sizeof(why));
	ok(rc == 29 && h.local == 1, "v1 UNKNOWN with ignored fields (%d)",
	    rc);
}

static void
test_v1_bad(void)
{
	static const char *bad[] = {
		"GET / HTTP/1.1\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 56324\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443 9\r\n",
		"PROXY TCP4 192.0.2.07 198.51.100.1 56324 443\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 056324 443\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 65536 443\r\n",
		"PROXY TCP4 2001:db8::1 198.51.100.1 1 443\r\n",
		"PROXY TCP6 192.0.2.7 2001:db8::1 1 443\r\n",
		"PROXY TCP4  192.0.2.7 198.51.100.1 1 443\r\n",
		"PROXY UDP4 192.0.2.7 198.51.100.1 1 443\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 1 443\rX",
		"PROXY TCP4 192.0.2.7\n198.51.100.1 1 443\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 1 -443\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 1 443 \r\n",
		"PROXYTCP4 192.0.2.7 198.51.100.1 1 443\r\n",
		"proxy TCP4 192.0.2.7 198.51.100.1 1 443\r\n",
	};
	char line[200], why[128];
	struct pp_hdr h;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = pp_parse((const unsigned char *)bad[i], strlen(bad[i]),
		    BOTH, &h, why, sizeof(why));
		is_int(rc, -1, "v1 bad %zu refused (%s)", i, why);
	}
	/* No CRLF within 107 bytes: refused at 107, not waited for. */
	memset(line, 'A', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	is_int(pp_parse((const unsigned char *)line, PP_V1_MAX - 1, BOTH, &h,
	    why, sizeof(why)), 0, "v1: 106 bytes without CRLF wait");
	is_int(pp_parse((const unsigned char *)line, PP_V1_MAX, BOTH, &h, why,
	    sizeof(why)), -1, "v1: 107 bytes without CRLF refused");
	is_int(pp_parse((const unsigned char *)line, sizeof(line), BOTH, &h,
	    why, sizeof(why)), -1, "v1: 200 bytes without CRLF refused");
	rc = pp_parse((const unsigned char *)"PROXY UNKNOWN\r\n", 15,
	    PP_ACCEPT_V2, &h, why, sizeof(why));
	is_int(rc, -1, "v1 refused when only v2 is accepted");
	/* Garbage is refused at its first byte, not after a wait. */
	is_int(pp_parse((const unsigned char *)"\x16", 1, BOTH, &h, why,
	    sizeof(why)), -1, "a TLS record instead of a header: refused");
	is_int(pp_parse((const unsigned char *)"PROXX", 5, BOTH, &h, why,
	    sizeof(why)), -1, "a wrong signature byte: refused at once");
	is_int(pp_parse((const unsigned char *)"PROXY T\x01", 8, BOTH, &h,
	    why, sizeof(why)), -1, "a control byte in v1: refused at once");
}

/* A v2 header: command, family, body. */
static size_t
v2(unsigned char *b, unsigned vc, unsigned fam, const void *body,
    size_t blen)
{
	memcpy(b, sig, 12);
	b[12] = (unsigned char)vc;
	b[13] = (unsigned char)fam;
	b[14] = (unsigned char)(blen >> 8);
	b[15] = (unsigned char)blen;
	memcpy(b + 16, body, blen);
	return 16 + blen;
}

/* CRC-32C by table (the codec computes it bit by bit). */
static uint32_t
ref_crc32c(const unsigned char *p, size_t n)
{
	static uint32_t tab[256];
	static int made;
	uint32_t c = 0xffffffff, v;
	size_t i;
	int k;

	for (i = 0; !made && i < 256; i++) {
		for (v = (uint32_t)i, k = 0; k < 8; k++)
			v = v & 1 ? (v >> 1) ^ 0x82f63b78U : v >> 1;
		tab[i] = v;
	}
	made = 1;
	for (i = 0; i < n; i++)
		c = tab[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return ~c;
}

/* A v2 TCP4 header with a PP2_TYPE_CRC32C TLV, checked and not. */
static void
test_v2_crc(void)
{
	static const unsigned char a4[] = { 192, 0, 2, 7, 198, 51, 100, 1,
	    0xdc, 0x04, 0x01, 0xbb,
	    0x03, 0x00, 0x04, 0, 0, 0, 0 };	/* CRC32C, zeros */
	unsigned char b[64];
	struct pp_hdr h;
	char why[128];
	uint32_t crc;
	size_t n;

	is_int(ref_crc32c((const unsigned char *)"123456789", 9),
	    0xe3069283, "CRC-32C reference: the check value of 123456789");
	n = v2(b, 0x21, 0x11, a4, sizeof(a4));
	crc = ref_crc32c(b, n);
	b[n - 4] = (unsigned char)(crc >> 24);
	b[n - 3] = (unsigned char)(crc >> 16);
	b[n - 2] = (unsigned char)(crc >> 8);
	b[n - 1] = (unsigned char)crc;
	is_int(pp_parse(b, n, BOTH, &h, why, sizeof(why)), (long long)n,
	    "v2 with a right CRC32C: accepted");
	b[16] ^= 1;		/* the source address */
	is_int(pp_parse(b, n, BOTH, &h, why, sizeof(why)), -1,
	    "v2 with a CRC32C that does not match: refused (%s)", why);
	b[16] ^= 1;
	b[n - 1] ^= 0x80;	/* the checksum */
	is_int(pp_parse(b, n, BOTH, &h, why, sizeof(why)), -1,
	    "v2 with a wrong CRC32C value: refused");
}

static void
test_v2(void)
{
	static const unsigned char a4[] = { 192, 0, 2, 7, 198, 51, 100, 1,
	    0xdc, 0x04, 0x01, 0xbb,
	    0x04, 0x00, 0x02, 0xaa, 0xbb,	/* NOOP TLV */
	    0x02, 0x00, 0x03, 'a', '.', 'b' };	/* AUTHORITY */
	unsigned char a6[36], b[2048];
	struct pp_hdr h;
	char why[128], t[80];
	size_t n;
	int rc;

	n = v2(b, 0x21, 0x11, a4, sizeof(a4));
	memcpy(b + n, "\x16\x03\x01", 3);
	rc = pp_parse(b, n + 3, BOTH, &h, why, sizeof(why));
	is_int(rc, (long long)n, "v2 TCP4 with TLVs: length %zu", n);
	is_int(h.version, 2, "v2: version");
	is_str(addr_text(&h.src, t, sizeof(t)), "[192.0.2.7]:56324",
	    "v2 TCP4: source");
	is_str(addr_text(&h.dst, t, sizeof(t)), "[198.51.100.1]:443",
	    "v2 TCP4: destination");
	prefixes(b, n, "v2 TCP4");

	memset(a6, 0, sizeof(a6));
	a6[0] = 0x20; a6[1] = 0x01; a6[2] = 0x0d; a6[3] = 0xb8; a6[15] = 7;
	a6[16] = 0x20; a6[17] = 0x01; a6[18] = 0x0d; a6[19] = 0xb8; a6[31] = 1;
	a6[32] = 0x12; a6[33] = 0x34; a6[34] = 0x01; a6[35] = 0xbb;
	n = v2(b, 0x21, 0x21, a6, sizeof(a6));
	rc = pp_parse(b, n, BOTH, &h, why, sizeof(why));
	is_int(rc, (long long)n, "v2 TCP6: length");
	is_str(addr_text(&h.src, t, sizeof(t)), "[2001:db8::7]:4660",
	    "v2 TCP6: source");

	n = v2(b, 0x20, 0x00, "", 0);
	rc = pp_parse(b, n, BOTH, &h, why, sizeof(why));
	ok(rc == 16 && h.local, "v2 LOCAL: 16 bytes, local (%d)", rc);
	n = v2(b, 0x20, 0x11, a4, 12);	/* LOCAL with addresses: skipped */
	rc = pp_parse(b, n, BOTH, &h, why, sizeof(why));
	ok(rc == 28 && h.local, "v2 LOCAL with addresses: skipped (%d)", rc);
	n = v2(b, 0x21, 0x00, "xyz", 3);
	rc = pp_parse(b, n, BOTH, &h, why, sizeof(why));
	ok(rc == 19 && h.local, "v2 PROXY UNSPEC: local (%d)", rc);
	n = v2(b, 0x21, 0x12, a4, 12);
	rc = pp_parse(b, n, BOTH, &h, why, sizeof(why));
	ok(rc == 28 && h.local, "v2 PROXY UDP4: not used (%d)", rc);
}

static void
test_v2_bad(void)
{
	static const unsigned char a4[12] = { 192, 0, 2, 7 };
	unsigned char b[PP_MAX + 64], body[PP_V2_MAX_BODY + 1];
	struct pp_hdr h;
	char why[128];
	size_t n;

	memset(body, 0, sizeof(body));
	n = v2(b, 0x11, 0x11, a4, 12);
	is_int(pp_parse(b, 13, BOTH, &h, why, sizeof(why)), -1,
	    "v2: version 1 refused at byte 13 (%s)", why);
	n = v2(b, 0x22, 0x11, a4, 12);
	is_int(pp_parse(b, n, BOTH, &h, why, sizeof(why)), -1,
	    "v2: command 2 refused");
	n = v2(b, 0x21, 0x41, a4, 12);
	is_int(pp_parse(b, 14, BOTH, &h, why, sizeof(why)), -1,
	    "v2: family 0x41 refused at byte 14");
	n = v2(b, 0x21, 0x11, a4, 11);
	is_int(pp_parse(b, n, BOTH, &h, why, sizeof(why)), -1,
	    "v2 TCP4: address block of 11 bytes refused");
	n = v2(b, 0x21, 0x21, a4, 12);
	is_int(pp_parse(b, n, BOTH, &h, why, sizeof(why)), -1,
	    "v2 TCP6: address block of 12 bytes refused");
	memcpy(body, a4, 12);
	memcpy(body + 12, "\x02\x00\x09" "ab", 5);	/* TLV overruns */
	n = v2(b, 0x21, 0x11, body, 17);
	is_int(pp_parse(b, n, BOTH, &h, why, sizeof(why)), -1,
	    "v2: a TLV longer than the header refused");
	n = v2(b, 0x21, 0x11, body, 14);		/* a cut TLV */
	is_int(pp_parse(b, n, BOTH, &h, why, sizeof(why)), -1,
	    "v2: a truncated TLV header refused");
	n = v2(b, 0x21, 0x11, body, PP_V2_MAX_BODY + 1);
	is_int(pp_parse(b, 16, BOTH, &h, why, sizeof(why)), -1,
	    "v2: a body over %d bytes refused at byte 16", PP_V2_MAX_BODY);
	b[14] = 0xff; b[15] = 0xff;
	is_int(pp_parse(b, 16, BOTH, &h, why, sizeof(why)), -1,
	    "v2: length 65535 refused");
	n = v2(b, 0x21, 0x11, a4, 12);
	b[5] = 0x0c;
	is_int(pp_parse(b, 6, BOTH, &h, why, sizeof(why)), -1,
	    "v2: a wrong signature byte refused at once");
	n = v2(b, 0x21, 0x11, a4, 12);
	is_int(pp_parse(b, n, PP_ACCEPT_V1, &h, why, sizeof(why)), -1,
	    "v2 refused when only v1 is accepted");
}

/* The encoders' bytes, and the parser reading them back. */
static void
test_encode(void)
{
	struct sockaddr_storage src, dst;
	struct sockaddr_in *s = (struct sockaddr_in *)&src;
	struct sockaddr_in *d = (struct sockaddr_in *)&dst;
	struct pp_tls tls;
	unsigned char b[PP_OUT_MAX];
	char line[PP_V1_MAX + 1], why[128], t[80];
	struct pp_hdr h;
	size_t n;
	static const unsigned char want_tlvs[] =
	    "\x01\x00\x02" "h2"
	    "\x02\x00\x0b" "example.org"
	    "\x20\x00\x23" "\x03\x00\x00\x00\x00"
	    "\x21\x00\x07" "TLSv1.3"
	    "\x22\x00\x03" "bob"
	    "\x23\x00\x0b" "TLS_AES_128";

	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	s->sin_family = d->sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &s->sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &d->sin_addr);
	s->sin_port = htons(40000);
	d->sin_port = htons(8443);
	n = pp_encode_v1(&src, &dst, line, sizeof(line));
	is_str(line, "PROXY TCP4 192.0.2.7 127.0.0.1 40000 8443\r\n",
	    "v1 encoded");
	is_int(pp_parse((unsigned char *)line, n, BOTH, &h, why, sizeof(why)),
	    (long long)n, "v1 encoded parses back");
	memset(&tls, 0, sizeof(tls));
	tls.version = "TLSv1.3";
	tls.cipher = "TLS_AES_128";
	tls.cn = "bob";
	tls.sni = "example.org";
	tls.alpn = (const unsigned char *)"h2";
	tls.alpn_len = 2;
	tls.cert_conn = tls.verified = 1;
	n = pp_encode_v2(&src, &dst, &tls, b, sizeof(b));
	is_int((long long)n, 16 + 12 + sizeof(want_tlvs) - 1,
	    "v2 encoded: length");
	ok(memcmp(b, sig, 12) == 0 && b[12] == 0x21 && b[13] == 0x11,
	    "v2 encoded: signature, PROXY, TCP4");
	ok(memcmp(b + 28, want_tlvs, sizeof(want_tlvs) - 1) == 0,
	    "v2 encoded: TLVs byte for byte");
	is_int(pp_parse(b, n, BOTH, &h, why, sizeof(why)), (long long)n,
	    "v2 encoded parses back");
	is_str(addr_text(&h.src, t, sizeof(t)), "[192.0.2.7]:40000",
	    "v2 encoded: source back");
	tls.verified = 0;
	tls.cert_conn = 0;
	n = pp_encode_v2(&src, &dst, &tls, b, sizeof(b));
	ok(n > 0 && b[28 + 5 + 14 + 3] == 0x01 && b[28 + 5 + 14 + 7] == 1,
	    "v2 without a client certificate: PP2_CLIENT_SSL only, verify 1");
	is_int((long long)pp_encode_v2(&src, &dst, &tls, b, 40), 0,
	    "v2 encoding that does not fit: 0");
	dst.ss_family = AF_UNIX;
	n = pp_encode_v1(&src, &dst, line, sizeof(line));
	is_str(line, "PROXY UNKNOWN\r\n", "v1 of mixed families: UNKNOWN");
	n = pp_encode_v2(&src, &dst, NULL, b, sizeof(b));
	ok(n == 16 && b[13] == 0x00, "v2 of mixed families: UNSPEC, 16 bytes");
}

int
main(void)
{
	test_v1();
	test_v1_bad();
	test_v2();
	test_v2_bad();
	test_v2_crc();
	test_encode();
	return done();
}
