/*
 * fuzz_base64.c - libFuzzer target for lib/base64 (RFC 4648 section 4).
 *
 * Two round trips. Arbitrary input is decoded; if the strict decoder
 * accepts it, it must be canonical, so encoding the result must give back
 * the input exactly. And the raw input is encoded, then decoded again,
 * which must give back the input. Any mismatch aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_decode_canonical(const uint8_t *data, size_t size)
{
	size_t max = base64_decoded_max(size), len, elen;
	unsigned char *dec = malloc(max + 1);
	char *enc;

	if (dec == NULL)
		return;
	if (base64_decode((const char *)data, size, dec, max, &len) != 0) {
		free(dec);
		return;
	}
	if (len > max)
		abort();
	elen = base64_encoded_len(len);
	enc = malloc(elen + 1);
	if (enc == NULL) {
		free(dec);
		return;
	}
	if (base64_encode(dec, len, enc, elen + 1) != 0 || elen != size ||
	    memcmp(enc, data, size) != 0)
		abort();
	/* One byte short must be refused for a non-empty result. */
	if (len > 0 &&
	    base64_decode((const char *)data, size, dec, len - 1, NULL) != -1)
		abort();
	free(enc);
	free(dec);
}

static void check_encode_round_trip(const uint8_t *data, size_t size)
{
	size_t elen = base64_encoded_len(size), len;
	char *enc = malloc(elen + 1);
	unsigned char *dec;

	if (enc == NULL)
		return;
	if (base64_encode(data, size, enc, elen + 1) != 0 ||
	    strlen(enc) != elen)
		abort();
	if (base64_encode(data, size, enc, elen) != -1)
		abort();
	dec = malloc(size + 1);
	if (dec == NULL) {
		free(enc);
		return;
	}
	if (base64_decode(enc, elen, dec, size, &len) != 0 || len != size ||
	    memcmp(dec, data, size) != 0)
		abort();
	free(dec);
	free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_decode_canonical(data, size);
	check_encode_round_trip(data, size);
	return 0;
}
