/*
 * runtime.h - what the worker serves with: one immutable, reference-
 * counted generation of services (SSL_CTXs, forward addresses, limits)
 * built from a snapshot. A reload builds a new generation and swaps the
 * current pointer; sessions keep the generation they started with.
 *
 * Runs in: the worker.
 */
#ifndef TLSWARD_RUNTIME_H
#define TLSWARD_RUNTIME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "cidr.h"
#include "services.h"
#include "snapshot.h"
#include "tlsalpn.h"
#include "tlsctx.h"

struct sni_map;
struct fwd_target;		/* worker/fwdtarget.h */

struct rt_svc {
	char			*name;
	enum svc_role		 role;
	SSL_CTX			*ctx;		/* server or client role; for
						 * control the server role's,
						 * NULL without a certificate */
	struct sni_map		*sni_map;	/* tls_server_sni_maps for
						 * ctx (server side), or
						 * NULL */
	SSL_CTX			*cctx;		/* control: client role's */
	enum tls_level		 clevel;	/* control: client role's */
	int			 is_profile;	/* listen "-": parameters for
						 * hand-off requests only */
	char			*no_ctx_why;	/* hand-off: why ctx is NULL */
	int			 listen_idx;	/* into the fd array; -1 none */
	struct fwd_target	*fwdt;		/* forward targets, in the
						 * order they are tried */
	size_t			 nfwdt;
	int64_t			 connect_ms;	/* tlsproxy_forward_connect_
						 * timeout: one attempt */
	char			*fwd_text;	/* as in services.cf */
	char			*sni;		/* client: server name, or NULL */
	enum tls_level		 level;
	int			 loglevel;
	int			 session_log;	/* tlsproxy_session_log: log
						 * sessions that succeed */
	int			 log_json;	/* tlsproxy_session_log_format
						 * = json: one JSON record per
						 * session (jsonlog.h) */
	int64_t			 handshake_ms;	/* tlsproxy_handshake_timeout */
	int64_t			 idle_ms;	/* tlsproxy_idle_timeout */
	int64_t			 life_ms;	/* tlsproxy_max_session_time */
	int64_t			 csc_ttl_s;	/* client role:
						 * tlsproxy_client_session_cache_timeout
						 * (0: no session cache) */
	struct rt_srclim {			/* per-source limits */
		int		 sessions;	/* tlsproxy_source_session_limit
						 * (0: none) */
		int		 rate;		/* tlsproxy_source_rate_limit:
						 * new connections a second
						 * (0: none) */
		int		 v4bits;	/* tlsproxy_source_ipv4_prefix */
		int		 v6bits;	/* tlsproxy_source_ipv6_prefix */
		struct cidr	*exempt;	/* tlsproxy_source_limit_exceptions */
		size_t		 nexempt;
	}			 srclim;
	struct rt_pp {				/* the PROXY protocol */
		int		 send;		/* tlsproxy_proxy_send: 0 none,
						 * 1 v1, 2 v2 (server role) */
		unsigned	 accept;	/* tlsproxy_proxy_accept: 0
						 * none, else RT_PP_V1|RT_PP_V2 */
		struct cidr	*trusted;	/* tlsproxy_proxy_trusted_networks */
		size_t		 ntrusted;
		int64_t		 timeout_ms;	/* tlsproxy_proxy_header_timeout */
	}			 pp;
	struct tls_alpn		 alpn;		/* server: tlsproxy_tls_alpn;
						 * the ctx's selection uses it */
};

/* rt_pp.accept bits (the values of proxyproto.h's PP_ACCEPT_*). */
#define RT_PP_V1	0x01
#define RT_PP_V2	0x02

struct rt {
	int		 refs;		/* atomic */
	unsigned	 generation;
	struct rt_svc	*svcs;
	size_t		 n;
	int		 min_threads;	/* tlsproxy_min_threads */
	int		 max_threads;	/* tlsproxy_max_threads */
	int		 queue_limit;	/* tlsproxy_queue_limit */
	int		 event_threads;	/* tlsproxy_event_threads (0: CPUs,
					 * cgroup CPU limit); read at
					 * worker start only */
	int		 max_sessions;	/* tlsproxy_max_sessions (0: by
					 * the open-files limit and the
					 * cgroup memory limit) */
};

/* Builds a generation from a sealed snapshot. NULL with err on any
 * problem (every service must be usable). Does not keep s. */
struct rt	*rt_build(const struct snapshot *s, char *err, size_t errlen);

/* Reference counting (thread-safe). rt_unref frees at zero. */
struct rt	*rt_ref(struct rt *rt);
void		 rt_unref(struct rt *rt);

/* The current generation, referenced for the caller (rt_unref it). */
struct rt	*rt_current(void);

/* Installs rt (the caller's reference moves in) and drops the previous
 * one. */
void		 rt_install(struct rt *rt);

#endif
