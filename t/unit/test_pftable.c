/*
 * test_pftable.c - Postfix lookup tables (common/pftable.c: inline: and
 * texthash: as Postfix reads them, keys folded, the first of two entries
 * kept) and host name syntax (common/hostname.c: Postfix's
 * valid_hostname rules), table-driven.
 *
 * Runs in: "make check" (TAP).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostname.h"
#include "pftable.h"
#include "tap.h"
#include "util.h"

static const struct {
	const char	*name;
	int		 valid;
} host_cases[] = {
	{ "a.example.com", 1 },
	{ "A.Example.COM", 1 },
	{ "localhost", 1 },
	{ "_dmarc.example.com", 1 },
	{ "xn--bcher-kva.example", 1 },
	{ "a-b.example", 1 },
	{ "1a.example", 1 },
	{ "example.com.", 0 },		/* Postfix: misplaced delimiter */
	{ ".example.com", 0 },
	{ "a..example.com", 0 },
	{ "-a.example.com", 0 },
	{ "a-.example.com", 0 },
	{ "*.example.com", 0 },
	{ "a b.example", 0 },
	{ "192.0.2.1", 0 },		/* numeric */
	{ "", 0 },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x",
	  1 },				/* 63 */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x",
	  0 },				/* 64 */
};

/* "key=val@origin;" for each entry, then "|" and the problems. */
struct got {
	struct buf	 b;
	struct buf	 problems;
};

static void
collect(int is_error, const char *msg, void *arg)
{
	struct got *g = arg;

	buf_addf(&g->problems, "%s%s;", is_error ? "E:" : "W:", msg);
}

static char *
render(const struct pft *t, struct got *g, int errors)
{
	size_t i;

	buf_init(&g->b);
	for (i = 0; i < t->n; i++)
		buf_addf(&g->b, "%s=%s@%s;", t->v[i].key, t->v[i].val,
		    t->v[i].origin);
	buf_addf(&g->b, "|%d|%s", errors, g->problems.data ?
	    g->problems.data : "");
	buf_fini(&g->problems);
	return buf_take(&g->b);
}

static const struct {
	const char	*text;		/* after "inline:" */
	const char	*want;
} inline_cases[] = {
	{ "{a.example=/x.pem}", "a.example=/x.pem@inline: entry 1 "
	  "(\"a.example\");|0|" },
	{ "{ A.Example = /x.pem , b=y }", "|1|E:inline: entry 1 "
	  "(\"A.Example\"): missing '=' (write { name = value } when there "
	  "is white space or a comma in it);" },
	{ "{ {A.Example = /x.pem, /y.pem}, b=y }", "a.example=/x.pem, "
	  "/y.pem@inline: entry 1 (\"A.Example\");b=y@inline: entry 2 "
	  "(\"b\");|0|" },
	{ "{a=1,a=2}", "a=1@inline: entry 1 (\"a\");|0|W:inline: entry 2 "
	  "(\"a\"): duplicate entry \"a\" ignored: the one at inline: entry "
	  "1 (\"a\") is used;" },
	{ "{}", "|1|E:inline:{}: empty table;" },
	{ "{ }", "|1|E:inline:{ }: empty table;" },
	{ "a=b", "|1|E:inline:a=b: want inline:{ name=value, ... };" },
	{ "{a=b", "|1|E:inline:{a=b: want inline:{ name=value, ... };" },
	{ "{=b}", "|1|E:inline: entry 1 (\"=b\"): missing name before "
	  "'=';" },
	{ "{{a=b}x}", "|1|E:inline: entry 1: text after '}';" },
	{ "{a={b}}", "a={b}@inline: entry 1 (\"a\");|0|" },
};

static const struct {
	const char	*data;
	const char	*want;
} text_cases[] = {
	{ "a.example /x.pem\n", "a.example=/x.pem@f:1;|0|" },
	{ "# comment\n\n  # indented comment\nB.example\t/x.pem, /y.pem\n",
	  "b.example=/x.pem, /y.pem@f:4;|0|" },
	{ "c.example /x.pem,\n  /y.pem\n\td.example\n",
	  "c.example=/x.pem, /y.pem d.example@f:1;|0|" },
	{ "e.example\n", "|1|E:f:1: want \"key whitespace value\";" },
	{ "e.example   \nf.example /z\n", "f.example=/z@f:2;|1|E:f:1: want "
	  "\"key whitespace value\";" },
	{ "  /cont\ng /z", "g=/z@f:2;|1|E:f:1: a continuation line without "
	  "an entry before it;" },
	{ "h /1\nH /2\n", "h=/1@f:1;|0|W:f:2: duplicate entry \"h\" "
	  "ignored: the one at f:1 is used;" },
	{ "", "|0|" },
};

static const struct {
	const char	*list;
	int		 n;
	const char	*second;	/* the second table, or NULL */
} split_cases[] = {
	{ "texthash:/a", 1, NULL },
	{ "texthash:/a, inline:{a=b, {c = d}}", 2, "inline:{a=b, {c = d}}" },
	{ "inline:{a=b} texthash:/x", 2, "texthash:/x" },
	{ "inline:{a=b", -1, NULL },
	{ "inline:a=b}", -1, NULL },
	{ "  ", 0, NULL },
};

int
main(void)
{
	struct got g;
	struct pft t;
	char why[128], *got, **tab;
	size_t i;
	int n, errors;

	for (i = 0; i < sizeof(host_cases) / sizeof(host_cases[0]); i++)
		is_int(hostname_valid(host_cases[i].name, why, sizeof(why)),
		    host_cases[i].valid, "hostname_valid(\"%s\")",
		    host_cases[i].name);
	for (i = 0; i < sizeof(inline_cases) / sizeof(inline_cases[0]); i++) {
		pft_init(&t);
		buf_init(&g.problems);
		errors = pft_inline_parse(&t, inline_cases[i].text, collect,
		    &g);
		got = render(&t, &g, errors);
		is_str(got, inline_cases[i].want, "inline:%s",
		    inline_cases[i].text);
		free(got);
		pft_fini(&t);
	}
	for (i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++) {
		pft_init(&t);
		buf_init(&g.problems);
		errors = pft_text_parse(&t, "f", text_cases[i].data,
		    strlen(text_cases[i].data), collect, &g);
		got = render(&t, &g, errors);
		is_str(got, text_cases[i].want, "texthash case %zu", i + 1);
		free(got);
		pft_fini(&t);
	}
	pft_init(&t);
	buf_init(&g.problems);
	errors = pft_text_parse(&t, "f", "a\0b c\n", 6, collect, &g);
	got = render(&t, &g, errors);
	is_str(got, "|1|E:f: a NUL byte: not a text file;", "texthash: NUL");
	free(got);
	for (i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
		n = pft_split(split_cases[i].list, &tab, why, sizeof(why));
		is_int(n, split_cases[i].n, "pft_split(\"%s\"): count",
		    split_cases[i].list);
		if (split_cases[i].second != NULL && n >= 2)
			is_str(tab[1], split_cases[i].second,
			    "pft_split(\"%s\"): second table",
			    split_cases[i].list);
		if (n > 0)
			pft_split_free(tab, n);
	}
	return done();
}
