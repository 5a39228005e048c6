/* net/sdn/ internals (not a public API): one host's kernel data plane,
 * observed as items and changed one op at a time (dataplane.c), and the
 * VPC records' compare-and-swap update shared by control.c and attach.c. */
#ifndef NET_SDN_DATAPLANE_H
#define NET_SDN_DATAPLANE_H

#include "cloudlet/sdn.h"

struct nl_sock;
struct nft_seen;

struct sdn_dp {
	char cluster[9];
	char host[NET_NAME_LEN + 1];
	int host_ns;                /* the host's namespace (simulated host), or ours */
	bool machine;               /* the host is this machine (no simulated namespace) */
	struct nl_sock *host_sk;    /* netlink there: VXLAN sockets live on its underlay */
	struct nft_seen *seen;      /* per VPC namespace: the ruleset applied and how nft listed it */
	size_t nseen;
};
int dp_open(struct sdn_dp *dp, const char *cluster, const char *host, struct cl_error *err);
void dp_close(struct sdn_dp *dp);
/* What the host has now, as items (sorted). */
int dp_observe(struct sdn_dp *dp, struct sdn_items *out, struct cl_error *err);
int dp_apply(struct sdn_dp *dp, const struct sdn_op *op, struct cl_error *err);
/* 1 when ip is an address of the host's (its underlay), else 0 or -errno */
int dp_has_addr(struct sdn_dp *dp, uint32_t ip);

/* control.c: change VPC `name` by fn under compare-and-swap (retried);
 * fn returns 1 to delete the key. *rev: the revision written. */
int sdn_vpc_update(const char *url, const char *name,
		   int (*fn)(struct sdn_state *s, struct sdn_vpc *v, const void *arg, struct cl_error *err),
		   const void *arg, int64_t *rev, struct cl_error *err);

/* attach.c: drop attachment t of VPC vpc from the desired state (its
 * holder died without detaching). */
int sdn_att_release(const char *url, const char *vpc, const struct vpc_att *t, struct cl_error *err);

#endif
