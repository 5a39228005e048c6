/* Address-keyed device registry: see bus.h. */
#include <errno.h>
#include <string.h>

#include "bus.h"

int bus_register(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *dev, const char *name, struct cl_error *err)
{
	if (!len || base + len < base)
		return cl_err(err, EINVAL, "%s bus: %s: bad range %#llx+%#llx", b->name, name,
			      (unsigned long long)base, (unsigned long long)len);
	if (b->n == BUS_MAX_RANGES)
		return cl_err(err, ENOSPC, "%s bus: no room for %s", b->name, name);
	int i = 0;
	while (i < b->n && b->r[i].base < base)
		i++;
	/* neighbours must not overlap: [prev.base, prev.end) and [next.base, ...) */
	if ((i > 0 && b->r[i - 1].base + b->r[i - 1].len > base) ||
	    (i < b->n && base + len > b->r[i].base))
		return cl_err(err, EBUSY, "%s bus: %s at %#llx overlaps %s", b->name, name,
			      (unsigned long long)base,
			      (i > 0 && b->r[i - 1].base + b->r[i - 1].len > base) ? b->r[i - 1].name
										  : b->r[i].name);
	memmove(&b->r[i + 1], &b->r[i], (size_t)(b->n - i) * sizeof(b->r[0]));
	b->r[i] = (struct bus_range){ base, len, ops, dev, name };
	b->n++;
	return 0;
}

const struct bus_range *bus_find(const struct bus *b, uint64_t addr, uint32_t len)
{
	int lo = 0, hi = b->n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct bus_range *r = &b->r[mid];
		if (addr < r->base)
			hi = mid - 1;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else   /* an access must not run past its device's range */
			return len <= r->len - (addr - r->base) ? r : NULL;
	}
	return NULL;
}

bool bus_access(const struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, bool write)
{
	const struct bus_range *r = bus_find(b, addr, len);
	if (!r) {
		if (!write)
			memset(data, 0xff, len);
		return false;
	}
	if (write) {
		if (r->ops->write)
			r->ops->write(r->dev, addr - r->base, data, len);
	} else if (r->ops->read) {
		r->ops->read(r->dev, addr - r->base, data, len);
	} else {
		memset(data, 0xff, len);
	}
	return true;
}
