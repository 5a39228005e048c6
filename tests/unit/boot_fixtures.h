/* Fixtures shared by the boot-loader unit tests (test_boot_*.c): the real
 * images from `make images`, and guest RAM backed by an ordinary buffer
 * (gmem_layout), so loaders run without KVM. */
#ifndef TESTS_BOOT_FIXTURES_H
#define TESTS_BOOT_FIXTURES_H

#include <criterion/criterion.h>
#include <stdlib.h>

#include "../../vmm/boot/kernel.h"
#include "cloudlet/file.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* build/images/NAME (or a kernel build's scratch copy), NULL if absent. */
static inline uint8_t *slurp(const char *name, size_t *len)
{
	static const char *const dirs[] = { "build/images/", "/tmp/kout/" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char path[256];
		uint8_t *b = NULL;
		struct cl_error err = { 0 };
		snprintf(path, sizeof(path), "%s%s", dirs[i], name);
		if (cl_file_read(path, 256u << 20, &b, len, &err) == 0)
			return b;
	}
	return NULL;
}

/* The real image, or skip the test when `make images` has not run. */
static inline uint8_t *real_image(const char *name, size_t *len)
{
	uint8_t *b = slurp(name, len);
	if (!b)
		cr_skip_test("no %s in build/images or /tmp/kout (make images)", name);
	return b;
}

struct guest {
	struct guest_mem m;
	uint8_t *buf;
};

static inline void guest_new(struct guest *g, uint64_t size)
{
	g->buf = calloc(1, size);
	cr_assert(g->buf);
	gmem_layout(&g->m, g->buf, size);
}

#endif
