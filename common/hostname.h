/*
 * hostname.h - host name syntax as Postfix's valid_hostname() judges it:
 * the names a TLS SNI extension may carry and a tls_server_sni_maps
 * table may list.
 *
 * Runs in: the supervisor and the CLI (table keys), the worker (names
 * that peers send). Pure computation; owns nothing.
 */
#ifndef TLSWARD_HOSTNAME_H
#define TLSWARD_HOSTNAME_H

#include <stddef.h>

#define HOSTNAME_MAX_LEN	255	/* the whole name */
#define HOSTNAME_MAX_LABEL	63	/* one label */

/* 1 if name is a host name: labels of letters, digits, '_' and inner
 * '-', at most 63 bytes each, separated by single dots (none leading or
 * trailing), 255 bytes in all, not all digits and dots. Else 0, with
 * the reason in why (may be NULL). */
int	hostname_valid(const char *name, char *why, size_t whylen);

#endif
