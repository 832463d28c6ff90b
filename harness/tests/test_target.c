/*
 * test_target.c - target files (valid, and errors with positions), the
 * target's variables, commands with a time limit, and the embedded
 * quilld's start / stop around a stand-in script that prints the banner,
 * and the quilld.yaml it writes, with and without a quilld_config.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target.h"
#include "target_internal.h"
#include "vars.h"

static const char dovecot[] =
	"name: dovecot\nsummary: Dovecot\n"
	"start: [scripts/peers/dovecot.sh, start]\n"
	"stop: [scripts/peers/dovecot.sh, stop]\n"
	"reset: [scripts/peers/dovecot.sh, reset]\n"
	"host: 127.0.0.1\ndomain: example.test\n"
	"ca_file: /tmp/quill-peers/tls/cert.pem\n"
	"services:\n"
	"  pop3: { port: 3110, tls: starttls }\n"
	"  pop3s: { port: 3995 }\n"
	"users:\n"
	"  - { name: alice, password: wonderland, address: a@example.test }\n"
	"  - { name: bob, password: builder, address: b@example.test }\n"
	"capabilities: [pop3, pop3.stls]\n";

static void assert_error(const char *y, const char *want)
{
	struct scenario_error e;
	char msg[1024];
	struct target *t = target_load_string("t.yaml", y, strlen(y), &e);
	ck_assert_ptr_null(t);
	scenario_error_format(&e, msg, sizeof(msg));
	ck_assert_str_eq(msg, want);
}

START_TEST(load_valid)
{
	struct scenario_error e;
	struct target *t =
		target_load_string("d.yaml", dovecot, strlen(dovecot), &e);
	struct vars *v = vars_new();
	ck_assert_msg(t != NULL, "%s", e.message);
	ck_assert_str_eq(t->name, "dovecot");
	ck_assert_str_eq(t->start[1], "start");
	ck_assert_ptr_null(t->start[2]);
	ck_assert(t->tls_verify);
	ck_assert_uint_eq(t->n_services, 2);
	ck_assert_uint_eq(target_service(t, "pop3s")->port, 3995);
	ck_assert_int_eq(target_service(t, "pop3s")->tls, TARGET_TLS_IMPLICIT);
	ck_assert_int_eq(target_service(t, "pop3")->tls, TARGET_TLS_STARTTLS);
	ck_assert_ptr_null(target_service(t, "imap"));
	ck_assert(target_has_cap(t, "pop3.stls"));
	ck_assert(!target_has_cap(t, "imap"));
	ck_assert_int_eq(target_set_vars(t, v), 0);
	ck_assert_str_eq(vars_get(v, "user2", NULL), "bob");
	ck_assert_str_eq(vars_get(v, "addr1", NULL), "a@example.test");
	ck_assert_str_eq(vars_get(v, "target.host", NULL), "127.0.0.1");
	vars_free(&v);
	target_free(&t);
}
END_TEST

START_TEST(load_errors)
{
	assert_error("name: x\nhost: h\ndomain: d\n",
		     "t.yaml:1:1: missing key 'services'");
	assert_error(
		"name: x\nhost: h\ndomain: d\nservices: { ftp: { port: 1 "
		"} }\n",
		"t.yaml:4:13: bad value 'ftp' for 'services' (expected "
		"smtp, submission, submissions, lmtp, pop3, pop3s, imap or "
		"imaps)");
	assert_error("name: x\nhost: h\ndomain: d\nservices: { smtp: { port: "
		     "70000 } }\n",
		     "t.yaml:4:27: bad value '70000' for 'port' (expected an "
		     "integer from 1 to 65535)");
	assert_error("name: x\nhost: h\ndomain: d\nstart: []\nservices: { "
		     "smtp: { port: 1 } }\n",
		     "t.yaml:4:8: 'start' is empty (expected a command as a "
		     "list: [program, args])");
	assert_error("name: x\nhots: h\n",
		     "t.yaml:2:1: unknown key 'hots' (expected one of name, "
		     "summary, start, stop, reset, host, domain, ca_file, "
		     "tls_verify, services, users, capabilities)");
}
END_TEST

START_TEST(commands_are_bounded)
{
	char err[256];
	char *ok[] = {"true", NULL};
	char *bad[] = {"sh", "-c", "exit 3", NULL};
	char *slow[] = {"sleep", "10", NULL};
	char *none[] = {"/no/such/program", NULL};
	ck_assert_int_eq(target_run_command(ok, ".", 5, err, sizeof(err)), 0);
	ck_assert_int_eq(target_run_command(bad, ".", 5, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "'sh' exited with status 3");
	ck_assert_int_eq(target_run_command(slow, ".", 1, err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "'sleep' did not finish in 1 s");
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);
	dup2(null, STDERR_FILENO); /* keep the child's complaint quiet */
	int rc = target_run_command(none, ".", 5, err, sizeof(err));
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(null);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(err, "'/no/such/program' exited with status 127");
}
END_TEST

/* A stand-in for quilld: a script printing the banner's last line. */
static void write_script(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\n%s", body);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0700), 0);
}

START_TEST(embedded_quilld_start_stop)
{
	char dir[] = "/tmp/quill-test-target-XXXXXX", path[128], err[1024];
	char tmpdir[256], cfg[300], found[256];
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fake-quilld", dir);
	write_script(path, "echo 'quilld 0 serving'\necho 'quilld ready'\n"
			   "exec sleep 30\n");
	ck_assert_int_eq(target_find_quilld(path, found, sizeof(found), err,
					    sizeof(err)),
			 0);
	ck_assert_str_eq(found, path);
	struct target *t = target_quilld_new(path);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(target_start(t, ".", err, sizeof(err)), 0);
	ck_assert_uint_eq(t->n_services, 6);
	ck_assert_int_eq(target_service(t, "submissions")->tls,
			 TARGET_TLS_IMPLICIT);
	ck_assert_int_eq(target_service(t, "lmtp")->tls, TARGET_TLS_NONE);
	ck_assert_int_eq(target_service(t, "pop3")->tls, TARGET_TLS_STARTTLS);
	ck_assert_int_eq(target_service(t, "pop3s")->tls, TARGET_TLS_IMPLICIT);
	snprintf(tmpdir, sizeof(tmpdir), "%s", t->tmpdir);
	snprintf(cfg, sizeof(cfg), "%s/quilld.yaml", tmpdir);
	ck_assert_int_eq(stat(cfg, &st), 0);
	ck_assert(target_has_cap(t, "smtp.starttls"));
	ck_assert(target_has_cap(t, "lmtp.pipelining"));
	ck_assert(target_has_cap(t, "pop3.stls"));
	/* reset: a new quilld on the same ports, every mailbox emptied */
	char mail[300], box[320];
	unsigned port = target_service(t, "pop3")->port;
	pid_t pid = t->pid;
	snprintf(mail, sizeof(mail), "%s/var/mail", tmpdir);
	snprintf(box, sizeof(box), "%s/var", tmpdir);
	ck_assert(mkdir(box, 0700) == 0 || errno == EEXIST);
	ck_assert(mkdir(mail, 0700) == 0 || errno == EEXIST);
	snprintf(box, sizeof(box), "%s/var/mail/alice", tmpdir);
	ck_assert_int_eq(mkdir(box, 0700), 0);
	ck_assert_int_eq(target_reset(t, ".", err, sizeof(err)), 0);
	ck_assert_int_ne(stat(box, &st), 0);
	ck_assert_int_ne(t->pid, pid);
	ck_assert_uint_eq(target_service(t, "pop3")->port, port);
	ck_assert_int_eq(target_stop(t, ".", err, sizeof(err)), 0);
	ck_assert_int_ne(stat(tmpdir, &st), 0); /* removed */
	target_free(&t);

	write_script(path, "echo 'failing on purpose' >&2\nexit 1\n");
	t = target_quilld_new(path);
	ck_assert_int_eq(target_start(t, ".", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "exited before it was ready; its "
					  "log ends: failing on purpose"));
	target_stop(t, ".", err, sizeof(err));
	target_free(&t);
	ck_assert_int_eq(target_find_quilld("/no/quilld", found, sizeof(found),
					    err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "--quilld /no/quilld: not an executable");
	unlink(path);
	rmdir(dir);
}
END_TEST

static void read_all(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t len = fread(out, 1, n - 1, f);
	out[len] = '\0';
	fclose(f);
}

/* quilld.yaml: the target's keys, then a scenario's quilld_config, whose
 * own auth or limits section replaces the target's. */
START_TEST(embedded_quilld_config_text)
{
	char dir[] = "/tmp/quill-test-config-XXXXXX", path[128], err[256];
	char text[4096];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct target *t = target_quilld_new("/bin/true");
	ck_assert_ptr_nonnull(t);
	t->tmpdir = strdup(dir);
	snprintf(path, sizeof(path), "%s/quilld.yaml", dir);
	unsetenv("QUILL_HARNESS_QUILLD_CONFIG");
	ck_assert_int_eq(target_quilld_write_config(t, NULL, err, sizeof(err)),
			 0);
	read_all(path, text, sizeof(text));
	ck_assert_ptr_nonnull(
		strstr(text, "\nauth:\n  smtp_listeners: true\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nlimits:\n  max_per_ip: 10\n"));
	ck_assert_ptr_null(strstr(text, "quilld_config"));
	ck_assert_int_eq(target_quilld_write_config(t,
						    "smtp:\n  data_timeout: 1",
						    err, sizeof(err)),
			 0);
	read_all(path, text, sizeof(text));
	ck_assert_ptr_nonnull(
		strstr(text, "\nauth:\n  smtp_listeners: true\n"));
	ck_assert_ptr_nonnull(strstr(text, "# the scenario's quilld_config\n"
					   "smtp:\n  data_timeout: 1\n"));
	ck_assert_int_eq(
		target_quilld_write_config(t,
					   "smtp: { auth: 1 }\nauth:\n"
					   "  plaintext_without_tls: true\n",
					   err, sizeof(err)),
		0);
	read_all(path, text, sizeof(text));
	ck_assert_ptr_null(strstr(text, "smtp_listeners"));
	ck_assert_ptr_nonnull(strstr(text, "\nlimits:\n  max_per_ip: 10\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nauth:\n  plaintext_without_tls"));
	ck_assert_int_eq(target_quilld_write_config(t, "limits: { x: 1 }\n",
						    err, sizeof(err)),
			 0);
	read_all(path, text, sizeof(text));
	ck_assert_ptr_null(strstr(text, "max_per_ip"));
	ck_assert_ptr_nonnull(strstr(text, "smtp_listeners"));
	target_free(&t);
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *target_suite(void)
{
	Suite *s = suite_create("target");
	TCase *tc = tcase_create("target");
	tcase_add_test(tc, load_valid);
	tcase_add_test(tc, load_errors);
	tcase_add_test(tc, commands_are_bounded);
	tcase_add_test(tc, embedded_quilld_start_stop);
	tcase_add_test(tc, embedded_quilld_config_text);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(target_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
