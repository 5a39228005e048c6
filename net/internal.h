/* net/ internals shared by its files (not a public API): network
 * namespaces, netlink through libnl-route-3, nftables through libnftables. */
#ifndef NET_INTERNAL_H
#define NET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "cloudlet/net.h"

struct nl_sock;

/* ---- netns.c: named network namespaces, as iproute2 keeps them ---- */

#define NET_NETNS_DIR "/run/netns"
/* Make a new network namespace pinned by a bind mount at NET_NETNS_DIR/name
 * (so `ip netns exec NAME` works for a person debugging). -EEXIST if the
 * name is taken. */
int netns_create(const char *name, struct cl_error *err);
/* Open a pinned namespace (O_RDONLY fd); -ENOENT with a message if absent. */
int netns_open(const char *name, int *fd, struct cl_error *err);
/* Unpin and remove the file; a missing one is not an error. Its links die
 * with the last reference (processes, fds, mounts). */
int netns_delete(const char *name, struct cl_error *err);
bool netns_exists(const char *name);
/* Switch the calling thread into ns (a namespace fd) and back. enter saves
 * the current namespace in *saved; leave restores and closes it. */
int netns_enter(int ns, int *saved, struct cl_error *err);
void netns_leave(int saved);
/* Write a sysctl under /proc/sys/net (e.g. "ipv4/ip_forward") in ns. */
int netns_sysctl(int ns, const char *key, const char *value, struct cl_error *err);
/* Read one: its first line, without the newline. */
int netns_sysctl_get(int ns, const char *key, char *buf, size_t len, struct cl_error *err);

/* ---- link.c: links, addresses and routes (rtnetlink, libnl-route-3) ---- */

/* A NETLINK_ROUTE socket bound to namespace ns (-1: the caller's). */
int nl_open(int ns, struct nl_sock **out, struct cl_error *err);
void nl_close(struct nl_sock *sk);

int link_index(struct nl_sock *sk, const char *name);      /* 0: no such link */
/* A bridge; mac NULL: the kernel's (which follows its ports). */
int link_bridge_add(struct nl_sock *sk, const char *name, unsigned mtu, const uint8_t *mac,
		    struct cl_error *err);
/* A veth pair: `name` here (in sk's namespace), `peer` created directly in
 * namespace peer_ns with MAC peer_mac (NULL: random) — no moment where the
 * peer exists in the wrong namespace under a name that may clash there. */
int link_veth_add(struct nl_sock *sk, const char *name, const char *peer, int peer_ns,
		  const uint8_t *peer_mac, unsigned mtu, struct cl_error *err);
/* Enslave to a bridge (master NULL: none) and/or set up. */
int link_set_master(struct nl_sock *sk, const char *name, const char *master,
		    struct cl_error *err);
int link_set_up(struct nl_sock *sk, const char *name, unsigned mtu, struct cl_error *err);
/* Delete; a link that is already gone is not an error. */
int link_del(struct nl_sock *sk, const char *name, struct cl_error *err);
int addr_add(struct nl_sock *sk, const char *ifname, uint32_t ip, uint8_t prefix,
	     struct cl_error *err);
/* 1: ifname has ip/prefix, 0: not, -ENODEV: no such link */
int addr_has(struct nl_sock *sk, const char *ifname, uint32_t ip, uint8_t prefix);
/* 1 when ip is an address of any link of sk's namespace, else 0 (or -errno) */
int addr_local(struct nl_sock *sk, uint32_t ip);
/* dst/prefix via gw (prefix 0: the default route). */
int route_add(struct nl_sock *sk, uint32_t dst, uint8_t prefix, uint32_t gw,
	      struct cl_error *err);
/* "ip route replace DST/PREFIX via GW dev DEV onlink proto static": a
 * next hop that is no address of DEV's (the overlay's remote VTEP) */
int route_set_onlink(struct nl_sock *sk, uint32_t dst, uint8_t prefix, uint32_t gw, const char *dev,
		     struct cl_error *err);
/* Delete DST/PREFIX (via gw, 0: none) on dev from the main table; one
 * already gone is not an error. */
int route_del(struct nl_sock *sk, uint32_t dst, uint8_t prefix, uint32_t gw, const char *dev,
	      struct cl_error *err);
/* The main table's IPv4 routes with one next hop, through link ifindex. */
struct route_entry {
	uint32_t dst, gw;   /* gw 0: none */
	uint8_t prefix;
	bool onlink;
};
int route_list(struct nl_sock *sk, int ifindex, struct route_entry **out, size_t *n, struct cl_error *err);

/* A VXLAN device (RFC 7348) `name` with address mac (NULL: random) made
 * through sk (its UDP socket lives in sk's namespace, on `local`) directly
 * in namespace target_ns: static FDB only (no learning). */
int link_vxlan_add(struct nl_sock *sk, const char *name, uint32_t vni, uint32_t local, int target_ns,
		   const uint8_t *mac, unsigned mtu, struct cl_error *err);
/* Links of sk's namespace whose name starts with prefix: name, kind
 * ("bridge", "vxlan", "veth", "tun"...), master's name, mtu, and for a
 * VXLAN its VNI and local address. */
struct link_info {
	char name[NET_IFNAMSIZ], kind[16], master[NET_IFNAMSIZ];
	int ifindex;
	unsigned mtu;
	uint32_t vni, local, addr;      /* addr: the first IPv4 address */
	uint8_t mac[6];
	uint8_t prefix;
};
int link_list(struct nl_sock *sk, struct link_info **out, size_t *n, struct cl_error *err);

/* ---- fdb.c: static FDB and neighbour entries (rtnetlink, libnl-route-3) ---- */

/* "bridge fdb replace MAC dev DEV dst DST self permanent" */
int fdb_set(struct nl_sock *sk, const char *dev, const uint8_t mac[6], uint32_t dst, struct cl_error *err);
int fdb_del(struct nl_sock *sk, const char *dev, const uint8_t mac[6], struct cl_error *err);
/* "ip neigh replace IP lladdr MAC dev DEV nud permanent" */
int neigh_set(struct nl_sock *sk, const char *dev, uint32_t ip, const uint8_t mac[6], struct cl_error *err);
int neigh_del(struct nl_sock *sk, const char *dev, uint32_t ip, struct cl_error *err);
/* Permanent entries on dev: FDB (mac, dst) and IPv4 neighbours (ip, mac). */
struct fdb_entry {
	uint8_t mac[6];
	uint32_t ip;        /* FDB: the remote VTEP; neighbour: the guest */
};
int fdb_list(struct nl_sock *sk, int ifindex, struct fdb_entry **out, size_t *n, struct cl_error *err);
int neigh_list(struct nl_sock *sk, int ifindex, struct fdb_entry **out, size_t *n, struct cl_error *err);

/* ---- qos.c: a root tbf qdisc on a link (tc, libnl-route-3) ---- */
int qos_set(struct nl_sock *sk, const char *dev, uint32_t mbit, struct cl_error *err);
int qos_del(struct nl_sock *sk, const char *dev, struct cl_error *err);
/* The rate of dev's root tbf, rounded to Mbit/s (0: none). */
int qos_get(struct nl_sock *sk, int ifindex, uint32_t *mbit, struct cl_error *err);

/* ---- nft.c: run an nftables script (libnftables) in namespace ns ---- */
int nft_apply(int ns, const char *script, struct cl_error *err);
/* `nft list ruleset` in namespace ns, malloc'd (drift detection). */
int nft_list(int ns, char **out, struct cl_error *err);

#define NAT_VPC_IF "nat0"    /* the VPC end of a NAT gateway's transit link */

/* ---- vpc.c, shared with attach.c ---- */

/* A VPC loaded for a change: its lock held, stale attachments dropped. */
struct vpc_tx {
	const char *root;
	struct vpc v;
	int lock;
	int ns;             /* its namespace (-1 until opened) */
	struct nl_sock *sk; /* netlink in it */
	char path[4096];
};
int vpc_tx_begin(struct vpc_tx *tx, const char *root, const char *name, struct cl_error *err);
/* Write the record and the nftables ruleset. */
int vpc_tx_commit(struct vpc_tx *tx, struct cl_error *err);
void vpc_tx_end(struct vpc_tx *tx);
struct json_object;
struct json_object *vpc_to_jobj(const struct vpc *v);
/* Read ROOT/vpc/NAME.json (no lock: records are replaced whole). */
int vpc_record_read(const char *path, const char *name, struct vpc *v, struct cl_error *err);
/* nat.c: remove a NAT gateway's host side (veth, host nftables table). */
int nat_teardown(struct vpc_tx *tx, struct cl_error *err);
/* attach.c: a guest's port (tap or veth, guest end set up) on `bridge` in
 * namespace ns; shared with net/sdn/attach.c. */
struct net_attach_req;
struct net_attachment;
int att_port_make(int ns, struct nl_sock *sk, const struct net_attach_req *rq, struct net_attachment *a,
		  const char *bridge, struct cl_error *err);
/* attach.c: record attachment a (kind, id, subnet, host, ifname, ip, mac as
 * set; the holder and rate from rq) with its groups in v; shared with
 * net/sdn/attach.c */
int vpc_att_append(struct vpc *v, const struct net_attach_req *rq, const struct net_attachment *a,
		   const char *const *sgs, size_t nsgs, struct cl_error *err);
/* Tear down one attachment's kernel side and lease (not the record). */
void att_teardown(struct vpc_tx *tx, const struct vpc_att *a);

#endif
