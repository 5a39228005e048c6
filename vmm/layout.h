/* Every guest-physical address the VMM uses, in one place (after
 * Firecracker's arch/x86_64/layout.rs). Sources: Linux x86 boot protocol
 * (Documentation/arch/x86/boot.rst), the PVH ABI (xen/include/public/arch-x86/
 * hvm/start_info.h), ACPI 6.4 §5.2.5.1 (RSDP search area). */
#ifndef VMM_LAYOUT_H
#define VMM_LAYOUT_H

/* boot GDT and IDT: below the zero page, in conventional memory */
#define LAYOUT_GDT            0x00000500ULL
#define LAYOUT_IDT            0x00000520ULL
/* PVH: hvm_start_info, then its memory map and module list */
#define LAYOUT_PVH_INFO       0x00006000ULL
/* bzImage: the "zero page" (struct boot_params) */
#define LAYOUT_ZERO_PAGE      0x00007000ULL
/* initial stack for the 64-bit entry; grows down from here */
#define LAYOUT_BOOT_STACK     0x00008ff0ULL
/* identity page tables for the 64-bit entry: PML4, PDPT, 4 PDs (4 GiB in 2 MiB pages) */
#define LAYOUT_PML4           0x00009000ULL
#define LAYOUT_PDPT           0x0000a000ULL
#define LAYOUT_PD             0x0000b000ULL
#define LAYOUT_PD_COUNT       4
/* kernel command line (boot.rst: anywhere between the setup heap end and 0xA0000) */
#define LAYOUT_CMDLINE        0x00020000ULL
#define LAYOUT_CMDLINE_MAX    0x00010000ULL
/* end of conventional memory; 0x9fc00-0xa0000 is the EBDA, then the VGA/BIOS hole */
#define LAYOUT_EBDA           0x0009fc00ULL
#define LAYOUT_LOW_END        0x000a0000ULL
/* ACPI tables: the RSDP must lie in 0xE0000-0xFFFFF for the BIOS-area scan */
#define LAYOUT_ACPI           0x000e0000ULL
#define LAYOUT_ACPI_END       0x00100000ULL
/* protected-mode kernel for bzImages that are not relocatable */
#define LAYOUT_HIGH_MEM       0x00100000ULL
/* MMIO window: no RAM from here to 4 GiB (IOAPIC, LAPIC, virtio-mmio devices) */
#define LAYOUT_MMIO_START     0xc0000000ULL
#define LAYOUT_MMIO_END       0x100000000ULL
#define LAYOUT_VIRTIO_MMIO    0xd0000000ULL   /* one 4 KiB window per virtio device */
#define LAYOUT_IOAPIC         0xfec00000ULL
#define LAYOUT_LAPIC          0xfee00000ULL

/* port I/O */
#define PORT_I8042_DATA       0x60
#define PORT_I8042_CMD        0x64   /* 0xFE written here pulses the CPU reset line */
#define PORT_CMOS             0x70   /* 0x70 index, 0x71 data */
#define PORT_PVPANIC          0x505  /* QEMU's pvpanic ISA port, ACPI id QEMU0001 */
#define PORT_COM1             0x3f8
#define IRQ_COM1              4

#endif
