/*
 * cmd_ocsp.c - tlsward fetch-ocsp: for each server certificate (those
 * the configuration serves, or the files named), asks the OCSP
 * responder of its Authority Information Access extension about it,
 * judges the answer as tlswardd will (ocspresp.c: names the
 * certificate, signed by its issuer or the issuer's delegate, fresh),
 * and stores it beside the certificate as FILE.ocsp, where tlswardd
 * finds it (atomic replace; a new file is 0644).
 *
 * Runs in: the CLI, as the administrator. Talks HTTP to the responders
 * (OpenSSL's client, each exchange bounded by -t); writes only the
 * .ocsp files. Output: "FILE.ocsp: good until TIME" per certificate on
 * stdout; problems on stderr. Exit 0 when every certificate got a
 * response, else 1.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "cli.h"
#include "fileio.h"
#include "log.h"
#include "ocspresp.h"
#include "pem.h"
#include "pftable.h"
#include "services.h"
#include "util.h"

#define FETCH_TIMEOUT_S		10	/* default of -t */
#define FETCH_MAX_RESP		(64 * 1024)	/* a response is < 4 kB */

/* One certificate file to fetch for, with the certificates that may
 * hold its issuer (its own, the others of its chain-files list, -i). */
struct fetch_job {
	char		*path;		/* the certificate file */
	char		*out;		/* where the response goes */
	STACK_OF(X509)	*pool;		/* issuer candidates (owned) */
};

struct fetch {
	struct fetch_job *v;
	size_t		 n;
	int		 timeout_s;
	int		 failed;
};

static void
fetch_fail(struct fetch *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fetch_fail(struct fetch *f, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "tlsward: error: %s\n", msg);
	f->failed++;
}

/* The certificates of path, or NULL (with *why set when it is not just
 * a file without certificates). */
static STACK_OF(X509) *
certs_of(const char *path, char *why, size_t whylen)
{
	STACK_OF(X509) *certs;
	char *data;
	size_t len;

	*why = '\0';
	if (file_read(path, PEM_MAX_FILE, &data, &len, why, whylen) < 0)
		return NULL;
	certs = strstr(data, "-----BEGIN CERTIFICATE-----") == NULL ? NULL :
	    pem_certs_parse(data, len, path, why, whylen);
	explicit_bzero(data, len);	/* a chain file holds a key too */
	free(data);
	return certs;
}

static void
pool_add(STACK_OF(X509) *pool, STACK_OF(X509) *certs)
{
	int i;

	for (i = 0; i < sk_X509_num(certs); i++)
		if (X509_up_ref(sk_X509_value(certs, i)))
			sk_X509_push(pool, sk_X509_value(certs, i));
}

/* Adds a job for path (once), sharing the issuer candidates pool. */
static void
job_add(struct fetch *f, const char *path, const char *out,
    STACK_OF(X509) *pool)
{
	size_t k;

	for (k = 0; k < f->n; k++)
		if (strcmp(f->v[k].path, path) == 0)
			return;
	f->v = xreallocarray(f->v, f->n + 1, sizeof(*f->v));
	f->v[f->n].path = xstrdup(path);
	f->v[f->n].out = out != NULL ? xstrdup(out) :
	    xasprintf("%s.ocsp", path);
	f->v[f->n++].pool = X509_chain_up_ref(pool);
}

/* The certificate files of one list (names relative to the
 * configuration directory): a job for each that holds a certificate,
 * with the certificates of the whole list as issuer candidates. */
static void
jobs_of_list(struct fetch *f, const struct conf *cf, const char *list)
{
	char *copy = xstrdup(list), *save = NULL, *w, *path, why[1024];
	STACK_OF(X509) *pool = sk_X509_new_null(), *certs;
	char **paths = NULL;
	size_t n = 0, k;

	for (w = strtok_r(copy, " \t,", &save); w != NULL;
	    w = strtok_r(NULL, " \t,", &save)) {
		if (strcmp(w, "none") == 0)
			continue;
		path = conf_path(cf, w);
		if ((certs = certs_of(path, why, sizeof(why))) == NULL) {
			if (*why != '\0')
				fetch_fail(f, "%s", why);
			free(path);
			continue;
		}
		pool_add(pool, certs);
		/* A file that starts with a CA certificate holds a chain. */
		if (X509_check_ca(sk_X509_value(certs, 0)) != 0) {
			sk_X509_pop_free(certs, X509_free);
			free(path);
			continue;
		}
		sk_X509_pop_free(certs, X509_free);
		paths = xreallocarray(paths, n + 1, sizeof(*paths));
		paths[n++] = path;
	}
	for (k = 0; k < n; k++) {
		job_add(f, paths[k], NULL, pool);
		free(paths[k]);
	}
	free(paths);
	sk_X509_pop_free(pool, X509_free);
	free(copy);
}

/* The value of name in cf (a new string; "" when it cannot be
 * expanded, which "tlsward check" reports). */
static char *
value_of(const struct conf *cf, const char *name)
{
	char err[512], *v;

	return conf_get(cf, name, &v, err, sizeof(err)) < 0 ? xstrdup("") : v;
}

/* Table problems are for "tlsward check"; here they are skipped. */
static void
sni_quiet(int is_error, const char *msg, void *arg)
{
	(void)is_error; (void)msg; (void)arg;
}

/* One table of tls_server_sni_maps (inline: or texthash:) into t. */
static void
sni_table(const struct conf *cf, const char *spec, struct pft *t)
{
	char err[512], *path, *data;
	size_t len;

	if (strncmp(spec, "inline:", 7) == 0)
		pft_inline_parse(t, spec + 7, sni_quiet, NULL);
	else if (strncmp(spec, "texthash:", 9) == 0) {
		path = conf_path(cf, spec + 9);
		if (file_read(path, PEM_MAX_FILE, &data, &len, err,
		    sizeof(err)) == 0) {
			pft_text_parse(t, path, data, len, sni_quiet, NULL);
			free(data);
		}
		free(path);
	}
}

/* The chain files of each tls_server_sni_maps entry. */
static void
jobs_of_sni(struct fetch *f, const struct conf *cf)
{
	char *val = value_of(cf, "tls_server_sni_maps"), **tab, err[512];
	struct pft t;
	size_t e;
	int n, k;

	pft_init(&t);
	n = pft_split(val, &tab, err, sizeof(err));
	for (k = 0; k < n; k++)
		sni_table(cf, tab[k], &t);
	for (e = 0; e < t.n; e++)
		jobs_of_list(f, cf, t.v[e].val);
	if (n > 0)
		pft_split_free(tab, n);
	pft_fini(&t);
	free(val);
}

/* The server certificates of one effective configuration (main.cf, or
 * a service's: main.cf with its -o overrides), as tlswardd picks them:
 * the chain files, else the cert and eccert files; and the chain files
 * of each tls_server_sni_maps entry. */
static void
jobs_of_conf(struct fetch *f, const struct conf *cf, const char *svc)
{
	char *on = value_of(cf, "tlsproxy_tls_ocsp_stapling");
	char *named = value_of(cf, "tlsproxy_tls_ocsp_response_files");
	char *chains = value_of(cf, "tlsproxy_tls_chain_files");
	char *a = value_of(cf, "tlsproxy_tls_cert_file");
	char *b = value_of(cf, "tlsproxy_tls_eccert_file");

	if (strcasecmp(on, "yes") != 0)
		;	/* no stapling: nothing to fetch */
	else if (list_names_files(named))
		log_warnx("%s sets tlsproxy_tls_ocsp_response_files: skipped "
		    "(fetch with \"tlsward fetch-ocsp -o FILE CERTFILE\")",
		    svc != NULL ? svc : "main.cf");
	else if (list_names_files(chains))
		jobs_of_list(f, cf, chains);
	else {
		jobs_of_list(f, cf, a);
		jobs_of_list(f, cf, b);
	}
	if (strcasecmp(on, "yes") == 0)
		jobs_of_sni(f, cf);
	free(on);
	free(named);
	free(chains);
	free(a);
	free(b);
}

/* Every server certificate of the configuration: main.cf's, and those
 * of each services.cf entry that serves TLS (its -o overrides). */
static int
jobs_of_config(struct fetch *f, const struct cli *cli)
{
	struct services svcs = { NULL, 0, NULL };
	struct conf *cf, *scf;
	char err[1024];
	int missing = 0;
	size_t i;

	if ((cf = cli_conf_load(cli)) == NULL)
		return -1;
	jobs_of_conf(f, cf, NULL);
	if (services_load(cf, &svcs, &missing, err, sizeof(err)) < 0 &&
	    !missing) {
		fetch_fail(f, "%s", err);
	}
	for (i = 0; i < svcs.n; i++) {
		if (svcs.v[i].role == SVC_CLIENT)
			continue;
		if ((scf = services_conf(cf, &svcs.v[i], err,
		    sizeof(err))) == NULL) {
			fetch_fail(f, "%s", err);
			continue;
		}
		jobs_of_conf(f, scf, svcs.v[i].name);
		conf_free(scf);
	}
	services_fini(&svcs);
	conf_free(cf);
	return 0;
}

/* The OCSP URL of leaf (caller frees), or NULL. */
static char *
ocsp_url(X509 *leaf)
{
	STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(leaf);
	char *url = NULL;

	if (urls != NULL && sk_OPENSSL_STRING_num(urls) > 0)
		url = xstrdup(sk_OPENSSL_STRING_value(urls, 0));
	X509_email_free(urls);
	return url;
}

/* POSTs the DER request to url: the response body into *derp (caller
 * frees), or -1 with err. */
static int
http_post(const char *url, OCSP_REQUEST *req, int timeout_s,
    unsigned char **derp, size_t *lenp, char *err, size_t errlen)
{
	char *host = NULL, *port = NULL, *path = NULL, *query = NULL, *full;
	char tls[512], chunk[4096];
	BIO *body = NULL, *rsp = NULL;
	struct buf b;
	int ssl = 0, n, rc = -1;

	buf_init(&b);
	if (OSSL_HTTP_parse_url(url, &ssl, NULL, &host, &port, NULL, &path,
	    &query, NULL) != 1) {
		ERR_clear_error();
		return errf(err, errlen, "bad OCSP responder URL \"%s\"", url);
	}
	full = query != NULL ? xasprintf("%s?%s", path, query) : xstrdup(path);
	if (ssl)
		errf(err, errlen, "%s: https responders are not supported "
		    "(OCSP is signed; responders use http)", url);
	else if ((body = ASN1_item_i2d_mem_bio(ASN1_ITEM_rptr(OCSP_REQUEST),
	    (const ASN1_VALUE *)req)) == NULL ||
	    (rsp = OSSL_HTTP_transfer(NULL, host, port, full, 0, NULL, NULL,
	    NULL, NULL, NULL, NULL, 0, NULL, "application/ocsp-request",
	    body, "application/ocsp-response", 1, FETCH_MAX_RESP, timeout_s,
	    0)) == NULL)
		errf(err, errlen, "no answer from the OCSP responder %s: %s",
		    url, log_tls_errors(tls, sizeof(tls)));
	else {
		while ((n = BIO_read(rsp, chunk, sizeof(chunk))) > 0)
			buf_add(&b, chunk, (size_t)n);
		*lenp = b.len;
		*derp = (unsigned char *)buf_take(&b);
		rc = *derp != NULL ? 0 : errf(err, errlen, "%s: an empty "
		    "answer", url);
	}
	BIO_free(rsp);
	BIO_free(body);
	buf_fini(&b);
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	OPENSSL_free(query);
	free(full);
	return rc;
}

/* A response must echo the request's nonce when it has one (a cached
 * answer without one is accepted: ocspresp_check bounds its age). */
static int
nonce_check(OCSP_REQUEST *req, const unsigned char *der, size_t len,
    char *err, size_t errlen)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	OCSP_BASICRESP *bs = r != NULL ? OCSP_response_get1_basic(r) : NULL;
	int rc = 0;

	if (bs != NULL && OCSP_check_nonce(req, bs) == 0)
		rc = errf(err, errlen, "the response's nonce is not the "
		    "request's (a replayed answer?)");
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(r);
	ERR_clear_error();
	return rc;
}

/* A request about leaf, with a nonce, or NULL. */
static OCSP_REQUEST *
request_new(X509 *leaf, X509 *issuer)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, leaf, issuer);

	if (req == NULL || id == NULL ||
	    OCSP_request_add0_id(req, id) == NULL) {
		OCSP_CERTID_free(id);
		OCSP_REQUEST_free(req);
		return NULL;
	}
	/* req owns id now */
	if (OCSP_request_add1_nonce(req, NULL, -1) != 1) {
		OCSP_REQUEST_free(req);
		return NULL;
	}
	return req;
}

/* Asks the responder about leaf: a checked response into *derp. */
static int
ask(struct fetch *f, X509 *leaf, X509 *issuer, struct ocspresp_info *info,
    unsigned char **derp, size_t *lenp, char *err, size_t errlen)
{
	OCSP_REQUEST *req = NULL;
	char *url = ocsp_url(leaf), subj[256], why[1024];
	int rc = -1;

	*derp = NULL;
	ocspresp_subject(leaf, subj, sizeof(subj));
	if (url == NULL)
		errf(err, errlen, "certificate %s names no OCSP responder "
		    "(no OCSP URL in its Authority Information Access)", subj);
	else if ((req = request_new(leaf, issuer)) == NULL)
		errf(err, errlen, "cannot make an OCSP request");
	else if (http_post(url, req, f->timeout_s, derp, lenp, err,
	    errlen) < 0 || nonce_check(req, *derp, *lenp, err, errlen) < 0)
		;	/* said */
	else if (ocspresp_check(*derp, *lenp, leaf, issuer, time(NULL), info,
	    why, sizeof(why)) < 0)
		errf(err, errlen, "the answer of %s is refused: %s", url, why);
	else if (info->status == V_OCSP_CERTSTATUS_UNKNOWN)
		errf(err, errlen, "%s does not know certificate %s (status "
		    "unknown)", url, subj);
	else
		rc = 0;
	if (rc < 0) {
		free(*derp);
		*derp = NULL;
	}
	OCSP_REQUEST_free(req);
	free(url);
	ERR_clear_error();
	return rc;
}

/* One certificate file: fetch, judge, store. */
static void
job_run(struct fetch *f, const struct fetch_job *j)
{
	struct ocspresp_info info;
	STACK_OF(X509) *certs;
	X509 *leaf, *issuer;
	unsigned char *der = NULL;
	char why[1024], when[64], subj[256];
	size_t len = 0;
	int i;

	if ((certs = certs_of(j->path, why, sizeof(why))) == NULL) {
		fetch_fail(f, "%s", *why ? why : "no certificate in the file");
		return;
	}
	leaf = sk_X509_value(certs, 0);
	for (i = 1; i < sk_X509_num(certs); i++) {
		if (X509_check_ca(sk_X509_value(certs, i)) != 0)
			continue;
		log_warnx("%s holds more than one server certificate: %s is "
		    "for the first, %s (put each in its own file to staple "
		    "each)", j->path, j->out, ocspresp_subject(leaf, subj,
		    sizeof(subj)));
		break;
	}
	if ((issuer = ocspresp_issuer(leaf, j->pool)) == NULL)
		fetch_fail(f, "%s: the issuer of %s is not in the file (nor "
		    "in its chain files, nor -i): it signs the request",
		    j->path, ocspresp_subject(leaf, subj, sizeof(subj)));
	else if (ask(f, leaf, issuer, &info, &der, &len, why,
	    sizeof(why)) < 0)
		fetch_fail(f, "%s: %s", j->path, why);
	else if (file_replace(j->out, der, len, 0644, why, sizeof(why)) < 0)
		fetch_fail(f, "%s", why);
	else if (info.status == V_OCSP_CERTSTATUS_REVOKED)
		printf("%s: REVOKED since %s (stapled as it is: replace the "
		    "certificate)\n", j->out, ocspresp_time_text(
		    info.revoked_at, when, sizeof(when)));
	else
		printf("%s: good until %s\n", j->out, ocspresp_time_text(
		    info.next_update, when, sizeof(when)));
	free(der);
	sk_X509_pop_free(certs, X509_free);
}

static void
fetch_fini(struct fetch *f)
{
	size_t k;

	for (k = 0; k < f->n; k++) {
		free(f->v[k].path);
		free(f->v[k].out);
		sk_X509_pop_free(f->v[k].pool, X509_free);
	}
	free(f->v);
}

/* Jobs for the files named on the command line: the issuer is looked
 * for in each file and in -i's file. */
static int
jobs_of_args(struct fetch *f, int argc, char **argv, const char *issuers,
    const char *out)
{
	STACK_OF(X509) *extra = NULL, *pool, *certs;
	char why[1024];
	int i;

	if (issuers != NULL &&
	    (extra = certs_of(issuers, why, sizeof(why))) == NULL)
		return cli_fail("-i %s: %s", issuers, *why ? why :
		    "no certificate in the file");
	for (i = 0; i < argc; i++) {
		if ((certs = certs_of(argv[i], why, sizeof(why))) == NULL) {
			fetch_fail(f, "%s: %s", argv[i], *why ? why :
			    "no certificate in the file");
			continue;
		}
		pool = sk_X509_new_null();
		pool_add(pool, certs);
		pool_add(pool, extra);
		job_add(f, argv[i], out, pool);
		sk_X509_pop_free(pool, X509_free);
		sk_X509_pop_free(certs, X509_free);
	}
	sk_X509_pop_free(extra, X509_free);
	return 0;
}

int
cmd_fetch_ocsp(struct cli *cli, int argc, char **argv)
{
	struct fetch f = { NULL, 0, FETCH_TIMEOUT_S, 0 };
	const char *issuers = NULL, *out = NULL;
	size_t k;
	int ch;

	while ((ch = getopt(argc, argv, "i:o:t:")) != -1) {
		switch (ch) {
		case 'i':
			issuers = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			f.timeout_s = atoi(optarg);
			if (f.timeout_s < 1 || f.timeout_s > 300)
				return cli_fail("-t: want seconds from 1 to "
				    "300");
			break;
		default:
			return cli_usage(argv[0]);
		}
	}
	argc -= optind;
	argv += optind;
	if ((out != NULL && argc != 1) || (issuers != NULL && argc == 0))
		return cli_usage("fetch-ocsp");
	if (argc > 0 ? jobs_of_args(&f, argc, argv, issuers, out) != 0 :
	    jobs_of_config(&f, cli) < 0) {
		fetch_fini(&f);
		return CLI_EXIT_FAIL;
	}
	if (f.n == 0 && f.failed == 0)
		fprintf(stderr, "tlsward: no server certificate to fetch an "
		    "OCSP response for\n");
	for (k = 0; k < f.n; k++)
		job_run(&f, &f.v[k]);
	fetch_fini(&f);
	return f.failed == 0 && f.n > 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
