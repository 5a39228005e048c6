/* MC146818 RTC + CMOS RAM (ports 0x70 index, 0x71 data): the guest reads
 * the wall clock here when it has no paravirtual clock yet. Time registers
 * are computed from the host's UTC time on every read, in BCD and 24-hour
 * mode as status register B declares. */
#include <string.h>

#include "devices.h"

#define REG_SECONDS 0x00
#define REG_MINUTES 0x02
#define REG_HOURS   0x04
#define REG_WEEKDAY 0x06
#define REG_DAY     0x07
#define REG_MONTH   0x08
#define REG_YEAR    0x09
#define REG_A       0x0a
#define REG_B       0x0b
#define REG_C       0x0c
#define REG_D       0x0d
#define REG_CENTURY 0x32   /* the ACPI FADT's default century register */
#define A_DIVIDER   0x26   /* 32.768 kHz time base, 1.024 kHz rate; UIP clear */
#define B_24H       0x02   /* 24-hour mode, BCD (DM bit clear) */
#define D_VRT       0x80   /* valid RAM and time: the battery is fine */

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

uint8_t cmos_time_reg(uint8_t idx, const struct tm *tm, bool *is_time)
{
	*is_time = true;
	switch (idx) {
	case REG_SECONDS: return bcd(tm->tm_sec > 59 ? 59 : tm->tm_sec);
	case REG_MINUTES: return bcd(tm->tm_min);
	case REG_HOURS: return bcd(tm->tm_hour);
	case REG_WEEKDAY: return bcd(tm->tm_wday + 1);
	case REG_DAY: return bcd(tm->tm_mday);
	case REG_MONTH: return bcd(tm->tm_mon + 1);
	case REG_YEAR: return bcd((tm->tm_year + 1900) % 100);
	case REG_CENTURY: return bcd((tm->tm_year + 1900) / 100);
	case REG_A: return A_DIVIDER;
	case REG_B: return B_24H;
	case REG_C: return 0;
	case REG_D: return D_VRT;
	}
	*is_time = false;
	return 0;
}

void cmos_init(struct cmos *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	/* glibc's gmtime_r sets its time zone up on first use (a malloc, an
	 * open of /etc/localtime): that happens now, at setup, and not on a
	 * vCPU thread whose seccomp filter allows neither (a stock kernel
	 * reads the RTC; found by tests/kvm/vm.sh under the filter) */
	tzset();
}

static void cmos_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	struct cmos *c = dev;
	memset(data, 0, len);
	if (off != 1) {
		data[0] = 0xff;
		return;
	}
	pthread_mutex_lock(&c->lock);
	struct tm tm;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	bool is_time;
	uint8_t v = cmos_time_reg(c->index, &tm, &is_time);
	data[0] = is_time ? v : c->ram[c->index];
	pthread_mutex_unlock(&c->lock);
}

static void cmos_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct cmos *c = dev;
	(void)len;
	pthread_mutex_lock(&c->lock);
	if (off == 0)
		c->index = data[0] & 0x7f;   /* bit 7 is the NMI mask, not an index bit */
	else
		c->ram[c->index] = data[0];  /* clock writes are ignored: time is the host's */
	pthread_mutex_unlock(&c->lock);
}

const struct bus_ops cmos_ops = { cmos_read, cmos_write };
