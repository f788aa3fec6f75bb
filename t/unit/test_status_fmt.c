/*
 * test_status_fmt.c - cli/status_fmt.c: the JSON form of "tlsward
 * status" is valid JSON whatever the values look like: a ticket key
 * name in hex that is all digits stays a string (with its leading zero),
 * a service named like a number stays a name, a counter with a leading
 * zero is not printed as a (JSON-invalid) number; counters are numbers.
 *
 * Runs in: "make check" (TAP).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "status_fmt.h"
#include "tap.h"

static const char reply[] =
    "daemon version=0.1.0 pid=1 uptime_s=5 config=/etc/tlsward\n"
    "worker pid=2 generation=1 services=1\n"
    "tickets keys=1 source=memory key_name=01234567 key_age_s=3 "
    "issued=0 decrypted=007 refused=0\n"
    "service name=42 role=server listen=127.0.0.1:1 ocsp_sent=5\n"
    "cert service=42 subject=CN%3d7 algorithm=EC bits=256 ocsp=none\n";

/* What status_print writes to stdout for text, in form. */
static char *
printed(const char *text, enum status_form form)
{
	FILE *tmp = tmpfile();
	char *copy = strdup(text), *out;
	int saved;
	long len;

	if (tmp == NULL || copy == NULL)
		return NULL;
	fflush(stdout);
	saved = dup(1);
	dup2(fileno(tmp), 1);
	(void)status_print(copy, form);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	len = ftell(tmp) > 0 ? ftell(tmp) : lseek(fileno(tmp), 0, SEEK_END);
	out = calloc(1, (size_t)len + 1);
	if (out != NULL && pread(fileno(tmp), out, (size_t)len, 0) != len)
		out[0] = '\0';
	fclose(tmp);
	free(copy);
	return out;
}

static void
has(const char *out, const char *want)
{
	ok(out != NULL && strstr(out, want) != NULL, "the JSON has %s", want);
	if (out != NULL && strstr(out, want) == NULL)
		printf("# got:\n%s", out);
}

int
main(void)
{
	char *out;

	out = printed(reply, STATUS_JSON);
	has(out, "\"key_name\": \"01234567\"");
	has(out, "\"name\": \"42\"");
	has(out, "\"subject\": \"CN=7\"");
	has(out, "\"decrypted\": \"007\"");
	has(out, "\"issued\": 0,");
	has(out, "\"keys\": 1,");
	has(out, "\"ocsp\": {\"sent\": 5}");
	has(out, "\"ocsp\": {\"state\": \"none\"}");
	free(out);
	return done();
}
