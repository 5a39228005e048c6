/* Security groups and the NAT gateway as nftables scripts: pure functions
 * of the VPC record (unit-tested), applied by vpc.c through libnftables.
 *
 * Why these hooks: guests of one subnet talk across a Linux bridge, which
 * the inet family does not see unless br_netfilter passes bridged IPv4
 * through it (net.bridge.bridge-nf-call-iptables, per namespace since
 * Linux 5.3); then one forward chain, with conntrack, covers bridged and
 * routed traffic alike. Rules match the attachment's address, and table
 * bridge cloudlet drops frames whose source MAC/IP is not the port's own
 * lease, so an address cannot be borrowed to get past a rule. */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/parse.h"
#include "internal.h"

int net_ref_parse(const char *ref, char vpc[NET_NAME_LEN + 1], char name[NET_NAME_LEN + 1],
		  struct cl_error *err)
{
	const char *slash = ref ? strchr(ref, '/') : NULL;
	if (!slash || strchr(slash + 1, '/'))
		return cl_err(err, EINVAL, "'%.80s': expected VPC/NAME", ref ? ref : "");
	size_t n = (size_t)(slash - ref);
	char v[NET_NAME_LEN + 2];
	if (n > NET_NAME_LEN)
		return cl_err(err, ENAMETOOLONG, "'%.80s': the VPC name is longer than %d characters",
			      ref, NET_NAME_LEN);
	memcpy(v, ref, n);
	v[n] = '\0';
	int r;
	if ((r = net_name_check("vpc", v, err)) < 0 || (r = net_name_check("name", slash + 1, err)) < 0)
		return r;
	memcpy(vpc, v, n + 1);
	snprintf(name, NET_NAME_LEN + 1, "%s", slash + 1);
	return 0;
}

static int port_parse(const char *s, uint16_t *out, struct cl_error *err)
{
	uint64_t v;
	if (cl_parse_uint(s, 1, 65535, &v, err) < 0)
		return cl_err(err, EINVAL, "port '%.20s': expected 1..65535", s);
	*out = (uint16_t)v;
	return 0;
}

int sg_rule_parse(enum sg_dir dir, const char *proto, const char *port, const char *from,
		  struct sg_rule *out, struct cl_error *err)
{
	struct sg_rule r = { .dir = dir };
	static const struct { const char *name; uint8_t num; } protos[] = {
		{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { "icmp", IPPROTO_ICMP }, { "all", 0 },
	};
	size_t i;
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (proto && !strcmp(proto, protos[i].name))
			break;
	if (i == sizeof(protos) / sizeof(protos[0]))
		return cl_err(err, EINVAL, "protocol '%.20s': expected tcp, udp, icmp or all",
			      proto ? proto : "");
	r.proto = protos[i].num;
	if (port) {
		if (r.proto != IPPROTO_TCP && r.proto != IPPROTO_UDP)
			return cl_err(err, EINVAL, "--port needs --proto tcp or udp");
		char lo[8] = "", *dash = strchr(port, '-');
		size_t n = dash ? (size_t)(dash - port) : strlen(port);
		if (n == 0 || n >= sizeof(lo))
			return cl_err(err, EINVAL, "port '%.20s': expected N or N-M", port);
		memcpy(lo, port, n);
		if (port_parse(lo, &r.port_lo, err) < 0 ||
		    port_parse(dash ? dash + 1 : lo, &r.port_hi, err) < 0)
			return -EINVAL;
		if (r.port_hi < r.port_lo)
			return cl_err(err, EINVAL, "port range '%.20s' is backwards", port);
	}
	if (from && !strncmp(from, "sg:", 3)) {
		int e = net_name_check("security group", from + 3, err);
		if (e < 0)
			return e;
		r.from_sg = true;
		snprintf(r.sg, sizeof(r.sg), "%s", from + 3);
	} else if (from) {
		int e = cidr_parse(from, &r.peer, err);
		if (e < 0)
			return e;
	}
	*out = r;
	return 0;
}

char *sg_rule_format(const struct sg_rule *r, char *buf, size_t len)
{
	char ports[16] = "", peer[CIDR_STR_MAX + NET_NAME_LEN + 4];
	if (r->port_lo && r->port_lo != r->port_hi)
		snprintf(ports, sizeof(ports), " %u-%u", r->port_lo, r->port_hi);
	else if (r->port_lo)
		snprintf(ports, sizeof(ports), " %u", r->port_lo);
	if (r->from_sg)
		snprintf(peer, sizeof(peer), "sg:%s", r->sg);
	else
		cidr_format(&r->peer, peer);
	snprintf(buf, len, "%s %s%s %s %s", r->dir == SG_INGRESS ? "ingress" : "egress",
		 r->proto == IPPROTO_TCP ? "tcp" : r->proto == IPPROTO_UDP ? "udp"
		 : r->proto == IPPROTO_ICMP ? "icmp" : "all", ports,
		 r->dir == SG_INGRESS ? "from" : "to", peer);
	return buf;
}

int net_transit_pick(const uint32_t *used, size_t n, uint32_t *out)
{
	struct cidr pool;
	if (cidr_parse(NET_TRANSIT_POOL, &pool, NULL) < 0)
		return -EINVAL;
	for (uint64_t b = pool.addr; b + 3 <= cidr_broadcast(&pool); b += 4) {
		size_t i;
		for (i = 0; i < n && used[i] != (uint32_t)b; i++)
			;
		if (i == n) {
			*out = (uint32_t)b;
			return 0;
		}
	}
	return -ENOSPC;
}

/* ---- a growing script ---- */

struct sb {
	char *p;
	size_t len, cap;
	bool oom;
};

__attribute__((format(printf, 2, 3))) static void sb_add(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		if (b->oom)
			return;
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap + (size_t)n + 1) * 2;
		char *q = realloc(b->p, cap);
		if (!q) {
			b->oom = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
}

static char *sb_done(struct sb *b)
{
	if (b->oom) {
		free(b->p);
		return NULL;
	}
	return b->p;
}

/* "table F N" then "delete table F N": the pair removes it whether or not
 * it existed, inside the batch that then adds the new one */
static void table_reset(struct sb *b, const char *family, const char *name)
{
	sb_add(b, "table %s %s\ndelete table %s %s\n", family, name, family, name);
}

static size_t sg_index(const struct vpc *v, const char *name)
{
	for (size_t i = 0; i < v->nsgs; i++)
		if (!strcmp(v->sgs[i].name, name))
			return i;
	return (size_t)-1;
}

/* the match part of a rule ("ip saddr 10.0.0.0/8 tcp dport 80-90") */
static void rule_match(struct sb *b, const struct vpc *v, const struct sg_rule *r)
{
	char c[CIDR_STR_MAX];
	const char *peer = r->dir == SG_INGRESS ? "saddr" : "daddr";
	if (r->from_sg)
		sb_add(b, "ip %s @m_%zu ", peer, sg_index(v, r->sg));
	else if (r->peer.prefix)
		sb_add(b, "ip %s %s ", peer, cidr_format(&r->peer, c));
	const char *l4 = r->proto == IPPROTO_TCP ? "tcp" : r->proto == IPPROTO_UDP ? "udp" : NULL;
	if (l4 && r->port_lo == r->port_hi && r->port_lo)
		sb_add(b, "%s dport %u ", l4, r->port_lo);
	else if (l4 && r->port_lo)
		sb_add(b, "%s dport %u-%u ", l4, r->port_lo, r->port_hi);
	else if (r->proto)
		sb_add(b, "ip protocol %s ", l4 ? l4 : "icmp");
}

/* one chain per attachment and direction: its groups' rules flattened, so
 * that egress can `return` to the forward chain (ingress is still to be
 * judged there) and ingress can end in a drop */
static void att_chains(struct sb *b, const struct vpc *v, size_t k)
{
	const struct vpc_att *a = &v->atts[k];
	for (int dir = SG_INGRESS; dir <= SG_EGRESS; dir++) {
		bool any = false;
		for (size_t g = 0; g < a->nsgs; g++) {
			const struct vpc_sg *sg = vpc_sg_find(v, a->sgs[g]);
			for (size_t j = 0; sg && j < sg->nrules; j++)
				any |= sg->rules[j].dir == (enum sg_dir)dir;
		}
		/* AWS semantics: egress open until a group says otherwise */
		if (dir == SG_EGRESS && !any)
			continue;
		sb_add(b, "\tchain %s_%zu {\n", dir == SG_INGRESS ? "in" : "out", k);
		for (size_t g = 0; g < a->nsgs; g++) {
			const struct vpc_sg *sg = vpc_sg_find(v, a->sgs[g]);
			for (size_t j = 0; sg && j < sg->nrules; j++) {
				if (sg->rules[j].dir != (enum sg_dir)dir)
					continue;
				sb_add(b, "\t\t");
				rule_match(b, v, &sg->rules[j]);
				sb_add(b, "%s comment \"sg %s\"\n", dir == SG_INGRESS ? "accept" : "return",
				       sg->name);
			}
		}
		sb_add(b, "\t\tdrop comment \"%s %s: not allowed\"\n\t}\n", a->kind, a->id);
	}
}

static bool has_egress(const struct vpc *v, const struct vpc_att *a)
{
	for (size_t g = 0; g < a->nsgs; g++) {
		const struct vpc_sg *sg = vpc_sg_find(v, a->sgs[g]);
		for (size_t j = 0; sg && j < sg->nrules; j++)
			if (sg->rules[j].dir == SG_EGRESS)
				return true;
	}
	return false;
}

static void table_sg(struct sb *b, const struct vpc *v)
{
	char ip[IP4_STR_MAX];
	sb_add(b, "table inet cloudlet {\n");
	for (size_t g = 0; g < v->nsgs; g++) {
		sb_add(b, "\tset m_%zu {\n\t\ttype ipv4_addr\n\t\tcomment \"members of %s\"\n", g,
		       v->sgs[g].name);
		bool first = true;
		for (size_t k = 0; k < v->natts; k++)
			for (size_t j = 0; j < v->atts[k].nsgs; j++)
				if (!strcmp(v->atts[k].sgs[j], v->sgs[g].name)) {
					sb_add(b, "%s%s", first ? "\t\telements = { " : ", ",
					       ip4_format(v->atts[k].ip, ip));
					first = false;
				}
		sb_add(b, "%s\t}\n", first ? "" : " }\n");
	}
	for (size_t k = 0; k < v->natts; k++)
		att_chains(b, v, k);
	/* forward: guest <-> guest (bridged or routed) and guest <-> NAT;
	 * output: from the VPC router itself (its gateway addresses) */
	static const char *const hooks[] = { "forward", "output" };
	for (int h = 0; h < 2; h++) {
		sb_add(b, "\tchain %s {\n\t\ttype filter hook %s priority filter; policy accept;\n"
			  "\t\tct state established,related accept\n\t\tct state invalid drop\n",
		       hooks[h], hooks[h]);
		for (size_t k = 0; h == 0 && k < v->natts; k++)
			if (has_egress(v, &v->atts[k]))
				sb_add(b, "\t\tip saddr %s jump out_%zu\n", ip4_format(v->atts[k].ip, ip), k);
		for (size_t k = 0; k < v->natts; k++)
			sb_add(b, "\t\tip daddr %s jump in_%zu\n", ip4_format(v->atts[k].ip, ip), k);
		/* guests speak IPv4 only; nothing v6 reaches one unfiltered */
		if (h == 0)
			sb_add(b, "\t\tmeta nfproto ipv6 drop\n");
		sb_add(b, "\t}\n");
	}
	sb_add(b, "}\n");
}

static void table_spoof(struct sb *b, const struct vpc *v)
{
	char ip[IP4_STR_MAX], mac[MAC_STR_MAX];
	sb_add(b, "table bridge cloudlet {\n");
	for (size_t k = 0; k < v->natts; k++) {
		const struct vpc_att *a = &v->atts[k];
		sb_add(b, "\tchain port_%zu {\n\t\tether saddr != %s drop\n"
			  "\t\tether type ip ip saddr != %s drop\n"
			  "\t\tether type arp arp saddr ip != %s drop\n",
		       k, net_mac_format(a->mac, mac), ip4_format(a->ip, ip), ip);
		/* --rate, the guest's own traffic: policed where it enters the
		 * bridge (its port's prerouting), as the tbf on the port shapes
		 * what goes to it; burst as the tbf's: 10 ms, at least 32 KiB */
		if (a->rate_mbit) {
			uint64_t kbytes = (uint64_t)a->rate_mbit * 125;
			sb_add(b, "\t\tlimit rate over %llu kbytes/second burst %llu kbytes drop comment \"--rate\"\n",
			       (unsigned long long)kbytes, (unsigned long long)(kbytes / 100 > 32 ? kbytes / 100 : 32));
		}
		sb_add(b, "\t}\n");
	}
	sb_add(b, "\tchain prerouting {\n\t\ttype filter hook prerouting priority filter; policy accept;\n");
	for (size_t k = 0; k < v->natts; k++)
		sb_add(b, "\t\tiifname \"%s\" jump port_%zu\n", v->atts[k].ifname, k);
	sb_add(b, "\t}\n}\n");
}

static void table_nat(struct sb *b)
{
	sb_add(b, "table ip cloudlet_nat {\n"
		  "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		  "\t\toifname \"%s\" masquerade\n\t}\n"
		  "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n"
		  "\t\tiifname \"%s\" ct state established,related accept\n"
		  "\t\tiifname \"%s\" drop comment \"no inbound through the NAT gateway\"\n\t}\n}\n",
	       NAT_VPC_IF, NAT_VPC_IF, NAT_VPC_IF);
}

char *vpc_fw_render(const struct vpc *v)
{
	struct sb b = { 0 };
	table_reset(&b, "inet", "cloudlet");
	table_reset(&b, "bridge", "cloudlet");
	table_reset(&b, "ip", "cloudlet_nat");
	table_sg(&b, v);
	table_spoof(&b, v);
	if (v->nat)
		table_nat(&b);
	return sb_done(&b);
}

char *vpc_nat_host_render(const struct vpc *v, const char *table)
{
	char ip[IP4_STR_MAX], hostif[NET_IFNAMSIZ];
	struct sb b = { 0 };
	table_reset(&b, "ip", table);
	if (v->nat) {
		net_ifname(NET_IF_NAT_HOST, v->name, v->netns, NULL, NULL, hostif);
		sb_add(&b, "table ip %s {\n"
			   "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
			   "\t\tip saddr %s oifname \"%s\" masquerade\n\t}\n"
			   "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n"
			   "\t\tiifname \"%s\" oifname \"%s\" ct state established,related accept\n"
			   "\t\tiifname \"%s\" oifname \"%s\" drop\n\t}\n}\n",
		       table, ip4_format(v->transit + 2, ip), v->uplink, v->uplink, hostif, v->uplink,
		       hostif);
	}
	return sb_done(&b);
}
