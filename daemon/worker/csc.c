/*
 * csc.c - the client-role session cache (csc.h): a fixed table of slots,
 * one session per policy key, locked in stripes; the per-SSL state that
 * holds a session back until the handshake's checks have passed; the
 * per-service counters (stats.h: a slot remembers whose entry it holds).
 *
 * Runs in: the worker, any thread. Sessions are reference-counted
 * (SSL_SESSION_up_ref / SSL_SESSION_free): a slot owns one reference, an
 * SSL that was offered one holds its own.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "csc.h"
#include "stats.h"
#include "util.h"

#define CSC_SLOTS	4096	/* sessions at most */
#define CSC_STRIPES	64	/* locks */
#define CSC_KEY_LEN	32	/* SHA-256 of the policy words */

struct csc_slot {
	unsigned char	 key[CSC_KEY_LEN];
	SSL_SESSION	*sess;		/* owned; NULL: empty */
	int64_t		 expires;	/* monotonic s */
	struct svc_stats *owner;	/* counts it as an entry, or NULL */
};

/* What an SSL carries (its ex_data; freed with the SSL). */
struct csc_ssl {
	unsigned char	 key[CSC_KEY_LEN];
	int64_t		 ttl_s;
	int		 verified;	/* the handshake's checks passed */
	SSL_SESSION	*pending;	/* a session that came before */
	struct svc_stats *stats;	/* the service's counters, or NULL */
};

#define ADD(field)	__atomic_add_fetch(&(field), 1, __ATOMIC_RELAXED)
#define SUB(field)	__atomic_sub_fetch(&(field), 1, __ATOMIC_RELAXED)

static struct csc_slot csc_tab[CSC_SLOTS];
static pthread_mutex_t csc_locks[CSC_STRIPES];
static pthread_once_t csc_once = PTHREAD_ONCE_INIT;
static int csc_idx = -1;

static int64_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static void
state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	struct csc_ssl *st = ptr;

	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	if (st == NULL)
		return;
	SSL_SESSION_free(st->pending);
	free(st);
}

static void
csc_init(void)
{
	size_t i;

	for (i = 0; i < CSC_STRIPES; i++)
		pthread_mutex_init(&csc_locks[i], NULL);
	csc_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, state_free);
}

static size_t
slot_of(const unsigned char *key)
{
	return ((size_t)key[0] << 8 | key[1]) % CSC_SLOTS;
}

static pthread_mutex_t *
lock_of(size_t slot)
{
	return &csc_locks[slot % CSC_STRIPES];
}

/* The session of sl leaves the table (under the slot's lock): expired
 * if its time is up, else evicted when another key replaces it. */
static void
slot_leaves(struct csc_slot *sl, int other_key)
{
	if (sl->owner == NULL)
		return;
	SUB(sl->owner->csc.entries);
	if (sl->expires <= now_s())
		ADD(sl->owner->csc.expired);
	else if (other_key)
		ADD(sl->owner->csc.evicted);
	sl->owner = NULL;
}

/* Stores sess (the caller's reference moves in) under st's key. */
static void
store(const struct csc_ssl *st, SSL_SESSION *sess)
{
	size_t i = slot_of(st->key);
	struct csc_slot *sl = &csc_tab[i];
	int64_t life = (int64_t)SSL_SESSION_get_timeout(sess);
	SSL_SESSION *old;

	if (life <= 0 || life > st->ttl_s)
		life = st->ttl_s;
	pthread_mutex_lock(lock_of(i));
	old = sl->sess;
	if (old != NULL)
		slot_leaves(sl, memcmp(sl->key, st->key, CSC_KEY_LEN) != 0);
	memcpy(sl->key, st->key, CSC_KEY_LEN);
	sl->sess = sess;
	sl->expires = now_s() + life;
	if ((sl->owner = st->stats) != NULL)
		ADD(sl->owner->csc.entries);
	pthread_mutex_unlock(lock_of(i));
	SSL_SESSION_free(old);
}

/* The cached session for key, referenced for the caller, or NULL. A TLS
 * 1.3 one leaves the table (used once); an expired one is dropped. */
static SSL_SESSION *
lookup(const unsigned char *key)
{
	size_t i = slot_of(key);
	struct csc_slot *sl = &csc_tab[i];
	SSL_SESSION *sess = NULL, *drop = NULL;

	pthread_mutex_lock(lock_of(i));
	if (sl->sess != NULL && memcmp(sl->key, key, CSC_KEY_LEN) == 0) {
		if (sl->expires <= now_s()) {
			slot_leaves(sl, 0);
			drop = sl->sess;
			sl->sess = NULL;
		} else if (SSL_SESSION_get_protocol_version(sl->sess) ==
		    TLS1_3_VERSION) {
			slot_leaves(sl, 0);
			sess = sl->sess;
			sl->sess = NULL;
		} else if (SSL_SESSION_up_ref(sl->sess) == 1)
			sess = sl->sess;
	}
	pthread_mutex_unlock(lock_of(i));
	SSL_SESSION_free(drop);
	return sess;
}

/* OpenSSL's new-session callback: 1 when the reference was taken. */
static int
new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct csc_ssl *st = csc_idx >= 0 ? SSL_get_ex_data(ssl, csc_idx) :
	    NULL;

	if (st == NULL || !SSL_SESSION_is_resumable(sess))
		return 0;
	if (!st->verified) {
		SSL_SESSION_free(st->pending);
		st->pending = sess;
	} else
		store(st, sess);
	return 1;
}

void
csc_attach(SSL_CTX *ctx)
{
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session);
}

/* SHA-256 over the words, each with its length first. */
static int
key_make(const char *const *words, unsigned char *key)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;
	uint32_t len;
	int ok;

	ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
	for (; ok && *words != NULL; words++) {
		len = (uint32_t)strlen(*words);
		ok = EVP_DigestUpdate(md, &len, sizeof(len)) == 1 &&
		    EVP_DigestUpdate(md, *words, len) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(md, key, &n) == 1 && n == CSC_KEY_LEN;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

void
csc_begin(SSL *ssl, const char *const *words, int64_t ttl_s,
    struct svc_stats *stats)
{
	struct csc_ssl *st;
	SSL_SESSION *sess;

	if (ttl_s <= 0)
		return;
	pthread_once(&csc_once, csc_init);
	if (csc_idx < 0 || (st = calloc(1, sizeof(*st))) == NULL)
		return;
	st->ttl_s = ttl_s;
	st->stats = stats;
	if (key_make(words, st->key) < 0 ||
	    SSL_set_ex_data(ssl, csc_idx, st) != 1) {
		free(st);
		return;
	}
	if ((sess = lookup(st->key)) != NULL) {
		(void)SSL_set_session(ssl, sess);	/* its own reference */
		SSL_SESSION_free(sess);
	}
}

void
csc_verified(SSL *ssl)
{
	struct csc_ssl *st = csc_idx >= 0 ? SSL_get_ex_data(ssl, csc_idx) :
	    NULL;

	if (st == NULL)
		return;
	if (st->stats != NULL && !st->verified) {
		if (SSL_session_reused(ssl))
			ADD(st->stats->csc.hits);
		else
			ADD(st->stats->csc.misses);
	}
	st->verified = 1;
	if (st->pending != NULL) {
		store(st, st->pending);
		st->pending = NULL;
	}
}
