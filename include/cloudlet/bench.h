/* libbench: VM vs container measurements, side by side in one run.
 * Statistics are pure; the runners spawn the real tools and time them. */
#ifndef CLOUDLET_BENCH_H
#define CLOUDLET_BENCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cloudlet/error.h"

struct bench_stats {
	size_t n;
	double median, min, max, mean;
	double p99;                  /* nearest rank: the ceil(0.99 n)-th smallest */
};
/* Pure: statistics of n samples (n may be 0: all fields 0). */
void bench_stats(const double *samples, size_t n, struct bench_stats *out);

#define BENCH_MAX_RUNS 1000
#define BENCH_MAX_METRICS 5

/* One column of a benchmark's results. */
struct bench_metric {
	const char *key;             /* in the JSON: "ready_ms" */
	const char *title;           /* the table's heading: "ready marker ms" */
	const char *fmt;             /* a table cell from median, min, max: "%.0f (%.0f-%.0f)" */
};

/* What a benchmark reports: its metrics, and what its contenders are. */
struct bench_kind {
	const char *name;            /* "vm-boot": the JSON's "benchmark" */
	const char *contender;       /* the first column's heading: "vmm", "runtime" */
	const struct bench_metric *metrics;
	size_t nmetrics;             /* <= BENCH_MAX_METRICS */
};
extern const struct bench_kind bench_vm_boot_kind, bench_ct_start_kind, bench_vm_io_kind,
	bench_vm_jail_kind, bench_oci_kind;

/* The metrics' indexes in v[] below. ct-start: READY, and RESET = launch
 * -> the runtime's exit (the container deleted). */
enum { BENCH_BOOT_READY, BENCH_BOOT_RESET, BENCH_BOOT_EXITS };
enum { BENCH_IO_TX, BENCH_IO_RX, BENCH_IO_RTT, BENCH_IO_IOPS };

/* One contender: a sample of each metric per completed run. */
struct bench_series {
	const char *name;            /* "cloudlet", "qemu-microvm", "runc" */
	size_t n;                    /* runs that completed */
	size_t failed;               /* runs that did not (reported, the rest go on) */
	double v[BENCH_MAX_METRICS][BENCH_MAX_RUNS];   /* v[metric][run] */
	unsigned na;                 /* bit per metric this contender does not have ("n/a") */
	char error[256];             /* the first failure, if any */
};
void bench_series_init(struct bench_series *s, const char *name);
/* A completed run: values[i] is metric i's sample. */
void bench_series_add(struct bench_series *s, const double *values, size_t nvalues);
/* A failed run; the first failure's reason is kept ("NAME: reason", one line). */
void bench_series_fail(struct bench_series *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* What the VM benchmarks share: the two VMMs, the guest, how often. */
struct bench_vm_opts {
	const char *cloudlet;        /* path of the cloudlet binary */
	const char *qemu;            /* NULL: skip the reference */
	const char *kernel, *initrd;
	unsigned runs, cpus;
	const char *mem;             /* "256M" */
	unsigned timeout_s;          /* per VM */
	void (*progress)(void *ctx, const char *line);
	void *ctx;
	const char *root;            /* `cloudlet --root` of every launch; NULL: the default */
};

/* Boot the same kernel+initramfs `runs` times with cloudlet and (if given)
 * QEMU microvm, alternating, so both see the same machine conditions.
 * Metrics: BENCH_BOOT_*. */
int bench_vm_boot(const struct bench_vm_opts *o, struct bench_series *cl,
		  struct bench_series *qemu, struct cl_error *err);
/* Its round i alone, into series the caller initialized (bench all
 * interleaves rounds of several benchmarks). */
void bench_vm_boot_round(const struct bench_vm_opts *o, struct bench_series *cl, struct bench_series *qemu,
			 unsigned i);

/* The same boot as vm-boot's, jailed (the default as root) and with
 * --no-jail, alternately (root only). Metrics: BENCH_BOOT_*. */
int bench_vm_jail(const struct bench_vm_opts *o, struct bench_series *jailed,
		  struct bench_series *open, struct cl_error *err);

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

struct bench_oci_opts {
	const char *podman;            /* NULL: not installed (an error) */
	const char *runtime;           /* cloudlet-runtime */
	const char *runc, *crun;       /* NULL: absent, skipped with a note */
	const char *image;             /* OCI image layout */
	const char *workdir;           /* scratch: podman's store (removed by the caller) */
	unsigned runs, timeout_s;
	void (*progress)(void *ctx, const char *line);
	void *ctx;
};
/* `podman run --rm IMAGE true` with each OCI runtime, alternately, N times.
 * s[] receives up to 3 series (cloudlet, runc, crun). */
int bench_oci(const struct bench_oci_opts *o, struct bench_series *s, size_t *nseries,
	      struct cl_error *err);

/* Create+start+exit+delete of the workload container, N times per runtime.
 * s[] receives up to 3 series (cloudlet, runc, crun). */
int bench_ct_start(const struct bench_ct_start_opts *o, struct bench_series *s,
		   size_t *nseries, struct cl_error *err);
/* Its parts: the checks, the series and the references' bundle; then
 * round i (one run per runtime). */
int bench_ct_start_prepare(const struct bench_ct_start_opts *o, struct bench_series *s, size_t *nseries,
			   struct cl_error *err);
void bench_ct_start_round(const struct bench_ct_start_opts *o, struct bench_series *s, unsigned i);

struct bench_vm_io_opts {
	struct bench_vm_opts vm;
	const char *disk;            /* attached read-only as /dev/vda */
	const char *clperf;          /* the host's copy of the guest's /bin/clperf */
	unsigned seconds;            /* per throughput and disk test */
	unsigned rr_count;           /* request/response round trips */
};

/* TCP throughput both ways, TCP RTT and 4 KiB random-read IOPS of a guest
 * on each VMM, alternating; the host side is a network namespace of the
 * bench's own. Metrics: BENCH_IO_*. */
int bench_vm_io(const struct bench_vm_io_opts *o, struct bench_series *cl,
		struct bench_series *qemu, struct cl_error *err);

/* ---- vpc-net: two guests on one VPC, next to a bare veth pair ----
 *
 * One sample: a clperf tcp-server in guest b (on subnet a of a VPC made for
 * the call), a clperf client in guest a on the same subnet (one bridge) or
 * on the VPC's other subnet (through the VPC router), that runs
 *   tcp-send  a -> b bulk TCP for `seconds`, Mbit/s
 *   tcp-recv  b -> a bulk TCP for `seconds`, Mbit/s
 *   tcp-rr    `rr_count` 1-byte round trips on one connection, median us
 * The guests are launched as `cloudlet --root ROOT ct run --net VPC/SUBNET`
 * and `... vm run --net VPC/SUBNET` (the workload's `run` mode), both with
 * the VPC's default security group (its members reach each other). */
enum bench_guest { BENCH_GUEST_CT, BENCH_GUEST_VM };
enum { BENCH_NET_TX, BENCH_NET_RX, BENCH_NET_RTT, BENCH_NET_METRICS };
extern const struct bench_kind bench_vpc_net_kind;

struct bench_net_opts {
	/* the cloudlet binary, the VM's kernel, initrd, cpus, mem and timeout,
	 * progress; vm.runs: the rounds of bench_vpc_net; vm.root (required):
	 * the state root of the call's VPC and guests, on a file system
	 * overlayfs can use (tmpfs: not 9p), owned by the caller */
	struct bench_vm_opts vm;
	const char *image;           /* OCI image layout of the containers */
	const char *clperf;          /* the host's clperf, for the veth pair */
	unsigned seconds;            /* per throughput test */
	unsigned rr_count;           /* round trips */
	/* when *stop becomes non-zero (a signal handler's flag), bench_vpc_net
	 * starts no new sample: the current one ends and is torn down */
	const volatile sig_atomic_t *stop;
};
struct bench_net_sample {
	double v[BENCH_NET_METRICS]; /* BENCH_NET_*: finite, > 0 */
	double rtt_p99;              /* the round trips' p99, us (0: clperf did not say) */
};
/* bench overlay's fourth column: the round trips' p99 (rtt_p99) */
#define BENCH_NET_RTT_P99 BENCH_NET_METRICS

/* Where bench_net_pair's VPC and guests go when not on this host's VPC:
 * the overlay of controller `controller` (net/sdn/, its hosts' agents
 * running, and $CLOUDLET_CONTROLLER naming it, as the launchers read it),
 * the server on host server_host and the client on client_host
 * (`ct run --host`, `vm run --host`). */
struct bench_net_where {
	const char *controller;
	const char *server_host, *client_host;
};

/* One sample between a client of kind a and a server of kind b, across one
 * subnet bridge (routed false) or the VPC router (true). Makes VPC
 * "bench-net" (10.77.0.0/16, subnets a 10.77.1.0/24 and b 10.77.2.0/24)
 * under o->vm.root (w NULL) or in w's controller, and removes it, its
 * guests and their leases before it returns, on every path. -ENODEV: a VM
 * was asked for and KVM cannot run one here (no /dev/kvm, or the VMM's
 * exit 12); err says which. */
int bench_net_pair(const struct bench_net_opts *o, enum bench_guest a, enum bench_guest b, bool routed,
		   const struct bench_net_where *w, struct bench_net_sample *out, struct cl_error *err);
/* o's runs, lengths and files (image, clperf, kernel, initrd) are usable. */
int bench_net_check(const struct bench_net_opts *o, struct cl_error *err);
/* The reference: the same client and server (the host's clperf) in two
 * network namespaces of the bench's own joined by one veth pair, nothing
 * else (net_veth_pair). */
int bench_net_veth(const struct bench_net_opts *o, struct bench_net_sample *out, struct cl_error *err);

/* `bench vpc-net`: o->vm.runs rounds, each one sample of every pair in
 * turn, into s[0..*n): s[0] the veth pair, then ct-ct, vm-vm, vm-ct across
 * one bridge, then the same three routed (BENCH_NET_PAIRS series). Where
 * KVM cannot run a VM the VM pairs stay empty and note says why (else ""). */
#define BENCH_NET_PAIRS 7
int bench_vpc_net(const struct bench_net_opts *o, struct bench_series *s, size_t *n, char *note,
		  size_t note_len, struct cl_error *err);

/* ---- overlay and sdn-scale (issue #10): VPCs across simulated hosts ---- */

/* `bench overlay`: TCP throughput both ways, the round trips' median and
 * p99 (BENCH_NET_*, BENCH_NET_RTT_P99); o->vm.runs rounds, each one sample
 * of: the bare veth pair, a container pair on one simulated host's subnet
 * bridge, the same pair across two hosts over VXLAN, and (where KVM can
 * run a VM) a microVM
 * pair and a microVM-container pair across the hosts, into s[0..*n)
 * (BENCH_OVERLAY_PAIRS series, s[0] the reference). It makes a controller
 * (sqlite: a store in o->vm.root), two hosts with their agents, and takes
 * them all down again before it returns, on every path; while it runs
 * $CLOUDLET_CONTROLLER names that store. agent_interval_ms: the agents'
 * --interval (0: their default). Where KVM cannot run a VM the VM pairs
 * stay empty and note says why (else ""). */
#define BENCH_OVERLAY_PAIRS 5
extern const struct bench_kind bench_overlay_kind;
int bench_overlay(const struct bench_net_opts *o, unsigned agent_interval_ms, struct bench_series *s, size_t *n,
		  char *note, size_t note_len, struct cl_error *err);

/* `bench sdn-scale`: hosts with agents, per_host real attachments each
 * (a veth into a network namespace of the bench's own, through net_attach
 * and the host's agent, as the CNI plugin attaches), spread over `vpcs`
 * VPCs so that each VPC lives on some hosts only; then, at a growing number
 * of hosts, a series of desired-state changes (attach, detach, a security
 * group rule), each timed from its write being visible in the store to the
 * last host it affects (whose desired items it changes) reporting that
 * revision applied; and per host the routes, FDB and neighbour entries the
 * kernel holds against the attachments in the VPCs present there. */
enum { BENCH_SDN_ATTACH, BENCH_SDN_DETACH, BENCH_SDN_SG, BENCH_SDN_KINDS };
/* per change: write visible -> last / first affected host applied, ms;
 * the call -> its write visible, ms; the hosts it affected */
enum { BENCH_SDN_CONVERGE, BENCH_SDN_FIRST, BENCH_SDN_WRITE, BENCH_SDN_AFFECTED, BENCH_SDN_METRICS };
#define BENCH_SDN_STEPS 3
extern const struct bench_kind bench_sdn_scale_kind;

struct bench_sdn_scale_opts {
	const char *cloudlet;        /* the binary: `host agent` */
	const char *workdir;         /* the store and the agents' logs (the caller's, removed by it) */
	unsigned hosts, per_host, vpcs;
	unsigned changes;            /* of each kind, at each number of hosts */
	unsigned agent_interval_ms;  /* the agents' --interval (0: their default) */
	unsigned timeout_s;          /* per change */
	void (*progress)(void *ctx, const char *line);
	void *ctx;
	const volatile sig_atomic_t *stop;   /* as bench_net_opts' */
};

struct bench_sdn_host_row {
	char name[32];                
	unsigned local;              /* its attachments */
	unsigned vpcs;               /* VPCs present on it */
	unsigned expect;             /* attachments of those VPCs on other hosts: a route each */
	unsigned expect_hosts;       /* per VPC present, the other hosts it is on: an FDB and a neighbour entry each */
	unsigned cloud;              /* attachments on other hosts, in any VPC */
	long fdb, neigh, routes;     /* what its kernel holds (-1: not read) */
};

struct bench_sdn_scale {
	unsigned nsteps;
	unsigned hosts[BENCH_SDN_STEPS];             /* hosts at each step */
	unsigned atts[BENCH_SDN_STEPS];              /* attachments at each step */
	struct bench_series s[BENCH_SDN_STEPS][BENCH_SDN_KINDS];   /* BENCH_SDN_* metrics */
	char names[BENCH_SDN_STEPS][BENCH_SDN_KINDS][32];
	double setup_s;                              /* making the cloud, all steps */
	/* per step, once the cloud is made, per host: routes and FDB entries
	 * held by the kernels and needed by the VPCs present, and the whole
	 * cloud's guests elsewhere */
	double routes_mean[BENCH_SDN_STEPS], expect_mean[BENCH_SDN_STEPS], cloud_mean[BENCH_SDN_STEPS];
	double fdb_mean[BENCH_SDN_STEPS], expect_hosts_mean[BENCH_SDN_STEPS];
	struct bench_sdn_host_row *rows;             /* at the last step measured; malloc'd */
	size_t nrows;
	bool growth_ok;                              /* every host, every step: held == needed */
};
int bench_sdn_scale(const struct bench_sdn_scale_opts *o, struct bench_sdn_scale *r, struct cl_error *err);
void bench_sdn_scale_free(struct bench_sdn_scale *r);
/* The report: per step and kind of change, convergence p50/p99 (ms), the
 * first host's, the write's, the hosts affected; then the per-host rows
 * and the growth verdict. JSON: every sample, the rows, the settings. */
void bench_sdn_scale_table(FILE *out, const struct bench_sdn_scale_opts *o, const struct bench_sdn_scale *r);
int bench_sdn_scale_json(const char *path, const struct bench_sdn_scale_opts *o, const struct bench_sdn_scale *r,
			 struct cl_error *err);

/* Pure, exposed for tests. The host counts of the steps (n/4, n/2, n;
 * at least 2, no repeats): the count. */
unsigned bench_sdn_steps(unsigned hosts, unsigned out[BENCH_SDN_STEPS]);
/* The VPC of host h's k-th attachment: VPCs h and h+1 (mod vpcs), in turn,
 * so that each VPC lives on two hosts in every `vpcs` consecutive ones. */
unsigned bench_sdn_vpc_of(unsigned h, unsigned k, unsigned vpcs);
/* Host `host`'s row from the desired state: its attachments, the VPCs
 * present (an attachment there), the attachments of those VPCs elsewhere
 * (a /32 route each in the routed overlay), the other hosts of each
 * (an FDB and a neighbour entry each), and all attachments elsewhere. */
struct sdn_state;
void bench_sdn_expect(const struct sdn_state *s, const char *host, struct bench_sdn_host_row *row);

/* A benchmark's settings, for the JSON: str, or num when str is NULL. */
struct bench_param {
	const char *key;
	const char *str;
	long long num;
};

/* Reports: a table for people (medians, min-max, and the ratio of the first
 * series to each other one), and JSON with every raw sample. */
void bench_table(FILE *out, const struct bench_kind *k, const struct bench_series *const *series, size_t n);
/* Its parts: the heading and one row per series; one ratio row a/b of the
 * medians ("n/a" where either lacks the metric or has no sample). */
void bench_table_rows(FILE *out, const struct bench_kind *k, const struct bench_series *const *series, size_t n,
		      int name_width);
void bench_table_ratio(FILE *out, const struct bench_kind *k, const struct bench_series *a,
		       const struct bench_series *b, int name_width);
/* The same table, the ratio lines the other way: each series against the
 * first one, the reference (`bench vpc-net`: every pair / the veth pair). */
void bench_table_vs_first(FILE *out, const struct bench_kind *k, const struct bench_series *const *series,
			  size_t n);
int bench_json(const char *path, const struct bench_kind *k, const struct bench_param *params, size_t nparams,
	       const struct bench_series *const *series, size_t n, struct cl_error *err);

/* Pure helpers, exposed for tests. */
int bench_parse_kvm_exits(const char *stats_line, uint64_t *exits);
int bench_qmp_sum_exits(const char *query_stats_reply, uint64_t *exits);
/* A clperf result line (images/rootfs/tools/clperf.c), possibly after other
 * console output: *metric is its BENCH_IO_* index, *value its figure (finite,
 * > 0). -ENOENT: not a result line; -EINVAL: a malformed one. */
int bench_parse_clperf(const char *line, unsigned *metric, double *value);
/* Another key=value of a clperf result line (tcp-rr's "p99_us"): -ENOENT
 * when absent, -EINVAL when not a positive finite number. */
int bench_parse_clperf_field(const char *line, const char *key, double *value);
/* The guest kernel command line of vm-io: the address on eth0 (ip=), then
 * the workload's `run` mode with the four clperf clients. -ENAMETOOLONG. */
int bench_vm_io_cmdline(char *buf, size_t size, unsigned seconds, unsigned rr_count);

/* ---- bench all (issue #9): the same workload as a microVM and as a
 * container, side by side: start-up, memory per idle instance, network,
 * isolation surface; reference tools in the same run. ---- */

/* The idle instance (the workload's `serve` mode, one at a time): what the
 * host pays for it, and how long it takes to go away. MiB and ms. COST is
 * the same sum for both kinds: the instance's cgroup's usage plus the PSS
 * of its launcher, the one process outside that cgroup (idle.c). */
enum { BENCH_IDLE_COST, BENCH_IDLE_CGROUP, BENCH_IDLE_PSS, BENCH_IDLE_GUEST, BENCH_IDLE_TEARDOWN };
extern const struct bench_kind bench_startup_kind, bench_idle_kind;
enum bench_kind_id { BENCH_VM, BENCH_CT, BENCH_NKINDS };

/* Measured on the last live idle instance of a kind ("the instance": the
 * VMM process, or the container's first process). -1: not measured. */
struct bench_facts {
	int ns_own;                  /* namespaces (of 8 kinds) not shared with the host */
	char ns_names[96];           /* which: "mnt pid net ipc uts cgroup" */
	int mounts;                  /* entries of its mount table */
	int devnodes;                /* character/block device nodes in its root's /dev */
	int seccomp_filters;         /* /proc/PID/status Seccomp_filters */
	int devices;                 /* VM: emulated devices (vm run --stats devices=) */
};

/* Item 3: bench vpc-net's series (bench_vpc_net): TCP throughput both ways
 * and RTT (BENCH_NET_*) per pair, pair[0] the bare veth pair, then ct-ct,
 * vm-vm, vm-ct across one bridge, then the same through the VPC router. */
struct bench_net {
	bool measured;               /* false: the section says why in note */
	char note[CL_ERR_MSG_MAX + 32];   /* also: the VM pairs skipped, and why */
	struct bench_series pair[BENCH_NET_PAIRS];
	size_t npairs;
};

/* One row of the isolation table: what each kind exposes to the host
 * kernel. Figures below 0 are words. */
enum { BENCH_SURFACE_ANY = -1, BENCH_SURFACE_NA = -2, BENCH_SURFACE_UNMEASURED = -3 };
struct bench_surface_row {
	const char *what;
	long vm, ct;
	char why[200];               /* one line */
};
#define BENCH_SURFACE_ROWS 8
/* Pure: the rows from the seccomp and ioctl tables (vmm/jail, crun/seccomp.c)
 * and the measured facts. Returns the count. */
size_t bench_surface(const struct bench_facts f[BENCH_NKINDS], struct bench_surface_row *rows, size_t max);

struct bench_env {
	char kernel[192], cpu[128];
	char kvm_host[16];           /* "native", "emulated" (tests/kvmhost/run) or "unknown" */
	char qemu[96], runc[96], crun[96];   /* first line of --version; "" when absent */
};

struct bench_all_opts {
	struct bench_vm_opts vm;     /* the VMs, the runs, the progress callback */
	const char *image, *rootfs;  /* the container's OCI layout, and the same tree */
	const char *runc, *crun;     /* NULL: absent or disabled */
	const char *workdir;         /* scratch on a local file system (overlayfs) */
	uint64_t budget;             /* bytes: the density's memory budget */
	const char *clperf;          /* the network section: bench_net_opts' */
	unsigned net_seconds, rr_count;
};

struct bench_all {
	struct bench_env env;
	unsigned runs;
	uint64_t budget;
	struct bench_series vm[2];   /* cloudlet, qemu-microvm: BENCH_BOOT_* */
	size_t nvm;
	struct bench_series ct[3];   /* cloudlet, runc, crun: BENCH_BOOT_READY, _RESET */
	size_t nct;
	struct bench_series idle[BENCH_NKINDS];   /* BENCH_IDLE_* */
	struct bench_facts facts[BENCH_NKINDS];
	struct bench_net net;
	char notes[6][160];          /* references skipped, and why */
	size_t nnotes;
};

/* Everything, in the order above; a failed run is recorded in its series
 * and the rest go on. < 0 only for bad input (nothing was started). */
int bench_all_run(const struct bench_all_opts *o, struct bench_all *r, struct cl_error *err);
/* Pure: the per-instance host cost of a kind, MiB (the median of
 * BENCH_IDLE_COST), and how many fit in budget bytes (0 when not measured). */
double bench_all_cost(const struct bench_all *r, enum bench_kind_id k);
unsigned long bench_all_density(const struct bench_all *r, enum bench_kind_id k);
/* Any failed run in any series. */
bool bench_all_failed(const struct bench_all *r);
void bench_all_table(FILE *out, const struct bench_all *r);
int bench_all_json(const char *path, const struct bench_all *r, struct cl_error *err);
/* The chart: start-up distribution per kind (log scale), memory per
 * instance, guest-to-guest throughput per pair; each series a
 * <g id="series-..."> */
int bench_all_svg(FILE *out, const struct bench_all *r);

/* Pure /proc parsers (bench/procfs.c), exposed for tests. kB as the kernel
 * writes them. */
int bench_parse_rollup(const char *smaps_rollup, uint64_t *rss_kb, uint64_t *pss_kb);
/* The largest anonymous mapping of /proc/PID/smaps (guest RAM in a VMM):
 * its size and Rss, kB. */
int bench_parse_smaps_largest_anon(const char *smaps, uint64_t *size_kb, uint64_t *rss_kb);
/* The file holding the memory usage of the cgroup /proc/PID/cgroup names:
 * v2 memory.current under layout's unified mount, v1 the memory
 * controller's memory.usage_in_bytes. */
struct cl_cg_layout;
int bench_cgroup_memory_file(const char *proc_cgroup, const struct cl_cg_layout *l, char *out, size_t size);
/* `vm run --stats`' devices=N. */
int bench_parse_devices(const char *stats, unsigned *n);

#endif
