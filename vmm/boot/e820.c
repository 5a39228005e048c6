/* The guest's e820 memory map, shared by the zero page and PVH start info. */
#include <errno.h>

#include "kernel.h"

int e820_build(const struct guest_mem *m, struct e820_entry *tab, int max)
{
	struct e820_entry e[3 + 2 * (int)(sizeof(m->regions) / sizeof(m->regions[0]))];
	int n = 0;
	uint64_t low = gmem_low_end(m);

	/* conventional memory up to the EBDA; the EBDA and the BIOS area at
	 * 0xE0000 (where the RSDP is, ACPI §5.2.5.1) stay reserved so the
	 * kernel neither allocates nor clobbers them. 0xA0000-0xE0000 is the
	 * VGA/option-ROM hole, which Linux reserves on its own. */
	e[n++] = (struct e820_entry){ 0, low < LAYOUT_EBDA ? low : LAYOUT_EBDA, E820_RAM };
	e[n++] = (struct e820_entry){ LAYOUT_EBDA, LAYOUT_LOW_END - LAYOUT_EBDA, E820_RESERVED };
	e[n++] = (struct e820_entry){ LAYOUT_ACPI, LAYOUT_ACPI_END - LAYOUT_ACPI, E820_RESERVED };
	if (low > LAYOUT_HIGH_MEM)
		e[n++] = (struct e820_entry){ LAYOUT_HIGH_MEM, low - LAYOUT_HIGH_MEM, E820_RAM };
	/* RAM past the MMIO window continues at 4 GiB (mem.h) */
	for (int i = 1; i < m->nregions && i < (int)(sizeof(m->regions) / sizeof(m->regions[0])); i++)
		if (m->regions[i].size)
			e[n++] = (struct e820_entry){ m->regions[i].gpa, m->regions[i].size, E820_RAM };
	if (n > max)
		return -ENOSPC;
	for (int i = 0; i < n; i++)
		tab[i] = e[i];
	return n;
}
