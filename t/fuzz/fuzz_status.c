/*
 * fuzz_status.c - libFuzzer target for the admin socket's texts: the
 * status reply as the CLI reads and prints it (cli/status_fmt.c, text
 * and JSON), and the %XX encoding both sides use (common/util.c:
 * buf_add_pct, pct_decode), with its round trip as an invariant.
 *
 * Runs in: a fuzzing build only (clang -fsanitize=fuzzer,address);
 * t/56-status-fuzz.t builds it and runs it for a bounded time, with
 * -close_fd_mask=3: what it prints goes nowhere.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status_fmt.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* pct_decode(buf_add_pct(s)) == s for any s without NUL, and the
 * encoding has no space or newline (the fields' and records' separators). */
static void
pct_round_trip(const char *s)
{
	struct buf b;

	buf_init(&b);
	buf_add_pct(&b, s);
	if (b.data != NULL && (strpbrk(b.data, " \n") != NULL ||
	    strcmp(pct_decode(b.data), s) != 0))
		abort();
	buf_fini(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	char *copy = xstrdup(text);

	pct_round_trip(text);
	(void)status_print(text, (size & 1) ? STATUS_JSON : STATUS_TEXT);
	pct_decode(copy);
	free(copy);
	free(text);
	return 0;
}
