/*
 * test_pem.c - unit tests of common/pem.c and cli/keygen.c: key and
 * certificate parsing errors, SPKI digests, key/cert matching, hex forms,
 * key specs, host names, and the fields of our certificates and CSRs.
 *
 * Runs in: the test suite. Keys are generated at run time; the expected
 * digests are computed through a different OpenSSL path than pem.c uses.
 * keygen.c is compiled into this program (Makefile.am links the unit
 * tests with libcommon only).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "fileio.h"
#include "keygen.h"
#include "util.h"
#include "tap.h"

/* A string literal where the API wants char * (it never writes). */
#define S(lit)	((char *)(uintptr_t)(lit))

static EVP_PKEY *rsa_key, *rsa_key2, *ec_key;

/* ---------------------------------------------------------- helpers */

static char *
bio_text(BIO *bio)
{
	char *mem;
	long n = BIO_get_mem_data(bio, &mem);
	char *s = xstrndup(mem, n > 0 ? (size_t)n : 0);

	BIO_free(bio);
	return s;
}

/* key as PEM: PKCS#8 (trad=0) or traditional (trad=1), encrypted with
 * passphrase "x" when enc. */
static char *
key_text(EVP_PKEY *key, int trad, int enc)
{
	BIO *bio = BIO_new(BIO_s_mem());
	const EVP_CIPHER *c = enc ? EVP_aes_256_cbc() : NULL;
	unsigned char pass[] = "x";

	if (trad)
		PEM_write_bio_PrivateKey_traditional(bio, key, c,
		    enc ? pass : NULL, enc ? 1 : 0, NULL, NULL);
	else
		PEM_write_bio_PKCS8PrivateKey(bio, key, c,
		    enc ? (char *)pass : NULL, enc ? 1 : 0, NULL, NULL);
	return bio_text(bio);
}

static char *
cert_text(X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());

	PEM_write_bio_X509(bio, x);
	return bio_text(bio);
}

static X509 *
make_cert(EVP_PKEY *key, const char *host)
{
	char *hosts[1] = { S(host) };
	char err[512];
	X509 *x = keygen_selfsigned(key, hosts, 1, err, sizeof(err));

	if (x == NULL)
		diag("keygen_selfsigned: %s", err);
	return x;
}

static EVP_PKEY *
make_dsa(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL);
	EVP_PKEY *params = NULL, *key = NULL;
	EVP_PKEY_CTX *kctx;

	if (ctx == NULL || EVP_PKEY_paramgen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_dsa_paramgen_bits(ctx, 1024) <= 0 ||
	    EVP_PKEY_paramgen(ctx, &params) <= 0)
		goto out;
	kctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL);
	if (kctx != NULL && EVP_PKEY_keygen_init(kctx) > 0)
		EVP_PKEY_keygen(kctx, &key);
	EVP_PKEY_CTX_free(kctx);
out:
	EVP_PKEY_free(params);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* ---------------------------------------------------------- pem_key_parse */

struct key_case {
	const char	*name;
	char		*text;		/* owned */
	const char	*want_err;	/* substring; NULL: must parse */
	enum pem_alg	 want_alg;
};

static void
key_case_run(const struct key_case *c)
{
	char err[1024] = "";
	EVP_PKEY *k = pem_key_parse(c->text, strlen(c->text), "LABEL", err,
	    sizeof(err));

	if (c->want_err == NULL) {
		ok(k != NULL && pem_key_alg(k) == c->want_alg,
		    "key parse %s", c->name);
		if (k == NULL)
			diag("got error \"%s\"", err);
	} else {
		ok(k == NULL && strstr(err, c->want_err) != NULL &&
		    strncmp(err, "LABEL: ", 7) == 0, "key error %s", c->name);
		if (k != NULL || strstr(err, c->want_err) == NULL)
			diag("got \"%s\", want \"LABEL: ...%s...\"", err,
			    c->want_err);
	}
	EVP_PKEY_free(k);
}

static void
test_key_parse(void)
{
	X509 *x = make_cert(rsa_key, "mail.example.com");
	EVP_PKEY *dsa = make_dsa(), *ed = EVP_PKEY_Q_keygen(NULL, NULL,
	    "ED25519");
	char *certpem = cert_text(x), *rsa8 = key_text(rsa_key, 0, 0);
	struct key_case cases[] = {
		{ "pkcs8 rsa", xstrdup(rsa8), NULL, PEM_ALG_RSA },
		{ "traditional rsa", key_text(rsa_key, 1, 0), NULL,
		  PEM_ALG_RSA },
		{ "pkcs8 ec", key_text(ec_key, 0, 0), NULL, PEM_ALG_ECDSA },
		{ "traditional ec", key_text(ec_key, 1, 0), NULL,
		  PEM_ALG_ECDSA },
		{ "cert then key", xasprintf("%s%s", certpem, rsa8), NULL,
		  PEM_ALG_RSA },
		{ "text around", xasprintf("hello\n%sbye\n", rsa8), NULL,
		  PEM_ALG_RSA },
		{ "empty", xstrdup(""), "file is empty", 0 },
		{ "garbage", xstrdup("hello world\n"), "no PEM data", 0 },
		{ "cert as key", xstrdup(certpem),
		  "no private key (found CERTIFICATE instead)", 0 },
		{ "encrypted pkcs8", key_text(rsa_key, 0, 1),
		  "is encrypted; tlsward needs an unencrypted key", 0 },
		{ "encrypted traditional", key_text(ec_key, 1, 1),
		  "is encrypted", 0 },
		{ "dsa", dsa ? key_text(dsa, 0, 0) : xstrdup(""),
		  "unsupported key type DSA (want RSA, EC, Ed25519 or "
		  "Ed448)", 0 },
		{ "ed25519", key_text(ed, 0, 0), NULL, PEM_ALG_ED25519 },
		{ "bad base64", xstrdup("-----BEGIN PRIVATE KEY-----\n"
		  "!!!!\n-----END PRIVATE KEY-----\n"), "", 0 },
		{ "bad der", xstrdup("-----BEGIN PRIVATE KEY-----\n"
		  "AAAA\n-----END PRIVATE KEY-----\n"),
		  "cannot decode the PRIVATE KEY", 0 },
		{ "truncated", xstrndup(rsa8, strlen(rsa8) / 2),
		  "malformed PEM data", 0 },
	};
	size_t i;

	ok(dsa != NULL, "made a DSA key");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		key_case_run(&cases[i]);
		free(cases[i].text);
	}
	free(certpem);
	free(rsa8);
	X509_free(x);
	EVP_PKEY_free(dsa);
	EVP_PKEY_free(ed);
}

static void
test_key_load(void)
{
	char err[1024] = "";
	EVP_PKEY *k;

	k = pem_key_load("/nonexistent/key.pem", err, sizeof(err));
	ok(k == NULL && strstr(err, "/nonexistent/key.pem") != NULL &&
	    strstr(err, "No such file") != NULL, "load: missing file");
	diag("%s", err);
	k = pem_key_load("/", err, sizeof(err));
	ok(k == NULL && strstr(err, "cannot read /") != NULL,
	    "load: a directory");
	diag("%s", err);
}

/* ---------------------------------------------------------- certificates */

static void
test_certs_parse(void)
{
	X509 *a = make_cert(rsa_key, "a.example"), *b = make_cert(ec_key,
	    "b.example");
	char *pa = cert_text(a), *pb = cert_text(b), *k = key_text(ec_key, 0,
	    0), *txt, *bad, err[1024];
	STACK_OF(X509) *sk;

	txt = xasprintf("%s%s%s", k, pa, pb);
	sk = pem_certs_parse(txt, strlen(txt), "L", err, sizeof(err));
	ok(sk != NULL && sk_X509_num(sk) == 2 &&
	    X509_cmp(sk_X509_value(sk, 0), a) == 0 &&
	    X509_cmp(sk_X509_value(sk, 1), b) == 0,
	    "certs: key skipped, two certificates in order");
	sk_X509_pop_free(sk, X509_free);
	free(txt);

	sk = pem_certs_parse(k, strlen(k), "L", err, sizeof(err));
	is_str(sk == NULL ? err : "parsed", "L: no certificate; want a PEM "
	    "certificate", "certs: key only");
	sk = pem_certs_parse("", 0, "L", err, sizeof(err));
	is_str(sk == NULL ? err : "parsed", "L: file is empty; want a PEM "
	    "certificate", "certs: empty");
	/* Damage the DER of the second certificate (keep valid base64). */
	bad = xstrdup(pb);
	memcpy(strchr(bad, '\n') + 1, "AAAA", 4);
	txt = xasprintf("%s%s", pa, bad);
	sk = pem_certs_parse(txt, strlen(txt), "L", err, sizeof(err));
	ok(sk == NULL && strncmp(err, "L: certificate 2 does not parse",
	    31) == 0, "certs: bad second certificate named");
	diag("%s", err);
	free(txt);
	free(bad);
	free(pa);
	free(pb);
	free(k);
	X509_free(a);
	X509_free(b);
}

/* ---------------------------------------------------------- chain files */

/* One pem_chains_parse() case: files as "|"-separated texts. */
struct chain_case {
	const char	*name;
	char		*files[4];	/* owned; NULL ends */
	int		 want_n;	/* keys, or -1 */
	const char	*want_err;	/* the exact message */
};

static void
chain_case_run(const struct chain_case *c)
{
	static const char *const labels[] = { "F1", "F2", "F3", "F4" };
	struct pem_src src[4];
	struct pem_chain *v = NULL;
	char err[1024] = "";
	size_t n;
	int got;

	for (n = 0; n < 4 && c->files[n] != NULL; n++) {
		src[n].label = labels[n];
		src[n].data = c->files[n];
		src[n].len = strlen(c->files[n]);
	}
	got = pem_chains_parse(src, n, &v, err, sizeof(err));
	if (c->want_n >= 0) {
		is_int(got, c->want_n, "chain files %s: keys", c->name);
		if (got < 0)
			diag("got error \"%s\"", err);
	} else
		is_str(got < 0 ? err : "(parsed)", c->want_err,
		    "chain files %s: error", c->name);
	pem_chains_free(v, got);
	for (n = 0; n < 4; n++)
		free(c->files[n]);
}

/* A self-signed certificate of an Ed25519/Ed448 key (no digest). */
static X509 *
make_ed_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"ed.example", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	X509_sign(x, key, NULL);
	return x;
}

static void
test_chains_parse(void)
{
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"),
	    *ed4 = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
	X509 *xr = make_cert(rsa_key, "r.example"), *xr2 = make_cert(rsa_key2,
	    "r2.example"), *xe = make_cert(ec_key, "e.example"),
	    *xd = make_ed_cert(ed), *xd4 = make_ed_cert(ed4);
	char *kr = key_text(rsa_key, 0, 0), *kr2 = key_text(rsa_key2, 1, 0),
	    *ke = key_text(ec_key, 1, 0), *kd = key_text(ed, 0, 0),
	    *kd4 = key_text(ed4, 0, 0), *cr = cert_text(xr),
	    *cr2 = cert_text(xr2), *ce = cert_text(xe), *cd = cert_text(xd),
	    *cd4 = cert_text(xd4);
	struct chain_case cases[] = {
		{ "key and certificate in one file",
		  { xasprintf("%s%s", kr, cr) }, 1, NULL },
		{ "key and certificate in two files (Postfix order)",
		  { xstrdup(ke), xstrdup(ce) }, 1, NULL },
		{ "key, certificate, chain over three files",
		  { xstrdup(kr), xstrdup(cr), xstrdup(ce) }, 1, NULL },
		{ "four keys in one file", { xasprintf("%s%s%s%s%s%s%s%s",
		  kr, cr, ke, ce, kd, cd, kd4, cd4) }, 4, NULL },
		{ "two pairs over four files",
		  { xstrdup(ke), xstrdup(ce), xstrdup(kd), xstrdup(cd) }, 2,
		  NULL },
		{ "parameters and text skipped", { xasprintf("junk\n"
		  "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
		  "-----END EC PARAMETERS-----\n%s%s", ke, ce) }, 1, NULL },
		{ "certificate first", { xasprintf("%s%s", cr, kr) }, -1,
		  "F1: certificate 1 comes before any private key (list each "
		  "private key first, then its certificate and that "
		  "certificate's chain)" },
		{ "certificate file before the key file",
		  { xstrdup(ce), xstrdup(ke) }, -1,
		  "F1: certificate 1 comes before any private key (list each "
		  "private key first, then its certificate and that "
		  "certificate's chain)" },
		{ "key alone", { xstrdup(ke) }, -1,
		  "F1: the ecdsa private key is not followed by its "
		  "certificate (list each private key, then its certificate, "
		  "then that certificate's chain)" },
		{ "key followed by a key", { xasprintf("%s%s%s", ke, kr, cr) },
		  -1, "F1: the ecdsa private key is not followed by its "
		  "certificate (list each private key, then its certificate, "
		  "then that certificate's chain)" },
		{ "last key without certificate",
		  { xasprintf("%s%s", kr, cr), xstrdup(kd) }, -1,
		  "F2: the ed25519 private key is not followed by its "
		  "certificate (list each private key, then its certificate, "
		  "then that certificate's chain)" },
		{ "two rsa keys", { xasprintf("%s%s", kr, cr),
		  xasprintf("%s%s", kr2, cr2) }, -1,
		  "F2: a second rsa private key (the first is in F1): at most "
		  "one key of each algorithm (RSA, ECDSA, Ed25519, Ed448)" },
		{ "mismatch", { xstrdup(ke), xstrdup(cr) }, -1,
		  "F2: certificate 1 does not match the ecdsa private key "
		  "before it (in F1): each key must be followed by its own "
		  "certificate" },
		{ "empty", { xstrdup("") }, -1, "F1: file is empty; want a "
		  "private key followed by its certificate" },
		{ "no PEM", { xstrdup("hello\n"), xstrdup("") }, -1,
		  "F1 (and the rest of the list): no PEM data; want a private "
		  "key followed by its certificate" },
		{ "encrypted key", { key_text(ec_key, 0, 1), xstrdup(ce) }, -1,
		  "F1: private key is encrypted; tlsward needs an unencrypted "
		  "key" },
	};
	size_t i;

	ok(ed != NULL && ed4 != NULL && xd != NULL && xd4 != NULL,
	    "made Ed25519 and Ed448 keys and certificates");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		chain_case_run(&cases[i]);
	free(kr); free(kr2); free(ke); free(kd); free(kd4);
	free(cr); free(cr2); free(ce); free(cd); free(cd4);
	X509_free(xr); X509_free(xr2); X509_free(xe); X509_free(xd);
	X509_free(xd4);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(ed4);
}

/* The keys and certificates come back in order, each chain whole. */
static void
test_chains_order(void)
{
	X509 *xr = make_cert(rsa_key, "r.example"), *xe = make_cert(ec_key,
	    "e.example");
	char *t1 = key_text(ec_key, 0, 0), err[512];
	char *t2 = NULL, *cr = cert_text(xr), *ce = cert_text(xe),
	    *kr = key_text(rsa_key, 0, 0);
	struct pem_src src[2];
	struct pem_chain *v;
	int n;

	t2 = xasprintf("%s%s%s%s", ce, cr, kr, cr);
	src[0].label = "A"; src[0].data = t1; src[0].len = strlen(t1);
	src[1].label = "B"; src[1].data = t2; src[1].len = strlen(t2);
	n = pem_chains_parse(src, 2, &v, err, sizeof(err));
	ok(n == 2 && pem_key_alg(v[0].key) == PEM_ALG_ECDSA &&
	    strcmp(v[0].label, "A") == 0 && sk_X509_num(v[0].certs) == 2 &&
	    X509_cmp(sk_X509_value(v[0].certs, 0), xe) == 0 &&
	    X509_cmp(sk_X509_value(v[0].certs, 1), xr) == 0 &&
	    pem_key_alg(v[1].key) == PEM_ALG_RSA &&
	    strcmp(v[1].label, "B") == 0 && sk_X509_num(v[1].certs) == 1,
	    "chain files: keys in order, each with its certificate first and "
	    "its chain after");
	if (n < 0)
		diag("%s", err);
	pem_chains_free(v, n);
	free(t1); free(t2); free(cr); free(ce); free(kr);
	X509_free(xr);
	X509_free(xe);
}

/* ---------------------------------------------------------- digests */

/* SHA-256 of the certificate's SPKI, computed from the certificate. */
static void
cert_spki_sha256(X509 *x, unsigned char out[SHA256_DIGEST_LENGTH])
{
	unsigned char *der = NULL;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);

	SHA256(der, (size_t)len, out);
	OPENSSL_free(der);
}

static void
test_digest(void)
{
	unsigned char got[EVP_MAX_MD_SIZE], want[SHA256_DIGEST_LENGTH];
	X509 *xr = make_cert(rsa_key, "r.example"), *xe = make_cert(ec_key,
	    "e.example");
	char *g, *w;

	is_int(pem_spki_digest(rsa_key, EVP_sha256(), got), 32,
	    "spki sha256 length");
	cert_spki_sha256(xr, want);
	g = pem_hex(got, 32, 0);
	w = pem_hex(want, 32, 0);
	is_str(g, w, "spki sha256 of an RSA key = the certificate's SPKI");
	free(g);
	free(w);
	pem_spki_digest(ec_key, EVP_sha256(), got);
	cert_spki_sha256(xe, want);
	ok(memcmp(got, want, 32) == 0, "spki sha256 of an EC key");
	is_int(pem_spki_digest(ec_key, EVP_sha512(), got), 64,
	    "spki sha512 length");
	is_int(pem_spki_digest(NULL, EVP_sha256(), got), -1, "spki of NULL");

	is_int(pem_key_matches_cert(rsa_key, xr), 1, "match: same key");
	is_int(pem_key_matches_cert(rsa_key2, xr), 0, "match: other RSA key");
	is_int(pem_key_matches_cert(ec_key, xr), 0, "match: EC key, RSA cert");
	is_int(pem_key_matches_cert(ec_key, xe), 1, "match: EC pair");
	is_int(pem_key_matches_cert(rsa_key, NULL), 0, "match: no cert");
	X509_free(xr);
	X509_free(xe);
}

static void
test_hex(void)
{
	static const struct {
		const char	*in;
		size_t		 len;
		int		 colons;
		const char	*want;
	} cases[] = {
		{ "\x00\x01\xab\xff", 4, 0, "0001abff" },
		{ "\x00\x01\xab\xff", 4, 1, "00:01:AB:FF" },
		{ "\x0a", 1, 1, "0A" },
		{ "", 0, 0, "" },
		{ "", 0, 1, "" },
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = pem_hex((const unsigned char *)cases[i].in, cases[i].len,
		    cases[i].colons);
		is_str(s, cases[i].want, "pem_hex case %zu", i);
		free(s);
	}
	is_str(pem_alg_name(PEM_ALG_RSA), "rsa", "alg name rsa");
	is_str(pem_alg_name(PEM_ALG_ECDSA), "ecdsa", "alg name ecdsa");
	is_str(pem_alg_name(PEM_ALG_NONE), "none", "alg name none");
}

static void
test_pkcs8(void)
{
	char *trad = key_text(ec_key, 1, 0), *pem = NULL, err[512];
	EVP_PKEY *k = pem_key_parse(trad, strlen(trad), "t", err, sizeof(err)),
	    *back;
	size_t len = 0;

	ok(k != NULL && pem_key_to_pkcs8(k, &pem, &len, err, sizeof(err)) == 0,
	    "pkcs8: encode");
	ok(pem != NULL && strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28)
	    == 0 && strlen(pem) == len, "pkcs8: PEM header");
	back = pem ? pem_key_parse(pem, len, "p", err, sizeof(err)) : NULL;
	ok(back != NULL && EVP_PKEY_eq(back, ec_key) == 1,
	    "pkcs8: round trip keeps the key");
	OPENSSL_clear_free(pem, len);
	EVP_PKEY_free(k);
	EVP_PKEY_free(back);
	free(trad);
}

/* ---------------------------------------------------------- keygen */

static void
test_spec(void)
{
	static const struct {
		const char	*alg, *bits;
		int		 rc;
		enum pem_alg	 alg_want;
		int		 bits_want, nid_want;
		const char	*err_want;
	} cases[] = {
		{ NULL, NULL, 0, PEM_ALG_RSA, 2048, 0, NULL },
		{ "rsa", NULL, 0, PEM_ALG_RSA, 2048, 0, NULL },
		{ "rsa", "4096", 0, PEM_ALG_RSA, 4096, 0, NULL },
		{ "rsa", "16384", 0, PEM_ALG_RSA, 16384, 0, NULL },
		{ "rsa", "100", -1, 0, 0, 0, "unsupported RSA key size: \"100\""
		  " (want a number of bits from 2048 to 16384)" },
		{ "rsa", "2047", -1, 0, 0, 0, NULL },
		{ "rsa", "16385", -1, 0, 0, 0, NULL },
		{ "rsa", "99999999999999999999999", -1, 0, 0, 0, NULL },
		{ "rsa", "2048x", -1, 0, 0, 0, NULL },
		{ "rsa", "-2048", -1, 0, 0, 0, NULL },
		{ "rsa", "", -1, 0, 0, 0, NULL },
		{ "rsa", "secp256r1", -1, 0, 0, 0, NULL },
		{ "ecdsa", NULL, 0, PEM_ALG_ECDSA, 0, NID_X9_62_prime256v1,
		  NULL },
		{ "ecdsa", "secp256r1", 0, PEM_ALG_ECDSA, 0,
		  NID_X9_62_prime256v1, NULL },
		{ "ecdsa", "prime256v1", 0, PEM_ALG_ECDSA, 0,
		  NID_X9_62_prime256v1, NULL },
		{ "ecdsa", "secp384r1", 0, PEM_ALG_ECDSA, 0, NID_secp384r1,
		  NULL },
		{ "ecdsa", "secp521r1", 0, PEM_ALG_ECDSA, 0, NID_secp521r1,
		  NULL },
		{ "ecdsa", "nosuchcurve", -1, 0, 0, 0, "unsupported EC curve: "
		  "\"nosuchcurve\" (want secp256r1, secp384r1 or secp521r1)" },
		{ "ecdsa", "2048", -1, 0, 0, 0, NULL },
		{ "dsa", NULL, -1, 0, 0, 0,
		  "unsupported algorithm: \"dsa\" (want rsa or ecdsa)" },
		{ "RSA", NULL, -1, 0, 0, 0, NULL },
		{ "", NULL, -1, 0, 0, 0, NULL },
	};
	struct keygen_spec s;
	char err[512];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		rc = keygen_spec_parse(cases[i].alg, cases[i].bits, &s, err,
		    sizeof(err));
		if (cases[i].rc < 0) {
			is_int(rc, -1, "spec -a %s -b %s: error",
			    cases[i].alg ? cases[i].alg : "(none)",
			    cases[i].bits ? cases[i].bits : "(none)");
			if (cases[i].err_want)
				is_str(err, cases[i].err_want, "spec error text");
			continue;
		}
		ok(rc == 0 && s.alg == cases[i].alg_want &&
		    s.rsa_bits == cases[i].bits_want &&
		    s.ec_nid == cases[i].nid_want, "spec -a %s -b %s",
		    cases[i].alg ? cases[i].alg : "(none)",
		    cases[i].bits ? cases[i].bits : "(none)");
	}
}

static void
test_host_valid(void)
{
	char l63[64], l64[65], h253[254], h254[255], h253dot[255];
	struct {
		const char	*name;
		int		 want;
	} cases[] = {
		{ "mail.example.com", 1 }, { "a.b.", 1 },
		{ "xn--bcher-kva.example", 1 }, { "localhost", 1 },
		{ "a", 1 }, { "MAIL.Example.COM", 1 }, { "1.2.3.4", 1 },
		{ l63, 1 }, { h253, 1 }, { h253dot, 1 },
		{ "", 0 }, { ".", 0 }, { "-a.b", 0 }, { "a-.b", 0 },
		{ "a..b", 0 }, { ".a", 0 }, { "a.b..", 0 }, { "a_b.c", 0 },
		{ l64, 0 }, { h254, 0 }, { "*.example.com", 0 },
		{ "a b", 0 }, { "caf\xc3\xa9.example", 0 }, { "a/b", 0 },
	};
	size_t i;

	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l64, 'a', 64);
	l64[64] = '\0';
	/* 253 = 3 x (63 + 1) + 61 */
	snprintf(h253, sizeof(h253), "%s.%s.%s.%.61s", l63, l63, l63, l63);
	snprintf(h254, sizeof(h254), "%s.%s.%s.%.62s", l63, l63, l63, l63);
	snprintf(h253dot, sizeof(h253dot), "%s.", h253);
	is_int((long long)strlen(h253), 253, "253-character name");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(keygen_host_valid(cases[i].name), cases[i].want,
		    "host \"%.20s%s\" (%zu chars)", cases[i].name,
		    strlen(cases[i].name) > 20 ? "..." : "",
		    strlen(cases[i].name));
}

/* The DNS names of a subjectAltName stack, comma-joined. */
static char *
san_text(const GENERAL_NAMES *gens)
{
	struct buf b;
	int i, type;
	const ASN1_IA5STRING *s;

	buf_init(&b);
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		s = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i),
		    &type);
		buf_addf(&b, "%s%s:%.*s", i ? "," : "",
		    type == GEN_DNS ? "DNS" : "?", ASN1_STRING_length(s),
		    (const char *)ASN1_STRING_get0_data(s));
	}
	return buf_take(&b);
}

static char *
cn_text(const X509_NAME *name)
{
	char buf[256] = "";

	X509_NAME_get_text_by_NID((X509_NAME *)(uintptr_t)name,
	    NID_commonName, buf, sizeof(buf));
	return xstrdup(buf);
}

static void
check_cert_fields(X509 *x, EVP_PKEY *key, int sig_nid)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
	GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL);
	BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *s, *cn = cn_text(X509_get_subject_name(x));
	int days = 0, secs = -1, loc;

	is_int(X509_get_version(x), X509_VERSION_3, "cert: version 3");
	is_str(cn, "mail.example.com", "cert: CN without the trailing dot");
	is_int(X509_NAME_entry_count(X509_get_subject_name(x)), 1,
	    "cert: CN is the only subject attribute");
	is_int(X509_NAME_cmp(X509_get_subject_name(x),
	    X509_get_issuer_name(x)), 0, "cert: issuer = subject");
	s = san_text(san);
	is_str(s, "DNS:mail.example.com,DNS:www.example.com,DNS:a.b",
	    "cert: SANs in order, no trailing dots");
	free(s);
	ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	    X509_get0_notAfter(x));
	ok(days == KEYGEN_DAYS && secs == 0, "cert: valid 36525 days "
	    "(got %d days %d s)", days, secs);
	ok(X509_cmp_current_time(X509_get0_notBefore(x)) <= 0,
	    "cert: valid from now");
	is_int(X509_get_signature_nid(x), sig_nid, "cert: signature");
	ok(X509_get_extension_flags(x) & EXFLAG_BCONS, "cert: "
	    "basicConstraints present");
	ok(!(X509_get_extension_flags(x) & EXFLAG_CA), "cert: CA:FALSE");
	loc = X509_get_ext_by_NID(x, NID_basic_constraints, -1);
	is_int(X509_EXTENSION_get_critical(X509_get_ext(x, loc)), 0,
	    "cert: basicConstraints not critical");
	is_int(X509_get_extended_key_usage(x), XKU_SSL_SERVER | XKU_SSL_CLIENT,
	    "cert: EKU serverAuth, clientAuth");
	X509_pubkey_digest(x, EVP_sha1(), md, &mdlen);
	ok(ski != NULL && ASN1_STRING_length(ski) == (int)mdlen &&
	    memcmp(ASN1_STRING_get0_data(ski), md, mdlen) == 0,
	    "cert: SKI = SHA-1 of the public key");
	ok(serial != NULL && !BN_is_negative(serial) && !BN_is_zero(serial) &&
	    BN_num_bits(serial) <= 128 && BN_num_bits(serial) > 64,
	    "cert: random positive serial of up to 128 bits");
	is_int(X509_verify(x, key), 1, "cert: self-signature verifies");
	is_int(X509_check_issued(x, x), X509_V_OK, "cert: self-issued");
	is_int(pem_key_matches_cert(key, x), 1, "cert: matches the key");
	BN_free(serial);
	GENERAL_NAMES_free(san);
	free(cn);
}

static void
test_selfsigned(void)
{
	char *hosts[] = { S("mail.example.com."), S("www.example.com"),
	    S("a.b.") }, err[512];
	char *long_cn[] = { S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaa.aaaaaaaaaa") }, *bad[] = { S("ok.example"), S("bad_host") };
	X509 *x, *y;

	x = keygen_selfsigned(rsa_key, hosts, 3, err, sizeof(err));
	ok(x != NULL, "selfsigned rsa");
	if (x != NULL)
		check_cert_fields(x, rsa_key, NID_sha256WithRSAEncryption);
	y = keygen_selfsigned(ec_key, hosts, 3, err, sizeof(err));
	ok(y != NULL, "selfsigned ec");
	if (y != NULL)
		check_cert_fields(y, ec_key, NID_ecdsa_with_SHA256);
	ok(x && y && ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
	    X509_get0_serialNumber(y)) != 0, "serials differ");
	X509_free(x);
	X509_free(y);

	x = keygen_selfsigned(rsa_key, long_cn, 1, err, sizeof(err));
	ok(x == NULL && strstr(err, "too long for the certificate's common "
	    "name") != NULL, "selfsigned: CN over 64 characters refused");
	x = keygen_selfsigned(rsa_key, bad, 2, err, sizeof(err));
	is_str(x == NULL ? err : "made", "invalid host name: \"bad_host\"",
	    "selfsigned: bad host named");
	x = keygen_selfsigned(rsa_key, hosts, 0, err, sizeof(err));
	ok(x == NULL, "selfsigned: no host refused");
	is_int(keygen_hosts_check(long_cn, 1, 0, err, sizeof(err)), 0,
	    "hosts_check: a long name is fine for a CSR");
	is_int(keygen_hosts_check(long_cn, 1, 1, err, sizeof(err)), -1,
	    "hosts_check: not as a common name");
	is_int(keygen_hosts_check(hosts, 3, 1, err, sizeof(err)), 0,
	    "hosts_check: good hosts");
	is_int(keygen_hosts_check(bad, 2, 0, err, sizeof(err)), -1,
	    "hosts_check: a bad host in the list");
}

static void
test_csr(void)
{
	char *hosts[] = { S("mail.example.com"), S("mx.example.com.") };
	char err[512], *s;
	X509_REQ *req = keygen_csr(ec_key, hosts, 2, err, sizeof(err));
	STACK_OF(X509_EXTENSION) *exts;
	GENERAL_NAMES *san;

	ok(req != NULL, "csr made");
	if (req == NULL)
		return;
	is_int(X509_NAME_entry_count(X509_REQ_get_subject_name(req)), 0,
	    "csr: empty subject");
	is_int(X509_REQ_verify(req, ec_key), 1, "csr: signature verifies");
	is_int(X509_REQ_get_signature_nid(req), NID_ecdsa_with_SHA256,
	    "csr: SHA-256");
	exts = X509_REQ_get_extensions(req);
	is_int(sk_X509_EXTENSION_num(exts), 3, "csr: three extensions");
	ok(X509v3_get_ext_by_NID(exts, NID_subject_key_identifier, -1) >= 0,
	    "csr: SKI");
	ok(X509v3_get_ext_by_NID(exts, NID_ext_key_usage, -1) >= 0,
	    "csr: EKU");
	ok(X509v3_get_ext_by_NID(exts, NID_basic_constraints, -1) < 0,
	    "csr: no basicConstraints");
	san = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	s = san_text(san);
	is_str(s, "DNS:mail.example.com,DNS:mx.example.com", "csr: SANs");
	free(s);
	GENERAL_NAMES_free(san);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
}

/* ---------------------------------------------------------- files */

static int
dir_count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d != NULL)
		closedir(d);
	return n;
}

static int
file_mode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* Occupies the certificate names of the next few seconds. */
static void
block_names(const char *dir, const char *prefix)
{
	char stamp[32], *p;
	time_t t = time(NULL);
	struct tm tm;
	int i;

	for (i = 0; i < 4; i++, t++) {
		gmtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
		p = xasprintf("%s/%s-%s.pem", dir, prefix, stamp);
		file_create(p, "", 0, 0644, NULL, 0);
		free(p);
	}
}

static void
dir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *p;

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		unlink(p);
		free(p);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}

static void
test_write_pair(const char *dir)
{
	X509 *x = make_cert(ec_key, "mail.example.com");
	char *kp = NULL, *cp = NULL, err[1024];
	const char *base;
	EVP_PKEY *k;
	int n;

	ok(keygen_write_pair(dir, ec_key, x, &kp, &cp, err, sizeof(err)) == 0,
	    "write pair");
	base = kp ? strrchr(kp, '/') + 1 : "";
	ok(strncmp(base, "eckey-", 6) == 0 && strlen(base) == 6 + 15 + 4 &&
	    strcmp(base + 21, ".pem") == 0, "key name eckey-STAMP.pem (%s)",
	    base);
	ok(cp && strncmp(strrchr(cp, '/') + 1, "eccert-", 7) == 0 &&
	    strcmp(strrchr(cp, '/') + 1 + 7, base + 6) == 0,
	    "cert name eccert-STAMP.pem, same stamp");
	is_int(file_mode(kp ? kp : ""), 0600, "key mode 0600");
	is_int(file_mode(cp ? cp : ""), 0644, "cert mode 0644");
	k = kp ? pem_key_load(kp, err, sizeof(err)) : NULL;
	ok(k != NULL && EVP_PKEY_eq(k, ec_key) == 1, "written key loads");
	EVP_PKEY_free(k);
	free(kp);
	free(cp);

	block_names(dir, "eccert");
	n = dir_count(dir);
	ok(keygen_write_pair(dir, ec_key, x, &kp, &cp, err, sizeof(err)) < 0 &&
	    strstr(err, "already exists; not overwriting") != NULL,
	    "an existing certificate name is refused");
	diag("%s", err);
	is_int(dir_count(dir), n, "nothing written on refusal");
	ok(keygen_write_pair(dir, rsa_key, x, &kp, &cp, err, sizeof(err)) < 0,
	    "key and certificate must match");
	X509_free(x);
}

static void
test_abspath(void)
{
	char cwd[4096], err[256], *p, *want;

	p = keygen_abspath("/etc/tw", "key.pem", err, sizeof(err));
	is_str(p, "/etc/tw/key.pem", "abspath relative name");
	free(p);
	p = keygen_abspath("/etc/tw", "/k.pem", err, sizeof(err));
	is_str(p, "/k.pem", "abspath absolute name");
	free(p);
	p = keygen_abspath("rel", "k.pem", err, sizeof(err));
	want = xasprintf("%s/rel/k.pem", getcwd(cwd, sizeof(cwd)));
	is_str(p, want, "abspath relative dir");
	free(p);
	free(want);
	p = keygen_abspath("/etc", "", err, sizeof(err));
	ok(p == NULL && strcmp(err, "empty file name") == 0, "abspath empty");
}

/* ---------------------------------------------------------- conf glue */

static void
test_conf_glue(void)
{
	struct conf *cf = conf_new("/cf");
	char err[512], **hosts = NULL, *path = NULL;
	char *argv[] = { S("x.example"), S("y_z") };
	size_t n = 0;

	if (conf_load_text(cf, "main.cf", "myhostname = mx.example.org\n"
	    "smtpd_tls_cert_file = both.pem\nsmtpd_tls_eckey_file = none\n",
	    err, sizeof(err)) < 0) {
		ok(0, "conf_load_text: %s", err);
		conf_free(cf);
		return;
	}
	ok(keygen_hosts(cf, 0, NULL, &hosts, &n, err, sizeof(err)) == 0 &&
	    n == 1 && strcmp(hosts[0], "mx.example.org") == 0,
	    "hosts: myhostname by default");
	keygen_hosts_free(hosts, n);
	ok(keygen_hosts(cf, 2, argv, &hosts, &n, err, sizeof(err)) < 0,
	    "hosts: bad argument refused");
	is_str(err, "invalid host name: \"y_z\"", "hosts: error names it");
	ok(keygen_conf_key(cf, PEM_ALG_RSA, &path, err, sizeof(err)) == 0,
	    "conf key rsa");
	is_str(path, "/cf/both.pem", "rsa key defaults to $smtpd_tls_cert_file");
	free(path);
	ok(keygen_conf_key(cf, PEM_ALG_ECDSA, &path, err, sizeof(err)) == 0 &&
	    path == NULL, "ecdsa key \"none\" is no key");
	conf_free(cf);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/test_pem.XXXXXX", tmp ? tmp : "/tmp");

	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa_key2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
	if (rsa_key == NULL || rsa_key2 == NULL || ec_key == NULL) {
		printf("Bail out! cannot generate test keys\n");
		return 1;
	}
	test_key_parse();
	test_key_load();
	test_certs_parse();
	test_chains_parse();
	test_chains_order();
	test_digest();
	test_hex();
	test_pkcs8();
	test_spec();
	test_host_valid();
	test_selfsigned();
	test_csr();
	if (mkdtemp(dir) != NULL) {
		test_write_pair(dir);
		dir_remove(dir);
	} else
		ok(0, "mkdtemp: %s", strerror(errno));
	free(dir);
	test_abspath();
	test_conf_glue();
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(rsa_key2);
	EVP_PKEY_free(ec_key);
	return done();
}
