/*
 * base64.c - base64 encoding and strict decoding (RFC 4648 section 4).
 *
 * Encoding takes 3 bytes at a time into 4 characters of 6 bits each, and
 * pads a final group of 1 or 2 bytes with zero bits and '=' characters
 * (section 4). Decoding accepts only the canonical form (sections 3.3 and
 * 3.5): it validates the whole input before writing anything, so a caller
 * never sees a partial result.
 */
#include "base64.h"

#include <stdint.h>

static const char base64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The 6-bit value of an alphabet character, or -1 (padding included). */
static int base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t base64_encoded_len(size_t n)
{
	size_t groups = n / 3 + (n % 3 != 0);

	if (groups > SIZE_MAX / 4)
		return SIZE_MAX;
	return groups * 4;
}

int base64_encode(const void *in, size_t n, char *out, size_t out_size)
{
	const unsigned char *p = in;
	size_t len = base64_encoded_len(n);
	size_t i, o = 0;

	if (len == SIZE_MAX || out_size <= len)
		return -1;
	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
			     p[i + 2];
		out[o++] = base64_alphabet[v >> 18];
		out[o++] = base64_alphabet[(v >> 12) & 0x3f];
		out[o++] = base64_alphabet[(v >> 6) & 0x3f];
		out[o++] = base64_alphabet[v & 0x3f];
	}
	if (n - i == 1) {
		out[o++] = base64_alphabet[p[i] >> 2];
		out[o++] = base64_alphabet[(p[i] & 0x03) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		out[o++] = base64_alphabet[p[i] >> 2];
		out[o++] = base64_alphabet[(p[i] & 0x03) << 4 | p[i + 1] >> 4];
		out[o++] = base64_alphabet[(p[i + 1] & 0x0f) << 2];
		out[o++] = '=';
	}
	out[o] = '\0';
	return 0;
}

size_t base64_decoded_max(size_t n)
{
	return n / 4 * 3 + (n % 4 != 0 ? 3 : 0);
}

/* Check that in[0..n) is canonical base64; return the number of padding
 * characters (0-2), or -1. */
static int base64_validate(const char *in, size_t n)
{
	size_t i, data_len;
	int pad = 0;

	if (n % 4 != 0)
		return -1;
	if (n == 0)
		return 0;
	if (in[n - 1] == '=')
		pad = in[n - 2] == '=' ? 2 : 1;
	data_len = n - (size_t)pad;
	for (i = 0; i < data_len; i++) {
		if (base64_value((unsigned char)in[i]) < 0)
			return -1;
	}
	/* The bits that padding leaves over must be zero (section 3.5). */
	if (pad == 2 && (base64_value((unsigned char)in[n - 3]) & 0x0f) != 0)
		return -1;
	if (pad == 1 && (base64_value((unsigned char)in[n - 2]) & 0x03) != 0)
		return -1;
	return pad;
}

int base64_decode(const char *in, size_t n, void *out, size_t out_size,
		  size_t *out_len_r)
{
	unsigned char *q = out;
	int pad = base64_validate(in, n);
	size_t i, o = 0, len;
	uint32_t v = 0;

	if (pad < 0)
		return -1;
	len = n / 4 * 3 - (size_t)pad;
	if (out_size < len)
		return -1;
	for (i = 0; i < n - (size_t)pad; i++) {
		v = v << 6 | (uint32_t)base64_value((unsigned char)in[i]);
		if (i % 4 == 3) {
			q[o++] = (unsigned char)(v >> 16);
			q[o++] = (unsigned char)(v >> 8);
			q[o++] = (unsigned char)v;
			v = 0;
		}
	}
	if (pad == 2) {
		q[o++] = (unsigned char)(v >> 4);
	} else if (pad == 1) {
		q[o++] = (unsigned char)(v >> 10);
		q[o++] = (unsigned char)(v >> 2);
	}
	if (out_len_r != NULL)
		*out_len_r = len;
	return 0;
}
