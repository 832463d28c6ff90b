/*
 * fuzz_scenario.c - libFuzzer target for the scenario loader (harness/
 * scenario.h): arbitrary bytes are loaded as a scenario file (through
 * ytree_load_string). A load either fails with a message, or gives a
 * scenario whose invariants hold: step labels set, the step limit and the
 * nesting limit kept, every string's variables expandable or reported,
 * and every compiled regex usable. Freeing must leave nothing behind.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "vars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const struct vars *v, const struct scenario_str *s)
{
	char err[256];
	size_t len = 0;
	char *out;

	if (s->s == NULL)
		return;
	if (s->s[s->len] != '\0')
		abort();
	out = vars_expand_dup(v, s->s, s->len, VARS_RAW, &len, err,
			      sizeof(err));
	if (out == NULL && err[0] == '\0')
		abort();
	free(out);
}

static void check_re(const struct scenario_re *re)
{
	if (re->compiled)
		scenario_re_exec(&re->re, "250 OK\r\n", 8, 0, NULL);
}

static void walk(const struct vars *v, const struct scenario_steps *steps,
		 unsigned depth, size_t *count)
{
	if (depth > SCENARIO_MAX_NESTING)
		abort();
	for (size_t i = 0; i < steps->n; i++) {
		const struct scenario_step *st = &steps->v[i];
		(*count)++;
		if (st->label[0] == '\0' || st->line == 0)
			abort();
		switch (st->kind) {
		case STEP_SEND:
		case STEP_SENDLINE:
			check_str(v, &st->u.send.data);
			break;
		case STEP_EXPECT:
			check_str(v, &st->u.expect.text);
			check_re(&st->u.expect.text_re);
			for (size_t k = 0; k < st->u.expect.n_captures; k++)
				check_re(&st->u.expect.captures[k].re);
			break;
		case STEP_REPEAT:
		case STEP_WAIT_UNTIL:
			walk(v, &st->u.ctl.steps, depth + 1, count);
			break;
		default:
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scenario_error err;
	struct scenario *s;
	char buf[2200];
	size_t count = 0;

	s = scenario_load_string("fuzz.yaml", (const char *)data, size, NULL,
				 &err);
	if (s == NULL) {
		if (err.message[0] == '\0')
			abort();
		scenario_error_format(&err, buf, sizeof(buf));
		return 0;
	}
	struct vars *v = vars_new();
	if (v == NULL)
		abort();
	vars_set_str(v, "user1", "alice");
	vars_set_str(v, "target.host", "127.0.0.1");
	walk(v, &s->steps, 0, &count);
	if (count != s->total_steps || count > SCENARIO_MAX_STEPS ||
	    s->steps.n == 0 || s->id == NULL || s->n_rfc == 0)
		abort();
	vars_free(&v);
	scenario_free(&s);
	if (s != NULL)
		abort();
	return 0;
}
