/* Links, addresses and routes over rtnetlink, through libnl-route-3 (a
 * well-kept library: no hand-built netlink messages here). Every call takes
 * a socket bound to one namespace (nl_open), so "which namespace" is never
 * implicit. See net/internal.h. */
#include <errno.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vxlan.h>
#include <stdlib.h>
#include <netlink/route/route.h>
#include <string.h>

#include "internal.h"

/* libnl reports NLE_* codes; the library's convention is -errno */
static int nle_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_EXIST: return EEXIST;
	case NLE_NODEV: case NLE_OBJ_NOTFOUND: return ENODEV;
	case NLE_PERM: return EPERM;
	case NLE_BUSY: return EBUSY;
	case NLE_NOMEM: return ENOMEM;
	case NLE_INVAL: case NLE_RANGE: return EINVAL;
	case NLE_OPNOTSUPP: return EOPNOTSUPP;
	case NLE_NOADDR: return EADDRNOTAVAIL;
	default: return EIO;
	}
}

static int nl_fail(struct cl_error *err, int nle, const char *what, const char *name)
{
	int e = nle_errno(nle);
	if (e == EPERM)
		return cl_err(err, e, "%s %s: operation not permitted (needs CAP_NET_ADMIN)", what, name);
	return cl_err(err, e, "%s %s: %s", what, name, nl_geterror(nle));
}

int nl_open(int ns, struct nl_sock **out, struct cl_error *err)
{
	int saved = -1, r;
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk)
		return cl_err(err, ENOMEM, "netlink: out of memory");
	/* a netlink socket belongs to the namespace it was made in */
	if (ns >= 0 && (r = netns_enter(ns, &saved, err)) < 0) {
		nl_socket_free(sk);
		return r;
	}
	r = nl_connect(sk, NETLINK_ROUTE);
	netns_leave(saved);
	if (r < 0) {
		nl_socket_free(sk);
		return cl_err(err, nle_errno(r), "netlink: %s", nl_geterror(r));
	}
	*out = sk;
	return 0;
}

void nl_close(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk);
}

int link_index(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = NULL;
	if (rtnl_link_get_kernel(sk, 0, name, &l) < 0)
		return 0;
	int i = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return i;
}

int link_bridge_add(struct nl_sock *sk, const char *name, unsigned mtu, const uint8_t *mac,
		    struct cl_error *err)
{
	struct rtnl_link *l = rtnl_link_bridge_alloc();
	struct nl_addr *a = mac ? nl_addr_build(AF_LLC, mac, 6) : NULL;
	int r = -NLE_NOMEM;
	if (!l || (mac && !a))
		goto out;
	rtnl_link_set_name(l, name);
	if (mtu)
		rtnl_link_set_mtu(l, mtu);
	/* an address set at creation stays (a bridge otherwise takes its
	 * lowest port's, and changes with its ports) */
	if (a)
		rtnl_link_set_addr(l, a);
	r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
out:
	nl_addr_put(a);
	if (l)
		rtnl_link_put(l);
	return r < 0 ? nl_fail(err, r, "bridge", name) : 0;
}

int link_veth_add(struct nl_sock *sk, const char *name, const char *peer, int peer_ns,
		  const uint8_t *peer_mac, unsigned mtu, struct cl_error *err)
{
	struct rtnl_link *l = rtnl_link_veth_alloc();
	if (!l)
		return cl_err(err, ENOMEM, "veth %s: out of memory", name);
	struct rtnl_link *p = rtnl_link_veth_get_peer(l);
	struct nl_addr *mac = NULL;
	int r = -NLE_NOMEM;
	rtnl_link_set_name(l, name);
	rtnl_link_set_name(p, peer);
	if (mtu) {
		rtnl_link_set_mtu(l, mtu);
		rtnl_link_set_mtu(p, mtu);
	}
	if (peer_ns >= 0)
		rtnl_link_set_ns_fd(p, peer_ns);
	if (peer_mac) {
		if (!(mac = nl_addr_build(AF_LLC, peer_mac, 6)))
			goto out;
		rtnl_link_set_addr(p, mac);
	}
	r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
out:
	nl_addr_put(mac);
	rtnl_link_put(p);
	rtnl_link_veth_release(l);
	return r < 0 ? nl_fail(err, r, "veth", name) : 0;
}

/* change one link: fill `ch` through set(), then RTM_NEWLINK on it */
static int link_change(struct nl_sock *sk, const char *name, const char *what,
		       void (*set)(struct rtnl_link *ch, const void *arg), const void *arg,
		       struct cl_error *err)
{
	struct rtnl_link *l = NULL, *ch;
	int r = rtnl_link_get_kernel(sk, 0, name, &l);
	if (r < 0)
		return nl_fail(err, r, what, name);
	if (!(ch = rtnl_link_alloc())) {
		rtnl_link_put(l);
		return cl_err(err, ENOMEM, "%s %s: out of memory", what, name);
	}
	set(ch, arg);
	r = rtnl_link_change(sk, l, ch, 0);
	rtnl_link_put(ch);
	rtnl_link_put(l);
	return r < 0 ? nl_fail(err, r, what, name) : 0;
}

static void set_master(struct rtnl_link *ch, const void *arg)
{
	rtnl_link_set_master(ch, *(const int *)arg);
}

int link_set_master(struct nl_sock *sk, const char *name, const char *master,
		    struct cl_error *err)
{
	int idx = 0;
	if (master && !(idx = link_index(sk, master)))
		return cl_err(err, ENODEV, "bridge %s: no such link", master);
	return link_change(sk, name, "enslave", set_master, &idx, err);
}

static void set_up(struct rtnl_link *ch, const void *arg)
{
	unsigned mtu = *(const unsigned *)arg;
	rtnl_link_set_flags(ch, IFF_UP);
	if (mtu)
		rtnl_link_set_mtu(ch, mtu);
}

int link_set_up(struct nl_sock *sk, const char *name, unsigned mtu, struct cl_error *err)
{
	return link_change(sk, name, "set up", set_up, &mtu, err);
}

int link_del(struct nl_sock *sk, const char *name, struct cl_error *err)
{
	struct rtnl_link *l = NULL;
	if (rtnl_link_get_kernel(sk, 0, name, &l) < 0)
		return 0;
	int r = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	/* gone meanwhile (a veth whose peer's namespace died) is done too */
	return r < 0 && nle_errno(r) != ENODEV ? nl_fail(err, r, "delete link", name) : 0;
}

static struct nl_addr *ip4_addr(uint32_t ip, uint8_t prefix)
{
	uint32_t be = htonl(ip);
	struct nl_addr *a = nl_addr_build(AF_INET, &be, 4);
	if (a)
		nl_addr_set_prefixlen(a, prefix);
	return a;
}

int addr_add(struct nl_sock *sk, const char *ifname, uint32_t ip, uint8_t prefix,
	     struct cl_error *err)
{
	char buf[IP4_STR_MAX];
	int idx = link_index(sk, ifname), r;
	if (!idx)
		return cl_err(err, ENODEV, "address on %s: no such link", ifname);
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = ip4_addr(ip, prefix);
	if (!a || !local) {
		r = cl_err(err, ENOMEM, "address: out of memory");
		goto out;
	}
	rtnl_addr_set_ifindex(a, idx);
	rtnl_addr_set_local(a, local);
	rtnl_addr_set_prefixlen(a, prefix);
	if ((r = rtnl_addr_add(sk, a, 0)) < 0)
		r = nl_fail(err, r, "address", ip4_format(ip, buf));
out:
	nl_addr_put(local);
	if (a)
		rtnl_addr_put(a);
	return r;
}

/* an IPv4 route of the main table: dst/prefix via gw (0: none) out of
 * link idx (0: any), the next hop on that link whatever its addresses
 * (onlink) */
static struct rtnl_route *route_build(uint32_t dst, uint8_t prefix, uint32_t gw, int idx, bool onlink)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *d = ip4_addr(dst, prefix), *g = gw ? ip4_addr(gw, 32) : NULL;
	if (!rt || !nh || !d || (gw && !g)) {
		if (rt)
			rtnl_route_put(rt);
		rt = NULL;
		goto out;
	}
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_dst(rt, d);
	if (g)
		rtnl_route_nh_set_gateway(nh, g);
	if (idx)
		rtnl_route_nh_set_ifindex(nh, idx);
	if (onlink)
		rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
	rtnl_route_add_nexthop(rt, nh);
	nh = NULL;   /* the route owns it now */
out:
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(d);
	nl_addr_put(g);
	return rt;
}

int route_add(struct nl_sock *sk, uint32_t dst, uint8_t prefix, uint32_t gw,
	      struct cl_error *err)
{
	char buf[IP4_STR_MAX];
	struct rtnl_route *rt = route_build(dst, prefix, gw, 0, false);
	if (!rt)
		return cl_err(err, ENOMEM, "route: out of memory");
	int r = rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_route_put(rt);
	return r < 0 ? nl_fail(err, r, "route via", ip4_format(gw, buf)) : 0;
}

int route_set_onlink(struct nl_sock *sk, uint32_t dst, uint8_t prefix, uint32_t gw, const char *dev,
		     struct cl_error *err)
{
	char ip[IP4_STR_MAX], buf[IP4_STR_MAX + 4];
	int idx = link_index(sk, dev);
	if (!idx)
		return cl_err(err, ENODEV, "route on %s: no such link", dev);
	struct rtnl_route *rt = route_build(dst, prefix, gw, idx, true);
	if (!rt)
		return cl_err(err, ENOMEM, "route: out of memory");
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	int r = rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_route_put(rt);
	snprintf(buf, sizeof(buf), "%s/%u", ip4_format(dst, ip), prefix);
	return r < 0 ? nl_fail(err, r, "route", buf) : 0;
}

int route_del(struct nl_sock *sk, uint32_t dst, uint8_t prefix, uint32_t gw, const char *dev,
	      struct cl_error *err)
{
	char ip[IP4_STR_MAX], buf[IP4_STR_MAX + 4];
	int idx = link_index(sk, dev);
	if (!idx)
		return 0;   /* gone with its link */
	/* as it was made: libnl derives the scope the kernel matches from
	 * the next hop (a gateway: universe, none: link); any protocol */
	struct rtnl_route *rt = route_build(dst, prefix, gw, idx, gw != 0);
	if (!rt)
		return cl_err(err, ENOMEM, "route: out of memory");
	rtnl_route_set_protocol(rt, RTPROT_UNSPEC);
	int r = rtnl_route_delete(sk, rt, 0);
	rtnl_route_put(rt);
	snprintf(buf, sizeof(buf), "%s/%u", ip4_format(dst, ip), prefix);
	if (r == -NLE_OBJ_NOTFOUND)
		return 0;   /* already gone */
	return r < 0 ? nl_fail(err, r, "delete route", buf) : 0;
}

int route_list(struct nl_sock *sk, int ifindex, struct route_entry **out, size_t *n, struct cl_error *err)
{
	struct nl_cache *c = NULL;
	int r = rtnl_route_alloc_cache(sk, AF_INET, 0, &c);
	*out = NULL;
	*n = 0;
	if (r < 0)
		return nl_fail(err, r, "list", "routes");
	for (struct nl_object *o = nl_cache_get_first(c); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, 0);
		struct nl_addr *d = rtnl_route_get_dst(rt), *g = nh ? rtnl_route_nh_get_gateway(nh) : NULL;
		if (rtnl_route_get_table(rt) != RT_TABLE_MAIN || rtnl_route_get_nnexthops(rt) != 1 ||
		    rtnl_route_nh_get_ifindex(nh) != ifindex || !d || nl_addr_get_family(d) != AF_INET)
			continue;
		struct route_entry *grown = realloc(*out, (*n + 1) * sizeof(*grown));
		if (!grown) {
			r = cl_err(err, ENOMEM, "out of memory");
			break;
		}
		*out = grown;
		struct route_entry *e = &grown[(*n)++];
		uint32_t be = 0;
		memset(e, 0, sizeof(*e));
		if (nl_addr_get_len(d) == 4)
			memcpy(&be, nl_addr_get_binary_addr(d), 4);
		e->dst = ntohl(be);
		e->prefix = (uint8_t)nl_addr_get_prefixlen(d);
		if (g && nl_addr_get_family(g) == AF_INET && nl_addr_get_len(g) == 4) {
			memcpy(&be, nl_addr_get_binary_addr(g), 4);
			e->gw = ntohl(be);
		}
		e->onlink = rtnl_route_nh_get_flags(nh) & RTNH_F_ONLINK;
	}
	nl_cache_free(c);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return r < 0 ? r : 0;
}

/* an address on a link, as a foreign_cb walk of the kernel's address cache */
#define ANY_PREFIX 0xff
struct addr_find {
	int ifindex;
	uint32_t ip;
	uint8_t prefix;
	bool found;
};

static void addr_match(struct nl_object *o, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)o;
	struct addr_find *f = arg;
	struct nl_addr *local = rtnl_addr_get_local(a);
	/* ifindex 0: on any link; prefix ANY_PREFIX: any length */
	if ((f->ifindex && rtnl_addr_get_ifindex(a) != f->ifindex) || rtnl_addr_get_family(a) != AF_INET ||
	    !local || nl_addr_get_len(local) != 4)
		return;
	uint32_t ip;
	memcpy(&ip, nl_addr_get_binary_addr(local), 4);
	if (ntohl(ip) == f->ip && (f->prefix == ANY_PREFIX || rtnl_addr_get_prefixlen(a) == f->prefix))
		f->found = true;
}

static int addr_find(struct nl_sock *sk, struct addr_find *f)
{
	struct nl_cache *cache;
	if (rtnl_addr_alloc_cache(sk, &cache) < 0)
		return -ENOMEM;
	nl_cache_foreach(cache, addr_match, f);
	nl_cache_free(cache);
	return f->found ? 1 : 0;
}

int addr_has(struct nl_sock *sk, const char *ifname, uint32_t ip, uint8_t prefix)
{
	struct addr_find f = { .ifindex = link_index(sk, ifname), .ip = ip, .prefix = prefix };
	return f.ifindex ? addr_find(sk, &f) : -ENODEV;
}

int addr_local(struct nl_sock *sk, uint32_t ip)
{
	struct addr_find f = { .ip = ip, .prefix = ANY_PREFIX };
	return addr_find(sk, &f);
}

int link_vxlan_add(struct nl_sock *sk, const char *name, uint32_t vni, uint32_t local, int target_ns,
		   const uint8_t *mac, unsigned mtu, struct cl_error *err)
{
	struct rtnl_link *l = rtnl_link_vxlan_alloc();
	struct nl_addr *a = ip4_addr(local, 32), *ll = mac ? nl_addr_build(AF_LLC, mac, 6) : NULL;
	int r = -NLE_NOMEM;
	if (!l || !a || (mac && !ll))
		goto out;
	rtnl_link_set_name(l, name);
	if (ll)
		rtnl_link_set_addr(l, ll);
	rtnl_link_vxlan_set_id(l, vni);
	rtnl_link_vxlan_set_local(l, a);
	rtnl_link_vxlan_set_port(l, 4789);      /* IANA's VXLAN port, RFC 7348 section 5 */
	rtnl_link_vxlan_set_learning(l, 0);
	if (mtu)
		rtnl_link_set_mtu(l, mtu);
	/* made in target_ns while its socket stays with sk (the underlay) */
	if (target_ns >= 0)
		rtnl_link_set_ns_fd(l, target_ns);
	r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
out:
	nl_addr_put(a);
	nl_addr_put(ll);
	if (l)
		rtnl_link_put(l);
	return r < 0 ? nl_fail(err, r, "vxlan", name) : 0;
}

int link_list(struct nl_sock *sk, struct link_info **out, size_t *n, struct cl_error *err)
{
	struct nl_cache *links = NULL, *addrs = NULL;
	int r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links);
	*out = NULL;
	*n = 0;
	if (r < 0 || (r = rtnl_addr_alloc_cache(sk, &addrs)) < 0) {
		r = nl_fail(err, r, "list", "links");
		goto out;
	}
	for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		struct link_info *g = realloc(*out, (*n + 1) * sizeof(*g));
		if (!g) {
			r = cl_err(err, ENOMEM, "out of memory");
			goto out;
		}
		*out = g;
		struct link_info *li = &g[(*n)++];
		memset(li, 0, sizeof(*li));
		snprintf(li->name, sizeof(li->name), "%s", rtnl_link_get_name(l));
		const char *kind = rtnl_link_get_type(l);
		snprintf(li->kind, sizeof(li->kind), "%s", kind ? kind : "");
		li->ifindex = rtnl_link_get_ifindex(l);
		li->mtu = rtnl_link_get_mtu(l);
		struct nl_addr *ll = rtnl_link_get_addr(l);
		if (ll && nl_addr_get_len(ll) == 6)
			memcpy(li->mac, nl_addr_get_binary_addr(ll), 6);
		int m = rtnl_link_get_master(l);
		if (m > 0)
			rtnl_link_i2name(links, m, li->master, sizeof(li->master));
		struct nl_addr *la = NULL;
		if (rtnl_link_is_vxlan(l) && rtnl_link_vxlan_get_id(l, &li->vni) == 0 &&
		    rtnl_link_vxlan_get_local(l, &la) == 0 && la) {
			uint32_t be;
			memcpy(&be, nl_addr_get_binary_addr(la), 4);
			li->local = ntohl(be);
			nl_addr_put(la);
		}
	}
	for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct nl_addr *loc = rtnl_addr_get_local(a);
		if (rtnl_addr_get_family(a) != AF_INET || !loc)
			continue;
		for (size_t i = 0; i < *n; i++)
			if ((*out)[i].ifindex == rtnl_addr_get_ifindex(a) && !(*out)[i].addr) {
				uint32_t be;
				memcpy(&be, nl_addr_get_binary_addr(loc), 4);
				(*out)[i].addr = ntohl(be);
				(*out)[i].prefix = (uint8_t)rtnl_addr_get_prefixlen(a);
			}
	}
	r = 0;
out:
	if (links)
		nl_cache_free(links);
	if (addrs)
		nl_cache_free(addrs);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return r;
}
