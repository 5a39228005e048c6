/* What an attachment gets on a subnet: an address (IPAM), a MAC and the
 * names of its Linux interfaces. Pure core first, then the leases on disk.
 * See include/cloudlet/net.h. */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cloudlet/net.h"

/* ---- stable identifiers ---- */

/* MACs are stored in leases but interface names are derived on the fly:
 * changing this function renames every interface of a running host. */
uint64_t net_hash(const char *const *parts, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;             /* FNV-1a 64 offset basis */
	for (size_t i = 0; i < n; i++) {
		const char *s = parts[i] ? parts[i] : "";
		do {
			h ^= (unsigned char)*s;
			h *= 0x100000001b3ull;          /* FNV 64 prime */
		} while (*s++);
	}
	/* FNV's top bits mix the last bytes weakly and we use the top bits:
	 * finish with MurmurHash3's fmix64 avalanche */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

void net_mac(const char *vpc, const char *subnet, const char *owner_kind,
	     const char *owner_id, unsigned salt, uint8_t mac[6])
{
	char sb[16];
	snprintf(sb, sizeof(sb), "%u", salt);
	const char *parts[] = { "mac", vpc, subnet, owner_kind, owner_id, sb };
	uint64_t h = net_hash(parts, 6);
	/* 0x02: U/L bit set (locally administered), I/G bit clear (unicast),
	 * RFC 7042 section 2.1; no OUI of anyone else's */
	mac[0] = 0x02;
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (64 - 8 * i));
}

char *net_mac_format(const uint8_t m[6], char buf[MAC_STR_MAX])
{
	snprintf(buf, MAC_STR_MAX, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		 m[4], m[5]);
	return buf;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int net_mac_parse(const char *s, uint8_t mac[6], struct cl_error *err)
{
	uint8_t m[6];
	if (!s || strlen(s) != 17)
		goto bad;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			goto bad;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, m, 6);
	return 0;
bad:
	return cl_err(err, EINVAL, "'%.20s' is not a MAC address (xx:xx:xx:xx:xx:xx)",
		      s ? s : "");
}

char *net_ifname(enum net_if_kind kind, const char *vpc, const char *subnet,
		 const char *owner_kind, const char *owner_id, char out[NET_IFNAMSIZ])
{
	static const char *const prefix[] = {
		[NET_IF_BRIDGE] = "clbr", [NET_IF_TAP] = "cltp",
		[NET_IF_VETH_HOST] = "clvh", [NET_IF_VETH_PEER] = "clvc",
		[NET_IF_NAT_HOST] = "clnh",
	};
	const char *p = (unsigned)kind < 5 ? prefix[kind] : "clxx";
	/* the prefix is hashed too, so a subnet's bridge and tap never share
	 * a suffix; a bridge belongs to the subnet alone */
	const char *parts[] = { p, vpc, subnet, owner_kind, owner_id };
	uint64_t h = net_hash(parts, kind == NET_IF_BRIDGE || kind == NET_IF_NAT_HOST ? 3 : 5);
	snprintf(out, NET_IFNAMSIZ, "%s-%010llx", p, (unsigned long long)(h >> 24));
	return out;
}

/* ---- IPAM, pure core ---- */

uint32_t ipam_gateway(const struct cidr *c)
{
	return c->addr + 1;
}

uint64_t ipam_capacity(const struct cidr *c)
{
	return c->prefix > NET_SUBNET_MAX_PREFIX ? 0 : cidr_host_count(c) - 1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int ipam_pick(const struct cidr *c, const uint32_t *used, size_t n, uint32_t *out)
{
	return ipam_pick_from(c, used, n, 0, out);
}

int ipam_pick_from(const struct cidr *c, const uint32_t *used, size_t n, uint32_t from,
		   uint32_t *out)
{
	if (c->prefix > NET_SUBNET_MAX_PREFIX)
		return -EINVAL;
	/* uint64_t: a /0's last guest is 255.255.255.254, and cand may pass it */
	uint64_t first = (uint64_t)ipam_gateway(c) + 1, last = cidr_last_host(c);
	uint64_t cand = from > first && from <= last ? from : first, start = cand;
	uint32_t *s = NULL;
	if (n) {
		s = malloc(n * sizeof(*s));
		if (!s)
			return -ENOMEM;
		memcpy(s, used, n * sizeof(*s));
		qsort(s, n, sizeof(*s), cmp_u32);
	}
	/* walk the sorted addresses upwards: the first gap at or above the
	 * first guest address is the answer; O(n log n) for any subnet size */
	for (size_t i = 0; i < n && cand <= last; i++) {
		if (s[i] < cand)
			continue;
		if (s[i] > cand)
			break;
		cand++;
	}
	free(s);
	if (cand > last)
		/* nothing free above `from`: wrap around to the lowest free */
		return start == first ? -ENOSPC : ipam_pick_from(c, used, n, 0, out);
	*out = (uint32_t)cand;
	return 0;
}

/* ---- leases on disk ---- */

struct lease_file {
	char path[PATH_MAX];
	bool exists;
	struct cidr cidr;           /* of the file, when it exists */
	uint32_t last;              /* the address leased most recently (0: none) */
	struct lease *v;
	size_t n;
};

static int owner_check(const char *kind, const char *id, struct cl_error *err)
{
	if (!kind || (strcmp(kind, "vm") != 0 && strcmp(kind, "ct") != 0))
		return cl_err(err, EINVAL, "owner kind '%.16s': want vm or ct", kind ? kind : "");
	return net_name_check("owner", id, err);
}

/* STATE/leases/VPC[/SUBNET.EXT]; the names are checked, so no ".." */
static int lease_path(char *buf, const char *state, const char *vpc, const char *subnet,
		      const char *ext, struct cl_error *err)
{
	int n = subnet ? snprintf(buf, PATH_MAX, "%s/leases/%s/%s.%s", state, vpc, subnet, ext)
		       : snprintf(buf, PATH_MAX, "%s/leases/%s", state, vpc);
	if (n < 0 || n >= PATH_MAX)
		return cl_err(err, ENAMETOOLONG, "state directory '%.64s...': path too long", state);
	return 0;
}

static int names_check(const char *state, const char *vpc, const char *subnet,
		       struct cl_error *err)
{
	if (!state || !*state)
		return cl_err(err, EINVAL, "no state directory given");
	int r = net_name_check("vpc", vpc, err);
	return r < 0 ? r : net_name_check("subnet", subnet, err);
}

/* A field of the right type, or an error naming the file and the place. */
static struct json_object *field(struct json_object *o, const char *key, enum json_type t,
				 const char *path, const char *where, int *r,
				 struct cl_error *err)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v)) {
		*r = cl_err(err, EBADMSG, "%s: %s'%s' is missing", path, where, key);
		return NULL;
	}
	if (!json_object_is_type(v, t)) {
		*r = cl_err(err, EBADMSG, "%s: %s'%s' is not of type %s", path, where, key,
			    json_type_to_name(t));
		return NULL;
	}
	return v;
}

static int cmp_ip(const void *a, const void *b)
{
	const struct lease *x = a, *y = b;
	return x->ip < y->ip ? -1 : x->ip > y->ip;
}

static int cmp_owner(const void *a, const void *b)
{
	const struct lease *x = a, *y = b;
	int r = strcmp(x->owner_kind, y->owner_kind);
	return r ? r : strcmp(x->owner_id, y->owner_id);
}

static int cmp_mac(const void *a, const void *b)
{
	return memcmp(((const struct lease *)a)->mac, ((const struct lease *)b)->mac, 6);
}

/* A value's own error (bad address...) becomes the file's: EBADMSG, with
 * the file and place in front. `where` may end in ": ". */
static int corrupt(struct cl_error *err, const char *path, const char *where)
{
	if (!err)
		return -EBADMSG;
	err->code = EBADMSG;
	size_t n = strlen(where);
	if (n >= 2 && where[n - 2] == ':')
		n -= 2;
	return cl_err_wrap(err, "%s: %.*s", path, (int)n, where);
}

static int parse_lease(struct json_object *o, const struct cidr *c, const char *path,
		       size_t idx, struct lease *l, struct cl_error *err)
{
	int r = 0;
	char where[32], b[CIDR_STR_MAX];
	struct json_object *ip, *mac, *kind, *id, *created;
	snprintf(where, sizeof(where), "lease %zu: ", idx);
	if (!json_object_is_type(o, json_type_object))
		return cl_err(err, EBADMSG, "%s: %snot an object", path, where);
	if (!(ip = field(o, "ip", json_type_string, path, where, &r, err)) ||
	    !(mac = field(o, "mac", json_type_string, path, where, &r, err)) ||
	    !(kind = field(o, "owner_kind", json_type_string, path, where, &r, err)) ||
	    !(id = field(o, "owner_id", json_type_string, path, where, &r, err)) ||
	    !(created = field(o, "created", json_type_int, path, where, &r, err)))
		return r;
	if (ip4_parse(json_object_get_string(ip), &l->ip, err) < 0 ||
	    net_mac_parse(json_object_get_string(mac), l->mac, err) < 0 ||
	    owner_check(json_object_get_string(kind), json_object_get_string(id), err) < 0)
		return corrupt(err, path, where);
	if (l->ip <= ipam_gateway(c) || l->ip > cidr_last_host(c))
		return cl_err(err, EBADMSG, "%s: %sip %s is not a guest address of %s", path,
			      where, json_object_get_string(ip), cidr_format(c, b));
	if (l->mac[0] & 1)
		return cl_err(err, EBADMSG, "%s: %smac %s is multicast", path, where,
			      json_object_get_string(mac));
	snprintf(l->owner_kind, sizeof(l->owner_kind), "%s", json_object_get_string(kind));
	snprintf(l->owner_id, sizeof(l->owner_id), "%s", json_object_get_string(id));
	l->created = json_object_get_int64(created);
	return 0;
}

/* Two leases may share neither owner, nor mac, nor ip: sort by each in
 * turn (ip last, the order callers want) and look at neighbours. */
static int dup_check(struct lease *v, size_t n, const char *path, struct cl_error *err)
{
	char a[IP4_STR_MAX], b[IP4_STR_MAX], m[MAC_STR_MAX];
	qsort(v, n, sizeof(*v), cmp_owner);
	for (size_t i = 1; i < n; i++)
		if (cmp_owner(&v[i - 1], &v[i]) == 0)
			return cl_err(err, EBADMSG, "%s: owner %s %s holds two leases (%s and %s)",
				      path, v[i].owner_kind, v[i].owner_id,
				      ip4_format(v[i - 1].ip, a), ip4_format(v[i].ip, b));
	qsort(v, n, sizeof(*v), cmp_mac);
	for (size_t i = 1; i < n; i++)
		if (cmp_mac(&v[i - 1], &v[i]) == 0)
			return cl_err(err, EBADMSG, "%s: mac %s is on two leases (%s and %s)", path,
				      net_mac_format(v[i].mac, m), ip4_format(v[i - 1].ip, a),
				      ip4_format(v[i].ip, b));
	qsort(v, n, sizeof(*v), cmp_ip);
	for (size_t i = 1; i < n; i++)
		if (v[i - 1].ip == v[i].ip)
			return cl_err(err, EBADMSG, "%s: ip %s is leased twice (%s %s and %s %s)",
				      path, ip4_format(v[i].ip, a), v[i - 1].owner_kind,
				      v[i - 1].owner_id, v[i].owner_kind, v[i].owner_id);
	return 0;
}

/* Read lf->path for vpc/subnet; a missing file is an empty one. */
static int lf_load(struct lease_file *lf, const char *vpc, const char *subnet,
		   struct cl_error *err)
{
	struct json_object *root = NULL, *v, *arr;
	const char *path = lf->path;
	lf->exists = false;
	lf->v = NULL;
	lf->n = 0;
	int r = net_state_read_json(path, &root, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (!json_object_is_type(root, json_type_object)) {
		r = cl_err(err, EBADMSG, "%s: not a JSON object", path);
		goto out;
	}
	if (!(v = field(root, "version", json_type_int, path, "", &r, err)))
		goto out;
	if (json_object_get_int64(v) != 1) {
		r = cl_err(err, EBADMSG, "%s: version %lld, this cloudlet reads version 1", path,
			   (long long)json_object_get_int64(v));
		goto out;
	}
	/* the file names itself, so a file copied to the wrong place is caught */
	if (!(v = field(root, "vpc", json_type_string, path, "", &r, err)))
		goto out;
	if (strcmp(json_object_get_string(v), vpc) != 0) {
		r = cl_err(err, EBADMSG, "%s: records vpc '%.64s', not '%s'", path,
			   json_object_get_string(v), vpc);
		goto out;
	}
	if (!(v = field(root, "subnet", json_type_string, path, "", &r, err)))
		goto out;
	if (strcmp(json_object_get_string(v), subnet) != 0) {
		r = cl_err(err, EBADMSG, "%s: records subnet '%.64s', not '%s'", path,
			   json_object_get_string(v), subnet);
		goto out;
	}
	if (!(v = field(root, "cidr", json_type_string, path, "", &r, err)))
		goto out;
	if ((r = cidr_parse(json_object_get_string(v), &lf->cidr, err)) < 0) {
		r = corrupt(err, path, "cidr");
		goto out;
	}
	if (lf->cidr.prefix > NET_SUBNET_MAX_PREFIX) {
		r = cl_err(err, EBADMSG, "%s: cidr /%u leaves no guest address", path,
			   lf->cidr.prefix);
		goto out;
	}
	/* optional: files written before it existed have none */
	struct json_object *lastv;
	if (json_object_object_get_ex(root, "last", &lastv) &&
	    (!json_object_is_type(lastv, json_type_string) ||
	     ip4_parse(json_object_get_string(lastv), &lf->last, err) < 0)) {
		r = corrupt(err, path, "last");
		goto out;
	}
	if (!(arr = field(root, "leases", json_type_array, path, "", &r, err)))
		goto out;
	size_t n = json_object_array_length(arr);
	if (n > ipam_capacity(&lf->cidr)) {
		r = cl_err(err, EBADMSG, "%s: %zu leases, more than the subnet holds", path, n);
		goto out;
	}
	if (n && !(lf->v = calloc(n, sizeof(*lf->v)))) {
		r = cl_err(err, ENOMEM, "%s: out of memory", path);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		r = parse_lease(json_object_array_get_idx(arr, i), &lf->cidr, path, i,
				&lf->v[i], err);
		if (r < 0)
			goto out;
		lf->n++;
	}
	if ((r = dup_check(lf->v, lf->n, path, err)) < 0)
		goto out;
	lf->exists = true;
out:
	json_object_put(root);
	if (r < 0) {
		free(lf->v);
		lf->v = NULL;
		lf->n = 0;
	}
	return r;
}

static int add_str(struct json_object *o, const char *k, const char *s)
{
	struct json_object *v = json_object_new_string(s);
	if (!v || json_object_object_add(o, k, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int lf_store(const struct lease_file *lf, const char *vpc, const char *subnet,
		    struct cl_error *err)
{
	char b[CIDR_STR_MAX], ip[IP4_STR_MAX], mac[MAC_STR_MAX];
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	int r = root && arr ? 0 : -ENOMEM;
	if (r == 0) {
		struct json_object *ver = json_object_new_int(1);
		r = ver && json_object_object_add(root, "version", ver) == 0 ? 0 : -ENOMEM;
		if (r < 0)
			json_object_put(ver);
	}
	if (r == 0)
		r = add_str(root, "vpc", vpc);
	if (r == 0)
		r = add_str(root, "subnet", subnet);
	if (r == 0)
		r = add_str(root, "cidr", cidr_format(&lf->cidr, b));
	if (r == 0)
		r = add_str(root, "gateway", ip4_format(ipam_gateway(&lf->cidr), ip));
	if (r == 0 && lf->last)
		r = add_str(root, "last", ip4_format(lf->last, ip));
	for (size_t i = 0; r == 0 && i < lf->n; i++) {
		const struct lease *l = &lf->v[i];
		struct json_object *o = json_object_new_object(), *t = NULL;
		r = o ? 0 : -ENOMEM;
		if (r == 0)
			r = add_str(o, "ip", ip4_format(l->ip, ip));
		if (r == 0)
			r = add_str(o, "mac", net_mac_format(l->mac, mac));
		if (r == 0)
			r = add_str(o, "owner_kind", l->owner_kind);
		if (r == 0)
			r = add_str(o, "owner_id", l->owner_id);
		if (r == 0) {
			t = json_object_new_int64(l->created);
			r = t && json_object_object_add(o, "created", t) == 0 ? 0 : -ENOMEM;
			if (r < 0)
				json_object_put(t);
		}
		if (r == 0 && json_object_array_add(arr, o) < 0)
			r = -ENOMEM;
		if (r < 0)
			json_object_put(o);
	}
	if (r == 0) {
		if (json_object_object_add(root, "leases", arr) == 0)
			arr = NULL;
		else
			r = -ENOMEM;
	}
	if (r == 0)
		r = net_state_write_json(lf->path, root, err);
	else
		r = cl_err(err, ENOMEM, "%s: out of memory", lf->path);
	json_object_put(arr);
	json_object_put(root);
	return r;
}

static struct lease *lf_find(const struct lease_file *lf, const char *kind, const char *id)
{
	for (size_t i = 0; i < lf->n; i++)
		if (strcmp(lf->v[i].owner_kind, kind) == 0 && strcmp(lf->v[i].owner_id, id) == 0)
			return &lf->v[i];
	return NULL;
}

static bool mac_used(const struct lease_file *lf, const uint8_t mac[6])
{
	for (size_t i = 0; i < lf->n; i++)
		if (memcmp(lf->v[i].mac, mac, 6) == 0)
			return true;
	return false;
}

int ipam_allocate(const char *state, const char *vpc, const char *subnet,
		  const struct cidr *c, const char *owner_kind, const char *owner_id,
		  struct lease *out, struct cl_error *err)
{
	char dir[PATH_MAX], lock[PATH_MAX], b1[CIDR_STR_MAX], b2[CIDR_STR_MAX];
	struct lease_file lf = { 0 };
	int fd = -1, r;
	if ((r = names_check(state, vpc, subnet, err)) < 0 ||
	    (r = owner_check(owner_kind, owner_id, err)) < 0)
		return r;
	if (c->prefix > NET_SUBNET_MAX_PREFIX || (c->addr & ~cidr_mask(c->prefix)))
		return cl_err(err, EINVAL, "vpc %s: subnet %s: %s is not a subnet with guest "
			      "addresses (/%d or shorter)", vpc, subnet, cidr_format(c, b1),
			      NET_SUBNET_MAX_PREFIX);
	if ((r = lease_path(dir, state, vpc, NULL, NULL, err)) < 0 ||
	    (r = lease_path(lf.path, state, vpc, subnet, "json", err)) < 0 ||
	    (r = lease_path(lock, state, vpc, subnet, "lock", err)) < 0 ||
	    (r = net_state_mkdirs(dir, err)) < 0 ||
	    (r = net_state_lock(lock, &fd, err)) < 0)
		return r;
	/* from here to close(fd) no other writer runs on this subnet */
	if ((r = lf_load(&lf, vpc, subnet, err)) < 0)
		goto out;
	if (lf.exists && (lf.cidr.addr != c->addr || lf.cidr.prefix != c->prefix)) {
		r = cl_err(err, EINVAL, "vpc %s: subnet %s: %s holds leases of %s, not %s", vpc,
			   subnet, lf.path, cidr_format(&lf.cidr, b1), cidr_format(c, b2));
		goto out;
	}
	lf.cidr = *c;
	const struct lease *have = lf_find(&lf, owner_kind, owner_id);
	if (have) {
		*out = *have;
		goto out;
	}
	struct lease l = { .created = (int64_t)time(NULL) };
	uint32_t *used = lf.n ? malloc(lf.n * sizeof(*used)) : NULL;
	if (lf.n && !used) {
		r = cl_err(err, ENOMEM, "%s: out of memory", lf.path);
		goto out;
	}
	for (size_t i = 0; i < lf.n; i++)
		used[i] = lf.v[i].ip;
	/* round robin from the last address leased, as CNI's host-local IPAM
	 * does: an address just released is not handed out again at once,
	 * while its old owner's MAC may still sit in its peers' ARP caches */
	r = ipam_pick_from(c, used, lf.n, lf.last ? lf.last + 1 : 0, &l.ip);
	free(used);
	if (r == -ENOSPC) {
		uint64_t cap = ipam_capacity(c);
		r = cl_err(err, ENOSPC, "vpc %s: subnet %s: %s is full (%llu guest address%s, "
			   "all leased)", vpc, subnet, cidr_format(c, b1), (unsigned long long)cap,
			   cap == 1 ? "" : "es");
		goto out;
	}
	if (r < 0) {
		r = cl_err(err, -r, "vpc %s: subnet %s: out of memory", vpc, subnet);
		goto out;
	}
	/* a 40-bit hash collides within one subnet about never; if it does,
	 * the next salt keeps the bridge's forwarding table sane */
	unsigned salt = 0;
	do
		net_mac(vpc, subnet, owner_kind, owner_id, salt++, l.mac);
	while (mac_used(&lf, l.mac));
	snprintf(l.owner_kind, sizeof(l.owner_kind), "%s", owner_kind);
	snprintf(l.owner_id, sizeof(l.owner_id), "%s", owner_id);
	struct lease *nv = realloc(lf.v, (lf.n + 1) * sizeof(*nv));
	if (!nv) {
		r = cl_err(err, ENOMEM, "%s: out of memory", lf.path);
		goto out;
	}
	lf.v = nv;
	lf.v[lf.n++] = l;
	lf.last = l.ip;
	qsort(lf.v, lf.n, sizeof(*lf.v), cmp_ip);
	if ((r = lf_store(&lf, vpc, subnet, err)) < 0)
		goto out;
	*out = l;
out:
	free(lf.v);
	close(fd);
	return r;
}

int ipam_release(const char *state, const char *vpc, const char *subnet,
		 const char *owner_kind, const char *owner_id, struct cl_error *err)
{
	char lock[PATH_MAX];
	struct lease_file lf = { 0 };
	struct stat st;
	int fd = -1, r;
	if ((r = names_check(state, vpc, subnet, err)) < 0 ||
	    (r = owner_check(owner_kind, owner_id, err)) < 0 ||
	    (r = lease_path(lf.path, state, vpc, subnet, "json", err)) < 0 ||
	    (r = lease_path(lock, state, vpc, subnet, "lock", err)) < 0)
		return r;
	/* nothing was ever leased here: do not create directories to say so */
	if (stat(lf.path, &st) < 0 && errno == ENOENT)
		return cl_err(err, ENOENT, "vpc %s: subnet %s: no lease for %s %s", vpc, subnet,
			      owner_kind, owner_id);
	if ((r = net_state_lock(lock, &fd, err)) < 0)
		return r;
	if ((r = lf_load(&lf, vpc, subnet, err)) < 0)
		goto out;
	struct lease *l = lf_find(&lf, owner_kind, owner_id);
	if (!l) {
		r = cl_err(err, ENOENT, "vpc %s: subnet %s: no lease for %s %s", vpc, subnet,
			   owner_kind, owner_id);
		goto out;
	}
	/* lf_load left the leases sorted by ip; keep them so */
	memmove(l, l + 1, (size_t)(lf.v + lf.n - (l + 1)) * sizeof(*l));
	lf.n--;
	r = lf_store(&lf, vpc, subnet, err);
out:
	free(lf.v);
	close(fd);
	return r;
}

int ipam_list(const char *state, const char *vpc, const char *subnet,
	      struct lease **out, size_t *n, struct cl_error *err)
{
	struct lease_file lf = { 0 };
	int r;
	if ((r = names_check(state, vpc, subnet, err)) < 0 ||
	    (r = lease_path(lf.path, state, vpc, subnet, "json", err)) < 0 ||
	    (r = lf_load(&lf, vpc, subnet, err)) < 0)
		return r;
	*out = lf.v;
	*n = lf.n;
	return 0;
}
