/*
 * test_store_mbox_status.c - the mbox backend and the status lines in its
 * messages (X-IMAPbase, X-UID, Status, X-Status, X-Keywords): what Quill
 * writes, what it reads from mailboxes other programs wrote or changed,
 * when it trusts their X-UIDs, flag changes in place and by rewrite, and
 * that reads stay exactly the bytes appended throughout.
 */
#include "store_test.h"

#include "store/store_util.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static bool file_has(struct fx *fx, const char *text)
{
	char *data = slurp(fx_path(fx, "inbox"), NULL);
	bool found = strstr(data, text) != NULL;

	free(data);
	return found;
}

static struct store_msg_info info_of(struct store_mailbox *mb, uint32_t uid)
{
	struct store_msg_info info;
	struct store_error err;

	ck_assert_int_eq(store_msg_info(mb, store_seq_of(mb, uid), &info, &err),
			 0);
	return info;
}

static bool has_keyword(struct store_mailbox *mb, uint32_t uid,
			const char *name)
{
	struct store_msg_info info = info_of(mb, uid);

	for (size_t i = 0; i < store_keyword_count(mb); i++)
		if (strcmp(store_keyword_name(mb, i), name) == 0)
			return (info.keywords >> i) & 1;
	return false;
}

static void set_flags(struct fx *fx, struct store_mailbox *mb, uint32_t uid,
		      enum store_flags_mode mode, unsigned flags,
		      const char *const *kw, size_t n_kw)
{
	struct store_uid_range r = {uid, uid};
	struct store_uidset set = {&r, 1};

	ck_assert_msg(store_flags_change(mb, &set, mode, flags, kw, n_kw,
					 &fx->err) == 0,
		      "flags: %s", fx->err.msg);
}

/* What Quill writes: the status block in the header, the X-IMAPbase in
 * the first message; a message's own status fields are escaped and come
 * back unchanged; nothing of it is read back. */
START_TEST(written_block)
{
	const char *own = "Subject: own\nStatus: RO\nX-UID: 99\n"
			  "quill-escaped-X-Keywords: x\n\nStatus: body\n";
	const char *kw[] = {"$Label1"};
	struct store_mailbox *mb;
	uint32_t u1, u2;
	struct fx fx;

	fx_init(&fx, 1);
	u1 = fx_append_ex(&fx, "INBOX", own, strlen(own), 3,
			  STORE_F_SEEN | STORE_F_FLAGGED, kw, 1, 0);
	u2 = fx_append(&fx, "INBOX", "no header, no LF");
	ck_assert(file_has(&fx, "Subject: own\nQuill-Escaped-Status: RO\n"
				"Quill-Escaped-X-UID: 99\n"
				"Quill-Escaped-quill-escaped-X-Keywords: x\n"
				"X-IMAPbase: "));
	ck_assert(file_has(&fx, "X-UID: 1\nStatus: RO\nX-Status: F   \n"
				"X-Keywords: $Label1 "));
	ck_assert(file_has(&fx, "\nno header, no LF\nX-UID: 2\nStatus:   \n"));
	mb = fx_mb(&fx, "INBOX", 0);
	fx_expect_msg(mb, u1, own);
	fx_expect_msg(mb, u2, "no header, no LF");
	ck_assert_uint_eq(info_of(mb, u1).flags & STORE_F_PERMANENT,
			  STORE_F_SEEN | STORE_F_FLAGGED);
	ck_assert(has_keyword(mb, u1, "$Label1"));
	ck_assert_uint_eq(info_of(mb, u2).flags & STORE_F_PERMANENT, 0);
	{ /* pieces of 5 bytes, and backwards */
		size_t len;
		char *got = fx_read_ex(mb, u1, 5, &len);

		ck_assert_str_eq(got, own);
		free(got);
	}
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

/* An mbox written by another program (Dovecot's layout): UIDs,
 * UIDVALIDITY, flags and keywords are taken when there is no index. */
static const char dovecot_box[] =
	"From a@x Mon Jan  1 00:00:00 2024\n"
	"Subject: 1\n"
	"X-IMAPbase: 1234567890 0000000012 Foo Bar\n"
	"X-UID: 5\n"
	"Status: RO\n"
	"X-Keywords: Bar                                                  \n"
	"Content-Length: 7\n"
	"\n"
	"first\n\n"
	"\n"
	"From b@x Mon Jan  1 00:00:01 2024\n"
	"Subject: 2\n"
	"X-UID: 9\n"
	"Status: O\n"
	"X-Status: AF\n"
	"X-Keywords: Foo Bar\n"
	"\n"
	"second\n"
	"\n";

START_TEST(foreign_state)
{
	struct store_mailbox *mb;
	struct store_status s;
	struct fx fx;

	fx_init(&fx, 1);
	fx_write_file(fx_path(&fx, "inbox"), dovecot_box, strlen(dovecot_box),
		      false);
	mb = fx_mb(&fx, "INBOX", STORE_OPEN_READONLY);
	store_mailbox_status(mb, &s);
	ck_assert_uint_eq(s.uidvalidity, 1234567890u);
	ck_assert_uint_eq(s.uidnext, 13);
	ck_assert_uint_eq(s.messages, 2);
	ck_assert_uint_eq(s.recent, 2); /* new to this store's index */
	ck_assert_uint_eq(store_uid_at(mb, 1), 5);
	ck_assert_uint_eq(store_uid_at(mb, 2), 9);
	ck_assert_uint_eq(info_of(mb, 5).flags & STORE_F_PERMANENT,
			  STORE_F_SEEN);
	ck_assert(has_keyword(mb, 5, "Bar") && !has_keyword(mb, 5, "Foo"));
	ck_assert_uint_eq(info_of(mb, 9).flags & STORE_F_PERMANENT,
			  STORE_F_ANSWERED | STORE_F_FLAGGED);
	ck_assert(has_keyword(mb, 9, "Foo") && has_keyword(mb, 9, "Bar"));
	fx_expect_msg(mb, 5, "Subject: 1\n\nfirst\n\n");
	fx_expect_msg(mb, 9, "Subject: 2\n\nsecond\n");
	ck_assert_uint_eq(info_of(mb, 5).header_size, strlen("Subject: 1\n\n"));
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

/* X-UIDs that do not fit the X-IMAPbase are not trusted: UIDs are new,
 * the UIDVALIDITY is new, and the X-IMAPbase is voided so that nobody
 * else trusts them either. */
START_TEST(foreign_state_inconsistent)
{
	static const char *const variants[] = {
		"X-UID: 5\n|X-UID: 5\n",  /* not ascending */
		"X-UID: 5\n|X-UID: 14\n", /* beyond the next free UID */
		"X-UID: 5\n|",		  /* one missing */
		"X-UID: 5\n|X-UID: 0\n",  /* malformed */
	};

	for (size_t v = 0; v < sizeof(variants) / sizeof(*variants); v++) {
		char text[1024], a[64], b[64];
		struct store_mailbox *mb;
		struct store_status s;
		const char *bar = strchr(variants[v], '|');
		struct fx fx;
		int n;

		snprintf(a, sizeof(a), "%.*s", (int)(bar - variants[v]),
			 variants[v]);
		snprintf(b, sizeof(b), "%s", bar + 1);
		n = snprintf(text, sizeof(text),
			     "From a@x Mon Jan  1 00:00:00 2024\n"
			     "X-IMAPbase: 1234567890 0000000012\n%s\n1\n\n"
			     "From a@x Mon Jan  1 00:00:00 2024\n%s\n2\n\n",
			     a, b);
		fx_init(&fx, 1);
		fx_write_file(fx_path(&fx, "inbox"), text, (size_t)n, false);
		mb = fx_mb(&fx, "INBOX", 0);
		store_mailbox_status(mb, &s);
		ck_assert_uint_ne(s.uidvalidity, 1234567890u);
		ck_assert_uint_eq(store_uid_at(mb, 1), 1);
		ck_assert_uint_eq(store_uid_at(mb, 2), 2);
		fx_expect_msg(mb, 1, "\n1\n");
		store_mailbox_close(&mb);
		ck_assert(file_has(&fx, "X-IMAPbase: 0000000000 0000000012"));
		fx_done(&fx);
	}
}
END_TEST

/* Flags changed in place: the file keeps its size; letters move, the
 * message bytes do not; other programs read the new letters. */
START_TEST(flags_in_place)
{
	const char *kw[] = {"Later"}, *kw2[] = {"Done"};
	struct store_mailbox *mb;
	struct stat st, st2;
	uint32_t u1, u2;
	struct fx fx;

	fx_init(&fx, 1);
	u1 = fx_append(&fx, "INBOX", "Subject: a\n\none\n");
	u2 = fx_append(&fx, "INBOX", "Subject: b\r\n\r\ntwo\r\n");
	mb = fx_mb(&fx, "INBOX", 0);
	ck_assert_int_eq(stat(fx_path(&fx, "inbox"), &st), 0);
	set_flags(&fx, mb, u1, STORE_FLAGS_ADD,
		  STORE_F_SEEN | STORE_F_ANSWERED | STORE_F_DRAFT, kw, 1);
	set_flags(&fx, mb, u2, STORE_FLAGS_ADD, STORE_F_DELETED, kw2, 1);
	ck_assert_int_eq(stat(fx_path(&fx, "inbox"), &st2), 0);
	ck_assert_int_eq(st.st_size, st2.st_size);
	ck_assert_int_eq(st.st_ino, st2.st_ino);
	ck_assert(file_has(&fx, "X-UID: 1\nStatus: RO\nX-Status: AT  \n"
				"X-Keywords: Later "));
	ck_assert(file_has(&fx, "X-UID: 2\nStatus:   \nX-Status: D   \n"
				"X-Keywords: Done "));
	set_flags(&fx, mb, u1, STORE_FLAGS_REMOVE, STORE_F_SEEN, kw, 1);
	ck_assert(file_has(&fx, "X-UID: 1\nStatus: O \nX-Status: AT  \n"
				"X-Keywords:  "));
	fx_expect_msg(mb, u1, "Subject: a\n\none\n");
	fx_expect_msg(mb, u2, "Subject: b\r\n\r\ntwo\r\n");
	store_mailbox_close(&mb);
	/* Without the index, the file says the same. */
	unlink(fx_path(&fx, ".inbox.quill-index"));
	mb = fx_mb(&fx, "INBOX", STORE_OPEN_READONLY);
	ck_assert_uint_eq(store_uid_at(mb, 2), u2);
	ck_assert_uint_eq(info_of(mb, u1).flags & STORE_F_PERMANENT,
			  STORE_F_ANSWERED | STORE_F_DRAFT);
	ck_assert(!has_keyword(mb, u1, "Later"));
	ck_assert(has_keyword(mb, u2, "Done"));
	ck_assert_uint_eq(info_of(mb, u2).flags & STORE_F_PERMANENT,
			  STORE_F_DELETED);
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

/* Keywords beyond the padding: a rewrite; many keyword names beyond the
 * X-IMAPbase's padding: a rewrite from the first message. UIDs stay. */
START_TEST(flags_by_rewrite)
{
	char names[20][100];
	const char *kw[20];
	struct store_mailbox *mb;
	struct store_status s0, s;
	uint32_t u[3];
	struct fx fx;
	char *data;

	for (int i = 0; i < 20; i++) {
		snprintf(names[i], sizeof(names[i]), "keyword-%02d-%080d", i,
			 0);
		kw[i] = names[i];
	}
	fx_init(&fx, 1);
	for (int i = 0; i < 3; i++)
		u[i] = fx_append(&fx, "INBOX", "Subject: x\n\nbody\n");
	mb = fx_mb(&fx, "INBOX", 0);
	store_mailbox_status(mb, &s0);
	set_flags(&fx, mb, u[1], STORE_FLAGS_ADD, STORE_F_FLAGGED, kw, 20);
	store_mailbox_status(mb, &s);
	ck_assert_uint_eq(s.uidvalidity, s0.uidvalidity);
	for (int i = 0; i < 3; i++)
		fx_expect_msg(mb, u[i], "Subject: x\n\nbody\n");
	ck_assert(has_keyword(mb, u[1], names[19]));
	data = slurp(fx_path(&fx, "inbox"), NULL);
	ck_assert_ptr_nonnull(strstr(data, names[19]));
	ck_assert_ptr_nonnull(strstr(strstr(data, "X-IMAPbase:"), names[19]));
	free(data);
	store_mailbox_close(&mb);
	unlink(fx_path(&fx, ".inbox.quill-index"));
	mb = fx_mb(&fx, "INBOX", STORE_OPEN_READONLY);
	store_mailbox_status(mb, &s);
	ck_assert_uint_eq(s.uidvalidity, s0.uidvalidity);
	ck_assert_uint_eq(store_uid_at(mb, 2), u[1]);
	ck_assert(has_keyword(mb, u[1], names[0]));
	ck_assert_uint_eq(info_of(mb, u[1]).flags & STORE_F_PERMANENT,
			  STORE_F_FLAGGED);
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

/* Another program changed flags in place and appended, both after the
 * index was written: the appended message has status lines, so the
 * whole file is read and the flag change is seen. */
START_TEST(foreign_change_and_append)
{
	const char *more = "From d@x Mon Jan  1 00:00:00 2024\n"
			   "Subject: d\nX-UID: 3\nStatus: RO\n\nd\n\n";
	struct store_mailbox *mb;
	uint32_t u1, u2;
	struct fx fx;
	char *data, *p;
	size_t len;

	fx_init(&fx, 1);
	u1 = fx_append(&fx, "INBOX", "Subject: a\n\na\n");
	u2 = fx_append(&fx, "INBOX", "Subject: b\n\nb\n");
	mb = fx_mb(&fx, "INBOX", 0);
	data = slurp(fx_path(&fx, "inbox"), &len);
	p = strstr(data, "X-UID: 2\nStatus: ");
	ck_assert_ptr_nonnull(p);
	memcpy(p + strlen("X-UID: 2\nStatus: "), "RO", 2);
	fx_write_file(fx_path(&fx, "inbox"), data, len, false);
	fx_write_file(fx_path(&fx, "inbox"), more, strlen(more), true);
	free(data);
	{
		struct store_changes ch;

		fx_sync(mb, &ch);
		ck_assert(!ch.reset);
		ck_assert_uint_eq(ch.n_added, 1);
		ck_assert_uint_eq(ch.added[0], 3);
		store_changes_clear(&ch);
	}
	ck_assert_uint_eq(info_of(mb, u2).flags & STORE_F_PERMANENT,
			  STORE_F_SEEN);
	ck_assert_uint_eq(info_of(mb, 3).flags & STORE_F_PERMANENT,
			  STORE_F_SEEN);
	/* A flag change now keeps the other program's \Seen. */
	set_flags(&fx, mb, u2, STORE_FLAGS_ADD, STORE_F_FLAGGED, NULL, 0);
	ck_assert_uint_eq(info_of(mb, u2).flags & STORE_F_PERMANENT,
			  STORE_F_SEEN | STORE_F_FLAGGED);
	fx_expect_msg(mb, u1, "Subject: a\n\na\n");
	fx_expect_msg(mb, 3, "Subject: d\n\nd\n");
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

/* A plain MDA appends a message that carries an X-UID: never taken as
 * a UID below UIDNEXT, nor can it move UIDNEXT far ahead. */
START_TEST(mda_x_uid)
{
	static const char *const forged[] = {"X-UID: 1\n", "X-UID: 4000000\n"};

	for (int v = 0; v < 2; v++) {
		char text[256];
		struct store_mailbox *mb;
		struct store_status s0, s;
		uint32_t u1;
		struct fx fx;
		int n;

		fx_init(&fx, 1);
		u1 = fx_append(&fx, "INBOX", "Subject: a\n\na\n");
		mb = fx_mb(&fx, "INBOX", 0);
		store_mailbox_status(mb, &s0);
		n = snprintf(text, sizeof(text),
			     "From m@x Mon Jan  1 00:00:00 2024\n%s\nx\n\n",
			     forged[v]);
		fx_write_file(fx_path(&fx, "inbox"), text, (size_t)n, true);
		store_mailbox_close(&mb);
		mb = fx_mb(&fx, "INBOX", 0);
		store_mailbox_status(mb, &s);
		ck_assert_uint_eq(s.uidvalidity, s0.uidvalidity);
		ck_assert_uint_eq(store_uid_at(mb, 1), u1);
		ck_assert_uint_eq(store_uid_at(mb, 2), s0.uidnext);
		ck_assert_uint_eq(s.uidnext, s0.uidnext + 1);
		store_mailbox_close(&mb);
		/* The refused X-UID voided the X-IMAPbase: losing the index
		 * now renumbers rather than trusting the X-UIDs. */
		ck_assert(file_has(&fx, "X-IMAPbase: 0000000000"));
		unlink(fx_path(&fx, ".inbox.quill-index"));
		mb = fx_mb(&fx, "INBOX", 0);
		store_mailbox_status(mb, &s);
		ck_assert_uint_ne(s.uidvalidity, s0.uidvalidity);
		store_mailbox_close(&mb);
		fx_done(&fx);
	}
}
END_TEST

/* An expunge of the first message gives the new first one the
 * X-IMAPbase; the index can go and nothing changes. */
START_TEST(expunge_first)
{
	struct store_mailbox *mb;
	struct store_changes ch;
	struct store_status s0, s;
	uint32_t u[3];
	struct fx fx;

	fx_init(&fx, 1);
	for (int i = 0; i < 3; i++)
		u[i] = fx_append(&fx, "INBOX", "Subject: x\n\nbody\n");
	mb = fx_mb(&fx, "INBOX", 0);
	store_mailbox_status(mb, &s0);
	set_flags(&fx, mb, u[0], STORE_FLAGS_ADD, STORE_F_DELETED, NULL, 0);
	ck_assert_int_eq(store_expunge(mb, NULL, &ch, &fx.err), 0);
	store_changes_clear(&ch);
	store_mailbox_close(&mb);
	ck_assert(file_has(&fx, "From sender@example.org"));
	unlink(fx_path(&fx, ".inbox.quill-index"));
	mb = fx_mb(&fx, "INBOX", 0);
	store_mailbox_status(mb, &s);
	ck_assert_uint_eq(s.uidvalidity, s0.uidvalidity);
	ck_assert_uint_eq(s.uidnext, s0.uidnext);
	ck_assert_uint_eq(s.messages, 2);
	ck_assert_uint_eq(store_uid_at(mb, 1), u[1]);
	ck_assert_uint_eq(store_uid_at(mb, 2), u[2]);
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

static Suite *status_suite(void)
{
	Suite *s = suite_create("store_mbox_status");
	TCase *tc = tcase_create("status");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, written_block);
	tcase_add_test(tc, foreign_state);
	tcase_add_test(tc, foreign_state_inconsistent);
	tcase_add_test(tc, flags_in_place);
	tcase_add_test(tc, flags_by_rewrite);
	tcase_add_test(tc, foreign_change_and_append);
	tcase_add_test(tc, mda_x_uid);
	tcase_add_test(tc, expunge_first);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(status_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
