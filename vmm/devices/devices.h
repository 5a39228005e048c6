/* vmm/devices/: one emulated device per file. Devices reach the VM only
 * through these callbacks, so each can be unit-tested without KVM:
 *   irq:  raise/lower an interrupt line (KVM_IRQ_LINE in the VM)
 *   stop: end the VM with an exit status and a one-line reason */
#ifndef VMM_DEVICES_H
#define VMM_DEVICES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../bus.h"

struct vm_hooks {
	void (*irq)(void *ctx, uint32_t irq, int level);
	void (*stop)(void *ctx, int status, const char *reason);
	void *ctx;
};

/* ---- serial.c: 16550A UART (PC16550D datasheet, National Semiconductor) ---- */
#define UART_FIFO 16
struct uart {
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thri;                 /* THR-empty interrupt pending */
	bool overrun;
	uint8_t rx[UART_FIFO];
	unsigned rx_head, rx_len;
	int irq_level;
	uint32_t irq_num;
	struct vm_hooks hooks;
	void (*tx)(void *ctx, uint8_t byte);
	void *tx_ctx;
};
extern const struct bus_ops uart_ops;
void uart_init(struct uart *u, uint32_t irq, const struct vm_hooks *hooks,
	       void (*tx)(void *ctx, uint8_t byte), void *tx_ctx);
void uart_destroy(struct uart *u);
uint8_t uart_read(struct uart *u, unsigned reg);
void uart_write(struct uart *u, unsigned reg, uint8_t val);
/* Input from the host side; returns how many bytes fit. */
size_t uart_rx_push(struct uart *u, const uint8_t *buf, size_t len);
size_t uart_rx_space(struct uart *u);

/* ---- i8042.c: keyboard controller, enough for Linux's probe and reset ---- */
struct i8042 {
	pthread_mutex_t lock;
	uint8_t ctr;               /* controller configuration byte */
	uint8_t out;               /* output buffer */
	bool out_full;
	uint8_t pending;           /* command awaiting a data byte, 0: none */
	struct vm_hooks hooks;
};
extern const struct bus_ops i8042_ops;   /* register at 0x60, len 5 (0x60-0x64) */
void i8042_init(struct i8042 *k, const struct vm_hooks *hooks);

/* ---- cmos.c: MC146818 RTC and CMOS RAM at ports 0x70/0x71 ---- */
struct cmos {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t ram[128];
};
extern const struct bus_ops cmos_ops;    /* register at 0x70, len 2 */
void cmos_init(struct cmos *c);
/* Pure: the value of register idx at time tm (BCD, 24-hour, as status B says). */
uint8_t cmos_time_reg(uint8_t idx, const struct tm *tm, bool *is_time);

/* ---- pvpanic.c: QEMU's pvpanic ISA device (docs/specs/pvpanic.rst) ---- */
struct pvpanic {
	struct vm_hooks hooks;
};
extern const struct bus_ops pvpanic_ops; /* register at PORT_PVPANIC, len 1 */
#define PVPANIC_PANICKED      (1u << 0)
#define PVPANIC_CRASH_LOADED  (1u << 1)

#endif
