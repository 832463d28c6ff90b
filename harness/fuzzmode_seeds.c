/*
 * fuzzmode_seeds.c - the fuzzer's seeds: per session of a scenario, the
 * bytes it sends, in order (fuzzmode.h). send and sendline give their
 * bytes (a file's, a repeat's); smtp_hello, smtp_auth, smtp_send and the
 * pop3_* steps give the commands they would send. repeat runs its steps
 * at most 4 times here, wait_until once. A starttls step adds nothing
 * (the scenario sends the command itself): what follows it is sent as
 * plaintext, which is one more thing to fuzz.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzzmode.h"
#include "vars.h"

#define SEED_REPEAT_MAX 4

struct collect {
	const struct vars *v;
	struct fuzzmode_seeds *out;
	char *err;
	size_t errlen;
};

static struct fuzzmode_session *session(struct collect *c, const char *name)
{
	struct fuzzmode_seeds *o = c->out;
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->v[i].name, name) == 0)
			return &o->v[i];
	if (o->n == FUZZMODE_MAX_SESSIONS)
		return NULL;
	struct fuzzmode_session *s = &o->v[o->n++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->service, sizeof(s->service), "smtp");
	s->tls = SCENARIO_TLS_DEFAULT;
	buf_init(&s->bytes, FUZZMODE_SEED_MAX);
	return s;
}

/* Append, silently stopping at FUZZMODE_SEED_MAX: the seed is a start,
 * not a transcript. */
static void add(struct fuzzmode_session *s, const void *d, size_t n)
{
	size_t room = s->bytes.max - buf_len(&s->bytes);
	(void)buf_append(&s->bytes, d, n < room ? n : room);
}

static void add_str(struct collect *c, struct fuzzmode_session *s,
		    const struct scenario_str *t, const char *dflt)
{
	char e[200];
	char *x;
	size_t n;

	if (t->s == NULL) {
		add(s, dflt, strlen(dflt));
		return;
	}
	x = vars_expand_dup(c->v, t->s, t->len, VARS_RAW, &n, e, sizeof(e));
	if (x == NULL) {
		add(s, t->s, t->len); /* an unknown variable: as written */
		return;
	}
	add(s, x, n);
	free(x);
}

static void add_file(struct fuzzmode_session *s, const char *path)
{
	char chunk[8192];
	size_t n;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 &&
	       buf_len(&s->bytes) < s->bytes.max)
		add(s, chunk, n);
	fclose(f);
}

static void add_send(struct collect *c, struct fuzzmode_session *s,
		     const struct scenario_step *st)
{
	const struct step_send *m = &st->u.send;
	if (st->kind == STEP_SENDLINE) {
		add_str(c, s, &m->data, "");
		add(s, "\r\n", 2);
	} else if (m->form == SEND_FILE) {
		add_file(s, m->file);
	} else if (m->form == SEND_REPEAT) {
		for (unsigned long i = 0;
		     i < m->times && buf_len(&s->bytes) < s->bytes.max; i++)
			add_str(c, s, &m->data, "");
	} else {
		add_str(c, s, &m->data, "");
	}
}

static void line(struct collect *c, struct fuzzmode_session *s, const char *pre,
		 const struct scenario_str *t, const char *post)
{
	add(s, pre, strlen(pre));
	if (t != NULL)
		add_str(c, s, t, "");
	add(s, post, strlen(post));
	add(s, "\r\n", 2);
}

static void add_smtp_send(struct collect *c, struct fuzzmode_session *s,
			  const struct step_smtp *m)
{
	line(c, s, "MAIL FROM:<", &m->from, ">");
	for (size_t i = 0; i < m->n_to; i++)
		line(c, s, "RCPT TO:<", &m->to[i], ">");
	line(c, s, "DATA", NULL, "");
	if (m->file != NULL)
		add_file(s, m->file);
	else
		add_str(c, s, &m->data, "Subject: fuzz\r\n\r\nhello\r\n");
	line(c, s, ".", NULL, "");
}

static void add_high(struct collect *c, struct fuzzmode_session *s,
		     const struct scenario_step *st)
{
	switch (st->kind) {
	case STEP_SMTP_HELLO:
		line(c, s, "EHLO ", &st->u.smtp.name, "");
		break;
	case STEP_SMTP_AUTH:
		line(c, s,
		     st->u.smtp.mech == AUTH_MECH_LOGIN	  ? "AUTH LOGIN"
		     : st->u.smtp.mech == AUTH_MECH_SCRAM ? "AUTH SCRAM-SHA-256"
							  : "AUTH PLAIN",
		     NULL, "");
		break;
	case STEP_SMTP_SEND:
		add_smtp_send(c, s, &st->u.smtp);
		break;
	case STEP_POP3_LOGIN:
		line(c, s, "USER ", &st->u.pop3.user, "");
		line(c, s, "PASS ", &st->u.pop3.pass, "");
		break;
	case STEP_POP3_STAT:
		line(c, s, "STAT", NULL, "");
		break;
	case STEP_POP3_RETR:
		line(c, s, "RETR ", &st->u.pop3.msg, "");
		break;
	case STEP_POP3_DELE:
		line(c, s, "DELE ", &st->u.pop3.msg, "");
		break;
	default:
		line(c, s, "QUIT", NULL, "");
		break;
	}
}

static int walk(struct collect *c, const struct scenario_steps *steps,
		unsigned depth);

static int step(struct collect *c, const struct scenario_step *st,
		unsigned depth)
{
	struct fuzzmode_session *s = NULL;
	unsigned long times;

	if (st->kind == STEP_REPEAT || st->kind == STEP_WAIT_UNTIL) {
		times = st->kind == STEP_REPEAT ? st->u.ctl.times : 1;
		for (unsigned long i = 0; i < times && i < SEED_REPEAT_MAX; i++)
			if (walk(c, &st->u.ctl.steps, depth + 1) != 0)
				return -1;
		return 0;
	}
	if (st->kind != STEP_CONNECT && st->kind != STEP_SEND &&
	    st->kind != STEP_SENDLINE &&
	    (st->kind < STEP_SMTP_HELLO || st->kind > STEP_POP3_QUIT))
		return 0;
	if ((s = session(c, st->session)) == NULL) {
		snprintf(c->err, c->errlen, "more than %d sessions",
			 FUZZMODE_MAX_SESSIONS);
		return -1;
	}
	if (st->kind == STEP_CONNECT && buf_len(&s->bytes) == 0) {
		snprintf(s->service, sizeof(s->service), "%s",
			 st->u.connect.service);
		s->tls = (int)st->u.connect.tls;
	} else if (st->kind == STEP_SEND || st->kind == STEP_SENDLINE) {
		add_send(c, s, st);
	} else if (st->kind != STEP_CONNECT) {
		add_high(c, s, st);
	}
	return 0;
}

static int walk(struct collect *c, const struct scenario_steps *steps,
		unsigned depth)
{
	if (depth > SCENARIO_MAX_NESTING)
		return 0;
	for (size_t i = 0; i < steps->n; i++)
		if (step(c, &steps->v[i], depth) != 0)
			return -1;
	return 0;
}

int fuzzmode_seeds_collect(const struct scenario *sc, const struct vars *v,
			   struct fuzzmode_seeds *out, char *err, size_t errlen)
{
	struct collect c = {.v = v, .out = out, .err = err, .errlen = errlen};
	size_t k = 0;

	memset(out, 0, sizeof(*out));
	if (walk(&c, &sc->steps, 0) != 0) {
		fuzzmode_seeds_free(out);
		return -1;
	}
	for (size_t i = 0; i < out->n; i++) /* sessions that send nothing */
		if (buf_len(&out->v[i].bytes) > 0)
			out->v[k++] = out->v[i];
		else
			buf_free(&out->v[i].bytes);
	out->n = k;
	if (k == 0) {
		snprintf(err, errlen, "%s sends nothing to fuzz with",
			 sc->file);
		return -1;
	}
	return 0;
}

void fuzzmode_seeds_free(struct fuzzmode_seeds *s)
{
	for (size_t i = 0; i < s->n; i++)
		buf_free(&s->v[i].bytes);
	s->n = 0;
}
