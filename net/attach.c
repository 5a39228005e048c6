/* Attachments: one guest NIC on one subnet, the single entry point both
 * launchers use — `vm run` gets a tap (the VMM keeps its fd), `ct run` a
 * veth whose guest end is created directly in the container's namespace,
 * addressed, routed and up before the workload starts. The same lease,
 * bridge port, anti-spoofing and security groups for both kinds: that is
 * what makes the comparison fair. See include/cloudlet/net.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloudlet/proc.h"
#include "cloudlet/sdn.h"
#include "internal.h"

static struct vpc_att *att_find(struct vpc *v, const char *kind, const char *id, const char *subnet)
{
	for (size_t i = 0; i < v->natts; i++)
		if (!strcmp(v->atts[i].kind, kind) && !strcmp(v->atts[i].id, id) &&
		    !strcmp(v->atts[i].subnet, subnet))
			return &v->atts[i];
	return NULL;
}

/* the guest end of a veth: address, up, default route via the gateway */
static int guest_setup(int ns, const char *ifname, const struct net_attachment *a,
		       struct cl_error *err)
{
	struct nl_sock *sk;
	int r = nl_open(ns, &sk, err);
	if (r < 0)
		return r;
	if ((r = addr_add(sk, ifname, a->ip, a->prefix, err)) == 0 &&
	    (r = link_set_up(sk, ifname, 0, err)) == 0)
		r = route_add(sk, 0, 0, a->gateway, err);
	nl_close(sk);
	return r;
}

/* the port: a tap made inside the VPC's namespace, or a veth pair */
int att_port_make(int ns, struct nl_sock *sk, const struct net_attach_req *rq, struct net_attachment *a,
		  const char *bridge, struct cl_error *err)
{
	int r, saved;
	if (!strcmp(rq->kind, "vm")) {
		if ((r = netns_enter(ns, &saved, err)) < 0)
			return r;
		r = net_tap_open(a->ifname, &a->tap_fd, NULL, err);
		netns_leave(saved);
	} else {
		r = link_veth_add(sk, a->ifname, rq->guest_ifname, rq->guest_ns, a->mac, a->mtu, err);
	}
	if (r < 0)
		return r;
	if ((r = link_set_master(sk, a->ifname, bridge, err)) < 0 ||
	    (r = link_set_up(sk, a->ifname, a->mtu, err)) < 0)
		return r;
	if (strcmp(rq->kind, "vm") && (r = guest_setup(rq->guest_ns, rq->guest_ifname, a, err)) < 0)
		return cl_err_wrap(err, "container interface %s", rq->guest_ifname);
	return 0;
}

int vpc_att_append(struct vpc *v, const struct net_attach_req *rq, const struct net_attachment *a,
		   const char *const *sgs, size_t nsgs, struct cl_error *err)
{
	struct vpc_att *grown = realloc(v->atts, (v->natts + 1) * sizeof(*grown));
	if (!grown)
		return cl_err(err, ENOMEM, "out of memory");
	v->atts = grown;
	struct vpc_att *t = &grown[v->natts];
	memset(t, 0, sizeof(*t));
	if (!(t->sgs = calloc(nsgs, sizeof(*t->sgs))))
		return cl_err(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < nsgs; i++)
		snprintf(t->sgs[i], NET_NAME_LEN + 1, "%s", sgs[i]);
	t->nsgs = nsgs;
	snprintf(t->kind, sizeof(t->kind), "%s", a->kind);
	snprintf(t->id, sizeof(t->id), "%s", a->id);
	snprintf(t->subnet, sizeof(t->subnet), "%s", a->subnet);
	snprintf(t->ifname, sizeof(t->ifname), "%s", a->ifname);
	snprintf(t->host, sizeof(t->host), "%s", a->host);
	t->ip = a->ip;
	memcpy(t->mac, a->mac, 6);
	t->rate_mbit = rq->rate_mbit;
	/* holder < 0: an orchestrator's (CNI) attachment, kept until its DEL */
	t->pid = rq->holder > 0 ? rq->holder : rq->holder < 0 ? 0 : getpid();
	t->pid_start = t->pid ? cl_pid_start(t->pid) : 0;
	v->natts++;
	return 0;
}

int net_attach(const struct net_attach_req *rq, struct net_attachment *a, struct cl_error *err)
{
	static const char *const dflt[] = { NET_SG_DEFAULT };
	const char *const *sgs = rq->nsgs ? rq->sgs : dflt;
	size_t nsgs = rq->nsgs ? rq->nsgs : 1;
	char bridge[NET_IFNAMSIZ];
	struct vpc_tx tx;
	struct lease l;
	bool leased = false, recorded = false;
	int r;

	memset(a, 0, sizeof(*a));
	a->tap_fd = -1;
	const char *ctl = getenv(SDN_ENV);
	if (rq->host || (ctl && ctl[0]))
		return sdn_attach(ctl, rq, a, err);
	if (rq->rate_mbit)
		return cl_err(err, EINVAL, "--rate: needs a controller (%s) and --host", SDN_ENV);
	if (strcmp(rq->kind, "vm") && strcmp(rq->kind, "ct"))
		return cl_err(err, EINVAL, "attachment kind '%s'", rq->kind);
	if ((r = net_ref_parse(rq->ref, a->vpc, a->subnet, err)) < 0 ||
	    (r = net_name_check("guest", rq->id, err)) < 0)
		return cl_err_wrap(err, "--net %s", rq->ref);
	if (!strcmp(rq->kind, "ct") && (rq->guest_ns < 0 || !rq->guest_ifname))
		return cl_err(err, EINVAL, "--net %s: a container attachment needs its namespace", rq->ref);
	snprintf(a->kind, sizeof(a->kind), "%s", rq->kind);
	snprintf(a->id, sizeof(a->id), "%s", rq->id);
	if ((r = vpc_tx_begin(&tx, rq->root, a->vpc, err)) < 0)
		return cl_err_wrap(err, "--net %s", rq->ref);
	const struct net_subnet *s = vpc_subnet_find(&tx.v, a->subnet);
	if (!s) {
		r = cl_err(err, ENOENT, "vpc %s has no subnet %s", a->vpc, a->subnet);
		goto fail;
	}
	for (size_t i = 0; i < nsgs; i++)
		if (!vpc_sg_find(&tx.v, sgs[i])) {
			r = cl_err(err, ENOENT, "--sg %s: vpc %s has no such security group", sgs[i], a->vpc);
			goto fail;
		}
	if (att_find(&tx.v, rq->kind, rq->id, a->subnet)) {
		r = cl_err(err, EEXIST, "%s %s is attached to %s already", rq->kind, rq->id, rq->ref);
		goto fail;
	}
	if ((r = ipam_allocate(rq->root, a->vpc, a->subnet, &s->cidr, rq->kind, rq->id, &l, err)) < 0)
		goto fail;
	leased = true;
	a->ip = l.ip;
	memcpy(a->mac, l.mac, 6);
	a->gateway = ipam_gateway(&s->cidr);
	a->prefix = s->cidr.prefix;
	a->mtu = NET_MTU;
	net_ifname(strcmp(rq->kind, "vm") ? NET_IF_VETH_HOST : NET_IF_TAP, a->vpc, a->subnet,
		   rq->kind, rq->id, a->ifname);
	net_ifname(NET_IF_BRIDGE, a->vpc, a->subnet, NULL, NULL, bridge);
	if ((r = att_port_make(tx.ns, tx.sk, rq, a, bridge, err)) < 0 ||
	    (r = vpc_att_append(&tx.v, rq, a, sgs, nsgs, err)) < 0)
		goto fail;
	recorded = true;
	if ((r = vpc_tx_commit(&tx, err)) < 0)
		goto fail;
	vpc_tx_end(&tx);
	return 0;
fail:
	if (recorded)
		free(tx.v.atts[--tx.v.natts].sgs);
	if (tx.sk)
		link_del(tx.sk, a->ifname, NULL);
	if (a->tap_fd >= 0)
		close(a->tap_fd);
	a->tap_fd = -1;
	if (leased)
		ipam_release(rq->root, a->vpc, a->subnet, rq->kind, rq->id, NULL);
	vpc_tx_end(&tx);
	return cl_err_wrap(err, "--net %s", rq->ref);
}

int net_detach(const char *root, struct net_attachment *a, struct cl_error *err)
{
	struct vpc_tx tx;
	if (a->tap_fd >= 0)
		close(a->tap_fd);
	a->tap_fd = -1;
	if (a->host[0])
		return sdn_detach(getenv(SDN_ENV), a, err);
	if (!a->vpc[0])
		return 0;
	int r = vpc_tx_begin(&tx, root, a->vpc, err);
	if (r == -ENOENT)
		return 0;   /* the VPC went with `vpc rm --force` */
	if (r < 0)
		return r;
	struct vpc_att *t = att_find(&tx.v, a->kind, a->id, a->subnet);
	if (t) {
		att_teardown(&tx, t);
		free(t->sgs);
		*t = tx.v.atts[--tx.v.natts];
		r = vpc_tx_commit(&tx, err);
	}
	vpc_tx_end(&tx);
	a->vpc[0] = '\0';
	return r;
}

int net_attach_check(const struct net_attach_req *rq, struct net_attachment *a, struct cl_error *err)
{
	struct vpc_tx tx;
	struct nl_sock *sk = NULL;
	char ip[IP4_STR_MAX];
	int r;

	memset(a, 0, sizeof(*a));
	a->tap_fd = -1;
	if ((r = net_ref_parse(rq->ref, a->vpc, a->subnet, err)) < 0)
		return r;
	if ((r = vpc_tx_begin(&tx, rq->root, a->vpc, err)) < 0)
		return r;
	const struct net_subnet *s = vpc_subnet_find(&tx.v, a->subnet);
	const struct vpc_att *t = att_find(&tx.v, rq->kind, rq->id, a->subnet);
	struct lease *ls = NULL;
	size_t n = 0;
	if (!s) {
		r = cl_err(err, ENOENT, "vpc %s has no subnet %s", a->vpc, a->subnet);
		goto out;
	}
	if (!t) {
		r = cl_err(err, ENOENT, "%s %s is not attached to %s", rq->kind, rq->id, rq->ref);
		goto out;
	}
	snprintf(a->kind, sizeof(a->kind), "%s", t->kind);
	snprintf(a->id, sizeof(a->id), "%s", t->id);
	snprintf(a->ifname, sizeof(a->ifname), "%s", t->ifname);
	a->ip = t->ip;
	memcpy(a->mac, t->mac, 6);
	a->gateway = ipam_gateway(&s->cidr);
	a->prefix = s->cidr.prefix;
	a->mtu = NET_MTU;
	if ((r = ipam_list(rq->root, a->vpc, a->subnet, &ls, &n, err)) < 0)
		goto out;
	bool leased = false;
	for (size_t i = 0; i < n; i++)
		leased |= ls[i].ip == t->ip && !strcmp(ls[i].owner_id, t->id) && !strcmp(ls[i].owner_kind, t->kind);
	if (!leased) {
		r = cl_err(err, EIO, "%s %s: no lease of %s in %s", rq->kind, rq->id, ip4_format(t->ip, ip), rq->ref);
		goto out;
	}
	if (!link_index(tx.sk, t->ifname)) {
		r = cl_err(err, EIO, "%s %s: its port %s is gone from vpc %s", rq->kind, rq->id, t->ifname, a->vpc);
		goto out;
	}
	if (rq->guest_ns >= 0 && rq->guest_ifname) {
		if ((r = nl_open(rq->guest_ns, &sk, err)) < 0)
			goto out;
		int k = addr_has(sk, rq->guest_ifname, t->ip, s->cidr.prefix);
		if (k <= 0) {
			r = k == -ENODEV ? cl_err(err, EIO, "no interface %s in the container", rq->guest_ifname)
					 : cl_err(err, EIO, "interface %s lacks its address %s/%u", rq->guest_ifname,
						  ip4_format(t->ip, ip), (unsigned)s->cidr.prefix);
			goto out;
		}
	}
	r = 0;
out:
	if (sk)
		nl_close(sk);
	free(ls);
	vpc_tx_end(&tx);
	return r;
}

char *net_kernel_ip_arg(const struct net_attachment *a, const char *ifname, char *buf, size_t len)
{
	char ip[IP4_STR_MAX], gw[IP4_STR_MAX], mask[IP4_STR_MAX];
	/* ip=<client>:<server>:<gw>:<netmask>:<hostname>:<device>:<autoconf>
	 * (Documentation/admin-guide/nfs/nfsroot.rst) */
	snprintf(buf, len, "ip=%s::%s:%s::%s:off", ip4_format(a->ip, ip), ip4_format(a->gateway, gw),
		 ip4_format(cidr_mask(a->prefix), mask), ifname);
	return buf;
}
