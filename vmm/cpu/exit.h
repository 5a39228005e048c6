/* Decoding KVM_RUN's exit (api.rst §5 "The kvm_run structure") as a pure
 * function, so that every exit the vCPU loop acts on is unit-tested with
 * made-up kvm_run contents (Firecracker's handle_kvm_exit, the anchor). */
#ifndef VMM_CPU_EXIT_H
#define VMM_CPU_EXIT_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vcpu_exit_kind {
	VEXIT_IO,             /* port I/O: addr = port */
	VEXIT_MMIO,           /* addr = guest-physical address */
	VEXIT_HLT,
	VEXIT_SHUTDOWN,       /* triple fault */
	VEXIT_SYS_RESET,      /* KVM_SYSTEM_EVENT_RESET */
	VEXIT_SYS_SHUTDOWN,   /* KVM_SYSTEM_EVENT_SHUTDOWN */
	VEXIT_SYS_CRASH,      /* KVM_SYSTEM_EVENT_CRASH */
	VEXIT_INTERNAL_ERROR, /* code = suberror (1: emulation failure) */
	VEXIT_FAIL_ENTRY,     /* code = hardware_entry_failure_reason */
	VEXIT_BAD,            /* the kernel's own fields are inconsistent */
	VEXIT_UNKNOWN,        /* code = exit_reason */
};

struct vcpu_exit {
	enum vcpu_exit_kind kind;
	uint64_t addr;
	uint32_t size;        /* bytes per access: 1, 2, 4 or 8 */
	uint32_t count;       /* IO: repetitions (rep ins/outs); MMIO: 1 */
	bool write;
	uint8_t *data;        /* size * count bytes inside kvm_run */
	uint64_t code;
};

/* run_size is the mmap size of kvm_run: I/O data must lie inside it. */
void vcpu_exit_decode(struct kvm_run *run, size_t run_size, struct vcpu_exit *x);
const char *vcpu_exit_name(enum vcpu_exit_kind kind);

#endif
