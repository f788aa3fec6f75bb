/*
 * cidr.c - address prefixes (see cidr.h for the contract).
 *
 * Runs in: the supervisor, the CLI and the worker. Pure functions.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "util.h"

/* Zeroes the bits of addr after the first bits (len bytes). */
static void
mask_bits(unsigned char *addr, size_t len, int bits)
{
	size_t i;

	for (i = 0; i < len; i++) {
		int keep = bits - (int)i * 8;

		if (keep <= 0)
			addr[i] = 0;
		else if (keep < 8)
			addr[i] &= (unsigned char)(0xff << (8 - keep));
	}
}

/* One element, "addr", "addr/bits", "[v6]" or "[v6]/bits". */
static int
parse_one(const char *tok, struct cidr *c, char *err, size_t errlen)
{
	char host[64], *slash, *end;
	unsigned char chk[16];
	size_t len;
	long bits;

	if (strlen(tok) >= sizeof(host))
		return errf(err, errlen, "\"%s\": not a network", tok);
	snprintf(host, sizeof(host), "%s", tok);
	bits = -1;
	if ((slash = strrchr(host, '/')) != NULL) {
		*slash = '\0';
		bits = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || bits < 0)
			return errf(err, errlen, "\"%s\": bad prefix length",
			    tok);
	}
	len = strlen(host);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		memmove(host, host + 1, len - 2);
		host[len - 2] = '\0';
	}
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, host, c->addr) == 1) {
		c->family = AF_INET;
		len = 4;
	} else if (inet_pton(AF_INET6, host, c->addr) == 1) {
		c->family = AF_INET6;
		len = 16;
	} else
		return errf(err, errlen, "\"%s\": not an IP address", tok);
	c->bits = bits < 0 ? (int)len * 8 : (int)bits;
	if (c->bits > (int)len * 8)
		return errf(err, errlen, "\"%s\": prefix longer than the "
		    "address", tok);
	memcpy(chk, c->addr, len);
	mask_bits(chk, len, c->bits);
	if (memcmp(chk, c->addr, len) != 0)
		return errf(err, errlen, "\"%s\": host bits set after the "
		    "prefix", tok);
	return 0;
}

int
cidr_list_parse(const char *text, struct cidr **v, size_t *n, char *err,
    size_t errlen)
{
	char *copy = xstrdup(text), *tok, *save = NULL;
	struct cidr *a = NULL;
	size_t cnt = 0;

	for (tok = strtok_r(copy, ", \t\n", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t\n", &save)) {
		a = xreallocarray(a, cnt + 1, sizeof(*a));
		if (parse_one(tok, &a[cnt], err, errlen) < 0) {
			free(a);
			free(copy);
			return -1;
		}
		cnt++;
	}
	free(copy);
	*v = a;
	*n = cnt;
	return 0;
}

int
cidr_of(const struct sockaddr_storage *ss, int v4bits, int v6bits,
    struct cidr *out)
{
	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		out->family = AF_INET;
		memcpy(out->addr, &s4->sin_addr, 4);
		out->bits = v4bits;
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			out->family = AF_INET;
			memcpy(out->addr, s6->sin6_addr.s6_addr + 12, 4);
			out->bits = v4bits;
		} else {
			out->family = AF_INET6;
			memcpy(out->addr, &s6->sin6_addr, 16);
			out->bits = v6bits;
		}
	} else
		return -1;
	mask_bits(out->addr, out->family == AF_INET ? 4 : 16, out->bits);
	return 0;
}

int
cidr_list_match(const struct cidr *v, size_t n,
    const struct sockaddr_storage *ss)
{
	struct cidr c;
	size_t i;

	for (i = 0; i < n; i++)
		if (cidr_of(ss, v[i].bits, v[i].bits, &c) == 0 &&
		    c.family == v[i].family &&
		    memcmp(c.addr, v[i].addr, 16) == 0)
			return 1;
	return 0;
}

const char *
cidr_text(const struct cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(c->family, c->addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%d", a, c->bits);
	return buf;
}
