/* A rate limit on a link: a root tbf qdisc (`tc qdisc replace dev DEV root
 * tbf rate R burst B limit L`) through libnl-route-3. See net/internal.h. */
#include <errno.h>
#include <linux/pkt_sched.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>
#include <string.h>

#include "internal.h"

/* burst: 10 ms at the rate, at least 32 KiB (above one TSO frame);
 * queue: 50 ms at the rate, at least 64 KiB */
#define BURST_MIN (32 << 10)
#define LIMIT_MIN (64 << 10)

int qos_set(struct nl_sock *sk, const char *dev, uint32_t mbit, struct cl_error *err)
{
	int idx = link_index(sk, dev), r;
	if (!idx)
		return cl_err(err, ENODEV, "rate on %s: no such link", dev);
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	if (!q)
		return cl_err(err, ENOMEM, "out of memory");
	int bytes = (int)((uint64_t)mbit * 1000000 / 8);
	int burst = bytes / 100 > BURST_MIN ? bytes / 100 : BURST_MIN;
	rtnl_tc_set_ifindex(TC_CAST(q), idx);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_kind(TC_CAST(q), "tbf");
	rtnl_qdisc_tbf_set_rate(q, bytes, burst, 0);
	rtnl_qdisc_tbf_set_limit(q, bytes / 20 > LIMIT_MIN ? bytes / 20 : LIMIT_MIN);
	r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_qdisc_put(q);
	return r < 0 ? cl_err(err, EIO, "rate %u Mbit/s on %s: %s", mbit, dev, nl_geterror(r)) : 0;
}

int qos_del(struct nl_sock *sk, const char *dev, struct cl_error *err)
{
	int idx = link_index(sk, dev), r;
	if (!idx)
		return 0;
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	if (!q)
		return cl_err(err, ENOMEM, "out of memory");
	rtnl_tc_set_ifindex(TC_CAST(q), idx);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	r = rtnl_qdisc_delete(sk, q);
	rtnl_qdisc_put(q);
	return r < 0 && r != -NLE_OBJ_NOTFOUND && r != -NLE_NOADDR && r != -NLE_INVAL
		       ? cl_err(err, EIO, "rate on %s: %s", dev, nl_geterror(r)) : 0;
}

int qos_get(struct nl_sock *sk, int ifindex, uint32_t *mbit, struct cl_error *err)
{
	struct nl_cache *c = NULL;
	int r = rtnl_qdisc_alloc_cache(sk, &c);
	*mbit = 0;
	if (r < 0)
		return cl_err(err, EIO, "list qdiscs: %s", nl_geterror(r));
	for (struct nl_object *o = nl_cache_get_first(c); o; o = nl_cache_get_next(o)) {
		struct rtnl_qdisc *q = (struct rtnl_qdisc *)o;
		const char *kind = rtnl_tc_get_kind(TC_CAST(q));
		if (rtnl_tc_get_ifindex(TC_CAST(q)) == ifindex && rtnl_tc_get_parent(TC_CAST(q)) == TC_H_ROOT &&
		    kind && !strcmp(kind, "tbf")) {
			int rate = rtnl_qdisc_tbf_get_rate(q);
			*mbit = rate > 0 ? (uint32_t)(((uint64_t)rate * 8 + 500000) / 1000000) : 0;
		}
	}
	nl_cache_free(c);
	return 0;
}
