/* The test build of cloudlet (build/tests/kvm/cloudlet-test): the same
 * objects, plus this hook over vmm/vm.c's weak no-op. Once the guest's
 * console shows the ready marker, the vCPU thread that printed it makes
 * the syscall named by CLOUDLET_TEST_SYSCALL (e.g. openat), which no
 * allowlist admits after setup: seccomp must kill the VMM and `vm run` must
 * name the syscall (tests/kvm/jail.sh). The release binary has no such
 * path: the variable means nothing to it. */
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

void vmm_test_console_hook(uint8_t byte);

static long forbidden = -1;

/* resolved at start: nothing but the syscall itself happens under the filter */
__attribute__((constructor)) static void hook_init(void)
{
	const char *name = getenv("CLOUDLET_TEST_SYSCALL");
	int nr = name ? seccomp_syscall_resolve_name(name) : __NR_SCMP_ERROR;
	forbidden = nr == __NR_SCMP_ERROR ? -1 : nr;
}

void vmm_test_console_hook(uint8_t byte)
{
	static const char marker[] = "cloudlet-ready";
	static size_t matched;
	static bool done;
	if (forbidden < 0 || done)
		return;
	matched = byte == (uint8_t)marker[matched] ? matched + 1 : byte == (uint8_t)marker[0];
	if (matched == sizeof(marker) - 1) {
		done = true;
		syscall(forbidden, -1L, 0L, 0L, 0L, 0L, 0L);
	}
}
