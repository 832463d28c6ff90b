/*
 * fuzz_netmatch.c - libFuzzer target for server/netmatch (CIDR prefixes,
 * RFC 4632 3.1, RFC 4291 2.3 and 2.5.5.2).
 *
 * The input is split at newlines into entries. Each entry the parser
 * accepts must be a prefix with no host bits set whose length fits its
 * family, that contains its own network address (written back as text
 * with inet_ntop and matched through the list), and that does not
 * contain the address just past its end when that differs. The whole
 * input is also matched as a peer address against the list.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netmatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_prefix(const struct netmatch_prefix *p)
{
	struct netmatch_list one = {.n = 1};
	struct netmatch_prefix a, past;
	char text[INET6_ADDRSTRLEN];
	unsigned total = p->v6 ? 128 : 32;
	if (p->bits > total)
		abort();
	for (unsigned i = p->bits; i < total; i++)
		if (p->addr[i / 8] & (0x80u >> (i % 8)))
			abort(); /* host bits must be clear */
	one.p[0] = *p;
	if (inet_ntop(p->v6 ? AF_INET6 : AF_INET, p->addr, text,
		      sizeof(text)) == NULL)
		abort();
	if (netmatch_addr(text, &a) != 0 || !netmatch_prefix_has(p, &a) ||
	    !netmatch_list_has(&one, text))
		abort();
	if (p->bits == 0)
		return;
	/* the first address after the prefix: add 1 at its last bit */
	past = a;
	unsigned bit = p->bits - 1;
	for (;;) {
		unsigned char m = (unsigned char)(0x80u >> (bit % 8));
		past.addr[bit / 8] ^= m;
		if (past.addr[bit / 8] & m)
			break; /* no carry */
		if (bit == 0)
			return; /* wrapped: the last prefix of the space */
		bit--;
	}
	if (netmatch_prefix_has(p, &past))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netmatch_list *l = calloc(1, sizeof(*l));
	const char *s = (const char *)data;
	char err[128];
	size_t start = 0;
	if (l == NULL)
		return 0;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		struct netmatch_prefix p;
		if (netmatch_parse(s + start, i - start, &p, err,
				   sizeof(err)) == 0) {
			check_prefix(&p);
			if (l->n < NETMATCH_MAX)
				l->p[l->n++] = p;
		} else if (err[0] == '\0') {
			abort(); /* a refusal always says why */
		}
		start = i + 1;
	}
	if (size < NETMATCH_ENTRY_MAX) {
		char peer[NETMATCH_ENTRY_MAX];
		memcpy(peer, data, size);
		peer[size] = '\0';
		(void)netmatch_list_has(l, peer);
	}
	free(l);
	return 0;
}
