/* One host's data plane: the kernel seen as sdn items (observe) and
 * changed by one op at a time (apply), through net/'s netlink and nftables
 * helpers. The decisions are reconcile.c's; nothing here is flushed and
 * reinstalled, so an agent restart leaves established traffic alone. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../internal.h"
#include "dataplane.h"

struct nft_seen {
	char ns[NET_NAME_LEN + 32];
	char *script, *listing;
};

int dp_open(struct sdn_dp *dp, const char *cluster, const char *host, struct cl_error *err)
{
	char ns[NET_NAME_LEN + 32];
	int r;
	memset(dp, 0, sizeof(*dp));
	dp->host_ns = -1;
	snprintf(dp->cluster, sizeof(dp->cluster), "%s", cluster);
	snprintf(dp->host, sizeof(dp->host), "%s", host);
	sdn_host_netns(cluster, host, ns);
	/* a simulated host is its namespace; without one, the host is the
	 * machine the agent runs on, in the agent's own namespace (the agent
	 * checks this against the host's record) */
	dp->machine = !netns_exists(ns);
	r = dp->machine ? ((dp->host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0
				   ? cl_err_sys(err, errno, "/proc/self/ns/net") : 0)
			: netns_open(ns, &dp->host_ns, err);
	if (r < 0)
		return cl_err_wrap(err, "host %s", host);
	if ((r = nl_open(dp->host_ns, &dp->host_sk, err)) < 0) {
		close(dp->host_ns);
		dp->host_ns = -1;
	}
	return r;
}

int dp_has_addr(struct sdn_dp *dp, uint32_t ip)
{
	return addr_local(dp->host_sk, ip);
}

void dp_close(struct sdn_dp *dp)
{
	nl_close(dp->host_sk);
	if (dp->host_ns >= 0)
		close(dp->host_ns);
	for (size_t i = 0; i < dp->nseen; i++) {
		free(dp->seen[i].script);
		free(dp->seen[i].listing);
	}
	free(dp->seen);
	memset(dp, 0, sizeof(*dp));
	dp->host_ns = -1;
}

static struct nft_seen *seen_find(struct sdn_dp *dp, const char *ns)
{
	for (size_t i = 0; i < dp->nseen; i++)
		if (!strcmp(dp->seen[i].ns, ns))
			return &dp->seen[i];
	return NULL;
}

/* "clsv-CLUSTER-HOST-" and 8 hex digits: this host's VPC namespaces */
static bool ns_ours(const struct sdn_dp *dp, const char *name)
{
	char prefix[NET_NAME_LEN + 32];
	int n = snprintf(prefix, sizeof(prefix), "clsv-%s-%s-", dp->cluster, dp->host);
	if (strncmp(name, prefix, (size_t)n) || strlen(name + n) != 8)
		return false;
	return strspn(name + n, "0123456789abcdef") == 8;
}

/* a bridge answers ARP for the subnet's remote guests at once: proxy_arp
 * (ip-sysctl.rst: for addresses routed through another interface), with
 * no proxy_delay (which holds broadcast requests back up to 0.8 s) */
static const char *const proxy_keys[][2] = {
	{ "ipv4/conf/%s/proxy_arp", "1" },
	{ "ipv4/neigh/%s/proxy_delay", "0" },
};

static int proxy_arp_get(int fd, const char *br, bool *on, struct cl_error *err)
{
	char key[96], val[32];
	*on = true;
	for (size_t i = 0; i < sizeof(proxy_keys) / sizeof(proxy_keys[0]); i++) {
		snprintf(key, sizeof(key), proxy_keys[i][0], br);
		int r = netns_sysctl_get(fd, key, val, sizeof(val), err);
		if (r < 0)
			return r;
		*on &= !strcmp(val, proxy_keys[i][1]);
	}
	return 0;
}

static int proxy_arp_set(int fd, const char *br, struct cl_error *err)
{
	char key[96];
	for (size_t i = 0; i < sizeof(proxy_keys) / sizeof(proxy_keys[0]); i++) {
		snprintf(key, sizeof(key), proxy_keys[i][0], br);
		int r = netns_sysctl(fd, key, proxy_keys[i][1], err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* what hangs off a VXLAN device: FDB and neighbour entries, routes */
static int observe_vxlan(struct nl_sock *sk, const char *ns, const struct link_info *l, struct sdn_items *out,
			 struct cl_error *err)
{
	char key[SDN_KEY_MAX], val[128], ip[IP4_STR_MAX], gw[IP4_STR_MAX], mac[MAC_STR_MAX];
	struct fdb_entry *e = NULL;
	struct route_entry *rt = NULL;
	size_t m = 0;
	int r;
	if ((r = fdb_list(sk, l->ifindex, &e, &m, err)) < 0)
		return r;
	for (size_t k = 0; k < m && r == 0; k++) {
		snprintf(key, sizeof(key), "%s %s", l->name, net_mac_format(e[k].mac, mac));
		r = sdn_items_add(out, SDN_FDB, ns, key, ip4_format(e[k].ip, ip));
	}
	free(e);
	e = NULL;
	if (r < 0 || (r = neigh_list(sk, l->ifindex, &e, &m, err)) < 0)
		return r;
	for (size_t k = 0; k < m && r == 0; k++) {
		snprintf(key, sizeof(key), "%s %s", l->name, ip4_format(e[k].ip, ip));
		r = sdn_items_add(out, SDN_NEIGH, ns, key, net_mac_format(e[k].mac, mac));
	}
	free(e);
	if (r < 0 || (r = route_list(sk, l->ifindex, &rt, &m, err)) < 0)
		return r;
	for (size_t k = 0; k < m && r == 0; k++) {
		snprintf(key, sizeof(key), "%s/%u", ip4_format(rt[k].dst, ip), rt[k].prefix);
		if (rt[k].gw)
			snprintf(val, sizeof(val), "via %s dev %s%s", ip4_format(rt[k].gw, gw), l->name,
				 rt[k].onlink ? "" : " (not onlink)");
		else
			snprintf(val, sizeof(val), "dev %s", l->name);
		r = sdn_items_add(out, SDN_ROUTE, ns, key, val);
	}
	free(rt);
	return r;
}

static int observe_ns(struct sdn_dp *dp, const char *ns, struct sdn_items *out, struct cl_error *err)
{
	struct nl_sock *sk = NULL;
	struct link_info *ls = NULL;
	size_t n = 0;
	char val[256], ip[IP4_STR_MAX], mac[MAC_STR_MAX];
	int fd = -1, r;
	if ((r = sdn_items_add(out, SDN_NETNS, ns, "", "")) < 0)
		return cl_err(err, -r, "out of memory");
	if ((r = netns_open(ns, &fd, err)) < 0 || (r = nl_open(fd, &sk, err)) < 0 ||
	    (r = link_list(sk, &ls, &n, err)) < 0)
		goto out;
	for (size_t i = 0; i < n && r == 0; i++) {
		const struct link_info *l = &ls[i];
		if (!strncmp(l->name, "clbr-", 5) && !strcmp(l->kind, "bridge")) {
			bool proxy;
			if ((r = proxy_arp_get(fd, l->name, &proxy, err)) < 0)
				break;
			snprintf(val, sizeof(val), "%s/%u mac %s mtu %u%s", ip4_format(l->addr, ip), l->prefix,
				 net_mac_format(l->mac, mac), l->mtu, proxy ? " proxy-arp" : "");
			r = sdn_items_add(out, SDN_BRIDGE, ns, l->name, val);
		} else if (!strncmp(l->name, "clvx-", 5) && !strcmp(l->kind, "vxlan")) {
			/* a bridge port is not what the design has: changed */
			snprintf(val, sizeof(val), "vni %u local %s mac %s mtu %u%s%s", l->vni, ip4_format(l->local, ip),
				 net_mac_format(l->mac, mac), l->mtu, l->master[0] ? " master " : "", l->master);
			if ((r = sdn_items_add(out, SDN_VXLAN, ns, l->name, val)) == 0)
				r = observe_vxlan(sk, ns, l, out, err);
		} else if (!strncmp(l->name, "clvh-", 5) || !strncmp(l->name, "cltp-", 5)) {
			uint32_t mbit;
			if ((r = sdn_items_add(out, SDN_PORT, ns, l->name, l->master)) < 0 ||
			    (r = qos_get(sk, l->ifindex, &mbit, err)) < 0 || !mbit)
				continue;
			snprintf(val, sizeof(val), "tbf rate %umbit", mbit);
			r = sdn_items_add(out, SDN_QOS, ns, l->name, val);
		}
	}
	if (r < 0)
		goto out;
	/* the ruleset: what was applied, unless nft now lists something else
	 * (a rule deleted by hand), or unknown after an agent restart */
	char *listing = NULL;
	struct nft_seen *s = seen_find(dp, ns);
	if ((r = nft_list(fd, &listing, err)) < 0)
		goto out;
	r = sdn_items_add(out, SDN_NFT, ns, "ruleset",
			  s && s->listing && !strcmp(s->listing, listing) ? s->script : "");
	free(listing);
out:
	if (r < 0 && !err->code)
		cl_err(err, -r, "out of memory");
	free(ls);
	nl_close(sk);
	if (fd >= 0)
		close(fd);
	return r < 0 ? cl_err_wrap(err, "observe %s", ns) : 0;
}

int dp_observe(struct sdn_dp *dp, struct sdn_items *out, struct cl_error *err)
{
	memset(out, 0, sizeof(*out));
	DIR *d = opendir(NET_NETNS_DIR);
	if (!d)
		return errno == ENOENT ? 0 : cl_err_sys(err, errno, "%s", NET_NETNS_DIR);
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d)))
		if (ns_ours(dp, e->d_name))
			r = observe_ns(dp, e->d_name, out, err);
	closedir(d);
	if (r < 0)
		sdn_items_free(out);
	else
		sdn_items_sort(out);
	return r;
}

/* ---- apply ---- */

static int ns_new(const char *ns, struct cl_error *err)
{
	int fd, r;
	struct nl_sock *sk;
	if ((r = netns_create(ns, err)) < 0 && r != -EEXIST)
		return r;
	if ((r = netns_open(ns, &fd, err)) < 0)
		return r;
	/* the VPC router, with bridged IPv4 through the security groups */
	if ((r = netns_sysctl(fd, "ipv4/ip_forward", "1", err)) == 0 &&
	    (r = netns_sysctl(fd, "bridge/bridge-nf-call-iptables", "1", err)) == 0 &&
	    (r = nl_open(fd, &sk, err)) == 0) {
		r = link_set_up(sk, "lo", 0, err);
		nl_close(sk);
	}
	close(fd);
	return r;
}

static int mac_of(const char *s, uint8_t mac[6], struct cl_error *err)
{
	return net_mac_parse(s, mac, err);
}

static int apply_in(struct sdn_dp *dp, const struct sdn_op *op, int fd, struct nl_sock *sk,
		    struct cl_error *err)
{
	const struct sdn_item *it = op->item;
	bool del = op->type == SDN_OP_DEL;
	char a[64], b[64], c[64];
	unsigned x, y;
	uint32_t ip, ip2;
	uint8_t mac[6];
	int r;
	switch (it->kind) {
	case SDN_BRIDGE:
		if (op->type != SDN_OP_ADD && (r = link_del(sk, it->key, err)) < 0)
			return r;
		if (del)
			return 0;
		if (sscanf(it->value, "%63[^/]/%u mac %63s mtu %u", a, &x, b, &y) != 4 || ip4_parse(a, &ip, err) < 0 ||
		    mac_of(b, mac, err) < 0)
			return cl_err(err, EINVAL, "bridge %s: '%s'", it->key, it->value);
		if ((r = link_bridge_add(sk, it->key, y, mac, err)) < 0 ||
		    (r = addr_add(sk, it->key, ip, (uint8_t)x, err)) < 0 ||
		    (strstr(it->value, " proxy-arp") && (r = proxy_arp_set(fd, it->key, err)) < 0))
			return r;
		return link_set_up(sk, it->key, 0, err);
	case SDN_VXLAN:
		if (op->type != SDN_OP_ADD && (r = link_del(sk, it->key, err)) < 0)
			return r;
		if (del)
			return 0;
		if (sscanf(it->value, "vni %u local %63s mac %63s mtu %u", &x, a, b, &y) != 4 ||
		    ip4_parse(a, &ip, err) < 0 || mac_of(b, mac, err) < 0)
			return cl_err(err, EINVAL, "vxlan %s: '%s'", it->key, it->value);
		if ((r = link_vxlan_add(dp->host_sk, it->key, x, ip, fd, mac, y, err)) < 0)
			return r;
		return link_set_up(sk, it->key, 0, err);
	case SDN_PORT:
		if (del)
			return link_del(sk, it->key, err);
		/* the launcher makes the guest's port; a port left without its
		 * bridge (a bridge deleted and remade) is put back on it */
		if (!link_index(sk, it->key))
			return 0;
		if ((r = link_set_master(sk, it->key, it->value, err)) < 0)
			return r;
		return link_set_up(sk, it->key, 0, err);
	case SDN_QOS:
		if (del)
			return qos_del(sk, it->key, err);
		if (!link_index(sk, it->key))
			return 0;   /* the guest's port is not plugged yet */
		if (sscanf(it->value, "tbf rate %umbit", &x) != 1)
			return cl_err(err, EINVAL, "qos %s: '%s'", it->key, it->value);
		return qos_set(sk, it->key, x, err);
	case SDN_FDB:
		if (sscanf(it->key, "%63s %63s", a, b) != 2 || mac_of(b, mac, err) < 0)
			return cl_err(err, EINVAL, "fdb '%s'", it->key);
		if (del)
			return fdb_del(sk, a, mac, err);
		if (ip4_parse(it->value, &ip2, err) < 0)
			return r = -EINVAL;
		return fdb_set(sk, a, mac, ip2, err);
	case SDN_NEIGH:
		if (sscanf(it->key, "%63s %63s", a, c) != 2 || ip4_parse(c, &ip, err) < 0)
			return cl_err(err, EINVAL, "neigh '%s'", it->key);
		if (del)
			return neigh_del(sk, a, ip, err);
		if (mac_of(it->value, mac, err) < 0)
			return -EINVAL;
		return neigh_set(sk, a, ip, mac, err);
	case SDN_ROUTE:
		/* "IP/PREFIX" = "[via GW] dev DEV" */
		if (sscanf(it->key, "%63[^/]/%u", c, &x) != 2 || ip4_parse(c, &ip, err) < 0 || x > 32)
			return cl_err(err, EINVAL, "route '%s'", it->key);
		ip2 = 0;
		if (sscanf(it->value, "via %63s dev %63s", a, b) == 2) {
			if (ip4_parse(a, &ip2, err) < 0)
				return -EINVAL;
		} else if (sscanf(it->value, "dev %63s", b) != 1) {
			return cl_err(err, EINVAL, "route %s: '%s'", it->key, it->value);
		}
		if (del)
			return route_del(sk, ip, (uint8_t)x, ip2, b, err);
		if (!ip2)
			return cl_err(err, EINVAL, "route %s: '%s': no next hop", it->key, it->value);
		return route_set_onlink(sk, ip, (uint8_t)x, ip2, b, err);
	case SDN_NFT: {
		char *listing = NULL;
		if ((r = nft_apply(fd, del ? "flush ruleset" : it->value, err)) < 0 ||
		    (r = nft_list(fd, &listing, err)) < 0)
			return r;
		struct nft_seen *s = seen_find(dp, it->ns);
		if (!s) {
			struct nft_seen *g = realloc(dp->seen, (dp->nseen + 1) * sizeof(*g));
			if (!g) {
				free(listing);
				return cl_err(err, ENOMEM, "out of memory");
			}
			dp->seen = g;
			s = &g[dp->nseen++];
			memset(s, 0, sizeof(*s));
			snprintf(s->ns, sizeof(s->ns), "%s", it->ns);
		}
		free(s->script);
		free(s->listing);
		s->script = strdup(del ? "" : it->value);
		s->listing = listing;
		return s->script ? 0 : cl_err(err, ENOMEM, "out of memory");
	}
	default:
		return cl_err(err, EINVAL, "op on %s", sdn_kind_name(it->kind));
	}
}

int dp_apply(struct sdn_dp *dp, const struct sdn_op *op, struct cl_error *err)
{
	const struct sdn_item *it = op->item;
	struct nl_sock *sk = NULL;
	int fd = -1, r;
	if (it->kind == SDN_NETNS) {
		if (op->type == SDN_OP_DEL) {
			struct nft_seen *s = seen_find(dp, it->ns);
			if (s) {
				free(s->script);
				free(s->listing);
				*s = dp->seen[--dp->nseen];
			}
			return netns_delete(it->ns, err);
		}
		return ns_new(it->ns, err);
	}
	if ((r = netns_open(it->ns, &fd, err)) == 0 && (r = nl_open(fd, &sk, err)) == 0)
		r = apply_in(dp, op, fd, sk, err);
	nl_close(sk);
	if (fd >= 0)
		close(fd);
	return r;
}
