/*
 * runner_check.c - the check_message step (docs/scenarios.md, "Checks on
 * captured mail"): a message split into its header fields (RFC 5322 2.2:
 * name ":" value, folded lines unfolded per 2.2.3) and its body (after the
 * first empty line, 2.1), then fields (and how many of a name there
 * are) and body compared. Line ends are
 * compared as CRLF on both sides (a scenario's YAML has LF).
 */
#include "buf.h"
#include "runner_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FIELDS_MAX 10000

struct field {
	char *name;
	char *value; /* unfolded, without leading and trailing blanks */
};

struct message {
	struct field *f;
	size_t n;
	const char *body;
	size_t body_len;
};

static void message_free(struct message *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->f[i].name);
		free(m->f[i].value);
	}
	free(m->f);
}

/* One field from the lines at p (len bytes): returns bytes used. */
static size_t parse_field(const char *p, size_t len, struct field *f)
{
	size_t end = 0, o = 0;
	/* the field ends at a line end not followed by a blank */
	for (;;) {
		const char *lf = memchr(p + end, '\n', len - end);
		end = lf != NULL ? (size_t)(lf - p) + 1 : len;
		if (end >= len || (p[end] != ' ' && p[end] != '\t'))
			break;
	}
	const char *colon = memchr(p, ':', end);
	size_t nl = colon != NULL ? (size_t)(colon - p) : 0;
	f->name = strndup(p, nl);
	f->value = malloc(end + 1);
	if (f->name == NULL || f->value == NULL)
		return 0;
	for (size_t i = colon != NULL ? nl + 1 : end; i < end; i++)
		if (p[i] != '\r' && p[i] != '\n')
			f->value[o++] = p[i];
	while (o > 0 && (f->value[o - 1] == ' ' || f->value[o - 1] == '\t'))
		o--;
	f->value[o] = '\0';
	size_t lead = strspn(f->value, " \t");
	memmove(f->value, f->value + lead, o - lead + 1);
	return end;
}

static int message_parse(const char *p, size_t len, struct message *m)
{
	size_t at = 0;
	memset(m, 0, sizeof(*m));
	if ((m->f = calloc(FIELDS_MAX, sizeof(*m->f))) == NULL)
		return -1;
	while (at < len && m->n < FIELDS_MAX) {
		if (p[at] == '\n' ||
		    (p[at] == '\r' && at + 1 < len && p[at + 1] == '\n')) {
			at += p[at] == '\n' ? 1 : 2; /* the empty line */
			break;
		}
		size_t used = parse_field(p + at, len - at, &m->f[m->n]);
		m->n++;
		if (used == 0)
			return -1;
		at += used;
	}
	m->body = p + at;
	m->body_len = len - at;
	return 0;
}

/* s with bare LF made CRLF and one final CRLF dropped, for comparing. */
static int canonical(const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r') &&
		    buf_append(out, "\r", 1) != 0)
			return -1;
		if (buf_append(out, &s[i], 1) != 0)
			return -1;
	}
	if (buf_len(out) >= 2 &&
	    memcmp(buf_data(out) + buf_len(out) - 2, "\r\n", 2) == 0)
		out->len -= 2;
	return 0;
}

static int check_body(struct runner *r, const struct message *m,
		      const struct scenario_str *want_s)
{
	struct buf a, b;
	struct expect_why why;
	char *want;
	size_t wl;
	int rc = runner_expand(r, want_s, &want, &wl);

	if (rc != RUN_OK)
		return rc;
	buf_init(&a, 2 * VARS_VALUE_MAX);
	buf_init(&b, 2 * VARS_VALUE_MAX);
	if (canonical(m->body, m->body_len, &a) != 0 ||
	    canonical(want, wl, &b) != 0)
		rc = runner_error(r, "out of memory");
	else if (buf_len(&a) != buf_len(&b) ||
		 memcmp(buf_data(&a), buf_data(&b), buf_len(&a)) != 0) {
		transcript_escape_str(why.expected, sizeof(why.expected), want,
				      wl);
		transcript_escape_str(why.got, sizeof(why.got), m->body,
				      m->body_len);
		rc = runner_mismatch(r, "body_equals", &why);
	}
	free(want);
	buf_free(&a);
	buf_free(&b);
	return rc;
}

/* A field named name whose value equals want (or matches re). */
static bool has_field(const struct message *m, const char *name,
		      const char *want, const regex_t *re)
{
	for (size_t i = 0; i < m->n; i++) {
		const char *v = m->f[i].value;
		if (strcasecmp(m->f[i].name, name) != 0)
			continue;
		if (want != NULL && strcmp(v, want) == 0)
			return true;
		if (re != NULL && scenario_re_exec(re, v, strlen(v), 0, NULL))
			return true;
	}
	return false;
}

static void show_fields(const struct message *m, const char *name,
			struct expect_why *why)
{
	size_t o = 0;
	why->got[0] = '\0';
	for (size_t i = 0; i < m->n && o < sizeof(why->got) / 2; i++)
		if (strcasecmp(m->f[i].name, name) == 0)
			o += (size_t)snprintf(why->got + o,
					      sizeof(why->got) - o,
					      "%s%s: %.300s", o ? "; " : "",
					      m->f[i].name, m->f[i].value);
	if (o == 0)
		snprintf(why->got, sizeof(why->got), "no %s field", name);
}

static int check_fields(struct runner *r, const struct step_check_message *c,
			const struct message *m)
{
	struct expect_why why;
	for (size_t i = 0; i < c->n_header; i++) {
		char *want;
		int rc = runner_expand(r, &c->header[i].value, &want, NULL);
		if (rc != RUN_OK)
			return rc;
		bool ok = has_field(m, c->header[i].name, want, NULL);
		snprintf(why.expected, sizeof(why.expected), "%s: %s",
			 c->header[i].name, want);
		free(want);
		if (!ok) {
			show_fields(m, c->header[i].name, &why);
			return runner_mismatch(r, "header", &why);
		}
	}
	for (size_t i = 0; i < c->n_header_re; i++) {
		struct expect_re re;
		if (expect_re_get(&c->header_re[i].re, r->vars, &re, &why))
			return runner_error(r, "%s", why.expected);
		bool ok = has_field(m, c->header_re[i].name, NULL, re.re);
		expect_re_put(&re);
		if (!ok) {
			snprintf(why.expected, sizeof(why.expected),
				 "%s matching /%s/", c->header_re[i].name,
				 c->header_re[i].re.src.s);
			show_fields(m, c->header_re[i].name, &why);
			return runner_mismatch(r, "header_re", &why);
		}
	}
	return RUN_OK;
}

static int check_counts(struct runner *r, const struct step_check_message *c,
			const struct message *m)
{
	struct expect_why why;
	for (size_t i = 0; i < c->n_header_count; i++) {
		const struct check_count *k = &c->header_count[i];
		unsigned long n = 0;
		for (size_t j = 0; j < m->n; j++)
			n += strcasecmp(m->f[j].name, k->name) == 0;
		if (n == k->n)
			continue;
		snprintf(why.expected, sizeof(why.expected), "%lu %s field%s",
			 k->n, k->name, k->n == 1 ? "" : "s");
		show_fields(m, k->name, &why);
		return runner_mismatch(r, "header_count", &why);
	}
	return RUN_OK;
}

int runner_do_check_message(struct runner *r, const struct scenario_step *st)
{
	const struct step_check_message *c = &st->u.check;
	struct message m;
	struct expect_why why;
	char *msg;
	size_t len;
	int rc = runner_expand(r, &c->message, &msg, &len);

	if (rc != RUN_OK)
		return rc;
	if (message_parse(msg, len, &m) != 0)
		rc = runner_error(r, "out of memory");
	if (rc == RUN_OK)
		rc = check_fields(r, c, &m);
	if (rc == RUN_OK)
		rc = check_counts(r, c, &m);
	if (rc == RUN_OK && c->first_header != NULL &&
	    (m.n == 0 || strcasecmp(m.f[0].name, c->first_header) != 0)) {
		snprintf(why.expected, sizeof(why.expected),
			 "%s as the first field", c->first_header);
		snprintf(why.got, sizeof(why.got), "%.300s",
			 m.n > 0 ? m.f[0].name : "no header fields");
		rc = runner_mismatch(r, "first_header", &why);
	}
	if (rc == RUN_OK && c->body_equals.s != NULL)
		rc = check_body(r, &m, &c->body_equals);
	message_free(&m);
	free(msg);
	return rc;
}
