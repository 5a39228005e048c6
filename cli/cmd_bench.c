/* `cloudlet bench`: VM vs container, side by side. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cloudlet/bench.h"

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

/* The running binary, for the runners to start as the VMM. */
static int self_path(char *buf, size_t size, struct cl_error *err)
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
static int report(const struct cli_args *a, const struct bench_kind *k, const char *what,
		  const struct bench_series *const *series, size_t n, const struct bench_param *params,
		  size_t nparams, struct cl_error *err)
{
	const char *where = getenv("CLOUDLET_KVMHOST");
	bool emulated = where && !strcmp(where, "emulated");
	printf("%s: %s (%s%s)\n", k->name, what, where ? where : "native",
	       !where ? "" : emulated ? " KVM host: absolute figures are emulation-distorted, read the ratios"
			: " KVM host");
	bench_table(stdout, k, series, n);
	const char *json = cli_str(a, "json", NULL);
	return json ? bench_json(json, k, params, nparams, series, n, err) : 0;
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
	int r = self_path(self, len, err);
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

static int bench_ct_start_cmd(const struct cli_args *a, struct cl_error *err)
{
	static struct bench_series s[3];   /* large: not on the stack */
	char self[4096], work[] = "/tmp/cloudlet-bench-ct.XXXXXX";
	int r = self_path(self, sizeof(self), err);
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
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
	if (system(cmd) != 0) { /* best effort: a scratch dir under /tmp */ }
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
	const char *tmp = getenv("TMPDIR");
	snprintf(work, sizeof(work), "%s/cloudlet-bench-all.XXXXXX", tmp && *tmp ? tmp : "/run");
	o.workdir = work;
	const char *plot = cli_str(a, "plot", NULL), *json = cli_str(a, "json", NULL);
	FILE *pf = NULL;
	if (!mkdtemp(work))
		r = cl_err_sys(err, errno, "mkdtemp %s", work);
	else {
		r = bench_all_run(&o, &res, err);
		char cmd[PATH_MAX + 32];
		/* by its path: the caller's PATH may be a test's, without rm */
		snprintf(cmd, sizeof(cmd), "/bin/rm -rf '%s'", work);
		if (system(cmd) != 0) { /* best effort: our own scratch dir */ }
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

const struct cli_cmd cli_bench_cmds[] = {
	{ "all", "", "start-up, memory, network and isolation, VM vs container",
	  bench_opts, 0, 0, false, bench_all_cmd, NULL,
	  "Runs the images/ workload as a microVM and as a container on the same machine:\n"
	  "start-up (launch -> ready marker, -> exit; KVM exits per boot) with QEMU microvm,\n"
	  "runc and crun alongside when installed (absent ones are skipped with a note);\n"
	  "the memory an idle instance (serve mode) costs the host, its teardown, and the\n"
	  "density that implies in --budget (extrapolated); network between instances;\n"
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
	{ "ct-start", "", "container create+start+exit+delete vs crun and runc",
	  ct_start_opts, 0, 0, false, bench_ct_start_cmd, NULL,
	  "Runs the workload's `exit` mode N times with cloudlet ct run (OCI image\n"
	  "layout) and with runc and crun (when installed) on an OCI bundle of the same\n"
	  "rootfs, alternately. A reference that fails is reported, not fatal (crun 1.8\n"
	  "refuses cgroup v1 hybrid hosts). Exit status 1 when a cloudlet run failed." },
	{ 0 },
};
