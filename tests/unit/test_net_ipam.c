/* net/ipam.c, pure half: which address is next (reserved addresses,
 * lowest free, exhaustion), and the stable MACs and interface names. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/net.h"
#include "net_fixtures.h"


static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

Test(net_ipam, reserved_and_capacity)
{
	struct cidr c = C("10.0.1.0/24");
	cr_assert_eq(ipam_gateway(&c), IP(10, 0, 1, 1));
	cr_assert_eq(ipam_capacity(&c), 253);
	cr_assert_eq(ipam_capacity(P("10.0.0.0/29")), 5);
	cr_assert_eq(ipam_capacity(P("10.0.0.0/30")), 1);
	cr_assert_eq(ipam_capacity(P("10.0.0.0/31")), 0);
	cr_assert_eq(ipam_capacity(P("10.0.0.0/32")), 0);
	cr_assert_eq(ipam_capacity(P("0.0.0.0/0")), (1ull << 32) - 3);
}

Test(net_ipam, pick_order)
{
	struct cidr c = C("10.0.1.0/24");
	uint32_t ip;
	cr_assert_eq(ipam_pick(&c, NULL, 0, &ip), 0);
	cr_assert_eq(ip, IP(10, 0, 1, 2), "first guest is after the gateway");
	uint32_t u1[] = { IP(10, 0, 1, 2), IP(10, 0, 1, 3) };
	cr_assert_eq(ipam_pick(&c, u1, 2, &ip), 0);
	cr_assert_eq(ip, IP(10, 0, 1, 4));
	/* any order, duplicates, the reserved addresses and strangers ignored */
	uint32_t u2[] = { IP(10, 0, 1, 5), IP(10, 0, 1, 3), IP(10, 0, 1, 1), IP(10, 0, 1, 2),
			  IP(10, 0, 1, 3), IP(10, 0, 1, 0), IP(10, 0, 1, 255), IP(10, 0, 2, 4),
			  IP(9, 0, 0, 0) };
	cr_assert_eq(ipam_pick(&c, u2, N(u2), &ip), 0);
	cr_assert_eq(ip, IP(10, 0, 1, 4), "lowest hole");
	/* a released low address is reused first */
	uint32_t u3[] = { IP(10, 0, 1, 3), IP(10, 0, 1, 4) };
	cr_assert_eq(ipam_pick(&c, u3, 2, &ip), 0);
	cr_assert_eq(ip, IP(10, 0, 1, 2));
}

Test(net_ipam, pick_exhaustion)
{
	uint32_t ip = 7, used[8];
	size_t n = 0;
	/* /30: network .0, gateway .1, one guest .2, broadcast .3 */
	struct cidr c30 = C("10.0.0.0/30");
	cr_assert_eq(ipam_pick(&c30, used, n, &ip), 0);
	cr_assert_eq(ip, IP(10, 0, 0, 2));
	used[n++] = ip;
	cr_assert_eq(ipam_pick(&c30, used, n, &ip), -ENOSPC);

	/* /29: guests .2 to .6, never the broadcast .7 */
	struct cidr c29 = C("192.168.7.8/29");
	n = 0;
	for (uint32_t want = IP(192, 168, 7, 10); want <= IP(192, 168, 7, 14); want++) {
		cr_assert_eq(ipam_pick(&c29, used, n, &ip), 0);
		cr_assert_eq(ip, want);
		used[n++] = ip;
	}
	ip = 7;
	cr_assert_eq(ipam_pick(&c29, used, n, &ip), -ENOSPC);
	cr_assert_eq(ip, 7, "output written on error");
}

Test(net_ipam, pick_refuses_31_32)
{
	uint32_t ip;
	cr_assert_eq(ipam_pick(P("10.0.0.0/31"), NULL, 0, &ip), -EINVAL);
	cr_assert_eq(ipam_pick(P("10.0.0.0/32"), NULL, 0, &ip), -EINVAL);
}

Test(net_ipam, pick_edges)
{
	uint32_t ip;
	struct cidr all = C("0.0.0.0/0");
	cr_assert_eq(ipam_pick(&all, NULL, 0, &ip), 0);
	cr_assert_eq(ip, 2);
	struct cidr top = C("255.255.255.252/30");
	cr_assert_eq(ipam_pick(&top, NULL, 0, &ip), 0);
	cr_assert_eq(ip, 0xfffffffeu);
	uint32_t u[] = { 0xfffffffeu };
	cr_assert_eq(ipam_pick(&top, u, 1, &ip), -ENOSPC, "no wrap past 255.255.255.255");

	/* a /16 with one hole near the top: found without a bitmap */
	struct cidr c = C("10.9.0.0/16");
	size_t n = (size_t)ipam_capacity(&c) - 1;
	uint32_t *used = malloc(n * sizeof(*used));
	cr_assert_not_null(used);
	size_t k = 0;
	for (uint32_t a = IP(10, 9, 255, 254); a >= IP(10, 9, 0, 2); a--)
		if (a != IP(10, 9, 200, 17))
			used[k++] = a;
	cr_assert_eq(k, n);
	cr_assert_eq(ipam_pick(&c, used, n, &ip), 0);
	cr_assert_eq(ip, IP(10, 9, 200, 17));
	used[0] = IP(10, 9, 200, 17);   /* replaces .255.254, now the only free one */
	cr_assert_eq(ipam_pick(&c, used, n, &ip), 0);
	cr_assert_eq(ip, IP(10, 9, 255, 254));
	free(used);
}

Test(net_ipam, hash_separates_parts)
{
	const char *a[] = { "ab", "c" }, *b[] = { "a", "bc" }, *c[] = { "abc" }, *d[] = { "abc", "" };
	uint64_t ha = net_hash(a, 2), hb = net_hash(b, 2), hc = net_hash(c, 1), hd = net_hash(d, 2);
	cr_assert(ha != hb && ha != hc && hb != hc && hc != hd);
	const char *e[] = { NULL, "x" }, *f[] = { "", "x" };
	cr_assert_eq(net_hash(e, 2), net_hash(f, 2), "NULL hashes as the empty string");
}

Test(net_ipam, mac)
{
	uint8_t m1[6], m2[6];
	char b[MAC_STR_MAX];
	net_mac("v", "a", "vm", "web", 0, m1);
	net_mac("v", "a", "vm", "web", 0, m2);
	cr_assert_eq(memcmp(m1, m2, 6), 0, "deterministic");
	cr_assert_eq(m1[0], 0x02, "locally administered unicast, RFC 7042");
	/* pinned (and checked against a separate Python FNV-1a + fmix64):
	 * leases on disk and guests' configs hold these */
	cr_assert_str_eq(net_mac_format(m1, b), "02:d1:a1:1f:0e:b5");
	const char *diff[][4] = { { "w", "a", "vm", "web" }, { "v", "b", "vm", "web" },
				  { "v", "a", "ct", "web" }, { "v", "a", "vm", "web2" } };
	for (size_t i = 0; i < N(diff); i++) {
		net_mac(diff[i][0], diff[i][1], diff[i][2], diff[i][3], 0, m2);
		cr_assert_neq(memcmp(m1, m2, 6), 0, "case %zu", i);
		cr_assert_eq(m2[0], 0x02);
	}
	net_mac("v", "a", "vm", "web", 1, m2);
	cr_assert_neq(memcmp(m1, m2, 6), 0, "salt");
}

Test(net_ipam, mac_spread)
{
	/* 20000 attachments on one subnet: 40 bits give no collision */
	enum { K = 20000 };
	uint64_t *v = malloc(K * sizeof(*v));
	cr_assert_not_null(v);
	for (int i = 0; i < K; i++) {
		char id[16];
		uint8_t m[6];
		snprintf(id, sizeof(id), "vm%d", i);
		net_mac("v", "a", "vm", id, 0, m);
		v[i] = 0;
		for (int j = 0; j < 6; j++)
			v[i] = v[i] << 8 | m[j];
	}
	qsort(v, K, sizeof(*v), cmp_u64);
	for (int i = 1; i < K; i++)
		cr_assert_neq(v[i - 1], v[i]);
	free(v);
}

Test(net_ipam, mac_format_parse)
{
	struct cl_error err = { 0 };
	uint8_t m[6], z[6] = { 0 };
	char b[MAC_STR_MAX];
	cr_assert_eq(net_mac_parse("02:aB:00:ff:10:9c", m, &err), 0, "%s", err.msg);
	cr_assert_str_eq(net_mac_format(m, b), "02:ab:00:ff:10:9c");
	const char *bad[] = { "", "02:ab:00:ff:10", "02:ab:00:ff:10:9c:", "02-ab-00-ff-10-9c",
			      "02:ab:00:ff:10:9g", "2:ab:00:ff:10:9c0", " 02:ab:00:ff:10:9c" };
	for (size_t i = 0; i < N(bad); i++) {
		memset(m, 0, 6);
		cr_assert_eq(net_mac_parse(bad[i], m, &err), -EINVAL, "accepted '%s'", bad[i]);
		cr_assert_eq(memcmp(m, z, 6), 0);
	}
	cr_assert(strstr(err.msg, "is not a MAC address"), "%s", err.msg);
}

Test(net_ipam, ifnames)
{
	char a[NET_IFNAMSIZ], b[NET_IFNAMSIZ];
	const char *big = "a-very-long-vpc-name-that-goes-on-and-on-for-sixty-four-chars-xx";
	cr_assert_eq(strlen(big), 64);
	net_ifname(NET_IF_BRIDGE, big, big, NULL, NULL, a);
	cr_assert_eq(strlen(a), 15, "IFNAMSIZ is 16 with the NUL: '%s'", a);
	cr_assert_eq(strncmp(a, "clbr-", 5), 0);
	cr_assert_eq(strspn(a + 5, "0123456789abcdef"), 10);
	/* pinned: a changed hash would rename the bridges of a running host */
	cr_assert_str_eq(net_ifname(NET_IF_BRIDGE, "v", "a", NULL, NULL, a), "clbr-3054828fb7");
	cr_assert_str_eq(net_ifname(NET_IF_BRIDGE, "v", "a", "vm", "x", b), a, "owner ignored");
	net_ifname(NET_IF_TAP, "v", "a", "vm", "web", a);
	cr_assert_eq(strncmp(a, "cltp-", 5), 0);
	cr_assert_str_eq(net_ifname(NET_IF_TAP, "v", "a", "vm", "web", b), a, "deterministic");
	net_ifname(NET_IF_VETH_HOST, "v", "a", "vm", "web", b);
	cr_assert_eq(strncmp(b, "clvh-", 5), 0);
	cr_assert_str_neq(a + 5, b + 5, "kinds differ beyond the prefix");
	net_ifname(NET_IF_VETH_PEER, "v", "a", "vm", "web", a);
	cr_assert_eq(strncmp(a, "clvc-", 5), 0);
	cr_assert_str_neq(a + 5, b + 5);
	net_ifname(NET_IF_TAP, "v", "b", "vm", "web", a);
	net_ifname(NET_IF_TAP, "v", "a", "vm", "web", b);
	cr_assert_str_neq(a, b, "subnet is part of the name");
}

Test(net_ipam, ifnames_unique)
{
	/* 20000 taps across 20 subnets: distinct names */
	enum { K = 20000 };
	char(*v)[NET_IFNAMSIZ] = malloc(K * NET_IFNAMSIZ);
	cr_assert_not_null(v);
	for (int i = 0; i < K; i++) {
		char id[16], sn[8];
		snprintf(id, sizeof(id), "%d", i / 20);
		snprintf(sn, sizeof(sn), "s%d", i % 20);
		net_ifname(NET_IF_TAP, "v", sn, "vm", id, v[i]);
	}
	qsort(v, K, NET_IFNAMSIZ, cmp_str);
	for (int i = 1; i < K; i++)
		cr_assert_str_neq(v[i - 1], v[i]);
	free(v);
}
