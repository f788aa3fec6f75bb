/*
 * tlspeer.c - a test peer: a TLS client or server that copies stdin to
 * the connection and the connection to stdout, at the same time, with a
 * real half-close: at stdin EOF it sends close_notify and keeps reading
 * until the peer's close_notify (or EOF).
 *
 * Runs in: the test suite only. Usage:
 *   tlspeer -c HOST:PORT [-n SNI] [-t seconds]     TLS client
 *   tlspeer -s PORTFILE -k KEY -r CERT [-t secs]   TLS server on 127.0.0.1:0
 *                                                  (one connection; the
 *                                                  port is written to
 *                                                  PORTFILE)
 * Prints the negotiated protocol and cipher on stderr. Exit 0 when both
 * directions closed cleanly, 1 otherwise.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static int
tcp_connect(const char *hostport)
{
	char host[256], *port;
	struct addrinfo hints = { 0 }, *res;
	int fd;

	snprintf(host, sizeof(host), "%s", hostport);
	if ((port = strrchr(host, ':')) == NULL)
		return -1;
	*port++ = '\0';
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int
tcp_accept_one(const char *portfile)
{
	struct sockaddr_in sin = { 0 };
	socklen_t len = sizeof(sin);
	FILE *fp;
	int lfd, fd, on = 1;

	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) < 0)
		return -1;
	if ((fp = fopen(portfile, "w")) == NULL)
		return -1;
	fprintf(fp, "%u\n", ntohs(sin.sin_port));
	fclose(fp);
	fd = accept(lfd, NULL, NULL);
	close(lfd);
	return fd;
}

/* Copies both ways until both are closed. */
static int
pump(SSL *ssl, int fd)
{
	char in[16384], out[16384];
	size_t in_len = 0, in_off = 0;
	int stdin_eof = 0, shut = 0, peer_eof = 0, n, e;

	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (!peer_eof || !shut) {
		struct pollfd pf[2] = { { stdin_eof || in_len ? -1 : 0, POLLIN, 0 },
		    { fd, POLLIN, 0 } };
		int moved = 0;

		if (!stdin_eof && in_len == 0) {
			ssize_t r = read(0, in, sizeof(in));
			if (r > 0)
				in_len = (size_t)r, in_off = 0, moved = 1;
			else if (r == 0)
				stdin_eof = 1, moved = 1;
		}
		if (in_len > 0) {
			n = SSL_write(ssl, in + in_off, (int)(in_len - in_off));
			if (n > 0) {
				in_off += (size_t)n, moved = 1;
				if (in_off == in_len)
					in_len = in_off = 0;
			} else if ((e = SSL_get_error(ssl, n)) == SSL_ERROR_WANT_WRITE)
				pf[1].events |= POLLOUT;
			else if (e != SSL_ERROR_WANT_READ)
				return 1;
		}
		if (stdin_eof && in_len == 0 && !shut) {
			if (SSL_shutdown(ssl) >= 0)
				shut = 1, moved = 1;
		}
		if (!peer_eof) {
			n = SSL_read(ssl, out, sizeof(out));
			if (n > 0) {
				if (fwrite(out, 1, (size_t)n, stdout) != (size_t)n)
					return 1;
				moved = 1;
			} else if ((e = SSL_get_error(ssl, n)) == SSL_ERROR_ZERO_RETURN)
				peer_eof = 1, moved = 1;
			else if (e == SSL_ERROR_WANT_WRITE)
				pf[1].events |= POLLOUT;
			else if (e != SSL_ERROR_WANT_READ) {
				fprintf(stderr, "tlspeer: read: error %d\n", e);
				ERR_print_errors_fp(stderr);
				return 1;
			}
		}
		if (!moved)
			poll(pf, 2, 1000);
	}
	fflush(stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *conn = NULL, *portfile = NULL, *key = NULL, *cert = NULL;
	const char *sni = NULL;
	SSL_CTX *ctx;
	SSL *ssl;
	int ch, fd, rc, secs = 60;

	while ((ch = getopt(argc, argv, "c:s:k:r:n:t:")) != -1) {
		switch (ch) {
		case 'c': conn = optarg; break;
		case 's': portfile = optarg; break;
		case 'k': key = optarg; break;
		case 'r': cert = optarg; break;
		case 'n': sni = optarg; break;
		case 't': secs = atoi(optarg); break;
		default: return 2;
		}
	}
	alarm((unsigned)secs);
	ctx = SSL_CTX_new(conn ? TLS_client_method() : TLS_server_method());
	if (portfile && (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1))
		return 2;
	fd = conn ? tcp_connect(conn) : tcp_accept_one(portfile);
	if (fd < 0) {
		perror("tlspeer: connect/accept");
		return 1;
	}
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (sni)
		SSL_set_tlsext_host_name(ssl, sni);
	if ((conn ? SSL_connect(ssl) : SSL_accept(ssl)) != 1) {
		fprintf(stderr, "tlspeer: handshake failed\n");
		ERR_print_errors_fp(stderr);
		return 1;
	}
	fprintf(stderr, "tlspeer: %s %s\n", SSL_get_version(ssl),
	    SSL_get_cipher_name(ssl));
	rc = pump(ssl, fd);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return rc;
}
