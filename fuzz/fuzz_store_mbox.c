/*
 * fuzz_store_mbox.c - libFuzzer target for the mbox backend on arbitrary
 * file contents (RFC 4155 mboxrd as found in the wild, or garbage).
 *
 * The input is written as the INBOX of a fresh mbox store, which is then
 * opened (parsed and indexed), every message read whole and in pieces
 * (each read must give exactly its reported size), reopened from the
 * index (the same messages must come back), appended to (a message with
 * status fields of its own, which must read back unchanged), flagged
 * with a keyword (status lines changed in place or by a rewrite) and
 * expunged from (the journal path), and checked again; then the index is
 * deleted and the file parsed afresh must give the same messages. No
 * crash, no leak, and the index always agrees with the file. Opening goes
 * through the From_ line scanner and the status-line classifier
 * (mbox_parse.c, mbox_meta.c), reading through the header walk and the
 * mboxrd unquoting (mbox_hdr.c, mbox_read.c): all parse fuzzed bytes.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                    \
			abort();                                           \
		}                                                          \
	} while (0)

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Read a message whole, then in 7-byte pieces; both must agree. */
static uint64_t read_msg(struct store_mailbox *mb, uint32_t uid, uint64_t *hash)
{
	struct store_msg *msg;
	uint64_t size, off = 0, h = 1469598103934665603ULL;
	char *whole, piece[7];
	size_t got;

	if (store_msg_open(mb, uid, &msg, NULL) != 0)
		return UINT64_MAX;
	size = store_msg_get_info(msg)->size;
	CHECK(store_msg_get_info(msg)->header_size <= size);
	whole = malloc(size + 1);
	CHECK(whole != NULL);
	CHECK(store_msg_read(msg, 0, whole, size + 1, &got, NULL) == 0);
	CHECK(got == size);
	while (store_msg_read(msg, off, piece, sizeof(piece), &got, NULL) ==
		       0 &&
	       got > 0) {
		CHECK(memcmp(piece, whole + off, got) == 0);
		off += got;
	}
	CHECK(off == size);
	for (uint64_t i = 0; i < size; i++)
		h = (h ^ (unsigned char)whole[i]) * 1099511628211ULL;
	*hash = h;
	free(whole);
	store_msg_close(&msg);
	return size;
}

static uint64_t check_all(struct store_mailbox *mb)
{
	uint64_t sum = 0;

	for (uint32_t seq = 1; seq <= store_count(mb); seq++) {
		uint64_t h;
		uint64_t size = read_msg(mb, store_uid_at(mb, seq), &h);

		CHECK(size != UINT64_MAX);
		sum = sum * 31 + h + size;
	}
	return sum;
}

static const char own[] = "Status: RO\nX-UID: 1\nFrom x\n\n>From y\n";

/* Append a message with status fields of its own; it reads back as is. */
static void append_own(struct store *st, struct store_mailbox *mb)
{
	struct store_append *ap;
	struct store_changes ch;
	const char *kw[] = {"$Fuzz"};
	uint32_t uid = 0;

	if (store_append_begin(st, "INBOX", "fuzz@example.org", &ap, NULL) != 0)
		return;
	store_append_write(ap, own, sizeof(own) - 1, NULL);
	if (store_append_commit(&ap, STORE_F_SEEN, kw, 1, 1, NULL, &uid,
				NULL) != 0 ||
	    store_sync(mb, &ch, NULL) != 0)
		return;
	store_changes_clear(&ch);
	{
		struct store_msg *msg;
		char buf[sizeof(own)];
		size_t got = 0;

		CHECK(store_msg_open(mb, uid, &msg, NULL) == 0);
		CHECK(store_msg_read(msg, 0, buf, sizeof(buf), &got, NULL) ==
		      0);
		CHECK(got == sizeof(own) - 1 &&
		      memcmp(buf, own, sizeof(own) - 1) == 0);
		store_msg_close(&msg);
	}
}

/* Without the index, the file alone gives the same messages. */
static void rebuild(struct store *st, const char *root, uint32_t count,
		    uint64_t sum)
{
	struct store_mailbox *mb;
	char path[96];

	snprintf(path, sizeof(path), "%s/.inbox.quill-index", root);
	unlink(path);
	if (store_mailbox_open(st, "INBOX", STORE_OPEN_READONLY, &mb, NULL) !=
	    0)
		return;
	CHECK(store_count(mb) == count);
	CHECK(check_all(mb) == sum);
	store_mailbox_close(&mb);
}

static void exercise(struct store *st, const char *root)
{
	struct store_mailbox *mb, *again;
	struct store_changes ch;
	const char *kw[] = {"$Label1"};
	uint64_t sum;

	if (store_mailbox_open(st, "INBOX", 0, &mb, NULL) != 0)
		return;
	sum = check_all(mb);
	if (store_mailbox_open(st, "INBOX", STORE_OPEN_READONLY, &again,
			       NULL) == 0) {
		CHECK(store_count(again) == store_count(mb));
		CHECK(check_all(again) == sum);
		store_mailbox_close(&again);
	}
	append_own(st, mb);
	if (store_count(mb) > 1) {
		struct store_uid_range r = {store_uid_at(mb, 2),
					    store_uid_at(mb, 2)};
		struct store_uidset one = {&r, 1};

		if (store_flags_change(mb, &one, STORE_FLAGS_ADD,
				       STORE_F_FLAGGED, kw, 1, NULL) == 0)
			check_all(mb);
	}
	if (store_count(mb) > 0) {
		struct store_uid_range r = {store_uid_at(mb, 1),
					    store_uid_at(mb, 1)};
		struct store_uidset one = {&r, 1};

		if (store_flags_change(mb, &one, STORE_FLAGS_ADD,
				       STORE_F_DELETED, NULL, 0, NULL) == 0 &&
		    store_expunge(mb, NULL, &ch, NULL) == 0)
			store_changes_clear(&ch);
	}
	sum = check_all(mb);
	if (store_sync(mb, &ch, NULL) == 0) {
		CHECK(ch.n_added == 0 && ch.n_expunged == 0 && !ch.reset);
		store_changes_clear(&ch);
		rebuild(st, root, store_count(mb), sum);
	}
	store_mailbox_close(&mb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char root[] = "/dev/shm/quill-fuzz-mbox-XXXXXX", path[64];
	struct store_config cfg;
	struct store *st;
	FILE *f;

	if (size > 1024 * 1024)
		return 0;
	if (mkdtemp(root) == NULL) { /* no tmpfs: the disk will do */
		memcpy(root, "/tmp/quill-fuzz-mbox-XXXXXX",
		       sizeof("/tmp/quill-fuzz-mbox-XXXXXX"));
		if (mkdtemp(root) == NULL)
			return 0;
	}
	snprintf(path, sizeof(path), "%s/inbox", root);
	f = fopen(path, "wb");
	if (f != NULL) {
		if (size > 0)
			fwrite(data, 1, size, f);
		fclose(f);
	}
	store_config_init(&cfg, STORE_KIND_MBOX, root);
	cfg.fsync = false;
	cfg.hostname = "fuzz.example";
	cfg.lock_timeout_ms = 1000;
	if (store_open(&cfg, &st, NULL) == 0) {
		exercise(st, root);
		store_close(&st);
	}
	nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}
