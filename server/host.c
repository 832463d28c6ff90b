/*
 * host.c - the libevent host (see host.h): listeners bound from the
 * config, the services engines use (users, pool, queue and its runner),
 * signals
 * (SIGTERM/SIGINT: stop gracefully; SIGHUP: reload). Connections are in
 * host_conn.c.
 */
#include "host_internal.h"

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

#include "log.h"
#include "passwd.h"
#include "pool.h"
#include "queue/queue_runner.h"
#include "queue/spool.h"
#include "queue/spool_group.h"
#include "tls.h"

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
		      struct sockaddr *sa, int socklen, void *arg)
{
	(void)lev;
	(void)socklen;
	host_conn_accept(arg, fd, sa);
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
	host_addr_string(ai->ai_addr, addr, sizeof(addr));
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
	if (engine_for(l->proto) == NULL) {
		snprintf(err, errlen,
			 "listener %s: protocol %s is not served "
			 "by this quilld",
			 l->name, config_proto_name(l->proto));
		return -1;
	}
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
	queue_runner_stop(h->svc.runner); /* deliveries under way finish */
	for (size_t i = 0; i < h->n_sockets; i++) {
		evconnlistener_free(h->sockets[i].lev);
		h->sockets[i].lev = NULL;
	}
	/* Each session says 421 and closes once its output is written. */
	struct conn *next;
	for (struct conn *c = h->conns; c != NULL; c = next) {
		next = host_conn_next(c);
		host_conn_stop(c);
	}
	if (h->n_conns == 0) {
		event_base_loopexit(h->base, NULL);
		return;
	}
	struct timeval tv = {.tv_sec = (time_t)h->cfg.shutdown_grace};
	evtimer_add(h->grace, &tv);
}

/* The users of the passwd-file; NULL (logged) if it does not load: then
 * no local recipient exists, which RCPT answers with 550 5.1.1. */
static struct passwd_db *load_users(const struct quilld_config *cfg)
{
	struct passwd_error perr;
	char msg[600];
	struct passwd_db *db = passwd_db_load(cfg->passwd_file, &perr);
	if (db == NULL)
		log_error(NULL, "users_not_loaded %s",
			  passwd_error_str(&perr, msg, sizeof(msg)));
	return db;
}

/* queue.sync: syncfs unless asked for fsync or the kernel cannot report
 * write errors to it (then fsync, and say so). */
static void set_spool_sync(struct host *h)
{
	bool syncfs = !h->cfg.queue_sync_fsync;
	if (syncfs && !spool_group_syncfs_usable()) {
		log_warn(NULL, "queue.sync=fsync reason=\"kernel before 5.8: "
			       "syncfs does not report write errors\"");
		syncfs = false;
	}
	spool_group_set_sync(h->svc.spool_group,
			     syncfs ? SPOOL_SYNC_SYNCFS : SPOOL_SYNC_FSYNC);
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
	struct passwd_db *users = load_users(next);
	if (users != NULL) { /* else keep the users we had */
		passwd_db_free(&h->svc.users);
		h->svc.users = users;
	}
	h->cfg = *next;
	free(next);
	spool_group_set_wait(h->svc.spool_group, h->cfg.queue_group_commit_ms);
	set_spool_sync(h);
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

static int host_services(struct host *h, char *err, size_t errlen)
{
	h->svc.cfg = &h->cfg;
	h->svc.base = h->base;
	snprintf(h->svc.queue_dir, sizeof(h->svc.queue_dir), "%s/queue",
		 h->cfg.state_dir);
	int removed = spool_init(h->svc.queue_dir, err, errlen);
	if (removed < 0)
		return -1;
	if (removed > 0)
		log_info(NULL, "spool.unacknowledged_removed count=%d",
			 removed);
	h->svc.users = load_users(&h->cfg);
	h->svc.pool = pool_new(h->base, h->cfg.pool_threads, err, errlen);
	if (h->svc.pool == NULL)
		return -1;
	h->svc.spool_group =
		spool_group_new(h->base, h->svc.pool, h->svc.queue_dir,
				h->cfg.queue_group_commit_ms, err, errlen);
	if (h->svc.spool_group == NULL)
		return -1;
	set_spool_sync(h);
	/* what a previous run left queued is delivered from the start */
	h->svc.runner = queue_runner_new(h->base, &h->svc, err, errlen);
	if (h->svc.runner == NULL)
		return -1;
	if (h->cfg.queue_hold) { /* mail is accepted and kept, not delivered */
		log_warn(NULL, "queue.hold delivery=off");
		queue_runner_stop(h->svc.runner);
	} else {
		queue_runner_start(h->svc.runner);
	}
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
	if (host_services(h, err, errlen) != 0) {
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
	while (h->conns != NULL)
		host_conn_free(h->conns);
	pool_free(&h->svc.pool); /* commits under way finish first */
	spool_group_free(&h->svc.spool_group); /* fails those not started */
	queue_runner_free(&h->svc.runner);
	log_info(NULL, "stopped");
	return rc < 0 ? -1 : 0;
}

void host_free(struct host **hp)
{
	struct host *h = *hp;
	if (h == NULL)
		return;
	while (h->conns != NULL)
		host_conn_free(h->conns);
	for (size_t i = 0; i < h->n_sockets; i++)
		if (h->sockets[i].lev != NULL)
			evconnlistener_free(h->sockets[i].lev);
	struct event *evs[] = {h->sig_term, h->sig_int, h->sig_hup, h->grace};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
	pool_free(&h->svc.pool);
	spool_group_free(&h->svc.spool_group);
	queue_runner_free(&h->svc.runner);
	passwd_db_free(&h->svc.users);
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
