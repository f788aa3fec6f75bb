/*
 * fuzz_session.c - libFuzzer target for a server-role session's TLS side:
 * the bytes a peer sends go, over a socket pair, into an SSL made from
 * the service's real SSL_CTX (loaded from a configuration directory as
 * the worker loads it: protocols, ciphers, certificates, the policy's
 * callbacks) and read through the event loops' socket BIO (sockbio.c);
 * what the server answers is sent and drained. Any crash, leak or
 * undefined behaviour in that path is a finding.
 *
 * Runs in: a fuzzing build only (clang -fsanitize=fuzzer,address);
 * t/55-session-fuzz.t builds it and runs it for a bounded time with
 * TLSWARD_FUZZ_CONF naming a configuration directory.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "loader.h"
#include "runtime.h"
#include "sockbio.h"

#define STEPS	32	/* handshake calls per input at most */

static struct rt *rt;		/* kept for the process */
static SSL_CTX *ctx;		/* its first service's */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("TLSWARD_FUZZ_CONF");
	struct loader_opts lo = { 0, NULL, NULL };
	struct loader ld;
	char err[1024];

	(void)argc;
	(void)argv;
	if (dir == NULL || sockbio_init() < 0 ||
	    loader_load(dir, &lo, &ld) > 0) {
		fprintf(stderr, "fuzz_session: cannot load TLSWARD_FUZZ_CONF\n");
		exit(1);
	}
	if ((rt = rt_build(&ld.snap, err, sizeof(err))) == NULL ||
	    rt->n == 0 || rt->svcs[0].ctx == NULL) {
		fprintf(stderr, "fuzz_session: %s\n", rt == NULL ? err :
		    "the first service has no server context");
		exit(1);
	}
	ctx = rt->svcs[0].ctx;
	loader_fini(&ld);
	return 0;
}

/* Reads and drops what the server sent. */
static void
drain(int fd)
{
	char sink[16384];

	while (read(fd, sink, sizeof(sink)) > 0)
		;
}

/* After the handshake: what the peer's bytes decrypt to. */
static void
read_data(SSL *ssl, int peer)
{
	char buf[4096];
	int i;

	for (i = 0; i < STEPS && SSL_read(ssl, buf, sizeof(buf)) > 0; i++)
		;
	drain(peer);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2], i, rc, e;
	SSL *ssl;
	BIO *bio;

	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK,
	    0, sv) < 0)
		return 0;
	if (size > 0 && write(sv[0], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[0], SHUT_WR);	/* then the server reads an EOF */
	if ((ssl = SSL_new(ctx)) == NULL || (bio = sockbio_new(sv[1])) ==
	    NULL)
		abort();
	SSL_set_bio(ssl, bio, bio);
	SSL_set_accept_state(ssl);
	for (i = 0; i < STEPS; i++) {
		ERR_clear_error();
		rc = SSL_do_handshake(ssl);
		(void)sockbio_flush(bio);
		drain(sv[0]);
		if (rc == 1) {
			read_data(ssl, sv[0]);
			break;
		}
		e = SSL_get_error(ssl, rc);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			break;
	}
	SSL_free(ssl);
	ERR_clear_error();
	close(sv[0]);
	close(sv[1]);
	return 0;
}
