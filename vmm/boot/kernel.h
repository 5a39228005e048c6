/* Guest kernel loading: identify a Linux bzImage or a PVH-capable ELF
 * vmlinux by its contents, copy it into guest RAM, place the initrd and
 * write the boot structures the kernel reads at entry.
 *
 * Sources: Documentation/arch/x86/boot.rst (the boot protocol, "64-bit
 * Boot Protocol"), Documentation/arch/x86/zero-page.rst, Xen's PVH ABI
 * (docs/misc/pvh.pandoc, xen/include/public/arch-x86/hvm/start_info.h).
 *
 * Entry state the vCPU setup must provide (the VMM core's job):
 *  - KERNEL_BZIMAGE (boot.rst "64-bit Boot Protocol"): long mode, paging on
 *    with [load_addr, kernel_end), the zero page and the command line
 *    identity-mapped; a GDT with flat 4 GiB __BOOT_CS (selector 0x10,
 *    execute/read) and __BOOT_DS (0x18, read/write); CS = 0x10, DS = ES =
 *    SS = 0x18; interrupts off; RSI = LAYOUT_ZERO_PAGE; RIP = ki->entry.
 *  - KERNEL_ELF_PVH (pvh.pandoc): 32-bit protected mode, paging off;
 *    CR0 = PE only, CR4 = 0; CS flat 32-bit execute/read, DS/ES/SS flat
 *    32-bit read/write (base 0, limit 0xFFFFFFFF, selectors unspecified);
 *    TR a 32-bit busy TSS with base 0 and limit 0x67; EFLAGS with VM, IF and
 *    TF clear; EBX = LAYOUT_PVH_INFO; EIP = ki->entry.
 * Both kernels build their own page tables and GDT early; the VMM's only
 * have to last until then. */
#ifndef VMM_BOOT_KERNEL_H
#define VMM_BOOT_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "cloudlet/error.h"
#include "../layout.h"
#include "../mem.h"

enum kernel_format { KERNEL_BZIMAGE = 1, KERNEL_ELF_PVH = 2 };

struct kernel_info {
	enum kernel_format format;
	uint64_t entry;          /* bzImage: 64-bit entry = load_addr + 0x200; ELF: the PVH 32-bit entry */
	uint64_t load_addr;      /* lowest guest-physical address of the loaded kernel */
	uint64_t kernel_end;     /* first byte after the loaded kernel incl. bzImage init_size */
	uint32_t cmdline_max;    /* longest command line accepted, excluding the NUL */
	uint64_t initrd_max;     /* highest address (inclusive) an initrd byte may occupy */
	uint16_t protocol;       /* bzImage boot protocol version (0x20f...), 0 for ELF */

	/* bzImage only */
	uint32_t setup_size;     /* (setup_sects + 1) * 512: the real-mode part, not loaded */
	uint64_t pm_offset;      /* protected-mode kernel: file offset (== setup_size) ... */
	uint64_t pm_size;        /* ... and length (syssize * 16); copied to load_addr */
	uint64_t runtime_start;  /* where the kernel decompresses itself and runs (boot.rst, init_size) */
	uint32_t init_size;      /* memory the kernel needs from runtime_start before it reads e820 */
	uint32_t kernel_alignment;
	uint16_t xloadflags;
	uint16_t hdr_end;        /* end of the setup header in the image: 0x202 + byte at 0x201 */
	uint8_t relocatable;     /* relocatable_kernel */

	/* ELF only: the program headers, re-read (and re-checked) by kernel_load */
	uint64_t phoff;
	uint16_t phnum;
	uint16_t nload;          /* PT_LOAD segments with memsz > 0 */
};

/* Pure: identify and validate the image by its contents, never its name. */
int kernel_probe(const uint8_t *img, size_t len, struct kernel_info *ki, struct cl_error *err);
/* Copy the kernel into guest RAM at its load address(es); -ENOSPC naming the
 * sizes when the RAM below the MMIO window cannot hold [load_addr, kernel_end). */
int kernel_load(const uint8_t *img, size_t len, const struct kernel_info *ki,
		const struct guest_mem *m, struct cl_error *err);
/* Choose where the initrd goes: the highest page-aligned address such that
 * it lies above kernel_end, wholly within low RAM (gmem_low_end) and at or
 * below initrd_max; -ENOSPC naming the sizes if it does not fit, -EINVAL
 * for an empty initrd. */
int initrd_place(const struct kernel_info *ki, const struct guest_mem *m,
		 uint64_t initrd_size, uint64_t *gpa, struct cl_error *err);

struct boot_setup {
	const char *cmdline;                /* NULL: empty */
	uint64_t initrd_gpa, initrd_size;   /* 0, 0: none */
	uint64_t rsdp_gpa;                  /* ACPI RSDP address (0: none) */
};
/* Write the command line at LAYOUT_CMDLINE (-E2BIG if longer than
 * cmdline_max) and the boot structures: bzImage -> struct boot_params at
 * LAYOUT_ZERO_PAGE; ELF/PVH -> struct hvm_start_info at LAYOUT_PVH_INFO,
 * its memory map at BOOT_PVH_MEMMAP and module list at BOOT_PVH_MODLIST.
 * img/len must be the probed image (the bzImage setup header is copied
 * from it). */
int boot_params_write(const uint8_t *img, size_t len, const struct kernel_info *ki,
		      const struct boot_setup *bs, const struct guest_mem *m,
		      struct cl_error *err);

/* E820 address range types (ACPI "System Address Map Interfaces") */
#define E820_RAM       1
#define E820_RESERVED  2
/* the zero page holds at most this many entries (E820_MAX_ENTRIES_ZEROPAGE) */
#define BOOT_E820_MAX  128

struct e820_entry { uint64_t addr, size; uint32_t type; };
/* Pure: the e820 map for this guest memory: RAM [0, LAYOUT_EBDA), reserved
 * EBDA..0xA0000, reserved 0xE0000-0xFFFFF, RAM [1 MiB, low end), RAM above
 * 4 GiB if any; returns the entry count or -ENOSPC if max is too small. */
int e820_build(const struct guest_mem *m, struct e820_entry *tab, int max);

/* ---- PVH (Xen x86/HVM direct boot ABI) ----
 * Layouts from xen/include/public/arch-x86/hvm/start_info.h (version 1);
 * defined here because no system header ships them. All fields little-endian. */
#define XEN_HVM_START_MAGIC_VALUE  0x336ec578u   /* "xEn3" with 0x80 set in the "E" */
#define XEN_ELFNOTE_PHYS32_ENTRY   18            /* xen/include/public/elfnote.h */

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;          /* 1: memmap_paddr/memmap_entries present */
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;    /* array of struct hvm_modlist_entry */
	uint64_t cmdline_paddr;    /* NUL-terminated */
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;     /* array of struct hvm_memmap_table_entry */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;             /* E820 types */
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "start_info.h: 56 bytes in version 1");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "start_info.h: 32-byte module entries");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "start_info.h: 24-byte memmap entries");

/* The PVH page (LAYOUT_PVH_INFO .. LAYOUT_ZERO_PAGE): start_info, then the
 * memory map (room for BOOT_E820_MAX entries), then the module list. */
#define BOOT_PVH_MEMMAP   (LAYOUT_PVH_INFO + 0x40)
#define BOOT_PVH_MODLIST  (BOOT_PVH_MEMMAP + BOOT_E820_MAX * 24)
_Static_assert(BOOT_PVH_MODLIST + 32 <= LAYOUT_ZERO_PAGE, "PVH page overflows into the zero page");

/* PVH kernels take COMMAND_LINE_SIZE (2048 on x86) including the NUL */
#define KERNEL_ELF_CMDLINE_MAX  2047u

/* ---- back ends, internal to vmm/boot ---- */
int bzimage_probe(const uint8_t *img, size_t len, struct kernel_info *ki, struct cl_error *err);
int bzimage_load(const uint8_t *img, size_t len, const struct kernel_info *ki,
		 const struct guest_mem *m, struct cl_error *err);
/* struct boot_params at LAYOUT_ZERO_PAGE; the command line is already in place */
int bzimage_zero_page(const uint8_t *img, size_t len, const struct kernel_info *ki,
		      const struct boot_setup *bs, const struct e820_entry *e820, int n,
		      const struct guest_mem *m, struct cl_error *err);
int elf_probe(const uint8_t *img, size_t len, struct kernel_info *ki, struct cl_error *err);
int elf_load(const uint8_t *img, size_t len, const struct kernel_info *ki,
	     const struct guest_mem *m, struct cl_error *err);
int pvh_start_info_write(const struct boot_setup *bs, const struct e820_entry *e820, int n,
			 const struct guest_mem *m, struct cl_error *err);

#endif
