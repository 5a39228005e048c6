/* `bench all` (issue #9): the images/ workload as a microVM and as a
 * container, measured side by side in one run, composed from the other
 * benchmarks' runners:
 *   1. start-up: vm-boot (cloudlet and QEMU microvm) and ct-start
 *      (cloudlet, runc, crun): launch -> ready marker, -> exit/deleted
 *   2. memory per idle instance and teardown (idle.c), and the density
 *      that follows from it (extrapolated, and said so)
 *   3. network between instances (bench_all_network, below)
 *   4. the isolation surface (surface.c), from the seccomp and ioctl
 *      tables and what the live idle instances showed
 * Both kinds run on the same machine: inside the emulated KVM host when
 * there is no usable /dev/kvm (tests/kvmhost/run), which the report says. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "cloudlet/bench.h"

static const struct bench_metric startup_metrics[] = {
	[BENCH_BOOT_READY] = { "ready_ms", "launch -> ready ms", "%.1f (%.1f-%.1f)" },
	[BENCH_BOOT_RESET] = { "exit_ms", "launch -> exit ms", "%.1f (%.1f-%.1f)" },
	[BENCH_BOOT_EXITS] = { "kvm_exits", "KVM exits per boot", "%.0f (%.0f-%.0f)" },
};
const struct bench_kind bench_startup_kind = { "start-up", "kind / tool", startup_metrics, 3 };


static void note(struct bench_all *r, const char *fmt, const char *arg)
{
	if (r->nnotes < sizeof(r->notes) / sizeof(r->notes[0]))
		snprintf(r->notes[r->nnotes++], sizeof(r->notes[0]), fmt, arg);
}

/* The first line `tool --version` prints ("" when it cannot run; a tool
 * that gives no answer is named so: QEMU paging in from 9p in a loaded
 * emulated host can take many seconds). */
static void version_line(void *ctx, const char *line)
{
	char *out = ctx;
	if (!out[0])
		snprintf(out, 96, "%s", line);
}

static void tool_version(const char *tool, char out[96])
{
	out[0] = '\0';
	if (!tool)
		return;
	char *argv[] = { (char *)tool, "--version", NULL };
	struct child c;
	struct cl_error err = { 0 };
	if (child_start(&c, argv, -1, &err) < 0)
		return;
	child_wait(&c, bench_now_ms() + 60000, version_line, out, NULL);
	if (!out[0])   /* a last line without its newline */
		snprintf(out, 96, "%.*s", (int)c.outlen, c.outline);
	if (!out[0])
		snprintf(out, 96, "%s: no answer to --version", tool);
	child_kill(&c);
}

static void environment(struct bench_env *e, const struct bench_all_opts *o)
{
	struct utsname u;
	memset(e, 0, sizeof(*e));
	if (uname(&u) == 0)
		snprintf(e->kernel, sizeof(e->kernel), "%s %s", u.sysname, u.release);
	FILE *ci = fopen("/proc/cpuinfo", "r");
	char line[256];
	while (ci && fgets(line, sizeof(line), ci))
		if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(e->cpu, sizeof(e->cpu), "%s", strchr(line, ':') + 2);
			break;
		}
	if (ci)
		fclose(ci);
	const char *where = getenv("CLOUDLET_KVMHOST");
	snprintf(e->kvm_host, sizeof(e->kvm_host), "%s", where ? where : "unknown");
	tool_version(o->vm.qemu, e->qemu);
	tool_version(o->runc, e->runc);
	tool_version(o->crun, e->crun);
}

/* Item 3 of the issue: RTT and throughput VM<->VM, ct<->ct, VM<->ct across
 * one subnet bridge (and the VPC router), and a bare veth pair: bench
 * vpc-net's rounds, its VPC and guests under a state root of our scratch. */
static void bench_all_network(const struct bench_all_opts *o, struct bench_net *n)
{
	char root[PATH_MAX];
	struct cl_error e = { 0 };
	struct bench_net_opts no = {
		.vm = o->vm, .image = o->image, .clperf = o->clperf, .seconds = o->net_seconds,
		.rr_count = o->rr_count,
	};
	no.vm.qemu = NULL;   /* its reference is the veth pair */
	no.vm.root = root;
	n->measured = false;
	n->npairs = 0;
	if (snprintf(root, sizeof(root), "%s/net", o->workdir) >= (int)sizeof(root) ||
	    (mkdir(root, 0700) < 0 && errno != EEXIST)) {
		snprintf(n->note, sizeof(n->note), "not measured: cannot make the state root under %.64s", o->workdir);
		return;
	}
	if (bench_vpc_net(&no, n->pair, &n->npairs, n->note, sizeof(n->note), &e) < 0) {
		snprintf(n->note, sizeof(n->note), "not measured: %s", e.msg);
		return;
	}
	n->measured = true;
}

static size_t count_ok(const struct bench_series *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i].n;
	return k;
}

static int check(const struct bench_all_opts *o, struct cl_error *err)
{
	char rootfs[PATH_MAX];
	int r = bench_boot_check(&o->vm, err);
	if (r < 0)
		return r;
	if (access(o->image, R_OK) < 0)
		return cl_err_sys(err, errno, "image %s (run: make images)", o->image);
	if (!realpath(o->rootfs, rootfs))
		return cl_err_sys(err, errno, "rootfs %s (run: make images)", o->rootfs);
	if (access(o->clperf, R_OK) < 0)
		return cl_err_sys(err, errno, "clperf %s (run: make images)", o->clperf);
	if (o->net_seconds < 1 || o->rr_count < 1)
		return cl_err(err, EINVAL, "--seconds and --rr-count must be at least 1");
	if (o->budget < (1u << 20))
		return cl_err(err, EINVAL, "--budget %llu bytes is below 1 MiB", (unsigned long long)o->budget);
	return 0;
}

static void say(const struct bench_all_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct bench_all_opts *o, const char *fmt, ...)
{
	char line[160];
	if (!o->vm.progress)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	o->vm.progress(o->vm.ctx, line);
}

int bench_all_run(const struct bench_all_opts *o, struct bench_all *r, struct cl_error *err)
{
	int rc = check(o, err);
	if (rc < 0)
		return rc;
	memset(r, 0, sizeof(*r));
	say(o, "all: %u run(s) each; VM: %u vCPU, %s, %s + %s; container: %s", o->vm.runs, o->vm.cpus, o->vm.mem,
	    o->vm.kernel, o->vm.initrd, o->image);
	r->runs = o->vm.runs;
	r->budget = o->budget;
	environment(&r->env, o);
	if (!o->vm.qemu)
		note(r, "%s", "qemu-system-x86_64 absent or disabled: no VM reference");
	if (!o->runc)
		note(r, "%s", "runc absent or disabled: skipped");
	if (!o->crun)
		note(r, "%s", "crun absent or disabled: skipped");

	/* 1 and 2, a round at a time: the VMs' start-up, the containers',
	 * then an idle instance of each, so every kind sees the same machine */
	bench_series_init(&r->vm[0], "vm cloudlet");
	bench_series_init(&r->vm[1], "vm qemu-microvm");
	r->nvm = o->vm.qemu ? 2 : 1;
	struct bench_ct_start_opts ct = {
		.cloudlet = o->vm.cloudlet, .image = o->image, .rootfs = o->rootfs, .runc = o->runc,
		.crun = o->crun, .workdir = o->workdir, .runs = o->vm.runs, .timeout_s = o->vm.timeout_s,
	};
	if ((rc = bench_ct_start_prepare(&ct, r->ct, &r->nct, err)) < 0)
		return cl_err_wrap(err, "bench all: start-up");
	static const char *const ct_names[] = { "ct cloudlet", "ct runc", "ct crun" };
	for (size_t i = 0; i < r->nct; i++) {
		for (size_t k = 0; k < 3; k++)
			if (!strcmp(r->ct[i].name, ct_names[k] + 3))
				r->ct[i].name = ct_names[k];
		r->ct[i].na = 1u << BENCH_BOOT_EXITS;
	}
	bench_series_init(&r->idle[BENCH_VM], "vm cloudlet");
	bench_series_init(&r->idle[BENCH_CT], "ct cloudlet");
	r->idle[BENCH_CT].na = 1u << BENCH_IDLE_GUEST;
	for (int k = 0; k < BENCH_NKINDS; k++)
		r->facts[k] = (struct bench_facts){ -1, "", -1, -1, -1, -1 };
	char state[PATH_MAX];
	if (snprintf(state, sizeof(state), "%s/state", o->workdir) >= (int)sizeof(state))
		return cl_err(err, ENAMETOOLONG, "%s: path too long", o->workdir);
	for (unsigned i = 0; i < o->vm.runs; i++) {
		bench_vm_boot_round(&o->vm, &r->vm[0], &r->vm[1], i);
		bench_ct_start_round(&ct, r->ct, i);
		struct argv a = { 0 };
		argv_cloudlet(&a, &o->vm, "console=ttyS0 reboot=a panic=-1 pci=off quiet -- serve");
		argv_add(&a, "--stats");
		if (a.overflow)
			bench_series_fail(&r->idle[BENCH_VM], "command line too long");
		else
			bench_idle_one(&r->idle[BENCH_VM], a.v, true, o->vm.timeout_s, &r->facts[BENCH_VM]);
		struct argv c = { 0 };
		argv_words(&c, o->vm.cloudlet, "--root", state, "ct", "run", "--name", NULL);
		argv_add(&c, "cloudlet-bench-idle-%d-%u", (int)getpid(), i);
		argv_words(&c, o->image, "serve", NULL);
		bench_idle_one(&r->idle[BENCH_CT], c.v, false, o->vm.timeout_s, &r->facts[BENCH_CT]);
		say(o, "all: round %u/%u done: start-up vm %zu/%zu ok, ct %zu/%zu ok; idle vm %zu, ct %zu ok",
		    i + 1, o->vm.runs, r->vm[0].n + r->vm[1].n, (size_t)(i + 1) * r->nvm, count_ok(r->ct, r->nct),
		    (size_t)(i + 1) * r->nct, r->idle[BENCH_VM].n, r->idle[BENCH_CT].n);
	}

	/* 3. network */
	say(o, "all: network");
	bench_all_network(o, &r->net);
	/* 4. the isolation surface is computed from the tables and the facts
	 * when the report is printed */
	say(o, "all: isolation surface (from the tables and the idle instances)");
	return 0;
}

static double median_of(const struct bench_series *s, unsigned m)
{
	struct bench_stats st;
	bench_stats(s->v[m], s->n, &st);
	return st.median;
}

double bench_all_cost(const struct bench_all *r, enum bench_kind_id k)
{
	const struct bench_series *s = &r->idle[k];
	if (!s->n)
		return 0;
	return median_of(s, BENCH_IDLE_COST);
}

unsigned long bench_all_density(const struct bench_all *r, enum bench_kind_id k)
{
	double mib = bench_all_cost(r, k);
	if (mib <= 0)
		return 0;
	return (unsigned long)((double)r->budget / (mib * 1024 * 1024));
}

bool bench_all_failed(const struct bench_all *r)
{
	for (size_t i = 0; i < r->nvm; i++)
		if (r->vm[i].failed)
			return true;
	for (size_t i = 0; i < r->nct; i++)
		if (r->ct[i].failed)
			return true;
	for (int k = 0; k < BENCH_NKINDS; k++)
		if (r->idle[k].failed)
			return true;
	if (r->net.measured)
		for (size_t i = 0; i < r->net.npairs; i++)
			if (r->net.pair[i].failed)
				return true;
	return false;
}
