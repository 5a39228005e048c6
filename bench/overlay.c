/* `bench overlay`: what the VXLAN overlay costs. The same container pair
 * (bench_net_pair: clperf server and client, `ct run --host --net`) on one
 * simulated host's subnet bridge and across two hosts over VXLAN, next to
 * the bare veth pair (bench_net_veth), in one run; microVM pairs across the
 * hosts where KVM can run them. The cloud (controller store, two hosts,
 * their agents) is the bench's own and goes with it (bench/cloud.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cloudlet/bench.h"

#define SETTLE_MS 30000

static const struct {
	const char *name;
	enum bench_guest client, server;
	bool veth, across;
} pairs[BENCH_OVERLAY_PAIRS] = {
	{ "veth pair", BENCH_GUEST_CT, BENCH_GUEST_CT, true, false },
	{ "ct-ct, one host's bridge", BENCH_GUEST_CT, BENCH_GUEST_CT, false, false },
	{ "ct-ct, across hosts (VXLAN)", BENCH_GUEST_CT, BENCH_GUEST_CT, false, true },
	{ "vm-vm, across hosts (VXLAN)", BENCH_GUEST_VM, BENCH_GUEST_VM, false, true },
	{ "vm-ct, across hosts (VXLAN)", BENCH_GUEST_VM, BENCH_GUEST_CT, false, true },
};

static bool has_vm(size_t i)
{
	return pairs[i].client == BENCH_GUEST_VM || pairs[i].server == BENCH_GUEST_VM;
}

static void rounds(const struct bench_net_opts *o, const struct cloud *c, struct bench_series *s, char *note,
		   size_t note_len)
{
	const struct bench_vm_opts *vm = &o->vm;
	struct bench_net_where one = { c->url, c->host[0], c->host[0] }, two = { c->url, c->host[0], c->host[1] };
	char line[CL_ERR_MSG_MAX + 128];
	bool vms = true;
	for (unsigned round = 0; round < vm->runs && !(o->stop && *o->stop); round++)
		for (size_t i = 0; i < BENCH_OVERLAY_PAIRS && !(o->stop && *o->stop); i++) {
			if (has_vm(i) && !vms)
				continue;
			struct cl_error e = { 0 };
			struct bench_net_sample x;
			int r = pairs[i].veth ? bench_net_veth(o, &x, &e)
					      : bench_net_pair(o, pairs[i].client, pairs[i].server, false,
							       pairs[i].across ? &two : &one, &x, &e);
			if (r == -ENODEV && has_vm(i)) {
				vms = false;
				snprintf(note, note_len, "VM pairs skipped: %s", e.msg);
				if (vm->progress)
					vm->progress(vm->ctx, note);
				continue;
			}
			if (r < 0) {
				bench_series_fail(&s[i], "%s", e.msg);
			} else {
				double v[BENCH_NET_METRICS + 1];
				memcpy(v, x.v, sizeof(x.v));
				v[BENCH_NET_RTT_P99] = x.rtt_p99;
				if (!(x.rtt_p99 > 0))   /* an image built before clperf said it */
					s[i].na |= 1u << BENCH_NET_RTT_P99;
				bench_series_add(&s[i], v, BENCH_NET_METRICS + 1);
			}
			if (!vm->progress)
				continue;
			if (r < 0)
				snprintf(line, sizeof(line), "overlay: round %u/%u: %s: failed: %s", round + 1, vm->runs,
					 pairs[i].name, e.msg);
			else
				snprintf(line, sizeof(line), "overlay: round %u/%u: %s: %.1f / %.1f Mbit/s, RTT %.0f us "
					 "(p99 %.0f)", round + 1, vm->runs, pairs[i].name, x.v[BENCH_NET_TX],
					 x.v[BENCH_NET_RX], x.v[BENCH_NET_RTT], x.rtt_p99);
			vm->progress(vm->ctx, line);
		}
}

int bench_overlay(const struct bench_net_opts *o, unsigned agent_interval_ms, struct bench_series *s, size_t *n,
		  char *note, size_t note_len, struct cl_error *err)
{
	static struct cloud c;   /* large: not on the stack */
	int r = bench_net_check(o, err);
	if (r < 0)
		return r;
	if (!o->vm.root)
		return cl_err(err, EINVAL, "bench_overlay: no state root");
	for (size_t i = 0; i < BENCH_OVERLAY_PAIRS; i++)
		bench_series_init(&s[i], pairs[i].name);
	*n = BENCH_OVERLAY_PAIRS;
	note[0] = '\0';
	if ((r = cloud_open(&c, o->vm.cloudlet, o->vm.root, agent_interval_ms, 2, err)) < 0)
		return cl_err_wrap(err, "controller");
	if ((r = cloud_host_add(&c, "bench-h1", err)) < 0 || (r = cloud_host_add(&c, "bench-h2", err)) < 0 ||
	    (r = cloud_settle(&c, SETTLE_MS, err)) < 0)
		goto out;
	rounds(o, &c, s, note, note_len);
	if (o->stop && *o->stop)
		r = cl_err(err, EINTR, "interrupted (nothing of the bench is left)");
out:
	cloud_close(&c);
	return r;
}
