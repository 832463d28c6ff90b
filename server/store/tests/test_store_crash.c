/*
 * test_store_crash.c - several processes at once, and processes killed
 * half way, on both backends. Forked appenders must get distinct,
 * ascending UIDs while a reader syncs; concurrent flag changes must not
 * undo each other; an appender killed with SIGKILL at any moment leaves
 * either its whole message or none (DESIGN.md "Mail flow": nothing
 * acknowledged is lost, nothing half-written shows), and its stale lock
 * is taken over by the next process.
 */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define FX_FSYNC true
#include "store_test.h"

#define CHILDREN  3
#define PER_CHILD 8

static void child_appends(struct fx *fx, int id, int out)
{
	struct store *st;
	struct store_error err;

	if (store_open(&fx->cfg, &st, &err) != 0)
		_exit(1);
	for (int i = 0; i < PER_CHILD; i++) {
		struct store_append *ap;
		char text[64];
		uint32_t uid = 0;
		int n = snprintf(text, sizeof(text), "child %d message %d\n",
				 id, i);

		if (store_append_begin(st, "INBOX", NULL, &ap, &err) != 0 ||
		    store_append_write(ap, text, (size_t)n, &err) != 0 ||
		    store_append_commit(&ap, 0, NULL, 0, 0, NULL, &uid, &err) !=
			    0 ||
		    write(out, &uid, sizeof(uid)) != sizeof(uid))
			_exit(2);
	}
	store_close(&st);
	_exit(0);
}

START_TEST(concurrent_appends)
{
	uint32_t uids[CHILDREN * PER_CHILD];
	struct store_mailbox *mb;
	struct store_changes ch;
	pid_t kids[CHILDREN];
	size_t got = 0;
	int p[2];
	struct fx fx;

	fx_init(&fx, _i);
	ck_assert_int_eq(pipe(p), 0);
	for (int c = 0; c < CHILDREN; c++) {
		kids[c] = fork();
		ck_assert_int_ge(kids[c], 0);
		if (kids[c] == 0) {
			close(p[0]);
			child_appends(&fx, c, p[1]);
		}
	}
	close(p[1]);
	mb = fx_mb(&fx, "INBOX", 0);
	for (;;) { /* sync while they write: the view stays ordered */
		ssize_t n = read(p[0], (char *)uids + got, sizeof(uids) - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		fx_sync(mb, &ch);
		store_changes_clear(&ch);
		for (uint32_t s = 1; s < store_count(mb); s++)
			ck_assert_uint_lt(store_uid_at(mb, s),
					  store_uid_at(mb, s + 1));
	}
	close(p[0]);
	for (int c = 0; c < CHILDREN; c++) {
		int status;

		ck_assert_int_eq(waitpid(kids[c], &status, 0), kids[c]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ck_assert_uint_eq(got, sizeof(uids));
	for (size_t i = 0; i < CHILDREN * PER_CHILD; i++)
		for (size_t j = 0; j < i; j++)
			ck_assert_uint_ne(uids[i], uids[j]);
	fx_sync(mb, &ch);
	store_changes_clear(&ch);
	ck_assert_uint_eq(store_count(mb), CHILDREN * PER_CHILD);
	for (size_t i = 0; i < CHILDREN * PER_CHILD; i++)
		ck_assert_uint_ne(store_seq_of(mb, uids[i]), 0);
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

static void child_flags(struct fx *fx, unsigned flag)
{
	struct store_mailbox *mb;
	struct store_error err;
	struct store *st;

	if (store_open(&fx->cfg, &st, &err) != 0 ||
	    store_mailbox_open(st, "INBOX", 0, &mb, &err) != 0)
		_exit(1);
	for (uint32_t s = 1; s <= store_count(mb); s++) {
		struct store_uid_range r = {store_uid_at(mb, s),
					    store_uid_at(mb, s)};
		struct store_uidset set = {&r, 1};

		if (store_flags_change(mb, &set, STORE_FLAGS_ADD, flag, NULL, 0,
				       &err) != 0)
			_exit(2);
	}
	store_mailbox_close(&mb);
	store_close(&st);
	_exit(0);
}

START_TEST(concurrent_flags)
{
	static const unsigned flags[2] = {STORE_F_SEEN, STORE_F_FLAGGED};
	struct store_mailbox *mb;
	struct store_msg_info info;
	pid_t kids[2];
	struct fx fx;

	fx_init(&fx, _i);
	for (int i = 0; i < 10; i++)
		fx_append(&fx, "INBOX", "flag me\n");
	for (int c = 0; c < 2; c++) {
		kids[c] = fork();
		ck_assert_int_ge(kids[c], 0);
		if (kids[c] == 0)
			child_flags(&fx, flags[c]);
	}
	for (int c = 0; c < 2; c++) {
		int status;

		ck_assert_int_eq(waitpid(kids[c], &status, 0), kids[c]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	mb = fx_mb(&fx, "INBOX", 0);
	for (uint32_t s = 1; s <= store_count(mb); s++) {
		ck_assert_int_eq(store_msg_info(mb, s, &info, &fx.err), 0);
		ck_assert_uint_eq(info.flags & STORE_F_PERMANENT,
				  STORE_F_SEEN | STORE_F_FLAGGED);
	}
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

#define BIG (256 * 1024)

static void fill_big(char *data)
{
	for (size_t i = 0; i < BIG; i++)
		data[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
}

/* Every message is either the whole BIG pattern or one of ours. */
static uint32_t check_complete(struct fx *fx, const char *data)
{
	struct store_mailbox *mb = fx_mb(fx, "INBOX", 0);
	uint32_t n = store_count(mb);

	for (uint32_t s = 1; s <= n; s++) {
		size_t len;
		char *got = fx_read_ex(mb, store_uid_at(mb, s), 0, &len);

		ck_assert_msg(len == BIG && memcmp(got, data, BIG) == 0,
			      "message %u is damaged (%zu bytes)", (unsigned)s,
			      len);
		free(got);
	}
	store_mailbox_close(&mb);
	return n;
}

START_TEST(sigkill_appender)
{
	char *data = malloc(BIG);
	uint32_t before = 0, after;
	struct fx fx;

	ck_assert_ptr_nonnull(data);
	fill_big(data);
	fx_init(&fx, _i);
	srand((unsigned)time(NULL));
	for (int round = 0; round < 6; round++) {
		pid_t kid = fork();
		struct timespec ts = {0, (long)(rand() % 20) * 1000000L};

		ck_assert_int_ge(kid, 0);
		if (kid == 0) {
			for (;;)
				fx_append_ex(&fx, "INBOX", data, BIG, 4096, 0,
					     NULL, 0, 0);
		}
		nanosleep(&ts, NULL);
		kill(kid, SIGKILL);
		ck_assert_int_eq(waitpid(kid, NULL, 0), kid);
		after = check_complete(&fx, data);
		ck_assert_uint_ge(after, before);
		before = after;
	}
	/* The dead appender's locks do not block anyone. */
	fx_append_ex(&fx, "INBOX", data, BIG, 0, 0, NULL, 0, 0);
	ck_assert_uint_eq(check_complete(&fx, data), before + 1);
	free(data);
	fx_done(&fx);
}
END_TEST

/* mbox: an appender died after writing part of a message that happens
 * to end like a whole one; its dotlock says where it started. */
START_TEST(mbox_append_undone)
{
	const char *tail = "From x@example.org Mon Jan  1 00:00:00 2024\n"
			   "Subject: only the header\n\n";
	struct stat st, st2;
	char body[128];
	pid_t dead;
	int n;
	struct fx fx;

	fx_init(&fx, 1);
	fx_append(&fx, "INBOX", "Subject: kept\n\nbody\n");
	ck_assert_int_eq(stat(fx_path(&fx, "inbox"), &st), 0);
	dead = fork();
	if (dead == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(dead, NULL, 0), dead);
	n = snprintf(body, sizeof(body), "%ld:test.example\nappend %lld\n",
		     (long)dead, (long long)st.st_size);
	fx_write_file(fx_path(&fx, "inbox.lock"), body, (size_t)n, false);
	fx_write_file(fx_path(&fx, "inbox"), tail, strlen(tail), true);
	{
		struct store_mailbox *mb = fx_mb(&fx, "INBOX", 0);

		ck_assert_uint_eq(store_count(mb), 1);
		fx_expect_msg(mb, store_uid_at(mb, 1),
			      "Subject: kept\n\nbody\n");
		store_mailbox_close(&mb);
	}
	ck_assert_int_eq(stat(fx_path(&fx, "inbox"), &st2), 0);
	ck_assert_int_eq(st2.st_size, st.st_size);
	fx_done(&fx);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store_crash");
	TCase *tc = tcase_create("both");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, concurrent_appends, 0, 2);
	tcase_add_loop_test(tc, concurrent_flags, 0, 2);
	tcase_add_loop_test(tc, sigkill_appender, 0, 2);
	tcase_add_test(tc, mbox_append_undone);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
