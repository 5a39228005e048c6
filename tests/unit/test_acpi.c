/* ACPI tables (vmm/boot/acpi.c) built into a 2 MiB guest: every table
 * found from the RSDP, checksummed and decoded field by field; the DSDT's
 * AML compared byte for byte; and, where acpica-tools is installed, the
 * tables disassembled (and the DSDT recompiled) by iasl. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/boot/acpi.h"
#include "../../vmm/layout.h"

#define MEM_SIZE (2u << 20)

static uint8_t *host;
static struct guest_mem gm;
static struct cl_error err;

static void setup(void)
{
	host = calloc(1, MEM_SIZE);
	cr_assert_not_null(host);
	gmem_layout(&gm, host, MEM_SIZE);
	cl_err_clear(&err);
}

static void teardown(void)
{
	free(host);
}

TestSuite(acpi, .init = setup, .fini = teardown);

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

struct tables {
	uint64_t rsdp_gpa;
	const uint8_t *rsdp, *xsdt, *fadt, *madt, *dsdt;
};

/* A table at gpa with signature sig: whole, inside the ACPI window, checksummed. */
static const uint8_t *table(uint64_t gpa, const char *sig)
{
	cr_assert(gpa >= LAYOUT_ACPI && gpa < LAYOUT_ACPI_END, "%s at %#llx", sig,
		  (unsigned long long)gpa);
	const uint8_t *h = gmem_ptr(&gm, gpa, 36);
	cr_assert_not_null(h);
	cr_assert(memcmp(h, sig, 4) == 0, "expected %s at %#llx, found %.4s", sig,
		  (unsigned long long)gpa, (const char *)h);
	uint32_t len = rd32(h + 4);
	cr_assert_geq(len, 36);
	cr_assert_leq(gpa + len, LAYOUT_ACPI_END, "%s runs past the window", sig);
	const uint8_t *t = gmem_ptr(&gm, gpa, len);
	cr_assert_eq(sum8(t, len), 0, "%s checksum", sig);
	cr_assert(memcmp(t + 10, "CLOUDL", 6) == 0, "%s OEM id", sig);
	return t;
}

static void build_ok(const struct acpi_config *cfg, struct tables *t)
{
	memset(t, 0, sizeof(*t));
	int r = acpi_build(&gm, LAYOUT_ACPI, LAYOUT_ACPI_END, cfg, &t->rsdp_gpa, &err);
	cr_assert_eq(r, 0, "acpi_build: %d %s", r, err.msg);
	cr_assert_eq(t->rsdp_gpa, LAYOUT_ACPI);
	t->rsdp = gmem_ptr(&gm, t->rsdp_gpa, 36);
	cr_assert(memcmp(t->rsdp, "RSD PTR ", 8) == 0);
	t->xsdt = table(rd64(t->rsdp + 24), "XSDT");
	cr_assert_eq(rd32(t->xsdt + 4), 36 + 2 * 8, "XSDT holds two pointers");
	t->fadt = table(rd64(t->xsdt + 36), "FACP");
	t->madt = table(rd64(t->xsdt + 44), "APIC");
	t->dsdt = table(rd64(t->fadt + 140), "DSDT");
}

Test(acpi, rsdp)
{
	struct acpi_config cfg = { .ncpus = 1 };
	struct tables t;
	build_ok(&cfg, &t);
	const uint8_t *r = t.rsdp;
	cr_assert_eq(t.rsdp_gpa % 16, 0);
	cr_assert_eq(sum8(r, 20), 0, "ACPI 1.0 checksum over 20 bytes");
	cr_assert_eq(sum8(r, 36), 0, "extended checksum over 36 bytes");
	cr_assert(memcmp(r + 9, "CLOUDL", 6) == 0);
	cr_assert_eq(r[15], 2, "revision");
	cr_assert_eq(rd32(r + 16), 0, "no RSDT");
	cr_assert_eq(rd32(r + 20), 36, "length");
	cr_assert_eq(rd64(r + 24), (uintptr_t)(t.xsdt - host), "XSDT pointer");
	cr_assert_eq(r[33] | r[34] | r[35], 0, "reserved");
}

Test(acpi, every_table_checksummed_and_revised)
{
	struct acpi_config cfg = { .ncpus = 4, .pvpanic_port = PORT_PVPANIC };
	struct tables t;
	build_ok(&cfg, &t);   /* table() checks each checksum */
	cr_assert_eq(t.xsdt[8], 1, "XSDT revision");
	cr_assert_eq(t.fadt[8], 6, "FADT revision");
	cr_assert_eq(t.madt[8], 5, "MADT revision");
	cr_assert_eq(t.dsdt[8], 2, "DSDT revision (64-bit integers)");
	/* no two tables overlap */
	const uint8_t *tabs[] = { t.xsdt, t.fadt, t.madt, t.dsdt };
	uintptr_t end = (uintptr_t)t.rsdp + 36;
	for (size_t i = 0; i < 4; i++) {
		cr_assert_geq((uintptr_t)tabs[i], end, "table %zu overlaps the previous one", i);
		end = (uintptr_t)tabs[i] + rd32(tabs[i] + 4);
	}
}

Test(acpi, fadt)
{
	struct acpi_config cfg = { .ncpus = 2 };
	struct tables t;
	build_ok(&cfg, &t);
	const uint8_t *f = t.fadt;
	cr_assert_eq(rd32(f + 4), 276, "ACPI 6.x FADT length");
	cr_assert_eq(f[131], 4, "FADT minor version (ACPI 6.4)");
	uint32_t flags = rd32(f + 112);
	cr_assert(flags & (1u << 20), "HW_REDUCED_ACPI");
	cr_assert(flags & (1u << 10), "RESET_REG_SUP");
	cr_assert(flags & (1u << 4), "PWR_BUTTON: no fixed power button");
	cr_assert(flags & (1u << 5), "SLP_BUTTON: no fixed sleep button");
	cr_assert_eq(flags & ~((1u << 20) | (1u << 10) | (1u << 4) | (1u << 5)), 0);
	uint16_t iapc = rd16(f + 109);
	cr_assert_eq(iapc, (1u << 2) | (1u << 3) | (1u << 4), "VGA/MSI/ASPM only: %#x", iapc);
	cr_assert_eq(iapc & (1u << 1), 0, "no 8042 advertised");
	cr_assert_eq(iapc & (1u << 5), 0, "the CMOS RTC is present");
	/* X_DSDT (and the 32-bit copy) point at the DSDT */
	uint64_t dsdt = (uintptr_t)(t.dsdt - host);
	cr_assert_eq(rd64(f + 140), dsdt);
	cr_assert_eq(rd32(f + 40), dsdt);
	cr_assert_eq(rd32(f + 36) | rd64(f + 132), 0, "no FACS in hardware-reduced mode");
	/* RESET_REG: SystemIO, 8 bits at offset 0, byte access, port 0x64; value 0xFE */
	const uint8_t *gas = f + 116;
	cr_assert_eq(gas[0], 1);
	cr_assert_eq(gas[1], 8);
	cr_assert_eq(gas[2], 0);
	cr_assert_eq(gas[3], 1);
	cr_assert_eq(rd64(gas + 4), PORT_I8042_CMD);
	cr_assert_eq(f[128], 0xfe);
	cr_assert(memcmp(f + 268, "CLOUDLET", 8) == 0, "hypervisor vendor identity");
	/* hardware-reduced: no SCI, no PM blocks, no PM timer */
	for (size_t off = 46; off < 109; off++)
		cr_assert_eq(f[off], 0, "FADT byte %zu", off);
	for (size_t off = 148; off < 268; off++)
		cr_assert_eq(f[off], 0, "FADT byte %zu", off);
}

/* Walks the MADT's entries checking each one's type and length. */
static void check_madt(unsigned ncpus, bool irq0_override)
{
	struct acpi_config cfg = { .ncpus = ncpus, .irq0_to_gsi2 = irq0_override };
	struct tables t;
	build_ok(&cfg, &t);
	const uint8_t *m = t.madt;
	uint32_t len = rd32(m + 4);
	cr_assert_eq(rd32(m + 36), LAYOUT_LAPIC, "local APIC address");
	cr_assert_eq(rd32(m + 40), 1, "PCAT_COMPAT");
	unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0, other = 0;
	size_t off = 44;
	while (off < len) {
		const uint8_t *e = m + off;
		cr_assert_geq(e[1], 2);
		cr_assert_leq(off + e[1], len, "entry at %zu runs past the table", off);
		switch (e[0]) {
		case 0:
			cr_assert_eq(e[1], 8);
			cr_assert_eq(e[2], lapics, "processor UID");
			cr_assert_eq(e[3], lapics, "APIC ID");
			cr_assert_eq(rd32(e + 4), 1, "enabled");
			cr_assert_eq(ioapics + isos + nmis, 0, "LAPICs come first");
			lapics++;
			break;
		case 1:
			cr_assert_eq(e[1], 12);
			cr_assert_eq(e[2], ncpus, "IOAPIC id after the APIC IDs");
			cr_assert_eq(rd32(e + 4), LAYOUT_IOAPIC);
			cr_assert_eq(rd32(e + 8), 0, "GSI base");
			ioapics++;
			break;
		case 2:
			cr_assert_eq(e[1], 10);
			cr_assert_eq(e[2], 0, "bus ISA");
			cr_assert_eq(e[3], 0, "IRQ0");
			cr_assert_eq(rd32(e + 4), 2, "GSI 2");
			cr_assert_eq(rd16(e + 8), 0x5, "edge, active high");
			isos++;
			break;
		case 4:
			cr_assert_eq(e[1], 6);
			cr_assert_eq(e[2], 0xff, "all processors");
			cr_assert_eq(e[5], 1, "LINT1");
			nmis++;
			break;
		default:
			other++;
		}
		off += e[1];
	}
	cr_assert_eq(off, len);
	cr_assert_eq(lapics, ncpus);
	cr_assert_eq(ioapics, 1);
	cr_assert_eq(isos, irq0_override ? 1 : 0);
	cr_assert_eq(nmis, 1);
	cr_assert_eq(other, 0);
	cr_assert_eq(len, 44 + 8 * ncpus + 12 + (irq0_override ? 10 : 0) + 6);
}

Test(acpi, madt_1_cpu) { check_madt(1, false); }
Test(acpi, madt_2_cpus) { check_madt(2, false); }
Test(acpi, madt_255_cpus) { check_madt(255, false); }
Test(acpi, madt_irq0_override) { check_madt(3, true); }

/* The AML of the pvpanic device alone, by hand from ACPI 6.4 §20.2:
 *   Scope (\_SB) { Device (PVPN) { Name (_HID, "QEMU0001")
 *       Name (_CRS, ResourceTemplate () { IO (Decode16, 0x505, 0x505, 1, 1) }) } } */
Test(acpi, dsdt_pvpanic_bytes)
{
	struct acpi_config cfg = { .ncpus = 1, .pvpanic_port = 0x505 };
	struct tables t;
	build_ok(&cfg, &t);
	static const uint8_t want[] = {
		0x10, 0x2f, 0x5c, '_', 'S', 'B', '_',                 /* Scope, PkgLength 47 */
		0x5b, 0x82, 0x27, 'P', 'V', 'P', 'N',                 /* Device, PkgLength 39 */
		0x08, '_', 'H', 'I', 'D',                             /* Name (_HID, */
		0x0d, 'Q', 'E', 'M', 'U', '0', '0', '0', '1', 0x00,   /*   "QEMU0001") */
		0x08, '_', 'C', 'R', 'S',                             /* Name (_CRS, */
		0x11, 0x0d, 0x0a, 0x0a,                               /*   Buffer (10) { */
		0x47, 0x01, 0x05, 0x05, 0x05, 0x05, 0x01, 0x01,       /*     IO Decode16 */
		0x79, 0x29,                                           /*     End Tag, checksum */
	};
	cr_assert_eq(rd32(t.dsdt + 4), 36 + sizeof(want));
	cr_assert_arr_eq(t.dsdt + 36, want, sizeof(want));
}

Test(acpi, dsdt_pvpanic_port_follows_config)
{
	struct acpi_config cfg = { .ncpus = 1, .pvpanic_port = 0x1234 };
	struct tables t;
	build_ok(&cfg, &t);
	static const uint8_t io[] = { 0x47, 0x01, 0x34, 0x12, 0x34, 0x12, 0x01, 0x01, 0x79 };
	cr_assert_not_null(memmem(t.dsdt, rd32(t.dsdt + 4), io, sizeof(io)));
}

Test(acpi, dsdt_without_devices)
{
	struct acpi_config cfg = { .ncpus = 1 };
	struct tables t;
	build_ok(&cfg, &t);
	static const uint8_t want[] = { 0x10, 0x06, 0x5c, '_', 'S', 'B', '_' };
	cr_assert_eq(rd32(t.dsdt + 4), 36 + sizeof(want));
	cr_assert_arr_eq(t.dsdt + 36, want, sizeof(want));
}

static bool contains(const uint8_t *t, const void *needle, size_t n)
{
	return memmem(t, rd32(t + 4), needle, n) != NULL;
}

Test(acpi, dsdt_serial_rtc_virtio)
{
	struct acpi_mmio_dev v[2] = {
		{ .base = LAYOUT_VIRTIO_MMIO, .size = 0x1000, .gsi = 5 },
		{ .base = LAYOUT_VIRTIO_MMIO + 0x1000, .size = 0x1000, .gsi = 6, .level = true },
	};
	struct acpi_config cfg = { .ncpus = 1, .pvpanic_port = PORT_PVPANIC,
				   .serial_port = PORT_COM1, .serial_gsi = IRQ_COM1,
				   .cmos_rtc = true, .virtio = v, .nvirtio = 2 };
	struct tables t;
	build_ok(&cfg, &t);
	const uint8_t *d = t.dsdt;
	cr_assert(contains(d, "QEMU0001", 8));
	/* COM1: EisaId PNP0501, IO 0x3F8 length 8, Interrupt edge/high {4} */
	static const uint8_t com_hid[] = { 0x0c, 0x41, 0xd0, 0x05, 0x01 };
	static const uint8_t com_io[] = { 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08 };
	static const uint8_t com_irq[] = { 0x89, 0x06, 0x00, 0x03, 0x01, 0x04, 0, 0, 0 };
	cr_assert(contains(d, com_hid, sizeof(com_hid)));
	cr_assert(contains(d, com_io, sizeof(com_io)));
	cr_assert(contains(d, com_irq, sizeof(com_irq)));
	/* RTC: EisaId PNP0B00, IO 0x70 length 2, no interrupt */
	static const uint8_t rtc_hid[] = { 0x0c, 0x41, 0xd0, 0x0b, 0x00 };
	static const uint8_t rtc_io[] = { 0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x02, 0x79 };
	cr_assert(contains(d, rtc_hid, sizeof(rtc_hid)));
	cr_assert(contains(d, rtc_io, sizeof(rtc_io)));
	/* virtio: LNRO0005 twice, Memory32Fixed + edge / level interrupts */
	static const uint8_t vr0[] = { 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x10,
				       0x00, 0x00, 0x89, 0x06, 0x00, 0x03, 0x01, 0x05 };
	static const uint8_t vr1[] = { 0x86, 0x09, 0x00, 0x01, 0x00, 0x10, 0x00, 0xd0, 0x00, 0x10,
				       0x00, 0x00, 0x89, 0x06, 0x00, 0x01, 0x01, 0x06 };
	cr_assert(contains(d, "VR00", 4) && contains(d, "VR01", 4));
	cr_assert(contains(d, vr0, sizeof(vr0)));
	cr_assert(contains(d, vr1, sizeof(vr1)));
	const uint8_t *p = memmem(d, rd32(d + 4), "LNRO0005", 8);
	cr_assert_not_null(p);
	cr_assert_not_null(memmem(p + 8, rd32(d + 4) - (size_t)(p + 8 - d), "LNRO0005", 8));
}

Test(acpi, enospc_when_window_too_small)
{
	struct acpi_config cfg = { .ncpus = 255, .pvpanic_port = PORT_PVPANIC };
	uint64_t rsdp = 0x1234;
	/* from nothing up to just short of what the tables take */
	uint64_t need = 0;
	for (uint64_t size = 0; size < 4096; size += 16) {
		cl_err_clear(&err);
		int r = acpi_build(&gm, LAYOUT_ACPI, LAYOUT_ACPI + size, &cfg, &rsdp, &err);
		if (r == 0) {
			need = size;
			break;
		}
		cr_assert_eq(r, -ENOSPC, "size %llu: %d", (unsigned long long)size, r);
		cr_assert_eq(err.code, ENOSPC);
		cr_assert_neq(err.msg[0], '\0');
		cr_assert_eq(rsdp, 0x1234, "output written on error");
		cr_assert(all_zero(host + LAYOUT_ACPI, 4096), "guest memory written on error");
	}
	cr_assert_gt(need, 44 + 8 * 255, "255 LAPICs fit in %llu bytes?", (unsigned long long)need);
	/* one byte short of the exact size fails too (the DSDT's AML overflows) */
	struct tables t;
	build_ok(&cfg, &t);
	uint64_t exact = (uintptr_t)(t.dsdt - host) + rd32(t.dsdt + 4) - LAYOUT_ACPI;
	memset(host + LAYOUT_ACPI, 0, LAYOUT_ACPI_END - LAYOUT_ACPI);
	cr_assert_eq(acpi_build(&gm, LAYOUT_ACPI, LAYOUT_ACPI + exact - 1, &cfg, &rsdp, &err),
		     -ENOSPC);
	cr_assert_eq(acpi_build(&gm, LAYOUT_ACPI, LAYOUT_ACPI + exact, &cfg, &rsdp, &err), 0);
}

Test(acpi, bad_configs_rejected)
{
	uint64_t rsdp = 0;
	struct acpi_config cfg = { .ncpus = 0 };
	cr_assert_eq(acpi_build(&gm, LAYOUT_ACPI, LAYOUT_ACPI_END, &cfg, &rsdp, &err), -EINVAL);
	cr_assert(strstr(err.msg, "1..255"), "%s", err.msg);
	cfg.ncpus = 256;
	cr_assert_eq(acpi_build(&gm, LAYOUT_ACPI, LAYOUT_ACPI_END, &cfg, &rsdp, &err), -EINVAL);
	cfg.ncpus = 1;
	/* RSDP not 16-byte aligned, or outside the BIOS scan area */
	cr_assert_eq(acpi_build(&gm, LAYOUT_ACPI + 8, LAYOUT_ACPI_END, &cfg, &rsdp, &err),
		     -EINVAL);
	cr_assert_eq(acpi_build(&gm, 0x80000, 0x90000, &cfg, &rsdp, &err), -EINVAL);
	cr_assert_eq(acpi_build(&gm, LAYOUT_ACPI_END - 32, LAYOUT_ACPI_END, &cfg, &rsdp, &err),
		     -EINVAL);
	cr_assert_eq(acpi_build(&gm, LAYOUT_ACPI + 0x100, LAYOUT_ACPI, &cfg, &rsdp, &err),
		     -EINVAL);
	/* devices the single 24-pin IOAPIC or a 32-bit descriptor cannot describe */
	struct acpi_config s = { .ncpus = 1, .serial_port = PORT_COM1, .serial_gsi = 24 };
	cr_assert_eq(acpi_build(&gm, LAYOUT_ACPI, LAYOUT_ACPI_END, &s, &rsdp, &err), -EINVAL);
	struct acpi_mmio_dev v = { .base = 0xfffff000, .size = 0x2000, .gsi = 5 };
	struct acpi_config c = { .ncpus = 1, .virtio = &v, .nvirtio = 1 };
	cr_assert_eq(acpi_build(&gm, LAYOUT_ACPI, LAYOUT_ACPI_END, &c, &rsdp, &err), -EINVAL);
	v = (struct acpi_mmio_dev){ .base = 0xd0000000, .size = 0x1000, .gsi = 24 };
	cr_assert_eq(acpi_build(&gm, LAYOUT_ACPI, LAYOUT_ACPI_END, &c, &rsdp, &err), -EINVAL);
	c.nvirtio = ACPI_MAX_VIRTIO + 1;
	cr_assert_eq(acpi_build(&gm, LAYOUT_ACPI, LAYOUT_ACPI_END, &c, &rsdp, &err), -EINVAL);
	c.virtio = NULL;
	c.nvirtio = 1;
	cr_assert_eq(acpi_build(&gm, LAYOUT_ACPI, LAYOUT_ACPI_END, &c, &rsdp, &err), -EINVAL);
	cr_assert_eq(acpi_build(&gm, LAYOUT_ACPI, LAYOUT_ACPI_END, NULL, &rsdp, &err), -EINVAL);
	cr_assert_eq(rsdp, 0, "output written on error");
	cr_assert(all_zero(host + LAYOUT_ACPI, LAYOUT_ACPI_END - LAYOUT_ACPI),
		  "guest memory written on error");
}

Test(acpi, window_not_ram)
{
	/* a 512 KiB guest has no RAM at 0xE0000 */
	struct guest_mem small;
	gmem_layout(&small, host, 512u << 10);
	struct acpi_config cfg = { .ncpus = 1 };
	uint64_t rsdp = 0;
	cr_assert_eq(acpi_build(&small, LAYOUT_ACPI, LAYOUT_ACPI_END, &cfg, &rsdp, &err), -EFAULT);
	cr_assert_eq(err.code, EFAULT);
}

Test(acpi, max_virtio_devices_fit)
{
	struct acpi_mmio_dev v[ACPI_MAX_VIRTIO];
	for (unsigned i = 0; i < ACPI_MAX_VIRTIO; i++)
		v[i] = (struct acpi_mmio_dev){ .base = LAYOUT_VIRTIO_MMIO + 0x1000ull * i,
					       .size = 0x1000, .gsi = 5 + i % 19 };
	struct acpi_config cfg = { .ncpus = 255, .pvpanic_port = PORT_PVPANIC,
				   .serial_port = PORT_COM1, .serial_gsi = IRQ_COM1,
				   .cmos_rtc = true, .virtio = v, .nvirtio = ACPI_MAX_VIRTIO,
				   .irq0_to_gsi2 = true };
	struct tables t;
	build_ok(&cfg, &t);
	/* the Scope outgrew a 1-byte PkgLength: lead byte says 1 more byte */
	cr_assert_eq(t.dsdt[36], 0x10);
	cr_assert_eq(t.dsdt[37] >> 6, 1);
	cr_assert(contains(t.dsdt, "VR3F", 4));
}

/* ---- iasl (acpica-tools): disassemble what we built ---- */

static bool have_iasl(void)
{
	return system("command -v iasl >/dev/null 2>&1") == 0;
}

static void dump(const char *dir, const char *name, const uint8_t *t, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(t, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s was not written", path);
	static char text[1 << 20];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return text;
}

static int run(const char *dir, const char *cmd)
{
	char sh[1024];
	snprintf(sh, sizeof(sh), "cd '%s' && %s >>iasl.log 2>&1", dir, cmd);
	return system(sh);
}

Test(acpi, iasl_disassembles_every_table, .timeout = 60)
{
	if (!have_iasl())
		cr_skip_test("iasl not installed (Debian package acpica-tools)");
	struct acpi_mmio_dev v = { .base = LAYOUT_VIRTIO_MMIO, .size = 0x1000, .gsi = 5 };
	struct acpi_config cfg = { .ncpus = 4, .pvpanic_port = PORT_PVPANIC,
				   .serial_port = PORT_COM1, .serial_gsi = IRQ_COM1,
				   .cmos_rtc = true, .virtio = &v, .nvirtio = 1,
				   .irq0_to_gsi2 = true };
	struct tables t;
	build_ok(&cfg, &t);
	char dir[] = "/tmp/cloudlet-acpi-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	dump(dir, "xsdt.dat", t.xsdt, rd32(t.xsdt + 4));
	dump(dir, "facp.dat", t.fadt, rd32(t.fadt + 4));
	dump(dir, "apic.dat", t.madt, rd32(t.madt + 4));
	dump(dir, "dsdt.dat", t.dsdt, rd32(t.dsdt + 4));

	/* (no RSDP: iasl only takes tables with the standard header; the rsdp
	 * test checks it field by field) */
	static const char *const names[] = { "xsdt", "facp", "apic", "dsdt" };
	char path[600], cmd[128];
	for (size_t i = 0; i < 4; i++) {
		snprintf(cmd, sizeof(cmd), "iasl -d %s.dat", names[i]);
		cr_assert_eq(run(dir, cmd), 0, "%s failed: see %s/iasl.log", cmd, dir);
		snprintf(path, sizeof(path), "%s/%s.dsl", dir, names[i]);
		const char *dsl = slurp(path);
		/* the disassembler's markers for bad checksums, lengths, fields */
		cr_assert_null(strstr(dsl, "Incorrect"), "%s: %s", names[i], strstr(dsl, "Incorrect"));
		cr_assert_null(strstr(dsl, "Invalid"), "%s: %s", names[i], strstr(dsl, "Invalid"));
		cr_assert_null(strstr(dsl, "****"), "%s: %s", names[i], strstr(dsl, "****"));
		cr_assert_null(strstr(dsl, "Error"), "%s: %s", names[i], strstr(dsl, "Error"));
		if (i == 1) {
			cr_assert_not_null(strstr(dsl, "Hardware Reduced (V5) : 1"), "%s", dsl);
			cr_assert_not_null(strstr(dsl, "Reset Register Supported (V2) : 1"));
		}
		if (i == 2)
			cr_assert_not_null(strstr(dsl, "Interrupt Source Override"));
		if (i == 3) {
			cr_assert_not_null(strstr(dsl, "Device (PVPN)"), "%s", dsl);
			cr_assert_not_null(strstr(dsl, "\"QEMU0001\""));
			cr_assert_not_null(strstr(dsl, "0x0505,             // Range Minimum"), "%s", dsl);
			cr_assert_not_null(strstr(dsl, "EisaId (\"PNP0501\")"));
			cr_assert_not_null(strstr(dsl, "EisaId (\"PNP0B00\")"));
			cr_assert_not_null(strstr(dsl, "\"LNRO0005\""));
		}
	}
	/* and the disassembled DSDT compiles back without errors */
	cr_assert_eq(run(dir, "iasl -p recompiled dsdt.dsl"), 0, "recompiling: see %s/iasl.log",
		     dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}
