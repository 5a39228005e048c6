/* Apply the boot CPU state to one vCPU (ioctls; the values come from the
 * pure builders in regs.c and cpuid.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "cpu.h"

/* MSRs a 64-bit Linux guest expects initialised (syscall entry, TSC, fast
 * strings, MTRRs on with write-back default) — the set Firecracker's
 * arch/x86_64/msr.rs create_boot_msr_entries() uses. */
#define MSR_IA32_TSC            0x010
#define MSR_IA32_SYSENTER_CS    0x174
#define MSR_IA32_SYSENTER_ESP   0x175
#define MSR_IA32_SYSENTER_EIP   0x176
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_MTRR_DEF_TYPE       0x2ff
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_SYSCALL_MASK        0xc0000084
#define MSR_KERNEL_GS_BASE      0xc0000102
#define MISC_ENABLE_FAST_STRING (1ULL << 0)
#define MTRR_ENABLE             (1ULL << 11)
#define MTRR_TYPE_WRBACK        6ULL

static const struct { uint32_t index; uint64_t value; } boot_msrs[] = {
	{ MSR_IA32_SYSENTER_CS, 0 },   { MSR_IA32_SYSENTER_ESP, 0 },
	{ MSR_IA32_SYSENTER_EIP, 0 },  { MSR_STAR, 0 },
	{ MSR_CSTAR, 0 },              { MSR_KERNEL_GS_BASE, 0 },
	{ MSR_SYSCALL_MASK, 0 },       { MSR_LSTAR, 0 },
	{ MSR_IA32_TSC, 0 },
	{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
	{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_TYPE_WRBACK },
};
#define NBOOT_MSRS (sizeof(boot_msrs) / sizeof(boot_msrs[0]))

/* LAPIC register offsets and LVT delivery modes (SDM 3A §10.5.1) */
#define APIC_LVT_LINT0   0x350
#define APIC_LVT_LINT1   0x360
#define APIC_MODE_NMI    0x4
#define APIC_MODE_EXTINT 0x7

static void lapic_set_mode(struct kvm_lapic_state *l, int reg, uint32_t mode)
{
	uint32_t v;
	memcpy(&v, l->regs + reg, sizeof(v));
	v = (v & ~0x700u) | (mode << 8);
	memcpy(l->regs + reg, &v, sizeof(v));
}

static int setup_msrs(int fd, struct cl_error *err)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[NBOOT_MSRS];
	} msrs;
	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = NBOOT_MSRS;
	for (size_t i = 0; i < NBOOT_MSRS; i++) {
		msrs.e[i].index = boot_msrs[i].index;
		msrs.e[i].data = boot_msrs[i].value;
	}
	int n = ioctl(fd, KVM_SET_MSRS, &msrs);
	if (n < 0)
		return cl_err_sys(err, errno, "KVM_SET_MSRS");
	if ((size_t)n < NBOOT_MSRS)   /* api.rst: returns how many were set */
		return cl_err(err, EINVAL, "KVM_SET_MSRS: MSR %#x refused", boot_msrs[n].index);
	return 0;
}

int cpu_setup(int fd, unsigned index, unsigned ncpus, const struct kvm_cpuid2 *supported,
	      enum cpu_entry_mode mode, uint64_t entry, struct cl_error *err)
{
	uint32_t cap = supported->nent + 8;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + cap * sizeof(c->entries[0]));
	if (!c)
		return cl_err(err, ENOMEM, "out of memory");
	if (cpuid_build(supported, c, cap, index, ncpus) < 0) {
		free(c);
		return cl_err(err, ENOSPC, "vCPU %u: CPUID table too large", index);
	}
	int r = ioctl(fd, KVM_SET_CPUID2, c);
	free(c);
	if (r < 0)
		return cl_err_sys(err, errno, "vCPU %u: KVM_SET_CPUID2", index);
	if ((r = setup_msrs(fd, err)) < 0)
		return cl_err_wrap(err, "vCPU %u", index);

	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };  /* FNINIT / SSE reset values */
	if (ioctl(fd, KVM_SET_FPU, &fpu) < 0)
		return cl_err_sys(err, errno, "vCPU %u: KVM_SET_FPU", index);

	/* LINT0 as ExtINT lets the 8259 PIC reach the BSP before the guest
	 * programs its IOAPIC; LINT1 carries NMI (MP spec §B.3, virtual wire) */
	struct kvm_lapic_state lapic;
	if (ioctl(fd, KVM_GET_LAPIC, &lapic) < 0)
		return cl_err_sys(err, errno, "vCPU %u: KVM_GET_LAPIC", index);
	lapic_set_mode(&lapic, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	lapic_set_mode(&lapic, APIC_LVT_LINT1, APIC_MODE_NMI);
	if (ioctl(fd, KVM_SET_LAPIC, &lapic) < 0)
		return cl_err_sys(err, errno, "vCPU %u: KVM_SET_LAPIC", index);

	/* application processors wait for INIT/SIPI from the guest (in-kernel
	 * LAPIC); only the bootstrap processor starts at the kernel's entry */
	if (index != 0)
		return 0;
	struct kvm_sregs sregs;
	if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0)
		return cl_err_sys(err, errno, "KVM_GET_SREGS");
	cpu_boot_sregs(&sregs, mode);
	if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0)
		return cl_err_sys(err, errno, "KVM_SET_SREGS");
	struct kvm_regs regs;
	cpu_boot_regs(&regs, mode, entry);
	if (ioctl(fd, KVM_SET_REGS, &regs) < 0)
		return cl_err_sys(err, errno, "KVM_SET_REGS");
	return 0;
}
