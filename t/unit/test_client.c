/*
 * test_client.c - libtlsward-client against a scripted daemon on a
 * socketpair: the request's bytes (the byte-level example of
 * tlsward-handoff(7)), argument checks, "ok" and refusals, the passed
 * descriptor, the report (fields, failure) and that nothing after the
 * report's empty line is consumed; a timeout.
 *
 * Runs in: "make check" (TAP).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tlsward-client.h"
#include "tap.h"

/* Everything the "daemon" end has received so far, as a string. */
static void
drain(int fd, char *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
}

static void
sendstr(int fd, const char *s)
{
	if (send(fd, s, strlen(s), 0) != (ssize_t)strlen(s))
		diag("send failed");
}

static void
test_request(void)
{
	const char *fps[] = { "AA:BB", "CCDD" };
	struct tw_request req;
	struct tw_error err;
	char buf[2048];
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	tw_request_init(&req, TW_ROLE_SERVER, "[192.0.2.1]:41234");
	is_int(tw_send_request(sv[0], &req, 1000, &err), 0, "send a request");
	drain(sv[1], buf, sizeof(buf));
	is_str(buf, "version=1\nrole=server\npeer=[192.0.2.1]:41234\n"
	    "report=yes\n\n", "the byte-level example of tlsward-handoff(7)");

	tw_request_init(&req, TW_ROLE_CLIENT, "peer\nrole=server");
	req.servername = "mx.example.net";
	req.level = "fingerprint";
	req.fingerprints = fps;
	req.nfingerprints = 2;
	req.handshake_timeout = 5;
	req.report = 0;
	tw_send_request(sv[0], &req, 1000, &err);
	drain(sv[1], buf, sizeof(buf));
	is_str(buf, "version=1\nrole=client\npeer=peer?role=server\n"
	    "servername=mx.example.net\nlevel=fingerprint\n"
	    "fingerprint=AA:BB\nfingerprint=CCDD\nhandshake_timeout=5\n"
	    "report=no\n\n", "client fields; a line break in peer is sent as ?");

	req.servername = "a\nb";
	is_int(tw_send_request(sv[0], &req, 1000, &err), -1,
	    "a line break in another field is refused");
	is_int(err.code, TW_E_ARG, "... as TW_E_ARG");
	drain(sv[1], buf, sizeof(buf));
	is_str(buf, "", "... and nothing is sent");
	close(sv[0]);
	close(sv[1]);
}

static void
test_answers(void)
{
	struct tw_outcome out;
	struct tw_error err;
	char buf[256];
	int sv[2], fd, got;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	sendstr(sv[1], "ok\n");
	is_int(tw_read_answer(sv[0], 1000, &err), 0, "ok");

	sendstr(sv[1], "refused unknown-profile no profile \"x\"\n");
	is_int(tw_read_answer(sv[0], 1000, &err), -1, "a refusal");
	is_int(err.code, TW_E_REFUSED, "... TW_E_REFUSED");
	is_str(err.refusal, "unknown-profile", "... with its code");
	is_str(err.text, "refused: unknown-profile: no profile \"x\"",
	    "... and its text");

	sendstr(sv[1], "hello\n");
	tw_read_answer(sv[0], 1000, &err);
	is_int(err.code, TW_E_PROTOCOL, "anything else: TW_E_PROTOCOL");

	is_int(tw_read_answer(sv[0], 200, &err), -1, "no answer");
	is_int(err.code, TW_E_TIMEOUT, "... TW_E_TIMEOUT");

	/* the report, with plaintext right behind it */
	sendstr(sv[1], "status=ok\nprotocol=TLSv1.3\ncipher=TLS_AES_256_GCM_SHA384"
	    "\nbits=256\ntrust=Verified\nfuture_field=x\nalpn=h2\n\n"
	    "EHLO plaintext");
	is_int(tw_read_outcome(sv[0], 1000, &out, &err), 0, "a report");
	is_str(out.protocol, "TLSv1.3", "... protocol");
	is_int(out.bits, 256, "... bits");
	is_str(out.trust, "Verified", "... trust");
	is_str(out.alpn, "h2", "... alpn");
	is_str(out.peer_cn, "", "... fields left out are empty");
	drain(sv[0], buf, sizeof(buf));
	is_str(buf, "EHLO plaintext", "nothing after the report was consumed");

	sendstr(sv[1], "status=failed\nreason=certificate verification "
	    "failed\n\n");
	is_int(tw_read_outcome(sv[0], 1000, &out, &err), -1, "a failure "
	    "report");
	is_int(err.code, TW_E_HANDSHAKE, "... TW_E_HANDSHAKE");
	is_str(out.reason, "certificate verification failed", "... reason");

	sendstr(sv[1], "refused bad-descriptor not a socket\n");
	is_int(tw_read_outcome(sv[0], 1000, &out, &err), -1, "a refused "
	    "descriptor instead of a report");
	is_str(err.refusal, "bad-descriptor", "... its code");

	/* the descriptor */
	is_int(tw_send_fd(sv[0], STDERR_FILENO, 1000, &err), 0, "pass a "
	    "descriptor");
	{
		char cbuf[CMSG_SPACE(sizeof(int))], b = 0;
		struct iovec iov = { &b, 1 };
		struct msghdr msg;
		struct cmsghdr *c;

		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		got = recvmsg(sv[1], &msg, 0) == 1 && b == 'F' &&
		    (c = CMSG_FIRSTHDR(&msg)) != NULL &&
		    c->cmsg_type == SCM_RIGHTS;
		ok(got, "... one byte \"F\" with SCM_RIGHTS");
		if (got) {
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
			close(fd);
		}
	}
	close(sv[1]);
	is_int(tw_read_answer(sv[0], 1000, &err), -1, "the daemon closed");
	is_int(err.code, TW_E_CLOSED, "... TW_E_CLOSED");
	close(sv[0]);

	is_int(tw_connect("/nonexistent/handoff.sock", 1000, &err), -1,
	    "no control socket");
	is_int(err.code, TW_E_CONNECT, "... TW_E_CONNECT");
	is_str(tw_code_name(TW_E_HANDSHAKE), "handshake-failed", "code names");
}

int
main(void)
{
	test_request();
	test_answers();
	return done();
}
