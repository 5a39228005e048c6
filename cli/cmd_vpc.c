/* `cloudlet vpc`: the VPC network shared by VMs and containers (net/). */
#include "cli.h"

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
	{ "proto", 0, CLI_STR, "PROTO", "tcp, udp or icmp", true },
	{ "port", 0, CLI_STR, "PORT[-PORT]", "destination port or range", false },
	{ "from", 0, CLI_STR, "CIDR|sg:NAME", "allowed source", false },
	{ 0 },
};
static const struct cli_opt vpc_nat_opts[] = {
	{ "uplink", 0, CLI_STR, "IFACE", "host interface to masquerade through", false },
	{ 0 },
};
static const struct cli_opt vpc_none[] = { { 0 } };

const struct cli_cmd cli_vpc_cmds[] = {
	{ "create", "NAME", "create a VPC", vpc_cidr_opts, 1, 1, false, NULL, "#7", NULL },
	{ "ls", "", "list VPCs", vpc_none, 0, 0, false, NULL, "#7", NULL },
	{ "show", "NAME", "show subnets, attachments and rules", vpc_none, 1, 1, false, NULL, "#7", NULL },
	{ "rm", "NAME", "remove a VPC", vpc_rm_opts, 1, 1, false, NULL, "#7", NULL },
	{ "subnet create", "VPC/SUBNET", "create a subnet (a bridge)", vpc_cidr_opts, 1, 1, false, NULL, "#7", NULL },
	{ "sg create", "VPC/SG", "create a security group", vpc_none, 1, 1, false, NULL, "#7", NULL },
	{ "sg rule add", "VPC/SG", "add a rule to a security group", vpc_rule_opts, 1, 1, false, NULL, "#7", NULL },
	{ "nat enable", "VPC", "give the VPC outbound access through a NAT gateway", vpc_nat_opts, 1, 1, false, NULL, "#7", NULL },
	{ 0 },
};
