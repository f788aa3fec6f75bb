/*
 * pem.c - private keys and certificates from PEM text, with errors that
 * say what is wrong with which file, and the SPKI digests that tie a key
 * to its certificate and to DANE TLSA "3 1 1" records.
 *
 * *_tls_chain_files are parsed here as Postfix reads them: one PEM
 * stream of keys, each followed by its certificate and chain.
 *
 * Runs in: the CLI and the privileged supervisor. Owns no state. Key
 * bytes pass through buffers that are wiped before they are freed; an
 * encrypted key is refused, never decrypted (no passphrase prompt).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fileio.h"
#include "log.h"
#include "pem.h"
#include "util.h"

/* One PEM block as PEM_read_bio_ex() returns it (secure-heap buffers). */
struct pem_block {
	char		*name;		/* "CERTIFICATE", "PRIVATE KEY", ... */
	char		*header;	/* RFC 1421 headers, "" when none */
	unsigned char	*der;		/* decoded body (may be key material) */
	long		 len;		/* bytes in der */
};

/* The reasons in the OpenSSL error queue, oldest first, without the
 * numeric codes that mean nothing to an administrator; clears the queue. */
static const char *
pem_why(char *buf, size_t len)
{
	const char *r;
	unsigned long e;
	size_t off = 0;

	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		if ((r = ERR_reason_error_string(e)) == NULL)
			r = "unknown error";
		if (off < len && strstr(buf, r) == NULL)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			    off ? "; " : "", r);
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "unknown error");
	return buf;
}

static void
pem_block_free(struct pem_block *b)
{
	OPENSSL_secure_free(b->name);
	OPENSSL_secure_free(b->header);
	if (b->der != NULL)
		OPENSSL_secure_clear_free(b->der, (size_t)b->len);
	memset(b, 0, sizeof(*b));
}

/* Reads the next block: 1, 0 at the end of the input, -1 on malformed PEM
 * (err names label). Text outside blocks is skipped, as OpenSSL does. */
static int
pem_block_next(BIO *bio, struct pem_block *b, const char *label, char *err,
    size_t errlen)
{
	unsigned long e;
	char why[512];

	memset(b, 0, sizeof(*b));
	ERR_clear_error();
	if (PEM_read_bio_ex(bio, &b->name, &b->header, &b->der, &b->len,
	    PEM_FLAG_SECURE | PEM_FLAG_EAY_COMPATIBLE) > 0)
		return 1;
	pem_block_free(b);
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
		ERR_clear_error();
		return 0;
	}
	return errf(err, errlen, "%s: malformed PEM data (%s)", label,
	    pem_why(why, sizeof(why)));
}

/* A BIO that reads buf without copying it, or NULL with err when buf is
 * larger than any key or certificate file we accept. */
static BIO *
pem_bio(const char *buf, size_t len, const char *label, char *err,
    size_t errlen)
{
	BIO *bio;

	if (len > PEM_MAX_FILE) {
		errf(err, errlen, "%s: too large (limit %d bytes)", label,
		    PEM_MAX_FILE);
		return NULL;
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
		log_panic("cannot make a memory BIO of %zu bytes", len);
	return bio;
}

static int
pem_name_is_key(const char *name)
{
	size_t n = strlen(name), k = strlen("PRIVATE KEY");

	return n >= k && strcmp(name + n - k, "PRIVATE KEY") == 0;
}

static int
pem_name_is_cert(const char *name)
{
	return strcmp(name, "CERTIFICATE") == 0 ||
	    strcmp(name, "X509 CERTIFICATE") == 0 ||
	    strcmp(name, "TRUSTED CERTIFICATE") == 0;
}

/* Decodes one private key block that pem_key_find() selected. */
static EVP_PKEY *
pem_key_decode(const struct pem_block *b, const char *label, char *err,
    size_t errlen)
{
	const unsigned char *p = b->der;
	EVP_PKEY *key;
	char why[512];

	if (strcmp(b->name, "ENCRYPTED PRIVATE KEY") == 0 ||
	    (b->header != NULL && strstr(b->header, "ENCRYPTED") != NULL)) {
		errf(err, errlen, "%s: private key is encrypted; tlsward "
		    "needs an unencrypted key", label);
		return NULL;
	}
	ERR_clear_error();
	if ((key = d2i_AutoPrivateKey(NULL, &p, b->len)) == NULL) {
		errf(err, errlen, "%s: cannot decode the %s (%s)", label,
		    b->name, pem_why(why, sizeof(why)));
		return NULL;
	}
	if (pem_key_alg(key) == PEM_ALG_NONE) {
		errf(err, errlen, "%s: unsupported key type %s (want RSA, "
		    "EC, Ed25519 or Ed448)", label,
		    EVP_PKEY_get0_type_name(key) ?
		    EVP_PKEY_get0_type_name(key) : "unknown");
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

/* Explains why buf held no private key, given the first block seen. */
static void
pem_key_missing(const char *first, size_t len, const char *label,
    char *err, size_t errlen)
{
	if (len == 0)
		errf(err, errlen, "%s: file is empty; want a PEM private key",
		    label);
	else if (first == NULL)
		errf(err, errlen, "%s: no PEM data; want a PEM private key",
		    label);
	else
		errf(err, errlen, "%s: no private key (found %s instead)",
		    label, first);
}

EVP_PKEY *
pem_key_parse(const char *buf, size_t len, const char *label, char *err,
    size_t errlen)
{
	struct pem_block b;
	EVP_PKEY *key = NULL;
	char *first = NULL;
	BIO *bio;
	int rc;

	if ((bio = pem_bio(buf, len, label, err, errlen)) == NULL)
		return NULL;
	while ((rc = pem_block_next(bio, &b, label, err, errlen)) > 0) {
		if (pem_name_is_key(b.name)) {
			key = pem_key_decode(&b, label, err, errlen);
			pem_block_free(&b);
			break;
		}
		if (first == NULL)
			first = xstrdup(b.name);
		pem_block_free(&b);
	}
	if (rc == 0)
		pem_key_missing(first, len, label, err, errlen);
	BIO_free(bio);
	free(first);
	return key;
}

EVP_PKEY *
pem_key_load(const char *path, char *err, size_t errlen)
{
	EVP_PKEY *key;
	char *data;
	size_t len;

	if (file_read(path, PEM_MAX_FILE, &data, &len, err, errlen) < 0)
		return NULL;
	key = pem_key_parse(data, len, path, err, errlen);
	explicit_bzero(data, len);
	free(data);
	return key;
}

/* Appends the certificate in b to sk; -1 with err if it does not parse. */
static int
pem_cert_add(STACK_OF(X509) *sk, const struct pem_block *b,
    const char *label, char *err, size_t errlen)
{
	const unsigned char *p = b->der;
	char why[512];
	X509 *x;

	ERR_clear_error();
	if (strcmp(b->name, "TRUSTED CERTIFICATE") == 0)
		x = d2i_X509_AUX(NULL, &p, b->len);
	else
		x = d2i_X509(NULL, &p, b->len);
	if (x == NULL)
		return errf(err, errlen, "%s: certificate %d does not parse "
		    "(%s)", label, sk_X509_num(sk) + 1,
		    pem_why(why, sizeof(why)));
	if (sk_X509_push(sk, x) <= 0)
		log_panic("out of memory in sk_X509_push");
	return 0;
}

STACK_OF(X509) *
pem_certs_parse(const char *buf, size_t len, const char *label, char *err,
    size_t errlen)
{
	STACK_OF(X509) *sk;
	struct pem_block b;
	BIO *bio;
	int rc;

	if ((bio = pem_bio(buf, len, label, err, errlen)) == NULL)
		return NULL;
	if ((sk = sk_X509_new_null()) == NULL)
		log_panic("out of memory in sk_X509_new_null");
	while ((rc = pem_block_next(bio, &b, label, err, errlen)) > 0) {
		if (pem_name_is_cert(b.name) &&
		    pem_cert_add(sk, &b, label, err, errlen) < 0)
			rc = -1;
		pem_block_free(&b);
		if (rc < 0)
			break;
	}
	BIO_free(bio);
	if (rc == 0 && sk_X509_num(sk) == 0)
		rc = errf(err, errlen, "%s: %s; want a PEM certificate", label,
		    len == 0 ? "file is empty" : "no certificate");
	if (rc < 0) {
		sk_X509_pop_free(sk, X509_free);
		return NULL;
	}
	return sk;
}

STACK_OF(X509) *
pem_certs_load(const char *path, char *err, size_t errlen)
{
	STACK_OF(X509) *sk;
	char *data;
	size_t len;

	if (file_read(path, PEM_MAX_FILE, &data, &len, err, errlen) < 0)
		return NULL;
	sk = pem_certs_parse(data, len, path, err, errlen);
	/* A combined file may hold the private key too. */
	explicit_bzero(data, len);
	free(data);
	return sk;
}

/* ------------------------------------------------------ chain files */

/* One pem_chains_parse(): the keys so far, each with its certificates. */
struct chain_ctx {
	struct pem_chain	*v;
	int			 n;
	char			*err;
	size_t			 errlen;
};

/* The last key must have its certificate before anything else comes. */
static int
chain_need_cert(const struct chain_ctx *c)
{
	const struct pem_chain *last = c->n > 0 ? &c->v[c->n - 1] : NULL;

	if (last == NULL || sk_X509_num(last->certs) > 0)
		return 0;
	return errf(c->err, c->errlen, "%s: the %s private key is not "
	    "followed by its certificate (list each private key, then its "
	    "certificate, then that certificate's chain)", last->label,
	    pem_alg_name(pem_key_alg(last->key)));
}

/* A private key block: starts the next key's group. */
static int
chain_key(struct chain_ctx *c, const struct pem_block *b, const char *label)
{
	enum pem_alg alg;
	EVP_PKEY *key;
	int k;

	if (chain_need_cert(c) < 0 ||
	    (key = pem_key_decode(b, label, c->err, c->errlen)) == NULL)
		return -1;
	alg = pem_key_alg(key);
	for (k = 0; k < c->n; k++) {
		if (pem_key_alg(c->v[k].key) != alg)
			continue;
		EVP_PKEY_free(key);
		return errf(c->err, c->errlen, "%s: a second %s private key "
		    "(the first is in %s): at most one key of each algorithm "
		    "(RSA, ECDSA, Ed25519, Ed448)", label, pem_alg_name(alg),
		    c->v[k].label);
	}
	c->v = xreallocarray(c->v, (size_t)c->n + 1, sizeof(*c->v));
	c->v[c->n].key = key;
	if ((c->v[c->n].certs = sk_X509_new_null()) == NULL)
		log_panic("out of memory in sk_X509_new_null");
	c->v[c->n++].label = xstrdup(label);
	return 0;
}

/* A certificate block (number nth of its file): the last key's own
 * certificate, or the next one of its chain. */
static int
chain_cert(struct chain_ctx *c, const struct pem_block *b, const char *label,
    int nth)
{
	struct pem_chain *last = c->n > 0 ? &c->v[c->n - 1] : NULL;

	if (last == NULL)
		return errf(c->err, c->errlen, "%s: certificate %d comes "
		    "before any private key (list each private key first, "
		    "then its certificate and that certificate's chain)",
		    label, nth);
	if (pem_cert_add(last->certs, b, label, c->err, c->errlen) < 0)
		return -1;
	if (sk_X509_num(last->certs) == 1 &&
	    !pem_key_matches_cert(last->key, sk_X509_value(last->certs, 0)))
		return errf(c->err, c->errlen, "%s: certificate %d does not "
		    "match the %s private key before it (in %s): each key "
		    "must be followed by its own certificate", label, nth,
		    pem_alg_name(pem_key_alg(last->key)), last->label);
	return 0;
}

/* Every block of one file, in order; *blocks counts them. */
static int
chain_file(struct chain_ctx *c, const struct pem_src *src, int *blocks)
{
	struct pem_block b;
	int rc, nth = 0;
	BIO *bio;

	if ((bio = pem_bio(src->data, src->len, src->label, c->err,
	    c->errlen)) == NULL)
		return -1;
	while ((rc = pem_block_next(bio, &b, src->label, c->err,
	    c->errlen)) > 0) {
		(*blocks)++;
		if (pem_name_is_key(b.name))
			rc = chain_key(c, &b, src->label);
		else if (pem_name_is_cert(b.name))
			rc = chain_cert(c, &b, src->label, ++nth);
		pem_block_free(&b);
		if (rc < 0)
			break;
	}
	BIO_free(bio);
	return rc < 0 ? -1 : 0;
}

/* Why the list held no key at all. */
static int
chain_none(const struct pem_src *src, size_t nsrc, int blocks, char *err,
    size_t errlen)
{
	const char *what = blocks > 0 ? "no private key" : "no PEM data";

	if (nsrc == 0)
		return errf(err, errlen, "no chain files");
	if (nsrc == 1 && src[0].len == 0)
		what = "file is empty";
	return errf(err, errlen, "%s%s: %s; want a private key followed by "
	    "its certificate", src[0].label, nsrc > 1 ? " (and the rest of "
	    "the list)" : "", what);
}

int
pem_chains_parse(const struct pem_src *src, size_t nsrc,
    struct pem_chain **chainsp, char *err, size_t errlen)
{
	struct chain_ctx c = { NULL, 0, err, errlen };
	int blocks = 0, rc = 0;
	size_t i;

	*chainsp = NULL;
	for (i = 0; i < nsrc && rc == 0; i++)
		rc = chain_file(&c, &src[i], &blocks);
	if (rc == 0)
		rc = chain_need_cert(&c);
	if (rc == 0 && c.n == 0)
		rc = chain_none(src, nsrc, blocks, err, errlen);
	if (rc < 0) {
		pem_chains_free(c.v, c.n);
		return -1;
	}
	*chainsp = c.v;
	return c.n;
}

void
pem_chains_free(struct pem_chain *chains, int n)
{
	int i;

	for (i = 0; chains != NULL && i < n; i++) {
		EVP_PKEY_free(chains[i].key);
		sk_X509_pop_free(chains[i].certs, X509_free);
		free(chains[i].label);
	}
	free(chains);
}

enum pem_alg
pem_key_alg(const EVP_PKEY *key)
{
	if (key == NULL)
		return PEM_ALG_NONE;
	if (EVP_PKEY_is_a(key, "RSA"))
		return PEM_ALG_RSA;
	if (EVP_PKEY_is_a(key, "EC"))
		return PEM_ALG_ECDSA;
	if (EVP_PKEY_is_a(key, "ED25519"))
		return PEM_ALG_ED25519;
	if (EVP_PKEY_is_a(key, "ED448"))
		return PEM_ALG_ED448;
	return PEM_ALG_NONE;
}

const char *
pem_alg_name(enum pem_alg alg)
{
	switch (alg) {
	case PEM_ALG_RSA:
		return "rsa";
	case PEM_ALG_ECDSA:
		return "ecdsa";
	case PEM_ALG_ED25519:
		return "ed25519";
	case PEM_ALG_ED448:
		return "ed448";
	case PEM_ALG_NONE:
		break;
	}
	return "none";
}

int
pem_spki_digest(const EVP_PKEY *key, const EVP_MD *md, unsigned char *out)
{
	unsigned char *der = NULL;
	unsigned int n = 0;
	int len, ok;

	if (key == NULL || (len = i2d_PUBKEY(key, &der)) <= 0)
		return -1;
	ok = EVP_Digest(der, (size_t)len, out, &n, md, NULL);
	OPENSSL_free(der);
	return ok ? (int)n : -1;
}

int
pem_key_matches_cert(const EVP_PKEY *key, X509 *cert)
{
	unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
	const EVP_PKEY *certkey;
	int na, nb;

	if (cert == NULL || (certkey = X509_get0_pubkey(cert)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	na = pem_spki_digest(key, EVP_sha256(), a);
	nb = pem_spki_digest(certkey, EVP_sha256(), b);
	ERR_clear_error();
	return na > 0 && na == nb && memcmp(a, b, (size_t)na) == 0;
}

char *
pem_hex(const unsigned char *p, size_t len, int colons)
{
	const char *digits = colons ? "0123456789ABCDEF" : "0123456789abcdef";
	char *s = xmalloc(len * 3 + 1), *o = s;
	size_t i;

	for (i = 0; i < len; i++) {
		if (colons && i > 0)
			*o++ = ':';
		*o++ = digits[p[i] >> 4];
		*o++ = digits[p[i] & 0x0f];
	}
	*o = '\0';
	return s;
}

/* Copies what bio holds into a new NUL-terminated buffer: OPENSSL_malloc
 * for a secret (the caller OPENSSL_clear_free()s it), else xmalloc. */
static int
pem_bio_take(BIO *bio, int secret, char **pemp, size_t *lenp)
{
	char *mem, *copy;
	long n = BIO_get_mem_data(bio, &mem);

	if (n <= 0)
		return -1;
	if (!secret)
		copy = xmalloc((size_t)n + 1);
	else if ((copy = OPENSSL_malloc((size_t)n + 1)) == NULL)
		return -1;
	memcpy(copy, mem, (size_t)n);
	copy[n] = '\0';
	*pemp = copy;
	*lenp = (size_t)n;
	return 0;
}

int
pem_key_to_pkcs8(const EVP_PKEY *key, char **pemp, size_t *lenp, char *err,
    size_t errlen)
{
	/* A secure-memory BIO: its buffer is cleansed when freed. */
	BIO *bio = BIO_new(BIO_s_secmem());
	char why[512];
	int rc = 0;

	ERR_clear_error();
	if (bio == NULL || PEM_write_bio_PKCS8PrivateKey(bio, key, NULL,
	    NULL, 0, NULL, NULL) <= 0 || pem_bio_take(bio, 1, pemp, lenp) < 0)
		rc = errf(err, errlen, "cannot encode the private key as "
		    "PKCS#8: %s", log_tls_errors(why, sizeof(why)));
	BIO_free(bio);
	return rc;
}

/* The buffer is xmalloc()ed: free() it. */
int
pem_cert_to_pem(X509 *cert, char **pemp, size_t *lenp, char *err,
    size_t errlen)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char why[512];
	int rc = 0;

	ERR_clear_error();
	if (bio == NULL || PEM_write_bio_X509(bio, cert) <= 0 ||
	    pem_bio_take(bio, 0, pemp, lenp) < 0)
		rc = errf(err, errlen, "cannot encode the certificate: %s",
		    log_tls_errors(why, sizeof(why)));
	BIO_free(bio);
	return rc;
}
