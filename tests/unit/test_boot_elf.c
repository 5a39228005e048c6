/* ELF vmlinux with the PVH entry note: the real vmlinux when built,
 * synthetic and malformed ELF files always. */
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/boot/kernel.h"

#include "boot_fixtures.h"

#define real_vmlinux(len) real_image("vmlinux", (len))

/* one ELF note: header, name and value each padded to `align` */
static size_t put_note(uint8_t *p, const char *name, uint32_t type, const void *desc, uint32_t dsz, size_t align)
{
	uint32_t nsz = (uint32_t)strlen(name) + 1;
	uint32_t w[3] = { nsz, dsz, type };
	memcpy(p, w, 12);
	size_t o = 12;
	memcpy(p + o, name, nsz);
	o += (nsz + align - 1) / align * align;
	memcpy(p + o, desc, dsz);
	o += (dsz + align - 1) / align * align;
	return o;
}

/* Synthetic vmlinux, 0x2800 bytes:
 *   0x0000 ELF header, 0x40 3 phdrs (LOAD, LOAD, NOTE)
 *   0x0100 notes: GNU build id, then Xen PHYS32_ENTRY = 0x100040
 *   0x1000 segment 0: 4 KiB file, 12 KiB memory at 0x100000 (8 KiB .bss)
 *   0x2000 segment 1: 2 KiB at 0x200000 */
#define SYN_LEN   0x2800
#define SYN_ENTRY 0x100040ull

static Elf64_Ehdr *EH(uint8_t *b) { return (Elf64_Ehdr *)b; }
static Elf64_Phdr *PH(uint8_t *b, int i) { return (Elf64_Phdr *)(b + 64) + i; }

static uint8_t *make_elf_note(uint32_t entry_size, size_t align)
{
	uint8_t *b = calloc(1, SYN_LEN);
	cr_assert(b);
	Elf64_Ehdr *eh = EH(b);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0xffffffff81000000ull;
	eh->e_phoff = 64;
	eh->e_ehsize = 64;
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 3;

	uint8_t id[20] = { 1, 2, 3 };
	size_t n = put_note(b + 0x100, "GNU", NT_GNU_BUILD_ID, id, sizeof(id), align);
	uint64_t e = SYN_ENTRY;
	n += put_note(b + 0x100 + n, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &e, entry_size, align);

	*PH(b, 0) = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0x1000, .p_vaddr = 0xffffffff80100000ull,
				  .p_paddr = 0x100000, .p_filesz = 0x1000, .p_memsz = 0x3000, .p_align = 0x1000 };
	*PH(b, 1) = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0x2000, .p_paddr = 0x200000,
				  .p_filesz = 0x800, .p_memsz = 0x800, .p_align = 0x1000 };
	*PH(b, 2) = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 0x100, .p_filesz = n, .p_align = align };
	for (int i = 0x1000; i < SYN_LEN; i++)
		b[i] = (uint8_t)(i * 13 + 5);
	return b;
}

static uint8_t *make_elf(void)
{
	return make_elf_note(8, 4);
}

/* the Xen note's header inside the synthetic file */
static uint32_t *xen_note(uint8_t *b)
{
	return (uint32_t *)(b + 0x100 + 12 + 4 + 20);
}

static void expect_reject(uint8_t *b, size_t len, const char *needle)
{
	struct kernel_info ki;
	struct cl_error err = { 0 };
	cr_assert_lt(kernel_probe(b, len, &ki, &err), 0, "accepted (wanted '%s')", needle);
	cr_assert(strstr(err.msg, needle), "'%s' lacks '%s'", err.msg, needle);
	cr_assert_eq(strchr(err.msg, '\n'), NULL);
}

Test(boot_elf, real_vmlinux_probe)
{
	size_t len;
	uint8_t *img = real_vmlinux(&len);
	struct kernel_info ki;
	struct cl_error err = { 0 };
	cr_assert_eq(kernel_probe(img, len, &ki, &err), 0, "%s", err.msg);
	cr_assert_eq(ki.format, KERNEL_ELF_PVH);
	cr_assert_eq(ki.protocol, 0);
	cr_assert_eq(ki.cmdline_max, 2047);
	cr_assert_eq(ki.initrd_max, 0xffffffffull);

	/* independent look-up: the raw "Xen" PHYS32_ENTRY note bytes */
	static const uint8_t pat[] = { 4, 0, 0, 0, 8, 0, 0, 0, 18, 0, 0, 0, 'X', 'e', 'n', 0 };
	const uint8_t *p = memmem(img, len, pat, sizeof(pat));
	cr_assert(p, "vmlinux has no 8-byte Xen PHYS32_ENTRY note: CONFIG_PVH off?");
	uint64_t want;
	memcpy(&want, p + sizeof(pat), 8);
	cr_assert_eq(ki.entry, want);
	cr_assert_lt(ki.entry, 1ull << 32);
	cr_assert(ki.entry >= ki.load_addr && ki.entry < ki.kernel_end);

	/* load_addr/kernel_end span the PT_LOAD segments */
	Elf64_Ehdr eh;
	memcpy(&eh, img, sizeof(eh));
	uint64_t lo = UINT64_MAX, hi = 0;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		lo = ph.p_paddr < lo ? ph.p_paddr : lo;
		hi = ph.p_paddr + ph.p_memsz > hi ? ph.p_paddr + ph.p_memsz : hi;
	}
	cr_assert_eq(ki.load_addr, lo);
	cr_assert_eq(ki.kernel_end, hi);
	free(img);
}

Test(boot_elf, real_vmlinux_load_and_start_info)
{
	size_t len;
	uint8_t *img = real_vmlinux(&len);
	struct kernel_info ki;
	struct cl_error err = { 0 };
	cr_assert_eq(kernel_probe(img, len, &ki, &err), 0, "%s", err.msg);

	struct guest g;
	guest_new(&g, 64 * MiB);
	memset(g.buf, 0xaa, 64 * MiB);   /* to see .bss zeroed */
	cr_assert_eq(kernel_load(img, len, &ki, &g.m, &err), 0, "%s", err.msg);
	Elf64_Ehdr eh;
	memcpy(&eh, img, sizeof(eh));
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		cr_assert_eq(memcmp(g.buf + ph.p_paddr, img + ph.p_offset, ph.p_filesz), 0, "segment %d", i);
		for (uint64_t o = ph.p_filesz; o < ph.p_memsz; o += 4093)
			cr_assert_eq(g.buf[ph.p_paddr + o], 0, "segment %d .bss at +%llu", i, (unsigned long long)o);
	}

	uint64_t initrd;
	cr_assert_eq(initrd_place(&ki, &g.m, 3 * MiB + 5, &initrd, &err), 0, "%s", err.msg);
	struct boot_setup bs = { .cmdline = "console=ttyS0 panic=-1", .initrd_gpa = initrd,
				 .initrd_size = 3 * MiB + 5, .rsdp_gpa = 0xe0000 };
	cr_assert_eq(boot_params_write(img, len, &ki, &bs, &g.m, &err), 0, "%s", err.msg);

	struct hvm_start_info si;
	memcpy(&si, g.buf + LAYOUT_PVH_INFO, sizeof(si));
	cr_assert_eq(si.magic, 0x336ec578);
	cr_assert_eq(si.version, 1);
	cr_assert_eq(si.flags, 0);
	cr_assert_eq(si.cmdline_paddr, LAYOUT_CMDLINE);
	cr_assert_str_eq((char *)g.buf + LAYOUT_CMDLINE, "console=ttyS0 panic=-1");
	cr_assert_eq(si.rsdp_paddr, 0xe0000);
	cr_assert_eq(si.nr_modules, 1);
	struct hvm_modlist_entry mod;
	memcpy(&mod, g.buf + si.modlist_paddr, sizeof(mod));
	cr_assert_eq(mod.paddr, initrd);
	cr_assert_eq(mod.size, 3 * MiB + 5);
	cr_assert_eq(mod.cmdline_paddr, 0);

	struct e820_entry e[8];
	int n = e820_build(&g.m, e, 8);
	cr_assert_eq(si.memmap_entries, (uint32_t)n);
	cr_assert_eq(si.reserved, 0);
	for (int i = 0; i < n; i++) {
		struct hvm_memmap_table_entry mm;
		memcpy(&mm, g.buf + si.memmap_paddr + i * sizeof(mm), sizeof(mm));
		cr_assert_eq(mm.addr, e[i].addr);
		cr_assert_eq(mm.size, e[i].size);
		cr_assert_eq(mm.type, e[i].type);
		cr_assert_eq(mm.reserved, 0);
	}
	/* no zero page for PVH */
	cr_assert_eq(g.buf[LAYOUT_ZERO_PAGE + 0x202], 0xaa);
	free(g.buf);

	guest_new(&g, 16 * MiB);
	cr_assert_eq(kernel_load(img, len, &ki, &g.m, &err), -ENOSPC);
	cr_assert(strstr(err.msg, "16 MiB"), "%s", err.msg);
	free(g.buf);
	free(img);
}

Test(boot_elf, synthetic)
{
	uint8_t *b = make_elf();
	struct kernel_info ki;
	struct cl_error err = { 0 };
	cr_assert_eq(kernel_probe(b, SYN_LEN, &ki, &err), 0, "%s", err.msg);
	cr_assert_eq(ki.format, KERNEL_ELF_PVH);
	cr_assert_eq(ki.entry, SYN_ENTRY);
	cr_assert_eq(ki.load_addr, 0x100000);
	cr_assert_eq(ki.kernel_end, 0x200800);
	cr_assert_eq(ki.nload, 2);

	struct guest g;
	guest_new(&g, 8 * MiB);
	memset(g.buf, 0xaa, 8 * MiB);
	cr_assert_eq(kernel_load(b, SYN_LEN, &ki, &g.m, &err), 0, "%s", err.msg);
	cr_assert_eq(memcmp(g.buf + 0x100000, b + 0x1000, 0x1000), 0);
	cr_assert_eq(memcmp(g.buf + 0x200000, b + 0x2000, 0x800), 0);
	for (int i = 0x101000; i < 0x103000; i++)
		cr_assert_eq(g.buf[i], 0, ".bss at 0x%x", i);
	cr_assert_eq(g.buf[0x103000], 0xaa);
	cr_assert_eq(g.buf[0x200800], 0xaa);
	free(g.buf);

	/* RAM ending inside the second segment */
	guest_new(&g, 0x200400);
	cr_assert_eq(kernel_load(b, SYN_LEN, &ki, &g.m, &err), -ENOSPC);
	cr_assert(strstr(err.msg, "needs guest RAM up to 0x200800"), "%s", err.msg);
	free(g.buf);
	free(b);
}

Test(boot_elf, note_variants)
{
	struct kernel_info ki;
	struct cl_error err = { 0 };
	/* pvh.pandoc's ELFNOTE(..., .long, ...): a 4-byte value */
	uint8_t *b = make_elf_note(4, 4);
	cr_assert_eq(kernel_probe(b, SYN_LEN, &ki, &err), 0, "%s", err.msg);
	cr_assert_eq(ki.entry, SYN_ENTRY);
	free(b);
	/* gABI 8-byte note padding when the segment says p_align 8 */
	b = make_elf_note(8, 8);
	cr_assert_eq(kernel_probe(b, SYN_LEN, &ki, &err), 0, "%s", err.msg);
	cr_assert_eq(ki.entry, SYN_ENTRY);
	free(b);
	b = make_elf_note(2, 4);
	expect_reject(b, SYN_LEN, "PVH entry note has a 2-byte value");
	free(b);
}

Test(boot_elf, no_pvh_note)
{
	uint8_t *b = make_elf();
	struct kernel_info ki;
	struct cl_error err = { 0 };
	PH(b, 2)->p_type = PT_NULL;
	cr_assert_eq(kernel_probe(b, SYN_LEN, &ki, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "ELF vmlinux without a PVH entry note (CONFIG_PVH)");
	/* a Xen note of another type, or another owner's type 18, is not it */
	PH(b, 2)->p_type = PT_NOTE;
	xen_note(b)[2] = 17;
	cr_assert_eq(kernel_probe(b, SYN_LEN, &ki, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "ELF vmlinux without a PVH entry note (CONFIG_PVH)");
	xen_note(b)[2] = 18;
	memcpy(&xen_note(b)[3], "Xem", 4);
	cr_assert_eq(kernel_probe(b, SYN_LEN, &ki, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "ELF vmlinux without a PVH entry note (CONFIG_PVH)");
	free(b);
	/* the note segment cut short of the Xen note */
	b = make_elf();
	PH(b, 2)->p_filesz = 36 + 12 + 4 + 4;   /* half its value */
	expect_reject(b, SYN_LEN, "past its end");
	PH(b, 2)->p_filesz = 36 + 10;           /* half its header */
	expect_reject(b, SYN_LEN, "without a PVH entry note");
	PH(b, 2)->p_filesz = 36;
	expect_reject(b, SYN_LEN, "without a PVH entry note");
	free(b);
}

Test(boot_elf, note_lengths_lie)
{
	uint8_t *b = make_elf();
	xen_note(b)[0] = 0xffffffff;   /* namesz */
	expect_reject(b, SYN_LEN, "claims 4294967295+8 bytes");
	free(b);
	b = make_elf();
	xen_note(b)[1] = 0xfffffff0;   /* descsz */
	expect_reject(b, SYN_LEN, "past its end");
	free(b);
	b = make_elf();
	((uint32_t *)(b + 0x100))[1] = 0x7fffffff;   /* the GNU note before it */
	expect_reject(b, SYN_LEN, "past its end");
	free(b);
	b = make_elf();
	PH(b, 2)->p_offset = SYN_LEN - 8;   /* note segment past EOF */
	expect_reject(b, SYN_LEN, "note segment 2");
	PH(b, 2)->p_offset = UINT64_MAX - 4;
	expect_reject(b, SYN_LEN, "note segment 2");
	free(b);
}

Test(boot_elf, bad_headers)
{
	uint8_t *b = make_elf();
	EH(b)->e_ident[EI_CLASS] = ELFCLASS32;
	expect_reject(b, SYN_LEN, "not ELFCLASS64");
	free(b);
	b = make_elf();
	EH(b)->e_ident[EI_DATA] = ELFDATA2MSB;
	expect_reject(b, SYN_LEN, "little-endian");
	free(b);
	b = make_elf();
	EH(b)->e_machine = EM_386;
	expect_reject(b, SYN_LEN, "not x86-64");
	free(b);
	b = make_elf();
	EH(b)->e_type = ET_DYN;
	expect_reject(b, SYN_LEN, "not an executable");
	free(b);
	b = make_elf();
	EH(b)->e_phentsize = 32;
	expect_reject(b, SYN_LEN, "program header size 32");
	free(b);
	b = make_elf();
	EH(b)->e_phnum = 0;
	expect_reject(b, SYN_LEN, "with 0 program headers");
	free(b);
}

Test(boot_elf, phdrs_past_eof)
{
	uint8_t *b = make_elf();
	EH(b)->e_phoff = SYN_LEN - 100;
	expect_reject(b, SYN_LEN, "program headers (3 at offset 10140) run past the end");
	EH(b)->e_phoff = UINT64_MAX - 10;   /* phoff + size wraps */
	expect_reject(b, SYN_LEN, "run past the end");
	EH(b)->e_phoff = 64;
	EH(b)->e_phnum = 0xfffe;
	expect_reject(b, SYN_LEN, "run past the end");
	free(b);
}

Test(boot_elf, segments_malformed)
{
	uint8_t *b = make_elf();
	PH(b, 1)->p_offset = SYN_LEN - 0x100;   /* file data past EOF */
	expect_reject(b, SYN_LEN, "ELF segment 1 (2048 bytes at offset 9984) runs past the end of the 10240-byte file");
	PH(b, 1)->p_offset = UINT64_MAX - 0x100;
	expect_reject(b, SYN_LEN, "runs past the end");
	free(b);

	b = make_elf();
	PH(b, 1)->p_filesz = 0x1000;   /* filesz > memsz */
	PH(b, 1)->p_offset = 0x1000;
	expect_reject(b, SYN_LEN, "filesz 4096 > memsz 2048");
	free(b);

	b = make_elf();
	PH(b, 1)->p_memsz = UINT64_MAX - 0x1000;   /* paddr + memsz wraps */
	expect_reject(b, SYN_LEN, "reaches past 0xc0000000");
	PH(b, 1)->p_memsz = 0x800;
	PH(b, 1)->p_paddr = 0xbffff900;   /* straddles the MMIO window */
	expect_reject(b, SYN_LEN, "reaches past 0xc0000000");
	PH(b, 1)->p_paddr = 0x1000000000ull;
	expect_reject(b, SYN_LEN, "reaches past");
	free(b);

	b = make_elf();
	PH(b, 1)->p_paddr = 0x102000;   /* inside segment 0's .bss */
	expect_reject(b, SYN_LEN, "ELF segments 0 and 1 overlap at 0x102000");
	PH(b, 1)->p_paddr = 0xff800;    /* just below 1 MiB, adjacent to segment 0 */
	expect_reject(b, SYN_LEN, "below 1 MiB");
	PH(b, 1)->p_paddr = 0x7000;     /* the zero page */
	expect_reject(b, SYN_LEN, "ELF segment 1 at 0x7000 is below 1 MiB");
	free(b);

	b = make_elf();
	PH(b, 0)->p_type = PT_NULL;
	PH(b, 1)->p_type = PT_NULL;
	expect_reject(b, SYN_LEN, "no loadable segment");
	free(b);
}

Test(boot_elf, entry_outside_segments)
{
	uint8_t *b = make_elf();
	uint64_t e = 0x300000;
	memcpy(&xen_note(b)[4], &e, 8);
	expect_reject(b, SYN_LEN, "PVH entry 0x300000 is outside the loadable segments");
	e = 0x100000100000ull;
	memcpy(&xen_note(b)[4], &e, 8);
	expect_reject(b, SYN_LEN, "outside");
	free(b);
}

Test(boot_elf, truncated_at_every_length)
{
	uint8_t *full = make_elf();
	struct kernel_info ki;
	struct cl_error err = { 0 };
	for (size_t n = 0; n < SYN_LEN; n++) {
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, full, n);
		cr_assert_lt(kernel_probe(c, n, &ki, &err), 0, "accepted a %zu-byte cut", n);
		free(c);
	}
	cr_assert_eq(kernel_probe(full, SYN_LEN, &ki, &err), 0, "%s", err.msg);
	free(full);
}

Test(boot_elf, load_rechecks_image)
{
	uint8_t *b = make_elf();
	struct kernel_info ki;
	struct cl_error err = { 0 };
	cr_assert_eq(kernel_probe(b, SYN_LEN, &ki, &err), 0, "%s", err.msg);
	struct guest g;
	guest_new(&g, 8 * MiB);
	cr_assert_eq(kernel_load(b, 0x2400, &ki, &g.m, &err), -EINVAL);
	cr_assert(strstr(err.msg, "does not match its probe"), "%s", err.msg);
	cr_assert_eq(kernel_load(b, 100, &ki, &g.m, &err), -EINVAL);
	free(g.buf);
	free(b);
}

/* Random corruption of headers and notes; under `make SAN=1 unit` any
 * stray read or overflow aborts the test. */
Test(boot_elf, fuzz_headers)
{
	uint8_t *orig = make_elf();
	uint8_t *b = malloc(SYN_LEN);
	struct guest g;
	guest_new(&g, 4 * MiB);
	uint64_t s = 0x2545f4914f6cdd1dull;
	int accepted = 0;
	for (int it = 0; it < 20000; it++) {
		memcpy(b, orig, SYN_LEN);
		int flips = 1 + it % 4;
		for (int k = 0; k < flips; k++) {
			s ^= s << 13, s ^= s >> 7, s ^= s << 17;
			size_t off = (s >> 8) % 0x180;
			b[off] = (uint8_t)(s >> 40);
		}
		size_t n = (it % 5 == 0) ? (size_t)((s >> 24) % SYN_LEN) : SYN_LEN;
		struct kernel_info ki;
		struct cl_error err = { 0 };
		if (kernel_probe(b, n, &ki, &err) < 0) {
			cr_assert_neq(err.msg[0], '\0');
			continue;
		}
		accepted++;
		cr_assert_geq(ki.load_addr, 0x100000);
		cr_assert_leq(ki.kernel_end, LAYOUT_MMIO_START);
		cr_assert(ki.entry >= ki.load_addr && ki.entry < ki.kernel_end);
		if (kernel_load(b, n, &ki, &g.m, &err) == 0) {
			struct boot_setup bs = { .cmdline = "x" };
			cr_assert_eq(boot_params_write(b, n, &ki, &bs, &g.m, &err), 0, "%s", err.msg);
		}
	}
	cr_log_info("%d of 20000 mutants accepted", accepted);
	cr_assert_gt(accepted, 0);
	free(g.buf);
	free(b);
	free(orig);
}
