/* Xen PVH start of day: struct hvm_start_info (version 1), its memory map
 * and module list, in the PVH page at LAYOUT_PVH_INFO. The kernel finds
 * the structure through EBX (docs/misc/pvh.pandoc). */
#include <errno.h>
#include <string.h>

#include "kernel.h"

int pvh_start_info_write(const struct boot_setup *bs, const struct e820_entry *e820, int n,
			 const struct guest_mem *m, struct cl_error *err)
{
	struct hvm_start_info si;
	struct hvm_memmap_table_entry mm[BOOT_E820_MAX];

	if (n < 0 || n > BOOT_E820_MAX)
		return cl_err(err, ENOSPC, "boot: %d e820 entries, the PVH page holds %d", n, BOOT_E820_MAX);
	memset(&si, 0, sizeof(si));
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < n; i++) {
		mm[i].addr = e820[i].addr;
		mm[i].size = e820[i].size;
		mm[i].type = e820[i].type;   /* XEN_HVM_MEMMAP_TYPE_* are the E820 types */
	}
	si.magic = XEN_HVM_START_MAGIC_VALUE;
	si.version = 1;   /* version 0 has no memmap, and Linux's PVH path then BUG()s off Xen */
	si.cmdline_paddr = LAYOUT_CMDLINE;
	si.rsdp_paddr = bs->rsdp_gpa;
	si.memmap_paddr = BOOT_PVH_MEMMAP;
	si.memmap_entries = (uint32_t)n;
	if (bs->initrd_size) {
		/* Linux takes the first module as the initrd */
		struct hvm_modlist_entry mod = { .paddr = bs->initrd_gpa, .size = bs->initrd_size };
		si.nr_modules = 1;
		si.modlist_paddr = BOOT_PVH_MODLIST;
		if (gmem_write(m, BOOT_PVH_MODLIST, &mod, sizeof(mod)) < 0)
			goto nomem;
	}
	if (gmem_write(m, BOOT_PVH_MEMMAP, mm, (uint64_t)n * sizeof(mm[0])) < 0 ||
	    gmem_write(m, LAYOUT_PVH_INFO, &si, sizeof(si)) < 0)
		goto nomem;
	return 0;
nomem:
	return cl_err(err, ENOSPC, "boot: PVH start info at 0x%llx is not in guest RAM",
		      (unsigned long long)LAYOUT_PVH_INFO);
}
