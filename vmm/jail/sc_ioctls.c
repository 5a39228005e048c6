/* Every ioctl request the VMM makes, with the thread kinds whose seccomp
 * filter admits it after setup (none: made only before the filters are
 * installed). tests/unit/test_vmm_seccomp.c scans vmm/ for ioctl(fd, NAME,
 * ...) and fails on a request this table does not classify, so a new call
 * cannot slip past the filter unnoticed, and runs the compiled filters to
 * check that they admit exactly these. Terminal requests (tcgetattr/
 * tcsetattr) are made by the launcher, which is not filtered: the VMM
 * process needs none. */
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/sockios.h>

#include "cloudlet/vmm.h"

#define VMM (1u << VMM_THREAD_VMM)
#define VCPU (1u << VMM_THREAD_VCPU)
#define SETUP 0u
#define R(req, kinds, why) { #req, (unsigned long)(req), kinds, why }

const struct vmm_ioctl_req vmm_ioctl_reqs[] = {
	/* after setup */
	R(KVM_RUN, VCPU, "enter the guest"),
	R(KVM_IRQ_LINE, VMM | VCPU,
	  "legacy device interrupts: COM1 (console input on the loop, transmit on a vCPU), i8042"),
	R(KVM_GET_REGS, VCPU, "the guest's rip for the message when KVM cannot run it"),
	R(TUNSETOFFLOAD, VCPU, "virtio-net: the offloads the driver accepted, set when it "
	  "writes DRIVER_OK or resets the device (an MMIO write, on a vCPU)"),
	/* setup only: kvm.c */
	R(KVM_GET_API_VERSION, SETUP, "api.rst 4.1"),
	R(KVM_CHECK_EXTENSION, SETUP, "the capabilities the VMM needs"),
	R(KVM_GET_VCPU_MMAP_SIZE, SETUP, "size of kvm_run"),
	R(KVM_CREATE_VM, SETUP, "the VM"),
	R(KVM_SET_TSS_ADDR, SETUP, "Intel's TSS"),
	R(KVM_SET_IDENTITY_MAP_ADDR, SETUP, "Intel's EPT identity map"),
	R(KVM_CREATE_IRQCHIP, SETUP, "in-kernel PIC, IOAPIC, LAPICs"),
	R(KVM_CREATE_PIT2, SETUP, "in-kernel PIT"),
	R(KVM_SET_USER_MEMORY_REGION, SETUP, "guest RAM"),
	R(KVM_IRQFD, SETUP, "virtio interrupts"),
	R(KVM_IOEVENTFD, SETUP, "virtio queue notifications"),
	R(KVM_GET_SUPPORTED_CPUID, SETUP, "CPUID table"),
	R(KVM_CREATE_VCPU, SETUP, "vCPUs"),
	R(KVM_GET_STATS_FD, SETUP, "binary stats, read (pread64) at the end"),
	/* setup only: cpu/ */
	R(KVM_SET_CPUID2, SETUP, "CPUID per vCPU"),
	R(KVM_SET_SREGS, SETUP, "boot state"),
	R(KVM_GET_SREGS, SETUP, "boot state"),
	R(KVM_SET_REGS, SETUP, "boot state"),
	R(KVM_SET_FPU, SETUP, "boot state"),
	R(KVM_SET_MSRS, SETUP, "boot MSRs"),
	R(KVM_GET_LAPIC, SETUP, "LINT0/LINT1"),
	R(KVM_SET_LAPIC, SETUP, "LINT0/LINT1"),
	/* setup only: devices/virtio_net.c, in the launcher (which also makes
	 * net/tap.c's TUNSETIFF, and net_attach's for a VPC NIC) */
	R(TUNSETVNETHDRSZ, SETUP, "12-byte virtio_net_hdr"),
	R(SIOCGIFFLAGS, SETUP, "bring a created tap up"),
	R(SIOCSIFFLAGS, SETUP, "bring a created tap up"),
};
const size_t vmm_ioctl_reqs_count = sizeof(vmm_ioctl_reqs) / sizeof(vmm_ioctl_reqs[0]);
