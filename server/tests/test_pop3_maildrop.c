/*
 * test_pop3_maildrop.c - a POP3 session's hold on a maildrop, on both
 * stores (pop3_maildrop.h): the exclusive lock (RFC 1939 section 4),
 * sizes as sent (section 11), stable UIDs, reading, UPDATE removing
 * exactly the marked messages (section 6) and setting \Seen on those
 * RETR sent (pop3.retr_sets_seen), mail delivered meanwhile
 * listed in the next session, LOGIN-DELAY (RFC 2449 section 6.5).
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "passwd.h"
#include "pop3_maildrop.h"
#include "store/store.h"
#include "user_store.h"

static char dir[64];
static struct quilld_config cfg;
static struct passwd_entry alice;

static int rm_entry(const char *p, const struct stat *sb, int f,
		    struct FTW *ftw)
{
	(void)sb;
	(void)f;
	(void)ftw;
	return remove(p);
}

static void setup(enum config_store kind)
{
	snprintf(dir, sizeof(dir), "/tmp/quill-pop3md-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	config_defaults(&cfg, dir);
	cfg.store_kind = kind;
	memset(&alice, 0, sizeof(alice));
	snprintf(alice.user, sizeof(alice.user), "alice");
	snprintf(alice.scheme, sizeof(alice.scheme), "PLAIN");
	alice.hash = "x";
	alice.uid = alice.gid = -1;
}

static void teardown(void)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static uint32_t deliver(const char *text)
{
	struct store *st;
	struct store_append *ap;
	struct store_error se;
	uint32_t uidv, uid;
	ck_assert_int_eq(user_store_open(&cfg, &alice, &st, &se), 0);
	ck_assert_int_eq(
		store_append_begin(st, "INBOX", "a@example.test", &ap, &se), 0);
	ck_assert_int_eq(store_append_write(ap, text, strlen(text), &se), 0);
	ck_assert_int_eq(
		store_append_commit(&ap, 0, NULL, 0, 0, &uidv, &uid, &se), 0);
	store_close(&st);
	return uid;
}

/* The flags of the message at sequence number seq of INBOX. */
static unsigned flags_of(uint32_t seq)
{
	struct store *st;
	struct store_mailbox *mb;
	struct store_msg_info info;
	struct store_error se;
	ck_assert_int_eq(user_store_open(&cfg, &alice, &st, &se), 0);
	ck_assert_int_eq(store_mailbox_open(st, "INBOX", 0, &mb, &se), 0);
	ck_assert_int_eq(store_msg_info(mb, seq, &info, &se), 0);
	store_mailbox_close(&mb);
	store_close(&st);
	return info.flags;
}

static struct pop3_maildrop *open_ok(struct pop3_listing **l)
{
	struct pop3_maildrop *md;
	char err[256];
	enum pop3_status st = pop3_maildrop_open(&cfg, &alice, 0, 1000, &md, l,
						 err, sizeof(err));
	ck_assert_msg(st == POP3_ANSWER_OK, "open: %d %s", st, err);
	return md;
}

static void run_lifecycle(enum config_store kind)
{
	struct pop3_listing *l;
	struct pop3_maildrop *md, *md2;
	char err[256], buf[64];
	size_t got;

	setup(kind);
	/* a user never delivered to: an empty maildrop */
	md = open_ok(&l);
	ck_assert_uint_eq(l->count, 0);
	pop3_listing_free(&l);
	pop3_maildrop_close(&md);

	uint32_t u1 = deliver("Subject: a\n\n.dot\n");
	uint32_t u2 = deliver("Subject: b\r\n\r\nx");
	uint32_t u3 = deliver("Subject: c\n\nthird\n");
	md = open_ok(&l);
	ck_assert_uint_eq(l->count, 3);
	ck_assert_uint_eq(l->msgs[0].uid, u1);
	ck_assert_uint_eq(l->msgs[0].size, 20); /* 17 + 3 CR */
	ck_assert_uint_eq(l->msgs[1].size, 17); /* 15 + CRLF added */
	uint32_t uidvalidity = l->uidvalidity;

	/* RFC 1939 4: a second session cannot have it meanwhile */
	struct pop3_listing *l2;
	ck_assert_int_eq(pop3_maildrop_open(&cfg, &alice, 0, 1000, &md2, &l2,
					    err, sizeof(err)),
			 POP3_ANSWER_IN_USE);
	ck_assert_ptr_null(md2);

	/* reading: the bytes as stored, a piece at a time */
	ck_assert_int_eq(
		pop3_maildrop_read(md, u1, 0, buf, 8, &got, err, sizeof(err)),
		POP3_ANSWER_OK);
	ck_assert_uint_eq(got, 8);
	ck_assert(memcmp(buf, "Subject:", 8) == 0);
	ck_assert_int_eq(pop3_maildrop_read(md, u1, 8, buf, sizeof(buf), &got,
					    err, sizeof(err)),
			 POP3_ANSWER_OK);
	ck_assert_uint_eq(got, 9);
	ck_assert_int_eq(pop3_maildrop_read(md, u1, 17, buf, sizeof(buf), &got,
					    err, sizeof(err)),
			 POP3_ANSWER_OK);
	ck_assert_uint_eq(got, 0);
	ck_assert_int_eq(pop3_maildrop_read(md, 999, 0, buf, sizeof(buf), &got,
					    err, sizeof(err)),
			 POP3_ANSWER_GONE);

	/* delivered during the session: not in this listing */
	uint32_t u4 = deliver("Subject: d\n\nlate\n");
	uint32_t marked[] = {u1, u3}, seen[] = {u2};
	ck_assert_int_eq(
		pop3_maildrop_update(md, marked, 2, seen, 1, err, sizeof(err)),
		POP3_ANSWER_OK);
	pop3_listing_free(&l);
	pop3_maildrop_close(&md);

	/* the next session: u2 and the late u4, same UIDs and UIDVALIDITY */
	md = open_ok(&l);
	ck_assert_uint_eq(l->count, 2);
	ck_assert_uint_eq(l->msgs[0].uid, u2);
	ck_assert_uint_eq(l->msgs[1].uid, u4);
	ck_assert_uint_eq(l->uidvalidity, uidvalidity);
	ck_assert_uint_eq(l->msgs[0].size, 17); /* from the cache now */
	pop3_listing_free(&l);
	/* retrieved: \Seen (Maildir ":2,S", mbox "Status: RO") */
	ck_assert_uint_ne(flags_of(1) & STORE_F_SEEN, 0);
	ck_assert_uint_eq(flags_of(2) & STORE_F_SEEN, 0);
	/* a session that ends without UPDATE removes nothing */
	pop3_maildrop_close(&md);
	md = open_ok(&l);
	ck_assert_uint_eq(l->count, 2);
	pop3_listing_free(&l);
	pop3_maildrop_close(&md);
	teardown();
}

START_TEST(lifecycle_maildir)
{
	run_lifecycle(CONFIG_STORE_MAILDIR);
}
END_TEST

START_TEST(lifecycle_mbox)
{
	run_lifecycle(CONFIG_STORE_MBOX);
}
END_TEST

/* RFC 2449 6.5: a login sooner than the delay after the last is
 * refused; it holds no lock after the refusal (RFC 1939 4). */
START_TEST(login_delay)
{
	struct pop3_listing *l;
	struct pop3_maildrop *md;
	char err[256];
	setup(CONFIG_STORE_MAILDIR);
	ck_assert_int_eq(pop3_maildrop_open(&cfg, &alice, 60, 1000, &md, &l,
					    err, sizeof(err)),
			 POP3_ANSWER_OK);
	pop3_listing_free(&l);
	pop3_maildrop_close(&md);
	ck_assert_int_eq(pop3_maildrop_open(&cfg, &alice, 60, 1059, &md, &l,
					    err, sizeof(err)),
			 POP3_ANSWER_LOGIN_DELAY);
	ck_assert_ptr_null(md);
	ck_assert_int_eq(pop3_maildrop_open(&cfg, &alice, 60, 1060, &md, &l,
					    err, sizeof(err)),
			 POP3_ANSWER_OK);
	pop3_listing_free(&l);
	pop3_maildrop_close(&md);
	teardown();
}
END_TEST

/* The lock excludes another process too (an OFD lock on the file). */
START_TEST(lock_across_processes)
{
	struct pop3_listing *l;
	struct pop3_maildrop *md;
	char err[256];
	setup(CONFIG_STORE_MBOX);
	md = open_ok(&l);
	pid_t pid = fork();
	if (pid == 0) {
		struct pop3_maildrop *other;
		struct pop3_listing *ol;
		_exit(pop3_maildrop_open(&cfg, &alice, 0, 1000, &other, &ol,
					 err, sizeof(err)) == POP3_ANSWER_IN_USE
			      ? 0
			      : 1);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	pop3_listing_free(&l);
	pop3_maildrop_close(&md);
	teardown();
}
END_TEST

static Suite *pop3_maildrop_suite(void)
{
	Suite *su = suite_create("pop3_maildrop");
	TCase *tc = tcase_create("maildrop");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, lifecycle_maildir);
	tcase_add_test(tc, lifecycle_mbox);
	tcase_add_test(tc, login_delay);
	tcase_add_test(tc, lock_across_processes);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	log_setup(LOGL_ERROR, LOG_TO_STDERR, "test");
	SRunner *sr = srunner_create(pop3_maildrop_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
