/* Guest RAM: one anonymous MAP_NORESERVE mapping, seen by the guest as
 * [0, min(size, MMIO_START)) and, for the rest, [4 GiB, ...): the MMIO
 * window below 4 GiB holds no RAM. All guest-physical accesses from the
 * VMM go through gmem_ptr(), which refuses ranges outside RAM, ranges that
 * wrap and ranges that straddle the hole: guest-supplied addresses and
 * lengths are never trusted. */
#ifndef VMM_MEM_H
#define VMM_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "cloudlet/error.h"

struct gmem_region {
	uint64_t gpa;     /* guest-physical start */
	uint64_t size;
	uint8_t *host;    /* where it is mapped in the VMM */
};

struct guest_mem {
	uint8_t *base;    /* the one mapping */
	uint64_t size;    /* total RAM */
	struct gmem_region regions[2];
	int nregions;
};

/* Pure: split `size` bytes of RAM at host `base` around the MMIO window. */
void gmem_layout(struct guest_mem *m, uint8_t *base, uint64_t size);
int gmem_alloc(struct guest_mem *m, uint64_t size, struct cl_error *err);
void gmem_free(struct guest_mem *m);
/* Host pointer for [gpa, gpa+len) if it lies wholly inside one RAM region, else NULL. */
void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* Copy into / out of guest RAM; -EFAULT if the range is not RAM. */
int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len);
int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len);
/* End of the RAM below the MMIO window (the "low memory" top). */
uint64_t gmem_low_end(const struct guest_mem *m);

#endif
