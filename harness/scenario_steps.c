/*
 * scenario_steps.c - the step table of the scenario loader: which actions
 * exist, which modifiers (session, within) each takes, and the readers of
 * the connection, sending and control steps (docs/scenarios.md, "Steps").
 * expect: is read by scenario_expect.c, the high-level steps by
 * scenario_high.c.
 */
#include "scenario_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F_SESSION 0x1u /* takes session: */
#define F_WITHIN  0x2u /* takes within: */
#define F_IO	  (F_SESSION | F_WITHIN)

typedef int step_parse_fn(struct sload *ld, const struct ytree_node *n,
			  struct scenario_step *st);

struct step_def {
	const char *name;
	enum step_kind kind;
	unsigned flags;
	step_parse_fn *parse;
};

static step_parse_fn parse_connect, parse_empty, parse_expect_close, parse_send,
	parse_sendline, parse_expect, parse_sleep, parse_repeat, parse_set,
	parse_wait_until;

static const struct step_def step_defs[] = {
	{"connect", STEP_CONNECT, F_IO, parse_connect},
	{"starttls", STEP_STARTTLS, F_IO, parse_empty},
	{"close", STEP_CLOSE, F_SESSION, parse_empty},
	{"expect_close", STEP_EXPECT_CLOSE, F_IO, parse_expect_close},
	{"send", STEP_SEND, F_IO, parse_send},
	{"sendline", STEP_SENDLINE, F_IO, parse_sendline},
	{"expect", STEP_EXPECT, F_IO, parse_expect},
	{"smtp_hello", STEP_SMTP_HELLO, F_IO, sload_smtp_step},
	{"smtp_auth", STEP_SMTP_AUTH, F_IO, sload_smtp_step},
	{"smtp_send", STEP_SMTP_SEND, F_IO, sload_smtp_step},
	{"pop3_login", STEP_POP3_LOGIN, F_IO, sload_pop3_step},
	{"pop3_stat", STEP_POP3_STAT, F_IO, sload_pop3_step},
	{"pop3_retr", STEP_POP3_RETR, F_IO, sload_pop3_step},
	{"pop3_dele", STEP_POP3_DELE, F_IO, sload_pop3_step},
	{"pop3_quit", STEP_POP3_QUIT, F_IO, sload_pop3_step},
	{"check_message", STEP_CHECK_MESSAGE, 0, sload_check_message},
	{"sleep", STEP_SLEEP, 0, parse_sleep},
	{"repeat", STEP_REPEAT, 0, parse_repeat},
	{"set", STEP_SET, 0, parse_set},
	{"wait_until", STEP_WAIT_UNTIL, 0, parse_wait_until},
};
#define N_STEP_DEFS (sizeof(step_defs) / sizeof(step_defs[0]))

const char *scenario_step_name(enum step_kind kind)
{
	for (size_t i = 0; i < N_STEP_DEFS; i++)
		if (step_defs[i].kind == kind)
			return step_defs[i].name;
	return "?";
}

static const struct step_def *find_def(const char *name)
{
	for (size_t i = 0; i < N_STEP_DEFS; i++)
		if (strcmp(step_defs[i].name, name) == 0)
			return &step_defs[i];
	return NULL;
}

static void all_names(char *out, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < N_STEP_DEFS && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%s", i ? ", " : "",
				      step_defs[i].name);
}

static int parse_connect(struct sload *ld, const struct ytree_node *n,
			 struct scenario_step *st)
{
	static const char *const keys[] = {"service", "tls", NULL};
	static const char *const services[] = {
		"smtp", "submission", "submissions", "lmtp",
		"pop3", "pop3s",      "imap",	     "imaps"};
	static const char *const modes[] = {"none", "starttls", "implicit"};
	const struct ytree_node *svc = n, *tls;

	if (n->kind == YTREE_MAP) {
		if (sload_map(ld, n, "connect", keys, false) != 0 ||
		    sload_need(ld, n, "service", &svc) != 0)
			return -1;
		if ((tls = ytree_map_get(n, "tls")) != NULL) {
			size_t i = 0;
			while (i < 3 && (tls->kind != YTREE_SCALAR ||
					 strcmp(tls->value, modes[i]) != 0))
				i++;
			if (i == 3)
				return sload_expected(
					ld, tls, "tls",
					"none, starttls or implicit");
			st->u.connect.tls = (enum scenario_tls)(i + 1);
		}
	}
	for (size_t i = 0; i < 8; i++)
		if (svc->kind == YTREE_SCALAR &&
		    strcmp(svc->value, services[i]) == 0) {
			snprintf(st->u.connect.service,
				 sizeof(st->u.connect.service), "%s",
				 services[i]);
			return 0;
		}
	return sload_expected(ld, svc, "service",
			      "one of smtp, submission, submissions, lmtp, "
			      "pop3, pop3s, imap, imaps");
}

static int parse_empty(struct sload *ld, const struct ytree_node *n,
		       struct scenario_step *st)
{
	static const char *const keys[] = {NULL};
	return sload_map(ld, n, scenario_step_name(st->kind), keys, true);
}

static int parse_expect_close(struct sload *ld, const struct ytree_node *n,
			      struct scenario_step *st)
{
	static const char *const keys[] = {"allow_data", NULL};
	const struct ytree_node *v;
	if (sload_map(ld, n, "expect_close", keys, true) != 0)
		return -1;
	if ((v = ytree_map_get(n, "allow_data")) != NULL)
		return sload_bool(ld, v, "allow_data", &st->allow_data);
	return 0;
}

static int send_options(struct sload *ld, const struct ytree_node *n,
			struct step_send *s)
{
	const struct ytree_node *v;
	unsigned long u;
	if ((v = ytree_map_get(n, "chunk")) != NULL) {
		if (sload_uint(ld, v, "chunk", 1, SCENARIO_MAX_SEND, &u) != 0)
			return -1;
		s->chunk = u;
	}
	if ((v = ytree_map_get(n, "pause_ms")) != NULL) {
		if (sload_uint(ld, v, "pause_ms", 0, 60000, &u) != 0)
			return -1;
		s->pause_ms = (unsigned)u;
	}
	if ((v = ytree_map_get(n, "times")) != NULL && s->form != SEND_REPEAT)
		return sload_error(ld, v,
				   "'times' without 'repeat' (expected "
				   "both, or neither)");
	return 0;
}

static int send_repeat(struct sload *ld, const struct ytree_node *n,
		       const struct ytree_node *text, struct step_send *s)
{
	const struct ytree_node *v;
	if (sload_str(ld, text, "repeat", &s->data) != 0 ||
	    sload_need(ld, n, "times", &v) != 0 ||
	    sload_uint(ld, v, "times", 1, SCENARIO_MAX_TIMES, &s->times) != 0)
		return -1;
	if (s->data.len > 0 && s->times > SCENARIO_MAX_SEND / s->data.len)
		return sload_error(ld, v,
				   "repeat makes %zu x %lu bytes "
				   "(expected at most %u in all)",
				   s->data.len, s->times, SCENARIO_MAX_SEND);
	return 0;
}

static int parse_send(struct sload *ld, const struct ytree_node *n,
		      struct scenario_step *st)
{
	static const char *const keys[] = {
		"data", "file", "repeat", "times", "chunk", "pause_ms", NULL};
	struct step_send *s = &st->u.send;
	const struct ytree_node *data, *file, *rep;

	if (n->kind == YTREE_SCALAR)
		return sload_str(ld, n, "send", &s->data);
	if (sload_map(ld, n, "send", keys, false) != 0)
		return -1;
	data = ytree_map_get(n, "data");
	file = ytree_map_get(n, "file");
	rep = ytree_map_get(n, "repeat");
	if ((data != NULL) + (file != NULL) + (rep != NULL) != 1)
		return sload_error(ld, n,
				   "send needs exactly one of 'data', "
				   "'file', 'repeat' (expected one)");
	if (data != NULL && sload_str(ld, data, "data", &s->data) != 0)
		return -1;
	if (file != NULL) {
		s->form = SEND_FILE;
		if (sload_file(ld, file, "file", &s->file) != 0)
			return -1;
	}
	if (rep != NULL) {
		s->form = SEND_REPEAT;
		if (send_repeat(ld, n, rep, s) != 0)
			return -1;
	}
	return send_options(ld, n, s);
}

static int parse_sendline(struct sload *ld, const struct ytree_node *n,
			  struct scenario_step *st)
{
	return sload_str(ld, n, "sendline", &st->u.send.data);
}

static int parse_expect(struct sload *ld, const struct ytree_node *n,
			struct scenario_step *st)
{
	return sload_expect(ld, n, &st->u.expect);
}

static int parse_sleep(struct sload *ld, const struct ytree_node *n,
		       struct scenario_step *st)
{
	return sload_seconds(ld, n, "sleep", 0, SCENARIO_MAX_SECONDS * 1000,
			     &st->u.ctl.ms);
}

/* steps: of a repeat or a wait_until, one level deeper. */
static int nested_steps(struct sload *ld, const struct ytree_node *n,
			struct scenario_step *st)
{
	const struct ytree_node *v;
	const char *label = ld->step_label, *kind = ld->step_kind;
	int rc;

	if (sload_need(ld, n, "steps", &v) != 0)
		return -1;
	if (v->kind == YTREE_SEQ && ytree_len(v) == 0)
		return sload_error(ld, v,
				   "'steps' is empty (expected a list "
				   "of steps)");
	if (v->kind != YTREE_SEQ)
		return sload_expected(ld, v, "steps", "a list of steps");
	if (ld->depth + 1 > SCENARIO_MAX_NESTING)
		return sload_error(ld, n,
				   "nested %u deep (expected at most %d "
				   "levels of repeat and wait_until)",
				   ld->depth + 1, SCENARIO_MAX_NESTING);
	ld->depth++;
	rc = sload_steps(ld, v, st->label, &st->u.ctl.steps);
	ld->depth--;
	if (rc == 0) {
		ld->step_label = label;
		ld->step_kind = kind;
	}
	return rc;
}

static int parse_repeat(struct sload *ld, const struct ytree_node *n,
			struct scenario_step *st)
{
	static const char *const keys[] = {"times", "steps", NULL};
	const struct ytree_node *v;
	if (sload_map(ld, n, "repeat", keys, false) != 0 ||
	    sload_need(ld, n, "times", &v) != 0 ||
	    sload_uint(ld, v, "times", 1, SCENARIO_MAX_TIMES,
		       &st->u.ctl.times) != 0)
		return -1;
	return nested_steps(ld, n, st);
}

static int parse_wait_until(struct sload *ld, const struct ytree_node *n,
			    struct scenario_step *st)
{
	static const char *const keys[] = {"steps", "every", "limit", NULL};
	const struct ytree_node *v;
	st->u.ctl.every_ms = 200;
	st->u.ctl.limit_ms = 10000;
	if (sload_map(ld, n, "wait_until", keys, false) != 0)
		return -1;
	if ((v = ytree_map_get(n, "every")) != NULL &&
	    sload_seconds(ld, v, "every", 10, 60000, &st->u.ctl.every_ms) != 0)
		return -1;
	if ((v = ytree_map_get(n, "limit")) != NULL &&
	    sload_seconds(ld, v, "limit", 100, SCENARIO_MAX_SECONDS * 1000,
			  &st->u.ctl.limit_ms) != 0)
		return -1;
	return nested_steps(ld, n, st);
}

static int parse_set(struct sload *ld, const struct ytree_node *n,
		     struct scenario_step *st)
{
	struct step_control *c = &st->u.ctl;
	if (n->kind != YTREE_MAP || ytree_len(n) == 0)
		return sload_expected(ld, n, "set", "a map of names to values");
	if ((c->set = calloc(ytree_len(n), sizeof(*c->set))) == NULL)
		return sload_error(ld, n, "out of memory");
	for (size_t i = 0; i < ytree_len(n); i++) {
		char name[SCENARIO_NAME_MAX];
		if (sload_name(ld, ytree_map_key_at(n, i), "set", name) != 0)
			return -1;
		if ((c->set[i].name = strdup(name)) == NULL)
			return sload_error(ld, n, "out of memory");
		c->n_set = i + 1;
		if (sload_str(ld, ytree_map_value_at(n, i), name,
			      &c->set[i].value) != 0)
			return -1;
	}
	return 0;
}

/* The action key of a step map, exactly one. */
static int find_action(struct sload *ld, const struct ytree_node *n,
		       const struct step_def **def_r, size_t *at_r)
{
	char names[512];
	const struct ytree_node *other = NULL;

	*def_r = NULL;
	for (size_t i = 0; i < ytree_len(n); i++) {
		const struct ytree_node *k = ytree_map_key_at(n, i);
		const struct step_def *d = find_def(k->value);
		if (d == NULL) {
			if (other == NULL && strcmp(k->value, "session") &&
			    strcmp(k->value, "within"))
				other = k;
			continue;
		}
		if (*def_r != NULL)
			return sload_error(ld, k,
					   "two actions '%s' and '%s' "
					   "(expected one per step)",
					   (*def_r)->name, d->name);
		*def_r = d;
		*at_r = i;
	}
	if (*def_r != NULL)
		return 0;
	all_names(names, sizeof(names));
	if (other != NULL)
		return sload_error(ld, other,
				   "unknown step '%s' (expected one of %s)",
				   other->value, names);
	return sload_error(ld, n, "no action (expected one of %s)", names);
}

static int parse_modifiers(struct sload *ld, const struct ytree_node *n,
			   const struct step_def *d, struct scenario_step *st)
{
	const char *keys[4] = {d->name, NULL, NULL, NULL};
	const struct ytree_node *v;
	size_t k = 1;

	if (d->flags & F_SESSION)
		keys[k++] = "session";
	if (d->flags & F_WITHIN)
		keys[k++] = "within";
	if (sload_map(ld, n, d->name, keys, false) != 0)
		return -1;
	snprintf(st->session, sizeof(st->session), "main");
	st->within_ms = SCENARIO_DEFAULT_WITHIN_MS;
	if ((v = ytree_map_get(n, "session")) != NULL &&
	    sload_name(ld, v, "session", st->session) != 0)
		return -1;
	if ((v = ytree_map_get(n, "within")) != NULL &&
	    sload_seconds(ld, v, "within", 1, SCENARIO_MAX_SECONDS * 1000,
			  &st->within_ms) != 0)
		return -1;
	return 0;
}

static int parse_step(struct sload *ld, const struct ytree_node *n,
		      struct scenario_step *st)
{
	const struct step_def *d;
	size_t at = 0;

	ld->step_label = st->label;
	ld->step_kind = NULL;
	st->line = n->line;
	st->column = n->column;
	if (n->kind != YTREE_MAP)
		return sload_error(ld, n,
				   "a %s (expected a map with one "
				   "action, e.g. send: \"...\")",
				   ytree_kind_name(n->kind));
	if (find_action(ld, n, &d, &at) != 0)
		return -1;
	st->kind = d->kind;
	ld->step_kind = d->name;
	if (parse_modifiers(ld, n, d, st) != 0)
		return -1;
	return d->parse(ld, ytree_map_value_at(n, at), st);
}

int sload_steps(struct sload *ld, const struct ytree_node *seq,
		const char *parent_label, struct scenario_steps *out)
{
	size_t n = ytree_len(seq);
	out->n = 0;
	if ((out->v = calloc(n, sizeof(*out->v))) == NULL)
		return sload_error(ld, seq, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct scenario_step *st = &out->v[i];
		const struct ytree_node *item = ytree_seq_at(seq, i);
		if (parent_label != NULL)
			snprintf(st->label, sizeof(st->label), "%s.%zu",
				 parent_label, i + 1);
		else
			snprintf(st->label, sizeof(st->label), "%zu", i + 1);
		st->kind = STEP_SLEEP; /* nothing to free until parsed */
		out->n = i + 1;
		if (++ld->total_steps > SCENARIO_MAX_STEPS) {
			ld->step_label = st->label;
			ld->step_kind = NULL;
			return sload_error(ld, item,
					   "more than %d steps in the "
					   "file (expected fewer)",
					   SCENARIO_MAX_STEPS);
		}
		if (parse_step(ld, item, st) != 0)
			return -1;
	}
	return 0;
}

static void step_free(struct scenario_step *st)
{
	switch (st->kind) {
	case STEP_SEND:
	case STEP_SENDLINE:
		scenario_str_free(&st->u.send.data);
		free(st->u.send.file);
		break;
	case STEP_EXPECT:
		expect_spec_free(&st->u.expect);
		break;
	case STEP_SMTP_HELLO:
	case STEP_SMTP_AUTH:
	case STEP_SMTP_SEND:
		scenario_str_free(&st->u.smtp.name);
		scenario_str_free(&st->u.smtp.user);
		scenario_str_free(&st->u.smtp.pass);
		scenario_str_free(&st->u.smtp.from);
		scenario_strs_free(st->u.smtp.to, st->u.smtp.n_to);
		scenario_str_free(&st->u.smtp.data);
		free(st->u.smtp.file);
		break;
	case STEP_POP3_LOGIN:
	case STEP_POP3_STAT:
	case STEP_POP3_RETR:
	case STEP_POP3_DELE:
	case STEP_POP3_QUIT:
		scenario_str_free(&st->u.pop3.user);
		scenario_str_free(&st->u.pop3.pass);
		scenario_str_free(&st->u.pop3.msg);
		break;
	case STEP_CHECK_MESSAGE:
		scenario_str_free(&st->u.check.message);
		scenario_pairs_free(st->u.check.header, st->u.check.n_header);
		for (size_t i = 0; i < st->u.check.n_header_re; i++) {
			free(st->u.check.header_re[i].name);
			scenario_re_free(&st->u.check.header_re[i].re);
		}
		free(st->u.check.header_re);
		free(st->u.check.first_header);
		for (size_t i = 0; i < st->u.check.n_header_count; i++)
			free(st->u.check.header_count[i].name);
		free(st->u.check.header_count);
		scenario_str_free(&st->u.check.body_equals);
		break;
	case STEP_REPEAT:
	case STEP_WAIT_UNTIL:
	case STEP_SET:
		scenario_steps_free(&st->u.ctl.steps);
		scenario_pairs_free(st->u.ctl.set, st->u.ctl.n_set);
		break;
	default:
		break;
	}
}

void scenario_steps_free(struct scenario_steps *steps)
{
	for (size_t i = 0; steps->v != NULL && i < steps->n; i++)
		step_free(&steps->v[i]);
	free(steps->v);
	steps->v = NULL;
	steps->n = 0;
}
