/* What one host's data plane must hold, a pure function of the desired
 * state (no kernel): the input of sdn_reconcile. See include/cloudlet/sdn.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/sdn.h"

static bool vpc_on_host(const struct vpc *v, const char *host)
{
	for (size_t i = 0; i < v->natts; i++)
		if (!strcmp(v->atts[i].host, host))
			return true;
	return false;
}

/* does an attachment before k live on `host` (which then has its FDB and
 * neighbour entry already: one per remote host)? */
static bool host_seen_before(const struct vpc *v, size_t k, const char *host)
{
	for (size_t i = 0; i < k; i++)
		if (!strcmp(v->atts[i].host, host))
			return true;
	return false;
}

/* EVPN's symmetric IRB without BGP (RFC 9135, the controller in place of
 * the route exchange): a guest on another host is
 * a /32 route to that host's VTEP over the VPC's VXLAN device; the VTEP's
 * address resolves to its router MAC (a neighbour entry), the router MAC
 * to the VTEP (an FDB entry). Nothing is flooded or learned. */
static int remote_items(const struct sdn_vpc *sv, size_t k, const struct sdn_host *h, const char *ns,
			const char *vx, struct sdn_items *out)
{
	const struct vpc *v = &sv->v;
	const struct vpc_att *a = &v->atts[k];
	char key[SDN_KEY_MAX], val[128], ip[IP4_STR_MAX], vtep[IP4_STR_MAX], mac[MAC_STR_MAX];
	uint8_t rmac[6];
	int r;
	ip4_format(h->underlay, vtep);
	if (!host_seen_before(v, k, a->host)) {
		sdn_router_mac(v->name, h->name, rmac);
		net_mac_format(rmac, mac);
		snprintf(key, sizeof(key), "%s %s", vx, mac);
		if ((r = sdn_items_add(out, SDN_FDB, ns, key, vtep)) < 0)
			return r;
		snprintf(key, sizeof(key), "%s %s", vx, vtep);
		if ((r = sdn_items_add(out, SDN_NEIGH, ns, key, mac)) < 0)
			return r;
	}
	snprintf(key, sizeof(key), "%s/32", ip4_format(a->ip, ip));
	snprintf(val, sizeof(val), "via %s dev %s", vtep, vx);
	return sdn_items_add(out, SDN_ROUTE, ns, key, val);
}

static int vpc_items(const struct sdn_state *s, const struct sdn_vpc *sv, const char *cluster,
		     const struct sdn_host *self, struct sdn_items *out)
{
	const struct vpc *v = &sv->v;
	char ns[NET_NAME_LEN + 32], br[NET_IFNAMSIZ], vx[NET_IFNAMSIZ], val[256];
	char ip[IP4_STR_MAX], mac[MAC_STR_MAX];
	uint8_t m[6];
	int r;
	sdn_vpc_netns(cluster, self->name, v->name, ns);
	sdn_vxlan_name(v->name, vx);
	if ((r = sdn_items_add(out, SDN_NETNS, ns, "", "")) < 0)
		return r;
	/* every subnet's gateway on every host of the VPC (an anycast
	 * gateway), answering ARP for the subnet's guests elsewhere, whose
	 * routes leave through the VXLAN device */
	for (size_t i = 0; i < v->nsubnets; i++) {
		const struct net_subnet *sn = &v->subnets[i];
		net_ifname(NET_IF_BRIDGE, v->name, sn->name, NULL, NULL, br);
		sdn_gateway_mac(v->name, sn->name, m);
		snprintf(val, sizeof(val), "%s/%u mac %s mtu %u proxy-arp", ip4_format(ipam_gateway(&sn->cidr), ip),
			 sn->cidr.prefix, net_mac_format(m, mac), SDN_GUEST_MTU);
		if ((r = sdn_items_add(out, SDN_BRIDGE, ns, br, val)) < 0)
			return r;
	}
	sdn_router_mac(v->name, self->name, m);
	snprintf(val, sizeof(val), "vni %u local %s mac %s mtu %u", sv->vni, ip4_format(self->underlay, ip),
		 net_mac_format(m, mac), SDN_GUEST_MTU);
	if ((r = sdn_items_add(out, SDN_VXLAN, ns, vx, val)) < 0)
		return r;
	/* the firewall sees every guest of the VPC (members of groups on other
	 * hosts are peers in rules); guests of removed hosts are gone */
	struct vpc fw = *v;
	if (v->natts && !(fw.atts = calloc(v->natts, sizeof(*fw.atts))))
		return -ENOMEM;
	fw.natts = 0;
	for (size_t i = 0; i < v->natts && r == 0; i++) {
		const struct vpc_att *a = &v->atts[i];
		const struct sdn_host *h = sdn_host_find(s, a->host);
		if (!h)
			continue;
		fw.atts[fw.natts++] = *a;
		if (h != self) {
			r = remote_items(sv, i, h, ns, vx, out);
			continue;
		}
		net_ifname(NET_IF_BRIDGE, v->name, a->subnet, NULL, NULL, br);
		r = sdn_items_add(out, SDN_PORT, ns, a->ifname, br);
		if (r == 0 && a->rate_mbit) {
			snprintf(val, sizeof(val), "tbf rate %umbit", a->rate_mbit);
			r = sdn_items_add(out, SDN_QOS, ns, a->ifname, val);
		}
	}
	if (r == 0) {
		char *script = vpc_fw_render(&fw);
		r = script ? sdn_items_add(out, SDN_NFT, ns, "ruleset", script) : -ENOMEM;
		free(script);
	}
	free(fw.atts);
	return r;
}

int sdn_desired(const struct sdn_state *s, const char *cluster, const char *host,
		struct sdn_items *out, struct cl_error *err)
{
	const struct sdn_host *self = sdn_host_find(s, host);
	int r = 0;
	memset(out, 0, sizeof(*out));
	if (!self)
		return cl_err(err, ENOENT, "host %s: no such host", host);
	for (size_t i = 0; i < s->nvpcs && r == 0; i++)
		if (vpc_on_host(&s->vpcs[i].v, host))
			r = vpc_items(s, &s->vpcs[i], cluster, self, out);
	if (r < 0) {
		sdn_items_free(out);
		return cl_err(err, -r, "host %s: desired state: %s", host, r == -ENOMEM ? "out of memory" : "name too long");
	}
	sdn_items_sort(out);
	return 0;
}
