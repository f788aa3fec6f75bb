/*
 * test_jsonw.c - daemon/worker/jsonw.c: JSON strings from hostile bytes
 * (escapes, UTF-8 kept or replaced) and the bound (a cut string is
 * still a whole JSON string, never longer than allowed).
 *
 * Runs in: "make check" (TAP).
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "jsonw.h"
#include "tap.h"

static const struct {
	const char	*in;
	const char	*want;
} cases[] = {
	{ "plain", "\"plain\"" },
	{ "", "\"\"" },
	{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
	{ "line\nnext\r\t", "\"line\\nnext\\u000d\\u0009\"" },
	{ "\001\033\177", "\"\\u0001\\u001b\\u007f\"" },
	{ "caf\303\251", "\"caf\303\251\"" },		/* U+00E9 kept */
	{ "\342\202\254", "\"\342\202\254\"" },		/* U+20AC kept */
	{ "\360\237\230\200", "\"\360\237\230\200\"" },	/* U+1F600 kept */
	{ "x\377y", "\"x\\ufffdy\"" },			/* not UTF-8 */
	{ "\300\200", "\"\\ufffd\\ufffd\"" },		/* overlong NUL */
	{ "\355\240\200", "\"\\ufffd\\ufffd\\ufffd\"" },	/* surrogate */
	{ "\364\220\200\200", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
	{ "\303", "\"\\ufffd\"" },			/* cut sequence */
	{ "\303(", "\"\\ufffd(\"" },
};

/* 1 if s is exactly one JSON string: quotes, valid escapes, no raw
 * control bytes. */
static int
whole_string(const char *s)
{
	size_t n = strlen(s), i, k;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return 0;
	for (i = 1; i < n - 1; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == '"')
			return 0;
		if (s[i] != '\\')
			continue;
		if (i + 1 >= n - 1)
			return 0;
		if (strchr("\"\\n", s[i + 1]) != NULL) {
			i++;
			continue;
		}
		if (s[i + 1] != 'u' || i + 5 >= n - 1)
			return 0;
		for (k = 2; k < 6; k++)
			if (!isxdigit((unsigned char)s[i + k]))
				return 0;
		i += 5;
	}
	return 1;
}

int
main(void)
{
	const char *hostile = "a\"b\\c\001\303\251\377\342\202\254z\"\"\\";
	char buf[256], small[8];
	size_t i, off, max, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		off = 0;
		jsonw_string(buf, sizeof(buf), &off, cases[i].in, 200);
		is_str(buf, cases[i].want, "case %zu", i);
		is_int((long long)off, (long long)strlen(buf), "case %zu: "
		    "offset", i);
	}
	off = 0;
	jsonw_string(buf, sizeof(buf), &off, NULL, 200);
	is_str(buf, "null", "NULL is null");

	/* every bound: a whole string of at most max bytes */
	len = strlen(hostile);
	for (max = 2; max < 4 * len; max++) {
		memset(buf, 'X', sizeof(buf));
		off = 0;
		jsonw_string(buf, sizeof(buf), &off, hostile, max);
		if (!ok(whole_string(buf) && off <= max && off == strlen(buf),
		    "bound %zu: a whole string within it", max))
			printf("# got %s (%zu bytes)\n", buf, off);
	}
	/* the buffer's own size bounds it too, after what is there */
	memcpy(small, "ab", 3);
	off = 2;
	jsonw_string(small, sizeof(small), &off, "xyz\"w", 100);
	is_str(small, "ab\"xyz\"", "the buffer's end: cut, closed, NUL");
	off = 6;
	jsonw_string(small, sizeof(small), &off, "x", 100);
	is_int((long long)off, 6, "no room for two bytes: nothing");
	return done();
}
