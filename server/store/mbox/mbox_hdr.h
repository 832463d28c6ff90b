/*
 * mbox_hdr.h - walking the header of one message in an mbox file (or in
 * an append's temporary file) line by line, with status lines told apart
 * (mbox_meta.h): for reading without them, for fingerprints that do not
 * change when they do, for changing them in place, and for rewriting a
 * message with a fresh block of them.
 *
 * Offsets are file offsets; "content" is what follows the From_ line up
 * to (not including) the separator line.
 */
#ifndef QUILL_MBOX_HDR_H
#define QUILL_MBOX_HDR_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "mbox_meta.h"

/* A buffered reader over [pos, end) of a file. */
struct mbox_rd {
	int fd;
	uint64_t pos, end; /* pos: offset of buf[off] */
	unsigned char buf[4096];
	size_t len, off;
	bool err;
};

void mbox_rd_init(struct mbox_rd *r, int fd, uint64_t start, uint64_t end);
/* The next byte, or -1 at the end or on error (then r->err). */
int mbox_rd_get(struct mbox_rd *r);
int mbox_rd_peek(struct mbox_rd *r);

struct mbox_hline {
	enum mbox_line cls;  /* EMPTY, CONT, PLAIN, STATUS or ESCAPED */
	int hdr;	     /* enum mbox_hdr for STATUS and ESCAPED */
	uint64_t start, end; /* end: after its LF (STATUS: after the last
			      * continuation line) */
	uint64_t value;	     /* STATUS/ESCAPED: just after the colon */
	bool folded;	     /* STATUS with continuation lines */
	bool lf;	     /* ends with a LF */
};

struct mbox_hwalk {
	struct mbox_rd rd;
	bool done;
	struct buf *val; /* STATUS values go here, if not NULL */
};

void mbox_hwalk_init(struct mbox_hwalk *w, int fd, uint64_t start, uint64_t end,
		     struct buf *val);
/* 1: the next line in *l; 0: the header is over (after its empty line,
 * or the content ended); -1: read error. */
int mbox_hwalk_next(struct mbox_hwalk *w, struct mbox_hline *l);

#define MBOX_HINFO_LINES 16

/* One message's header as far as status lines go. */
struct mbox_hinfo {
	struct mbox_hline st[MBOX_HINFO_LINES]; /* its status lines */
	size_t n;
	bool overflow; /* more than MBOX_HINFO_LINES of them */
	uint64_t eoh;  /* start of the empty line, or end of content */
	bool has_eoh;  /* an empty line ends the header */
	bool ends_lf;  /* the header's last line ends in LF (or none) */
	struct mbox_meta meta;
};

/* Read the header of content [start, end); X-IMAPbase counts if first;
 * keywords are interned into kw (may be NULL). */
int mbox_hinfo_read(int fd, uint64_t start, uint64_t end, bool first,
		    struct mbox_kwtab *kw, struct mbox_hinfo *hi);

/* The fingerprint of the message whose From_ line starts at offset:
 * its From_ line and its first MBOX_HEAD_BYTES content bytes outside
 * status lines (what mbox_scan computes). -1 on read error. */
int mbox_fingerprint_at(int fd, uint64_t offset, uint32_t from_len,
			uint64_t raw_len, uint64_t *fp_r);

/* The presented bytes of content [start, end) as raw segments, in
 * order: status lines left out, one MBOX_ESCAPE removed from escaped
 * ones. (mboxrd unquoting is applied on top by the reader.) */
struct mbox_segs {
	struct mbox_hwalk w;
	bool in_hdr;
	uint64_t end;
};

void mbox_segs_init(struct mbox_segs *s, int fd, uint64_t start, uint64_t end);
/* 1: [*a, *b) is next; 0: no more; -1: read error. */
int mbox_segs_next(struct mbox_segs *s, uint64_t *a, uint64_t *b);

/* Append [a, b) of in to out, hashing it into *hash, adding to *written. */
int mbox_copy_out(int in, uint64_t a, uint64_t b, int out, uint64_t *hash,
		  uint64_t *written);

/* Append content [start, end) of in (whose header hi describes) to out
 * with its status lines dropped and blk put where the header ends
 * (before its empty line, else at the end of the content), hashing and
 * counting what is written. 1 (nothing written) if the header ends
 * without a LF, where no block can go; -1 on error. */
int mbox_copy_renew(int in, uint64_t start, uint64_t end,
		    const struct mbox_hinfo *hi, const struct buf *blk, int out,
		    uint64_t *hash, uint64_t *written);

#endif
