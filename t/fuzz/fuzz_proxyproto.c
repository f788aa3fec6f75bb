/*
 * fuzz_proxyproto.c - libFuzzer target for the PROXY protocol codec
 * (daemon/worker/proxyproto.c): pp_parse over any bytes with every
 * accept mask, and the invariants evpp.c relies on: a header's length
 * never exceeds what was given or PP_MAX, the same bytes give the same
 * answer whatever follows them, a proper prefix of a header asks for
 * more, and a header's addresses encoded again (v1 and v2) parse back to
 * themselves.
 *
 * Runs in: a fuzzing build only (clang -fsanitize=fuzzer,address);
 * t/58-proxyproto-fuzz.t builds and runs it for a bounded time.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"

static void
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	size_t n = a->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);

	if (a->ss_family != b->ss_family || memcmp(a, b, n) != 0)
		abort();
}

/* The addresses of h, encoded and parsed again. */
static void
round_trip(const struct pp_hdr *h)
{
	unsigned char out[PP_OUT_MAX];
	char line[PP_V1_MAX + 1], why[160];
	struct pp_hdr h2;
	size_t n;

	n = pp_encode_v1(&h->src, &h->dst, line, sizeof(line));
	if (n == 0 || pp_parse((unsigned char *)line, n, PP_ACCEPT_V1, &h2,
	    why, sizeof(why)) != (int)n || h2.local)
		abort();
	same_addr(&h->src, &h2.src);
	same_addr(&h->dst, &h2.dst);
	n = pp_encode_v2(&h->src, &h->dst, NULL, out, sizeof(out));
	if (n == 0 || pp_parse(out, n, PP_ACCEPT_V2, &h2, why,
	    sizeof(why)) != (int)n || h2.local)
		abort();
	same_addr(&h->src, &h2.src);
	same_addr(&h->dst, &h2.dst);
}

static void
one(const unsigned char *data, size_t size, unsigned accept)
{
	struct pp_hdr h, h2;
	char why[160];
	int rc;

	rc = pp_parse(data, size, accept, &h, why, sizeof(why));
	if (rc < -1 || rc > (int)size || rc > PP_MAX)
		abort();
	if (rc < 0 && (why[0] == '\0' || strlen(why) >= sizeof(why)))
		abort();
	if (rc <= 0)
		return;
	if (h.version != 1 && h.version != 2)
		abort();
	/* the header alone: the same length; one byte less: wait */
	if (pp_parse(data, (size_t)rc, accept, &h2, why, sizeof(why)) != rc ||
	    pp_parse(data, (size_t)rc - 1, accept, &h2, why,
	    sizeof(why)) != 0)
		abort();
	if (!h.local)
		round_trip(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, PP_ACCEPT_V1);
	one(data, size, PP_ACCEPT_V2);
	one(data, size, PP_ACCEPT_V1 | PP_ACCEPT_V2);
	return 0;
}
