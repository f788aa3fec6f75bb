/*
 * fuzz_pfproto.c - libFuzzer target for the tlsproxy(8) protocol codec
 * (daemon/worker/pfattr.c, daemon/worker/pfproto.c): pfa_scan and pfp_request over any
 * bytes, and the invariants the daemon relies on afterwards; every
 * accepted list written back by the writers scans to the same list.
 *
 * Runs in: a fuzzing build only (clang -fsanitize=fuzzer,address);
 * t/98-pfproto-fuzz.t builds and runs it for a bounded time.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pfattr.h"
#include "pfproto.h"

static void
check_text(const char *s)
{
	size_t n = strnlen(s, PFP_TEXT_MAX + 1);

	if (n > PFP_TEXT_MAX)
		abort();
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			abort();
}

/* A scanned list lies inside the input, and writing it again gives the
 * same bytes. */
static void
check_list(const char *buf, size_t used, const struct pfa_list *l)
{
	struct buf b;
	size_t i;

	if (used == 0 || l->n > PFA_LIST_MAX)
		abort();
	buf_init(&b);
	for (i = 0; i < l->n; i++) {
		if (l->v[i].name < buf || l->v[i].value >= buf + used ||
		    strlen(l->v[i].name) > PFA_NAME_MAX ||
		    strlen(l->v[i].value) > PFA_VALUE_MAX)
			abort();
		pfa_put_str(&b, l->v[i].name, l->v[i].value);
	}
	pfa_end(&b);
	if (b.len != used || memcmp(b.data, buf, used) != 0)
		abort();
	buf_fini(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct pfa_list l;
	struct pfp_req r;
	size_t used = 0;
	char why[256];

	if (pfa_scan(buf, size, &l, &used, why, sizeof(why)) == 1) {
		if (used > size)
			abort();
		check_list(buf, used, &l);
	}
	used = 0;
	if (pfp_request(buf, size, &used, &r, why, sizeof(why)) == 1) {
		if (used > size || r.handshake_s == 0 || r.session_s == 0 ||
		    r.handshake_s > PFP_TIMEOUT_MAX ||
		    r.session_s > PFP_TIMEOUT_MAX)
			abort();
		check_text(r.endpoint);
		check_text(r.serverid);
	}
	return 0;
}
