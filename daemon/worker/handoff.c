/*
 * handoff.c - the hand-off session (tlsproxy(8)-style STARTTLS for any
 * protocol): request, answer, descriptor, handshake, report; then the
 * ordinary relay between the passed socket (TLS) and the control
 * connection (plaintext).
 *
 * Runs in: the worker, in the sandbox: the acceptor thread while the
 * request is read (non-blocking, under the request deadline, see
 * horeq.c), then a pool thread. Everything a client sends is parsed by
 * control.c under the watchdog's deadlines; nothing it sends is ever
 * relayed before the TLS handshake on the passed socket has completed
 * and the level's checks have passed.
 *
 * STARTTLS injection: the daemon never reads the passed socket except
 * through OpenSSL, from the first byte of the handshake on, so bytes a
 * peer pipelined after its STARTTLS command that are still in the socket
 * are taken for TLS records (and fail the handshake); bytes the
 * application itself already read are the application's to discard
 * (tlsward-handoff(7), SECURITY).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "control.h"
#include "csc.h"
#include "evloop.h"
#include "fingerprint.h"
#include "handoff.h"
#include "log.h"
#include "relay.h"
#include "runtime.h"
#include "session.h"
#include "stats.h"
#include "tlsalpn.h"
#include "tlsinfo.h"
#include "tlspolicy.h"
#include "tlsverify.h"
#include "util.h"
#include "watchdog.h"

static const char *const level_names[] = {
	"none", "may", "encrypt", "fingerprint", "verify", "secure", "dane",
	"dane-only",
};

/* A hand-off session: the request stage's state, then the session's. */
struct ho_conn {
	struct sess		 s;
	struct rt		*rt;		/* the reference s borrows */
	char			 who[64];	/* "pid=P uid=U" of the client */
	char			*buf;		/* the request, once bytes came:
						 * CTL_REQUEST_MAX + 1 */
	size_t			 have;		/* bytes of it read */
};

/* What a request resolved to. */
struct ho {
	struct ctl_req		 req;
	const char		*who;		/* the ho_conn's */
	const struct rt_svc	*prof;		/* parameters: profile or the
						 * control service */
	SSL_CTX			*ctx;		/* borrowed from prof */
	enum tls_level		 level;		/* effective */
	int			 own_policy;	/* the request changes the
						 * policy of prof */
	struct fpt_list		 fpts;		/* fingerprints asked for */
};

/* ------------------------------------------------------------ I/O */

/* Writes all of buf to the control connection within the deadline. */
static int
ho_write(struct sess *s, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(s->peer_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(s->why, sizeof(s->why), "hand-off: write: %s",
			    strerror(errno));
			return -1;
		}
		if (sess_wait(s, s->peer_fd, POLLOUT) < 0)
			return -1;
	}
	return 0;
}

/* Answers "refused CODE TEXT" (best effort: the session ends anyway)
 * and logs the refusal once. Returns -1. */
static int
ho_refuse(struct sess *s, const char *who, enum ctl_refusal r,
    const char *text)
{
	char line[CTL_LINE_MAX + 64];
	ssize_t n = ctl_answer_fmt(line, sizeof(line), r, text);

	if (n > 0)
		(void)send(s->peer_fd, line, (size_t)n, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
	snprintf(s->why, sizeof(s->why), "hand-off from %s refused: %s: %s",
	    who, ctl_refusal_name(r), text);
	return -1;
}

/* The client's process and user, for the log. */
static void
ho_who(int fd, char *who, size_t len)
{
	struct ucred uc;
	socklen_t ulen = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ulen) == 0)
		snprintf(who, len, "pid=%ld uid=%ld", (long)uc.pid,
		    (long)uc.uid);
	else
		snprintf(who, len, "an unknown process");
}

/* Receives and checks the peer's socket into s->fwd_fd. */
static int
ho_recv_fd(struct sess *s, const struct ho *h)
{
	char why[256];
	int fd, closed, rc, flags;

	while ((rc = ctl_fd_recv(s->peer_fd, 'F', &fd, &closed, why,
	    sizeof(why))) == 0) {
		if (sess_wait(s, s->peer_fd, POLLIN) < 0) {
			/* With report=no, nothing but the application's
			 * plaintext may ever appear on this connection. */
			if (h->req.report)
				return ho_refuse(s, h->who, CTL_TIMEOUT, "no "
				    "descriptor in time");
			strncat(s->why, " waiting for the descriptor",
			    sizeof(s->why) - strlen(s->why) - 1);
			return -1;
		}
	}
	if (rc == 1 && ctl_fd_check(fd, why, sizeof(why)) == 0) {
		s->fwd_fd = fd;
		/* The relay and the handshake never block: the open file
		 * is shared with the application's copy, which it is to
		 * close (tlsward-handoff(7)). */
		if ((flags = fcntl(fd, F_GETFL)) < 0 ||
		    fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
			snprintf(s->why, sizeof(s->why), "hand-off: "
			    "O_NONBLOCK: %s", strerror(errno));
			return -1;
		}
		sess_nodelay(fd);
		return 0;
	}
	if (rc == 1)
		close(fd);
	if (closed || !h->req.report) {
		snprintf(s->why, sizeof(s->why), "hand-off from %s: bad "
		    "descriptor: %s", h->who, why);
		return -1;
	}
	return ho_refuse(s, h->who, CTL_BAD_DESCRIPTOR, why);
}

/* ------------------------------------------------------------ policy */

/* The service of a profile name: an entry with listen "-" (not a
 * listener: those are not offered to hand-off clients). */
static const struct rt_svc *
ho_profile(const struct rt *rt, const char *name)
{
	size_t i;

	for (i = 0; i < rt->n; i++)
		if (rt->svcs[i].is_profile && strcmp(rt->svcs[i].name,
		    name) == 0)
			return &rt->svcs[i];
	return NULL;
}

/* The profile (or the control service) and its context for the role. */
static enum ctl_refusal
ho_select(struct sess *s, struct ho *h, char *why, size_t len)
{
	enum svc_role role = h->req.role == CTL_ROLE_SERVER ? SVC_SERVER :
	    SVC_CLIENT;

	h->prof = s->svc;
	if (h->req.profile[0] != '\0') {
		if ((h->prof = ho_profile(s->rt, h->req.profile)) == NULL) {
			snprintf(why, len, "no profile \"%s\"",
			    h->req.profile);
			return CTL_UNKNOWN_PROFILE;
		}
		if (h->prof->role != role) {
			snprintf(why, len, "profile %s is for the %s role",
			    h->prof->name, svc_role_name(h->prof->role));
			return CTL_UNKNOWN_PROFILE;
		}
	}
	if (h->prof->role == SVC_CONTROL && role == SVC_CLIENT) {
		h->ctx = h->prof->cctx;
		h->level = h->prof->clevel;
	} else {
		h->ctx = h->prof->ctx;
		h->level = h->prof->level;
	}
	if (h->ctx == NULL) {
		snprintf(why, len, "%s", h->prof->no_ctx_why != NULL ?
		    h->prof->no_ctx_why : "no TLS context for this role");
		return CTL_NO_CERTIFICATE;
	}
	return CTL_OK;
}

/* The client role's level, names and fingerprints as asked, checked
 * against the profile: never weaker, and never a level the profile
 * cannot carry out. */
static enum ctl_refusal
ho_client_policy(struct ho *h, char *why, size_t len)
{
	const struct tls_policy *pol = tlspol_ctx(h->ctx);
	enum tls_level want = h->req.level == CTL_LEVEL_DEFAULT ? h->level :
	    (enum tls_level)h->req.level;
	char err[256];
	size_t i;

	if (want < h->level) {
		snprintf(why, len, "level %s is weaker than the profile's %s",
		    level_names[want], level_names[h->level]);
		return CTL_LEVEL_NOT_PERMITTED;
	}
	if ((want == TLS_LEVEL_VERIFY || want == TLS_LEVEL_SECURE) &&
	    pol->ncas == 0) {
		snprintf(why, len, "level %s needs trust anchors, and the "
		    "profile has none (tlsproxy_client_CAfile)",
		    level_names[want]);
		return CTL_LEVEL_NOT_PERMITTED;
	}
	if (h->req.nfpt > 0) {
		struct buf b;

		buf_init(&b);
		for (i = 0; i < h->req.nfpt; i++)
			buf_addf(&b, "%s ", h->req.fpt[i]);
		if (fpt_list_parse(b.data, pol->md, &h->fpts, err,
		    sizeof(err)) < 0) {
			buf_fini(&b);
			snprintf(why, len, "fingerprint: %s", err);
			return CTL_BAD_REQUEST;
		}
		buf_fini(&b);
	}
	if (want == TLS_LEVEL_FINGERPRINT && h->req.nfpt == 0 &&
	    pol->fpts.n == 0) {
		snprintf(why, len, "level fingerprint needs fingerprint lines "
		    "(the profile lists none)");
		return CTL_BAD_REQUEST;
	}
	if ((want == TLS_LEVEL_VERIFY || want == TLS_LEVEL_SECURE) &&
	    h->req.servername[0] == '\0' && (pol->names == NULL ||
	    *pol->names == '\0')) {
		snprintf(why, len, "level %s needs servername (the profile "
		    "names no host)", level_names[want]);
		return CTL_BAD_REQUEST;
	}
	h->own_policy = want != h->level || h->req.nfpt > 0 ||
	    (h->req.servername[0] != '\0' && want >= TLS_LEVEL_VERIFY);
	h->level = want;
	return CTL_OK;
}

/* Parses the request and decides; CTL_OK or the refusal (why). */
static enum ctl_refusal
ho_decide(struct sess *s, struct ho *h, const char *buf, size_t len,
    char *why, size_t whylen)
{
	enum ctl_refusal r;

	if ((r = ctl_req_parse(buf, len, &h->req, why, whylen)) != CTL_OK ||
	    (r = ho_select(s, h, why, whylen)) != CTL_OK)
		return r;
	if (h->req.role == CTL_ROLE_CLIENT)
		return ho_client_policy(h, why, whylen);
	return CTL_OK;
}

/* Deadlines of the session from now on: the profile's, lowered by the
 * request. */
static void
ho_deadlines(struct sess *s, const struct ho *h)
{
	int64_t hs = h->prof->handshake_ms, idle = h->prof->idle_ms;

	if (h->req.handshake_timeout_s > 0 &&
	    (int64_t)h->req.handshake_timeout_s * 1000 < hs)
		hs = (int64_t)h->req.handshake_timeout_s * 1000;
	if (h->req.idle_timeout_s > 0 &&
	    (int64_t)h->req.idle_timeout_s * 1000 < idle)
		idle = (int64_t)h->req.idle_timeout_s * 1000;
	s->handshake_ms = hs;
	s->wd.idle_ms = idle;
	s->wd.life_end_ms = h->prof->life_ms > 0 ? s->wd.start_ms +
	    h->prof->life_ms : 0;
}

/* ------------------------------------------------------------ TLS */

/* A client hand-off: the session cache's key is the generation, the
 * control service and the profile (their contexts), the server's
 * address (the passed socket's peer), the SNI, and the level, names and
 * fingerprints the request asked for. */
static void
ho_cache_begin(struct sess *s, const struct ho *h, const char *sni)
{
	const char *w[8 + CTL_FPT_MAX];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char gen[16], lvl[16], addr[128];
	size_t n = 0, k;

	if (h->prof->csc_ttl_s <= 0 || getpeername(s->fwd_fd,
	    (struct sockaddr *)&ss, &len) < 0)
		return;
	snprintf(gen, sizeof(gen), "%u", s->rt->generation);
	snprintf(lvl, sizeof(lvl), "%d", (int)h->level);
	w[n++] = "handoff";
	w[n++] = gen;
	w[n++] = s->svc->name;
	w[n++] = h->prof->name;
	w[n++] = sess_addr_text(&ss, addr, sizeof(addr));
	w[n++] = sni != NULL ? sni : "";
	w[n++] = lvl;
	w[n++] = h->req.servername;
	for (k = 0; k < h->req.nfpt && k < CTL_FPT_MAX; k++)
		w[n++] = h->req.fpt[k];
	w[n] = NULL;
	csc_begin(s->ssl, w, h->prof->csc_ttl_s, s->st.svc);
}

/* A new SSL on the passed socket, with the request's policy. */
static int
ho_ssl(struct sess *s, struct ho *h)
{
	int is_server = h->req.role == CTL_ROLE_SERVER;
	const char *sni = h->req.servername[0] != '\0' ? h->req.servername :
	    h->prof->sni;

	if (sess_ssl(s, h->ctx, s->fwd_fd, NULL, is_server, is_server ? NULL :
	    sni) < 0)
		return -1;
	if (h->own_policy && tlspol_session(s->ssl, h->level,
	    h->req.servername[0] != '\0' ? h->req.servername : NULL,
	    h->req.nfpt > 0 ? &h->fpts : NULL, s->why, sizeof(s->why)) < 0)
		return -1;
	if (!is_server)
		ho_cache_begin(s, h, sni);
	return 0;
}

/* The key exchange group's name, or "". */
static const char *
ho_kex(SSL *ssl)
{
	int g = SSL_get_negotiated_group(ssl);
	const char *n;

	if (g == 0 || g == NID_undef)
		return "";
	n = OBJ_nid2sn(g);
	return n != NULL ? n : SSL_group_to_name(ssl, g);
}

/* Writes the report: the session's facts, and why it failed. */
static int
ho_report(struct sess *s, const struct ho *h, int ok, const char *reason,
    int handshake_done)
{
	struct ctl_outcome o;
	char buf[CTL_REPORT_MAX], subj[256] = "", iss[256] = "";
	char alpn[256] = "";
	char *fp = NULL, *pk = NULL;
	const struct tls_policy *pol;
	X509 *x;
	ssize_t n;
	int rc;

	memset(&o, 0, sizeof(o));
	o.ok = ok;
	o.reason = reason;
	o.bits = -1;
	o.level = level_names[h->level];
	if (handshake_done) {
		pol = tlspol_get(s->ssl);
		x = SSL_get0_peer_certificate(s->ssl);
		o.protocol = SSL_get_version(s->ssl);
		o.cipher = SSL_get_cipher_name(s->ssl);
		o.bits = SSL_get_cipher_bits(s->ssl, NULL);
		o.kex = ho_kex(s->ssl);
		o.trust = tlsinfo_trust(s->ssl);
		if (x != NULL) {
			tlspol_cn(X509_get_subject_name(x), subj, sizeof(subj));
			tlspol_cn(X509_get_issuer_name(x), iss, sizeof(iss));
			o.digest = pol->md_name;
			o.peer_fingerprint = fp = fpt_text(x, pol->md, 0);
			o.peer_pubkey_fingerprint = pk = fpt_text(x, pol->md,
			    1);
		}
		o.peer_cn = subj;
		o.issuer_cn = iss;
		o.alpn = alpn_selected(s->ssl, alpn, sizeof(alpn));
	}
	n = ctl_report_fmt(buf, sizeof(buf), &o);
	rc = n > 0 ? ho_write(s, buf, (size_t)n) : -1;
	free(fp);
	free(pk);
	return rc;
}

/* Handshake, level checks, report. */
static int
ho_tls(struct sess *s, struct ho *h)
{
	int is_server = h->req.role == CTL_ROLE_SERVER;

	if (ho_ssl(s, h) < 0)
		goto fail;
	if (sess_handshake(s, s->fwd_fd) < 0)
		goto fail;
	if (tlsverify_check(s->ssl, h->prof, s->why, sizeof(s->why)) < 0) {
		if (h->req.report)
			(void)ho_report(s, h, 0, s->why, 1);
		return -1;
	}
	if (!is_server)
		csc_verified(s->ssl);
	sess_established(s, is_server, h->req.peer);
	return h->req.report ? ho_report(s, h, 1, NULL, 1) : 0;
fail:
	if (h->req.report)
		(void)ho_report(s, h, 0, s->why, 0);
	sess_linger(s, s->fwd_fd);	/* after a TLS error */
	return -1;
}

/* From a complete request to the relay: 0 when the relay may start
 * (r points at the sockets), -1 when the session ends here (s->why; a
 * refusal or failure report has been written). */
static int
ho_serve(struct ho_conn *c, struct relay *r)
{
	struct sess *s = &c->s;
	char why[512];
	struct ho h;
	enum ctl_refusal rc;
	int ret = -1;

	memset(&h, 0, sizeof(h));
	h.who = c->who;
	if ((rc = ho_decide(s, &h, c->buf, c->have, why, sizeof(why))) !=
	    CTL_OK) {
		ho_refuse(s, h.who, rc, why);
		goto out;
	}
	snprintf(s->peer, sizeof(s->peer), "%s", h.req.peer);
	if (s->svc->session_log)
		log_info("sess=%llu service=%s: hand-off from %s: role=%s "
		    "peer=%s profile=%s level=%s", (unsigned long long)s->id,
		    s->svc->name, h.who, h.req.role == CTL_ROLE_SERVER ?
		    "server" : "client", h.req.peer, h.prof->name,
		    level_names[h.level]);
	/* The descriptor: still the request deadline. */
	if (ho_write(s, "ok\n", 3) < 0 || ho_recv_fd(s, &h) < 0)
		goto out;
	wd_disarm(&s->wd);
	ho_deadlines(s, &h);
	if (ho_tls(s, &h) < 0)
		goto out;
	r->tfd = s->fwd_fd;
	r->pfd = s->peer_fd;
	ret = 0;
out:
	fpt_list_fini(&h.fpts);
	return ret;
}

/* ------------------------------------------------------------ stages */

/* The end of c: the session's lines and counters, its place in the
 * session limit, its memory. */
static void
ho_end(struct ho_conn *c, const struct relay *r, int failed)
{
	sess_finish(&c->s, r, failed);
	rt_unref(c->rt);
	evloop_session_put();
	free(c->buf);
	free(c);
}

/* Over tlsproxy_max_sessions: the client learns why (a fresh socket's
 * buffer always has room for one line). */
static void
ho_over_limit(const struct rt *rt, size_t svc, int fd,
    const struct sockaddr_storage *peer, struct svc_stats *stats)
{
	static struct log_limit lim = LOG_LIMIT_INIT;
	char line[128], text[80];
	int max = evloop_max_sessions();
	ssize_t n;

	stats_refused(stats);
	log_warnx_limited(&lim, "service %s: refused connection from %s: all "
	    "%d sessions in use", rt->svcs[svc].name,
	    sess_addr_text(peer, text, sizeof(text)), max);
	snprintf(text, sizeof(text), "all %d sessions in use", max);
	if ((n = ctl_answer_fmt(line, sizeof(line), CTL_OVERLOADED, text)) > 0)
		(void)send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

struct ho_conn *
handoff_new(struct rt *rt, size_t svc, int fd,
    const struct sockaddr_storage *peer, struct svc_stats *stats)
{
	struct ho_conn *c;

	if (evloop_session_take() < 0) {
		ho_over_limit(rt, svc, fd, peer, stats);
		close(fd);
		rt_unref(rt);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->rt = rt;
	sess_init(&c->s, rt, svc, fd, peer, stats);
	ho_who(fd, c->who, sizeof(c->who));
	/* Request and descriptor: the control service's handshake
	 * deadline. */
	wd_arm(&c->s.wd, c->s.svc->handshake_ms, WD_REQUEST);
	return c;
}

int
handoff_fd(const struct ho_conn *c)
{
	return c->s.peer_fd;
}

int64_t
handoff_due_ms(const struct ho_conn *c)
{
	enum wd_kind kind;

	return wd_now_ms() + wd_timeout(&c->s.wd, &kind);
}

void
handoff_close(struct ho_conn *c)
{
	struct relay r0;

	memset(&r0, 0, sizeof(r0));
	ho_end(c, &r0, 1);
}

void
handoff_refuse(struct ho_conn *c, enum ctl_refusal r, const char *text)
{
	if (r == CTL_OVERLOADED)
		stats_refused(c->s.st.svc);
	ho_refuse(&c->s, c->who, r, text);
	handoff_close(c);
}

void
handoff_expire(struct ho_conn *c)
{
	enum wd_kind kind;

	(void)wd_timeout(&c->s.wd, &kind);
	sess_timeout(&c->s, kind);	/* the ending, as counted */
	handoff_refuse(c, CTL_TIMEOUT, "no complete request in time");
}

/* A read failed or the client left (what): the session is to end. */
static int
ho_read_fail(struct ho_conn *c, const char *what)
{
	snprintf(c->s.why, sizeof(c->s.why), "hand-off from %s: %s", c->who,
	    what);
	return -1;
}

int
handoff_read(struct ho_conn *c)
{
	int fd = c->s.peer_fd;
	ssize_t n, end;

	if (c->buf == NULL)
		c->buf = xmalloc(CTL_REQUEST_MAX + 1);
	for (;;) {
		n = recv(fd, c->buf + c->have, CTL_REQUEST_MAX - c->have,
		    MSG_PEEK | MSG_DONTWAIT);
		if (n == 0)
			return ho_read_fail(c, c->have ? "closed in the middle "
			    "of the request" : "closed before sending a "
			    "request");
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0) {
			char what[128];

			snprintf(what, sizeof(what), "read: %s",
			    strerror(errno));
			return ho_read_fail(c, what);
		}
		if ((end = ctl_req_end(c->buf, c->have + (size_t)n)) < 0)
			return ho_refuse(&c->s, c->who, CTL_BAD_REQUEST, "a "
			    "line or the request is too long, or has a NUL "
			    "byte");
		/* Everything peeked is request up to its end: take it. */
		n = end > 0 ? end - (ssize_t)c->have : n;
		if (recv(fd, c->buf + c->have, (size_t)n, MSG_DONTWAIT) != n)
			return ho_read_fail(c, "short read");
		c->have += (size_t)n;
		if (end > 0)
			return 1;
	}
}

void
handoff_run(void *arg)
{
	struct ho_conn *c = arg;
	struct relay r;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = ho_serve(c, &r);
	if (rc == 0) {
		r.ssl = c->s.ssl;
		rc = relay_run(&r, &c->s.wd, c->s.why, sizeof(c->s.why));
	}
	ho_end(c, &r, rc < 0);
}
