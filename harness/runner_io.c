/*
 * runner_io.c - the runner's connection steps (connect, starttls, close,
 * expect_close) and sending (send, sendline), and the session helpers the
 * other steps share: every read and write recorded in the transcript and
 * bounded by the step's deadline.
 */
#include "buf.h"
#include "runner_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEND_PIECE 65536 /* bytes per write of a large send */

static struct runner_session *find_session(struct runner *r, const char *name)
{
	for (size_t i = 0; i < RUNNER_MAX_SESSIONS; i++)
		if (r->sessions[i].used &&
		    strcmp(r->sessions[i].name, name) == 0)
			return &r->sessions[i];
	return NULL;
}

int runner_session(struct runner *r, const char *name,
		   struct runner_session **s_r)
{
	if ((*s_r = find_session(r, name)) == NULL)
		return runner_error(r,
				    "session '%s' is not connected (expected "
				    "a connect step first)",
				    name);
	return RUN_OK;
}

void runner_close(struct runner *r, struct runner_session *s)
{
	(void)r;
	net_close(&s->conn);
	net_conn_init(&s->conn);
	s->used = false;
}

/* The step waited `within` in vain: for more data, or for the rest of
 * what came during the step. */
static int timed_out(struct runner *r, struct runner_session *s,
		     const char *expected)
{
	unsigned ms = r->step->within_ms;
	if (r->step_rx == 0) {
		transcript_note(&r->tr, s->name, "nothing within %u.%03u s",
				ms / 1000, ms % 1000);
		return runner_fail(r,
				   "expected %s, got nothing within "
				   "%u.%03u s",
				   expected, ms / 1000, ms % 1000);
	}
	transcript_note(&r->tr, s->name, "no more within %u.%03u s", ms / 1000,
			ms % 1000);
	return runner_fail(r,
			   "expected %s, got %zu bytes in %u.%03u s and "
			   "not what was expected",
			   expected, r->step_rx, ms / 1000, ms % 1000);
}

int runner_fill(struct runner *r, struct runner_session *s, long long deadline,
		const char *expected, unsigned flags, int *res_r)
{
	char err[300];
	size_t n = 0;
	bool was_eof = s->conn.eof;
	int rc = net_read(&s->conn, deadline, &n, err, sizeof(err));

	*res_r = RUN_OK;
	if (rc == NET_OK) {
		const struct buf *in = &s->conn.in;
		r->step_rx += n;
		transcript_data(&r->tr, s->name, 'S', in->data + in->len - n,
				n);
		return rc;
	}
	if (rc == NET_EOF) {
		if (!was_eof) /* noted once, when it happens */
			transcript_note(&r->tr, s->name, "%s",
					s->conn.reset ? "connection reset by "
							"the server"
						      : "connection closed by "
							"the server");
		if (!(flags & RUNNER_FILL_EOF_OK))
			*res_r = runner_fail(r,
					     "expected %s, got the connection "
					     "closed",
					     expected);
	} else if (rc == NET_TIMEOUT && net_now_ms() >= r->deadline) {
		*res_r = runner_error(r,
				      "the scenario's timeout (%u s) passed "
				      "waiting for %s",
				      r->timeout_s, expected);
	} else if (rc == NET_TIMEOUT && (flags & RUNNER_FILL_TIMEOUT_OK)) {
		return rc;
	} else if (rc == NET_TIMEOUT) {
		*res_r = timed_out(r, s, expected);
	} else {
		*res_r = runner_fail(r, "expected %s, got an error: %s",
				     expected, err);
	}
	return rc;
}

int runner_send(struct runner *r, struct runner_session *s, const void *data,
		size_t len, long long deadline)
{
	char err[300];
	int rc;
	transcript_data(&r->tr, s->name, 'C', data, len);
	rc = net_write(&s->conn, data, len, deadline, err, sizeof(err));
	if (rc == NET_OK)
		return RUN_OK;
	if (rc == NET_TIMEOUT && net_now_ms() >= r->deadline)
		return runner_error(r,
				    "the scenario's timeout (%u s) passed "
				    "while sending",
				    r->timeout_s);
	if (rc == NET_TIMEOUT)
		return runner_fail(r,
				   "the server did not take our data "
				   "within %u.%03u s",
				   r->step->within_ms / 1000,
				   r->step->within_ms % 1000);
	return runner_fail(r, "cannot send: %s", err);
}

static int tls_ctx(struct runner *r)
{
	const struct target *t = r->opt->target;
	char err[300];
	if (r->tls != NULL)
		return RUN_OK;
	r->tls = net_tls_ctx_new(t->ca_file, t->tls_verify, err, sizeof(err));
	if (r->tls == NULL)
		return runner_error(r, "TLS setup for target %s: %s", t->name,
				    err);
	return RUN_OK;
}

static int handshake(struct runner *r, struct runner_session *s,
		     long long deadline)
{
	char err[400];
	size_t dropped = 0;
	int rc = tls_ctx(r);
	if (rc != RUN_OK)
		return rc;
	rc = net_tls_start(&s->conn, r->tls, "localhost", deadline, &dropped,
			   err, sizeof(err));
	if (dropped > 0)
		transcript_note(&r->tr, s->name,
				"dropped %zu bytes received "
				"before the TLS handshake",
				dropped);
	if (rc == NET_OK) {
		transcript_note(&r->tr, s->name, "TLS established (%s)",
				s->conn.tls_info);
		return RUN_OK;
	}
	transcript_note(&r->tr, s->name, "TLS handshake failed");
	if (rc == NET_TIMEOUT)
		return runner_fail(r, "TLS handshake: no answer in time");
	return runner_fail(r, "%s", err);
}

static struct runner_session *new_session(struct runner *r, const char *name)
{
	for (size_t i = 0; i < RUNNER_MAX_SESSIONS; i++) {
		struct runner_session *s = &r->sessions[i];
		if (s->used)
			continue;
		memset(s->name, 0, sizeof(s->name));
		snprintf(s->name, sizeof(s->name), "%s", name);
		net_conn_init(&s->conn);
		return s;
	}
	return NULL;
}

int runner_do_connect(struct runner *r, const struct scenario_step *st)
{
	const struct target *t = r->opt->target;
	const struct target_service *svc;
	struct runner_session *s;
	long long deadline = runner_deadline(r, st->within_ms);
	char err[300];
	int rc;

	if (find_session(r, st->session) != NULL)
		return runner_error(r, "session '%s' is already connected",
				    st->session);
	if ((svc = target_service(t, st->u.connect.service)) == NULL)
		return runner_error(r,
				    "target %s has no service '%s' (list it "
				    "in the scenario's requires:)",
				    t->name, st->u.connect.service);
	if ((s = new_session(r, st->session)) == NULL)
		return runner_error(r, "more than %d sessions",
				    RUNNER_MAX_SESSIONS);
	snprintf(s->service, sizeof(s->service), "%s", svc->name);
	rc = net_connect(&s->conn, t->host, svc->port, deadline, err,
			 sizeof(err));
	if (rc != NET_OK) {
		net_close(&s->conn);
		return runner_fail(r, "%s", err);
	}
	s->used = true;
	transcript_note(&r->tr, s->name, "connected to %s (%s)", s->conn.peer,
			svc->name);
	enum scenario_tls mode = st->u.connect.tls;
	if (mode == SCENARIO_TLS_IMPLICIT ||
	    (mode == SCENARIO_TLS_DEFAULT && svc->tls == TARGET_TLS_IMPLICIT))
		return handshake(r, s, deadline);
	return RUN_OK;
}

int runner_do_starttls(struct runner *r, const struct scenario_step *st)
{
	struct runner_session *s;
	int rc = runner_session(r, st->session, &s);
	if (rc != RUN_OK)
		return rc;
	if (s->conn.ssl != NULL)
		return runner_error(r, "session '%s' already uses TLS",
				    s->name);
	return handshake(r, s, runner_deadline(r, st->within_ms));
}

int runner_do_close(struct runner *r, const struct scenario_step *st)
{
	struct runner_session *s;
	int rc = runner_session(r, st->session, &s);
	if (rc != RUN_OK)
		return rc;
	transcript_note(&r->tr, s->name, "closed by the client");
	runner_close(r, s);
	return RUN_OK;
}

int runner_do_expect_close(struct runner *r, const struct scenario_step *st)
{
	long long deadline = runner_deadline(r, st->within_ms);
	struct runner_session *s;
	int rc = runner_session(r, st->session, &s), res;

	while (rc == RUN_OK) {
		struct buf *in = &s->conn.in;
		if (buf_len(in) > 0 && !st->allow_data) {
			char got[400];
			transcript_escape_str(got, sizeof(got), buf_data(in),
					      buf_len(in));
			struct expect_why why;
			snprintf(why.expected, sizeof(why.expected),
				 "the connection closed");
			snprintf(why.got, sizeof(why.got), "data '%s'", got);
			return runner_mismatch(r, NULL, &why);
		}
		buf_clear(in);
		if (s->conn.eof)
			break;
		if (runner_fill(r, s, deadline, "the connection closed",
				RUNNER_FILL_EOF_OK, &res) == NET_EOF)
			break;
		if (res != RUN_OK)
			return res;
	}
	if (rc == RUN_OK)
		runner_close(r, s);
	return rc;
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Send len bytes in pieces of chunk (0: large pieces), pausing between. */
static int send_chunked(struct runner *r, struct runner_session *s,
			const char *p, size_t len, const struct step_send *ss,
			bool *first)
{
	size_t piece = ss->chunk > 0 ? ss->chunk : SEND_PIECE;
	while (len > 0) {
		size_t n = len < piece ? len : piece;
		if (!*first && ss->pause_ms > 0) {
			if (net_now_ms() + ss->pause_ms >= r->deadline)
				return runner_error(r,
						    "the scenario's timeout "
						    "(%u s) passed",
						    r->timeout_s);
			pause_ms(ss->pause_ms);
		}
		*first = false;
		int rc = runner_send(r, s, p, n,
				     runner_deadline(r, r->step->within_ms));
		if (rc != RUN_OK)
			return rc;
		p += n;
		len -= n;
	}
	return RUN_OK;
}

static int read_file(struct runner *r, const char *path, char **out,
		     size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (f == NULL)
		return runner_error(r, "%s: %s", path, strerror(errno));
	buf_init(&b, SCENARIO_MAX_SEND + 1);
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = buf_append(&b, chunk, n);
	if (ferror(f) || rc != 0 || buf_append(&b, "", 1) != 0) {
		fclose(f);
		buf_free(&b);
		return runner_error(r, "%s: cannot read (at most %u bytes)",
				    path, SCENARIO_MAX_SEND);
	}
	fclose(f);
	*len = buf_len(&b) - 1;
	*out = (char *)b.data;
	return RUN_OK;
}

/* TEXT times over, in one buffer (at most SCENARIO_MAX_SEND bytes). */
static int repeat_data(struct runner *r, const struct step_send *ss,
		       char **data, size_t *len)
{
	char *all;
	if (*len > 0 && ss->times > SCENARIO_MAX_SEND / *len) {
		free(*data);
		*data = NULL;
		return runner_error(r, "repeat makes more than %u bytes",
				    SCENARIO_MAX_SEND);
	}
	if ((all = malloc(*len * ss->times + 1)) == NULL) {
		free(*data);
		*data = NULL;
		return runner_error(r, "out of memory");
	}
	for (unsigned long i = 0; i < ss->times; i++)
		memcpy(all + i * *len, *data, *len);
	free(*data);
	*data = all;
	*len *= ss->times;
	return RUN_OK;
}

int runner_do_send(struct runner *r, const struct scenario_step *st)
{
	const struct step_send *ss = &st->u.send;
	struct runner_session *s;
	char *data = NULL;
	size_t len = 0;
	bool first = true;
	int rc = runner_session(r, st->session, &s);

	if (rc == RUN_OK && ss->form == SEND_FILE)
		rc = read_file(r, ss->file, &data, &len);
	else if (rc == RUN_OK)
		rc = runner_expand(r, &ss->data, &data, &len);
	if (rc != RUN_OK)
		return rc;
	if (st->kind == STEP_SENDLINE) {
		char *p = realloc(data, len + 3);
		if (p == NULL) {
			free(data);
			return runner_error(r, "out of memory");
		}
		data = p;
		memcpy(data + len, "\r\n", 3);
		len += 2;
	}
	if (ss->form == SEND_REPEAT &&
	    (rc = repeat_data(r, ss, &data, &len)) != RUN_OK)
		return rc;
	rc = send_chunked(r, s, data, len, ss, &first);
	free(data);
	return rc;
}
