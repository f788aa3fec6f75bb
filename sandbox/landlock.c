/*
 * landlock.c - takes the worker's filesystem away: a landlock ruleset
 * that handles every filesystem access right the running kernel knows and
 * has no rule, so no path can be opened, created, removed or executed.
 * Descriptors opened before stay usable (landlock checks at open time).
 *
 * Runs in: the worker, after sbx_harden() (landlock_restrict_self needs
 * no_new_privs), before the seccomp filter (which does not allow the
 * landlock syscalls). Owns nothing: the ruleset fd is closed on return.
 *
 * Raw syscall(2): glibc has no wrappers. The constants that older
 * <linux/landlock.h> lack are defined here with their kernel values.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<linux/landlock.h>)
#include <linux/landlock.h>
#endif
#endif

#include "sandbox.h"
#include "util.h"

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION		(1U << 0)
#endif
#ifndef LANDLOCK_ACCESS_FS_EXECUTE		/* ABI 1 (Linux 5.13) */
#define LANDLOCK_ACCESS_FS_EXECUTE		(1ULL << 0)
#define LANDLOCK_ACCESS_FS_WRITE_FILE		(1ULL << 1)
#define LANDLOCK_ACCESS_FS_READ_FILE		(1ULL << 2)
#define LANDLOCK_ACCESS_FS_READ_DIR		(1ULL << 3)
#define LANDLOCK_ACCESS_FS_REMOVE_DIR		(1ULL << 4)
#define LANDLOCK_ACCESS_FS_REMOVE_FILE		(1ULL << 5)
#define LANDLOCK_ACCESS_FS_MAKE_CHAR		(1ULL << 6)
#define LANDLOCK_ACCESS_FS_MAKE_DIR		(1ULL << 7)
#define LANDLOCK_ACCESS_FS_MAKE_REG		(1ULL << 8)
#define LANDLOCK_ACCESS_FS_MAKE_SOCK		(1ULL << 9)
#define LANDLOCK_ACCESS_FS_MAKE_FIFO		(1ULL << 10)
#define LANDLOCK_ACCESS_FS_MAKE_BLOCK		(1ULL << 11)
#define LANDLOCK_ACCESS_FS_MAKE_SYM		(1ULL << 12)
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER		/* ABI 2 (Linux 5.19) */
#define LANDLOCK_ACCESS_FS_REFER		(1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE		/* ABI 3 (Linux 6.2) */
#define LANDLOCK_ACCESS_FS_TRUNCATE		(1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV		/* ABI 5 (Linux 6.10) */
#define LANDLOCK_ACCESS_FS_IOCTL_DEV		(1ULL << 15)
#endif

/* The filesystem rights each ABI version added (ABI 4 added network
 * rights, 6 and later scopes and logging: none of those is a filesystem
 * right). A kernel newer than the last row gets every right we know; a
 * right we do not know cannot be named (the kernel would say EINVAL). */
static const struct {
	int		 abi;
	uint64_t	 rights;
} sbx_ll_fs_rights[] = {
	{ 1, LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM },
	{ 2, LANDLOCK_ACCESS_FS_REFER },
	{ 3, LANDLOCK_ACCESS_FS_TRUNCATE },
	{ 5, LANDLOCK_ACCESS_FS_IOCTL_DEV },
};

/* struct landlock_ruleset_attr's first member, which is all we set; the
 * kernel accepts any prefix of the structure it knows. */
struct sbx_ll_attr {
	uint64_t	 handled_access_fs;
};

#ifdef SYS_landlock_create_ruleset

static uint64_t
sbx_ll_rights(int abi)
{
	uint64_t rights = 0;
	size_t i;

	for (i = 0; i < sizeof(sbx_ll_fs_rights) /
	    sizeof(sbx_ll_fs_rights[0]); i++)
		if (sbx_ll_fs_rights[i].abi <= abi)
			rights |= sbx_ll_fs_rights[i].rights;
	return rights;
}

int
sbx_landlock(char *err, size_t errlen)
{
	struct sbx_ll_attr attr;
	long abi, fd;
	int rc = 1;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi == -1 && (errno == ENOSYS || errno == EOPNOTSUPP))
		return 0;	/* not built, or disabled at boot */
	if (abi < 1)
		return errf_errno(err, errlen, "landlock ABI version");

	attr.handled_access_fs = sbx_ll_rights((int)abi);
	fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd == -1)
		return errf_errno(err, errlen, "landlock_create_ruleset "
		    "(ABI %ld, rights %#llx)", abi,
		    (unsigned long long)attr.handled_access_fs);
	/* No landlock_add_rule: nothing beneath any path is allowed. */
	if (syscall(SYS_landlock_restrict_self, (int)fd, 0) == -1)
		rc = errf_errno(err, errlen, "landlock_restrict_self");
	close((int)fd);
	return rc;
}

#else /* headers without landlock syscall numbers */

int
sbx_landlock(char *err, size_t errlen)
{
	return 0;
}

#endif
