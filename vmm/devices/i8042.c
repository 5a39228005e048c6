/* i8042 keyboard controller, no keyboard or mouse attached: enough for
 * Linux's probe to find a controller and for its reboot=k path, which
 * writes 0xFE (pulse output-port bit 0, the CPU reset line) to port 0x64
 * (arch/x86/kernel/reboot.c, BOOT_KBD). Commands: the 8042 datasheet and
 * OSDev "8042 PS/2 Controller". */
#include <string.h>

#include "../layout.h"
#include "devices.h"

#define STATUS_OBF      0x01   /* output buffer full */
#define STATUS_SYS      0x04   /* system flag: self-test passed */
#define STATUS_CMD      0x08   /* last write was to the command port */
#define CMD_READ_CTR    0x20
#define CMD_WRITE_CTR   0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE  0xa8
#define CMD_AUX_TEST    0xa9
#define CMD_SELF_TEST   0xaa
#define CMD_KBD_TEST    0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE  0xae
#define CMD_WRITE_OUT   0xd1
#define CMD_WRITE_AUX   0xd4
#define CMD_PULSE_RESET 0xfe
#define CTR_KBD_DISABLE 0x10
#define CTR_AUX_DISABLE 0x20
#define SELF_TEST_OK    0x55
#define PORT_TEST_OK    0x00

static void put_locked(struct i8042 *k, uint8_t v)
{
	k->out = v;
	k->out_full = true;
}

static void reset(struct i8042 *k)
{
	if (k->hooks.stop)
		k->hooks.stop(k->hooks.ctx, 0, "guest reset (i8042)");
}

void i8042_init(struct i8042 *k, const struct vm_hooks *hooks)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->ctr = CTR_KBD_DISABLE | CTR_AUX_DISABLE;
	if (hooks)
		k->hooks = *hooks;
}

static void i8042_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	struct i8042 *k = dev;
	memset(data, 0, len);
	pthread_mutex_lock(&k->lock);
	if (off == PORT_I8042_CMD - PORT_I8042_DATA) {
		data[0] = STATUS_SYS | (k->out_full ? STATUS_OBF : 0);
	} else if (off == 0) {
		data[0] = k->out;
		k->out_full = false;
	}
	pthread_mutex_unlock(&k->lock);
}

static void i8042_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct i8042 *k = dev;
	bool do_reset = false;
	(void)len;
	pthread_mutex_lock(&k->lock);
	if (off == PORT_I8042_CMD - PORT_I8042_DATA) {
		switch (data[0]) {
		case CMD_READ_CTR: put_locked(k, k->ctr); break;
		case CMD_WRITE_CTR:
		case CMD_WRITE_OUT:
		case CMD_WRITE_AUX: k->pending = data[0]; break;
		case CMD_SELF_TEST: put_locked(k, SELF_TEST_OK); break;
		case CMD_KBD_TEST:
		case CMD_AUX_TEST: put_locked(k, PORT_TEST_OK); break;
		case CMD_KBD_DISABLE: k->ctr |= CTR_KBD_DISABLE; break;
		case CMD_KBD_ENABLE: k->ctr &= (uint8_t)~CTR_KBD_DISABLE; break;
		case CMD_AUX_DISABLE: k->ctr |= CTR_AUX_DISABLE; break;
		case CMD_AUX_ENABLE: k->ctr &= (uint8_t)~CTR_AUX_DISABLE; break;
		case CMD_PULSE_RESET: do_reset = true; break;
		}
	} else if (off == 0) {
		switch (k->pending) {
		case CMD_WRITE_CTR: k->ctr = data[0]; break;
		/* output port bit 0 low holds the CPU in reset */
		case CMD_WRITE_OUT: do_reset = !(data[0] & 1); break;
		default: break;   /* no keyboard or mouse answers */
		}
		k->pending = 0;
	}
	pthread_mutex_unlock(&k->lock);
	if (do_reset)
		reset(k);
}

const struct bus_ops i8042_ops = { i8042_read, i8042_write };
