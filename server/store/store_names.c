/*
 * store_names.c - mailbox names and keywords.
 *
 * Mailbox names on the API are UTF-8 (RFC 9051 5.1, RFC 6855) with '/' as
 * the hierarchy separator. "INBOX" is case-insensitive (RFC 3501 5.1) and
 * canonicalised to upper case, also as the first level of a longer name.
 * Nothing that could leave the mail root or hide among the store's own
 * files gets through: no empty component (so no leading, trailing or
 * doubled '/'), no component starting with '.' (so no "." or ".."), no
 * control characters (C0, DEL, C1), valid UTF-8 only, at most name_max
 * bytes and depth_max levels; the backend then adds its own limits.
 *
 * Keywords are IMAP atoms (RFC 9051 9, flag-keyword) of at most
 * STORE_KEYWORD_LEN_MAX bytes; atom-specials are
 * ( ) { SP CTL % * " \ ].
 */
#include <string.h>
#include <strings.h>

#include "store_backend.h"
#include "store_util.h"

/* Length of the valid UTF-8 sequence at s (not a control), or 0. */
static size_t utf8_char(const unsigned char *s)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return s[0] >= 0x20 && s[0] != 0x7f ? 1 : 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

static int check_components(const char *name, unsigned depth_max,
			    struct store_error *err)
{
	const char *p = name;
	unsigned depth = 0;

	for (;;) {
		const char *end = strchr(p, '/');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len == 0)
			return store_fail(err, STORE_E_BADNAME,
					  "empty name component");
		if (p[0] == '.')
			return store_fail(err, STORE_E_BADNAME,
					  "name component starts with '.'");
		if (++depth > depth_max)
			return store_fail(err, STORE_E_BADNAME,
					  "more than %u levels", depth_max);
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

int store_name_check(const struct store *st, const char *name, char *canon,
		     size_t canon_size, struct store_error *err)
{
	size_t len = strlen(name);

	if (len == 0)
		return store_fail(err, STORE_E_BADNAME, "empty mailbox name");
	if (len > st->cfg.name_max)
		return store_fail(err, STORE_E_BADNAME,
				  "mailbox name longer than %zu bytes",
				  st->cfg.name_max);
	for (size_t i = 0; i < len;) {
		size_t n = utf8_char((const unsigned char *)name + i);

		if (n == 0)
			return store_fail(err, STORE_E_BADNAME,
					  "control character or invalid "
					  "UTF-8 in mailbox name");
		i += n;
	}
	if (check_components(name, st->cfg.depth_max, err) != 0)
		return -1;
	if (len >= canon_size)
		return store_fail(err, STORE_E_BADNAME, "name too long");
	memcpy(canon, name, len + 1);
	if (strncasecmp(canon, "INBOX", 5) == 0 &&
	    (canon[5] == '\0' || canon[5] == '/'))
		memcpy(canon, "INBOX", 5);
	return st->ops->name_ok(st, canon, err);
}

bool store_keyword_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > STORE_KEYWORD_LEN_MAX || s[0] == '\\')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}
