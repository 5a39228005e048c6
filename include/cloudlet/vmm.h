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

#include "cloudlet/error.h"

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
	bool has_fd;                /* the tap is open already (a VPC attachment's): */
	int fd;                     /* used through a dup, never closed by the VMM */
};

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
};

struct vmm_result {
	int status;                 /* enum vmm_exit */
	char reason[256];           /* one line, e.g. "guest kernel panicked (pvpanic)" */
	uint64_t exits_io, exits_mmio, exits_other;   /* exits seen by the VMM */
	uint64_t kvm_exits;         /* all exits, KVM's own count (0: not available) */
	struct {                    /* KVM's vCPU counters summed over vCPUs (binary stats) */
		char name[48];
		uint64_t value;
	} kvm_stats[96];
	unsigned nkvm_stats;
	uint64_t boot_ns;           /* from vmm_run's start to the first vCPU entering the guest */
};

/* Boot and run the guest until it ends. Returns 0 with *res filled when the
 * guest ran (whatever its ending), or -errno with *err when the VM could not
 * be started (bad kernel, no KVM, ...); nothing is left behind either way. */
int vmm_run(const struct vmm_config *cfg, struct vmm_result *res, struct cl_error *err);

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

#endif
