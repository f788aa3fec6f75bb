/*
 * fingerprint.c - certificate and public-key fingerprints: computing them
 * the way Postfix prints them, parsing fingerprint lists, matching.
 *
 * Runs in: the worker and the supervisor (-t). No state; owns only what
 * it returns.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "fingerprint.h"
#include "pem.h"
#include "util.h"

const EVP_MD *
fpt_md(const char *name)
{
	static const char *const names[] = {
		"md5", "sha1", "sha224", "sha256", "sha384", "sha512",
	};
	size_t k;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strcasecmp(name, names[k]) == 0)
			return EVP_get_digestbyname(names[k]);
	return NULL;
}

/* The digest of the certificate or of its SPKI into out; its length, or
 * -1. */
static int
fpt_digest(X509 *x, const EVP_MD *md, int pkey, unsigned char *out)
{
	unsigned int n = 0;
	int len;

	if (pkey)
		len = pem_spki_digest(X509_get0_pubkey(x), md, out);
	else
		len = X509_digest(x, md, out, &n) == 1 ? (int)n : -1;
	ERR_clear_error();
	return len;
}

char *
fpt_text(X509 *x, const EVP_MD *md, int pkey)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	int len = fpt_digest(x, md, pkey, d);

	return len > 0 ? pem_hex(d, (size_t)len, 1) : NULL;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One entry into out (len bytes); 0 or -1. */
static int
fpt_decode(const char *w, unsigned char *out, size_t len)
{
	size_t n = 0;
	int hi, lo;

	while (*w != '\0') {
		if (*w == ':' && n > 0 && w[1] != '\0') {
			w++;
			continue;
		}
		if (n == len || (hi = hexval((unsigned char)w[0])) < 0 ||
		    (lo = hexval((unsigned char)w[1])) < 0)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | lo);
		w += 2;
	}
	return n == len ? 0 : -1;
}

int
fpt_list_parse(const char *text, const EVP_MD *md, struct fpt_list *l,
    char *err, size_t errlen)
{
	char *copy = xstrdup(text), *save = NULL, *w;
	int rc = 0;

	memset(l, 0, sizeof(*l));
	l->len = (size_t)EVP_MD_get_size(md);
	for (w = strtok_r(copy, " \t\r\n,|", &save); w != NULL;
	    w = strtok_r(NULL, " \t\r\n,|", &save)) {
		l->d = xreallocarray(l->d, l->n + 1, l->len);
		if (fpt_decode(w, l->d + l->n * l->len, l->len) < 0) {
			rc = errf(err, errlen, "\"%s\" is not a fingerprint "
			    "of this digest (want %zu hex byte pairs, "
			    "optionally ':'-separated)", w, l->len);
			break;
		}
		l->n++;
	}
	free(copy);
	if (rc < 0)
		fpt_list_fini(l);
	return rc;
}

void
fpt_list_fini(struct fpt_list *l)
{
	free(l->d);
	memset(l, 0, sizeof(*l));
}

int
fpt_list_match(const struct fpt_list *l, X509 *x, const EVP_MD *md)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	int pkey;
	size_t k;

	for (pkey = 0; pkey <= 1; pkey++) {
		if (fpt_digest(x, md, pkey, d) != (int)l->len)
			continue;
		for (k = 0; k < l->n; k++)
			if (memcmp(l->d + k * l->len, d, l->len) == 0)
				return 1;
	}
	return 0;
}
