/*
 * maildir_names.h - Maildir file names and Maildir++ folder names.
 *
 * A message file is "<base>[:<info>]" (maildir(5)); with info "2,<flags>"
 * the flags are single letters in ASCII order: D (\Draft), F (\Flagged),
 * P (passed: kept, no IMAP meaning), R (\Answered), S (\Seen),
 * T (\Deleted), other capitals kept as they are, and a-z the keywords of
 * the folder's dovecot-keywords file. The base Quill makes is
 *   <secs>.M<usecs>P<pid>Q<seq>R<16 hex>.<host>,S=<size>
 * and the ",S=<size>" / ",W=<vsize>" fields of other writers are read.
 *
 * Folders (Maildir++): INBOX is the root; "A/B" is the directory ".A.B".
 * Because '.' separates levels on disk, a '.' inside a name component is
 * written "%2E" and '%' itself "%25"; nothing else is changed (UTF-8
 * stays UTF-8).
 */
#ifndef QUILL_MAILDIR_NAMES_H
#define QUILL_MAILDIR_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct maildir_name {
	const char *base; /* points into the parsed name */
	size_t base_len;
	bool has_info;	  /* a ':' follows the base */
	bool info2;	  /* the info is "2,<flags>" */
	const char *info; /* the info after ':' when not "2," */
	size_t info_len;
	unsigned flags;	   /* STORE_F_* */
	uint32_t other;	   /* other capitals, bit = letter - 'A' */
	uint32_t keywords; /* bit = letter - 'a' */
	bool has_size, has_vsize;
	uint64_t size, vsize;
	uint64_t secs;	/* leading decimal number of the base, or 0 */
	uint64_t usecs; /* of a ".M<usecs>" part, or 0 */
	uint64_t seq;	/* of a "Q<seq>" part, or 0 */
};

#define MAILDIR_NAME_MAX 255 /* bytes in a file name */

/* Parse name[0..len); -1 if it is not a message file name (empty, a dot
 * file, a '/', a NUL byte, or longer than MAILDIR_NAME_MAX). */
int maildir_name_parse(const char *name, size_t len, struct maildir_name *n);
/* "<base>" or "<base>:2,<letters>" (has_info); -1 if it does not fit. */
int maildir_name_format(const struct maildir_name *n, char *out, size_t size);
/* A new unique base without its ",S=" part (add it when the size is
 * known). */
int maildir_name_unique(char *out, size_t size, const char *host);

/* Folder directory (without the root) for a canonical name other than
 * INBOX, e.g. ".A.B"; -1 if it does not fit out. */
int maildir_folder_encode(const char *name, char *out, size_t size);
/* The mailbox name of a folder directory name (starting with '.'); -1
 * if it is not one of ours (empty levels, bad escapes). */
int maildir_folder_decode(const char *dir, char *out, size_t size);

#endif
