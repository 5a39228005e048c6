/* `cloudlet bench vm-jail`'s second table: the syscalls each VMM thread
 * kind may make after setup, next to Firecracker's. */
#include <stdio.h>

#include "cli.h"
#include "cloudlet/vmm.h"

/* Firecracker's allowlists, x86_64: the figures its documentation and this
 * issue quote, and a count of distinct syscalls in
 * resources/seccomp/x86_64-unknown-linux-musl.json at 01a3b57 */
static const struct {
	const char *kind;
	const char *published;
	int at_01a3b57;
} firecracker[VMM_THREAD_NKINDS] = {
	[VMM_THREAD_VMM] = { "vmm", "~50", 38 },
	[VMM_THREAD_VCPU] = { "vcpu", "~27", 21 },
};

void bench_jail_surface(FILE *out)
{
	fprintf(out, "\nvm-jail: syscalls a thread may make after setup (cloudlet vm seccomp-profile)\n");
	fprintf(out, "%-8s %9s %22s %24s\n", "thread", "cloudlet", "Firecracker published",
		"Firecracker 01a3b57 json");
	for (int k = 0; k < VMM_THREAD_NKINDS; k++)
		fprintf(out, "%-8s %9zu %22s %24d\n", vmm_sc_tables[k].kind, vmm_sc_tables[k].n,
			firecracker[k].published, firecracker[k].at_01a3b57);
}
