/*
 * jsonw.h - writing bytes a peer chose as a JSON string (RFC 8259) into
 * a fixed buffer, within a bound.
 *
 * Runs in: the worker (jsonlog.c); pure, any thread.
 */
#ifndef TLSWARD_JSONW_H
#define TLSWARD_JSONW_H

#include <stddef.h>

/* Appends s as a JSON string, quotes included, to buf (size len, NUL
 * kept after the text) at *off, advancing *off; writes at most max
 * bytes of it. Quote and backslash are escaped, \n too, other bytes
 * below 0x20 and 0x7f as \u00XX; well-formed UTF-8 (RFC 3629: no
 * overlong forms, surrogates or code points past U+10FFFF) is copied,
 * every other byte becomes \ufffd. At the bound the string is cut
 * before an escape or a UTF-8 sequence that would not fit, and still
 * closed. NULL appends null (if it fits). Less than 2 bytes of room
 * appends nothing. */
void	jsonw_string(char *buf, size_t len, size_t *off, const char *s,
	    size_t max);

#endif
