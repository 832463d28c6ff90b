/*
 * maildir_names.c - parse and make Maildir file names and Maildir++
 * folder names (see maildir_names.h; maildir(5), cr.yp.to/proto/
 * maildir.html for the ":2," info, Dovecot's keyword letters).
 */
#include "maildir_names.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_util.h"

/* System flag of an upper-case letter, or 0. */
static unsigned letter_flag(char c)
{
	switch (c) {
	case 'D':
		return STORE_F_DRAFT;
	case 'F':
		return STORE_F_FLAGGED;
	case 'R':
		return STORE_F_ANSWERED;
	case 'S':
		return STORE_F_SEEN;
	case 'T':
		return STORE_F_DELETED;
	default:
		return 0;
	}
}

/* A ",X=<digits>" field of the base. */
static bool base_field(const char *base, size_t len, char key, uint64_t *v)
{
	for (size_t i = 0; i + 3 <= len; i++) {
		uint64_t x = 0;
		size_t j = i + 3, digits = 0;

		if (base[i] != ',' || base[i + 1] != key || base[i + 2] != '=')
			continue;
		for (; j < len && base[j] >= '0' && base[j] <= '9'; j++) {
			if (++digits > 19)
				return false;
			x = x * 10 + (uint64_t)(base[j] - '0');
		}
		if (digits > 0 && (j == len || base[j] == ',')) {
			*v = x;
			return true;
		}
	}
	return false;
}

/* The decimal number at s[i], or 0 (capped, never overflowing). */
static uint64_t number_at(const char *s, size_t len, size_t i)
{
	uint64_t v = 0;

	for (; i < len && s[i] >= '0' && s[i] <= '9' && v < UINT64_MAX / 100;
	     i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	return v;
}

static void parse_flags(const char *p, size_t len, struct maildir_name *n)
{
	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (c >= 'A' && c <= 'Z') {
			unsigned f = letter_flag(c);

			if (f != 0)
				n->flags |= f;
			else
				n->other |= 1u << (c - 'A');
		} else if (c >= 'a' && c <= 'z') {
			n->keywords |= 1u << (c - 'a');
		}
	}
}

int maildir_name_parse(const char *name, size_t len, struct maildir_name *n)
{
	const char *colon;

	memset(n, 0, sizeof(*n));
	if (len == 0 || len > MAILDIR_NAME_MAX || name[0] == '.' ||
	    memchr(name, '/', len) != NULL || memchr(name, '\0', len) != NULL)
		return -1;
	colon = memchr(name, ':', len);
	n->base = name;
	n->base_len = colon != NULL ? (size_t)(colon - name) : len;
	if (n->base_len == 0)
		return -1;
	if (colon != NULL) {
		const char *info = colon + 1;
		size_t ilen = len - n->base_len - 1;

		n->has_info = true;
		if (ilen >= 2 && info[0] == '2' && info[1] == ',') {
			n->info2 = true;
			parse_flags(info + 2, ilen - 2, n);
		} else {
			n->info = info;
			n->info_len = ilen;
		}
	}
	n->has_size = base_field(name, n->base_len, 'S', &n->size);
	n->has_vsize = base_field(name, n->base_len, 'W', &n->vsize);
	n->secs = number_at(name, n->base_len, 0);
	for (size_t i = 0; i + 1 < n->base_len; i++) {
		if (name[i] == '.' && name[i + 1] == 'M' && n->usecs == 0)
			n->usecs = number_at(name, n->base_len, i + 2);
		if (name[i] == 'Q' && n->seq == 0)
			n->seq = number_at(name, n->base_len, i + 1);
	}
	return 0;
}

static size_t format_letters(const struct maildir_name *n, char *out)
{
	size_t k = 0;

	for (char c = 'A'; c <= 'Z'; c++) {
		unsigned f = letter_flag(c);

		if ((f != 0 && (n->flags & f)) ||
		    (f == 0 && (n->other & (1u << (c - 'A')))))
			out[k++] = c;
	}
	for (char c = 'a'; c <= 'z'; c++)
		if (n->keywords & (1u << (c - 'a')))
			out[k++] = c;
	return k;
}

int maildir_name_format(const struct maildir_name *n, char *out, size_t size)
{
	char letters[53];
	size_t k = 0, need;

	if (n->has_info && n->info2)
		k = format_letters(n, letters);
	need = n->base_len + (!n->has_info ? 0
			      : n->info2   ? 3 + k
					   : 1 + n->info_len);
	if (need >= size || need > MAILDIR_NAME_MAX)
		return -1;
	memcpy(out, n->base, n->base_len);
	if (n->has_info && n->info2) {
		memcpy(out + n->base_len, ":2,", 3);
		memcpy(out + n->base_len + 3, letters, k);
	} else if (n->has_info) {
		out[n->base_len] = ':';
		memcpy(out + n->base_len + 1, n->info, n->info_len);
	}
	out[need] = '\0';
	return 0;
}

/* The host part: "/" ":" "," and anything unusual as "\ooo". */
static void host_part(const char *host, char *out, size_t size)
{
	size_t k = 0;

	for (; *host != '\0' && k + 5 < size && k < 64; host++) {
		unsigned char c = (unsigned char)*host;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')
			out[k++] = (char)c;
		else
			k += (size_t)snprintf(out + k, size - k, "\\%03o", c);
	}
	out[k] = '\0';
	if (k == 0)
		snprintf(out, size, "localhost");
}

int maildir_name_unique(char *out, size_t size, const char *host)
{
	static atomic_uint seq;
	struct timeval tv;
	uint64_t rnd;
	char h[80];
	int n;

	gettimeofday(&tv, NULL);
	store_random(&rnd, sizeof(rnd));
	host_part(host, h, sizeof(h));
	n = snprintf(out, size, "%lld.M%ldP%ldQ%uR%016llx.%s",
		     (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
		     atomic_fetch_add(&seq, 1) + 1, (unsigned long long)rnd, h);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int maildir_folder_encode(const char *name, char *out, size_t size)
{
	size_t k = 0;

	if (size < 2)
		return -1;
	out[k++] = '.';
	for (const char *p = name; *p != '\0'; p++) {
		const char *put = *p == '.'   ? "%2E"
				  : *p == '%' ? "%25"
				  : *p == '/' ? "."
					      : NULL;
		size_t len = put != NULL ? strlen(put) : 1;

		if (k + len >= size)
			return -1;
		if (put != NULL)
			memcpy(out + k, put, len);
		else
			out[k] = *p;
		k += len;
	}
	out[k] = '\0';
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int maildir_folder_decode(const char *dir, char *out, size_t size)
{
	size_t k = 0;

	if (dir[0] != '.' || dir[1] == '\0' || dir[1] == '.')
		return -1;
	for (const char *p = dir + 1; *p != '\0'; p++) {
		char c = *p;

		if (c == '/')
			return -1; /* not a directory name */
		if (c == '.') {
			if (p[1] == '\0' || p[1] == '.')
				return -1; /* empty level */
			c = '/';
		} else if (c == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);

			if (lo < 0 ||
			    (hi * 16 + lo != '.' && hi * 16 + lo != '%'))
				return -1;
			c = (char)(hi * 16 + lo);
			p += 2;
		}
		if (k + 1 >= size)
			return -1;
		out[k++] = c;
	}
	out[k] = '\0';
	return 0;
}
