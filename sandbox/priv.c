/*
 * priv.c - the worker's privilege drop (user, groups, capabilities) and
 * process hardening (no new privileges, not dumpable, no core files).
 * Every step is read back from the kernel afterwards: a drop that did not
 * happen is an error, never a silent success.
 *
 * Runs in: the worker, single-threaded (set*id must not race threads),
 * as root or as the unprivileged user; nothing here runs after the seccomp
 * filter is loaded. Owns nothing (libcap-ng keeps its own state).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cap-ng.h>
#include <linux/capability.h>

#include "sandbox.h"
#include "util.h"

/* capng_change_id()'s failure codes, as capng_change_id(3) lists them. */
static const char *const sbx_capng_errors[] = {
	[1]	= "libcap-ng state not initialised",
	[2]	= "prctl(PR_SET_KEEPCAPS, 1) failed",
	[3]	= "applying the intermediate capabilities failed",
	[4]	= "changing the gid failed",
	[5]	= "dropping the supplementary groups failed",
	[6]	= "changing the uid failed",
	[7]	= "prctl(PR_SET_KEEPCAPS, 0) failed",
	[8]	= "clearing the bounding set failed",
	[9]	= "dropping CAP_SETPCAP or the ambient set failed",
	[10]	= "initialising the supplementary groups failed",
};
#define SBX_NCAPNG_ERRORS \
	(sizeof(sbx_capng_errors) / sizeof(sbx_capng_errors[0]))

/* Root: groups, gid, uid, then every capability set and the bounding set. */
static int
sbx_drop_to_user(const struct sbx_opts *opts, char *err, size_t errlen)
{
	int rc;

	capng_clear(CAPNG_SELECT_ALL);
	rc = capng_change_id((int)opts->uid, (int)opts->gid,
	    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING | CAPNG_CLEAR_AMBIENT);
	if (rc == 0)
		return 0;
	if (-rc > 0 && (size_t)-rc < SBX_NCAPNG_ERRORS)
		return errf_errno(err, errlen, "capng_change_id(%u, %u): %s",
		    (unsigned)opts->uid, (unsigned)opts->gid,
		    sbx_capng_errors[-rc]);
	return errf_errno(err, errlen, "capng_change_id(%u, %u): error %d",
	    (unsigned)opts->uid, (unsigned)opts->gid, rc);
}

/* Not root (or told not to switch): clear the capability sets; the
 * bounding set only when CAP_SETPCAP allows it. */
static int
sbx_drop_caps(int *boundedp, char *err, size_t errlen)
{
	int select = CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT;

	if (capng_get_caps_process() != 0)
		return errf_errno(err, errlen, "capng_get_caps_process");
	*boundedp = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	if (*boundedp)
		select |= CAPNG_SELECT_BOUNDS;
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_apply(select) != 0)
		return errf_errno(err, errlen, "capng_apply");
	return 0;
}

/* All three ids of both kinds are the target, and no supplementary group. */
static int
sbx_check_ids(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int n;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		return errf_errno(err, errlen, "getresuid/getresgid");
	if (ru != uid || eu != uid || su != uid)
		return errf(err, errlen, "uids are %u/%u/%u, want %u",
		    (unsigned)ru, (unsigned)eu, (unsigned)su, (unsigned)uid);
	if (rg != gid || eg != gid || sg != gid)
		return errf(err, errlen, "gids are %u/%u/%u, want %u",
		    (unsigned)rg, (unsigned)eg, (unsigned)sg, (unsigned)gid);
	if ((n = getgroups(0, NULL)) != 0)
		return errf(err, errlen, "%d supplementary groups remain", n);
	return 0;
}

/* Effective, permitted and inheritable sets are empty (capget(2) itself,
 * not libcap-ng's cached view). */
static int
sbx_check_capsets(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	int i;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) == -1)
		return errf_errno(err, errlen, "capget");
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective | data[i].permitted | data[i].inheritable)
			return errf(err, errlen, "capabilities remain "
			    "(word %d: eff %#x prm %#x inh %#x)", i,
			    data[i].effective, data[i].permitted,
			    data[i].inheritable);
	return 0;
}

/* No ambient capability, and (when bounded) none in the bounding set.
 * PR_CAPBSET_READ fails with EINVAL past the kernel's last capability. */
static int
sbx_check_ambient_bounding(int bounded, char *err, size_t errlen)
{
	unsigned long cap;
	int r;

	for (cap = 0; (r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0)) >= 0; cap++) {
		if (bounded && r == 1)
			return errf(err, errlen, "capability %lu is still in "
			    "the bounding set", cap);
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) > 0)
			return errf(err, errlen, "capability %lu is still "
			    "ambient", cap);
	}
	if (errno != EINVAL || cap == 0)
		return errf_errno(err, errlen, "prctl(PR_CAPBSET_READ, %lu)",
		    cap);
	return 0;
}

int
sbx_drop(const struct sbx_opts *opts, char *err, size_t errlen)
{
	int bounded = 1;

	if (opts->change_id) {
		if (opts->uid == 0)
			return errf(err, errlen, "refusing to switch to uid 0");
		if (sbx_drop_to_user(opts, err, errlen) == -1)
			return -1;
		if (sbx_check_ids(opts->uid, opts->gid, err, errlen) == -1)
			return -1;
	} else if (sbx_drop_caps(&bounded, err, errlen) == -1)
		return -1;
	if (sbx_check_capsets(err, errlen) == -1)
		return -1;
	return sbx_check_ambient_bounding(bounded, err, errlen);
}

int
sbx_harden(char *err, size_t errlen)
{
	struct rlimit rl = { 0, 0 };

	/* Execve can no longer grant anything (setuid bits, file caps); also
	 * what lets an unprivileged process load landlock and seccomp. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return errf_errno(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS)");
	/* No ptrace attach by our own uid, /proc/PID files owned by root. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return errf_errno(err, errlen, "prctl(PR_SET_DUMPABLE)");
	/* The worker holds private keys: they must never land in a core. */
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		return errf_errno(err, errlen, "setrlimit(RLIMIT_CORE)");
	/* Dies with the supervisor, even stopped or wedged: an orphan must
	 * not keep serving on the listeners it inherited. Here, after the
	 * ID change, which clears it. (A supervisor gone before this is
	 * seen as the end of the IPC socket.) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		return errf_errno(err, errlen, "prctl(PR_SET_PDEATHSIG)");

	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return errf(err, errlen, "no_new_privs did not stick");
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return errf(err, errlen, "dumpable did not stick");
	if (getrlimit(RLIMIT_CORE, &rl) == -1)
		return errf_errno(err, errlen, "getrlimit(RLIMIT_CORE)");
	if (rl.rlim_cur != 0 || rl.rlim_max != 0)
		return errf(err, errlen, "RLIMIT_CORE did not stick");
	return 0;
}
