/*
 * ipc.c - framed messages with descriptors over a stream socketpair.
 *
 * Runs in: supervisor and worker. No state.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"
#include "util.h"

struct ipc_hdr {
	uint32_t	type;
	uint32_t	len;
};

/* Writes all of p, retrying on EINTR and short writes. */
static int
send_all(int sock, const void *p, size_t len)
{
	const char *c = p;
	ssize_t n;

	while (len > 0) {
		n = send(sock, c, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ipc_send(int sock, uint32_t type, const void *data, size_t len,
    const int *fds, size_t nfds)
{
	struct ipc_hdr h = { type, (uint32_t)len };
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr mh;
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
	} cm;
	ssize_t n;

	if (len > IPC_MAX_LEN || nfds > IPC_MAX_FDS) {
		errno = EMSGSIZE;
		return -1;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	/* The descriptors went with the first byte; finish the header. */
	if ((size_t)n < sizeof(h) &&
	    send_all(sock, (char *)&h + n, sizeof(h) - (size_t)n) < 0)
		return -1;
	return send_all(sock, data, len);
}

/* Reads exactly len bytes; 1, 0 on EOF before any byte, -1 on error. */
static int
recv_all(int sock, void *p, size_t len)
{
	char *c = p;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = recv(sock, c + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			if (got == 0)
				return 0;
			errno = EPROTO;
			return -1;
		}
		got += (size_t)n;
	}
	return 1;
}

/* Collects SCM_RIGHTS descriptors of mh into m. */
static void
take_fds(struct msghdr *mh, struct ipc_msg *m)
{
	struct cmsghdr *c;
	size_t i, n;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (m->nfds < IPC_MAX_FDS)
				m->fds[m->nfds++] = fd;
			else
				close(fd);
		}
	}
}

int
ipc_recv(int sock, struct ipc_msg *m)
{
	struct ipc_hdr h;
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr mh;
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
	} cm;
	ssize_t n;

	memset(m, 0, sizeof(*m));
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n == 0 ? 0 : -1;
	take_fds(&mh, m);
	if ((size_t)n < sizeof(h) &&
	    recv_all(sock, (char *)&h + n, sizeof(h) - (size_t)n) != 1)
		goto bad;
	if ((mh.msg_flags & MSG_CTRUNC) || h.len > IPC_MAX_LEN)
		goto bad;
	m->type = h.type;
	m->len = h.len;
	m->data = xmalloc((size_t)h.len + 1);
	if (h.len > 0 && recv_all(sock, m->data, h.len) != 1)
		goto bad;
	m->data[h.len] = '\0';
	return 1;
bad:
	ipc_msg_fini(m);
	errno = EPROTO;
	return -1;
}

void
ipc_msg_fini(struct ipc_msg *m)
{
	size_t i;

	for (i = 0; i < m->nfds; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	if (m->data != NULL)	/* snapshots carry private keys */
		explicit_bzero(m->data, m->len);
	free(m->data);
	memset(m, 0, sizeof(*m));
}
