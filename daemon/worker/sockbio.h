/*
 * sockbio.h - the socket BIO of event-loop sessions: what OpenSSL writes
 * is collected and leaves with one send(2) when the session has nothing
 * more to do; reads go straight to the socket and say whether they
 * emptied it.
 *
 * Runs in: event loop threads; a BIO belongs to one session.
 *
 * Why: with OpenSSL's socket BIO every record is a system call and a
 * loopback or network segment of its own. Collected, a TLS 1.3 session
 * ticket leaves with the first response, the records of a bulk transfer
 * leave 64 KiB at a time, and a relay round of small records is one
 * segment. A short read tells an edge-triggered relay that the socket is
 * empty, which saves the read(2) that would only say EAGAIN.
 *
 * Contract: BIO_flush (which OpenSSL calls at the end of each handshake
 * flight) only reports success; the owner calls sockbio_flush before it
 * waits for events and before it closes the socket, and may end a
 * session only when sockbio_pending is 0 (or the peer is gone). A write
 * that does not fit in the buffer first flushes; if the socket cannot
 * take it, the write is refused with a retry (SSL_ERROR_WANT_WRITE), all
 * or nothing, so OpenSSL retries the same record. Idle BIOs hold no
 * buffer. The descriptor is the owner's: the BIO never closes it.
 */
#ifndef TLSWARD_SOCKBIO_H
#define TLSWARD_SOCKBIO_H

#include <stddef.h>

#include <openssl/bio.h>

/* Bytes collected before a send: four full records (16 KiB of data and
 * at most 256 bytes of header, tag and padding each), what the relay
 * encrypts from one 64 KiB read. */
#define SOCKBIO_MAX	(4 * (16384 + 256))

/* Makes the BIO method; once, before the event loops start. -1 if
 * OpenSSL cannot. */
int	sockbio_init(void);

/* A BIO on socket fd (non-blocking), or NULL. SSL_set_bio takes it. */
BIO	*sockbio_new(int fd);

/* Sends what is collected. Returns the bytes sent (0 if nothing was
 * there or the socket is full: then sockbio_pending says what is left),
 * or -1 with errno set; after an error nothing more is sent. */
long	sockbio_flush(BIO *b);

/* Bytes collected and not yet sent. */
size_t	sockbio_pending(BIO *b);

/* Drops what is collected (the peer is gone). */
void	sockbio_discard(BIO *b);

/* 1 if a read(2) since sockbio_reset_drained returned less than it
 * asked for (and none after it read anything): the socket was empty
 * then, and data that comes later is a new epoll event. Reset before an
 * SSL_read: one served from OpenSSL's buffer reads nothing, and an older
 * short read says nothing about data that came since. */
int	sockbio_drained(BIO *b);
void	sockbio_reset_drained(BIO *b);

#endif
