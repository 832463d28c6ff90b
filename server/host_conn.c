/*
 * host_conn.c - one connection's life in the host (see host.h).
 *
 * accept → (implicit TLS: handshake) → engine start (or, for a peer
 * over limits.max_per_ip, the engine's refusal: SMTP 421, RFC 5321 3.8;
 * POP3 -ERR [SYS/TEMP], RFC 3206 4) →
 * read, feed, write replies → requests: SERVE (the engine's own, e.g. spool a message; may
 * finish later on the pool, reading pauses meanwhile), STARTTLS (write the
 * 220, drop all buffered plaintext, hand the socket to an OpenSSL
 * bufferevent: RFC 3207 section 4.2) or CLOSE (write what is left, then
 * close). An engine may hold its greeting back for a while (SMTP:
 * smtp.greeting_delay_ms); a peer that speaks meanwhile gets the engine's
 * pregreet() instead (RFC 5321 4.3.1). Idle timeouts (RFC 5321 4.5.3.2.7; an engine may have its own,
 * as POP3's autologout) are the bufferevent's read and write timeouts. A
 * peer that does not read its replies stops being read from and served,
 * so memory per connection stays bounded.
 */
#include "host_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "log.h"
#include "tls.h"

#define OUTPUT_HIGH_WATER (256 * 1024)

struct conn {
	struct host *h;
	struct config_listener l;
	const struct engine_ops *ops;
	void *session;
	struct bufferevent *bev;
	evutil_socket_t fd;
	int tls;	 /* bev is an OpenSSL bufferevent */
	int handshaking; /* TLS handshake not finished yet */
	int started;	 /* engine greeting sent */
	int greet_wait;	 /* greeting held back: greet_timer runs */
	struct event *greet_timer;
	int refused; /* over limits.max_per_ip: refuse, not greet */
	int closing;
	int throttled; /* reading paused: replies not being read */
	int pending;   /* a request is being served off the loop */
	char id[24];
	char peer[64];
	struct conn *prev, *next;
};

static void conn_pump(struct conn *c);

void host_conn_free(struct conn *c)
{
	struct host *h = c->h;
	log_info(c->id, "disconnect peer=%s", c->peer);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	h->n_conns--;
	if (c->greet_timer != NULL)
		event_free(c->greet_timer);
	c->ops->destroy(&c->session);
	if (c->tls && !c->handshaking) /* close_notify (RFC 8446 6.1) */
		SSL_shutdown(bufferevent_openssl_get_ssl(c->bev));
	bufferevent_free(c->bev);
	if (!c->tls) /* an OpenSSL bufferevent closes the socket itself */
		evutil_closesocket(c->fd);
	free(c);
	if (h->stopping && h->n_conns == 0)
		event_base_loopexit(h->base, NULL);
}

/* Move the engine's replies to the socket's output buffer. */
static void conn_flush(struct conn *c)
{
	struct buf *o = c->ops->output(c->session);
	size_t n = buf_len(o);
	if (n == 0)
		return;
	if (bufferevent_write(c->bev, buf_data(o), n) != 0)
		log_error(c->id, "write_buffer_failed bytes=%zu", n);
	buf_consume(o, n);
}

static size_t conn_pending_output(const struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

/* The engine's own idle limit (POP3: its autologout timer), or the
 * configured one. */
static unsigned conn_idle_seconds(const struct conn *c)
{
	if (c->ops->idle_timeout != NULL)
		return c->ops->idle_timeout(c->session, &c->h->cfg);
	return c->h->cfg.idle_timeout;
}

static void conn_set_timeouts(struct conn *c)
{
	struct timeval tv = {.tv_sec = (time_t)conn_idle_seconds(c)};
	bufferevent_set_timeouts(c->bev, &tv, &tv);
}

static void read_cb(struct bufferevent *bev, void *arg);
static void write_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);

static void conn_set_bev(struct conn *c, struct bufferevent *bev)
{
	c->bev = bev;
	bufferevent_setcb(bev, read_cb, write_cb, event_cb, c);
	conn_set_timeouts(c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* Replace the plain bufferevent by an OpenSSL one on the same socket. The
 * plain one goes with everything it had read: RFC 3207 4.2. */
static void conn_start_tls(struct conn *c)
{
	SSL *ssl = SSL_new(c->h->tls);
	struct bufferevent *bev = NULL;
	if (ssl != NULL)
		bev = bufferevent_openssl_socket_new(c->h->base, c->fd, ssl,
						     BUFFEREVENT_SSL_ACCEPTING,
						     BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		if (ssl != NULL)
			SSL_free(ssl);
		log_error(c->id, "tls.start_failed");
		c->ops->tls_done(c->session, false, NULL);
		c->closing = 1;
		host_conn_free(c);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	bufferevent_free(c->bev);
	c->tls = 1;
	c->handshaking = 1;
	conn_set_bev(c, bev);
}

/* Act on what the engine asked for once its replies are queued. */
static void conn_request(struct conn *c)
{
	switch (c->ops->request(c->session)) {
	case ENGINE_REQ_NONE:
	case ENGINE_REQ_SERVE: /* conn_pump's business */
		return;
	case ENGINE_REQ_STARTTLS:
		if (c->handshaking)
			return; /* already under way */
		if (c->tls || c->h->tls == NULL) {
			c->ops->tls_done(c->session, false, NULL);
			break;
		}
		/* pipelined plaintext after STARTTLS is never read */
		evbuffer_drain(
			bufferevent_get_input(c->bev),
			evbuffer_get_length(bufferevent_get_input(c->bev)));
		bufferevent_disable(c->bev, EV_READ);
		if (conn_pending_output(c) == 0)
			conn_start_tls(c);
		return; /* else write_cb starts TLS once the 220 is out */
	case ENGINE_REQ_CLOSE:
		break;
	}
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (conn_pending_output(c) == 0)
		host_conn_free(c);
}

static void conn_resumed(void *arg);

/* Serve an engine request; false if it goes on off the loop. */
static bool conn_serve(struct conn *c)
{
	struct engine_call call = {conn_resumed, c};
	enum engine_serve st = c->ops->serve(c->session, &call);
	conn_flush(c);
	if (st == ENGINE_SERVED)
		return true;
	c->pending = 1;
	bufferevent_disable(c->bev, EV_READ);
	return false;
}

/* Feed what has been read to the engine, as long as it takes input and
 * the peer reads our replies. */
static void conn_pump(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	if (c->greet_wait) {
		if (evbuffer_get_length(in) == 0)
			return;
		/* RFC 5321 4.3.1: it spoke before our greeting */
		c->greet_wait = 0;
		event_del(c->greet_timer);
		evbuffer_drain(in, evbuffer_get_length(in));
		c->ops->pregreet(c->session);
		conn_flush(c);
		conn_request(c);
		return;
	}
	while (!c->closing && !c->pending) {
		enum engine_request req = c->ops->request(c->session);
		if (req == ENGINE_REQ_NONE && evbuffer_get_length(in) == 0)
			break;
		if (req != ENGINE_REQ_NONE && req != ENGINE_REQ_SERVE)
			break;
		/* a request may write much (a message streamed out): like
		 * input, it waits until the peer has read what is queued */
		if (conn_pending_output(c) > OUTPUT_HIGH_WATER) {
			c->throttled = 1;
			bufferevent_disable(c->bev, EV_READ);
			return;
		}
		if (req == ENGINE_REQ_SERVE) {
			if (!conn_serve(c))
				return;
			continue;
		}
		struct evbuffer_iovec v;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		size_t taken = c->ops->feed(c->session, v.iov_base, v.iov_len);
		evbuffer_drain(in, taken);
		conn_flush(c);
	}
	conn_flush(c);
	if (!c->pending)
		conn_request(c);
	if (!c->closing) /* the engine's state may change its limit */
		conn_set_timeouts(c);
}

/* A request served off the loop is answered: carry on. */
static void conn_resumed(void *arg)
{
	struct conn *c = arg;
	c->pending = 0;
	if (c->h->stopping)
		c->ops->shutdown(c->session);
	if (!c->throttled)
		bufferevent_enable(c->bev, EV_READ);
	conn_flush(c);
	conn_pump(c);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_pump(arg);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if (c->closing) {
		host_conn_free(c);
		return;
	}
	if (c->ops->request(c->session) == ENGINE_REQ_STARTTLS && !c->tls) {
		conn_start_tls(c);
		return;
	}
	if (c->throttled) {
		c->throttled = 0;
		bufferevent_enable(c->bev, EV_READ);
		conn_pump(c);
	}
}

static void greet_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	(void)fd;
	(void)what;
	if (!c->greet_wait || c->closing)
		return;
	c->greet_wait = 0;
	c->ops->start(c->session);
	conn_flush(c);
	conn_pump(c);
}

/* Hold the greeting back for the engine's delay; false if there is none
 * (or no timer). */
static bool conn_greet_later(struct conn *c)
{
	unsigned ms = 0;
	if (c->ops->greeting_delay_ms != NULL && c->ops->pregreet != NULL)
		ms = c->ops->greeting_delay_ms(&c->h->cfg, &c->l);
	if (ms == 0)
		return false;
	struct timeval tv = {.tv_sec = ms / 1000,
			     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	c->greet_timer = evtimer_new(c->h->base, greet_timer_cb, c);
	if (c->greet_timer == NULL || evtimer_add(c->greet_timer, &tv) != 0)
		return false;
	c->greet_wait = 1;
	return true;
}

/* The greeting, or the refusal of a peer over its connection limit. */
static void conn_greet(struct conn *c)
{
	c->started = 1;
	if (c->refused)
		c->ops->refuse(c->session);
	else if (!conn_greet_later(c))
		c->ops->start(c->session);
}

static void conn_tls_connected(struct conn *c)
{
	char desc[160];
	tls_describe(bufferevent_openssl_get_ssl(c->bev), desc, sizeof(desc));
	c->handshaking = 0;
	log_info(c->id, "tls.established %s", desc);
	if (!c->started) { /* implicit TLS: the greeting comes now */
		conn_greet(c);
	} else {
		c->ops->tls_done(c->session, true, desc);
	}
	conn_flush(c);
	conn_pump(c);
}

static void conn_log_error(struct conn *c, short what)
{
	char reason[256] = "";
	if (c->tls)
		tls_error_string(reason, sizeof(reason));
	if (reason[0] == '\0' && EVUTIL_SOCKET_ERROR() != 0)
		snprintf(reason, sizeof(reason), "%s",
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	log_info(c->id, "%s peer=%s reason=\"%s\"",
		 c->handshaking		  ? "tls.handshake_failed"
		 : (what & BEV_EVENT_EOF) ? "peer_closed"
					  : "connection_error",
		 c->peer, reason);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		conn_tls_connected(c);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && !c->closing && !c->handshaking) {
		log_info(c->id, "idle_timeout seconds=%u",
			 conn_idle_seconds(c));
		c->ops->timeout(c->session);
		conn_flush(c);
		conn_request(c);
		if (!c->closing)
			return;
		/* give the 421 one more timeout period to leave */
		bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	if (!(what & BEV_EVENT_TIMEOUT))
		conn_log_error(c, what);
	host_conn_free(c);
}

void host_addr_string(const struct sockaddr *sa, char *out, size_t n)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  addr, sizeof(addr));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, addr,
			  sizeof(addr));
	snprintf(out, n, "%s", addr);
}

static struct conn *conn_new(struct host *h, const struct host_socket *hs,
			     evutil_socket_t fd, const struct sockaddr *sa)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->h = h;
	c->l = hs->conf;
	c->fd = fd;
	c->ops = engine_for(c->l.proto);
	host_addr_string(sa, c->peer, sizeof(c->peer));
	snprintf(c->id, sizeof(c->id), "%05x%07llx", h->id_salt & 0xfffff,
		 h->next_id++ & 0xfffffffULL);
	c->session = c->ops->create(&h->svc, &c->l, c->peer, c->id);
	if (c->session == NULL) {
		free(c);
		return NULL;
	}
	if (c->l.tls == LISTEN_TLS_IMPLICIT) {
		SSL *ssl = SSL_new(h->tls);
		c->bev = ssl == NULL ? NULL
				     : bufferevent_openssl_socket_new(
					       h->base, fd, ssl,
					       BUFFEREVENT_SSL_ACCEPTING,
					       BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL && ssl != NULL)
			SSL_free(ssl);
		c->tls = c->handshaking = 1;
	} else {
		c->bev = bufferevent_socket_new(h->base, fd, 0);
	}
	if (c->bev == NULL) {
		c->ops->destroy(&c->session);
		free(c);
		return NULL;
	}
	if (c->tls)
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	return c;
}

/* Connections from peer now open. */
static unsigned conns_from(const struct host *h, const char *peer)
{
	unsigned n = 0;
	for (const struct conn *c = h->conns; c != NULL; c = c->next)
		if (strcmp(c->peer, peer) == 0)
			n++;
	return n;
}

void host_conn_accept(struct host_socket *hs, evutil_socket_t fd,
		      const struct sockaddr *sa)
{
	struct host *h = hs->h;
	char peer[64];
	host_addr_string(sa, peer, sizeof(peer));
	unsigned from_peer = conns_from(h, peer);
	if (h->stopping || h->n_conns >= h->cfg.max_connections) {
		log_warn(NULL,
			 "connection_refused peer=%s listener=%s reason=%s",
			 peer, hs->conf.name,
			 h->stopping ? "stopping" : "max_connections");
		evutil_closesocket(fd);
		return;
	}
	struct conn *c = conn_new(h, hs, fd, sa);
	if (c == NULL) {
		log_error(NULL, "connection_setup_failed peer=%s", peer);
		evutil_closesocket(fd);
		return;
	}
	if (from_peer >= h->cfg.max_per_ip) {
		log_warn(c->id,
			 "connection_refused peer=%s listener=%s "
			 "reason=max_per_ip connections=%u",
			 peer, hs->conf.name, from_peer);
		c->refused = 1;
		if (c->ops->refuse == NULL) {
			c->ops->destroy(&c->session);
			bufferevent_free(c->bev);
			if (!c->tls)
				evutil_closesocket(fd);
			free(c);
			return;
		}
	}
	c->next = h->conns;
	if (h->conns != NULL)
		h->conns->prev = c;
	h->conns = c;
	h->n_conns++;
	log_info(c->id, "connect peer=%s listener=%s tls=%s", c->peer,
		 c->l.name, config_tls_name(c->l.tls));
	conn_set_bev(c, c->bev);
	if (!c->tls) {
		conn_greet(c);
		conn_flush(c);
		conn_request(c); /* a refusal closes once it is written */
	}
}

void host_conn_stop(struct conn *c)
{
	if (c->closing)
		return;
	if (c->handshaking) {
		c->closing = 1;
		host_conn_free(c);
		return;
	}
	if (c->pending)
		return;	   /* conn_resumed says 421 once the work is done */
	c->greet_wait = 0; /* the 421 replaces the greeting */
	c->ops->shutdown(c->session);
	conn_flush(c);
	conn_request(c);
}

struct conn *host_conn_next(const struct conn *c)
{
	return c->next;
}
