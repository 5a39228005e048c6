/* The AML encoder (vmm/boot/aml.c): exact bytes against ACPI 6.4 §20.2 and
 * §6.4, PkgLength at every encoding boundary, and that it never writes
 * past its buffer. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/boot/aml.h"

#define assert_bytes(a, ...)                                                              \
	do {                                                                              \
		static const uint8_t want_[] = { __VA_ARGS__ };                           \
		size_t len_;                                                              \
		cr_assert_eq(aml_finish(a, &len_), 0, "encoder error %d", (a)->err);     \
		cr_assert_eq(len_, sizeof(want_), "length %zu, want %zu", len_,           \
			     sizeof(want_));                                              \
		for (size_t i_ = 0; i_ < sizeof(want_); i_++)                             \
			cr_assert_eq((a)->buf[i_], want_[i_], "byte %zu: %#04x, want %#04x", \
				     i_, (a)->buf[i_], want_[i_]);                        \
	} while (0)

static uint8_t buf[256];
static struct aml a;

static void init(void)
{
	memset(buf, 0xaa, sizeof(buf));
	aml_init(&a, buf, sizeof(buf));
}

TestSuite(acpi_aml, .init = init);

/* Decode a PkgLength as the spec reads it: *n receives its byte count. */
static uint32_t pkglen_decode(const uint8_t *p, int *n)
{
	int follow = p[0] >> 6;
	*n = follow + 1;
	if (follow == 0)
		return p[0] & 0x3f;
	cr_assert_eq(p[0] & 0x30, 0, "bits 4-5 of a multi-byte lead byte must be 0");
	uint32_t v = p[0] & 0x0f;
	for (int i = 1; i <= follow; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	return v;
}

Test(acpi_aml, pkglen_encode_boundaries)
{
	static const struct {
		uint32_t total;
		int n;
		uint8_t b[4];
	} cases[] = {
		{ 0, 1, { 0x00 } },
		{ 1, 1, { 0x01 } },
		{ 63, 1, { 0x3f } },                          /* largest 1-byte */
		{ 64, 2, { 0x40, 0x04 } },                    /* smallest 2-byte */
		{ 4095, 2, { 0x4f, 0xff } },                  /* largest 2-byte */
		{ 4096, 3, { 0x80, 0x00, 0x01 } },            /* smallest 3-byte */
		{ 0xfffff, 3, { 0x8f, 0xff, 0xff } },
		{ 0x100000, 4, { 0xc0, 0x00, 0x00, 0x01 } },
		{ 0xfffffff, 4, { 0xcf, 0xff, 0xff, 0xff } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t out[4] = { 0 };
		int n = aml_pkglen_encode(cases[i].total, out);
		cr_assert_eq(n, cases[i].n, "total %u: %d bytes, want %d", cases[i].total, n,
			     cases[i].n);
		cr_assert_arr_eq(out, cases[i].b, (size_t)n, "total %u", cases[i].total);
		int dn;
		cr_assert_eq(pkglen_decode(out, &dn), cases[i].total);
		cr_assert_eq(dn, n);
	}
	uint8_t out[4];
	cr_assert_eq(aml_pkglen_encode(0x10000000, out), -ERANGE);
}

/* The length counts its own bytes: a body of 62 takes 1 byte (total 63),
 * a body of 63 needs 2 (total 65, never 64). */
Test(acpi_aml, pkglen_size_boundaries)
{
	cr_assert_eq(aml_pkglen_size(0), 1);
	cr_assert_eq(aml_pkglen_size(62), 1);
	cr_assert_eq(aml_pkglen_size(63), 2);
	cr_assert_eq(aml_pkglen_size(4093), 2);
	cr_assert_eq(aml_pkglen_size(4094), 3);
	cr_assert_eq(aml_pkglen_size(0xfffff - 3), 3);
	cr_assert_eq(aml_pkglen_size(0xfffff - 2), 4);
	cr_assert_eq(aml_pkglen_size(0xfffffff - 4), 4);
	cr_assert_eq(aml_pkglen_size(0xfffffff - 3), 0);
}

/* aml_pkg_end inserts the right PkgLength in front of bodies around each
 * boundary and moves the body intact. */
Test(acpi_aml, pkg_end_at_boundaries)
{
	static const size_t bodies[] = { 0, 1, 61, 62, 63, 64, 4092, 4093, 4094, 4095, 4096,
					 0xfffff - 3, 0xfffff - 2 };
	size_t cap = 0xfffff + 16;
	uint8_t *big = malloc(cap);
	cr_assert_not_null(big);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		size_t body = bodies[i];
		struct aml b;
		aml_init(&b, big, cap);
		aml_byte(&b, 0x10);             /* an opcode before the package */
		aml_pkg_begin(&b);
		for (size_t j = 0; j < body; j++)
			aml_byte(&b, (uint8_t)(j * 7 + 1));
		aml_pkg_end(&b);
		size_t len;
		cr_assert_eq(aml_finish(&b, &len), 0);
		int n;
		uint32_t total = pkglen_decode(big + 1, &n);
		cr_assert_eq(n, aml_pkglen_size(body), "body %zu", body);
		cr_assert_eq(total, body + (size_t)n, "body %zu: PkgLength %u", body, total);
		cr_assert_eq(len, 1 + total);
		cr_assert_eq(big[0], 0x10);
		for (size_t j = 0; j < body; j++)
			cr_assert_eq(big[1 + n + j], (uint8_t)(j * 7 + 1), "body %zu byte %zu", body, j);
	}
	free(big);
}

Test(acpi_aml, nested_packages)
{
	aml_scope_begin(&a, "\\_SB");
	aml_device_begin(&a, "DEV0");
	aml_pkg_end(&a);
	aml_pkg_end(&a);
	/* Device: 5B 82 len=5 'DEV0'; Scope: 10 len=13 '\' '_SB_' + 7 */
	assert_bytes(&a, 0x10, 0x0d, 0x5c, '_', 'S', 'B', '_', 0x5b, 0x82, 0x05, 'D', 'E', 'V',
		     '0');
}

Test(acpi_aml, names)
{
	aml_namestring(&a, "\\_SB_");
	aml_namestring(&a, "_SB.PVPN");     /* DualNamePath, "_SB" padded */
	aml_namestring(&a, "\\A.B.C");      /* MultiNamePath */
	aml_namestring(&a, "^^X1");
	assert_bytes(&a, 0x5c, '_', 'S', 'B', '_',
		     0x2e, '_', 'S', 'B', '_', 'P', 'V', 'P', 'N',
		     0x5c, 0x2f, 3, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_', '_', '_',
		     0x5e, 0x5e, 'X', '1', '_', '_');
}

Test(acpi_aml, bad_names)
{
	const char *bad[] = { "", "\\", "1ABC", "abcd", "TOOLONG", "A..B", "A.", ".A", "A-B",
			      "\\^A" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct aml b;
		uint8_t out[64];
		aml_init(&b, out, sizeof(out));
		aml_namestring(&b, bad[i]);
		cr_assert_eq(aml_finish(&b, NULL), -EINVAL, "accepted '%s'", bad[i]);
	}
}

Test(acpi_aml, integers)
{
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 2);
	aml_integer(&a, 0xff);
	aml_integer(&a, 0x100);
	aml_integer(&a, 0xffff);
	aml_integer(&a, 0x10000);
	aml_integer(&a, 0xffffffff);
	aml_integer(&a, 0x100000000ull);
	assert_bytes(&a, 0x00, 0x01, 0x0a, 0x02, 0x0a, 0xff, 0x0b, 0x00, 0x01, 0x0b, 0xff, 0xff,
		     0x0c, 0x00, 0x00, 0x01, 0x00, 0x0c, 0xff, 0xff, 0xff, 0xff,
		     0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00);
}

Test(acpi_aml, name_string_eisaid)
{
	aml_name(&a, "_HID");
	aml_string(&a, "QEMU0001");
	aml_name(&a, "_HID");
	aml_eisaid(&a, "PNP0501");
	assert_bytes(&a, 0x08, '_', 'H', 'I', 'D', 0x0d, 'Q', 'E', 'M', 'U', '0', '0', '0', '1',
		     0x00, 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01);
}

Test(acpi_aml, bad_strings_and_ids)
{
	const char *bad_ids[] = { "PNP050", "PNP05011", "pnp0501", "PNP05G1", "P1P0501" };
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		struct aml b;
		uint8_t out[16];
		aml_init(&b, out, sizeof(out));
		aml_eisaid(&b, bad_ids[i]);
		cr_assert_eq(aml_finish(&b, NULL), -EINVAL, "accepted '%s'", bad_ids[i]);
	}
	aml_string(&a, "caf\xc3\xa9");
	cr_assert_eq(aml_finish(&a, NULL), -EINVAL);
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* ASL: ResourceTemplate () { IO (Decode16, 0x505, 0x505, 1, 1) } */
Test(acpi_aml, resource_template_io)
{
	struct aml_res r;
	aml_res_init(&r);
	aml_res_io(&r, 0x505, 0x505, 1, 1);
	aml_resource_template(&a, &r);
	assert_bytes(&a, 0x11, 0x0d, 0x0a, 0x0a, 0x47, 0x01, 0x05, 0x05, 0x05, 0x05, 0x01, 0x01,
		     0x79, 0x29);
	cr_assert_eq(sum8(buf + 4, 10), 0, "End Tag checksum");
}

Test(acpi_aml, resource_template_mem_irq)
{
	struct aml_res r;
	aml_res_init(&r);
	aml_res_mem32_fixed(&r, true, 0xd0000000, 0x1000);
	aml_res_interrupt(&r, true, false, 5);   /* Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {5} */
	aml_res_interrupt(&r, false, true, 23);  /* Level, ActiveLow */
	aml_resource_template(&a, &r);
	size_t len;
	cr_assert_eq(aml_finish(&a, &len), 0);
	static const uint8_t want[] = {
		0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x10, 0x00, 0x00,
		0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00,
		0x89, 0x06, 0x00, 0x05, 0x01, 0x17, 0x00, 0x00, 0x00,
	};
	/* 11 PkgLength(1) BufferSize(0A 20) descriptors(30) End Tag(2) */
	cr_assert_eq(len, 1 + 1 + 2 + sizeof(want) + 2);
	cr_assert_eq(buf[0], 0x11);
	cr_assert_eq(buf[1], len - 1);
	cr_assert_eq(buf[2], 0x0a);
	cr_assert_eq(buf[3], sizeof(want) + 2);
	cr_assert_arr_eq(buf + 4, want, sizeof(want));
	cr_assert_eq(buf[4 + sizeof(want)], 0x79);
	cr_assert_eq(sum8(buf + 4, sizeof(want) + 2), 0, "End Tag checksum");
}

Test(acpi_aml, resource_bad_and_full)
{
	struct aml_res r;
	aml_res_init(&r);
	aml_res_io(&r, 0x10, 0x0f, 1, 1);        /* max below min */
	cr_assert_eq(r.err, -EINVAL);
	aml_resource_template(&a, &r);
	cr_assert_eq(aml_finish(&a, NULL), -EINVAL);

	aml_res_init(&r);
	for (int i = 0; i < 64; i++)
		aml_res_io(&r, 0x10, 0x10, 1, 1);
	cr_assert_eq(r.err, -ENOSPC);
	cr_assert_leq(r.len, AML_RES_MAX - 2);
}

/* Full buffer: the error sticks and nothing lands past cap. */
Test(acpi_aml, never_writes_past_cap)
{
	for (size_t cap = 0; cap < 40; cap++) {
		memset(buf, 0xaa, sizeof(buf));
		struct aml b;
		aml_init(&b, buf, cap);
		aml_scope_begin(&b, "\\_SB");
		aml_device_begin(&b, "PVPN");
		aml_name(&b, "_HID");
		aml_string(&b, "QEMU0001");
		aml_pkg_end(&b);
		aml_pkg_end(&b);
		size_t len;
		int r = aml_finish(&b, &len);
		/* the whole thing is 29 bytes */
		if (cap < 29)
			cr_assert_eq(r, -ENOSPC, "cap %zu", cap);
		else
			cr_assert_eq(r, 0, "cap %zu", cap);
		for (size_t i = cap; i < sizeof(buf); i++)
			cr_assert_eq(buf[i], 0xaa, "cap %zu: byte %zu written", cap, i);
	}
}

Test(acpi_aml, unbalanced_packages)
{
	aml_pkg_end(&a);
	cr_assert_eq(aml_finish(&a, NULL), -EINVAL);

	aml_init(&a, buf, sizeof(buf));
	aml_scope_begin(&a, "\\_SB");
	cr_assert_eq(aml_finish(&a, NULL), -EINVAL, "package left open");

	aml_init(&a, buf, sizeof(buf));
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_pkg_begin(&a);
	cr_assert_eq(a.err, -EINVAL, "nesting deeper than AML_MAX_DEPTH");
}
