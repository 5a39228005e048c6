/* A bare veth pair between two network namespaces: what a VPC subnet's
 * bridge (or its router) adds to is measured against this link, made by
 * the same netlink calls as an attachment's veth (net/link.c). */
#include "internal.h"

int net_veth_pair(int ns_a, const char *name_a, uint32_t ip_a, int ns_b, const char *name_b, uint32_t ip_b,
		  uint8_t prefix, struct cl_error *err)
{
	struct nl_sock *a = NULL, *b = NULL;
	int r;
	if ((r = nl_open(ns_a, &a, err)) < 0)
		return r;
	if ((r = nl_open(ns_b, &b, err)) < 0)
		goto out;
	/* the peer is made in ns_b directly; an error after it leaves the pair
	 * in namespaces the caller drops, which deletes it */
	if ((r = link_veth_add(a, name_a, name_b, ns_b, NULL, NET_MTU, err)) < 0 ||
	    (r = addr_add(a, name_a, ip_a, prefix, err)) < 0 || (r = addr_add(b, name_b, ip_b, prefix, err)) < 0 ||
	    (r = link_set_up(a, name_a, NET_MTU, err)) < 0 || (r = link_set_up(b, name_b, NET_MTU, err)) < 0)
		link_del(a, name_a, NULL);
out:
	if (b)
		nl_close(b);
	nl_close(a);
	return r;
}
