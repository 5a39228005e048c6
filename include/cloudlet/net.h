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

/* Lease the lowest free address of subnet (VPC vpc, block c) to the owner.
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

#endif
