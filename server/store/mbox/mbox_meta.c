/*
 * mbox_meta.c - classifying header lines into status lines, escaped
 * status lines and the rest; parsing status values; formatting the
 * block Quill writes (formats in mbox_meta.h). Parsing follows what
 * Dovecot 2.3 accepts (mbox-sync-parse.c): an X-IMAPbase counts only in
 * the first message and needs a non-zero UIDVALIDITY followed by one
 * space; an X-UID is digits and blanks only and counts once; keywords
 * are separated by blanks. Anything else is ignored, never fatal.
 */
#include "mbox_meta.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_util.h"

enum { S_START, S_CR, S_NAME, S_COLON, S_DONE };

/* Lower case, in enum mbox_hdr order. */
static const char *const names_lc[MBOX_HDR_COUNT] = {
	"content-length", "status",   "x-imap", "x-imapbase",
	"x-keywords",	  "x-status", "x-uid",
};
static const char *const names[MBOX_HDR_COUNT] = {
	"Content-Length", "Status",   "X-IMAP", "X-IMAPbase",
	"X-Keywords",	  "X-Status", "X-UID",
};
static const char escape_lc[] = "quill-escaped-";

static char lower(unsigned char c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

void mbox_linecls_init(struct mbox_linecls *c)
{
	memset(c, 0, sizeof(*c));
	c->hdr = -1;
}

int mbox_hdr_lookup(const char *name, size_t len)
{
	for (int i = 0; i < MBOX_HDR_COUNT; i++) {
		size_t k = 0;

		if (strlen(names_lc[i]) != len)
			continue;
		while (k < len &&
		       lower((unsigned char)name[k]) == names_lc[i][k])
			k++;
		if (k == len)
			return i;
	}
	return -1;
}

const char *mbox_hdr_name(int hdr)
{
	return hdr >= 0 && hdr < MBOX_HDR_COUNT ? names[hdr] : "";
}

static bool is_prefix(const char *tok, size_t len)
{
	if (len <= MBOX_ESCAPE_LEN && memcmp(tok, escape_lc, len) == 0)
		return true;
	for (int i = 0; i < MBOX_HDR_COUNT; i++)
		if (len <= strlen(names_lc[i]) &&
		    memcmp(tok, names_lc[i], len) == 0)
			return true;
	return false;
}

static enum mbox_line decide(struct mbox_linecls *c, enum mbox_line r)
{
	c->state = S_DONE;
	c->tlen = (unsigned)r; /* the result, kept for later calls */
	return r;
}

static enum mbox_line found(struct mbox_linecls *c)
{
	return decide(c, c->escapes > 0 ? MBOX_LINE_ESCAPED : MBOX_LINE_STATUS);
}

static enum mbox_line name_byte(struct mbox_linecls *c, unsigned char ch)
{
	int h;

	if (c->tlen >= sizeof(c->tok))
		return decide(c, MBOX_LINE_PLAIN);
	c->tok[c->tlen++] = lower(ch);
	if (c->tlen == MBOX_ESCAPE_LEN &&
	    memcmp(c->tok, escape_lc, MBOX_ESCAPE_LEN) == 0) {
		if (c->escapes < UINT64_MAX)
			c->escapes++;
		c->tlen = 0;
		return MBOX_LINE_MORE;
	}
	if (is_prefix(c->tok, c->tlen))
		return MBOX_LINE_MORE;
	h = mbox_hdr_lookup(c->tok, c->tlen - 1);
	if (h < 0 || (ch != ':' && ch != ' ' && ch != '\t'))
		return decide(c, MBOX_LINE_PLAIN);
	c->hdr = h;
	if (ch == ':')
		return found(c);
	c->state = S_COLON;
	return MBOX_LINE_MORE;
}

enum mbox_line mbox_linecls_feed(struct mbox_linecls *c, unsigned char ch)
{
	switch (c->state) {
	case S_DONE:
		return (enum mbox_line)c->tlen;
	case S_START:
		if (ch == '\n')
			return decide(c, MBOX_LINE_EMPTY);
		if (ch == '\r') {
			c->state = S_CR;
			return MBOX_LINE_MORE;
		}
		if (ch == ' ' || ch == '\t')
			return decide(c, MBOX_LINE_CONT);
		c->state = S_NAME;
		return name_byte(c, ch);
	case S_CR:
		return decide(c,
			      ch == '\n' ? MBOX_LINE_EMPTY : MBOX_LINE_PLAIN);
	case S_NAME:
		return name_byte(c, ch);
	default: /* S_COLON */
		if (ch == ' ' || ch == '\t')
			return MBOX_LINE_MORE;
		return ch == ':' ? found(c) : decide(c, MBOX_LINE_PLAIN);
	}
}

void mbox_kwtab_clear(struct mbox_kwtab *t)
{
	store_keywords_free(&t->names, &t->n);
}

long mbox_kwtab_intern(struct mbox_kwtab *t, const char *name)
{
	long at = store_keywords_find(t->names, t->n, name);

	if (at >= 0)
		return at;
	if (t->n >= t->max || store_keywords_add(&t->names, &t->n, name) != 0)
		return -1;
	return (long)t->n - 1;
}

static bool lwsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t skip_lwsp(const char *v, size_t len, size_t i)
{
	while (i < len && lwsp(v[i]))
		i++;
	return i;
}

/* Decimal digits at v[*i]; false if none or above UINT32_MAX. */
static bool digits(const char *v, size_t len, size_t *i, uint32_t *out,
		   size_t *count)
{
	uint64_t x = 0;
	size_t k = *i;

	while (k < len && v[k] >= '0' && v[k] <= '9') {
		x = x * 10 + (uint64_t)(v[k] - '0');
		if (x > UINT32_MAX)
			return false;
		k++;
	}
	*count = k - *i;
	*i = k;
	*out = (uint32_t)x;
	return *count > 0;
}

/* Names separated by blanks, from v[i]; valid ones interned. */
static uint64_t keywords(struct mbox_meta *m, const char *v, size_t len,
			 size_t i, struct mbox_kwtab *kw)
{
	uint64_t bits = 0;

	while ((i = skip_lwsp(v, len, i)) < len) {
		char name[STORE_KEYWORD_LEN_MAX + 1];
		size_t start = i;
		long at;

		while (i < len && !lwsp(v[i]))
			i++;
		if (i - start > STORE_KEYWORD_LEN_MAX || kw == NULL)
			continue;
		memcpy(name, v + start, i - start);
		name[i - start] = '\0';
		if (!store_keyword_valid(name))
			continue;
		at = mbox_kwtab_intern(kw, name);
		if (at < 0 || at >= 64)
			m->keywords_lost = true;
		else
			bits |= 1ULL << at;
	}
	return bits;
}

static void flag_letters(struct mbox_meta *m, int hdr, const char *v,
			 size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (hdr == MBOX_HDR_STATUS) {
			m->flags |= v[i] == 'R' ? STORE_F_SEEN : 0;
			m->old |= v[i] == 'O';
			continue;
		}
		m->flags |= v[i] == 'A'	  ? STORE_F_ANSWERED
			    : v[i] == 'F' ? STORE_F_FLAGGED
			    : v[i] == 'T' ? STORE_F_DRAFT
			    : v[i] == 'D' ? STORE_F_DELETED
					  : 0;
	}
}

static void uid_field(struct mbox_meta *m, const char *v, size_t len)
{
	size_t i = skip_lwsp(v, len, 0), n;
	uint32_t uid;

	if (m->uid != 0 || m->uid_bad || !digits(v, len, &i, &uid, &n) ||
	    uid == 0 || uid == UINT32_MAX || skip_lwsp(v, len, i) != len) {
		m->uid = 0;
		m->uid_bad = true;
		return;
	}
	m->uid = uid;
}

static void base_field(struct mbox_meta *m, const char *v, size_t len,
		       struct mbox_kwtab *kw)
{
	size_t i = skip_lwsp(v, len, 0), n;
	uint32_t uidv, last;

	if (m->base || m->base_bad || !digits(v, len, &i, &uidv, &n) ||
	    uidv == 0 || i >= len || v[i] != ' ') {
		m->base = false;
		m->base_bad = true;
		return;
	}
	i = skip_lwsp(v, len, i);
	if (!digits(v, len, &i, &last, &n) || n > MBOX_BASE_LAST_DIGITS ||
	    last == UINT32_MAX || (i < len && !lwsp(v[i]))) {
		m->base_bad = true;
		return;
	}
	m->base = true;
	m->base_uidvalidity = uidv;
	m->base_last = last;
	keywords(m, v, len, i, kw);
}

void mbox_meta_apply(struct mbox_meta *m, int hdr, const char *value,
		     size_t len, bool first, struct mbox_kwtab *kw)
{
	if (hdr == MBOX_HDR_CONTENT_LENGTH || hdr == MBOX_HDR_X_IMAP ||
	    hdr < 0 || hdr >= MBOX_HDR_COUNT)
		return;
	m->any = true;
	if (len > MBOX_META_VALUE_MAX)
		len = MBOX_META_VALUE_MAX;
	switch (hdr) {
	case MBOX_HDR_STATUS:
	case MBOX_HDR_X_STATUS:
		flag_letters(m, hdr, value, len);
		break;
	case MBOX_HDR_X_UID:
		uid_field(m, value, len);
		break;
	case MBOX_HDR_X_IMAPBASE:
		if (first)
			base_field(m, value, len, kw);
		break;
	default: /* X-Keywords */
		m->keywords |= keywords(m, value, len, 0, kw);
		break;
	}
}

static int names_of(const struct mbox_block *b, uint64_t bits, struct buf *out)
{
	for (size_t i = 0; i < b->n_names && i < 64; i++)
		if ((bits >> i) & 1)
			if (buf_append_str(out, " ") != 0 ||
			    buf_append_str(out, b->names[i]) != 0)
				return -1;
	return 0;
}

int mbox_meta_value(const struct mbox_block *b, int hdr, struct buf *out)
{
	unsigned f = b->flags;

	switch (hdr) {
	case MBOX_HDR_STATUS:
		return buf_printf(out, " %s%s", f & STORE_F_SEEN ? "R" : "",
				  b->old || (f & STORE_F_SEEN) ? "O" : "");
	case MBOX_HDR_X_STATUS:
		return buf_printf(out, " %s%s%s%s",
				  f & STORE_F_ANSWERED ? "A" : "",
				  f & STORE_F_FLAGGED ? "F" : "",
				  f & STORE_F_DRAFT ? "T" : "",
				  f & STORE_F_DELETED ? "D" : "");
	case MBOX_HDR_X_KEYWORDS:
		return names_of(b, b->keywords, out);
	case MBOX_HDR_X_IMAPBASE:
		if (buf_printf(out, " %u %010u", (unsigned)b->uidvalidity,
			       (unsigned)b->last_uid) != 0)
			return -1;
		return names_of(b,
				b->n_names >= 64 ? UINT64_MAX
						 : (1ULL << b->n_names) - 1,
				out);
	case MBOX_HDR_X_UID:
		return buf_printf(out, " %u", (unsigned)b->uid);
	default:
		errno = EINVAL;
		return -1;
	}
}

static int spaces(struct buf *out, size_t n)
{
	static const char sp[64] = "                                "
				   "                                ";

	while (n > 0) {
		size_t k = n < sizeof(sp) ? n : sizeof(sp);

		if (buf_append(out, sp, k) != 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* "Name:" value, padded to width (value bytes) or by pad spaces. */
static int line(const struct mbox_block *b, int hdr, size_t width, size_t pad,
		struct buf *out)
{
	size_t start;

	if (buf_append_str(out, names[hdr]) != 0 ||
	    buf_append_str(out, ":") != 0)
		return -1;
	start = buf_len(out);
	if (mbox_meta_value(b, hdr, out) != 0)
		return -1;
	if (buf_len(out) - start < width &&
	    spaces(out, width - (buf_len(out) - start)) != 0)
		return -1;
	if (spaces(out, pad) != 0)
		return -1;
	return buf_append_str(out, "\n");
}

int mbox_block_format(const struct mbox_block *b, struct buf *out)
{
	if (b->base && line(b, MBOX_HDR_X_IMAPBASE, 0, b->base_pad, out) != 0)
		return -1;
	if (b->uid != 0 && line(b, MBOX_HDR_X_UID, 0, 0, out) != 0)
		return -1;
	if (line(b, MBOX_HDR_STATUS, 1 + MBOX_STATUS_WIDTH, 0, out) != 0 ||
	    line(b, MBOX_HDR_X_STATUS, 1 + MBOX_XSTATUS_WIDTH, 0, out) != 0 ||
	    line(b, MBOX_HDR_X_KEYWORDS, 0, b->pad, out) != 0)
		return -1;
	return 0;
}
