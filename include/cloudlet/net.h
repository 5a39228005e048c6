/* net/: the VPC data plane shared by microVMs (tap) and containers (veth).
 *
 * This header is the pure half (CIDR arithmetic, address picking, MAC and
 * interface names: no I/O, unit-tested) and the persistence half (IPv4
 * leases under the state directory). Netlink and nftables come later.
 *
 * Conventions: addresses are uint32_t in HOST byte order (10.0.0.1 is
 * 0x0a000001); functions that can fail return 0 or a negative errno and
 * fill *err with one line naming the thing (err may be NULL). */
#ifndef CLOUDLET_NET_H
#define CLOUDLET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloudlet/error.h"

/* ---- IPv4 addresses and CIDR blocks (RFC 4632) ---- */

#define IP4_STR_MAX 16      /* "255.255.255.255" + NUL */
#define CIDR_STR_MAX 19     /* "255.255.255.255/32" + NUL */

struct cidr {
	uint32_t addr;      /* network address: host bits are always zero */
	uint8_t prefix;     /* 0..32 */
};

/* Strict dotted quad: exactly four decimal octets 0..255, no leading zeros
 * ("010" reads as octal to inet_aton, so it is refused rather than guessed),
 * no sign, no spaces, nothing after. */
int ip4_parse(const char *s, uint32_t *out, struct cl_error *err);
/* "A.B.C.D/N" with a strict address and N a decimal 0..32 (no leading zero).
 * Host bits set is an error that suggests the block:
 * "10.20.1.5/24 has host bits set (did you mean 10.20.1.0/24?)".
 * *out is written only on success. */
int cidr_parse(const char *s, struct cidr *out, struct cl_error *err);

/* Format into buf and return buf. */
char *ip4_format(uint32_t ip, char buf[IP4_STR_MAX]);
char *cidr_format(const struct cidr *c, char buf[CIDR_STR_MAX]);

uint32_t cidr_mask(uint8_t prefix);               /* /0 -> 0, /32 -> ~0 */
/* The highest address of the block (the directed broadcast for /0../30;
 * a /31 has no broadcast, RFC 3021, and a /32 is one host). */
uint32_t cidr_broadcast(const struct cidr *c);
/* Lowest and highest usable host addresses: the block minus network and
 * broadcast addresses, except a /31 (both usable, RFC 3021) and a /32. */
uint32_t cidr_first_host(const struct cidr *c);
uint32_t cidr_last_host(const struct cidr *c);
uint64_t cidr_host_count(const struct cidr *c);   /* /24 -> 254, /31 -> 2, /32 -> 1 */

bool cidr_contains_ip(const struct cidr *c, uint32_t ip);
bool cidr_within(const struct cidr *outer, const struct cidr *inner); /* inner ⊆ outer */
bool cidr_overlaps(const struct cidr *a, const struct cidr *b);

/* ---- names and subnet rules ---- */

/* VPC, subnet and owner names: 1..NET_NAME_LEN characters from
 * [A-Za-z0-9_.-], the first a letter or digit. They become file names
 * under the state directory, so "..", "/" and hidden names are impossible. */
#define NET_NAME_LEN 64
int net_name_check(const char *what, const char *name, struct cl_error *err);

/* The smallest subnet is a /30: network address, gateway (the bridge),
 * one guest, broadcast. /31 (RFC 3021 point-to-point) and /32 leave no
 * address for a guest next to the gateway, so they are refused. */
#define NET_SUBNET_MAX_PREFIX 30

struct net_subnet {
	const char *name;
	struct cidr cidr;
};

/* A VPC's block must hold at least one subnet (prefix <= 30):
 * "vpc v: 10.0.0.0/31 is too small ...". */
int net_vpc_check(const char *vpc, const struct cidr *vpc_cidr, struct cl_error *err);
/* May subnet `name` with block `sc` join VPC `vpc` (block `vpc_cidr`) that
 * already has subnets sib[0..n)? Checks the names, the size, that sc lies
 * within the VPC, that the name is new (-EEXIST) and that sc overlaps no
 * sibling: "vpc v: subnet a: 10.0.1.0/24 overlaps 10.0.0.0/23 (subnet b)". */
int net_subnet_check(const char *vpc, const struct cidr *vpc_cidr, const char *name,
		     const struct cidr *sc, const struct net_subnet *sib, size_t n,
		     struct cl_error *err);
/* Pairwise overlap over a whole list (e.g. state read back from disk):
 * true and the first overlapping pair i < j, else false. */
bool net_subnets_overlap(const struct net_subnet *s, size_t n, size_t *i, size_t *j);

/* ---- stable identifiers: MACs and interface names ---- */

/* FNV-1a 64 over the strings, each followed by a NUL so that ("ab","c")
 * and ("a","bc") differ. Not cryptographic: names are not secrets, we only
 * need spread. NULL strings hash as "". */
uint64_t net_hash(const char *const *parts, size_t n);

#define MAC_STR_MAX 18      /* "02:00:00:00:00:00" + NUL */
/* A MAC for an attachment, a pure function of (vpc, subnet, owner kind,
 * owner id, salt): first octet 0x02, i.e. locally administered and unicast
 * (RFC 7042 section 2.1; in IEEE 802c's "AAI" quadrant), then 40 bits of
 * hash. salt is 0 except when IPAM has to step around a collision. */
void net_mac(const char *vpc, const char *subnet, const char *owner_kind,
	     const char *owner_id, unsigned salt, uint8_t mac[6]);
char *net_mac_format(const uint8_t mac[6], char buf[MAC_STR_MAX]);
/* "xx:xx:xx:xx:xx:xx", two hex digits each, either case. */
int net_mac_parse(const char *s, uint8_t mac[6], struct cl_error *err);

/* Linux interface names hold 15 characters (IFNAMSIZ 16 with the NUL) and
 * VPC/subnet/owner names are longer, so names are "<4-char prefix>-<10 hex>"
 * from net_hash: 40 bits keep a collision among a thousand interfaces on a
 * host near one in a million (32 bits would be one in ten thousand). */
#define NET_IFNAMSIZ 16
enum net_if_kind {
	NET_IF_BRIDGE,      /* "clbr-": one per subnet (owner ignored) */
	NET_IF_TAP,         /* "cltp-": a microVM's NIC */
	NET_IF_VETH_HOST,   /* "clvh-": a container's veth, host end */
	NET_IF_VETH_PEER,   /* "clvc-": its peer until moved into the container */
	NET_IF_NAT_HOST,    /* "clnh-": a NAT gateway's host end ("subnet": the VPC's netns) */
};
char *net_ifname(enum net_if_kind kind, const char *vpc, const char *subnet,
		 const char *owner_kind, const char *owner_id, char out[NET_IFNAMSIZ]);

/* ---- IPAM, pure core ---- */

/* In a subnet (prefix <= 30) the network address and broadcast are
 * reserved, and the first host address is the gateway (the bridge's own
 * address); guests get the rest: a /24 has 253, a /29 5, a /30 1. */
uint32_t ipam_gateway(const struct cidr *c);
uint64_t ipam_capacity(const struct cidr *c);     /* 0 for /31 and /32 */

/* The lowest guest address of c not in used[0..n) (any order; duplicates
 * and addresses outside the guest range are ignored). 0 and *out, or
 * -ENOSPC (full), -EINVAL (prefix > 30), -ENOMEM. */
int ipam_pick(const struct cidr *c, const uint32_t *used, size_t n, uint32_t *out);
/* The lowest free guest address at or above `from`, wrapping around to the
 * lowest free one (from outside the guest range: ipam_pick). */
int ipam_pick_from(const struct cidr *c, const uint32_t *used, size_t n, uint32_t from,
		   uint32_t *out);

/* ---- IPAM, persistent ---- */

struct lease {
	uint32_t ip;
	uint8_t mac[6];
	char owner_kind[4];                 /* "vm" (tap) or "ct" (veth) */
	char owner_id[NET_NAME_LEN + 1];
	int64_t created;                    /* Unix seconds */
};

/* Leases of one subnet live in STATE/leases/VPC/SUBNET.json (written
 * atomically: temp file, fsync, rename, fsync of the directory):
 *   { "version": 1, "vpc": "v", "subnet": "a", "cidr": "10.0.1.0/24",
 *     "gateway": "10.0.1.1",
 *     "leases": [ { "ip": "10.0.1.2", "mac": "02:..", "owner_kind": "vm",
 *                   "owner_id": "web", "created": 1700000000 } ] }
 * Writers hold flock(LOCK_EX) on STATE/leases/VPC/SUBNET.lock across the
 * whole read-modify-write, so concurrent processes never hand out one
 * address twice. (The lock is a separate file because rename replaces the
 * JSON file's inode.) A file that does not parse or is inconsistent (bad
 * address, duplicate ip/owner, other cidr) is an error naming the file;
 * nothing is ever silently dropped. */

/* Lease the next free address of subnet (VPC vpc, block c) to the owner,
 * round robin after the last one leased ("last" in the file).
 * Idempotent: an owner that already holds a lease here gets it back, so an
 * attach retried after a crash does not leak an address. The MAC is
 * net_mac(..., salt 0), or the next salt that no other lease here uses.
 * -ENOSPC names the subnet when it is full. */
int ipam_allocate(const char *state, const char *vpc, const char *subnet,
		  const struct cidr *c, const char *owner_kind, const char *owner_id,
		  struct lease *out, struct cl_error *err);
/* Drop the owner's lease; -ENOENT (with a message) when it has none, which
 * teardown paths may ignore. */
int ipam_release(const char *state, const char *vpc, const char *subnet,
		 const char *owner_kind, const char *owner_id, struct cl_error *err);
/* The subnet's leases sorted by address, in a malloc'd array (*out NULL
 * when none; a missing file is no leases). Reads without the lock: the
 * rename makes every version of the file whole. */
int ipam_list(const char *state, const char *vpc, const char *subnet,
	      struct lease **out, size_t *n, struct cl_error *err);

/* ---- state helpers (net/state.c), for the records of net/ ---- */

struct json_object;
/* mkdir -p with mode 0755. */
int net_state_mkdirs(const char *path, struct cl_error *err);
/* Open (creating, 0644) `path` and flock(LOCK_EX) it; *fd is the lock,
 * close it to unlock. */
int net_state_lock(const char *path, int *fd, struct cl_error *err);
/* Parse a JSON file strictly (whole file one value); -ENOENT without a
 * message when it does not exist, so callers can treat it as empty. */
int net_state_read_json(const char *path, struct json_object **out, struct cl_error *err);
/* Replace `path` atomically with the pretty-printed object: PATH.tmp,
 * fsync, rename, fsync the directory. Call under the record's lock. */
int net_state_write_json(const char *path, struct json_object *obj, struct cl_error *err);

/* ---- the VPC model (net/vpc_record.c: JSON; net/sg.c: rules, pure) ---- */

/* A VPC is a network namespace of its own ("clvpc-<10 hex>" under
 * /run/netns) holding one bridge per subnet with the subnet's gateway
 * address on it, so the namespace's routing table is the VPC router, VPCs
 * are isolated by construction and may reuse CIDRs. Guests attach by a tap
 * (VM) or a veth (container) enslaved to the subnet's bridge. Its record
 * is ROOT/vpc/NAME.json, changed under the flock of ROOT/vpc/NAME.lock. */
#define NET_MTU 1500
#define NET_SG_DEFAULT "default"   /* every VPC's; ingress from its own members */

enum sg_dir { SG_INGRESS, SG_EGRESS };
struct sg_rule {
	enum sg_dir dir;
	uint8_t proto;              /* IPPROTO_TCP, _UDP, _ICMP; 0: any */
	uint16_t port_lo, port_hi;  /* tcp/udp destination ports; 0,0: any */
	bool from_sg;               /* the peer is a member of security group `sg` */
	char sg[NET_NAME_LEN + 1];
	struct cidr peer;           /* else this block (0.0.0.0/0: anywhere) */
};
struct vpc_sg {
	char name[NET_NAME_LEN + 1];
	struct sg_rule *rules;
	size_t nrules;
};
struct vpc_att {                    /* one guest NIC on one subnet */
	char kind[4];               /* "vm" (tap) or "ct" (veth) */
	char id[NET_NAME_LEN + 1];
	char subnet[NET_NAME_LEN + 1];
	char ifname[NET_IFNAMSIZ];  /* its port on the bridge, in the VPC namespace */
	uint32_t ip;
	uint8_t mac[6];
	char (*sgs)[NET_NAME_LEN + 1];
	size_t nsgs;
	char host[NET_NAME_LEN + 1];    /* net/sdn/: the host it is on ("": this one) */
	uint32_t rate_mbit;         /* net/sdn/: traffic to the guest limited to this (0: none) */
	int pid;                    /* the process that will detach it ... */
	unsigned long long pid_start;   /* ... while it lives (else: stale) */
};
struct vpc {
	char name[NET_NAME_LEN + 1];
	struct cidr cidr;
	char netns[NET_IFNAMSIZ];
	struct net_subnet *subnets;     /* names are malloc'd */
	size_t nsubnets;
	struct vpc_sg *sgs;
	size_t nsgs;
	struct vpc_att *atts;
	size_t natts;
	bool nat;                       /* NAT gateway enabled */
	char uplink[NET_IFNAMSIZ];      /* its host interface */
	uint32_t transit;               /* its /30 between host and VPC (NET_TRANSIT_POOL) */
};
void vpc_free(struct vpc *v);
/* JSON <-> model; from_json checks everything (names, CIDRs inside the
 * VPC and disjoint, attachments on known subnets and SGs) and names `what`
 * (the file) in errors. */
int vpc_from_json(const char *json, const char *what, struct vpc *v, struct cl_error *err);
char *vpc_to_json(const struct vpc *v);    /* malloc'd, NULL: out of memory */
const struct net_subnet *vpc_subnet_find(const struct vpc *v, const char *name);
struct vpc_sg *vpc_sg_find(const struct vpc *v, const char *name);

/* "VPC/NAME" -> the two names (checked). */
int net_ref_parse(const char *ref, char vpc[NET_NAME_LEN + 1], char name[NET_NAME_LEN + 1],
		  struct cl_error *err);
/* One rule from the CLI's words: dir, "tcp|udp|icmp|all", port "N" or
 * "N-M" (NULL: any; refused for icmp/all), from "CIDR" or "sg:NAME"
 * (NULL: anywhere). */
int sg_rule_parse(enum sg_dir dir, const char *proto, const char *port, const char *from,
		  struct sg_rule *out, struct cl_error *err);
/* "ingress tcp 8080 from 10.20.2.0/24" */
char *sg_rule_format(const struct sg_rule *r, char *buf, size_t len);

/* The whole nftables script of a VPC's namespace, a pure function of the
 * record: security groups (table inet cloudlet: stateful, default deny
 * ingress / allow egress per attachment, keyed by the attachment's address,
 * which anti-spoofing in table bridge cloudlet binds to its port and MAC)
 * and the NAT gateway (table ip cloudlet_nat). It replaces the previous
 * ruleset in one transaction, so established flows never see a gap.
 * malloc'd; NULL: out of memory. */
char *vpc_fw_render(const struct vpc *v);
/* The host side of the NAT gateway: masquerade of the VPC's transit
 * address out of its uplink (table ip NAME), or its removal (v->nat false). */
char *vpc_nat_host_render(const struct vpc *v, const char *table);

/* NAT transit links: a /30 per VPC from RFC 6598's shared address space,
 * host end .1, VPC end .2. Lowest block not in used[0..n). */
#define NET_TRANSIT_POOL "100.64.0.0/16"
int net_transit_pick(const uint32_t *used, size_t n, uint32_t *out);

/* ---- VPC operations (net/vpc.c): kernel state + records ---- */

int vpc_create(const char *root, const char *name, const char *cidr, struct cl_error *err);
/* force: also tear down its attachments (their guests lose the network). */
int vpc_rm(const char *root, const char *name, bool force, struct cl_error *err);
int vpc_subnet_create(const char *root, const char *ref, const char *cidr, struct cl_error *err);
int vpc_sg_create(const char *root, const char *ref, struct cl_error *err);
int vpc_sg_rule_add(const char *root, const char *ref, const struct sg_rule *rule,
		    struct cl_error *err);
int vpc_nat_enable(const char *root, const char *name, const char *uplink, struct cl_error *err);
int vpc_nat_disable(const char *root, const char *name, struct cl_error *err);
/* Load one VPC (after dropping attachments whose holder died), or all. */
int vpc_get(const char *root, const char *name, struct vpc *out, struct cl_error *err);
int vpc_list(const char *root, char ***names, size_t *n, struct cl_error *err);

/* A socket (SOCK_CLOEXEC added) made inside the pinned network namespace
 * `netns` (a VPC's, struct vpc.netns): it connects from the VPC router,
 * e.g. to a guest's address, whichever thread uses it. */
int net_netns_socket(const char *netns, int domain, int type, int *fd, struct cl_error *err);

/* ---- attachments (net/attach.c): what vm run / ct run call ---- */

struct net_attach_req {
	const char *root;
	const char *ref;            /* "VPC/SUBNET" */
	const char *kind;           /* "vm": a tap; "ct": a veth */
	const char *id;             /* the guest's name */
	const char *const *sgs;     /* none: the VPC's "default" group */
	size_t nsgs;
	int guest_ns;               /* ct: the container's netns fd */
	const char *guest_ifname;   /* ct: "eth0", ... */
	int holder;                 /* the pid that will detach (0: the caller;
	                               -1: none, kept until net_detach: CNI) */
	const char *host;           /* net/sdn/: place it on this host (NULL: here) */
	uint32_t rate_mbit;         /* net/sdn/: limit traffic to the guest (tc tbf; 0: none) */
};
struct net_attachment {
	char vpc[NET_NAME_LEN + 1];
	char subnet[NET_NAME_LEN + 1];
	char kind[4];
	char id[NET_NAME_LEN + 1];
	char ifname[NET_IFNAMSIZ];
	uint32_t ip, gateway;
	uint8_t prefix;
	uint8_t mac[6];
	unsigned mtu;
	int tap_fd;                 /* vm: the tap, open in the VPC namespace; else -1 */
	char host[NET_NAME_LEN + 1];    /* net/sdn/: its host ("": none) */
};
/* Lease an address, make the link (a tap the caller keeps, or a veth whose
 * guest end is addressed, routed and up in guest_ns), apply the security
 * groups. On failure nothing of it is left. */
int net_attach(const struct net_attach_req *rq, struct net_attachment *out, struct cl_error *err);
/* Undo net_attach (closes tap_fd); idempotent. */
int net_detach(const char *root, struct net_attachment *a, struct cl_error *err);
/* Is rq's attachment whole? The record, its lease, the port in the VPC's
 * namespace, and in guest_ns the interface with its address: out gets the
 * attachment; a difference is -ENOENT/-EIO naming what drifted. */
int net_attach_check(const struct net_attach_req *rq, struct net_attachment *out,
		     struct cl_error *err);
/* "ip=ADDR::GW:MASK::IFNAME:off" for the kernel command line
 * (Documentation/admin-guide/nfs/nfsroot.rst). */
char *net_kernel_ip_arg(const struct net_attachment *a, const char *ifname, char *buf, size_t len);

/* The permanent FDB and neighbour entries and the IPv4 routes on the VXLAN
 * devices of named network namespace ns (an overlay host's VPC namespace:
 * what its agent installed for the guests on other hosts). */
int net_vxlan_entries(const char *ns, size_t *fdb, size_t *neigh, size_t *routes, struct cl_error *err);

/* A veth pair between network namespaces ns_a and ns_b (fds), name_a with
 * ip_a/prefix in ns_a and name_b with ip_b/prefix in ns_b, MTU NET_MTU, both
 * up: no bridge, no firewall (the reference link of `bench vpc-net`). On
 * failure the pair is deleted. */
int net_veth_pair(int ns_a, const char *name_a, uint32_t ip_a, int ns_b, const char *name_b, uint32_t ip_b,
		  uint8_t prefix, struct cl_error *err);

/* Open (creating if absent) tap `name` in the calling thread's network
 * namespace: IFF_TAP|IFF_NO_PI|IFF_VNET_HDR, non-blocking, close-on-exec.
 * *existed: it was there before (then closing does not remove it). */
int net_tap_open(const char *name, int *fd, bool *existed, struct cl_error *err);

#endif
