/*
 * base64.h - base64 encoding and strict decoding (RFC 4648 section 4).
 *
 * Uses the standard alphabet (A-Z a-z 0-9 + /) with '=' padding; not the
 * URL-safe alphabet of section 5. Encoding always pads (section 3.2) and
 * never inserts line breaks (section 3.1).
 *
 * Decoding is strict, as section 3.3 and 3.5 allow an implementation to
 * be: the input must be exactly what this encoder would produce. Anything
 * else is rejected: characters outside the alphabet (whitespace, CR and LF
 * included), a length that is not a multiple of 4, '=' anywhere but the
 * last one or two positions, and pad bits in the final quantum that are
 * not zero (a non-canonical encoding). Empty input is empty output; the
 * SASL convention of "=" for an empty response is the caller's business.
 */
#ifndef QUILL_BASE64_H
#define QUILL_BASE64_H

#include <stddef.h>

/* Characters needed to encode n bytes, without the terminating NUL; SIZE_MAX
 * if that would not fit in a size_t. */
size_t base64_encoded_len(size_t n);

/* Encode n bytes into out as a NUL-terminated string. out_size must be at
 * least base64_encoded_len(n) + 1. Returns 0, or -1 if out is too small (out
 * is then left untouched). */
int base64_encode(const void *in, size_t n, char *out, size_t out_size);

/* An upper bound on the bytes that n characters of base64 decode to. */
size_t base64_decoded_max(size_t n);

/* Decode n characters (no NUL needed) into out. On success returns 0 and
 * sets *out_len_r (which may be NULL) to the decoded length. Returns -1 if
 * the input is not canonical base64 as described above, or if out_size is
 * smaller than the exact decoded length; out is then left untouched. */
int base64_decode(const char *in, size_t n, void *out, size_t out_size,
		  size_t *out_len_r);

#endif
