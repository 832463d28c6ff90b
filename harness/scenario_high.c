/*
 * scenario_high.c - the scenario loader's readers of the high-level steps
 * (smtp_hello, smtp_auth, smtp_send, pop3_*) and of check_message
 * (docs/scenarios.md, "High-level steps", "Checks on captured mail").
 */
#include "scenario_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int default_str(struct sload *ld, const struct ytree_node *n,
		       const char *s, struct scenario_str *out)
{
	out->len = strlen(s);
	if ((out->s = strdup(s)) == NULL)
		return sload_error(ld, n, "out of memory");
	return 0;
}

static int opt_bool(struct sload *ld, const struct ytree_node *n,
		    const char *key, bool dflt, bool *out)
{
	const struct ytree_node *v = ytree_map_get(n, key);
	*out = dflt;
	return v != NULL ? sload_bool(ld, v, key, out) : 0;
}

static int need_str(struct sload *ld, const struct ytree_node *n,
		    const char *key, struct scenario_str *out)
{
	const struct ytree_node *v;
	if (sload_need(ld, n, key, &v) != 0)
		return -1;
	return sload_str(ld, v, key, out);
}

static int opt_code(struct sload *ld, const struct ytree_node *n,
		    const char *dflt, char code[4])
{
	const struct ytree_node *v = ytree_map_get(n, "expect");
	memcpy(code, dflt, 4);
	return v != NULL ? sload_smtp_code(ld, v, "expect", code) : 0;
}

static int smtp_hello(struct sload *ld, const struct ytree_node *n,
		      struct step_smtp *s)
{
	static const char *const keys[] = {"name", "greeting", NULL};
	const struct ytree_node *v;
	if (sload_map(ld, n, "smtp_hello", keys, true) != 0 ||
	    opt_bool(ld, n, "greeting", true, &s->greeting) != 0)
		return -1;
	if ((v = ytree_map_get(n, "name")) != NULL)
		return sload_str(ld, v, "name", &s->name);
	return default_str(ld, n, "client.example.test", &s->name);
}

static int smtp_auth(struct sload *ld, const struct ytree_node *n,
		     struct step_smtp *s)
{
	static const char *const keys[] = {"user",   "pass",	"mech",
					   "expect", "initial", NULL};
	static const char *const mechs[] = {"PLAIN", "LOGIN", "SCRAM-SHA-256"};
	const struct ytree_node *v;
	if (sload_map(ld, n, "smtp_auth", keys, false) != 0 ||
	    need_str(ld, n, "user", &s->user) != 0 ||
	    need_str(ld, n, "pass", &s->pass) != 0 ||
	    opt_code(ld, n, "235", s->code) != 0 ||
	    opt_bool(ld, n, "initial", true, &s->initial) != 0)
		return -1;
	s->mech = AUTH_MECH_PLAIN;
	if ((v = ytree_map_get(n, "mech")) != NULL) {
		size_t i = 0;
		while (i < 3 && (v->kind != YTREE_SCALAR ||
				 strcmp(v->value, mechs[i]) != 0))
			i++;
		if (i == 3)
			return sload_expected(ld, v, "mech",
					      "PLAIN, LOGIN or SCRAM-SHA-256");
		s->mech = (enum step_auth_mech)i;
	}
	if (!s->initial && s->mech != AUTH_MECH_PLAIN)
		return sload_error(ld, n,
				   "'initial: false' with another mechanism "
				   "(expected it with PLAIN only)");
	return 0;
}

static int smtp_send(struct sload *ld, const struct ytree_node *n,
		     struct step_smtp *s)
{
	static const char *const keys[] = {"from", "to",     "data",
					   "file", "expect", NULL};
	const struct ytree_node *v, *data, *file;
	if (sload_map(ld, n, "smtp_send", keys, false) != 0 ||
	    need_str(ld, n, "from", &s->from) != 0 ||
	    sload_need(ld, n, "to", &v) != 0 ||
	    sload_str_list(ld, v, "to", &s->to, &s->n_to) != 0 ||
	    opt_code(ld, n, "250", s->code) != 0)
		return -1;
	if (s->n_to == 0)
		return sload_expected(ld, v, "to", "at least one address");
	data = ytree_map_get(n, "data");
	file = ytree_map_get(n, "file");
	if ((data == NULL) == (file == NULL))
		return sload_error(ld, n,
				   "smtp_send needs one of 'data' and "
				   "'file' (expected exactly one)");
	if (data != NULL)
		return sload_str(ld, data, "data", &s->data);
	return sload_file(ld, file, "file", &s->file);
}

int sload_smtp_step(struct sload *ld, const struct ytree_node *n,
		    struct scenario_step *st)
{
	switch (st->kind) {
	case STEP_SMTP_HELLO:
		return smtp_hello(ld, n, &st->u.smtp);
	case STEP_SMTP_AUTH:
		return smtp_auth(ld, n, &st->u.smtp);
	default:
		return smtp_send(ld, n, &st->u.smtp);
	}
}

/* msg: a message number, or a string with variables. */
static int msg_number(struct sload *ld, const struct ytree_node *n,
		      struct step_pop3 *p)
{
	const struct ytree_node *v;
	unsigned long u;
	if (sload_need(ld, n, "msg", &v) != 0 ||
	    sload_str(ld, v, "msg", &p->msg) != 0)
		return -1;
	if (p->msg.has_vars)
		return 0;
	return sload_uint(ld, v, "msg", 1, 4294967295ul, &u);
}

static int opt_name(struct sload *ld, const struct ytree_node *n,
		    const char *key, char *out)
{
	const struct ytree_node *v = ytree_map_get(n, key);
	return v != NULL ? sload_name(ld, v, key, out) : 0;
}

int sload_pop3_step(struct sload *ld, const struct ytree_node *n,
		    struct scenario_step *st)
{
	static const char *const login[] = {"user", "pass", "greeting", NULL};
	static const char *const stat[] = {"capture_count", "capture_size",
					   NULL};
	static const char *const retr[] = {"msg", "capture", NULL};
	static const char *const dele[] = {"msg", NULL};
	static const char *const none[] = {NULL};
	struct step_pop3 *p = &st->u.pop3;
	const char *name = scenario_step_name(st->kind);

	switch (st->kind) {
	case STEP_POP3_LOGIN:
		if (sload_map(ld, n, name, login, false) != 0 ||
		    need_str(ld, n, "user", &p->user) != 0 ||
		    need_str(ld, n, "pass", &p->pass) != 0)
			return -1;
		return opt_bool(ld, n, "greeting", true, &p->greeting);
	case STEP_POP3_STAT:
		if (sload_map(ld, n, name, stat, true) != 0 ||
		    opt_name(ld, n, "capture_count", p->capture_count) != 0)
			return -1;
		return opt_name(ld, n, "capture_size", p->capture_size);
	case STEP_POP3_RETR:
		if (sload_map(ld, n, name, retr, false) != 0 ||
		    msg_number(ld, n, p) != 0)
			return -1;
		return opt_name(ld, n, "capture", p->capture);
	case STEP_POP3_DELE:
		if (sload_map(ld, n, name, dele, false) != 0)
			return -1;
		return msg_number(ld, n, p);
	default:
		return sload_map(ld, n, name, none, true);
	}
}

/* A header field name (RFC 5322 3.6.8): printable ASCII but ':'. */
static int field_name(struct sload *ld, const struct ytree_node *k,
		      const char *key, char **out)
{
	bool ok = k->kind == YTREE_SCALAR && k->len > 0 && k->len <= 200 &&
		  strlen(k->value) == k->len;
	for (size_t i = 0; ok && i < k->len; i++)
		ok = k->value[i] > 0x20 && k->value[i] < 0x7f &&
		     k->value[i] != ':';
	if (!ok)
		return sload_expected(ld, k, key, "a header field name");
	if ((*out = strdup(k->value)) == NULL)
		return sload_error(ld, k, "out of memory");
	return 0;
}

static int check_headers(struct sload *ld, const struct ytree_node *v,
			 struct step_check_message *c)
{
	if (v->kind != YTREE_MAP || ytree_len(v) == 0)
		return sload_expected(ld, v, "header",
				      "a map of field names to values");
	if ((c->header = calloc(ytree_len(v), sizeof(*c->header))) == NULL)
		return sload_error(ld, v, "out of memory");
	for (size_t i = 0; i < ytree_len(v); i++) {
		if (field_name(ld, ytree_map_key_at(v, i), "header",
			       &c->header[i].name) != 0)
			return -1;
		c->n_header = i + 1;
		if (sload_str(ld, ytree_map_value_at(v, i), "header",
			      &c->header[i].value) != 0)
			return -1;
	}
	return 0;
}

static int check_headers_re(struct sload *ld, const struct ytree_node *v,
			    struct step_check_message *c)
{
	if (v->kind != YTREE_MAP || ytree_len(v) == 0)
		return sload_expected(ld, v, "header_re",
				      "a map of field names to regexes");
	c->header_re = calloc(ytree_len(v), sizeof(*c->header_re));
	if (c->header_re == NULL)
		return sload_error(ld, v, "out of memory");
	for (size_t i = 0; i < ytree_len(v); i++) {
		if (field_name(ld, ytree_map_key_at(v, i), "header_re",
			       &c->header_re[i].name) != 0)
			return -1;
		c->n_header_re = i + 1;
		if (sload_re(ld, ytree_map_value_at(v, i), "header_re", 0,
			     &c->header_re[i].re) != 0)
			return -1;
	}
	return 0;
}

static int check_counts(struct sload *ld, const struct ytree_node *v,
			struct step_check_message *c)
{
	if (v->kind != YTREE_MAP || ytree_len(v) == 0)
		return sload_expected(ld, v, "header_count",
				      "a map of field names to counts");
	c->header_count = calloc(ytree_len(v), sizeof(*c->header_count));
	if (c->header_count == NULL)
		return sload_error(ld, v, "out of memory");
	for (size_t i = 0; i < ytree_len(v); i++) {
		struct check_count *k = &c->header_count[i];
		if (field_name(ld, ytree_map_key_at(v, i), "header_count",
			       &k->name) != 0)
			return -1;
		c->n_header_count = i + 1;
		if (sload_uint(ld, ytree_map_value_at(v, i), "header_count", 0,
			       1000, &k->n) != 0)
			return -1;
	}
	return 0;
}

int sload_check_message(struct sload *ld, const struct ytree_node *n,
			struct scenario_step *st)
{
	static const char *const keys[] = {
		"message",     "header",       "header_re", "first_header",
		"body_equals", "header_count", NULL};
	struct step_check_message *c = &st->u.check;
	const struct ytree_node *v;

	if (sload_map(ld, n, "check_message", keys, false) != 0 ||
	    need_str(ld, n, "message", &c->message) != 0)
		return -1;
	if ((v = ytree_map_get(n, "header")) != NULL &&
	    check_headers(ld, v, c) != 0)
		return -1;
	if ((v = ytree_map_get(n, "header_re")) != NULL &&
	    check_headers_re(ld, v, c) != 0)
		return -1;
	if ((v = ytree_map_get(n, "first_header")) != NULL &&
	    field_name(ld, v, "first_header", &c->first_header) != 0)
		return -1;
	if ((v = ytree_map_get(n, "body_equals")) != NULL &&
	    sload_str(ld, v, "body_equals", &c->body_equals) != 0)
		return -1;
	if ((v = ytree_map_get(n, "header_count")) != NULL &&
	    check_counts(ld, v, c) != 0)
		return -1;
	return 0;
}
