/*
 * test_sockbio.c - daemon/worker/sockbio.c on real sockets (a socketpair): what
 * is written waits for sockbio_flush and then arrives whole and in
 * order; BIO_flush (OpenSSL's) sends nothing; a full socket makes the
 * flush partial and a write that does not fit a retry, all or nothing;
 * short reads are reported, EOF is BIO_eof, EAGAIN a read retry; a peer
 * that is gone is an error that stays; and a real TLS 1.3 handshake and
 * record exchange run over two such BIOs.
 *
 * Runs in: "make check" (TAP).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sockbio.h"
#include "tap.h"

static int sv[2];

static void
pair_open(void)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0) {
		perror("socketpair");
		exit(1);
	}
}

static void
pair_close(void)
{
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	sv[0] = sv[1] = -1;
}

/* Everything readable on fd now. */
static size_t
drain(int fd, unsigned char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap && (n = read(fd, buf + got, cap - got)) > 0)
		got += (size_t)n;
	return got;
}

static void
test_collect(void)
{
	unsigned char got[64];
	BIO *b;

	pair_open();
	b = sockbio_new(sv[0]);
	ok(b != NULL, "a BIO on a socket");
	is_int(BIO_write(b, "hello ", 6), 6, "a write is taken whole");
	is_int(BIO_write(b, "world", 5), 5, "a second one too");
	is_int((long long)sockbio_pending(b), 11, "both are collected");
	is_int(BIO_flush(b), 1, "BIO_flush reports success");
	is_int((long long)drain(sv[1], got, sizeof(got)), 0,
	    "... and sends nothing (the owner sends)");
	is_int(sockbio_flush(b), 11, "sockbio_flush sends the 11 bytes");
	is_int((long long)sockbio_pending(b), 0, "nothing is left");
	is_int((long long)drain(sv[1], got, sizeof(got)), 11,
	    "the peer reads 11 bytes");
	ok(memcmp(got, "hello world", 11) == 0, "in order");
	is_int(sockbio_flush(b), 0, "a flush with nothing collected sends 0");
	is_int(BIO_get_fd(b, NULL), sv[0], "BIO_get_fd is the socket");
	BIO_free(b);
	ok(fcntl(sv[0], F_GETFD) >= 0, "freeing the BIO leaves the socket open");
	pair_close();
}

static void
test_full_socket(void)
{
	static unsigned char chunk[16384], sink[1 << 16];
	size_t sent = 0, got = 0, n;
	BIO *b;
	int rc, i, buf = 4096;

	memset(chunk, 'x', sizeof(chunk));
	pair_open();
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	b = sockbio_new(sv[0]);
	/* Fill the collection; the write that does not fit flushes first,
	 * the socket takes only part, and that write is refused. */
	while ((rc = BIO_write(b, chunk, sizeof(chunk))) > 0)
		sent += (size_t)rc;
	ok(rc <= 0 && BIO_should_retry(b) && BIO_should_write(b),
	    "a write that does not fit while the socket is full: retry");
	ok(sent >= SOCKBIO_MAX - sizeof(chunk) && sent <= SOCKBIO_MAX,
	    "the collection took %zu bytes before that", sent);
	ok(sockbio_pending(b) > 0 && sockbio_pending(b) < sent,
	    "part was sent, the rest (%zu) is kept", sockbio_pending(b));
	/* The reader makes room; flushes deliver the rest. */
	for (i = 0; got < sent && i < 100000; i++) {
		if ((n = drain(sv[1], sink, sizeof(sink))) == 0 &&
		    sockbio_flush(b) < 0)
			break;
		got += n;
	}
	is_int((long long)got, (long long)sent, "every byte arrives");
	is_int((long long)sockbio_pending(b), 0, "nothing is left");
	is_int(BIO_write(b, chunk, sizeof(chunk)), sizeof(chunk),
	    "then a write is taken again");
	BIO_free(b);
	pair_close();
}

static void
test_read(void)
{
	char buf[64];
	BIO *b;

	pair_open();
	b = sockbio_new(sv[0]);
	ok(BIO_read(b, buf, sizeof(buf)) <= 0, "nothing to read: no data");
	ok(BIO_should_retry(b) && BIO_should_read(b), "... as a read retry");
	is_int(sockbio_drained(b), 0, "... not a short read");
	is_int(write(sv[1], "abcdefgh", 8), 8, "the peer writes 8 bytes");
	is_int(BIO_read(b, buf, 4), 4, "a read of 4 of 8 bytes");
	is_int(sockbio_drained(b), 0, "a full read: not drained");
	is_int(BIO_read(b, buf, sizeof(buf)), 4, "the other 4");
	is_int(sockbio_drained(b), 1, "a short read: drained");
	sockbio_reset_drained(b);
	is_int(sockbio_drained(b), 0, "sockbio_reset_drained forgets it");
	close(sv[1]);
	sv[1] = -1;
	is_int(BIO_read(b, buf, sizeof(buf)), 0, "the peer closed: 0");
	ok(BIO_eof(b) && !BIO_should_retry(b), "BIO_eof, no retry");
	BIO_free(b);
	pair_close();
}

static void
test_peer_gone(void)
{
	BIO *b;

	pair_open();
	b = sockbio_new(sv[0]);
	close(sv[1]);
	sv[1] = -1;
	BIO_write(b, "late", 4);
	is_int(sockbio_flush(b), -1, "a flush to a closed peer fails");
	is_int(errno, EPIPE, "with EPIPE");
	errno = 0;
	ok(BIO_write(b, "more", 4) <= 0, "later writes fail too");
	is_int(errno, EPIPE, "with the same error");
	ok(!BIO_should_retry(b), "not as a retry");
	sockbio_discard(b);
	is_int((long long)sockbio_pending(b), 0, "discard drops what is kept");
	BIO_free(b);
	pair_close();
}

/* A self-signed P-256 certificate for the TLS test. */
static int
make_cert(EVP_PKEY **keyp, X509 **certp)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();

	if (key == NULL || x == NULL)
		return -1;
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (X509_sign(x, key, EVP_sha256()) == 0)
		return -1;
	*keyp = key;
	*certp = x;
	return 0;
}

/* Runs one step of each side, then sends what each collected. */
static void
tls_step(SSL *c, SSL *s, BIO *cb, BIO *sb, int *cdone, int *sdone)
{
	if (!*cdone)
		*cdone = SSL_do_handshake(c) == 1;
	(void)sockbio_flush(cb);
	if (!*sdone)
		*sdone = SSL_do_handshake(s) == 1;
	(void)sockbio_flush(sb);
}

static void
test_tls(void)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	SSL *c, *s;
	BIO *cb, *sb;
	char buf[32];
	int cdone = 0, sdone = 0, i, n;

	if (make_cert(&key, &cert) < 0 ||
	    SSL_CTX_use_certificate(sctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(sctx, key) != 1) {
		ok(0, "test certificate");
		return;
	}
	SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
	SSL_CTX_set_read_ahead(sctx, 1);
	pair_open();
	c = SSL_new(cctx);
	s = SSL_new(sctx);
	cb = sockbio_new(sv[0]);
	sb = sockbio_new(sv[1]);
	SSL_set_bio(c, cb, cb);
	SSL_set_bio(s, sb, sb);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (i = 0; i < 20 && !(cdone && sdone); i++)
		tls_step(c, s, cb, sb, &cdone, &sdone);
	ok(cdone && sdone, "a TLS 1.3 handshake over two sockbios");
	is_int(SSL_write(c, "ping", 4), 4, "the client writes a record");
	ok(sockbio_pending(cb) > 4, "it is collected, not sent");
	ok(SSL_read(s, buf, sizeof(buf)) <= 0 &&
	    SSL_get_error(s, -1) == SSL_ERROR_WANT_READ,
	    "the server has nothing yet: SSL_ERROR_WANT_READ");
	ok(sockbio_flush(cb) > 0, "the client sends it");
	n = SSL_read(s, buf, sizeof(buf));
	ok(n == 4 && memcmp(buf, "ping", 4) == 0, "the server reads it");
	ok(sockbio_drained(sb), "with a short read");
	SSL_free(c);
	SSL_free(s);
	pair_close();
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	EVP_PKEY_free(key);
	X509_free(cert);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	sv[0] = sv[1] = -1;
	if (sockbio_init() < 0) {
		ok(0, "sockbio_init");
		return done();
	}
	ok(1, "sockbio_init");
	is_int(sockbio_init(), 0, "a second sockbio_init is harmless");
	test_collect();
	test_full_socket();
	test_read();
	test_peer_gone();
	test_tls();
	return done();
}
