/* The agent's decision: desired items + actual items -> ops, a pure
 * function (no kernel), so add, remove, move, drift repair and idempotence
 * are unit-tested (tests/unit/test_sdn_reconcile.c). The kernel side only
 * observes (actual) and applies (ops): agent.c. See include/cloudlet/sdn.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/sdn.h"

const char *sdn_kind_name(enum sdn_kind k)
{
	static const char *const names[SDN_KIND_MAX] = {
		[SDN_NETNS] = "netns", [SDN_BRIDGE] = "bridge", [SDN_VXLAN] = "vxlan",
		[SDN_PORT] = "port", [SDN_QOS] = "qos", [SDN_FDB] = "fdb", [SDN_NEIGH] = "neigh", [SDN_ROUTE] = "route",
		[SDN_NFT] = "nft",
	};
	return k < SDN_KIND_MAX ? names[k] : "?";
}

int sdn_items_add(struct sdn_items *s, enum sdn_kind kind, const char *ns, const char *key,
		  const char *value)
{
	if (strlen(ns) >= sizeof(s->v->ns) || strlen(key) >= SDN_KEY_MAX)
		return -ENAMETOOLONG;
	struct sdn_item *g = realloc(s->v, (s->n + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	s->v = g;
	struct sdn_item *it = &g[s->n];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	strcpy(it->ns, ns);
	strcpy(it->key, key);
	if (!(it->value = strdup(value ? value : "")))
		return -ENOMEM;
	s->n++;
	return 0;
}

void sdn_items_free(struct sdn_items *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].value);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int item_cmp(const struct sdn_item *a, const struct sdn_item *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	int c = strcmp(a->ns, b->ns);
	return c ? c : strcmp(a->key, b->key);
}

static int item_qcmp(const void *a, const void *b)
{
	return item_cmp(a, b);
}

void sdn_items_sort(struct sdn_items *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), item_qcmp);
}

/* is the namespace of `it` going away (listed among the actual namespaces
 * and not desired)? Then the kernel deletes it with everything inside. */
static bool ns_dropped(const struct sdn_items *desired, const struct sdn_items *actual,
		       const struct sdn_item *it)
{
	if (it->kind == SDN_NETNS)
		return false;
	bool in_actual = false, in_desired = false;
	for (size_t i = 0; i < actual->n && actual->v[i].kind == SDN_NETNS; i++)
		in_actual |= !strcmp(actual->v[i].ns, it->ns);
	for (size_t i = 0; i < desired->n && desired->v[i].kind == SDN_NETNS; i++)
		in_desired |= !strcmp(desired->v[i].ns, it->ns);
	return in_actual && !in_desired;
}

/* ops of one pass, in a growing array */
struct oplist {
	struct sdn_op *v;
	size_t n;
};

static int op_push(struct oplist *l, enum sdn_op_type t, const struct sdn_item *it, const char *old)
{
	struct sdn_op *g = realloc(l->v, (l->n + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	l->v = g;
	g[l->n++] = (struct sdn_op){ .type = t, .item = it, .old = old };
	return 0;
}

int sdn_reconcile(const struct sdn_items *desired, const struct sdn_items *actual,
		  struct sdn_op **ops, size_t *n)
{
	struct oplist dels = { 0 }, adds = { 0 };
	size_t i = 0, j = 0;
	int r = 0;
	/* a merge walk over two sorted lists */
	while (r == 0 && (i < desired->n || j < actual->n)) {
		const struct sdn_item *d = i < desired->n ? &desired->v[i] : NULL;
		const struct sdn_item *a = j < actual->n ? &actual->v[j] : NULL;
		int c = !d ? 1 : !a ? -1 : item_cmp(d, a);
		if (c < 0) {
			r = op_push(&adds, SDN_OP_ADD, d, NULL);
			i++;
		} else if (c > 0) {
			if (!ns_dropped(desired, actual, a))
				r = op_push(&dels, SDN_OP_DEL, a, NULL);
			j++;
		} else {
			if (strcmp(d->value, a->value))
				r = op_push(&adds, SDN_OP_CHANGE, d, a->value);
			i++;
			j++;
		}
	}
	if (r == 0 && dels.n + adds.n) {
		struct sdn_op *all = malloc((dels.n + adds.n) * sizeof(*all));
		if (!all) {
			r = -ENOMEM;
		} else {
			/* deletes deepest kind first (reverse of the sorted walk) */
			for (size_t k = 0; k < dels.n; k++)
				all[k] = dels.v[dels.n - 1 - k];
			if (adds.n)
				memcpy(all + dels.n, adds.v, adds.n * sizeof(*all));
			*ops = all;
			*n = dels.n + adds.n;
		}
	} else if (r == 0) {
		*ops = NULL;
		*n = 0;
	}
	free(dels.v);
	free(adds.v);
	return r;
}

int sdn_items_apply(const struct sdn_items *actual, const struct sdn_op *ops, size_t n,
		    struct sdn_items *out)
{
	int r = 0;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < actual->n && r == 0; i++) {
		const struct sdn_item *a = &actual->v[i];
		bool gone = false;
		for (size_t k = 0; k < n && !gone; k++) {
			const struct sdn_item *o = ops[k].item;
			if (ops[k].type == SDN_OP_DEL && o->kind == SDN_NETNS)
				gone = !strcmp(o->ns, a->ns);   /* everything in it */
			else if (ops[k].type != SDN_OP_ADD)
				gone = !item_cmp(o, a);         /* deleted or replaced */
		}
		if (!gone)
			r = sdn_items_add(out, a->kind, a->ns, a->key, a->value);
	}
	for (size_t k = 0; k < n && r == 0; k++)
		if (ops[k].type != SDN_OP_DEL)
			r = sdn_items_add(out, ops[k].item->kind, ops[k].item->ns, ops[k].item->key,
					  ops[k].item->value);
	if (r < 0)
		sdn_items_free(out);
	else
		sdn_items_sort(out);
	return r;
}
