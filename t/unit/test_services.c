/*
 * test_services.c - services.cf's forward column (common/services.c):
 * one target, "-", and comma-separated lists of targets, each parsed as
 * a target of its own; malformed lists are errors. Table-driven.
 *
 * Runs in: "make check" (TAP).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services.h"
#include "tap.h"
#include "util.h"

static const struct {
	const char	*line;		/* one services.cf entry */
	const char	*want;		/* targets "KIND:TEXT|...", or the
					 * error's tail when it starts
					 * with "!" */
} cases[] = {
	{ "a 127.0.0.1:0 server 127.0.0.1:80", "inet:127.0.0.1:80" },
	{ "a 127.0.0.1:0 server app.example:http", "inet:app.example:http" },
	{ "a 127.0.0.1:0 server unix:/run/a.sock", "unix:unix:/run/a.sock" },
	{ "a unix:/x control -", "" },
	{ "a 127.0.0.1:0 server a.example:80,b.example:81",
	    "inet:a.example:80|inet:b.example:81" },
	{ "a 127.0.0.1:0 client [::1]:443,127.0.0.1:443,unix:rel.sock",
	    "inet:[::1]:443|inet:127.0.0.1:443|unix:unix:rel.sock" },
	{ "a 127.0.0.1:0 server a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8",
	    "inet:a:1|inet:b:2|inet:c:3|inet:d:4|inet:e:5|inet:f:6|"
	    "inet:g:7|inet:h:8" },
	{ "a 127.0.0.1:0 server a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9",
	    "!at most 8 forward targets" },
	{ "a 127.0.0.1:0 server a:1,", "!an empty target" },
	{ "a 127.0.0.1:0 server ,a:1", "!an empty target" },
	{ "a 127.0.0.1:0 server a:1,,b:2", "!an empty target" },
	{ "a 127.0.0.1:0 server -,a:1", "!\"-\" stands alone" },
	{ "a 127.0.0.1:0 server a:1,systemd",
	    "!\"systemd\" is a listen address, not a forward target" },
	{ "a 127.0.0.1:0 server a:1,b", "!bad address \"b\" (want host:port, "
	    "[IPv6]:port or unix:path)" },
	{ "a unix:/x control a:1,b:2",
	    "!a control service forwards nowhere: use \"-\" as its forward "
	    "target" },
};

/* "KIND:TEXT|..." of the parsed targets. */
static char *
targets(const struct service *svc)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < svc->nfwds; i++)
		buf_addf(&b, "%s%s:%s", i ? "|" : "",
		    svc->fwds[i].kind == SVC_ADDR_UNIX ? "unix" : "inet",
		    svc->fwds[i].text);
	return b.data != NULL ? buf_take(&b) : xstrdup("");
}

int
main(void)
{
	struct services svcs;
	char err[512], *got;
	const char *tail;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].want[0] == '!') {
			ok(services_parse(cases[i].line, "s.cf", "/etc/tw",
			    &svcs, err, sizeof(err)) < 0, "refused: %s",
			    cases[i].line);
			tail = strlen(err) >= strlen(cases[i].want + 1) ?
			    err + strlen(err) - strlen(cases[i].want + 1) : err;
			is_str(tail, cases[i].want + 1, "... with its reason");
			continue;
		}
		if (!ok(services_parse(cases[i].line, "s.cf", "/etc/tw", &svcs,
		    err, sizeof(err)) == 0, "parsed: %s", cases[i].line)) {
			diag("%s", err);
			continue;
		}
		got = targets(&svcs.v[0]);
		is_str(got, cases[i].want, "... its targets");
		if (svcs.v[0].nfwds > 0) {
			is_str(svcs.v[0].forward.text, cases[i].line +
			    strlen(cases[i].line) - strlen(svcs.v[0].forward.text),
			    "... the forward column is the whole list");
			ok(strcmp(svcs.v[0].forward.host != NULL ?
			    svcs.v[0].forward.host : svcs.v[0].forward.path,
			    svcs.v[0].fwds[0].host != NULL ?
			    svcs.v[0].fwds[0].host : svcs.v[0].fwds[0].path)
			    == 0, "... and names the first target's host");
		}
		if (strstr(cases[i].line, "rel.sock") != NULL)
			is_str(svcs.v[0].fwds[2].path, "/etc/tw/rel.sock",
			    "... a relative unix: path is under the directory");
		free(got);
		services_fini(&svcs);
	}
	return done();
}
