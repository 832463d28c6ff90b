/*
 * host.c - the libevent host (see host.h).
 *
 * A connection's life: accept → (implicit TLS: handshake) → engine start →
 * read, feed, write replies → requests: STARTTLS (write the 220, drop all
 * buffered plaintext, hand the socket to an OpenSSL bufferevent: RFC 3207
 * section 4.2) or CLOSE (write what is left, then close). Idle timeouts
 * (RFC 5321 4.5.3.2.7) come from the bufferevent read/write timeouts.
 * A peer that does not read its replies stops being read from, so memory
 * per connection stays bounded.
 */
#include "host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "engine.h"
#include "log.h"
#include "tls.h"

#define HOST_MAX_SOCKETS  64
#define OUTPUT_HIGH_WATER (256 * 1024)

struct conn;

struct host_socket {
	struct host *h;
	struct evconnlistener *lev;
	struct config_listener conf;
	char describe[320];
};

struct host {
	struct event_base *base;
	struct quilld_config cfg;
	SSL_CTX *tls;
	struct host_socket sockets[HOST_MAX_SOCKETS];
	size_t n_sockets;
	struct event *sig_term, *sig_int, *sig_hup, *grace;
	struct conn *conns;
	unsigned n_conns;
	unsigned long long next_id;
	unsigned id_salt;
	int stopping;
};

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
	int closing;
	int throttled; /* reading paused: replies not being read */
	char id[24];
	char peer[64];
	struct conn *prev, *next;
};

static void conn_pump(struct conn *c);

static void conn_free(struct conn *c)
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

static void conn_set_timeouts(struct conn *c)
{
	struct timeval tv = {.tv_sec = (time_t)c->h->cfg.idle_timeout};
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
		conn_free(c);
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
		conn_free(c);
}

/* Feed what has been read to the engine, as long as it takes input and
 * the peer reads our replies. */
static void conn_pump(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (!c->closing && c->ops->request(c->session) == ENGINE_REQ_NONE &&
	       evbuffer_get_length(in) > 0) {
		if (conn_pending_output(c) > OUTPUT_HIGH_WATER) {
			c->throttled = 1;
			bufferevent_disable(c->bev, EV_READ);
			return;
		}
		struct evbuffer_iovec v;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		size_t taken = c->ops->feed(c->session, v.iov_base, v.iov_len);
		evbuffer_drain(in, taken);
		conn_flush(c);
	}
	conn_flush(c);
	conn_request(c);
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
		conn_free(c);
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

static void conn_tls_connected(struct conn *c)
{
	char desc[160];
	tls_describe(bufferevent_openssl_get_ssl(c->bev), desc, sizeof(desc));
	c->handshaking = 0;
	log_info(c->id, "tls.established %s", desc);
	if (!c->started) { /* implicit TLS: the greeting comes now */
		c->started = 1;
		c->ops->start(c->session);
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
			 c->h->cfg.idle_timeout);
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
	conn_free(c);
}

static void peer_name(const struct sockaddr *sa, char *out, size_t n)
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
	peer_name(sa, c->peer, sizeof(c->peer));
	snprintf(c->id, sizeof(c->id), "%05x%07llx", h->id_salt & 0xfffff,
		 h->next_id++ & 0xfffffffULL);
	c->session = c->ops->create(&h->cfg, &c->l, c->peer, c->id);
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

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
		      struct sockaddr *sa, int socklen, void *arg)
{
	struct host_socket *hs = arg;
	struct host *h = hs->h;
	char peer[64];
	(void)lev;
	(void)socklen;
	peer_name(sa, peer, sizeof(peer));
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
	c->next = h->conns;
	if (h->conns != NULL)
		h->conns->prev = c;
	h->conns = c;
	h->n_conns++;
	log_info(c->id, "connect peer=%s listener=%s tls=%s", c->peer,
		 c->l.name, config_tls_name(c->l.tls));
	conn_set_bev(c, c->bev);
	if (!c->tls) {
		c->started = 1;
		c->ops->start(c->session);
		conn_flush(c);
	}
}

static int bind_one(struct host *h, const struct config_listener *l,
		    const struct addrinfo *ai)
{
	if (h->n_sockets >= HOST_MAX_SOCKETS) {
		errno = EMFILE;
		return -1;
	}
	struct host_socket *hs = &h->sockets[h->n_sockets];
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
			 LEV_OPT_CLOSE_ON_EXEC;
	if (ai->ai_family == AF_INET6)
		flags |= LEV_OPT_BIND_IPV6ONLY;
	hs->h = h;
	hs->conf = *l;
	hs->lev = evconnlistener_new_bind(h->base, accept_cb, hs, flags, 128,
					  ai->ai_addr, (int)ai->ai_addrlen);
	if (hs->lev == NULL)
		return -1;
	char addr[INET6_ADDRSTRLEN];
	peer_name(ai->ai_addr, addr, sizeof(addr));
	snprintf(hs->describe, sizeof(hs->describe), "%-12s %-10s %s%s%s:%u %s",
		 l->name, config_proto_name(l->proto),
		 ai->ai_family == AF_INET6 ? "[" : "", addr,
		 ai->ai_family == AF_INET6 ? "]" : "", l->port,
		 config_tls_name(l->tls));
	log_info(NULL, "listen %s", hs->describe);
	h->n_sockets++;
	return 0;
}

/* Bind every address the listener's address resolves to. An address
 * family the machine lacks (no IPv6) is skipped if another one binds. */
/* Bind every address one name resolves to; count binds and keep the most
 * telling error. */
static int bind_name(struct host *h, const struct config_listener *l,
		     const char *name, int *bound, int *first_errno)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char port[8];
	snprintf(port, sizeof(port), "%u", l->port);
	int gai = getaddrinfo(name, port, &hints, &res);
	if (gai != 0)
		return gai;
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		if (bind_one(h, l, ai) == 0)
			(*bound)++;
		else if (*first_errno == 0 ||
			 (errno != EADDRNOTAVAIL && errno != EAFNOSUPPORT))
			*first_errno = errno;
	}
	freeaddrinfo(res);
	return 0;
}

/* "localhost" means both loopback addresses, whatever /etc/hosts says;
 * any other address is resolved and each result bound. */
static int bind_listener(struct host *h, const struct config_listener *l,
			 char *err, size_t errlen)
{
	static const char *const loopback[] = {"127.0.0.1", "::1", NULL};
	const char *single[] = {l->address, NULL};
	const char *const *names =
		strcmp(l->address, "localhost") == 0 ? loopback : single;
	int bound = 0, first_errno = 0;
	for (size_t i = 0; names[i] != NULL; i++) {
		int gai = bind_name(h, l, names[i], &bound, &first_errno);
		if (gai != 0) {
			snprintf(err, errlen, "listener %s: address '%s': %s",
				 l->name, names[i], gai_strerror(gai));
			return -1;
		}
	}
	if (bound > 0 && (first_errno == 0 || first_errno == EADDRNOTAVAIL ||
			  first_errno == EAFNOSUPPORT))
		return 0;
	snprintf(err, errlen, "listener %s: cannot listen on %s port %u: %s",
		 l->name, l->address, l->port, strerror(first_errno));
	return -1;
}

static SSL_CTX *host_tls_ctx(const struct quilld_config *cfg, char *err,
			     size_t errlen)
{
	struct tls_settings ts = {
		.cert_file = cfg->tls_cert,
		.key_file = cfg->tls_key,
		.chain_file = cfg->tls_chain[0] != '\0' ? cfg->tls_chain : NULL,
	};
	return tls_server_ctx_new(&ts, err, errlen);
}

static int needs_tls(const struct quilld_config *cfg)
{
	for (unsigned i = 0; i < cfg->n_listeners; i++)
		if (cfg->listeners[i].tls != LISTEN_TLS_NONE)
			return 1;
	return 0;
}

static void host_stop(struct host *h, const char *why)
{
	if (h->stopping)
		return;
	h->stopping = 1;
	log_info(NULL, "stopping reason=%s sessions=%u grace=%u", why,
		 h->n_conns, h->cfg.shutdown_grace);
	for (size_t i = 0; i < h->n_sockets; i++) {
		evconnlistener_free(h->sockets[i].lev);
		h->sockets[i].lev = NULL;
	}
	/* Each session says 421 and closes once its output is written. */
	struct conn *next;
	for (struct conn *c = h->conns; c != NULL; c = next) {
		next = c->next;
		if (c->closing || c->handshaking) {
			if (!c->closing) {
				c->closing = 1;
				conn_free(c);
			}
			continue;
		}
		c->ops->shutdown(c->session);
		conn_flush(c);
		conn_request(c);
	}
	if (h->n_conns == 0) {
		event_base_loopexit(h->base, NULL);
		return;
	}
	struct timeval tv = {.tv_sec = (time_t)h->cfg.shutdown_grace};
	evtimer_add(h->grace, &tv);
}

static void host_reload(struct host *h)
{
	struct quilld_config *next = malloc(sizeof(*next));
	char err[512];
	if (next == NULL)
		return;
	if (h->cfg.file[0] == '\0') {
		*next = h->cfg; /* defaults: re-read the certificate only */
	} else if (config_load(next, h->cfg.file, err, sizeof(err)) != 0) {
		log_error(NULL, "reload_failed %s", err);
		free(next);
		return;
	}
	if (!config_same_listeners(&h->cfg, next)) {
		log_warn(NULL, "reload listeners_changed=restart_needed");
		memcpy(next->listeners, h->cfg.listeners,
		       sizeof(next->listeners));
		next->n_listeners = h->cfg.n_listeners;
	}
	if (needs_tls(next)) {
		SSL_CTX *ctx = host_tls_ctx(next, err, sizeof(err));
		if (ctx == NULL) {
			log_error(NULL, "reload_failed %s", err);
			free(next);
			return;
		}
		SSL_CTX_free(h->tls); /* live sessions hold their own ref */
		h->tls = ctx;
	}
	h->cfg = *next;
	free(next);
	log_setup(h->cfg.log_level, h->cfg.log_target, "quilld");
	log_info(NULL, "reloaded file=%s", h->cfg.file[0] ? h->cfg.file : "-");
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct host *h = arg;
	(void)what;
	if (sig == SIGHUP)
		host_reload(h);
	else
		host_stop(h, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct host *h = arg;
	(void)fd;
	(void)what;
	log_warn(NULL, "grace_expired sessions_aborted=%u", h->n_conns);
	event_base_loopexit(h->base, NULL);
}

static int host_events(struct host *h)
{
	h->sig_term = evsignal_new(h->base, SIGTERM, signal_cb, h);
	h->sig_int = evsignal_new(h->base, SIGINT, signal_cb, h);
	h->sig_hup = evsignal_new(h->base, SIGHUP, signal_cb, h);
	h->grace = evtimer_new(h->base, grace_cb, h);
	if (h->sig_term == NULL || h->sig_int == NULL || h->sig_hup == NULL ||
	    h->grace == NULL || evsignal_add(h->sig_term, NULL) != 0 ||
	    evsignal_add(h->sig_int, NULL) != 0 ||
	    evsignal_add(h->sig_hup, NULL) != 0)
		return -1;
	return 0;
}

struct host *host_new(const struct quilld_config *cfg, char *err, size_t errlen)
{
	struct host *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->cfg = *cfg;
	if (getrandom(&h->id_salt, sizeof(h->id_salt), 0) < 0)
		h->id_salt = (unsigned)getpid();
	signal(SIGPIPE, SIG_IGN);
	h->base = event_base_new();
	if (h->base == NULL || host_events(h) != 0) {
		snprintf(err, errlen, "cannot set up the event loop");
		host_free(&h);
		return NULL;
	}
	if (needs_tls(cfg) &&
	    (h->tls = host_tls_ctx(cfg, err, errlen)) == NULL) {
		host_free(&h);
		return NULL;
	}
	for (unsigned i = 0; i < cfg->n_listeners; i++)
		if (bind_listener(h, &cfg->listeners[i], err, errlen) != 0) {
			host_free(&h);
			return NULL;
		}
	return h;
}

int host_run(struct host *h)
{
	int rc = event_base_dispatch(h->base);
	while (h->conns != NULL) {
		h->conns->closing = 1;
		conn_free(h->conns);
	}
	log_info(NULL, "stopped");
	return rc < 0 ? -1 : 0;
}

void host_free(struct host **hp)
{
	struct host *h = *hp;
	if (h == NULL)
		return;
	while (h->conns != NULL)
		conn_free(h->conns);
	for (size_t i = 0; i < h->n_sockets; i++)
		if (h->sockets[i].lev != NULL)
			evconnlistener_free(h->sockets[i].lev);
	struct event *evs[] = {h->sig_term, h->sig_int, h->sig_hup, h->grace};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
	if (h->base != NULL)
		event_base_free(h->base);
	SSL_CTX_free(h->tls);
	free(h);
	*hp = NULL;
}

size_t host_listener_count(const struct host *h)
{
	return h->n_sockets;
}

const char *host_listener_describe(const struct host *h, size_t i)
{
	return i < h->n_sockets ? h->sockets[i].describe : NULL;
}
