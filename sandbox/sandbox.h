/*
 * sandbox.h - confining the tlswardd worker: privilege drop (libcap-ng),
 * process hardening, landlock, and the seccomp allow-list (libseccomp).
 *
 * Runs in: the worker, single-threaded, after every file and socket it
 * needs is open and its SSL_CTXs are built, before any thread starts.
 * After sbx_enter() returns 0 the process has no capabilities, runs as the
 * unprivileged user (when started as root), cannot gain privileges, cannot
 * dump core, cannot open files (landlock where the kernel has it, and
 * seccomp: open/openat are not allowed), and is killed by any syscall
 * outside the allow-list (mode enforce).
 */
#ifndef TLSWARD_SANDBOX_H
#define TLSWARD_SANDBOX_H

#include <stdio.h>
#include <sys/types.h>

/* tlsproxy_sandbox: enforce (default), log (forbidden syscalls are logged
 * by the kernel and allowed; for discovering a missing entry), off (no
 * seccomp filter; the privilege drop and hardening still happen). */
enum sbx_mode {
	SBX_ENFORCE,
	SBX_LOG,
	SBX_OFF,
};

/* Parses "enforce" / "log" / "off"; -1 for anything else. */
int	sbx_mode_parse(const char *s, enum sbx_mode *modep);
const char *sbx_mode_name(enum sbx_mode mode);

/* What the worker becomes. The supervisor resolves the user name to ids
 * (NSS reads files, which the worker must not do). */
struct sbx_opts {
	int		 change_id;	/* 1: switch to uid/gid (started as root) */
	uid_t		 uid;
	gid_t		 gid;
	enum sbx_mode	 mode;
};

/* Resolves user (a name or a numeric uid) to its uid and primary gid.
 * Called in the supervisor. 0, or -1 with err naming the user. */
int	sbx_user_lookup(const char *user, uid_t *uidp, gid_t *gidp, char *err,
	    size_t errlen);

/* Everything, in this order: sbx_drop(), sbx_harden(), sbx_landlock(),
 * sbx_seccomp(). Returns 0, or -1 with err saying which step failed (the
 * caller must then exit: a half-confined worker must not serve). */
int	sbx_enter(const struct sbx_opts *opts, char *err, size_t errlen);

/* With change_id: clears supplementary groups, sets gid and uid, and
 * clears every capability set and the bounding set (libcap-ng). Without:
 * clears the capability sets and, when permitted, the bounding set. */
int	sbx_drop(const struct sbx_opts *opts, char *err, size_t errlen);

/* PR_SET_NO_NEW_PRIVS 1, PR_SET_DUMPABLE 0, RLIMIT_CORE 0. */
int	sbx_harden(char *err, size_t errlen);

/* A landlock ruleset that handles every filesystem access right the
 * kernel knows and allows none. Returns 1 if applied, 0 if the kernel has
 * no landlock (not an error), -1 on failure. */
int	sbx_landlock(char *err, size_t errlen);

/* Installs the seccomp filter for mode (nothing for SBX_OFF), with TSYNC.
 * Default action: kill the process (enforce) or log (log). */
int	sbx_seccomp(enum sbx_mode mode, char *err, size_t errlen);

/* Prints the policy in a stable order: one line per rule, grouped as in
 * the source, "allow NAME  # reason", argument filters, "errno ENOSYS
 * NAME  # reason", and the default action. Compared to t/data/seccomp.policy
 * by a test, so every change is reviewed as a diff. */
void	sbx_policy_print(FILE *fp);

/* The name of syscall number nr on this architecture, for logging a
 * seccomp kill (from the audit/si_syscall data); "?" if unknown. */
const char *sbx_syscall_name(int nr);

#endif
