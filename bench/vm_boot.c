/* `bench vm-boot`: the same kernel and initramfs booted by cloudlet's VMM
 * and by QEMU microvm, alternately, N times each. Both guests get the same
 * command line; both VMMs end on the guest's ACPI reset (reboot=a: the
 * FADT reset register, which each VMM implements). Measured from fork:
 *   ready  - the workload's ready marker on the serial console
 *   reset  - the VMM has handled the guest's reset (cloudlet: process exit;
 *            QEMU, kept alive by -no-shutdown: its SHUTDOWN event)
 *   exits  - KVM's own exit counter summed over vCPUs (cloudlet --stats,
 *            QEMU query-stats), every exit including in-kernel ones. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "cloudlet/bench.h"

#define READY_MARKER "cloudlet-ready "
#define CMDLINE "console=ttyS0 reboot=a panic=-1 pci=off quiet -- exit"

struct run_ctx {
	double t0, ready;
};

static void on_line(void *ctx, const char *line)
{
	struct run_ctx *r = ctx;
	/* anywhere in the line: a kernel message may share it on the console */
	if (r->ready < 0 && strstr(line, READY_MARKER))
		r->ready = bench_now_ms() - r->t0;
}

int bench_parse_kvm_exits(const char *s, uint64_t *exits)
{
	const char *p = s ? strstr(s, "kvm-exits=") : NULL;
	char *end;
	if (!p)
		return -ENOENT;
	p += strlen("kvm-exits=");
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno || (*end && *end != ' ' && *end != '\n'))
		return -EINVAL;
	*exits = v;
	return 0;
}

static const struct bench_metric metrics[] = {
	[BENCH_BOOT_READY] = { "ready_ms", "ready marker ms", "%.0f (%.0f-%.0f)" },
	[BENCH_BOOT_RESET] = { "reset_ms", "guest reset handled ms", "%.0f (%.0f-%.0f)" },
	[BENCH_BOOT_EXITS] = { "kvm_exits", "KVM exits per boot", "%.0f (%.0f-%.0f)" },
};
const struct bench_kind bench_vm_boot_kind = { "vm-boot", "vmm", metrics, 3 };
const struct bench_kind bench_vm_jail_kind = { "vm-jail", "launch", metrics, 3 };

void bench_boot_cloudlet(const struct bench_vm_opts *o, struct bench_series *s, const char *extra)
{
	struct argv a = { 0 };
	argv_cloudlet(&a, o, CMDLINE);
	argv_add(&a, "--stats");
	if (extra)
		argv_add(&a, "%s", extra);
	struct child c;
	struct cl_error err = { 0 };
	struct run_ctx r = { bench_now_ms(), -1 };
	if (a.overflow || child_start(&c, a.v, -1, &err) < 0) {
		bench_series_fail(s, "%s", a.overflow ? "command line too long" : err.msg);
		return;
	}
	child_wait(&c, r.t0 + o->timeout_s * 1000.0 + 5000, on_line, &r, NULL);
	double end = bench_now_ms() - r.t0;
	uint64_t exits = 0;
	if (!c.reaped) {
		bench_series_fail(s, "no exit within the timeout");
	} else if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0 || r.ready < 0) {
		bench_series_fail(s, "%s", c.errbuf[0] ? c.errbuf : r.ready < 0 ? "no ready marker" : "non-zero exit");
	} else if (bench_parse_kvm_exits(c.errbuf, &exits) < 0) {
		bench_series_fail(s, "no kvm-exits in %s", c.errbuf);
	} else {
		double v[] = { r.ready, end, (double)exits };
		bench_series_add(s, v, 3);
	}
	child_kill(&c);
}

static void one_qemu(const struct bench_vm_opts *o, struct bench_series *s, unsigned i)
{
	char sock[64];
	snprintf(sock, sizeof(sock), "cloudlet-bench-%d-%u", (int)getpid(), i);
	struct argv a = { 0 };
	argv_qemu(&a, o, CMDLINE);
	/* -no-reboot makes the reset a shutdown; -no-shutdown keeps QEMU
	 * paused there so its counters can be read over QMP */
	argv_words(&a, "-nic", "none", "-no-shutdown", "-chardev", NULL);
	argv_add(&a, "socket,id=qmp,path=%s,abstract=on,server=on,wait=off", sock);
	argv_words(&a, "-mon", "chardev=qmp,mode=control", NULL);
	struct child c;
	struct qmp q = { .fd = -1 };
	struct cl_error err = { 0 };
	struct run_ctx r = { bench_now_ms(), -1 };
	if (a.overflow || child_start(&c, a.v, -1, &err) < 0) {
		bench_series_fail(s, "%s", a.overflow ? "command line too long" : err.msg);
		return;
	}
	if (qmp_connect(&q, sock, (int)o->timeout_s * 1000, &err) < 0) {
		child_kill(&c);
		bench_series_fail(s, "%s", c.errbuf[0] ? c.errbuf : err.msg);
		return;
	}
	double deadline = r.t0 + o->timeout_s * 1000.0, reset = -1;
	while (reset < 0 && bench_now_ms() < deadline && !child_reap(&c)) {
		bool qmp_ready = false;
		child_poll(&c, q.fd, 100, on_line, &r, &qmp_ready);
		while (qmp_ready || q.len) {
			char *m = NULL;
			if (qmp_read(&q, 0, &m) < 0)
				break;
			free(m);
			qmp_ready = false;
			if (q.shutdown_seen && reset < 0)
				reset = bench_now_ms() - r.t0;
		}
	}
	char *reply = NULL;
	uint64_t exits = 0;
	if (reset < 0 || r.ready < 0) {
		bench_series_fail(s, "%s", c.errbuf[0] ? c.errbuf : "no ready marker or no reset before the timeout");
	} else if (qmp_execute(&q, "{\"execute\": \"query-stats\", \"arguments\": {\"target\": \"vcpu\", "
				   "\"providers\": [{\"provider\": \"kvm\", \"names\": [\"exits\"]}]}}",
			       5000, &reply, &err) < 0 || bench_qmp_sum_exits(reply, &exits) < 0) {
		bench_series_fail(s, "query-stats: %s", err.msg[0] ? err.msg : "no exits counter");
	} else {
		double v[] = { r.ready, reset, (double)exits };
		bench_series_add(s, v, 3);
	}
	free(reply);
	char *bye = NULL;
	qmp_execute(&q, "{\"execute\": \"quit\"}", 2000, &bye, &err);
	free(bye);
	qmp_close(&q);
	for (int k = 0; k < 40 && !child_reap(&c); k++)
		usleep(50000);
	child_kill(&c);
}

int bench_boot_check(const struct bench_vm_opts *o, struct cl_error *err)
{
	if (o->runs < 1 || o->runs > BENCH_MAX_RUNS)
		return cl_err(err, EINVAL, "--runs %u is out of range 1..%d", o->runs, BENCH_MAX_RUNS);
	if (access(o->kernel, R_OK) < 0)
		return cl_err_sys(err, errno, "kernel %s (run: make images)", o->kernel);
	if (access(o->initrd, R_OK) < 0)
		return cl_err_sys(err, errno, "initrd %s (run: make images)", o->initrd);
	return 0;
}

void bench_vm_boot_round(const struct bench_vm_opts *o, struct bench_series *cl, struct bench_series *qemu,
			 unsigned i)
{
	bench_boot_cloudlet(o, cl, NULL);
	if (o->qemu)
		one_qemu(o, qemu, i);
}

int bench_vm_boot(const struct bench_vm_opts *o, struct bench_series *cl,
		  struct bench_series *qemu, struct cl_error *err)
{
	int r = bench_boot_check(o, err);
	if (r < 0)
		return r;
	bench_series_init(cl, "cloudlet");
	bench_series_init(qemu, "qemu-microvm");
	char line[160];
	for (unsigned i = 0; i < o->runs; i++) {
		bench_vm_boot_round(o, cl, qemu, i);
		if (o->progress) {
			snprintf(line, sizeof(line), "vm-boot: run %u/%u done (cloudlet %zu ok, qemu %zu ok)",
				 i + 1, o->runs, cl->n, qemu->n);
			o->progress(o->ctx, line);
		}
	}
	return 0;
}
