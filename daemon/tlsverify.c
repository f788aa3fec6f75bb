/*
 * tlsverify.c - post-handshake checks of the peer against the level.
 *
 * Runs in: worker session threads. The levels this daemon serves so far,
 * may and encrypt, authenticate nobody: encryption is all they require,
 * and the handshake already provided it.
 */
#include "config.h"

#include <stdio.h>

#include "runtime.h"
#include "tlsverify.h"

int
tlsverify_check(SSL *ssl, const struct rt_svc *svc, char *why, size_t whylen)
{
	(void)ssl;
	if (svc->level <= TLS_LEVEL_ENCRYPT)
		return 0;
	snprintf(why, whylen, "security level needs peer authentication, "
	    "which this service cannot do");
	return -1;
}
