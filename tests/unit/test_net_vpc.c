/* net/: the VPC model's pure half — rule parsing, the record's JSON, the
 * nftables script rendered from it, transit blocks, round-robin IPAM. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/net.h"
#include "net_fixtures.h"

static struct sg_rule R(enum sg_dir d, const char *proto, const char *port, const char *from)
{
	struct cl_error err = { 0 };
	struct sg_rule r;
	cr_assert_eq(sg_rule_parse(d, proto, port, from, &r, &err), 0, "%s", err.msg);
	return r;
}

Test(net_vpc, rule_parse)
{
	struct sg_rule r = R(SG_INGRESS, "tcp", "8000-8080", "10.20.2.0/24");
	cr_assert_eq(r.proto, IPPROTO_TCP);
	cr_assert_eq(r.port_lo, 8000);
	cr_assert_eq(r.port_hi, 8080);
	cr_assert_eq(r.peer.addr, IP(10, 20, 2, 0));
	r = R(SG_INGRESS, "icmp", NULL, "sg:web");
	cr_assert(r.from_sg);
	cr_assert_str_eq(r.sg, "web");
	r = R(SG_EGRESS, "all", NULL, NULL);
	cr_assert_eq(r.proto, 0);
	cr_assert_eq(r.peer.prefix, 0);
	char buf[128];
	r = R(SG_INGRESS, "udp", "53", "10.0.0.0/8");
	cr_assert_str_eq(sg_rule_format(&r, buf, sizeof(buf)), "ingress udp 53 from 10.0.0.0/8");
}

Test(net_vpc, rule_parse_bad)
{
	struct cl_error err = { 0 };
	struct sg_rule r;
	cr_assert_eq(sg_rule_parse(SG_INGRESS, "gre", NULL, NULL, &r, &err), -EINVAL);
	cr_assert(strstr(err.msg, "gre"));
	cr_assert_eq(sg_rule_parse(SG_INGRESS, "icmp", "80", NULL, &r, &err), -EINVAL);
	cr_assert_eq(sg_rule_parse(SG_INGRESS, "tcp", "90-80", NULL, &r, &err), -EINVAL);
	cr_assert(strstr(err.msg, "backwards"));
	cr_assert_eq(sg_rule_parse(SG_INGRESS, "tcp", "0", NULL, &r, &err), -EINVAL);
	cr_assert_eq(sg_rule_parse(SG_INGRESS, "tcp", "65536", NULL, &r, &err), -EINVAL);
	cr_assert_eq(sg_rule_parse(SG_INGRESS, "tcp", "80", "10.0.0.1/8", &r, &err), -EINVAL);
	cr_assert_eq(sg_rule_parse(SG_INGRESS, "tcp", "80", "sg:../x", &r, &err), -EINVAL);
}

Test(net_vpc, ref_parse)
{
	char v[NET_NAME_LEN + 1], n[NET_NAME_LEN + 1];
	struct cl_error err = { 0 };
	cr_assert_eq(net_ref_parse("prod/web", v, n, &err), 0);
	cr_assert_str_eq(v, "prod");
	cr_assert_str_eq(n, "web");
	cr_assert_lt(net_ref_parse("prod", v, n, &err), 0);
	cr_assert_lt(net_ref_parse("a/b/c", v, n, &err), 0);
	cr_assert_lt(net_ref_parse("/b", v, n, &err), 0);
	cr_assert_lt(net_ref_parse("a/", v, n, &err), 0);
}

Test(net_vpc, transit_pick)
{
	uint32_t out, used[] = { IP(100, 64, 0, 0), IP(100, 64, 0, 8) };
	cr_assert_eq(net_transit_pick(NULL, 0, &out), 0);
	cr_assert_eq(out, IP(100, 64, 0, 0));
	cr_assert_eq(net_transit_pick(used, 2, &out), 0);
	cr_assert_eq(out, IP(100, 64, 0, 4));
}

Test(net_vpc, ipam_round_robin)
{
	uint32_t out, used[] = { IP(10, 0, 0, 2), IP(10, 0, 0, 4) };
	/* after .3 was leased and released, the next is .5, not .3 again */
	cr_assert_eq(ipam_pick_from(P("10.0.0.0/29"), used, 2, IP(10, 0, 0, 4), &out), 0);
	cr_assert_eq(out, IP(10, 0, 0, 5));
	/* past the end: wrap to the lowest free */
	cr_assert_eq(ipam_pick_from(P("10.0.0.0/29"), used, 2, IP(10, 0, 0, 7), &out), 0);
	cr_assert_eq(out, IP(10, 0, 0, 3));
	uint32_t full[] = { IP(10, 0, 0, 2) };
	cr_assert_eq(ipam_pick_from(P("10.0.0.0/30"), full, 1, IP(10, 0, 0, 3), &out), -ENOSPC);
}

static const char *record =
	"{ \"version\": 1, \"name\": \"v\", \"cidr\": \"10.20.0.0/16\", \"netns\": \"clvpc-0123abcd\","
	"  \"subnets\": [ { \"name\": \"a\", \"cidr\": \"10.20.1.0/24\" },"
	"                 { \"name\": \"b\", \"cidr\": \"10.20.2.0/24\" } ],"
	"  \"sgs\": [ { \"name\": \"default\", \"rules\": [ { \"dir\": \"ingress\", \"proto\": \"all\","
	"               \"ports\": \"\", \"from\": \"sg:default\" } ] },"
	"           { \"name\": \"web\", \"rules\": [ { \"dir\": \"ingress\", \"proto\": \"tcp\","
	"               \"ports\": \"8080\", \"from\": \"10.20.2.0/24\" } ] } ],"
	"  \"attachments\": [ { \"kind\": \"ct\", \"id\": \"c1\", \"subnet\": \"a\","
	"      \"ifname\": \"clvh-0000000001\", \"ip\": \"10.20.1.2\", \"mac\": \"02:00:00:00:00:01\","
	"      \"sgs\": [ \"web\" ], \"pid\": 1, \"pid_start\": 5 },"
	"    { \"kind\": \"vm\", \"id\": \"v1\", \"subnet\": \"b\","
	"      \"ifname\": \"cltp-0000000002\", \"ip\": \"10.20.2.2\", \"mac\": \"02:00:00:00:00:02\","
	"      \"sgs\": [ \"default\" ], \"pid\": 2, \"pid_start\": 6 } ],"
	"  \"nat\": null }";

Test(net_vpc, record_roundtrip)
{
	struct cl_error err = { 0 };
	struct vpc v, w;
	cr_assert_eq(vpc_from_json(record, "rec", &v, &err), 0, "%s", err.msg);
	cr_assert_eq(v.nsubnets, 2);
	cr_assert_eq(v.nsgs, 2);
	cr_assert_eq(v.natts, 2);
	cr_assert_str_eq(v.atts[1].kind, "vm");
	char *j = vpc_to_json(&v);
	cr_assert_not_null(j);
	cr_assert_eq(vpc_from_json(j, "rec2", &w, &err), 0, "%s", err.msg);
	char *k = vpc_to_json(&w);
	cr_assert_str_eq(j, k);
	free(j);
	free(k);
	vpc_free(&v);
	vpc_free(&w);
}

static void bad_record(const char *from, const char *to, const char *want)
{
	struct cl_error err = { 0 };
	struct vpc v;
	char *s = strdup(record), *p = strstr(s, from);
	cr_assert_not_null(p, "%s", from);
	char *t = malloc(strlen(s) + strlen(to) + 1);
	memcpy(t, s, (size_t)(p - s));
	strcpy(t + (p - s), to);
	strcat(t, p + strlen(from));
	cr_assert_lt(vpc_from_json(t, "rec", &v, &err), 0, "accepted %s", to);
	cr_assert(strstr(err.msg, want), "'%s' lacks '%s'", err.msg, want);
	cr_assert(strstr(err.msg, "rec"));
	free(s);
	free(t);
}

Test(net_vpc, record_bad)
{
	bad_record("\"version\": 1", "\"version\": 2", "version");
	bad_record("10.20.2.0/24\" } ]", "10.20.1.128/25\" } ]", "overlaps");
	bad_record("\"subnet\": \"b\"", "\"subnet\": \"zz\"", "unknown subnet");
	bad_record("[ \"web\" ]", "[ \"nosuch\" ]", "unknown security group");
	bad_record("\"ip\": \"10.20.2.2\"", "\"ip\": \"10.20.9.2\"", "outside");
	bad_record("\"kind\": \"vm\"", "\"kind\": \"xx\"", "kind");
	bad_record("sg:default", "sg:ghost", "ghost");
}

Test(net_vpc, render_firewall)
{
	struct cl_error err = { 0 };
	struct vpc v;
	cr_assert_eq(vpc_from_json(record, "rec", &v, &err), 0, "%s", err.msg);
	char *s = vpc_fw_render(&v);
	cr_assert_not_null(s);
	/* replaces what was there in the same batch */
	cr_assert(strstr(s, "table inet cloudlet\ndelete table inet cloudlet\n"));
	/* membership sets: web holds c1, default v1 */
	cr_assert(strstr(s, "comment \"members of web\"\n\t\telements = { 10.20.1.2 }"));
	cr_assert(strstr(s, "comment \"members of default\"\n\t\telements = { 10.20.2.2 }"));
	/* c1 (web): tcp 8080 from b only; v1 (default): from default members */
	cr_assert(strstr(s, "chain in_0 {\n\t\tip saddr 10.20.2.0/24 tcp dport 8080 accept"));
	cr_assert(strstr(s, "chain in_1 {\n\t\tip saddr @m_0 accept"));
	cr_assert(strstr(s, "ip daddr 10.20.1.2 jump in_0"));
	cr_assert(strstr(s, "ct state established,related accept"));
	/* no egress rules: no egress chain */
	cr_assert_null(strstr(s, "out_"));
	/* anti-spoofing per port */
	cr_assert(strstr(s, "iifname \"clvh-0000000001\" jump port_0"));
	cr_assert(strstr(s, "ether saddr != 02:00:00:00:00:01 drop"));
	cr_assert(strstr(s, "arp saddr ip != 10.20.1.2 drop"));
	cr_assert_null(strstr(s, "masquerade"));
	cr_assert_null(strstr(s, "limit rate"), "no --rate, no policing");
	free(s);

	/* --rate 100 on c1: its traffic into the bridge is policed at 100
	 * Mbit/s (12500 kB/s) with a 10 ms burst; v1's port is not */
	v.atts[0].rate_mbit = 100;
	s = vpc_fw_render(&v);
	cr_assert(strstr(s, "arp saddr ip != 10.20.1.2 drop\n\t\tlimit rate over 12500 kbytes/second burst 125 kbytes drop"),
		  "%s", s);
	const char *second = strstr(strstr(s, "limit rate") + 1, "limit rate");
	cr_assert_null(second, "only c1's port");
	free(s);
	v.atts[0].rate_mbit = 1;   /* the burst's floor: 32 kB */
	s = vpc_fw_render(&v);
	cr_assert(strstr(s, "limit rate over 125 kbytes/second burst 32 kbytes drop"));
	free(s);
	v.atts[0].rate_mbit = 0;

	/* an egress rule makes egress default-deny for its members */
	struct sg_rule e = R(SG_EGRESS, "tcp", "443", "0.0.0.0/0");
	struct sg_rule *grown = realloc(v.sgs[1].rules, 2 * sizeof(*grown));
	cr_assert_not_null(grown);
	v.sgs[1].rules = grown;
	v.sgs[1].rules[v.sgs[1].nrules++] = e;
	v.nat = true;
	v.transit = IP(100, 64, 0, 4);
	snprintf(v.uplink, sizeof(v.uplink), "eth0");
	s = vpc_fw_render(&v);
	cr_assert(strstr(s, "ip saddr 10.20.1.2 jump out_0"));
	cr_assert(strstr(s, "chain out_0 {\n\t\ttcp dport 443 return"));
	cr_assert(strstr(s, "oifname \"nat0\" masquerade"));
	free(s);
	s = vpc_nat_host_render(&v, "cloudlet_x");
	cr_assert(strstr(s, "ip saddr 100.64.0.6 oifname \"eth0\" masquerade"));
	free(s);
	v.nat = false;
	s = vpc_nat_host_render(&v, "cloudlet_x");
	cr_assert_str_eq(s, "table ip cloudlet_x\ndelete table ip cloudlet_x\n");
	free(s);
	vpc_free(&v);
}
