/*
 * services.h - services.cf: the endpoints of tlswardd, one per line.
 *
 *   # name  listen                 role     forward            options
 *   https   127.0.0.1:8443         server   127.0.0.1:8080
 *   relay   [::1]:10465            client   mail.example.net:465  -o tlsproxy_client_security_level=encrypt
 *   hand    unix:private/tlsproxy  control  -
 *   smtps   systemd                server   unix:/run/app.sock
 *
 * Columns are separated by white space; "#" starts a comment line; a line
 * that starts with white space continues the previous entry. Options:
 * "-o name=value" overrides a main.cf parameter for this service only.
 * listen: HOST:PORT, [IPV6]:PORT, unix:PATH (relative paths are under the
 * configuration directory), "systemd", or "-" for a hand-off profile (a
 * server or client entry that only defines parameters, selected by
 * "profile=NAME" in a hand-off request; its forward is "-" too).
 * forward: HOST:PORT, [IPV6]:PORT, unix:PATH, or "-" (control services
 * and profiles); or several of the first three separated by commas
 * (no spaces), at most SVC_FORWARD_MAX, tried in that order.
 *
 * Runs in: the privileged supervisor and the CLI (check).
 */
#ifndef TLSWARD_SERVICES_H
#define TLSWARD_SERVICES_H

#include <stddef.h>

#include "conf.h"

#define SERVICES_FILE		"services.cf"
#define SERVICES_MAX		256	/* entries per file */
#define SERVICES_NAME_MAX	64
#define SVC_FORWARD_MAX		8	/* forward targets per service */

enum svc_role {
	SVC_SERVER,		/* TLS from peers, plaintext to forward */
	SVC_CLIENT,		/* plaintext from peers, TLS to forward */
	SVC_CONTROL,		/* hand-off socket */
	SVC_POSTFIX,		/* tlsproxy(8)'s protocol for Postfix */
};

/* An endpoint as written: kind plus host/port or path. */
enum svc_addr_kind {
	SVC_ADDR_NONE,		/* "-": no forward; listen: a profile */
	SVC_ADDR_INET,		/* host:port / [v6]:port */
	SVC_ADDR_UNIX,		/* unix:path */
	SVC_ADDR_SYSTEMD,	/* systemd (listen only) */
};

struct svc_addr {
	enum svc_addr_kind kind;
	char	*host;		/* INET: host name or address, no brackets */
	char	*port;		/* INET: port number or service name */
	char	*path;		/* UNIX: absolute path */
	char	*text;		/* as written, for messages */
};

/* A listen address outside services.cf (tlsproxy_metrics_listen):
 * HOST:PORT, [IPV6]:PORT or unix:PATH (relative: under dir), into a
 * (free with svc_addr_fini). 0, or -1 with err. */
int	svc_listen_addr_parse(const char *s, const char *dir,
	    struct svc_addr *a, char *err, size_t errlen);
void	svc_addr_fini(struct svc_addr *a);

struct svc_opt {
	char	*name;
	char	*value;
};

struct service {
	char		*name;		/* unique, [A-Za-z0-9_.-]+ */
	int		 line;		/* in services.cf */
	enum svc_role	 role;
	struct svc_addr	 listen;
	struct svc_addr	 forward;	/* the first target (text: the
					 * whole column) */
	struct svc_addr	*fwds;		/* every target, in order (text:
					 * its own); nfwds 0 for "-" */
	size_t		 nfwds;
	struct svc_opt	*opts;		/* -o overrides, in order */
	size_t		 nopts;
};

struct services {
	struct service	*v;
	size_t		 n;
	char		*path;		/* services.cf path, for messages */
};

/* Parses DIR/services.cf (conf_dir(cf)). A missing file is an error for
 * the daemon (nothing to serve): *missingp is set to 1 and -1 returned so
 * that callers can decide. Errors name "PATH:LINE: ...". */
int	services_load(const struct conf *cf, struct services *svcs,
	    int *missingp, char *err, size_t errlen);

/* Parses text as services.cf named label; dir resolves relative unix:
 * paths. Used by services_load and tests. */
int	services_parse(const char *text, const char *label, const char *dir,
	    struct services *svcs, char *err, size_t errlen);

void	services_fini(struct services *svcs);

/* A new conf for one service: a copy of base's main.cf settings plus the
 * service's -o overrides. Caller frees with conf_free. -1 on a bad -o. */
struct conf *services_conf(const struct conf *base, const struct service *svc,
	    char *err, size_t errlen);

const char *svc_role_name(enum svc_role role);

#endif
