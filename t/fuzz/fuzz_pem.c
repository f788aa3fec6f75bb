/*
 * fuzz_pem.c - libFuzzer target for key and certificate loading
 * (common/pem.c) over any bytes: what the supervisor and the CLI do with
 * a key file and a chain file.
 *
 * The input is a key file's text, a NUL byte, and a chain file's text.
 * Invariants: a failure leaves a message; a parsed key is RSA or EC and
 * survives a PKCS#8 round trip with the same public key; a parsed chain
 * has at least one certificate, each surviving a PEM round trip.
 *
 * Runs in: a fuzzing build only (clang -fsanitize=fuzzer,address);
 * t/13-pem-fuzz.t builds and runs it for a bounded time.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "pem.h"

static void
check_err(const char *err, size_t errlen)
{
	if (err[0] == '\0' || strnlen(err, errlen) >= errlen)
		abort();
}

/* The SHA-256 of the key's SubjectPublicKeyInfo into out; its length. */
static int
spki(const EVP_PKEY *key, unsigned char *out)
{
	int n = pem_spki_digest(key, EVP_sha256(), out);

	if (n <= 0)
		abort();
	return n;
}

static void
key_roundtrip(EVP_PKEY *key)
{
	unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
	char err[512], *pem;
	size_t len;
	EVP_PKEY *again;
	int n;

	if (pem_key_alg(key) == PEM_ALG_NONE)
		abort();
	err[0] = '\0';
	if (pem_key_to_pkcs8(key, &pem, &len, err, sizeof(err)) < 0) {
		check_err(err, sizeof(err));
		return;
	}
	again = pem_key_parse(pem, len, "round trip", err, sizeof(err));
	OPENSSL_clear_free(pem, len);
	if (again == NULL)
		abort();
	n = spki(key, a);
	if (spki(again, b) != n || memcmp(a, b, (size_t)n) != 0)
		abort();
	EVP_PKEY_free(again);
}

static void
cert_roundtrip(X509 *cert)
{
	STACK_OF(X509) *again;
	char err[512], *pem;
	size_t len;

	err[0] = '\0';
	if (pem_cert_to_pem(cert, &pem, &len, err, sizeof(err)) < 0) {
		check_err(err, sizeof(err));
		return;
	}
	again = pem_certs_parse(pem, len, "round trip", err, sizeof(err));
	free(pem);
	if (again == NULL || sk_X509_num(again) != 1 ||
	    X509_cmp(cert, sk_X509_value(again, 0)) != 0)
		abort();
	sk_X509_pop_free(again, X509_free);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t klen = nul != NULL ? (size_t)(nul - data) : size;
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *key;
	char err[512];
	int i;

	err[0] = '\0';
	if ((key = pem_key_parse((const char *)data, klen, "key", err,
	    sizeof(err))) == NULL)
		check_err(err, sizeof(err));
	else
		key_roundtrip(key);
	if (nul != NULL) {
		err[0] = '\0';
		certs = pem_certs_parse((const char *)nul + 1,
		    size - klen - 1, "chain", err, sizeof(err));
		if (certs == NULL)
			check_err(err, sizeof(err));
		else if (sk_X509_num(certs) < 1)
			abort();
	}
	for (i = 0; certs != NULL && i < sk_X509_num(certs); i++) {
		cert_roundtrip(sk_X509_value(certs, i));
		if (key != NULL)
			(void)pem_key_matches_cert(key, sk_X509_value(certs,
			    i));
	}
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return 0;
}
