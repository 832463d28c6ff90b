/*
 * fuzz_smtp_data.c - the DATA reader (server/smtp/smtp_data.c) on
 * arbitrary input. Checks: what it stores never holds a bare CR or LF
 * (whatever the policy), and the end of data, the verdict and the stored
 * message do not depend on how the input was split.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_data.h"

struct outcome {
	enum smtp_data_step step;
	enum smtp_data_verdict verdict;
	uint32_t hash;
	size_t len;
};

static void check_crlf(const struct buf *out)
{
	const unsigned char *p = buf_data(out);
	size_t n = buf_len(out);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r' && (i + 1 >= n || p[i + 1] != '\n'))
			abort();
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			abort();
	}
}

static struct outcome run(const uint8_t *data, size_t size, size_t piece,
			  bool normalise)
{
	struct smtp_data_reader r;
	struct buf in, out;
	struct outcome o = {SMTP_DATA_MORE, SMTP_DATA_OK, 2166136261u, 0};
	buf_init(&in, 1 << 20);
	buf_init(&out, 1 << 20);
	smtp_data_init(&r, 64, 4096, normalise);
	for (size_t off = 0; off < size && o.step != SMTP_DATA_DONE;) {
		size_t n = size - off < piece ? size - off : piece;
		if (buf_append(&in, data + off, n) != 0)
			abort();
		off += n;
		do {
			o.step = smtp_data_run(&r, &in, &out, 256);
			check_crlf(&out);
			for (size_t i = 0; i < buf_len(&out); i++)
				o.hash = (o.hash ^ buf_data(&out)[i]) *
					 16777619u;
			o.len += buf_len(&out);
			buf_consume(&out, buf_len(&out));
		} while (o.step == SMTP_DATA_FULL);
	}
	o.verdict = r.verdict;
	buf_free(&in);
	buf_free(&out);
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool normalise = data[0] & 1;
	size_t piece = 1 + (data[0] >> 1) % 23;
	struct outcome a = run(data + 1, size - 1, size, normalise);
	struct outcome b = run(data + 1, size - 1, piece, normalise);
	if (a.step != b.step || a.verdict != b.verdict || a.hash != b.hash ||
	    a.len != b.len)
		abort();
	return 0;
}
