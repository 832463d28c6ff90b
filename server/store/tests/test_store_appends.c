/*
 * test_store_appends.c - appends that want UIDs add to the UID state
 * instead of rewriting it (both backends): the index (and Maildir's
 * dovecot-uidlist) keeps its inode and grows, Dovecot's record lines
 * are appended, what is read back (also with the index gone, or a delta
 * torn by a crash) is the same mailbox.
 */
#include "store_test.h"

static ino_t inode(const char *path, off_t *size)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	if (size != NULL)
		*size = st.st_size;
	return st.st_ino;
}

static const char *index_name(const struct fx *fx)
{
	return fx->kind == STORE_KIND_MAILDIR ? "quill-index"
					      : ".inbox.quill-index";
}

static void expect(struct fx *fx, const uint32_t *uids, int n, uint32_t uidv)
{
	struct store_mailbox *mb = fx_mb(fx, "INBOX", STORE_OPEN_READONLY);
	struct store_status s;

	store_mailbox_status(mb, &s);
	ck_assert_uint_eq(s.messages, (uint32_t)n);
	ck_assert_uint_eq(s.uidvalidity, uidv);
	for (int i = 0; i < n; i++) {
		char text[64];

		snprintf(text, sizeof(text), "Subject: %d\n\nbody %d\n", i, i);
		ck_assert_uint_eq(store_uid_at(mb, (uint32_t)i + 1), uids[i]);
		fx_expect_msg(mb, uids[i], text);
	}
	store_mailbox_close(&mb);
}

static uint32_t add(struct fx *fx, int i, uint32_t *uidv)
{
	struct store_append *ap;
	char text[64];
	uint32_t uid = 0;
	int n = snprintf(text, sizeof(text), "Subject: %d\n\nbody %d\n", i, i);

	ck_assert_int_eq(
		store_append_begin(fx->st, "INBOX", NULL, &ap, &fx->err), 0);
	ck_assert_int_eq(store_append_write(ap, text, (size_t)n, &fx->err), 0);
	ck_assert_int_eq(store_append_commit(&ap, STORE_F_SEEN, NULL, 0, 0,
					     uidv, &uid, &fx->err),
			 0);
	return uid;
}

START_TEST(appends_add)
{
	char idx[PATH_MAX], ul[PATH_MAX];
	uint32_t uids[12], uidv = 0;
	off_t size0, size1;
	ino_t ino_idx, ino_ul = 0;
	struct fx fx;

	fx_init(&fx, _i);
	snprintf(idx, sizeof(idx), "%s", fx_path(&fx, index_name(&fx)));
	snprintf(ul, sizeof(ul), "%s", fx_path(&fx, "dovecot-uidlist"));
	uids[0] = add(&fx, 0, &uidv);
	ino_idx = inode(idx, &size0);
	if (fx.kind == STORE_KIND_MAILDIR)
		ino_ul = inode(ul, NULL);
	for (int i = 1; i < 12; i++) {
		uids[i] = add(&fx, i, NULL);
		ck_assert_uint_gt(uids[i], uids[i - 1]);
	}
	ck_assert_int_eq(inode(idx, &size1), ino_idx);
	ck_assert_int_gt(size1, size0);
	if (fx.kind == STORE_KIND_MAILDIR) {
		FILE *f = fopen(ul, "r");
		char line[512], last[512] = "";

		ck_assert_int_eq(inode(ul, NULL), ino_ul);
		ck_assert_ptr_nonnull(f);
		while (fgets(line, sizeof(line), f) != NULL)
			memcpy(last, line, sizeof(last));
		fclose(f);
		/* Dovecot's record line "<uid> :<base>" */
		ck_assert_uint_eq(strtoul(last, NULL, 10), uids[11]);
		ck_assert_ptr_nonnull(strstr(last, " :"));
	}
	expect(&fx, uids, 12, uidv);
	/* A delta torn by a crash: the index is stale, not wrong. */
	ck_assert_int_eq(truncate(idx, size1 - 5), 0);
	expect(&fx, uids, 12, uidv);
	{ /* the next append cuts the torn tail off */
		uint32_t more[13];

		memcpy(more, uids, sizeof(uids));
		more[12] = add(&fx, 12, NULL);
		expect(&fx, more, 13, uidv);
		/* Without the index: the same mailbox. */
		unlink(idx);
		expect(&fx, more, 13, uidv);
	}
	fx_done(&fx);
}
END_TEST

static Suite *appends_suite(void)
{
	Suite *s = suite_create("store_appends");
	TCase *tc = tcase_create("both");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, appends_add, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(appends_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
