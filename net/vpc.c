/* VPC operations: the kernel side (namespace, bridges, nftables) and the
 * record move together under the VPC's lock. Every change runs as a
 * transaction: begin (lock, load, drop attachments whose holder died),
 * change the kernel, commit (nftables ruleset, then the record).
 * See include/cloudlet/net.h. */
#include <dirent.h>
#include <json-c/json.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloudlet/file.h"
#include "cloudlet/proc.h"
#include "internal.h"

#define RECORD_MAX (16u << 20)

static int vpc_paths(const char *root, const char *name, char rec[PATH_MAX], char lock[PATH_MAX],
		     struct cl_error *err)
{
	int r;
	char dir[PATH_MAX];
	if ((r = net_name_check("vpc", name, err)) < 0)
		return r;
	if (snprintf(dir, sizeof(dir), "%s/vpc", root) >= (int)sizeof(dir) - NET_NAME_LEN - 8)
		return cl_err(err, ENAMETOOLONG, "state directory %.64s...: too long", root);
	if ((r = net_state_mkdirs(dir, err)) < 0)
		return r;
	if (snprintf(rec, PATH_MAX, "%.3900s/%s.json", dir, name) >= PATH_MAX ||
	    snprintf(lock, PATH_MAX, "%.3900s/%s.lock", dir, name) >= PATH_MAX)
		return cl_err(err, ENAMETOOLONG, "state directory %.64s...: too long", root);
	return 0;
}

/* "clvpc-<10 hex>" of (state root, name): two state roots on one host
 * (tests, users) never share a namespace, whatever their VPCs are called */
static void netns_name(const char *root, const char *name, char out[NET_IFNAMSIZ])
{
	char real[PATH_MAX];
	const char *parts[] = { "netns", realpath(root, real) ? real : root, name };
	snprintf(out, NET_IFNAMSIZ, "clvpc-%08llx",
		 (unsigned long long)(net_hash(parts, 3) >> 32));
}

int vpc_record_read(const char *path, const char *name, struct vpc *v, struct cl_error *err)
{
	uint8_t *buf;
	size_t len;
	int r = cl_file_read(path, RECORD_MAX, &buf, &len, err);
	if (r == -ENOENT)
		return cl_err(err, ENOENT, "vpc %s: no such VPC", name);
	if (r < 0)
		return r;
	char *text = realloc(buf, len + 1);
	if (!text) {
		free(buf);
		return cl_err(err, ENOMEM, "out of memory");
	}
	text[len] = '\0';
	r = vpc_from_json(text, path, v, err);
	free(text);
	if (r == 0 && strcmp(v->name, name)) {
		vpc_free(v);
		return cl_err(err, EBADMSG, "%s: holds VPC %.64s", path, v->name);
	}
	return r;
}

static int record_write(const char *path, const struct vpc *v, struct cl_error *err)
{
	struct json_object *o = vpc_to_jobj(v);
	if (!o)
		return cl_err(err, ENOMEM, "out of memory");
	int r = net_state_write_json(path, o, err);
	json_object_put(o);
	return r;
}

void att_teardown(struct vpc_tx *tx, const struct vpc_att *a)
{
	/* a tap goes with its last fd, a veth with its container's namespace:
	 * deleting covers a holder that is still alive (vpc rm --force) */
	link_del(tx->sk, a->ifname, NULL);
	ipam_release(tx->root, tx->v.name, a->subnet, a->kind, a->id, NULL);
}

int vpc_tx_begin(struct vpc_tx *tx, const char *root, const char *name, struct cl_error *err)
{
	char lock[PATH_MAX];
	int r;
	memset(tx, 0, sizeof(*tx));
	tx->root = root;
	tx->lock = tx->ns = -1;
	if ((r = vpc_paths(root, name, tx->path, lock, err)) < 0)
		return r;
	/* no lock file for a VPC that does not exist (and is then made) */
	if (access(tx->path, F_OK) < 0 && errno == ENOENT)
		return cl_err(err, ENOENT, "vpc %s: no such VPC", name);
	if ((r = net_state_lock(lock, &tx->lock, err)) < 0)
		return r;
	if ((r = vpc_record_read(tx->path, name, &tx->v, err)) < 0 ||
	    (r = netns_open(tx->v.netns, &tx->ns, err)) < 0 || (r = nl_open(tx->ns, &tx->sk, err)) < 0) {
		if (r != -ENOENT || tx->v.name[0])
			cl_err_wrap(err, "vpc %s", name);
		vpc_tx_end(tx);
		return r;
	}
	/* attachments whose holder died (a VMM killed with SIGKILL) are
	 * released here, by whoever touches the VPC next */
	size_t keep = 0;
	for (size_t i = 0; i < tx->v.natts; i++) {
		struct vpc_att *a = &tx->v.atts[i];
		if (!a->pid || cl_pid_alive(a->pid, a->pid_start)) {
			tx->v.atts[keep++] = *a;
			continue;
		}
		att_teardown(tx, a);
		free(a->sgs);
	}
	bool stale = keep != tx->v.natts;
	tx->v.natts = keep;
	if (stale && (r = vpc_tx_commit(tx, err)) < 0) {
		vpc_tx_end(tx);
		return r;
	}
	return 0;
}

int vpc_tx_commit(struct vpc_tx *tx, struct cl_error *err)
{
	char *script = vpc_fw_render(&tx->v);
	if (!script)
		return cl_err(err, ENOMEM, "out of memory");
	int r = nft_apply(tx->ns, script, err);
	free(script);
	if (r < 0)
		return cl_err_wrap(err, "vpc %s: security groups", tx->v.name);
	return record_write(tx->path, &tx->v, err);
}

void vpc_tx_end(struct vpc_tx *tx)
{
	nl_close(tx->sk);
	if (tx->ns >= 0)
		close(tx->ns);
	if (tx->lock >= 0)
		close(tx->lock);
	vpc_free(&tx->v);
	tx->sk = NULL;
	tx->ns = tx->lock = -1;
}

/* ---- create / remove ---- */

static int default_sg(struct vpc *v, struct cl_error *err)
{
	v->sgs = calloc(1, sizeof(*v->sgs));
	if (!v->sgs || !(v->sgs[0].rules = calloc(1, sizeof(struct sg_rule))))
		return cl_err(err, ENOMEM, "out of memory");
	v->nsgs = v->sgs[0].nrules = 1;
	snprintf(v->sgs[0].name, sizeof(v->sgs[0].name), "%s", NET_SG_DEFAULT);
	/* AWS's default group: members reach each other, nothing else gets in */
	return sg_rule_parse(SG_INGRESS, "all", NULL, "sg:" NET_SG_DEFAULT, &v->sgs[0].rules[0], err);
}

/* The namespace as a router: forwarding on, lo up, bridged IPv4 through
 * the inet hooks (br_netfilter) so that security groups see it. */
static int ns_setup(struct vpc_tx *tx, struct cl_error *err)
{
	int r;
	if ((r = netns_sysctl(tx->ns, "ipv4/ip_forward", "1", err)) < 0 ||
	    (r = link_set_up(tx->sk, "lo", 0, err)) < 0)
		return r;
	if ((r = netns_sysctl(tx->ns, "bridge/bridge-nf-call-iptables", "1", err)) < 0)
		return cl_err(err, -r, "security groups need bridged traffic to pass nftables: "
			      "load the br_netfilter module (modprobe br_netfilter)");
	return 0;
}

int vpc_create(const char *root, const char *name, const char *cidr, struct cl_error *err)
{
	struct vpc_tx tx = { .root = root, .lock = -1, .ns = -1 };
	char lock[PATH_MAX];
	bool made_ns = false;
	int r;
	if ((r = vpc_paths(root, name, tx.path, lock, err)) < 0 ||
	    (r = cidr_parse(cidr, &tx.v.cidr, err)) < 0 ||
	    (r = net_vpc_check(name, &tx.v.cidr, err)) < 0)
		goto out;
	if ((r = net_state_lock(lock, &tx.lock, err)) < 0)
		goto out;
	if (access(tx.path, F_OK) == 0) {
		r = cl_err(err, EEXIST, "vpc %s exists", name);
		goto out;
	}
	snprintf(tx.v.name, sizeof(tx.v.name), "%s", name);
	netns_name(root, name, tx.v.netns);
	if ((r = default_sg(&tx.v, err)) < 0 || (r = netns_create(tx.v.netns, err)) < 0)
		goto out;
	made_ns = true;
	if ((r = netns_open(tx.v.netns, &tx.ns, err)) < 0 || (r = nl_open(tx.ns, &tx.sk, err)) < 0 ||
	    (r = ns_setup(&tx, err)) < 0 || (r = vpc_tx_commit(&tx, err)) < 0)
		goto out;
out:
	if (r < 0 && made_ns)
		netns_delete(tx.v.netns, NULL);
	if (r < 0)
		cl_err_wrap(err, "vpc %s", name);
	vpc_tx_end(&tx);
	return r;
}

static void leases_remove(const char *root, const struct vpc *v)
{
	char p[PATH_MAX];
	for (size_t i = 0; i < v->nsubnets; i++) {
		snprintf(p, sizeof(p), "%s/leases/%s/%s.json", root, v->name, v->subnets[i].name);
		unlink(p);
		snprintf(p, sizeof(p), "%s/leases/%s/%s.lock", root, v->name, v->subnets[i].name);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/leases/%s", root, v->name);
	rmdir(p);
}

int vpc_rm(const char *root, const char *name, bool force, struct cl_error *err)
{
	struct vpc_tx tx;
	char lock[PATH_MAX], br[NET_IFNAMSIZ];
	int r = vpc_tx_begin(&tx, root, name, err);
	if (r < 0)
		return r;
	if (tx.v.natts && !force) {
		const struct vpc_att *a = &tx.v.atts[0];
		r = cl_err(err, EBUSY, "vpc %s: %zu guest(s) attached (%s %s on %s...): stop them or use --force",
			   name, tx.v.natts, a->kind, a->id, a->subnet);
		goto out;
	}
	for (size_t i = 0; i < tx.v.natts; i++)
		att_teardown(&tx, &tx.v.atts[i]);
	if (tx.v.nat && (r = nat_teardown(&tx, err)) < 0)
		goto out;
	for (size_t i = 0; i < tx.v.nsubnets; i++)
		link_del(tx.sk, net_ifname(NET_IF_BRIDGE, name, tx.v.subnets[i].name, NULL, NULL, br), NULL);
	if ((r = netns_delete(tx.v.netns, err)) < 0)
		goto out;
	leases_remove(root, &tx.v);
	unlink(tx.path);
	snprintf(lock, sizeof(lock), "%s/vpc/%s.lock", root, name);
	unlink(lock);
out:
	vpc_tx_end(&tx);
	return r;
}

/* ---- subnets and security groups ---- */

int vpc_subnet_create(const char *root, const char *ref, const char *cidr, struct cl_error *err)
{
	char vn[NET_NAME_LEN + 1], sn[NET_NAME_LEN + 1], br[NET_IFNAMSIZ];
	struct cidr c;
	struct vpc_tx tx;
	int r;
	if ((r = net_ref_parse(ref, vn, sn, err)) < 0 || (r = cidr_parse(cidr, &c, err)) < 0)
		return r;
	if ((r = vpc_tx_begin(&tx, root, vn, err)) < 0)
		return r;
	struct vpc *v = &tx.v;
	if ((r = net_subnet_check(vn, &v->cidr, sn, &c, v->subnets, v->nsubnets, err)) < 0)
		goto out;
	struct net_subnet *grown = realloc(v->subnets, (v->nsubnets + 1) * sizeof(*grown));
	if (!grown || !(grown[v->nsubnets].name = strdup(sn))) {
		if (grown)
			v->subnets = grown;
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	v->subnets = grown;
	v->subnets[v->nsubnets].cidr = c;
	net_ifname(NET_IF_BRIDGE, vn, sn, NULL, NULL, br);
	/* the bridge is the subnet; its address is the guests' gateway */
	if ((r = link_bridge_add(tx.sk, br, NET_MTU, NULL, err)) < 0 ||
	    (r = addr_add(tx.sk, br, ipam_gateway(&c), c.prefix, err)) < 0 ||
	    (r = link_set_up(tx.sk, br, 0, err)) < 0) {
		free((char *)v->subnets[v->nsubnets].name);
		goto undo;
	}
	v->nsubnets++;
	if ((r = vpc_tx_commit(&tx, err)) == 0)
		goto out;
	v->nsubnets--;
	free((char *)v->subnets[v->nsubnets].name);
undo:
	link_del(tx.sk, br, NULL);
out:
	if (r < 0)
		cl_err_wrap(err, "subnet %s", ref);
	vpc_tx_end(&tx);
	return r;
}

int vpc_sg_create(const char *root, const char *ref, struct cl_error *err)
{
	char vn[NET_NAME_LEN + 1], gn[NET_NAME_LEN + 1];
	struct vpc_tx tx;
	int r;
	if ((r = net_ref_parse(ref, vn, gn, err)) < 0 || (r = vpc_tx_begin(&tx, root, vn, err)) < 0)
		return r;
	if (vpc_sg_find(&tx.v, gn)) {
		r = cl_err(err, EEXIST, "security group %s exists", ref);
		goto out;
	}
	struct vpc_sg *g = realloc(tx.v.sgs, (tx.v.nsgs + 1) * sizeof(*g));
	if (!g) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	tx.v.sgs = g;
	g[tx.v.nsgs] = (struct vpc_sg){ 0 };
	snprintf(g[tx.v.nsgs++].name, NET_NAME_LEN + 1, "%s", gn);
	r = vpc_tx_commit(&tx, err);
out:
	vpc_tx_end(&tx);
	return r;
}

int vpc_sg_rule_add(const char *root, const char *ref, const struct sg_rule *rule,
		    struct cl_error *err)
{
	char vn[NET_NAME_LEN + 1], gn[NET_NAME_LEN + 1];
	struct vpc_tx tx;
	int r;
	if ((r = net_ref_parse(ref, vn, gn, err)) < 0 || (r = vpc_tx_begin(&tx, root, vn, err)) < 0)
		return r;
	struct vpc_sg *g = vpc_sg_find(&tx.v, gn);
	if (!g) {
		r = cl_err(err, ENOENT, "security group %s: no such group", ref);
		goto out;
	}
	if (rule->from_sg && !vpc_sg_find(&tx.v, rule->sg)) {
		r = cl_err(err, ENOENT, "--from sg:%s: no such security group in vpc %s", rule->sg, vn);
		goto out;
	}
	struct sg_rule *rules = realloc(g->rules, (g->nrules + 1) * sizeof(*rules));
	if (!rules) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	g->rules = rules;
	rules[g->nrules++] = *rule;
	r = vpc_tx_commit(&tx, err);
out:
	vpc_tx_end(&tx);
	return r;
}

/* ---- reading ---- */

int vpc_get(const char *root, const char *name, struct vpc *out, struct cl_error *err)
{
	struct vpc_tx tx;
	int r = vpc_tx_begin(&tx, root, name, err);
	if (r < 0)
		return r;
	*out = tx.v;
	memset(&tx.v, 0, sizeof(tx.v));
	vpc_tx_end(&tx);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vpc_list(const char *root, char ***names, size_t *n, struct cl_error *err)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/vpc", root);
	*names = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : cl_err_sys(err, errno, "%s", dir);
	struct dirent *e;
	int r = 0;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".json") || e->d_name[0] == '.')
			continue;
		char **grown = realloc(*names, (*n + 1) * sizeof(char *));
		if (!grown || !(grown[*n] = strndup(e->d_name, len - 5))) {
			if (grown)
				*names = grown;
			r = cl_err(err, ENOMEM, "out of memory");
			break;
		}
		*names = grown;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(char *), cmp_str);
	return r;
}
