/*
 * pop3_host.c - the POP3 engine as quilld runs it: the engine ops the host
 * calls, and the answers to the engine's requests.
 *
 * Everything slow runs on the thread pool, one job at a time per session:
 * password checks (crypt), SASL credentials, APOP digests, the maildrop
 * (pop3_maildrop.h: lock, open, sizes), each chunk of a message RETR or
 * TOP sends, and UPDATE. A job gets copies of what it needs (the user's
 * passwd entry, the config), because a reload may replace both while it
 * runs; if the session goes away meanwhile, the job finishes alone and
 * cleans up what it holds. A failed login is answered after
 * pop3.auth_failure_delay seconds, on a timer of the loop (no pool thread
 * sleeps). The maildrop lock is released when the session ends, however
 * it ends; only QUIT removes messages (RFC 1939 section 6).
 *
 * Config (docs/quilld.md "pop3"): cleartext_auth decides whether USER/PASS
 * and SASL PLAIN/LOGIN may be used without TLS (always, from loopback
 * peers only, never); apop puts an RFC 1939 section 7 timestamp in the
 * greeting; the autologout is the connection's idle timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "engine.h"
#include "log.h"
#include "passwd.h"
#include "pool.h"
#include "pop3/pop3_session.h"
#include "pop3_maildrop.h"
#include "sasl_server.h"

#define READ_CHUNK (64 * 1024)

struct pop3_job;

struct pop3_host {
	struct pop3_session *s;
	struct host_services *svc;
	char id[24];
	struct pop3_maildrop *md; /* the session's maildrop, once locked */
	struct pop3_job *job;	  /* a job on the pool, or NULL */
	struct event *delay;	  /* the failed-login timer */
	struct engine_call delay_call;
};

/* A passwd entry, copied: the db may be replaced by a reload. */
struct entry_copy {
	struct passwd_entry e;
	bool found;
};

struct pop3_job {
	enum pop3_request kind;
	struct pop3_host *h; /* NULL once the session is gone */
	struct engine_call call;
	struct pool *pool;
	char id[24];
	struct entry_copy user;
	struct passwd_options opt;
	char password[1025];
	size_t password_len;
	char timestamp[300], digest[33];
	struct sasl_server *sasl; /* borrowed from the session ... */
	bool owns_sasl;		  /* ... unless the session is gone */
	struct quilld_config *cfg;
	struct pop3_maildrop *md; /* READ: borrowed; MAILDROP, UPDATE: own */
	bool owns_md;
	uint32_t uid;
	uint64_t offset;
	unsigned char *buf;
	size_t got;
	uint32_t *uids; /* UPDATE: to remove */
	size_t n_uids;
	uint32_t *seen; /* UPDATE: to flag \Seen */
	size_t n_seen;
	time_t now;
	/* results */
	enum pop3_status status;
	struct pop3_listing *listing;
	enum passwd_verify_result verify;
	char err[300];
};

static void entry_copy(struct entry_copy *c, struct passwd_db *db,
		       const char *user)
{
	const struct passwd_entry *e =
		db != NULL ? passwd_db_lookup(db, user) : NULL;
	memset(c, 0, sizeof(*c));
	c->e.uid = c->e.gid = -1;
	if (e == NULL)
		return;
	c->e = *e;
	c->e.gecos = c->e.shell = c->e.extra = NULL;
	c->e.hash = strdup(e->hash);
	c->e.home = e->home != NULL ? strdup(e->home) : NULL;
	c->found = c->e.hash != NULL && (e->home == NULL || c->e.home != NULL);
}

static void entry_free(struct entry_copy *c)
{
	if (c->e.hash != NULL)
		OPENSSL_cleanse(c->e.hash, strlen(c->e.hash));
	free(c->e.hash);
	free(c->e.home);
	memset(c, 0, sizeof(*c));
}

static void job_free(struct pop3_job *j)
{
	entry_free(&j->user);
	OPENSSL_cleanse(j->password, sizeof(j->password));
	if (j->owns_sasl)
		sasl_server_free(&j->sasl);
	if (j->owns_md)
		pop3_maildrop_close(&j->md);
	pop3_listing_free(&j->listing);
	free(j->cfg);
	free(j->buf);
	free(j->uids);
	free(j->seen);
	free(j);
}

/* ---- work on the pool ----------------------------------------------- */

/* APOP (RFC 1939 section 7): MD5 of the timestamp and the shared secret,
 * which only a {PLAIN} entry has; every other case costs the same digest
 * and fails like a wrong one. */
static enum pop3_status apop_check(struct pop3_job *j)
{
	const char *secret = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1], in[1400];
	unsigned n = 0;
	bool usable = j->user.found &&
		      passwd_plain_secret(&j->user.e, &j->opt, &secret) == 0;
	int len = snprintf(in, sizeof(in), "%s%s", j->timestamp,
			   usable ? secret : "-");
	if (len < 0 || (size_t)len >= sizeof(in) ||
	    EVP_Digest(in, (size_t)len, md, &n, EVP_md5(), NULL) != 1) {
		OPENSSL_cleanse(in, sizeof(in));
		return POP3_ANSWER_TEMP;
	}
	OPENSSL_cleanse(in, sizeof(in));
	for (unsigned i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	bool same = n == 16 && CRYPTO_memcmp(hex, j->digest, 32) == 0;
	if (!usable)
		j->verify =
			j->user.found ? PASSWD_SCHEME_DISABLED : PASSWD_FAIL;
	return same && usable ? POP3_ANSWER_OK : POP3_ANSWER_AUTH_FAILED;
}

static void job_work(void *arg)
{
	struct pop3_job *j = arg;
	const struct passwd_entry *e = j->user.found ? &j->user.e : NULL;
	switch (j->kind) {
	case POP3_REQ_PASS:
		j->verify = passwd_verify_entry(e, j->password, j->password_len,
						&j->opt);
		j->status = j->verify == PASSWD_OK ? POP3_ANSWER_OK
			    : j->verify == PASSWD_INTERNAL_ERROR
				    ? POP3_ANSWER_TEMP
				    : POP3_ANSWER_AUTH_FAILED;
		break;
	case POP3_REQ_APOP:
		j->status = apop_check(j);
		break;
	case POP3_REQ_SASL_CREDENTIALS:
		j->status =
			sasl_server_set_credentials(j->sasl, e, &j->opt) == 0
				? POP3_ANSWER_OK
				: POP3_ANSWER_TEMP;
		break;
	case POP3_REQ_MAILDROP:
		if (e == NULL) {
			j->status = POP3_ANSWER_PERM;
			snprintf(j->err, sizeof(j->err), "user gone");
			break;
		}
		j->status = pop3_maildrop_open(
			j->cfg, e, j->cfg->pop3_login_delay, j->now, &j->md,
			&j->listing, j->err, sizeof(j->err));
		j->owns_md = j->md != NULL;
		break;
	case POP3_REQ_READ:
		j->status = pop3_maildrop_read(j->md, j->uid, j->offset, j->buf,
					       READ_CHUNK, &j->got, j->err,
					       sizeof(j->err));
		break;
	case POP3_REQ_UPDATE:
		j->status =
			pop3_maildrop_update(j->md, j->uids, j->n_uids, j->seen,
					     j->n_seen, j->err, sizeof(j->err));
		/* RFC 1939 6: the lock goes whether or not that worked */
		pop3_maildrop_close(&j->md);
		break;
	default:
		break;
	}
}

static void log_job(const struct pop3_job *j)
{
	if (j->verify == PASSWD_SCHEME_DISABLED)
		log_warn(j->id, "pop3.scheme_not_usable user=\"%s\"",
			 j->user.e.user);
	if (j->err[0] != '\0')
		log_info(j->id, "pop3.maildrop status=%d detail=\"%s\"",
			 (int)j->status, j->err);
}

static void job_done(void *arg)
{
	struct pop3_job *j = arg;
	struct pop3_host *h = j->h;
	log_job(j);
	if (h == NULL) { /* the session went away meanwhile */
		job_free(j);
		return;
	}
	h->job = NULL;
	struct pop3_answer a = {.status = j->status};
	if (j->kind == POP3_REQ_MAILDROP && j->status == POP3_ANSWER_OK) {
		h->md = j->md;
		j->owns_md = false;
		a.listing = j->listing;
		j->listing = NULL;
	} else if (j->kind == POP3_REQ_READ) {
		a.data = j->buf;
		a.len = j->got;
	}
	pop3_session_resume(h->s, &a);
	struct engine_call call = j->call;
	job_free(j);
	call.resumed(call.arg);
}

/* ---- requests ------------------------------------------------------- */

static struct pop3_job *job_new(struct pop3_host *h, enum pop3_request kind)
{
	struct pop3_job *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	j->kind = kind;
	j->h = h;
	j->pool = h->svc->pool;
	j->opt.allow_plain = h->svc->cfg->allow_plain_passwords;
	snprintf(j->id, sizeof(j->id), "%s", h->id);
	return j;
}

/* Fill a job for the engine's request; -1 if out of memory. */
/* A copy of n UIDs for a job (none: *dst stays NULL). */
static int uids_copy(uint32_t **dst, const uint32_t *src, size_t n)
{
	if (n == 0)
		return 0;
	if ((*dst = calloc(n, sizeof(*src))) == NULL)
		return -1;
	memcpy(*dst, src, n * sizeof(*src));
	return 0;
}

static int job_prepare(struct pop3_host *h, struct pop3_job *j)
{
	const char *pw;
	switch (j->kind) {
	case POP3_REQ_PASS:
		pw = pop3_session_password(h->s, &j->password_len);
		if (j->password_len >= sizeof(j->password))
			return -1;
		memcpy(j->password, pw, j->password_len);
		entry_copy(&j->user, h->svc->users, pop3_session_user(h->s));
		break;
	case POP3_REQ_APOP:
		snprintf(j->timestamp, sizeof(j->timestamp), "%s",
			 pop3_session_apop_timestamp(h->s));
		snprintf(j->digest, sizeof(j->digest), "%s",
			 pop3_session_apop_digest(h->s));
		entry_copy(&j->user, h->svc->users, pop3_session_user(h->s));
		break;
	case POP3_REQ_SASL_CREDENTIALS:
		j->sasl = pop3_session_sasl(h->s);
		entry_copy(&j->user, h->svc->users,
			   sasl_server_user(j->sasl) ? sasl_server_user(j->sasl)
						     : "");
		break;
	case POP3_REQ_MAILDROP:
		entry_copy(&j->user, h->svc->users, pop3_session_user(h->s));
		j->cfg = malloc(sizeof(*j->cfg));
		if (j->cfg == NULL)
			return -1;
		*j->cfg = *h->svc->cfg;
		j->now = time(NULL);
		break;
	case POP3_REQ_READ:
		j->md = h->md;
		j->uid = pop3_session_read_uid(h->s);
		j->offset = pop3_session_read_offset(h->s);
		if ((j->buf = malloc(READ_CHUNK)) == NULL)
			return -1;
		break;
	case POP3_REQ_UPDATE: {
		const uint32_t *uids =
			pop3_session_deleted_uids(h->s, &j->n_uids);
		j->md = h->md;
		j->owns_md = true;
		h->md = NULL;
		const uint32_t *seen = pop3_session_seen_uids(h->s, &j->n_seen);
		if (uids_copy(&j->uids, uids, j->n_uids) != 0 ||
		    uids_copy(&j->seen, seen, j->n_seen) != 0)
			return -1;
		break;
	}
	default:
		break;
	}
	return 0;
}

static enum engine_serve submit(struct pop3_host *h, enum pop3_request kind,
				const struct engine_call *c)
{
	struct pop3_job *j = job_new(h, kind);
	if (j != NULL && job_prepare(h, j) == 0 &&
	    pool_submit(h->svc->pool, job_work, job_done, j) == 0) {
		j->call = *c;
		h->job = j;
		return ENGINE_PENDING;
	}
	log_error(h->id, "pop3.job_failed kind=%d", (int)kind);
	if (j != NULL)
		job_free(j); /* an UPDATE's maildrop is closed with it */
	struct pop3_answer a = {.status = POP3_ANSWER_TEMP};
	pop3_session_resume(h->s, &a);
	return ENGINE_SERVED;
}

static void delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pop3_host *h = arg;
	(void)fd;
	(void)what;
	pop3_session_resume(h->s, NULL);
	h->delay_call.resumed(h->delay_call.arg);
}

/* RFC 1939 section 13 hints at it: a failed login is answered late. */
static enum engine_serve auth_delay(struct pop3_host *h,
				    const struct engine_call *c)
{
	unsigned secs = h->svc->cfg->pop3_auth_failure_delay;
	struct timeval tv = {.tv_sec = (time_t)secs};
	if (secs == 0 || h->svc->base == NULL) {
		pop3_session_resume(h->s, NULL);
		return ENGINE_SERVED;
	}
	if (h->delay == NULL)
		h->delay = evtimer_new(h->svc->base, delay_cb, h);
	if (h->delay == NULL || evtimer_add(h->delay, &tv) != 0) {
		pop3_session_resume(h->s, NULL);
		return ENGINE_SERVED;
	}
	h->delay_call = *c;
	return ENGINE_PENDING;
}

static enum engine_serve pop3_serve(void *session, const struct engine_call *c)
{
	struct pop3_host *h = session;
	enum pop3_request r = pop3_session_request(h->s);
	switch (r) {
	case POP3_REQ_MORE:
		pop3_session_resume(h->s, NULL);
		return ENGINE_SERVED;
	case POP3_REQ_AUTH_DELAY:
		return auth_delay(h, c);
	case POP3_REQ_READ:
		if (h->md == NULL) {
			struct pop3_answer a = {.status = POP3_ANSWER_TEMP};
			pop3_session_resume(h->s, &a);
			return ENGINE_SERVED;
		}
		return submit(h, r, c);
	case POP3_REQ_PASS:
	case POP3_REQ_APOP:
	case POP3_REQ_SASL_CREDENTIALS:
	case POP3_REQ_MAILDROP:
	case POP3_REQ_UPDATE:
		return submit(h, r, c);
	default:
		return ENGINE_SERVED;
	}
}

/* ---- the engine ops ------------------------------------------------- */

/* 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
static bool peer_is_loopback(const char *peer)
{
	if (strncmp(peer, "::ffff:", 7) == 0)
		peer += 7;
	return strncmp(peer, "127.", 4) == 0 || strcmp(peer, "::1") == 0;
}

static void *pop3_create(struct host_services *svc,
			 const struct config_listener *l, const char *peer,
			 const char *id)
{
	const struct quilld_config *cfg = svc->cfg;
	struct pop3_settings st;
	char ts[300];
	struct pop3_host *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	pop3_settings_defaults(&st);
	st.hostname = cfg->hostname;
	st.stls_offered = l->tls == LISTEN_TLS_STARTTLS;
	st.tls_at_start = l->tls == LISTEN_TLS_IMPLICIT;
	st.cleartext_ok = cfg->pop3_cleartext == CLEARTEXT_ALWAYS ||
			  (cfg->pop3_cleartext == CLEARTEXT_LOOPBACK &&
			   peer_is_loopback(peer));
	/* RFC 1939 7: <process.session.clock@host>, new in every greeting */
	snprintf(ts, sizeof(ts), "<%ld.%s.%lld@%s>", (long)getpid(), id,
		 (long long)time(NULL), cfg->hostname);
	st.apop_timestamp = cfg->pop3_apop ? ts : NULL;
	st.login_delay = cfg->pop3_login_delay;
	st.retr_sets_seen = cfg->pop3_retr_sets_seen;
	st.implementation = "Quill " QUILL_VERSION;
	st.line_max = cfg->pop3_line_max;
	st.max_errors = cfg->pop3_max_errors;
	h->svc = svc;
	snprintf(h->id, sizeof(h->id), "%s", id);
	h->s = pop3_session_new(&st, peer, id);
	if (h->s == NULL) {
		free(h);
		return NULL;
	}
	return h;
}

static void close_work(void *arg)
{
	struct pop3_maildrop *md = arg;
	pop3_maildrop_close(&md);
}

static void close_done(void *arg)
{
	(void)arg;
}

static void pop3_destroy(void **session)
{
	struct pop3_host *h = *session;
	if (h == NULL)
		return;
	if (h->job != NULL) { /* it finishes without us */
		struct pop3_job *j = h->job;
		j->h = NULL;
		if (j->kind == POP3_REQ_SASL_CREDENTIALS) {
			j->sasl = pop3_session_sasl_release(h->s);
			j->owns_sasl = true;
		}
		if (j->kind == POP3_REQ_READ) {
			j->owns_md = true; /* h->md is the job's now */
			h->md = NULL;
		}
	}
	if (h->delay != NULL)
		event_free(h->delay);
	/* No UPDATE (RFC 1939 6): the maildrop is only closed, unlocked. */
	if (h->md != NULL &&
	    pool_submit(h->svc->pool, close_work, close_done, h->md) != 0)
		pop3_maildrop_close(&h->md);
	pop3_session_free(&h->s);
	free(h);
	*session = NULL;
}

static enum engine_request pop3_request(const void *session)
{
	const struct pop3_host *h = session;
	switch (pop3_session_request(h->s)) {
	case POP3_REQ_NONE:
		return ENGINE_REQ_NONE;
	case POP3_REQ_STARTTLS:
		return ENGINE_REQ_STARTTLS;
	case POP3_REQ_CLOSE:
		return ENGINE_REQ_CLOSE;
	default:
		return ENGINE_REQ_SERVE;
	}
}

static void pop3_start(void *session)
{
	pop3_session_start(((struct pop3_host *)session)->s);
}

static void pop3_refuse(void *session)
{
	pop3_session_refuse(((struct pop3_host *)session)->s);
}

static size_t pop3_feed(void *session, const void *data, size_t len)
{
	return pop3_session_feed(((struct pop3_host *)session)->s, data, len);
}

static struct buf *pop3_output(void *session)
{
	return pop3_session_output(((struct pop3_host *)session)->s);
}

static void pop3_tls_done(void *session, bool ok, const char *desc)
{
	pop3_session_tls_done(((struct pop3_host *)session)->s, ok, desc);
}

static void pop3_shutdown(void *session)
{
	pop3_session_shutdown(((struct pop3_host *)session)->s);
}

static void pop3_timeout(void *session)
{
	pop3_session_timeout(((struct pop3_host *)session)->s);
}

/* RFC 1939 section 3: the autologout timer. */
static unsigned pop3_idle_timeout(const void *session,
				  const struct quilld_config *cfg)
{
	(void)session;
	return cfg->pop3_autologout;
}

const struct engine_ops pop3_engine_ops = {
	.name = "pop3",
	.create = pop3_create,
	.destroy = pop3_destroy,
	.start = pop3_start,
	.refuse = pop3_refuse,
	.feed = pop3_feed,
	.output = pop3_output,
	.request = pop3_request,
	.serve = pop3_serve,
	.tls_done = pop3_tls_done,
	.shutdown = pop3_shutdown,
	.timeout = pop3_timeout,
	.idle_timeout = pop3_idle_timeout,
};
