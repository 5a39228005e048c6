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

static int vpc_items(const struct sdn_state *s, const struct sdn_vpc *sv, const char *cluster,
		     const struct sdn_host *self, struct sdn_items *out)
{
	const struct vpc *v = &sv->v;
	char ns[NET_NAME_LEN + 32], br[NET_IFNAMSIZ], vx[NET_IFNAMSIZ], val[256], key[SDN_KEY_MAX];
	char ip[IP4_STR_MAX], mac[MAC_STR_MAX];
	int r;
	sdn_vpc_netns(cluster, self->name, v->name, ns);
	if ((r = sdn_items_add(out, SDN_NETNS, ns, "", "")) < 0)
		return r;
	for (size_t i = 0; i < v->nsubnets; i++) {
		const struct net_subnet *sn = &v->subnets[i];
		net_ifname(NET_IF_BRIDGE, v->name, sn->name, NULL, NULL, br);
		sdn_vxlan_name(v->name, sn->name, vx);
		snprintf(val, sizeof(val), "%s/%u mtu %u", ip4_format(ipam_gateway(&sn->cidr), ip),
			 sn->cidr.prefix, SDN_GUEST_MTU);
		if ((r = sdn_items_add(out, SDN_BRIDGE, ns, br, val)) < 0)
			return r;
		snprintf(val, sizeof(val), "vni %u local %s bridge %s mtu %u", sv->vnis[i],
			 ip4_format(self->underlay, ip), br, SDN_GUEST_MTU);
		if ((r = sdn_items_add(out, SDN_VXLAN, ns, vx, val)) < 0)
			return r;
	}
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
		net_ifname(NET_IF_BRIDGE, v->name, a->subnet, NULL, NULL, br);
		if (h == self) {
			r = sdn_items_add(out, SDN_PORT, ns, a->ifname, br);
			if (r == 0 && a->rate_mbit) {
				snprintf(val, sizeof(val), "tbf rate %umbit", a->rate_mbit);
				r = sdn_items_add(out, SDN_QOS, ns, a->ifname, val);
			}
			continue;
		}
		/* EVPN's idea without BGP: the controller knows where each MAC
		 * and IP lives, so nothing is flooded or learned */
		sdn_vxlan_name(v->name, a->subnet, vx);
		snprintf(key, sizeof(key), "%s %s", vx, net_mac_format(a->mac, mac));
		if ((r = sdn_items_add(out, SDN_FDB, ns, key, ip4_format(h->underlay, ip))) < 0)
			break;
		snprintf(key, sizeof(key), "%s %s", vx, ip4_format(a->ip, ip));
		r = sdn_items_add(out, SDN_NEIGH, ns, key, mac);
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
