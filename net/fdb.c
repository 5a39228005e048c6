/* Static FDB and neighbour entries through libnl-route-3: what the overlay's
 * agents install so that no MAC is learned and no ARP crosses hosts
 * (`bridge fdb ... self permanent`, `ip neigh ... nud permanent`).
 * See net/internal.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <netlink/errno.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static struct nl_addr *v4(uint32_t ip)
{
	uint32_t be = htonl(ip);
	return nl_addr_build(AF_INET, &be, 4);
}

/* one entry: family AF_BRIDGE (FDB, dst = the remote VTEP) or AF_INET */
static int entry(struct nl_sock *sk, bool add, int family, const char *dev, const uint8_t *mac,
		 uint32_t ip, struct cl_error *err)
{
	char what[64], b[MAC_STR_MAX];
	int idx = link_index(sk, dev), r = -NLE_NOMEM;
	if (!idx)
		return cl_err(err, ENODEV, "%s: no such link", dev);
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	struct nl_addr *ll = mac ? nl_addr_build(AF_LLC, mac, 6) : NULL, *dst = ip ? v4(ip) : NULL;
	if (!n || (mac && !ll) || (ip && !dst))
		goto out;
	rtnl_neigh_set_ifindex(n, idx);
	if (dst && family != AF_BRIDGE)
		rtnl_neigh_set_dst(n, dst);
	rtnl_neigh_set_family(n, family);
	if (ll)
		rtnl_neigh_set_lladdr(n, ll);
	rtnl_neigh_set_state(n, NUD_PERMANENT);
	if (family == AF_BRIDGE)
		rtnl_neigh_set_flags(n, NTF_SELF);
	if (family != AF_BRIDGE || !add || !dst) {
		r = add ? rtnl_neigh_add(sk, n, NLM_F_CREATE | NLM_F_REPLACE) : rtnl_neigh_delete(sk, n, 0);
		goto out;
	}
	/* libnl 3.7 leaves NDA_DST out of AF_BRIDGE requests, and a VXLAN FDB
	 * entry needs it (the remote VTEP): its request plus that attribute,
	 * through libnl's own message API */
	struct nl_msg *msg = NULL;
	if ((r = rtnl_neigh_build_add_request(n, NLM_F_CREATE | NLM_F_REPLACE, &msg)) < 0)
		goto out;
	if ((r = nla_put_addr(msg, NDA_DST, dst)) == 0 && (r = nl_send_auto_complete(sk, msg)) >= 0)
		r = nl_wait_for_ack(sk);
	nlmsg_free(msg);
out:
	nl_addr_put(ll);
	nl_addr_put(dst);
	if (n)
		rtnl_neigh_put(n);
	if (r < 0 && !add && (r == -NLE_OBJ_NOTFOUND || r == -NLE_NOADDR))
		r = 0;  /* already gone */
	if (r < 0) {
		snprintf(what, sizeof(what), "%s %s", family == AF_BRIDGE ? "fdb" : "neigh",
			 mac ? net_mac_format(mac, b) : "");
		return cl_err(err, EIO, "%s on %s: %s", what, dev, nl_geterror(r));
	}
	return 0;
}

int fdb_set(struct nl_sock *sk, const char *dev, const uint8_t mac[6], uint32_t dst, struct cl_error *err)
{
	return entry(sk, true, AF_BRIDGE, dev, mac, dst, err);
}

int fdb_del(struct nl_sock *sk, const char *dev, const uint8_t mac[6], struct cl_error *err)
{
	return entry(sk, false, AF_BRIDGE, dev, mac, 0, err);
}

int neigh_set(struct nl_sock *sk, const char *dev, uint32_t ip, const uint8_t mac[6], struct cl_error *err)
{
	return entry(sk, true, AF_INET, dev, mac, ip, err);
}

int neigh_del(struct nl_sock *sk, const char *dev, uint32_t ip, struct cl_error *err)
{
	return entry(sk, false, AF_INET, dev, NULL, ip, err);
}

static int entries(struct nl_sock *sk, int family, int ifindex, struct fdb_entry **out, size_t *n,
		   struct cl_error *err)
{
	struct nl_cache *c = NULL;
	*out = NULL;
	*n = 0;
	/* NL_CACHE_AF_ITER: one dump per family, AF_BRIDGE's being the FDB */
	int r = rtnl_neigh_alloc_cache_flags(sk, &c, NL_CACHE_AF_ITER);
	if (r < 0)
		return cl_err(err, EIO, "list neighbours: %s", nl_geterror(r));
	for (struct nl_object *o = nl_cache_get_first(c); o; o = nl_cache_get_next(o)) {
		struct rtnl_neigh *e = (struct rtnl_neigh *)o;
		struct nl_addr *ll = rtnl_neigh_get_lladdr(e), *dst = rtnl_neigh_get_dst(e);
		if (rtnl_neigh_get_family(e) != family || rtnl_neigh_get_ifindex(e) != ifindex ||
		    !(rtnl_neigh_get_state(e) & NUD_PERMANENT) || !ll || nl_addr_get_len(ll) != 6 ||
		    !dst || nl_addr_get_family(dst) != AF_INET)
			continue;
		struct fdb_entry *g = realloc(*out, (*n + 1) * sizeof(*g));
		if (!g) {
			r = cl_err(err, ENOMEM, "out of memory");
			break;
		}
		*out = g;
		uint32_t be;
		memcpy(g[*n].mac, nl_addr_get_binary_addr(ll), 6);
		memcpy(&be, nl_addr_get_binary_addr(dst), 4);
		g[(*n)++].ip = ntohl(be);
	}
	nl_cache_free(c);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return r < 0 ? r : 0;
}

int fdb_list(struct nl_sock *sk, int ifindex, struct fdb_entry **out, size_t *n, struct cl_error *err)
{
	return entries(sk, AF_BRIDGE, ifindex, out, n, err);
}

int neigh_list(struct nl_sock *sk, int ifindex, struct fdb_entry **out, size_t *n, struct cl_error *err)
{
	return entries(sk, AF_INET, ifindex, out, n, err);
}
