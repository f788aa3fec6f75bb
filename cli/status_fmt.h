/*
 * status_fmt.h - printing the daemon's status reply (see status_fmt.c).
 *
 * Runs in: the CLI.
 */
#ifndef TLSWARD_STATUS_FMT_H
#define TLSWARD_STATUS_FMT_H

enum status_form {
	STATUS_TEXT,		/* for people, on stdout */
	STATUS_JSON,		/* one JSON object, on stdout */
	STATUS_QUIET,		/* nothing: the result alone */
};

/* Reads reply (NUL-terminated; modified in place) and prints it in
 * form. "error TEXT" lines are printed to stderr and give -1; a reply
 * without a worker record gives 1 (the worker is not serving, said on
 * stderr unless quiet); else 0. */
int	status_print(char *reply, enum status_form form);

#endif
