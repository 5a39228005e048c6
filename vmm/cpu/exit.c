/* Exit decoding: see exit.h. */
#include <string.h>

#include "exit.h"

static bool valid_width(uint32_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

void vcpu_exit_decode(struct kvm_run *run, size_t run_size, struct vcpu_exit *x)
{
	memset(x, 0, sizeof(*x));
	x->code = run->exit_reason;
	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint64_t off = run->io.data_offset;
		uint64_t bytes = (uint64_t)run->io.size * run->io.count;
		x->kind = VEXIT_IO;
		x->addr = run->io.port;
		x->size = run->io.size;
		x->count = run->io.count;
		x->write = run->io.direction == KVM_EXIT_IO_OUT;
		/* the data area is distrusted like any length: inside the mapping */
		if (!valid_width(x->size) || x->size == 8 || !x->count || off > run_size ||
		    bytes > run_size - off) {
			x->kind = VEXIT_BAD;
			return;
		}
		x->data = (uint8_t *)run + off;
		return;
	}
	case KVM_EXIT_MMIO:
		x->kind = VEXIT_MMIO;
		x->addr = run->mmio.phys_addr;
		x->size = run->mmio.len;
		x->count = 1;
		x->write = run->mmio.is_write;
		if (!valid_width(x->size))
			x->kind = VEXIT_BAD;
		x->data = run->mmio.data;
		return;
	case KVM_EXIT_HLT:
		x->kind = VEXIT_HLT;
		return;
	case KVM_EXIT_SHUTDOWN:
		x->kind = VEXIT_SHUTDOWN;
		return;
	case KVM_EXIT_SYSTEM_EVENT:
		x->code = run->system_event.type;
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_RESET:
			x->kind = VEXIT_SYS_RESET;
			return;
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			x->kind = VEXIT_SYS_SHUTDOWN;
			return;
		case KVM_SYSTEM_EVENT_CRASH:
			x->kind = VEXIT_SYS_CRASH;
			return;
		}
		x->kind = VEXIT_UNKNOWN;
		return;
	case KVM_EXIT_INTERNAL_ERROR:
		x->kind = VEXIT_INTERNAL_ERROR;
		x->code = run->internal.suberror;
		return;
	case KVM_EXIT_FAIL_ENTRY:
		x->kind = VEXIT_FAIL_ENTRY;
		x->code = run->fail_entry.hardware_entry_failure_reason;
		return;
	}
	x->kind = VEXIT_UNKNOWN;
}

const char *vcpu_exit_name(enum vcpu_exit_kind kind)
{
	static const char *const names[] = {
		[VEXIT_IO] = "io", [VEXIT_MMIO] = "mmio", [VEXIT_HLT] = "hlt",
		[VEXIT_SHUTDOWN] = "shutdown (triple fault)", [VEXIT_SYS_RESET] = "system reset",
		[VEXIT_SYS_SHUTDOWN] = "system shutdown", [VEXIT_SYS_CRASH] = "system crash",
		[VEXIT_INTERNAL_ERROR] = "internal error", [VEXIT_FAIL_ENTRY] = "entry failure",
		[VEXIT_BAD] = "malformed exit", [VEXIT_UNKNOWN] = "unknown exit",
	};
	return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}
