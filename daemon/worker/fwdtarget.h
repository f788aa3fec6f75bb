/*
 * fwdtarget.h - one forward target of a service as the worker sees it:
 * its current addresses, which the supervisor may replace while the
 * generation serves (IPC_FORWARD), and its passive health: a target
 * whose connects fail is skipped for a while, shared by every loop.
 *
 * Runs in: the worker (event loops connect, the main thread applies
 * IPC_FORWARD). Owns the address sets and the health state.
 *
 * Addresses: an immutable, reference-counted set behind a pointer that a
 * short lock guards while it is read and referenced, so an update swaps
 * it while sessions keep the set they are connecting with.
 *
 * Health: a target is up until a connect to all its addresses fails or
 * times out; then it is down and skipped for FWDT_BACKOFF_MIN_MS,
 * doubling at each failed retry up to FWDT_BACKOFF_MAX_MS; the first
 * connect that succeeds makes it up again. Changes are logged, and a
 * target going down is reported to the supervisor, which looks its name
 * up again.
 */
#ifndef TLSWARD_FWDTARGET_H
#define TLSWARD_FWDTARGET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define FWDT_BACKOFF_MIN_MS	10000
#define FWDT_BACKOFF_MAX_MS	300000

/* Log channel record (worker.h's log socket) that reports a target
 * down: "\004" FWDT_DOWN_TAG "SVC_IDX TGT_IDX". */
#define FWDT_DOWN_TAG		"forward-down "

struct fwd_addrs {
	int			 refs;		/* atomic */
	size_t			 n;		/* 0: does not resolve */
	struct sockaddr_storage	 a[];
};

struct fwd_target {
	char			*text;		/* as in services.cf */
	size_t			 svc_idx;	/* for the report */
	size_t			 tgt_idx;
	pthread_mutex_t		 lock;		/* addrs, and the health
						 * transitions */
	struct fwd_addrs	*addrs;
	int			 down;		/* atomic */
	int64_t			 retry_ms;	/* atomic: skipped until then
						 * while down */
	int64_t			 backoff_ms;	/* under lock */
};

/* Sets t up with addresses addr (len bytes of sockaddr_storage
 * records). */
void	fwdt_init(struct fwd_target *t, const char *text, size_t svc_idx,
	    size_t tgt_idx, const void *addr, size_t len);
void	fwdt_fini(struct fwd_target *t);

/* The current address set, referenced for the caller. */
struct fwd_addrs *fwdt_addrs(struct fwd_target *t);
/* Drops a reference; NULL is a no-op. */
void	fwdt_addrs_unref(struct fwd_addrs *a);

/* Takes the health of old, the same target in the generation that a
 * reload replaces: a target that was down stays down (and skipped) for
 * the rest of its pause, and its backoff goes on doubling. t is not in
 * use yet; old may be. */
void	fwdt_inherit(struct fwd_target *t, struct fwd_target *old);

/* Replaces the address set (n records). A target that is down is tried
 * again at once if the set changed: its failures were the old
 * addresses'. */
void	fwdt_update(struct fwd_target *t, const struct sockaddr_storage *ss,
	    size_t n);

/* 1 if t is to be tried now: up, or down and its retry is due. */
int	fwdt_usable(const struct fwd_target *t, int64_t now_ms);

/* A connect to every address of t failed (why: the last reason), or
 * one connect succeeded. Thread-safe. */
void	fwdt_failed(struct fwd_target *t, const char *svc, const char *why,
	    int64_t now_ms);
void	fwdt_succeeded(struct fwd_target *t, const char *svc);

/* Where fwdt_failed reports (the worker's log socket); -1: nowhere. */
void	fwdt_set_report_fd(int fd);

#endif
