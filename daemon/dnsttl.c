/*
 * dnsttl.c - the TTL of a host name's DNS answer (dnsttl.h).
 *
 * Runs in: the privileged supervisor's resolver thread. No state: a
 * resolver state of its own per call, so resolv.conf changes are seen
 * and no other thread's state is touched.
 */
#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dnsttl.h"

#define DNSTTL_MAX	(7L * 24 * 3600)	/* RFC 8767's cap */

long
dnsttl_parse(const unsigned char *msg, size_t len)
{
	ns_msg h;
	ns_rr rr;
	long best = -1, ttl;
	int i, n, t;

	if (len > 65535 || ns_initparse(msg, (int)len, &h) < 0)
		return -1;
	n = ns_msg_count(h, ns_s_an);
	for (i = 0; i < n; i++) {
		if (ns_parserr(&h, ns_s_an, i, &rr) < 0)
			return -1;
		t = ns_rr_type(rr);
		if (ns_rr_class(rr) != ns_c_in ||
		    (t != ns_t_a && t != ns_t_aaaa && t != ns_t_cname))
			continue;
		/* RFC 2181 8: a TTL with the top bit set means 0. */
		ttl = ns_rr_ttl(rr) > 0x7fffffffUL ? 0 : (long)ns_rr_ttl(rr);
		if (ttl > DNSTTL_MAX)
			ttl = DNSTTL_MAX;
		if (best < 0 || ttl < best)
			best = ttl;
	}
	return best;
}

/* The TTL of host's records of type t, or -1. */
static long
query_ttl(res_state rs, const char *host, int t)
{
	unsigned char ans[4096];
	int n;

	n = res_nsearch(rs, host, ns_c_in, t, ans, sizeof(ans));
	if (n <= 0)
		return -1;
	/* A reply longer than the buffer comes back cut (n > sizeof). */
	return dnsttl_parse(ans, (size_t)n < sizeof(ans) ? (size_t)n :
	    sizeof(ans));
}

static int
is_literal(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1;
}

/* Where DNS and files stand in the "hosts:" line of nsswitch (1-based,
 * 0 when absent; "resolve", systemd-resolved's module, counts as DNS).
 * No file or no such line: glibc's default, "dns files". */
static void
nss_order(const char *path, int *dnsp, int *filesp)
{
	char line[1024], *p, *tok, *save;
	FILE *f;
	int pos = 0;

	*dnsp = 1;
	*filesp = 2;
	if ((f = fopen(path, "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		for (p = line; isspace((unsigned char)*p); p++)
			;
		if (strncmp(p, "hosts:", 6) != 0)
			continue;
		*dnsp = *filesp = 0;
		for (tok = strtok_r(p + 6, " \t\r\n", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t\r\n", &save)) {
			if (*tok == '[')
				continue;	/* an action, [NOTFOUND=...] */
			pos++;
			if (*dnsp == 0 && (strcmp(tok, "dns") == 0 ||
			    strcmp(tok, "resolve") == 0))
				*dnsp = pos;
			else if (*filesp == 0 && strcmp(tok, "files") == 0)
				*filesp = pos;
		}
		break;
	}
	fclose(f);
}

/* 1 if the hosts file at path names host (any case). */
static int
in_hosts_file(const char *path, const char *host)
{
	char line[1024], *p, *tok, *save;
	FILE *f;
	int found = 0;

	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		tok = strtok_r(line, " \t\r\n", &save);	/* the address */
		while (tok != NULL && !found) {
			tok = strtok_r(NULL, " \t\r\n", &save);
			found = tok != NULL && strcasecmp(tok, host) == 0;
		}
	}
	fclose(f);
	return found;
}

int
dnsttl_asks_dns(const char *host, const char *nsswitch, const char *hosts)
{
	int dns, files;

	if (is_literal(host))
		return 0;
	nss_order(nsswitch, &dns, &files);
	if (dns == 0)
		return 0;
	return !(files > 0 && files < dns && in_hosts_file(hosts, host));
}

long
dnsttl_get(const char *host)
{
	struct __res_state rs;
	long a, aaaa;

	if (!dnsttl_asks_dns(host, "/etc/nsswitch.conf", "/etc/hosts"))
		return -1;
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) < 0)
		return -1;
	a = query_ttl(&rs, host, ns_t_a);
	aaaa = query_ttl(&rs, host, ns_t_aaaa);
	res_nclose(&rs);
	if (a < 0 || (aaaa >= 0 && aaaa < a))
		return aaaa;
	return a;
}
