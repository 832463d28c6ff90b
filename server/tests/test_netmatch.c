/*
 * test_netmatch.c - address prefix lists (netmatch.h): IPv4, IPv6 and
 * IPv4-mapped addresses (RFC 4291 2.5.5.2), /0, full-length and odd
 * prefix lengths at their boundaries, and the entries that are refused.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "netmatch.h"

static struct netmatch_list list;

static void add_ok(const char *entry)
{
	char err[128] = "";
	ck_assert_msg(netmatch_add(&list, entry, err, sizeof(err)) == 0,
		      "%s: %s", entry, err);
}

static void setup(void)
{
	memset(&list, 0, sizeof(list));
}

START_TEST(ipv4_prefixes)
{
	add_ok("127.0.0.0/8");
	add_ok("192.0.2.7");
	add_ok("198.51.100.64/26");
	ck_assert(netmatch_list_has(&list, "127.0.0.1"));
	ck_assert(netmatch_list_has(&list, "127.255.255.255"));
	ck_assert(!netmatch_list_has(&list, "128.0.0.0"));
	ck_assert(!netmatch_list_has(&list, "126.255.255.255"));
	ck_assert(netmatch_list_has(&list, "192.0.2.7"));
	ck_assert(!netmatch_list_has(&list, "192.0.2.6"));
	ck_assert(!netmatch_list_has(&list, "192.0.2.8"));
	ck_assert(netmatch_list_has(&list, "198.51.100.64"));
	ck_assert(netmatch_list_has(&list, "198.51.100.127"));
	ck_assert(!netmatch_list_has(&list, "198.51.100.63"));
	ck_assert(!netmatch_list_has(&list, "198.51.100.128"));
	/* an IPv4 prefix never matches an IPv6 address */
	ck_assert(!netmatch_list_has(&list, "::1"));
	ck_assert(!netmatch_list_has(&list, "::7f00:1")); /* IPv4-compat */
}
END_TEST

START_TEST(ipv6_prefixes)
{
	add_ok("::1/128");
	add_ok("2001:db8::/32");
	add_ok("fe80::/10");
	ck_assert(netmatch_list_has(&list, "::1"));
	ck_assert(!netmatch_list_has(&list, "::2"));
	ck_assert(!netmatch_list_has(&list, "::"));
	ck_assert(netmatch_list_has(&list, "2001:db8::1"));
	ck_assert(netmatch_list_has(&list, "2001:db8:ffff:ffff::"));
	ck_assert(!netmatch_list_has(&list, "2001:db9::"));
	ck_assert(!netmatch_list_has(&list, "2001:db7:ffff::"));
	ck_assert(netmatch_list_has(&list, "fe80::1"));
	ck_assert(netmatch_list_has(&list, "febf:ffff::"));
	ck_assert(!netmatch_list_has(&list, "fec0::"));
	ck_assert(!netmatch_list_has(&list, "127.0.0.1"));
}
END_TEST

START_TEST(mapped_addresses)
{
	add_ok("10.0.0.0/8");
	ck_assert(netmatch_list_has(&list, "::ffff:10.1.2.3"));
	ck_assert(netmatch_list_has(&list, "::ffff:a01:203"));
	ck_assert(!netmatch_list_has(&list, "::ffff:11.0.0.0"));
	/* a mapped entry is the IPv4 prefix it names */
	setup();
	add_ok("::ffff:192.0.2.0/120");
	ck_assert_uint_eq(list.p[0].bits, 24);
	ck_assert(!list.p[0].v6);
	ck_assert(netmatch_list_has(&list, "192.0.2.200"));
	ck_assert(netmatch_list_has(&list, "::ffff:192.0.2.1"));
	ck_assert(!netmatch_list_has(&list, "192.0.3.1"));
	/* ::ffff:0:0/96 is every IPv4 address */
	setup();
	add_ok("::ffff:0.0.0.0/96");
	ck_assert(netmatch_list_has(&list, "203.0.113.9"));
	ck_assert(!netmatch_list_has(&list, "::1"));
}
END_TEST

START_TEST(zero_and_full_lengths)
{
	add_ok("0.0.0.0/0");
	ck_assert(netmatch_list_has(&list, "0.0.0.0"));
	ck_assert(netmatch_list_has(&list, "255.255.255.255"));
	ck_assert(!netmatch_list_has(&list, "::1"));
	setup();
	add_ok("::/0");
	ck_assert(netmatch_list_has(&list, "::"));
	ck_assert(netmatch_list_has(&list, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:"
					   "ffff"));
	ck_assert(!netmatch_list_has(&list, "10.0.0.1"));
	setup();
	add_ok("192.0.2.255/32");
	add_ok("2001:db8::ff/128");
	ck_assert(netmatch_list_has(&list, "192.0.2.255"));
	ck_assert(!netmatch_list_has(&list, "192.0.2.254"));
	ck_assert(netmatch_list_has(&list, "2001:db8::ff"));
	ck_assert(!netmatch_list_has(&list, "2001:db8::fe"));
	/* an empty list matches nothing; garbage is no address */
	setup();
	ck_assert(!netmatch_list_has(&list, "127.0.0.1"));
	add_ok("0.0.0.0/0");
	ck_assert(!netmatch_list_has(&list, "?"));
	ck_assert(!netmatch_list_has(&list, ""));
}
END_TEST

START_TEST(bad_entries)
{
	static const char *const bad[] = {"",
					  "/8",
					  "127.0.0.0/",
					  "127.0.0.0/33",
					  "::/129",
					  "127.0.0.0/08",
					  "127.0.0.0/-1",
					  "127.0.0.0/+8",
					  "127.0.0.0/8/8",
					  "127.0.0.1/8",
					  "10.1.2.3/8",
					  "2001:db8::1/32",
					  "localhost",
					  "127.1",
					  "127.0.0.0 /8",
					  " 127.0.0.1",
					  "127.0.0.01",
					  "1.2.3.4.5",
					  "::1/1280",
					  "fe80::1%eth0",
					  "10.0.0.0/8 ",
					  "256.0.0.0",
					  "127.0.0.0/1x",
					  "[::1]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct netmatch_prefix p;
		char err[128] = "";
		ck_assert_msg(netmatch_parse(bad[i], strlen(bad[i]), &p, err,
					     sizeof(err)) == -1,
			      "accepted '%s'", bad[i]);
		ck_assert_msg(err[0] != '\0', "no reason for '%s'", bad[i]);
	}
	/* an embedded NUL and an overlong entry */
	struct netmatch_prefix p;
	char err[128], big[200];
	ck_assert_int_eq(
		netmatch_parse("10.0.0.0\0/8", 11, &p, err, sizeof(err)), -1);
	memset(big, '0', sizeof(big));
	ck_assert_int_eq(netmatch_parse(big, sizeof(big), &p, err, sizeof(err)),
			 -1);
	/* the host-bits error names the length */
	ck_assert_int_eq(netmatch_parse("10.1.0.0/8", 10, &p, err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "/8"));
}
END_TEST

START_TEST(list_is_bounded)
{
	char entry[32], err[128];
	for (unsigned i = 0; i < NETMATCH_MAX; i++) {
		snprintf(entry, sizeof(entry), "10.0.%u.%u", i / 256, i % 256);
		add_ok(entry);
	}
	ck_assert_int_eq(netmatch_add(&list, "192.0.2.1", err, sizeof(err)),
			 -1);
	ck_assert_uint_eq(list.n, NETMATCH_MAX);
	ck_assert(netmatch_list_has(&list, "10.0.0.255"));
	ck_assert(!netmatch_list_has(&list, "192.0.2.1"));
}
END_TEST

static Suite *netmatch_suite(void)
{
	Suite *s = suite_create("netmatch");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, ipv4_prefixes);
	tcase_add_test(tc, ipv6_prefixes);
	tcase_add_test(tc, mapped_addresses);
	tcase_add_test(tc, zero_and_full_lengths);
	tcase_add_test(tc, bad_entries);
	tcase_add_test(tc, list_is_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(netmatch_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
