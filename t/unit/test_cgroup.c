/*
 * test_cgroup.c - daemon/worker/cgroup.c: the limit files' syntax (cgroup v2
 * memory.max and cpu.max, v1 memory.limit_in_bytes and the CFS quota),
 * reading them from fixture trees laid out as a container, a systemd
 * unit and a v1 host see them (the smallest limit of the cgroup and its
 * ancestors), and the defaults derived from them: the session limit from
 * memory (256 MiB: 3,584 sessions) and the event loops from CPUs
 * (1.5 CPUs: 2 loops).
 *
 * Runs in: "make check" (TAP).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "tap.h"

#define MiB	(UINT64_C(1) << 20)
/* "%.*s" arguments: a text up to its newline, for a test name. */
#define LINE(t)	(int)strcspn((t), "\n"), (t)

static char root[256];

static const struct {
	const char	*text;
	int		 rc;
	uint64_t	 bytes;
} memory_cases[] = {
	{ "268435456\n", 0, 268435456 },
	{ "max\n", 0, 0 },
	{ "9223372036854771712\n", 0, 0 },	/* v1: no limit */
	{ "1073741824", 0, 1073741824 },
	{ "", -1, 0 },
	{ "-5\n", -1, 0 },
	{ "12k\n", -1, 0 },
	{ "maximum\n", -1, 0 },
};

static const struct {
	const char	*text;
	int		 rc;
	int		 cpus;
} cpu_cases[] = {
	{ "150000 100000\n", 0, 2 },
	{ "max 100000\n", 0, 0 },
	{ "100000 100000\n", 0, 1 },
	{ "50000 100000\n", 0, 1 },
	{ "400000 100000\n", 0, 4 },
	{ "250001 100000\n", 0, 3 },
	{ "150000\n", -1, 0 },
	{ "0 100000\n", -1, 0 },
	{ "max\n", -1, 0 },
	{ "150000 0\n", -1, 0 },
	{ "x 100000\n", -1, 0 },
};

static void
test_parsers(void)
{
	uint64_t bytes;
	size_t i;
	int cpus;

	for (i = 0; i < sizeof(memory_cases) / sizeof(memory_cases[0]); i++) {
		const char *t = memory_cases[i].text;

		is_int(cg_memory_parse(t, &bytes), memory_cases[i].rc,
		    "memory \"%.*s\": return", LINE(t));
		if (memory_cases[i].rc == 0)
			is_int((long long)bytes, (long long)memory_cases[i].bytes,
			    "memory \"%.*s\": bytes", LINE(t));
	}
	for (i = 0; i < sizeof(cpu_cases) / sizeof(cpu_cases[0]); i++) {
		const char *t = cpu_cases[i].text;

		is_int(cg_cpu_parse(t, &cpus), cpu_cases[i].rc,
		    "cpu.max \"%.*s\": return", LINE(t));
		if (cpu_cases[i].rc == 0)
			is_int(cpus, cpu_cases[i].cpus, "cpu.max \"%.*s\": CPUs",
			    LINE(t));
	}
	is_int(cg_cpu_v1_parse("-1\n", "100000\n", &cpus), 0, "v1 quota -1");
	is_int(cpus, 0, "v1 quota -1: no limit");
	is_int(cg_cpu_v1_parse("150000\n", "100000\n", &cpus), 0, "v1 quota");
	is_int(cpus, 2, "v1 quota 150000/100000: 2 CPUs");
	is_int(cg_cpu_v1_parse("abc\n", "100000\n", &cpus), -1, "v1 bad quota");
}

/* Writes root/rel (making its directories) with text. */
static void
put(const char *rel, const char *text)
{
	char path[600], *p;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			perror(path);
		*p = '/';
	}
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, fp);
	fclose(fp);
}

/* A fresh fixture tree. */
static void
fresh(const char *name)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0 || mkdir(root, 0755) < 0) {
		perror(root);
		exit(1);
	}
	diag("%s", name);
}

static void
load(struct cg_limits *l)
{
	char proc[300];

	snprintf(proc, sizeof(proc), "%s/cgroup", root);
	cg_limits_load(proc, root, l);
}

static void
test_trees(void)
{
	struct cg_limits l;

	fresh("v2, a container's own cgroup namespace");
	put("cgroup", "0::/\n");
	put("memory.max", "268435456\n");
	put("cpu.max", "150000 100000\n");
	load(&l);
	is_int((long long)l.memory_max, 268435456, "memory.max 268435456");
	is_int(l.cpus, 2, "cpu.max 150000 100000: 2 CPUs");

	fresh("v2, no limits");
	put("cgroup", "0::/\n");
	put("memory.max", "max\n");
	put("cpu.max", "max 100000\n");
	load(&l);
	is_int((long long)l.memory_max, 0, "memory.max max: no limit");
	is_int(l.cpus, 0, "cpu.max max: no limit");

	fresh("v2, a unit below a slice: the smallest of the ancestors");
	put("cgroup", "0::/system.slice/tlswardd.service\n");
	put("system.slice/memory.max", "536870912\n");
	put("system.slice/tlswardd.service/memory.max", "max\n");
	put("system.slice/cpu.max", "max 100000\n");
	put("system.slice/tlswardd.service/cpu.max", "50000 100000\n");
	load(&l);
	is_int((long long)l.memory_max, 536870912, "the slice's 512 MiB");
	is_int(l.cpus, 1, "the unit's half CPU: 1");

	fresh("v2, a cgroup path outside what the container sees");
	put("cgroup", "0::/kubepods/pod1/ctr\n");
	put("memory.max", "134217728\n");
	load(&l);
	is_int((long long)l.memory_max, 134217728, "read at the root");
	is_int(l.cpus, 0, "no cpu.max: no limit");

	fresh("v1 (hybrid host: the v2 hierarchy has no controllers)");
	put("cgroup", "5:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n"
	    "1:name=systemd:/docker/abc\n0::/docker/abc\n");
	put("memory/docker/abc/memory.limit_in_bytes", "268435456\n");
	put("memory/memory.limit_in_bytes", "9223372036854771712\n");
	put("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "200000\n");
	put("cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
	load(&l);
	is_int((long long)l.memory_max, 268435456, "v1 memory.limit_in_bytes");
	is_int(l.cpus, 2, "v1 CFS quota: 2 CPUs");

	fresh("v1 without limits");
	put("cgroup", "4:memory:/x\n1:cpu:/x\n");
	put("memory/x/memory.limit_in_bytes", "9223372036854771712\n");
	put("cpu/x/cpu.cfs_quota_us", "-1\n");
	put("cpu/x/cpu.cfs_period_us", "100000\n");
	load(&l);
	is_int((long long)l.memory_max, 0, "v1 no memory limit");
	is_int(l.cpus, 0, "v1 no CPU limit");

	fresh("no /proc/self/cgroup");
	load(&l);
	is_int((long long)l.memory_max + l.cpus, 0, "no limits");
}

static void
test_defaults(void)
{
	int n = cg_max_sessions(256 * MiB);

	is_int(n, 3584, "256 MiB: (256 - 32) MiB at 64 KiB a session");
	ok((uint64_t)n * 28 * 1024 < 256 * MiB - 16 * MiB,
	    "256 MiB: %d idle sessions (28 KiB measured) fit", n);
	is_int(cg_max_sessions(0), 0, "no memory limit: no session limit");
	is_int(cg_max_sessions(8 * MiB), 64, "8 MiB: half is reserved");
	is_int(cg_max_sessions(MiB / 2), CG_MIN_SESSIONS, "a tiny limit: "
	    "the minimum");
	is_int(cg_max_sessions(4096 * MiB), 65024, "4 GiB");
	is_int(cg_event_threads(2, 8), 2, "2 CPUs of 8: 2 loops");
	is_int(cg_event_threads(0, 8), 8, "no CPU limit: one loop per CPU");
	is_int(cg_event_threads(16, 8), 8, "a limit above the CPUs: the CPUs");
	is_int(cg_event_threads(0, 0), 1, "at least one loop");
	ok(cg_cpu_count() >= 1, "this process may run on %d CPUs",
	    cg_cpu_count());
}

int
main(void)
{
	char cmd[300];

	snprintf(root, sizeof(root), "%s/tlsward-cg.%ld",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp",
	    (long)getpid());
	test_parsers();
	test_trees();
	test_defaults();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		diag("cannot remove %s", root);
	return done();
}
