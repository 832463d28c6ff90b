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

/* IPv4-address-literal = Snum 3("." Snum); Snum = 1*3DIGIT, at most 255
 * (4.1.3). Leading zeros are allowed by the grammar, so inet_pton, which
 * refuses them, is not used here. */
static bool ipv4_ok(const char *p, size_t len)
{
	unsigned parts = 0, digits = 0, value = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && is_digit((unsigned char)p[i])) {
			value = value * 10 + (unsigned)(p[i] - '0');
			if (++digits > 3 || value > 255)
				return false;
			continue;
		}
		if (digits == 0 || (i < len && p[i] != '.'))
			return false;
		parts++;
		digits = value = 0;
	}
	return parts == 4;
}

/* IPv6-addr (4.1.3): hex groups and "::", optionally ending in an IPv4
 * address. inet_pton checks the structure; what it allows beyond the
 * grammar is refused first: any other byte (a NUL would end its copy
 * early), and a "::" standing for a single group (the grammar allows at
 * most 6 groups besides "::", or 4 before an IPv4 tail). */
static bool ipv6_ok(const char *p, size_t len)
{
	char tmp[64];
	unsigned char addr[16];
	unsigned groups = 0;
	bool in_group = false;
	const char *last_colon = memrchr(p, ':', len);
	if (len == 0 || len >= sizeof(tmp) || last_colon == NULL)
		return false;
	size_t head = (size_t)(last_colon - p) + 1;
	bool v4_tail = memchr(last_colon, '.', len - head + 1) != NULL;
	if (v4_tail && !ipv4_ok(last_colon + 1, len - head))
		return false;
	for (size_t i = 0; i < (v4_tail ? head : len); i++) {
		unsigned char c = (unsigned char)p[i];
		bool hex = is_digit(c) || (c >= 'a' && c <= 'f') ||
			   (c >= 'A' && c <= 'F');
		if (!hex && c != ':')
			return false;
		if (hex && !in_group)
			groups++;
		in_group = hex;
	}
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	if (strstr(tmp, "::") != NULL && groups > (v4_tail ? 4u : 6u))
		return false;
	return inet_pton(AF_INET6, tmp, addr) == 1;
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
		return ipv6_ok(p + 5, len - 5);
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
