/*
 * test_queue_job.c - delivering queued messages (queue_job.h) on both
 * stores (loop index 0 = Maildir, 1 = mbox): every local recipient gets
 * the message once and then it is removed; remote recipients, unknown
 * users, temporary failures with their backoff and the max_age limit
 * are recorded in the state file (queue_file.h); a repeated address is
 * delivered once; postmaster goes to queue.postmaster. And the exactly-
 * once recovery: a job stopped at every step, as a crash would stop it,
 * then run again - trusting its "try" records, or checking every
 * recipient as after a reboot - leaves each mailbox with exactly one copy.
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue_fixture.h"

/* A message without DSN parameters. */
static void spool(struct qfx *fx, const char *from, const char *const *to,
		  const char *body, char *id)
{
	qfx_spool(fx, from, to, 0, body, id);
}

START_TEST(delivers_and_removes)
{
	struct qfx fx;
	char id[SPOOL_ID_MAX];
	static const char *const to[] = {"alice@example.test",
					 "bob@mail.example.test", NULL};
	qfx_init(&fx, _i, NULL); /* the host name is a local domain too */
	ck_assert_str_eq(fx.cfg.hostname, "mail.example.test");
	spool(&fx, "s@x.example", to, "Subject: one\r\n\r\nbody one\r\n", id);
	run_once(&fx, id, false);
	ck_assert_uint_eq(inbox_count(&fx, "alice", "body one"), 1);
	ck_assert_uint_eq(inbox_count(&fx, "bob", "body one"), 1);
	ck_assert(!queued(&fx, id));
	char path[800];
	snprintf(path, sizeof(path), "%s/state/%s", fx.queue, id);
	ck_assert_int_ne(access(path, F_OK), 0);
	/* the job of a message already gone says so */
	struct queue_job j;
	queue_job_init(&j, fx.queue, id, &fx.cfg, true, fx.now);
	queue_job_load(&j);
	ck_assert_int_eq(j.load, QJ_GONE);
	queue_job_free(&j);
	qfx_done(&fx);
}
END_TEST

START_TEST(remote_unknown_and_dup)
{
	struct qfx fx;
	char id[SPOOL_ID_MAX];
	static const char *const to[] = {
		"far@elsewhere.example", "alice@example.test",
		"carol@example.test", "alice@example.test", NULL};
	struct queue_msg m;
	struct queue_job j;
	qfx_init(&fx, _i, NULL);
	spool(&fx, "", to, "Subject: two\r\n\r\nbody two\r\n", id);
	run_job(&fx, id, false, NULL, &j);
	ck_assert(!j.removed && !j.unrecorded);
	ck_assert_int_eq(j.next_try, 0); /* nothing to retry: parked */
	queue_job_free(&j);
	ck_assert_uint_eq(inbox_count(&fx, "alice", "body two"), 1);
	state_of(&fx, id, &m);
	ck_assert_int_eq(m.rcpt[0].state, QUEUE_RCPT_REMOTE);
	ck_assert_int_eq(m.rcpt[1].state, QUEUE_RCPT_DONE);
	ck_assert_int_eq(m.rcpt[2].state, QUEUE_RCPT_FAILED);
	ck_assert_int_eq(m.rcpt[2].code, 550);
	ck_assert_str_eq(m.rcpt[2].enhanced, "5.1.1");
	ck_assert_str_eq(m.rcpt[2].text, "User unknown");
	ck_assert_int_eq(m.rcpt[3].state, QUEUE_RCPT_DONE);
	ck_assert_str_eq(m.from, "");
	queue_msg_free(&m);
	/* a second run has nothing to do */
	run_job(&fx, id, true, NULL, &j);
	ck_assert_uint_eq(j.n_t, 0);
	queue_job_free(&j);
	ck_assert_uint_eq(inbox_count(&fx, "alice", "body two"), 1);
	qfx_done(&fx);
}
END_TEST

START_TEST(postmaster_mapped)
{
	struct qfx fx;
	char id[SPOOL_ID_MAX];
	static const char *const to[] = {"Postmaster", NULL};
	qfx_init(&fx, _i, NULL);
	snprintf(fx.cfg.queue_postmaster, sizeof(fx.cfg.queue_postmaster),
		 "bob");
	spool(&fx, "s@x.example", to, "Subject: pm\r\n\r\nto pm\r\n", id);
	run_once(&fx, id, false);
	ck_assert_uint_eq(inbox_count(&fx, "bob", "to pm"), 1);
	ck_assert(!queued(&fx, id));
	qfx_done(&fx);
}
END_TEST

START_TEST(temporary_failure_backoff_and_expiry)
{
	struct qfx fx;
	char id[SPOOL_ID_MAX], pw[1200], file[700];
	static const char *const to[] = {"alice@example.test",
					 "bob@example.test", NULL};
	struct queue_msg m;
	struct queue_job j;
	/* bob's mail root lies under a regular file: his store fails */
	const char *tmp = getenv("TMPDIR");
	snprintf(file, sizeof(file), "%s/quill-qjob-file-%d",
		 tmp != NULL && *tmp ? tmp : "/tmp", (int)getpid());
	FILE *f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(pw, sizeof(pw), "alice:{PLAIN}x\nbob:{PLAIN}y::::%s/sub\n",
		 file);
	qfx_init(&fx, _i, pw);
	fx.cfg.queue_retry_min = 60;
	fx.cfg.queue_retry_max = 200;
	fx.cfg.queue_max_age = 1000;
	spool(&fx, "s@x.example", to, "Subject: t\r\n\r\ntemp\r\n", id);
	run_job(&fx, id, false, NULL, &j);
	ck_assert_int_eq(j.next_try, fx.now + 60);
	queue_job_free(&j);
	state_of(&fx, id, &m);
	ck_assert_int_eq(m.rcpt[0].state, QUEUE_RCPT_DONE);
	ck_assert_int_eq(m.rcpt[1].state, QUEUE_RCPT_DEFERRED);
	ck_assert_uint_eq(m.rcpt[1].attempts, 1);
	ck_assert_int_eq(m.rcpt[1].code / 100, 4);
	queue_msg_free(&m);
	/* not due yet: nothing tried */
	fx.now += 30;
	run_job(&fx, id, false, NULL, &j);
	ck_assert_uint_eq(j.n_t, 0);
	ck_assert_int_eq(j.next_try, fx.now + 30);
	queue_job_free(&j);
	/* due: tried again, the wait doubles, then stays at retry_max */
	fx.now += 30;
	run_job(&fx, id, false, NULL, &j);
	ck_assert_int_eq(j.next_try, fx.now + 120);
	queue_job_free(&j);
	fx.now += 120;
	run_job(&fx, id, false, NULL, &j);
	ck_assert_int_eq(j.next_try, fx.now + 200);
	queue_job_free(&j);
	/* past max_age the failure is final (RFC 3463 X.4.7); with alice
	 * done and bob's notice queued, the message leaves the queue */
	fx.now += 1000;
	run_job(&fx, id, false, NULL, &j);
	ck_assert_int_eq(j.next_try, 0);
	ck_assert_uint_eq(j.n_t, 1);
	ck_assert_uint_eq(j.t[0].i, 1);
	ck_assert_int_eq(j.t[0].outcome, QUEUE_RCPT_FAILED);
	ck_assert_str_eq(j.t[0].res.enhanced, "5.4.7");
	ck_assert_ptr_nonnull(strstr(j.t[0].res.text, "Delivery time expired"));
	ck_assert(j.removed);
	queue_job_free(&j);
	ck_assert(!queued(&fx, id));
	ck_assert_uint_eq(inbox_count(&fx, "alice", "temp"), 1);
	unlink(file);
	qfx_done(&fx);
}
END_TEST

START_TEST(backoff)
{
	struct quilld_config cfg;
	config_defaults(&cfg, "var");
	cfg.queue_retry_min = 60;
	cfg.queue_retry_max = 3600;
	ck_assert_int_eq(queue_job_backoff(&cfg, 1), 60);
	ck_assert_int_eq(queue_job_backoff(&cfg, 2), 120);
	ck_assert_int_eq(queue_job_backoff(&cfg, 6), 1920);
	ck_assert_int_eq(queue_job_backoff(&cfg, 7), 3600);
	ck_assert_int_eq(queue_job_backoff(&cfg, 1000), 3600);
}
END_TEST

/* ---- crash at every step, then recovery ---------------------------------- */

struct stop_at {
	unsigned step;
	unsigned max_seen;
};

static bool stop_hook(void *arg, unsigned step)
{
	struct stop_at *s = arg;
	if (step > s->max_seen)
		s->max_seen = step;
	return step == s->step;
}

/* alice, bob, a repeated alice and a remote one: every kind of step. */
static const char *const crash_to[] = {"alice@example.test", "bob@example.test",
				       "alice@example.test",
				       "far@elsewhere.example", NULL};

static void crash_then_recover(int kind, unsigned step, bool remote,
			       bool check_all)
{
	struct qfx fx;
	char id[SPOOL_ID_MAX], body[128];
	struct stop_at s = {.step = step};
	struct queue_job_hooks hooks = {stop_hook, &s};
	struct queue_job j;
	static const char *const local_only[] = {"alice@example.test",
						 "bob@example.test",
						 "alice@example.test", NULL};
	qfx_init(&fx, kind, NULL);
	snprintf(body, sizeof(body), "Subject: c\r\n\r\ncrash %u\r\n", step);
	spool(&fx, "s@x.example", remote ? crash_to : local_only, body, id);
	run_job(&fx, id, false, &hooks, &j); /* "crashes" at step */
	bool stopped = j.stopped;
	queue_job_free(&j);
	/* the restart: with the records, or checking all (a reboot) */
	run_once(&fx, id, check_all);
	run_once(&fx, id, check_all); /* and again: still nothing twice */
	ck_assert_msg(inbox_count(&fx, "alice", body + 14) == 1,
		      "step %u (stopped %d): alice has %u", step, stopped,
		      inbox_count(&fx, "alice", body + 14));
	ck_assert_msg(inbox_count(&fx, "bob", body + 14) == 1,
		      "step %u: bob has %u", step,
		      inbox_count(&fx, "bob", body + 14));
	ck_assert_msg(queued(&fx, id) == remote, "step %u", step);
	qfx_done(&fx);
}

START_TEST(crash_at_every_step)
{
	/* steps: before/after the deliveries to alice (target 0) and bob
	 * (1); the repeated alice and the remote address deliver nothing;
	 * then before the outcomes are written or the message removed */
	static const unsigned steps[] = {1, 2, 3, 4, 100000};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		for (int v = 0; v < 4; v++)
			crash_then_recover(_i, steps[i], v & 1, v & 2);
}
END_TEST

START_TEST(without_check_it_would_duplicate)
{
	/* the check is what makes recovery exactly-once: alice delivered,
	 * then the "try" record lost (as only a kernel crash can lose it);
	 * trusting the state file would deliver her a second copy, checking
	 * all (what the runner does after a reboot) does not */
	struct qfx fx;
	char id[SPOOL_ID_MAX], path[800];
	struct stop_at s = {.step = 2}; /* after alice's delivery */
	struct queue_job_hooks hooks = {stop_hook, &s};
	struct queue_job j;
	static const char *const to[] = {"alice@example.test", NULL};
	qfx_init(&fx, _i, NULL);
	spool(&fx, "s@x.example", to, "Subject: d\r\n\r\ndup\r\n", id);
	run_job(&fx, id, false, &hooks, &j);
	ck_assert(j.stopped);
	queue_job_free(&j);
	snprintf(path, sizeof(path), "%s/state/%s", fx.queue, id);
	ck_assert_int_eq(truncate(path, 0), 0);
	run_once(&fx, id, true);
	ck_assert_uint_eq(inbox_count(&fx, "alice", "dup"), 1);
	ck_assert(!queued(&fx, id));
	spool(&fx, "s@x.example", to, "Subject: d\r\n\r\ndup2\r\n", id);
	snprintf(path, sizeof(path), "%s/state/%s", fx.queue, id);
	run_job(&fx, id, false, &hooks, &j);
	queue_job_free(&j);
	ck_assert_int_eq(truncate(path, 0), 0);
	run_once(&fx, id, false);
	ck_assert_uint_eq(inbox_count(&fx, "alice", "dup2"), 2);
	qfx_done(&fx);
}
END_TEST

static void copy_file(const char *from, const char *to)
{
	char buf[8192];
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	ck_assert(in != NULL && out != NULL);
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	ck_assert_int_eq(fclose(out), 0);
}

START_TEST(removal_undone_by_reboot)
{
	/* queue_msg_remove does not fsync: a machine crash may bring the
	 * spool file back, with or without its state file. After the
	 * reboot every recipient is looked for first: found, not resent */
	for (int with_state = 0; with_state < 2; with_state++) {
		struct qfx fx;
		char id[SPOOL_ID_MAX], spool_path[800], state_path[800];
		char keep_spool[900], keep_state[900];
		static const char *const to[] = {"alice@example.test",
						 "bob@example.test", NULL};
		qfx_init(&fx, _i, NULL);
		spool(&fx, "s@x.example", to, "Subject: r\r\n\r\nreboot\r\n",
		      id);
		snprintf(spool_path, sizeof(spool_path), "%s/new/%s", fx.queue,
			 id);
		snprintf(state_path, sizeof(state_path), "%s/state/%s",
			 fx.queue, id);
		snprintf(keep_spool, sizeof(keep_spool), "%s.keep", spool_path);
		snprintf(keep_state, sizeof(keep_state), "%s.keep", state_path);
		copy_file(spool_path, keep_spool);
		/* stop after both deliveries, keep the state as it was then */
		struct stop_at st = {.step = 100000}; /* STEP_RECORD */
		struct queue_job_hooks hooks = {stop_hook, &st};
		struct queue_job j;
		run_job(&fx, id, false, &hooks, &j);
		ck_assert(j.stopped);
		queue_job_free(&j);
		copy_file(state_path, keep_state);
		run_once(&fx, id, false); /* records done, removes */
		ck_assert(!queued(&fx, id));
		/* the crash undoes the removal */
		ck_assert_int_eq(rename(keep_spool, spool_path), 0);
		if (with_state)
			ck_assert_int_eq(rename(keep_state, state_path), 0);
		else
			ck_assert_int_eq(unlink(keep_state), 0);
		run_once(&fx, id, true); /* after the reboot: check all */
		ck_assert_uint_eq(inbox_count(&fx, "alice", "reboot"), 1);
		ck_assert_uint_eq(inbox_count(&fx, "bob", "reboot"), 1);
		ck_assert(!queued(&fx, id));
		qfx_done(&fx);
	}
}
END_TEST

START_TEST(crash_between_unlinks)
{
	/* the spool file removed, its state file not yet: tidied away */
	struct qfx fx;
	char id[SPOOL_ID_MAX], path[800], err[256];
	static const char *const to[] = {"alice@example.test",
					 "far@elsewhere.example", NULL};
	qfx_init(&fx, _i, NULL);
	spool(&fx, "s@x.example", to, "Subject: u\r\n\r\nunlink\r\n", id);
	run_once(&fx, id, false); /* alice done, the remote one recorded */
	snprintf(path, sizeof(path), "%s/new/%s", fx.queue, id);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(queue_state_tidy(fx.queue), 1);
	ck_assert_int_eq(queue_state_tidy(fx.queue), 0);
	snprintf(path, sizeof(path), "%s/state/%s", fx.queue, id);
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_int_eq(
		queue_msg_remove(fx.queue, id, false, err, sizeof(err)), 0);
	qfx_done(&fx);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("queue_job");
	TCase *tc = tcase_create("both");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, delivers_and_removes, 0, 2);
	tcase_add_loop_test(tc, remote_unknown_and_dup, 0, 2);
	tcase_add_loop_test(tc, postmaster_mapped, 0, 2);
	tcase_add_loop_test(tc, temporary_failure_backoff_and_expiry, 0, 2);
	tcase_add_test(tc, backoff);
	tcase_add_loop_test(tc, crash_at_every_step, 0, 2);
	tcase_add_loop_test(tc, without_check_it_would_duplicate, 0, 2);
	tcase_add_loop_test(tc, removal_undone_by_reboot, 0, 2);
	tcase_add_loop_test(tc, crash_between_unlinks, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
