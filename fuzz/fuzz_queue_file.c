/*
 * fuzz_queue_file.c - libFuzzer target for the readers of the queue's
 * own files (queue_file.h), which a crash may leave torn and anyone with
 * access to the queue directory may damage: the spool file's envelope
 * and seal (spool.h, spool_seal.h) and the state records beside it.
 *
 * The input is the spool file, then optionally "\n--state--\n" and the
 * state file. Each is written to a scratch queue directory and read back
 * with queue_msg_read(): whatever the bytes, it must not crash or leak,
 * and what it accepts must be consistent (recipients named, records
 * within the envelope, the message where the file says).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/queue_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                    \
			abort();                                           \
		}                                                          \
	} while (0)

#define ID	  "6B04E132001FFFC3857"
#define SEPARATOR "\n--state--\n"

static char qdir[256];

static void put(const char *sub, const void *data, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s/" ID, qdir, sub);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

static void remove_all(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/new/" ID, qdir);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/state/" ID, qdir);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/new", qdir);
	(void)rmdir(path);
	snprintf(path, sizeof(path), "%s/state", qdir);
	(void)rmdir(path);
	(void)rmdir(qdir);
}

static void setup(void)
{
	char path[512];
	const char *tmp = getenv("TMPDIR");
	snprintf(qdir, sizeof(qdir), "%s/quill-fuzz-queue-XXXXXX",
		 tmp != NULL && *tmp ? tmp : "/tmp");
	CHECK(mkdtemp(qdir) != NULL);
	snprintf(path, sizeof(path), "%s/new", qdir);
	CHECK(mkdir(path, 0700) == 0);
	snprintf(path, sizeof(path), "%s/state", qdir);
	CHECK(mkdir(path, 0700) == 0);
	atexit(remove_all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_msg m;
	struct stat sb;
	char err[512], path[512];
	const uint8_t *sep = memmem(data, size, SEPARATOR, strlen(SEPARATOR));
	size_t spool_len = sep != NULL ? (size_t)(sep - data) : size;

	if (qdir[0] == '\0')
		setup();
	put("new", data, spool_len);
	snprintf(path, sizeof(path), "%s/state/" ID, qdir);
	if (sep != NULL)
		put("state", sep + strlen(SEPARATOR),
		    size - spool_len - strlen(SEPARATOR));
	else
		(void)unlink(path);
	int rc = queue_msg_read(qdir, ID, &m, err, sizeof(err));
	CHECK(rc == 0 || rc == -1 || rc == QUEUE_TORN);
	CHECK(rc == 0 || err[0] != '\0');
	if (rc != 0)
		return 0;
	snprintf(path, sizeof(path), "%s/new/" ID, qdir);
	CHECK(stat(path, &sb) == 0);
	CHECK(m.from != NULL && m.n_rcpt > 0 && m.id[0] != '\0');
	CHECK(m.offset <= (uint64_t)sb.st_size &&
	      m.offset + m.size == (uint64_t)sb.st_size);
	CHECK(!m.sealed || (!m.seal_zero && m.seal.len == m.size));
	for (size_t i = 0; i < m.n_rcpt; i++) {
		const struct queue_rcpt *r = &m.rcpt[i];
		CHECK(r->addr != NULL);
		CHECK(queue_rcpt_state_name(r->state) != NULL);
		CHECK(strlen(r->text) < sizeof(r->text));
	}
	queue_msg_free(&m);
	return 0;
}
