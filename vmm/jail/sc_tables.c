/* The VMM's seccomp allowlists, one table per thread kind, each syscall
 * with the reason it is there (Firecracker's resources/seccomp/ is the
 * model: about 50 syscalls on its VMM thread, 27 on a vCPU thread). They
 * hold only what runs after setup: each thread installs its table once
 * everything is open, mapped and registered, before the first KVM_RUN, so
 * there is no open*, socket, execve, mmap of a file, clone, epoll_create,
 * eventfd, KVM_CREATE_* or namespace call left to allow. Anything else
 * kills the process (SECCOMP_RET_KILL_PROCESS). ioctl is allowed only
 * with the request numbers of sc_ioctls.c for that thread kind. Sorted by
 * name, one row per syscall (tests/unit/test_vmm_seccomp.c checks it, and
 * that every name resolves on x86-64). README.md explains the list as a
 * whole: which rows a boot + disk + network run never used, and why each
 * is kept. */
#include "cloudlet/vmm.h"

#define ROW(n, why) { #n, CL_SC_ALLOW, 0, 0, NULL, 0, why }
/* ioctl: arg 1 among the thread kind's requests (values filled in by vmm_sc_rules) */
#define IOCTL(why) { "ioctl", CL_SC_ALLOW_IF_EQ, 1, 0, NULL, 0, why }

#define WHY_FUTEX "mutexes shared between the loop and the vCPUs (virtio transport, stop), " \
	"pthread_join, the start gate"

/* The main thread: the event loop (vmm/loop.c) serves the console, the
 * signalfd, --timeout and every virtio queue (disk and network I/O run
 * here, not on a vCPU), then tears the VM down and reports. */
static const struct cl_sc_rule vmm_rules[] = {
	ROW(brk, "malloc/free in the main arena (the stats at the end, teardown) may grow or trim the heap"),
	ROW(close, "teardown: vCPU, VM, device, eventfd, epoll and stats fds once the guest ended"),
	ROW(epoll_ctl, "the loop stops polling a console while the UART's FIFO is full, and resumes"),
	ROW(epoll_wait, "the event loop"),
	ROW(exit_group, "the VMM process ends with the guest's status"),
	ROW(fdatasync, "virtio-blk VIRTIO_BLK_T_FLUSH"),
	ROW(futex, WHY_FUTEX),
	ROW(getpid, "pthread_kill asks for the tgid before kicking a vCPU out of KVM_RUN at the end"),
	ROW(getrandom, "virtio-rng fills the guest's buffers from the host's entropy"),
	IOCTL("KVM_IRQ_LINE: console input raises COM1's interrupt"),
	ROW(munmap, "teardown: the vCPUs' kvm_run areas, guest RAM; free() of large blocks"),
	ROW(pread64, "the vCPUs' KVM binary stats (fds opened at setup) once the guest ended"),
	ROW(preadv, "virtio-blk reads, straight into guest RAM"),
	ROW(pwritev, "virtio-blk writes, straight from guest RAM"),
	ROW(read, "console input, queue-notify eventfds, the signalfd"),
	ROW(readv, "virtio-net receive: frames from the tap into the guest's buffers"),
	ROW(rt_sigprocmask, "vmm_run restores the caller's signal mask when the guest ended"),
	ROW(tgkill, "pthread_kill: SIGRTMIN kicks each vCPU out of KVM_RUN at the end"),
	ROW(write, "eventfds (irqfd interrupts, requeued notifications, stop) and the result "
		   "to the launcher"),
	ROW(writev, "virtio-net transmit: frames from the guest to the tap"),
};

/* A vCPU thread (vmm/vcpu.c): KVM_RUN and what an exit to userspace does
 * there: port and MMIO accesses to the devices (the UART transmits here,
 * virtio registers are written here), the end of the VM. */
static const struct cl_sc_rule vcpu_rules[] = {
	ROW(clock_gettime, "vCPU 0 stamps its first KVM_RUN (boot time) where the vDSO falls back to "
			   "the syscall (no stable TSC)"),
	ROW(exit, "the thread ends (pthread)"),
	ROW(futex, WHY_FUTEX),
	IOCTL("KVM_RUN and the few requests an exit handler makes (sc_ioctls.c)"),
	ROW(madvise, "glibc releases the thread's stack (MADV_DONTNEED) as it exits"),
	ROW(rt_sigprocmask, "glibc blocks signals while the thread exits"),
	ROW(rt_sigreturn, "return from the SIGRTMIN handler that interrupts KVM_RUN"),
	ROW(write, "console output (one write per UART byte), irqfd and queue eventfds, stop"),
};

const struct vmm_sc_table vmm_sc_tables[VMM_THREAD_NKINDS] = {
	[VMM_THREAD_VMM] = { "vmm", "event loop: console, signals, virtio I/O, teardown",
			     vmm_rules, sizeof(vmm_rules) / sizeof(vmm_rules[0]) },
	[VMM_THREAD_VCPU] = { "vcpu", "KVM_RUN and the exits it hands to devices",
			      vcpu_rules, sizeof(vcpu_rules) / sizeof(vcpu_rules[0]) },
};
