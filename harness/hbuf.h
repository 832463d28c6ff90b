/*
 * hbuf.h - a harness helper for lib/buf.h: the unread bytes of a buffer
 * that may be empty. An empty struct buf may have a NULL data pointer,
 * and NULL + 0 is undefined behaviour in C (UBSan reports it), so the
 * harness reads buffers through hbuf_data().
 */
#ifndef QUILL_HARNESS_HBUF_H
#define QUILL_HARNESS_HBUF_H

#include "buf.h"

static inline const unsigned char *hbuf_data(const struct buf *b)
{
	return b->data != NULL ? b->data + b->off : (const unsigned char *)"";
}

#endif
