/* VMM core logic without KVM: exit decoding, the I/O bus, CPU boot state,
 * guest memory bounds, config checks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/bus.h"
#include "../../vmm/console.h"
#include "../../vmm/cpu/cpu.h"
#include "../../vmm/cpu/exit.h"
#include "../../vmm/layout.h"
#include "../../vmm/mem.h"
#include "cloudlet/vmm.h"

#define RUN_SIZE 4096
static _Alignas(4096) uint8_t runbuf[RUN_SIZE];

Test(vmm_exit, io_out_inside_run)
{
	struct kvm_run *run = (struct kvm_run *)runbuf;
	struct vcpu_exit x;
	memset(runbuf, 0, sizeof(runbuf));
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = KVM_EXIT_IO_OUT;
	run->io.size = 1;
	run->io.port = 0x3f8;
	run->io.count = 3;
	run->io.data_offset = 4096 - 3;
	vcpu_exit_decode(run, RUN_SIZE, &x);
	cr_assert_eq(x.kind, VEXIT_IO);
	cr_assert_eq(x.addr, 0x3f8);
	cr_assert(x.write);
	cr_assert_eq(x.count, 3);
	cr_assert_eq(x.data, runbuf + 4093);
}

Test(vmm_exit, io_data_outside_run_is_bad)
{
	struct kvm_run *run = (struct kvm_run *)runbuf;
	struct vcpu_exit x;
	memset(runbuf, 0, sizeof(runbuf));
	run->exit_reason = KVM_EXIT_IO;
	run->io.size = 4;
	run->io.count = 2;
	run->io.data_offset = 4096 - 4;   /* second element past the end */
	vcpu_exit_decode(run, RUN_SIZE, &x);
	cr_assert_eq(x.kind, VEXIT_BAD);
	run->io.count = 0xffffffff;       /* size * count must not wrap */
	run->io.data_offset = 64;
	vcpu_exit_decode(run, RUN_SIZE, &x);
	cr_assert_eq(x.kind, VEXIT_BAD);
	run->io.count = 1;
	run->io.size = 3;
	vcpu_exit_decode(run, RUN_SIZE, &x);
	cr_assert_eq(x.kind, VEXIT_BAD);
	run->io.size = 8;                 /* no 8-byte port I/O on x86 */
	vcpu_exit_decode(run, RUN_SIZE, &x);
	cr_assert_eq(x.kind, VEXIT_BAD);
}

Test(vmm_exit, mmio_and_events)
{
	struct kvm_run *run = (struct kvm_run *)runbuf;
	struct vcpu_exit x;
	memset(runbuf, 0, sizeof(runbuf));
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = 0xd0000000;
	run->mmio.len = 4;
	run->mmio.is_write = 1;
	vcpu_exit_decode(run, RUN_SIZE, &x);
	cr_assert_eq(x.kind, VEXIT_MMIO);
	cr_assert_eq(x.addr, 0xd0000000);
	cr_assert_eq(x.data, run->mmio.data);
	run->mmio.len = 16;
	vcpu_exit_decode(run, RUN_SIZE, &x);
	cr_assert_eq(x.kind, VEXIT_BAD);

	struct { uint32_t reason, type; enum vcpu_exit_kind want; } cases[] = {
		{ KVM_EXIT_SHUTDOWN, 0, VEXIT_SHUTDOWN },
		{ KVM_EXIT_HLT, 0, VEXIT_HLT },
		{ KVM_EXIT_SYSTEM_EVENT, KVM_SYSTEM_EVENT_RESET, VEXIT_SYS_RESET },
		{ KVM_EXIT_SYSTEM_EVENT, KVM_SYSTEM_EVENT_SHUTDOWN, VEXIT_SYS_SHUTDOWN },
		{ KVM_EXIT_SYSTEM_EVENT, KVM_SYSTEM_EVENT_CRASH, VEXIT_SYS_CRASH },
		{ KVM_EXIT_SYSTEM_EVENT, 99, VEXIT_UNKNOWN },
		{ KVM_EXIT_INTERNAL_ERROR, 0, VEXIT_INTERNAL_ERROR },
		{ KVM_EXIT_FAIL_ENTRY, 0, VEXIT_FAIL_ENTRY },
		{ 12345, 0, VEXIT_UNKNOWN },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(runbuf, 0, sizeof(runbuf));
		run->exit_reason = cases[i].reason;
		run->system_event.type = cases[i].type;
		if (cases[i].reason == KVM_EXIT_INTERNAL_ERROR)
			run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
		vcpu_exit_decode(run, RUN_SIZE, &x);
		cr_assert_eq(x.kind, cases[i].want, "case %zu", i);
		cr_assert_str_neq(vcpu_exit_name(x.kind), "?");
	}
	memset(runbuf, 0, sizeof(runbuf));
	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	vcpu_exit_decode(run, RUN_SIZE, &x);
	cr_assert_eq(x.code, KVM_INTERNAL_ERROR_EMULATION);
}

static uint8_t last_write;
static uint64_t last_off;
static void dev_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	(void)dev;
	memset(data, (int)(0x10 + off), len);
}
static void dev_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)len;
	last_off = off;
	last_write = data[0];
}
static const struct bus_ops dev_ops = { dev_read, dev_write };

Test(vmm_bus, register_find_dispatch)
{
	struct bus b = { .name = "pio" };
	struct cl_error err = { 0 };
	cr_assert_eq(bus_register(&b, 0x3f8, 8, &dev_ops, NULL, "uart", &err), 0);
	cr_assert_eq(bus_register(&b, 0x60, 5, &dev_ops, NULL, "kbd", &err), 0);
	cr_assert_eq(bus_register(&b, 0x70, 2, &dev_ops, NULL, "cmos", &err), 0);
	cr_assert_eq(bus_register(&b, 0x3fc, 1, &dev_ops, NULL, "dup", &err), -EBUSY);
	cr_assert(strstr(err.msg, "overlaps uart"), "%s", err.msg);
	cr_assert_eq(bus_register(&b, 0x3f0, 9, &dev_ops, NULL, "dup2", &err), -EBUSY);
	cr_assert_eq(bus_register(&b, UINT64_MAX - 1, 4, &dev_ops, NULL, "wrap", &err), -EINVAL);
	cr_assert_eq(bus_register(&b, 0x10, 0, &dev_ops, NULL, "empty", &err), -EINVAL);
	cr_assert_eq(b.n, 3);
	cr_assert_eq(b.r[0].base, 0x60);   /* kept sorted */

	uint8_t d[4];
	cr_assert(bus_access(&b, 0x3f8 + 5, d, 1, false));
	cr_assert_eq(d[0], 0x15);
	d[0] = 0xab;
	cr_assert(bus_access(&b, 0x64, d, 1, true));
	cr_assert_eq(last_off, 4);
	cr_assert_eq(last_write, 0xab);
	cr_assert_not(bus_access(&b, 0x3ff, d, 2, false), "access running past the device");
	cr_assert_not(bus_access(&b, 0x80, d, 1, false));
	cr_assert_eq(d[0], 0xff, "unclaimed reads float high");
	cr_assert_null(bus_find(&b, 0x5f, 1));
	cr_assert_null(bus_find(&b, 0x72, 1));
	cr_assert_not_null(bus_find(&b, 0x71, 1));
}

Test(vmm_cpu, gdt_entries_and_segments)
{
	cr_assert_eq(gdt_entry(0xa09b, 0, 0xfffff), 0x00af9b000000ffffULL);
	cr_assert_eq(gdt_entry(0xc093, 0, 0xfffff), 0x00cf93000000ffffULL);
	struct kvm_segment s;
	gdt_segment(gdt_entry(0xa09b, 0, 0xfffff), GDT_CODE64, &s);
	cr_assert_eq(s.selector, 0x10, "boot.rst: __BOOT_CS is 0x10");
	cr_assert(s.l && s.g && s.present && s.s && !s.db);
	cr_assert_eq(s.limit, 0xffffffffu);
	cr_assert_eq(s.type, 0xb);
	gdt_segment(gdt_entry(0xc093, 0, 0xfffff), GDT_DATA, &s);
	cr_assert_eq(s.selector, 0x18, "boot.rst: __BOOT_DS is 0x18");
	cr_assert(s.db && !s.l);
	gdt_segment(0, GDT_NULL, &s);
	cr_assert(s.unusable);
}

Test(vmm_cpu, boot_state_per_entry_mode)
{
	struct kvm_sregs s;
	memset(&s, 0, sizeof(s));
	cpu_boot_sregs(&s, CPU_ENTRY_LINUX64);
	cr_assert(s.cs.l);
	cr_assert_eq(s.cs.selector, 0x10);
	cr_assert_eq(s.ss.selector, 0x18);
	cr_assert_eq(s.cr0 & 0x80000001ULL, 0x80000001ULL, "PE and PG");
	cr_assert_eq(s.cr3, LAYOUT_PML4);
	cr_assert(s.cr4 & (1 << 5), "PAE");
	cr_assert_eq(s.efer & 0x500, 0x500, "LME and LMA");
	cpu_boot_sregs(&s, CPU_ENTRY_PVH32);
	cr_assert(!s.cs.l && s.cs.db);
	cr_assert_eq(s.cr0 & 0x80000001ULL, 1, "PE without PG");
	cr_assert_eq(s.efer, 0);
	cr_assert_eq(s.cr4, 0);
	cr_assert_eq(s.tr.limit, 0x67);

	struct kvm_regs r;
	cpu_boot_regs(&r, CPU_ENTRY_LINUX64, 0x1000200);
	cr_assert_eq(r.rip, 0x1000200);
	cr_assert_eq(r.rsi, LAYOUT_ZERO_PAGE);
	cr_assert_eq(r.rflags, 2);
	cpu_boot_regs(&r, CPU_ENTRY_PVH32, 0x1000000);
	cr_assert_eq(r.rbx, LAYOUT_PVH_INFO);
}

Test(vmm_cpu, identity_page_tables)
{
	uint8_t *buf = calloc(1, 1 << 20);
	struct guest_mem m;
	gmem_layout(&m, buf, 1 << 20);
	cr_assert_eq(cpu_tables_write(&m), 0);
	uint64_t *pml4 = gmem_ptr(&m, LAYOUT_PML4, 4096), *pdpt = gmem_ptr(&m, LAYOUT_PDPT, 4096);
	cr_assert_eq(pml4[0], LAYOUT_PDPT | 3);
	cr_assert_eq(pml4[1], 0);
	for (int i = 0; i < LAYOUT_PD_COUNT; i++)
		cr_assert_eq(pdpt[i], (LAYOUT_PD + (uint64_t)i * 4096) | 3);
	uint64_t *pd = gmem_ptr(&m, LAYOUT_PD, 4096 * LAYOUT_PD_COUNT);
	cr_assert_eq(pd[0], 0x83);
	cr_assert_eq(pd[1], (2ULL << 20) | 0x83);
	cr_assert_eq(pd[4 * 512 - 1], ((4ULL << 30) - (2ULL << 20)) | 0x83, "maps up to 4 GiB");
	cr_assert_lt(LAYOUT_PD + 4096 * LAYOUT_PD_COUNT, LAYOUT_CMDLINE);
	/* too little RAM for the tables fails cleanly */
	gmem_layout(&m, buf, 0x9000);
	cr_assert_lt(cpu_tables_write(&m), 0);
	free(buf);
}

static struct kvm_cpuid2 *fake_cpuid(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 8 * sizeof(c->entries[0]));
	struct kvm_cpuid_entry2 e[] = {
		{ .function = 0, .eax = 0x1f },
		{ .function = 1, .ebx = 0xff0800, .ecx = 0, .edx = 0 },
		{ .function = 4, .index = 0, .eax = 0x121 },   /* L1 data cache */
		{ .function = 4, .index = 3, .eax = 0x163 },   /* L3 unified */
		{ .function = 0xb, .index = 0, .edx = 7 },
		{ .function = 0x1f, .index = 0 },
		{ .function = 0x80000008, .ecx = 0x3f },
	};
	c->nent = sizeof(e) / sizeof(e[0]);
	memcpy(c->entries, e, sizeof(e));
	return c;
}

Test(vmm_cpu, cpuid_identity_and_topology)
{
	struct kvm_cpuid2 *in = fake_cpuid();
	uint32_t cap = 16;
	struct kvm_cpuid2 *out = calloc(1, sizeof(*out) + cap * sizeof(out->entries[0]));
	cr_assert_eq(cpuid_build(in, out, cap, 3, 4), 0);
	int saw_b = 0;
	for (uint32_t i = 0; i < out->nent; i++) {
		struct kvm_cpuid_entry2 *e = &out->entries[i];
		cr_assert_neq(e->function, 0x1f, "leaf 0x1f is dropped");
		if (e->function == 1) {
			cr_assert_eq(e->ebx >> 24, 3, "initial APIC ID");
			cr_assert_eq((e->ebx >> 16) & 0xff, 4);
			cr_assert(e->ecx & (1u << 31), "hypervisor bit");
			cr_assert(e->edx & (1u << 28), "HTT with several CPUs");
			cr_assert_eq(e->ebx & 0xffff, 0x0800, "CLFLUSH size kept");
		}
		if (e->function == 4 && e->index == 0)
			cr_assert_eq(e->eax >> 26, 3);
		if (e->function == 4 && e->index == 3)
			cr_assert_eq((e->eax >> 14) & 0xfff, 3, "L3 shared by all 4");
		if (e->function == 0xb) {
			saw_b++;
			cr_assert_eq(e->edx, 3, "x2APIC ID");
			if (e->index == 1)
				cr_assert(e->eax == 2 && e->ebx == 4 && (e->ecx >> 8) == 2);
		}
		if (e->function == 0x80000008)
			cr_assert_eq(e->ecx & 0xff, 3);
	}
	cr_assert_eq(saw_b, 3);
	cr_assert_eq(cpuid_build(in, out, 4, 0, 1), -ENOSPC);
	free(in);
	free(out);
}

Test(vmm_mem, layout_and_bounds)
{
	struct guest_mem m;
	uint8_t *fake = (uint8_t *)0x100000;   /* never dereferenced */
	gmem_layout(&m, fake, 256ULL << 20);
	cr_assert_eq(m.nregions, 1);
	cr_assert_eq(gmem_low_end(&m), 256ULL << 20);
	cr_assert_eq(gmem_ptr(&m, 0, 256ULL << 20), fake);
	cr_assert_null(gmem_ptr(&m, 1, 256ULL << 20));
	cr_assert_null(gmem_ptr(&m, UINT64_MAX, 2), "wraps");
	cr_assert_null(gmem_ptr(&m, 256ULL << 20, 1));
	cr_assert_not_null(gmem_ptr(&m, 256ULL << 20, 0));

	gmem_layout(&m, fake, 4ULL << 30);
	cr_assert_eq(m.nregions, 2);
	cr_assert_eq(gmem_low_end(&m), LAYOUT_MMIO_START);
	cr_assert_eq(m.regions[1].gpa, 4ULL << 30);
	cr_assert_eq(m.regions[1].size, (4ULL << 30) - LAYOUT_MMIO_START);
	cr_assert_eq(gmem_ptr(&m, 4ULL << 30, 16), fake + LAYOUT_MMIO_START);
	cr_assert_null(gmem_ptr(&m, LAYOUT_MMIO_START - 8, 16), "straddles the MMIO hole");
	cr_assert_null(gmem_ptr(&m, LAYOUT_IOAPIC, 4), "no RAM in the MMIO window");
}

Test(vmm_config, checks)
{
	struct cl_error err = { 0 };
	struct vmm_config c = { .kernel = "k", .mem_size = 256ULL << 20, .ncpus = 1 };
	cr_assert_eq(vmm_config_check(&c, 8ULL << 30, 255, &err), 0);
	c.mem_size = 1 << 20;
	cr_assert_lt(vmm_config_check(&c, 8ULL << 30, 255, &err), 0);
	cr_assert(strstr(err.msg, "too small"), "%s", err.msg);
	c.mem_size = (64ULL << 20) + 1;
	cr_assert_lt(vmm_config_check(&c, 8ULL << 30, 255, &err), 0);
	c.mem_size = 16ULL << 30;
	cr_assert_eq(vmm_config_check(&c, 8ULL << 30, 255, &err), -ENOMEM);
	cr_assert(strstr(err.msg, "more than this host's 8192 MiB"), "%s", err.msg);
	c.mem_size = 256ULL << 20;
	c.ncpus = 0;
	cr_assert_lt(vmm_config_check(&c, 8ULL << 30, 255, &err), 0);
	cr_assert(strstr(err.msg, "--cpus 0 is out of range 1..255"), "%s", err.msg);
	c.ncpus = 256;
	cr_assert_lt(vmm_config_check(&c, 8ULL << 30, 255, &err), 0);
	c.ncpus = 2;
	c.kernel = NULL;
	cr_assert_lt(vmm_config_check(&c, 8ULL << 30, 255, &err), 0);
}

Test(vmm_console, escape_sequences)
{
	struct console_esc e = { 0 };
	uint8_t out[32];
	bool quit = false;
	size_t n = console_filter(&e, (const uint8_t *)"ab", 2, out, &quit);
	cr_assert_eq(n, 2);
	cr_assert_eq(memcmp(out, "ab", 2), 0);
	n = console_filter(&e, (const uint8_t *)"\x01\x01z\x01q", 5, out, &quit);
	cr_assert_eq(n, 4);
	cr_assert_eq(memcmp(out, "\x01z\x01q", 4), 0);
	cr_assert_not(quit);
	/* an escape split across two reads still counts */
	n = console_filter(&e, (const uint8_t *)"c\x01", 2, out, &quit);
	cr_assert_eq(n, 1);
	n = console_filter(&e, (const uint8_t *)"xyz", 3, out, &quit);
	cr_assert(quit);
	cr_assert_eq(n, 0);
}

Test(vmm_mem, alloc_is_2mib_aligned_for_huge_nested_pages)
{
	struct guest_mem m;
	struct cl_error err = { 0 };
	cr_assert_eq(gmem_alloc(&m, 64ULL << 20, &err), 0, "%s", err.msg);
	cr_assert_eq((uintptr_t)m.base & ((2u << 20) - 1), 0, "host address not 2 MiB aligned");
	memset(m.base + (64ULL << 20) - 4096, 0xa5, 4096);   /* the whole range is mapped */
	gmem_free(&m);
	cr_assert_null(m.base);
}
