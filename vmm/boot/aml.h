/* A tiny, bounds-checked AML encoder: just what the DSDT needs (Scope,
 * Device, Name, integers, strings, EISA ids, resource templates). Grammar:
 * ACPI 6.4 §20.2 (AML); resource descriptors: ACPI 6.4 §6.4.
 *
 * Errors are sticky: the first failure (-ENOSPC when the buffer is full,
 * -EINVAL for a bad name/string/id or unbalanced packages) is kept in
 * a->err, later calls do nothing, and aml_finish() returns it. Nothing is
 * ever written at or beyond buf + cap. */
#ifndef VMM_BOOT_AML_H
#define VMM_BOOT_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 8            /* nesting of open packages (Scope > Device > ...) */
#define AML_PKGLEN_MAX 0x0fffffffu /* §20.2.4: 28 bits */

struct aml {
	uint8_t *buf;
	size_t cap, len;
	int err;                       /* 0, or the first -errno */
	size_t open[AML_MAX_DEPTH];    /* where each open package's PkgLength goes */
	int depth;
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
/* 0 and the final length in *len, or the sticky error (-EINVAL if a package is still open). */
int aml_finish(struct aml *a, size_t *len);

void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);

/* PkgLength (§20.2.4) of a package whose total length, the PkgLength bytes
 * included, is `total`: writes 1..4 bytes to out and returns how many, or
 * -ERANGE above AML_PKGLEN_MAX. */
int aml_pkglen_encode(uint32_t total, uint8_t out[4]);
/* How many PkgLength bytes a package with `body` bytes after its PkgLength
 * needs (1..4), or 0 if it cannot be encoded. */
int aml_pkglen_size(size_t body);

/* Open a package here (its PkgLength is inserted by aml_pkg_end, once the
 * body's size is known) / close the innermost one. */
void aml_pkg_begin(struct aml *a);
void aml_pkg_end(struct aml *a);

/* NameString (§20.2.2): optional '\' or '^'s, then dot-separated NameSegs of
 * 1..4 chars ([A-Z_][A-Z0-9_]*, padded with '_' as ASL does), e.g. "\_SB", "PVPN". */
void aml_namestring(struct aml *a, const char *path);
/* DefScope / DefDevice (§20.2.5.1, §20.2.5.2): opcode, PkgLength, name; close with aml_pkg_end. */
void aml_scope_begin(struct aml *a, const char *path);
void aml_device_begin(struct aml *a, const char *path);
/* DefName (§20.2.5.1): NameOp NameString; the DataRefObject must follow. */
void aml_name(struct aml *a, const char *path);

/* Data objects (§20.2.3) */
void aml_integer(struct aml *a, uint64_t v);   /* ZeroOp, OneOp or the smallest prefix */
void aml_string(struct aml *a, const char *s); /* StringPrefix, ASCII 0x01-0x7F, NUL */
void aml_eisaid(struct aml *a, const char *id);/* "PNP0501" -> compressed EISA id DWord (§6.1.5) */

/* Resource descriptors (§6.4), gathered first so that the Buffer's size is
 * known, then emitted with aml_resource_template(). */
#define AML_RES_MAX 256
struct aml_res {
	uint8_t b[AML_RES_MAX];
	size_t len;
	int err;
};
void aml_res_init(struct aml_res *r);
/* I/O Port Descriptor, 16-bit decode (§6.4.2.5) */
void aml_res_io(struct aml_res *r, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
/* 32-Bit Fixed Memory Range Descriptor (§6.4.3.4) */
void aml_res_mem32_fixed(struct aml_res *r, bool writable, uint32_t base, uint32_t len);
/* Extended Interrupt Descriptor, one interrupt, consumer, exclusive, not wake capable (§6.4.3.6) */
void aml_res_interrupt(struct aml_res *r, bool edge, bool active_low, uint32_t gsi);
/* DefBuffer (§20.2.5.4) holding r's descriptors and an End Tag (§6.4.2.9)
 * whose checksum makes the template's bytes sum to 0: ASL's ResourceTemplate(). */
void aml_resource_template(struct aml *a, const struct aml_res *r);

#endif
