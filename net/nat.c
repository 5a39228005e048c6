/* The NAT gateway: a veth from the VPC's namespace ("nat0") to the host
 * (or whichever namespace runs `vpc nat enable`), a /30 from RFC 6598's
 * shared address space on it, masquerade twice — in the VPC to its
 * transit address (so VPCs may reuse CIDRs) and on the host out of the
 * uplink — and no inbound path: only replies pass from the uplink. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* the host's table for this VPC: "cloudlet_" + the netns's hash */
static void host_table(const struct vpc *v, char out[32])
{
	const char *dash = strchr(v->netns, '-');
	snprintf(out, 32, "cloudlet_%s", dash ? dash + 1 : v->netns);
}

/* the interface of the default route (/proc/net/route, proc(5)) */
static int default_uplink(char out[NET_IFNAMSIZ], struct cl_error *err)
{
	FILE *f = fopen("/proc/net/route", "re");
	char line[256], ifn[NET_IFNAMSIZ + 1];
	unsigned long dst, mask;
	int r = cl_err(err, ENOENT, "no default route here: name the uplink with --uplink IFACE");
	if (!f)
		return cl_err_sys(err, errno, "/proc/net/route");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%16s %lx %*x %*x %*d %*d %*d %lx", ifn, &dst, &mask) == 3 && !dst && !mask) {
			memcpy(out, ifn, strnlen(ifn, NET_IFNAMSIZ - 1));
			out[strnlen(ifn, NET_IFNAMSIZ - 1)] = 0;
			r = 0;
			break;
		}
	fclose(f);
	return r;
}

/* transit blocks in use by every VPC of this state root */
static int transits_used(const char *root, uint32_t **used, size_t *n, struct cl_error *err)
{
	char **names;
	size_t nn;
	int r = vpc_list(root, &names, &nn, err);
	*used = NULL;
	*n = 0;
	if (r < 0)
		return r;
	if (nn && !(*used = calloc(nn, sizeof(uint32_t))))
		r = cl_err(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < nn; i++) {
		char path[PATH_MAX];
		struct vpc v;
		snprintf(path, sizeof(path), "%s/vpc/%s.json", root, names[i]);
		if (r == 0 && vpc_record_read(path, names[i], &v, NULL) == 0) {
			if (v.nat)
				(*used)[(*n)++] = v.transit;
			vpc_free(&v);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

int nat_teardown(struct vpc_tx *tx, struct cl_error *err)
{
	struct nl_sock *host;
	char hostif[NET_IFNAMSIZ], table[32];
	struct vpc off = tx->v;
	int r = nl_open(-1, &host, err);
	if (r < 0)
		return r;
	link_del(host, net_ifname(NET_IF_NAT_HOST, tx->v.name, tx->v.netns, NULL, NULL, hostif), NULL);
	nl_close(host);
	off.nat = false;
	host_table(&tx->v, table);
	char *script = vpc_nat_host_render(&off, table);
	if (!script)
		return cl_err(err, ENOMEM, "out of memory");
	r = nft_apply(-1, script, err);
	free(script);
	return r;
}

int vpc_nat_enable(const char *root, const char *name, const char *uplink, struct cl_error *err)
{
	struct vpc_tx tx;
	struct nl_sock *host = NULL;
	char up[NET_IFNAMSIZ], hostif[NET_IFNAMSIZ], key[64], table[32];
	uint32_t *used = NULL, transit;
	size_t nused;
	bool made = false;
	int r = vpc_tx_begin(&tx, root, name, err);
	if (r < 0)
		return r;
	struct vpc *v = &tx.v;
	if (v->nat) {
		r = cl_err(err, EEXIST, "vpc %s: the NAT gateway is enabled already (uplink %s)", name, v->uplink);
		goto out;
	}
	if (uplink && (strlen(uplink) == 0 || strlen(uplink) >= NET_IFNAMSIZ)) {
		r = cl_err(err, EINVAL, "--uplink '%.32s': not an interface name", uplink);
		goto out;
	}
	if (uplink)
		snprintf(up, sizeof(up), "%s", uplink);
	else if ((r = default_uplink(up, err)) < 0)
		goto out;
	if (!if_nametoindex(up)) {
		r = cl_err(err, ENODEV, "uplink %s: no such interface", up);
		goto out;
	}
	if ((r = transits_used(root, &used, &nused, err)) < 0)
		goto out;
	if (net_transit_pick(used, nused, &transit) < 0) {
		r = cl_err(err, ENOSPC, "no free transit block left in %s", NET_TRANSIT_POOL);
		goto out;
	}
	net_ifname(NET_IF_NAT_HOST, name, v->netns, NULL, NULL, hostif);
	if ((r = nl_open(-1, &host, err)) < 0 ||
	    (r = link_veth_add(host, hostif, NAT_VPC_IF, tx.ns, NULL, NET_MTU, err)) < 0)
		goto out;
	made = true;
	v->nat = true;
	v->transit = transit;
	snprintf(v->uplink, sizeof(v->uplink), "%s", up);
	host_table(v, table);
	char *script = vpc_nat_host_render(v, table);
	if (!script) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	/* IPv4 forwards by the input device's setting: the transit link's
	 * (outbound) and the uplink's (replies) */
	if ((r = addr_add(host, hostif, transit + 1, 30, err)) < 0 || (r = link_set_up(host, hostif, 0, err)) < 0 ||
	    (r = addr_add(tx.sk, NAT_VPC_IF, transit + 2, 30, err)) < 0 ||
	    (r = link_set_up(tx.sk, NAT_VPC_IF, 0, err)) < 0 ||
	    (r = route_add(tx.sk, 0, 0, transit + 1, err)) < 0 ||
	    (snprintf(key, sizeof(key), "ipv4/conf/%s/forwarding", hostif),
	     r = netns_sysctl(-1, key, "1", err)) < 0 ||
	    (snprintf(key, sizeof(key), "ipv4/conf/%s/forwarding", up),
	     r = netns_sysctl(-1, key, "1", err)) < 0 ||
	    (r = nft_apply(-1, script, err)) < 0) {
		free(script);
		goto out;
	}
	free(script);
	r = vpc_tx_commit(&tx, err);
out:
	if (r < 0 && made) {
		nat_teardown(&tx, NULL);
		v->nat = false;
	}
	if (r < 0)
		cl_err_wrap(err, "vpc %s: NAT gateway", name);
	nl_close(host);
	free(used);
	vpc_tx_end(&tx);
	return r;
}

int vpc_nat_disable(const char *root, const char *name, struct cl_error *err)
{
	struct vpc_tx tx;
	int r = vpc_tx_begin(&tx, root, name, err);
	if (r < 0)
		return r;
	if (!tx.v.nat)
		r = cl_err(err, EINVAL, "vpc %s: no NAT gateway is enabled", name);
	else if ((r = nat_teardown(&tx, err)) == 0) {
		tx.v.nat = false;
		r = vpc_tx_commit(&tx, err);
	}
	vpc_tx_end(&tx);
	return r;
}
