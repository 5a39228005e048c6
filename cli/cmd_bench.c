/* `cloudlet bench`: VM vs container, side by side. */
#include <errno.h>
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

static int bench_vm_boot_cmd(const struct cli_args *a, struct cl_error *err)
{
	static struct bench_boot_series cl, qemu;   /* large: not on the stack */
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return cl_err_sys(err, 2, "readlink /proc/self/exe");
	self[n] = '\0';
	char *qemu_path = cli_flag(a, "no-reference") ? NULL : which("qemu-system-x86_64");
	struct bench_vm_boot_opts o = {
		.cloudlet = self,
		.kernel = cli_str(a, "kernel", "build/images/bzImage"),
		.initrd = cli_str(a, "initrd", "build/images/initramfs.cpio.gz"),
		.runs = (unsigned)cli_num(a, "runs", 10),
		.cpus = (unsigned)cli_num(a, "cpus", 1),
		.mem = cli_str(a, "mem", "256M"),
		.qemu = qemu_path,
		.timeout_s = (unsigned)(cli_num(a, "timeout", 120000) / 1000),
		.progress = progress,
	};
	const char *where = getenv("CLOUDLET_KVMHOST");
	fprintf(stderr, "vm-boot: %u run(s) each, %u vCPU, %s, %s + %s%s\n", o.runs, o.cpus, o.mem,
		o.kernel, o.initrd, qemu_path ? "" : " (qemu-system-x86_64 absent or disabled: no reference)");
	int r = bench_vm_boot(&o, &cl, &qemu, err);
	if (r < 0) {
		free(qemu_path);
		return cl_err_wrap(err, "bench vm-boot");
	}
	const struct bench_boot_series *series[] = { &cl, &qemu };
	size_t nseries = qemu_path ? 2 : 1;
	printf("vm-boot: launch -> ready marker, launch -> guest reset handled, KVM exits (%s KVM host%s)\n",
	       where ? where : "native",
	       where && !strcmp(where, "emulated") ? ": absolute times are emulation-distorted, read the ratios" : "");
	bench_boot_table(stdout, series, nseries);
	const char *json = cli_str(a, "json", NULL);
	if (json && (r = bench_boot_json(json, "vm-boot", &o, series, nseries, err)) < 0) {
		free(qemu_path);
		return r;
	}
	free(qemu_path);
	/* a run that failed is reported above and makes the whole bench fail */
	return cl.failed || qemu.failed || !cl.n ? 1 : 0;
}

static int bench_ct_start_cmd(const struct cli_args *a, struct cl_error *err)
{
	static struct bench_boot_series s[3];   /* large: not on the stack */
	char self[4096], work[] = "/tmp/cloudlet-bench-ct.XXXXXX";
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return cl_err_sys(err, errno, "readlink /proc/self/exe");
	self[n] = '\0';
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
		.runs = (unsigned)cli_num(a, "runs", 10),
		.timeout_s = 60,
		.progress = progress,
	};
	fprintf(stderr, "ct-start: %u run(s) each of %s (exit mode)%s%s\n", o.runs, o.image,
		o.runc ? "" : "; runc absent or disabled", o.crun ? "" : "; crun absent or disabled");
	size_t ns = 0;
	int r = bench_ct_start(&o, s, &ns, err);
	if (r == 0) {
		const struct bench_boot_series *series[] = { &s[0], &s[1], &s[2] };
		printf("ct-start: launch -> ready marker, launch -> container deleted (runtime exit)\n");
		bench_ct_table(stdout, series, ns);
		const char *json = cli_str(a, "json", NULL);
		if (json)
			r = bench_boot_json(json, "ct-start", NULL, series, ns, err);
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

static const struct cli_opt ct_start_opts[] = {
	{ "runs", 'n', CLI_UINT, "N", "runs per runtime (default 10)", false },
	{ "json", 0, CLI_STR, "FILE", "write every raw sample as JSON", false },
	{ "image", 0, CLI_STR, "PATH", "OCI image layout (default build/images/oci)", false },
	{ "rootfs", 0, CLI_STR, "DIR", "the same tree for runc/crun's bundle (default build/images/rootfs)", false },
	{ "no-reference", 0, CLI_FLAG, NULL, "do not run runc and crun alongside", false },
	{ 0 },
};

static const struct cli_opt bench_opts[] = {
	{ "runs", 'n', CLI_UINT, "N", "runs per measurement (default 10)", false },
	{ "json", 0, CLI_STR, "FILE", "write every raw sample as JSON", false },
	{ "plot", 0, CLI_STR, "FILE.svg", "write an SVG chart", false },
	{ 0 },
};

static const struct cli_opt vm_boot_opts[] = {
	{ "runs", 'n', CLI_UINT, "N", "boots per VMM (default 10)", false },
	{ "json", 0, CLI_STR, "FILE", "write every raw sample as JSON", false },
	{ "kernel", 'k', CLI_STR, "PATH", "guest kernel (default build/images/bzImage)", false },
	{ "initrd", 'i', CLI_STR, "PATH", "initramfs (default build/images/initramfs.cpio.gz)", false },
	{ "cpus", 0, CLI_UINT, "N", "vCPUs (default 1)", false },
	{ "mem", 'm', CLI_STR, "SIZE", "guest memory (default 256M)", false },
	{ "timeout", 0, CLI_DURATION, "DURATION", "per boot (default 120s)", false },
	{ "no-reference", 0, CLI_FLAG, NULL, "do not run QEMU microvm alongside", false },
	{ 0 },
};

const struct cli_cmd cli_bench_cmds[] = {
	{ "all", "", "start-up, memory, network and isolation, VM vs container",
	  bench_opts, 0, 0, false, NULL, "#9", NULL },
	{ "vm-boot", "", "microVM boot time and KVM exits vs QEMU microvm",
	  vm_boot_opts, 0, 0, false, bench_vm_boot_cmd, NULL,
	  "Boots the same kernel and initramfs N times with cloudlet's VMM and with\n"
	  "qemu-system-x86_64 -M microvm -enable-kvm (when installed), alternately.\n"
	  "Needs a working /dev/kvm: `make bench` runs it through tests/kvmhost/run.\n"
	  "Exit status 1 when any boot failed (each failure is reported)." },
	{ "ct-start", "", "container create+start+exit+delete vs crun and runc",
	  ct_start_opts, 0, 0, false, bench_ct_start_cmd, NULL,
	  "Runs the workload's `exit` mode N times with cloudlet ct run (OCI image\n"
	  "layout) and with runc and crun (when installed) on an OCI bundle of the same\n"
	  "rootfs, alternately. A reference that fails is reported, not fatal (crun 1.8\n"
	  "refuses cgroup v1 hybrid hosts). Exit status 1 when a cloudlet run failed." },
	{ 0 },
};
