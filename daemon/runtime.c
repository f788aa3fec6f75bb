/*
 * runtime.c - building, sharing and swapping service generations.
 *
 * Runs in: the worker. The current pointer is guarded by a mutex; the
 * generations themselves are immutable and reference-counted.
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "log.h"
#include "runtime.h"
#include "worker/fwdtarget.h"
#include "sni.h"
#include "util.h"

static pthread_mutex_t rt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rt *rt_cur;
static unsigned rt_generations;

/* A time parameter of service i in milliseconds. */
static int
svc_time_ms(const struct snapshot *s, size_t i, const char *name,
    int64_t *msp, char *err, size_t errlen)
{
	long long secs;
	char why[256];

	if (conf_time_parse(tlsctx_param(s, i, name), &secs, why,
	    sizeof(why)) < 0)
		return errf(err, errlen, "parameter %s: %s", name, why);
	*msp = (int64_t)secs * 1000;
	return 0;
}

/* 1 if host is an IP address literal (no SNI for those, RFC 6066). */
static int
is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

static int
svc_role_get(const char *role, enum svc_role *rp)
{
	if (strcmp(role, "server") == 0)
		*rp = SVC_SERVER;
	else if (strcmp(role, "client") == 0)
		*rp = SVC_CLIENT;
	else if (strcmp(role, "control") == 0)
		*rp = SVC_CONTROL;
	else if (strcmp(role, "postfix") == 0)
		*rp = SVC_POSTFIX;
	else
		return -1;
	return 0;
}

/* The per-source limits (tlsproxy_source_*). */
static int
svc_srclim(const struct snapshot *s, size_t i, struct rt_svc *v,
    char *err, size_t errlen)
{
	struct rt_srclim *l = &v->srclim;
	char why[256];

	if (tlsctx_int(s, i, "tlsproxy_source_session_limit", 1000000,
	    &l->sessions, err, errlen) < 0 ||
	    tlsctx_int(s, i, "tlsproxy_source_rate_limit", 1000000,
	    &l->rate, err, errlen) < 0 ||
	    tlsctx_int(s, i, "tlsproxy_source_ipv4_prefix", 32, &l->v4bits,
	    err, errlen) < 0 ||
	    tlsctx_int(s, i, "tlsproxy_source_ipv6_prefix", 128,
	    &l->v6bits, err, errlen) < 0)
		return -1;
	if (cidr_list_parse(tlsctx_param(s, i,
	    "tlsproxy_source_limit_exceptions"), &l->exempt, &l->nexempt, why,
	    sizeof(why)) < 0)
		return errf(err, errlen, "parameter "
		    "tlsproxy_source_limit_exceptions: %s", why);
	return 0;
}

/* tlsproxy_session_log_format: postfix (tlsproxy(8)'s lines) or json
 * (one record per session, jsonlog.h). */
static int
svc_log_format(const struct snapshot *s, size_t i, struct rt_svc *v,
    char *err, size_t errlen)
{
	const char *f = tlsctx_param(s, i, "tlsproxy_session_log_format");

	if (f == NULL || strcasecmp(f, "postfix") == 0)
		v->log_json = 0;
	else if (strcasecmp(f, "json") == 0)
		v->log_json = 1;
	else
		return errf(err, errlen, "service %s: parameter "
		    "tlsproxy_session_log_format: want postfix or json, not "
		    "\"%s\"", v->name, f);
	return 0;
}

/* The PROXY protocol settings (tlsproxy_proxy_*). A service that accepts
 * a header must name the networks it accepts one from. */
static int
svc_pp(const struct snapshot *s, size_t i, struct rt_svc *v, char *err,
    size_t errlen)
{
	const char *send = tlsctx_param(s, i, "tlsproxy_proxy_send");
	const char *acc = tlsctx_param(s, i, "tlsproxy_proxy_accept");
	struct rt_pp *p = &v->pp;
	char why[256];

	if (strcmp(send, "none") == 0 || strcmp(send, "v1") == 0 ||
	    strcmp(send, "v2") == 0)
		p->send = send[0] == 'v' ? send[1] - '0' : 0;
	else
		return errf(err, errlen, "service %s: parameter "
		    "tlsproxy_proxy_send: want none, v1 or v2, not \"%s\"",
		    v->name, send);
	if (strcmp(acc, "none") == 0)
		p->accept = 0;
	else if (strcmp(acc, "v1") == 0)
		p->accept = RT_PP_V1;
	else if (strcmp(acc, "v2") == 0)
		p->accept = RT_PP_V2;
	else if (strcmp(acc, "any") == 0)
		p->accept = RT_PP_V1 | RT_PP_V2;
	else
		return errf(err, errlen, "service %s: parameter "
		    "tlsproxy_proxy_accept: want none, v1, v2 or any, not "
		    "\"%s\"", v->name, acc);
	/* Hand-off profiles have no listener of their own: neither. */
	if (p->send != 0 && (v->role != SVC_SERVER || v->is_profile))
		return errf(err, errlen, "service %s: tlsproxy_proxy_send is "
		    "for server-role listeners only", v->name);
	if (p->accept != 0 && ((v->role != SVC_SERVER &&
	    v->role != SVC_CLIENT) || v->is_profile))
		return errf(err, errlen, "service %s: tlsproxy_proxy_accept "
		    "is for server- and client-role listeners only", v->name);
	if (cidr_list_parse(tlsctx_param(s, i,
	    "tlsproxy_proxy_trusted_networks"), &p->trusted, &p->ntrusted, why,
	    sizeof(why)) < 0)
		return errf(err, errlen, "service %s: parameter "
		    "tlsproxy_proxy_trusted_networks: %s", v->name, why);
	if (p->accept != 0 && p->ntrusted == 0)
		return errf(err, errlen, "service %s: tlsproxy_proxy_accept = "
		    "%s needs tlsproxy_proxy_trusted_networks (the load "
		    "balancers allowed to send a PROXY header)", v->name, acc);
	if (svc_time_ms(s, i, "tlsproxy_proxy_header_timeout", &p->timeout_ms,
	    err, errlen) < 0)
		return -1;
	if (p->timeout_ms <= 0)
		return errf(err, errlen, "service %s: "
		    "tlsproxy_proxy_header_timeout must be more than 0",
		    v->name);
	return 0;
}

/* ALPN: the server's list (kept for its selection) and what it does
 * without an overlap; a client's list goes into its context. */
static int
svc_alpn(const struct snapshot *s, size_t i, struct rt_svc *v, char *err,
    size_t errlen)
{
	const char *mm = tlsctx_param(s, i, "tlsproxy_tls_alpn_mismatch");
	unsigned char *cw = NULL;
	size_t clen = 0, k;
	SSL_CTX *sctx;
	char why[256];
	int rc = 0;

	if (strcmp(mm, "refuse") == 0)
		v->alpn.refuse = 1;
	else if (strcmp(mm, "continue") != 0)
		return errf(err, errlen, "service %s: parameter "
		    "tlsproxy_tls_alpn_mismatch: want continue or refuse, "
		    "not \"%s\"", v->name, mm);
	if (alpn_parse(tlsctx_param(s, i, "tlsproxy_tls_alpn"),
	    "tlsproxy_tls_alpn", &v->alpn.wire, &v->alpn.len, why,
	    sizeof(why)) < 0 ||
	    alpn_parse(tlsctx_param(s, i, "tlsproxy_client_alpn"),
	    "tlsproxy_client_alpn", &cw, &clen, why, sizeof(why)) < 0)
		return errf(err, errlen, "service %s: %s", v->name, why);
	if (v->role != SVC_CLIENT && v->ctx != NULL)
		alpn_server(v->ctx, &v->alpn);
	/* A handshake that SNI moves to a name's context selects there. */
	for (k = 0; (sctx = sni_map_ctx(v->sni_map, k)) != NULL; k++)
		alpn_server(sctx, &v->alpn);
	if (v->role == SVC_CLIENT && v->ctx != NULL)
		rc = alpn_client(v->ctx, cw, clen, why, sizeof(why));
	if (v->cctx != NULL && rc == 0)
		rc = alpn_client(v->cctx, cw, clen, why, sizeof(why));
	free(cw);
	return rc < 0 ? errf(err, errlen, "service %s: %s", v->name, why) : 0;
}

/* The forward targets (svc.I.forward.J.*). */
static void
svc_fwd(const struct snapshot *s, size_t i, struct rt_svc *v)
{
	const char *cnt = snap_getf(s, NULL, "svc.%zu.forward_count", i);
	const char *addr;
	size_t j, alen;

	v->nfwdt = cnt != NULL ? strtoul(cnt, NULL, 10) : 0;
	if (v->nfwdt > SVC_FORWARD_MAX)
		v->nfwdt = SVC_FORWARD_MAX;
	if (v->nfwdt == 0)
		return;
	v->fwdt = xcalloc(v->nfwdt, sizeof(*v->fwdt));
	for (j = 0; j < v->nfwdt; j++) {
		addr = snap_getf(s, &alen, "svc.%zu.forward.%zu.addr", i, j);
		fwdt_init(&v->fwdt[j], snap_getf(s, NULL,
		    "svc.%zu.forward.%zu.text", i, j), i, j, addr,
		    addr != NULL ? alen : 0);
	}
}

/* The parts of a service that are not TLS. */
static int
svc_basics(const struct snapshot *s, size_t i, struct rt_svc *v, char *err,
    size_t errlen)
{
	const char *role = snap_getf(s, NULL, "svc.%zu.role", i);
	const char *lfd = snap_getf(s, NULL, "svc.%zu.listen_fd", i);
	const char *host = snap_getf(s, NULL, "svc.%zu.forward_host", i);
	const char *lsn;

	v->name = xstrdup(snap_getf(s, NULL, "svc.%zu.name", i));
	if (role == NULL || svc_role_get(role, &v->role) < 0)
		return errf(err, errlen, "service %s: bad role", v->name);
	v->listen_idx = lfd != NULL ? atoi(lfd) : -1;
	lsn = snap_getf(s, NULL, "svc.%zu.listen", i);
	v->is_profile = lsn != NULL && strcmp(lsn, "-") == 0;
	v->fwd_text = xstrdup(snap_getf(s, NULL, "svc.%zu.forward", i));
	svc_fwd(s, i, v);
	if (host != NULL && *host != '\0' && !is_ip_literal(host))
		v->sni = xstrdup(host);
	v->loglevel = atoi(tlsctx_param(s, i, v->role == SVC_CLIENT ?
	    "tlsproxy_client_loglevel" : "tlsproxy_tls_loglevel"));
	/* The loader type-checked it: yes or no, in any case. */
	v->session_log = strcasecmp(tlsctx_param(s, i,
	    "tlsproxy_session_log"), "yes") == 0;
	if (svc_log_format(s, i, v, err, errlen) < 0)
		return -1;
	if (svc_time_ms(s, i, "tlsproxy_handshake_timeout", &v->handshake_ms,
	    err, errlen) < 0 ||
	    svc_time_ms(s, i, "tlsproxy_idle_timeout", &v->idle_ms, err,
	    errlen) < 0 ||
	    svc_time_ms(s, i, "tlsproxy_max_session_time", &v->life_ms, err,
	    errlen) < 0 ||
	    svc_time_ms(s, i, "tlsproxy_client_session_cache_timeout",
	    &v->csc_ttl_s, err, errlen) < 0 ||
	    svc_time_ms(s, i, "tlsproxy_forward_connect_timeout",
	    &v->connect_ms, err, errlen) < 0)
		return -1;
	v->csc_ttl_s /= 1000;
	if (v->connect_ms <= 0)
		return errf(err, errlen, "service %s: "
		    "tlsproxy_forward_connect_timeout must be more than 0",
		    v->name);
	if (v->idle_ms <= 0 || v->handshake_ms <= 0)
		return errf(err, errlen, "service %s: tlsproxy_idle_timeout "
		    "and tlsproxy_handshake_timeout must be more than 0",
		    v->name);
	if (svc_pp(s, i, v, err, errlen) < 0)
		return -1;
	return svc_srclim(s, i, v, err, errlen);
}

/* A hand-off level: none (also the default of the client role) lets
 * each request choose, from may on. */
static int
handoff_level(const struct snapshot *s, size_t i, enum svc_role role,
    enum tls_level *lp, char *err, size_t errlen)
{
	if (tlsctx_level(s, i, role) == TLS_LEVEL_NONE) {
		*lp = TLS_LEVEL_MAY;
		return 0;
	}
	return tlsctx_level_get(s, i, role, lp, err, errlen);
}

/* 1 if service i names a server certificate (or chain) at all. */
static int
has_server_cert(const struct snapshot *s, size_t i)
{
	return *tlsctx_rfile(s, i, SVC_SERVER, "cert_file") != '\0' ||
	    *tlsctx_rfile(s, i, SVC_SERVER, "eccert_file") != '\0' ||
	    *tlsctx_rfile(s, i, SVC_SERVER, "chain_files") != '\0';
}

/* Hand-off contexts: a control service has both roles' (a request
 * without a profile uses them), a profile its own role's. Without any
 * configured server certificate there is no server context, which is
 * not an error: server-role requests are refused with no-certificate. */
static int
svc_tls_handoff(const struct snapshot *s, size_t i, struct rt_svc *v,
    char *err, size_t errlen)
{
	SSL_CTX **cp = v->role == SVC_CONTROL ? &v->cctx : &v->ctx;
	enum tls_level *lp = v->role == SVC_CONTROL ? &v->clevel : &v->level;

	if (v->role != SVC_CLIENT) {
		if (handoff_level(s, i, SVC_SERVER, &v->level, err, errlen) < 0)
			return -1;
		if (!has_server_cert(s, i))
			v->no_ctx_why = xasprintf("service %s has no server "
			    "certificate (tlsproxy_tls_cert_file, "
			    "tlsproxy_tls_eccert_file or "
			    "tlsproxy_tls_chain_files)", v->name);
		else if ((v->ctx = tlsctx_new(s, i, SVC_SERVER, v->level, err,
		    errlen)) == NULL)
			return -1;
	}
	if (v->role == SVC_SERVER)
		return 0;
	if (handoff_level(s, i, SVC_CLIENT, lp, err, errlen) < 0)
		return -1;
	*cp = tlsctx_new(s, i, SVC_CLIENT, *lp, err, errlen);
	return *cp == NULL ? -1 : 0;
}

/* A postfix service: the server role's context, or none with the
 * reason (level none, no certificate), as tlsproxy(8) answers status 0
 * then rather than refusing to start. */
static int
svc_tls_postfix(const struct snapshot *s, size_t i, struct rt_svc *v,
    char *err, size_t errlen)
{
	if (tlsctx_level(s, i, SVC_SERVER) == TLS_LEVEL_NONE) {
		v->no_ctx_why = xasprintf("the TLS security level of service "
		    "%s is none (tlsproxy_tls_security_level)", v->name);
		return 0;
	}
	if (!has_server_cert(s, i)) {
		v->no_ctx_why = xasprintf("service %s has no server "
		    "certificate (tlsproxy_tls_cert_file, "
		    "tlsproxy_tls_eccert_file or tlsproxy_tls_chain_files)",
		    v->name);
		return 0;
	}
	if (tlsctx_level_get(s, i, SVC_SERVER, &v->level, err, errlen) < 0)
		return -1;
	v->ctx = tlsctx_new(s, i, SVC_SERVER, v->level, err, errlen);
	return v->ctx == NULL ? -1 : 0;
}

/* The TLS side: level and SSL_CTX (with the peer policy). */
static int
svc_tls_role(const struct snapshot *s, size_t i, struct rt_svc *v,
    char *err, size_t errlen)
{
	if (v->role == SVC_POSTFIX)
		return svc_tls_postfix(s, i, v, err, errlen);
	if (v->role == SVC_CONTROL || v->is_profile)
		return svc_tls_handoff(s, i, v, err, errlen);
	if (tlsctx_level_get(s, i, v->role, &v->level, err, errlen) < 0)
		return -1;
	v->ctx = tlsctx_new(s, i, v->role, v->level, err, errlen);
	return v->ctx == NULL ? -1 : 0;
}

/* ... and for a server context, the certificates by SNI (every session
 * made from ctx: server, hand-off server role, postfix). */
static int
svc_tls(const struct snapshot *s, size_t i, struct rt_svc *v, char *err,
    size_t errlen)
{
	if (svc_tls_role(s, i, v, err, errlen) < 0)
		return -1;
	if (v->role == SVC_CLIENT || v->ctx == NULL)
		return 0;
	return sni_map_build(s, i, v->level, v->ctx, &v->sni_map, err,
	    errlen);
}

static int
global_int(const struct snapshot *s, const char *name, int *vp, int min,
    char *err, size_t errlen)
{
	const char *v = snap_getf(s, NULL, "global.%s", name);
	char *end;
	long n;

	n = v != NULL ? strtol(v, &end, 10) : -1;
	if (v == NULL || *v == '\0' || *end != '\0' || n < min || n > 100000)
		return errf(err, errlen, "parameter %s: want a number from %d "
		    "to 100000", name, min);
	*vp = (int)n;
	return 0;
}

static void
rt_free(struct rt *rt)
{
	size_t i, j;

	for (i = 0; i < rt->n; i++) {
		SSL_CTX_free(rt->svcs[i].ctx);
		sni_map_free(rt->svcs[i].sni_map);
		SSL_CTX_free(rt->svcs[i].cctx);
		free(rt->svcs[i].no_ctx_why);
		free(rt->svcs[i].name);
		for (j = 0; j < rt->svcs[i].nfwdt; j++)
			fwdt_fini(&rt->svcs[i].fwdt[j]);
		free(rt->svcs[i].fwdt);
		free(rt->svcs[i].fwd_text);
		free(rt->svcs[i].sni);
		free(rt->svcs[i].srclim.exempt);
		free(rt->svcs[i].pp.trusted);
		free(rt->svcs[i].alpn.wire);
	}
	free(rt->svcs);
	free(rt);
}

struct rt *
rt_build(const struct snapshot *s, char *err, size_t errlen)
{
	const char *cnt = snap_get(s, "svc.count", NULL);
	struct rt *rt = xcalloc(1, sizeof(*rt));
	size_t i;

	rt->refs = 1;
	rt->n = cnt != NULL ? strtoul(cnt, NULL, 10) : 0;
	rt->svcs = xcalloc(rt->n, sizeof(*rt->svcs));
	for (i = 0; i < rt->n; i++) {
		rt->svcs[i].listen_idx = -1;
		if (svc_basics(s, i, &rt->svcs[i], err, errlen) < 0 ||
		    svc_tls(s, i, &rt->svcs[i], err, errlen) < 0 ||
		    svc_alpn(s, i, &rt->svcs[i], err, errlen) < 0)
			goto fail;
	}
	if (global_int(s, "tlsproxy_min_threads", &rt->min_threads, 1, err,
	    errlen) < 0 ||
	    global_int(s, "tlsproxy_max_threads", &rt->max_threads, 1, err,
	    errlen) < 0 ||
	    global_int(s, "tlsproxy_queue_limit", &rt->queue_limit, 0, err,
	    errlen) < 0 ||
	    global_int(s, "tlsproxy_event_threads", &rt->event_threads, 0,
	    err, errlen) < 0 ||
	    global_int(s, "tlsproxy_max_sessions", &rt->max_sessions, 0, err,
	    errlen) < 0)
		goto fail;
	if (rt->min_threads > rt->max_threads) {
		errf(err, errlen, "tlsproxy_min_threads (%d) is more than "
		    "tlsproxy_max_threads (%d)", rt->min_threads,
		    rt->max_threads);
		goto fail;
	}
	return rt;
fail:
	rt_free(rt);
	return NULL;
}

struct rt *
rt_ref(struct rt *rt)
{
	__atomic_add_fetch(&rt->refs, 1, __ATOMIC_RELAXED);
	return rt;
}

void
rt_unref(struct rt *rt)
{
	if (rt != NULL && __atomic_sub_fetch(&rt->refs, 1, __ATOMIC_ACQ_REL) == 0)
		rt_free(rt);
}

struct rt *
rt_current(void)
{
	struct rt *rt;

	pthread_mutex_lock(&rt_lock);
	rt = rt_cur != NULL ? rt_ref(rt_cur) : NULL;
	pthread_mutex_unlock(&rt_lock);
	return rt;
}

void
rt_install(struct rt *rt)
{
	struct rt *old;

	pthread_mutex_lock(&rt_lock);
	rt->generation = ++rt_generations;
	old = rt_cur;
	rt_cur = rt;
	pthread_mutex_unlock(&rt_lock);
	rt_unref(old);
}
