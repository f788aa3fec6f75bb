/*
 * stack.h - session thread stacks: their size, and giving back the pages
 * a handshake touched once a session goes idle.
 *
 * Runs in: worker session threads. A thread stack keeps every page it
 * ever touched; a TLS handshake goes a dozen KiB deep, an idle relay a
 * few hundred bytes. Returning the difference keeps an idle session's
 * stack at about two pages.
 */
#ifndef TLSWARD_STACK_H
#define TLSWARD_STACK_H

#include <stddef.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TLSWARD_SANITIZED_STACKS	1
#endif
#if __has_feature(thread_sanitizer)
#define TLSWARD_TSAN	1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define TLSWARD_TSAN	1
#endif
/* Instrumented code needs deeper stacks (ASan's redzones, TSan's
 * runtime). */
#if defined(__SANITIZE_ADDRESS__) || defined(TLSWARD_TSAN) || \
    defined(TLSWARD_SANITIZED_STACKS)
#define STACK_SIZE	(2u << 20)
#else
#define STACK_SIZE	(256u << 10)	/* see tlswardd(8), PROCESSES */
#endif

/* Records where this thread's stack starts; call first thing in the
 * thread's start routine. */
void	stack_mark(void);

/* Releases the pages of this thread's stack below the caller's frame
 * (madvise MADV_DONTNEED); they fault back in, zeroed, if used again.
 * Does nothing in a thread that did not call stack_mark(), nor under
 * ThreadSanitizer (whose runtime crashes on stack pages zeroed under
 * it: 200 concurrent hand-offs, t/96). */
void	stack_trim(void);

#endif
