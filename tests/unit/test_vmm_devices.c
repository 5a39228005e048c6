/* Emulated devices, driven through their registers as a guest would. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../vmm/devices/devices.h"

enum { DATA, IER, IIR, LCR, MCR, LSR, MSR, SCR };

static int irq_level = -1, irq_changes;
static char txbuf[64];
static size_t txlen;
static int stop_status = -1;

static void on_irq(void *ctx, uint32_t irq, int level)
{
	(void)ctx;
	cr_assert_eq(irq, 4);
	irq_level = level;
	irq_changes++;
}
static void on_tx(void *ctx, uint8_t b)
{
	(void)ctx;
	if (txlen < sizeof(txbuf))
		txbuf[txlen++] = (char)b;
}
static void on_stop(void *ctx, int status, const char *reason)
{
	(void)ctx;
	(void)reason;
	stop_status = status;
}
static const struct vm_hooks hooks = { on_irq, on_stop, NULL };

static struct uart u;
static void uart_setup(void)
{
	irq_level = -1;
	irq_changes = 0;
	txlen = 0;
	uart_init(&u, 4, &hooks, on_tx, NULL);
}
static void uart_teardown(void)
{
	uart_destroy(&u);
}
TestSuite(uart, .init = uart_setup, .fini = uart_teardown);

Test(uart, transmit_and_line_status)
{
	cr_assert_eq(uart_read(&u, LSR) & 0x60, 0x60, "THRE and TEMT");
	cr_assert_eq(uart_read(&u, IIR) & 0x0f, 0x01, "no interrupt pending");
	uart_write(&u, DATA, 'h');
	uart_write(&u, DATA, 'i');
	cr_assert_eq(txlen, 2);
	cr_assert_eq(memcmp(txbuf, "hi", 2), 0);
	cr_assert_eq(uart_read(&u, LSR) & 0x60, 0x60, "the transmitter never fills");
}

Test(uart, divisor_latch)
{
	uart_write(&u, LCR, 0x83);   /* DLAB, 8N1 */
	uart_write(&u, DATA, 0x01);  /* DLL: 115200 baud */
	uart_write(&u, IER, 0x00);   /* DLM */
	cr_assert_eq(uart_read(&u, DATA), 0x01);
	cr_assert_eq(uart_read(&u, IER), 0x00);
	cr_assert_eq(txlen, 0, "DLL writes are not data");
	uart_write(&u, LCR, 0x03);
	cr_assert_eq(uart_read(&u, LCR), 0x03);
	cr_assert_eq(uart_read(&u, IER), 0x00, "IER, not DLM, without DLAB");
}

Test(uart, thre_interrupt_as_linux_tests_it)
{
	/* serial8250_do_startup: enable THRI with an empty THR -> IIR says THRI */
	uart_write(&u, IER, 0x02);
	cr_assert_eq(uart_read(&u, IIR) & 0x0f, 0x02);
	cr_assert_eq(irq_level, 0, "reading IIR cleared the THRE source");
	cr_assert_eq(uart_read(&u, IIR) & 0x0f, 0x01);
	uart_write(&u, IER, 0x00);
	uart_write(&u, IER, 0x02);
	cr_assert_eq(irq_level, 1);
	uart_write(&u, DATA, 'x');   /* writing THR re-arms THRE once sent */
	cr_assert_eq(irq_level, 1);
	uart_write(&u, IER, 0x00);
	cr_assert_eq(irq_level, 0);
}

Test(uart, receive_fifo_and_rdi)
{
	uart_write(&u, IIR, 0x07);   /* FCR: enable and clear FIFOs */
	cr_assert_eq(uart_read(&u, IIR) & 0xc0, 0xc0, "FIFOs enabled: a 16550A");
	uart_write(&u, IER, 0x01);
	cr_assert_eq(uart_rx_push(&u, (const uint8_t *)"ok", 2), 2);
	cr_assert_eq(irq_level, 1);
	cr_assert_eq(uart_read(&u, IIR) & 0x0f, 0x04);
	cr_assert_eq(uart_read(&u, LSR) & 1, 1);
	cr_assert_eq(uart_read(&u, DATA), 'o');
	cr_assert_eq(uart_read(&u, DATA), 'k');
	cr_assert_eq(uart_read(&u, LSR) & 1, 0);
	cr_assert_eq(irq_level, 0);
	uint8_t big[40];
	memset(big, 'a', sizeof(big));
	cr_assert_eq(uart_rx_space(&u), UART_FIFO);
	cr_assert_eq(uart_rx_push(&u, big, sizeof(big)), UART_FIFO, "the FIFO holds 16");
	cr_assert_eq(uart_rx_space(&u), 0);
}

Test(uart, loopback_and_modem_status)
{
	/* 8250 autoconfig: MCR = LOOP|OUT2|RTS must read back MSR 0x90 */
	uart_write(&u, MCR, 0x1a);
	cr_assert_eq(uart_read(&u, MSR) & 0xf0, 0x90);
	uart_write(&u, DATA, 'L');
	cr_assert_eq(txlen, 0, "loopback does not transmit");
	cr_assert_eq(uart_read(&u, DATA), 'L');
	uart_write(&u, MCR, 0x0b);
	cr_assert_eq(uart_read(&u, MSR) & 0xb0, 0xb0, "DCD, DSR, CTS from the peer");
	uart_write(&u, SCR, 0x5a);
	cr_assert_eq(uart_read(&u, SCR), 0x5a);
}

Test(i8042, probe_answers_and_reset)
{
	struct i8042 k;
	uint8_t d[1];
	stop_status = -1;
	i8042_init(&k, &hooks);
	d[0] = 0xaa;
	i8042_ops.write(&k, 4, d, 1);
	i8042_ops.read(&k, 4, d, 1);
	cr_assert_eq(d[0] & 1, 1, "output buffer full");
	i8042_ops.read(&k, 0, d, 1);
	cr_assert_eq(d[0], 0x55, "self-test passed");
	d[0] = 0x60;
	i8042_ops.write(&k, 4, d, 1);
	d[0] = 0x47;
	i8042_ops.write(&k, 0, d, 1);
	d[0] = 0x20;
	i8042_ops.write(&k, 4, d, 1);
	i8042_ops.read(&k, 0, d, 1);
	cr_assert_eq(d[0], 0x47, "CTR round trip");
	cr_assert_eq(stop_status, -1);
	d[0] = 0xd1;
	i8042_ops.write(&k, 4, d, 1);
	d[0] = 0x01;   /* bit 0 set: the CPU keeps running */
	i8042_ops.write(&k, 0, d, 1);
	cr_assert_eq(stop_status, -1);
	d[0] = 0xfe;   /* reboot=k */
	i8042_ops.write(&k, 4, d, 1);
	cr_assert_eq(stop_status, 0);
}

Test(cmos, bcd_time_registers)
{
	struct tm tm = { .tm_sec = 59, .tm_min = 7, .tm_hour = 23, .tm_mday = 25,
			 .tm_mon = 10, .tm_year = 126, .tm_wday = 3 };
	bool t;
	cr_assert_eq(cmos_time_reg(0x00, &tm, &t), 0x59);
	cr_assert(t);
	cr_assert_eq(cmos_time_reg(0x02, &tm, &t), 0x07);
	cr_assert_eq(cmos_time_reg(0x04, &tm, &t), 0x23);
	cr_assert_eq(cmos_time_reg(0x07, &tm, &t), 0x25);
	cr_assert_eq(cmos_time_reg(0x08, &tm, &t), 0x11);
	cr_assert_eq(cmos_time_reg(0x09, &tm, &t), 0x26);
	cr_assert_eq(cmos_time_reg(0x32, &tm, &t), 0x20);
	cr_assert_eq(cmos_time_reg(0x0b, &tm, &t) & 0x04, 0, "BCD mode");
	cr_assert_eq(cmos_time_reg(0x0d, &tm, &t), 0x80);
	cmos_time_reg(0x40, &tm, &t);
	cr_assert_not(t);

	struct cmos c;
	uint8_t d[1] = { 0x80 | 0x40 };   /* NMI mask bit + index 0x40 */
	cmos_init(&c);
	cmos_ops.write(&c, 0, d, 1);
	d[0] = 0x99;
	cmos_ops.write(&c, 1, d, 1);
	d[0] = 0;
	cmos_ops.read(&c, 1, d, 1);
	cr_assert_eq(d[0], 0x99);
	cr_assert_eq(c.index, 0x40);
}

Test(pvpanic, panic_stops_with_status)
{
	struct pvpanic p = { hooks };
	uint8_t d[1];
	stop_status = -1;
	pvpanic_ops.read(&p, 0, d, 1);
	cr_assert_eq(d[0], PVPANIC_PANICKED);
	d[0] = PVPANIC_CRASH_LOADED;
	pvpanic_ops.write(&p, 0, d, 1);
	cr_assert_eq(stop_status, -1, "crash-loaded is not a panic");
	d[0] = PVPANIC_PANICKED;
	pvpanic_ops.write(&p, 0, d, 1);
	cr_assert_eq(stop_status, 10);
}
