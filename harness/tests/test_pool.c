/*
 * test_pool.c - running many scenarios (runner_pool.c): skips with their
 * reasons, results in list order, a scenario past its timeout, the
 * outcome's encoding over the pipe, and the embedded quilld (a stand-in
 * script) restarted for a scenario's quilld_config and restored after
 * it, also when quilld refuses the fragment.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner.h"
#include "target.h"

static struct target *fake_target(unsigned port)
{
	char y[1024];
	struct scenario_error e;
	snprintf(y, sizeof(y),
		 "name: fake\nhost: 127.0.0.1\ndomain: example.test\n"
		 "tls_verify: false\nservices:\n"
		 "  smtp: { port: %u, tls: starttls }\n"
		 "users:\n  - { name: alice, password: wonderland, "
		 "address: alice@example.test }\n"
		 "capabilities: [smtp, pop3]\n",
		 port);
	struct target *t = target_load_string("fake.yaml", y, strlen(y), &e);
	ck_assert_msg(t != NULL, "%s", e.message);
	return t;
}

START_TEST(pool_skips_and_keeps_order)
{
	static const char *const y[] = {
		"id: p.one\nsummary: s\nrfc: [RFC1-1]\nsteps: [ {sleep: 0} ]\n",
		"id: p.two\nsummary: s\nrfc: [RFC1-1]\nrequires: [imap, smtp]\n"
		"steps: [ {sleep: 0} ]\n",
		"id: p.three\nsummary: s\nrfc: [RFC1-1]\ntimeout: 1\n"
		"steps: [ {sleep: 2} ]\n",
		"id: p.four\nsummary: s\nrfc: [RFC1-1]\n"
		"quilld_config: \"smtp: { command_timeout: 1 }\"\n"
		"steps: [ {sleep: 0} ]\n",
	};
	struct scenario *sc[4];
	struct scenario_error e;
	struct target *t = fake_target(1);
	struct result_set rs;
	struct runner_pool_options po = {.target = t, .root = ".", .jobs = 2};

	for (size_t i = 0; i < 4; i++) {
		sc[i] = scenario_load_string("p.yaml", y[i], strlen(y[i]), NULL,
					     &e);
		ck_assert_msg(sc[i] != NULL, "%s", e.message);
	}
	result_set_init(&rs, "fake");
	ck_assert_int_eq(runner_pool_run(sc, 4, &po, &rs), 0);
	ck_assert_uint_eq(rs.n, 4);
	ck_assert_str_eq(rs.items[0].id, "p.one");
	ck_assert_int_eq(rs.items[0].status, RESULT_PASS);
	ck_assert_int_eq(rs.items[1].status, RESULT_SKIP);
	ck_assert_str_eq(rs.items[1].reason, "target fake lacks imap");
	ck_assert_int_eq(rs.items[2].status, RESULT_ERROR);
	ck_assert_str_eq(rs.items[2].reason, "step 1 'sleep': the scenario's "
					     "timeout (1 s) passed");
	ck_assert_int_eq(rs.items[3].status, RESULT_SKIP);
	ck_assert_str_eq(rs.items[3].reason,
			 "needs quilld_config (a per-scenario quilld setting); "
			 "target fake is not the embedded quilld");
	result_set_free(&rs);
	for (size_t i = 0; i < 4; i++)
		scenario_free(&sc[i]);
	target_free(&t);
}
END_TEST

/* Count the occurrences of needle in the file at path. */
static unsigned count_in_file(const char *path, const char *needle)
{
	char text[65536];
	unsigned n = 0;
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* The embedded quilld (a stand-in script that appends each config it is
 * started with to a file): a scenario with quilld_config restarts it on
 * that config, the next one without restores the normal config, and the
 * others cost no restart. */
START_TEST(pool_quilld_config_restarts)
{
	static const char *const y[] = {
		"id: c.one\nsummary: s\nrfc: [RFC1-1]\nsteps: [ {sleep: 0} ]\n",
		"id: c.two\nsummary: s\nrfc: [RFC1-1]\n"
		"quilld_config: \"smtp: { command_timeout: 1 }\"\n"
		"steps: [ {sleep: 0} ]\n",
		"id: c.three\nsummary: s\nrfc: [RFC1-1]\nsteps: [ {sleep: 0} "
		"]\n",
		"id: c.four\nsummary: s\nrfc: [RFC1-1]\nsteps: [ {sleep: 0} "
		"]\n",
	};
	char dir[] = "/tmp/quill-test-pool-XXXXXX", path[128], log[128];
	char err[1024], body[512];
	struct scenario *sc[4];
	struct scenario_error e;
	struct result_set rs;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fake-quilld", dir);
	snprintf(log, sizeof(log), "%s/configs", dir);
	snprintf(body, sizeof(body),
		 "#!/bin/sh\ncat \"$2\" >> %s\necho ---- >> %s\n"
		 "echo 'quilld ready'\nexec sleep 30\n",
		 log, log);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(body, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0700), 0);
	struct target *t = target_quilld_new(path);
	ck_assert_int_eq(target_start(t, ".", err, sizeof(err)), 0);
	struct runner_pool_options po = {.target = t, .root = ".", .jobs = 2};
	for (size_t i = 0; i < 4; i++) {
		sc[i] = scenario_load_string("c.yaml", y[i], strlen(y[i]), NULL,
					     &e);
		ck_assert_msg(sc[i] != NULL, "%s", e.message);
	}
	result_set_init(&rs, "quilld");
	ck_assert_int_eq(runner_pool_run(sc, 4, &po, &rs), 0);
	for (size_t i = 0; i < 4; i++)
		ck_assert_msg(rs.items[i].status == RESULT_PASS, "%s: %s",
			      rs.items[i].id, rs.items[i].reason);
	/* started, restarted with the fragment, restarted without */
	ck_assert_uint_eq(count_in_file(log, "----"), 3);
	ck_assert_uint_eq(count_in_file(log, "\nlisteners:"), 3);
	ck_assert_uint_eq(count_in_file(log, "# the scenario's quilld_config\n"
					     "smtp: { command_timeout: 1 }\n"
					     "----"),
			  1);
	ck_assert(!t->custom_config);
	/* a run that ends on a fragment leaves it for the target's stop */
	result_set_free(&rs);
	result_set_init(&rs, "quilld");
	ck_assert_int_eq(runner_pool_run(sc + 1, 1, &po, &rs), 0);
	ck_assert_int_eq(rs.items[0].status, RESULT_PASS);
	ck_assert(t->custom_config);
	ck_assert_uint_eq(count_in_file(log, "----"), 4);
	result_set_free(&rs);
	ck_assert_int_eq(target_stop(t, ".", err, sizeof(err)), 0);
	target_free(&t);
	for (size_t i = 0; i < 4; i++)
		scenario_free(&sc[i]);
	unlink(log);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* A quilld_config that quilld refuses makes that scenario an error (with
 * the end of quilld's log); the next scenario restores the normal config
 * and runs. */
START_TEST(pool_quilld_config_refused)
{
	static const char *const y[] = {
		"id: r.bad\nsummary: s\nrfc: [RFC1-1]\n"
		"quilld_config: \"fail_me: 1\"\nsteps: [ {sleep: 0} ]\n",
		"id: r.next\nsummary: s\nrfc: [RFC1-1]\nsteps: [ {sleep: 0} "
		"]\n",
	};
	char dir[] = "/tmp/quill-test-pool-XXXXXX", path[128], err[1024];
	struct scenario *sc[2];
	struct scenario_error e;
	struct result_set rs;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fake-quilld", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("#!/bin/sh\nif grep -q fail_me \"$2\"; then\n"
	      "  echo 'unknown key fail_me' >&2; exit 1\nfi\n"
	      "echo 'quilld ready'\nexec sleep 30\n",
	      f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0700), 0);
	struct target *t = target_quilld_new(path);
	ck_assert_int_eq(target_start(t, ".", err, sizeof(err)), 0);
	struct runner_pool_options po = {.target = t, .root = ".", .jobs = 2};
	for (size_t i = 0; i < 2; i++) {
		sc[i] = scenario_load_string("r.yaml", y[i], strlen(y[i]), NULL,
					     &e);
		ck_assert_msg(sc[i] != NULL, "%s", e.message);
	}
	result_set_init(&rs, "quilld");
	ck_assert_int_eq(runner_pool_run(sc, 2, &po, &rs), 0);
	ck_assert_int_eq(rs.items[0].status, RESULT_ERROR);
	ck_assert_msg(strstr(rs.items[0].reason, "exited before it was ready; "
						 "its log ends: unknown key "
						 "fail_me") != NULL,
		      "%s", rs.items[0].reason);
	ck_assert_msg(rs.items[1].status == RESULT_PASS, "%s",
		      rs.items[1].reason);
	ck_assert(!t->custom_config);
	ck_assert_int_gt(t->pid, 0);
	result_set_free(&rs);
	ck_assert_int_eq(target_stop(t, ".", err, sizeof(err)), 0);
	target_free(&t);
	for (size_t i = 0; i < 2; i++)
		scenario_free(&sc[i]);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(outcome_round_trip)
{
	struct runner_outcome a = {.status = RESULT_FAIL,
				   .reason = "why",
				   .transcript = NULL,
				   .seconds = 1.5};
	struct runner_outcome b;
	struct buf enc;
	buf_init(&enc, 1024);
	ck_assert_int_eq(runner_outcome_encode(&a, &enc), 0);
	ck_assert_int_eq(
		runner_outcome_decode(buf_data(&enc), buf_len(&enc), &b), 0);
	ck_assert_int_eq(b.status, RESULT_FAIL);
	ck_assert_str_eq(b.reason, "why");
	ck_assert_ptr_null(b.transcript);
	ck_assert(b.seconds > 1.49 && b.seconds < 1.51);
	runner_outcome_free(&b);
	for (size_t n = 0; n < buf_len(&enc); n++)
		ck_assert_int_eq(runner_outcome_decode(buf_data(&enc), n, &b),
				 -1);
	ck_assert_int_eq(
		runner_outcome_decode("QHR1xxxxxxxxxxxxxxxxxxxx", 24, &b), -1);
	buf_free(&enc);
}
END_TEST

static Suite *pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("pool");
	tcase_add_test(tc, pool_skips_and_keeps_order);
	tcase_add_test(tc, pool_quilld_config_restarts);
	tcase_add_test(tc, pool_quilld_config_refused);
	tcase_add_test(tc, outcome_round_trip);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	SRunner *sr = srunner_create(pool_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
