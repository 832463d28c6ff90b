/*
 * report_util.c - what the report writers share (report.h): escaping
 * untrusted text for each output format, and writing a file atomically
 * (temporary file in the same directory, fsync, rename).
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- escaping ---------------------------------------------------------- */

/*
 * Length of the UTF-8 sequence at s (n bytes left) if it is valid (RFC 3629:
 * shortest form, no surrogates, at most U+10FFFF) and safe to show: not a
 * C0 control, DEL, a C1 control, U+FFFE or U+FFFF. 0 otherwise.
 */
static size_t utf8_safe_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return s[0] >= 0x20 && s[0] != 0x7f ? 1 : 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0 ||
	    cp == 0xfffe || cp == 0xffff)
		return 0;
	return len;
}

/* Whether a LF is a line break in mode (and a CRLF is one too). */
static bool esc_keeps_lf(enum report_esc mode)
{
	return mode >= REPORT_ESC_PARAGRAPH;
}

static const char *esc_xml(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&apos;";
	}
	return NULL;
}

/* The replacement for a printable ASCII character, tab or LF in mode, or
 * NULL to write it as it is. */
static const char *esc_special(unsigned char c, enum report_esc mode)
{
	switch (mode) {
	case REPORT_ESC_LINE:
	case REPORT_ESC_PARAGRAPH:
		break;
	case REPORT_ESC_TAP_DESC:
		if (c == '#' || c == '\\')
			return c == '#' ? "\\#" : "\\\\";
		break;
	case REPORT_ESC_MARKDOWN:
		if (c == '|' || c == '<')
			return c == '|' ? "\\|" : "&lt;";
		break;
	case REPORT_ESC_XML_ATTR:
		if (c == '\t' || c == '\n')
			return c == '\t' ? "&#9;" : "&#10;";
		/* fall through */
	case REPORT_ESC_XML_TEXT:
		return esc_xml(c);
	case REPORT_ESC_YAML_DQ:
		switch (c) {
		case '\t':
			return "\\t";
		case '\n':
			return "\\n";
		case '"':
			return "\\\"";
		case '\\':
			return "\\\\";
		}
		break;
	}
	return c == '\n' && !esc_keeps_lf(mode) ? "\\x0a" : NULL;
}

void report_escape(FILE *out, const char *s, size_t len, enum report_esc mode)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *rep;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n' &&
		    esc_keeps_lf(mode)) {
			i++; /* CRLF is a line break like LF */
			continue;
		}
		if (p[i] == '\t' || p[i] == '\n' ||
		    (p[i] >= 0x20 && p[i] < 0x7f)) {
			rep = esc_special(p[i], mode);
			if (rep != NULL)
				fputs(rep, out);
			else
				putc(p[i], out);
			i++;
		} else if ((n = utf8_safe_len(p + i, len - i)) > 0) {
			fwrite(p + i, 1, n, out);
			i += n;
		} else {
			fprintf(out, "%s%02x",
				mode == REPORT_ESC_YAML_DQ ? "\\\\x" : "\\x",
				p[i]);
			i++;
		}
	}
}

void report_lines(FILE *out, const char *prefix, const char *text)
{
	const char *p = text, *nl;
	size_t len;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		fputs(prefix, out);
		report_escape(out, p, len, REPORT_ESC_LINE);
		putc('\n', out);
		p = nl != NULL ? nl + 1 : NULL;
	}
}

/* --- atomic files ------------------------------------------------------ */

/* Create "PATH.PID.N.tmp" exclusively (mode 0666 less the umask). */
static int open_temp(struct report_file *rf, const char *path)
{
	size_t size = strlen(path) + 48;
	int fd = -1;

	if ((rf->tmp = malloc(size)) == NULL)
		return -1;
	for (unsigned n = 0; fd < 0 && n < 100; n++) {
		(void)snprintf(rf->tmp, size, "%s.%ld.%u.tmp", path,
			       (long)getpid(), n);
		fd = open(rf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			  0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0 || (rf->fp = fdopen(fd, "w")) == NULL) {
		int e = errno;

		if (fd >= 0) {
			close(fd);
			unlink(rf->tmp);
		}
		free(rf->tmp);
		rf->tmp = NULL;
		errno = e;
		return -1;
	}
	return 0;
}

int report_file_open(struct report_file *rf, const char *path)
{
	memset(rf, 0, sizeof(*rf));
	if (strcmp(path, "-") == 0) {
		rf->fp = stdout;
		return 0;
	}
	if ((rf->path = strdup(path)) == NULL)
		return -1;
	if (open_temp(rf, path) != 0) {
		int e = errno;

		free(rf->path);
		rf->path = NULL;
		errno = e;
		return -1;
	}
	return 0;
}

void report_file_abort(struct report_file *rf)
{
	int e = errno;

	if (rf->path != NULL) {
		if (rf->fp != NULL)
			fclose(rf->fp);
		if (rf->tmp != NULL)
			unlink(rf->tmp);
		free(rf->tmp);
		free(rf->path);
	}
	memset(rf, 0, sizeof(*rf));
	errno = e;
}

int report_file_commit(struct report_file *rf)
{
	FILE *fp = rf->fp;
	int rc;

	errno = 0;
	if (rf->path == NULL) {
		rc = fflush(fp) != 0 || ferror(fp) ? -1 : 0;
		if (rc != 0 && errno == 0)
			errno = EIO;
		memset(rf, 0, sizeof(*rf));
		return rc;
	}
	if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0) {
		if (errno == 0)
			errno = EIO;
		report_file_abort(rf);
		return -1;
	}
	rf->fp = NULL;
	if (fclose(fp) != 0 || rename(rf->tmp, rf->path) != 0) {
		report_file_abort(rf);
		return -1;
	}
	free(rf->tmp);
	free(rf->path);
	memset(rf, 0, sizeof(*rf));
	return 0;
}
