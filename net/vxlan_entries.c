/* What a VXLAN overlay costs a host in kernel state: the permanent FDB and
 * neighbour entries and the routes on the VXLAN devices of one namespace
 * (what the agents install: net/fdb.c, net/link.c), read back for `bench
 * sdn-scale`. See include/cloudlet/net.h. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int net_vxlan_entries(const char *ns, size_t *fdb, size_t *neigh, size_t *routes, struct cl_error *err)
{
	struct nl_sock *sk = NULL;
	struct link_info *ls = NULL;
	size_t n = 0;
	int fd = -1, r;
	*fdb = *neigh = *routes = 0;
	if ((r = netns_open(ns, &fd, err)) < 0 || (r = nl_open(fd, &sk, err)) < 0 ||
	    (r = link_list(sk, &ls, &n, err)) < 0)
		goto out;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct fdb_entry *e = NULL;
		size_t m = 0;
		if (strcmp(ls[i].kind, "vxlan"))
			continue;
		if ((r = fdb_list(sk, ls[i].ifindex, &e, &m, err)) == 0)
			*fdb += m;
		free(e);
		e = NULL;
		if (r == 0 && (r = neigh_list(sk, ls[i].ifindex, &e, &m, err)) == 0)
			*neigh += m;
		free(e);
		struct route_entry *rt = NULL;
		if (r == 0 && (r = route_list(sk, ls[i].ifindex, &rt, &m, err)) == 0)
			*routes += m;
		free(rt);
	}
out:
	free(ls);
	nl_close(sk);
	if (fd >= 0)
		close(fd);
	return r < 0 ? cl_err_wrap(err, "namespace %s", ns) : 0;
}
