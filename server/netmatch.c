/*
 * netmatch.c - IP address prefix lists (CIDR: RFC 4632 3.1, RFC 4291 2.3,
 * IPv4-mapped addresses RFC 4291 2.5.5.2). See netmatch.h.
 */
#include "netmatch.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0,	  0,
						0, 0, 0, 0, 0xff, 0xff};

/* An IPv6 prefix inside ::ffff:0:0/96 becomes the IPv4 one it names. */
static void unmap(struct netmatch_prefix *p)
{
	if (!p->v6 || p->bits < 96 ||
	    memcmp(p->addr, mapped_prefix, sizeof(mapped_prefix)) != 0)
		return;
	memmove(p->addr, p->addr + 12, 4);
	memset(p->addr + 4, 0, 12);
	p->bits -= 96;
	p->v6 = false;
}

/* Address text to bytes: IPv4 first, then IPv6. */
static int parse_address(const char *s, struct netmatch_prefix *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->addr) == 1) {
		out->bits = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->addr) == 1) {
		out->bits = 128;
		out->v6 = true;
		return 0;
	}
	return -1;
}

/* Decimal, no sign, no leading zero, at most max. */
static int parse_len(const char *s, unsigned max, unsigned *len)
{
	unsigned v = 0;
	size_t n = strlen(s);
	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*len = v;
	return 0;
}

static bool host_bits_clear(const struct netmatch_prefix *p)
{
	unsigned total = p->v6 ? 128 : 32;
	for (unsigned i = p->bits; i < total; i++)
		if (p->addr[i / 8] & (0x80u >> (i % 8)))
			return false;
	return true;
}

int netmatch_parse(const char *text, size_t n, struct netmatch_prefix *out,
		   char *err, size_t errlen)
{
	char buf[NETMATCH_ENTRY_MAX];
	char *slash;
	unsigned len;
	if (n == 0 || n >= sizeof(buf) || memchr(text, '\0', n) != NULL) {
		snprintf(err, errlen,
			 "expected an address or address/length "
			 "of 1 to %d bytes",
			 NETMATCH_ENTRY_MAX - 1);
		return -1;
	}
	memcpy(buf, text, n);
	buf[n] = '\0';
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (parse_address(buf, out) != 0) {
		snprintf(err, errlen, "not an IPv4 or IPv6 address");
		return -1;
	}
	if (slash != NULL) {
		if (parse_len(slash + 1, out->v6 ? 128 : 32, &len) != 0) {
			snprintf(err, errlen,
				 "prefix length must be 0 to %u, in decimal",
				 out->v6 ? 128u : 32u);
			return -1;
		}
		out->bits = len;
	}
	if (!host_bits_clear(out)) {
		snprintf(err, errlen, "address has bits set beyond /%u",
			 out->bits);
		return -1;
	}
	unmap(out);
	return 0;
}

int netmatch_addr(const char *text, struct netmatch_prefix *out)
{
	if (parse_address(text, out) != 0)
		return -1;
	unmap(out);
	return 0;
}

bool netmatch_prefix_has(const struct netmatch_prefix *p,
			 const struct netmatch_prefix *a)
{
	unsigned whole = p->bits / 8, rest = p->bits % 8;
	if (p->v6 != a->v6)
		return false;
	if (memcmp(p->addr, a->addr, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned mask = (0xffu << (8 - rest)) & 0xffu;
	return (p->addr[whole] & mask) == (a->addr[whole] & mask);
}

int netmatch_add(struct netmatch_list *l, const char *text, char *err,
		 size_t errlen)
{
	if (l->n >= NETMATCH_MAX) {
		snprintf(err, errlen, "more than %d entries", NETMATCH_MAX);
		return -1;
	}
	if (netmatch_parse(text, strlen(text), &l->p[l->n], err, errlen) != 0)
		return -1;
	l->n++;
	return 0;
}

bool netmatch_list_has(const struct netmatch_list *l, const char *text)
{
	struct netmatch_prefix a;
	if (netmatch_addr(text, &a) != 0)
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (netmatch_prefix_has(&l->p[i], &a))
			return true;
	return false;
}
