/*
 * cfcheck.c - one configuration check for "tlswardd -t" and "tlsward
 * check": the loader without listeners, then every service's TLS
 * contexts as the worker builds them (rt_build).
 *
 * Runs in: the privileged supervisor for -t, and the CLI. Opens no
 * socket, writes nothing, keeps nothing: the key material it reads is
 * wiped when the loader is finished.
 */
#include "config.h"

#include <stdio.h>

#include "cfcheck.h"
#include "loader.h"
#include "log.h"
#include "runtime.h"

int
cfcheck_run(const char *dir)
{
	struct loader_opts lo = { 0, NULL, NULL, NULL, NULL };
	struct loader ld;
	struct rt *rt;
	char err[1024];
	int errors;

	if ((errors = loader_load(dir, &lo, &ld)) > 0)
		return errors;	/* each logged by the loader */
	rt = rt_build(&ld.snap, err, sizeof(err));
	loader_fini(&ld);
	if (rt == NULL) {
		log_errorx("%s", err);
		return 1;
	}
	rt_unref(rt);
	return 0;
}
