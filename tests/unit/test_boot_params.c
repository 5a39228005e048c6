/* e820 map, initrd placement, command line and the zero page written by
 * boot_params_write (boot.rst "64-bit Boot Protocol", zero-page.rst). */
#include <asm/bootparam.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/boot/kernel.h"

#include "boot_fixtures.h"

/* minimal relocatable 64-bit bzImage (setup_sects 4, 4 KiB kernel) */
static uint8_t *make_bz(uint16_t version, size_t *len)
{
	size_t n = 5 * 512 + 4096;
	uint8_t *b = calloc(1, n);
	cr_assert(b);
	struct setup_header h;
	memset(&h, 0, sizeof(h));
	h.setup_sects = 4;
	h.syssize = 4096 / 16;
	h.boot_flag = 0xaa55;
	h.jump = 0x6aeb;
	h.header = 0x53726448;
	h.version = version;
	h.loadflags = LOADED_HIGH | KEEP_SEGMENTS;   /* KEEP_SEGMENTS must come out clear */
	h.vid_mode = 0xffff;
	h.initrd_addr_max = 0x7fffffff;
	h.kernel_alignment = 0x200000;
	h.relocatable_kernel = 1;
	h.xloadflags = XLF_KERNEL_64;
	h.cmdline_size = 2047;
	h.pref_address = 0x1000000;
	h.init_size = 0x800000;
	h.kernel_info_offset = 0x1234;
	memcpy(b + 0x1f1, &h, sizeof(h));
	*len = n;
	return b;
}

static void check_e820(const struct e820_entry *e, uint64_t addr, uint64_t size, uint32_t type)
{
	cr_assert_eq(e->addr, addr, "addr 0x%llx, want 0x%llx", (unsigned long long)e->addr,
		     (unsigned long long)addr);
	cr_assert_eq(e->size, size, "size 0x%llx at 0x%llx, want 0x%llx", (unsigned long long)e->size,
		     (unsigned long long)e->addr, (unsigned long long)size);
	cr_assert_eq(e->type, type);
}

static int e820_for(uint64_t size, struct e820_entry *e, int max)
{
	struct guest_mem m;
	gmem_layout(&m, NULL, size);   /* pure: nothing is dereferenced */
	return e820_build(&m, e, max);
}

Test(boot_e820, mem_256m)
{
	struct e820_entry e[8];
	cr_assert_eq(e820_for(256 * MiB, e, 8), 4);
	check_e820(&e[0], 0, 0x9fc00, E820_RAM);
	check_e820(&e[1], 0x9fc00, 0x400, E820_RESERVED);
	check_e820(&e[2], 0xe0000, 0x20000, E820_RESERVED);
	check_e820(&e[3], 0x100000, 255 * MiB, E820_RAM);
}

Test(boot_e820, mem_3g_fills_low_ram)
{
	struct e820_entry e[8];
	cr_assert_eq(e820_for(3 * GiB, e, 8), 4);
	check_e820(&e[3], 0x100000, 3 * GiB - MiB, E820_RAM);
	cr_assert_eq(e[3].addr + e[3].size, LAYOUT_MMIO_START);
}

Test(boot_e820, mem_5g_has_hole_and_high_ram)
{
	struct e820_entry e[8];
	cr_assert_eq(e820_for(5 * GiB, e, 8), 5);
	check_e820(&e[0], 0, 0x9fc00, E820_RAM);
	check_e820(&e[3], 0x100000, LAYOUT_MMIO_START - MiB, E820_RAM);
	/* nothing in [3 GiB, 4 GiB): the MMIO window */
	check_e820(&e[4], 4 * GiB, 5 * GiB - LAYOUT_MMIO_START, E820_RAM);
	for (int i = 0; i < 5; i++)
		cr_assert(e[i].addr + e[i].size <= LAYOUT_MMIO_START || e[i].addr >= LAYOUT_MMIO_END);
}

Test(boot_e820, tiny_and_no_room)
{
	struct e820_entry e[8];
	cr_assert_eq(e820_for(512 << 10, e, 8), 3);   /* no RAM above 1 MiB */
	check_e820(&e[0], 0, 512 << 10, E820_RAM);
	cr_assert_eq(e820_for(5 * GiB, e, 4), -ENOSPC);
	cr_assert_eq(e820_for(256 * MiB, e, 0), -ENOSPC);
}

Test(boot_params, zero_page_synthetic)
{
	size_t len;
	uint8_t *img = make_bz(0x20f, &len);
	struct kernel_info ki;
	struct cl_error err = { 0 };
	struct guest g;
	cr_assert_eq(kernel_probe(img, len, &ki, &err), 0, "%s", err.msg);
	guest_new(&g, 64 * MiB);
	memset(g.buf + LAYOUT_ZERO_PAGE, 0x5a, 4096);   /* everything must be rewritten */
	cr_assert_eq(kernel_load(img, len, &ki, &g.m, &err), 0, "%s", err.msg);
	uint64_t initrd;
	cr_assert_eq(initrd_place(&ki, &g.m, 5 * MiB, &initrd, &err), 0, "%s", err.msg);
	struct boot_setup bs = { .cmdline = "console=ttyS0 reboot=k", .initrd_gpa = initrd,
				 .initrd_size = 5 * MiB, .rsdp_gpa = 0xe0000 };
	cr_assert_eq(boot_params_write(img, len, &ki, &bs, &g.m, &err), 0, "%s", err.msg);

	struct boot_params bp;
	memcpy(&bp, g.buf + LAYOUT_ZERO_PAGE, sizeof(bp));
	/* the header is the image's, from 0x1f1 to 0x202 + byte at 0x201 */
	cr_assert_eq(bp.hdr.header, 0x53726448);
	cr_assert_eq(bp.hdr.version, 0x20f);
	cr_assert_eq(bp.hdr.boot_flag, 0xaa55);
	cr_assert_eq(bp.hdr.setup_sects, 4);
	cr_assert_eq(bp.hdr.vid_mode, 0xffff);
	cr_assert_eq(bp.hdr.kernel_alignment, 0x200000);
	cr_assert_eq(bp.hdr.cmdline_size, 2047);
	cr_assert_eq(bp.hdr.init_size, 0x800000);
	cr_assert_eq(bp.hdr.kernel_info_offset, 0x1234);
	/* what the loader writes */
	cr_assert_eq(bp.hdr.type_of_loader, 0xff);
	cr_assert_eq(bp.hdr.loadflags & (LOADED_HIGH | CAN_USE_HEAP), LOADED_HIGH | CAN_USE_HEAP);
	cr_assert_eq(bp.hdr.loadflags & KEEP_SEGMENTS, 0);
	cr_assert_eq(bp.hdr.heap_end_ptr, 0xe000 - 0x200);
	cr_assert_eq(bp.hdr.code32_start, ki.load_addr);
	cr_assert_eq(bp.hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	cr_assert_eq(bp.ext_cmd_line_ptr, 0);
	cr_assert_str_eq((char *)g.buf + bp.hdr.cmd_line_ptr, "console=ttyS0 reboot=k");
	cr_assert_eq(bp.hdr.ramdisk_image, initrd);
	cr_assert_eq(bp.hdr.ramdisk_size, 5 * MiB);
	cr_assert_eq(bp.ext_ramdisk_image, 0);
	cr_assert_eq(bp.ext_ramdisk_size, 0);
	cr_assert_eq(bp.acpi_rsdp_addr, 0xe0000);
	/* outside the header everything else is zero (sentinel too) */
	cr_assert_eq(bp.sentinel, 0);
	cr_assert_eq(bp.screen_info.orig_video_isVGA, 0);
	cr_assert_eq(bp.hdr.setup_data, 0);

	struct e820_entry e[8];
	int n = e820_build(&g.m, e, 8);
	cr_assert_eq(bp.e820_entries, n);
	for (int i = 0; i < n; i++) {
		cr_assert_eq(bp.e820_table[i].addr, e[i].addr);
		cr_assert_eq(bp.e820_table[i].size, e[i].size);
		cr_assert_eq(bp.e820_table[i].type, e[i].type);
	}
	cr_assert_eq(bp.e820_table[n].size, 0);
	/* PVH structures are not written for a bzImage */
	cr_assert_eq(*(uint32_t *)(g.buf + LAYOUT_PVH_INFO), 0);
	free(g.buf);
	free(img);
}

Test(boot_params, zero_page_real_bzimage)
{
	size_t len;
	uint8_t *img = slurp("bzImage", &len);
	if (!img)
		cr_skip_test("no bzImage in build/images or /tmp/kout (make images)");
	struct kernel_info ki;
	struct cl_error err = { 0 };
	struct guest g;
	cr_assert_eq(kernel_probe(img, len, &ki, &err), 0, "%s", err.msg);
	guest_new(&g, 64 * MiB);
	cr_assert_eq(kernel_load(img, len, &ki, &g.m, &err), 0, "%s", err.msg);
	struct boot_setup bs = { .cmdline = "console=ttyS0", .rsdp_gpa = 0xe0000 };
	cr_assert_eq(boot_params_write(img, len, &ki, &bs, &g.m, &err), 0, "%s", err.msg);

	struct boot_params bp;
	memcpy(&bp, g.buf + LAYOUT_ZERO_PAGE, sizeof(bp));
	struct setup_header h;
	memcpy(&h, img + 0x1f1, sizeof(h));
	cr_assert_eq(bp.hdr.version, h.version);
	cr_assert_eq(bp.hdr.syssize, h.syssize);
	cr_assert_eq(bp.hdr.init_size, h.init_size);
	cr_assert_eq(bp.hdr.pref_address, h.pref_address);
	cr_assert_eq(bp.hdr.xloadflags, h.xloadflags);
	cr_assert_eq(bp.hdr.payload_offset, h.payload_offset);
	cr_assert_eq(bp.hdr.type_of_loader, 0xff);
	cr_assert(bp.hdr.loadflags & LOADED_HIGH);
	cr_assert_eq(bp.hdr.ramdisk_image, 0);
	cr_assert_eq(bp.hdr.ramdisk_size, 0);
	cr_assert_eq(bp.acpi_rsdp_addr, 0xe0000);   /* 6.1 speaks 2.15 */
	cr_assert_eq(bp.e820_entries, 4);
	cr_assert_str_eq((char *)g.buf + LAYOUT_CMDLINE, "console=ttyS0");
	free(g.buf);
	free(img);
}

Test(boot_params, rsdp_needs_protocol_2_14)
{
	size_t len;
	uint8_t *img = make_bz(0x20d, &len);
	struct kernel_info ki;
	struct cl_error err = { 0 };
	struct guest g;
	cr_assert_eq(kernel_probe(img, len, &ki, &err), 0, "%s", err.msg);
	guest_new(&g, 64 * MiB);
	struct boot_setup bs = { .rsdp_gpa = 0xe0000 };
	cr_assert_eq(boot_params_write(img, len, &ki, &bs, &g.m, &err), 0, "%s", err.msg);
	struct boot_params bp;
	memcpy(&bp, g.buf + LAYOUT_ZERO_PAGE, sizeof(bp));
	cr_assert_eq(bp.acpi_rsdp_addr, 0);
	cr_assert_eq(g.buf[LAYOUT_CMDLINE], 0);   /* NULL cmdline: empty string */
	free(g.buf);
	free(img);
}

Test(boot_params, cmdline_length)
{
	size_t len;
	uint8_t *img = make_bz(0x20f, &len);
	struct kernel_info ki;
	struct cl_error err = { 0 };
	struct guest g;
	cr_assert_eq(kernel_probe(img, len, &ki, &err), 0, "%s", err.msg);
	guest_new(&g, 64 * MiB);
	char *line = malloc(4096);
	memset(line, 'a', 4096);
	line[2047] = '\0';   /* exactly cmdline_size: fits */
	struct boot_setup bs = { .cmdline = line };
	cr_assert_eq(boot_params_write(img, len, &ki, &bs, &g.m, &err), 0, "%s", err.msg);
	cr_assert_eq(strlen((char *)g.buf + LAYOUT_CMDLINE), 2047);
	line[2047] = 'a';
	line[2048] = '\0';
	cl_err_clear(&err);
	cr_assert_eq(boot_params_write(img, len, &ki, &bs, &g.m, &err), -E2BIG);
	cr_assert_str_eq(err.msg, "command line longer than the 2047 bytes the kernel accepts");
	cr_assert_eq(err.code, E2BIG);

	/* ELF/PVH: COMMAND_LINE_SIZE 2048 with the NUL */
	ki.format = KERNEL_ELF_PVH;
	ki.cmdline_max = KERNEL_ELF_CMDLINE_MAX;
	cr_assert_eq(boot_params_write(NULL, 0, &ki, &bs, &g.m, &err), -E2BIG);
	free(line);
	free(g.buf);
	free(img);
}

static struct kernel_info fake_kernel(uint64_t end, uint64_t initrd_max)
{
	struct kernel_info ki;
	memset(&ki, 0, sizeof(ki));
	ki.format = KERNEL_ELF_PVH;
	ki.load_addr = 0x1000000;
	ki.kernel_end = end;
	ki.initrd_max = initrd_max;
	ki.cmdline_max = KERNEL_ELF_CMDLINE_MAX;
	return ki;
}

Test(boot_initrd, placed_at_top_of_low_ram)
{
	struct guest_mem m;
	struct cl_error err = { 0 };
	uint64_t gpa = 0;
	struct kernel_info ki = fake_kernel(0x2000000, 0x7fffffff);

	gmem_layout(&m, NULL, 64 * MiB);
	cr_assert_eq(initrd_place(&ki, &m, 8 * MiB, &gpa, &err), 0, "%s", err.msg);
	cr_assert_eq(gpa, 56 * MiB);
	/* odd sizes: page-aligned start, end still inside RAM */
	cr_assert_eq(initrd_place(&ki, &m, 8 * MiB + 1, &gpa, &err), 0, "%s", err.msg);
	cr_assert_eq(gpa, 56 * MiB - 4096);
	cr_assert_eq(initrd_place(&ki, &m, 12345, &gpa, &err), 0, "%s", err.msg);
	cr_assert_eq(gpa % 4096, 0);
	cr_assert_leq(gpa + 12345, 64 * MiB);
	cr_assert_gt(gpa + 12345 + 4096, 64 * MiB);
	/* exactly the room between kernel_end and the top */
	cr_assert_eq(initrd_place(&ki, &m, 32 * MiB, &gpa, &err), 0, "%s", err.msg);
	cr_assert_eq(gpa, 32 * MiB);

	/* initrd_max (inclusive) below the end of RAM */
	ki.initrd_max = 48 * MiB - 1;
	cr_assert_eq(initrd_place(&ki, &m, 4 * MiB, &gpa, &err), 0, "%s", err.msg);
	cr_assert_eq(gpa, 44 * MiB);

	/* 5 GiB: the initrd stays below the MMIO window and initrd_addr_max */
	gmem_layout(&m, NULL, 5 * GiB);
	ki.initrd_max = 0x7fffffff;
	cr_assert_eq(initrd_place(&ki, &m, 16 * MiB, &gpa, &err), 0, "%s", err.msg);
	cr_assert_eq(gpa, 2 * GiB - 16 * MiB);
	ki.initrd_max = 0xffffffff;   /* ELF: 4 GiB - 1, capped by low RAM */
	cr_assert_eq(initrd_place(&ki, &m, 16 * MiB, &gpa, &err), 0, "%s", err.msg);
	cr_assert_eq(gpa, LAYOUT_MMIO_START - 16 * MiB);
	ki.initrd_max = UINT64_MAX;
	cr_assert_eq(initrd_place(&ki, &m, 16 * MiB, &gpa, &err), 0, "%s", err.msg);
	cr_assert_eq(gpa, LAYOUT_MMIO_START - 16 * MiB);
}

Test(boot_initrd, does_not_fit)
{
	struct guest_mem m;
	struct cl_error err = { 0 };
	uint64_t gpa = 7;
	struct kernel_info ki = fake_kernel(0x2000000, 0x7fffffff);

	gmem_layout(&m, NULL, 64 * MiB);
	cr_assert_eq(initrd_place(&ki, &m, 100 * MiB, &gpa, &err), -ENOSPC);
	cr_assert_str_eq(err.msg, "100 MiB does not fit below the end of low RAM (64 MiB)");
	/* fits in RAM, but would start below kernel_end */
	cr_assert_eq(initrd_place(&ki, &m, 40 * MiB, &gpa, &err), -ENOSPC);
	cr_assert_str_eq(err.msg,
			 "40 MiB does not fit between the kernel's end 0x2000000 and 0x4000000 (32 MiB free)");
	cr_assert_eq(initrd_place(&ki, &m, 32 * MiB + 1, &gpa, &err), -ENOSPC);
	cr_assert(strstr(err.msg, "32.0 MiB does not fit between"), "%s", err.msg);
	ki.initrd_max = 0xffffff;   /* 16 MiB - 1: below the kernel altogether */
	cr_assert_eq(initrd_place(&ki, &m, 20 * MiB, &gpa, &err), -ENOSPC);
	cr_assert(strstr(err.msg, "initrd_addr_max (16 MiB)"), "%s", err.msg);
	cr_assert_eq(initrd_place(&ki, &m, 4 * MiB, &gpa, &err), -ENOSPC);
	cr_assert(strstr(err.msg, "kernel's end 0x2000000 and 0x1000000 (0 bytes free)"), "%s", err.msg);
	cr_assert_eq(initrd_place(&ki, &m, 0, &gpa, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "is empty");
	cr_assert_eq(gpa, 7, "output written on error");
}

Test(boot_initrd, real_bzimage_above_kernel_end)
{
	size_t len;
	uint8_t *img = slurp("bzImage", &len);
	if (!img)
		cr_skip_test("no bzImage in build/images or /tmp/kout (make images)");
	struct kernel_info ki;
	struct cl_error err = { 0 };
	struct guest_mem m;
	uint64_t gpa;
	cr_assert_eq(kernel_probe(img, len, &ki, &err), 0, "%s", err.msg);
	gmem_layout(&m, NULL, 64 * MiB);
	cr_assert_eq(initrd_place(&ki, &m, 4 * MiB, &gpa, &err), 0, "%s", err.msg);
	cr_assert_geq(gpa, ki.kernel_end);
	cr_assert_eq(gpa, 60 * MiB);
	/* ~32 MiB of a 64 MiB guest go to the kernel's init_size */
	cr_assert_eq(initrd_place(&ki, &m, 40 * MiB, &gpa, &err), -ENOSPC);
	cr_assert(strstr(err.msg, "does not fit between the kernel's end"), "%s", err.msg);
	free(img);
}

Test(boot_params, initrd_checked)
{
	struct guest g;
	struct cl_error err = { 0 };
	struct kernel_info ki = fake_kernel(0x2000000, 0xffffffff);
	guest_new(&g, 64 * MiB);
	struct boot_setup bs = { .cmdline = "", .initrd_gpa = 60 * MiB, .initrd_size = 8 * MiB };
	cr_assert_eq(boot_params_write(NULL, 0, &ki, &bs, &g.m, &err), -EINVAL);   /* past RAM */
	cr_assert(strstr(err.msg, "8388608 bytes at 0x3c00000 are not in guest RAM"), "%s", err.msg);
	bs.initrd_gpa = UINT64_MAX - 4095;   /* wraps */
	cr_assert_eq(boot_params_write(NULL, 0, &ki, &bs, &g.m, &err), -EINVAL);
	bs.initrd_gpa = 0x1800000;   /* over the kernel */
	cr_assert_eq(boot_params_write(NULL, 0, &ki, &bs, &g.m, &err), -EINVAL);
	cr_assert(strstr(err.msg, "overlaps the kernel"), "%s", err.msg);
	bs.initrd_gpa = 0x10000;   /* over the boot structures */
	bs.initrd_size = 4096;
	cr_assert_eq(boot_params_write(NULL, 0, &ki, &bs, &g.m, &err), -EINVAL);
	bs.initrd_gpa = 40 * MiB;
	ki.initrd_max = 40 * MiB + 100;   /* beyond initrd_max */
	cr_assert_eq(boot_params_write(NULL, 0, &ki, &bs, &g.m, &err), -EINVAL);
	ki.initrd_max = 0xffffffff;
	cr_assert_eq(boot_params_write(NULL, 0, &ki, &bs, &g.m, &err), 0, "%s", err.msg);
	free(g.buf);
}

Test(boot_params, mismatched_image_refused)
{
	size_t len;
	uint8_t *img = make_bz(0x20f, &len);
	struct kernel_info ki;
	struct cl_error err = { 0 };
	struct guest g;
	cr_assert_eq(kernel_probe(img, len, &ki, &err), 0, "%s", err.msg);
	guest_new(&g, 64 * MiB);
	struct boot_setup bs = { .cmdline = "x" };
	/* the header is copied from img: a buffer too short for it is refused */
	cr_assert_eq(boot_params_write(img, 0x200, &ki, &bs, &g.m, &err), -EINVAL);
	cr_assert(strstr(err.msg, "does not match its probe"), "%s", err.msg);
	cr_assert_eq(boot_params_write(NULL, 0, &ki, &bs, &g.m, &err), -EINVAL);
	ki.format = (enum kernel_format)7;
	cr_assert_eq(boot_params_write(img, len, &ki, &bs, &g.m, &err), -EINVAL);
	cr_assert(strstr(err.msg, "unknown format"), "%s", err.msg);
	cr_assert_eq(kernel_load(img, len, &ki, &g.m, &err), -EINVAL);
	free(g.buf);
	free(img);
}
