/*
 * queue_rcpt_dsn.c - the value of a spool envelope's "rcpt-dsn" line:
 * the NOTIFY (RFC 3461 4.1) and ORCPT (4.2, RFC 6533 3) a recipient came
 * with, as spool.c writes them (see queue_file.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue_file.h"

/* One word of a rcpt-dsn line. */
static int rcpt_dsn_word(const char *w, size_t len, unsigned *notify,
			 char **orcpt)
{
	static const char *const words[] = {"NEVER", "SUCCESS", "FAILURE",
					    "DELAY"};
	if (len > 7 && memcmp(w, "NOTIFY=", 7) == 0) {
		const char *p = w + 7, *end = w + len;
		for (bool more = true; more;) {
			const char *c = memchr(p, ',', (size_t)(end - p));
			size_t l = (size_t)((c != NULL ? c : end) - p);
			more = c != NULL;
			unsigned bit = 0;
			for (unsigned i = 0; i < 4; i++)
				if (strlen(words[i]) == l &&
				    memcmp(p, words[i], l) == 0)
					bit = 1u << i;
			if (bit == 0)
				return -1;
			*notify |= bit;
			p += l + more;
		}
		/* RFC 3461 4.1: NEVER stands alone */
		return (*notify & 1u) && *notify != 1u ? -1 : 0;
	}
	if (len <= 6 || memcmp(w, "ORCPT=", 6) != 0 || *orcpt != NULL ||
	    memchr(w, ';', len) == NULL)
		return -1;
	for (size_t i = 6; i < len; i++) /* xtext, or RFC 6533 UTF-8 */
		if ((unsigned char)w[i] <= ' ' || w[i] == 0x7f)
			return -1;
	return (*orcpt = strndup(w + 6, len - 6)) != NULL ? 0 : -1;
}

int queue_rcpt_dsn_parse(const char *v, size_t len, unsigned *notify_r,
			 char **orcpt_r)
{
	const char *end = v + len;
	unsigned notify = 0;
	char *orcpt = NULL;
	while (v < end) {
		const char *sp = memchr(v, ' ', (size_t)(end - v));
		size_t l = (size_t)((sp != NULL ? sp : end) - v);
		if (rcpt_dsn_word(v, l, &notify, &orcpt) != 0) {
			free(orcpt);
			return -1;
		}
		v += l + (sp != NULL);
	}
	free(*orcpt_r);
	*notify_r = notify;
	*orcpt_r = orcpt;
	return 0;
}
