/*
 * netmatch.h - lists of IP address prefixes (CIDR, RFC 4632 section 3.1
 * for IPv4, RFC 4291 section 2.3 for IPv6) and whether an address is in
 * one. Sans I/O: text in, yes or no out. quilld uses it for
 * smtp.relay_networks, the clients that may relay (RFC 5321 3.6.1, 7.1).
 *
 * An entry is "ADDRESS" (a single host: /32 or /128) or "ADDRESS/LEN",
 * ADDRESS in the forms inet_pton() takes, LEN decimal without a sign or
 * leading zero, at most 32 (IPv4) or 128 (IPv6). Bits set in ADDRESS
 * beyond LEN are an error (10.1.2.3/8 is refused: it is most likely a
 * typo, and accepting it would hide which network was meant). An IPv6
 * entry inside ::ffff:0:0/96 (IPv4-mapped, RFC 4291 2.5.5.2) is stored as
 * the IPv4 prefix it names; an address in that range is matched as the
 * IPv4 address it carries. IPv4 prefixes match IPv4 addresses only, IPv6
 * prefixes IPv6 addresses only.
 */
#ifndef QUILL_NETMATCH_H
#define QUILL_NETMATCH_H

#include <stdbool.h>
#include <stddef.h>

#define NETMATCH_MAX	   256 /* entries in a list */
#define NETMATCH_ENTRY_MAX 64  /* bytes of one entry's text */

struct netmatch_prefix {
	unsigned char addr[16]; /* IPv4 in the first 4 bytes */
	unsigned bits;		/* prefix length */
	bool v6;
};

struct netmatch_list {
	struct netmatch_prefix p[NETMATCH_MAX];
	size_t n;
};

/* Parse the n bytes at text as one entry. 0, or -1 with a reason in err
 * (which does not repeat the entry). */
int netmatch_parse(const char *text, size_t n, struct netmatch_prefix *out,
		   char *err, size_t errlen);
/* Parse an address alone (a peer's): a full-length prefix. 0 or -1. */
int netmatch_addr(const char *text, struct netmatch_prefix *out);
/* Is the address a (a full-length prefix) inside prefix p? */
bool netmatch_prefix_has(const struct netmatch_prefix *p,
			 const struct netmatch_prefix *a);
/* Append an entry: 0, or -1 (bad entry, or the list is full). */
int netmatch_add(struct netmatch_list *l, const char *text, char *err,
		 size_t errlen);
/* Is the address text (a peer's, as inet_ntop writes it) in the list? */
bool netmatch_list_has(const struct netmatch_list *l, const char *text);

#endif
