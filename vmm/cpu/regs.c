/* Descriptor tables, page tables and registers at the kernel's entry.
 * Linux 64-bit boot protocol (Documentation/arch/x86/boot.rst §"64-bit BOOT
 * PROTOCOL"): long mode, paging with an identity map covering the kernel,
 * zero page and command line, a GDT with __BOOT_CS (0x10)/__BOOT_DS (0x18)
 * style flat segments, interrupts off, rsi = zero page.
 * PVH (xen/include/public/arch-x86/hvm/start_info.h): 32-bit protected mode,
 * paging off, flat 4 GiB CS/DS/ES/SS, ebx = hvm_start_info. */
#include <errno.h>
#include <string.h>

#include "../layout.h"
#include "cpu.h"

#define X86_CR0_PE   (1ULL << 0)
#define X86_CR0_ET   (1ULL << 4)
#define X86_CR0_PG   (1ULL << 31)
#define X86_CR4_PAE  (1ULL << 5)
#define EFER_LME     (1ULL << 8)
#define EFER_LMA     (1ULL << 10)
#define PTE_PRESENT  (1ULL << 0)
#define PTE_RW       (1ULL << 1)
#define PTE_PS       (1ULL << 7)   /* 2 MiB page in a PD entry */

uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(flags & 0xf0ffu) << 40) |
	       ((uint64_t)(limit & 0x000f0000u) << 32) | ((uint64_t)(base & 0x00ffffffu) << 16) |
	       (uint64_t)(limit & 0x0000ffffu);
}

void gdt_segment(uint64_t d, uint16_t index, struct kvm_segment *s)
{
	memset(s, 0, sizeof(*s));
	s->base = (uint32_t)(((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24));
	uint32_t limit = (uint32_t)((d & 0xffff) | (((d >> 48) & 0xf) << 16));
	s->g = (d >> 55) & 1;
	/* with G set the limit counts 4 KiB pages; KVM wants it in bytes */
	s->limit = s->g ? (limit << 12) | 0xfff : limit;
	s->selector = (uint16_t)(index * 8);
	s->type = (d >> 40) & 0xf;
	s->s = (d >> 44) & 1;
	s->dpl = (d >> 45) & 3;
	s->present = (d >> 47) & 1;
	s->avl = (d >> 52) & 1;
	s->l = (d >> 53) & 1;
	s->db = (d >> 54) & 1;
	s->unusable = !s->present;
}

void gdt_build(uint64_t gdt[GDT_NENTRIES])
{
	gdt[GDT_NULL] = 0;
	gdt[GDT_CODE32] = gdt_entry(0xc09b, 0, 0xfffff);  /* G, D/B, P, code r/x accessed */
	gdt[GDT_CODE64] = gdt_entry(0xa09b, 0, 0xfffff);  /* G, L, P, code r/x accessed */
	gdt[GDT_DATA] = gdt_entry(0xc093, 0, 0xfffff);    /* G, D/B, P, data r/w accessed */
	gdt[GDT_TSS] = gdt_entry(0x008b, 0, 0x67);        /* P, busy 32-bit TSS, 104 bytes (PVH ABI) */
}

int cpu_tables_write(const struct guest_mem *m)
{
	uint64_t pml4[512] = { 0 }, pdpt[512] = { 0 }, pd[512];
	pml4[0] = LAYOUT_PDPT | PTE_PRESENT | PTE_RW;
	for (uint64_t i = 0; i < LAYOUT_PD_COUNT; i++) {
		uint64_t pd_gpa = LAYOUT_PD + i * 4096;
		pdpt[i] = pd_gpa | PTE_PRESENT | PTE_RW;
		for (uint64_t j = 0; j < 512; j++)
			pd[j] = ((i * 512 + j) << 21) | PTE_PRESENT | PTE_RW | PTE_PS;
		if (gmem_write(m, pd_gpa, pd, sizeof(pd)) < 0)
			return -EFAULT;
	}
	if (gmem_write(m, LAYOUT_PML4, pml4, sizeof(pml4)) < 0 ||
	    gmem_write(m, LAYOUT_PDPT, pdpt, sizeof(pdpt)) < 0)
		return -EFAULT;
	uint64_t gdt[GDT_NENTRIES];
	gdt_build(gdt);
	uint64_t idt = 0;
	if (gmem_write(m, LAYOUT_GDT, gdt, sizeof(gdt)) < 0 ||
	    gmem_write(m, LAYOUT_IDT, &idt, sizeof(idt)) < 0)
		return -EFAULT;
	return 0;
}

void cpu_boot_sregs(struct kvm_sregs *s, enum cpu_entry_mode mode)
{
	uint64_t gdt[GDT_NENTRIES];
	struct kvm_segment code, data, tss;
	gdt_build(gdt);
	int code_idx = mode == CPU_ENTRY_LINUX64 ? GDT_CODE64 : GDT_CODE32;
	gdt_segment(gdt[code_idx], (uint16_t)code_idx, &code);
	gdt_segment(gdt[GDT_DATA], GDT_DATA, &data);
	gdt_segment(gdt[GDT_TSS], GDT_TSS, &tss);

	s->gdt.base = LAYOUT_GDT;
	s->gdt.limit = sizeof(gdt) - 1;
	s->idt.base = LAYOUT_IDT;
	s->idt.limit = sizeof(uint64_t) - 1;
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = tss;
	if (mode == CPU_ENTRY_LINUX64) {
		s->cr0 |= X86_CR0_PE | X86_CR0_PG | X86_CR0_ET;
		s->cr3 = LAYOUT_PML4;
		s->cr4 |= X86_CR4_PAE;
		s->efer |= EFER_LME | EFER_LMA;
	} else {
		s->cr0 = (s->cr0 | X86_CR0_PE | X86_CR0_ET) & ~X86_CR0_PG;
		s->cr3 = 0;
		s->cr4 = 0;
		s->efer = 0;
	}
}

void cpu_boot_regs(struct kvm_regs *r, enum cpu_entry_mode mode, uint64_t entry)
{
	memset(r, 0, sizeof(*r));
	r->rflags = 0x2;   /* bit 1 is reserved and always 1; IF clear */
	r->rip = entry;
	if (mode == CPU_ENTRY_LINUX64) {
		r->rsp = r->rbp = LAYOUT_BOOT_STACK;
		r->rsi = LAYOUT_ZERO_PAGE;
	} else {
		r->rbx = LAYOUT_PVH_INFO;
	}
}
