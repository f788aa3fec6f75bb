/*
 * dnsttl.h - how long the DNS answer for a host name stays valid.
 * getaddrinfo(3) returns addresses without their time to live; the
 * resolver thread asks the name servers of resolv.conf for the name's
 * A and AAAA records itself, only to learn when to look the name up
 * again. The addresses still come from getaddrinfo (nsswitch.conf,
 * /etc/hosts), so a name that DNS does not answer for keeps its fixed
 * interval.
 *
 * Runs in: the privileged supervisor's resolver thread (resolver.c).
 * No state between calls.
 */
#ifndef TLSWARD_DNSTTL_H
#define TLSWARD_DNSTTL_H

#include <stddef.h>

/* The least TTL, in seconds, of the A and AAAA records (and of the
 * CNAME records leading to them) that DNS answers for host, looked up
 * as getaddrinfo would (resolv.conf's servers, search list, timeouts);
 * -1 when DNS gives no such record (no answer, no such name, no server,
 * a malformed reply) or getaddrinfo does not ask DNS for host
 * (dnsttl_asks_dns with the system's files). Blocking, for as long as
 * resolv.conf's timeouts allow. Thread-safe: each call has its own
 * resolver state. */
long	dnsttl_get(const char *host);

/* 1 if getaddrinfo asks DNS for host, as far as the nsswitch.conf and
 * hosts files at these paths tell: host is a name, the "hosts:" line
 * has "dns" (or "resolve"), and host is not in the hosts file when
 * "files" comes first. Reads both files; no DNS traffic. */
int	dnsttl_asks_dns(const char *host, const char *nsswitch,
	    const char *hosts);

/* The least TTL of the records of type A, AAAA or CNAME in the answer
 * section of the DNS reply msg[0..len); -1 if it has none or cannot be
 * parsed. (dnsttl_get's parser, apart for the unit test.) */
long	dnsttl_parse(const unsigned char *msg, size_t len);

#endif
