/*
 * sockbio.c - a socket BIO that collects writes and reports short reads
 * (see sockbio.h for the contract).
 *
 * Runs in: event loop threads. The method is made once before they
 * start; each BIO is used by one thread at a time.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockbio.h"
#include "util.h"

#define SOCKBIO_MIN_CAP	1024	/* smallest allocation (a session
				 * ticket waits in one) */

struct sockbio {
	int		 fd;
	unsigned char	*buf;		/* collected bytes, or NULL */
	size_t		 off;		/* sent up to here */
	size_t		 len;		/* collected up to here */
	size_t		 cap;
	int		 err;		/* errno of a failed send (sticky) */
	int		 drained;	/* last read(2) was short (since
					 * sockbio_reset_drained) */
};

static BIO_METHOD *sockbio_method;

static size_t
sb_pending(const struct sockbio *sb)
{
	return sb->len - sb->off;
}

/* Room for n more bytes: the unsent part moves to the front, the buffer
 * grows. */
static void
sb_reserve(struct sockbio *sb, size_t n)
{
	size_t have = sb_pending(sb), cap;

	if (sb->off > 0) {
		memmove(sb->buf, sb->buf + sb->off, have);
		sb->off = 0;
		sb->len = have;
	}
	if (have + n <= sb->cap)
		return;
	cap = sb->cap ? sb->cap : SOCKBIO_MIN_CAP;
	while (cap < have + n)
		cap *= 2;
	/* Not past what is needed: a doubling to 128 KiB would cross
	 * glibc's mmap threshold, and every flush would map and unmap. */
	if (cap > SOCKBIO_MAX)
		cap = have + n > SOCKBIO_MAX ? have + n : SOCKBIO_MAX;
	sb->buf = xreallocarray(sb->buf, cap, 1);
	sb->cap = cap;
}

static int
sb_write(BIO *b, const char *data, size_t dlen, size_t *written)
{
	struct sockbio *sb = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	*written = 0;
	if (sb->err != 0) {
		errno = sb->err;
		return 0;
	}
	if (sb_pending(sb) > 0 && sb_pending(sb) + dlen > SOCKBIO_MAX) {
		if (sockbio_flush(b) < 0)
			return 0;
		if (sb_pending(sb) > 0 && sb_pending(sb) + dlen > SOCKBIO_MAX) {
			BIO_set_retry_write(b);		/* the socket is full */
			return 0;
		}
	}
	sb_reserve(sb, dlen);
	memcpy(sb->buf + sb->len, data, dlen);
	sb->len += dlen;
	*written = dlen;
	return 1;
}

static int
sb_read(BIO *b, char *out, size_t outl, size_t *readbytes)
{
	struct sockbio *sb = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	*readbytes = 0;
	sb->drained = 0;
	if (out == NULL || outl == 0)
		return 0;
	do
		n = read(sb->fd, out, outl);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		sb->drained = (size_t)n < outl;
		*readbytes = (size_t)n;
		return 1;
	}
	if (n == 0)
		BIO_set_flags(b, BIO_FLAGS_IN_EOF);
	else if (errno == EAGAIN || errno == EWOULDBLOCK)
		BIO_set_retry_read(b);
	return 0;
}

static long
sb_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct sockbio *sb = BIO_get_data(b);

	(void)num;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;	/* the owner sends: sockbio_flush */
	case BIO_CTRL_WPENDING:
		return (long)sb_pending(sb);
	case BIO_CTRL_EOF:
		return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
	case BIO_C_GET_FD:
		if (ptr != NULL)
			*(int *)ptr = sb->fd;
		return sb->fd;
	case BIO_CTRL_DUP:
		return 1;
	default:
		return 0;
	}
}

static int
sb_create(BIO *b)
{
	struct sockbio *sb = xcalloc(1, sizeof(*sb));

	sb->fd = -1;
	BIO_set_data(b, sb);
	BIO_set_init(b, 1);
	return 1;
}

static int
sb_destroy(BIO *b)
{
	struct sockbio *sb = BIO_get_data(b);

	if (sb != NULL) {
		free(sb->buf);
		free(sb);
	}
	BIO_set_data(b, NULL);
	return 1;
}

int
sockbio_init(void)
{
	BIO_METHOD *m;
	int type;

	if (sockbio_method != NULL)
		return 0;
	if ((type = BIO_get_new_index()) < 0 || (m = BIO_meth_new(type | BIO_TYPE_SOURCE_SINK |
	    BIO_TYPE_DESCRIPTOR, "tlsward socket")) == NULL)
		return -1;
	if (!BIO_meth_set_write_ex(m, sb_write) ||
	    !BIO_meth_set_read_ex(m, sb_read) ||
	    !BIO_meth_set_ctrl(m, sb_ctrl) ||
	    !BIO_meth_set_create(m, sb_create) ||
	    !BIO_meth_set_destroy(m, sb_destroy)) {
		BIO_meth_free(m);
		return -1;
	}
	sockbio_method = m;
	return 0;
}

BIO *
sockbio_new(int fd)
{
	BIO *b = BIO_new(sockbio_method);

	if (b != NULL)
		((struct sockbio *)BIO_get_data(b))->fd = fd;
	return b;
}

long
sockbio_flush(BIO *b)
{
	struct sockbio *sb = BIO_get_data(b);
	long sent = 0;
	ssize_t n;

	if (sb->err != 0) {
		errno = sb->err;
		return -1;
	}
	while (sb_pending(sb) > 0) {
		n = send(sb->fd, sb->buf + sb->off, sb_pending(sb),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return sent;
		if (n < 0) {
			sb->err = errno;
			return -1;
		}
		sb->off += (size_t)n;
		sent += n;
	}
	sockbio_discard(b);
	return sent;
}

size_t
sockbio_pending(BIO *b)
{
	return sb_pending(BIO_get_data(b));
}

void
sockbio_discard(BIO *b)
{
	struct sockbio *sb = BIO_get_data(b);

	free(sb->buf);
	sb->buf = NULL;
	sb->off = sb->len = sb->cap = 0;
}

int
sockbio_drained(BIO *b)
{
	return ((struct sockbio *)BIO_get_data(b))->drained;
}

void
sockbio_reset_drained(BIO *b)
{
	((struct sockbio *)BIO_get_data(b))->drained = 0;
}
