/*
 * ipc.h - framed messages between the supervisor and the worker over a
 * SOCK_STREAM socketpair, with file descriptors attached (SCM_RIGHTS).
 *
 * Runs in: both processes. A message is a header {type, length} followed
 * by length bytes; up to IPC_MAX_FDS descriptors ride on the header. The
 * receiver trusts the sender only as far as the framing: lengths are
 * bounded, unexpected descriptors are closed.
 */
#ifndef TLSWARD_IPC_H
#define TLSWARD_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define IPC_MAX_FDS	253		/* SCM_MAX_FD on Linux */
#define IPC_MAX_LEN	(64u << 20)	/* a snapshot with CA bundles */

enum ipc_type {
	IPC_SNAPSHOT = 1,	/* s->w: configuration snapshot, with every
				 * listener (svc.I.listen_fd indexes them);
				 * at start and at each reload */
	IPC_READY,		/* w->s: snapshot applied, serving; after a
				 * reload the payload is the generation */
	IPC_REJECT,		/* w->s: snapshot not applied; payload: why */
	IPC_DRAIN,		/* s->w: stop accepting, finish sessions;
				 * payload: the deadline in ms */
	IPC_STATUS,		/* s->w: request; w->s: status records
				 * (status.h) */
	IPC_TEST_SYSCALL,	/* s->w: test hook (--enable-test-hooks only) */
	IPC_COUNTERS,		/* s->w: what only the supervisor knows, for
				 * the metrics: "restarts=N reloads_ok=N
				 * reloads_failed=N"; after a worker start
				 * and after every reload; no answer */
	IPC_FORWARD,		/* s->w: a forward target's new addresses
				 * (struct ipc_forward), without a reload */
};

/* IPC_FORWARD's payload: the addresses of target tgt_idx of service
 * svc_idx. The worker applies it to the generation it serves if that
 * service and target are still named svc and text there (a reload in
 * between looked the name up itself). */
#define IPC_FWD_MAX_ADDRS	16
struct ipc_forward {
	uint32_t		 svc_idx;
	uint32_t		 tgt_idx;
	uint32_t		 naddr;		/* 0: the name does not resolve */
	char			 svc[72];	/* NUL-terminated */
	char			 text[320];	/* HOST:PORT, NUL-terminated */
	struct sockaddr_storage	 addr[IPC_FWD_MAX_ADDRS];
};

struct ipc_msg {
	uint32_t	 type;
	uint32_t	 len;
	unsigned char	*data;		/* len bytes (+ a NUL), owned */
	int		 fds[IPC_MAX_FDS];
	size_t		 nfds;
};

/* Sends one message with nfds descriptors (not closed). Blocking; retries
 * on EINTR. 0 or -1 with errno. */
int	ipc_send(int sock, uint32_t type, const void *data, size_t len,
	    const int *fds, size_t nfds);

/* Receives one message into m (free with ipc_msg_fini, which also closes
 * descriptors not taken by setting them to -1). Returns 1, 0 on a clean
 * EOF before a header, -1 on error (errno; EPROTO for bad framing). */
int	ipc_recv(int sock, struct ipc_msg *m);
void	ipc_msg_fini(struct ipc_msg *m);

#endif
