/*
 * smtp_syntax.c - RFC 5321 section 4.1.2 / 4.1.3 syntax checks.
 *
 * Strict by design: what the ABNF does not allow is refused, so the
 * harness can tell a lenient server from a conforming one.
 */
#include "smtp_syntax.h"

#include <arpa/inet.h>
#include <string.h>

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_let_dig(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

/* sub-domain = Let-dig [Ldh-str]: starts and ends with a letter or digit,
 * hyphens only inside. */
static bool subdomain_ok(const char *p, size_t len)
{
	if (len == 0 || len > 63)
		return false;
	if (!is_let_dig((unsigned char)p[0]) ||
	    !is_let_dig((unsigned char)p[len - 1]))
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!is_let_dig((unsigned char)p[i]) && p[i] != '-')
			return false;
	return true;
}

bool smtp_syntax_domain(const char *p, size_t len)
{
	if (len == 0 || len > SMTP_DOMAIN_MAX)
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != '.')
			continue;
		if (!subdomain_ok(p + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

/* Run inet_pton on a bounded copy of [p, p+len). */
static bool ip_ok(int af, const char *p, size_t len)
{
	char tmp[64];
	unsigned char addr[16];
	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	return inet_pton(af, tmp, addr) == 1;
}

/* IPv4-address-literal = Snum 3("." Snum), Snum 1*3DIGIT up to 255;
 * inet_pton(AF_INET) accepts exactly dotted quads of decimal numbers, but
 * also leading zeros ("01"), which 4.1.3 allows as 1*3DIGIT. */
static bool ipv4_ok(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_digit((unsigned char)p[i]) && p[i] != '.')
			return false;
	return ip_ok(AF_INET, p, len);
}

/* General-address-literal = Standardized-tag ":" 1*dcontent, where
 * dcontent is %d33-90 / %d94-126 (printable ASCII but [ \ ]). */
static bool general_literal_ok(const char *p, size_t len)
{
	const char *colon = memchr(p, ':', len);
	if (colon == NULL || colon == p || colon == p + len - 1)
		return false;
	/* Standardized-tag = Ldh-str: letters, digits, hyphens, ending in a
	 * letter or digit */
	size_t taglen = (size_t)(colon - p);
	if (!is_let_dig((unsigned char)p[taglen - 1]))
		return false;
	for (size_t i = 0; i < taglen; i++)
		if (!is_let_dig((unsigned char)p[i]) && p[i] != '-')
			return false;
	for (const char *q = colon + 1; q < p + len; q++) {
		unsigned char c = (unsigned char)*q;
		if (c < 33 || c > 126 || (c >= 91 && c <= 93))
			return false;
	}
	return true;
}

bool smtp_syntax_address_literal(const char *p, size_t len)
{
	if (len < 3 || p[0] != '[' || p[len - 1] != ']')
		return false;
	p++;
	len -= 2;
	if (len > 5 && strncasecmp(p, "IPv6:", 5) == 0)
		return ip_ok(AF_INET6, p + 5, len - 5);
	if (is_digit((unsigned char)p[0]))
		return ipv4_ok(p, len);
	return general_literal_ok(p, len);
}

bool smtp_syntax_helo_arg(const char *p, size_t len)
{
	if (len > 0 && p[0] == '[')
		return smtp_syntax_address_literal(p, len);
	return smtp_syntax_domain(p, len);
}
