/*
 * tkring.c - the worker's session ticket key ring (tkring.h): keys from
 * the ticket key file or made here, the rotation by time, and the
 * OpenSSL callback that encrypts and decrypts tickets with them (and
 * counts them: relaxed atomics), and the ring's description for "tlsward
 * status" (tkring_info: never key material, only the start of the key
 * name tickets carry in clear).
 *
 * Runs in: the worker. The ring is guarded by a read-write lock: a
 * handshake holds it for reading while it sets up its cipher and MAC (no
 * allocation, no copy of a key); loading a snapshot and the rotation
 * take it for writing, rarely. Key material is wiped when it leaves.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "conf.h"
#include "log.h"
#include "tkfile.h"
#include "tkring.h"
#include "util.h"

#define TKR_MAX_PERIOD_S	(100LL * 86400)	/* Postfix's cap */
#define TKR_NEVER		INT64_MAX

/* One key; the 80 bytes in the file's order. */
struct tk_key {
	unsigned char	 name[TKF_NAME_LEN];
	unsigned char	 hmac[TKF_HMAC_LEN];
	unsigned char	 aes[TKF_AES_LEN];
	int64_t		 enc_until;	/* monotonic s: encrypts before */
	int64_t		 dec_until;	/* monotonic s: decrypts before */
	int64_t		 added;		/* monotonic s: made, or first
					 * loaded from the file */
	size_t		 line;		/* from the file: its position among
					 * the file's keys, 1 the oldest */
};

static struct {
	pthread_rwlock_t lock;
	struct tk_key	 keys[TKF_MAX_KEYS];	/* [0] encrypts */
	size_t		 n;
	int		 from_file;	/* keys are the file's, no rotation */
	int64_t		 period_s;	/* T: encrypt T, then decrypt T */
	EVP_CIPHER	*aes;		/* AES-256-CBC, fetched once */
	char		*path;		/* the file's, while from_file */
} ring = { PTHREAD_RWLOCK_INITIALIZER,
    { { { 0 }, { 0 }, { 0 }, 0, 0, 0, 0 } }, 0, 0, 3600, NULL, NULL };

/* Counted in the ticket callback (relaxed atomics; tkring.h). */
static struct tkring_counts counts;

#define COUNT(field)	__atomic_add_fetch(&counts.field, 1, __ATOMIC_RELAXED)

static int64_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* Removes key k from the ring (wiped), under the write lock. */
static void
ring_drop(size_t k)
{
	OPENSSL_cleanse(&ring.keys[k], sizeof(ring.keys[k]));
	memmove(&ring.keys[k], &ring.keys[k + 1], (ring.n - k - 1) *
	    sizeof(ring.keys[0]));
	ring.n--;
	OPENSSL_cleanse(&ring.keys[ring.n], sizeof(ring.keys[0]));
}

static void
ring_clear(void)
{
	OPENSSL_cleanse(ring.keys, sizeof(ring.keys));
	ring.n = 0;
}

/* Without a file: when the encrypting key is past its time (or there is
 * none), a new one from the RNG, and the keys past decryption go.
 * Under the write lock. */
static void
ring_rotate(int64_t now)
{
	struct tk_key *k;
	size_t i;

	if (ring.from_file || (ring.n > 0 && ring.keys[0].enc_until > now))
		return;
	for (i = ring.n; i > 0; i--)
		if (ring.keys[i - 1].dec_until <= now)
			ring_drop(i - 1);
	if (ring.n == TKF_MAX_KEYS)
		ring_drop(ring.n - 1);
	memmove(&ring.keys[1], &ring.keys[0], ring.n * sizeof(ring.keys[0]));
	k = &ring.keys[0];
	if (RAND_bytes(k->name, sizeof(k->name)) != 1 ||
	    RAND_bytes(k->hmac, sizeof(k->hmac)) != 1 ||
	    RAND_bytes(k->aes, sizeof(k->aes)) != 1) {
		log_tls("worker: session ticket key: no random bytes");
		memmove(&ring.keys[0], &ring.keys[1], ring.n *
		    sizeof(ring.keys[0]));
		OPENSSL_cleanse(&ring.keys[ring.n], sizeof(ring.keys[0]));
		return;
	}
	k->enc_until = now + ring.period_s;
	k->dec_until = now + 2 * ring.period_s;
	k->added = now;
	k->line = 0;
	ring.n++;
}

/* Sets up the ticket's cipher and MAC with key k. */
static int
key_use(const struct tk_key *k, unsigned char *iv, EVP_CIPHER_CTX *cctx,
    EVP_MAC_CTX *hctx, int enc)
{
	static char digest[] = "SHA256";
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_CipherInit_ex(cctx, ring.aes, NULL, k->aes, iv, enc) != 1 ||
	    EVP_MAC_init(hctx, k->hmac, sizeof(k->hmac), params) != 1)
		return -1;
	return 0;
}

/* A new ticket: the encrypting key, a fresh IV. 1, or -1 (the
 * handshake fails: no key could be made). */
static int
ticket_encrypt(unsigned char *name, unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx)
{
	int64_t now = now_s();
	int rc = -1;

	if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(ring.aes)) != 1)
		return -1;
	pthread_rwlock_rdlock(&ring.lock);
	if (!ring.from_file && (ring.n == 0 || ring.keys[0].enc_until <= now)) {
		pthread_rwlock_unlock(&ring.lock);
		pthread_rwlock_wrlock(&ring.lock);
		ring_rotate(now);
		pthread_rwlock_unlock(&ring.lock);
		pthread_rwlock_rdlock(&ring.lock);
	}
	if (ring.n > 0) {
		memcpy(name, ring.keys[0].name, TKF_NAME_LEN);
		rc = key_use(&ring.keys[0], iv, cctx, hctx, 1) < 0 ? -1 : 1;
	}
	pthread_rwlock_unlock(&ring.lock);
	return rc;
}

/* A ticket presented: its key by name, if the ring still has it. 1 (use
 * it), 2 (use it, and issue a new ticket under the newest key), 0 (a
 * full handshake), -1. ticket_cb renews every TLS 1.3 ticket. */
static int
ticket_decrypt(const unsigned char *name, unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx)
{
	int64_t now = now_s();
	size_t k;
	int rc = 0;

	pthread_rwlock_rdlock(&ring.lock);
	for (k = 0; k < ring.n; k++) {
		if (memcmp(ring.keys[k].name, name, TKF_NAME_LEN) != 0)
			continue;
		if (ring.keys[k].dec_until > now)
			rc = key_use(&ring.keys[k], iv, cctx, hctx, 0) < 0 ?
			    -1 : k == 0 && ring.keys[0].enc_until > now ? 1 : 2;
		break;
	}
	pthread_rwlock_unlock(&ring.lock);
	return rc;
}

static int
ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	int rc;

	if (ring.aes == NULL)	/* no ring loaded: no ticket, no resumption */
		return 0;
	if (enc) {
		if ((rc = ticket_encrypt(name, iv, cctx, hctx)) == 1)
			COUNT(issued);
		return rc;
	}
	rc = ticket_decrypt(name, iv, cctx, hctx);
	if (rc > 0)
		COUNT(decrypted);
	else if (rc == 0)
		COUNT(refused);
	/* TLS 1.3: a resumed session gets a fresh ticket, as with
	 * OpenSSL's own keys (and Postfix); OpenSSL sends none after a
	 * plain 1 (RFC 8446 C.4 advises tickets used once). */
	return rc == 1 && SSL_version(ssl) == TLS1_3_VERSION ? 2 : rc;
}

void
tkring_attach(SSL_CTX *ctx)
{
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
}

/* T: the longest smtpd_tls_session_cache_timeout of the services (the
 * loader checked each), at most 100 days, at least a second. */
static int64_t
snap_period(const struct snapshot *s)
{
	const char *cnt = snap_get(s, "svc.count", NULL), *v;
	size_t n = cnt != NULL ? strtoul(cnt, NULL, 10) : 0, i;
	long long secs, max = 1;
	char why[256];

	for (i = 0; i < n; i++) {
		v = snap_getf(s, NULL, "svc.%zu.param.%s", i,
		    "smtpd_tls_session_cache_timeout");
		if (v != NULL && conf_time_parse(v, &secs, why,
		    sizeof(why)) == 0 && secs > max)
			max = secs;
	}
	return max < TKR_MAX_PERIOD_S ? max : TKR_MAX_PERIOD_S;
}

/* When the ring got the key named name, if it holds it; else now. */
static int64_t
added_of(const unsigned char *name, int64_t now)
{
	size_t k;

	for (k = 0; k < ring.n; k++)
		if (memcmp(ring.keys[k].name, name, TKF_NAME_LEN) == 0)
			return ring.keys[k].added;
	return now;
}

/* The file's keys into the ring, newest (last in the file) first. A key
 * the ring held already keeps its time. Under the write lock. */
static void
ring_set_file(const unsigned char *keys, size_t n)
{
	int64_t added[TKF_MAX_KEYS], now = now_s();
	const unsigned char *p;
	size_t k;

	for (k = 0; k < n; k++)
		added[k] = added_of(keys + (n - 1 - k) * TKF_KEY_LEN, now);
	ring_clear();
	for (k = 0; k < n; k++) {
		p = keys + (n - 1 - k) * TKF_KEY_LEN;
		ring.keys[k].added = added[k];
		ring.keys[k].line = n - k;
		memcpy(ring.keys[k].name, p, TKF_NAME_LEN);
		memcpy(ring.keys[k].hmac, p + TKF_NAME_LEN, TKF_HMAC_LEN);
		memcpy(ring.keys[k].aes, p + TKF_NAME_LEN + TKF_HMAC_LEN,
		    TKF_AES_LEN);
		ring.keys[k].enc_until = TKR_NEVER;
		ring.keys[k].dec_until = TKR_NEVER;
	}
	ring.n = n;
	ring.from_file = 1;
}

int
tkring_load(const struct snapshot *s, char *err, size_t errlen)
{
	const char *path = snap_get(s,
	    "global.tlsproxy_tls_ticket_key_file", NULL), *data = NULL;
	unsigned char *keys = NULL;
	size_t len = 0;
	int n = 0;

	if (ring.aes == NULL &&
	    (ring.aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL)) == NULL)
		return errf(err, errlen, "session tickets: no AES-256-CBC");
	if (path != NULL && *path != '\0') {
		if ((data = snap_getf(s, &len, "file.%s", path)) == NULL)
			return errf(err, errlen, "parameter "
			    "tlsproxy_tls_ticket_key_file: %s not loaded", path);
		if ((n = tkf_parse(path, data, len, &keys, err, errlen)) < 0)
			return -1;
	}
	pthread_rwlock_wrlock(&ring.lock);
	ring.period_s = snap_period(s);
	free(ring.path);
	ring.path = NULL;
	if (n > 0) {
		ring_set_file(keys, (size_t)n);
		ring.path = xstrdup(path);
	} else if (ring.from_file) {
		ring_clear();
		ring.from_file = 0;
	}
	pthread_rwlock_unlock(&ring.lock);
	if (n > 0)
		log_info("worker: session ticket keys: %d from %s", n, path);
	OPENSSL_clear_free(keys, TKF_MAX_KEYS * TKF_KEY_LEN);
	return 0;
}

void
tkring_info(struct tkring_info *info)
{
	int64_t now = now_s();

	memset(info, 0, sizeof(*info));
	pthread_rwlock_rdlock(&ring.lock);
	info->keys = ring.n;
	info->from_file = ring.from_file;
	if (ring.path != NULL)
		snprintf(info->path, sizeof(info->path), "%s", ring.path);
	if (ring.n > 0) {
		/* the name travels in clear in every ticket: not secret */
		memcpy(info->name, ring.keys[0].name, sizeof(info->name));
		info->age_s = now - ring.keys[0].added;
		info->position = ring.keys[0].line;
		info->encrypts = ring.from_file || ring.keys[0].enc_until > now;
	}
	pthread_rwlock_unlock(&ring.lock);
	info->n.issued = __atomic_load_n(&counts.issued, __ATOMIC_RELAXED);
	info->n.decrypted = __atomic_load_n(&counts.decrypted,
	    __ATOMIC_RELAXED);
	info->n.refused = __atomic_load_n(&counts.refused, __ATOMIC_RELAXED);
}
