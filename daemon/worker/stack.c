/*
 * stack.c - releasing the unused depth of a session thread's stack.
 *
 * Runs in: worker session threads; state is thread-local. Only memory
 * strictly inside this thread's own stack mapping is released: from 64 KiB
 * above the lowest possible address (the mapping also holds the thread's
 * descriptor and static TLS above the first frame, far less than that) up
 * to one page below the caller's frame.
 */
#include "config.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stack.h"

#define STACK_PAGE	4096u
#define STACK_MARGIN	(64u << 10)

static __thread uintptr_t stack_start;

void
stack_mark(void)
{
	stack_start = (uintptr_t)__builtin_frame_address(0);
}

void
stack_trim(void)
{
#ifndef TLSWARD_TSAN
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0), lo, hi;

	if (stack_start == 0)
		return;
	lo = (stack_start - STACK_SIZE + STACK_MARGIN + STACK_PAGE - 1) &
	    ~(uintptr_t)(STACK_PAGE - 1);
	hi = (sp - STACK_PAGE) & ~(uintptr_t)(STACK_PAGE - 1);
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
#endif
}
