/* net/cidr.c: strict IPv4 and CIDR parsing (RFC 4632), block arithmetic
 * including the /0, /31 (RFC 3021) and /32 edges, names, and the subnet
 * rules of a VPC. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "cloudlet/net.h"
#include "net_fixtures.h"


Test(net_cidr, parse_good)
{
	static const struct { const char *s; uint32_t addr; unsigned prefix; } ok[] = {
		{ "10.20.0.0/16", IP(10, 20, 0, 0), 16 },
		{ "0.0.0.0/0", 0, 0 },
		{ "255.255.255.255/32", 0xffffffffu, 32 },
		{ "10.0.0.0/31", IP(10, 0, 0, 0), 31 },
		{ "10.0.0.1/32", IP(10, 0, 0, 1), 32 },
		{ "192.168.100.0/24", IP(192, 168, 100, 0), 24 },
		{ "172.16.0.0/12", IP(172, 16, 0, 0), 12 },
		{ "128.0.0.0/1", 0x80000000u, 1 },
		{ "0.0.0.0/32", 0, 32 },
	};
	for (size_t i = 0; i < N(ok); i++) {
		struct cidr c = C(ok[i].s);
		cr_assert_eq(c.addr, ok[i].addr, "%s", ok[i].s);
		cr_assert_eq(c.prefix, ok[i].prefix, "%s", ok[i].s);
		char b[CIDR_STR_MAX];
		cr_assert_str_eq(cidr_format(&c, b), ok[i].s);
	}
}

Test(net_cidr, parse_bad)
{
	static const char *bad[] = {
		"", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/99", "10.0.0.0/024",
		"10.0.0.0/00", "010.0.0.0/8", "10.00.0.0/16", "10.0.0.0/24 ", " 10.0.0.0/24",
		"10.0.0/24", "10.0.0.0.0/24", "256.0.0.0/8", "10.0.0.0/-1", "10.0.0.0/+8",
		"+10.0.0.0/8", "10..0.0/8", "10.0.0.0/8/8", "0x0a.0.0.0/8", "10.0.0.0/2 4",
		"10.0.0.0\n/8", "10.0.0.0/8\n", "1000.0.0.0/8", "10.0.0.0/1234",
		"10.0.0.0//8", "10.0.0.0/8x", "a.b.c.d/8", "10.0.0.0 /8", "10.0.0./24",
		".10.0.0/24", "10.0.0.0/4294967304",
	};
	for (size_t i = 0; i < N(bad); i++) {
		struct cl_error err = { 0 };
		struct cidr c = { 0x01020304, 7 };
		cr_assert_eq(cidr_parse(bad[i], &c, &err), -EINVAL, "accepted '%s'", bad[i]);
		cr_assert_eq(err.code, EINVAL);
		cr_assert(err.msg[0] && !strchr(err.msg, '\n'), "'%s': message '%s'", bad[i], err.msg);
		cr_assert(c.addr == 0x01020304 && c.prefix == 7, "output written on error");
	}
	struct cl_error err = { 0 };
	struct cidr c;
	cr_assert_eq(cidr_parse(NULL, &c, &err), -EINVAL);
}

Test(net_cidr, parse_messages)
{
	struct cl_error err = { 0 };
	struct cidr c;
	cr_assert_lt(cidr_parse("10.20.1.5/24", &c, &err), 0);
	cr_assert_str_eq(err.msg, "10.20.1.5/24 has host bits set (did you mean 10.20.1.0/24?)");
	cr_assert_lt(cidr_parse("255.255.255.255/0", &c, &err), 0);
	cr_assert_str_eq(err.msg, "255.255.255.255/0 has host bits set (did you mean 0.0.0.0/0?)");
	cr_assert_lt(cidr_parse("10.0.0.1/31", &c, &err), 0);
	cr_assert_str_eq(err.msg, "10.0.0.1/31 has host bits set (did you mean 10.0.0.0/31?)");
	cr_assert_lt(cidr_parse("010.0.0.0/8", &c, &err), 0);
	cr_assert(strstr(err.msg, "'010.0.0.0/8' is not a CIDR block") &&
		  strstr(err.msg, "leading zero"), "%s", err.msg);
	cr_assert_lt(cidr_parse("300.0.0.0/8", &c, &err), 0);
	cr_assert(strstr(err.msg, "above 255"), "%s", err.msg);
	cr_assert_lt(cidr_parse("10.0.0.0/24 ", &c, &err), 0);
	cr_assert(strstr(err.msg, "junk after it"), "%s", err.msg);
	cr_assert_lt(cidr_parse("10.0.0.0", &c, &err), 0);
	cr_assert(strstr(err.msg, "no /N prefix length"), "%s", err.msg);
	cr_assert_lt(cidr_parse("10.0.0.0/33", &c, &err), 0);
	cr_assert(strstr(err.msg, "0..32"), "%s", err.msg);
	/* control characters never reach the one-line message */
	cr_assert_lt(cidr_parse("10.0.0.0\n/8", &c, &err), 0);
	cr_assert(strstr(err.msg, "'10.0.0.0?/8'"), "%s", err.msg);
	/* long input is cut */
	char longs[300];
	memset(longs, '1', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	cr_assert_lt(cidr_parse(longs, &c, &err), 0);
	cr_assert_lt(strlen(err.msg), 120, "%s", err.msg);
}

Test(net_cidr, ip4)
{
	struct cl_error err = { 0 };
	uint32_t a;
	cr_assert_eq(ip4_parse("255.255.255.255", &a, &err), 0);
	cr_assert_eq(a, 0xffffffffu);
	cr_assert_eq(ip4_parse("0.0.0.0", &a, &err), 0);
	cr_assert_eq(a, 0);
	cr_assert_eq(ip4_parse("10.1.2.3", &a, &err), 0);
	cr_assert_eq(a, IP(10, 1, 2, 3));
	const char *bad[] = { "", "10.1.2", "10.1.2.3/8", "10.1.2.03", "10.1.2.256", "1.2.3.4 ",
			      "1.2.3.-4", "1.2.3.4.", "01.2.3.4", "1,2,3,4" };
	for (size_t i = 0; i < N(bad); i++)
		cr_assert_eq(ip4_parse(bad[i], &a, &err), -EINVAL, "accepted '%s'", bad[i]);
	cr_assert(strstr(err.msg, "'1,2,3,4' is not an IPv4 address"), "%s", err.msg);
	char b[IP4_STR_MAX];
	cr_assert_str_eq(ip4_format(0xffffffffu, b), "255.255.255.255");
	cr_assert_str_eq(ip4_format(IP(10, 0, 0, 1), b), "10.0.0.1");
	cr_assert_str_eq(ip4_format(0, b), "0.0.0.0");
}

Test(net_cidr, arithmetic)
{
	cr_assert_eq(cidr_mask(0), 0);
	cr_assert_eq(cidr_mask(1), 0x80000000u);
	cr_assert_eq(cidr_mask(24), 0xffffff00u);
	cr_assert_eq(cidr_mask(31), 0xfffffffeu);
	cr_assert_eq(cidr_mask(32), 0xffffffffu);

	struct cidr c = C("10.0.1.0/24");
	cr_assert_eq(cidr_broadcast(&c), IP(10, 0, 1, 255));
	cr_assert_eq(cidr_first_host(&c), IP(10, 0, 1, 1));
	cr_assert_eq(cidr_last_host(&c), IP(10, 0, 1, 254));
	cr_assert_eq(cidr_host_count(&c), 254);

	c = C("0.0.0.0/0");
	cr_assert_eq(cidr_broadcast(&c), 0xffffffffu);
	cr_assert_eq(cidr_first_host(&c), 1);
	cr_assert_eq(cidr_last_host(&c), 0xfffffffeu);
	cr_assert_eq(cidr_host_count(&c), (1ull << 32) - 2);

	c = C("10.0.0.4/30");
	cr_assert_eq(cidr_first_host(&c), IP(10, 0, 0, 5));
	cr_assert_eq(cidr_last_host(&c), IP(10, 0, 0, 6));
	cr_assert_eq(cidr_broadcast(&c), IP(10, 0, 0, 7));
	cr_assert_eq(cidr_host_count(&c), 2);

	/* RFC 3021: a /31 has two hosts and no network or broadcast address */
	c = C("10.0.0.6/31");
	cr_assert_eq(cidr_first_host(&c), IP(10, 0, 0, 6));
	cr_assert_eq(cidr_last_host(&c), IP(10, 0, 0, 7));
	cr_assert_eq(cidr_host_count(&c), 2);

	c = C("255.255.255.255/32");
	cr_assert_eq(cidr_first_host(&c), 0xffffffffu);
	cr_assert_eq(cidr_last_host(&c), 0xffffffffu);
	cr_assert_eq(cidr_broadcast(&c), 0xffffffffu);
	cr_assert_eq(cidr_host_count(&c), 1);
}

Test(net_cidr, contains_within_overlaps)
{
	struct cidr all = C("0.0.0.0/0"), vpc = C("10.0.0.0/16"), a = C("10.0.0.0/23"),
		    b = C("10.0.1.0/24"), d = C("10.0.2.0/24"), h = C("10.0.2.255/32"),
		    top = C("255.255.255.255/32");
	cr_assert(cidr_contains_ip(&vpc, IP(10, 0, 255, 255)));
	cr_assert(!cidr_contains_ip(&vpc, IP(10, 1, 0, 0)));
	cr_assert(!cidr_contains_ip(&vpc, IP(9, 255, 255, 255)));
	cr_assert(cidr_contains_ip(&all, 0xffffffffu));
	cr_assert(cidr_contains_ip(&top, 0xffffffffu));
	cr_assert(!cidr_contains_ip(&top, 0xfffffffeu));

	cr_assert(cidr_within(&vpc, &a));
	cr_assert(cidr_within(&a, &b));
	cr_assert(!cidr_within(&b, &a));
	cr_assert(cidr_within(&a, &a));
	cr_assert(cidr_within(&all, &top));
	cr_assert(!cidr_within(&a, &d));
	cr_assert(cidr_within(&d, &h));

	cr_assert(cidr_overlaps(&a, &b) && cidr_overlaps(&b, &a));
	cr_assert(!cidr_overlaps(&a, &d) && !cidr_overlaps(&d, &a), "adjacent blocks");
	cr_assert(!cidr_overlaps(&b, &d));
	cr_assert(cidr_overlaps(&all, &top));
	cr_assert(cidr_overlaps(&d, &h));
	cr_assert(cidr_overlaps(&b, &b));
}

Test(net_cidr, names)
{
	struct cl_error err = { 0 };
	const char *good[] = { "a", "web-1", "A_b.c", "0", "x123456789012345678901234567890123456789"
			       "012345678901234567890123" };
	for (size_t i = 0; i < N(good); i++)
		cr_assert_eq(net_name_check("vpc", good[i], &err), 0, "%s: %s", good[i], err.msg);
	const char *bad[] = { "", ".", "..", ".hidden", "-x", "a/b", "a b", "é", "a\n",
			      "x1234567890123456789012345678901234567890123456789012345678901234" };
	for (size_t i = 0; i < N(bad); i++)
		cr_assert_lt(net_name_check("vpc", bad[i], &err), 0, "accepted '%s'", bad[i]);
	cr_assert_lt(net_name_check("subnet", NULL, &err), 0);
	cr_assert_str_eq(err.msg, "subnet name is empty");
	cr_assert_eq(net_name_check("vpc", "a/b", &err), -EINVAL);
	cr_assert(strstr(err.msg, "vpc name 'a/b': only letters"), "%s", err.msg);
}

Test(net_cidr, subnet_rules)
{
	struct cl_error err = { 0 };
	struct cidr vpc = C("10.0.0.0/16");
	struct net_subnet sib[] = { { "b", C("10.0.0.0/23") }, { "c", C("10.0.4.0/24") } };

	cr_assert_eq(net_subnet_check("v", &vpc, "a", P("10.0.2.0/24"), sib, 2,
				      &err), 0, "%s", err.msg);
	cr_assert_eq(net_subnet_check("v", &vpc, "a", P("10.0.3.252/30"), sib,
				      2, &err), 0, "%s", err.msg);
	cr_assert_eq(net_subnet_check("v", &vpc, "a", &vpc, NULL, 0, &err), 0, "whole VPC");

	cr_assert_eq(net_subnet_check("v", &vpc, "a", P("10.0.1.0/24"), sib, 2,
				      &err), -EEXIST);
	cr_assert_str_eq(err.msg, "vpc v: subnet a: 10.0.1.0/24 overlaps 10.0.0.0/23 (subnet b)");
	cr_assert_eq(net_subnet_check("v", &vpc, "a", P("10.0.0.0/22"), sib, 2,
				      &err), -EEXIST);
	cr_assert_str_eq(err.msg, "vpc v: subnet a: 10.0.0.0/22 overlaps 10.0.0.0/23 (subnet b)");

	cr_assert_eq(net_subnet_check("v", &vpc, "c", P("10.0.9.0/24"), sib, 2,
				      &err), -EEXIST);
	cr_assert_str_eq(err.msg, "vpc v: subnet c already exists (10.0.4.0/24)");

	cr_assert_eq(net_subnet_check("v", &vpc, "a", P("10.1.0.0/24"), sib, 2,
				      &err), -EINVAL);
	cr_assert_str_eq(err.msg, "vpc v: subnet a: 10.1.0.0/24 is not within the VPC's 10.0.0.0/16");
	cr_assert_eq(net_subnet_check("v", &vpc, "a", P("10.0.0.0/8"), NULL, 0,
				      &err), -EINVAL, "wider than the VPC");

	/* /31 and /32: no address for a guest next to the gateway */
	cr_assert_eq(net_subnet_check("v", &vpc, "a", P("10.0.9.0/31"), sib, 2,
				      &err), -EINVAL);
	cr_assert(strstr(err.msg, "vpc v: subnet a: 10.0.9.0/31 is too small"), "%s", err.msg);
	cr_assert_eq(net_subnet_check("v", &vpc, "a", P("10.0.9.1/32"), sib, 2,
				      &err), -EINVAL);

	cr_assert_eq(net_subnet_check("v/x", &vpc, "a", &vpc, NULL, 0, &err), -EINVAL);
	cr_assert_eq(net_subnet_check("v", &vpc, "..", &vpc, NULL, 0, &err), -EINVAL);
	cr_assert(strstr(err.msg, "subnet name '..'"), "%s", err.msg);
}

Test(net_cidr, vpc_rules)
{
	struct cl_error err = { 0 };
	cr_assert_eq(net_vpc_check("v", P("10.0.0.0/16"), &err), 0);
	cr_assert_eq(net_vpc_check("v", P("10.0.0.0/30"), &err), 0);
	cr_assert_eq(net_vpc_check("v", P("10.0.0.0/31"), &err), -EINVAL);
	cr_assert(strstr(err.msg, "vpc v: 10.0.0.0/31 is too small"), "%s", err.msg);
	cr_assert_eq(net_vpc_check("", P("10.0.0.0/16"), &err), -EINVAL);
}

Test(net_cidr, sibling_overlap_list)
{
	struct net_subnet s[] = {
		{ "a", C("10.0.0.0/24") }, { "b", C("10.0.1.0/24") }, { "c", C("10.0.2.0/23") },
		{ "d", C("10.0.3.128/25") },
	};
	size_t i = 99, j = 99;
	cr_assert(!net_subnets_overlap(s, 3, &i, &j));
	cr_assert(net_subnets_overlap(s, 4, &i, &j));
	cr_assert_eq(i, 2);
	cr_assert_eq(j, 3);
	cr_assert(!net_subnets_overlap(s, 0, &i, &j));
	cr_assert(!net_subnets_overlap(s, 1, &i, &j));
}
