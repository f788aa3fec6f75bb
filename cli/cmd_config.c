/*
 * cmd_config.c - "tlsward config": print parameters the way postconf(1)
 * does (all, -n set in main.cf, -d built-in defaults, -x expanded, or the
 * names given), set them (-e 'name = value' ...) or remove them
 * (-X name ...) in main.cf with one atomic rewrite.
 *
 * Runs in: the CLI, as the administrator. Owns nothing beyond the call.
 * Output is built completely before anything is printed, and edits are
 * validated completely before main.cf is written: on an error stdout and
 * main.cf are untouched and the one message is "tlsward: fatal: ...".
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "conf_edit.h"
#include "util.h"

/* The options of one invocation. */
struct cfg_opts {
	int	nondefault;	/* -n: only what main.cf sets */
	int	defaults;	/* -d: built-in defaults */
	int	expand;		/* -x: expanded values */
	int	set;		/* -e: arguments are "name = value" */
	int	remove;		/* -X: arguments are names */
};

/* The parameters that one edit changes. */
struct cfg_edit {
	struct conf_change *changes;
	size_t		    n;
	char		  **strs;	/* the strings changes point at */
	size_t		    nstrs;
};

/* -1 (after a message) for a usage error, else 0. */
static int
cfg_options(int argc, char **argv, struct cfg_opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	while ((ch = getopt(argc, argv, "ndxeX")) != -1) {
		switch (ch) {
		case 'n': o->nondefault = 1; break;
		case 'd': o->defaults = 1; break;
		case 'x': o->expand = 1; break;
		case 'e': o->set = 1; break;
		case 'X': o->remove = 1; break;
		default:
			cli_fail("unknown option -%c", optopt);
			return -1;
		}
	}
	if ((o->set || o->remove) && o->set + o->remove + o->nondefault +
	    o->defaults + o->expand > 1) {
		cli_fail("-%c cannot be combined with other options",
		    o->set ? 'e' : 'X');
		return -1;
	}
	if (o->nondefault && o->defaults) {
		cli_fail("-n and -d cannot be combined");
		return -1;
	}
	if ((o->set || o->remove) && optind == argc) {
		cli_fail(o->set ? "-e needs 'name = value' arguments" :
		    "-X needs parameter names");
		return -1;
	}
	return 0;
}

static struct conf *
cfg_load(const struct cli *cli)
{
	struct conf *cf = conf_new(cli->dir);
	char err[1024];

	if (conf_load(cf, err, sizeof(err)) < 0) {
		cli_fail("%s", err);
		conf_free(cf);
		return NULL;
	}
	return cf;
}

/* ------------------------------------------------------------- show */

static int
cfg_strcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* All names to print, sorted, without duplicates; caller frees the
 * array (not the names). */
static const char **
cfg_all_names(const struct conf *cf, const struct cfg_opts *o, size_t *np)
{
	const struct conf_param *tab;
	size_t ntab, i, n = 0, out = 0;
	const char **names;

	tab = conf_param_table(&ntab);
	names = xcalloc(ntab + conf_count(cf) + 1, sizeof(*names));
	for (i = 0; !o->nondefault && i < ntab; i++)
		names[n++] = tab[i].name;
	for (i = 0; !o->defaults && i < conf_count(cf); i++)
		names[n++] = conf_entry_at(cf, i)->name;
	qsort(names, n, sizeof(*names), cfg_strcmp);
	for (i = 0; i < n; i++)
		if (out == 0 || strcmp(names[out - 1], names[i]) != 0)
			names[out++] = names[i];
	*np = out;
	return names;
}

/* Appends "name = value" (postconf: "name =" when empty) to out. */
static int
cfg_format(const struct conf *cf, const struct cfg_opts *o,
    const char *name, struct buf *out)
{
	const struct conf_entry *e;
	char err[4096], *val;

	if (!o->expand)
		val = xstrdup(conf_raw(cf, name));
	else if (conf_get(cf, name, &val, err, sizeof(err)) < 0) {
		if ((e = conf_lookup(cf, name)) != NULL && e->line > 0)
			cli_fail("%s:%d: parameter %s: %s",
			    conf_main_path(cf), e->line, name, err);
		else
			cli_fail("parameter %s: %s", name, err);
		return -1;
	}
	buf_addf(out, "%s =%s%s\n", name, val[0] ? " " : "", val);
	free(val);
	return 0;
}

/* Formats names (or everything when n == 0) into out. */
static int
cfg_format_all(const struct conf *cf, const struct cfg_opts *o,
    char **names, size_t n, struct buf *out)
{
	const char **all;
	size_t i, nall;
	int rc = 0;

	for (i = 0; i < n; i++)
		if (conf_param_find(names[i]) == NULL &&
		    conf_lookup(cf, names[i]) == NULL) {
			cli_fail("unknown parameter: %s", names[i]);
			return -1;
		}
	for (i = 0; i < n && rc == 0; i++)
		if (!o->nondefault || conf_lookup(cf, names[i]) != NULL)
			rc = cfg_format(cf, o, names[i], out);
	if (n > 0)
		return rc;
	all = cfg_all_names(cf, o, &nall);
	for (i = 0; i < nall && rc == 0; i++)
		rc = cfg_format(cf, o, all[i], out);
	free(all);
	return rc;
}

static int
cfg_show(const struct cli *cli, const struct cfg_opts *o, char **names,
    size_t n)
{
	struct conf *cf;
	struct buf out;
	int rc;

	/* -d: an empty configuration shows exactly the defaults. */
	cf = o->defaults ? conf_new(cli->dir) : cfg_load(cli);
	if (cf == NULL)
		return CLI_EXIT_FAIL;
	buf_init(&out);
	rc = cfg_format_all(cf, o, names, n, &out);
	if (rc == 0 && out.len > 0)
		fwrite(out.data, 1, out.len, stdout);
	buf_fini(&out);
	conf_free(cf);
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* ------------------------------------------------------------- edit */

static void
cfg_edit_free(struct cfg_edit *ed)
{
	size_t i;

	for (i = 0; i < ed->nstrs; i++)
		free(ed->strs[i]);
	free(ed->strs);
	free(ed->changes);
}

/* Fills ed from the arguments: "name = value" / "name=value" for -e,
 * names for -X. -1 (after a message) on a missing "=". */
static int
cfg_edit_args(struct cfg_edit *ed, int set, char **args, size_t n)
{
	char *name, *eq;
	size_t i;

	ed->changes = xcalloc(n, sizeof(*ed->changes));
	ed->strs = xcalloc(n, sizeof(*ed->strs));
	ed->n = ed->nstrs = n;
	for (i = 0; i < n; i++) {
		name = ed->strs[i] = xstrdup(args[i]);
		if (set && (eq = strchr(name, '=')) == NULL) {
			cli_fail("-e %s: missing \"=\" (want 'name = "
			    "value')", args[i]);
			return -1;
		}
		if (set) {
			*eq = '\0';
			ed->changes[i].value = str_trim(eq + 1);
		}
		ed->changes[i].name = str_trim(name);
	}
	return 0;
}

/* The new values, after expansion, must be valid for their types. */
static int
cfg_edit_check(struct conf *cf, const struct cfg_edit *ed)
{
	const struct conf_param *p;
	char err[4096], *val;
	size_t i;

	for (i = 0; i < ed->n; i++)
		conf_override(cf, ed->changes[i].name, ed->changes[i].value,
		    NULL, 0);
	for (i = 0; i < ed->n; i++) {
		p = conf_param_find(ed->changes[i].name);
		if (conf_get(cf, ed->changes[i].name, &val, err,
		    sizeof(err)) == 0 && (p == NULL ||
		    conf_type_check(p->type, val, err, sizeof(err)) == 0)) {
			free(val);
			continue;
		}
		free(val);
		cli_fail("parameter %s: %s", ed->changes[i].name, err);
		return -1;
	}
	return 0;
}

static int
cfg_edit(const struct cli *cli, const struct cfg_opts *o, char **args,
    size_t n)
{
	struct cfg_edit ed = { NULL, 0, NULL, 0 };
	struct conf *cf = NULL;
	char err[4096], *probe;
	int rc = CLI_EXIT_FAIL;

	if (cfg_edit_args(&ed, o->set, args, n) < 0) {
		cfg_edit_free(&ed);
		return cli_usage("config");
	}
	if ((cf = cli_conf_load_rw(cli)) == NULL)
		goto out;
	/* Names and values first, with conf_edit's own rules. */
	probe = conf_edit_text("", conf_main_path(cf), ed.changes, ed.n, err,
	    sizeof(err));
	if (probe == NULL)
		cli_fail("%s", err);
	else if (!o->set || cfg_edit_check(cf, &ed) == 0) {
		if (conf_edit(conf_main_path(cf), ed.changes, ed.n, err,
		    sizeof(err)) < 0)
			cli_fail("%s", err);
		else
			rc = CLI_EXIT_OK;
	}
	free(probe);
out:
	conf_free(cf);
	cfg_edit_free(&ed);
	return rc;
}

int
cmd_config(struct cli *cli, int argc, char **argv)
{
	struct cfg_opts o;

	if (cfg_options(argc, argv, &o) < 0)
		return cli_usage("config");
	if (o.set || o.remove)
		return cfg_edit(cli, &o, argv + optind,
		    (size_t)(argc - optind));
	return cfg_show(cli, &o, argv + optind, (size_t)(argc - optind));
}
