/*
 * conf_int.h - internals shared by the files of the configuration engine
 * (conf.c, conf_expand.c, conf_params.c, conf_types.c, conf_edit.c).
 * Nothing outside common/conf*.c and t/unit/test_conf_*.c includes this
 * file.
 *
 * Runs in: the CLI and the privileged supervisor (like conf.h).
 * Owns: the layout of struct conf and the main.cf line scanner.
 */
#ifndef TLSWARD_CONF_INT_H
#define TLSWARD_CONF_INT_H

#include <stddef.h>

#include "conf.h"

#define CONF_EXP_MAX_DEPTH	100		/* nested $name references */
#define CONF_EXP_MAX_REFS	100000		/* $name references per value */
#define CONF_EXP_MAX_LEN	(1024 * 1024)	/* bytes of one expanded value */

/* One setting held by a struct conf. pub's strings point at name/value. */
struct conf_item {
	struct conf_entry pub;	/* what conf_entry_at()/conf_lookup() return */
	char	*name;
	char	*value;		/* raw, continuation-joined */
};

/* Defaults computed on first use (conf_raw() takes a const conf). */
struct conf_cache {
	char	*hostname;	/* myhostname's default; reset by every change */
	char	*domain;	/* mydomain's default; reset by every change */
	int	 busy;		/* computing domain: breaks a myhostname cycle */
	int	 host_busy;	/* computing hostname (main.cf's mydomain may
				 * refer to myhostname) */
	char	*admin_socket;	/* tlsproxy_admin_socket's default */
	char	*pid_file;	/* tlsproxy_pid_file's default */
};

struct conf {
	char		  *dir;		/* as given to conf_new */
	char		  *main_path;	/* DIR/main.cf */
	char		  *label;	/* file name in messages (last load) */
	struct conf_item **items;	/* in order of first appearance */
	size_t		   nitems;
	size_t		   capitems;
	size_t		  *index;	/* hash of items: slot = item + 1, 0 free */
	size_t		   nindex;	/* slots, a power of two */
	struct conf_cache *cache;	/* never NULL */
};

/* Table defaults that are computed at run time (myhostname, mydomain,
 * config_directory) are this very string; conf_raw() resolves them. */
extern const char conf_def_runtime[];

/* The run-time default of a conf_def_runtime parameter (points into cf). */
const char	*conf_runtime_default(const struct conf *cf, const char *name);

/* 1 if name is a valid parameter name: [A-Za-z0-9_]+. */
int	conf_name_valid(const char *name);

/* Writes "LABEL:LINE: parameter NAME: " (or "parameter NAME: " for a
 * name not set in the file) into buf. */
void	conf_where(const struct conf *cf, const char *name, char *buf,
	    size_t len);

/* -1 with "PATH:LINE: NUL byte in file" if data (len bytes) holds a NUL,
 * which would silently end the text; else 0. */
int	conf_nul_check(const char *path, const char *data, size_t len,
	    char *err, size_t errlen);

/* Value parsers behind conf_type_check(); -1 with a reason in err. */
int	conf_bool_parse(const char *value, int *valp, char *err, size_t errlen);
int	conf_int_parse(const char *value, long long *valp, char *err,
	    size_t errlen);

/* ---- the main.cf line scanner (used by the parser and the editor) ---- */

enum conf_line_kind {
	CONF_LINE_BLANK,	/* empty or only white space */
	CONF_LINE_COMMENT,	/* "#" is the first non-blank character */
	CONF_LINE_START,	/* starts a logical line: "name = value" */
	CONF_LINE_CONT,		/* starts with white space: continuation */
};

/* One physical line. */
struct conf_line {
	const char	*text;	/* first byte of the line */
	size_t		 len;	/* bytes before the "\n" (a "\r" is counted) */
	size_t		 eol;	/* 1 if a "\n" follows, 0 at the end of text */
	int		 lineno;	/* 1-based */
	enum conf_line_kind kind;
};

/* Scanner state: conf_scan_init(), then conf_scan_next() until it
 * returns 0. */
struct conf_scan {
	const char	*pos;
	int		 lineno;
};
void	conf_scan_init(struct conf_scan *sc, const char *text);
int	conf_scan_next(struct conf_scan *sc, struct conf_line *ln);

/* Splits a CONF_LINE_START line into a new name and a new trimmed value
 * (caller frees both). -1 with "LABEL:LINE: reason" for a missing "=" or
 * an empty or invalid name. valuep may be NULL. */
int	conf_line_split(const struct conf_line *ln, const char *label,
	    char **namep, char **valuep, char *err, size_t errlen);

/* The error for a continuation line that has no logical line to join. */
int	conf_line_orphan(const struct conf_line *ln, const char *label,
	    char *err, size_t errlen);

#endif
