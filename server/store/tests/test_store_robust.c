/*
 * test_store_robust.c - bad input and bad luck, on both backends:
 * damaged or missing dovecot-uidlist, index and mbox files (UIDs kept
 * where the rules of RFC 3501 2.3.1.1 allow, UIDVALIDITY changed only
 * when nothing is left to rebuild from), a full disk (RLIMIT_FSIZE with
 * SIGXFSZ ignored: nothing acknowledged is lost, the mailbox still
 * parses), stale and live locks (dotlocks and another process's fcntl
 * lock, as mutt would hold), an interrupted mbox expunge and a partial
 * mbox append left by a crash.
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "store/store_util.h"
#define FX_FSYNC true
#include "store_test.h"

static void fill(struct fx *fx, int n, uint32_t *uids)
{
	for (int i = 0; i < n; i++) {
		char text[64];

		ck_assert_int_lt(snprintf(text, sizeof(text),
					  "Subject: %d\n\nmessage %d\n", i, i),
				 (int)sizeof(text));
		uids[i] = fx_append(fx, "INBOX", text);
	}
}

static void expect_uids(struct fx *fx, const uint32_t *uids, int n,
			uint32_t uidv)
{
	struct store_mailbox *mb = fx_mb(fx, "INBOX", 0);
	struct store_status s;

	store_mailbox_status(mb, &s);
	ck_assert_uint_eq(s.messages, (uint32_t)n);
	if (uidv != 0)
		ck_assert_uint_eq(s.uidvalidity, uidv);
	for (int i = 0; i < n; i++) {
		char text[64];

		ck_assert_int_lt(snprintf(text, sizeof(text),
					  "Subject: %d\n\nmessage %d\n", i, i),
				 (int)sizeof(text));
		if (uids != NULL)
			ck_assert_uint_eq(store_uid_at(mb, (uint32_t)i + 1),
					  uids[i]);
		fx_expect_msg(mb, store_uid_at(mb, (uint32_t)i + 1), text);
	}
	store_mailbox_close(&mb);
}

static uint32_t uidv_of(struct fx *fx)
{
	struct store_status s;

	ck_assert_int_eq(store_status(fx->st, "INBOX", &s, &fx->err), 0);
	return s.uidvalidity;
}

static void truncate_file(const char *path, long keep)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(truncate(path, keep >= 0 ? keep : st.st_size + keep),
			 0);
}

START_TEST(maildir_uidlist_damage)
{
	uint32_t uids[4], uidv;
	struct fx fx;

	fx_init(&fx, 0);
	fill(&fx, 4, uids);
	uidv = uidv_of(&fx);
	/* Cut in the middle of the last record: rebuilt from the index. */
	truncate_file(fx_path(&fx, "dovecot-uidlist"), -10);
	expect_uids(&fx, uids, 4, uidv);
	/* Garbage instead of a header: rebuilt from the index. */
	fx_write_file(fx_path(&fx, "dovecot-uidlist"), "garbage\n", 8, false);
	expect_uids(&fx, uids, 4, uidv);
	/* A stale N (Dovecot appends without updating it). */
	{
		char text[256];
		int n = snprintf(text, sizeof(text), "3 V%u N2\n",
				 (unsigned)uidv);
		struct store_status s;

		fx_write_file(fx_path(&fx, "dovecot-uidlist"), text, (size_t)n,
			      false);
		unlink(fx_path(&fx, "quill-index"));
		ck_assert_int_eq(store_status(fx.st, "INBOX", &s, &fx.err), 0);
		ck_assert_uint_eq(s.uidvalidity, uidv);
		ck_assert_uint_ge(s.uidnext, 6); /* 2..5 given afresh */
	}
	/* Both gone: a new UIDVALIDITY, every message still there. */
	unlink(fx_path(&fx, "dovecot-uidlist"));
	unlink(fx_path(&fx, "quill-index"));
	expect_uids(&fx, NULL, 4, 0);
	ck_assert_uint_ne(uidv_of(&fx), uidv);
	/* A damaged keyword file costs keywords, nothing else. */
	fx_write_file(fx_path(&fx, "dovecot-keywords"), "x y\n\0\1", 6, false);
	expect_uids(&fx, NULL, 4, 0);
	fx_done(&fx);
}
END_TEST

START_TEST(index_damage)
{
	const char *idx = NULL;
	uint32_t uids[3], uidv;
	struct stat st;
	struct fx fx;
	char byte;
	int fd;

	fx_init(&fx, _i);
	fill(&fx, 3, uids);
	uidv = uidv_of(&fx);
	idx = fx_path(&fx, fx.kind == STORE_KIND_MAILDIR
				   ? "quill-index"
				   : ".inbox.quill-index");
	ck_assert_int_eq(stat(idx, &st), 0);
	fd = open(idx, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &byte, 1, st.st_size - 70), 1);
	byte ^= 0x40;
	ck_assert_int_eq(pwrite(fd, &byte, 1, st.st_size - 70), 1);
	close(fd);
	/* Only a cache: the UID list (Maildir) or the X-UID and X-IMAPbase
	 * lines in the mbox still hold. */
	expect_uids(&fx, uids, 3, uidv);
	truncate_file(idx, 50);
	expect_uids(&fx, uids, 3, uidv);
	fx_write_file(idx, "", 0, false);
	expect_uids(&fx, uids, 3, uidv);
	fx_done(&fx);
}
END_TEST

START_TEST(mbox_damage)
{
	const char *junk = "junk before any From_ line\n\n";
	const char *partial = "From x@example.org Mon Jan  1 00:00:00 2024\n"
			      "Subject: cut";
	uint32_t uids[3], uidv;
	struct stat st, st2;
	struct fx fx;

	fx_init(&fx, 1);
	/* Junk before the first message is not mail. */
	fx_write_file(fx_path(&fx, "inbox"), junk, strlen(junk), false);
	unlink(fx_path(&fx, ".inbox.quill-index"));
	fill(&fx, 3, uids);
	uidv = uidv_of(&fx);
	expect_uids(&fx, uids, 3, uidv);
	/* An append cut in the middle of a line is undone. */
	ck_assert_int_eq(stat(fx_path(&fx, "inbox"), &st), 0);
	fx_write_file(fx_path(&fx, "inbox"), partial, strlen(partial), true);
	expect_uids(&fx, uids, 3, uidv);
	ck_assert_int_eq(stat(fx_path(&fx, "inbox"), &st2), 0);
	ck_assert_int_eq(st.st_size, st2.st_size);
	/* A file cut inside a message: that message shrinks, UIDs stay
	 * for the messages before it. */
	truncate_file(fx_path(&fx, "inbox"), -5);
	{
		struct store_mailbox *mb = fx_mb(&fx, "INBOX", 0);

		ck_assert_uint_eq(store_count(mb), 3);
		ck_assert_uint_eq(store_uid_at(mb, 1), uids[0]);
		store_mailbox_close(&mb);
	}
	fx_done(&fx);
}
END_TEST

/* An expunge interrupted after its journal was written is finished by
 * the next process that locks the mailbox. */
START_TEST(mbox_journal_replay)
{
	const char *m[3] = {
		"From a@x Mon Jan  1 00:00:00 2024\nSubject: 0\n\nmessage "
		"0\n\n",
		"From b@x Mon Jan  1 00:00:01 2024\nSubject: 1\n\nmessage "
		"1\n\n",
		"From c@x Mon Jan  1 00:00:02 2024\nSubject: 2\n\nmessage "
		"2\n\n",
	};
	struct store_mailbox *mb;
	uint32_t u1, u2;
	char rest[256], journal[128];
	size_t off0 = strlen(m[0]);
	struct fx fx;
	int n;

	fx_init(&fx, 1);
	for (int i = 0; i < 3; i++)
		fx_write_file(fx_path(&fx, "inbox"), m[i], strlen(m[i]), true);
	mb = fx_mb(&fx, "INBOX", 0);
	u1 = store_uid_at(mb, 2);
	u2 = store_uid_at(mb, 3);
	store_mailbox_close(&mb);
	/* Expunge message 1 (from its offset on, keep message 2). */
	n = snprintf(rest, sizeof(rest), "%s", m[2]);
	fx_write_file(fx_path(&fx, ".inbox.quill-expunge"), rest, (size_t)n,
		      false);
	n = snprintf(journal, sizeof(journal), "QJ1 %zu %zu %llx\n", off0,
		     strlen(m[2]),
		     (unsigned long long)store_hash(STORE_HASH_INIT, rest,
						    strlen(rest)));
	/* The journal names the start of message 1 = end of message 0. */
	fx_write_file(fx_path(&fx, ".inbox.quill-journal"), journal, (size_t)n,
		      false);
	mb = fx_mb(&fx, "INBOX", 0);
	ck_assert_uint_eq(store_count(mb), 2);
	ck_assert_uint_eq(store_uid_at(mb, 2), u2);
	ck_assert_uint_eq(store_seq_of(mb, u1), 0);
	fx_expect_msg(mb, u2, "Subject: 2\n\nmessage 2\n");
	store_mailbox_close(&mb);
	ck_assert_int_ne(access(fx_path(&fx, ".inbox.quill-journal"), F_OK), 0);
	ck_assert_int_ne(access(fx_path(&fx, ".inbox.quill-expunge"), F_OK), 0);
	fx_done(&fx);
}
END_TEST

/* Writes past `bytes` more than the file sizes fail with EFBIG. */
static void limit_writes(rlim_t bytes, struct rlimit *old)
{
	struct rlimit r = {bytes, bytes};

	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, old), 0);
	r.rlim_max = old->rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &r), 0);
}

START_TEST(disk_full)
{
	size_t big = 120 * 1024;
	char *data = malloc(big);
	struct store_append *ap;
	struct rlimit old;
	struct stat st;
	uint32_t uids[3];
	int rc;
	struct fx fx;

	fx_init(&fx, _i);
	for (size_t i = 0; i < big; i++)
		data[i] = i % 50 == 49 ? '\n' : 'x';
	if (fx.kind == STORE_KIND_MBOX) /* bytes before any From_ line */
		fx_write_file(fx_path(&fx, "inbox"), data, big, false);
	fill(&fx, 3, uids);
	ck_assert_int_eq(stat(fx_inbox(&fx), &st), 0);
	/* mbox: the temporary copy fits, the mailbox append does not. */
	limit_writes((rlim_t)(fx.kind == STORE_KIND_MBOX
				      ? (size_t)st.st_size + big / 2
				      : big / 2),
		     &old);
	rc = store_append_begin(fx.st, "INBOX", NULL, &ap, &fx.err);
	ck_assert_int_eq(rc, 0);
	rc = store_append_write(ap, data, big, &fx.err);
	if (rc == 0)
		rc = store_append_commit(&ap, 0, NULL, 0, 0, NULL, NULL,
					 &fx.err);
	else
		store_append_abort(&ap);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(fx.err.code == STORE_E_NOSPACE, "code %d: %s",
		      fx.err.code, fx.err.msg);
	ck_assert(store_error_temporary(fx.err.code));
	if (fx.kind == STORE_KIND_MBOX)
		ck_assert_ptr_nonnull(strstr(fx.err.msg, "appending"));
	/* Nothing acknowledged is lost; the mailbox parses as before. */
	expect_uids(&fx, uids, 3, 0);
	if (fx.kind == STORE_KIND_MBOX) {
		struct stat st2;

		ck_assert_int_eq(stat(fx_inbox(&fx), &st2), 0);
		ck_assert_int_eq(st2.st_size, st.st_size);
	}
	/* And it works again once there is room. */
	ck_assert_uint_gt(
		fx_append_ex(&fx, "INBOX", data, big, 0, 0, NULL, 0, 0),
		uids[2]);
	free(data);
	fx_done(&fx);
}
END_TEST

static const char *lock_file(struct fx *fx)
{
	return fx_path(fx, fx->kind == STORE_KIND_MAILDIR
				   ? "dovecot-uidlist.lock"
				   : "inbox.lock");
}

static pid_t dead_pid(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}

START_TEST(stale_locks)
{
	struct timespec old[2] = {{time(NULL) - 1000, 0},
				  {time(NULL) - 1000, 0}};
	char body[64];
	int n;
	struct fx fx;

	fx_init(&fx, _i);
	/* The owner is on this host and dead: taken over at once. */
	n = snprintf(body, sizeof(body), "%ld:test.example\n",
		     (long)dead_pid());
	fx_write_file(lock_file(&fx), body, (size_t)n, false);
	fx_append(&fx, "INBOX", "a\n");
	ck_assert_int_ne(access(lock_file(&fx), F_OK), 0);
	/* An unknown owner and old enough: stale. */
	fx_write_file(lock_file(&fx), "", 0, false);
	ck_assert_int_eq(utimensat(AT_FDCWD, lock_file(&fx), old, 0), 0);
	fx_append(&fx, "INBOX", "b\n");
	ck_assert_int_ne(access(lock_file(&fx), F_OK), 0);
	fx_done(&fx);
}
END_TEST

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void expect_locked(struct fx *fx)
{
	struct store_append *ap;
	uint32_t uid;
	uint64_t t0 = now_ms();
	int rc;

	ck_assert_int_eq(
		store_append_begin(fx->st, "INBOX", NULL, &ap, &fx->err), 0);
	ck_assert_int_eq(store_append_write(ap, "x\n", 2, &fx->err), 0);
	rc = store_append_commit(&ap, 0, NULL, 0, 0, NULL, &uid, &fx->err);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(fx->err.code, STORE_E_LOCKED);
	ck_assert_uint_ge(now_ms() - t0, 150);
}

START_TEST(live_locks)
{
	char body[64];
	int n, up[2], down[2];
	pid_t child;
	struct fx fx;

	fx_init(&fx, _i);
	store_close(&fx.st);
	fx.cfg.lock_timeout_ms = 200;
	fx_open(&fx);
	/* A dotlock whose owner (we) is alive. */
	n = snprintf(body, sizeof(body), "%ld:test.example\n", (long)getpid());
	fx_write_file(lock_file(&fx), body, (size_t)n, false);
	expect_locked(&fx);
	unlink(lock_file(&fx));
	if (fx.kind == STORE_KIND_MBOX) {
		/* Another process's POSIX fcntl lock, as mutt holds it. */
		ck_assert_int_eq(pipe(up), 0);
		ck_assert_int_eq(pipe(down), 0);
		child = fork();
		ck_assert_int_ge(child, 0);
		if (child == 0) {
			struct flock fl = {.l_type = F_WRLCK,
					   .l_whence = SEEK_SET};
			int fd = open(fx_path(&fx, "inbox"), O_RDWR);
			char c;

			if (fd < 0 || fcntl(fd, F_SETLK, &fl) != 0)
				_exit(1);
			if (write(up[1], "l", 1) != 1 ||
			    read(down[0], &c, 1) < 0)
				_exit(1);
			_exit(0);
		}
		{
			char c;

			ck_assert_int_eq(read(up[0], &c, 1), 1);
		}
		expect_locked(&fx);
		ck_assert_int_eq(write(down[1], "x", 1), 1);
		ck_assert_int_eq(waitpid(child, NULL, 0), child);
		for (int i = 0; i < 2; i++) {
			close(up[i]);
			close(down[i]);
		}
	}
	fx_append(&fx, "INBOX", "free again\n");
	fx_done(&fx);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store_robust");
	TCase *tc = tcase_create("both");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, maildir_uidlist_damage);
	tcase_add_loop_test(tc, index_damage, 0, 2);
	tcase_add_test(tc, mbox_damage);
	tcase_add_test(tc, mbox_journal_replay);
	tcase_add_loop_test(tc, disk_full, 0, 2);
	tcase_add_loop_test(tc, stale_locks, 0, 2);
	tcase_add_loop_test(tc, live_locks, 0, 2);
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
