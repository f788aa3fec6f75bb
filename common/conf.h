/*
 * conf.h - the configuration engine shared by tlsward(1) and tlswardd(8):
 * main.cf parsing (Postfix syntax), the built-in parameter table with
 * Postfix 3.7 defaults, lazy loop-safe $name expansion, typed access and
 * validation.
 *
 * Runs in: the CLI and the privileged supervisor. The sandboxed worker
 * never parses configuration; it receives resolved values.
 * Owns: a struct conf holds copies of everything it was given.
 *
 * main.cf syntax:
 *   name = value        white space around "=" and at the end is ignored
 *   # comment           only when "#" is the first non-blank character
 *   <blank> more        a line that starts with white space continues the
 *                       previous logical line (joined with one space)
 *   (blank lines are ignored)
 * A later setting of the same name replaces an earlier one.
 *
 * Expansion (lazy: done when a value is read; recursive; loop-safe):
 *   $name ${name} $(name)   the expanded value of name ("" if unknown)
 *   ${name?text}            text (expanded) if name's value is non-empty
 *   ${name:text}            text (expanded) if name's value is empty
 *   $$                      a literal "$"
 * A reference loop (a = $b, b = $a) is an error that names the chain.
 */
#ifndef TLSWARD_CONF_H
#define TLSWARD_CONF_H

#include <stddef.h>

#define CONF_MAIN_FILE	"main.cf"
#define CONF_MAX_FILE	(1024 * 1024)	/* main.cf larger than this: error */

/* Parameter value types. Every type accepts the empty string except
 * CONF_T_BOOL, CONF_T_INT and CONF_T_TIME. Checks apply to the expanded
 * value. */
enum conf_type {
	CONF_T_STR,		/* free text */
	CONF_T_BOOL,		/* yes | no (case-insensitive) */
	CONF_T_INT,		/* decimal integer >= 0 */
	CONF_T_TIME,		/* integer >= 0 with optional unit s m h d w;
				 * a bare number is seconds */
	CONF_T_LEVEL,		/* none may encrypt fingerprint verify secure
				 * dane dane-only */
	CONF_T_PROTOCOLS,	/* see conf_protocols_parse() */
	CONF_T_GRADE,		/* export low medium high null */
	CONF_T_EECDH,		/* auto strong ultra none */
	CONF_T_DIGEST,		/* md5 sha1 sha224 sha256 sha384 sha512 */
};

/* One built-in parameter. */
struct conf_param {
	const char	*name;
	const char	*defval;	/* Postfix 3.7 default (unexpanded) */
	enum conf_type	 type;
};

/* The built-in table, sorted by name; *countp gets its length. */
const struct conf_param *conf_param_table(size_t *countp);

/* The table entry for name, or NULL for an unknown parameter. */
const struct conf_param *conf_param_find(const char *name);

/* 1 if name is a parameter of Postfix 3.7 ("postconf -d"), whether or
 * not tlsward knows it; the whole list, sorted, with its length in
 * *countp (conf_pfnames.c). */
int			 conf_postfix_param(const char *name);
const char *const	*conf_postfix_names(size_t *countp);

/* One parameter as set in main.cf (or by an override). */
struct conf_entry {
	const char	*name;
	const char	*value;		/* raw, unexpanded, continuation-joined */
	int		 line;		/* first line in main.cf; 0 = override */
};

struct conf;

/* A new, empty configuration for directory dir (copied). The parameter
 * config_directory defaults to dir. Never NULL. */
struct conf	*conf_new(const char *dir);
void		 conf_free(struct conf *cf);	/* NULL is a no-op */

/* The directory given to conf_new, and the main.cf path in it. */
const char	*conf_dir(const struct conf *cf);
const char	*conf_main_path(const struct conf *cf);

/* The path of a file named by a parameter: name itself when absolute,
 * else DIR/name. Caller frees. */
char		*conf_path(const struct conf *cf, const char *name);

/* A deep copy of cf (settings, lines, file label); never NULL. Caller
 * frees with conf_free. */
struct conf	*conf_dup(const struct conf *cf);

/* Reads DIR/main.cf. A missing main.cf is an empty configuration (returns
 * 0); a missing or unreadable directory, an unreadable file or a malformed
 * line is -1 with err as "PATH:LINE: what is wrong". */
int	conf_load(struct conf *cf, char *err, size_t errlen);

/* Parses text as if it were main.cf named label (for tests and -o). */
int	conf_load_text(struct conf *cf, const char *label, const char *text,
	    char *err, size_t errlen);

/* Sets name = value in memory, replacing any main.cf setting (services.cf
 * "-o name=value", "tlsward config -e"). 0, or -1 if name is not a valid
 * parameter name. */
int	conf_override(struct conf *cf, const char *name, const char *value,
	    char *err, size_t errlen);

/* Entries set in main.cf/overrides, in order of first appearance. */
size_t			 conf_count(const struct conf *cf);
const struct conf_entry	*conf_entry_at(const struct conf *cf, size_t i);

/* The entry for name, or NULL when main.cf does not set it. */
const struct conf_entry	*conf_lookup(const struct conf *cf, const char *name);

/* The unexpanded effective value: main.cf's, else the built-in default,
 * else NULL (unknown and unset). Points into cf or the table. */
const char	*conf_raw(const struct conf *cf, const char *name);

/* The expanded effective value of name, in a new string (caller frees);
 * "" for an unknown unset name. -1 on an expansion loop or an expansion
 * nested deeper than 100 levels, with err naming the chain:
 * "expansion loop: a -> b -> a". */
int	conf_get(const struct conf *cf, const char *name, char **valp,
	    char *err, size_t errlen);

/* Expands arbitrary text against cf (as conf_get does for a value). */
int	conf_expand(const struct conf *cf, const char *text, char **valp,
	    char *err, size_t errlen);

/* Typed getters: expand, check the type, convert. On a bad value, -1 with
 * err as "PATH:LINE: parameter NAME: <reason>" when set in main.cf, or
 * "parameter NAME: <reason>" otherwise. */
int	conf_get_bool(const struct conf *cf, const char *name, int *valp,
	    char *err, size_t errlen);
int	conf_get_int(const struct conf *cf, const char *name, long long *valp,
	    char *err, size_t errlen);
int	conf_get_time(const struct conf *cf, const char *name,
	    long long *secondsp, char *err, size_t errlen);

/* A time value (CONF_T_TIME) in seconds; -1 with a reason in err. */
int	conf_time_parse(const char *value, long long *secondsp, char *err,
	    size_t errlen);

/* Checks value against type; 0, or -1 with a reason such as
 * "invalid boolean value \"maybe\" (want yes or no)". */
int	conf_type_check(enum conf_type type, const char *value, char *err,
	    size_t errlen);

/* Protocol lists (CONF_T_PROTOCOLS), as in Postfix: tokens separated by
 * white space, "," or ":", each one of
 *   NAME      include NAME          !NAME   exclude NAME
 *   >=NAME    minimum version       <=NAME  maximum version
 * with NAME one of SSLv2 SSLv3 TLSv1 TLSv1.1 TLSv1.2 TLSv1.3. If any bare
 * NAME is given, only the named protocols are enabled. The result is a
 * bit mask of CONF_PROTO_* that are enabled; an empty value enables all.
 * -1 with a reason for an unknown name or an empty result. */
#define CONF_PROTO_SSLv2	0x01
#define CONF_PROTO_SSLv3	0x02
#define CONF_PROTO_TLSv1	0x04
#define CONF_PROTO_TLSv1_1	0x08
#define CONF_PROTO_TLSv1_2	0x10
#define CONF_PROTO_TLSv1_3	0x20
#define CONF_PROTO_ALL		0x3f
int	conf_protocols_parse(const char *value, unsigned *maskp, char *err,
	    size_t errlen);

/* Validation for "tlsward check" and daemon start: every parameter set in
 * main.cf is expanded (loops are errors) and type-checked; names that
 * neither tlsward nor Postfix knows are warnings. report() is called once per finding, in main.cf order,
 * with a complete message ("PATH:LINE: ..."). Returns the error count. */
typedef void conf_report_fn(int is_error, const char *msg, void *arg);
int	conf_check(const struct conf *cf, conf_report_fn *report, void *arg);

/* Directory selection: dir_opt (-c) if not NULL, else $TLSWARD_CONFIG_DIR
 * if set and non-empty, else the configure-time default. */
const char	*conf_default_dir(const char *dir_opt);

/* The canonical absolute name of a configuration directory (realpath, or
 * made absolute when it does not exist): how an instance is named to the
 * admin socket. Caller frees. (conf_instance.c) */
char	*conf_dir_canonical(const char *dir);

/* The default of tlsproxy_admin_socket or tlsproxy_pid_file (name) for
 * the instance whose configuration directory is dir: the plain
 * /run/tlswardd/admin.sock and /run/tlswardd.pid for the built-in
 * directory, names with a hash of the directory for any other. Caller
 * frees. (conf_instance.c) */
char	*conf_instance_default(const char *dir, const char *name);

#endif
