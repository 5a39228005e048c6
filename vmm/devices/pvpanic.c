/* pvpanic (QEMU docs/specs/pvpanic.rst): reading the port tells the guest
 * which events the host understands; the guest's panic notifier writes
 * PVPANIC_PANICKED, and the VMM ends with its panic status. The guest finds
 * the port through the DSDT device QEMU0001. */
#include <string.h>

#include "cloudlet/vmm.h"
#include "devices.h"

static void pvpanic_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)off;
	memset(data, 0, len);
	data[0] = PVPANIC_PANICKED;
}

static void pvpanic_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct pvpanic *p = dev;
	(void)off;
	(void)len;
	if ((data[0] & PVPANIC_PANICKED) && p->hooks.stop)
		p->hooks.stop(p->hooks.ctx, VMM_EXIT_PANIC, "guest kernel panicked (pvpanic)");
}

const struct bus_ops pvpanic_ops = { pvpanic_read, pvpanic_write };
