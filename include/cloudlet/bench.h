/* libbench: VM vs container measurements, side by side in one run.
 * Statistics are pure; the runners spawn the real tools and time them. */
#ifndef CLOUDLET_BENCH_H
#define CLOUDLET_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cloudlet/error.h"

struct bench_stats {
	size_t n;
	double median, min, max, mean;
};
/* Pure: statistics of n samples (n may be 0: all fields 0). */
void bench_stats(const double *samples, size_t n, struct bench_stats *out);

/* One contender in a boot benchmark: N samples of each metric. */
#define BENCH_MAX_RUNS 1000
struct bench_boot_series {
	const char *name;            /* "cloudlet", "qemu-microvm" */
	size_t n;                    /* runs that completed */
	size_t failed;               /* runs that did not (reported, the rest go on) */
	double ready_ms[BENCH_MAX_RUNS];   /* launch -> ready marker on the console */
	double reset_ms[BENCH_MAX_RUNS];   /* launch -> the VMM has handled the guest's reset */
	double exits[BENCH_MAX_RUNS];      /* KVM exits per boot (KVM's own counter) */
	char error[256];             /* the first failure, if any */
};

struct bench_vm_boot_opts {
	const char *cloudlet;        /* path of the cloudlet binary */
	const char *kernel, *initrd;
	unsigned runs;
	unsigned cpus;
	const char *mem;             /* "256M" */
	const char *qemu;            /* NULL: skip the reference */
	unsigned timeout_s;          /* per boot */
	void (*progress)(void *ctx, const char *line);
	void *ctx;
};

/* Boot the same kernel+initramfs `runs` times with cloudlet and (if given)
 * QEMU microvm, alternating, so both see the same machine conditions. */
int bench_vm_boot(const struct bench_vm_boot_opts *o, struct bench_boot_series *cl,
		  struct bench_boot_series *qemu, struct cl_error *err);

struct bench_ct_start_opts {
	const char *cloudlet;        /* path of the cloudlet binary */
	const char *image;           /* OCI image layout for cloudlet */
	const char *rootfs;          /* the same tree, unpacked, for the references' bundle */
	const char *runc, *crun;     /* NULL: absent, skipped with a note */
	const char *workdir;         /* scratch: bundle and state (removed by the caller) */
	unsigned runs, timeout_s;
	void (*progress)(void *ctx, const char *line);
	void *ctx;
};

/* Create+start+exit+delete of the workload container, N times per runtime.
 * s[] receives up to 3 series (cloudlet, runc, crun); ready_ms is launch ->
 * ready marker, reset_ms is launch -> the runtime's exit. */
int bench_ct_start(const struct bench_ct_start_opts *o, struct bench_boot_series *s,
		   size_t *nseries, struct cl_error *err);

/* Reports: a table for people, JSON with every raw sample. */
void bench_boot_table(FILE *out, const struct bench_boot_series *const *series, size_t n);
void bench_ct_table(FILE *out, const struct bench_boot_series *const *series, size_t n);
/* o: the vm-boot config, NULL for other benchmarks (then no KVM exits) */
int bench_boot_json(const char *path, const char *benchmark, const struct bench_vm_boot_opts *o,
		    const struct bench_boot_series *const *series, size_t n, struct cl_error *err);

/* Pure helpers, exposed for tests. */
int bench_parse_kvm_exits(const char *stats_line, uint64_t *exits);
int bench_qmp_sum_exits(const char *query_stats_reply, uint64_t *exits);

#endif
