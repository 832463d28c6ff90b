/*
 * test_auth_job.c - SASL credentials checked on the pool: the exchange
 * comes back on the loop thread with its credentials applied (right and
 * wrong passwords, unknown users, no passwd-file, SCRAM keys), a reload
 * that frees the users under a running job does no harm, and a cancelled
 * job frees the exchange itself without calling back.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "auth_job.h"
#include "buf.h"
#include "pool.h"
#include "sasl_client.h"

static pthread_t loop_thread;
static int calls;
static int last_rc;
static struct sasl_server *back;

static void done(void *arg, struct sasl_server *sasl, int rc)
{
	ck_assert_ptr_eq(arg, &calls);
	ck_assert(pthread_equal(pthread_self(), loop_thread));
	calls++;
	last_rc = rc;
	back = sasl;
}

struct fixture {
	struct event_base *base;
	struct pool *pool;
	struct passwd_db *users;
};

static void setup_fixture(struct fixture *f, const char *passwd)
{
	char err[128];
	struct passwd_error perr;
	loop_thread = pthread_self();
	calls = 0;
	last_rc = 99;
	back = NULL;
	f->base = event_base_new();
	ck_assert_ptr_nonnull(f->base);
	f->pool = pool_new(f->base, 2, err, sizeof(err));
	ck_assert_ptr_nonnull(f->pool);
	f->users = passwd == NULL
			   ? NULL
			   : passwd_db_load_buffer("test", passwd,
						   strlen(passwd), &perr);
	ck_assert(passwd == NULL || f->users != NULL);
}

static void teardown_fixture(struct fixture *f)
{
	pool_free(&f->pool);
	passwd_db_free(&f->users);
	event_base_free(f->base);
}

static void wait_done(struct fixture *f, int want)
{
	for (int spins = 0; calls < want && spins < 100000; spins++)
		event_base_loop(f->base, EVLOOP_ONCE);
	ck_assert_int_eq(calls, want);
}

static const struct sasl_server_settings plain_ok = {
	.plaintext_allowed = true,
	.scram_iterations = 16,
};
static const struct passwd_options allow_plain = {.allow_plain = true};

/* PLAIN for user/pass up to SASL_NEED_CREDENTIALS. */
static struct sasl_server *plain_exchange(const char *user, const char *pass)
{
	char msg[128];
	struct buf out;
	int n = snprintf(msg, sizeof(msg), "%c%s%c%s", 0, user, 0, pass);
	struct sasl_server *s = sasl_server_new("PLAIN", &plain_ok);
	ck_assert_ptr_nonnull(s);
	buf_init(&out, 1024);
	ck_assert_int_eq(sasl_server_step(s, msg, (size_t)n, true, &out),
			 SASL_NEED_CREDENTIALS);
	buf_free(&out);
	return s;
}

/* Run a job to its end; the next step's result. */
static enum sasl_step run_job(struct fixture *f, struct sasl_server *s)
{
	struct buf out;
	struct auth_job *j = auth_job_start(f->pool, f->users, &allow_plain, s,
					    done, &calls);
	ck_assert_ptr_nonnull(j);
	wait_done(f, 1);
	ck_assert_ptr_eq(back, s);
	ck_assert_int_eq(last_rc, 0);
	buf_init(&out, 1024);
	enum sasl_step r = sasl_server_step(s, NULL, 0, false, &out);
	buf_free(&out);
	return r;
}

#define USERS "alice:{PLAIN}wonderland\nbob:{PLAIN}builder\n"

START_TEST(plain_right_password)
{
	struct fixture f;
	setup_fixture(&f, USERS);
	struct sasl_server *s = plain_exchange("alice", "wonderland");
	ck_assert_int_eq(run_job(&f, s), SASL_SUCCESS);
	ck_assert_str_eq(sasl_server_user(s), "alice");
	sasl_server_free(&s);
	teardown_fixture(&f);
}
END_TEST

START_TEST(plain_wrong_password_and_unknown_user)
{
	struct fixture f;
	setup_fixture(&f, USERS);
	struct sasl_server *s = plain_exchange("alice", "builder");
	ck_assert_int_eq(run_job(&f, s), SASL_FAIL);
	ck_assert_int_eq(sasl_server_fail_reason(s), SASL_FAIL_AUTH);
	sasl_server_free(&s);
	calls = 0;
	s = plain_exchange("carol", "x");
	ck_assert_int_eq(run_job(&f, s), SASL_FAIL);
	ck_assert_int_eq(sasl_server_fail_reason(s), SASL_FAIL_AUTH);
	sasl_server_free(&s);
	teardown_fixture(&f);
}
END_TEST

START_TEST(no_passwd_file)
{
	struct fixture f;
	setup_fixture(&f, NULL);
	struct sasl_server *s = plain_exchange("alice", "wonderland");
	ck_assert_int_eq(run_job(&f, s), SASL_FAIL);
	ck_assert_int_eq(sasl_server_fail_reason(s), SASL_FAIL_AUTH);
	sasl_server_free(&s);
	teardown_fixture(&f);
}
END_TEST

/* The users are replaced (SIGHUP) while the job is queued. */
START_TEST(users_freed_under_the_job)
{
	struct fixture f;
	struct buf out;
	setup_fixture(&f, USERS);
	struct sasl_server *s = plain_exchange("bob", "builder");
	struct auth_job *j =
		auth_job_start(f.pool, f.users, &allow_plain, s, done, &calls);
	ck_assert_ptr_nonnull(j);
	passwd_db_free(&f.users);
	wait_done(&f, 1);
	buf_init(&out, 64);
	ck_assert_int_eq(sasl_server_step(s, NULL, 0, false, &out),
			 SASL_SUCCESS);
	buf_free(&out);
	sasl_server_free(&s);
	teardown_fixture(&f);
}
END_TEST

/* Cancelled: never called back; the job frees the exchange (valgrind
 * and ASan would see a leak or a double free). */
START_TEST(cancelled_job_frees_the_exchange)
{
	struct fixture f;
	setup_fixture(&f, USERS);
	struct sasl_server *s = plain_exchange("alice", "wonderland");
	struct auth_job *j =
		auth_job_start(f.pool, f.users, &allow_plain, s, done, &calls);
	ck_assert_ptr_nonnull(j);
	auth_job_cancel(&j);
	ck_assert_ptr_null(j);
	auth_job_cancel(&j); /* NULL is fine */
	for (int spins = 0; pool_pending(f.pool) > 0 && spins < 100000; spins++)
		event_base_loop(f.base, EVLOOP_ONCE);
	ck_assert_uint_eq(pool_pending(f.pool), 0);
	ck_assert_int_eq(calls, 0);
	teardown_fixture(&f);
}
END_TEST

/* SCRAM-SHA-256 takes the stored keys; a real client completes it. */
START_TEST(scram_keys)
{
	char hash[PASSWD_HASH_SIZE], users[PASSWD_HASH_SIZE + 16];
	struct buf cmsg, smsg;
	struct fixture f;
	ck_assert_int_eq(
		passwd_hash_scram("wonderland", 16, hash, sizeof(hash)), 0);
	snprintf(users, sizeof(users), "alice:%s\n", hash);
	setup_fixture(&f, users);
	buf_init(&cmsg, 4096);
	buf_init(&smsg, 4096);
	struct sasl_scram_client *c =
		sasl_scram_client_new(NULL, "alice", "wonderland", NULL);
	struct sasl_server *s = sasl_server_new("SCRAM-SHA-256", &plain_ok);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sasl_scram_client_first(c, &cmsg), 0);
	ck_assert_int_eq(sasl_server_step(s, buf_data(&cmsg), buf_len(&cmsg),
					  true, &smsg),
			 SASL_NEED_CREDENTIALS);
	struct auth_job *j =
		auth_job_start(f.pool, f.users, &allow_plain, s, done, &calls);
	ck_assert_ptr_nonnull(j);
	wait_done(&f, 1);
	ck_assert_int_eq(sasl_server_step(s, NULL, 0, false, &smsg),
			 SASL_CONTINUE);
	ck_assert_int_eq(sasl_scram_client_final(c, buf_data(&smsg),
						 buf_len(&smsg), &cmsg),
			 0);
	ck_assert_int_eq(sasl_server_step(s, buf_data(&cmsg), buf_len(&cmsg),
					  false, &smsg),
			 SASL_SUCCESS);
	ck_assert_int_eq(
		sasl_scram_client_verify(c, buf_data(&smsg), buf_len(&smsg)),
		0);
	sasl_scram_client_free(&c);
	sasl_server_free(&s);
	buf_free(&cmsg);
	buf_free(&smsg);
	teardown_fixture(&f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("auth_job");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, plain_right_password);
	tcase_add_test(tc, plain_wrong_password_and_unknown_user);
	tcase_add_test(tc, no_passwd_file);
	tcase_add_test(tc, users_freed_under_the_job);
	tcase_add_test(tc, cancelled_job_frees_the_exchange);
	tcase_add_test(tc, scram_keys);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
