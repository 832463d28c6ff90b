/*
 * smtp_syntax.h - syntax checks for SMTP command arguments (RFC 5321
 * section 4.1.2 and 4.1.3), pure functions over byte strings.
 */
#ifndef QUILL_SMTP_SYNTAX_H
#define QUILL_SMTP_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 4.5.3.1.2: a domain name is at most 255 octets. */
#define SMTP_DOMAIN_MAX 255

/* Domain = sub-domain *("." sub-domain), each Let-dig [Ldh-str];
 * labels of at most 63 octets (RFC 1035 2.3.4). */
bool smtp_syntax_domain(const char *p, size_t len);
/* address-literal = "[" ( IPv4 / "IPv6:" IPv6 / tag ":" dcontent ) "]" */
bool smtp_syntax_address_literal(const char *p, size_t len);
/* The EHLO/HELO argument: a Domain or an address-literal (4.1.1.1). */
bool smtp_syntax_helo_arg(const char *p, size_t len);

#endif
