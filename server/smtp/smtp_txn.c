/*
 * smtp_txn.c - the mail transaction: MAIL, RCPT, DATA (RFC 5321 3.3,
 * 4.1.1.2-4.1.1.4), with SIZE (RFC 1870), 8BITMIME (RFC 6152) and
 * SMTPUTF8 (RFC 6531), the DSN parameters (RFC 3461, smtp_dsn.c) and
 * BODY=BINARYMIME (RFC 3030 3, sent with BDAT: smtp_bdat.c), and the
 * host's answers that complete them.
 *
 * The engine decides syntax and sequence; the host decides who may
 * receive mail (SMTP_REQ_RCPT) and makes the message durable
 * (SMTP_REQ_DATA_*): only after its answer to DATA_END does the engine
 * say 250 (DESIGN.md: acknowledged means on disk).
 */
#include "smtp_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "smtp_dsn.h"
#include "smtp_params.h"
#include "smtp_path.h"

#define SMTP_MAX_PARAMS 16

/* MAIL's arguments, parsed. */
struct mail_args {
	struct smtp_path path;
	unsigned long long size;
	bool body_8bit;
	bool body_binary;
	bool smtputf8;
	struct smtp_dsn_args dsn;
	bool have_auth;	       /* AUTH= given (RFC 4954 5) */
	struct smtp_path auth; /* its mailbox, or null_path for <> */
};

void smtp_txn_init(struct smtp_session *s)
{
	size_t line = s->st.data_line_max > s->st.line_max ? s->st.data_line_max
							   : s->st.line_max;
	buf_init(&s->txn.msg, s->st.chunk_size + 2 * line + 4096);
}

void smtp_rcpt_free(struct smtp_rcpt *r)
{
	free(r->addr);
	free(r->local);
	free(r->domain);
	free(r->orcpt);
	memset(r, 0, sizeof(*r));
}

void smtp_transaction_reset(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;
	for (size_t i = 0; i < t->env.n_rcpt; i++)
		smtp_rcpt_free(&t->env.rcpt[i]);
	free(t->env.rcpt);
	free(t->env.mail_from);
	free(t->env.envid);
	free(t->env.auth_from);
	smtp_rcpt_free(&t->pending);
	memset(&t->env, 0, sizeof(t->env));
	t->rcpt_cap = 0;
	buf_clear(&t->msg);
	t->queue_id[0] = '\0';
	t->failed = false;
	memset(&t->bdat, 0, sizeof(t->bdat));
	if (s->state & (SMTP_ST_MAIL | SMTP_ST_RCPT | SMTP_ST_DATA))
		s->state = SMTP_ST_READY;
}

void smtp_txn_free(struct smtp_session *s)
{
	smtp_transaction_reset(s);
	buf_free(&s->txn.msg);
}

static void reply_path_error(struct smtp_session *s, struct smtp_path_reply r)
{
	smtp_reply_error(s, r.code, r.enh, "%s", r.text);
}

/* Parse and check MAIL FROM:<path> [params]; reply on error. */
static int parse_mail(struct smtp_session *s, const char *args, size_t len,
		      struct mail_args *m)
{
	struct smtp_param p[SMTP_MAX_PARAMS];
	size_t at, n, bad;
	enum smtp_path_error pe = smtp_path_parse(args, len, SMTP_PATH_MAIL,
						  NULL, true, &m->path, &at);
	if (pe != SMTP_PATH_OK) {
		reply_path_error(s, smtp_path_reply(pe, SMTP_PATH_MAIL));
		return -1;
	}
	enum smtp_param_error e = smtp_param_parse(args + at, len - at, true, p,
						   SMTP_MAX_PARAMS, &n);
	unsigned allowed = SMTP_PARAM_BIT(SMTP_PARAM_SIZE) |
			   SMTP_PARAM_BIT(SMTP_PARAM_BODY) |
			   SMTP_PARAM_BIT(SMTP_PARAM_SMTPUTF8) |
			   SMTP_PARAM_BIT(SMTP_PARAM_RET) |
			   SMTP_PARAM_BIT(SMTP_PARAM_ENVID);
	if (s->st.auth_offered) /* RFC 4954 5: even before AUTH */
		allowed |= SMTP_PARAM_BIT(SMTP_PARAM_AUTH);
	if (e == SMTP_PARAM_OK)
		e = smtp_param_check_known(p, n, allowed, &bad);
	if (e != SMTP_PARAM_OK) {
		reply_path_error(
			s, smtp_param_reply(e, e == SMTP_PARAM_ERR_UNKNOWN
						       ? smtp_param_id(&p[bad])
						       : SMTP_PARAM_UNKNOWN));
		return -1;
	}
	const struct smtp_param *size = smtp_param_find(p, n, SMTP_PARAM_SIZE);
	const struct smtp_param *body = smtp_param_find(p, n, SMTP_PARAM_BODY);
	const struct smtp_param *utf8 =
		smtp_param_find(p, n, SMTP_PARAM_SMTPUTF8);
	const struct smtp_param *auth = smtp_param_find(p, n, SMTP_PARAM_AUTH);
	uint64_t sz = 0;
	enum smtp_param_body b = SMTP_PARAM_BODY_7BIT;
	if ((size && (e = smtp_param_size(size, &sz)) != SMTP_PARAM_OK) ||
	    (body && (e = smtp_param_body(body, &b)) != SMTP_PARAM_OK) ||
	    (utf8 && (e = smtp_param_smtputf8(utf8)) != SMTP_PARAM_OK)) {
		reply_path_error(s, smtp_param_reply(e, SMTP_PARAM_UNKNOWN));
		return -1;
	}
	if (auth && (e = smtp_param_auth(auth, NULL, utf8 != NULL, &m->auth)) !=
			    SMTP_PARAM_OK) {
		reply_path_error(s, smtp_param_reply(e, SMTP_PARAM_AUTH));
		return -1;
	}
	bool eightbit = m->path.utf8;
	for (size_t i = 0; i < n; i++)
		eightbit |= p[i].utf8;
	if (eightbit && utf8 == NULL) {
		reply_path_error(s, smtp_path_reply(SMTP_PATH_ERR_EIGHTBIT,
						    SMTP_PATH_MAIL));
		return -1;
	}
	enum smtp_param_id which = SMTP_PARAM_UNKNOWN;
	if ((e = smtp_dsn_mail(p, n, &m->dsn, &which)) != SMTP_PARAM_OK) {
		reply_path_error(s, smtp_param_reply(e, which));
		return -1;
	}
	if (s->st.message_max != 0 && sz > s->st.message_max) {
		smtp_reply_error(s, 552, "5.3.4",
				 "Message size exceeds fixed maximum message "
				 "size of %llu octets",
				 s->st.message_max);
		return -1;
	}
	m->size = sz;
	m->body_8bit = b == SMTP_PARAM_BODY_8BITMIME;
	m->body_binary = b == SMTP_PARAM_BODY_BINARYMIME;
	m->smtputf8 = utf8 != NULL;
	m->have_auth = auth != NULL;
	return 0;
}

int smtp_check_mail(struct smtp_session *s, const char *args, size_t len)
{
	struct mail_args m;
	if (s->state & (SMTP_ST_MAIL | SMTP_ST_RCPT)) {
		smtp_reply_error(s, 503, "5.5.1", "Sender already given");
		return -1;
	}
	if (s->st.mode == SMTP_MODE_SUBMISSION && s->auth_user[0] == '\0') {
		/* RFC 6409 4.3, RFC 4954 6 */
		smtp_reply_error(s, 530, "5.7.0", "Authentication required");
		return -1;
	}
	if (parse_mail(s, args, len, &m) != 0)
		return -1;
	return smtp_submit_check_sender(s, &m.path);
}

static char *path_string(const struct smtp_path *p)
{
	size_t n = strlen(p->local) + strlen(p->domain) + 2;
	char *out = malloc(n);
	if (out != NULL)
		snprintf(out, n, "%s%s%s", p->local, p->domain[0] ? "@" : "",
			 p->domain);
	return out;
}

/*
 * RFC 4954 5: the AUTH= value is kept only when this session may vouch
 * for it: the client has logged in and names itself (or <>). Otherwise
 * it becomes <>, the unknown submitter. A logged-in client that gave no
 * AUTH= is taken as the original submitter, under its login (which the
 * RFC allows an MSA to do).
 */
static int set_auth_from(struct smtp_session *s, const struct mail_args *m)
{
	struct smtp_envelope *env = &s->txn.env;
	bool trusted = m->have_auth && (m->auth.null_path ||
					smtp_submit_own_address(s, &m->auth));
	if (!m->have_auth && s->auth_user[0] == '\0')
		return 0; /* nothing to pass on */
	if (trusted)
		env->auth_from =
			m->auth.null_path ? strdup("") : path_string(&m->auth);
	else if (m->have_auth)
		env->auth_from = strdup("");
	else if (strchr(s->auth_user, '@') != NULL)
		env->auth_from = strdup(s->auth_user);
	else if (asprintf(&env->auth_from, "%s@%s", s->auth_user,
			  s->st.domain) < 0)
		env->auth_from = NULL;
	return env->auth_from != NULL ? 0 : -1;
}

void smtp_act_mail(struct smtp_session *s, const char *args, size_t len)
{
	struct mail_args m;
	if (parse_mail(s, args, len, &m) != 0)
		return; /* cannot happen: check_mail passed */
	smtp_transaction_reset(s);
	struct smtp_envelope *env = &s->txn.env;
	env->mail_from = m.path.null_path ? strdup("") : path_string(&m.path);
	if (env->mail_from == NULL) {
		smtp_reply(s, 451, "4.3.0", 0, "Out of memory");
		return;
	}
	env->helo = s->helo; /* fixed until the transaction ends */
	env->peer = s->peer;
	env->tls = s->tls_active ? s->tls_desc : "";
	env->auth = s->auth_user; /* AUTH cannot change in a transaction */
	env->size = m.size;
	env->body_8bit = m.body_8bit;
	env->body_binary = m.body_binary;
	env->smtputf8 = m.smtputf8;
	env->ret = m.dsn.ret;
	if (m.dsn.envid != NULL &&
	    (env->envid = smtp_dsn_strdup(m.dsn.envid, m.dsn.envid_len)) ==
		    NULL) {
		smtp_transaction_reset(s);
		smtp_reply(s, 451, "4.3.0", 0, "Out of memory");
		return;
	}
	if (set_auth_from(s, &m) != 0) {
		smtp_transaction_reset(s);
		smtp_reply(s, 451, "4.3.0", 0, "Out of memory");
		return;
	}
	s->state = SMTP_ST_MAIL;
	log_info(s->id, "smtp.mail from=<%s> size=%llu%s%s%s", env->mail_from,
		 env->size, env->auth_from != NULL ? " auth=<" : "",
		 env->auth_from != NULL ? env->auth_from : "",
		 env->auth_from != NULL ? ">" : "");
	smtp_reply(s, 250, "2.1.0", 0, "Sender OK");
}

/* Parse RCPT's path and parameters; reply on error. */
static int parse_rcpt(struct smtp_session *s, const char *args, size_t len,
		      struct smtp_path *path, struct smtp_dsn_args *dsn)
{
	struct smtp_param p[SMTP_MAX_PARAMS];
	size_t at, n, bad;
	enum smtp_path_error pe =
		smtp_path_parse(args, len, SMTP_PATH_RCPT, NULL,
				s->txn.env.smtputf8, path, &at);
	if (pe != SMTP_PATH_OK) {
		reply_path_error(s, smtp_path_reply(pe, SMTP_PATH_RCPT));
		return -1;
	}
	enum smtp_param_error e =
		smtp_param_parse(args + at, len - at, s->txn.env.smtputf8, p,
				 SMTP_MAX_PARAMS, &n);
	unsigned allowed = SMTP_PARAM_BIT(SMTP_PARAM_NOTIFY) |
			   SMTP_PARAM_BIT(SMTP_PARAM_ORCPT);
	enum smtp_param_id which = SMTP_PARAM_UNKNOWN;
	if (e == SMTP_PARAM_OK)
		e = smtp_param_check_known(p, n, allowed, &bad);
	if (e == SMTP_PARAM_ERR_UNKNOWN)
		which = smtp_param_id(&p[bad]);
	else if (e == SMTP_PARAM_OK)
		e = smtp_dsn_rcpt(p, n, dsn, &which);
	if (e != SMTP_PARAM_OK) {
		reply_path_error(s, smtp_param_reply(e, which));
		return -1;
	}
	return 0;
}

int smtp_check_rcpt(struct smtp_session *s, const char *args, size_t len)
{
	struct smtp_path path;
	struct smtp_dsn_args dsn;
	if (s->txn.bdat.used) {
		/* RFC 3030 2: the recipients come before the first BDAT */
		smtp_reply_error(s, 503, "5.5.1",
				 "RCPT not allowed after BDAT");
		return -1;
	}
	if (s->txn.env.n_rcpt >= s->st.max_recipients) {
		/* RFC 5321 4.5.3.1.10: 452, and the client sends the rest
		 * in another transaction */
		smtp_reply(s, 452, "4.5.3", 0, "Too many recipients");
		return -1;
	}
	return parse_rcpt(s, args, len, &path, &dsn);
}

/* Fill the pending recipient from path; 451 and -1 when out of memory. */
int smtp_txn_pending_set(struct smtp_session *s, const struct smtp_path *path)
{
	struct smtp_rcpt *r = &s->txn.pending;
	smtp_rcpt_free(r);
	r->addr = path_string(path);
	r->local = strdup(path->local_unquoted);
	r->domain = strdup(path->domain);
	r->postmaster = path->postmaster;
	/* a source route is accepted and ignored (RFC 5321 4.1.1.3, C) */
	r->routing = (smtp_path_suspicious_why(path) &
		      ~(unsigned)SMTP_PATH_SUSP_ROUTE) != 0;
	if (r->addr == NULL || r->local == NULL || r->domain == NULL) {
		smtp_rcpt_free(r);
		smtp_reply(s, 451, "4.3.0", 0, "Out of memory");
		return -1;
	}
	return 0;
}

void smtp_act_rcpt(struct smtp_session *s, const char *args, size_t len)
{
	struct smtp_path path;
	struct smtp_dsn_args dsn;
	struct smtp_rcpt *r = &s->txn.pending;
	if (parse_rcpt(s, args, len, &path, &dsn) != 0)
		return; /* cannot happen: check_rcpt passed */
	if (smtp_txn_pending_set(s, &path) != 0)
		return;
	r->notify = dsn.notify;
	r->orcpt = smtp_dsn_strdup(dsn.orcpt, dsn.orcpt_len);
	if (dsn.orcpt != NULL && r->orcpt == NULL) {
		smtp_rcpt_free(r);
		smtp_reply(s, 451, "4.3.0", 0, "Out of memory");
		return;
	}
	s->vrfy_pending = false;
	s->request = SMTP_REQ_RCPT;
}

/* The host judged the pending recipient. */
static void resume_rcpt(struct smtp_session *s, const struct smtp_answer *a)
{
	struct smtp_txn *t = &s->txn;
	if (s->vrfy_pending) {
		smtp_vrfy_resume(s, a);
		return;
	}
	if (!a->ok) {
		log_info(s->id, "smtp.rcpt_refused to=<%s> code=%d",
			 t->pending.addr, a->code);
		smtp_reply_error(s, a->code, a->enhanced, "%s", a->text);
		smtp_rcpt_free(&t->pending);
		return;
	}
	if (t->env.n_rcpt == t->rcpt_cap) {
		size_t cap = t->rcpt_cap ? t->rcpt_cap * 2 : 8;
		struct smtp_rcpt *v = realloc(t->env.rcpt, cap * sizeof(*v));
		if (v == NULL) {
			smtp_rcpt_free(&t->pending);
			smtp_reply(s, 451, "4.3.0", 0, "Out of memory");
			return;
		}
		t->env.rcpt = v;
		t->rcpt_cap = cap;
	}
	t->env.rcpt[t->env.n_rcpt++] = t->pending;
	memset(&t->pending, 0, sizeof(t->pending));
	s->state = SMTP_ST_RCPT;
	log_info(s->id, "smtp.rcpt to=<%s>",
		 t->env.rcpt[t->env.n_rcpt - 1].addr);
	smtp_reply(s, 250, "2.1.5", 0, "Recipient OK");
}

int smtp_check_data(struct smtp_session *s, const char *args, size_t len)
{
	(void)args;
	(void)len;
	if (s->state == SMTP_ST_MAIL) {
		/* RFC 2920 3.2 / RFC 5321 3.3: no valid recipients; in
		 * LMTP 503 (RFC 2033 4.2) */
		smtp_reply_error(s, s->st.mode == SMTP_MODE_LMTP ? 503 : 554,
				 "5.5.1", "No valid recipients");
		return -1;
	}
	if (s->txn.bdat.used || s->txn.env.body_binary) {
		/* RFC 3030 2 (no DATA in a BDAT transaction), 3 (BINARYMIME
		 * only with BDAT) */
		smtp_reply_error(s, 503, "5.5.1",
				 "DATA not allowed %s; use BDAT",
				 s->txn.bdat.used ? "after BDAT"
						  : "with BODY=BINARYMIME");
		return -1;
	}
	return 0;
}

void smtp_act_data(struct smtp_session *s, const char *args, size_t len)
{
	(void)args;
	(void)len;
	s->request = SMTP_REQ_DATA_BEGIN;
}

static void resume_data_begin(struct smtp_session *s,
			      const struct smtp_answer *a)
{
	struct smtp_txn *t = &s->txn;
	if (t->bdat.used) {
		smtp_bdat_begun(s, a);
		return;
	}
	if (!a->ok) {
		smtp_reply(s, a->code, a->enhanced, 0, "%s", a->text);
		return;
	}
	snprintf(t->queue_id, sizeof(t->queue_id), "%s",
		 a->queue_id != NULL ? a->queue_id : "");
	snprintf(t->date, sizeof(t->date), "%s",
		 a->date != NULL ? a->date : "");
	smtp_data_init(&t->data, s->st.data_line_max, s->st.message_max,
		       s->st.bare_lf_accept);
	buf_clear(&t->msg);
	if (smtp_received_header(s, a->date != NULL ? a->date : "", &t->msg) !=
	    0) {
		smtp_reply(s, 451, "4.3.0", 0, "Out of memory");
		return;
	}
	smtp_submit_begin(s);
	s->state = SMTP_ST_DATA;
	/* 354 is not 2xx/4xx/5xx: no enhanced code (RFC 2034 3) */
	smtp_reply(s, 354, NULL, 0, "End data with <CR><LF>.<CR><LF>");
}

void smtp_data_input(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;
	for (;;) {
		enum smtp_data_step step = smtp_data_run(
			&t->data, &s->in, &t->msg, s->st.chunk_size);
		smtp_submit_scan(s, step == SMTP_DATA_DONE);
		switch (step) {
		case SMTP_DATA_MORE:
			return;
		case SMTP_DATA_FULL:
			smtp_submit_flushed(s); /* the host takes it all */
			if (t->failed) {	/* the spool refused: drop it */
				buf_clear(&t->msg);
				continue;
			}
			s->request = SMTP_REQ_DATA_CHUNK;
			return;
		case SMTP_DATA_DONE:
			smtp_txn_message_done(s);
			return;
		}
	}
}

void smtp_txn_message_done(struct smtp_session *s)
{
	if (s->txn.failed)
		buf_clear(&s->txn.msg);
	s->request = SMTP_REQ_DATA_END;
}

bool smtp_session_message_ok(const struct smtp_session *s)
{
	return s->txn.data.verdict == SMTP_DATA_OK && !s->txn.failed;
}

static void remember_failure(struct smtp_txn *t, const struct smtp_answer *a)
{
	t->failed = true;
	t->fail_code = a->code;
	snprintf(t->fail_enh, sizeof(t->fail_enh), "%s",
		 a->enhanced != NULL ? a->enhanced : "4.3.0");
	snprintf(t->fail_text, sizeof(t->fail_text), "%s",
		 a->text != NULL ? a->text : "Local error");
}

/* The message ended; the host committed or discarded it. */
static void resume_data_end(struct smtp_session *s, const struct smtp_answer *a)
{
	struct smtp_txn *t = &s->txn;
	size_t reply_at = buf_len(&s->out);
	if (!a->ok && !t->failed)
		remember_failure(t, a);
	if (s->st.mode == SMTP_MODE_LMTP && smtp_session_message_ok(s)) {
		smtp_lmtp_start(s); /* one reply per recipient follows */
		return;
	}
	switch (t->data.verdict) {
	case SMTP_DATA_TOO_BIG: /* RFC 1870 6.3 */
		smtp_reply(s, 552, "5.3.4", 0,
			   "Message size exceeds fixed maximum message size");
		break;
	case SMTP_DATA_LINE_TOO_LONG:
		smtp_reply(s, 554, "5.6.0", 0,
			   "Message has a line longer than %zu octets",
			   s->st.data_line_max);
		break;
	case SMTP_DATA_BARE:
		smtp_reply(s, 554, "5.6.0", 0,
			   "Bare LF or CR in message; lines end in CRLF");
		break;
	case SMTP_DATA_OK:
		if (t->failed)
			smtp_reply(s, t->fail_code, t->fail_enh, 0, "%s",
				   t->fail_text);
		else
			smtp_reply(s, 250, "2.0.0", 0, "OK queued as %s",
				   t->queue_id);
		break;
	}
	if (s->st.mode == SMTP_MODE_LMTP)
		smtp_lmtp_repeat(s, reply_at);
	log_info(s->id, "smtp.data queue_id=%s size=%llu verdict=%d ok=%d",
		 t->queue_id, t->data.size, (int)t->data.verdict,
		 smtp_session_message_ok(s));
	smtp_transaction_reset(s);
}

void smtp_txn_resume(struct smtp_session *s, const struct smtp_answer *a)
{
	enum smtp_request req = s->request;
	s->request = SMTP_REQ_NONE;
	switch (req) {
	case SMTP_REQ_RCPT:
		resume_rcpt(s, a);
		break;
	case SMTP_REQ_DATA_BEGIN:
		resume_data_begin(s, a);
		break;
	case SMTP_REQ_DATA_CHUNK:
		if (!a->ok) {
			remember_failure(&s->txn, a);
			buf_clear(&s->txn.msg);
		}
		break;
	case SMTP_REQ_DATA_END:
		resume_data_end(s, a);
		break;
	case SMTP_REQ_LMTP_RCPT:
		smtp_lmtp_resume(s, a);
		break;
	default:
		s->request = req; /* not ours: nothing was pending */
		break;
	}
}

const struct smtp_envelope *smtp_session_envelope(const struct smtp_session *s)
{
	return &s->txn.env;
}

const struct smtp_rcpt *smtp_session_pending_rcpt(const struct smtp_session *s)
{
	return &s->txn.pending;
}

struct buf *smtp_session_message(struct smtp_session *s)
{
	return &s->txn.msg;
}
