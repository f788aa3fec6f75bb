/*
 * cgroup.c - reading the memory and CPU limits of the process's control
 * group (see cgroup.h).
 *
 * Runs in: the worker, before the sandbox. Owns nothing beyond a call.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "util.h"

#define CG_NO_LIMIT	(UINT64_C(1) << 60)	/* v1: 0x7ffffffffffff000 */
#define CG_FILE_MAX	8192

/* The limit files of one kind: their names and how to read them. */
struct cg_kind {
	const char	*file;		/* the file, or v1's quota file */
	const char	*file2;		/* v1's period file, or NULL */
	int		(*read)(const char *dir, const struct cg_kind *k,
			    uint64_t *vp);
};

/* Reads a small file into buf, NUL-terminated. -1 if it cannot. */
static int
cg_read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Reads dir/name into buf. */
static int
cg_read_in(const char *dir, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -1;
	return cg_read_file(path, buf, size);
}

/* A decimal number followed by nothing but white space. */
static int
cg_number(const char *s, char **endp, long long *np)
{
	errno = 0;
	*np = strtoll(s, endp, 10);
	return errno != 0 || *endp == s ? -1 : 0;
}

static int
cg_rest_blank(const char *s)
{
	return s[strspn(s, " \t\n")] == '\0';
}

int
cg_memory_parse(const char *text, uint64_t *bytesp)
{
	unsigned long long n;
	char *end;

	*bytesp = 0;
	text += strspn(text, " \t");
	if (strncmp(text, "max", 3) == 0)
		return cg_rest_blank(text + 3) ? 0 : -1;
	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno != 0 || !cg_rest_blank(end))
		return -1;
	*bytesp = n >= CG_NO_LIMIT ? 0 : (uint64_t)n;
	return 0;
}

/* quota / period rounded up, capped; both more than 0. */
static int
cg_cpus(long long quota, long long period, int *cpusp)
{
	long long n;

	if (quota <= 0 || period <= 0)
		return -1;
	n = quota / period + (quota % period != 0);
	*cpusp = n > INT_MAX ? INT_MAX : (int)n;
	return 0;
}

int
cg_cpu_parse(const char *text, int *cpusp)
{
	long long quota, period;
	char *end;

	*cpusp = 0;
	text += strspn(text, " \t");
	if (strncmp(text, "max", 3) == 0) {
		text += 3;
		if (*text != ' ' && *text != '\t')
			return -1;
		if (cg_number(text, &end, &period) < 0 || period <= 0 ||
		    !cg_rest_blank(end))
			return -1;
		return 0;
	}
	if (cg_number(text, &end, &quota) < 0 ||
	    cg_number(end, &end, &period) < 0 || !cg_rest_blank(end))
		return -1;
	return cg_cpus(quota, period, cpusp);
}

int
cg_cpu_v1_parse(const char *quota_text, const char *period_text,
    int *cpusp)
{
	long long quota, period;
	char *end;

	*cpusp = 0;
	if (cg_number(quota_text, &end, &quota) < 0 || !cg_rest_blank(end))
		return -1;
	if (quota == -1)
		return 0;
	if (cg_number(period_text, &end, &period) < 0 ||
	    !cg_rest_blank(end))
		return -1;
	return cg_cpus(quota, period, cpusp);
}

/* The readers of one level: *vp the limit, 0 for none. */
static int
cg_read_memory(const char *dir, const struct cg_kind *k, uint64_t *vp)
{
	char buf[64];

	if (cg_read_in(dir, k->file, buf, sizeof(buf)) < 0)
		return -1;
	return cg_memory_parse(buf, vp);
}

static int
cg_read_cpu(const char *dir, const struct cg_kind *k, uint64_t *vp)
{
	char buf[64], buf2[64];
	int cpus, rc;

	if (cg_read_in(dir, k->file, buf, sizeof(buf)) < 0)
		return -1;
	if (k->file2 == NULL)
		rc = cg_cpu_parse(buf, &cpus);
	else if (cg_read_in(dir, k->file2, buf2, sizeof(buf2)) < 0)
		return -1;
	else
		rc = cg_cpu_v1_parse(buf, buf2, &cpus);
	*vp = rc == 0 ? (uint64_t)cpus : 0;
	return rc;
}

static const struct cg_kind cg_v2_memory = { "memory.max", NULL,
    cg_read_memory };
static const struct cg_kind cg_v2_cpu = { "cpu.max", NULL, cg_read_cpu };
static const struct cg_kind cg_v1_memory = { "memory.limit_in_bytes", NULL,
    cg_read_memory };
static const struct cg_kind cg_v1_cpu = { "cpu.cfs_quota_us",
    "cpu.cfs_period_us", cg_read_cpu };

/* The smallest limit of the cgroup base + path and its ancestors up to
 * base; 0 for none. */
static uint64_t
cg_walk(const char *base, const char *path, const struct cg_kind *k)
{
	char dir[PATH_MAX], *slash;
	size_t baselen = strlen(base);
	uint64_t v, min = 0;
	struct stat st;

	if ((size_t)snprintf(dir, sizeof(dir), "%s%s", base, path) >=
	    sizeof(dir) || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		snprintf(dir, sizeof(dir), "%s", base);
	for (;;) {
		if (k->read(dir, k, &v) == 0 && v != 0 && (min == 0 || v < min))
			min = v;
		if (strlen(dir) <= baselen ||
		    (slash = strrchr(dir + baselen, '/')) == NULL)
			break;
		*slash = '\0';
	}
	return min;
}

/* 1 if the comma-separated list has name. */
static int
cg_has(const char *list, size_t len, const char *name)
{
	size_t n = strlen(name), i = 0, j;

	while (i < len) {
		for (j = i; j < len && list[j] != ','; j++)
			;
		if (j - i == n && strncmp(list + i, name, n) == 0)
			return 1;
		i = j + 1;
	}
	return 0;
}

/* One line of /proc/PID/cgroup, "ID:CONTROLLERS:PATH": reads the limits
 * its hierarchy has, where l has none yet. v2 lines come first. */
static void
cg_line(const char *line, const char *root, int v2, struct cg_limits *l)
{
	const char *c1 = strchr(line, ':'), *c2;
	char base[PATH_MAX];
	size_t clen;

	if (c1 == NULL || (c2 = strchr(c1 + 1, ':')) == NULL || c2[1] != '/')
		return;
	clen = (size_t)(c2 - c1 - 1);
	if (v2 != (clen == 0))
		return;
	if (v2) {
		if (l->memory_max == 0)
			l->memory_max = cg_walk(root, c2 + 1, &cg_v2_memory);
		if (l->cpus == 0)
			l->cpus = (int)cg_walk(root, c2 + 1, &cg_v2_cpu);
		return;
	}
	if ((size_t)snprintf(base, sizeof(base), "%s/%.*s", root, (int)clen,
	    c1 + 1) >= sizeof(base))
		return;
	if (l->memory_max == 0 && cg_has(c1 + 1, clen, "memory"))
		l->memory_max = cg_walk(base, c2 + 1, &cg_v1_memory);
	if (l->cpus == 0 && cg_has(c1 + 1, clen, "cpu"))
		l->cpus = (int)cg_walk(base, c2 + 1, &cg_v1_cpu);
}

void
cg_limits_load(const char *proc_cgroup, const char *root,
    struct cg_limits *l)
{
	char buf[CG_FILE_MAX], *p, *end;
	int v2;

	memset(l, 0, sizeof(*l));
	if (cg_read_file(proc_cgroup, buf, sizeof(buf)) < 0)
		return;
	end = buf + strlen(buf);
	for (p = buf; (p = strchr(p, '\n')) != NULL; p++)
		*p = '\0';
	for (v2 = 1; v2 >= 0; v2--)
		for (p = buf; p < end; p += strlen(p) + 1)
			cg_line(p, root, v2, l);
}

void
cg_limits_get(struct cg_limits *l)
{
#ifdef TLSWARD_TEST_HOOKS
	const char *dir = getenv("TLSWARD_TEST_CGROUP_ROOT");
	char *path;

	if (dir != NULL && *dir != '\0') {
		path = xasprintf("%s/cgroup", dir);
		cg_limits_load(path, dir, l);
		free(path);
		return;
	}
#endif
	cg_limits_load("/proc/self/cgroup", "/sys/fs/cgroup", l);
}

int
cg_cpu_count(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 && n < INT_MAX ? (int)n : 1;
}

int
cg_max_sessions(uint64_t memory_max)
{
	uint64_t reserve, n;

	if (memory_max == 0)
		return 0;
	reserve = memory_max / 2 < CG_RESERVE_BYTES ? memory_max / 2 :
	    CG_RESERVE_BYTES;
	n = (memory_max - reserve) / CG_SESSION_BYTES;
	if (n < CG_MIN_SESSIONS)
		return CG_MIN_SESSIONS;
	return n > INT_MAX ? INT_MAX : (int)n;
}

int
cg_event_threads(int cpus, int ncpus)
{
	int n = ncpus > 0 ? ncpus : 1;

	return cpus > 0 && cpus < n ? cpus : n;
}
