/*
 * fuzz_passwd.c - libFuzzer target for the passwd-file parser.
 *
 * Parses the input as a passwd-file, then for every entry: looks it up,
 * formats it, parses the line again and compares the fields (a round
 * trip), asks for its mail root, and verifies {PLAIN} passwords (right and
 * wrong). Crypt schemes are never verified here: crypt is slow on purpose.
 */
#include "passwd.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                    \
			abort();                                           \
		}                                                          \
	} while (0)

static bool same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void check_round_trip(const struct passwd_entry *a, char *line, size_t n)
{
	struct passwd_error err;
	struct passwd_db *db;
	const struct passwd_entry *b;

	CHECK(passwd_entry_format(a, line, n) == 0);
	db = passwd_db_load_buffer("again", line, strlen(line), &err);
	CHECK(db != NULL);
	CHECK(passwd_db_count(db) == 1);
	b = passwd_db_entry(db, 0);
	CHECK(strcmp(a->user, b->user) == 0);
	CHECK(strcmp(a->scheme, b->scheme) == 0);
	CHECK(strcmp(a->hash, b->hash) == 0);
	CHECK(a->uid == b->uid && a->gid == b->gid);
	CHECK(same_str(a->gecos, b->gecos) && same_str(a->home, b->home));
	CHECK(same_str(a->shell, b->shell) && same_str(a->extra, b->extra));
	passwd_db_free(&db);
}

static void check_plain(const struct passwd_db *db,
			const struct passwd_entry *e, char *buf)
{
	const struct passwd_options opt = {.allow_plain = true};
	size_t len = strlen(e->hash);

	if (strcmp(e->scheme, "PLAIN") != 0 || len >= PASSWD_PASSWORD_MAX)
		return;
	CHECK(passwd_verify(db, e->user, e->hash, len, &opt) == PASSWD_OK);
	CHECK(passwd_verify(db, e->user, e->hash, len, NULL) ==
	      PASSWD_SCHEME_DISABLED);
	memcpy(buf, e->hash, len);
	buf[len] = 'x';
	CHECK(passwd_verify(db, e->user, buf, len + 1, &opt) == PASSWD_FAIL);
}

static void check_entry(const struct passwd_db *db,
			const struct passwd_entry *e, char *buf, size_t n)
{
	char root[512];

	CHECK(passwd_db_lookup(db, e->user) == e);
	CHECK(e->home == NULL || e->home[0] == '/');
	if (passwd_mail_root(e, "/var/mail", root, sizeof(root)) == 0)
		CHECK(root[0] == '/');
	check_round_trip(e, buf, n);
	check_plain(db, e, buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct passwd_error err;
	struct passwd_db *db =
		passwd_db_load_buffer("fuzz", (const char *)data, size, &err);
	size_t n = size + 64;
	char *buf;

	if (db == NULL) {
		CHECK(err.msg[0] != '\0');
		return 0;
	}
	buf = malloc(n > PASSWD_PASSWORD_MAX + 1 ? n : PASSWD_PASSWORD_MAX + 1);
	CHECK(buf != NULL);
	for (size_t i = 0; i < passwd_db_count(db); i++)
		check_entry(db, passwd_db_entry(db, i), buf, n);
	CHECK(passwd_db_entry(db, passwd_db_count(db)) == NULL);
	(void)passwd_db_lookup(db, "alice");
	(void)passwd_db_lookup(db, "");
	free(buf);
	passwd_db_free(&db);
	return 0;
}
