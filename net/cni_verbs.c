/* CNI SPEC.md 1.1's STATUS and GC against the VPC's state: the facts
 * cni_status_decide (net/cni.c, pure) judges, and GC detaching what
 * cni_gc_stale picks. See cloudlet/cni.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "cloudlet/cni.h"
#include "internal.h"

int cni_status_facts_get(const char *root, const struct cni_conf *c, struct cni_status_facts *f,
			 struct cl_error *err)
{
	char vname[NET_NAME_LEN + 1], sname[NET_NAME_LEN + 1], path[PATH_MAX];
	struct vpc v;
	int r;
	memset(f, 0, sizeof(*f));
	if ((r = net_ref_parse(c->ref, vname, sname, err)) < 0)
		return r;
	/* the record as it is: a VPC whose namespace is gone is still known */
	snprintf(path, sizeof(path), "%s/vpc/%s.json", root, vname);
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	if ((r = vpc_record_read(path, vname, &v, err)) < 0)
		return r;
	f->vpc = true;
	f->netns = netns_exists(v.netns);
	const struct net_subnet *s = vpc_subnet_find(&v, sname);
	if (s) {
		f->subnet = true;
		f->capacity = ipam_capacity(&s->cidr);
	}
	vpc_free(&v);
	if (!f->subnet || !f->netns)
		return 0;
	/* leases of holders that died are released by loading the VPC */
	if ((r = vpc_get(root, vname, &v, err)) < 0)
		return r;
	vpc_free(&v);
	struct lease *ls;
	size_t n;
	if ((r = ipam_list(root, vname, sname, &ls, &n, err)) < 0)
		return r;
	f->leased = n;
	free(ls);
	return 0;
}

int cni_gc(const char *root, const struct cni_conf *c, size_t *removed, struct cl_error *err)
{
	char vname[NET_NAME_LEN + 1], sname[NET_NAME_LEN + 1];
	struct vpc v;
	int r, first = 0;
	*removed = 0;
	if ((r = net_ref_parse(c->ref, vname, sname, err)) < 0)
		return r;
	if ((r = vpc_get(root, vname, &v, err)) < 0)
		return r == -ENOENT ? 0 : r;   /* no VPC: nothing of it to collect */
	for (size_t i = 0; i < v.natts; i++) {
		if (!cni_gc_stale(c, &v.atts[i]))
			continue;
		struct net_attachment a = { .tap_fd = -1 };
		snprintf(a.vpc, sizeof(a.vpc), "%s", vname);
		snprintf(a.subnet, sizeof(a.subnet), "%s", sname);
		snprintf(a.kind, sizeof(a.kind), "%s", v.atts[i].kind);
		snprintf(a.id, sizeof(a.id), "%s", v.atts[i].id);
		/* SPEC: go on with the rest, report the errors */
		if ((r = net_detach(root, &a, first ? NULL : err)) < 0) {
			if (!first)
				first = cl_err_wrap(err, "GC of %s", a.id);
		} else {
			(*removed)++;
		}
	}
	vpc_free(&v);
	return first;
}
