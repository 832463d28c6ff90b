/*
 * test_queue_dsn.c - delivery status notifications of queued messages
 * (queue_dsn.h) on both stores: who is owed one (RFC 3461 5.2.3, 5.2.5, 5.2.6;
 * never for <>, RFC 5321 4.5.5, 6.1), one notice per settling for all
 * recipients owed, queued as <id>N<n> from <> to the sender and
 * delivered like any message; and exactly once: a job stopped before
 * its outcomes are recorded, after the notice is staged, and after it
 * is recorded, then run again, leaves exactly one notice in the queue.
 */
#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue_fixture.h"

/* Files in <queue>/sub whose name starts with prefix. */
static unsigned count_files(struct qfx *fx, const char *sub, const char *prefix)
{
	char path[800];
	unsigned n = 0;
	snprintf(path, sizeof(path), "%s/%s", fx->queue, sub);
	DIR *d = opendir(path);
	if (d == NULL)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' &&
		    strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static bool in_dir(struct qfx *fx, const char *sub, const char *id,
		   unsigned batch)
{
	char path[800];
	snprintf(path, sizeof(path), "%s/%s/%sN%u", fx->queue, sub, id, batch);
	return access(path, F_OK) == 0;
}

/* The notice's envelope: from <>, to the sender, one recipient. */
static void check_notice(struct qfx *fx, const char *id, unsigned batch,
			 const char *sender, const char *action)
{
	char nid[SPOOL_ID_MAX + 8], path[900], err[512];
	struct queue_msg m;
	snprintf(nid, sizeof(nid), "%sN%u", id, batch);
	snprintf(path, sizeof(path), "%s/new/%s", fx->queue, nid);
	ck_assert_int_eq(queue_envelope_read(path, &m, err, sizeof(err)), 0);
	ck_assert_str_eq(m.id, nid);
	ck_assert_str_eq(m.from, "");
	ck_assert_uint_eq(m.n_rcpt, 1);
	ck_assert_str_eq(m.rcpt[0].addr, sender);
	queue_msg_free(&m);
	FILE *f = fopen(path, "rb");
	char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char want[64];
	snprintf(want, sizeof(want), "\r\nAction: %s\r\n", action);
	ck_assert_msg(strstr(buf, want) != NULL, "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "report-type=delivery-status"));
}

/* Whether notice batch of id holds text. */
static bool notice_has(struct qfx *fx, const char *id, unsigned batch,
		       const char *text)
{
	char path[900], buf[16384];
	snprintf(path, sizeof(path), "%s/new/%sN%u", fx->queue, id, batch);
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

START_TEST(failed_gets_one_notice)
{
	struct qfx fx;
	char id[SPOOL_ID_MAX];
	static const char *const to[] = {"carol@example.test",
					 "dave@example.test", NULL};
	qfx_init(&fx, _i, NULL); /* neither is a user: both fail */
	qfx_spool(&fx, "alice@example.test", to, 0, "Subject: f\r\n\r\nf\r\n",
		  id);
	run_once(&fx, id, false);
	ck_assert(!queued(&fx, id)); /* failed for good, notice queued: gone */
	ck_assert(in_dir(&fx, "new", id, 1));
	ck_assert_uint_eq(count_files(&fx, "new", id), 1);
	check_notice(&fx, id, 1, "alice@example.test", "failed");
	/* both recipients in the one notice (RFC 3464 2) */
	ck_assert(notice_has(&fx, id, 1,
			     "Final-Recipient: rfc822; "
			     "carol@example.test\r\n"));
	ck_assert(notice_has(&fx, id, 1,
			     "Final-Recipient: rfc822; "
			     "dave@example.test\r\n"));
	/* the notice itself is delivered to alice and leaves the queue */
	char nid[SPOOL_ID_MAX + 8];
	snprintf(nid, sizeof(nid), "%sN1", id);
	run_once(&fx, nid, false);
	ck_assert(!queued(&fx, nid));
	ck_assert_uint_eq(inbox_count(&fx, "alice", "Action: failed"), 1);
	qfx_done(&fx);
}
END_TEST

START_TEST(none_owed)
{
	struct qfx fx;
	char id[SPOOL_ID_MAX];
	static const char *const unknown[] = {"carol@example.test", NULL};
	static const char *const alice[] = {"alice@example.test", NULL};
	qfx_init(&fx, _i, NULL);
	/* the null reverse-path: never */
	qfx_spool(&fx, "", unknown, 0, "Subject: n\r\n\r\nn\r\n", id);
	run_once(&fx, id, false);
	ck_assert_uint_eq(count_files(&fx, "new", id), 1); /* stays, failed */
	/* NOTIFY=NEVER, and NOTIFY without FAILURE: none, and it goes */
	qfx_spool(&fx, "s@x.example", unknown, SMTP_NOTIFY_NEVER, "n\r\n", id);
	run_once(&fx, id, false);
	ck_assert_uint_eq(count_files(&fx, "new", id), 0);
	qfx_spool(&fx, "s@x.example", unknown,
		  SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_DELAY, "n\r\n", id);
	run_once(&fx, id, false);
	ck_assert_uint_eq(count_files(&fx, "new", id), 0);
	/* delivered without SUCCESS: none, and the message goes */
	qfx_spool(&fx, "s@x.example", alice, SMTP_NOTIFY_FAILURE, "n\r\n", id);
	run_once(&fx, id, false);
	ck_assert_uint_eq(count_files(&fx, "new", id), 0);
	ck_assert_uint_eq(count_files(&fx, "dsn", ""), 0);
	qfx_done(&fx);
}
END_TEST

/* A hook that stops the job at one step. */
static bool stop_at(void *arg, unsigned step)
{
	return step == *(unsigned *)arg;
}

START_TEST(success_exactly_once)
{
	static const unsigned steps[] = {0, QUEUE_JOB_STEP_DSN_STAGED,
					 QUEUE_JOB_STEP_DSN_RECORDED, 100000u};
	static const char *const to[] = {"alice@example.test",
					 "bob@example.test", NULL};
	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		struct qfx fx;
		char id[SPOOL_ID_MAX];
		unsigned step = steps[s];
		struct queue_job_hooks hooks = {.stop = stop_at, .arg = &step};
		struct queue_job j;
		qfx_init(&fx, _i, NULL);
		qfx_spool(&fx, "s@x.example", to, SMTP_NOTIFY_SUCCESS,
			  "Subject: s\r\n\r\nsucceed\r\n", id);
		run_job(&fx, id, false, &hooks, &j);
		ck_assert(j.stopped == (step != 0));
		queue_job_free(&j);
		if (step == QUEUE_JOB_STEP_DSN_STAGED ||
		    step == QUEUE_JOB_STEP_DSN_RECORDED) {
			ck_assert(in_dir(&fx, "dsn", id, 1));
			ck_assert(!in_dir(&fx, "new", id, 1));
		}
		if (step != 0) /* as after a crash: run again */
			run_once(&fx, id, false);
		ck_assert(!queued(&fx, id));
		ck_assert(in_dir(&fx, "new", id, 1));
		ck_assert(!in_dir(&fx, "new", id, 2));
		ck_assert(!in_dir(&fx, "dsn", id, 1));
		ck_assert_uint_eq(count_files(&fx, "new", ""), 1);
		check_notice(&fx, id, 1, "s@x.example", "delivered");
		ck_assert_uint_eq(inbox_count(&fx, "alice", "succeed"), 1);
		ck_assert_uint_eq(inbox_count(&fx, "bob", "succeed"), 1);
		qfx_done(&fx);
	}
}
END_TEST

START_TEST(delayed_once_then_failed)
{
	struct qfx fx;
	char id[SPOOL_ID_MAX], pw[1200], file[700];
	static const char *const to[] = {"bob@example.test", NULL};
	const char *tmp = getenv("TMPDIR");
	snprintf(file, sizeof(file), "%s/quill-qdsn-file-%d",
		 tmp != NULL && *tmp ? tmp : "/tmp", (int)getpid());
	FILE *f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(pw, sizeof(pw), "bob:{PLAIN}y::::%s/sub\n", file);
	qfx_init(&fx, _i, pw);
	fx.cfg.queue_retry_min = 60;
	fx.cfg.queue_retry_max = 60;
	fx.cfg.queue_max_age = 1000;
	fx.cfg.queue_delay_warning = 100;
	qfx_spool(&fx, "s@x.example", to, 0, "Subject: d\r\n\r\nd\r\n", id);
	run_once(&fx, id, false); /* deferred, too young for a notice */
	ck_assert(!in_dir(&fx, "new", id, 1));
	fx.now += 120;
	run_once(&fx, id, false);
	ck_assert(in_dir(&fx, "new", id, 1));
	check_notice(&fx, id, 1, "s@x.example", "delayed");
	fx.now += 120; /* still deferred: no second delayed notice */
	run_once(&fx, id, false);
	ck_assert(!in_dir(&fx, "new", id, 2));
	fx.now += 1000; /* past max_age: failed */
	run_once(&fx, id, false);
	check_notice(&fx, id, 2, "s@x.example", "failed");
	ck_assert_uint_eq(count_files(&fx, "new", id), 2); /* N1, N2 */
	ck_assert(!queued(&fx, id));
	/* a remote sender's notice waits for outbound relaying */
	char nid[SPOOL_ID_MAX + 8];
	struct queue_msg m;
	snprintf(nid, sizeof(nid), "%sN2", id);
	run_once(&fx, nid, false);
	ck_assert(queued(&fx, nid));
	state_of(&fx, nid, &m);
	ck_assert_int_eq(m.rcpt[0].state, QUEUE_RCPT_REMOTE);
	queue_msg_free(&m);
	unlink(file);
	qfx_done(&fx);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("queue_dsn");
	TCase *tc = tcase_create("dsn");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, failed_gets_one_notice, 0, 2);
	tcase_add_loop_test(tc, none_owed, 0, 2);
	tcase_add_loop_test(tc, success_exactly_once, 0, 2);
	tcase_add_loop_test(tc, delayed_once_then_failed, 0, 2);
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
