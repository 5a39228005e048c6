/* An attachment placed on a host of the overlay (`--host`, or any guest
 * when a controller is configured): the controller picks the address and
 * records where the guest lives, the host's agent builds the VPC there,
 * then the launcher plugs the guest's port into the bridge (as a CNI
 * plugin or nova's VIF plugging does); everything else (FDB and neighbour
 * entries on the other hosts, security groups) follows from the store. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../internal.h"
#include "cloudlet/proc.h"
#include "cloudlet/sdn.h"
#include "dataplane.h"

#define AGENT_WAIT_MS 20000

struct att_arg {
	const struct net_attach_req *rq;
	const char *host;
	const char *subnet;
	struct net_attachment *a;
};

static int att_add_fn(struct sdn_state *s, struct sdn_vpc *sv, const void *arg, struct cl_error *err);

static int att_del_fn(struct sdn_state *s, struct sdn_vpc *sv, const void *arg, struct cl_error *err)
{
	const struct net_attachment *a = arg;
	struct vpc *v = &sv->v;
	(void)s;
	(void)err;
	for (size_t i = 0; i < v->natts; i++)
		if (!strcmp(v->atts[i].kind, a->kind) && !strcmp(v->atts[i].id, a->id) &&
		    !strcmp(v->atts[i].subnet, a->subnet)) {
			free(v->atts[i].sgs);
			v->atts[i] = v->atts[--v->natts];
			return 0;
		}
	return 0;
}

static int att_add_fn(struct sdn_state *s, struct sdn_vpc *sv, const void *arg, struct cl_error *err)
{
	const struct att_arg *x = arg;
	const struct net_attach_req *rq = x->rq;
	static const char *const dflt[] = { NET_SG_DEFAULT };
	const char *const *sgs = rq->nsgs ? rq->sgs : dflt;
	size_t nsgs = rq->nsgs ? rq->nsgs : 1;
	struct vpc *v = &sv->v;
	struct net_attachment *a = x->a;
	if (!sdn_host_find(s, x->host))
		return cl_err(err, ENOENT, "--host %s: no such host (cloudlet host ls)", x->host);
	const struct net_subnet *sn = vpc_subnet_find(v, x->subnet);
	if (!sn)
		return cl_err(err, ENOENT, "vpc %s has no subnet %s", v->name, x->subnet);
	for (size_t i = 0; i < nsgs; i++)
		if (!vpc_sg_find(v, sgs[i]))
			return cl_err(err, ENOENT, "--sg %s: vpc %s has no such security group", sgs[i], v->name);
	uint32_t *used = calloc(v->natts + 1, sizeof(*used));
	size_t nu = 0;
	if (!used)
		return cl_err(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < v->natts; i++) {
		const struct vpc_att *t = &v->atts[i];
		if (!strcmp(t->kind, rq->kind) && !strcmp(t->id, rq->id) && !strcmp(t->subnet, x->subnet)) {
			free(used);
			return cl_err(err, EEXIST, "%s %s is attached to %s already", rq->kind, rq->id, rq->ref);
		}
		if (!strcmp(t->subnet, x->subnet))
			used[nu++] = t->ip;
	}
	/* round robin: an address just freed is not handed out again at once,
	 * so no guest meets a stale ARP entry for it (another MAC) */
	size_t k = (size_t)(sn - v->subnets);
	int r = ipam_pick_from(&sn->cidr, used, nu, sv->last[k] + 1, &a->ip);
	free(used);
	if (r == 0)
		sv->last[k] = a->ip;
	if (r < 0)
		return cl_err(err, -r, "subnet %s/%s is full", v->name, x->subnet);
	/* kind, id, subnet and ifname are the caller's (sdn_attach) */
	snprintf(a->host, sizeof(a->host), "%s", x->host);
	net_mac(v->name, x->subnet, rq->kind, rq->id, 0, a->mac);
	if ((r = vpc_att_append(v, rq, a, sgs, nsgs, err)) < 0)
		return r;
	a->gateway = ipam_gateway(&sn->cidr);
	a->prefix = sn->cidr.prefix;
	return 0;
}

static void nap_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* until the host's agent has applied `rev` and the bridge is there */
static int agent_wait(const char *url, const char *host, const char *ns, const char *bridge, int64_t rev,
		      struct cl_error *err)
{
	for (unsigned t = 0; t < AGENT_WAIT_MS; t += 100) {
		struct sdn_store *st;
		struct sdn_kv *kvs = NULL;
		size_t n = 0;
		int64_t srev, applied = -1;
		char key[128];
		snprintf(key, sizeof(key), "/cloudlet/applied/%s", host);
		if (sdn_store_open(url, &st, NULL) == 0) {
			struct sdn_report rep;
			if (st->ops->get(st, key, &kvs, &n, &srev, NULL) == 0 && n == 1 &&
			    sdn_report_from_json(kvs[0].value, &rep) == 0)
				applied = rep.applied;
			sdn_kvs_free(kvs, n);
			sdn_store_close(st);
		}
		if (applied >= rev) {
			int fd;
			struct nl_sock *sk;
			bool there = false;
			if (netns_open(ns, &fd, NULL) == 0) {
				if (nl_open(fd, &sk, NULL) == 0) {
					there = link_index(sk, bridge) > 0;
					nl_close(sk);
				}
				close(fd);
			}
			if (there)
				return 0;
		}
		nap_ms(100);
	}
	return cl_err(err, ETIMEDOUT, "host %s: its agent has not set up the VPC in %d s "
		      "(is `cloudlet agent --host %s` running?)", host, AGENT_WAIT_MS / 1000, host);
}

int sdn_attach(const char *url, const struct net_attach_req *rq, struct net_attachment *a,
	       struct cl_error *err)
{
	char bridge[NET_IFNAMSIZ], ns[NET_NAME_LEN + 32];
	struct sdn_store *st = NULL;
	struct nl_sock *sk = NULL;
	int64_t rev = 0;
	int fd = -1, r;
	bool recorded = false;
	const char *host = rq->host ? rq->host : "";
	if (!url || !url[0])
		return cl_err(err, EINVAL, "--host %s: no controller configured (set %s=sqlite:PATH or "
			      "etcd:http://HOST:PORT)", host, SDN_ENV);
	if (!rq->host)
		return cl_err(err, EINVAL, "--net %s: a controller is configured (%s): say where with --host",
			      rq->ref, SDN_ENV);
	if (strcmp(rq->kind, "vm") && strcmp(rq->kind, "ct"))
		return cl_err(err, EINVAL, "attachment kind '%s'", rq->kind);
	if ((r = sdn_host_check(host, err)) < 0 || (r = net_ref_parse(rq->ref, a->vpc, a->subnet, err)) < 0 ||
	    (r = net_name_check("guest", rq->id, err)) < 0)
		return cl_err_wrap(err, "--net %s", rq->ref);
	if (!strcmp(rq->kind, "ct") && (rq->guest_ns < 0 || !rq->guest_ifname))
		return cl_err(err, EINVAL, "--net %s: a container attachment needs its namespace", rq->ref);
	snprintf(a->kind, sizeof(a->kind), "%s", rq->kind);
	snprintf(a->id, sizeof(a->id), "%s", rq->id);
	a->mtu = SDN_GUEST_MTU;     /* the underlay's MTU less VXLAN's 50 bytes */
	net_ifname(strcmp(rq->kind, "vm") ? NET_IF_VETH_HOST : NET_IF_TAP, a->vpc, a->subnet, rq->kind, rq->id,
		   a->ifname);
	net_ifname(NET_IF_BRIDGE, a->vpc, a->subnet, NULL, NULL, bridge);
	struct att_arg x = { .rq = rq, .host = host, .subnet = a->subnet, .a = a };
	if ((r = sdn_vpc_update(url, a->vpc, att_add_fn, &x, &rev, err)) < 0)
		goto fail;
	recorded = true;
	snprintf(a->host, sizeof(a->host), "%s", host);
	if ((r = sdn_store_open(url, &st, err)) < 0)
		goto fail;
	sdn_vpc_netns(st->cluster, host, a->vpc, ns);
	if ((r = agent_wait(url, host, ns, bridge, rev, err)) < 0 || (r = netns_open(ns, &fd, err)) < 0 ||
	    (r = nl_open(fd, &sk, err)) < 0 || (r = att_port_make(fd, sk, rq, a, bridge, err)) < 0)
		goto fail;
	nl_close(sk);
	close(fd);
	sdn_store_close(st);
	return 0;
fail:
	if (sk)
		link_del(sk, a->ifname, NULL);
	nl_close(sk);
	if (fd >= 0)
		close(fd);
	if (a->tap_fd >= 0)
		close(a->tap_fd);
	a->tap_fd = -1;
	if (recorded)
		sdn_vpc_update(url, a->vpc, att_del_fn, a, NULL, NULL);
	a->host[0] = '\0';
	sdn_store_close(st);
	return cl_err_wrap(err, "--net %s", rq->ref);
}

int sdn_detach(const char *url, struct net_attachment *a, struct cl_error *err)
{
	char ns[NET_NAME_LEN + 32];
	struct sdn_store *st;
	int fd, r;
	struct nl_sock *sk;
	if (!a->host[0])
		return 0;
	if ((r = sdn_store_open(url, &st, err)) < 0)
		return r;
	sdn_vpc_netns(st->cluster, a->host, a->vpc, ns);
	sdn_store_close(st);
	if (netns_open(ns, &fd, NULL) == 0) {
		if (nl_open(fd, &sk, NULL) == 0) {
			link_del(sk, a->ifname, NULL);
			nl_close(sk);
		}
		close(fd);
	}
	r = sdn_vpc_update(url, a->vpc, att_del_fn, a, NULL, err);
	if (r == -ENOENT)
		r = 0;   /* the VPC went with `vpc rm --force` */
	a->host[0] = '\0';
	return r;
}

int sdn_att_release(const char *url, const char *vpc, const struct vpc_att *t, struct cl_error *err)
{
	struct net_attachment a = { 0 };
	snprintf(a.kind, sizeof(a.kind), "%s", t->kind);
	snprintf(a.id, sizeof(a.id), "%s", t->id);
	snprintf(a.subnet, sizeof(a.subnet), "%s", t->subnet);
	return sdn_vpc_update(url, vpc, att_del_fn, &a, NULL, err);
}
