/* bench/ internals: timed child processes, the VMMs' command lines, a
 * network namespace of the bench's own, and a QMP client. */
#ifndef BENCH_INTERNAL_H
#define BENCH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cloudlet/bench.h"
#include "cloudlet/error.h"

double bench_now_ms(void);

/* A child with stdin /dev/null and stdout/stderr on pipes, in a process
 * group of its own, killed (SIGKILL) if the bench dies first. */
struct child {
	pid_t pid;
	int out, err;            /* read ends, -1 once at EOF */
	char outline[512];       /* current partial stdout line */
	size_t outlen;
	char errbuf[2048];       /* all of stderr, truncated */
	size_t errlen;
	int status;              /* wait status once reaped */
	bool reaped;
};
/* netns >= 0: the child enters that network namespace before exec. */
int child_start(struct child *c, char *const argv[], int netns, struct cl_error *err);
/* Read what is available (waiting at most timeout_ms); on_line gets every
 * complete stdout line. Returns 0, or -ETIMEDOUT when nothing came. */
int child_poll(struct child *c, int extra_fd, int timeout_ms,
	       void (*on_line)(void *ctx, const char *line), void *ctx, bool *extra_ready);
/* Read its output until it has exited and closed both pipes, the clock
 * (bench_now_ms) passes deadline_ms, or *stop (set by on_line) is true.
 * Returns whether it was reaped. */
bool child_wait(struct child *c, double deadline_ms, void (*on_line)(void *ctx, const char *line),
		void *ctx, const bool *stop);
/* Reap if it has exited (non-blocking); true once reaped. */
bool child_reap(struct child *c);
void child_kill(struct child *c);
/* SIGTERM to the child (a launcher that then tears its guest down), up to
 * grace_ms to end, else child_kill. Returns whether it ended by itself. */
bool child_stop(struct child *c, int grace_ms);

/* An argv built in place: argv_add copies one formatted argument; past
 * the capacity it only sets overflow (checked once, before exec). */
struct argv {
	char *v[64];
	size_t n;
	char store[4096];
	size_t used;
	bool overflow;
};
void argv_add(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Each string argument, up to a NULL. */
void argv_words(struct argv *a, ...) __attribute__((sentinel));

/* `cloudlet vm run` and `qemu-system-x86_64 -M microvm` (KVM, the host's
 * CPU, no default devices, serial on stdio, exit on the guest's reset)
 * booting o's guest with cmdline; callers append their devices. */
struct bench_vm_opts;
void argv_cloudlet(struct argv *a, const struct bench_vm_opts *o, const char *cmdline);
void argv_qemu(struct argv *a, const struct bench_vm_opts *o, const char *cmdline);

struct bench_series;
/* vm_boot.c: the options' runs and files; one `cloudlet vm run` boot into
 * s (BENCH_BOOT_* metrics), with one more argument unless extra is NULL */
int bench_boot_check(const struct bench_vm_opts *o, struct cl_error *err);
void bench_boot_cloudlet(const struct bench_vm_opts *o, struct bench_series *s, const char *extra);

/* A new, empty network namespace (not even lo up) with no name: unshare(2)
 * and back at once, so only *netns (and children started in it) keep it. */
int netns_new(int *netns, struct cl_error *err);

/* A network namespace of the bench's own holding a persistent tap with
 * host_cidr ("10.99.0.1/30") on it, up, and lo up. Made by unshare(2) and
 * left at once: only the returned fd (and the children started in it)
 * keep it, so it and its tap vanish with them, however the bench ends. */
int netns_with_tap(const char *tap, const char *host_cidr, int *netns, struct cl_error *err);

/* clperf (images/rootfs/tools/clperf.c), the bench's TCP tool on both
 * ends: its server's port, and the results a client run printed. */
#define CLPERF_PORT "5001"
#define EXIT_MARKER "cloudlet-exit status="   /* the workload's `run` mode is done */
struct clperf_out {
	double v[BENCH_MAX_METRICS];   /* by bench_parse_clperf's index */
	unsigned have;             /* bit m: metric m came */
	bool done;                 /* the workload printed EXIT_MARKER */
	bool listening;            /* a tcp-server said it listens */
	char why[160];             /* clperf's last complaint */
	double rtt_p99;            /* tcp-rr's p99_us (0: not said, an older clperf) */
};
/* A child's on_line for the lines of clperf clients (ctx: a clperf_out). */
void clperf_on_line(void *ctx, const char *line);
/* The host's clperf tcp-server on CLPERF_PORT in netns, once it listens. */
int clperf_server_start(const char *clperf, int netns, struct child *srv, struct cl_error *err);

/* QMP (QEMU Machine Protocol, docs/interop/qmp-spec.rst): one JSON object
 * per line, a greeting, then commands answered by return/error, with
 * asynchronous events in between. */
struct qmp {
	int fd;
	char buf[65536];
	size_t len;
	bool shutdown_seen;      /* a SHUTDOWN event arrived */
};
int qmp_connect(struct qmp *q, const char *abstract_name, int timeout_ms, struct cl_error *err);
/* Read one message within timeout_ms; *msg is a malloc'd JSON text (free it). */
int qmp_read(struct qmp *q, int timeout_ms, char **msg);
/* Send a command and wait for its answer (events seen on the way are noted). */
int qmp_execute(struct qmp *q, const char *cmd_json, int timeout_ms, char **reply,
		struct cl_error *err);
void qmp_close(struct qmp *q);

/* procfs.c: a live process tree (root first, breadth first), its memory
 * (kB, summed over the tree, or of one process), the guest memory of a VMM (its largest
 * anonymous mapping), a process's cgroup memory usage (bytes), and what it
 * exposes (struct bench_facts; devices is left alone). */
size_t proc_tree(pid_t root, pid_t *out, size_t max);
int proc_tree_memory(pid_t root, uint64_t *rss_kb, uint64_t *pss_kb);
int proc_self_memory(pid_t pid, uint64_t *rss_kb, uint64_t *pss_kb);
int proc_guest_memory(pid_t vmm, uint64_t *size_kb, uint64_t *rss_kb);
int proc_cgroup_memory(pid_t pid, uint64_t *bytes);
struct bench_facts;
void proc_facts(pid_t pid, struct bench_facts *f);

/* idle.c: one idle instance of the workload (`serve`), measured and then
 * stopped with SIGTERM; argv starts it in the foreground. f (the kind's
 * facts) is refreshed from the live instance. */
void bench_idle_one(struct bench_series *s, char *const argv[], bool vm, unsigned timeout_s,
		    struct bench_facts *f);

/* report.c: a series' statistics with its raw samples, and the machine
 * (kernel, CPU, where KVM ran) as JSON objects (json-c) */
struct json_object;
struct json_object *bench_json_stats(const double *v, size_t n);
struct json_object *bench_json_environment(void);

/* cloud.c: a controller of the bench's own (an sqlite store in a scratch
 * directory, named by $CLOUDLET_CONTROLLER while it is open), simulated
 * hosts (`host add`) and an agent process per host (`host agent`, its log
 * in the directory). cloud_close stops the agents and removes the hosts
 * (their namespaces, and with them every VPC namespace, link and nft
 * table the agents made), on every path. */
struct sdn_store;
struct cloud {
	char url[4200];
	char dir[4096];
	const char *cloudlet;
	unsigned interval_ms;        /* the agents' --interval (0: their default) */
	struct child *agent;         /* one per host, cap entries */
	char (*host)[32];
	size_t n, cap;
	struct sdn_store *st;        /* the bench's own reads */
	char *saved_env;             /* $CLOUDLET_CONTROLLER before, restored */
	bool env_set;
};
int cloud_open(struct cloud *c, const char *cloudlet, const char *dir, unsigned interval_ms, size_t cap,
	       struct cl_error *err);
/* `host add NAME` and its agent. */
int cloud_host_add(struct cloud *c, const char *name, struct cl_error *err);
/* Each host's applied revision (-1: none yet), in c->host order, read
 * through st (a thread's own connection, or c->st); *store_rev: the
 * store's revision (NULL: not wanted). */
int cloud_applied(struct cloud *c, struct sdn_store *st, int64_t *applied, int64_t *store_rev, struct cl_error *err);
/* Until every host has applied the desired revision of now. */
int cloud_settle(struct cloud *c, unsigned timeout_ms, struct cl_error *err);
/* The last lines of host i's agent log, for an error message. */
void cloud_agent_tail(const struct cloud *c, size_t i, char *buf, size_t len);
void cloud_close(struct cloud *c);

#endif
