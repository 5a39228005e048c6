/* bzImage probe and load: the real image when built, synthetic and
 * malformed images always. Sections cited are Documentation/arch/x86/boot.rst. */
#include <asm/bootparam.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/boot/kernel.h"

#include "boot_fixtures.h"

#define real_bzimage(len) real_image("bzImage", (len))

/* a minimal well-formed 64-bit bzImage */
struct bz_opts {
	uint8_t setup_sects, reloc, loadflags, jump_disp;
	uint16_t version, xlf;
	uint32_t align, init_size, cmdline_size, syssize;
	uint64_t pref;
};

static const struct bz_opts BZ_DEFAULT = {
	.setup_sects = 4, .reloc = 1, .loadflags = LOADED_HIGH, .jump_disp = 0x6a,
	.version = 0x20f, .xlf = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G,
	.align = 0x200000, .init_size = 0x800000, .cmdline_size = 2047, .syssize = 4096 / 16,
	.pref = 0x1000000,
};

static uint8_t *make_bz(const struct bz_opts *o, size_t *len)
{
	size_t setup = (size_t)((o->setup_sects ? o->setup_sects : 4) + 1) * 512;
	size_t pm = (size_t)o->syssize * 16;
	if (pm > 1 << 20)
		pm = 1 << 20;   /* for "syssize lies" cases the file stays small */
	uint8_t *b = calloc(1, setup + pm);
	cr_assert(b);
	struct setup_header h;
	memset(&h, 0, sizeof(h));
	h.setup_sects = o->setup_sects;
	h.syssize = o->syssize;
	h.boot_flag = 0xaa55;
	h.jump = (uint16_t)(0xeb | o->jump_disp << 8);
	h.header = 0x53726448;
	h.version = o->version;
	h.loadflags = o->loadflags;
	h.initrd_addr_max = 0x7fffffff;
	h.kernel_alignment = o->align;
	h.relocatable_kernel = o->reloc;
	h.min_alignment = 21;
	h.xloadflags = o->xlf;
	h.cmdline_size = o->cmdline_size;
	h.pref_address = o->pref;
	h.init_size = o->init_size;
	memcpy(b + 0x1f1, &h, sizeof(h));
	for (size_t i = 0; i < pm; i++)
		b[setup + i] = (uint8_t)(i * 7 + 1);
	*len = setup + pm;
	return b;
}

static int probe_opts(const struct bz_opts *o, struct kernel_info *ki, struct cl_error *err)
{
	size_t len;
	uint8_t *b = make_bz(o, &len);
	int r = kernel_probe(b, len, ki, err);
	free(b);
	return r;
}

Test(boot_bzimage, real_probe)
{
	size_t len;
	uint8_t *img = real_bzimage(&len);
	struct kernel_info ki;
	struct cl_error err = { 0 };
	cr_assert_eq(kernel_probe(img, len, &ki, &err), 0, "%s", err.msg);
	struct setup_header h;
	memcpy(&h, img + 0x1f1, sizeof(h));

	cr_assert_eq(ki.format, KERNEL_BZIMAGE);
	cr_assert_geq(ki.protocol, 0x20f);
	cr_assert_eq(ki.protocol, h.version);
	cr_assert(ki.xloadflags & XLF_KERNEL_64);
	cr_assert_eq(ki.relocatable, h.relocatable_kernel);
	cr_assert_eq(ki.cmdline_max, 2047);
	cr_assert_eq(ki.initrd_max, h.initrd_addr_max);
	uint32_t sects = h.setup_sects ? h.setup_sects : 4;
	cr_assert_eq(ki.setup_size, (sects + 1) * 512);
	cr_assert_eq(ki.pm_offset + ki.pm_size, (uint64_t)len);
	cr_assert_eq(ki.hdr_end, 0x202 + img[0x201]);
	if (h.relocatable_kernel) {
		/* "pref_address": load there, aligned to kernel_alignment */
		cr_assert_eq(ki.load_addr % h.kernel_alignment, 0);
		cr_assert_geq(ki.load_addr, h.pref_address);
		cr_assert_eq(ki.runtime_start, ki.load_addr);
	} else {
		/* "Loading The Rest of The Kernel": bzImage at 0x100000, runs at pref_address */
		cr_assert_eq(ki.load_addr, 0x100000);
		cr_assert_eq(ki.runtime_start, h.pref_address);
	}
	cr_assert_eq(ki.entry, ki.load_addr + 0x200);
	uint64_t end = ki.load_addr + ki.pm_size;
	if (ki.runtime_start + h.init_size > end)
		end = ki.runtime_start + h.init_size;
	cr_assert_eq(ki.kernel_end, end);
	free(img);
}

Test(boot_bzimage, real_load)
{
	size_t len;
	uint8_t *img = real_bzimage(&len);
	struct kernel_info ki;
	struct cl_error err = { 0 };
	cr_assert_eq(kernel_probe(img, len, &ki, &err), 0, "%s", err.msg);

	struct guest g;
	guest_new(&g, 64 * MiB);
	cr_assert_eq(kernel_load(img, len, &ki, &g.m, &err), 0, "%s", err.msg);
	cr_assert_eq(memcmp(g.buf + ki.load_addr, img + ki.setup_size, len - ki.setup_size), 0);
	/* the real-mode setup is not loaded for the 64-bit entry */
	cr_assert_eq(g.buf[ki.load_addr - 1], 0);
	free(g.buf);

	/* init_size makes a 2 MiB file need ~32 MiB: 16 MiB is too small */
	guest_new(&g, 16 * MiB);
	cr_assert_eq(kernel_load(img, len, &ki, &g.m, &err), -ENOSPC);
	cr_assert(strstr(err.msg, "needs guest RAM up to") && strstr(err.msg, "16 MiB"), "%s", err.msg);
	free(g.buf);
	free(img);
}

Test(boot_bzimage, real_truncated)
{
	size_t len;
	uint8_t *img = real_bzimage(&len);
	struct kernel_info ki;
	struct cl_error err = { 0 };
	size_t setup = (size_t)((img[0x1f1] ? img[0x1f1] : 4) + 1) * 512;
	size_t cuts[] = { 0, 1, 0x1f1, 0x202, 0x205, 0x206, 0x26b, 0x26c, setup - 1, setup, setup + 1, len / 2, len - 1 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		/* a right-sized copy, so ASan sees any read past the cut */
		uint8_t *c = malloc(cuts[i] ? cuts[i] : 1);
		memcpy(c, img, cuts[i]);
		cl_err_clear(&err);
		cr_assert_lt(kernel_probe(c, cuts[i], &ki, &err), 0, "accepted %zu of %zu bytes", cuts[i], len);
		cr_assert_neq(err.msg[0], '\0', "no message for %zu bytes", cuts[i]);
		free(c);
	}
	free(img);
}

Test(boot_bzimage, relocatable_load_address)
{
	struct kernel_info ki;
	struct cl_error err = { 0 };
	struct bz_opts o = BZ_DEFAULT;

	cr_assert_eq(probe_opts(&o, &ki, &err), 0, "%s", err.msg);
	cr_assert_eq(ki.load_addr, 0x1000000);
	cr_assert_eq(ki.entry, 0x1000200);
	cr_assert_eq(ki.kernel_end, 0x1000000 + 0x800000);
	cr_assert_eq(ki.cmdline_max, 2047);
	cr_assert_eq(ki.initrd_max, 0x7fffffff);
	cr_assert_eq(ki.setup_size, 5 * 512);
	cr_assert_eq(ki.pm_size, 4096);

	/* "kernel_alignment": an unaligned pref_address is rounded up */
	o.pref = 0x1100000;
	cr_assert_eq(probe_opts(&o, &ki, &err), 0, "%s", err.msg);
	cr_assert_eq(ki.load_addr, 0x1200000);
	/* no pref_address: 1 MiB rounded up to the alignment */
	o.pref = 0;
	cr_assert_eq(probe_opts(&o, &ki, &err), 0, "%s", err.msg);
	cr_assert_eq(ki.load_addr, 0x200000);
	/* the kernel would move itself up there: no RAM for it */
	o.pref = 0xfffffffffff00000ull;
	cr_assert_eq(probe_opts(&o, &ki, &err), -EINVAL);
	cr_assert(strstr(err.msg, "pref_address 0xfffffffffff00000 is beyond"), "%s", err.msg);
	o.pref = 0xbfe00000;   /* aligned start fits, init_size does not */
	cr_assert_eq(probe_opts(&o, &ki, &err), -EINVAL);
	cr_assert(strstr(err.msg, "needs memory beyond"), "%s", err.msg);
	/* init_size smaller than the file: the file decides */
	o = BZ_DEFAULT;
	o.init_size = 16;
	cr_assert_eq(probe_opts(&o, &ki, &err), 0, "%s", err.msg);
	cr_assert_eq(ki.kernel_end, 0x1000000 + 4096);
	/* cmdline_size is capped by the room layout.h gives the command line */
	o.cmdline_size = 0xffffffff;
	cr_assert_eq(probe_opts(&o, &ki, &err), 0, "%s", err.msg);
	cr_assert_eq(ki.cmdline_max, LAYOUT_CMDLINE_MAX - 1);
}

Test(boot_bzimage, fixed_load_address)
{
	struct kernel_info ki;
	struct cl_error err = { 0 };
	struct bz_opts o = BZ_DEFAULT;
	o.reloc = 0;
	o.align = 0;   /* ignored when not relocatable */
	cr_assert_eq(probe_opts(&o, &ki, &err), 0, "%s", err.msg);
	cr_assert_eq(ki.load_addr, 0x100000);
	cr_assert_eq(ki.entry, 0x100200);
	cr_assert_eq(ki.runtime_start, 0x1000000);
	cr_assert_eq(ki.kernel_end, 0x1800000);

	o.pref = 0x80000;   /* would run over the boot structures */
	cr_assert_eq(probe_opts(&o, &ki, &err), -EINVAL);
	cr_assert(strstr(err.msg, "below 1 MiB"), "%s", err.msg);
	o.pref = 0xfffffffffffff000ull;   /* run + init_size would wrap */
	cr_assert_eq(probe_opts(&o, &ki, &err), -EINVAL);
	cr_assert(strstr(err.msg, "needs memory beyond"), "%s", err.msg);
	o.pref = 0xbff00000;   /* fits the start, not init_size */
	cr_assert_eq(probe_opts(&o, &ki, &err), -EINVAL);
}

Test(boot_bzimage, setup_sects_zero_means_four)
{
	struct kernel_info ki;
	struct cl_error err = { 0 };
	struct bz_opts o = BZ_DEFAULT;
	o.setup_sects = 0;
	cr_assert_eq(probe_opts(&o, &ki, &err), 0, "%s", err.msg);
	cr_assert_eq(ki.setup_size, 5 * 512);
	o.setup_sects = 31;
	cr_assert_eq(probe_opts(&o, &ki, &err), 0, "%s", err.msg);
	cr_assert_eq(ki.setup_size, 32 * 512);
}

static void expect_reject(const struct bz_opts *o, const char *needle)
{
	struct kernel_info ki;
	struct cl_error err = { 0 };
	cr_assert_lt(probe_opts(o, &ki, &err), 0, "accepted (wanted '%s')", needle);
	cr_assert(strstr(err.msg, needle), "'%s' lacks '%s'", err.msg, needle);
	cr_assert_eq(strchr(err.msg, '\n'), NULL);
}

Test(boot_bzimage, rejects_old_or_32bit)
{
	struct bz_opts o = BZ_DEFAULT;
	o.version = 0x20b;
	expect_reject(&o, "bzImage boot protocol 2.11 is too old (the 64-bit entry needs 2.12)");
	o.version = 0x206;
	expect_reject(&o, "too old");
	o = BZ_DEFAULT;
	o.xlf = 0;
	expect_reject(&o, "XLF_KERNEL_64 clear");
	o = BZ_DEFAULT;
	o.loadflags = 0;
	expect_reject(&o, "zImage");
}

Test(boot_bzimage, rejects_malformed_header)
{
	struct bz_opts o = BZ_DEFAULT;
	o.syssize = 0;
	expect_reject(&o, "syssize is 0");
	o = BZ_DEFAULT;
	o.syssize = 0xffffffff;   /* 64 GiB claimed, 1 MiB present */
	expect_reject(&o, "truncated");
	o = BZ_DEFAULT;
	o.align = 0x300000;
	expect_reject(&o, "kernel_alignment 0x300000");
	o.align = 0;
	expect_reject(&o, "kernel_alignment");
	o = BZ_DEFAULT;
	o.jump_disp = 0x30;   /* header claims to end at 0x232: no 2.10 fields */
	expect_reject(&o, "setup header ends at 0x232");

	struct kernel_info ki;
	struct cl_error err = { 0 };
	size_t len;
	uint8_t *b = make_bz(&BZ_DEFAULT, &len);
	b[0x1fe] = 0;   /* boot_flag */
	cr_assert_eq(kernel_probe(b, len, &ki, &err), -EINVAL);
	cr_assert(strstr(err.msg, "boot_flag"), "%s", err.msg);
	b[0x1fe] = 0x55;
	b[0x1f1] = 255;   /* setup_sects huge: 128 KiB of setup in a 6.5 KiB file */
	cr_assert_eq(kernel_probe(b, len, &ki, &err), -EINVAL);
	cr_assert(strstr(err.msg, "truncated") && strstr(err.msg, "setup 131072"), "%s", err.msg);
	b[0x1f1] = 4;
	b[0x202] = 'X';   /* no HdrS: and not an ELF either */
	cr_assert_eq(kernel_probe(b, len, &ki, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "not a bzImage (no HdrS magic at 0x202) and not an ELF (6656 bytes)");
	free(b);
}

Test(boot_bzimage, not_a_kernel)
{
	struct kernel_info ki;
	struct cl_error err = { 0 };
	cr_assert_eq(kernel_probe(NULL, 0, &ki, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "not a bzImage (no HdrS magic at 0x202) and not an ELF (0 bytes)");
	uint8_t junk[4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	cr_assert_eq(kernel_probe(junk, sizeof(junk), &ki, &err), -EINVAL);
	cr_assert(strstr(err.msg, "not a bzImage"), "%s", err.msg);
	/* the name of a file never matters, only "HdrS": a header cut before it */
	uint8_t *h = malloc(0x205);
	memset(h, 0, 0x205);
	memcpy(h + 0x202, "Hdr", 3);
	cr_assert_eq(kernel_probe(h, 0x205, &ki, &err), -EINVAL);
	free(h);
}

Test(boot_bzimage, truncated_at_every_length)
{
	size_t len;
	uint8_t *full = make_bz(&BZ_DEFAULT, &len);
	struct kernel_info ki;
	struct cl_error err = { 0 };
	for (size_t n = 0; n < len; n++) {
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, full, n);
		cr_assert_lt(kernel_probe(c, n, &ki, &err), 0, "accepted a %zu-byte cut of %zu", n, len);
		free(c);
	}
	cr_assert_eq(kernel_probe(full, len, &ki, &err), 0, "%s", err.msg);
	free(full);
}

Test(boot_bzimage, load_rechecks_image)
{
	size_t len;
	uint8_t *b = make_bz(&BZ_DEFAULT, &len);
	struct kernel_info ki;
	struct cl_error err = { 0 };
	struct guest g;
	cr_assert_eq(kernel_probe(b, len, &ki, &err), 0, "%s", err.msg);
	guest_new(&g, 64 * MiB);
	cr_assert_eq(kernel_load(b, len, &ki, &g.m, &err), 0, "%s", err.msg);
	cr_assert_eq(memcmp(g.buf + 0x1000000, b + 5 * 512, 4096), 0);
	/* a shorter buffer than the probed one is refused, not over-read */
	cr_assert_eq(kernel_load(b, len - 1, &ki, &g.m, &err), -EINVAL);
	cr_assert(strstr(err.msg, "does not match its probe"), "%s", err.msg);
	free(g.buf);
	free(b);
}

/* Random corruption of the header and the setup sectors: probe must fail
 * cleanly or yield a self-consistent result that loads without stray
 * accesses (run under ASan/UBSan by `make SAN=1 unit`). */
Test(boot_bzimage, fuzz_header)
{
	size_t len;
	uint8_t *orig = make_bz(&BZ_DEFAULT, &len);
	uint8_t *b = malloc(len);
	struct guest g;
	guest_new(&g, 32 * MiB);
	uint64_t s = 0x9e3779b97f4a7c15ull;
	int accepted = 0;
	for (int it = 0; it < 20000; it++) {
		memcpy(b, orig, len);
		int flips = 1 + it % 4;
		for (int k = 0; k < flips; k++) {
			s ^= s << 13, s ^= s >> 7, s ^= s << 17;
			size_t off = 0x1f1 + (s >> 8) % (0x270 - 0x1f1);
			b[off] = (uint8_t)(s >> 40);
		}
		size_t n = (it % 7 == 0) ? (size_t)((s >> 20) % len) : len;
		struct kernel_info ki;
		struct cl_error err = { 0 };
		if (kernel_probe(b, n, &ki, &err) < 0) {
			cr_assert_neq(err.msg[0], '\0');
			continue;
		}
		accepted++;
		cr_assert_geq(ki.load_addr, 0x100000);
		cr_assert_leq(ki.kernel_end, LAYOUT_MMIO_START);
		cr_assert_eq(ki.entry, ki.load_addr + 0x200);
		cr_assert_leq(ki.pm_offset + ki.pm_size, n);
		if (kernel_load(b, n, &ki, &g.m, &err) == 0) {
			struct boot_setup bs = { .cmdline = "console=ttyS0" };
			if (ki.cmdline_max >= 13)
				cr_assert_eq(boot_params_write(b, n, &ki, &bs, &g.m, &err), 0, "%s", err.msg);
		}
	}
	cr_log_info("%d of 20000 mutants accepted", accepted);
	cr_assert_gt(accepted, 0);
	free(g.buf);
	free(b);
	free(orig);
}
