/*
 * test_deliver.c - final delivery (server/queue/deliver.h) on both store
 * backends (Check loop index 0 = Maildir, 1 = mbox): the bytes stored are
 * Return-Path (RFC 5321 4.4) and Delivered-To (RFC 9228) then the message
 * exactly; DELIVER_CHECK finds a delivery already made and stores nothing
 * more, and is not fooled by a message of the same size; errors map to
 * temporary and permanent results with LMTP reply codes.
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/deliver.h"
#include "user_store.h"

struct dfx {
	char dir[512];
	char spool[600];
	struct quilld_config cfg;
	struct deliver_user alice;
};

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* A spool-like file: a header to skip, then the message. */
static uint64_t write_spool(struct dfx *fx, const char *msg)
{
	static const char head[] = "QUILL-SPOOL 1\nid X\n\n";
	FILE *f = fopen(fx->spool, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(head, f) >= 0, 1);
	ck_assert_int_eq(fputs(msg, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return sizeof(head) - 1;
}

static void dfx_init(struct dfx *fx, int kind)
{
	const char *tmp = getenv("TMPDIR");
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "%s/quill-deliver-XXXXXX",
		 tmp != NULL && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(fx->dir));
	config_defaults(&fx->cfg, fx->dir);
	fx->cfg.store_kind =
		kind == 0 ? CONFIG_STORE_MAILDIR : CONFIG_STORE_MBOX;
	ck_assert_int_eq(mkdir(fx->cfg.mail_root, 0700), 0);
	snprintf(fx->spool, sizeof(fx->spool), "%s/spool", fx->dir);
	snprintf(fx->alice.name, sizeof(fx->alice.name), "alice");
}

static void dfx_done(struct dfx *fx)
{
	nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Open alice's INBOX, count, and read message seq whole (malloc'ed). */
static uint32_t inbox(struct dfx *fx, uint32_t seq, char **msg_r)
{
	struct passwd_entry e = {.user = "alice"};
	struct store *st;
	struct store_mailbox *mb;
	struct store_error err;
	ck_assert_int_eq(user_store_open(&fx->cfg, &e, &st, &err), 0);
	ck_assert_msg(store_mailbox_open(st, "INBOX", STORE_OPEN_READONLY, &mb,
					 &err) == 0,
		      "%s", err.msg);
	uint32_t n = store_count(mb);
	if (msg_r != NULL) {
		struct store_msg_info info;
		struct store_msg *m;
		size_t got;
		ck_assert_int_eq(store_msg_info(mb, seq, &info, &err), 0);
		char *buf = calloc(1, info.size + 1);
		ck_assert_int_eq(store_msg_open(mb, info.uid, &m, &err), 0);
		ck_assert_int_eq(
			store_msg_read(m, 0, buf, info.size, &got, &err), 0);
		ck_assert_uint_eq(got, info.size);
		store_msg_close(&m);
		*msg_r = buf;
	}
	store_mailbox_close(&mb);
	store_close(&st);
	return n;
}

static const char MSG[] = "Received: from c.example ([127.0.0.1])\r\n"
			  "\tby mx.example.test (Quill) with ESMTP id 1A;\r\n"
			  "\tThu, 01 Jan 2026 00:00:00 +0000\r\n"
			  "Subject: hi\r\n\r\n>From here\r\nFrom there\r\n";

static void deliver(struct dfx *fx, const char *from, const char *rcpt,
		    uint64_t off, enum deliver_mode mode,
		    struct deliver_result *r)
{
	struct deliver_msg m = {.path = fx->spool,
				.offset = off,
				.return_path = from,
				.rcpt = rcpt};
	deliver_one(&fx->cfg, &fx->alice, &m, mode, r);
}

START_TEST(stores_prefix_and_bytes)
{
	struct dfx fx;
	struct deliver_result r;
	char *got;
	dfx_init(&fx, _i);
	uint64_t off = write_spool(&fx, MSG);
	deliver(&fx, "bob@example.org", "alice@example.test", off,
		DELIVER_FRESH, &r);
	ck_assert_msg(r.status == DELIVER_OK, "%s %s", r.text, r.detail);
	ck_assert_int_eq(r.code, 250);
	ck_assert_str_eq(r.enhanced, "2.1.5");
	ck_assert(!r.already);
	ck_assert_uint_eq(inbox(&fx, 1, &got), 1);
	char want[1024];
	snprintf(want, sizeof(want),
		 "Return-Path: <bob@example.org>\r\n"
		 "Delivered-To: alice@example.test\r\n%s",
		 MSG);
	ck_assert_str_eq(got, want);
	free(got);
	dfx_done(&fx);
}
END_TEST

START_TEST(null_reverse_path)
{
	struct dfx fx;
	struct deliver_result r;
	char *got;
	dfx_init(&fx, _i);
	uint64_t off = write_spool(&fx, MSG);
	deliver(&fx, "", "alice@example.test", off, DELIVER_FRESH, &r);
	ck_assert_int_eq(r.status, DELIVER_OK);
	inbox(&fx, 1, &got);
	ck_assert_msg(strncmp(got, "Return-Path: <>\r\nDelivered-To: ", 31) ==
			      0,
		      "%s", got);
	free(got);
	dfx_done(&fx);
}
END_TEST

START_TEST(check_finds_delivery)
{
	struct dfx fx;
	struct deliver_result r;
	dfx_init(&fx, _i);
	uint64_t off = write_spool(&fx, MSG);
	/* nothing there yet: CHECK delivers */
	deliver(&fx, "b@x.example", "alice@example.test", off, DELIVER_CHECK,
		&r);
	ck_assert_int_eq(r.status, DELIVER_OK);
	ck_assert(!r.already);
	ck_assert_uint_eq(inbox(&fx, 0, NULL), 1);
	/* the same delivery again: found, nothing stored */
	deliver(&fx, "b@x.example", "alice@example.test", off, DELIVER_CHECK,
		&r);
	ck_assert_int_eq(r.status, DELIVER_OK);
	ck_assert(r.already);
	ck_assert_str_eq(r.text, "Already delivered");
	ck_assert_uint_eq(inbox(&fx, 0, NULL), 1);
	/* another recipient address (Delivered-To differs): delivered */
	deliver(&fx, "b@x.example", "Alice@example.test", off, DELIVER_CHECK,
		&r);
	ck_assert(!r.already);
	ck_assert_uint_eq(inbox(&fx, 0, NULL), 2);
	/* FRESH never looks */
	deliver(&fx, "b@x.example", "alice@example.test", off, DELIVER_FRESH,
		&r);
	ck_assert(!r.already);
	ck_assert_uint_eq(inbox(&fx, 0, NULL), 3);
	dfx_done(&fx);
}
END_TEST

START_TEST(check_not_fooled_by_same_size)
{
	struct dfx fx;
	struct deliver_result r;
	char other[sizeof(MSG)];
	dfx_init(&fx, _i);
	/* same size, one byte different, at the very end */
	memcpy(other, MSG, sizeof(MSG));
	other[sizeof(MSG) - 4] = 'X';
	uint64_t off = write_spool(&fx, other);
	deliver(&fx, "b@x.example", "alice@example.test", off, DELIVER_FRESH,
		&r);
	ck_assert_int_eq(r.status, DELIVER_OK);
	off = write_spool(&fx, MSG);
	deliver(&fx, "b@x.example", "alice@example.test", off, DELIVER_CHECK,
		&r);
	ck_assert_int_eq(r.status, DELIVER_OK);
	ck_assert(!r.already);
	ck_assert_uint_eq(inbox(&fx, 0, NULL), 2);
	/* and now it is found among them */
	deliver(&fx, "b@x.example", "alice@example.test", off, DELIVER_CHECK,
		&r);
	ck_assert(r.already);
	ck_assert_uint_eq(inbox(&fx, 0, NULL), 2);
	dfx_done(&fx);
}
END_TEST

START_TEST(large_message_streamed)
{
	struct dfx fx;
	struct deliver_result r;
	size_t n = 300 * 1000;
	char *big = malloc(n + 1), *got;
	dfx_init(&fx, _i);
	for (size_t i = 0; i < n; i++)
		big[i] = (i % 100 == 98)   ? '\r'
			 : (i % 100 == 99) ? '\n'
					   : 'a' + i % 26;
	big[n] = '\0';
	uint64_t off = write_spool(&fx, big);
	deliver(&fx, "b@x.example", "alice@example.test", off, DELIVER_FRESH,
		&r);
	ck_assert_int_eq(r.status, DELIVER_OK);
	deliver(&fx, "b@x.example", "alice@example.test", off, DELIVER_CHECK,
		&r);
	ck_assert(r.already);
	inbox(&fx, 1, &got);
	const char *body = strstr(got, "\r\n") + 2;
	body = strstr(body, "\r\n") + 2;
	ck_assert_str_eq(body, big);
	free(got);
	free(big);
	dfx_done(&fx);
}
END_TEST

START_TEST(errors_mapped)
{
	struct dfx fx;
	struct deliver_result r;
	dfx_init(&fx, _i);
	uint64_t off = write_spool(&fx, MSG);
	/* the spool file is gone: a local error, temporary */
	struct deliver_msg m = {.path = "/nonexistent/spool",
				.offset = 0,
				.return_path = "",
				.rcpt = "alice@example.test"};
	deliver_one(&fx.cfg, &fx.alice, &m, DELIVER_FRESH, &r);
	ck_assert_int_eq(r.status, DELIVER_TEMP);
	ck_assert_int_eq(r.code, 451);
	ck_assert_str_eq(r.enhanced, "4.3.0");
	/* a mail root that cannot be made: not the client's fault */
	char file[600];
	snprintf(file, sizeof(file), "%s/file", fx.dir);
	FILE *f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(fx.alice.home, sizeof(fx.alice.home), "%s/sub", file);
	deliver(&fx, "", "alice@example.test", off, DELIVER_FRESH, &r);
	ck_assert_msg(r.status == DELIVER_TEMP, "%d %s %s", r.status, r.text,
		      r.detail);
	ck_assert_int_eq(r.code / 100, 4);
	/* an address too long for the header room: permanent */
	char longaddr[2000];
	memset(longaddr, 'a', sizeof(longaddr) - 1);
	longaddr[sizeof(longaddr) - 1] = '\0';
	fx.alice.home[0] = '\0';
	deliver(&fx, longaddr, "alice@example.test", off, DELIVER_FRESH, &r);
	ck_assert_int_eq(r.status, DELIVER_PERM);
	ck_assert_int_eq(r.code, 550);
	dfx_done(&fx);
}
END_TEST

START_TEST(sender_return_path_removed)
{
	/* RFC 5321 4.4: exactly one Return-Path, ours; the sender's (any
	 * case, folded, obsolete blank before the colon) are cut from the
	 * header, never from the body */
	static const char in[] =
		"Received: from c ([127.0.0.1])\r\n\tby mx (Quill) id 1;\r\n"
		"\tdate\r\nReturn-Path: <forged@evil.example>\r\n"
		"Subject: rp\r\nreturn-path :\r\n <folded@evil.example>\r\n"
		"\t(comment)\r\nX-Other: Return-Path: <kept@x.example>\r\n"
		"\r\nReturn-Path: <body@kept.example>\r\n";
	static const char want_msg[] =
		"Received: from c ([127.0.0.1])\r\n\tby mx (Quill) id 1;\r\n"
		"\tdate\r\nSubject: rp\r\n"
		"X-Other: Return-Path: <kept@x.example>\r\n"
		"\r\nReturn-Path: <body@kept.example>\r\n";
	struct dfx fx;
	struct deliver_result r;
	char *got, want[1024];
	dfx_init(&fx, _i);
	uint64_t off = write_spool(&fx, in);
	deliver(&fx, "s@x.example", "alice@example.test", off, DELIVER_FRESH,
		&r);
	ck_assert_int_eq(r.status, DELIVER_OK);
	inbox(&fx, 1, &got);
	snprintf(want, sizeof(want),
		 "Return-Path: <s@x.example>\r\n"
		 "Delivered-To: alice@example.test\r\n%s",
		 want_msg);
	ck_assert_str_eq(got, want);
	free(got);
	/* and the look for it sees the same view */
	deliver(&fx, "s@x.example", "alice@example.test", off, DELIVER_CHECK,
		&r);
	ck_assert(r.already);
	dfx_done(&fx);
}
END_TEST

START_TEST(view_across_chunks)
{
	/* a header longer than the scanner's chunk, the field at the seam */
	struct dfx fx;
	struct deliver_result r;
	size_t n = 8192 * 2 + 100;
	char *in = malloc(n + 200), *got;
	dfx_init(&fx, _i);
	size_t len = 0;
	while (len < 8192 - 20)
		len += (size_t)snprintf(in + len, n + 200 - len,
					"X-Pad: %040zu\r\n", len);
	len += (size_t)snprintf(in + len, n + 200 - len,
				"Return-Path: <seam@evil.example>\r\n"
				"Subject: seam\r\n\r\nbody\r\n");
	uint64_t off = write_spool(&fx, in);
	deliver(&fx, "", "alice@example.test", off, DELIVER_FRESH, &r);
	ck_assert_int_eq(r.status, DELIVER_OK);
	inbox(&fx, 1, &got);
	ck_assert_ptr_null(strstr(got, "seam@evil"));
	ck_assert_ptr_nonnull(strstr(got, "\r\nSubject: seam\r\n\r\nbody\r\n"));
	ck_assert_uint_eq(
		strlen(got),
		len - strlen("Return-Path: <seam@evil.example>\r\n") +
			strlen("Return-Path: <>\r\n") +
			strlen("Delivered-To: alice@example.test\r\n"));
	free(got);
	free(in);
	dfx_done(&fx);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("deliver");
	TCase *tc = tcase_create("both");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, stores_prefix_and_bytes, 0, 2);
	tcase_add_loop_test(tc, null_reverse_path, 0, 2);
	tcase_add_loop_test(tc, check_finds_delivery, 0, 2);
	tcase_add_loop_test(tc, check_not_fooled_by_same_size, 0, 2);
	tcase_add_loop_test(tc, large_message_streamed, 0, 2);
	tcase_add_loop_test(tc, errors_mapped, 0, 2);
	tcase_add_loop_test(tc, sender_return_path_removed, 0, 2);
	tcase_add_loop_test(tc, view_across_chunks, 0, 2);
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
