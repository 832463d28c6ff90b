/*
 * test_store_basic.c - the store API on both backends (every test runs
 * for Maildir and for mbox): mailbox names (RFC 3501 5.1, the refusals of
 * DESIGN.md "Bad input"), CREATE/DELETE/RENAME/SUBSCRIBE and LIST
 * attributes (RFC 3501 6.3, RFC 5258), streaming append and byte-exact
 * reads (including mboxrd ">From " quoting), STATUS, size limits.
 */
#include "store_test.h"

static void name_bad(struct fx *fx, const char *name, int code)
{
	char canon[1024];
	struct store_error err;

	ck_assert_msg(
		store_name_check(fx->st, name, canon, sizeof(canon), &err) != 0,
		"accepted %s", name);
	ck_assert_msg(err.code == code, "%s: code %d", name, err.code);
	ck_assert_int_ne(store_create(fx->st, name, &err), 0);
}

static void name_ok(struct fx *fx, const char *name, const char *want)
{
	char canon[1024];
	struct store_error err;

	ck_assert_msg(
		store_name_check(fx->st, name, canon, sizeof(canon), &err) == 0,
		"refused %s: %s", name, err.msg);
	ck_assert_str_eq(canon, want);
}

START_TEST(names)
{
	struct fx fx;
	char longname[300], deep[100];

	fx_init(&fx, _i);
	name_bad(&fx, "", STORE_E_BADNAME);
	name_bad(&fx, "../x", STORE_E_BADNAME);
	name_bad(&fx, "a/../x", STORE_E_BADNAME);
	name_bad(&fx, "/etc", STORE_E_BADNAME);
	name_bad(&fx, ".hidden", STORE_E_BADNAME);
	name_bad(&fx, "a/.b", STORE_E_BADNAME);
	name_bad(&fx, ".", STORE_E_BADNAME);
	name_bad(&fx,
		 "a\x01"
		 "b",
		 STORE_E_BADNAME);
	name_bad(&fx, "a\x7f", STORE_E_BADNAME);
	name_bad(&fx, "a\xc2\x80", STORE_E_BADNAME);	 /* C1 control */
	name_bad(&fx, "a\xff", STORE_E_BADNAME);	 /* not UTF-8 */
	name_bad(&fx, "a\xc0\xaf", STORE_E_BADNAME);	 /* overlong '/' */
	name_bad(&fx, "a\xed\xa0\x80", STORE_E_BADNAME); /* surrogate */
	name_bad(&fx, "a//b", STORE_E_BADNAME);
	name_bad(&fx, "a/", STORE_E_BADNAME);
	memset(longname, 'x', 256);
	longname[256] = '\0';
	name_bad(&fx, longname, STORE_E_BADNAME);
	for (int i = 0; i < 17; i++)
		memcpy(deep + 2 * i, "a/", 2);
	deep[33] = '\0';
	name_bad(&fx, deep, STORE_E_BADNAME);
	longname[240] = '\0';
	name_ok(&fx, longname, longname);
	for (int i = 0; i < 120; i++) /* 240 bytes, 360 encoded */
		memcpy(longname + 2 * i, "a.", 2);
	longname[239] = 'b';
	if (fx.kind == STORE_KIND_MAILDIR)
		name_bad(&fx, longname, STORE_E_BADNAME);
	name_ok(&fx, "Sent", "Sent");
	name_ok(&fx, "inbox", "INBOX");
	name_ok(&fx,
		"Entw\xc3\xbc"
		"rfe/v1.2 100%",
		"Entw\xc3\xbc"
		"rfe/v1.2 100%");
	if (fx.kind == STORE_KIND_MBOX) {
		name_bad(&fx, "x.lock", STORE_E_BADNAME);
		name_bad(&fx, "InBoX/x", STORE_E_NOINFERIORS);
	} else {
		name_ok(&fx, "x.lock", "x.lock");
		name_ok(&fx, "InBoX/x", "INBOX/x");
	}
	fx_done(&fx);
}
END_TEST

static unsigned attrs_of(const struct store_list *l, const char *name)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->entries[i].name, name) == 0)
			return l->entries[i].attrs | 0x1000u;
	return 0;
}

START_TEST(create_list_delete)
{
	struct store_list l;
	struct fx fx;
	unsigned a;

	fx_init(&fx, _i);
	ck_assert_int_eq(store_create(fx.st, "Sent", &fx.err), 0);
	ck_assert_int_eq(store_create(fx.st, "Sent", &fx.err), -1);
	ck_assert_int_eq(fx.err.code, STORE_E_EXISTS);
	ck_assert_int_eq(store_create(fx.st, "inbox", &fx.err), -1);
	ck_assert_int_eq(fx.err.code, STORE_E_EXISTS);
	ck_assert_int_eq(store_create(fx.st, "Lists/quill/dev", &fx.err), 0);
	ck_assert_int_eq(store_list(fx.st, &l, &fx.err), 0);
	ck_assert_str_eq(l.entries[0].name, "INBOX");
	a = attrs_of(&l, "Sent");
	ck_assert(a & STORE_LIST_HASNOCHILDREN);
	ck_assert(!(a & STORE_LIST_NOSELECT));
	a = attrs_of(&l, "Lists");
	ck_assert(a & STORE_LIST_NOSELECT);
	ck_assert(a & STORE_LIST_HASCHILDREN);
	ck_assert(attrs_of(&l, "Lists/quill") & STORE_LIST_NOSELECT);
	ck_assert(!(attrs_of(&l, "Lists/quill/dev") & STORE_LIST_NOSELECT));
	store_list_clear(&l);

	ck_assert_int_eq(store_delete(fx.st, "INBOX", &fx.err), -1);
	ck_assert_int_eq(fx.err.code, STORE_E_INVALID);
	ck_assert_int_eq(store_delete(fx.st, "Nope", &fx.err), -1);
	ck_assert_int_eq(fx.err.code, STORE_E_NOTFOUND);
	ck_assert_int_eq(store_delete(fx.st, "Lists", &fx.err), -1);
	ck_assert_int_eq(fx.err.code, STORE_E_HASCHILDREN);
	fx_append(&fx, "Sent", "Subject: x\r\n\r\nbody\r\n");
	ck_assert_int_eq(store_delete(fx.st, "Sent", &fx.err), 0);
	ck_assert_int_eq(store_delete(fx.st, "Lists/quill/dev", &fx.err), 0);
	ck_assert_int_eq(store_list(fx.st, &l, &fx.err), 0);
	ck_assert_uint_eq(attrs_of(&l, "Sent"), 0);
	ck_assert_uint_eq(attrs_of(&l, "Lists/quill/dev"), 0);
	store_list_clear(&l);
	/* A recreated mailbox never reuses the old UIDVALIDITY. */
	{
		struct store_status s1, s2;

		ck_assert_int_eq(store_create(fx.st, "Again", &fx.err), 0);
		ck_assert_int_eq(store_status(fx.st, "Again", &s1, &fx.err), 0);
		ck_assert_int_eq(store_delete(fx.st, "Again", &fx.err), 0);
		ck_assert_int_eq(store_create(fx.st, "Again", &fx.err), 0);
		ck_assert_int_eq(store_status(fx.st, "Again", &s2, &fx.err), 0);
		ck_assert_uint_ne(s1.uidvalidity, s2.uidvalidity);
	}
	fx_done(&fx);
}
END_TEST

START_TEST(rename_mailboxes)
{
	struct store_mailbox *mb;
	struct store_status s, s2;
	struct store_list l;
	struct fx fx;

	fx_init(&fx, _i);
	ck_assert_int_eq(store_create(fx.st, "A/B", &fx.err), 0);
	ck_assert_int_eq(store_create(fx.st, "A/C", &fx.err), 0);
	fx_append(&fx, "A/B", "Subject: b\n\nb\n");
	ck_assert_int_eq(store_status(fx.st, "A/B", &s, &fx.err), 0);
	ck_assert_int_eq(store_rename(fx.st, "A", "Z/Y", &fx.err), 0);
	ck_assert_int_eq(store_status(fx.st, "Z/Y/B", &s2, &fx.err), 0);
	ck_assert_uint_eq(s.uidvalidity, s2.uidvalidity);
	ck_assert_uint_eq(s2.messages, 1);
	ck_assert_int_eq(store_status(fx.st, "A/B", &s2, &fx.err), -1);
	ck_assert_int_eq(fx.err.code, STORE_E_NOTFOUND);
	ck_assert_int_eq(store_list(fx.st, &l, &fx.err), 0);
	ck_assert(attrs_of(&l, "Z/Y/C") != 0);
	ck_assert(attrs_of(&l, "A/C") == 0);
	store_list_clear(&l);
	ck_assert_int_eq(store_rename(fx.st, "Z/Y/B", "Z/Y/C", &fx.err), -1);
	ck_assert_int_eq(fx.err.code, STORE_E_EXISTS);
	ck_assert_int_eq(store_rename(fx.st, "Z/Y/B", "Z/Y/B/x", &fx.err), -1);
	ck_assert_int_eq(fx.err.code, STORE_E_BADNAME);
	ck_assert_int_eq(store_rename(fx.st, "Nope", "Q", &fx.err), -1);
	ck_assert_int_eq(fx.err.code, STORE_E_NOTFOUND);

	/* RENAME INBOX moves the messages and leaves INBOX empty. */
	fx_append(&fx, "INBOX", "Subject: 1\n\none\n");
	fx_append(&fx, "INBOX", "Subject: 2\n\ntwo\n");
	ck_assert_int_eq(store_rename(fx.st, "INBOX", "Old", &fx.err), 0);
	ck_assert_int_eq(store_status(fx.st, "INBOX", &s, &fx.err), 0);
	ck_assert_uint_eq(s.messages, 0);
	mb = fx_mb(&fx, "Old", 0);
	ck_assert_uint_eq(store_count(mb), 2);
	fx_expect_msg(mb, store_uid_at(mb, 2), "Subject: 2\n\ntwo\n");
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

START_TEST(subscriptions)
{
	struct store_list l;
	struct fx fx;

	fx_init(&fx, _i);
	ck_assert_int_eq(store_create(fx.st, "Sent", &fx.err), 0);
	ck_assert_int_eq(store_subscribe(fx.st, "Sent", true, &fx.err), 0);
	ck_assert_int_eq(store_subscribe(fx.st, "Gone/x", true, &fx.err), 0);
	ck_assert_int_eq(store_subscribe(fx.st, "../x", true, &fx.err), -1);
	ck_assert_int_eq(store_subscribe(fx.st, "inbox", true, &fx.err), 0);
	fx_reopen(&fx);
	ck_assert_int_eq(store_list(fx.st, &l, &fx.err), 0);
	ck_assert(attrs_of(&l, "Sent") & STORE_LIST_SUBSCRIBED);
	ck_assert(attrs_of(&l, "INBOX") & STORE_LIST_SUBSCRIBED);
	ck_assert(attrs_of(&l, "Gone/x") & STORE_LIST_NONEXISTENT);
	ck_assert(attrs_of(&l, "Gone/x") & STORE_LIST_SUBSCRIBED);
	ck_assert(attrs_of(&l, "Gone") == 0);
	store_list_clear(&l);
	ck_assert_int_eq(store_subscribe(fx.st, "Sent", false, &fx.err), 0);
	ck_assert_int_eq(store_subscribe(fx.st, "Sent", false, &fx.err), 0);
	ck_assert_int_eq(store_list(fx.st, &l, &fx.err), 0);
	ck_assert(!(attrs_of(&l, "Sent") & STORE_LIST_SUBSCRIBED));
	store_list_clear(&l);
	fx_done(&fx);
}
END_TEST

static const char *const tricky[] = {
	("From: a@example.org\nSubject: quoting\n\nFrom here on\n>From x\n"
	 ">>From y\nFrom\nFro\n>From"),
	"",
	"no newline at end",
	"Subject: header only\n",
	"Subject: crlf\r\n\r\nline\r\nFrom me\r\n\r\n",
	"\n\n\n",
	"From the first line",
	">",
	">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>From deep\n",
	"x\n\nFrom \nFrom\n\n",
};

START_TEST(append_read_exact)
{
	struct store_mailbox *mb;
	uint32_t uids[10];
	struct fx fx;

	fx_init(&fx, _i);
	for (size_t i = 0; i < 10; i++)
		uids[i] = fx_append_ex(&fx, "INBOX", tricky[i],
				       strlen(tricky[i]), i + 1, 0, NULL, 0, 0);
	for (size_t i = 1; i < 10; i++)
		ck_assert_uint_gt(uids[i], uids[i - 1]);
	mb = fx_mb(&fx, "INBOX", 0);
	ck_assert_uint_eq(store_count(mb), 10);
	for (size_t i = 0; i < 10; i++) {
		for (size_t piece = 1; piece < 9; piece += 3) {
			size_t len;
			char *got = fx_read_ex(mb, uids[i], piece, &len);

			ck_assert_uint_eq(len, strlen(tricky[i]));
			ck_assert(memcmp(got, tricky[i], len) == 0);
			free(got);
		}
	}
	store_mailbox_close(&mb);
	/* And the same after the index is rebuilt from the mail alone. */
	fx_done(&fx);
}
END_TEST

START_TEST(random_access_and_info)
{
	const char *text = "Subject: hello\r\nX: y\r\n\r\nBody\r\n>From z\r\n";
	struct store_msg_info info;
	struct store_mailbox *mb;
	struct store_msg *msg;
	char buf[8];
	size_t got;
	uint32_t uid;
	struct fx fx;

	fx_init(&fx, _i);
	uid = fx_append_ex(&fx, "INBOX", text, strlen(text), 0, STORE_F_SEEN,
			   NULL, 0, 1700000000);
	mb = fx_mb(&fx, "INBOX", 0);
	ck_assert_int_eq(store_msg_info(mb, 1, &info, &fx.err), 0);
	ck_assert_uint_eq(info.uid, uid);
	ck_assert_uint_eq(info.size, strlen(text));
	ck_assert_int_eq(info.internal_date, 1700000000);
	ck_assert(info.flags & STORE_F_SEEN);
	ck_assert_int_eq(store_msg_info(mb, 2, &info, &fx.err), -1);
	ck_assert_int_eq(store_msg_open(mb, uid, &msg, &fx.err), 0);
	ck_assert_uint_eq(store_msg_get_info(msg)->header_size, 24);
	for (size_t off = strlen(text); off-- > 0;) {
		ck_assert_int_eq(
			store_msg_read(msg, off, buf, 3, &got, &fx.err), 0);
		ck_assert_uint_eq(
			got, strlen(text) - off < 3 ? strlen(text) - off : 3);
		ck_assert(memcmp(buf, text + off, got) == 0);
	}
	ck_assert_int_eq(store_msg_read(msg, 999, buf, 3, &got, &fx.err), 0);
	ck_assert_uint_eq(got, 0);
	store_msg_close(&msg);
	ck_assert_int_eq(store_msg_open(mb, uid + 1, &msg, &fx.err), -1);
	ck_assert_int_eq(fx.err.code, STORE_E_NOTFOUND);
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

START_TEST(streaming_big)
{
	size_t len = 3 * 1024 * 1024 + 17, got_len;
	struct store_mailbox *mb;
	char *data = malloc(len), *got;
	uint32_t uid;
	struct fx fx;

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < len; i++)
		data[i] = i % 61 == 60 ? '\n' : (char)('A' + i % 23);
	memcpy(data + 1000, "\nFrom bad\n", 10);
	fx_init(&fx, _i);
	uid = fx_append_ex(&fx, "INBOX", data, len, 65521, 0, NULL, 0, 0);
	mb = fx_mb(&fx, "INBOX", 0);
	got = fx_read_ex(mb, uid, 100000, &got_len);
	ck_assert_uint_eq(got_len, len);
	ck_assert(memcmp(got, data, len) == 0);
	free(got);
	store_mailbox_close(&mb);
	free(data);
	fx_done(&fx);
}
END_TEST

START_TEST(status_and_limits)
{
	struct store_append *ap;
	struct store_status s;
	uint32_t u1, u2, u3;
	struct fx fx;

	fx_init(&fx, _i);
	u1 = fx_append_ex(&fx, "INBOX", "a\n", 2, 0, STORE_F_SEEN, NULL, 0, 0);
	u2 = fx_append(&fx, "INBOX", "b\n");
	u3 = fx_append_ex(&fx, "INBOX", "c\n", 2, 0, STORE_F_SEEN, NULL, 0, 0);
	ck_assert_int_eq(store_status(fx.st, "inbox", &s, &fx.err), 0);
	ck_assert_uint_eq(s.messages, 3);
	ck_assert_uint_eq(s.recent, 3);
	ck_assert_uint_eq(s.unseen, 1);
	ck_assert_uint_eq(s.first_unseen, 2);
	ck_assert_uint_eq(s.uidnext, u3 + 1);
	ck_assert_uint_eq(s.size, 6);
	ck_assert(u1 < u2 && u2 < u3);
	ck_assert_int_eq(store_status(fx.st, "Nope", &s, &fx.err), -1);
	ck_assert_int_eq(fx.err.code, STORE_E_NOTFOUND);

	/* message_max: STORE_E_TOOBIG, and nothing is stored. */
	store_close(&fx.st);
	fx.cfg.message_max = 10;
	fx_open(&fx);
	ck_assert_int_eq(store_append_begin(fx.st, "INBOX", NULL, &ap, &fx.err),
			 0);
	ck_assert_int_eq(store_append_write(ap, "12345", 5, &fx.err), 0);
	ck_assert_int_eq(store_append_write(ap, "123456", 6, &fx.err), -1);
	ck_assert_int_eq(fx.err.code, STORE_E_TOOBIG);
	ck_assert_int_eq(
		store_append_commit(&ap, 0, NULL, 0, 0, NULL, NULL, &fx.err),
		-1);
	ck_assert_ptr_null(ap);
	/* Abort leaves nothing either. */
	ck_assert_int_eq(store_append_begin(fx.st, "INBOX", NULL, &ap, &fx.err),
			 0);
	ck_assert_int_eq(store_append_write(ap, "12345", 5, &fx.err), 0);
	store_append_abort(&ap);
	ck_assert_ptr_null(ap);
	ck_assert_int_eq(store_append_begin(fx.st, "Nope", NULL, &ap, &fx.err),
			 -1);
	ck_assert_int_eq(fx.err.code, STORE_E_NOTFOUND);
	ck_assert_int_eq(store_status(fx.st, "INBOX", &s, &fx.err), 0);
	ck_assert_uint_eq(s.messages, 3);
	fx_done(&fx);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store_basic");
	TCase *tc = tcase_create("both");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, names, 0, 2);
	tcase_add_loop_test(tc, create_list_delete, 0, 2);
	tcase_add_loop_test(tc, rename_mailboxes, 0, 2);
	tcase_add_loop_test(tc, subscriptions, 0, 2);
	tcase_add_loop_test(tc, append_read_exact, 0, 2);
	tcase_add_loop_test(tc, random_access_and_info, 0, 2);
	tcase_add_loop_test(tc, streaming_big, 0, 2);
	tcase_add_loop_test(tc, status_and_limits, 0, 2);
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
