/*
 * evpp.c - the PROXY protocol steps of event-loop sessions (see evpp.h
 * for the contract; the codec is proxyproto.c).
 *
 * Runs in: an event loop thread.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "cidr.h"
#include "evpp.h"
#include "evsess.h"
#include "log.h"
#include "proxyproto.h"
#include "runtime.h"
#include "srclim.h"
#include "stats.h"
#include "tlsalpn.h"
#include "tlspolicy.h"
#include "util.h"

struct evpp {
	struct sockaddr_storage	 src;		/* the client */
	struct sockaddr_storage	 dst;		/* what it connected to */
	int			 have_dst;	/* dst is known (a header) */
	int			 local;		/* the header was LOCAL */
	unsigned char		 buf[PP_MAX];	/* peeked header, then the
						 * header to send */
	size_t			 len, off;	/* to send, sent */
};

void
evpp_new(struct esess *e, const struct sockaddr_storage *peer)
{
	const struct rt_pp *p = &e->s.svc->pp;

	if (p->accept == 0 && p->send == 0)
		return;
	e->pp = xcalloc(1, sizeof(*e->pp));
	e->pp->src = *peer;
}

void
evpp_free(struct evpp *p)
{
	free(p);
}

int
evpp_accept_start(struct esess *e)
{
	const struct rt_pp *p = &e->s.svc->pp;

	if (!cidr_list_match(p->trusted, p->ntrusted, &e->pp->src)) {
		snprintf(e->s.why, sizeof(e->s.why), "PROXY header refused: "
		    "source not in tlsproxy_proxy_trusted_networks");
		return EV_FAIL;
	}
	wd_arm(&e->s.wd, p->timeout_ms, WD_PROXY);
	e->state = EVS_PROXY_IN;
	return EV_NEXT;
}

/* The per-source limits, now that the real source is known. */
static int
admit(struct esess *e)
{
	const struct rt_srclim *l = &e->s.svc->srclim;
	struct srclim_refusal r;
	enum srclim_verdict v;
	char net[64];

	v = srclim_admit(e->s.st.svc, l, &e->pp->src, &e->src, &r);
	if (v == SRCLIM_OK)
		return 0;
	stats_refused_source(e->s.st.svc);
	snprintf(e->s.why, sizeof(e->s.why), "refused: %s %d from %s "
	    "(tlsproxy_source_%s_limit)", v == SRCLIM_SESSIONS ?
	    "sessions at the limit of" : "connections this second at the "
	    "limit of", v == SRCLIM_SESSIONS ? l->sessions : l->rate,
	    cidr_text(&r.net, net, sizeof(net)),
	    v == SRCLIM_SESSIONS ? "session" : "rate");
	return -1;
}

/* A complete header of hlen bytes in buf: consumed from the socket, and
 * its addresses made the session's. */
static int
accepted(struct esess *e, const struct pp_hdr *h, size_t hlen)
{
	struct sess *s = &e->s;
	char lb[sizeof(s->peer)];
	ssize_t n;

	do
		n = read(s->peer_fd, e->pp->buf, hlen);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)hlen) {	/* it was there: peeked */
		snprintf(s->why, sizeof(s->why), "PROXY header: read: %s",
		    n < 0 ? strerror(errno) : "short");
		return EV_FAIL;
	}
	memcpy(lb, s->peer, sizeof(lb));
	e->pp->local = h->local;
	if (!h->local) {
		e->pp->src = h->src;
		e->pp->dst = h->dst;
		e->pp->have_dst = 1;
		sess_addr_text(&h->src, s->peer, sizeof(s->peer));
	}
	if (s->svc->session_log)
		log_info("sess=%llu service=%s: PROXY v%d%s from %s: client %s",
		    (unsigned long long)s->id, s->svc->name, h->version,
		    h->local ? " LOCAL" : "", lb, s->peer);
	wd_disarm(&s->wd);
	if (admit(e) < 0)
		return EV_FAIL;
	return evs_begin(e);
}

int
evpp_health_check_over(struct esess *e)
{
	struct sess *s = &e->s;
	char c;
	ssize_t n;

	if (e->pp == NULL || !e->pp->local ||
	    BIO_number_read(SSL_get_rbio(s->ssl)) != 0)
		return 0;
	do
		n = recv(s->peer_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n != 0)
		return 0;
	snprintf(s->why, sizeof(s->why), "closed after a PROXY LOCAL "
	    "header, before TLS (a health check)");
	stats_end_set(&s->st, STATS_END_PEER_CLOSED);
	return 1;
}

int
evpp_accept_step(struct esess *e)
{
	struct sess *s = &e->s;
	struct pp_hdr h;
	char why[160];
	ssize_t n;
	int rc;

	do
		n = recv(s->peer_fd, e->pp->buf, sizeof(e->pp->buf), MSG_PEEK);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return EV_WAIT;
	if (n <= 0) {
		snprintf(s->why, sizeof(s->why), "PROXY header: %s",
		    n == 0 ? "connection closed before it" : strerror(errno));
		stats_end_set(&s->st, STATS_END_PEER_CLOSED);
		return EV_FAIL;
	}
	rc = pp_parse(e->pp->buf, (size_t)n, s->svc->pp.accept, &h, why,
	    sizeof(why));
	if (rc < 0) {
		snprintf(s->why, sizeof(s->why), "%s", why);
		return EV_FAIL;
	}
	if (rc == 0)
		return EV_WAIT;		/* the rest arrives with an event */
	return accepted(e, &h, (size_t)rc);
}

/* The TLS facts of the handshake for a v2 header; cn is the client
 * certificate's CN buffer. */
static void
tls_facts(SSL *ssl, struct pp_tls *t, char *cn, size_t cnlen)
{
	X509 *x = SSL_get0_peer_certificate(ssl);
	unsigned int alen = 0;

	memset(t, 0, sizeof(*t));
	t->version = SSL_get_version(ssl);
	t->cipher = SSL_get_cipher_name(ssl);
	t->sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	SSL_get0_alpn_selected(ssl, &t->alpn, &alen);
	t->alpn_len = alen;
	if (x != NULL) {
		t->cert_conn = 1;
		t->verified = tlspol_trusted(ssl);
		tlspol_cn(X509_get_subject_name(x), cn, cnlen);
		t->cn = cn;
	}
}

int
evpp_send_start(struct esess *e)
{
	struct sess *s = &e->s;
	struct evpp *p = e->pp;
	socklen_t dlen = sizeof(p->dst);
	struct pp_tls t;
	char cn[256];

	if (!p->have_dst && getsockname(s->peer_fd,
	    (struct sockaddr *)&p->dst, &dlen) < 0) {
		snprintf(s->why, sizeof(s->why), "PROXY header: "
		    "getsockname: %s", strerror(errno));
		return EV_FAIL;
	}
	if (s->svc->pp.send == 1)
		p->len = pp_encode_v1(&p->src, &p->dst, (char *)p->buf,
		    sizeof(p->buf));
	else {
		tls_facts(s->ssl, &t, cn, sizeof(cn));
		p->len = pp_encode_v2(&p->src, &p->dst, &t, p->buf,
		    sizeof(p->buf));
	}
	if (p->len == 0) {
		snprintf(s->why, sizeof(s->why), "PROXY header: too long");
		return EV_FAIL;
	}
	p->off = 0;
	e->state = EVS_PROXY_OUT;
	return EV_NEXT;
}

int
evpp_send_step(struct esess *e)
{
	struct sess *s = &e->s;
	struct evpp *p = e->pp;
	ssize_t n;

	while (p->off < p->len) {
		n = send(s->fwd_fd, p->buf + p->off, p->len - p->off,
		    MSG_NOSIGNAL);
		if (n > 0)
			p->off += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && errno == EAGAIN)
			return EV_WAIT;
		else {
			snprintf(s->why, sizeof(s->why), "PROXY header to %s: "
			    "%s", evs_target_text(e), strerror(errno));
			return EV_FAIL;
		}
	}
	evs_relay_begin(e, s->peer_fd, s->fwd_fd);
	return EV_NEXT;
}
