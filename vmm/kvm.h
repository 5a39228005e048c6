/* Thin wrappers over the KVM API (Documentation/virt/kvm/api.rst): each
 * returns 0 or -errno with a message naming the ioctl. */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <linux/kvm.h>
#include <stdint.h>

#include "cloudlet/error.h"

struct kvm {
	int sys_fd;          /* /dev/kvm */
	int vm_fd;
	int run_size;        /* KVM_GET_VCPU_MMAP_SIZE */
	int max_vcpus;
	int nslots;
};

/* Open /dev/kvm (dev), with a message that says what to do without KVM. */
int kvm_open(const char *dev, int *fd, struct cl_error *err);
/* On /dev/kvm's fd (owned from now on, closed by kvm_vm_destroy; dev names
 * it in messages): check API version 12 and the capabilities the VMM
 * needs, create the VM; with KVM_VM_IRQCHIP also its in-kernel irqchip
 * (PIC+IOAPIC+LAPIC) and PIT, as every real guest needs. Without it HLT
 * exits to userspace (KVM_EXIT_HLT), which the smoke test relies on. */
#define KVM_VM_IRQCHIP 1u
int kvm_vm_create(struct kvm *k, int sys_fd, const char *dev, unsigned flags,
		  struct cl_error *err);
void kvm_vm_destroy(struct kvm *k);
int kvm_add_memory(struct kvm *k, uint64_t gpa, uint64_t size, void *host,
		   struct cl_error *err);
int kvm_irq_line(struct kvm *k, uint32_t irq, int level);
/* api.rst 4.75 KVM_IRQFD: a write to eventfd fd pulses GSI gsi (an edge). */
int kvm_irqfd(struct kvm *k, int fd, uint32_t gsi, struct cl_error *err);
/* api.rst 4.59 KVM_IOEVENTFD: a guest write of `datamatch` (len bytes) to
 * MMIO address addr signals fd inside KVM, without an exit to userspace. */
int kvm_ioeventfd(struct kvm *k, int fd, uint64_t addr, uint32_t len, uint64_t datamatch,
		  struct cl_error *err);
/* KVM_GET_SUPPORTED_CPUID into a malloc'd table (free it). */
int kvm_supported_cpuid(struct kvm *k, struct kvm_cpuid2 **out, struct cl_error *err);

struct kvm_vcpu_fd {
	int fd;
	struct kvm_run *run;
	int run_size;
	int stats_fd;        /* KVM_GET_STATS_FD, -1: none */
};
int kvm_vcpu_create(struct kvm *k, unsigned id, struct kvm_vcpu_fd *v, struct cl_error *err);
void kvm_vcpu_destroy(struct kvm_vcpu_fd *v);
/* One cumulative counter from a vCPU's binary stats (its stats_fd,
 * KVM_GET_STATS_FD, api.rst 4.133), e.g. "exits": every exit, including
 * those KVM handles itself. -ENOTSUP where the kernel has no binary stats
 * (stats_fd -1), -ENOENT if absent. */
int kvm_vcpu_stat(int stats_fd, const char *name, uint64_t *value);
/* Every single-valued counter of a vCPU's binary stats, in KVM's order. */
int kvm_vcpu_stats_each(int stats_fd, void (*fn)(void *ctx, const char *name, uint64_t value),
			void *ctx);

#endif
