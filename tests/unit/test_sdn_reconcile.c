/* net/sdn/: the agent's pure decision — desired state -> items per host,
 * items + actual -> ops: add, remove, move between hosts, drift repair,
 * idempotence (applying the ops, then reconciling again, yields nothing);
 * and the VNI claims (one per VPC, unique across the cloud). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/sdn.h"
#include "net_fixtures.h"

#define CLUSTER "0badcafe"

static void add_host(struct sdn_state *s, const char *name, uint32_t ip)
{
	s->hosts = realloc(s->hosts, (s->nhosts + 1) * sizeof(*s->hosts));
	memset(&s->hosts[s->nhosts], 0, sizeof(*s->hosts));
	snprintf(s->hosts[s->nhosts].name, sizeof(s->hosts->name), "%s", name);
	s->hosts[s->nhosts++].underlay = ip;
}

/* a VPC (VNI vni) with subnets "a" (10.0.1.0/24) and "b" (10.0.2.0/24)
 * and the default group */
static struct sdn_vpc *add_vpc(struct sdn_state *s, const char *name, uint32_t vni)
{
	struct cl_error err = { 0 };
	char json[1024];
	snprintf(json, sizeof(json),
		 "{\"vpc\": {\"version\": 1, \"name\": \"%s\", \"cidr\": \"10.0.0.0/16\", \"netns\": \"overlay\","
		 " \"subnets\": [ {\"name\": \"a\", \"cidr\": \"10.0.1.0/24\"},"
		 " {\"name\": \"b\", \"cidr\": \"10.0.2.0/24\"} ],"
		 " \"sgs\": [ {\"name\": \"default\", \"rules\": [ {\"dir\": \"ingress\", \"proto\": \"all\","
		 " \"ports\": \"\", \"from\": \"sg:default\"} ]} ], \"attachments\": [], \"nat\": null},"
		 " \"vni\": %u}", name, vni);
	s->vpcs = realloc(s->vpcs, (s->nvpcs + 1) * sizeof(*s->vpcs));
	cr_assert_eq(sdn_vpc_from_json(json, &s->vpcs[s->nvpcs], &err), 0, "%s", err.msg);
	return &s->vpcs[s->nvpcs++];
}

/* a guest in subnet "a", or "b" for a 10.0.2.x address */
static struct vpc_att *attach(struct sdn_vpc *sv, const char *id, const char *host, uint32_t ip)
{
	struct vpc *v = &sv->v;
	const char *sn = (ip >> 8 & 0xff) == 2 ? "b" : "a";
	v->atts = realloc(v->atts, (v->natts + 1) * sizeof(*v->atts));
	struct vpc_att *a = &v->atts[v->natts++];
	memset(a, 0, sizeof(*a));
	strcpy(a->kind, "ct");
	snprintf(a->id, sizeof(a->id), "%s", id);
	strcpy(a->subnet, sn);
	snprintf(a->host, sizeof(a->host), "%s", host);
	net_ifname(NET_IF_VETH_HOST, v->name, sn, "ct", id, a->ifname);
	a->ip = ip;
	net_mac(v->name, sn, "ct", id, 0, a->mac);
	a->sgs = calloc(1, sizeof(*a->sgs));
	strcpy(a->sgs[0], "default");
	a->nsgs = 1;
	return a;
}

static void desired(const struct sdn_state *s, const char *host, struct sdn_items *out)
{
	struct cl_error err = { 0 };
	cr_assert_eq(sdn_desired(s, CLUSTER, host, out, &err), 0, "%s", err.msg);
}

static size_t count(const struct sdn_items *it, enum sdn_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < it->n; i++)
		n += it->v[i].kind == k;
	return n;
}

static const struct sdn_item *find(const struct sdn_items *it, enum sdn_kind k, const char *key_part)
{
	for (size_t i = 0; i < it->n; i++)
		if (it->v[i].kind == k && strstr(it->v[i].key, key_part))
			return &it->v[i];
	return NULL;
}

/* reconcile actual toward want, apply the ops in the model, check that a
 * second pass has nothing to do; returns the number of ops of the first */
static size_t converge(const struct sdn_items *want, struct sdn_items *actual)
{
	struct sdn_op *ops, *again;
	size_t n, m;
	struct sdn_items next;
	cr_assert_eq(sdn_reconcile(want, actual, &ops, &n), 0);
	cr_assert_eq(sdn_items_apply(actual, ops, n, &next), 0);
	sdn_items_free(actual);
	*actual = next;
	cr_assert_eq(sdn_reconcile(want, actual, &again, &m), 0);
	cr_assert_eq(m, 0, "idempotence: %zu ops left after applying", m);
	free(ops);
	free(again);
	return n;
}

static const struct sdn_item *find_kv(const struct sdn_items *it, enum sdn_kind k, const char *key_part,
				      const char *value_part)
{
	for (size_t i = 0; i < it->n; i++)
		if (it->v[i].kind == k && strstr(it->v[i].key, key_part) && strstr(it->v[i].value, value_part))
			return &it->v[i];
	return NULL;
}

/* The common fixture: hosts h1 and h2, VPC v (VNI 4096) with web
 * (10.0.1.2) on h1 and db (10.0.1.3) on h2. */
static struct sdn_vpc *web_db(struct sdn_state *s)
{
	add_host(s, "h1", IP(172, 31, 0, 1));
	add_host(s, "h2", IP(172, 31, 0, 2));
	struct sdn_vpc *v = add_vpc(s, "v", 4096);
	attach(v, "web", "h1", IP(10, 0, 1, 2));
	attach(v, "db", "h2", IP(10, 0, 1, 3));
	return v;
}

Test(sdn_reconcile, add_builds_in_order_and_is_idempotent)
{
	struct sdn_state s = { 0 };
	struct sdn_items want, actual = { 0 };
	struct sdn_op *ops;
	size_t n;
	struct sdn_vpc *v = web_db(&s);
	v->v.atts[0].rate_mbit = 100;
	desired(&s, "h1", &want);
	cr_assert_eq(count(&want, SDN_NETNS), 1);
	cr_assert_eq(count(&want, SDN_QOS), 1, "web's --rate: a qdisc on its port");
	cr_assert_str_eq(find(&want, SDN_QOS, "clvh-")->value, "tbf rate 100mbit");
	cr_assert_eq(count(&want, SDN_BRIDGE), 2, "a bridge per subnet, guests or not");
	cr_assert_eq(count(&want, SDN_VXLAN), 1, "one VXLAN device for the VPC");
	cr_assert_eq(count(&want, SDN_PORT), 1);
	cr_assert_eq(count(&want, SDN_FDB), 1, "one remote host, one FDB entry");
	cr_assert_eq(count(&want, SDN_NEIGH), 1);
	cr_assert_eq(count(&want, SDN_ROUTE), 1, "one remote guest, one route");
	cr_assert_eq(count(&want, SDN_NFT), 1);
	char vx[NET_IFNAMSIZ], mac[MAC_STR_MAX], key[SDN_KEY_MAX], gwmac[MAC_STR_MAX];
	uint8_t m[6];
	sdn_vxlan_name("v", vx);
	sdn_router_mac("v", "h2", m);
	snprintf(key, sizeof(key), "%s %s", vx, net_mac_format(m, mac));
	const struct sdn_item *f = find(&want, SDN_FDB, key);
	cr_assert_not_null(f, "the FDB entry is h2's router MAC");
	cr_assert_str_eq(f->value, "172.31.0.2", "the FDB entry points at h2's underlay address");
	snprintf(key, sizeof(key), "%s 172.31.0.2", vx);
	cr_assert_str_eq(find(&want, SDN_NEIGH, key)->value, mac, "h2's VTEP resolves to its router MAC");
	snprintf(key, sizeof(key), "via 172.31.0.2 dev %s", vx);
	cr_assert_str_eq(find(&want, SDN_ROUTE, "10.0.1.3/32")->value, key, "db: a /32 to h2's VTEP");
	sdn_router_mac("v", "h1", m);
	net_mac_format(m, mac);
	cr_assert(strstr(find(&want, SDN_VXLAN, vx)->value, "vni 4096 local 172.31.0.1 mac "));
	cr_assert(strstr(find(&want, SDN_VXLAN, vx)->value, mac), "h1's own router MAC on its device");
	sdn_gateway_mac("v", "a", m);
	snprintf(key, sizeof(key), "10.0.1.1/24 mac %s mtu 1450 proxy-arp", net_mac_format(m, gwmac));
	cr_assert_not_null(find_kv(&want, SDN_BRIDGE, "clbr-", key), "the anycast gateway of subnet a");
	cr_assert(strstr(find(&want, SDN_NFT, "ruleset")->value, "10.0.1.3"),
		  "the remote guest is a member of the default group here too");

	cr_assert_eq(sdn_reconcile(&want, &actual, &ops, &n), 0);
	cr_assert_eq(n, want.n, "from nothing: one add per item");
	for (size_t i = 1; i < n; i++)
		cr_assert_leq(ops[i - 1].item->kind, ops[i].item->kind, "outermost kind first");
	free(ops);
	converge(&want, &actual);
	cr_assert_eq(actual.n, want.n);
	sdn_items_free(&want);
	sdn_items_free(&actual);
	sdn_state_free(&s);
}

Test(sdn_reconcile, host_without_guests_has_nothing)
{
	struct sdn_state s = { 0 };
	struct sdn_items want;
	add_host(&s, "h1", IP(172, 31, 0, 1));
	add_host(&s, "h3", IP(172, 31, 0, 3));
	attach(add_vpc(&s, "v", 4096), "web", "h1", IP(10, 0, 1, 2));
	desired(&s, "h3", &want);
	cr_assert_eq(want.n, 0, "no VPC with a guest on h3: no namespace, no FDB");
	struct cl_error err = { 0 };
	cr_assert_eq(sdn_desired(&s, CLUSTER, "nope", &want, &err), -ENOENT);
	cr_assert(strstr(err.msg, "host nope"));
	sdn_state_free(&s);
}

Test(sdn_reconcile, remove_deletes_entries_then_namespace)
{
	struct sdn_state s = { 0 };
	struct sdn_items want, actual = { 0 };
	struct sdn_op *ops;
	size_t n;
	struct sdn_vpc *v = web_db(&s);
	attach(v, "cache", "h2", IP(10, 0, 1, 4));
	desired(&s, "h1", &want);
	converge(&want, &actual);
	cr_assert_eq(count(&actual, SDN_FDB), 1, "one per remote host, not per guest");
	cr_assert_eq(count(&actual, SDN_ROUTE), 2);
	sdn_items_free(&want);

	/* db detaches: its route goes, nothing else (cache keeps h2's
	 * FDB and neighbour entries) */
	free(v->v.atts[1].sgs);
	v->v.atts[1] = v->v.atts[2];
	v->v.natts = 2;
	desired(&s, "h1", &want);
	cr_assert_eq(sdn_reconcile(&want, &actual, &ops, &n), 0);
	size_t dels = 0, changes = 0;
	for (size_t i = 0; i < n; i++) {
		dels += ops[i].type == SDN_OP_DEL;
		changes += ops[i].type == SDN_OP_CHANGE;
		if (ops[i].type == SDN_OP_DEL)
			cr_assert_str_eq(ops[i].item->key, "10.0.1.3/32");
	}
	cr_assert_eq(dels, 1);
	cr_assert_eq(changes, 1, "the ruleset loses db's address");
	free(ops);
	converge(&want, &actual);
	sdn_items_free(&want);

	/* cache detaches too: h2 has no guest left, its entries go, the
	 * route first (deepest kind first) */
	free(v->v.atts[1].sgs);
	v->v.natts = 1;
	desired(&s, "h1", &want);
	cr_assert_eq(sdn_reconcile(&want, &actual, &ops, &n), 0);
	cr_assert_eq(n, 4, "route, neighbour, FDB entry, ruleset");
	cr_assert_eq(ops[0].item->kind, SDN_ROUTE);
	cr_assert_eq(ops[1].item->kind, SDN_NEIGH);
	cr_assert_eq(ops[2].item->kind, SDN_FDB);
	free(ops);
	converge(&want, &actual);
	cr_assert_eq(count(&actual, SDN_FDB) + count(&actual, SDN_NEIGH) + count(&actual, SDN_ROUTE), 0);
	sdn_items_free(&want);

	/* web (h1's last guest) detaches: the namespace goes, and with it
	 * everything inside, so that is one op */
	attach(v, "cache2", "h2", IP(10, 0, 1, 5));
	desired(&s, "h1", &want);
	converge(&want, &actual);
	sdn_items_free(&want);
	free(v->v.atts[0].sgs);
	v->v.atts[0] = v->v.atts[1];
	v->v.natts = 1;
	desired(&s, "h1", &want);
	cr_assert_eq(want.n, 0);
	cr_assert_eq(sdn_reconcile(&want, &actual, &ops, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(ops[0].type, SDN_OP_DEL);
	cr_assert_eq(ops[0].item->kind, SDN_NETNS);
	free(ops);
	converge(&want, &actual);
	cr_assert_eq(actual.n, 0);
	sdn_items_free(&want);
	sdn_state_free(&s);
}

Test(sdn_reconcile, move_between_hosts_repoints_the_route_everywhere)
{
	struct sdn_state s = { 0 };
	struct sdn_items w1, w2, w3, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
	struct sdn_op *ops;
	size_t n;
	add_host(&s, "h1", IP(172, 31, 0, 1));
	add_host(&s, "h2", IP(172, 31, 0, 2));
	add_host(&s, "h3", IP(172, 31, 0, 3));
	struct sdn_vpc *v = add_vpc(&s, "v", 4096);
	attach(v, "a1", "h1", IP(10, 0, 1, 2));
	attach(v, "a3", "h3", IP(10, 0, 1, 3));
	struct vpc_att *m = attach(v, "mover", "h2", IP(10, 0, 1, 4));
	desired(&s, "h1", &w1);
	desired(&s, "h2", &w2);
	desired(&s, "h3", &w3);
	converge(&w1, &a1);
	converge(&w2, &a2);
	converge(&w3, &a3);
	cr_assert_eq(count(&a2, SDN_PORT), 1);
	cr_assert_eq(count(&a1, SDN_FDB), 2, "h1: h2 and h3");
	sdn_items_free(&w1);
	sdn_items_free(&w2);
	sdn_items_free(&w3);

	strcpy(m->host, "h3");   /* the guest moves from h2 to h3 */
	desired(&s, "h1", &w1);
	desired(&s, "h2", &w2);
	desired(&s, "h3", &w3);
	/* h1: the route now points at h3's VTEP (a change, not a delete);
	 * h2 has no guest left: its FDB and neighbour entries go */
	cr_assert_eq(sdn_reconcile(&w1, &a1, &ops, &n), 0);
	bool repointed = false;
	size_t dels = 0;
	for (size_t i = 0; i < n; i++) {
		const struct sdn_item *it = ops[i].item;
		if (it->kind == SDN_ROUTE && !strcmp(it->key, "10.0.1.4/32")) {
			cr_assert_eq(ops[i].type, SDN_OP_CHANGE);
			cr_assert(!strncmp(ops[i].old, "via 172.31.0.2 dev ", 19), "%s", ops[i].old);
			cr_assert(!strncmp(it->value, "via 172.31.0.3 dev ", 19), "%s", it->value);
			repointed = true;
		}
		if (ops[i].type == SDN_OP_DEL) {
			dels++;
			cr_assert(it->kind == SDN_FDB ? !strcmp(it->value, "172.31.0.2") : !!strstr(it->key, "172.31.0.2"),
				  "only h2's entries go: %s %s", it->key, it->value);
		}
	}
	cr_assert(repointed);
	cr_assert_eq(dels, 2);
	free(ops);
	converge(&w1, &a1);
	/* h2: no guest left, the VPC's namespace goes */
	cr_assert_eq(w2.n, 0);
	converge(&w2, &a2);
	cr_assert_eq(a2.n, 0);
	/* h3: the mover is local now: a port, and no route for it */
	converge(&w3, &a3);
	cr_assert_eq(count(&a3, SDN_PORT), 2);
	cr_assert_null(find(&a3, SDN_ROUTE, "10.0.1.4/32"));
	cr_assert_eq(count(&a3, SDN_ROUTE), 1, "only a1 is remote from h3");
	cr_assert_eq(count(&a3, SDN_FDB), 1);
	sdn_items_free(&w1);
	sdn_items_free(&w2);
	sdn_items_free(&w3);
	sdn_items_free(&a1);
	sdn_items_free(&a2);
	sdn_items_free(&a3);
	sdn_state_free(&s);
}

Test(sdn_reconcile, removed_host_leaves_no_entries_elsewhere)
{
	struct sdn_state s = { 0 };
	struct sdn_items want, actual = { 0 };
	web_db(&s);
	desired(&s, "h1", &want);
	converge(&want, &actual);
	sdn_items_free(&want);
	s.nhosts = 1;   /* h2 removed */
	desired(&s, "h1", &want);
	cr_assert_eq(count(&want, SDN_FDB) + count(&want, SDN_NEIGH) + count(&want, SDN_ROUTE), 0);
	cr_assert_null(strstr(find(&want, SDN_NFT, "ruleset")->value, "10.0.1.3"));
	converge(&want, &actual);
	cr_assert_eq(count(&actual, SDN_FDB) + count(&actual, SDN_NEIGH) + count(&actual, SDN_ROUTE), 0);
	sdn_items_free(&want);
	sdn_items_free(&actual);
	sdn_state_free(&s);
}

Test(sdn_reconcile, drift_is_repaired)
{
	struct sdn_state s = { 0 };
	struct sdn_items want, actual = { 0 }, drifted = { 0 };
	struct sdn_op *ops;
	size_t n;
	web_db(&s);
	desired(&s, "h1", &want);
	converge(&want, &actual);
	/* by hand: an FDB entry and a route deleted, the ruleset edited, a
	 * stray FDB entry and route, proxy ARP turned off on a bridge */
	for (size_t i = 0; i < actual.n; i++) {
		const struct sdn_item *a = &actual.v[i];
		if (a->kind == SDN_FDB || a->kind == SDN_ROUTE)
			continue;
		char *v = strdup(a->value), *p = strstr(v, " proxy-arp");
		if (p && strstr(a->key, "clbr-") && !find_kv(&drifted, SDN_BRIDGE, "clbr-", ""))
			*p = '\0';   /* the first bridge only */
		sdn_items_add(&drifted, a->kind, a->ns, a->key, a->kind == SDN_NFT ? "" : v);
		free(v);
	}
	sdn_items_add(&drifted, SDN_FDB, want.v[0].ns, "clvx-0000000000 02:00:00:00:00:99", "172.31.0.9");
	sdn_items_add(&drifted, SDN_ROUTE, want.v[0].ns, "10.9.9.0/24", "dev clvx-0000000000");
	sdn_items_sort(&drifted);
	cr_assert_eq(sdn_reconcile(&want, &drifted, &ops, &n), 0);
	cr_assert_eq(n, 6);
	cr_assert_eq(ops[0].type, SDN_OP_DEL);
	cr_assert_str_eq(ops[0].item->key, "10.9.9.0/24", "deepest kind first: the stray route");
	cr_assert_eq(ops[1].type, SDN_OP_DEL);
	cr_assert_str_eq(ops[1].item->value, "172.31.0.9");
	cr_assert_eq(ops[2].type, SDN_OP_CHANGE);
	cr_assert_eq(ops[2].item->kind, SDN_BRIDGE, "proxy ARP back on");
	cr_assert_eq(ops[3].type, SDN_OP_ADD);
	cr_assert_eq(ops[3].item->kind, SDN_FDB);
	cr_assert_eq(ops[4].type, SDN_OP_ADD);
	cr_assert_eq(ops[4].item->kind, SDN_ROUTE);
	cr_assert_eq(ops[5].type, SDN_OP_CHANGE);
	cr_assert_eq(ops[5].item->kind, SDN_NFT);
	free(ops);
	converge(&want, &drifted);
	sdn_items_free(&want);
	sdn_items_free(&actual);
	sdn_items_free(&drifted);
	sdn_state_free(&s);
}

Test(sdn_reconcile, same_cidr_vpcs_get_separate_namespaces_and_vnis)
{
	struct sdn_state s = { 0 };
	struct sdn_items want;
	add_host(&s, "h1", IP(172, 31, 0, 1));
	add_host(&s, "h2", IP(172, 31, 0, 2));
	attach(add_vpc(&s, "red", 4096), "r1", "h1", IP(10, 0, 1, 2));
	attach(&s.vpcs[0], "r2", "h2", IP(10, 0, 1, 3));
	attach(add_vpc(&s, "blue", 4097), "b1", "h1", IP(10, 0, 1, 2));
	attach(&s.vpcs[1], "b2", "h2", IP(10, 0, 1, 3));
	desired(&s, "h1", &want);
	cr_assert_eq(count(&want, SDN_NETNS), 2);
	cr_assert_eq(count(&want, SDN_FDB), 2);
	cr_assert_eq(count(&want, SDN_ROUTE), 2, "10.0.1.3/32 twice, once in each VPC's namespace");
	const struct sdn_item *x = NULL, *y = NULL;
	for (size_t i = 0; i < want.n; i++)
		if (want.v[i].kind == SDN_VXLAN)
			*(x ? &y : &x) = &want.v[i];
	cr_assert(x && y);
	cr_assert_str_neq(x->ns, y->ns);
	cr_assert_str_neq(x->key, y->key);
	cr_assert(strstr(x->value, "vni 4096") || strstr(y->value, "vni 4096"));
	cr_assert(strstr(x->value, "vni 4097") || strstr(y->value, "vni 4097"));
	sdn_items_free(&want);
	sdn_state_free(&s);
}

Test(sdn_model, names_vnis_and_records)
{
	struct cl_error err = { 0 };
	uint32_t used[] = { 4096, 4097, 4099 }, vni;
	cr_assert_eq(sdn_vni_pick(used, 3, 4096, 4200, &vni), 0);
	cr_assert_eq(vni, 4098);
	cr_assert_eq(sdn_vni_pick(used, 2, 4096, 4097, &vni), -ENOSPC, "VNI exhaustion");
	uint8_t r1[6], r2[6], g1[6], g2[6];
	sdn_router_mac("v", "h1", r1);
	sdn_router_mac("v", "h2", r2);
	sdn_gateway_mac("v", "a", g1);
	sdn_gateway_mac("v", "b", g2);
	cr_assert(memcmp(r1, r2, 6) && memcmp(g1, g2, 6) && memcmp(r1, g1, 6), "distinct MACs");
	cr_assert_eq(r1[0], 0x02, "locally administered, unicast");
	cr_assert_eq(sdn_host_check("h1", &err), 0);
	cr_assert_eq(sdn_host_check("a-host-name-much-too-long-for-links", &err), -ENAMETOOLONG);
	cr_assert(strstr(err.msg, "too long"));
	cr_assert_lt(sdn_host_check("../x", &err), 0);
	char ns[NET_NAME_LEN + 32], vx[NET_IFNAMSIZ];
	sdn_vpc_netns(CLUSTER, "h1", "v", ns);
	cr_assert_eq(strncmp(ns, "clsv-" CLUSTER "-h1-", 17), 0, "%s", ns);
	cr_assert_eq(strlen(sdn_vxlan_name("v", vx)), 15);
	struct sdn_host h = { .name = "h7", .underlay = IP(172, 31, 0, 7) }, back;
	char *j = sdn_host_to_json(&h);
	cr_assert_eq(sdn_host_from_json(j, &back, &err), 0, "%s", err.msg);
	cr_assert_str_eq(back.name, "h7");
	cr_assert_eq(back.underlay, h.underlay);
	cr_assert_not(back.machine, "a simulated host");
	cr_assert_null(strstr(j, "machine"), "an older reader sees the record it knows");
	free(j);
	h.machine = true;
	j = sdn_host_to_json(&h);
	cr_assert_eq(sdn_host_from_json(j, &back, &err), 0, "%s", err.msg);
	cr_assert(back.machine, "a machine of its own stays one: %s", j);
	free(j);
	cr_assert_lt(sdn_host_from_json("{\"name\": \"h\"}", &back, &err), 0);
	/* a VPC record round trip keeps the VNIs and the attachments' hosts */
	struct sdn_state s = { 0 };
	struct sdn_vpc *v = add_vpc(&s, "v", 5000), w;
	attach(v, "web", "h1", IP(10, 0, 1, 2));
	j = sdn_vpc_to_json(v);
	cr_assert_eq(sdn_vpc_from_json(j, &w, &err), 0, "%s", err.msg);
	cr_assert_eq(w.vni, 5000);
	cr_assert_str_eq(w.v.atts[0].host, "h1");
	free(j);
	sdn_vpc_free(&w);
	cr_assert_lt(sdn_vpc_from_json("{\"vpc\": {}, \"vni\": 4096}", &w, &err), 0);
	/* a record of schema 1 (a VNI per subnet) is refused, saying why */
	char old[4096];
	j = sdn_vpc_to_json(v);
	snprintf(old, sizeof(old), "%.*s\"vnis\": [4096]}", (int)(strstr(j, "\"vni\"") - j), j);
	free(j);
	cr_assert_eq(sdn_vpc_from_json(old, &w, &err), -EPROTO, "%s", old);
	cr_assert(strstr(err.msg, "older cloudlet"), "%s", err.msg);
	sdn_state_free(&s);
}

/* two subnets of one VPC across hosts: one VXLAN device carries both
 * (each guest a route on it), both gateways on every host */
Test(sdn_reconcile, two_subnets_share_the_vpc_vxlan_device)
{
	struct sdn_state s = { 0 };
	struct sdn_items w1, w2;
	add_host(&s, "h1", IP(172, 31, 0, 1));
	add_host(&s, "h2", IP(172, 31, 0, 2));
	struct sdn_vpc *v = add_vpc(&s, "v", 4096);
	attach(v, "a1", "h1", IP(10, 0, 1, 2));
	attach(v, "b1", "h1", IP(10, 0, 2, 2));
	attach(v, "a2", "h2", IP(10, 0, 1, 3));
	attach(v, "b2", "h2", IP(10, 0, 2, 3));
	desired(&s, "h1", &w1);
	desired(&s, "h2", &w2);
	char vx[NET_IFNAMSIZ], val[64];
	sdn_vxlan_name("v", vx);
	for (int h = 0; h < 2; h++) {
		const struct sdn_items *w = h ? &w2 : &w1;
		cr_assert_eq(count(w, SDN_VXLAN), 1);
		cr_assert_eq(count(w, SDN_BRIDGE), 2);
		cr_assert_eq(count(w, SDN_PORT), 2);
		cr_assert_eq(count(w, SDN_FDB), 1);
		cr_assert_eq(count(w, SDN_ROUTE), 2, "one per remote guest, both subnets");
		snprintf(val, sizeof(val), "via 172.31.0.%d dev %s", h ? 1 : 2, vx);
		cr_assert_str_eq(find(w, SDN_ROUTE, "10.0.1.")->value, val);
		cr_assert_str_eq(find(w, SDN_ROUTE, "10.0.2.")->value, val);
		cr_assert_not_null(find_kv(w, SDN_BRIDGE, "clbr-", "10.0.1.1/24"));
		cr_assert_not_null(find_kv(w, SDN_BRIDGE, "clbr-", "10.0.2.1/24"));
	}
	cr_assert_str_eq(find(&w1, SDN_VXLAN, vx)->key, find(&w2, SDN_VXLAN, vx)->key, "one name everywhere");
	cr_assert_str_eq(find_kv(&w1, SDN_BRIDGE, "clbr-", "10.0.1.1/24")->value,
			 find_kv(&w2, SDN_BRIDGE, "clbr-", "10.0.1.1/24")->value, "the same gateway MAC on both hosts");
	cr_assert_str_neq(find(&w1, SDN_VXLAN, vx)->value, find(&w2, SDN_VXLAN, vx)->value, "router MACs differ");
	sdn_items_free(&w1);
	sdn_items_free(&w2);
	sdn_state_free(&s);
}

/* the VNI claims: lowest free first, fresh each time, released only as
 * (vni, vpc), exhaustion an error; JSON round trip */
Test(sdn_model, vni_claims)
{
	struct cl_error err = { 0 };
	struct sdn_vnis m = { 0 }, back;
	uint32_t a, b, c, d;
	cr_assert_eq(sdn_vnis_claim(&m, "red", 4096, 4098, &a), 0);
	cr_assert_eq(sdn_vnis_claim(&m, "blue", 4096, 4098, &b), 0);
	cr_assert_eq(a, 4096);
	cr_assert_eq(b, 4097);
	cr_assert_eq(sdn_vnis_claim(&m, "red", 4096, 4098, &c), 0, "a second claim by one name is fresh");
	cr_assert_eq(c, 4098);
	cr_assert_eq(sdn_vnis_claim(&m, "green", 4096, 4098, &d), -ENOSPC, "every VNI claimed");
	cr_assert_eq(m.n, 3);
	cr_assert_eq(sdn_vnis_release(&m, 4097, "red"), 0, "not red's");
	cr_assert_eq(sdn_vnis_release(&m, 4097, "blue"), 1);
	cr_assert_null(sdn_vnis_find(&m, 4097));
	cr_assert_eq(sdn_vnis_claim(&m, "green", 4096, 4098, &d), 0);
	cr_assert_eq(d, 4097, "a released VNI is free again");
	char *j = sdn_vnis_to_json(&m);
	cr_assert_eq(sdn_vnis_from_json(j, &back, &err), 0, "%s", err.msg);
	cr_assert_eq(back.n, 3);
	cr_assert_str_eq(sdn_vnis_find(&back, 4097)->vpc, "green");
	cr_assert_str_eq(sdn_vnis_find(&back, 4098)->vpc, "red");
	free(j);
	sdn_vnis_free(&back);
	sdn_vnis_free(&m);
	cr_assert_lt(sdn_vnis_from_json("{\"12\": \"red\"}", &back, &err), 0, "below the first VNI");
	cr_assert(strstr(err.msg, "vni claims"), "%s", err.msg);
	cr_assert_lt(sdn_vnis_from_json("{\"4096\": 7}", &back, &err), 0);
	cr_assert_lt(sdn_vnis_from_json("[]", &back, &err), 0);
}

/* 20 hosts x 10 attachments (the scale): a host's FDB entries are
 * the guests of the VPCs present on it, less its own, and nothing for a
 * VPC it has no guest of */
Test(sdn_reconcile, fdb_per_host_follows_the_vpcs_present)
{
	struct sdn_state s = { 0 };
	char name[16];
	for (int h = 0; h < 20; h++) {
		snprintf(name, sizeof(name), "h%d", h);
		add_host(&s, name, IP(172, 31, 0, 2 + h));
	}
	/* VPC a: 10 guests on h0..h9; VPC b: 10 guests on h10..h19 */
	struct sdn_vpc *va = add_vpc(&s, "a", 4096);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "h%d", i);
		char id[16];
		snprintf(id, sizeof(id), "g%d", i);
		attach(va, id, name, IP(10, 0, 1, 2 + i));
	}
	struct sdn_vpc *vb = add_vpc(&s, "b", 4097);
	va = &s.vpcs[0];    /* add_vpc may have moved it */
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "h%d", 10 + i);
		char id[16];
		snprintf(id, sizeof(id), "g%d", i);
		attach(vb, id, name, IP(10, 0, 1, 2 + i));
	}
	for (int h = 0; h < 20; h++) {
		struct sdn_items want;
		snprintf(name, sizeof(name), "h%d", h);
		desired(&s, name, &want);
		cr_assert_eq(count(&want, SDN_FDB), 9, "%s: the 9 other hosts of its one VPC", name);
		cr_assert_eq(count(&want, SDN_NEIGH), 9);
		cr_assert_eq(count(&want, SDN_ROUTE), 9, "%s: the 9 other guests", name);
		cr_assert_eq(count(&want, SDN_NETNS), 1);
		sdn_items_free(&want);
	}
	/* one more guest of VPC a on h15: h15 now has both VPCs */
	attach(va, "extra", "h15", IP(10, 0, 1, 20));
	struct sdn_items want;
	desired(&s, "h15", &want);
	cr_assert_eq(count(&want, SDN_NETNS), 2);
	cr_assert_eq(count(&want, SDN_FDB), 9 + 10, "b's 9 others and a's 10");
	sdn_items_free(&want);
	desired(&s, "h0", &want);
	cr_assert_eq(count(&want, SDN_FDB), 10, "h0 learns of h15");
	sdn_items_free(&want);
	/* another guest of a on h15: one more route on h0, no FDB entry */
	attach(&s.vpcs[0], "extra2", "h15", IP(10, 0, 1, 21));
	desired(&s, "h0", &want);
	cr_assert_eq(count(&want, SDN_FDB), 10);
	cr_assert_eq(count(&want, SDN_ROUTE), 9 + 2);
	sdn_items_free(&want);
	sdn_state_free(&s);
}
