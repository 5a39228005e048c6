/* Format dispatch, RAM checks, initrd placement, command line and the
 * boot structures common to both entry paths. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel.h"

typedef unsigned long long ull;

#define PAGE 4096ull

/* "40 MiB", "40.5 MiB", "812 KiB", "17 bytes": sizes in messages */
static const char *sz(char *buf, size_t n, uint64_t v)
{
	if (v >= (1ull << 20) && !(v & ((1ull << 20) - 1)))
		snprintf(buf, n, "%llu MiB", (ull)(v >> 20));
	else if (v >= (1ull << 20))
		snprintf(buf, n, "%.1f MiB", (double)v / (1 << 20));
	else if (v >= 1024)
		snprintf(buf, n, "%llu KiB", (ull)(v >> 10));
	else
		snprintf(buf, n, "%llu bytes", (ull)v);
	return buf;
}

int kernel_probe(const uint8_t *img, size_t len, struct kernel_info *ki, struct cl_error *err)
{
	if (!img)
		len = 0;
	/* by contents only: ELF magic first, then the boot protocol's "HdrS" */
	if (len >= 4 && memcmp(img, "\x7f" "ELF", 4) == 0)
		return elf_probe(img, len, ki, err);
	if (len >= 0x206 && memcmp(img + 0x202, "HdrS", 4) == 0)
		return bzimage_probe(img, len, ki, err);
	return cl_err(err, EINVAL, "not a bzImage (no HdrS magic at 0x202) and not an ELF (%zu bytes)",
		      len);
}

int kernel_load(const uint8_t *img, size_t len, const struct kernel_info *ki,
		const struct guest_mem *m, struct cl_error *err)
{
	char a[32], b[32];
	uint64_t low = gmem_low_end(m);

	/* the kernel's whole footprint (with init_size) must be RAM, not just the file */
	if (ki->kernel_end > low || ki->load_addr > ki->kernel_end)
		return cl_err(err, ENOSPC,
			      "needs guest RAM up to 0x%llx (%s, loaded at 0x%llx), but RAM below the MMIO window is %s",
			      (ull)ki->kernel_end, sz(a, sizeof(a), ki->kernel_end), (ull)ki->load_addr,
			      sz(b, sizeof(b), low));
	if (!img)
		len = 0;
	switch (ki->format) {
	case KERNEL_BZIMAGE:
		return bzimage_load(img, len, ki, m, err);
	case KERNEL_ELF_PVH:
		return elf_load(img, len, ki, m, err);
	}
	return cl_err(err, EINVAL, "unknown format %d", (int)ki->format);
}

int initrd_place(const struct kernel_info *ki, const struct guest_mem *m,
		 uint64_t initrd_size, uint64_t *gpa, struct cl_error *err)
{
	char a[32], b[32], c[32];
	uint64_t low = gmem_low_end(m);

	if (!initrd_size)
		return cl_err(err, EINVAL, "is empty");
	/* top: one past the highest byte it may use */
	uint64_t top = low;
	if (ki->initrd_max < UINT64_MAX && ki->initrd_max + 1 < top)
		top = ki->initrd_max + 1;
	if (initrd_size > top)
		return cl_err(err, ENOSPC, "%s does not fit below %s (%s)",
			      sz(a, sizeof(a), initrd_size), top == low ? "the end of low RAM" : "the kernel's initrd_addr_max",
			      sz(b, sizeof(b), top));
	uint64_t at = (top - initrd_size) & ~(PAGE - 1);
	if (at < ki->kernel_end)
		return cl_err(err, ENOSPC, "%s does not fit between the kernel's end 0x%llx and 0x%llx (%s free)",
			      sz(a, sizeof(a), initrd_size), (ull)ki->kernel_end, (ull)top,
			      sz(c, sizeof(c), top > ki->kernel_end ? top - ki->kernel_end : 0));
	*gpa = at;
	return 0;
}

int boot_params_write(const uint8_t *img, size_t len, const struct kernel_info *ki,
		      const struct boot_setup *bs, const struct guest_mem *m,
		      struct cl_error *err)
{
	struct e820_entry e820[BOOT_E820_MAX];
	const char *cmdline = bs->cmdline ? bs->cmdline : "";
	/* never scan further than one byte past the limit */
	size_t n = strnlen(cmdline, (size_t)ki->cmdline_max + 1);

	if (n > ki->cmdline_max || n >= LAYOUT_CMDLINE_MAX)
		return cl_err(err, E2BIG, "command line longer than the %u bytes the kernel accepts",
			      ki->cmdline_max);
	if (gmem_write(m, LAYOUT_CMDLINE, cmdline, n) < 0 || gmem_write(m, LAYOUT_CMDLINE + n, "", 1) < 0)
		return cl_err(err, ENOSPC, "boot: command line at 0x%llx is not in guest RAM", (ull)LAYOUT_CMDLINE);

	if (bs->initrd_size) {
		uint64_t end = bs->initrd_gpa + bs->initrd_size - 1;
		if (!bs->initrd_gpa || !gmem_ptr(m, bs->initrd_gpa, bs->initrd_size) || end > ki->initrd_max)
			return cl_err(err, EINVAL,
				      "%llu bytes at 0x%llx are not in guest RAM at or below 0x%llx",
				      (ull)bs->initrd_size, (ull)bs->initrd_gpa, (ull)ki->initrd_max);
		if (bs->initrd_gpa < LAYOUT_HIGH_MEM ||
		    (bs->initrd_gpa < ki->kernel_end && end >= ki->load_addr))
			return cl_err(err, EINVAL,
				      "0x%llx-0x%llx overlaps the kernel (0x%llx-0x%llx) or the boot structures below 1 MiB",
				      (ull)bs->initrd_gpa, (ull)end, (ull)ki->load_addr, (ull)ki->kernel_end);
	}

	int ne = e820_build(m, e820, BOOT_E820_MAX);
	if (ne < 0)
		return cl_err(err, -ne, "boot: e820 map has more than %d entries", BOOT_E820_MAX);

	if (!img)
		len = 0;
	switch (ki->format) {
	case KERNEL_BZIMAGE:
		return bzimage_zero_page(img, len, ki, bs, e820, ne, m, err);
	case KERNEL_ELF_PVH:
		return pvh_start_info_write(bs, e820, ne, m, err);
	}
	return cl_err(err, EINVAL, "unknown format %d", (int)ki->format);
}
