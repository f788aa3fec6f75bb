/*
 * sandbox.c - the sandbox's entry points: the tlsproxy_sandbox mode
 * names, the user lookup done for the worker, and sbx_enter(), which runs
 * the confinement steps in their fixed order.
 *
 * Runs in: sbx_user_lookup in the privileged supervisor (it reads the
 * passwd database); sbx_enter in the worker, single-threaded, before it
 * serves. Owns nothing: the steps live in priv.c, landlock.c, seccomp.c.
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"
#include "util.h"

/* Indexed by enum sbx_mode. */
static const char *const sbx_mode_names[] = {
	[SBX_ENFORCE]	= "enforce",
	[SBX_LOG]	= "log",
	[SBX_OFF]	= "off",
};
#define SBX_NMODES	(sizeof(sbx_mode_names) / sizeof(sbx_mode_names[0]))

/* Case-insensitive, like every other word-valued parameter (Postfix). */
int
sbx_mode_parse(const char *s, enum sbx_mode *modep)
{
	size_t i;

	for (i = 0; i < SBX_NMODES; i++) {
		if (strcasecmp(s, sbx_mode_names[i]) == 0) {
			*modep = (enum sbx_mode)i;
			return 0;
		}
	}
	return -1;
}

const char *
sbx_mode_name(enum sbx_mode mode)
{
	if ((size_t)mode >= SBX_NMODES)
		return "?";
	return sbx_mode_names[mode];
}

/* Parses a decimal uid; 0 if s is one, else -1 (then it is a name). */
static int
sbx_parse_uid(const char *s, uid_t *uidp)
{
	unsigned long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	/* (uid_t)-1 means "unchanged" to the set*id calls: never a user. */
	if (errno != 0 || *end != '\0' || v >= (uid_t)-1)
		return -1;
	*uidp = (uid_t)v;
	return 0;
}

/* getpwnam_r / getpwuid_r with a buffer that grows on ERANGE. On a miss
 * returns 0 with *pwp NULL; -1 (errno set) on a lookup failure. */
static int
sbx_getpw(const char *name, uid_t uid, struct passwd *pw,
    struct passwd **pwp, char **bufp)
{
	size_t len = 1024;
	int rc;

	for (;;) {
		*bufp = xreallocarray(*bufp, len, 1);
		if (name != NULL)
			rc = getpwnam_r(name, pw, *bufp, len, pwp);
		else
			rc = getpwuid_r(uid, pw, *bufp, len, pwp);
		if (rc != ERANGE || len >= 1024 * 1024)
			break;
		len *= 2;
	}
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}

int
sbx_user_lookup(const char *user, uid_t *uidp, gid_t *gidp, char *err,
    size_t errlen)
{
	struct passwd pw, *pwp = NULL;
	char *buf = NULL;
	uid_t uid = 0;
	int numeric, rc;

	if (user[0] == '\0')
		return errf(err, errlen, "empty user name");
	numeric = sbx_parse_uid(user, &uid) == 0;
	rc = sbx_getpw(numeric ? NULL : user, uid, &pw, &pwp, &buf);
	if (rc == -1)
		rc = errf_errno(err, errlen, "user %s: passwd lookup", user);
	else if (pwp == NULL)
		rc = errf(err, errlen, "user %s: no such user%s", user,
		    numeric ? " (a numeric uid needs a passwd entry for its"
		    " primary group)" : "");
	else if (pwp->pw_uid == 0)
		rc = errf(err, errlen, "user %s: has uid 0; the worker must not"
		    " run as root", user);
	else {
		*uidp = pwp->pw_uid;
		*gidp = pwp->pw_gid;
	}
	free(buf);
	return rc;
}

/*
 * Lazy libc initialisation that would open files once confined. glibc's
 * malloc reads /sys/devices/system/cpu/online the first time it wants one
 * more arena (around the ninth thread) unless the arena limit is set, and
 * /proc/sys/vm/overcommit_memory the first time it shrinks a thread
 * arena's heap, which only happens above the trim threshold. So: two
 * arenas per CPU (what glibc would choose), and heaps that do not shrink
 * (freed memory is reused; whole heaps are still unmapped).
 */
static int
sbx_libc_prepare(char *err, size_t errlen)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (ncpu < 1)
		ncpu = 1;
#if defined(__SANITIZE_ADDRESS__)
	/* ASan's allocator replaces glibc's (and has no lazy file reads);
	 * it does not implement mallopt. */
	(void)ncpu;
	return 0;
#else
	if (mallopt(M_ARENA_MAX, (int)(ncpu > 32 ? 64 : 2 * ncpu)) != 1 ||
	    mallopt(M_TRIM_THRESHOLD, INT_MAX) != 1)
		return errf(err, errlen, "mallopt failed");
	return 0;
#endif
}

int
sbx_enter(const struct sbx_opts *opts, char *err, size_t errlen)
{
	char why[512];
	int rc;

	if (sbx_libc_prepare(why, sizeof(why)) == -1)
		return errf(err, errlen, "sandbox: %s", why);
	if (sbx_drop(opts, why, sizeof(why)) == -1)
		return errf(err, errlen, "sandbox: privilege drop: %s", why);
	if (sbx_harden(why, sizeof(why)) == -1)
		return errf(err, errlen, "sandbox: hardening: %s", why);
	rc = sbx_landlock(why, sizeof(why));
	if (rc == -1)
		return errf(err, errlen, "sandbox: landlock: %s", why);
	if (rc == 0 && opts->mode != SBX_OFF)
		log_info("sandbox: no landlock in this kernel; file access is"
		    " refused by seccomp alone");
	if (rc == 0 && opts->mode == SBX_OFF)
		log_warnx("sandbox: no landlock in this kernel and seccomp is"
		    " off; nothing refuses file access");
	if (sbx_seccomp(opts->mode, why, sizeof(why)) == -1)
		return errf(err, errlen, "sandbox: seccomp (%s): %s",
		    sbx_mode_name(opts->mode), why);
	return 0;
}
