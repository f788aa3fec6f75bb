/*
 * fuzz_handoff.c - libFuzzer target for the hand-off request parser
 * (daemon/worker/control.c): ctl_req_end and ctl_req_parse over any bytes, and
 * the invariants the daemon relies on afterwards.
 *
 * Runs in: a fuzzing build only (clang -fsanitize=fuzzer,address);
 * t/95-handoff-fuzz.t builds and runs it for a bounded time.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

/* Every string of an accepted request is printable ASCII. */
static void
check_str(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max)
		abort();
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			abort();
}

static void
check_accepted(const struct ctl_req *req)
{
	size_t i;

	check_str(req->peer, CTL_PEER_MAX);
	check_str(req->profile, CTL_PROFILE_MAX);
	check_str(req->servername, CTL_HOST_MAX);
	if (req->peer[0] == '\0' || req->nfpt > CTL_FPT_MAX)
		abort();
	for (i = 0; i < req->nfpt; i++)
		check_str(req->fpt[i], CTL_FPT_LEN);
	if (req->role == CTL_ROLE_SERVER && (req->level != CTL_LEVEL_DEFAULT ||
	    req->nfpt != 0 || req->servername[0] != '\0'))
		abort();
	if ((req->level == CTL_LEVEL_FINGERPRINT) != (req->nfpt > 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_req req;
	char why[512], answer[CTL_LINE_MAX + 64];
	enum ctl_refusal r;
	ssize_t end, n;

	end = ctl_req_end((const char *)data, size);
	if (end > (ssize_t)size || end > CTL_REQUEST_MAX)
		abort();
	/* The whole input, as the daemon never passes it, and the part
	 * ctl_req_end delimits, as it does. */
	r = ctl_req_parse((const char *)data, size, &req, why, sizeof(why));
	if (r == CTL_OK)
		check_accepted(&req);
	if (end > 0) {
		r = ctl_req_parse((const char *)data, (size_t)end, &req, why,
		    sizeof(why));
		if (r == CTL_OK)
			check_accepted(&req);
		n = ctl_answer_fmt(answer, sizeof(answer), r, why);
		if (n <= 0 || (size_t)n >= sizeof(answer) ||
		    answer[n - 1] != '\n' || memchr(answer, '\n',
		    (size_t)n - 1) != NULL)
			abort();
	}
	return 0;
}
