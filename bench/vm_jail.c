/* `bench vm-jail`: what the sandbox costs at boot. The same `cloudlet vm
 * run` as vm-boot, jailed (the default as root) and with --no-jail (its own
 * process and seccomp still), alternately and in alternating order, so
 * that both see the same machine. Both run the seccomp filters: the
 * difference is the jail's steps (namespaces, pivot_root, cgroup, the
 * privilege drop) and its teardown. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cloudlet/bench.h"

int bench_vm_jail(const struct bench_vm_opts *o, struct bench_series *jailed,
		  struct bench_series *open, struct cl_error *err)
{
	int r = bench_boot_check(o, err);
	if (r < 0)
		return r;
	if (geteuid() != 0)
		return cl_err(err, EPERM, "a jailed launch needs root (run it as root, or through tests/kvmhost/run)");
	bench_series_init(jailed, "jailed");
	bench_series_init(open, "--no-jail");
	char line[160];
	for (unsigned i = 0; i < o->runs; i++) {
		if (i % 2 == 0) {
			bench_boot_cloudlet(o, jailed, NULL);
			bench_boot_cloudlet(o, open, "--no-jail");
		} else {
			bench_boot_cloudlet(o, open, "--no-jail");
			bench_boot_cloudlet(o, jailed, NULL);
		}
		if (o->progress) {
			snprintf(line, sizeof(line), "vm-jail: run %u/%u done (jailed %zu ok, --no-jail %zu ok)",
				 i + 1, o->runs, jailed->n, open->n);
			o->progress(o->ctx, line);
		}
	}
	return 0;
}
