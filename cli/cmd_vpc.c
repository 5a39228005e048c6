/* `cloudlet vpc`: the VPC network shared by VMs and containers (net/). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cloudlet/crun.h"
#include "cloudlet/net.h"
#include "cloudlet/sdn.h"

/* a controller configured: the commands write desired state (net/sdn/) */
static const char *ctl(void)
{
	const char *u = getenv(SDN_ENV);
	return u && u[0] ? u : NULL;
}

/* one state root for containers and networks alike */
static const char *root_of(const struct cli_args *a)
{
	return a->root ? a->root : crun_default_root();
}

static int vpc_create_cmd(const struct cli_args *a, struct cl_error *err)
{
	if (ctl())
		return sdn_vpc_create(ctl(), a->pos[0], cli_str(a, "cidr", NULL), err);
	return vpc_create(root_of(a), a->pos[0], cli_str(a, "cidr", NULL), err);
}

static int vpc_rm_cmd(const struct cli_args *a, struct cl_error *err)
{
	if (ctl())
		return sdn_vpc_rm(ctl(), a->pos[0], cli_flag(a, "force"), err);
	return vpc_rm(root_of(a), a->pos[0], cli_flag(a, "force"), err);
}

static int vpc_ls_cmd(const struct cli_args *a, struct cl_error *err)
{
	char **names, c[CIDR_STR_MAX];
	size_t n;
	if (ctl()) {
		struct sdn_state s;
		int r = sdn_host_list(ctl(), &s, err);
		if (r < 0)
			return r;
		printf("%-20s %-18s %-8s %-12s %s\n", "NAME", "CIDR", "SUBNETS", "ATTACHMENTS", "REVISION");
		for (size_t i = 0; i < s.nvpcs; i++)
			printf("%-20s %-18s %-8zu %-12zu %lld\n", s.vpcs[i].v.name, cidr_format(&s.vpcs[i].v.cidr, c),
			       s.vpcs[i].v.nsubnets, s.vpcs[i].v.natts, (long long)s.vpcs[i].mod_rev);
		sdn_state_free(&s);
		return 0;
	}
	int r = vpc_list(root_of(a), &names, &n, err);
	if (r < 0)
		return r;
	printf("%-20s %-18s %-8s %-12s %s\n", "NAME", "CIDR", "SUBNETS", "ATTACHMENTS", "NAT");
	for (size_t i = 0; i < n; i++) {
		struct vpc v;
		struct cl_error e = { 0 };
		if (vpc_get(root_of(a), names[i], &v, &e) < 0) {
			printf("%-20s (%s)\n", names[i], e.msg);
		} else {
			printf("%-20s %-18s %-8zu %-12zu %s\n", v.name, cidr_format(&v.cidr, c), v.nsubnets,
			       v.natts, v.nat ? v.uplink : "-");
			vpc_free(&v);
		}
		free(names[i]);
	}
	free(names);
	return 0;
}

/* the overlay's view: per attachment its host and whether that host's
 * agent has applied the VPC's latest change (desired vs applied revision) */
static int vpc_show_sdn(const struct cli_args *a, struct cl_error *err)
{
	struct sdn_vpc sv;
	struct sdn_state s;
	int64_t *applied = NULL;
	char c[CIDR_STR_MAX], ip[IP4_STR_MAX], mac[MAC_STR_MAX], rule[192];
	int r = sdn_vpc_get(ctl(), a->pos[0], &sv, &s, &applied, err);
	if (r < 0)
		return r;
	const struct vpc *v = &sv.v;
	printf("vpc %s  %s  vni %u  controller %s  desired revision %lld\n", v->name, cidr_format(&v->cidr, c),
	       sv.vni, ctl(), (long long)sv.mod_rev);
	printf("\nSUBNET               CIDR               GATEWAY\n");
	for (size_t i = 0; i < v->nsubnets; i++)
		printf("%-20s %-18s %s\n", v->subnets[i].name, cidr_format(&v->subnets[i].cidr, c),
		       ip4_format(ipam_gateway(&v->subnets[i].cidr), ip));
	printf("\nKIND ID                   SUBNET       HOST         IP               MAC                APPLIED\n");
	for (size_t i = 0; i < v->natts; i++) {
		const struct vpc_att *t = &v->atts[i];
		long long ap = -1;
		bool known = false;
		for (size_t h = 0; h < s.nhosts; h++)
			if (!strcmp(s.hosts[h].name, t->host)) {
				ap = applied[h];
				known = true;
			}
		char st[48];
		if (!known)
			snprintf(st, sizeof(st), "gone (host removed)");
		else if (ap >= sv.mod_rev)
			snprintf(st, sizeof(st), "yes (rev %lld)", ap);
		else
			snprintf(st, sizeof(st), "no (host at rev %lld)", ap);
		printf("%-4s %-20s %-12s %-12s %-16s %-18s %s\n", t->kind, t->id, t->subnet, t->host,
		       ip4_format(t->ip, ip), net_mac_format(t->mac, mac), st);
	}
	printf("\nSECURITY GROUP       RULES\n");
	for (size_t i = 0; i < v->nsgs; i++) {
		printf("%-20s %s\n", v->sgs[i].name, v->sgs[i].nrules ? "" : "(none: all ingress denied)");
		for (size_t j = 0; j < v->sgs[i].nrules; j++)
			printf("%-20s %s\n", "", sg_rule_format(&v->sgs[i].rules[j], rule, sizeof(rule)));
	}
	free(applied);
	sdn_vpc_free(&sv);
	sdn_state_free(&s);
	return 0;
}

static int vpc_show_cmd(const struct cli_args *a, struct cl_error *err)
{
	if (ctl())
		return vpc_show_sdn(a, err);
	struct vpc v;
	char c[CIDR_STR_MAX], ip[IP4_STR_MAX], mac[MAC_STR_MAX], rule[192], br[NET_IFNAMSIZ];
	int r = vpc_get(root_of(a), a->pos[0], &v, err);
	if (r < 0)
		return r;
	printf("vpc %s  %s  namespace %s\n", v.name, cidr_format(&v.cidr, c), v.netns);
	if (v.nat)
		printf("nat gateway: uplink %s, transit %s/30\n", v.uplink, ip4_format(v.transit, ip));
	printf("\nSUBNET               CIDR               GATEWAY          BRIDGE\n");
	for (size_t i = 0; i < v.nsubnets; i++)
		printf("%-20s %-18s %-16s %s\n", v.subnets[i].name, cidr_format(&v.subnets[i].cidr, c),
		       ip4_format(ipam_gateway(&v.subnets[i].cidr), ip),
		       net_ifname(NET_IF_BRIDGE, v.name, v.subnets[i].name, NULL, NULL, br));
	printf("\nKIND ID                   SUBNET       IP               MAC                PORT             SGS\n");
	for (size_t i = 0; i < v.natts; i++) {
		const struct vpc_att *t = &v.atts[i];
		printf("%-4s %-20s %-12s %-16s %-18s %-16s ", t->kind, t->id, t->subnet,
		       ip4_format(t->ip, ip), net_mac_format(t->mac, mac), t->ifname);
		for (size_t j = 0; j < t->nsgs; j++)
			printf("%s%s", j ? "," : "", t->sgs[j]);
		printf("\n");
	}
	printf("\nSECURITY GROUP       RULES\n");
	for (size_t i = 0; i < v.nsgs; i++) {
		printf("%-20s %s\n", v.sgs[i].name, v.sgs[i].nrules ? "" : "(none: all ingress denied)");
		for (size_t j = 0; j < v.sgs[i].nrules; j++)
			printf("%-20s %s\n", "", sg_rule_format(&v.sgs[i].rules[j], rule, sizeof(rule)));
	}
	vpc_free(&v);
	return 0;
}

static int subnet_create_cmd(const struct cli_args *a, struct cl_error *err)
{
	if (ctl())
		return sdn_subnet_create(ctl(), a->pos[0], cli_str(a, "cidr", NULL), err);
	return vpc_subnet_create(root_of(a), a->pos[0], cli_str(a, "cidr", NULL), err);
}

static int sg_create_cmd(const struct cli_args *a, struct cl_error *err)
{
	if (ctl())
		return sdn_sg_create(ctl(), a->pos[0], err);
	return vpc_sg_create(root_of(a), a->pos[0], err);
}

static int sg_rule_add_cmd(const struct cli_args *a, struct cl_error *err)
{
	struct sg_rule rule;
	bool in = cli_flag(a, "ingress"), out = cli_flag(a, "egress");
	if (in == out)
		return cl_err(err, EINVAL, "sg rule add: give one of --ingress or --egress");
	int r = sg_rule_parse(in ? SG_INGRESS : SG_EGRESS, cli_str(a, "proto", NULL),
			      cli_str(a, "port", NULL), cli_str(a, "from", NULL), &rule, err);
	if (r < 0)
		return cl_err_wrap(err, "sg rule add %s", a->pos[0]);
	if (ctl())
		return sdn_sg_rule_add(ctl(), a->pos[0], &rule, err);
	return vpc_sg_rule_add(root_of(a), a->pos[0], &rule, err);
}

static int nat_enable_cmd(const struct cli_args *a, struct cl_error *err)
{
	return vpc_nat_enable(root_of(a), a->pos[0], cli_str(a, "uplink", NULL), err);
}

static int nat_disable_cmd(const struct cli_args *a, struct cl_error *err)
{
	return vpc_nat_disable(root_of(a), a->pos[0], err);
}

static const struct cli_opt vpc_cidr_opts[] = {
	{ "cidr", 0, CLI_STR, "CIDR", "address range, e.g. 10.20.0.0/16", true },
	{ 0 },
};
static const struct cli_opt vpc_rm_opts[] = {
	{ "force", 'f', CLI_FLAG, NULL, "detach and remove attachments too", false },
	{ 0 },
};
static const struct cli_opt vpc_rule_opts[] = {
	{ "ingress", 0, CLI_FLAG, NULL, "rule for incoming traffic", false },
	{ "egress", 0, CLI_FLAG, NULL, "rule for outgoing traffic", false },
	{ "proto", 0, CLI_STR, "PROTO", "tcp, udp, icmp or all", true },
	{ "port", 0, CLI_STR, "PORT[-PORT]", "destination port or range (tcp, udp)", false },
	{ "from", 0, CLI_STR, "CIDR|sg:NAME", "the peer: a block, or members of a group (default: anywhere)", false },
	{ 0 },
};
static const struct cli_opt vpc_nat_opts[] = {
	{ "uplink", 0, CLI_STR, "IFACE", "host interface to masquerade through (default: the default route's)", false },
	{ 0 },
};
static const struct cli_opt vpc_none[] = { { 0 } };

const struct cli_cmd cli_vpc_cmds[] = {
	{ "create", "NAME", "create a VPC", vpc_cidr_opts, 1, 1, false, vpc_create_cmd, NULL,
	  "A VPC is a network namespace of its own (ip netns list shows clvpc-...)\n"
	  "whose routing table is the router between its subnets. VPCs are isolated\n"
	  "from each other and may use the same CIDR. Each has a security group\n"
	  "'default' whose members may reach each other." },
	{ "ls", "", "list VPCs", vpc_none, 0, 0, false, vpc_ls_cmd, NULL, NULL },
	{ "show", "NAME", "show subnets, attachments and rules", vpc_none, 1, 1, false, vpc_show_cmd, NULL, NULL },
	{ "rm", "NAME", "remove a VPC", vpc_rm_opts, 1, 1, false, vpc_rm_cmd, NULL,
	  "Refuses while guests are attached, unless --force." },
	{ "subnet create", "VPC/SUBNET", "create a subnet (a bridge)", vpc_cidr_opts, 1, 1, false,
	  subnet_create_cmd, NULL,
	  "The subnet's first address is its gateway (on the bridge); the network and\n"
	  "broadcast addresses are reserved; guests get the rest, lowest first." },
	{ "sg create", "VPC/SG", "create a security group", vpc_none, 1, 1, false, sg_create_cmd, NULL,
	  "A new group allows no ingress and all egress. Guests join groups with\n"
	  "--sg on vm run / ct run (default: the VPC's 'default' group)." },
	{ "sg rule add", "VPC/SG", "add a rule to a security group", vpc_rule_opts, 1, 1, false,
	  sg_rule_add_cmd, NULL,
	  "Rules are stateful: replies to allowed flows pass. A guest's egress is\n"
	  "open until one of its groups has an egress rule." },
	{ "nat enable", "VPC", "give the VPC outbound access through a NAT gateway", vpc_nat_opts, 1, 1,
	  false, nat_enable_cmd, NULL,
	  "Masquerades the VPC's traffic out of the uplink of the namespace this\n"
	  "command runs in; nothing can connect in. Turns on IPv4 forwarding on the\n"
	  "uplink and on the transit link (net.ipv4.conf.IFACE.forwarding)." },
	{ "nat disable", "VPC", "remove the VPC's NAT gateway", vpc_none, 1, 1, false, nat_disable_cmd, NULL, NULL },
	{ 0 },
};
