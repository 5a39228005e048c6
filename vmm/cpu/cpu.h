/* vCPU state at boot: descriptor tables, identity page tables, registers
 * for the two entry protocols, CPUID topology, boot MSRs, LAPIC LINT pins.
 * The builders are pure (unit-tested); cpu_setup_* apply them with ioctls. */
#ifndef VMM_CPU_H
#define VMM_CPU_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "cloudlet/error.h"
#include "../mem.h"

enum cpu_entry_mode {
	CPU_ENTRY_LINUX64,   /* boot.rst "64-bit boot protocol": long mode, paging, rsi = zero page */
	CPU_ENTRY_PVH32,     /* PVH: 32-bit protected mode, no paging, ebx = hvm_start_info */
};

/* GDT slots used at boot (selector = index * 8): boot.rst requires
 * __BOOT_CS = 0x10 and __BOOT_DS = 0x18 for the 64-bit entry */
enum { GDT_NULL, GDT_CODE32, GDT_CODE64, GDT_DATA, GDT_TSS, GDT_NENTRIES };

/* A descriptor from access/flags bits (Intel SDM 3A §3.4.5), e.g. 0xa09b: 64-bit code. */
uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit);
/* The KVM view of the segment a descriptor describes. */
void gdt_segment(uint64_t desc, uint16_t index, struct kvm_segment *seg);
void gdt_build(uint64_t gdt[GDT_NENTRIES]);
/* The boot GDT and empty IDT at LAYOUT_GDT/IDT, and a 4 GiB identity map
 * in 2 MiB pages at LAYOUT_PML4/PDPT/PD. */
int cpu_tables_write(const struct guest_mem *m);
/* sregs/regs for the entry mode, from the current sregs (KVM's reset state). */
void cpu_boot_sregs(struct kvm_sregs *s, enum cpu_entry_mode mode);
void cpu_boot_regs(struct kvm_regs *r, enum cpu_entry_mode mode, uint64_t entry);
/* Per-vCPU CPUID from KVM's supported table: APIC ID `index`, a topology of
 * `ncpus` single-thread cores in one socket, the hypervisor bit. Writes at
 * most `cap` entries into out; -ENOSPC if they do not fit. */
int cpuid_build(const struct kvm_cpuid2 *in, struct kvm_cpuid2 *out, uint32_t cap,
		unsigned index, unsigned ncpus);

int cpu_setup(int vcpu_fd, unsigned index, unsigned ncpus, const struct kvm_cpuid2 *supported,
	      enum cpu_entry_mode mode, uint64_t entry, struct cl_error *err);

#endif
