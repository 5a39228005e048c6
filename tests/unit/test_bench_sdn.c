/* bench sdn-scale's pure parts: the steps, the placement of attachments
 * (each VPC on some hosts only), and the per-host expectation, checked
 * against the route, FDB and neighbour items the agents' own sdn_desired
 * asks for; and clperf's p99 field. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/bench.h"
#include "cloudlet/sdn.h"

Test(bench_sdn, steps_quarter_half_all)
{
	unsigned s[BENCH_SDN_STEPS];
	cr_assert_eq(bench_sdn_steps(20, s), 3);
	cr_assert(s[0] == 5 && s[1] == 10 && s[2] == 20);
	cr_assert_eq(bench_sdn_steps(3, s), 2);   /* 0 -> 2, 1 -> 2 (dropped), 3 */
	cr_assert(s[0] == 2 && s[1] == 3);
	cr_assert_eq(bench_sdn_steps(2, s), 1);
	cr_assert_eq(s[0], 2);
}

Test(bench_sdn, placement_two_vpcs_per_host)
{
	cr_assert_eq(bench_sdn_vpc_of(0, 0, 5), 0);
	cr_assert_eq(bench_sdn_vpc_of(0, 1, 5), 1);
	cr_assert_eq(bench_sdn_vpc_of(4, 1, 5), 0);
	cr_assert_eq(bench_sdn_vpc_of(7, 3, 1), 0);
	/* 20 hosts, 5 VPCs: every VPC on 8 hosts exactly */
	for (unsigned v = 0; v < 5; v++) {
		unsigned on = 0;
		for (unsigned h = 0; h < 20; h++)
			on += bench_sdn_vpc_of(h, 0, 5) == v || bench_sdn_vpc_of(h, 1, 5) == v;
		cr_assert_eq(on, 8, "vpc %u on %u hosts", v, on);
	}
}

static void host_add(struct sdn_state *s, const char *name, uint32_t ip)
{
	s->hosts = realloc(s->hosts, (s->nhosts + 1) * sizeof(*s->hosts));
	memset(&s->hosts[s->nhosts], 0, sizeof(*s->hosts));
	snprintf(s->hosts[s->nhosts].name, sizeof(s->hosts->name), "%s", name);
	s->hosts[s->nhosts++].underlay = ip;
}

/* a VPC (subnet a, the default group) with guests g0.. on hosts[] */
static void vpc_add(struct sdn_state *s, const char *name, uint32_t vni, const char *const *hosts, size_t n)
{
	char json[8192], atts[6000] = "";
	size_t used = 0;
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(atts + used, sizeof(atts) - used,
					 "%s{\"kind\": \"ct\", \"id\": \"g%zu\", \"subnet\": \"a\", \"host\": \"%s\","
					 " \"ifname\": \"clvh-%s-%zu\", \"ip\": \"10.0.1.%zu\", \"mac\": \"02:00:00:00:%02x:%02zx\","
					 " \"sgs\": [\"default\"]}", i ? ", " : "", i, hosts[i], name, i, i + 2, vni & 0xff, i);
	snprintf(json, sizeof(json),
		 "{\"vpc\": {\"version\": 1, \"name\": \"%s\", \"cidr\": \"10.0.0.0/16\", \"netns\": \"overlay\","
		 " \"subnets\": [ {\"name\": \"a\", \"cidr\": \"10.0.1.0/24\"} ],"
		 " \"sgs\": [ {\"name\": \"default\", \"rules\": []} ], \"attachments\": [%s], \"nat\": null},"
		 " \"vni\": %u}", name, atts, vni);
	struct cl_error err = { 0 };
	s->vpcs = realloc(s->vpcs, (s->nvpcs + 1) * sizeof(*s->vpcs));
	cr_assert_eq(sdn_vpc_from_json(json, &s->vpcs[s->nvpcs], &err), 0, "%s", err.msg);
	s->nvpcs++;
}

static size_t items(const struct sdn_state *s, const char *host, enum sdn_kind kind)
{
	struct sdn_items it;
	struct cl_error err = { 0 };
	cr_assert_eq(sdn_desired(s, "0badcafe", host, &it, &err), 0, "%s", err.msg);
	size_t n = 0;
	for (size_t i = 0; i < it.n; i++)
		n += it.v[i].kind == kind;
	sdn_items_free(&it);
	return n;
}

Test(bench_sdn, expect_counts_only_the_vpcs_present)
{
	struct sdn_state s = { 0 };
	host_add(&s, "h1", 0xac1f0002);
	host_add(&s, "h2", 0xac1f0003);
	host_add(&s, "h3", 0xac1f0004);
	const char *a[] = { "h1", "h1", "h2" }, *b[] = { "h2", "h3", "h3", "h3" }, *c[] = { "h3", "gone" };
	vpc_add(&s, "a", 4096, a, 3);
	vpc_add(&s, "b", 4097, b, 4);
	vpc_add(&s, "c", 4098, c, 2);   /* a guest of a removed host counts nowhere */
	struct bench_sdn_host_row r;
	bench_sdn_expect(&s, "h1", &r);
	cr_assert_str_eq(r.name, "h1");
	cr_assert(r.local == 2 && r.vpcs == 1 && r.expect == 1 && r.expect_hosts == 1 && r.cloud == 6 && r.fdb == -1,
		  "h1: local %u vpcs %u expect %u cloud %u", r.local, r.vpcs, r.expect, r.cloud);
	bench_sdn_expect(&s, "h2", &r);
	cr_assert(r.local == 2 && r.vpcs == 2 && r.expect == 2 + 3 && r.expect_hosts == 1 + 1 && r.cloud == 6);
	bench_sdn_expect(&s, "h3", &r);
	cr_assert(r.local == 4 && r.vpcs == 2 && r.expect == 1 && r.expect_hosts == 1 && r.cloud == 4);
	/* the agents' own want (the routed overlay): a /32 route per guest of
	 * its VPCs elsewhere, an FDB and a neighbour entry per other host */
	const char *hosts[] = { "h1", "h2", "h3" };
	for (size_t i = 0; i < 3; i++) {
		bench_sdn_expect(&s, hosts[i], &r);
		cr_assert_eq(items(&s, hosts[i], SDN_ROUTE), r.expect, "%s", hosts[i]);
		cr_assert_eq(items(&s, hosts[i], SDN_FDB), r.expect_hosts, "%s", hosts[i]);
		cr_assert_eq(items(&s, hosts[i], SDN_NEIGH), r.expect_hosts, "%s", hosts[i]);
	}
	sdn_state_free(&s);
}

Test(bench_sdn, clperf_p99_field)
{
	double v = 0;
	const char *line = "clperf tcp-rr rtt_us=48.1 min_us=39.0 max_us=912.4 n=1000 p99_us=96.3";
	cr_assert_eq(bench_parse_clperf_field(line, "p99_us", &v), 0);
	cr_assert_float_eq(v, 96.3, 1e-9);
	cr_assert_eq(bench_parse_clperf_field(line, "max_us", &v), 0);
	cr_assert_float_eq(v, 912.4, 1e-9);
	/* an older clperf's line: absent, not an error */
	cr_assert_eq(bench_parse_clperf_field("clperf tcp-rr rtt_us=48.1 n=1000", "p99_us", &v), -ENOENT);
	cr_assert_eq(bench_parse_clperf_field("clperf tcp-rr p99_us=x1", "p99_us", &v), -EINVAL);
	cr_assert_eq(bench_parse_clperf_field("clperf tcp-rr p99_us=-3", "p99_us", &v), -EINVAL);
	cr_assert_eq(bench_parse_clperf_field("clperf tcp-rr xp99_us=3", "p99_us", &v), -ENOENT);
}
