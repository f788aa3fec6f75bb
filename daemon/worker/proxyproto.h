/*
 * proxyproto.h - the PROXY protocol (versions 1 and 2, as HAProxy's
 * proxy-protocol.txt defines them): a strict parser of the header an
 * upstream load balancer puts in front of a connection, and the encoders
 * of the header tlswardd puts in front of a connection to its backend.
 *
 * Runs in: event loop threads (evpp.c) and the unit test. Pure
 * computation on memory: no I/O, no allocation, no global state.
 *
 * Every byte given to pp_parse is untrusted. The parser is incremental
 * in the only way that cannot lose data: the caller peeks at what has
 * arrived (MSG_PEEK), pp_parse says "need more", "malformed" or "the
 * header is N bytes", and only then does the caller read exactly N bytes,
 * so what follows the header (a TLS ClientHello) stays in the socket.
 */
#ifndef TLSWARD_PROXYPROTO_H
#define TLSWARD_PROXYPROTO_H

#include <stddef.h>
#include <sys/socket.h>

#define PP_V1_MAX	107	/* a v1 line, CRLF included, at most */
#define PP_V2_FIXED	16	/* signature, version, family, length */
#define PP_V2_MAX_BODY	1024	/* addresses and TLVs accepted, at most */
#define PP_MAX		(PP_V2_FIXED + PP_V2_MAX_BODY)	/* peek this much */
#define PP_OUT_MAX	1024	/* an encoded header never exceeds this */

/* pp_parse's accept mask. */
#define PP_ACCEPT_V1	0x01
#define PP_ACCEPT_V2	0x02

/* What a complete header said. */
struct pp_hdr {
	int			 version;	/* 1 or 2 */
	int			 local;		/* no address to use (v1
						 * UNKNOWN, v2 LOCAL, or an
						 * unspecified or unsupported
						 * family): the connection's
						 * own endpoints stand */
	struct sockaddr_storage	 src;		/* the client (!local) */
	struct sockaddr_storage	 dst;		/* the address it reached */
};

/* Parses the first len bytes that arrived on a connection, accepting the
 * versions in mask accept. Returns the header's length (> 0) when it is
 * complete and valid (h filled in), 0 when every byte so far is a valid
 * beginning and more are needed, -1 when it is not an acceptable header
 * (the reason, printable, in why). Never looks past the header's end;
 * refuses a v1 line longer than PP_V1_MAX and a v2 body longer than
 * PP_V2_MAX_BODY. v2 TLVs are checked for framing and then ignored. */
int	pp_parse(const unsigned char *buf, size_t len, unsigned accept,
	    struct pp_hdr *h, char *why, size_t whylen);

/* The TLS facts a v2 header carries (any pointer may be NULL: left
 * out). */
struct pp_tls {
	const char		*version;	/* "TLSv1.3" */
	const char		*cipher;	/* "TLS_AES_256_GCM_SHA384" */
	const char		*cn;		/* client certificate CN */
	const char		*sni;		/* server name asked for */
	const unsigned char	*alpn;		/* negotiated protocol */
	size_t			 alpn_len;
	int			 cert_conn;	/* a client certificate was
						 * presented */
	int			 verified;	/* and it verified */
};

/* A v1 line from src to dst into buf (PP_V1_MAX + 1 bytes at least):
 * TCP4 or TCP6 when both are of that family, else UNKNOWN. Returns its
 * length (no NUL counted). */
size_t	pp_encode_v1(const struct sockaddr_storage *src,
	    const struct sockaddr_storage *dst, char *buf, size_t len);

/* A v2 PROXY header from src to dst, with tls's TLVs when tls is not
 * NULL, into buf. An address pair of mixed or non-IP families is sent as
 * AF_UNSPEC. Returns its length, or 0 if it does not fit in len. */
size_t	pp_encode_v2(const struct sockaddr_storage *src,
	    const struct sockaddr_storage *dst, const struct pp_tls *tls,
	    unsigned char *buf, size_t len);

#endif
