/* ACPI tables: see acpi.h. Formats from ACPI 6.4 §5.2; the choices are
 * explained where each table is built. All tables are assembled in a host
 * buffer and copied into the guest with one gmem_write, so nothing is
 * written unless everything fits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../layout.h"
#include "acpi.h"
#include "aml.h"

#define OEM_ID            "CLOUDL"     /* 6 bytes */
#define OEM_TABLE_ID      "CLOUDLET"   /* 8 bytes */
#define OEM_REVISION      1
#define CREATOR_ID        "CLDT"       /* 4 bytes: who generated the tables */
#define CREATOR_REVISION  1
#define HYPERVISOR_ID     "CLOUDLET"   /* FADT Hypervisor Vendor Identity, 8 bytes */

#define ACPI_WINDOW_MAX   (64u << 10)  /* far more than 255 CPUs and 64 devices need */
#define TABLE_ALIGN       16

/* §5.2.5.3 RSDP */
#define RSDP_LEN          36
#define RSDP_V1_LEN       20
#define RSDP_REVISION     2            /* ACPI 2.0+: XsdtAddress and Length present */
/* §5.2.6 System Description Table Header */
#define HDR_LEN           36
/* §5.2.8 XSDT */
#define XSDT_REVISION     1
/* §5.2.9 FADT, ACPI 6.4: major 6, minor 4; 276 bytes with the hypervisor id */
#define FADT_LEN          276
#define FADT_REVISION     6
#define FADT_MINOR        4
/* §5.2.11.1 DSDT: revision 2 makes AML integers 64-bit */
#define DSDT_REVISION     2
/* §5.2.12 MADT, ACPI 6.4 revision 5 */
#define MADT_REVISION     5
#define MADT_HDR_LEN      44

/* FADT offsets (§5.2.9, Table 5.9) */
#define FADT_DSDT             40
#define FADT_IAPC_BOOT_ARCH   109
#define FADT_FLAGS            112
#define FADT_RESET_REG        116
#define FADT_RESET_VALUE      128
#define FADT_MINOR_VERSION    131
#define FADT_X_DSDT           140
#define FADT_HYPERVISOR_ID    268

/* FADT Fixed Feature Flags (§5.2.9, Table 5.10) */
#define FADT_F_PWR_BUTTON     (1u << 4)   /* no fixed-feature power button */
#define FADT_F_SLP_BUTTON     (1u << 5)   /* no fixed-feature sleep button */
#define FADT_F_RESET_REG_SUP  (1u << 10)
#define FADT_F_HW_REDUCED     (1u << 20)
/* IA-PC Boot Architecture Flags (§5.2.9.3, Table 5.11) */
#define IAPC_LEGACY_DEVICES   (1u << 0)
#define IAPC_8042             (1u << 1)
#define IAPC_VGA_NOT_PRESENT  (1u << 2)
#define IAPC_MSI_NOT_SUPPORTED (1u << 3)
#define IAPC_PCIE_ASPM_CONTROLS (1u << 4)
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)

/* Generic Address Structure (§5.2.3.2) */
#define GAS_SYSTEM_IO         1
#define GAS_ACCESS_BYTE       1

/* MADT (§5.2.12) */
#define MADT_PCAT_COMPAT      (1u << 0)
#define MADT_LAPIC            0   /* §5.2.12.2 */
#define MADT_LAPIC_LEN        8
#define MADT_LAPIC_ENABLED    (1u << 0)
#define MADT_IOAPIC           1   /* §5.2.12.3 */
#define MADT_IOAPIC_LEN       12
#define MADT_ISO              2   /* §5.2.12.5 */
#define MADT_ISO_LEN          10
#define MADT_LAPIC_NMI        4   /* §5.2.12.7 */
#define MADT_LAPIC_NMI_LEN    6
#define MPS_INTI_ACTIVE_HIGH  0x1  /* §5.2.12.5, Table 5.50: polarity bits 0-1 */
#define MPS_INTI_EDGE         0x4  /* trigger mode bits 2-3 */
#define MADT_ALL_PROCESSORS   0xff

#define CMOS_PORT             0x70
#define SERIAL_PORTS          8

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* The byte that makes p[0..len) sum to 0 mod 256, with p[at] counted as 0. */
static void set_checksum(uint8_t *p, size_t len, size_t at)
{
	uint8_t sum = 0;
	p[at] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	p[at] = (uint8_t)-sum;
}

static void header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put32(t + 24, OEM_REVISION);
	memcpy(t + 28, CREATOR_ID, 4);
	put32(t + 32, CREATOR_REVISION);
}

static void header_done(uint8_t *t, uint32_t len)
{
	put32(t + 4, len);
	set_checksum(t, len, 9);
}

static size_t align_up(size_t v)
{
	return (v + TABLE_ALIGN - 1) & ~(size_t)(TABLE_ALIGN - 1);
}

static void build_rsdp(uint8_t *t, uint64_t xsdt)
{
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, OEM_ID, 6);
	t[15] = RSDP_REVISION;
	put32(t + 16, 0);           /* no RSDT: every pointer here is 64-bit */
	put32(t + 20, RSDP_LEN);
	put64(t + 24, xsdt);
	set_checksum(t, RSDP_V1_LEN, 8);   /* the ACPI 1.0 part */
	set_checksum(t, RSDP_LEN, 32);     /* the whole structure */
}

static size_t build_xsdt(uint8_t *t, uint64_t fadt, uint64_t madt)
{
	size_t len = HDR_LEN + 2 * 8;
	header(t, "XSDT", (uint32_t)len, XSDT_REVISION);
	put64(t + HDR_LEN, fadt);
	put64(t + HDR_LEN + 8, madt);
	header_done(t, (uint32_t)len);
	return len;
}

static void build_fadt(uint8_t *t, uint64_t dsdt)
{
	header(t, "FACP", FADT_LEN, FADT_REVISION);
	/* Hardware-reduced ACPI (§4.1): no PM1/GPE blocks, no SCI, no FACS,
	 * nothing behind fields 46..108 and 148..232, which the OS ignores.
	 * PWR_BUTTON/SLP_BUTTON set = there are no fixed-feature buttons, so
	 * Linux does not register a power button that could never fire.
	 * RESET_REG_SUP: ACPI reboot (Linux's default reboot method, tried
	 * before the keyboard controller) writes RESET_VALUE to RESET_REG. */
	put32(t + FADT_FLAGS, FADT_F_HW_REDUCED | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON |
		      FADT_F_RESET_REG_SUP);
	/* IA-PC boot flags, as Firecracker sets them and why:
	 *  - VGA_NOT_PRESENT: there is no VGA; probing its ports is not safe.
	 *  - MSI_NOT_SUPPORTED / PCIE_ASPM_CONTROLS: there is no PCI bus (clear
	 *    MSI_NOT_SUPPORTED if virtio-pci with MSI-X ever arrives).
	 *  - 8042 clear: no keyboard is attached; the i8042 matters only for
	 *    its reset line. With the bit clear and no PNP0303 device Linux
	 *    skips the keyboard controller probe entirely; `reboot=k` still
	 *    writes 0xFE to port 0x64 directly (arch/x86/kernel/reboot.c).
	 *  - CMOS_RTC_NOT_PRESENT clear: the VMM answers ports 0x70/0x71 with
	 *    the time, so the RTC is real. (Describe it in the DSDT with
	 *    cmos_rtc: in hardware-reduced mode Linux's fallback rtc_cmos
	 *    platform device asks for ISA IRQ 8, which does not exist.)
	 *  - LEGACY_DEVICES clear: no ISA devices the OS must find by probing;
	 *    the ones we have are described in the DSDT. */
	put16(t + FADT_IAPC_BOOT_ARCH,
	      IAPC_VGA_NOT_PRESENT | IAPC_MSI_NOT_SUPPORTED | IAPC_PCIE_ASPM_CONTROLS);
	/* RESET_REG (§4.8.3.6): SystemIO byte register at the i8042 command
	 * port; 0xFE there pulses the CPU reset line, exactly what `reboot=k`
	 * does, so both paths end in the same VMM handler. */
	uint8_t *gas = t + FADT_RESET_REG;
	gas[0] = GAS_SYSTEM_IO;
	gas[1] = 8;                 /* bit width: the spec requires 8 */
	gas[2] = 0;                 /* bit offset: the spec requires 0 */
	gas[3] = GAS_ACCESS_BYTE;
	put64(gas + 4, PORT_I8042_CMD);
	t[FADT_RESET_VALUE] = 0xfe;
	t[FADT_MINOR_VERSION] = FADT_MINOR;
	/* X_DSDT is the one ACPI 2.0+ readers use; the 32-bit DSDT holds the
	 * same address (it is below 4 GiB), for readers that only know it. */
	put32(t + FADT_DSDT, (uint32_t)dsdt);
	put64(t + FADT_X_DSDT, dsdt);
	memcpy(t + FADT_HYPERVISOR_ID, HYPERVISOR_ID, 8);
	header_done(t, FADT_LEN);
}

static size_t madt_len(const struct acpi_config *cfg)
{
	return MADT_HDR_LEN + (size_t)cfg->ncpus * MADT_LAPIC_LEN + MADT_IOAPIC_LEN +
	       (cfg->irq0_to_gsi2 ? MADT_ISO_LEN : 0) + MADT_LAPIC_NMI_LEN;
}

static size_t build_madt(uint8_t *t, const struct acpi_config *cfg)
{
	size_t len = madt_len(cfg);
	header(t, "APIC", (uint32_t)len, MADT_REVISION);
	put32(t + 36, (uint32_t)LAYOUT_LAPIC);
	/* PCAT_COMPAT: KVM_CREATE_IRQCHIP does create a dual 8259, and the
	 * flag tells an OS to mask it before using the IOAPIC. Leaving it
	 * clear (as Firecracker does) makes OSes that trust it skip the
	 * masking, and the never-programmed KVM PIC then delivers device
	 * interrupts at vectors 0-15. Linux in hardware-reduced mode ignores
	 * the PIC either way. */
	put32(t + 40, MADT_PCAT_COMPAT);
	uint8_t *p = t + MADT_HDR_LEN;
	for (unsigned i = 0; i < cfg->ncpus; i++, p += MADT_LAPIC_LEN) {
		p[0] = MADT_LAPIC;
		p[1] = MADT_LAPIC_LEN;
		p[2] = (uint8_t)i;      /* ACPI processor UID */
		p[3] = (uint8_t)i;      /* APIC ID: the vCPU index, as KVM_CREATE_VCPU's id */
		put32(p + 4, MADT_LAPIC_ENABLED);
	}
	/* One IOAPIC with all of KVM's pins from GSI 0. Its ID follows the
	 * LAPIC IDs (MP spec convention). KVM's IOAPIC ID register keeps only
	 * 4 bits, but 64-bit Linux takes the MADT's ID and never reprograms it. */
	p[0] = MADT_IOAPIC;
	p[1] = MADT_IOAPIC_LEN;
	p[2] = (uint8_t)cfg->ncpus;
	p[3] = 0;
	put32(p + 4, (uint32_t)LAYOUT_IOAPIC);
	put32(p + 8, 0);
	p += MADT_IOAPIC_LEN;
	/* ISA IRQs are identity-mapped to GSIs unless overridden (§5.2.12.5),
	 * which is what KVM's default routing does (GSI n -> PIC pin n and
	 * IOAPIC pin n, arch/x86/kvm/irq_comm.c), so no override is needed.
	 * QEMU and kvmtool instead route GSI 0 to IOAPIC pin 2 and say so with
	 * an IRQ0 -> GSI 2 override; irq0_to_gsi2 is for a VMM that does that. */
	if (cfg->irq0_to_gsi2) {
		p[0] = MADT_ISO;
		p[1] = MADT_ISO_LEN;
		p[2] = 0;               /* bus: ISA */
		p[3] = 0;               /* source: IRQ0 */
		put32(p + 4, 2);        /* GSI 2 */
		put16(p + 8, MPS_INTI_ACTIVE_HIGH | MPS_INTI_EDGE);
		p += MADT_ISO_LEN;
	}
	/* NMI arrives on every LAPIC's LINT1 (the vCPU setup programs LINT1 as NMI) */
	p[0] = MADT_LAPIC_NMI;
	p[1] = MADT_LAPIC_NMI_LEN;
	p[2] = MADT_ALL_PROCESSORS;
	put16(p + 3, 0);            /* flags: conform to the bus */
	p[5] = 1;                   /* LINT1 */
	header_done(t, (uint32_t)len);
	return len;
}

/* The DSDT's AML: every device in \_SB (the system bus scope, §5.3.1). */
static void dsdt_aml(struct aml *a, const struct acpi_config *cfg)
{
	struct aml_res r;
	aml_scope_begin(a, "\\_SB_");
	if (cfg->pvpanic_port) {
		/* QEMU's pvpanic ISA device (QEMU docs/specs/pvpanic.rst): Linux's
		 * pvpanic-mmio driver matches ACPI id QEMU0001 and takes an IO
		 * resource; on panic it writes PVPANIC_PANICKED there. */
		aml_device_begin(a, "PVPN");
		aml_name(a, "_HID");
		aml_string(a, "QEMU0001");
		aml_name(a, "_CRS");
		aml_res_init(&r);
		aml_res_io(&r, cfg->pvpanic_port, cfg->pvpanic_port, 1, 1);
		aml_resource_template(a, &r);
		aml_pkg_end(a);
	}
	if (cfg->serial_port) {
		/* 16550A (PNP0501), bound by 8250_pnp with an interrupt it can request */
		aml_device_begin(a, "COM1");
		aml_name(a, "_HID");
		aml_eisaid(a, "PNP0501");
		aml_name(a, "_UID");
		aml_integer(a, 0);
		aml_name(a, "_CRS");
		aml_res_init(&r);
		aml_res_io(&r, cfg->serial_port, cfg->serial_port, 1, SERIAL_PORTS);
		aml_res_interrupt(&r, true, false, cfg->serial_gsi);   /* ISA: edge, high */
		aml_resource_template(a, &r);
		aml_pkg_end(a);
	}
	if (cfg->cmos_rtc) {
		/* MC146818 (PNP0B00) without an interrupt: rtc_cmos then runs
		 * without alarms, which needs no IRQ in hardware-reduced mode */
		aml_device_begin(a, "RTC_");
		aml_name(a, "_HID");
		aml_eisaid(a, "PNP0B00");
		aml_name(a, "_CRS");
		aml_res_init(&r);
		aml_res_io(&r, CMOS_PORT, CMOS_PORT, 1, 2);
		aml_resource_template(a, &r);
		aml_pkg_end(a);
	}
	for (unsigned i = 0; i < cfg->nvirtio; i++) {
		const struct acpi_mmio_dev *d = &cfg->virtio[i];
		static const char hex[] = "0123456789ABCDEF";
		char name[5] = { 'V', 'R', hex[(i >> 4) & 0xf], hex[i & 0xf], 0 };
		aml_device_begin(a, name);
		aml_name(a, "_HID");
		aml_string(a, "LNRO0005");
		aml_name(a, "_UID");
		aml_integer(a, i);
		aml_name(a, "_CRS");
		aml_res_init(&r);
		aml_res_mem32_fixed(&r, true, (uint32_t)d->base, d->size);
		aml_res_interrupt(&r, !d->level, false, d->gsi);
		aml_resource_template(a, &r);
		aml_pkg_end(a);
	}
	aml_pkg_end(a);
}

static int check_config(const struct acpi_config *cfg, struct cl_error *err)
{
	if (cfg->ncpus < 1 || cfg->ncpus > ACPI_MAX_CPUS)
		return cl_err(err, EINVAL, "ACPI: %u vCPUs is out of range 1..%u", cfg->ncpus,
			      ACPI_MAX_CPUS);
	if (cfg->serial_port && cfg->serial_gsi >= ACPI_IOAPIC_PINS)
		return cl_err(err, EINVAL, "ACPI: serial GSI %u is not an IOAPIC pin (0..%u)",
			      cfg->serial_gsi, ACPI_IOAPIC_PINS - 1);
	if (cfg->serial_port > 0x10000 - SERIAL_PORTS)
		return cl_err(err, EINVAL, "ACPI: serial port %#x runs past 0xffff",
			      cfg->serial_port);
	if (cfg->nvirtio > ACPI_MAX_VIRTIO || (cfg->nvirtio && !cfg->virtio))
		return cl_err(err, EINVAL, "ACPI: %u virtio devices (at most %u)", cfg->nvirtio,
			      ACPI_MAX_VIRTIO);
	for (unsigned i = 0; i < cfg->nvirtio; i++) {
		const struct acpi_mmio_dev *d = &cfg->virtio[i];
		if (d->size == 0 || d->base > (1ull << 32) - d->size)
			return cl_err(err, EINVAL,
				      "ACPI: virtio device %u at %#llx+%#x is not below 4 GiB", i,
				      (unsigned long long)d->base, d->size);
		if (d->gsi >= ACPI_IOAPIC_PINS)
			return cl_err(err, EINVAL,
				      "ACPI: virtio device %u: GSI %u is not an IOAPIC pin (0..%u)",
				      i, d->gsi, ACPI_IOAPIC_PINS - 1);
	}
	return 0;
}

int acpi_build(const struct guest_mem *m, uint64_t base, uint64_t limit,
	       const struct acpi_config *cfg, uint64_t *rsdp_gpa, struct cl_error *err)
{
	if (!m || !cfg || !rsdp_gpa)
		return cl_err(err, EINVAL, "ACPI: missing argument");
	int r = check_config(cfg, err);
	if (r < 0)
		return r;
	/* §5.2.5.1: the OS scans 0xE0000-0xFFFFF on 16-byte boundaries */
	if (base % 16 || base < LAYOUT_ACPI || base > LAYOUT_ACPI_END - RSDP_LEN)
		return cl_err(err, EINVAL,
			      "ACPI: RSDP at %#llx is not 16-byte aligned in the BIOS area "
			      "%#llx-%#llx", (unsigned long long)base,
			      (unsigned long long)LAYOUT_ACPI, (unsigned long long)LAYOUT_ACPI_END - 1);
	if (limit < base)
		return cl_err(err, EINVAL, "ACPI: window [%#llx, %#llx) is empty",
			      (unsigned long long)base, (unsigned long long)limit);

	size_t cap = limit - base < ACPI_WINDOW_MAX ? (size_t)(limit - base) : ACPI_WINDOW_MAX;
	/* offsets from base; the DSDT goes last as its size is known only once built */
	size_t xsdt = align_up(RSDP_LEN);
	size_t fadt = align_up(xsdt + HDR_LEN + 2 * 8);
	size_t madt = align_up(fadt + FADT_LEN);
	size_t dsdt = align_up(madt + madt_len(cfg));
	size_t need = dsdt + HDR_LEN;
	if (need > cap)
		return cl_err(err, ENOSPC,
			      "ACPI: tables need more than %zu bytes, the window at %#llx has %llu",
			      need, (unsigned long long)base, (unsigned long long)(limit - base));

	uint8_t *buf = calloc(1, cap);
	if (!buf)
		return cl_err(err, ENOMEM, "ACPI: out of memory");
	struct aml a;
	aml_init(&a, buf + dsdt + HDR_LEN, cap - dsdt - HDR_LEN);
	dsdt_aml(&a, cfg);
	size_t aml_len;
	r = aml_finish(&a, &aml_len);
	if (r == -ENOSPC) {
		r = cl_err(err, ENOSPC, "ACPI: the DSDT does not fit in the %llu-byte window at %#llx",
			   (unsigned long long)(limit - base), (unsigned long long)base);
		goto out;
	}
	if (r < 0) {
		r = cl_err(err, -r, "ACPI: cannot encode the DSDT");
		goto out;
	}
	header(buf + dsdt, "DSDT", (uint32_t)(HDR_LEN + aml_len), DSDT_REVISION);
	header_done(buf + dsdt, (uint32_t)(HDR_LEN + aml_len));
	build_madt(buf + madt, cfg);
	build_fadt(buf + fadt, base + dsdt);
	build_xsdt(buf + xsdt, base + fadt, base + madt);
	build_rsdp(buf, base + xsdt);

	size_t used = dsdt + HDR_LEN + aml_len;
	if (gmem_write(m, base, buf, used) < 0) {
		r = cl_err(err, EFAULT, "ACPI: [%#llx, %#llx) is not guest RAM",
			   (unsigned long long)base, (unsigned long long)(base + used));
		goto out;
	}
	*rsdp_gpa = base;
	r = 0;
out:
	free(buf);
	return r;
}
