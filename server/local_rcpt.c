/*
 * local_rcpt.c - which local user a recipient address stands for (see
 * local_rcpt.h).
 */
#include "local_rcpt.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "passwd.h"

bool local_rcpt_domain(const struct quilld_config *cfg, const char *domain)
{
	return domain[0] == '\0' || strcasecmp(domain, cfg->domain) == 0 ||
	       strcasecmp(domain, cfg->hostname) == 0;
}

/* The local part of RFC 5321 4.1.2 without the quoting of a
 * Quoted-string: "a\"b" is a"b. */
static int unquote(const char *p, size_t len, char *out, size_t n)
{
	size_t o = 0;
	bool quoted = len >= 2 && p[0] == '"' && p[len - 1] == '"';
	if (quoted) {
		p++;
		len -= 2;
	}
	for (size_t i = 0; i < len; i++) {
		if (quoted && p[i] == '\\' && i + 1 < len)
			i++;
		if (o + 1 >= n)
			return -1;
		out[o++] = p[i];
	}
	out[o] = '\0';
	return 0;
}

int local_rcpt_split(const char *addr, char *local, size_t local_n,
		     char *domain, size_t domain_n)
{
	const char *at = strrchr(addr, '@');
	size_t len = at != NULL ? (size_t)(at - addr) : strlen(addr);
	const char *dom = at != NULL ? at + 1 : "";
	if (strlen(dom) >= domain_n)
		return -1;
	snprintf(domain, domain_n, "%s", dom);
	return unquote(addr, len, local, local_n);
}

const struct passwd_entry *local_rcpt_user(const struct quilld_config *cfg,
					   const struct passwd_db *users,
					   const char *local)
{
	if (users == NULL)
		return NULL;
	if (strcasecmp(local, "postmaster") == 0) /* RFC 5321 4.5.1 */
		local = cfg->queue_postmaster;
	return passwd_db_lookup(users, local);
}
