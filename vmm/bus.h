/* One registry per address space (port I/O, MMIO): devices register an
 * address range with read/write callbacks; the vCPU loop dispatches exits
 * by address (kvmtool's ioport.c/mmio.c idea). Registration happens before
 * the vCPUs start, lookups afterwards need no lock. */
#ifndef VMM_BUS_H
#define VMM_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "cloudlet/error.h"

#define BUS_MAX_RANGES 32

struct bus_ops {
	/* off is relative to the range's base; len is 1, 2, 4 or 8 */
	void (*read)(void *dev, uint64_t off, uint8_t *data, uint32_t len);
	void (*write)(void *dev, uint64_t off, const uint8_t *data, uint32_t len);
};

struct bus_range {
	uint64_t base, len;
	const struct bus_ops *ops;
	void *dev;
	const char *name;
};

struct bus {
	const char *name;                 /* "pio", "mmio" */
	struct bus_range r[BUS_MAX_RANGES];   /* sorted by base, disjoint */
	int n;
};

int bus_register(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *dev, const char *name, struct cl_error *err);
const struct bus_range *bus_find(const struct bus *b, uint64_t addr, uint32_t len);
/* false when no device covers [addr, addr+len): reads then see all ones */
bool bus_access(const struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, bool write);

#endif
