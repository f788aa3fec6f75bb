/*
 * snapshot.h - everything the worker needs to serve, as one flat
 * dictionary of byte strings that the supervisor builds and the worker
 * decodes: resolved parameters, service definitions, and the contents of
 * every key, certificate, CA, DH and OCSP response file (the worker
 * opens no file).
 *
 * Keys (all values are byte strings; text values are NUL-free):
 *   global.NAME                 expanded global parameter
 *   svc.COUNT                   number of services
 *   svc.I.name / .role / .listen / .forward   service columns as text
 *   svc.I.listen_fd             index of its listener in the fd array
 *   svc.I.forward_host          the first target's host ("" for unix:)
 *   svc.I.forward_count         number of forward targets J
 *   svc.I.forward.J.text        target J as written (HOST:PORT, unix:PATH)
 *   svc.I.forward.J.host/.port  a host name the supervisor looks up
 *                               again ("" for an address or unix:)
 *   svc.I.forward.J.addr        its addresses: struct sockaddr_storage
 *                               records, concatenated; empty while the
 *                               name does not resolve
 *   svc.I.param.NAME            expanded parameter for this service
 *   svc.I.sni                   tls_server_sni_maps, parsed: one
 *                               "NAME\tPATHS\tORIGIN\n" line per entry
 *                               (NAME lower case or ".domain", PATHS the
 *                               chain files, space-separated, ORIGIN
 *                               "TABLE:LINE" for messages); absent
 *                               without a table
 *   svc.I.file.NAME             the resolved paths of a file parameter
 *                               (space-separated); for
 *                               tlsproxy_tls_ocsp_response_files, the
 *                               OCSP response files found (ocsp.h)
 *   file.PATH                   contents of a file named by a parameter
 *                               or by a tls_server_sni_maps table (the
 *                               texthash file itself too)
 *                               ("file.dir:PATH" for a CApath directory:
 *                               all its regular files, concatenated)
 *
 * Runs in: built in the privileged supervisor (loader.c), decoded in the
 * worker. Wire format: u32 count, then per entry u32 klen, key, u32 vlen,
 * value (little-endian host order: both ends are the same binary).
 */
#ifndef TLSWARD_SNAPSHOT_H
#define TLSWARD_SNAPSHOT_H

#include <stddef.h>

struct snap_kv {
	char	*key;
	char	*val;		/* vlen bytes + a NUL */
	size_t	 vlen;
};

struct snapshot {
	struct snap_kv	*kv;	/* sorted by key after snap_seal/decode */
	size_t		 n;
};

void	snap_init(struct snapshot *s);
/* Wipes every value (keys may be in there) and frees. */
void	snap_fini(struct snapshot *s);

/* Adds key = val (copied). Keys must be unique (snap_seal checks). */
void	snap_set(struct snapshot *s, const char *key, const void *val,
	    size_t vlen);
void	snap_setf(struct snapshot *s, const char *val, const char *keyfmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Sorts for lookups; -1 if a key occurs twice. Call after the last
 * snap_set. */
int	snap_seal(struct snapshot *s);

/* The value of key, or NULL; *vlenp (may be NULL) gets its length. */
const char *snap_get(const struct snapshot *s, const char *key, size_t *vlenp);
const char *snap_getf(const struct snapshot *s, size_t *vlenp,
	    const char *keyfmt, ...) __attribute__((format(printf, 3, 4)));

/* Serializes into a new buffer (caller wipes and frees). */
void	snap_encode(const struct snapshot *s, unsigned char **bufp,
	    size_t *lenp);

/* Parses a buffer from snap_encode (sealed); -1 on malformed input or
 * duplicate keys. */
int	snap_decode(struct snapshot *s, const unsigned char *buf, size_t len);

#endif
