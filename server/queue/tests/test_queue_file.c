/*
 * test_queue_file.c - the queue's files (queue_file.h): a spool file's
 * envelope read back as spool.c wrote it, state records written and read
 * (texts with blanks and control characters, the last record winning, a
 * torn last line ignored), ids listed in order, refusals of files that
 * are not spool files, and seals: a file torn by a crash before its
 * commit was durable is told apart and set aside.
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/queue_file.h"

static char dir[512];

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char err[256];
	snprintf(dir, sizeof(dir), "%s/quill-qfile-XXXXXX",
		 tmp != NULL && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(spool_init(dir, err, sizeof(err)), 0);
}

static void teardown(void)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void spool(time_t now, const char *body, char *id)
{
	struct smtp_rcpt r[2] = {{.addr = (char *)(uintptr_t) "a@example.test"},
				 {.addr = (char *)(uintptr_t) "b@x.example"}};
	struct smtp_envelope env = {.mail_from = (char *)(uintptr_t) "s@x.ex",
				    .rcpt = r,
				    .n_rcpt = 2,
				    .helo = "c.example",
				    .peer = "127.0.0.1",
				    .tls = ""};
	char err[256];
	struct spool_msg *m = spool_begin(dir, &env, now, id, err, sizeof(err));
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(spool_write(m, body, strlen(body), err, sizeof(err)),
			 0);
	ck_assert_int_eq(spool_commit(&m, err, sizeof(err)), 0);
}

START_TEST(envelope_read_back)
{
	char id[SPOOL_ID_MAX], err[256];
	struct queue_msg m;
	spool(1800000000, "Subject: x\r\n\r\n12345\r\n", id);
	ck_assert_int_eq(queue_msg_read(dir, id, &m, err, sizeof(err)), 0);
	ck_assert_str_eq(m.id, id);
	ck_assert_int_eq(m.arrived, 1800000000);
	ck_assert_str_eq(m.from, "s@x.ex");
	ck_assert_uint_eq(m.n_rcpt, 2);
	ck_assert_str_eq(m.rcpt[0].addr, "a@example.test");
	ck_assert_str_eq(m.rcpt[1].addr, "b@x.example");
	ck_assert_int_eq(m.rcpt[0].state, QUEUE_RCPT_PENDING);
	ck_assert_uint_eq(m.size, 21);
	ck_assert_ptr_nonnull(strstr(m.envelope, "helo c.example\n"));
	queue_msg_free(&m);
}
END_TEST

/* Replace the bytes at the first match of what in new/<id>. */
static void patch(const char *id, const char *what, const char *with)
{
	char path[700], buf[8192];
	snprintf(path, sizeof(path), "%s/new/%s", dir, id);
	FILE *f = fopen(path, "r+b");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	char *p = strstr(buf, what);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fseek(f, p - buf, SEEK_SET), 0);
	ck_assert_uint_eq(fwrite(with, 1, strlen(with), f), strlen(with));
	ck_assert_int_eq(fclose(f), 0);
}

static void truncate_by(const char *id, off_t cut)
{
	char path[700];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/new/%s", dir, id);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(truncate(path, sb.st_size - cut), 0);
}

/* A file a crash left in new/ before it was durable (spool_seal.h):
 * short, changed, or never sealed, it is QUEUE_TORN; set aside, it
 * moves to torn/ with its state. A file without a seal line (written
 * before seals) is read as it is. */
START_TEST(seal_torn_files)
{
	char id[SPOOL_ID_MAX], err[256], path[700];
	struct queue_msg m;
	spool(1800000000, "Subject: x\r\n\r\n12345\r\n", id);
	ck_assert_int_eq(queue_msg_read(dir, id, &m, err, sizeof(err)), 0);
	ck_assert(m.sealed && !m.seal_zero);
	ck_assert_uint_eq(m.seal.len, 21);
	queue_msg_free(&m);
	patch(id, "12345", "12346");
	ck_assert_int_eq(queue_msg_read(dir, id, &m, err, sizeof(err)),
			 QUEUE_TORN);
	ck_assert_msg(strstr(err, "differ") != NULL, "%s", err);
	patch(id, "12346", "12345");
	truncate_by(id, 3);
	ck_assert_int_eq(queue_msg_read(dir, id, &m, err, sizeof(err)),
			 QUEUE_TORN);
	ck_assert_msg(strstr(err, "18 message bytes, sealed 21") != NULL, "%s",
		      err);

	spool(1800000000, "Subject: y\r\n\r\nyy\r\n", id);
	patch(id, "\nseal ", "\nseal 0000000000000000 0000000000000000");
	ck_assert_int_eq(queue_msg_read(dir, id, &m, err, sizeof(err)),
			 QUEUE_TORN);
	ck_assert_msg(strstr(err, "never sealed") != NULL, "%s", err);
	ck_assert_int_eq(queue_state_append(dir, id, "done 0 1800000001\n", 18,
					    false, err, sizeof(err)),
			 0);
	ck_assert_int_eq(queue_msg_set_aside(dir, id, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/torn/%s", dir, id);
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/torn/%s.state", dir, id);
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/new/%s", dir, id);
	ck_assert_int_ne(access(path, F_OK), 0);

	/* no seal line at all: read as it is */
	spool(1800000000, "Subject: z\r\n\r\nzz\r\n", id);
	patch(id, "\nseal ", "\nxeal ");
	truncate_by(id, 2);
	ck_assert_int_eq(queue_msg_read(dir, id, &m, err, sizeof(err)), 0);
	ck_assert(!m.sealed);
	queue_msg_free(&m);
	/* a malformed seal is not a spool file */
	spool(1800000000, "Subject: w\r\n\r\nww\r\n", id);
	patch(id, "\nseal ", "\nseal g");
	ck_assert_int_eq(queue_msg_read(dir, id, &m, err, sizeof(err)), -1);
}
END_TEST

START_TEST(state_records)
{
	char id[SPOOL_ID_MAX], err[256], lines[2048];
	struct queue_msg m;
	size_t n = 0;
	spool(1800000000, "x\r\n", id);
	n += queue_state_record(lines + n, sizeof(lines) - n,
				QUEUE_RCPT_DEFERRED, 0, 10, 70, 451, "4.3.0",
				"Mailbox temporarily unavailable");
	n += queue_state_record(lines + n, sizeof(lines) - n,
				QUEUE_RCPT_DEFERRED, 0, 70, 190, 452, "4.2.2",
				"full\nof\x01stuff");
	n += queue_state_record(lines + n, sizeof(lines) - n, QUEUE_RCPT_FAILED,
				1, 80, 0, 550, "5.1.1", "User  unknown here");
	ck_assert_int_eq(
		queue_state_append(dir, id, lines, n, true, err, sizeof(err)),
		0);
	ck_assert_int_eq(queue_msg_read(dir, id, &m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.rcpt[0].state, QUEUE_RCPT_DEFERRED);
	ck_assert_uint_eq(m.rcpt[0].attempts, 2);
	ck_assert_int_eq(m.rcpt[0].when, 70);
	ck_assert_int_eq(m.rcpt[0].next_try, 190);
	ck_assert_int_eq(m.rcpt[0].code, 452);
	ck_assert_str_eq(m.rcpt[0].text, "full?of?stuff");
	ck_assert_int_eq(m.rcpt[1].state, QUEUE_RCPT_FAILED);
	ck_assert_int_eq(m.rcpt[1].code, 550);
	ck_assert_str_eq(m.rcpt[1].enhanced, "5.1.1");
	ck_assert_str_eq(m.rcpt[1].text, "User  unknown here");
	queue_msg_free(&m);
	/* the last record wins; a torn line (no newline) is not read; a
	 * record for a recipient that does not exist is ignored */
	n = queue_state_record(lines, sizeof(lines), QUEUE_RCPT_DONE, 0, 99, 0,
			       0, "", NULL);
	memcpy(lines + n, "done 1 100\ndone 7 100\nremote 1", 30);
	ck_assert_int_eq(queue_state_append(dir, id, lines, n + 30, false, err,
					    sizeof(err)),
			 0);
	ck_assert_int_eq(queue_msg_read(dir, id, &m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.rcpt[0].state, QUEUE_RCPT_DONE);
	ck_assert_int_eq(m.rcpt[1].state, QUEUE_RCPT_DONE);
	ck_assert_int_eq(m.rcpt[1].when, 100);
	ck_assert(!m.rcpt[0].in_flight);
	queue_msg_free(&m);
	/* the torn "remote 1" is cut off before the next append;
	 * "try" with no outcome after it: in flight; an outcome ends it */
	n = queue_state_try(lines, sizeof(lines), 1, 200);
	ck_assert_str_eq(lines, "try 1 200\n");
	ck_assert_int_eq(
		queue_state_append(dir, id, lines, n, false, err, sizeof(err)),
		0);
	ck_assert_int_eq(queue_msg_read(dir, id, &m, err, sizeof(err)), 0);
	ck_assert(m.rcpt[1].in_flight);
	ck_assert_int_eq(m.rcpt[1].state, QUEUE_RCPT_DONE);
	ck_assert_int_eq(m.rcpt[1].when, 100);
	queue_msg_free(&m);
	n = queue_state_record(lines, sizeof(lines), QUEUE_RCPT_DONE, 1, 201, 0,
			       0, "", NULL);
	ck_assert_int_eq(
		queue_state_append(dir, id, lines, n, true, err, sizeof(err)),
		0);
	ck_assert_int_eq(queue_msg_read(dir, id, &m, err, sizeof(err)), 0);
	ck_assert(!m.rcpt[1].in_flight);
	queue_msg_free(&m);
}
END_TEST

START_TEST(boot_id_trust)
{
	char err[256], path[700];
	ck_assert(!queue_records_trusted(dir)); /* no boot-id yet */
	ck_assert_int_eq(queue_records_trust(dir, err, sizeof(err)), 0);
	ck_assert(queue_records_trusted(dir));
	/* another boot wrote it: not trusted */
	snprintf(path, sizeof(path), "%s/boot-id", dir);
	FILE *f = fopen(path, "w");
	fputs("00000000-0000-0000-0000-000000000000\n", f);
	fclose(f);
	ck_assert(!queue_records_trusted(dir));
}
END_TEST

START_TEST(list_and_refuse)
{
	char a[SPOOL_ID_MAX], b[SPOOL_ID_MAX], err[256], path[700];
	char **ids;
	size_t n;
	struct queue_msg m;
	spool(1800000001, "b\r\n", b);
	spool(1800000000, "a\r\n", a);
	snprintf(path, sizeof(path), "%s/new/.hidden", dir);
	FILE *f = fopen(path, "w");
	fclose(f);
	ck_assert_int_eq(queue_list_ids(dir, &ids, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ids[0], a); /* older first */
	ck_assert_str_eq(ids[1], b);
	queue_ids_free(ids, n);
	/* not a spool file */
	snprintf(path, sizeof(path), "%s/new/JUNK", dir);
	f = fopen(path, "w");
	fputs("hello\n\nworld", f);
	fclose(f);
	ck_assert_int_eq(queue_msg_read(dir, "JUNK", &m, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a spool file"));
	/* no envelope end */
	f = fopen(path, "w");
	fputs("QUILL-SPOOL 1\nid JUNK\nfrom <>\nrcpt <a@b>\n", f);
	fclose(f);
	ck_assert_int_eq(queue_msg_read(dir, "JUNK", &m, err, sizeof(err)), -1);
	ck_assert_int_eq(queue_msg_read(dir, "NONE", &m, err, sizeof(err)), -1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("queue_file");
	TCase *tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, envelope_read_back);
	tcase_add_test(tc, seal_torn_files);
	tcase_add_test(tc, state_records);
	tcase_add_test(tc, list_and_refuse);
	tcase_add_test(tc, boot_id_trust);
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
