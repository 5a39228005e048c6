/* Guest RAM: see mem.h. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "layout.h"
#include "mem.h"

void gmem_layout(struct guest_mem *m, uint8_t *base, uint64_t size)
{
	uint64_t low = size < LAYOUT_MMIO_START ? size : LAYOUT_MMIO_START;
	memset(m, 0, sizeof(*m));
	m->base = base;
	m->size = size;
	m->regions[m->nregions++] = (struct gmem_region){ 0, low, base };
	if (size > low)
		m->regions[m->nregions++] =
			(struct gmem_region){ LAYOUT_MMIO_END, size - low, base + low };
}

/* KVM maps guest RAM with a 2 MiB nested-page entry only where the host
 * address and the guest-physical address agree modulo 2 MiB and the host
 * page is a (transparent) huge page. Guest RAM starts at gpa 0, so the
 * mapping is placed on a 2 MiB boundary (as QEMU aligns its RAM). */
#define GMEM_ALIGN (2ULL << 20)

int gmem_alloc(struct guest_mem *m, uint64_t size, struct cl_error *err)
{
	/* over-allocate, then trim to an aligned window. MAP_NORESERVE: the
	 * host pays only for pages the guest touches */
	uint64_t span = size + GMEM_ALIGN;
	uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return cl_err_sys(err, errno, "cannot map %llu MiB of guest memory",
				  (unsigned long long)(size >> 20));
	uint8_t *base = (uint8_t *)(((uintptr_t)p + GMEM_ALIGN - 1) & ~(uintptr_t)(GMEM_ALIGN - 1));
	if (base > p)
		munmap(p, (size_t)(base - p));
	if (base + size < p + span)
		munmap(base + size, (size_t)(p + span - (base + size)));
	/* the guest's memory is never useful in a VMM core dump */
	madvise(base, size, MADV_DONTDUMP);
	/* advice only: ignored where transparent huge pages are off */
	madvise(base, size, MADV_HUGEPAGE);
	gmem_layout(m, base, size);
	return 0;
}

void gmem_free(struct guest_mem *m)
{
	if (m->base)
		munmap(m->base, m->size);
	memset(m, 0, sizeof(*m));
}

void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa + len < gpa)
		return NULL;
	for (int i = 0; i < m->nregions; i++) {
		const struct gmem_region *r = &m->regions[i];
		if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = gmem_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len)
{
	const void *p = gmem_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

uint64_t gmem_low_end(const struct guest_mem *m)
{
	return m->regions[0].size;
}
