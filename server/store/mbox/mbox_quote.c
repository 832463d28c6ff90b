/*
 * mbox_quote.c - mboxrd quoting as two streaming state machines.
 *
 * Writing: a line matching ^>*From  gains one '>'. The '>'s of a line are
 * passed through as they come (they are all alike, so where the added one
 * goes does not matter) and only a partial "From " is held back.
 * Reading: a line matching ^>+From  loses one '>': the first '>' of a line
 * is held back until the rest of the line start decides. Both keep their
 * state between calls, so lines may be split anywhere.
 */
#include <string.h>

#include "mbox_parse.h"

enum { Q_START, Q_MATCH, Q_MID };
enum { U_START, U_GT, U_MATCH, U_MID };

static const char from5[] = "From ";

void mbox_quoter_init(struct mbox_quoter *q)
{
	memset(q, 0, sizeof(*q));
	q->state = Q_START;
}

size_t mbox_quote(struct mbox_quoter *q, const void *in, size_t len, void *out)
{
	const unsigned char *p = in;
	unsigned char *o = out;
	size_t k = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (q->state == Q_MID) {
			const unsigned char *nl = memchr(p + i, '\n', len - i);
			size_t run = nl != NULL ? (size_t)(nl - (p + i)) + 1
						: len - i;

			memcpy(o + k, p + i, run);
			k += run;
			i += run - 1;
			if (nl != NULL)
				q->state = Q_START;
			continue;
		}
		if (q->state == Q_START && c == '>') {
			o[k++] = c;
			continue;
		}
		if (q->state == Q_START && c == 'F') {
			q->state = Q_MATCH;
			q->match = 1;
			continue;
		}
		if (q->state == Q_MATCH) {
			if (c == (unsigned char)from5[q->match]) {
				if (++q->match == 5) {
					o[k++] = '>';
					memcpy(o + k, from5, 5);
					k += 5;
					q->quoted = true;
					q->state = Q_MID;
				}
				continue;
			}
			memcpy(o + k, from5, q->match);
			k += q->match;
		}
		o[k++] = c;
		q->state = c == '\n' ? Q_START : Q_MID;
	}
	q->in_len += len;
	if (len > 0)
		q->last_lf = p[len - 1] == '\n';
	return k;
}

size_t mbox_quote_end(struct mbox_quoter *q, void *out)
{
	size_t k = 0;

	if (q->state == Q_MATCH) {
		memcpy(out, from5, q->match);
		k = q->match;
	}
	q->state = Q_MID;
	return k;
}

void mbox_unquoter_init(struct mbox_unquoter *u)
{
	memset(u, 0, sizeof(*u));
	u->state = U_START;
}

static void pend(struct mbox_unquoter *u, const void *p, size_t n)
{
	memcpy(u->pend + u->pend_len, p, n);
	u->pend_len += n;
}

static size_t flush(struct mbox_unquoter *u, unsigned char *out, size_t room)
{
	size_t n = u->pend_len - u->pend_off;

	if (n > room)
		n = room;
	memcpy(out, u->pend + u->pend_off, n);
	u->pend_off += n;
	if (u->pend_off == u->pend_len)
		u->pend_off = u->pend_len = 0;
	return n;
}

/* One input byte outside U_MID; output goes to pend. */
static void step(struct mbox_unquoter *u, unsigned char c)
{
	switch (u->state) {
	case U_START:
		if (c == '>') {
			u->state = U_GT;
			return;
		}
		break;
	case U_GT:
		if (c == '>') {
			pend(u, &c, 1);
			return;
		}
		if (c == 'F') {
			u->state = U_MATCH;
			u->match = 1;
			return;
		}
		pend(u, ">", 1);
		break;
	default: /* U_MATCH */
		if (c == (unsigned char)from5[u->match]) {
			if (++u->match == 5) {
				pend(u, from5, 5);
				u->state = U_MID;
			}
			return;
		}
		pend(u, ">", 1);
		pend(u, from5, u->match);
		break;
	}
	pend(u, &c, 1);
	u->state = c == '\n' ? U_START : U_MID;
}

size_t mbox_unquote(struct mbox_unquoter *u, const void *in, size_t in_len,
		    size_t *used_r, void *out, size_t out_len)
{
	const unsigned char *p = in;
	unsigned char *o = out;
	size_t i = 0, k = flush(u, o, out_len);

	while (i < in_len && k < out_len && u->pend_len == 0) {
		if (u->state == U_MID) {
			const unsigned char *nl =
				memchr(p + i, '\n', in_len - i);
			size_t run = nl != NULL ? (size_t)(nl - (p + i)) + 1
						: in_len - i;

			if (run > out_len - k)
				run = out_len - k;
			memcpy(o + k, p + i, run);
			if (o[k + run - 1] == '\n')
				u->state = U_START;
			k += run;
			i += run;
			continue;
		}
		step(u, p[i++]);
		k += flush(u, o + k, out_len - k);
	}
	*used_r = i;
	return k;
}

size_t mbox_unquote_end(struct mbox_unquoter *u, void *out, size_t out_len)
{
	if (u->state == U_GT)
		pend(u, ">", 1);
	else if (u->state == U_MATCH) {
		pend(u, ">", 1);
		pend(u, from5, u->match);
	}
	if (u->state == U_GT || u->state == U_MATCH)
		u->state = U_MID;
	return flush(u, out, out_len);
}
