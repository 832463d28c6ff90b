/*
 * smtp_host.c - the SMTP engine as quilld runs it: the engine ops the host
 * calls, and the answers to the engine's requests.
 *
 * RCPT: who may receive mail here (RFC 5321 4.5.1 postmaster; local users
 * from the passwd-file; any other domain is relaying: accepted and queued
 * for a session that authenticated (RFC 6409, RFC 4954) or whose client
 * address is in smtp.relay_networks (RFC 5321 7.1), else refused with
 * 550 5.7.1). DATA: the message goes into a spool file as it arrives; at
 * its end the file is committed (durable, renamed, directory fsync'd) by
 * the group committer (queue/spool_group.h), and only then is the engine
 * told to say 250; then the queue runner is told. AUTH: the
 * user's credentials are checked on the pool (auth_job.h); a failed login
 * is answered only after auth.failure_delay_ms, on a timer. LMTP sessions
 * (RFC 2033) go to lmtp_host.c for recipients and per-recipient delivery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "auth_job.h"
#include "engine.h"
#include "lmtp_host.h"
#include "log.h"
#include "netmatch.h"
#include "passwd.h"
#include "queue/queue_runner.h"
#include "queue/spool.h"
#include "queue/spool_group.h"
#include "smtp/smtp_session.h"

struct smtp_host {
	struct smtp_session *s;
	struct host_services *svc;
	char id[24];
	struct spool_msg *spool;
	char queue_id[SPOOL_ID_MAX];
	char date[64]; /* of the message being received, for Received */
	struct commit_job *job;	 /* a commit under way */
	struct lmtp_host *lmtp;	 /* LMTP listener only */
	struct auth_job *auth;	 /* credentials being checked */
	struct event *delay;	 /* the failed-login delay */
	struct engine_call call; /* for auth and delay */
	bool relay_network;	 /* the client is in smtp.relay_networks */
	char peer[64];
};

/* A commit under way; the session may be gone by the time it is done
 * (then h is NULL and nothing is resumed). */
struct commit_job {
	struct smtp_host *h;
	struct host_services *svc;
	char queue_id[SPOOL_ID_MAX];
	struct engine_call call;
	char id[24];
};

static void *smtp_create(struct host_services *svc,
			 const struct config_listener *l, const char *peer,
			 const char *id)
{
	const struct quilld_config *cfg = svc->cfg;
	struct smtp_settings st;
	struct smtp_host *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	smtp_settings_defaults(&st);
	st.hostname = cfg->hostname;
	st.mode = l->proto == PROTO_SUBMISSION ? SMTP_MODE_SUBMISSION
		  : l->proto == PROTO_LMTP     ? SMTP_MODE_LMTP
					       : SMTP_MODE_MX;
	st.starttls_offered = l->tls == LISTEN_TLS_STARTTLS;
	st.tls_at_start = l->tls == LISTEN_TLS_IMPLICIT;
	st.bare_lf_accept = cfg->smtp_bare_lf_accept;
	st.vrfy = (enum smtp_vrfy_mode)cfg->smtp_vrfy;
	st.line_max = cfg->smtp_line_max;
	st.data_line_max = cfg->smtp_data_line_max;
	st.message_max = cfg->smtp_message_max;
	st.max_recipients = cfg->smtp_max_recipients;
	st.max_errors = cfg->smtp_max_errors;
	st.auth_offered = l->proto == PROTO_SUBMISSION ||
			  (l->proto == PROTO_SMTP && cfg->auth_smtp_listeners);
	st.auth_plaintext = cfg->auth_plaintext_without_tls;
	st.domain = cfg->domain;
	st.sender_check = cfg->submission_sender_check;
	st.add_headers = cfg->submission_add_headers;
	h->svc = svc;
	snprintf(h->id, sizeof(h->id), "%s", id);
	snprintf(h->peer, sizeof(h->peer), "%s", peer);
	/* RFC 5321 7.1: relaying by client address, decided once; an MX
	 * listener only (submission still requires AUTH, RFC 6409 4.3) */
	h->relay_network = st.mode == SMTP_MODE_MX &&
			   netmatch_list_has(&cfg->smtp_relay_networks, peer);
	h->s = smtp_session_new(&st, peer, id);
	if (h->s != NULL && st.mode == SMTP_MODE_LMTP &&
	    (h->lmtp = lmtp_host_new(h->s, id)) == NULL)
		smtp_session_free(&h->s);
	if (h->s == NULL) {
		free(h);
		return NULL;
	}
	return h;
}

static void smtp_destroy(void **session)
{
	struct smtp_host *h = *session;
	if (h == NULL)
		return;
	if (h->job != NULL)
		h->job->h = NULL;  /* the commit finishes without us */
	auth_job_cancel(&h->auth); /* it frees the exchange itself */
	if (h->delay != NULL)
		event_free(h->delay);
	spool_abort(&h->spool);
	lmtp_host_free(&h->lmtp);
	smtp_session_free(&h->s);
	free(h);
	*session = NULL;
}

static bool is_local_domain(const struct quilld_config *cfg, const char *d)
{
	return strcasecmp(d, cfg->domain) == 0 ||
	       strcasecmp(d, cfg->hostname) == 0;
}

/* RCPT: postmaster always (RFC 5321 4.5.1), local users; other domains
 * only for a user who authenticated or a client in smtp.relay_networks
 * (relaying: the message is queued). Routing forms are refused either
 * way (RFC 5321 3.6.1, 7.9; smtp_path.h). */
static struct smtp_answer judge_rcpt(struct smtp_host *h)
{
	const struct smtp_rcpt *r = smtp_session_pending_rcpt(h->s);
	const struct quilld_config *cfg = h->svc->cfg;
	const char *user = smtp_session_auth_user(h->s);
	struct smtp_answer a = {.ok = true};
	if (h->lmtp != NULL)
		return lmtp_host_judge_rcpt(h->svc, r);
	bool local = r->domain[0] == '\0' || is_local_domain(cfg, r->domain);
	if (!local && !r->routing && user[0] != '\0') {
		log_info(h->id, "smtp.relay user=%s to=<%s>", user, r->addr);
	} else if (!local && !r->routing && h->relay_network) {
		log_info(h->id, "smtp.relay client=%s reason=network to=<%s>",
			 h->peer, r->addr);
	} else if (!local || r->routing) {
		/* routing syntax in a local address asks us to relay; an
		 * address literal, ours or not, is never a local domain */
		a = (struct smtp_answer){.code = 550,
					 .enhanced = "5.7.1",
					 .text = "Relaying denied"};
	} else if (r->postmaster || strcasecmp(r->local, "postmaster") == 0) {
		/* accepted */
	} else if (h->svc->users == NULL ||
		   passwd_db_lookup(h->svc->users, r->local) == NULL) {
		a = (struct smtp_answer){.code = 550,
					 .enhanced = "5.1.1",
					 .text = "User unknown"};
	}
	return a;
}

static struct smtp_answer spool_failure(const char *err)
{
	/* RFC 3463 4.3.1: mail system full; otherwise a local error */
	bool full =
		strstr(err, "No space") != NULL || strstr(err, "quota") != NULL;
	return (struct smtp_answer){.code = full ? 452 : 451,
				    .enhanced = full ? "4.3.1" : "4.3.0",
				    .text = full ? "Insufficient system storage"
						 : "Local error in processing"};
}

static struct smtp_answer data_begin(struct smtp_host *h)
{
	char err[512];
	time_t now = time(NULL);
	/* a BDAT transaction given up between chunks (RSET, EHLO) left its
	 * spool file open: it was never acknowledged */
	spool_abort(&h->spool);
	h->spool = spool_begin(h->svc->queue_dir, smtp_session_envelope(h->s),
			       now, h->queue_id, err, sizeof(err));
	if (h->spool == NULL) {
		log_error(h->id, "spool.begin_failed %s", err);
		return spool_failure(err);
	}
	spool_date(now, h->date, sizeof(h->date));
	return (struct smtp_answer){
		.ok = true, .queue_id = h->queue_id, .date = h->date};
}

/* Write what the engine holds; false (and a failure in a_r) on error. */
static bool data_write(struct smtp_host *h, struct smtp_answer *a_r)
{
	struct buf *msg = smtp_session_message(h->s);
	char err[512];
	if (h->spool != NULL && buf_len(msg) > 0 &&
	    spool_write(h->spool, buf_data(msg), buf_len(msg), err,
			sizeof(err)) != 0) {
		log_error(h->id, "spool.write_failed %s", err);
		spool_abort(&h->spool);
		*a_r = spool_failure(err);
		buf_consume(msg, buf_len(msg));
		return false;
	}
	buf_consume(msg, buf_len(msg));
	return true;
}

static void commit_done(void *arg, int rc, const char *err)
{
	struct commit_job *j = arg;
	struct smtp_host *h = j->h;
	if (rc != 0)
		log_error(j->id, "spool.commit_failed %s", err);
	else /* deliver it now, whether the session is still here or not */
		queue_runner_kick(j->svc->runner, j->queue_id);
	if (h != NULL) {
		struct smtp_answer a = {.ok = true};
		if (rc != 0)
			a = spool_failure(err);
		h->job = NULL;
		smtp_session_resume(h->s, &a);
		j->call.resumed(j->call.arg);
	}
	free(j);
}

/* DATA_END: commit (group commit), or discard a refused message. */
static enum engine_serve data_end(struct smtp_host *h,
				  const struct engine_call *c)
{
	struct smtp_answer a = {.ok = true};
	if (!data_write(h, &a) || !smtp_session_message_ok(h->s)) {
		spool_abort(&h->spool);
		smtp_session_resume(h->s, &a);
		return ENGINE_SERVED;
	}
	if (h->lmtp != NULL) { /* delivered, not queued (RFC 2033 4.2) */
		lmtp_host_take(h->lmtp, &h->spool);
		smtp_session_resume(h->s, &a);
		return ENGINE_SERVED;
	}
	struct commit_job *j = calloc(1, sizeof(*j));
	if (j == NULL) {
		spool_abort(&h->spool);
		a = spool_failure("out of memory");
		smtp_session_resume(h->s, &a);
		return ENGINE_SERVED;
	}
	j->h = h;
	j->svc = h->svc;
	snprintf(j->queue_id, sizeof(j->queue_id), "%s", h->queue_id);
	j->call = *c;
	snprintf(j->id, sizeof(j->id), "%s", h->id);
	if (spool_group_commit(h->svc->spool_group, &h->spool, commit_done,
			       j) != 0) {
		free(j);
		a = spool_failure("cannot start the commit");
		smtp_session_resume(h->s, &a);
		return ENGINE_SERVED;
	}
	h->job = j;
	return ENGINE_PENDING;
}

/* The credentials were applied on the pool: give the exchange back. */
static void auth_done(void *arg, struct sasl_server *sasl, int rc)
{
	struct smtp_host *h = arg;
	struct smtp_answer a = {.ok = rc == 0, .sasl = sasl};
	h->auth = NULL;
	smtp_session_resume(h->s, &a);
	h->call.resumed(h->call.arg);
}

static enum engine_serve auth_credentials(struct smtp_host *h,
					  const struct engine_call *c)
{
	struct sasl_server *sasl = smtp_session_auth_take(h->s);
	struct passwd_options opt = {
		.allow_plain = h->svc->cfg->allow_plain_passwords};
	if (sasl != NULL)
		h->auth = auth_job_start(h->svc->pool, h->svc->users, &opt,
					 sasl, auth_done, h);
	if (h->auth == NULL) {
		struct smtp_answer a = {.ok = false, .sasl = sasl};
		log_error(h->id, "auth.job_failed");
		smtp_session_resume(h->s, &a);
		return ENGINE_SERVED;
	}
	h->call = *c;
	return ENGINE_PENDING;
}

static void delay_done(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_host *h = arg;
	struct smtp_answer a = {.ok = true};
	(void)fd;
	(void)what;
	smtp_session_resume(h->s, &a);
	h->call.resumed(h->call.arg);
}

/* RFC 4954 and DESIGN.md "Bad input": a failed login is answered late,
 * on a timer, so that guessing is slow and the loop never sleeps. */
static enum engine_serve auth_delay(struct smtp_host *h,
				    const struct engine_call *c)
{
	unsigned ms = h->svc->cfg->auth_failure_delay_ms;
	struct timeval tv = {.tv_sec = ms / 1000,
			     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	if (ms > 0 && h->delay == NULL)
		h->delay = evtimer_new(h->svc->base, delay_done, h);
	if (ms == 0 || h->delay == NULL || evtimer_add(h->delay, &tv) != 0) {
		struct smtp_answer a = {.ok = true};
		smtp_session_resume(h->s, &a);
		return ENGINE_SERVED;
	}
	h->call = *c;
	return ENGINE_PENDING;
}

static enum engine_serve smtp_serve(void *session, const struct engine_call *c)
{
	struct smtp_host *h = session;
	struct smtp_answer a = {.ok = true};
	switch (smtp_session_request(h->s)) {
	case SMTP_REQ_RCPT:
		a = judge_rcpt(h);
		break;
	case SMTP_REQ_DATA_BEGIN:
		a = data_begin(h);
		break;
	case SMTP_REQ_DATA_CHUNK:
		data_write(h, &a);
		break;
	case SMTP_REQ_DATA_END:
		return data_end(h, c);
	case SMTP_REQ_AUTH_CREDENTIALS:
		return auth_credentials(h, c);
	case SMTP_REQ_AUTH_DELAY:
		return auth_delay(h, c);
	case SMTP_REQ_LMTP_RCPT:
		return lmtp_host_serve(h->lmtp, h->svc, c);
	default:
		return ENGINE_SERVED;
	}
	smtp_session_resume(h->s, &a);
	return ENGINE_SERVED;
}

static enum engine_request smtp_request(const void *session)
{
	const struct smtp_host *h = session;
	switch (smtp_session_request(h->s)) {
	case SMTP_REQ_NONE:
		return ENGINE_REQ_NONE;
	case SMTP_REQ_STARTTLS:
		return ENGINE_REQ_STARTTLS;
	case SMTP_REQ_CLOSE:
		return ENGINE_REQ_CLOSE;
	case SMTP_REQ_RCPT:
	case SMTP_REQ_DATA_BEGIN:
	case SMTP_REQ_DATA_CHUNK:
	case SMTP_REQ_DATA_END:
	case SMTP_REQ_AUTH_CREDENTIALS:
	case SMTP_REQ_AUTH_DELAY:
	case SMTP_REQ_LMTP_RCPT:
		break;
	}
	return ENGINE_REQ_SERVE;
}

static void smtp_start(void *session)
{
	smtp_session_start(((struct smtp_host *)session)->s);
}

static void smtp_refuse(void *session)
{
	smtp_session_refuse(((struct smtp_host *)session)->s);
}

static size_t smtp_feed(void *session, const void *data, size_t len)
{
	return smtp_session_feed(((struct smtp_host *)session)->s, data, len);
}

static struct buf *smtp_output(void *session)
{
	return smtp_session_output(((struct smtp_host *)session)->s);
}

static void smtp_tls_done(void *session, bool ok, const char *desc)
{
	smtp_session_tls_done(((struct smtp_host *)session)->s, ok, desc);
}

static void smtp_shutdown(void *session)
{
	smtp_session_shutdown(((struct smtp_host *)session)->s);
}

static void smtp_timeout(void *session)
{
	smtp_session_timeout(((struct smtp_host *)session)->s);
}

/* RFC 5321 4.5.3.2: how long the next command, or the next part of a
 * message, may be waited for. */
static unsigned smtp_idle_timeout(const void *session,
				  const struct quilld_config *cfg)
{
	const struct smtp_host *h = session;
	if (smtp_session_timeout_kind(h->s) == SMTP_TIMEOUT_DATA)
		return cfg->smtp_data_timeout;
	return cfg->smtp_command_timeout;
}

/* smtp.greeting_delay_ms: MX listeners only (clients of submission and
 * LMTP are our own). */
static unsigned smtp_greeting_delay_ms(const struct quilld_config *cfg,
				       const struct config_listener *l)
{
	return l->proto == PROTO_SMTP ? cfg->smtp_greeting_delay_ms : 0;
}

static void smtp_pregreet(void *session)
{
	smtp_session_pregreet(((struct smtp_host *)session)->s);
}

const struct engine_ops smtp_engine_ops = {
	.name = "smtp",
	.create = smtp_create,
	.destroy = smtp_destroy,
	.start = smtp_start,
	.refuse = smtp_refuse,
	.feed = smtp_feed,
	.output = smtp_output,
	.request = smtp_request,
	.serve = smtp_serve,
	.tls_done = smtp_tls_done,
	.shutdown = smtp_shutdown,
	.timeout = smtp_timeout,
	.idle_timeout = smtp_idle_timeout,
	.greeting_delay_ms = smtp_greeting_delay_ms,
	.pregreet = smtp_pregreet,
};
