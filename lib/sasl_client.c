/*
 * sasl_client.c - SASL PLAIN (RFC 4616 section 2) and LOGIN client
 * responses, base64 via lib/base64.h (see sasl_client.h).
 */
#include "sasl_client.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

/* RFC 3629 section 4: shortest forms only, no surrogates, up to U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char b = s[i];
		size_t more;
		unsigned char lo = 0x80, hi = 0xbf;
		if (b < 0x80) {
			i++;
			continue;
		} else if (b >= 0xc2 && b <= 0xdf) {
			more = 1;
		} else if (b >= 0xe0 && b <= 0xef) {
			more = 2;
			lo = b == 0xe0 ? 0xa0 : 0x80;
			hi = b == 0xed ? 0x9f : 0xbf;
		} else if (b >= 0xf0 && b <= 0xf4) {
			more = 3;
			lo = b == 0xf0 ? 0x90 : 0x80;
			hi = b == 0xf4 ? 0x8f : 0xbf;
		} else {
			return false;
		}
		if (n - i - 1 < more)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= more; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += more + 1;
	}
	return true;
}

int sasl_plain_response(const char *authzid, const char *user, const char *pass,
			char *out, size_t n)
{
	size_t za = authzid != NULL ? strlen(authzid) : 0;
	size_t zu = user != NULL ? strlen(user) : 0;
	size_t zp = pass != NULL ? strlen(pass) : 0;

	if (zu == 0 || zp == 0 ||
	    !utf8_valid((const unsigned char *)authzid, za) ||
	    !utf8_valid((const unsigned char *)user, zu) ||
	    !utf8_valid((const unsigned char *)pass, zp))
		return -1;
	if (za > SIZE_MAX / 4 || zu > SIZE_MAX / 4 || zp > SIZE_MAX / 4)
		return -1;
	size_t len = za + 1 + zu + 1 + zp;
	unsigned char *msg = malloc(len);
	if (msg == NULL)
		return -1;
	if (za > 0)
		memcpy(msg, authzid, za);
	msg[za] = '\0';
	memcpy(msg + za + 1, user, zu);
	msg[za + 1 + zu] = '\0';
	memcpy(msg + za + 2 + zu, pass, zp);
	int rc = base64_encode(msg, len, out, n);
	/* the message holds the password: do not leave it in freed memory */
	explicit_bzero(msg, len);
	free(msg);
	return rc;
}

int sasl_login_encode(const char *s, char *out, size_t n)
{
	if (s == NULL)
		return -1;
	return base64_encode(s, strlen(s), out, n);
}
