/*
 * runner.c - running one scenario (see runner.h): variables set up from
 * the target, ${unique} and vars:, then the steps in order; control steps
 * (sleep, repeat, set, wait_until) here, the others in runner_io.c,
 * runner_expect.c, runner_high.c and runner_check.c. The first step that
 * fails ends the scenario, with "step N 'kind': ..." as the reason.
 */
#include "buf.h"
#include "runner_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>

static int vfail(struct runner *r, int res, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static int vfail(struct runner *r, int res, const char *fmt, va_list ap)
{
	char msg[1800];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (r->step != NULL)
		snprintf(r->reason, sizeof(r->reason), "step %s '%s': %s",
			 r->step->label, scenario_step_name(r->step->kind),
			 msg);
	else
		snprintf(r->reason, sizeof(r->reason), "%s", msg);
	transcript_line(&r->tr, "%s %s", res == RUN_FAIL ? "FAIL" : "ERROR",
			r->reason);
	return res;
}

int runner_fail(struct runner *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(r, RUN_FAIL, fmt, ap);
	va_end(ap);
	return RUN_FAIL;
}

int runner_error(struct runner *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(r, RUN_ERROR, fmt, ap);
	va_end(ap);
	return RUN_ERROR;
}

int runner_mismatch(struct runner *r, const char *what,
		    const struct expect_why *why)
{
	transcript_line(&r->tr, "expected: %s", why->expected);
	transcript_line(&r->tr, "got: %s", why->got);
	if (what != NULL)
		return runner_fail(r, "%s: expected %s, got %s", what,
				   why->expected, why->got);
	return runner_fail(r, "expected %s, got %s", why->expected, why->got);
}

int runner_verdict(struct runner *r, const char *what, int verdict,
		   const struct expect_why *why)
{
	if (verdict == EXPECT_PASS)
		return RUN_OK;
	if (verdict == EXPECT_ERROR)
		return runner_error(r, "%s", why->expected);
	return runner_mismatch(r, what, why);
}

long long runner_deadline(const struct runner *r, unsigned within_ms)
{
	long long d = net_now_ms() + within_ms;
	return d < r->deadline ? d : r->deadline;
}

int runner_expand(struct runner *r, const struct scenario_str *s, char **out_r,
		  size_t *len_r)
{
	char err[256];
	*out_r = vars_expand_dup(r->vars, s->s, s->len, VARS_RAW, len_r, err,
				 sizeof(err));
	if (*out_r == NULL)
		return runner_error(r, "%s (line %u)", err, s->line);
	return RUN_OK;
}

static void sleep_ms(long long ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int do_sleep(struct runner *r, unsigned ms)
{
	long long left = r->deadline - net_now_ms();
	if ((long long)ms > left) {
		sleep_ms(left > 0 ? left : 0);
		return runner_error(r, "the scenario's timeout (%u s) passed",
				    r->timeout_s);
	}
	sleep_ms(ms);
	return RUN_OK;
}

static int do_set(struct runner *r, const struct scenario_step *st)
{
	for (size_t i = 0; i < st->u.ctl.n_set; i++) {
		const struct scenario_pair *p = &st->u.ctl.set[i];
		char *val;
		size_t len;
		int rc = runner_expand(r, &p->value, &val, &len);
		if (rc != RUN_OK)
			return rc;
		rc = vars_set(r->vars, p->name, val, len);
		free(val);
		if (rc != 0)
			return runner_error(r, "cannot set '%s': %s", p->name,
					    strerror(errno));
	}
	return RUN_OK;
}

static int do_repeat(struct runner *r, const struct scenario_step *st)
{
	char old[32], num[24];
	const char *prev = vars_get(r->vars, "i", NULL);
	int rc = RUN_OK;

	snprintf(old, sizeof(old), "%s", prev != NULL ? prev : "");
	for (unsigned long i = 1; i <= st->u.ctl.times && rc == RUN_OK; i++) {
		snprintf(num, sizeof(num), "%lu", i);
		if (vars_set_str(r->vars, "i", num) != 0)
			return runner_error(r, "out of memory");
		rc = runner_steps(r, &st->u.ctl.steps);
	}
	if (prev != NULL)
		vars_set_str(r->vars, "i", old);
	else
		vars_unset(r->vars, "i");
	return rc;
}

/* Close the sessions a failed wait_until attempt opened. */
static void close_new_sessions(struct runner *r, const bool *was_open)
{
	for (size_t i = 0; i < RUNNER_MAX_SESSIONS; i++)
		if (r->sessions[i].used && !was_open[i])
			runner_close(r, &r->sessions[i]);
}

static int do_wait_until(struct runner *r, const struct scenario_step *st)
{
	long long end = net_now_ms() + st->u.ctl.limit_ms;
	const struct scenario_step *self = r->step;
	bool was_open[RUNNER_MAX_SESSIONS];
	unsigned attempt = 0;
	int rc;

	for (size_t i = 0; i < RUNNER_MAX_SESSIONS; i++)
		was_open[i] = r->sessions[i].used;
	for (;;) {
		attempt++;
		rc = runner_steps(r, &st->u.ctl.steps);
		if (rc != RUN_FAIL)
			return rc;
		r->step = self;
		close_new_sessions(r, was_open);
		if (net_now_ms() + st->u.ctl.every_ms >= end ||
		    net_now_ms() + st->u.ctl.every_ms >= r->deadline)
			break;
		transcript_line(&r->tr,
				"-- step %s 'wait_until': attempt %u "
				"failed, retrying",
				self->label, attempt);
		sleep_ms(st->u.ctl.every_ms);
	}
	char last[sizeof(r->reason)];
	snprintf(last, sizeof(last), "%s", r->reason);
	return runner_fail(r,
			   "no success in %u attempts within %u.%03u s; "
			   "last: %s",
			   attempt, st->u.ctl.limit_ms / 1000,
			   st->u.ctl.limit_ms % 1000, last);
}

static int run_step(struct runner *r, const struct scenario_step *st)
{
	r->step = st;
	r->step_rx = 0;
	if (net_now_ms() >= r->deadline)
		return runner_error(r, "the scenario's timeout (%u s) passed",
				    r->timeout_s);
	switch (st->kind) {
	case STEP_CONNECT:
		return runner_do_connect(r, st);
	case STEP_STARTTLS:
		return runner_do_starttls(r, st);
	case STEP_CLOSE:
		return runner_do_close(r, st);
	case STEP_EXPECT_CLOSE:
		return runner_do_expect_close(r, st);
	case STEP_SEND:
	case STEP_SENDLINE:
		return runner_do_send(r, st);
	case STEP_EXPECT:
		return runner_do_expect(r, st);
	case STEP_SMTP_HELLO:
	case STEP_SMTP_AUTH:
	case STEP_SMTP_SEND:
		return runner_do_smtp(r, st);
	case STEP_CHECK_MESSAGE:
		return runner_do_check_message(r, st);
	case STEP_SLEEP:
		return do_sleep(r, st->u.ctl.ms);
	case STEP_REPEAT:
		return do_repeat(r, st);
	case STEP_SET:
		return do_set(r, st);
	case STEP_WAIT_UNTIL:
		return do_wait_until(r, st);
	default:
		return runner_do_pop3(r, st);
	}
}

int runner_steps(struct runner *r, const struct scenario_steps *steps)
{
	for (size_t i = 0; i < steps->n; i++) {
		int rc = run_step(r, &steps->v[i]);
		if (rc != RUN_OK)
			return rc;
	}
	return RUN_OK;
}

static int setup_vars(struct runner *r)
{
	const struct scenario *sc = r->sc;
	if ((r->vars = vars_new()) == NULL ||
	    target_set_vars(r->opt->target, r->vars) != 0 ||
	    vars_set_str(r->vars, "unique", r->opt->unique) != 0)
		return runner_error(r, "out of memory");
	for (size_t i = 0; i < sc->n_vars; i++) {
		char *val;
		size_t len;
		if (runner_expand(r, &sc->vars[i].value, &val, &len) != RUN_OK)
			return RUN_ERROR;
		int rc = vars_set(r->vars, sc->vars[i].name, val, len);
		free(val);
		if (rc != 0)
			return runner_error(r, "vars: cannot set '%s'",
					    sc->vars[i].name);
	}
	return RUN_OK;
}

static char *dup_text(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

void runner_run(const struct scenario *sc, const struct runner_options *opt,
		struct runner_outcome *out)
{
	static const enum result_status st[] = {RESULT_PASS, RESULT_FAIL,
						RESULT_ERROR};
	struct runner *r = calloc(1, sizeof(*r));
	long long t0 = net_now_ms();
	int rc;

	memset(out, 0, sizeof(*out));
	if (r == NULL) {
		out->status = RESULT_ERROR;
		out->reason = strdup("out of memory");
		return;
	}
	r->sc = sc;
	r->opt = opt;
	r->timeout_s = opt->timeout_s ? opt->timeout_s : sc->timeout_s;
	r->deadline = t0 + (long long)r->timeout_s * 1000;
	transcript_init(&r->tr);
	for (size_t i = 0; i < RUNNER_MAX_SESSIONS; i++)
		net_conn_init(&r->sessions[i].conn);
	rc = setup_vars(r);
	if (rc == RUN_OK)
		rc = runner_steps(r, &sc->steps);
	for (size_t i = 0; i < RUNNER_MAX_SESSIONS; i++)
		if (r->sessions[i].used)
			runner_close(r, &r->sessions[i]);
	out->status = st[rc];
	out->seconds = (double)(net_now_ms() - t0) / 1000.0;
	if (rc != RUN_OK)
		out->reason = dup_text(r->reason);
	if (rc != RUN_OK || opt->keep_transcript)
		out->transcript = dup_text(transcript_text(&r->tr));
	transcript_free(&r->tr);
	vars_free(&r->vars);
	SSL_CTX_free(r->tls);
	free(r);
}

void runner_outcome_free(struct runner_outcome *o)
{
	free(o->reason);
	free(o->transcript);
	memset(o, 0, sizeof(*o));
}

char *runner_skip_reason(const struct scenario *sc, const struct target *t)
{
	struct buf b;
	char *s = NULL;

	if (sc->quilld_config != NULL && t->quilld == NULL) {
		if (asprintf(&s,
			     "needs quilld_config (a per-scenario quilld "
			     "setting); target %s is not the embedded quilld",
			     t->name) < 0)
			s = NULL;
		return s != NULL ? s : strdup("needs the embedded quilld");
	}
	buf_init(&b, 65536);
	for (size_t i = 0; i < sc->n_requires; i++)
		if (!target_has_cap(t, sc->requires[i]) &&
		    buf_printf(&b, "%s%s", buf_len(&b) ? ", " : "",
			       sc->requires[i]) != 0)
			break;
	if (buf_len(&b) == 0) {
		buf_free(&b);
		return NULL;
	}
	if (buf_append(&b, "", 1) == 0 &&
	    asprintf(&s, "target %s lacks %s", t->name,
		     (const char *)buf_data(&b)) < 0)
		s = NULL;
	buf_free(&b);
	return s != NULL ? s : strdup("target lacks a required capability");
}
