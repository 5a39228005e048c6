/* `bench vpc-net`: TCP throughput and round trip between two guests on one
 * VPC, containers and microVMs in every pairing, across one subnet bridge
 * and across the VPC router, next to a bare veth pair between two network
 * namespaces (the physical reference), all in one run on one machine.
 *
 * Every sample makes the VPC afresh and removes it (bench_net_pair, in
 * include/cloudlet/bench.h): a server guest on subnet a runs `clperf
 * tcp-server`, a client guest on subnet a (bridge) or b (router) runs the
 * three clperf clients one after the other (images/rootfs/tools/clperf.c,
 * the same static binary in the image and on the host). Guests are started
 * with the cloudlet binary itself, `ct run` and `vm run` with `--net`, in
 * the workload's `run` mode, so what is measured is what a user gets. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "cloudlet/bench.h"
#include "cloudlet/net.h"
#include "cloudlet/sdn.h"

#define VPC "bench-net"
#define VPC_CIDR "10.77.0.0/16"
/* the veth pair's own /30, in namespaces that hold nothing else */
#define VETH_PREFIX 30
#define VETH_CLIENT_IP 0x0a4e0001u   /* 10.78.0.1 */
#define VETH_SERVER_IP 0x0a4e0002u   /* 10.78.0.2 */
#define VM_BASE "console=ttyS0 reboot=k panic=-1 pci=off quiet"
#define GRACE_MS 30000               /* for a launcher to tear its guest down */
#define VMM_NO_KVM 12                /* `vm run`: KVM could not run the guest */
#define ALL ((1u << BENCH_NET_METRICS) - 1)

/* bench_parse_clperf indexes its results by BENCH_IO_*, which these match */
_Static_assert((int)BENCH_NET_TX == (int)BENCH_IO_TX && (int)BENCH_NET_RX == (int)BENCH_IO_RX &&
	       (int)BENCH_NET_RTT == (int)BENCH_IO_RTT,
	       "clperf's result indexes");

static const struct bench_metric metrics[] = {
	/* one decimal: a nested VM under emulation moves well under 1 Mbit/s */
	[BENCH_NET_TX] = { "tx_mbit_s", "client->server Mbit/s", "%.1f (%.1f-%.1f)" },
	[BENCH_NET_RX] = { "rx_mbit_s", "server->client Mbit/s", "%.1f (%.1f-%.1f)" },
	[BENCH_NET_RTT] = { "rtt_us", "TCP RTT us", "%.0f (%.0f-%.0f)" },
	[BENCH_NET_RTT_P99] = { "rtt_p99_us", "TCP RTT p99 us", "%.0f (%.0f-%.0f)" },
};
const struct bench_kind bench_vpc_net_kind = { "vpc-net", "client-server, path", metrics, BENCH_NET_METRICS };
const struct bench_kind bench_overlay_kind = { "overlay", "client-server, path", metrics, BENCH_NET_METRICS + 1 };

static const struct {
	const char *name;
	enum bench_guest client, server;
	bool routed, veth;
} pairs[BENCH_NET_PAIRS] = {
	{ "veth pair", BENCH_GUEST_CT, BENCH_GUEST_CT, false, true },
	{ "ct-ct, bridge", BENCH_GUEST_CT, BENCH_GUEST_CT, false, false },
	{ "vm-vm, bridge", BENCH_GUEST_VM, BENCH_GUEST_VM, false, false },
	{ "vm-ct, bridge", BENCH_GUEST_VM, BENCH_GUEST_CT, false, false },
	{ "ct-ct, router", BENCH_GUEST_CT, BENCH_GUEST_CT, true, false },
	{ "vm-vm, router", BENCH_GUEST_VM, BENCH_GUEST_VM, true, false },
	{ "vm-ct, router", BENCH_GUEST_VM, BENCH_GUEST_CT, true, false },
};

/* The three clients against ip, one after the other (sh -c). */
static int client_script(char *buf, size_t len, const char *clperf, const char *ip, const struct bench_net_opts *o,
			 struct cl_error *err)
{
	int n = snprintf(buf, len, "%1$s tcp-send %2$s " CLPERF_PORT " %3$u; %1$s tcp-recv %2$s " CLPERF_PORT
			 " %3$u; %1$s tcp-rr %2$s " CLPERF_PORT " %4$u", clperf, ip, o->seconds, o->rr_count);
	return n < 0 || (size_t)n >= len ? cl_err(err, ENAMETOOLONG, "client command too long") : 0;
}

/* A guest of kind g named `name` on subnet net, running `sh -c cmd` in the
 * workload's `run` mode; its output (a VM's console) on c's pipes. */
static int guest_start(const struct bench_net_opts *o, enum bench_guest g, const char *net, const char *host,
		       const char *name, const char *cmd, struct child *c, struct cl_error *err)
{
	struct argv a = { 0 };
	if (g == BENCH_GUEST_VM) {
		char cmdline[1024];
		int n = snprintf(cmdline, sizeof(cmdline), VM_BASE " -- run sh -c \"%s\"", cmd);
		if (n < 0 || (size_t)n >= sizeof(cmdline))
			return cl_err(err, ENAMETOOLONG, "vm %s: kernel command line too long", name);
		argv_cloudlet(&a, &o->vm, cmdline);
		argv_words(&a, "--net", net, "--name", name, NULL);
		if (host)
			argv_words(&a, "--host", host, NULL);
	} else {
		argv_words(&a, o->vm.cloudlet, "--root", o->vm.root, "ct", "run", "--name", name, "--net", net, NULL);
		if (host)
			argv_words(&a, "--host", host, NULL);
		argv_words(&a, o->image, "run", "sh", "-c", cmd, NULL);
	}
	if (a.overflow)
		return cl_err(err, E2BIG, "%s: command line too long", name);
	int r = child_start(c, a.v, -1, err);
	return r < 0 ? cl_err_wrap(err, "%s", name) : 0;
}

/* Why a guest's launcher ended early: -ENODEV for a VMM that KVM could
 * not run, else clperf's complaint, its stderr or its status. */
static int guest_failed(const struct child *c, enum bench_guest g, const struct clperf_out *res,
			const char *what, struct cl_error *err)
{
	int st = c->reaped && WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1;
	if (g == BENCH_GUEST_VM && st == VMM_NO_KVM)
		return cl_err(err, ENODEV, "KVM cannot run a guest here (vm run exit %d: %s); run through "
			      "tests/kvmhost/run", st, c->errbuf[0] ? c->errbuf : "no message");
	/* clperf's own complaint first: it names the test that stalled */
	if (res->why[0])
		return cl_err(err, EIO, "%s: %s", what, res->why);
	if (c->errbuf[0])
		return cl_err(err, EIO, "%s: %.*s", what, (int)strcspn(c->errbuf, "\n"), c->errbuf);
	if (!c->reaped)
		return cl_err(err, ETIMEDOUT, "%s: no result before the timeout", what);
	return cl_err(err, EIO, "%s: ended with status %d", what, st);
}

/* Wait for a client's three results (and its launcher's end). */
static int client_finish(struct child *c, enum bench_guest g, bool host, unsigned timeout_s,
			 struct bench_net_sample *out, struct cl_error *err)
{
	struct clperf_out res = { .have = 0 };
	child_wait(c, bench_now_ms() + timeout_s * 1000.0 + 5000, clperf_on_line, &res, host ? NULL : &res.done);
	if (res.done && !c->reaped)   /* a VM resets after the marker; a container exits */
		child_wait(c, bench_now_ms() + GRACE_MS, clperf_on_line, &res, NULL);
	int r = 0;
	if (res.have != ALL || !c->reaped || !WIFEXITED(c->status) || WEXITSTATUS(c->status)) {
		/* which of the three tests it got through: where a stall was */
		char what[48];
		snprintf(what, sizeof(what), "client (%d of 3 results)", __builtin_popcount(res.have));
		r = guest_failed(c, g, &res, res.have != ALL ? what : "client's launcher", err);
	} else {
		for (unsigned m = 0; m < BENCH_NET_METRICS; m++)
			out->v[m] = res.v[m];
		out->rtt_p99 = res.rtt_p99;
	}
	child_kill(c);
	return r;
}

static int att_ip(const struct vpc *v, const char *name, char ip[IP4_STR_MAX])
{
	for (size_t i = 0; i < v->natts; i++)
		if (!strcmp(v->atts[i].id, name)) {
			ip4_format(v->atts[i].ip, ip);
			return 0;
		}
	return -ENOENT;
}

/* the guest's address, from the VPC's record or the controller's */
static int guest_ip(const char *root, const struct bench_net_where *w, const char *name, char ip[IP4_STR_MAX],
		    struct cl_error *err)
{
	int r;
	if (w) {
		struct sdn_vpc sv;
		struct sdn_state st;
		int64_t *applied = NULL;
		if ((r = sdn_vpc_get(w->controller, VPC, &sv, &st, &applied, err)) < 0)
			return r;
		r = att_ip(&sv.v, name, ip);
		sdn_vpc_free(&sv);
		sdn_state_free(&st);
		free(applied);
	} else {
		struct vpc v;
		if ((r = vpc_get(root, VPC, &v, err)) < 0)
			return r;
		r = att_ip(&v, name, ip);
		vpc_free(&v);
	}
	return r ? cl_err(err, ENOENT, "%s: not attached to vpc " VPC, name) : 0;
}

/* The pair's VPC, made afresh (an earlier call's, had it been killed,
 * goes first), on this host or in the controller */
static int vpc_make(const char *root, const struct bench_net_where *w, struct cl_error *err)
{
	static const char *const subnets[][2] = { { VPC "/a", "10.77.1.0/24" }, { VPC "/b", "10.77.2.0/24" } };
	int r;
	if (w) {
		sdn_vpc_rm(w->controller, VPC, true, NULL);
		r = sdn_vpc_create(w->controller, VPC, VPC_CIDR, err);
	} else {
		vpc_rm(root, VPC, true, NULL);
		r = vpc_create(root, VPC, VPC_CIDR, err);
	}
	for (size_t i = 0; i < 2 && r == 0; i++)
		r = w ? sdn_subnet_create(w->controller, subnets[i][0], subnets[i][1], err)
		      : vpc_subnet_create(root, subnets[i][0], subnets[i][1], err);
	return r;
}

/* A /dev/kvm that cannot run Linux (a paravirtual one) may hang a guest
 * rather than fail it: only the KVM-host harness's probe can tell, and it
 * says it has vouched for this one in CLOUDLET_KVMHOST. */
static int kvm_check(struct cl_error *err)
{
	if (!getenv("CLOUDLET_KVMHOST"))
		return cl_err(err, ENODEV, "not run through tests/kvmhost/run, whose probe tells whether /dev/kvm "
			      "can run a Linux guest here");
	if (access("/dev/kvm", R_OK | W_OK) < 0)
		return cl_err_sys(err, ENODEV, "/dev/kvm: %s", strerror(errno));
	return 0;
}

int bench_net_pair(const struct bench_net_opts *o, enum bench_guest a, enum bench_guest b, bool routed,
		   const struct bench_net_where *w, struct bench_net_sample *out, struct cl_error *err)
{
	static unsigned seq;   /* names unique per call: a stuck guest cannot block the next */
	const char *root = o->vm.root;
	char srv_name[NET_NAME_LEN], cli_name[NET_NAME_LEN], ip[IP4_STR_MAX], script[512];
	struct child srv = { .pid = -1, .out = -1, .err = -1 }, cli;
	if (!root)
		return cl_err(err, EINVAL, "bench_net_pair: no state root");
	int r;
	if ((a == BENCH_GUEST_VM || b == BENCH_GUEST_VM) && (r = kvm_check(err)) < 0)
		return r;
	/* the launchers attach through the controller their environment names */
	const char *ctl = getenv(SDN_ENV);
	if (w ? !ctl || strcmp(ctl, w->controller) : ctl && ctl[0])
		return cl_err(err, EINVAL, "bench_net_pair: %s is '%s', not %s", SDN_ENV, ctl ? ctl : "",
			      w ? w->controller : "unset");
	seq++;
	snprintf(srv_name, sizeof(srv_name), "bench-srv-%d-%u", (int)getpid(), seq);
	snprintf(cli_name, sizeof(cli_name), "bench-cli-%d-%u", (int)getpid(), seq);

	if ((r = vpc_make(root, w, err)) < 0)
		goto out;

	struct clperf_out st = { .have = 0 };
	if ((r = guest_start(o, b, VPC "/a", w ? w->server_host : NULL, srv_name, "exec clperf tcp-server " CLPERF_PORT,
			     &srv, err)) < 0)
		goto out;
	child_wait(&srv, bench_now_ms() + o->vm.timeout_s * 1000.0, clperf_on_line, &st, &st.listening);
	if (!st.listening) {
		r = guest_failed(&srv, b, &st, "server", err);
		goto out;
	}
	if ((r = guest_ip(root, w, srv_name, ip, err)) < 0 ||
	    (r = client_script(script, sizeof(script), "clperf", ip, o, err)) < 0 ||
	    (r = guest_start(o, a, routed ? VPC "/b" : VPC "/a", w ? w->client_host : NULL, cli_name, script, &cli,
			     err)) < 0)
		goto out;
	r = client_finish(&cli, a, false, o->vm.timeout_s, out, err);
out:
	if (srv.pid > 0)
		child_stop(&srv, GRACE_MS);
	struct cl_error e2 = { 0 };
	if ((w ? sdn_vpc_rm(w->controller, VPC, true, &e2) : vpc_rm(root, VPC, true, &e2)) < 0 && r == 0)
		r = cl_err(err, e2.code ? e2.code : EIO, "%s", e2.msg);
	return r;
}

int bench_net_veth(const struct bench_net_opts *o, struct bench_net_sample *out, struct cl_error *err)
{
	char ip[IP4_STR_MAX], script[1024];
	int nc = -1, ns = -1, r;
	struct child srv, cli;
	if ((r = netns_new(&nc, err)) < 0 || (r = netns_new(&ns, err)) < 0 ||
	    (r = net_veth_pair(nc, "eth0", VETH_CLIENT_IP, ns, "eth0", VETH_SERVER_IP, VETH_PREFIX, err)) < 0 ||
	    (r = client_script(script, sizeof(script), o->clperf, ip4_format(VETH_SERVER_IP, ip), o, err)) < 0)
		goto out;
	if ((r = clperf_server_start(o->clperf, ns, &srv, err)) < 0)
		goto out;
	char *argv[] = { "sh", "-c", script, NULL };
	if ((r = child_start(&cli, argv, nc, err)) == 0)
		r = client_finish(&cli, BENCH_GUEST_CT, true, o->vm.timeout_s, out, err);
	child_kill(&srv);
out:
	/* the namespaces, and the pair in them, go with the last fd */
	if (nc >= 0)
		close(nc);
	if (ns >= 0)
		close(ns);
	return r < 0 ? cl_err_wrap(err, "veth pair") : 0;
}

static bool has_vm(size_t i)
{
	return pairs[i].client == BENCH_GUEST_VM || pairs[i].server == BENCH_GUEST_VM;
}

int bench_net_check(const struct bench_net_opts *o, struct cl_error *err)
{
	const struct bench_vm_opts *vm = &o->vm;
	if (vm->runs < 1 || vm->runs > BENCH_MAX_RUNS)
		return cl_err(err, EINVAL, "--runs %u is out of range 1..%d", vm->runs, BENCH_MAX_RUNS);
	if (o->seconds < 1 || o->rr_count < 1)
		return cl_err(err, EINVAL, "--seconds and --rr-count must be at least 1");
	char index[4096];
	snprintf(index, sizeof(index), "%s/index.json", o->image);
	const char *files[] = { index, o->clperf, vm->kernel, vm->initrd };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (access(files[i], R_OK) < 0)
			return cl_err_sys(err, errno, "%s (run: make images)", files[i]);
	return 0;
}

int bench_vpc_net(const struct bench_net_opts *o, struct bench_series *s, size_t *n, char *note,
		  size_t note_len, struct cl_error *err)
{
	const struct bench_vm_opts *vm = &o->vm;
	int r = bench_net_check(o, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < BENCH_NET_PAIRS; i++)
		bench_series_init(&s[i], pairs[i].name);
	*n = BENCH_NET_PAIRS;
	note[0] = '\0';

	bool vms = true;
	char line[CL_ERR_MSG_MAX + 128];
	for (unsigned round = 0; round < vm->runs; round++) {
		for (size_t i = 0; i < BENCH_NET_PAIRS; i++) {
			if (o->stop && *o->stop)
				return cl_err(err, EINTR, "interrupted in round %u (nothing of the bench is left)",
					      round + 1);
			if (has_vm(i) && !vms)
				continue;
			struct cl_error e = { 0 };
			struct bench_net_sample x;
			int r = pairs[i].veth ? bench_net_veth(o, &x, &e) :
				bench_net_pair(o, pairs[i].client, pairs[i].server, pairs[i].routed, NULL, &x, &e);
			if (r == -ENODEV && has_vm(i)) {
				vms = false;
				snprintf(note, note_len, "VM pairs skipped: %s", e.msg);
				if (vm->progress)
					vm->progress(vm->ctx, note);
				continue;
			}
			if (r < 0)
				bench_series_fail(&s[i], "%s", e.msg);
			else
				bench_series_add(&s[i], x.v, BENCH_NET_METRICS);
			if (vm->progress) {
				if (r < 0)
					snprintf(line, sizeof(line), "vpc-net: round %u/%u: %s: failed: %s", round + 1,
						 vm->runs, pairs[i].name, e.msg);
				else
					snprintf(line, sizeof(line), "vpc-net: round %u/%u: %s: %.1f / %.1f Mbit/s, "
						 "RTT %.0f us", round + 1, vm->runs, pairs[i].name, x.v[BENCH_NET_TX],
						 x.v[BENCH_NET_RX], x.v[BENCH_NET_RTT]);
				vm->progress(vm->ctx, line);
			}
		}
	}
	return 0;
}
