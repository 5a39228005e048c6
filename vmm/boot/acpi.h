/* ACPI tables for the guest: RSDP, XSDT, FADT (hardware-reduced), MADT and
 * a DSDT, so that a stock Linux finds every vCPU without MP-table support
 * (as Firecracker does). ACPI 6.4 §5.2.
 *
 * In hardware-reduced mode Linux has no legacy PIC (nr_legacy_irqs() == 0,
 * arch/x86/kernel/acpi/boot.c): ISA IRQ numbers 0-15 are NOT mapped to
 * IOAPIC pins by default. A device using a GSI must be described in the
 * DSDT with its interrupt, or the guest cannot request it: hence the
 * serial and virtio-mmio entries below. Do not also pass such devices on
 * the kernel command line (virtio_mmio.device=...). */
#ifndef VMM_BOOT_ACPI_H
#define VMM_BOOT_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include "../mem.h"
#include "cloudlet/error.h"

#define ACPI_MAX_CPUS    255  /* xAPIC IDs are 8 bits; 0xFF is the broadcast ID */
#define ACPI_IOAPIC_PINS 24   /* KVM's in-kernel IOAPIC (KVM_IOAPIC_NUM_PINS) */
#define ACPI_MAX_VIRTIO  64

/* A virtio-mmio transport, described as ACPI id LNRO0005 (the id Linux's
 * drivers/virtio/virtio_mmio.c matches). */
struct acpi_mmio_dev {
	uint64_t base;            /* MMIO window; base + size must be <= 4 GiB */
	uint32_t size;
	uint32_t gsi;             /* IOAPIC input, < ACPI_IOAPIC_PINS */
	bool level;               /* level-triggered (line held while InterruptStatus != 0, as
				   * with KVM_IRQ_LINE raise/lower); false: edge (irqfd pulses) */
};

struct acpi_config {
	unsigned ncpus;           /* 1..255; APIC IDs 0..ncpus-1 */
	uint16_t pvpanic_port;    /* 0: no pvpanic device in the DSDT */
	/* Optional DSDT devices (0/false/NULL: absent) */
	uint16_t serial_port;     /* 16550 UART (PNP0501), 8 ports, e.g. PORT_COM1 */
	uint32_t serial_gsi;      /* its IOAPIC input, e.g. IRQ_COM1; edge, active high */
	bool cmos_rtc;            /* MC146818 at ports 0x70-0x71 (PNP0B00), no interrupt */
	const struct acpi_mmio_dev *virtio;
	unsigned nvirtio;         /* 0..ACPI_MAX_VIRTIO */
	/* MADT Interrupt Source Override ISA IRQ0 -> GSI 2. Set it only if the
	 * VMM reprograms KVM's GSI routing as QEMU and kvmtool do (GSI 0 -> IOAPIC
	 * pin 2); KVM's default routing sends GSI 0 (the PIT) to pin 0. */
	bool irq0_to_gsi2;
};

/* Build RSDP (at `base`, 16-byte aligned, within the BIOS scan area
 * LAYOUT_ACPI..LAYOUT_ACPI_END), XSDT, FADT, DSDT, MADT into guest memory
 * [base, limit); *rsdp_gpa receives the RSDP address. -ENOSPC if it does
 * not fit, -EINVAL for a bad config, -EFAULT if the window is not RAM.
 * Guest memory is untouched on error. */
int acpi_build(const struct guest_mem *m, uint64_t base, uint64_t limit,
	       const struct acpi_config *cfg, uint64_t *rsdp_gpa, struct cl_error *err);

#endif
