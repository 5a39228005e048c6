/* Linux bzImage, entered through the 64-bit boot protocol.
 * Section names in comments refer to Documentation/arch/x86/boot.rst. */
#include <asm/bootparam.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "kernel.h"

#define HDR_OFF        0x1f1   /* struct setup_header within the image and the zero page */
#define HDRS_MAGIC     0x53726448u   /* "HdrS" at 0x202 */
#define BOOT_FLAG      0xaa55
#define SETUP_HEAP_END 0xe000  /* "Sample Boot Configuration": heap_end for protocol >= 2.02 */

/* the header fields this loader reads end with init_size (protocol 2.10) */
#define HDR_NEEDED (HDR_OFF + offsetof(struct setup_header, init_size) + 4)
#define HDR_FULL   (HDR_OFF + sizeof(struct setup_header))

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int bzimage_probe(const uint8_t *img, size_t len, struct kernel_info *ki, struct cl_error *err)
{
	struct setup_header h;

	/* read the whole header struct; fields past hdr_end are not used */
	if (len < HDR_FULL)
		return cl_err(err, EINVAL, "bzImage truncated: %zu bytes, the setup header alone is %zu",
			      len, (size_t)HDR_FULL);
	memcpy(&h, img + HDR_OFF, sizeof(h));
	if (h.header != HDRS_MAGIC)
		return cl_err(err, EINVAL, "not a bzImage (no HdrS magic at 0x202)");
	if (h.boot_flag != BOOT_FLAG)
		return cl_err(err, EINVAL, "bzImage boot_flag is 0x%04x, not 0xAA55", h.boot_flag);
	/* 2.12 brings xloadflags (XLF_KERNEL_64), which says the 64-bit entry exists */
	if (h.version < 0x20c)
		return cl_err(err, EINVAL,
			      "bzImage boot protocol %u.%02u is too old (the 64-bit entry needs 2.12)",
			      h.version >> 8, h.version & 0xff);
	/* "64-bit Boot Protocol": the header ends at 0x202 + the jump's displacement */
	unsigned hdr_end = 0x202u + img[0x201];
	if (hdr_end < HDR_NEEDED)
		return cl_err(err, EINVAL, "bzImage setup header ends at 0x%x, before the protocol 2.10 fields",
			      hdr_end);
	if (hdr_end > HDR_FULL)
		hdr_end = HDR_FULL;
	/* "Loading The Rest of The Kernel": LOADED_HIGH tells bzImage from zImage */
	if (!(h.loadflags & LOADED_HIGH))
		return cl_err(err, EINVAL, "zImage (LOADED_HIGH clear in loadflags) is not supported");
	if (!(h.xloadflags & XLF_KERNEL_64))
		return cl_err(err, EINVAL,
			      "bzImage has no 64-bit entry point (XLF_KERNEL_64 clear): a 32-bit kernel?");

	/* setup_sects: "if setup_sects == 0 the real value is 4" */
	uint32_t sects = h.setup_sects ? h.setup_sects : 4;
	uint64_t setup = (uint64_t)(sects + 1) * 512;
	uint64_t pm = (uint64_t)h.syssize * 16;   /* syssize: 16-byte paragraphs */
	if (pm == 0)
		return cl_err(err, EINVAL, "bzImage syssize is 0 (no protected-mode kernel)");
	if (setup > len || pm > len - setup)
		return cl_err(err, EINVAL,
			      "bzImage truncated: %zu bytes, header says setup %llu + kernel %llu",
			      len, (unsigned long long)setup, (unsigned long long)pm);

	uint64_t load, run;
	if (h.relocatable_kernel) {
		uint32_t a = h.kernel_alignment;
		if (a < 4096 || (a & (a - 1)) || a > (1u << 30))
			return cl_err(err, EINVAL, "bzImage kernel_alignment 0x%x is not a power of two in 4 KiB..1 GiB",
				      a);
		/* pref_address: "a relocating bootloader should attempt to load at
		 * this address". It is LOAD_PHYSICAL_ADDR, and the decompressor never
		 * runs below that (arch/x86/boot/compressed/head_64.S), so loading
		 * lower saves nothing. 0 (unset) means 1 MiB. */
		uint64_t base = h.pref_address < LAYOUT_HIGH_MEM ? LAYOUT_HIGH_MEM : h.pref_address;
		if (base >= LAYOUT_MMIO_START)   /* also keeps align_up from wrapping */
			return cl_err(err, EINVAL, "bzImage pref_address 0x%llx is beyond 0x%llx, the MMIO window",
				      (unsigned long long)base, (unsigned long long)LAYOUT_MMIO_START);
		load = run = align_up(base, a);
	} else {
		/* non-relocatable: loaded at 0x100000, the decompressor moves itself
		 * to pref_address ("init_size": runtime_start = pref_address) */
		load = LAYOUT_HIGH_MEM;
		run = h.pref_address ? h.pref_address : LAYOUT_HIGH_MEM;
		if (run < LAYOUT_HIGH_MEM)
			return cl_err(err, EINVAL, "bzImage runs at 0x%llx, below 1 MiB",
				      (unsigned long long)run);
	}
	/* everything must fit below the MMIO window; this also rules out overflow */
	if (run >= LAYOUT_MMIO_START || h.init_size > LAYOUT_MMIO_START - run ||
	    pm > LAYOUT_MMIO_START - load)
		return cl_err(err, EINVAL,
			      "bzImage needs memory beyond 0x%llx (runs at 0x%llx, init_size %u, kernel %llu bytes)",
			      (unsigned long long)LAYOUT_MMIO_START, (unsigned long long)run, h.init_size,
			      (unsigned long long)pm);

	memset(ki, 0, sizeof(*ki));
	ki->format = KERNEL_BZIMAGE;
	ki->protocol = h.version;
	ki->load_addr = load;
	ki->entry = load + 0x200;   /* "64-bit Boot Protocol": start of the loaded kernel + 0x200 */
	ki->kernel_end = load + pm;
	if (run + h.init_size > ki->kernel_end)
		ki->kernel_end = run + h.init_size;
	/* cmdline_size excludes the NUL; also bounded by the space layout.h reserves */
	ki->cmdline_max = h.cmdline_size < LAYOUT_CMDLINE_MAX - 1 ? h.cmdline_size
								  : (uint32_t)(LAYOUT_CMDLINE_MAX - 1);
	ki->initrd_max = h.initrd_addr_max;
	ki->setup_size = (uint32_t)setup;
	ki->pm_offset = setup;
	ki->pm_size = pm;
	ki->runtime_start = run;
	ki->init_size = h.init_size;
	ki->kernel_alignment = h.kernel_alignment;
	ki->xloadflags = h.xloadflags;
	ki->hdr_end = (uint16_t)hdr_end;
	ki->relocatable = h.relocatable_kernel;
	return 0;
}

int bzimage_load(const uint8_t *img, size_t len, const struct kernel_info *ki,
		 const struct guest_mem *m, struct cl_error *err)
{
	/* ki may not describe img: re-check before copying */
	if (ki->pm_offset > len || ki->pm_size > len - ki->pm_offset)
		return cl_err(err, EINVAL, "image of %zu bytes does not match its probe (kernel at %llu+%llu)",
			      len, (unsigned long long)ki->pm_offset, (unsigned long long)ki->pm_size);
	if (gmem_write(m, ki->load_addr, img + ki->pm_offset, ki->pm_size) < 0)
		return cl_err(err, ENOSPC, "%llu bytes at 0x%llx do not fit in guest RAM",
			      (unsigned long long)ki->pm_size, (unsigned long long)ki->load_addr);
	return 0;
}

int bzimage_zero_page(const uint8_t *img, size_t len, const struct kernel_info *ki,
		      const struct boot_setup *bs, const struct e820_entry *e820, int n,
		      const struct guest_mem *m, struct cl_error *err)
{
	struct boot_params bp;

	if (ki->hdr_end <= HDR_OFF || ki->hdr_end > HDR_FULL || len < ki->hdr_end)
		return cl_err(err, EINVAL, "image of %zu bytes does not match its probe (header end 0x%x)",
			      len, ki->hdr_end);
	if (n < 0 || n > E820_MAX_ENTRIES_ZEROPAGE)
		return cl_err(err, ENOSPC, "boot: %d e820 entries, the zero page holds %d", n,
			      E820_MAX_ENTRIES_ZEROPAGE);

	/* "64-bit Boot Protocol": zeroed boot_params, then the setup header
	 * copied from the image up to 0x202 + byte at 0x201 */
	memset(&bp, 0, sizeof(bp));
	memcpy((uint8_t *)&bp + HDR_OFF, img + HDR_OFF, ki->hdr_end - HDR_OFF);
	struct setup_header *h = &bp.hdr;

	h->type_of_loader = 0xff;   /* "type_of_loader": undefined/other loader */
	/* vid_mode ("modify, obligatory") keeps the image's default, 0xffff "normal" */
	/* LOADED_HIGH: kernel at >= 1 MiB; CAN_USE_HEAP with heap_end_ptr as the
	 * sample configuration sets them (only the 16-bit setup code reads them);
	 * KEEP_SEGMENTS is obsolete and must be clear; KASLR_FLAG is the kernel's */
	h->loadflags = (uint8_t)((h->loadflags & ~(KEEP_SEGMENTS | KASLR_FLAG)) | LOADED_HIGH | CAN_USE_HEAP);
	h->heap_end_ptr = SETUP_HEAP_END - 0x200;
	/* "relocatable_kernel": the loader sets code32_start to where it loaded the kernel */
	h->code32_start = (uint32_t)ki->load_addr;

	/* command line: cmd_line_ptr (2.02+), high half in ext_cmd_line_ptr (zero-page.rst) */
	h->cmd_line_ptr = (uint32_t)LAYOUT_CMDLINE;
	bp.ext_cmd_line_ptr = (uint32_t)(LAYOUT_CMDLINE >> 32);

	if (bs->initrd_size) {
		h->ramdisk_image = (uint32_t)bs->initrd_gpa;
		h->ramdisk_size = (uint32_t)bs->initrd_size;
		bp.ext_ramdisk_image = (uint32_t)(bs->initrd_gpa >> 32);
		bp.ext_ramdisk_size = (uint32_t)(bs->initrd_size >> 32);
	}
	/* acpi_rsdp_addr lives in boot_params from protocol 2.14 (zero-page.rst) */
	if (bs->rsdp_gpa && ki->protocol >= 0x20e)
		bp.acpi_rsdp_addr = bs->rsdp_gpa;

	bp.e820_entries = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		bp.e820_table[i].addr = e820[i].addr;
		bp.e820_table[i].size = e820[i].size;
		bp.e820_table[i].type = e820[i].type;
	}

	if (gmem_write(m, LAYOUT_ZERO_PAGE, &bp, sizeof(bp)) < 0)
		return cl_err(err, ENOSPC, "boot: zero page at 0x%llx is not in guest RAM",
			      (unsigned long long)LAYOUT_ZERO_PAGE);
	return 0;
}
