/* `bench vm-io`: the guest's network and disk on cloudlet's VMM and on QEMU
 * microvm (virtio-mmio devices, tap without vhost), alternately, N rounds.
 *
 * Both boot the images/ kernel and initramfs with the ext4 image attached
 * read-only as /dev/vda: a data disk nothing else touches (no root file
 * system's journal or page cache in the way), the same file for both VMMs
 * without a copy or a lock, and the build's image never written. Both get
 * the same tap (a persistent one, in a network namespace of the bench's
 * own holding the host end HOST_CIDR) and the same MAC, so the host's
 * neighbour entry stays right from one VMM to the next.
 *
 * In the guest, the workload's `run` mode runs four clperf clients
 * (images/rootfs/tools/clperf.c) one after the other; the same clperf
 * binary serves them on the host, in the namespace:
 *   randread  4 KiB O_DIRECT reads at random offsets of /dev/vda, QD 1
 *             (the file is in the host's page cache for both VMMs: this
 *             measures the virtio-blk path, not a disk)
 *   tcp-send  guest -> host bulk TCP, Mbit/s, until the host has it all
 *   tcp-recv  host -> guest bulk TCP, Mbit/s
 *   tcp-rr    1-byte ping-pong on one connection, median round trip, us
 * The guest's clock times them; each round gives one sample per metric. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "cloudlet/bench.h"

#define TAP "clio0"
/* a /30 of the private 10/8: the two ends of the tap, nothing else */
#define HOST_CIDR "10.99.0.1/30"
#define HOST_IP "10.99.0.1"
/* ip=client::gateway:netmask:hostname:device:autoconf (kernel's nfsroot.rst) */
#define GUEST_IP_CFG "ip=10.99.0.2::" HOST_IP ":255.255.255.252::eth0:off"
#define GUEST_MAC "02:c1:00:00:00:02"
#define GRACE_MS 30000     /* for a VMM to end once the guest is done */

static const struct bench_metric metrics[] = {
	[BENCH_IO_TX] = { "tx_mbit_s", "guest->host Mbit/s", "%.0f (%.0f-%.0f)" },
	[BENCH_IO_RX] = { "rx_mbit_s", "host->guest Mbit/s", "%.0f (%.0f-%.0f)" },
	[BENCH_IO_RTT] = { "rtt_us", "TCP RTT us", "%.0f (%.0f-%.0f)" },
	[BENCH_IO_IOPS] = { "randread_iops", "4K randread IOPS", "%.0f (%.0f-%.0f)" },
};
const struct bench_kind bench_vm_io_kind = { "vm-io", "vmm", metrics, 4 };

/* clperf's result lines, in BENCH_IO_* order: the mode, the figure's key */
static const struct {
	const char *mode, *key;
} results[] = {
	[BENCH_IO_TX] = { "tcp-send", "mbit_s" },
	[BENCH_IO_RX] = { "tcp-recv", "mbit_s" },
	[BENCH_IO_RTT] = { "tcp-rr", "rtt_us" },
	[BENCH_IO_IOPS] = { "randread", "iops" },
};
#define ALL_RESULTS ((1u << 4) - 1)

int bench_parse_clperf(const char *line, unsigned *metric, double *value)
{
	const char *p = line ? strstr(line, "clperf ") : NULL;
	if (!p)
		return -ENOENT;
	p += strlen("clperf ");
	for (unsigned m = 0; m < sizeof(results) / sizeof(results[0]); m++) {
		size_t ml = strlen(results[m].mode), kl = strlen(results[m].key);
		if (strncmp(p, results[m].mode, ml) || p[ml] != ' ')
			continue;
		const char *q = p + ml + 1;
		if (strncmp(q, results[m].key, kl) || q[kl] != '=' || !isdigit((unsigned char)q[kl + 1]))
			return -EINVAL;
		q += kl + 1;
		char *end;
		errno = 0;
		double v = strtod(q, &end);
		if (errno || (*end && *end != ' ') || !isfinite(v) || v <= 0)
			return -EINVAL;
		*metric = m;
		*value = v;
		return 0;
	}
	return -ENOENT;   /* another clperf line: the server's, a usage line */
}

int bench_parse_clperf_field(const char *line, const char *key, double *value)
{
	size_t kl = strlen(key);
	for (const char *p = line ? strchr(line, ' ') : NULL; p; p = strchr(p + 1, ' ')) {
		if (strncmp(p + 1, key, kl) || p[1 + kl] != '=')
			continue;
		char *end;
		errno = 0;
		double v = strtod(p + 2 + kl, &end);
		if (errno || end == p + 2 + kl || (*end && *end != ' ') || !isfinite(v) || v <= 0)
			return -EINVAL;
		*value = v;
		return 0;
	}
	return -ENOENT;
}

int bench_vm_io_cmdline(char *buf, size_t size, unsigned seconds, unsigned rr_count)
{
	int n = snprintf(buf, size,
			 "console=ttyS0 reboot=a panic=-1 pci=off quiet " GUEST_IP_CFG " -- run sh -c \""
			 "clperf randread /dev/vda %u; clperf tcp-send " HOST_IP " " CLPERF_PORT " %u; "
			 "clperf tcp-recv " HOST_IP " " CLPERF_PORT " %u; clperf tcp-rr " HOST_IP " " CLPERF_PORT " %u\"",
			 seconds, seconds, seconds, rr_count);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

void clperf_on_line(void *ctx, const char *line)
{
	struct clperf_out *r = ctx;
	unsigned m;
	double v;
	const char *e;
	/* anywhere in the line: a kernel message may share it on the console */
	if (bench_parse_clperf(line, &m, &v) == 0) {
		r->v[m] = v;
		r->have |= 1u << m;
		if (m == BENCH_IO_RTT && bench_parse_clperf_field(line, "p99_us", &v) == 0)
			r->rtt_p99 = v;
	} else if ((e = strstr(line, "clperf: "))) {
		snprintf(r->why, sizeof(r->why), "%s", e);
	} else if (strstr(line, EXIT_MARKER)) {
		r->done = true;
	} else if (strstr(line, "clperf tcp-server port=")) {
		r->listening = true;
	}
}

static void one(const struct bench_vm_io_opts *o, struct bench_series *s, bool qemu, int netns,
		const char *cmdline)
{
	struct argv a = { 0 };
	if (qemu) {
		argv_qemu(&a, &o->vm, cmdline);
		/* auto-kernel-cmdline=off: the devices are in microvm's DSDT; the
		 * virtio_mmio.device= words QEMU would append would land after the
		 * workload's `--` and become its arguments. force-legacy=false:
		 * virtio-mmio version 2 (virtio 1.x) like cloudlet's, where QEMU's
		 * default is the legacy version 1. */
		argv_words(&a, "-machine", "auto-kernel-cmdline=off", "-global", "virtio-mmio.force-legacy=false",
			   NULL);
		argv_add(&a, "-drive");
		argv_add(&a, "id=disk0,file=%s,format=raw,if=none,readonly=on", o->disk);
		argv_words(&a, "-device", "virtio-blk-device,drive=disk0",
			   "-netdev", "tap,id=net0,ifname=" TAP ",script=no,downscript=no,vhost=off",
			   "-device", "virtio-net-device,netdev=net0,mac=" GUEST_MAC, NULL);
	} else {
		argv_cloudlet(&a, &o->vm, cmdline);
		argv_words(&a, "--net", "tap=" TAP, "--mac", GUEST_MAC, "--disk", NULL);
		argv_add(&a, "%s,ro", o->disk);
	}
	struct child c;
	struct cl_error err = { 0 };
	struct clperf_out r = { .have = 0 };
	if (a.overflow || child_start(&c, a.v, netns, &err) < 0) {
		bench_series_fail(s, "%s", a.overflow ? "command line too long" : err.msg);
		return;
	}
	child_wait(&c, bench_now_ms() + o->vm.timeout_s * 1000.0 + 5000, clperf_on_line, &r, &r.done);
	/* The guest is done. cloudlet ends on its reset by itself; QEMU is
	 * asked to (SIGTERM): under emulation it acts on a reset only after
	 * tens of seconds, which would only slow the bench down. */
	if (r.done && !c.reaped) {
		if (qemu)
			kill(c.pid, SIGTERM);
		child_wait(&c, bench_now_ms() + GRACE_MS, clperf_on_line, &r, NULL);
	}
	if (!r.done)
		bench_series_fail(s, "%s", c.errbuf[0] ? c.errbuf : r.why[0] ? r.why :
				  "no cloudlet-exit from the guest before the timeout");
	else if (r.have != ALL_RESULTS)
		bench_series_fail(s, "%u of 4 results (%s)", (unsigned)__builtin_popcount(r.have),
				  r.why[0] ? r.why : "no clperf error seen");
	else if (!c.reaped)
		bench_series_fail(s, "the VMM did not end within %d s of the guest's reset", GRACE_MS / 1000);
	else if (!qemu && (!WIFEXITED(c.status) || WEXITSTATUS(c.status)))
		bench_series_fail(s, "%s", c.errbuf[0] ? c.errbuf : "non-zero exit");
	else
		bench_series_add(s, r.v, 4);
	child_kill(&c);
}

/* The host's clperf server, in the namespace, once it listens. */
int clperf_server_start(const char *clperf, int netns, struct child *srv, struct cl_error *err)
{
	char *argv[] = { (char *)clperf, "tcp-server", CLPERF_PORT, NULL };
	struct clperf_out st = { .have = 0 };
	if (child_start(srv, argv, netns, err) < 0)
		return cl_err_wrap(err, "clperf server");
	child_wait(srv, bench_now_ms() + 30000, clperf_on_line, &st, &st.listening);
	if (!st.listening) {
		int r = cl_err(err, EIO, "clperf server did not start: %s", srv->errbuf[0] ? srv->errbuf : "no output");
		child_kill(srv);
		return r;
	}
	return 0;
}

int bench_vm_io(const struct bench_vm_io_opts *o, struct bench_series *cl, struct bench_series *qemu,
		struct cl_error *err)
{
	char cmdline[512];
	const struct bench_vm_opts *vm = &o->vm;
	if (vm->runs < 1 || vm->runs > BENCH_MAX_RUNS)
		return cl_err(err, EINVAL, "--runs %u is out of range 1..%d", vm->runs, BENCH_MAX_RUNS);
	if (o->seconds < 1 || o->rr_count < 1)
		return cl_err(err, EINVAL, "--seconds and --rr-count must be at least 1");
	const char *files[] = { vm->kernel, vm->initrd, o->disk, o->clperf };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (access(files[i], R_OK) < 0)
			return cl_err_sys(err, errno, "%s (run: make images)", files[i]);
	if (bench_vm_io_cmdline(cmdline, sizeof(cmdline), o->seconds, o->rr_count) < 0)
		return cl_err(err, ENAMETOOLONG, "guest command line too long");
	bench_series_init(cl, "cloudlet");
	bench_series_init(qemu, "qemu-microvm");

	int netns, r;
	struct child srv;
	if ((r = netns_with_tap(TAP, HOST_CIDR, &netns, err)) < 0)
		return cl_err_wrap(err, "network namespace");
	if ((r = clperf_server_start(o->clperf, netns, &srv, err)) < 0) {
		close(netns);
		return r;
	}
	char line[160];
	for (unsigned i = 0; i < vm->runs; i++) {
		one(o, cl, false, netns, cmdline);
		if (vm->qemu)
			one(o, qemu, true, netns, cmdline);
		if (vm->progress) {
			snprintf(line, sizeof(line), "vm-io: round %u/%u done (cloudlet %zu ok, qemu %zu ok)",
				 i + 1, vm->runs, cl->n, qemu->n);
			vm->progress(vm->ctx, line);
		}
	}
	child_kill(&srv);
	close(netns);
	return 0;
}
