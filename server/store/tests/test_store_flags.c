/*
 * test_store_flags.c - flags, keywords, \Recent, EXPUNGE, COPY and MOVE
 * on both backends (RFC 3501 2.3.2, 6.4.3, 6.4.6, 6.4.7; RFC 4315
 * UIDPLUS; RFC 6851 MOVE), and the UID rules of RFC 3501 2.3.1.1: UIDs
 * strictly ascending, never reused, UIDVALIDITY stable across reopening.
 */
#include "store_test.h"

static struct store_msg_info info_of(struct store_mailbox *mb, uint32_t uid)
{
	struct store_msg_info info;
	struct store_error err;

	ck_assert_int_eq(store_msg_info(mb, store_seq_of(mb, uid), &info, &err),
			 0);
	return info;
}

static bool has_kw(struct store_mailbox *mb, uint32_t uid, const char *kw)
{
	struct store_msg_info info = info_of(mb, uid);

	for (size_t i = 0; i < store_keyword_count(mb); i++)
		if (strcmp(store_keyword_name(mb, i), kw) == 0)
			return (info.keywords >> i) & 1;
	return false;
}

START_TEST(flags_and_keywords)
{
	const char *kw1[] = {"$Forwarded", "Work"};
	const char *kw2[] = {"work"};
	struct store_uid_range r;
	struct store_uidset set;
	struct store_mailbox *mb, *other;
	struct store_changes ch;
	uint32_t u1, u2;
	struct fx fx;

	fx_init(&fx, _i);
	u1 = fx_append_ex(&fx, "INBOX", "a\n", 2, 0, STORE_F_FLAGGED, kw1, 2,
			  0);
	u2 = fx_append(&fx, "INBOX", "b\n");
	mb = fx_mb(&fx, "INBOX", 0);
	other = fx_mb(&fx, "INBOX", 0);
	ck_assert(info_of(mb, u1).flags & STORE_F_FLAGGED);
	ck_assert(has_kw(mb, u1, "$Forwarded") && has_kw(mb, u1, "Work"));
	set = fx_set(&r, u1, u2);
	ck_assert_int_eq(store_flags_change(mb, &set, STORE_FLAGS_ADD,
					    STORE_F_SEEN | STORE_F_ANSWERED,
					    kw2, 1, &fx.err),
			 0);
	ck_assert(info_of(mb, u2).flags & STORE_F_SEEN);
	ck_assert(has_kw(mb, u2, "Work")); /* case-insensitive match */
	ck_assert_uint_eq(store_keyword_count(mb), 2);
	set = fx_set(&r, u1, u1);
	ck_assert_int_eq(store_flags_change(mb, &set, STORE_FLAGS_REMOVE,
					    STORE_F_FLAGGED, kw1, 1, &fx.err),
			 0);
	ck_assert_uint_eq(info_of(mb, u1).flags & STORE_F_PERMANENT,
			  STORE_F_SEEN | STORE_F_ANSWERED);
	ck_assert(!has_kw(mb, u1, "$Forwarded") && has_kw(mb, u1, "Work"));
	set = fx_set(&r, u2, u2);
	ck_assert_int_eq(store_flags_change(mb, &set, STORE_FLAGS_SET,
					    STORE_F_DRAFT, NULL, 0, &fx.err),
			 0);
	ck_assert_uint_eq(info_of(mb, u2).flags & STORE_F_PERMANENT,
			  STORE_F_DRAFT);
	ck_assert(!has_kw(mb, u2, "Work"));
	/* The other handle sees the changes at its next sync. */
	fx_sync(other, &ch);
	ck_assert_uint_eq(ch.n_changed, 2);
	ck_assert(ch.keywords_changed == false);
	ck_assert_uint_eq(info_of(other, u2).flags & STORE_F_PERMANENT,
			  STORE_F_DRAFT);
	store_changes_clear(&ch);
	fx_sync(mb, &ch); /* its own changes are not reported back */
	ck_assert_uint_eq(ch.n_changed, 0);
	store_changes_clear(&ch);
	/* Bad input. */
	ck_assert_int_eq(store_flags_change(mb, &set, STORE_FLAGS_ADD,
					    STORE_F_RECENT, NULL, 0, &fx.err),
			 -1);
	ck_assert_int_eq(fx.err.code, STORE_E_INVALID);
	{
		const char *bad[] = {"a b"};
		const char *bad2[] = {"\\Seen"};

		ck_assert_int_eq(store_flags_change(mb, &set, STORE_FLAGS_ADD,
						    0, bad, 1, &fx.err),
				 -1);
		ck_assert_int_eq(store_flags_change(mb, &set, STORE_FLAGS_ADD,
						    0, bad2, 1, &fx.err),
				 -1);
		ck_assert_int_eq(fx.err.code, STORE_E_INVALID);
	}
	store_mailbox_close(&other);
	store_mailbox_close(&mb);
	/* Flags survive reopening the store. */
	fx_reopen(&fx);
	mb = fx_mb(&fx, "INBOX", STORE_OPEN_READONLY);
	ck_assert_uint_eq(info_of(mb, u2).flags & STORE_F_PERMANENT,
			  STORE_F_DRAFT);
	ck_assert(has_kw(mb, u1, "Work"));
	ck_assert_int_eq(store_flags_change(mb, &set, STORE_FLAGS_ADD,
					    STORE_F_SEEN, NULL, 0, &fx.err),
			 -1);
	ck_assert_int_eq(fx.err.code, STORE_E_READONLY);
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

START_TEST(keyword_limit)
{
	struct store_uid_range r;
	struct store_uidset set;
	struct store_mailbox *mb;
	size_t max;
	uint32_t uid;
	struct fx fx;

	fx_init(&fx, _i);
	uid = fx_append(&fx, "INBOX", "a\n");
	mb = fx_mb(&fx, "INBOX", 0);
	max = store_keyword_max(mb);
	ck_assert_uint_eq(max, fx.kind == STORE_KIND_MAILDIR ? 26 : 64);
	set = fx_set(&r, uid, uid);
	for (size_t i = 0; i <= max; i++) {
		char name[16];
		const char *kw[] = {name};
		int rc;

		snprintf(name, sizeof(name), "k%zu", i);
		rc = store_flags_change(mb, &set, STORE_FLAGS_ADD, 0, kw, 1,
					&fx.err);
		ck_assert_int_eq(rc, i < max ? 0 : -1);
	}
	ck_assert_int_eq(fx.err.code, STORE_E_LIMIT);
	ck_assert_uint_eq(store_keyword_count(mb), max);
	ck_assert_uint_eq(info_of(mb, uid).keywords,
			  max == 64 ? UINT64_MAX : (1ULL << max) - 1);
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

START_TEST(recent)
{
	struct store_mailbox *a, *b, *ro;
	struct store_status s;
	struct store_changes ch;
	uint32_t u1, u2;
	struct fx fx;

	fx_init(&fx, _i);
	u1 = fx_append(&fx, "INBOX", "one\n");
	ro = fx_mb(&fx, "INBOX", STORE_OPEN_READONLY);
	ck_assert(info_of(ro, u1).flags & STORE_F_RECENT);
	a = fx_mb(&fx, "INBOX", 0);
	b = fx_mb(&fx, "INBOX", 0);
	ck_assert(info_of(a, u1).flags & STORE_F_RECENT);
	ck_assert(!(info_of(b, u1).flags & STORE_F_RECENT));
	u2 = fx_append(&fx, "INBOX", "two\n");
	fx_sync(b, &ch);
	ck_assert_uint_eq(ch.n_added, 1);
	store_changes_clear(&ch);
	fx_sync(a, &ch);
	store_changes_clear(&ch);
	ck_assert(info_of(b, u2).flags & STORE_F_RECENT);
	ck_assert(!(info_of(a, u2).flags & STORE_F_RECENT));
	ck_assert(info_of(a, u1).flags & STORE_F_RECENT); /* kept */
	store_mailbox_status(a, &s);
	ck_assert_uint_eq(s.recent, 1);
	fx_sync(ro, &ch);
	store_changes_clear(&ch);
	ck_assert(!(info_of(ro, u1).flags & STORE_F_RECENT));
	store_mailbox_close(&a);
	store_mailbox_close(&b);
	store_mailbox_close(&ro);
	ck_assert_int_eq(store_status(fx.st, "INBOX", &s, &fx.err), 0);
	ck_assert_uint_eq(s.recent, 0);
	fx_done(&fx);
}
END_TEST

static void set_deleted(struct store_mailbox *mb, uint32_t uid)
{
	struct store_uid_range r;
	struct store_uidset set = fx_set(&r, uid, uid);
	struct store_error err;

	ck_assert_int_eq(store_flags_change(mb, &set, STORE_FLAGS_ADD,
					    STORE_F_DELETED, NULL, 0, &err),
			 0);
}

START_TEST(expunge)
{
	struct store_uid_range r;
	struct store_uidset set;
	struct store_mailbox *mb, *other;
	struct store_changes ch;
	uint32_t u[5];
	struct fx fx;

	fx_init(&fx, _i);
	for (int i = 0; i < 5; i++) {
		char text[32];

		snprintf(text, sizeof(text), "Subject: %d\n\nFrom %d\n", i, i);
		u[i] = fx_append(&fx, "INBOX", text);
	}
	mb = fx_mb(&fx, "INBOX", 0);
	other = fx_mb(&fx, "INBOX", STORE_OPEN_READONLY);
	set_deleted(mb, u[1]);
	set_deleted(mb, u[3]);
	set_deleted(mb, u[4]);
	/* UID EXPUNGE of a subset: only u[3] (u[0] lacks \Deleted). */
	set = fx_set(&r, u[2], u[3]);
	ck_assert_int_eq(store_expunge(mb, &set, &ch, &fx.err), 0);
	ck_assert_uint_eq(ch.n_expunged, 1);
	ck_assert_uint_eq(ch.expunged[0], u[3]);
	ck_assert_uint_eq(ch.expunged_seqs[0], 4);
	store_changes_clear(&ch);
	ck_assert_int_eq(store_expunge(mb, NULL, &ch, &fx.err), 0);
	ck_assert_uint_eq(ch.n_expunged, 2);
	ck_assert_uint_eq(ch.expunged[0], u[1]);
	ck_assert_uint_eq(ch.expunged_seqs[0], 2);
	ck_assert_uint_eq(ch.expunged_seqs[1], 4);
	store_changes_clear(&ch);
	ck_assert_uint_eq(store_count(mb), 2);
	fx_expect_msg(mb, u[2], "Subject: 2\n\nFrom 2\n");
	fx_sync(other, &ch);
	ck_assert_uint_eq(ch.n_expunged, 3);
	ck_assert_uint_eq(ch.expunged_seqs[2], 5);
	store_changes_clear(&ch);
	ck_assert_int_eq(store_expunge(other, NULL, &ch, &fx.err), -1);
	ck_assert_int_eq(fx.err.code, STORE_E_READONLY);
	store_mailbox_close(&other);
	store_mailbox_close(&mb);
	/* The highest UID was expunged: it is not given again. */
	fx_reopen(&fx);
	ck_assert_uint_gt(fx_append(&fx, "INBOX", "new\n"), u[4]);
	mb = fx_mb(&fx, "INBOX", 0);
	ck_assert_uint_eq(store_count(mb), 3);
	fx_expect_msg(mb, u[0], "Subject: 0\n\nFrom 0\n");
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

START_TEST(copy_and_move)
{
	const char *kw[] = {"Work"};
	struct store_uid_range r;
	struct store_uidset set;
	struct store_copy_result res;
	struct store_mailbox *mb, *dst;
	struct store_changes ch;
	struct store_status s;
	uint32_t u1, u2;
	struct fx fx;

	fx_init(&fx, _i);
	ck_assert_int_eq(store_create(fx.st, "Archive", &fx.err), 0);
	u1 = fx_append_ex(&fx, "INBOX", "one\n>From x\n", 12, 0, STORE_F_SEEN,
			  kw, 1, 1600000000);
	u2 = fx_append(&fx, "INBOX", "two\n");
	mb = fx_mb(&fx, "INBOX", 0);
	set = fx_set(&r, 1, UINT32_MAX);
	ck_assert_int_eq(store_copy(mb, &set, "Archive", &res, &fx.err), 0);
	ck_assert_uint_eq(res.count, 2);
	ck_assert_uint_eq(res.src_uids[0], u1);
	ck_assert_uint_eq(res.src_uids[1], u2);
	ck_assert_uint_lt(res.dst_uids[0], res.dst_uids[1]);
	ck_assert_int_eq(store_status(fx.st, "Archive", &s, &fx.err), 0);
	ck_assert_uint_eq(res.dst_uidvalidity, s.uidvalidity);
	dst = fx_mb(&fx, "Archive", 0);
	fx_expect_msg(dst, res.dst_uids[0], "one\n>From x\n");
	ck_assert(info_of(dst, res.dst_uids[0]).flags & STORE_F_SEEN);
	ck_assert(info_of(dst, res.dst_uids[0]).flags & STORE_F_RECENT);
	ck_assert_int_eq(info_of(dst, res.dst_uids[0]).internal_date,
			 1600000000);
	ck_assert(has_kw(dst, res.dst_uids[0], "Work"));
	store_copy_result_clear(&res);
	ck_assert_int_eq(store_copy(mb, &set, "Nope", &res, &fx.err), -1);
	ck_assert_int_eq(fx.err.code, STORE_E_NOTFOUND);
	set = fx_set(&r, 1000, 2000);
	ck_assert_int_eq(store_copy(mb, &set, "Archive", &res, &fx.err), 0);
	ck_assert_uint_eq(res.count, 0);
	/* MOVE: copied, then gone from the source whatever its flags. */
	set = fx_set(&r, u2, u2);
	ck_assert_int_eq(store_move(mb, &set, "Archive", &res, &ch, &fx.err),
			 0);
	ck_assert_uint_eq(res.count, 1);
	ck_assert_uint_eq(ch.n_expunged, 1);
	ck_assert_uint_eq(ch.expunged[0], u2);
	store_changes_clear(&ch);
	ck_assert_uint_eq(store_count(mb), 1);
	fx_sync(dst, &ch);
	ck_assert_uint_eq(ch.n_added, 1);
	store_changes_clear(&ch);
	ck_assert_uint_eq(store_count(dst), 3);
	fx_expect_msg(dst, res.dst_uids[0], "two\n");
	store_copy_result_clear(&res);
	store_mailbox_close(&dst);
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

START_TEST(uid_rules)
{
	struct store_status s1, s2;
	struct store_mailbox *mb;
	uint32_t prev = 0;
	struct fx fx;

	fx_init(&fx, _i);
	ck_assert_int_eq(store_status(fx.st, "INBOX", &s1, &fx.err), 0);
	ck_assert_uint_ne(s1.uidvalidity, 0);
	ck_assert_uint_eq(s1.uidnext, 1);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 4; i++) {
			uint32_t uid = fx_append(&fx, "INBOX", "m\n");

			ck_assert_uint_gt(uid, prev);
			prev = uid;
		}
		mb = fx_mb(&fx, "INBOX", 0);
		for (uint32_t seq = 1; seq < store_count(mb); seq++)
			ck_assert_uint_lt(store_uid_at(mb, seq),
					  store_uid_at(mb, seq + 1));
		ck_assert_uint_eq(store_uid_at(mb, 0), 0);
		ck_assert_uint_eq(store_seq_of(mb, prev + 1), 0);
		store_mailbox_close(&mb);
		fx_reopen(&fx);
		ck_assert_int_eq(store_status(fx.st, "INBOX", &s2, &fx.err), 0);
		ck_assert_uint_eq(s2.uidvalidity, s1.uidvalidity);
		ck_assert_uint_eq(s2.uidnext, prev + 1);
	}
	fx_done(&fx);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store_flags");
	TCase *tc = tcase_create("both");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, flags_and_keywords, 0, 2);
	tcase_add_loop_test(tc, keyword_limit, 0, 2);
	tcase_add_loop_test(tc, recent, 0, 2);
	tcase_add_loop_test(tc, expunge, 0, 2);
	tcase_add_loop_test(tc, copy_and_move, 0, 2);
	tcase_add_loop_test(tc, uid_rules, 0, 2);
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
