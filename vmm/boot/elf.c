/* ELF vmlinux entered through Xen's PVH direct boot ABI: PT_LOAD segments
 * at their physical addresses, entry point from the XEN_ELFNOTE_PHYS32_ENTRY
 * note (docs/misc/pvh.pandoc; Linux: arch/x86/platform/pvh/head.S). */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "kernel.h"

#define MAX_LOAD 64   /* a vmlinux has about 5; the overlap check is quadratic */

typedef unsigned long long ull;

static int phdrs_ok(size_t len, uint64_t phoff, uint64_t phnum)
{
	return phoff <= len && phnum * sizeof(Elf64_Phdr) <= len - phoff;
}

static void phdr_get(const uint8_t *img, uint64_t phoff, unsigned i, Elf64_Phdr *ph)
{
	memcpy(ph, img + phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

static int in_file(size_t len, uint64_t off, uint64_t n)
{
	return off <= len && n <= len - off;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Scan one PT_NOTE segment. Returns 1 with *entry set when the PVH note is
 * there, 0 when not, negative on a malformed note. Every length is checked
 * against the segment: namesz/descsz are 32-bit, so the sums cannot wrap. */
static int pvh_note(const uint8_t *p, uint64_t n, uint64_t align, unsigned seg,
		    uint64_t *entry, struct cl_error *err)
{
	uint64_t pos = 0;
	while (n - pos >= 12) {
		uint32_t w[3];   /* namesz, descsz, type */
		memcpy(w, p + pos, sizeof(w));
		uint64_t name = pos + 12;
		uint64_t desc = name + align_up(w[0], align);
		if (desc > n || w[1] > n - desc)
			return cl_err(err, EINVAL,
				      "ELF note at offset %llu of segment %u claims %u+%u bytes, past its end (%llu)",
				      (ull)pos, seg, w[0], w[1], (ull)n);
		if (w[0] == 4 && memcmp(p + name, "Xen", 4) == 0 && w[2] == XEN_ELFNOTE_PHYS32_ENTRY) {
			/* Linux emits _ASM_PTR (8 bytes), pvh.pandoc shows .long (4) */
			if (w[1] == 4) {
				uint32_t e;
				memcpy(&e, p + desc, 4);
				*entry = e;
			} else if (w[1] == 8) {
				memcpy(entry, p + desc, 8);
			} else {
				return cl_err(err, EINVAL, "PVH entry note has a %u-byte value (want 4 or 8)",
					      w[1]);
			}
			return 1;
		}
		uint64_t next = desc + align_up(w[1], align);
		if (next >= n)
			break;
		pos = next;
	}
	return 0;
}

int elf_probe(const uint8_t *img, size_t len, struct kernel_info *ki, struct cl_error *err)
{
	Elf64_Ehdr eh;

	if (len < sizeof(eh))
		return cl_err(err, EINVAL, "ELF truncated: %zu bytes, the ELF header is %zu", len, sizeof(eh));
	memcpy(&eh, img, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return cl_err(err, EINVAL, "ELF class %u is not ELFCLASS64 (need an x86-64 vmlinux)",
			      eh.e_ident[EI_CLASS]);
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return cl_err(err, EINVAL, "ELF is not little-endian");
	if (eh.e_ident[EI_VERSION] != EV_CURRENT || eh.e_version != EV_CURRENT)
		return cl_err(err, EINVAL, "ELF version %u is not 1", eh.e_version);
	if (eh.e_machine != EM_X86_64)
		return cl_err(err, EINVAL, "ELF machine %u is not x86-64 (%u)", eh.e_machine, EM_X86_64);
	if (eh.e_type != ET_EXEC)
		return cl_err(err, EINVAL, "ELF type %u is not an executable (ET_EXEC)", eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		return cl_err(err, EINVAL, "ELF program header size %u, expected %zu", eh.e_phentsize,
			      sizeof(Elf64_Phdr));
	if (eh.e_phnum == 0 || eh.e_phnum == PN_XNUM)
		return cl_err(err, EINVAL, "ELF with %u program headers is not supported", eh.e_phnum);
	if (!phdrs_ok(len, eh.e_phoff, eh.e_phnum))
		return cl_err(err, EINVAL,
			      "ELF program headers (%u at offset %llu) run past the end of the %zu-byte file",
			      eh.e_phnum, (ull)eh.e_phoff, len);

	struct { uint64_t lo, hi; unsigned idx; } seg[MAX_LOAD];
	unsigned nload = 0;
	uint64_t lo = UINT64_MAX, hi = 0, entry = 0;
	int found = 0;

	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		phdr_get(img, eh.e_phoff, i, &ph);
		if (ph.p_type == PT_LOAD && ph.p_memsz) {
			if (!in_file(len, ph.p_offset, ph.p_filesz))
				return cl_err(err, EINVAL,
					      "ELF segment %u (%llu bytes at offset %llu) runs past the end of the %zu-byte file",
					      i, (ull)ph.p_filesz, (ull)ph.p_offset, len);
			if (ph.p_filesz > ph.p_memsz)
				return cl_err(err, EINVAL, "ELF segment %u has filesz %llu > memsz %llu", i,
					      (ull)ph.p_filesz, (ull)ph.p_memsz);
			/* below 1 MiB live the VMM's boot structures (layout.h) */
			if (ph.p_paddr < LAYOUT_HIGH_MEM)
				return cl_err(err, EINVAL, "ELF segment %u at 0x%llx is below 1 MiB", i,
					      (ull)ph.p_paddr);
			/* also rules out paddr + memsz wrapping */
			if (ph.p_paddr >= LAYOUT_MMIO_START || ph.p_memsz > LAYOUT_MMIO_START - ph.p_paddr)
				return cl_err(err, EINVAL,
					      "ELF segment %u (0x%llx, %llu bytes) reaches past 0x%llx, the MMIO window",
					      i, (ull)ph.p_paddr, (ull)ph.p_memsz, (ull)LAYOUT_MMIO_START);
			if (nload == MAX_LOAD)
				return cl_err(err, EINVAL, "ELF has more than %d loadable segments", MAX_LOAD);
			uint64_t a = ph.p_paddr, b = ph.p_paddr + ph.p_memsz;
			for (unsigned j = 0; j < nload; j++)
				if (a < seg[j].hi && seg[j].lo < b)
					return cl_err(err, EINVAL,
						      "ELF segments %u and %u overlap at 0x%llx", seg[j].idx, i,
						      (ull)(a > seg[j].lo ? a : seg[j].lo));
			seg[nload].lo = a;
			seg[nload].hi = b;
			seg[nload++].idx = i;
			if (a < lo)
				lo = a;
			if (b > hi)
				hi = b;
		} else if (ph.p_type == PT_NOTE && !found) {
			if (!in_file(len, ph.p_offset, ph.p_filesz))
				return cl_err(err, EINVAL,
					      "ELF note segment %u (%llu bytes at offset %llu) runs past the end of the %zu-byte file",
					      i, (ull)ph.p_filesz, (ull)ph.p_offset, len);
			/* gABI: 8-byte padding in ELF64 notes; Linux and most tools use 4 */
			int r = pvh_note(img + ph.p_offset, ph.p_filesz, ph.p_align == 8 ? 8 : 4, i, &entry, err);
			if (r < 0)
				return r;
			found = r;
		}
	}
	if (!nload)
		return cl_err(err, EINVAL, "ELF has no loadable segment");
	if (!found)
		return cl_err(err, EINVAL, "ELF vmlinux without a PVH entry note (CONFIG_PVH)");
	/* the entry must be code we load; it is entered in 32-bit mode */
	int inside = 0;
	for (unsigned j = 0; j < nload; j++)
		inside |= entry >= seg[j].lo && entry < seg[j].hi;
	if (!inside)
		return cl_err(err, EINVAL, "PVH entry 0x%llx is outside the loadable segments", (ull)entry);

	memset(ki, 0, sizeof(*ki));
	ki->format = KERNEL_ELF_PVH;
	ki->entry = entry;
	ki->load_addr = lo;
	ki->kernel_end = hi;
	ki->cmdline_max = KERNEL_ELF_CMDLINE_MAX;
	ki->initrd_max = 0xffffffffull;   /* start_info addresses are 64-bit, but the PVH path reads 32 */
	ki->protocol = 0;
	ki->phoff = eh.e_phoff;
	ki->phnum = eh.e_phnum;
	ki->nload = (uint16_t)nload;
	return 0;
}

int elf_load(const uint8_t *img, size_t len, const struct kernel_info *ki,
	     const struct guest_mem *m, struct cl_error *err)
{
	/* ki may not describe img: every bound is checked again */
	if (!phdrs_ok(len, ki->phoff, ki->phnum))
		return cl_err(err, EINVAL, "image of %zu bytes does not match its probe (program headers)", len);
	for (unsigned i = 0; i < ki->phnum; i++) {
		Elf64_Phdr ph;
		phdr_get(img, ki->phoff, i, &ph);
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (!in_file(len, ph.p_offset, ph.p_filesz) || ph.p_filesz > ph.p_memsz ||
		    ph.p_paddr < LAYOUT_HIGH_MEM)
			return cl_err(err, EINVAL, "image does not match its probe (ELF segment %u)", i);
		uint8_t *dst = gmem_ptr(m, ph.p_paddr, ph.p_memsz);
		if (!dst)
			return cl_err(err, ENOSPC,
				      "ELF segment %u (0x%llx, %llu bytes) does not fit in %llu MiB of guest RAM",
				      i, (ull)ph.p_paddr, (ull)ph.p_memsz, (ull)(m->size >> 20));
		/* filesz from the file, the rest (.bss) zeroed */
		memcpy(dst, img + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
	return 0;
}
