/*
 * test_store_sync.c - noticing changes made by others, on both backends:
 * another handle, and outside programs writing the Maildir or the mbox
 * directly (a file dropped into new/, a flag rename, a deletion; an
 * mbox appended to with plain write(), rewritten by another MUA, or
 * reordered so that UIDVALIDITY must change). Also the inotify
 * descriptor for IDLE, the blob cache and usage counting.
 */
#include <dirent.h>
#include <poll.h>

#include "store_test.h"

static void outside_deliver(struct fx *fx, const char *name, const char *text)
{
	char path[PATH_MAX];

	if (fx->kind == STORE_KIND_MAILDIR) {
		ck_assert_int_lt(snprintf(path, sizeof(path), "%s/new/%s",
					  fx->root, name),
				 (int)sizeof(path));
		fx_write_file(path, text, strlen(text), false);
	} else {
		char line[128];

		snprintf(line, sizeof(line),
			 "From outside@example.org Mon Jan  1 00:00:00 2024\n");
		fx_write_file(fx_path(fx, "inbox"), line, strlen(line), true);
		fx_write_file(fx_path(fx, "inbox"), text, strlen(text), true);
		fx_write_file(fx_path(fx, "inbox"), "\n", 1, true);
	}
}

START_TEST(other_handle)
{
	struct store_mailbox *a, *b;
	struct store_changes ch;
	struct store_uid_range r;
	struct store_uidset set;
	uint32_t u1, u2;
	struct fx fx;

	fx_init(&fx, _i);
	u1 = fx_append(&fx, "INBOX", "one\n");
	a = fx_mb(&fx, "INBOX", 0);
	b = fx_mb(&fx, "INBOX", 0);
	u2 = fx_append(&fx, "INBOX", "two\n");
	fx_sync(a, &ch);
	ck_assert_uint_eq(ch.n_added, 1);
	ck_assert_uint_eq(ch.added[0], u2);
	ck_assert_uint_eq(ch.n_expunged, 0);
	ck_assert(!ch.reset);
	store_changes_clear(&ch);
	fx_sync(a, &ch); /* nothing new */
	ck_assert_uint_eq(ch.n_added + ch.n_expunged + ch.n_changed, 0);
	store_changes_clear(&ch);
	set = fx_set(&r, u1, u1);
	ck_assert_int_eq(store_flags_change(a, &set, STORE_FLAGS_ADD,
					    STORE_F_DELETED, NULL, 0, &fx.err),
			 0);
	ck_assert_int_eq(store_expunge(a, NULL, &ch, &fx.err), 0);
	store_changes_clear(&ch);
	fx_sync(b, &ch);
	ck_assert_uint_eq(ch.n_expunged, 1);
	ck_assert_uint_eq(ch.expunged[0], u1);
	ck_assert_uint_eq(ch.expunged_seqs[0], 1);
	ck_assert_uint_eq(ch.n_added, 1);
	store_changes_clear(&ch);
	fx_expect_msg(b, u2, "two\n");
	store_mailbox_close(&a);
	store_mailbox_close(&b);
	fx_done(&fx);
}
END_TEST

START_TEST(outside_delivery)
{
	struct store_mailbox *mb;
	struct store_changes ch;
	uint32_t u1;
	struct fx fx;

	fx_init(&fx, _i);
	u1 = fx_append(&fx, "INBOX", "mine\n");
	mb = fx_mb(&fx, "INBOX", 0);
	outside_deliver(&fx, "1700000000.M1P1.elsewhere",
			"Subject: out\n\nx\n");
	outside_deliver(&fx, "1700000001.M1P1.elsewhere",
			"Subject: out2\n\ny\n");
	fx_sync(mb, &ch);
	ck_assert_uint_eq(ch.n_added, 2);
	ck_assert_uint_gt(ch.added[0], u1);
	ck_assert_uint_gt(ch.added[1], ch.added[0]);
	fx_expect_msg(mb, ch.added[0], "Subject: out\n\nx\n");
	fx_expect_msg(mb, ch.added[1], "Subject: out2\n\ny\n");
	ck_assert(store_msg_info(mb, 2, &(struct store_msg_info){0}, NULL) ==
		  0);
	store_changes_clear(&ch);
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

/* Maildir: a flag rename and a deletion by another program. */
START_TEST(maildir_outside_changes)
{
	struct store_mailbox *mb;
	struct store_changes ch;
	struct store_msg_info info;
	char cur[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	struct dirent *de;
	uint32_t u1, u2;
	DIR *d;
	struct fx fx;

	fx_init(&fx, 0);
	u1 = fx_append(&fx, "INBOX", "one\n");
	u2 = fx_append(&fx, "INBOX", "second\n");
	mb = fx_mb(&fx, "INBOX", 0); /* moves both to cur/ */
	ck_assert_int_lt(snprintf(cur, sizeof(cur), "%s/cur", fx.root),
			 (int)sizeof(cur));
	d = opendir(cur);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		ck_assert_int_lt(
			snprintf(from, sizeof(from), "%s/%s", cur, de->d_name),
			(int)sizeof(from));
		if (strstr(de->d_name, ",S=7") != NULL) {
			ck_assert_int_eq(unlink(from), 0);
			continue;
		}
		ck_assert_ptr_nonnull(strstr(de->d_name, ":2,"));
		ck_assert_int_lt(snprintf(to, sizeof(to), "%sF", from),
				 (int)sizeof(to));
		ck_assert_int_eq(rename(from, to), 0);
	}
	closedir(d);
	fx_sync(mb, &ch);
	ck_assert_uint_eq(ch.n_changed, 1);
	ck_assert_uint_eq(ch.changed[0], u1);
	ck_assert_uint_eq(ch.n_expunged, 1);
	ck_assert_uint_eq(ch.expunged[0], u2);
	store_changes_clear(&ch);
	ck_assert_int_eq(store_msg_info(mb, 1, &info, &fx.err), 0);
	ck_assert(info.flags & STORE_F_FLAGGED);
	fx_expect_msg(mb, u1, "one\n");
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

START_TEST(vanished_file)
{
	struct store_mailbox *mb;
	struct store_changes ch;
	struct store_msg *msg;
	uint32_t u1, u2;
	size_t got;
	char buf[16];
	struct fx fx;

	fx_init(&fx, _i);
	store_close(&fx.st);
	fx.cfg.lock_timeout_ms = 300;
	fx_open(&fx);
	u1 = fx_append(&fx, "INBOX", "Subject: one\n\nfirst\n");
	u2 = fx_append(&fx, "INBOX", "Subject: two\n\nsecond\n");
	mb = fx_mb(&fx, "INBOX", 0);
	/* Open, then have the file go away under the reader. */
	ck_assert_int_eq(store_msg_open(mb, u1, &msg, &fx.err), 0);
	if (fx.kind == STORE_KIND_MAILDIR) {
		struct store_uid_range r;
		struct store_uidset set = fx_set(&r, u1, u1);
		struct store_mailbox *other = fx_mb(&fx, "INBOX", 0);

		ck_assert_int_eq(
			store_flags_change(other, &set, STORE_FLAGS_ADD,
					   STORE_F_DELETED, NULL, 0, &fx.err),
			0);
		ck_assert_int_eq(store_expunge(other, NULL, &ch, &fx.err), 0);
		store_changes_clear(&ch);
		store_mailbox_close(&other);
		ck_assert_int_eq(store_msg_read(msg, 0, buf, 12, &got, &fx.err),
				 0);
		ck_assert_uint_eq(got, 12);
		ck_assert(memcmp(buf, "Subject: one", 12) == 0);
	} else {
		/* mbox: the open handle keeps the expunge waiting. */
		struct store_uid_range r;
		struct store_uidset set = fx_set(&r, u1, u1);
		struct store_mailbox *other = fx_mb(&fx, "INBOX", 0);

		ck_assert_int_eq(
			store_flags_change(other, &set, STORE_FLAGS_ADD,
					   STORE_F_DELETED, NULL, 0, &fx.err),
			0);
		ck_assert_int_eq(store_expunge(other, NULL, &ch, &fx.err), -1);
		ck_assert_int_eq(fx.err.code, STORE_E_LOCKED);
		store_msg_close(&msg);
		ck_assert_int_eq(store_expunge(other, NULL, &ch, &fx.err), 0);
		store_changes_clear(&ch);
		store_mailbox_close(&other);
	}
	store_msg_close(&msg);
	/* Gone before opening: STORE_E_EXPUNGED until the next sync. */
	ck_assert_int_eq(store_msg_open(mb, u1, &msg, &fx.err), -1);
	ck_assert_int_eq(fx.err.code, STORE_E_EXPUNGED);
	fx_sync(mb, &ch);
	ck_assert_uint_eq(ch.n_expunged, 1);
	store_changes_clear(&ch);
	fx_expect_msg(mb, u2, "Subject: two\n\nsecond\n");
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

/* mbox rewritten by another MUA: the first message removed, another
 * appended. The survivors keep their UIDs. */
START_TEST(mbox_outside_rewrite)
{
	const char *m2 = "From b@example.org Tue Jan  2 00:00:00 2024\n"
			 "Subject: two\n\nsecond\n\n";
	const char *m3 = "From c@example.org Wed Jan  3 00:00:00 2024\n"
			 "Subject: three\n\nthird\n\n";
	struct store_mailbox *mb;
	struct store_changes ch;
	struct store_status s0, s;
	char *data;
	size_t len;
	uint32_t u1, u2;
	struct fx fx;

	fx_init(&fx, 1);
	u1 = fx_append(&fx, "INBOX", "Subject: one\n\nfirst\n");
	fx_write_file(fx_path(&fx, "inbox"), m2, strlen(m2), true);
	mb = fx_mb(&fx, "INBOX", 0);
	store_mailbox_status(mb, &s0);
	ck_assert_uint_eq(s0.messages, 2);
	u2 = store_uid_at(mb, 2);
	fx_expect_msg(mb, u2, "Subject: two\n\nsecond\n");
	/* Rewrite: drop the first message, add a third. */
	len = strlen(m2) + strlen(m3);
	data = malloc(len + 1);
	snprintf(data, len + 1, "%s%s", m2, m3);
	fx_write_file(fx_path(&fx, "inbox"), data, len, false);
	free(data);
	fx_sync(mb, &ch);
	ck_assert(!ch.reset);
	ck_assert_uint_eq(ch.n_expunged, 1);
	ck_assert_uint_eq(ch.expunged[0], u1);
	ck_assert_uint_eq(ch.n_added, 1);
	ck_assert_uint_gt(ch.added[0], u2);
	store_changes_clear(&ch);
	fx_expect_msg(mb, u2, "Subject: two\n\nsecond\n");
	/* A new message before the old ones: UIDs cannot stay ascending,
	 * so they are renumbered under a new UIDVALIDITY. */
	{
		const char *m0 = "From a@example.org Mon Jan  1 00:00:00 2024\n"
				 "Subject: zero\n\nzeroth\n\n";

		len = strlen(m0) + strlen(m2) + strlen(m3);
		data = malloc(len + 1);
		snprintf(data, len + 1, "%s%s%s", m0, m2, m3);
		fx_write_file(fx_path(&fx, "inbox"), data, len, false);
		free(data);
	}
	fx_sync(mb, &ch);
	ck_assert(ch.reset);
	store_changes_clear(&ch);
	store_mailbox_status(mb, &s);
	ck_assert_uint_ne(s.uidvalidity, s0.uidvalidity);
	ck_assert_uint_eq(s.messages, 3);
	fx_expect_msg(mb, store_uid_at(mb, 3), "Subject: three\n\nthird\n");
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

static bool readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) == 1;
}

START_TEST(watch)
{
	struct store_mailbox *mb;
	struct store_changes ch;
	int fd;
	struct fx fx;

	fx_init(&fx, _i);
	mb = fx_mb(&fx, "INBOX", 0);
	fd = store_watch_fd(mb, &fx.err);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(store_watch_fd(mb, &fx.err), fd);
	ck_assert(!readable(fd, 0));
	fx_append(&fx, "INBOX", "wake up\n");
	ck_assert(readable(fd, 1000));
	fx_sync(mb, &ch);
	ck_assert_uint_eq(ch.n_added, 1);
	store_changes_clear(&ch);
	/* The sync's own writes may wake the watcher once; a sync that
	 * finds nothing writes nothing. */
	fx_sync(mb, &ch);
	ck_assert_uint_eq(ch.n_added + ch.n_expunged + ch.n_changed, 0);
	store_changes_clear(&ch);
	ck_assert(!readable(fd, 0));
	outside_deliver(&fx, "1700000000.M2P2.elsewhere", "x\n");
	ck_assert(readable(fd, 1000));
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

START_TEST(cache_and_usage)
{
	struct store_mailbox *mb, *mb2;
	uint64_t bytes, msgs;
	void *data;
	size_t len;
	uint32_t u1;
	struct fx fx;

	fx_init(&fx, _i);
	u1 = fx_append(&fx, "INBOX", "12345\n");
	ck_assert_int_eq(store_create(fx.st, "Other", &fx.err), 0);
	fx_append(&fx, "Other", "abc\n");
	ck_assert_int_eq(store_usage(fx.st, &bytes, &msgs, &fx.err), 0);
	ck_assert_uint_eq(bytes, 10);
	ck_assert_uint_eq(msgs, 2);
	mb = fx_mb(&fx, "INBOX", 0);
	ck_assert_int_eq(store_cache_get(mb, u1, STORE_CACHE_ENVELOPE, &data,
					 &len, &fx.err),
			 0);
	ck_assert_ptr_null(data);
	ck_assert_int_eq(store_cache_put(mb, u1, STORE_CACHE_ENVELOPE, "(env)",
					 5, &fx.err),
			 0);
	ck_assert_int_eq(
		store_cache_put(mb, u1, STORE_CACHE_BODY, "", 0, &fx.err), 0);
	ck_assert_int_eq(store_cache_put(mb, u1, STORE_CACHE_ENVELOPE, "(env2)",
					 6, &fx.err),
			 0);
	mb2 = fx_mb(&fx, "INBOX", 0);
	ck_assert_int_eq(store_cache_get(mb2, u1, STORE_CACHE_ENVELOPE, &data,
					 &len, &fx.err),
			 0);
	ck_assert_uint_eq(len, 6);
	ck_assert(memcmp(data, "(env2)", 6) == 0);
	free(data);
	ck_assert_int_eq(store_cache_get(mb2, u1, STORE_CACHE_BODY, &data, &len,
					 &fx.err),
			 0);
	ck_assert_ptr_nonnull(data);
	ck_assert_uint_eq(len, 0);
	free(data);
	ck_assert_int_eq(store_cache_put(mb2, u1, 7, "x", 1, &fx.err), 0);
	ck_assert_int_eq(store_cache_get(mb, u1, 7, &data, &len, &fx.err), 0);
	ck_assert_uint_eq(len, 1);
	free(data);
	store_mailbox_close(&mb2);
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store_sync");
	TCase *tc = tcase_create("both");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, other_handle, 0, 2);
	tcase_add_loop_test(tc, outside_delivery, 0, 2);
	tcase_add_test(tc, maildir_outside_changes);
	tcase_add_loop_test(tc, vanished_file, 0, 2);
	tcase_add_test(tc, mbox_outside_rewrite);
	tcase_add_loop_test(tc, watch, 0, 2);
	tcase_add_loop_test(tc, cache_and_usage, 0, 2);
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
