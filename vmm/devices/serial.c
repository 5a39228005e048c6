/* 16550A UART (PC16550D datasheet). The transmitter is infinitely fast:
 * THR writes go straight to the host, so THRE/TEMT are always set. Input
 * waits in a 16-byte receive FIFO. One interrupt line, raised while any
 * enabled condition is pending, with the datasheet's priorities in IIR. */
#include <string.h>

#include "devices.h"

enum { REG_DATA, REG_IER, REG_IIR_FCR, REG_LCR, REG_MCR, REG_LSR, REG_MSR, REG_SCR };

#define IER_RDI     0x01   /* received data available */
#define IER_THRI    0x02   /* transmitter holding register empty */
#define IER_RLSI    0x04   /* receiver line status */
#define IER_MSI     0x08   /* modem status */
#define IIR_NO_INT  0x01
#define IIR_MSI     0x00
#define IIR_THRI    0x02
#define IIR_RDI     0x04
#define IIR_RLSI    0x06
#define IIR_FIFO    0xc0   /* "FIFOs enabled": identifies a 16550A */
#define FCR_ENABLE  0x01
#define FCR_CLR_RX  0x02
#define LCR_DLAB    0x80
#define MCR_DTR     0x01
#define MCR_RTS     0x02
#define MCR_OUT1    0x04
#define MCR_OUT2    0x08
#define MCR_LOOP    0x10
#define LSR_DR      0x01
#define LSR_OE      0x02
#define LSR_THRE    0x20
#define LSR_TEMT    0x40
#define MSR_CTS     0x10
#define MSR_DSR     0x20
#define MSR_RI      0x40
#define MSR_DCD     0x80

static uint8_t iir_locked(const struct uart *u)
{
	uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;
	if ((u->ier & IER_RLSI) && u->overrun)
		return IIR_RLSI | fifo;
	if ((u->ier & IER_RDI) && u->rx_len)
		return IIR_RDI | fifo;
	if ((u->ier & IER_THRI) && u->thri)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

static void update_irq_locked(struct uart *u)
{
	int level = !(iir_locked(u) & IIR_NO_INT);
	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->hooks.irq)
			u->hooks.irq(u->hooks.ctx, u->irq_num, level);
	}
}

static bool rx_put_locked(struct uart *u, uint8_t b)
{
	if (u->rx_len == UART_FIFO) {
		u->overrun = true;
		return false;
	}
	u->rx[(u->rx_head + u->rx_len++) % UART_FIFO] = b;
	return true;
}

void uart_init(struct uart *u, uint32_t irq, const struct vm_hooks *hooks,
	       void (*tx)(void *ctx, uint8_t byte), void *tx_ctx)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->irq_num = irq;
	if (hooks)
		u->hooks = *hooks;
	u->tx = tx;
	u->tx_ctx = tx_ctx;
	u->mcr = MCR_OUT2;
	u->thri = true;   /* the holding register starts empty */
}

void uart_destroy(struct uart *u)
{
	pthread_mutex_destroy(&u->lock);
}

uint8_t uart_read(struct uart *u, unsigned reg)
{
	uint8_t v = 0;
	pthread_mutex_lock(&u->lock);
	switch (reg) {
	case REG_DATA:
		if (u->lcr & LCR_DLAB) {
			v = u->dll;
		} else if (u->rx_len) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_FIFO;
			u->rx_len--;
		}
		break;
	case REG_IER:
		v = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
		break;
	case REG_IIR_FCR:
		v = iir_locked(u);
		/* reading IIR while THRE is the reported source clears it (datasheet table 4) */
		if ((v & 0x0f) == IIR_THRI)
			u->thri = false;
		break;
	case REG_LCR:
		v = u->lcr;
		break;
	case REG_MCR:
		v = u->mcr;
		break;
	case REG_LSR:
		v = LSR_THRE | LSR_TEMT | (u->rx_len ? LSR_DR : 0) | (u->overrun ? LSR_OE : 0);
		u->overrun = false;   /* error bits clear on read */
		break;
	case REG_MSR:
		if (u->mcr & MCR_LOOP)   /* loopback wires the modem outputs to the inputs */
			v = ((u->mcr & MCR_RTS) ? MSR_CTS : 0) | ((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
			    ((u->mcr & MCR_OUT1) ? MSR_RI : 0) | ((u->mcr & MCR_OUT2) ? MSR_DCD : 0);
		else   /* a null-modem peer that is always there */
			v = MSR_DCD | MSR_DSR | MSR_CTS;
		break;
	case REG_SCR:
		v = u->scr;
		break;
	}
	update_irq_locked(u);
	pthread_mutex_unlock(&u->lock);
	return v;
}

void uart_write(struct uart *u, unsigned reg, uint8_t val)
{
	pthread_mutex_lock(&u->lock);
	switch (reg) {
	case REG_DATA:
		if (u->lcr & LCR_DLAB) {
			u->dll = val;
		} else {
			if (u->mcr & MCR_LOOP)
				rx_put_locked(u, val);
			else if (u->tx)
				u->tx(u->tx_ctx, val);
			/* sent at once: the holding register is empty again */
			u->thri = true;
		}
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = val;
		} else {
			/* enabling THRI while the register is empty raises it at once:
			 * Linux's 8250 driver tests exactly this (UART_BUG_THRE) */
			if ((val & IER_THRI) && !(u->ier & IER_THRI))
				u->thri = true;
			u->ier = val & 0x0f;
		}
		break;
	case REG_IIR_FCR:
		if (val & FCR_CLR_RX)
			u->rx_len = u->rx_head = 0;
		u->fcr = val & FCR_ENABLE;
		break;
	case REG_LCR:
		u->lcr = val;
		break;
	case REG_MCR:
		u->mcr = val & 0x1f;
		break;
	case REG_SCR:
		u->scr = val;
		break;
	}
	update_irq_locked(u);
	pthread_mutex_unlock(&u->lock);
}

size_t uart_rx_push(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;
	pthread_mutex_lock(&u->lock);
	/* in loopback mode the receiver listens to the transmitter only */
	while (!(u->mcr & MCR_LOOP) && n < len && u->rx_len < UART_FIFO)
		rx_put_locked(u, buf[n++]);
	update_irq_locked(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t uart_rx_space(struct uart *u)
{
	pthread_mutex_lock(&u->lock);
	size_t n = UART_FIFO - u->rx_len;
	pthread_mutex_unlock(&u->lock);
	return n;
}

static void uart_bus_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	memset(data, 0, len);
	data[0] = uart_read(dev, (unsigned)off);
}

static void uart_bus_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	(void)len;
	uart_write(dev, (unsigned)off, data[0]);
}

const struct bus_ops uart_ops = { uart_bus_read, uart_bus_write };
