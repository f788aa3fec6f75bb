/*
 * cfcheck.h - the configuration check that "tlswardd -t" and "tlsward
 * check" share: everything a start does except opening listeners and
 * starting the worker.
 *
 * Runs in: the privileged supervisor (-t) and the CLI ("tlsward check",
 * which links this code and collects the log lines with log_capture()).
 * Single-threaded.
 */
#ifndef TLSWARD_CFCHECK_H
#define TLSWARD_CFCHECK_H

/* Judges configuration directory dir as a start would: main.cf (syntax,
 * types, expansion; unknown names are warnings), services.cf, each
 * service's parameters and -o overrides, forward targets, the worker's
 * user, every key, certificate, chain, CA and DH file read into memory,
 * and every service's SSL_CTX built from that memory as the worker
 * builds it. No listener is opened, nothing is written. Each problem is
 * logged once (log_errorx; warnings with log_warnx). Returns the number
 * of errors (0: a start would proceed). */
int	cfcheck_run(const char *dir);

#endif
