/*
 * fuzzmode_dict.c - the fuzzer's per-protocol dictionaries: commands of
 * SMTP (RFC 5321 4.1, with the extensions of RFC 3207, 3030, 4954, 1870),
 * POP3 (RFC 1939, 2449, 2595, 5034) and IMAP (RFC 3501, 2177, 5161), sent
 * in any state, and lines that announce sizes that lie (RFC 1870 SIZE=,
 * RFC 3501 literals, RFC 7888 non-synchronising literals).
 */
#include "fuzzmode.h"

#define COUNT(a) (sizeof(a) / sizeof(*(a)))

static const char *const smtp_cmds[] = {
	"HELO client.example.test",
	"EHLO client.example.test",
	"EHLO",
	"MAIL FROM:<>",
	"MAIL FROM:<alice@example.test> BODY=8BITMIME SMTPUTF8",
	"MAIL FROM:<alice@example.test> SIZE=10 SIZE=20",
	"RCPT TO:<alice@example.test>",
	"RCPT TO:<postmaster>",
	"RCPT TO:<@a,@b:bob@example.test> NOTIFY=NEVER",
	"DATA",
	".",
	"BDAT 10 LAST",
	"BDAT 0",
	"RSET",
	"NOOP",
	"QUIT",
	"VRFY alice",
	"EXPN list",
	"HELP",
	"AUTH PLAIN",
	"AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=",
	"AUTH LOGIN",
	"*",
	"STARTTLS",
	"ETRN example.test",
	"TURN",
	"XCLIENT ADDR=1.2.3.4",
	"mail from:<a@b>",
};

static const char *const pop3_cmds[] = {
	"USER alice",
	"PASS wonderland",
	"APOP alice 0123456789abcdef",
	"STAT",
	"LIST",
	"LIST 1",
	"LIST -1",
	"RETR 1",
	"RETR 4294967297",
	"DELE 1",
	"NOOP",
	"RSET",
	"QUIT",
	"TOP 1 0",
	"TOP 1 99999999999",
	"UIDL",
	"UIDL 1",
	"CAPA",
	"STLS",
	"AUTH PLAIN",
	"AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=",
	"*",
	"user",
	"PASS",
};

static const char *const imap_cmds[] = {
	"f1 CAPABILITY",
	"f2 NOOP",
	"f3 LOGOUT",
	"f4 STARTTLS",
	"f5 AUTHENTICATE PLAIN",
	"f6 LOGIN alice wonderland",
	"f7 SELECT INBOX",
	"f8 EXAMINE INBOX",
	"f9 CREATE x",
	"f10 DELETE x",
	"f11 RENAME x y",
	"f12 SUBSCRIBE INBOX",
	"f13 LIST \"\" *",
	"f14 LSUB \"\" %",
	"f15 STATUS INBOX (MESSAGES UIDNEXT)",
	"f16 CHECK",
	"f17 CLOSE",
	"f18 EXPUNGE",
	"f19 SEARCH ALL",
	"f20 FETCH 1:* (FLAGS BODY.PEEK[])",
	"f21 STORE 1 +FLAGS (\\Seen)",
	"f22 COPY 1:* INBOX",
	"f23 UID FETCH 1:4294967295 (UID)",
	"f24 IDLE",
	"DONE",
	"f25 ENABLE UTF8=ACCEPT",
	"f26 NAMESPACE",
	"f27 ID NIL",
	"f28 UNSELECT",
	"* OK",
	"+",
};

static const char *const smtp_lies[] = {
	"MAIL FROM:<alice@example.test> SIZE=999999999999999999999999\r\n",
	"MAIL FROM:<alice@example.test> SIZE=-1\r\n",
	"MAIL FROM:<alice@example.test> SIZE=18446744073709551616\r\n",
	"MAIL FROM:<alice@example.test> SIZE=\r\n",
	"MAIL FROM:<alice@example.test> SIZE=0x10\r\n",
	"BDAT 999999999999999999999 LAST\r\n",
	"BDAT 100\r\nshort\r\n",
	"BDAT 18446744073709551615\r\n",
};

static const char *const pop3_lies[] = {
	"RETR 999999999999999999999\r\n", "TOP 1 -1\r\n",     "LIST 0\r\n",
	"DELE 18446744073709551617\r\n",  "AUTH PLAIN =\r\n",
};

static const char *const imap_lies[] = {
	"s1 APPEND INBOX {999999999}\r\n",
	"s2 APPEND INBOX {100}\r\nshort\r\n",
	"s3 APPEND INBOX {4294967296+}\r\nx\r\n",
	"s4 LOGIN {5}\r\nalice {18446744073709551615}\r\n",
	"s5 LOGIN {-1}\r\n",
	"s6 APPEND INBOX (\\Seen) {10+}\r\nabc\r\n",
	"s7 SELECT {0}\r\n\r\n",
	"s8 FETCH 1 BODY[]<0.4294967295>\r\n",
};

const char *fuzzmode_dict_pick(struct fuzzmode_rng *r, enum fuzzmode_proto p)
{
	if (p == FUZZMODE_POP3)
		return pop3_cmds[fuzzmode_rng_below(r, COUNT(pop3_cmds))];
	if (p == FUZZMODE_IMAP)
		return imap_cmds[fuzzmode_rng_below(r, COUNT(imap_cmds))];
	return smtp_cmds[fuzzmode_rng_below(r, COUNT(smtp_cmds))];
}

const char *fuzzmode_dict_size_lie(struct fuzzmode_rng *r,
				   enum fuzzmode_proto p)
{
	if (p == FUZZMODE_POP3)
		return pop3_lies[fuzzmode_rng_below(r, COUNT(pop3_lies))];
	if (p == FUZZMODE_IMAP)
		return imap_lies[fuzzmode_rng_below(r, COUNT(imap_lies))];
	return smtp_lies[fuzzmode_rng_below(r, COUNT(smtp_lies))];
}
