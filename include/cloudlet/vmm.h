/* libvmm: a KVM micro-VMM. One process per VM, one thread per vCPU, the
 * calling thread runs the device event loop (console, signals, timeout).
 *
 *   struct vmm_config c = { .kernel = "bzImage", .mem_size = 256 << 20, .ncpus = 1,
 *                           .console_in = 0, .console_out = 1 };
 *   struct vmm_result r;
 *   if (vmm_run(&c, &r, &err) < 0) ...   // could not start: err says why
 *   exit(r.status);                       // VMM_EXIT_*: how the guest ended
 */
#ifndef CLOUDLET_VMM_H
#define CLOUDLET_VMM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cloudlet/error.h"
#include "cloudlet/seccomp.h"

#define VMM_DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=-1 pci=off"
#define VMM_DEFAULT_MEM     (256ULL << 20)
#define VMM_MIN_MEM         (16ULL << 20)
#define VMM_MAX_CPUS        255   /* xAPIC IDs in the MADT are 8-bit; 255 is broadcast-free */

/* How the guest ended: vmm_result.status, and `cloudlet vm run`'s exit status. */
enum vmm_exit {
	VMM_EXIT_OK = 0,            /* the guest rebooted (i8042 / ACPI reset) or powered off */
	VMM_EXIT_PANIC = 10,        /* the guest kernel panicked (pvpanic) */
	VMM_EXIT_TRIPLE_FAULT = 11, /* KVM_EXIT_SHUTDOWN */
	VMM_EXIT_KVM_ERROR = 12,    /* KVM could not run the guest (internal error, entry failure) */
	VMM_EXIT_TIMEOUT = 124,     /* --timeout expired (as timeout(1)) */
	VMM_EXIT_SIGNAL = 128,      /* + signal number: stopped by SIGINT/SIGTERM/SIGHUP */
};

/* virtio devices (virtio-mmio, described to the guest in the ACPI DSDT) */
#define VMM_MAX_DISKS 8
#define VMM_MAX_NETS  8
struct vmm_disk {                   /* --disk PATH[,ro]: virtio-blk on a raw file */
	const char *path;
	int ro;                     /* read-only: writes fail with VIRTIO_BLK_S_IOERR */
};
struct vmm_net {                    /* --net tap=NAME | VPC/SUBNET: virtio-net on a tap */
	const char *tap;            /* created (and removed at exit) if absent */
	const char *vpc;            /* else "VPC/SUBNET": a tap of the VPC (net_attach) */
	uint8_t mac[6];             /* the guest's MAC */
	unsigned mtu;               /* offered to the guest (VIRTIO_NET_F_MTU); 0: none */
	bool has_fd;                /* the tap is open already (a VPC attachment's): */
	int fd;                     /* used through a dup, never closed by the VMM */
};

/* Seccomp on the VMM's threads (vmm/jail/): each thread installs its kind's
 * allowlist after setup, before the first KVM_RUN. */
enum vmm_seccomp {
	VMM_SECCOMP_KILL = 0,       /* default: anything else kills the VMM (SECCOMP_RET_KILL_PROCESS) */
	VMM_SECCOMP_LOG,            /* --seccomp=log: anything else is allowed and logged (SECCOMP_RET_LOG) */
	VMM_SECCOMP_OFF,            /* --seccomp=off: no filter */
};
/* "kill", "log" or "off" */
int vmm_seccomp_parse(const char *s, enum vmm_seccomp *mode, struct cl_error *err);

struct vmm_config {
	const char *kernel;         /* bzImage or ELF vmlinux with a PVH note */
	const char *initrd;         /* NULL: none */
	const char *cmdline;        /* NULL: VMM_DEFAULT_CMDLINE */
	uint64_t mem_size;          /* bytes */
	unsigned ncpus;
	uint64_t timeout_ms;        /* 0: none */
	int console_in;             /* guest serial input from this fd, -1: none */
	int console_out;            /* guest serial output to this fd, -1: discarded */
	const char *kvm_dev;        /* NULL: /dev/kvm */
	const struct vmm_disk *disks;   /* /dev/vda, vdb, ... in this order */
	unsigned ndisks;                /* <= VMM_MAX_DISKS */
	const struct vmm_net *nets;     /* eth0, eth1, ... */
	unsigned nnets;                 /* <= VMM_MAX_NETS */
	int rng;                        /* a virtio-rng device (entropy from getrandom) */
	const char *root;               /* state directory (VPC records, leases) */
	const char *name;               /* the VM's name on its VPC attachments (NULL: vm-PID) */
	const char *const *sgs;         /* security groups of its VPC NICs (none: "default") */
	unsigned nsgs;
	const char *host;               /* net/sdn/: the overlay host of its VPC NICs (NULL: here) */
	uint32_t rate_mbit;             /* net/sdn/: limit traffic to each VPC NIC (0: none) */
	enum vmm_seccomp seccomp;
};

struct vmm_result {
	int status;                 /* enum vmm_exit */
	char reason[256];           /* one line, e.g. "guest kernel panicked (pvpanic)" */
	uint64_t exits_io, exits_mmio, exits_other;   /* exits seen by the VMM */
	uint64_t kvm_exits;         /* all exits, KVM's own count (0: not available) */
	unsigned ndevices;          /* emulated devices: ranges on the PIO and MMIO buses */
	struct {                    /* KVM's vCPU counters summed over vCPUs (binary stats) */
		char name[48];
		uint64_t value;
	} kvm_stats[96];
	unsigned nkvm_stats;
	uint64_t boot_ns;           /* from vmm_run's start to the first vCPU entering the guest */
	/* vmm_launch: syscalls outside a thread's allowlist, from the kernel's
	 * audit records (the one that killed the VMM, or --seccomp=log's) */
	struct vmm_sc_event {
		char thread[16];    /* cl-vmm, cl-vcpuN */
		char syscall[32];   /* name, or "#NR" */
		long nr;
		unsigned count;
	} sc_events[16];
	unsigned nsc_events;
};

/* Boot and run the guest until it ends, in this process. Returns 0 with
 * *res filled when the guest ran (whatever its ending), or -errno with *err
 * when the VM could not be started (bad kernel, no KVM, ...); nothing is
 * left behind either way. The calling thread stays under the VMM thread's
 * seccomp filter afterwards (unless cfg->seccomp is VMM_SECCOMP_OFF): the
 * process should end then, as vmm_launch's VMM process does. The terminal
 * is left as it is (vmm_launch puts it in raw mode). */
int vmm_run(const struct vmm_config *cfg, struct vmm_result *res, struct cl_error *err);

/* The jailed launch (vmm/jail/launch.c, after Firecracker's jailer): the
 * VMM runs in a process of its own, in new mount, pid, ipc, uts, net and
 * cgroup namespaces, pivot_root'ed into an empty per-VM directory under
 * `base`, as uid:gid with no capability, no_new_privs, rlimits and a cgroup
 * (memory = guest RAM + VMM_JAIL_MEM_OVERHEAD, pids = the VMM's threads),
 * everything removed when it ends. */
#define VMM_JAIL_BASE "/run/cloudlet/jail"
/* The default uid and gid: the top of Debian's reserved range 65000-65533,
 * which no package or account uses (unlike nobody, 65534, whose other
 * processes could signal the VMM). */
#define VMM_JAIL_ID 65533u
/* The VMM's own memory beyond guest RAM that its cgroup allows: KVM's page
 * tables and vCPU state, the kernel image while it is loaded, the virtio
 * buffers, the page cache of disk I/O, stacks and heap. A 256 MiB guest
 * with disk and network that touches ~240 MiB of its RAM peaks at 251 MiB
 * (README.md): the budget leaves room for page cache and bigger guests. */
#define VMM_JAIL_MEM_OVERHEAD (64ull << 20)
#define VMM_JAIL_CG_PARENT "cloudlet-vm"   /* the VMs' cgroups: PARENT/vm-XXXXXX */

struct vmm_jail {
	bool enabled;               /* false (--no-jail): own process and seccomp only */
	uid_t uid;                  /* not 0 */
	gid_t gid;
	const char *base;           /* NULL: VMM_JAIL_BASE */
};

/* Run the VM in a VMM process of its own (jailed as *jail says) and wait
 * for it; the terminal is in raw mode meanwhile, SIGINT/SIGTERM/SIGHUP are
 * passed on to the VMM, and when seccomp kills it res->status is 128+SIGSYS
 * and res->reason names the syscall. Returns as vmm_run does. One launch
 * per process: the launcher's new children go to a new pid namespace. */
int vmm_launch(const struct vmm_config *cfg, const struct vmm_jail *jail,
	       struct vmm_result *res, struct cl_error *err);

/* Pure: "PATH" or "PATH,ro" (the path is d->path, pointing into a copy
 * the caller frees: *buf). */
int vmm_disk_parse(const char *spec, struct vmm_disk *d, char **buf, struct cl_error *err);
/* Pure: "tap=NAME" (NAME: 1..15 characters, no '/', no whitespace) or
 * "VPC/SUBNET". */
int vmm_net_parse(const char *spec, struct vmm_net *n, char **buf, struct cl_error *err);

/* Pure: validate the sizes and counts of a config (mem within [VMM_MIN_MEM,
 * host_ram], 1 <= ncpus <= max_cpus). */
int vmm_config_check(const struct vmm_config *cfg, uint64_t host_ram, unsigned max_cpus,
		     struct cl_error *err);

/* ---- the sandbox's data (vmm/jail/), for `cloudlet vm seccomp-profile` and tests ---- */

enum vmm_thread_kind { VMM_THREAD_VMM, VMM_THREAD_VCPU, VMM_THREAD_NKINDS };
struct vmm_sc_table {
	const char *kind;               /* "vmm", "vcpu": the threads' names start with cl-KIND */
	const char *what;
	const struct cl_sc_rule *rules; /* sorted, one row per syscall; ioctl's requests are
	                                   vmm_ioctl_reqs' for this kind */
	size_t n;
};
extern const struct vmm_sc_table vmm_sc_tables[VMM_THREAD_NKINDS];

struct vmm_ioctl_req {
	const char *name;
	unsigned long req;
	unsigned kinds;                 /* bit per enum vmm_thread_kind; 0: setup only */
	const char *why;
};
extern const struct vmm_ioctl_req vmm_ioctl_reqs[];
extern const size_t vmm_ioctl_reqs_count;

/* A kind's rows, ioctl's values (the requests, into vals[max_vals]) filled
 * in: what the filter is built from. Returns the row count. */
int vmm_sc_rules(enum vmm_thread_kind kind, struct cl_sc_rule *out, size_t max,
		 uint64_t *vals, size_t max_vals);

#endif
