/* The controller's writes: what `host`, `vpc`, `sg` and the launchers'
 * attachments do when a controller is configured. Every change is a
 * read-modify-write of one key, committed only if nobody changed the key
 * meanwhile (compare-and-swap on its revision; retried), and touches no
 * kernel state except the simulated hosts' own namespaces and the guest's
 * port: the agents make the rest. See include/cloudlet/sdn.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../internal.h"
#include "cloudlet/sdn.h"
#include "dataplane.h"

#define UNDERLAY "172.31.0.0/16"    /* RFC 1918, inside the simulated hosts' namespaces only */
#define UNDERLAY_BRIDGE "ul0"
#define CAS_TRIES 20

static int store_open(const char *url, struct sdn_store **st, struct sdn_state *s, struct cl_error *err)
{
	int r = sdn_store_open(url, st, err);
	if (r < 0)
		return r;
	if ((r = sdn_state_load(*st, s, err)) < 0) {
		sdn_store_close(*st);
		return cl_err_wrap(err, "changes cannot be made");
	}
	/* a store is stamped with the schema it is written in */
	char schema[16];
	snprintf(schema, sizeof(schema), "%d", SDN_SCHEMA);
	if ((r = (*st)->ops->cas(*st, "/cloudlet/schema", schema, 0, NULL, err)) == -EAGAIN)
		r = 0;
	if (r < 0) {
		sdn_state_free(s);
		sdn_store_close(*st);
	}
	return r;
}

static void underlay_names(const struct sdn_store *st, const char *host, char uns[NET_NAME_LEN + 32],
			   char port[NET_IFNAMSIZ])
{
	snprintf(uns, NET_NAME_LEN + 32, "clsu-%s", st->cluster);
	const char *parts[] = { "underlay", st->cluster, host };
	snprintf(port, NET_IFNAMSIZ, "clul-%010llx", (unsigned long long)(net_hash(parts, 3) >> 24));
}

/* the simulated host's namespace on the shared underlay bridge */
static int host_plumb(const struct sdn_store *st, const char *name, uint32_t ip, struct cl_error *err)
{
	char uns[NET_NAME_LEN + 32], hns[NET_NAME_LEN + 32], port[NET_IFNAMSIZ];
	struct nl_sock *usk = NULL, *hsk = NULL;
	int ufd = -1, hfd = -1, r;
	struct cidr ul;
	cidr_parse(UNDERLAY, &ul, NULL);
	underlay_names(st, name, uns, port);
	sdn_host_netns(st->cluster, name, hns);
	if (!netns_exists(uns)) {
		if ((r = netns_create(uns, err)) < 0 || (r = netns_open(uns, &ufd, err)) < 0 ||
		    (r = nl_open(ufd, &usk, err)) < 0 ||
		    (r = link_bridge_add(usk, UNDERLAY_BRIDGE, SDN_UNDERLAY_MTU, NULL, err)) < 0 ||
		    (r = link_set_up(usk, UNDERLAY_BRIDGE, 0, err)) < 0)
			goto out;
	} else if ((r = netns_open(uns, &ufd, err)) < 0 || (r = nl_open(ufd, &usk, err)) < 0) {
		goto out;
	}
	if ((r = netns_create(hns, err)) < 0 || (r = netns_open(hns, &hfd, err)) < 0 ||
	    (r = nl_open(hfd, &hsk, err)) < 0 ||
	    (r = link_veth_add(usk, port, "ul0", hfd, NULL, SDN_UNDERLAY_MTU, err)) < 0 ||
	    (r = link_set_master(usk, port, UNDERLAY_BRIDGE, err)) < 0 ||
	    (r = link_set_up(usk, port, 0, err)) < 0 || (r = link_set_up(hsk, "lo", 0, err)) < 0 ||
	    (r = addr_add(hsk, "ul0", ip, ul.prefix, err)) < 0 || (r = link_set_up(hsk, "ul0", 0, err)) < 0)
		goto out;
out:
	nl_close(usk);
	nl_close(hsk);
	if (ufd >= 0)
		close(ufd);
	if (hfd >= 0)
		close(hfd);
	return r;
}

static void host_unplumb(const struct sdn_store *st, const char *name, bool last)
{
	char uns[NET_NAME_LEN + 32], hns[NET_NAME_LEN + 32], port[NET_IFNAMSIZ], vns[NET_NAME_LEN + 32];
	underlay_names(st, name, uns, port);
	sdn_host_netns(st->cluster, name, hns);
	/* its VPC namespaces (the agent's), then the host; the underlay veth
	 * dies with the host's namespace */
	size_t n = (size_t)snprintf(vns, sizeof(vns), "clsv-%s-%s-", st->cluster, name);
	DIR *d = opendir(NET_NETNS_DIR);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, vns, n) && strlen(e->d_name + n) == 8)
			netns_delete(e->d_name, NULL);
	if (d)
		closedir(d);
	netns_delete(hns, NULL);
	if (last)
		netns_delete(uns, NULL);
}

/* addr: a machine's own address (nothing to plumb), else NULL: a
 * simulated host with the next free underlay address */
static int host_add(const char *url, const char *name, const uint32_t *addr, struct cl_error *err)
{
	struct sdn_store *st;
	struct sdn_state s;
	struct sdn_host h = { 0 };
	char key[128], ip[IP4_STR_MAX];
	int r;
	if ((r = sdn_host_check(name, err)) < 0 || (r = store_open(url, &st, &s, err)) < 0)
		return r;
	if (sdn_host_find(&s, name)) {
		r = cl_err(err, EEXIST, "host %s exists", name);
		goto out;
	}
	for (size_t i = 0; addr && i < s.nhosts; i++)
		if (s.hosts[i].underlay == *addr) {
			r = cl_err(err, EEXIST, "host %s: address %s is host %s's", name, ip4_format(*addr, ip),
				   s.hosts[i].name);
			goto out;
		}
	snprintf(h.name, sizeof(h.name), "%s", name);
	if (addr) {
		h.underlay = *addr;
		h.machine = true;
	} else {
		uint32_t *used = calloc(s.nhosts + 1, sizeof(*used));
		struct cidr ul;
		cidr_parse(UNDERLAY, &ul, NULL);
		for (size_t i = 0; used && i < s.nhosts; i++)
			used[i] = s.hosts[i].underlay;
		r = used ? ipam_pick(&ul, used, s.nhosts, &h.underlay) : -ENOMEM;
		free(used);
		if (r < 0) {
			r = cl_err(err, -r, "host %s: no underlay address left in %s", name, UNDERLAY);
			goto out;
		}
		if ((r = host_plumb(st, name, h.underlay, err)) < 0) {
			host_unplumb(st, name, s.nhosts == 0);
			goto out;
		}
	}
	char *json = sdn_host_to_json(&h);
	snprintf(key, sizeof(key), "/cloudlet/hosts/%s", name);
	r = json ? st->ops->cas(st, key, json, 0, NULL, err) : cl_err(err, ENOMEM, "out of memory");
	free(json);
	if (r == -EAGAIN)
		r = cl_err(err, EEXIST, "host %s exists", name);
	if (r < 0 && !addr)
		host_unplumb(st, name, s.nhosts == 0);
out:
	if (r < 0)
		cl_err_wrap(err, "host add %s", name);
	sdn_state_free(&s);
	sdn_store_close(st);
	return r;
}

int sdn_host_add(const char *url, const char *name, struct cl_error *err)
{
	return host_add(url, name, NULL, err);
}

int sdn_host_add_machine(const char *url, const char *name, uint32_t addr, struct cl_error *err)
{
	return host_add(url, name, &addr, err);
}

int sdn_host_rm(const char *url, const char *name, struct cl_error *err)
{
	struct sdn_store *st;
	struct sdn_state s;
	char key[128];
	int r;
	if ((r = sdn_host_check(name, err)) < 0 || (r = store_open(url, &st, &s, err)) < 0)
		return r;
	if (!sdn_host_find(&s, name)) {
		r = cl_err(err, ENOENT, "host %s: no such host", name);
		goto out;
	}
	snprintf(key, sizeof(key), "/cloudlet/hosts/%s", name);
	if ((r = st->ops->cas(st, key, NULL, -1, NULL, err)) < 0)
		goto out;
	snprintf(key, sizeof(key), "/cloudlet/applied/%s", name);
	st->ops->cas(st, key, NULL, -1, NULL, NULL);
	host_unplumb(st, name, s.nhosts == 1);   /* a machine: only its VPC namespaces, if here */
out:
	sdn_state_free(&s);
	sdn_store_close(st);
	return r;
}

int sdn_host_list(const char *url, struct sdn_state *out, struct cl_error *err)
{
	struct sdn_store *st;
	int r = sdn_store_open(url, &st, err);
	if (r < 0)
		return r;
	r = sdn_state_load(st, out, err);
	sdn_store_close(st);
	return r;
}

/* ---- VPCs: one key each, changed by fn under compare-and-swap ---- */

typedef int (*vpc_fn)(struct sdn_state *s, struct sdn_vpc *v, const void *arg, struct cl_error *err);

static struct sdn_vpc *state_vpc(struct sdn_state *s, const char *name)
{
	for (size_t i = 0; i < s->nvpcs; i++)
		if (!strcmp(s->vpcs[i].v.name, name))
			return &s->vpcs[i];
	return NULL;
}

/* fn(v) on VPC `name` (v NULL: create), then write it back (or delete it
 * when fn returns 1); *rev: the revision written */
static int vpc_update(const char *url, const char *name, bool create, vpc_fn fn, const void *arg,
		      int64_t *rev, struct cl_error *err);
int sdn_vpc_update(const char *url, const char *name, vpc_fn fn, const void *arg, int64_t *rev,
		   struct cl_error *err)
{
	return vpc_update(url, name, false, fn, arg, rev, err);
}

static int vpc_update(const char *url, const char *name, bool create, vpc_fn fn, const void *arg,
		      int64_t *rev, struct cl_error *err)
{
	char key[128];
	snprintf(key, sizeof(key), "/cloudlet/vpcs/%s", name);
	for (int tries = 0; tries < CAS_TRIES; tries++) {
		struct sdn_store *st;
		struct sdn_state s;
		struct sdn_vpc fresh = { 0 };
		int r = store_open(url, &st, &s, err);
		if (r < 0)
			return r;
		struct sdn_vpc *v = state_vpc(&s, name);
		int64_t expect = v ? v->mod_rev : 0;
		if (!v && !create)
			r = cl_err(err, ENOENT, "vpc %s: no such VPC", name);
		else if (v && create)
			r = cl_err(err, EEXIST, "vpc %s exists", name);
		else
			r = fn(&s, v ? v : &fresh, arg, err);
		if (r >= 0) {
			char *json = r == 1 ? NULL : sdn_vpc_to_json(v ? v : &fresh);
			if (r != 1 && !json)
				r = cl_err(err, ENOMEM, "out of memory");
			else
				r = st->ops->cas(st, key, json, expect, rev, err);
			free(json);
		}
		sdn_vpc_free(&fresh);
		sdn_state_free(&s);
		sdn_store_close(st);
		if (r != -EAGAIN)
			return r;
	}
	return cl_err(err, EAGAIN, "vpc %s: changed concurrently %d times, try again", name, CAS_TRIES);
}

static int default_sg(struct vpc *v, struct cl_error *err)
{
	if (!(v->sgs = calloc(1, sizeof(*v->sgs))) || !(v->sgs[0].rules = calloc(1, sizeof(struct sg_rule))))
		return cl_err(err, ENOMEM, "out of memory");
	v->nsgs = v->sgs[0].nrules = 1;
	snprintf(v->sgs[0].name, sizeof(v->sgs[0].name), "%s", NET_SG_DEFAULT);
	return sg_rule_parse(SG_INGRESS, "all", NULL, "sg:" NET_SG_DEFAULT, &v->sgs[0].rules[0], err);
}

/* ---- VNIs: one per VPC, claimed in one key under compare-and-swap ---- */

#define VNIS_KEY "/cloudlet/vnis"

struct vni_arg {
	const char *vpc;
	uint32_t vni;
};

/* fn on the claims (0: write them back, 1: unchanged), committed only if
 * the key did not change meanwhile (retried); no claim left: no key */
static int vnis_update(const char *url, int (*fn)(struct sdn_vnis *m, struct vni_arg *a, struct cl_error *err),
		       struct vni_arg *arg, struct cl_error *err)
{
	for (int tries = 0; tries < CAS_TRIES; tries++) {
		struct sdn_store *st;
		struct sdn_state s;
		struct sdn_kv *kvs = NULL;
		struct sdn_vnis m = { 0 };
		size_t n = 0;
		int64_t rev, expect = 0;
		int r = store_open(url, &st, &s, err);   /* the schema checked */
		if (r < 0)
			return r;
		sdn_state_free(&s);
		if ((r = st->ops->get(st, VNIS_KEY, &kvs, &n, &rev, err)) < 0)
			goto next;
		for (size_t i = 0; i < n && r == 0; i++)
			if (!strcmp(kvs[i].key, VNIS_KEY)) {
				expect = kvs[i].mod_rev;
				if ((r = sdn_vnis_from_json(kvs[i].value, &m, err)) < 0)
					cl_err_wrap(err, "controller %s: %s", url, VNIS_KEY);
			}
		if (r < 0 || (r = fn(&m, arg, err)) != 0 || (!m.n && !expect))
			goto next;
		char *json = m.n ? sdn_vnis_to_json(&m) : NULL;
		if (m.n && !json)
			r = cl_err(err, ENOMEM, "out of memory");
		else
			r = st->ops->cas(st, VNIS_KEY, json, expect, NULL, err);
		free(json);
next:
		sdn_vnis_free(&m);
		sdn_kvs_free(kvs, n);
		sdn_store_close(st);
		if (r != -EAGAIN)
			return r < 0 ? r : 0;
	}
	return cl_err(err, EAGAIN, "%s: changed concurrently %d times, try again", VNIS_KEY, CAS_TRIES);
}

static int vni_claim_fn(struct sdn_vnis *m, struct vni_arg *a, struct cl_error *err)
{
	int r = sdn_vnis_claim(m, a->vpc, SDN_VNI_FIRST, SDN_VNI_LAST, &a->vni);
	if (r == -ENOSPC)
		return cl_err(err, ENOSPC, "vpc %s: no VNI left (%d..%d all claimed by other VPCs)", a->vpc,
			      SDN_VNI_FIRST, SDN_VNI_LAST);
	return r < 0 ? cl_err(err, -r, "out of memory") : 0;
}

static int vni_release_fn(struct sdn_vnis *m, struct vni_arg *a, struct cl_error *err)
{
	(void)err;
	return sdn_vnis_release(m, a->vni, a->vpc) ? 0 : 1;
}

struct create_arg {
	const char *name;
	struct cidr cidr;
	uint32_t vni;
};

static int vpc_create_fn(struct sdn_state *s, struct sdn_vpc *v, const void *arg, struct cl_error *err)
{
	const struct create_arg *a = arg;
	(void)s;
	snprintf(v->v.name, sizeof(v->v.name), "%s", a->name);
	snprintf(v->v.netns, sizeof(v->v.netns), "overlay");   /* one per host: sdn_vpc_netns */
	v->v.cidr = a->cidr;
	v->vni = a->vni;
	return default_sg(&v->v, err);
}

/* is VPC `name` in the store with VNI vni (or can that not be told)? */
static bool vpc_holds_vni(const char *url, const char *name, uint32_t vni)
{
	struct sdn_store *st;
	struct sdn_state s;
	bool holds = true;
	if (sdn_store_open(url, &st, NULL) < 0)
		return true;
	if (sdn_state_load(st, &s, NULL) == 0) {
		const struct sdn_vpc *v = state_vpc(&s, name);
		holds = v && v->vni == vni;
		sdn_state_free(&s);
	}
	sdn_store_close(st);
	return holds;
}

int sdn_vpc_create(const char *url, const char *name, const char *cidr, struct cl_error *err)
{
	struct create_arg a = { .name = name };
	struct vni_arg c = { .vpc = name };
	int r;
	if ((r = net_name_check("vpc", name, err)) < 0 || (r = cidr_parse(cidr, &a.cidr, err)) < 0 ||
	    (r = net_vpc_check(name, &a.cidr, err)) < 0)
		return r;
	/* claim first, then write the VPC: a VPC's VNI is always claimed, by
	 * it alone (a claim is fresh, and released only by its maker or by
	 * `vpc rm` of the VPC holding it) */
	if ((r = vnis_update(url, vni_claim_fn, &c, err)) < 0)
		return r;
	a.vni = c.vni;
	if ((r = vpc_update(url, name, true, vpc_create_fn, &a, NULL, err)) < 0 && !vpc_holds_vni(url, name, c.vni))
		vnis_update(url, vni_release_fn, &c, NULL);
	return r;
}

struct rm_arg {
	bool force;
	uint32_t vni;   /* out: the VPC's */
};

static int vpc_rm_fn(struct sdn_state *s, struct sdn_vpc *v, const void *arg, struct cl_error *err)
{
	struct rm_arg *a = (struct rm_arg *)arg;
	(void)s;
	if (v->v.natts && !a->force)
		return cl_err(err, EBUSY, "vpc %s: %zu guest(s) attached (%s %s on host %s...): stop them or use --force",
			      v->v.name, v->v.natts, v->v.atts[0].kind, v->v.atts[0].id, v->v.atts[0].host);
	a->vni = v->vni;
	return 1;
}

int sdn_vpc_rm(const char *url, const char *name, bool force, struct cl_error *err)
{
	struct rm_arg a = { .force = force };
	int r = net_name_check("vpc", name, err);
	if (r < 0 || (r = vpc_update(url, name, false, vpc_rm_fn, &a, NULL, err)) < 0)
		return r;
	/* the VPC is gone; a claim left behind (store down just now) only
	 * keeps one VNI out of use */
	struct vni_arg c = { .vpc = name, .vni = a.vni };
	vnis_update(url, vni_release_fn, &c, NULL);
	return 0;
}

struct subnet_arg {
	const char *name;
	struct cidr cidr;
};

static int subnet_fn(struct sdn_state *s, struct sdn_vpc *sv, const void *arg, struct cl_error *err)
{
	const struct subnet_arg *a = arg;
	struct vpc *v = &sv->v;
	(void)s;
	int r = net_subnet_check(v->name, &v->cidr, a->name, &a->cidr, v->subnets, v->nsubnets, err);
	if (r < 0)
		return r;
	struct net_subnet *g = realloc(v->subnets, (v->nsubnets + 1) * sizeof(*g));
	uint32_t *gl = g ? realloc(sv->last, (v->nsubnets + 1) * sizeof(*gl)) : NULL;
	if (g)
		v->subnets = g;
	if (gl)
		sv->last = gl;
	if (!g || !gl || !(g[v->nsubnets].name = strdup(a->name)))
		return cl_err(err, ENOMEM, "out of memory");
	g[v->nsubnets].cidr = a->cidr;
	gl[v->nsubnets++] = 0;
	return 0;
}

int sdn_subnet_create(const char *url, const char *ref, const char *cidr, struct cl_error *err)
{
	char vn[NET_NAME_LEN + 1], sn[NET_NAME_LEN + 1];
	struct subnet_arg a = { .name = sn };
	int r;
	if ((r = net_ref_parse(ref, vn, sn, err)) < 0 || (r = cidr_parse(cidr, &a.cidr, err)) < 0)
		return r;
	if ((r = vpc_update(url, vn, false, subnet_fn, &a, NULL, err)) < 0)
		cl_err_wrap(err, "subnet %s", ref);
	return r;
}

static int sg_create_fn(struct sdn_state *s, struct sdn_vpc *sv, const void *arg, struct cl_error *err)
{
	struct vpc *v = &sv->v;
	(void)s;
	if (vpc_sg_find(v, arg))
		return cl_err(err, EEXIST, "security group %s/%s exists", v->name, (const char *)arg);
	struct vpc_sg *g = realloc(v->sgs, (v->nsgs + 1) * sizeof(*g));
	if (!g)
		return cl_err(err, ENOMEM, "out of memory");
	v->sgs = g;
	g[v->nsgs] = (struct vpc_sg){ 0 };
	snprintf(g[v->nsgs++].name, NET_NAME_LEN + 1, "%s", (const char *)arg);
	return 0;
}

int sdn_sg_create(const char *url, const char *ref, struct cl_error *err)
{
	char vn[NET_NAME_LEN + 1], gn[NET_NAME_LEN + 1];
	int r = net_ref_parse(ref, vn, gn, err);
	return r < 0 ? r : vpc_update(url, vn, false, sg_create_fn, gn, NULL, err);
}

struct rule_arg {
	const char *sg;
	const struct sg_rule *rule;
};

static int rule_fn(struct sdn_state *s, struct sdn_vpc *sv, const void *arg, struct cl_error *err)
{
	const struct rule_arg *a = arg;
	struct vpc_sg *g = vpc_sg_find(&sv->v, a->sg);
	(void)s;
	if (!g)
		return cl_err(err, ENOENT, "security group %s/%s: no such group", sv->v.name, a->sg);
	if (a->rule->from_sg && !vpc_sg_find(&sv->v, a->rule->sg))
		return cl_err(err, ENOENT, "--from sg:%s: no such security group in vpc %s", a->rule->sg, sv->v.name);
	struct sg_rule *rules = realloc(g->rules, (g->nrules + 1) * sizeof(*rules));
	if (!rules)
		return cl_err(err, ENOMEM, "out of memory");
	g->rules = rules;
	rules[g->nrules++] = *a->rule;
	return 0;
}

int sdn_sg_rule_add(const char *url, const char *ref, const struct sg_rule *rule, struct cl_error *err)
{
	char vn[NET_NAME_LEN + 1], gn[NET_NAME_LEN + 1];
	struct rule_arg a = { .sg = gn, .rule = rule };
	int r = net_ref_parse(ref, vn, gn, err);
	return r < 0 ? r : vpc_update(url, vn, false, rule_fn, &a, NULL, err);
}

int sdn_vpc_get(const char *url, const char *name, struct sdn_vpc *out, struct sdn_state *st_out,
		int64_t **applied, struct cl_error *err)
{
	struct sdn_store *st;
	struct sdn_kv *kvs;
	size_t n;
	int64_t rev;
	int r = sdn_store_open(url, &st, err);
	if (r < 0)
		return r;
	if ((r = sdn_state_load(st, st_out, err)) < 0)
		goto out;
	struct sdn_vpc *v = state_vpc(st_out, name);
	if (!v) {
		sdn_state_free(st_out);
		r = cl_err(err, ENOENT, "vpc %s: no such VPC", name);
		goto out;
	}
	*out = *v;
	*v = st_out->vpcs[--st_out->nvpcs];
	if (!(*applied = calloc(st_out->nhosts + 1, sizeof(**applied)))) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	if ((r = st->ops->get(st, "/cloudlet/applied/", &kvs, &n, &rev, err)) < 0)
		goto out;
	for (size_t i = 0; i < st_out->nhosts; i++) {
		(*applied)[i] = -1;
		for (size_t k = 0; k < n; k++) {
			struct sdn_report rep;
			if (!strcmp(kvs[k].key + 18, st_out->hosts[i].name) && sdn_report_from_json(kvs[k].value, &rep) == 0)
				(*applied)[i] = rep.applied;
		}
	}
	sdn_kvs_free(kvs, n);
out:
	sdn_store_close(st);
	return r;
}
