/* `cloudlet bench`: VM vs container, side by side. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cloudlet/bench.h"
#include "cloudlet/file.h"
#include "cloudlet/fn.h"

static void progress(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%s\n", line);
}

/* The first executable NAME on $PATH, or NULL. */
static char *which(const char *name)
{
	const char *path = getenv("PATH");
	char *dup = strdup(path ? path : "/usr/bin:/bin"), *save = NULL, *found = NULL;
	for (char *d = strtok_r(dup, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char buf[4096];
		snprintf(buf, sizeof(buf), "%s/%s", d, name);
		if (access(buf, X_OK) == 0)
			found = strdup(buf);
	}
	free(dup);
	return found;
}

/* The running binary, for the runners to start as the VMM (cli.h). */
int cli_self_path(char *buf, size_t size, struct cl_error *err)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	if (n < 0)
		return cl_err_sys(err, errno, "readlink /proc/self/exe");
	buf[n] = '\0';
	return 0;
}

static unsigned uint_opt(const struct cli_args *a, const char *name, uint64_t def)
{
	uint64_t v = cli_num(a, name, def);
	return v > UINT_MAX ? UINT_MAX : (unsigned)v;
}

/* A heading naming the benchmark and where it ran, the table, --json. */
typedef void table_fn(FILE *out, const struct bench_kind *k, const struct bench_series *const *s, size_t n);
static int report_with(table_fn *table, const struct cli_args *a, const struct bench_kind *k, const char *what,
		       const struct bench_series *const *series, size_t n, const struct bench_param *params,
		       size_t nparams, struct cl_error *err)
{
	const char *where = getenv("CLOUDLET_KVMHOST");
	bool emulated = where && !strcmp(where, "emulated");
	printf("%s: %s (%s%s)\n", k->name, what, where ? where : "native",
	       !where ? "" : emulated ? " KVM host: absolute figures are emulation-distorted, read the ratios"
			: " KVM host");
	table(stdout, k, series, n);
	const char *json = cli_str(a, "json", NULL);
	return json ? bench_json(json, k, params, nparams, series, n, err) : 0;
}

static int report(const struct cli_args *a, const struct bench_kind *k, const char *what,
		  const struct bench_series *const *series, size_t n, const struct bench_param *params,
		  size_t nparams, struct cl_error *err)
{
	return report_with(bench_table, a, k, what, series, n, params, nparams, err);
}

/* The options vm-boot and vm-io share; o->qemu is malloc'd (free it). */
static void vm_opts(const struct cli_args *a, const char *self, unsigned runs, unsigned timeout_s,
		    struct bench_vm_opts *o)
{
	*o = (struct bench_vm_opts){
		.cloudlet = self,
		.qemu = cli_flag(a, "no-reference") ? NULL : which("qemu-system-x86_64"),
		.kernel = cli_str(a, "kernel", "build/images/bzImage"),
		.initrd = cli_str(a, "initrd", "build/images/initramfs.cpio.gz"),
		.runs = uint_opt(a, "runs", runs),
		.cpus = uint_opt(a, "cpus", 1),
		.mem = cli_str(a, "mem", "256M"),
		.timeout_s = uint_opt(a, "timeout", timeout_s * 1000ull) / 1000,
		.progress = progress,
	};
}

/* The running binary and the options, for a VM benchmark. */
static int vm_setup(const struct cli_args *a, char *self, size_t len, unsigned runs, unsigned timeout_s,
		    struct bench_vm_opts *o, struct cl_error *err)
{
	int r = cli_self_path(self, len, err);
	if (r < 0)
		return r;
	vm_opts(a, self, runs, timeout_s, o);
	return 0;
}

/* After a VM benchmark ran (r): the report, with o's settings and extra
 * ones in the JSON. Any failed run, cloudlet's or QEMU's, fails the bench. */
static int vm_finish(const struct cli_args *a, const struct bench_kind *k, const char *what, int r,
		     const struct bench_vm_opts *o, const struct bench_series *cl, const struct bench_series *qemu,
		     size_t nseries, const struct bench_param *extra, size_t nextra, struct cl_error *err)
{
	struct bench_param params[16] = {
		{ "kernel", o->kernel, 0 }, { "initrd", o->initrd, 0 }, { "cpus", NULL, o->cpus },
		{ "mem", o->mem, 0 }, { "runs", NULL, o->runs },
	};
	size_t np = 5;
	for (size_t i = 0; i < nextra && np < sizeof(params) / sizeof(params[0]); i++)
		params[np++] = extra[i];
	const struct bench_series *series[] = { cl, qemu };
	if (r == 0)
		r = report(a, k, what, series, nseries, params, np, err);
	free((char *)o->qemu);
	if (r < 0)
		return cl_err_wrap(err, "bench %s", k->name);
	return cl->failed || qemu->failed || !cl->n ? 1 : 0;
}

static int bench_vm_boot_cmd(const struct cli_args *a, struct cl_error *err)
{
	static struct bench_series cl, qemu;   /* large: not on the stack */
	char self[4096];
	struct bench_vm_opts o;
	int r = vm_setup(a, self, sizeof(self), 10, 120, &o, err);
	if (r < 0)
		return r;
	fprintf(stderr, "vm-boot: %u run(s) each, %u vCPU, %s, %s + %s%s\n", o.runs, o.cpus, o.mem,
		o.kernel, o.initrd, o.qemu ? "" : " (qemu-system-x86_64 absent or disabled: no reference)");
	r = bench_vm_boot(&o, &cl, &qemu, err);
	return vm_finish(a, &bench_vm_boot_kind, "launch -> ready marker, launch -> guest reset handled, KVM exits",
			 r, &o, &cl, &qemu, o.qemu ? 2 : 1, NULL, 0, err);
}

static int bench_vm_jail_cmd(const struct cli_args *a, struct cl_error *err)
{
	static struct bench_series jailed, open;   /* large: not on the stack */
	char self[4096];
	struct bench_vm_opts o;
	int r = vm_setup(a, self, sizeof(self), 10, 120, &o, err);
	if (r < 0)
		return r;
	free((char *)o.qemu);   /* no reference VMM: cloudlet against itself */
	o.qemu = NULL;
	fprintf(stderr, "vm-jail: %u run(s) each way, %u vCPU, %s, %s + %s\n", o.runs, o.cpus, o.mem,
		o.kernel, o.initrd);
	r = bench_vm_jail(&o, &jailed, &open, err);
	r = vm_finish(a, &bench_vm_jail_kind, "launch -> ready marker, launch -> guest reset handled, KVM exits",
		      r, &o, &jailed, &open, 2, NULL, 0, err);
	if (r >= 0)
		bench_jail_surface(stdout);
	return r;
}

static int bench_vm_io_cmd(const struct cli_args *a, struct cl_error *err)
{
	static struct bench_series cl, qemu;   /* large: not on the stack */
	char self[4096];
	struct bench_vm_io_opts o = {
		.disk = cli_str(a, "disk", "build/images/rootfs.ext4"),
		.clperf = cli_str(a, "clperf", "build/images/rootfs/bin/clperf"),
		.seconds = uint_opt(a, "seconds", 5),
		.rr_count = uint_opt(a, "rr-count", 1000),
	};
	int r = vm_setup(a, self, sizeof(self), 3, 300, &o.vm, err);
	if (r < 0)
		return r;
	fprintf(stderr, "vm-io: %u round(s), %u vCPU, %s, %u s per throughput/disk test, %u round trips%s\n",
		o.vm.runs, o.vm.cpus, o.vm.mem, o.seconds, o.rr_count,
		o.vm.qemu ? "" : " (qemu-system-x86_64 absent or disabled: no reference)");
	r = bench_vm_io(&o, &cl, &qemu, err);
	const struct bench_param extra[] = {
		{ "disk", o.disk, 0 }, { "seconds", NULL, o.seconds }, { "rr_count", NULL, o.rr_count },
	};
	return vm_finish(a, &bench_vm_io_kind,
			 "TCP over a tap (guest clperf <-> host clperf), O_DIRECT 4 KiB random reads of a virtio disk",
			 r, &o.vm, &cl, &qemu, o.vm.qemu ? 2 : 1, extra, 3, err);
}

/* The network benchmarks' runner: bench_vpc_net or bench_overlay */
typedef int net_run_fn(const struct bench_net_opts *o, const struct cli_args *a, struct bench_series *s, size_t *n,
		       char *note, size_t note_len, struct cl_error *err);

static int vpc_net_run(const struct bench_net_opts *o, const struct cli_args *a, struct bench_series *s, size_t *n,
		       char *note, size_t note_len, struct cl_error *err)
{
	(void)a;
	return bench_vpc_net(o, s, n, note, note_len, err);
}

static int overlay_run(const struct bench_net_opts *o, const struct cli_args *a, struct bench_series *s, size_t *n,
		       char *note, size_t note_len, struct cl_error *err)
{
	return bench_overlay(o, uint_opt(a, "interval", 0), s, n, note, note_len, err);
}

/* vpc-net and overlay: guests in a scratch root, the table against the
 * first series (the veth pair), --json */
static int net_bench_cmd(const struct cli_args *a, const struct bench_kind *k, net_run_fn *run, size_t npairs,
			 const char *what, struct cl_error *err)
{
	static struct bench_series s[BENCH_NET_PAIRS > BENCH_OVERLAY_PAIRS ? BENCH_NET_PAIRS : BENCH_OVERLAY_PAIRS];
	/* tmpfs: the containers' overlayfs cannot use 9p (the emulated KVM host's /tmp) */
	char self[4096], work[64], note[CL_ERR_MSG_MAX + 32];
	struct bench_net_opts o = {
		.image = cli_str(a, "image", "build/images/oci"),
		.clperf = cli_str(a, "clperf", "build/images/rootfs/bin/clperf"),
		.seconds = uint_opt(a, "seconds", 5),
		.rr_count = uint_opt(a, "rr-count", 1000),
	};
	int r = vm_setup(a, self, sizeof(self), 3, 300, &o.vm, err);
	if (r < 0)
		return r;
	o.vm.qemu = NULL;   /* no such option here: the reference is the veth pair */
	if ((r = bench_net_check(&o, err)) < 0)   /* before anything is made or said */
		return r;
	snprintf(work, sizeof(work), "/run/cloudlet-bench-%s.XXXXXX", !strcmp(k->name, "vpc-net") ? "net" : k->name);
	if (!mkdtemp(work))
		return cl_err_sys(err, errno, "mkdtemp %s", work);
	o.vm.root = work;
	/* Ctrl-C, SIGTERM: the sample under way ends and is torn down, the
	 * samples so far are reported, the scratch root removed */
	volatile sig_atomic_t *interrupted = cli_trap_interrupts();
	o.stop = interrupted;
	fprintf(stderr, "%s: %u round(s) of %zu pairs, %u s per throughput test, %u round trips; VMs %u vCPU, %s\n",
		k->name, o.vm.runs, npairs, o.seconds, o.rr_count, o.vm.cpus, o.vm.mem);
	size_t n = 0;
	r = run(&o, a, s, &n, note, sizeof(note), err);
	int stopped = r == -EINTR;
	if (stopped) {
		fprintf(stderr, "%s: %s\n", k->name, err->msg);
		r = 0;
	}
	if (r == 0) {
		const struct bench_series *series[sizeof(s) / sizeof(s[0])];
		for (size_t i = 0; i < n; i++)
			series[i] = &s[i];
		const struct bench_param params[] = {
			{ "image", o.image, 0 }, { "kernel", o.vm.kernel, 0 }, { "initrd", o.vm.initrd, 0 },
			{ "cpus", NULL, o.vm.cpus }, { "mem", o.vm.mem, 0 }, { "runs", NULL, o.vm.runs },
			{ "seconds", NULL, o.seconds }, { "rr_count", NULL, o.rr_count }, { "note", note, 0 },
		};
		r = report_with(bench_table_vs_first, a, k, what, series, n, params, note[0] ? 9 : 8, err);
		if (note[0])
			printf("%s\n", note);
	}
	cl_remove_tree(work); /* best effort: a scratch dir under /run */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (r < 0)
		return cl_err_wrap(err, "bench %s", k->name);
	if (stopped)
		return 128 + *interrupted;
	/* a pair that was measured (not skipped) and failed fails the bench */
	for (size_t i = 0; i < n; i++)
		if (s[i].failed || (!s[i].n && !(note[0] && !strncmp(s[i].name, "vm-", 3))))
			return 1;
	return 0;
}

static int bench_vpc_net_cmd(const struct cli_args *a, struct cl_error *err)
{
	return net_bench_cmd(a, &bench_vpc_net_kind, vpc_net_run, BENCH_NET_PAIRS,
			     "TCP between two guests on one VPC subnet (bridge) or two (router), vs a bare veth pair", err);
}

static int bench_overlay_cmd(const struct cli_args *a, struct cl_error *err)
{
	return net_bench_cmd(a, &bench_overlay_kind, overlay_run, BENCH_OVERLAY_PAIRS,
			     "TCP between two guests of one VPC subnet on one simulated host's bridge or across two "
			     "hosts over VXLAN (MTU 1450), vs a bare veth pair (MTU 1500)", err);
}

/* `bench sdn-scale`: its own cloud in a scratch directory under /run */
static int bench_sdn_scale_cmd(const struct cli_args *a, struct cl_error *err)
{
	static struct bench_sdn_scale res;   /* large: not on the stack */
	char self[4096], work[] = "/run/cloudlet-bench-sdn.XXXXXX";
	int r = cli_self_path(self, sizeof(self), err);
	if (r < 0)
		return r;
	struct bench_sdn_scale_opts o = {
		.cloudlet = self,
		.workdir = work,
		.hosts = uint_opt(a, "hosts", 20),
		.per_host = uint_opt(a, "per-host", 10),
		.vpcs = uint_opt(a, "vpcs", 5),
		.changes = uint_opt(a, "changes", 10),
		.agent_interval_ms = uint_opt(a, "interval", 0),
		.timeout_s = uint_opt(a, "timeout", 60000) / 1000,
		.progress = progress,
	};
	if (!mkdtemp(work))
		return cl_err_sys(err, errno, "mkdtemp %s", work);
	volatile sig_atomic_t *interrupted = cli_trap_interrupts();
	o.stop = interrupted;
	r = bench_sdn_scale(&o, &res, err);
	int stopped = r == -EINTR;
	if (stopped) {
		fprintf(stderr, "sdn-scale: %s\n", err->msg);
		r = 0;
	}
	if (r == 0) {
		const char *where = getenv("CLOUDLET_KVMHOST");
		printf("sdn-scale: desired-state change -> every affected host's agent reports it applied (%s)\n",
		       where ? where : "native");
		bench_sdn_scale_table(stdout, &o, &res);
		const char *json = cli_str(a, "json", NULL);
		if (json)
			r = bench_sdn_scale_json(json, &o, &res, err);
	}
	cl_remove_tree(work); /* best effort: a scratch dir under /run */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	bool bad = !res.growth_ok;
	for (unsigned st = 0; st < res.nsteps; st++)
		for (int k = 0; k < BENCH_SDN_KINDS; k++)
			bad |= res.s[st][k].failed > 0 || !res.s[st][k].n;
	bench_sdn_scale_free(&res);
	if (r < 0)
		return cl_err_wrap(err, "bench sdn-scale");
	if (stopped)
		return 128 + *interrupted;
	return bad ? 1 : 0;
}

static int bench_ct_start_cmd(const struct cli_args *a, struct cl_error *err)
{
	static struct bench_series s[3];   /* large: not on the stack */
	char self[4096], work[] = "/tmp/cloudlet-bench-ct.XXXXXX";
	int r = cli_self_path(self, sizeof(self), err);
	if (r < 0)
		return r;
	if (!mkdtemp(work))
		return cl_err_sys(err, errno, "mkdtemp");
	bool ref = !cli_flag(a, "no-reference");
	struct bench_ct_start_opts o = {
		.cloudlet = self,
		.image = cli_str(a, "image", "build/images/oci"),
		.rootfs = cli_str(a, "rootfs", "build/images/rootfs"),
		.runc = ref ? which("runc") : NULL,
		.crun = ref ? which("crun") : NULL,
		.workdir = work,
		.runs = uint_opt(a, "runs", 10),
		.timeout_s = 60,
		.progress = progress,
	};
	fprintf(stderr, "ct-start: %u run(s) each of %s (exit mode)%s%s\n", o.runs, o.image,
		o.runc ? "" : "; runc absent or disabled", o.crun ? "" : "; crun absent or disabled");
	size_t ns = 0;
	r = bench_ct_start(&o, s, &ns, err);
	if (r == 0) {
		const struct bench_series *series[] = { &s[0], &s[1], &s[2] };
		r = report(a, &bench_ct_start_kind, "launch -> ready marker, launch -> container deleted (runtime exit)",
			   series, ns, NULL, 0, err);
	}
	cl_remove_tree(work); /* best effort: a scratch dir under /tmp */
	free((char *)o.runc);
	free((char *)o.crun);
	if (r < 0)
		return r;
	/* cloudlet's own failures fail the bench; a reference's are reported */
	return s[0].failed || !s[0].n ? 1 : 0;
}

/* `bench all`: scratch for the containers' state and bundle on a local
 * file system (overlayfs refuses 9p, the emulated host's /tmp) */
static int bench_all_cmd(const struct cli_args *a, struct cl_error *err)
{
	static struct bench_all res;   /* large: not on the stack */
	char self[4096], work[PATH_MAX];
	struct bench_all_opts o = { 0 };
	int r = vm_setup(a, self, sizeof(self), 10, 120, &o.vm, err);
	if (r < 0)
		return r;
	bool ref = !cli_flag(a, "no-reference");
	o.image = cli_str(a, "image", "build/images/oci");
	o.rootfs = cli_str(a, "rootfs", "build/images/rootfs");
	o.runc = ref ? which("runc") : NULL;
	o.crun = ref ? which("crun") : NULL;
	o.budget = cli_num(a, "budget", 1ull << 30);
	o.clperf = cli_str(a, "clperf", "build/images/rootfs/bin/clperf");
	o.net_seconds = uint_opt(a, "seconds", 3);
	o.rr_count = uint_opt(a, "rr-count", 500);
	const char *tmp = getenv("TMPDIR");
	snprintf(work, sizeof(work), "%s/cloudlet-bench-all.XXXXXX", tmp && *tmp ? tmp : "/run");
	o.workdir = work;
	const char *plot = cli_str(a, "plot", NULL), *json = cli_str(a, "json", NULL);
	FILE *pf = NULL;
	if (!mkdtemp(work))
		r = cl_err_sys(err, errno, "mkdtemp %s", work);
	else {
		r = bench_all_run(&o, &res, err);
		cl_remove_tree(work); /* best effort: our own scratch dir */
	}
	if (r == 0) {
		bench_all_table(stdout, &res);
		fflush(stdout);
		if (json)
			r = bench_all_json(json, &res, err);
	}
	if (r == 0 && plot) {
		if (!(pf = fopen(plot, "w")))
			r = cl_err_sys(err, errno, "--plot %s", plot);
		else if (bench_all_svg(pf, &res) < 0 || fclose(pf) != 0)
			r = cl_err(err, EIO, "--plot %s: cannot write", plot);
	}
	free((char *)o.vm.qemu);
	free((char *)o.runc);
	free((char *)o.crun);
	if (r < 0)
		return cl_err_wrap(err, "bench all");
	return bench_all_failed(&res) ? 1 : 0;
}

/* `bench fn`: per kind, cold and warm latency p50/p99, the cold/warm
 * ratio, and throughput at concurrency 1 and N */
static int bench_fn_cmd(const struct cli_args *a, struct cl_error *err)
{
	static struct fn_bench_kind k[2];  /* large: not on the stack */
	char self[4096];
	int r = cli_self_path(self, sizeof(self), err);
	if (r < 0)
		return r;
	const char *kinds = cli_str(a, "kinds", "ct,vm");
	bool ct = strstr(kinds, "ct") != NULL, vm = strstr(kinds, "vm") != NULL;
	if (vm && access("/dev/kvm", R_OK | W_OK) < 0) {
		fprintf(stderr, "bench fn: no /dev/kvm: the vm flavour is skipped (run through tests/kvmhost/run)\n");
		vm = false;
	}
	struct fn_bench_opts o = {
		.exe = self,
		.ct_image = ct ? cli_str(a, "image", "build/images/oci") : NULL,
		.vm_image = vm ? cli_str(a, "vm-image", "build/images") : NULL,
		.runs = uint_opt(a, "runs", 10),
		.tput_count = uint_opt(a, "count", 200),
		.concurrency = uint_opt(a, "concurrency", 10),
		.progress = progress,
	};
	size_t nk = 0;
	if ((r = fn_bench_run(&o, k, &nk, err)) < 0)
		return cl_err_wrap(err, "bench fn");
	const char *where = getenv("CLOUDLET_KVMHOST");
	printf("fn: invocation latency through the warm pool, ms (%s%s)\n", where ? where : "native",
	       where && !strcmp(where, "emulated") ? " KVM host: absolute figures are emulation-distorted" : "");
	printf("%-5s %-19s %-19s %-10s %-21s %-10s %-12s %-12s\n", "kind", "cold p50 (p99)", "warm p50 (p99)",
	       "cold/warm", "cold: create+start", "handler", "tput c=1/s", "tput c=N/s");
	int bad = 0;
	for (size_t i = 0; i < nk; i++) {
		struct bench_stats c, w, cc, cs, h;
		bench_stats(k[i].cold.v[FN_BENCH_TOTAL], k[i].cold.n, &c);
		bench_stats(k[i].warm.v[FN_BENCH_TOTAL], k[i].warm.n, &w);
		bench_stats(k[i].cold.v[FN_BENCH_CREATE], k[i].cold.n, &cc);
		bench_stats(k[i].cold.v[FN_BENCH_START], k[i].cold.n, &cs);
		bench_stats(k[i].warm.v[FN_BENCH_HANDLER], k[i].warm.n, &h);
		char a1[32], a2[32], a3[32];
		snprintf(a1, sizeof(a1), "%.1f (%.1f)", c.median, c.p99);
		snprintf(a2, sizeof(a2), "%.2f (%.2f)", w.median, w.p99);
		snprintf(a3, sizeof(a3), "%.1f + %.1f", cc.median, cs.median);
		printf("%-5s %-19s %-19s %-10.1f %-21s %-10.2f %-12.1f %-12.1f\n", k[i].name, a1, a2,
		       w.median > 0 ? c.median / w.median : 0, a3, h.median, k[i].tput[0], k[i].tput[1]);
		if (k[i].cold.failed || k[i].warm.failed || k[i].tput_failed[0] || k[i].tput_failed[1]) {
			printf("  %s: %zu cold and %zu warm runs failed, %u+%u throughput calls failed%s%s\n", k[i].name,
			       k[i].cold.failed, k[i].warm.failed, k[i].tput_failed[0], k[i].tput_failed[1],
			       k[i].cold.error[0] ? ": " : "", k[i].cold.error[0] ? k[i].cold.error : k[i].warm.error);
			bad = 1;
		}
	}
	printf("tput c=N: concurrency %u, %u invocations each; anchors: Firecracker boots a microVM in <= 125 ms,\n"
	       "AWS says a Lambda cold start varies from under 100 ms to over 1 s (README, Performance).\n",
	       o.concurrency, o.tput_count);
	const char *json = cli_str(a, "json", NULL);
	if (json) {
		static const struct bench_metric m[] = {
			{ "total_ms", "total ms", "%.1f (%.1f-%.1f)" }, { "create_ms", "create ms", "%.1f (%.1f-%.1f)" },
			{ "start_ms", "start ms", "%.1f (%.1f-%.1f)" }, { "handler_ms", "handler ms", "%.2f (%.2f-%.2f)" },
		};
		const struct bench_kind bk = { "fn", "kind", m, 4 };
		const struct bench_series *series[4];
		char names[4][16];
		size_t ns = 0;
		for (size_t i = 0; i < nk; i++) {
			snprintf(names[ns], sizeof(names[ns]), "%s-cold", k[i].name);
			k[i].cold.name = names[ns];
			series[ns++] = &k[i].cold;
			snprintf(names[ns], sizeof(names[ns]), "%s-warm", k[i].name);
			k[i].warm.name = names[ns];
			series[ns++] = &k[i].warm;
		}
		struct bench_param params[] = { { "runs", NULL, o.runs }, { "concurrency", NULL, o.concurrency },
						{ "tput_ct_c1", NULL, nk > 0 ? (long long)k[0].tput[0] : 0 },
						{ "tput_ct_cN", NULL, nk > 0 ? (long long)k[0].tput[1] : 0 },
						{ "tput_vm_c1", NULL, nk > 1 ? (long long)k[1].tput[0] : 0 },
						{ "tput_vm_cN", NULL, nk > 1 ? (long long)k[1].tput[1] : 0 } };
		if ((r = bench_json(json, &bk, params, 6, series, ns, err)) < 0)
			return cl_err_wrap(err, "bench fn");
	}
	return bad || nk == 0 ? 1 : 0;
}

static const struct cli_opt fn_opts[] = {
	{ "runs", 'n', CLI_UINT, "N", "cold invocations per kind, 10 warm ones each (default 10)", false },
	{ "kinds", 0, CLI_STR, "ct,vm", "flavours to measure (default both; vm needs /dev/kvm)", false },
	{ "concurrency", 0, CLI_UINT, "N", "the second throughput measurement's (default 10)", false },
	{ "count", 0, CLI_UINT, "N", "invocations per throughput measurement (default 200)", false },
	{ "image", 0, CLI_STR, "PATH", "OCI image layout (default build/images/oci)", false },
	{ "vm-image", 0, CLI_STR, "DIR", "kernel + initramfs directory (default build/images)", false },
	{ "json", 0, CLI_STR, "FILE", "write every raw sample as JSON", false },
	{ 0 },
};

static int bench_oci_cmd(const struct cli_args *a, struct cl_error *err)
{
	static struct bench_series s[3];   /* large: not on the stack */
	char self[4096], rt[4096 + 32], work[] = "/tmp/cloudlet-bench-oci.XXXXXX";
	int r = cli_self_path(self, sizeof(self), err);
	if (r < 0)
		return r;
	/* the runtime is this binary under its applet name (the Makefile's link) */
	snprintf(rt, sizeof(rt), "%.*s/cloudlet-runtime", (int)(strrchr(self, '/') - self), self);
	if (access(rt, X_OK) < 0)
		return cl_err_sys(err, errno, "%s (run: make all)", rt);
	if (!mkdtemp(work))
		return cl_err_sys(err, errno, "mkdtemp");
	bool ref = !cli_flag(a, "no-reference");
	struct bench_oci_opts o = {
		.podman = which("podman"),
		.runtime = rt,
		.runc = ref ? which("runc") : NULL,
		.crun = ref ? which("crun") : NULL,
		.image = cli_str(a, "image", "build/images/oci"),
		.workdir = work,
		.runs = uint_opt(a, "runs", 10),
		.timeout_s = 60,
		.progress = progress,
	};
	fprintf(stderr, "oci: %u run(s) each of podman run --rm IMAGE true%s%s\n", o.runs,
		o.runc ? "" : "; runc absent or disabled", o.crun ? "" : "; crun absent or disabled");
	size_t ns = 0;
	r = bench_oci(&o, s, &ns, err);
	if (r == 0) {
		const struct bench_series *series[] = { &s[0], &s[1], &s[2] };
		r = report(a, &bench_oci_kind, "podman run --rm --network=none --ulimit=nofile=1024:1024 --ulimit=nproc=1024:1024 --entrypoint=true IMAGE, per OCI runtime",
			   series, ns, NULL, 0, err);
	}
	if (o.podman) {
		/* the store's overlay mounts go with podman's own reset */
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "'%s' --root=%s/storage --runroot=%s/run system reset -f >/dev/null 2>&1",
			 o.podman, work, work);
		if (system(cmd) != 0) { /* best effort, as the rm below */ }
	}
	cl_remove_tree(work); /* best effort: a scratch dir under /tmp */
	free((char *)o.podman);
	free((char *)o.runc);
	free((char *)o.crun);
	if (r < 0)
		return r;
	return s[0].failed || !s[0].n ? 1 : 0;
}

static const struct cli_opt sdn_scale_opts[] = {
	{ "hosts", 0, CLI_UINT, "N", "simulated hosts at the last step (default 20; steps N/4, N/2, N)", false },
	{ "per-host", 0, CLI_UINT, "N", "attachments per host (default 10)", false },
	{ "vpcs", 0, CLI_UINT, "N", "VPCs the attachments are spread over (default 5)", false },
	{ "changes", 0, CLI_UINT, "N", "changes of each kind at each step (default 10)", false },
	{ "interval", 0, CLI_DURATION, "DURATION", "the agents' --interval (default: theirs)", false },
	{ "timeout", 0, CLI_DURATION, "DURATION", "per change (default 60s)", false },
	{ "json", 0, CLI_STR, "FILE", "write every sample and the per-host rows as JSON", false },
	{ 0 },
};

static const struct cli_opt oci_opts[] = {
	{ "runs", 'n', CLI_UINT, "N", "runs per runtime (default 10)", false },
	{ "json", 0, CLI_STR, "FILE", "write every raw sample as JSON", false },
	{ "image", 0, CLI_STR, "PATH", "OCI image layout (default build/images/oci)", false },
	{ "no-reference", 0, CLI_FLAG, NULL, "do not run runc and crun alongside", false },
	{ 0 },
};

static const struct cli_opt ct_start_opts[] = {
	{ "runs", 'n', CLI_UINT, "N", "runs per runtime (default 10)", false },
	{ "json", 0, CLI_STR, "FILE", "write every raw sample as JSON", false },
	{ "image", 0, CLI_STR, "PATH", "OCI image layout (default build/images/oci)", false },
	{ "rootfs", 0, CLI_STR, "DIR", "the same tree for runc/crun's bundle (default build/images/rootfs)", false },
	{ "no-reference", 0, CLI_FLAG, NULL, "do not run runc and crun alongside", false },
	{ 0 },
};


/* The options vm_opts() reads, besides --runs and --timeout (whose
 * defaults differ), in both VM benchmarks' tables. */
#define VM_OPTS \
	{ "json", 0, CLI_STR, "FILE", "write every raw sample as JSON", false }, \
	{ "kernel", 'k', CLI_STR, "PATH", "guest kernel (default build/images/bzImage)", false }, \
	{ "initrd", 'i', CLI_STR, "PATH", "initramfs (default build/images/initramfs.cpio.gz)", false }, \
	{ "cpus", 0, CLI_UINT, "N", "vCPUs (default 1)", false }, \
	{ "mem", 'm', CLI_STR, "SIZE", "guest memory (default 256M)", false }, \
	{ "no-reference", 0, CLI_FLAG, NULL, "do not run QEMU microvm alongside", false }

static const struct cli_opt bench_opts[] = {
	{ "runs", 'n', CLI_UINT, "N", "runs per measurement and tool (default 10)", false },
	{ "plot", 0, CLI_STR, "FILE.svg", "write an SVG chart", false },
	{ "timeout", 0, CLI_DURATION, "DURATION", "per VM or container (default 120s)", false },
	{ "image", 0, CLI_STR, "PATH", "the container's OCI image layout (default build/images/oci)", false },
	{ "rootfs", 0, CLI_STR, "DIR", "the same tree for runc/crun's bundle (default build/images/rootfs)", false },
	{ "budget", 0, CLI_SIZE, "SIZE", "memory budget of the density estimate (default 1G)", false },
	{ "clperf", 0, CLI_STR, "PATH", "the host's clperf (default build/images/rootfs/bin/clperf)", false },
	{ "seconds", 0, CLI_UINT, "N", "network: length of each throughput test (default 3)", false },
	{ "rr-count", 0, CLI_UINT, "N", "network: TCP request/response round trips (default 500)", false },
	VM_OPTS,
	{ 0 },
};

static const struct cli_opt vm_boot_opts[] = {
	{ "runs", 'n', CLI_UINT, "N", "boots per VMM (default 10)", false },
	{ "timeout", 0, CLI_DURATION, "DURATION", "per boot (default 120s)", false },
	VM_OPTS,
	{ 0 },
};

static const struct cli_opt vm_jail_opts[] = {
	{ "runs", 'n', CLI_UINT, "N", "boots each way (default 10)", false },
	{ "timeout", 0, CLI_DURATION, "DURATION", "per boot (default 120s)", false },
	VM_OPTS,
	{ 0 },
};

static const struct cli_opt vm_io_opts[] = {
	{ "runs", 'n', CLI_UINT, "N", "rounds, each one VM per VMM (default 3)", false },
	{ "timeout", 0, CLI_DURATION, "DURATION", "per VM (default 300s)", false },
	VM_OPTS,
	{ "disk", 0, CLI_STR, "PATH", "disk read at random, attached read-only (default build/images/rootfs.ext4)", false },
	{ "clperf", 0, CLI_STR, "PATH", "the host's clperf (default build/images/rootfs/bin/clperf)", false },
	{ "seconds", 0, CLI_UINT, "N", "length of each throughput and disk test (default 5)", false },
	{ "rr-count", 0, CLI_UINT, "N", "TCP request/response round trips (default 1000)", false },
	{ 0 },
};

/* vpc-net's and overlay's options */
#define NET_OPTS \
	{ "runs", 'n', CLI_UINT, "N", "rounds, each one sample of every pair (default 3)", false }, \
	{ "timeout", 0, CLI_DURATION, "DURATION", "per guest (default 300s)", false }, \
	{ "json", 0, CLI_STR, "FILE", "write every raw sample as JSON", false }, \
	{ "kernel", 'k', CLI_STR, "PATH", "the VMs' kernel (default build/images/bzImage)", false }, \
	{ "initrd", 'i', CLI_STR, "PATH", "their initramfs (default build/images/initramfs.cpio.gz)", false }, \
	{ "cpus", 0, CLI_UINT, "N", "vCPUs per VM (default 1)", false }, \
	{ "mem", 'm', CLI_STR, "SIZE", "memory per VM (default 256M)", false }, \
	{ "image", 0, CLI_STR, "PATH", "OCI image layout of the containers (default build/images/oci)", false }, \
	{ "clperf", 0, CLI_STR, "PATH", "the host's clperf, for the veth pair (default build/images/rootfs/bin/clperf)", false }, \
	{ "seconds", 0, CLI_UINT, "N", "length of each throughput test (default 5)", false }, \
	{ "rr-count", 0, CLI_UINT, "N", "TCP request/response round trips (default 1000)", false }

static const struct cli_opt vpc_net_opts[] = {
	NET_OPTS,
	{ 0 },
};

static const struct cli_opt overlay_opts[] = {
	NET_OPTS,
	{ "interval", 0, CLI_DURATION, "DURATION", "the agents' --interval (default: theirs)", false },
	{ 0 },
};


const struct cli_cmd cli_bench_cmds[] = {
	{ "all", "", "start-up, memory, network and isolation, VM vs container",
	  bench_opts, 0, 0, false, bench_all_cmd, NULL,
	  "Runs the images/ workload as a microVM and as a container on the same machine:\n"
	  "start-up (launch -> ready marker, -> exit; KVM exits per boot) with QEMU microvm,\n"
	  "runc and crun alongside when installed (absent ones are skipped with a note);\n"
	  "the memory an idle instance (serve mode) costs the host, its teardown, and the\n"
	  "density that implies in --budget (extrapolated); network between instances\n"
	  "(bench vpc-net's pairs and its veth pair, --runs rounds);\n"
	  "and what each kind exposes to the host kernel. Progress on stderr, the table on\n"
	  "stdout, every sample and the environment with --json, a chart with --plot.\n"
	  "Needs root and a working /dev/kvm: run it through tests/kvmhost/run, which\n"
	  "also runs the containers there, so both kinds share one (maybe emulated) host.\n"
	  "Exit status 1 when any run failed (each failure is reported)." },
	{ "vm-boot", "", "microVM boot time and KVM exits vs QEMU microvm",
	  vm_boot_opts, 0, 0, false, bench_vm_boot_cmd, NULL,
	  "Boots the same kernel and initramfs N times with cloudlet's VMM and with\n"
	  "qemu-system-x86_64 -M microvm -accel kvm (when installed), alternately.\n"
	  "Needs a working /dev/kvm: `make bench` runs it through tests/kvmhost/run.\n"
	  "Exit status 1 when any boot failed (each failure is reported)." },
	{ "vm-jail", "", "microVM boot jailed vs --no-jail, and the seccomp surface vs Firecracker",
	  vm_jail_opts, 0, 0, false, bench_vm_jail_cmd, NULL,
	  "Boots the same kernel and initramfs as vm-boot N times jailed (the default as\n"
	  "root) and with --no-jail, alternately; both run under the seccomp filters.\n"
	  "Then prints the syscalls each VMM thread kind may make after setup next to\n"
	  "Firecracker's. Needs root and a working /dev/kvm (tests/kvmhost/run).\n"
	  "Exit status 1 when a boot failed." },
	{ "vm-io", "", "microVM TCP throughput and RTT, disk IOPS vs QEMU microvm",
	  vm_io_opts, 0, 0, false, bench_vm_io_cmd, NULL,
	  "Boots the same kernel and initramfs with the ext4 image as a read-only\n"
	  "virtio disk and a virtio-net on a tap, N rounds alternating cloudlet's VMM and\n"
	  "qemu-system-x86_64 -M microvm (virtio-mmio devices, vhost=off). In the guest\n"
	  "the workload runs clperf (images/rootfs/tools/clperf.c): 4 KiB O_DIRECT random\n"
	  "reads of /dev/vda, TCP guest->host and host->guest for --seconds each, and\n"
	  "--rr-count 1-byte round trips, against the same clperf on the host side of\n"
	  "the tap, in a network namespace of the bench's own (10.99.0.1/30; nothing\n"
	  "outlives the bench). Needs root and a working /dev/kvm: `make bench` runs it\n"
	  "through tests/kvmhost/run. Exit status 1 when any VM failed." },
	{ "fn", "", "function cold/warm latency p50/p99 and throughput, container vs microVM",
	  fn_opts, 0, 0, false, bench_fn_cmd, NULL,
	  "Deploys the same function (handler `cat`) as a container and as a microVM in\n"
	  "a state root and VPC of the bench's own, then per kind: N cold invocations\n"
	  "(every instance stopped first), 10 N warm ones, and throughput at concurrency\n"
	  "1 and --concurrency on warm instances, through the pool the gateway uses.\n"
	  "The vm flavour needs /dev/kvm (tests/kvmhost/run). Exit status 1 when a run failed." },
	{ "vpc-net", "", "TCP RTT and throughput between VMs and containers on a VPC vs a veth pair",
	  vpc_net_opts, 0, 0, false, bench_vpc_net_cmd, NULL,
	  "Measures, N rounds, TCP client->server and server->client throughput\n"
	  "(--seconds each) and --rr-count 1-byte round trips with clperf between:\n"
	  "a bare veth pair joining two network namespaces (the reference), then two\n"
	  "containers, two microVMs, and a microVM and a container, first on one subnet\n"
	  "of a VPC (one bridge), then on two subnets (through the VPC router). Guests\n"
	  "are `cloudlet ct run`/`vm run --net` in a VPC made under a scratch --root in\n"
	  "/run and removed after every sample. The table gives medians, min-max, and\n"
	  "each pair / the veth pair. Needs root; the VM pairs need a working /dev/kvm\n"
	  "(tests/kvmhost/run) and are skipped with a note without one. Exit status 1\n"
	  "when a measured pair failed; on SIGINT/SIGTERM the sample under way ends and\n"
	  "is torn down, what was measured is reported, exit status 128+N." },
	{ "overlay", "", "TCP RTT and throughput across simulated hosts over VXLAN vs one bridge vs a veth pair",
	  overlay_opts, 0, 0, false, bench_overlay_cmd, NULL,
	  "Makes a controller (an sqlite store in a scratch --root under /run), two\n"
	  "simulated hosts and their agents (`host add`, `host agent`), then measures,\n"
	  "N rounds, TCP client->server and server->client throughput (--seconds each)\n"
	  "and --rr-count 1-byte round trips (median, p99) with clperf between: a bare\n"
	  "veth pair (the reference), two containers of one VPC subnet on one host's\n"
	  "bridge, the same pair across the two hosts over VXLAN, and (where KVM can run them:\n"
	  "tests/kvmhost/run) a microVM pair and a microVM-container pair across the\n"
	  "hosts. The table gives medians, min-max, and each pair / the veth pair.\n"
	  "Everything it made (guests, VPC, hosts' namespaces, agents, store) is gone\n"
	  "when it ends, also on SIGINT/SIGTERM (then exit status 128+N). Needs root.\n"
	  "Exit status 1 when a measured pair failed." },
	{ "sdn-scale", "", "overlay convergence time vs hosts, and FDB entries per host",
	  sdn_scale_opts, 0, 0, false, bench_sdn_scale_cmd, NULL,
	  "Makes a controller (an sqlite store in a scratch directory under /run), adds\n"
	  "simulated hosts with their agents in three steps (N/4, N/2, N hosts) and at\n"
	  "each --per-host attachments per new host: veths into network namespaces of\n"
	  "the bench's own, attached through the controller as the CNI plugin does, in\n"
	  "--vpcs VPCs placed so that each VPC lives on some hosts only. At each step it\n"
	  "times --changes changes of each kind (attach a guest, detach it, add a rule\n"
	  "to a VPC's default security group): from the write being visible in the store\n"
	  "to every host whose desired items it changes reporting its revision applied,\n"
	  "p50/p99. Then per host the permanent FDB and neighbour entries of its kernel\n"
	  "against the attachments of the VPCs present there (they must be equal: the\n"
	  "growth rule) and the whole cloud's. Everything it made is gone when it ends,\n"
	  "also on SIGINT/SIGTERM (exit status 128+N). Needs root. Exit status 1 when a\n"
	  "change failed or a host's entries differ from its VPCs' needs." },
	{ "oci", "", "podman run --rm IMAGE true on cloudlet-runtime vs runc and crun",
	  oci_opts, 0, 0, false, bench_oci_cmd, NULL,
	  "Loads the OCI image layout into a podman store of the bench's own, then runs\n"
	  "podman run --rm --network=none --entrypoint=true IMAGE N times with podman's\n"
	  "--runtime set to cloudlet-runtime, runc and crun (when installed), alternately\n"
	  "(podman + conmon, cgroupfs manager). A reference that fails is reported, not\n"
	  "fatal (crun 1.8 refuses cgroup v1 hybrid hosts). Needs root and podman.\n"
	  "Exit status 1 when a cloudlet-runtime run failed." },
	{ "ct-start", "", "container create+start+exit+delete vs crun and runc",
	  ct_start_opts, 0, 0, false, bench_ct_start_cmd, NULL,
	  "Runs the workload's `exit` mode N times with cloudlet ct run (OCI image\n"
	  "layout) and with runc and crun (when installed) on an OCI bundle of the same\n"
	  "rootfs, alternately. A reference that fails is reported, not fatal (crun 1.8\n"
	  "refuses cgroup v1 hybrid hosts). Exit status 1 when a cloudlet run failed." },
	{ 0 },
};
