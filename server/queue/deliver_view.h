/*
 * deliver_view.h - the message as final delivery stores it: the spooled
 * bytes without the Return-Path fields the sender's header may hold.
 * RFC 5321 4.4: final delivery adds the Return-Path, a delivered message
 * should hold exactly one, and a final delivery may remove the others.
 * Only header fields are cut (a field named Return-Path, with its folded
 * continuation lines, before the first empty line); the body is never
 * touched. The view is the same every time it is made from the same
 * file, so a delivery and its later look for itself (deliver.h) agree.
 */
#ifndef QUILL_SERVER_DELIVER_VIEW_H
#define QUILL_SERVER_DELIVER_VIEW_H

#include <stddef.h>
#include <stdint.h>

/* Fields cut at most; a header with more keeps the rest. */
#define DELIVER_VIEW_CUTS 16

struct deliver_view {
	int fd;
	uint64_t offset; /* the message's first byte in the file */
	uint64_t size;	 /* bytes in the view */
	size_t n_cut;
	struct {
		uint64_t at, len; /* from the message's first byte */
	} cut[DELIVER_VIEW_CUTS];
};

/* Scan the header of the message at offset in fd (file_size bytes in
 * all). Returns 0, or -1 with errno on a read error. */
int deliver_view_init(struct deliver_view *v, int fd, uint64_t offset,
		      uint64_t file_size);
/* len bytes of the view from pos (all there: pos + len <= size). */
int deliver_view_read(const struct deliver_view *v, uint64_t pos, void *buf,
		      size_t len);

#endif
