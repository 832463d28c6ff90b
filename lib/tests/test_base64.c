/*
 * test_base64.c - unit tests for lib/base64 (RFC 4648 section 4).
 *
 * The section 10 test vectors in both directions, every way strict decoding
 * rejects input, exact and short output buffers, and a round trip of every
 * byte value at every length from 0 to 300.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

struct vector {
	const char *plain;
	const char *encoded;
};

/* RFC 4648 section 10. */
static const struct vector rfc_vectors[] = {
	{"", ""},
	{"f", "Zg=="},
	{"fo", "Zm8="},
	{"foo", "Zm9v"},
	{"foob", "Zm9vYg=="},
	{"fooba", "Zm9vYmE="},
	{"foobar", "Zm9vYmFy"},
};

#define N_VECTORS (sizeof(rfc_vectors) / sizeof(rfc_vectors[0]))

/* Decode a NUL-terminated string; -1 on error, else the decoded length. */
static long decode_str(const char *s, unsigned char *out, size_t out_size)
{
	size_t len = 12345;

	if (base64_decode(s, strlen(s), out, out_size, &len) != 0)
		return -1;
	return (long)len;
}

START_TEST(test_encode_vectors)
{
	const struct vector *v = &rfc_vectors[_i];
	char out[16];

	memset(out, 'x', sizeof(out));
	ck_assert_uint_eq(base64_encoded_len(strlen(v->plain)),
			  strlen(v->encoded));
	ck_assert_int_eq(
		base64_encode(v->plain, strlen(v->plain), out, sizeof(out)), 0);
	ck_assert_str_eq(out, v->encoded);
}
END_TEST

START_TEST(test_decode_vectors)
{
	const struct vector *v = &rfc_vectors[_i];
	unsigned char out[16];
	size_t len = 999;

	memset(out, 0xaa, sizeof(out));
	ck_assert_int_eq(base64_decode(v->encoded, strlen(v->encoded), out,
				       sizeof(out), &len),
			 0);
	ck_assert_uint_eq(len, strlen(v->plain));
	ck_assert_mem_eq(out, v->plain, len);
	ck_assert_uint_eq(out[len], 0xaa); /* nothing written past the end */
	ck_assert_uint_le(len, base64_decoded_max(strlen(v->encoded)));
}
END_TEST

START_TEST(test_decode_null_len)
{
	unsigned char out[8];

	ck_assert_int_eq(base64_decode("Zm9v", 4, out, sizeof(out), NULL), 0);
	ck_assert_mem_eq(out, "foo", 3);
}
END_TEST

START_TEST(test_decode_empty)
{
	size_t len = 7;

	ck_assert_int_eq(base64_decode("", 0, NULL, 0, &len), 0);
	ck_assert_uint_eq(len, 0);
	/* "=" for an empty SASL response is the caller's job, not ours. */
	ck_assert_int_eq(base64_decode("=", 1, NULL, 0, &len), -1);
}
END_TEST

/* Every one of these must be rejected by the strict decoder. */
static const char *const bad_inputs[] = {
	/* characters outside the alphabet */
	"Zm9v ",
	" Zm9v",
	"Zm 9v",
	"Zm9v\r\n",
	"Zm9v\nYmFy",
	"Zm9\tv",
	"Zm9-",
	"Zm9_",
	"Zm9*",
	"Zm9.",
	"Zm9\x80",
	"Zm9\xff",
	/* length not a multiple of 4 / missing padding */
	"Z",
	"Zg",
	"Zg=",
	"Zm8",
	"Zm9vY",
	"Zm9vYg",
	"Zm9vYmE",
	"Zm9vYg=",
	/* '=' in the wrong place, or too many */
	"=",
	"==",
	"===",
	"====",
	"Z===",
	"=Zg=",
	"Zg=A",
	"Z=g=",
	"Zg==Zm9v",
	"Zm8=Zm9v",
	"Zm9vYg===",
	"Zm9v====",
	"Zm9vY===",
	/* non-zero bits after the last byte (section 3.5) */
	"Zh==",
	"Zv==",
	"Z/==",
	"Zm9=",
	"Zm+=",
	"Zm/=",
	"Zm9vYh==",
	"Zm9vYmF=",
};

#define N_BAD (sizeof(bad_inputs) / sizeof(bad_inputs[0]))

START_TEST(test_decode_rejects)
{
	unsigned char out[64];
	size_t len = 4242;

	memset(out, 0x55, sizeof(out));
	ck_assert_msg(base64_decode(bad_inputs[_i], strlen(bad_inputs[_i]), out,
				    sizeof(out), &len) == -1,
		      "accepted bad input #%d", _i);
	ck_assert_uint_eq(len, 4242);
	ck_assert_uint_eq(out[0], 0x55); /* untouched on error */
}
END_TEST

START_TEST(test_decode_embedded_nul)
{
	unsigned char out[8];

	ck_assert_int_eq(base64_decode("Zm\0v", 4, out, sizeof(out), NULL), -1);
	ck_assert_int_eq(base64_decode("Zm9v\0", 5, out, sizeof(out), NULL),
			 -1);
}
END_TEST

START_TEST(test_decode_zero_bits_ok)
{
	unsigned char out[8];

	/* The canonical neighbours of the rejected tails above. */
	ck_assert_int_eq(decode_str("Zg==", out, sizeof(out)), 1);
	ck_assert_int_eq(decode_str("Zw==", out, sizeof(out)), 1);
	ck_assert_uint_eq(out[0], 0x67);
	ck_assert_int_eq(decode_str("Zm8=", out, sizeof(out)), 2);
	ck_assert_int_eq(decode_str("//8=", out, sizeof(out)), 2);
	ck_assert_uint_eq(out[0], 0xff);
	ck_assert_uint_eq(out[1], 0xff);
	ck_assert_int_eq(decode_str("/w==", out, sizeof(out)), 1);
	ck_assert_uint_eq(out[0], 0xff);
	ck_assert_int_eq(decode_str("AAAA", out, sizeof(out)), 3);
	ck_assert_int_eq(decode_str("++//", out, sizeof(out)), 3);
	ck_assert_uint_eq(out[0], 0xfb);
	ck_assert_uint_eq(out[1], 0xef);
	ck_assert_uint_eq(out[2], 0xff);
}
END_TEST

START_TEST(test_encode_small_buffer)
{
	char out[16];

	/* "Zm9vYmFy" needs 9 bytes with the NUL. */
	memset(out, 'x', sizeof(out));
	ck_assert_int_eq(base64_encode("foobar", 6, out, 8), -1);
	ck_assert_int_eq(out[0], 'x');
	ck_assert_int_eq(base64_encode("foobar", 6, out, 9), 0);
	ck_assert_str_eq(out, "Zm9vYmFy");
	ck_assert_int_eq(out[9], 'x');
	ck_assert_int_eq(base64_encode("", 0, out, 0), -1);
	ck_assert_int_eq(base64_encode("", 0, out, 1), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(base64_encode("f", 1, out, 4), -1);
	ck_assert_int_eq(base64_encode("f", 1, out, 5), 0);
	ck_assert_str_eq(out, "Zg==");
}
END_TEST

START_TEST(test_decode_small_buffer)
{
	unsigned char out[8];
	size_t len = 77;

	memset(out, 0x11, sizeof(out));
	ck_assert_int_eq(base64_decode("Zm9vYmE=", 8, out, 4, &len), -1);
	ck_assert_uint_eq(len, 77);
	ck_assert_uint_eq(out[0], 0x11);
	/* The exact decoded length is enough, not decoded_max(). */
	ck_assert_int_eq(base64_decode("Zm9vYmE=", 8, out, 5, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(out, "fooba", 5);
	ck_assert_uint_eq(out[5], 0x11);
	ck_assert_int_eq(base64_decode("Zg==", 4, out, 0, &len), -1);
	ck_assert_int_eq(base64_decode("Zg==", 4, out, 1, &len), 0);
}
END_TEST

START_TEST(test_lengths)
{
	ck_assert_uint_eq(base64_encoded_len(0), 0);
	ck_assert_uint_eq(base64_encoded_len(1), 4);
	ck_assert_uint_eq(base64_encoded_len(2), 4);
	ck_assert_uint_eq(base64_encoded_len(3), 4);
	ck_assert_uint_eq(base64_encoded_len(4), 8);
	ck_assert_uint_eq(base64_encoded_len(SIZE_MAX), SIZE_MAX);
	ck_assert_uint_eq(base64_encoded_len(SIZE_MAX / 4 * 3),
			  SIZE_MAX / 4 * 4);
	ck_assert_uint_eq(base64_decoded_max(0), 0);
	ck_assert_uint_eq(base64_decoded_max(4), 3);
	ck_assert_uint_eq(base64_decoded_max(8), 6);
	ck_assert_uint_ge(base64_decoded_max(SIZE_MAX), SIZE_MAX / 4 * 3);
}
END_TEST

START_TEST(test_encode_huge_len)
{
	char out[4];

	/* The length check comes first; in is never read. */
	ck_assert_int_eq(base64_encode("", SIZE_MAX, out, sizeof(out)), -1);
}
END_TEST

/* Round trip every length 0..300, the bytes cycling through all values
 * with a different starting point per length. */
START_TEST(test_round_trip)
{
	unsigned char in[300], back[300];
	char enc[401];

	for (size_t n = 0; n <= sizeof(in); n++) {
		size_t len = 9999;

		for (size_t i = 0; i < n; i++)
			in[i] = (unsigned char)(i * 7 + n);
		ck_assert_int_eq(base64_encode(in, n, enc, sizeof(enc)), 0);
		ck_assert_uint_eq(strlen(enc), base64_encoded_len(n));
		ck_assert_int_eq(base64_decode(enc, strlen(enc), back,
					       sizeof(back), &len),
				 0);
		ck_assert_uint_eq(len, n);
		ck_assert_mem_eq(back, in, n);
		/* Exactly sized buffers are enough. */
		ck_assert_int_eq(
			base64_encode(in, n, enc, base64_encoded_len(n) + 1),
			0);
		ck_assert_int_eq(base64_decode(enc, strlen(enc), back, n, NULL),
				 0);
	}
}
END_TEST

START_TEST(test_all_bytes)
{
	unsigned char in[256], back[256];
	char enc[345];
	size_t len;

	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)i;
	ck_assert_int_eq(base64_encode(in, sizeof(in), enc, sizeof(enc)), 0);
	ck_assert_uint_eq(strlen(enc), 344);
	ck_assert_int_eq(
		strncmp(enc, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBka", 36), 0);
	ck_assert_str_eq(enc + 324, "8/T19vf4+fr7/P3+/w==");
	ck_assert_int_eq(
		base64_decode(enc, strlen(enc), back, sizeof(back), &len), 0);
	ck_assert_uint_eq(len, sizeof(in));
	ck_assert_mem_eq(back, in, sizeof(in));
}
END_TEST

/* For every byte c, "Qc==" and "QUc=" decode only if c is an alphabet
 * character leaving zero pad bits (4 and 16 of them), and whatever decodes
 * re-encodes to the same text. */
START_TEST(test_canonical_exhaustive)
{
	unsigned accepted[2] = {0, 0};

	for (int c = 0; c < 256; c++) {
		for (int t = 0; t < 2; t++) {
			char in[5] = "Q===", enc[8];
			unsigned char out[4];
			size_t len;

			in[1 + t] = (char)c;
			if (t == 1)
				in[1] = 'U';
			if (base64_decode(in, 4, out, sizeof(out), &len) != 0)
				continue;
			accepted[t]++;
			ck_assert_int_eq(
				base64_encode(out, len, enc, sizeof(enc)), 0);
			ck_assert_mem_eq(enc, in, 5);
		}
	}
	ck_assert_uint_eq(accepted[0], 4);
	ck_assert_uint_eq(accepted[1], 16);
}
END_TEST

static Suite *base64_suite(void)
{
	Suite *s = suite_create("base64");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_encode_vectors, 0, N_VECTORS);
	tcase_add_loop_test(tc, test_decode_vectors, 0, N_VECTORS);
	tcase_add_test(tc, test_decode_null_len);
	tcase_add_test(tc, test_decode_empty);
	tcase_add_loop_test(tc, test_decode_rejects, 0, N_BAD);
	tcase_add_test(tc, test_decode_embedded_nul);
	tcase_add_test(tc, test_decode_zero_bits_ok);
	tcase_add_test(tc, test_encode_small_buffer);
	tcase_add_test(tc, test_decode_small_buffer);
	tcase_add_test(tc, test_lengths);
	tcase_add_test(tc, test_encode_huge_len);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_all_bytes);
	tcase_add_test(tc, test_canonical_exhaustive);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(base64_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
