/*
 * test_pfproto.c - the tlsproxy(8) protocol codec (daemon/worker/pfattr.c,
 * daemon/worker/pfproto.c): the bytes of the greeting and status as postscreen
 * expects them, the request postscreen sends (observed transcript), every
 * prefix of it incomplete, and the malformed ones refused with a reason.
 *
 * Runs in: the test suite.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pfattr.h"
#include "pfproto.h"
#include "tap.h"

/* postscreen's request, as observed on the wire (Postfix 3.7.11). */
static const char ps_req[] = "remote_endpoint\0[127.0.0.1]:44554\0flags\0"
    "1\0timeout\0" "300\0timeout\0" "300\0serverid\0smtpd\0";
#define PS_REQ_LEN	(sizeof(ps_req))	/* with the terminator */

static void
is_bytes(const struct buf *b, const char *want, size_t n, const char *name)
{
	ok(b->len == n && memcmp(b->data, want, n) == 0, "%s (%zu bytes, "
	    "want %zu)", name, b->len, n);
}

static void
test_writers(void)
{
	struct buf b;

	buf_init(&b);
	pfp_greeting(&b);
	is_bytes(&b, "protocol\0tlsproxy_protocol\0", 28, "greeting bytes");
	buf_fini(&b);
	buf_init(&b);
	pfp_status(&b, 1);
	is_bytes(&b, "status\0" "1\0", 10, "status 1 bytes");
	buf_fini(&b);
	buf_init(&b);
	pfp_status(&b, 0);
	is_bytes(&b, "status\0" "0\0", 10, "status 0 bytes");
	buf_fini(&b);
}

static void
test_request(void)
{
	struct pfp_req r;
	char why[256];
	size_t used = 0, i;
	int rc;

	rc = pfp_request(ps_req, PS_REQ_LEN, &used, &r, why, sizeof(why));
	is_int(rc, 1, "postscreen's request parses");
	is_int((long long)used, PS_REQ_LEN, "... all %zu bytes", PS_REQ_LEN);
	is_str(r.endpoint, "[127.0.0.1]:44554", "remote_endpoint");
	is_int(r.flags, 1, "flags");
	ok(r.handshake_s == 300 && r.session_s == 300, "both timeouts");
	is_str(r.serverid, "smtpd", "serverid");
	for (i = 0, rc = 0; i < PS_REQ_LEN && rc == 0; i++)
		rc = pfp_request(ps_req, i, &used, &r, why, sizeof(why));
	is_int(rc, 0, "every shorter prefix is incomplete (stopped at %zu)",
	    i);
}

/* A request built from NUL-separated text: "|" stands for NUL. */
static int
req_of(const char *text, char *why, size_t whylen)
{
	char buf[512];
	struct pfp_req r;
	size_t n = strlen(text), i, used;

	for (i = 0; i < n; i++)
		buf[i] = text[i] == '|' ? '\0' : text[i];
	return pfp_request(buf, n, &used, &r, why, whylen);
}

static void
test_malformed(void)
{
	static const struct {
		const char	*req, *why;
	} c[] = {
		{ "flags|1|remote_endpoint|x|timeout|1|timeout|1|serverid|s||",
		  "unexpected attribute flags (expecting remote_endpoint)" },
		{ "remote_endpoint|x|flags|1|timeout|1|serverid|s||",
		  "unexpected attribute serverid (expecting timeout)" },
		{ "remote_endpoint|x|flags|1|timeout|1|timeout|1||",
		  "missing attribute serverid" },
		{ "remote_endpoint|x|flags|1|timeout|1|timeout|1|serverid|s|"
		  "extra|1||", "extra attribute extra" },
		{ "remote_endpoint|x|flags|-1|timeout|1|timeout|1|serverid|s||",
		  "attribute flags: \"-1\" is not a number" },
		{ "remote_endpoint|x|flags|1x|timeout|1|timeout|1|serverid|s||",
		  "attribute flags: \"1x\" is not a number" },
		{ "remote_endpoint|x|flags|1|timeout|0|timeout|1|serverid|s||",
		  "attribute timeout: \"0\" is not a number of seconds from 1 "
		  "to 86400" },
		{ "remote_endpoint|x|flags|1|timeout|1|timeout|86401|serverid|"
		  "s||", "attribute timeout: \"86401\" is not a number of "
		  "seconds from 1 to 86400" },
		{ "remote-endpoint|x||", "malformed attribute name" },
		{ "remote_endpoint|\x01|flags|1|timeout|1|timeout|1|serverid|"
		  "s||", "attribute remote_endpoint: not printable ASCII" },
	};
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		why[0] = '\0';
		is_int(req_of(c[i].req, why, sizeof(why)), -1,
		    "malformed %zu refused", i);
		is_str(why, c[i].why, "... because: %s", c[i].why);
	}
}

static void
test_limits(void)
{
	size_t n = PFA_NAME_MAX + 2, used;
	char *big = malloc(PFA_VALUE_MAX + 64), why[256];
	struct pfa_list l;

	memset(big, 'a', n);
	is_int(pfa_scan(big, n, &l, &used, why, sizeof(why)), -1,
	    "a name over %d bytes without its NUL is refused at once",
	    PFA_NAME_MAX);
	memcpy(big, "n\0", 2);
	memset(big + 2, 'v', PFA_VALUE_MAX + 1);
	is_int(pfa_scan(big, PFA_VALUE_MAX + 3, &l, &used, why, sizeof(why)),
	    -1, "a value over %d bytes is refused at once", PFA_VALUE_MAX);
	for (n = 0; n < PFA_LIST_MAX + 1; n++)
		memcpy(big + 4 * n, "a\0b\0", 4);
	is_int(pfa_scan(big, 4 * n, &l, &used, why, sizeof(why)), -1,
	    "more than %d attributes are refused", PFA_LIST_MAX);
	is_str(why, "more than 64 attributes", "... and said so");
	free(big);
}

static void
test_context(void)
{
	struct pfp_ctx c = { "", "", "", "", 0, 0, "TLSv1.3",
	    "TLS_AES_256_GCM_SHA384", 256, 256, "X25519", "", 0, "", "", 0,
	    "", "RSA-PSS", "", 2048, "SHA256", "[127.0.0.1]:57822" };
	struct pfa_list l;
	struct buf b;
	size_t used;
	char why[128];

	buf_init(&b);
	pfp_context(&b, &c);
	is_int(pfa_scan(b.data, b.len, &l, &used, why, sizeof(why)), 1,
	    "the context is one list");
	is_int((long long)l.n, 22, "of 22 attributes");
	ok(strcmp(l.v[0].name, "peer_CN") == 0 && strcmp(l.v[5].name,
	    "peer_status") == 0 && strcmp(l.v[21].name, "namaddr") == 0,
	    "in Postfix's order");
	is_str(l.v[8].value, "256", "cipher_usebits as decimal");
	is_str(l.v[19].value, "2048", "srvr_signature_bits as decimal");
	is_int((long long)used, (long long)b.len, "nothing after the list");
	buf_fini(&b);
}

int
main(void)
{
	test_writers();
	test_request();
	test_malformed();
	test_limits();
	test_context();
	return done();
}
