/*
 * cgroup.h - what the process's control group allows, and the defaults
 * the event loops take from it: tlsproxy_max_sessions = 0 is capped by
 * the memory limit (cgroup v2 memory.max, v1 memory.limit_in_bytes),
 * tlsproxy_event_threads = 0 by the CPU limit (v2 cpu.max, v1
 * cpu.cfs_quota_us / cpu.cfs_period_us). In a container or a unit with
 * MemoryMax=, a session limit from the open-files limit alone would let
 * the kernel's OOM killer end the daemon where refusing connections was
 * the right answer.
 *
 * Runs in: the worker, before the sandbox (it reads /proc/self/cgroup
 * and /sys/fs/cgroup, which the sandbox forbids). No state.
 */
#ifndef TLSWARD_CGROUP_H
#define TLSWARD_CGROUP_H

#include <stdint.h>

/*
 * Memory per session, for the default session limit: measured on
 * x86_64 (OpenSSL 3.0, TLS 1.3, the worker's RSS with 500 to 4,000 idle
 * server-role sessions held open): 15 KiB of the worker's memory plus
 * about 13 KiB of kernel memory (two TCP sockets, charged to the same
 * cgroup), 28 KiB; 64 KiB leaves room for the record and relay buffers
 * of the sessions that move data at the moment. The reserve is for both
 * processes at rest (about 8 MiB each), the TLS contexts and the
 * "tlsward status" probes run in the same container.
 */
#define CG_SESSION_BYTES	(64u * 1024)
#define CG_RESERVE_BYTES	(32u * 1024 * 1024)
#define CG_MIN_SESSIONS		16

struct cg_limits {
	uint64_t	memory_max;	/* bytes; 0: no limit */
	int		cpus;		/* the CPU limit rounded up; 0: none */
};

/* memory.max or memory.limit_in_bytes text: 0 with *bytesp (0 for "max"
 * and for 2^60 bytes or more, v1's way of saying none), -1 if
 * malformed. */
int	cg_memory_parse(const char *text, uint64_t *bytesp);

/* cpu.max text, "QUOTA PERIOD" in microseconds: 0 with *cpusp the quota
 * in CPUs rounded up ("max PERIOD": 0, no limit), -1 if malformed. */
int	cg_cpu_parse(const char *text, int *cpusp);

/* The same from cgroup v1's cpu.cfs_quota_us ("-1": none) and
 * cpu.cfs_period_us. */
int	cg_cpu_v1_parse(const char *quota, const char *period, int *cpusp);

/* The limits of the cgroup that proc_cgroup (a /proc/PID/cgroup file)
 * names, with the cgroup file systems under root (/sys/fs/cgroup): the
 * smallest of the cgroup's own and its ancestors' up to root, from the
 * v2 hierarchy, else from the v1 memory and cpu hierarchies. A cgroup
 * path that does not exist under root (a container that sees only its
 * own cgroup there) is read at root. Missing, unreadable or malformed
 * files mean no limit. */
void	cg_limits_load(const char *proc_cgroup, const char *root,
	    struct cg_limits *l);

/* The process's own: /proc/self/cgroup, /sys/fs/cgroup. With test hooks
 * compiled in, $TLSWARD_TEST_CGROUP_ROOT=DIR reads DIR/cgroup and the
 * files under DIR instead. */
void	cg_limits_get(struct cg_limits *l);

/* The CPUs this process may run on (its affinity mask, else the online
 * CPUs); at least 1. */
int	cg_cpu_count(void);

/* The default session limit for a memory limit: what is left after the
 * reserve (CG_RESERVE_BYTES, or half of the limit when that is less) in
 * CG_SESSION_BYTES per session, at least CG_MIN_SESSIONS; 0 for no
 * limit (memory_max 0). 256 MiB gives 3,584. */
int	cg_max_sessions(uint64_t memory_max);

/* The default number of event loops: ncpus, or the CPU limit cpus when
 * that is less; at least 1. */
int	cg_event_threads(int cpus, int ncpus);

#endif
