/*
 * cidr.h - address prefixes: parsing lists of networks ("192.0.2.0/24,
 * [2001:db8::]/32"), matching addresses against them, and reducing an
 * address to its prefix.
 *
 * Runs in: the supervisor and the CLI (parsing the configuration), the
 * worker (matching). Owns nothing but the arrays it returns.
 */
#ifndef TLSWARD_CIDR_H
#define TLSWARD_CIDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* One network: family AF_INET or AF_INET6, the address bytes (4 or 16,
 * host bits zero), the prefix length. */
struct cidr {
	int		family;
	unsigned char	addr[16];
	int		bits;
};

/* Parses a list separated by commas and/or white space: each element an
 * IPv4 or IPv6 address (an IPv6 one optionally in brackets, as Postfix
 * writes it), optionally with "/bits"; without, the host alone. Host bits
 * below the prefix must be zero. Returns 0 with *v (xmalloc'd, NULL when
 * empty) and *n, or -1 with err naming the bad element. */
int	cidr_list_parse(const char *text, struct cidr **v, size_t *n,
	    char *err, size_t errlen);

/* 1 if ss (AF_INET or AF_INET6; an IPv4-mapped IPv6 address counts as
 * IPv4) is in one of the n networks. */
int	cidr_list_match(const struct cidr *v, size_t n,
	    const struct sockaddr_storage *ss);

/* ss's network of bits (v4bits for IPv4, v6bits for IPv6), in *out; -1
 * when ss is not an IP address. */
int	cidr_of(const struct sockaddr_storage *ss, int v4bits, int v6bits,
	    struct cidr *out);

/* "192.0.2.0/24" or "2001:db8::/64" into buf. */
const char *cidr_text(const struct cidr *c, char *buf, size_t len);

#endif
