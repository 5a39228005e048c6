/* AML encoder: see aml.h. Opcode values are from ACPI 6.4 §20.3 (AML byte
 * stream values); each is cited with its grammar section where it is used. */
#include <errno.h>
#include <string.h>

#include "aml.h"

/* §20.2.2 Name Objects Encoding */
#define AML_ROOT_CHAR          0x5c  /* '\' */
#define AML_PARENT_PREFIX      0x5e  /* '^' */
#define AML_DUAL_NAME_PREFIX   0x2e
#define AML_MULTI_NAME_PREFIX  0x2f
/* §20.2.3 Data Objects Encoding */
#define AML_ZERO_OP            0x00
#define AML_ONE_OP             0x01
#define AML_BYTE_PREFIX        0x0a
#define AML_WORD_PREFIX        0x0b
#define AML_DWORD_PREFIX       0x0c
#define AML_STRING_PREFIX      0x0d
#define AML_QWORD_PREFIX       0x0e
/* §20.2.5.1 Namespace Modifier Objects Encoding */
#define AML_NAME_OP            0x08
#define AML_SCOPE_OP           0x10
/* §20.2.5.2 Named Objects Encoding: DeviceOp := ExtOpPrefix 0x82 */
#define AML_EXT_OP_PREFIX      0x5b
#define AML_DEVICE_OP          0x82
/* §20.2.5.4 Expression Opcodes Encoding */
#define AML_BUFFER_OP          0x11

/* §6.4.2.5: small item, name 0x08, length 7 */
#define RES_IO                 0x47
#define RES_IO_DECODE16        0x01
/* §6.4.2.9: small item, name 0x0F, length 1 */
#define RES_END_TAG            0x79
/* §6.4.3.4 / §6.4.3.6: large items, 16-bit length follows */
#define RES_MEM32_FIXED        0x86
#define RES_MEM32_FIXED_LEN    9
#define RES_EXT_IRQ            0x89
#define RES_EXT_IRQ_LEN        6     /* flags, count, one DWORD, no resource source */
#define RES_EXT_IRQ_CONSUMER   0x01
#define RES_EXT_IRQ_EDGE       0x02
#define RES_EXT_IRQ_ACTIVE_LOW 0x04

static void fail(struct aml *a, int e)
{
	if (!a->err)
		a->err = e;
}

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = buf ? cap : 0;
}

int aml_finish(struct aml *a, size_t *len)
{
	if (!a->err && a->depth)
		fail(a, -EINVAL);
	if (len)
		*len = a->err ? 0 : a->len;
	return a->err;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		fail(a, -ENOSPC);
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

/* §20.2.4: a single byte holds 0..63 in bits 0-5; otherwise bits 6-7 of
 * the lead byte count the ByteData that follow (1..3), bits 0-3 of the lead
 * byte are the low nibble and each following byte the next 8 bits. */
int aml_pkglen_encode(uint32_t total, uint8_t out[4])
{
	if (total > AML_PKGLEN_MAX)
		return -ERANGE;
	if (total <= 0x3f) {
		out[0] = (uint8_t)total;
		return 1;
	}
	int follow = total <= 0xfff ? 1 : total <= 0xfffff ? 2 : 3;
	out[0] = (uint8_t)((follow << 6) | (total & 0x0f));
	for (int i = 1; i <= follow; i++)
		out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	return follow + 1;
}

int aml_pkglen_size(size_t body)
{
	/* the length counts its own bytes: pick the smallest encoding that fits */
	static const size_t max[] = { 0x3f, 0xfff, 0xfffff, AML_PKGLEN_MAX };
	for (int n = 1; n <= 4; n++)
		if (body <= max[n - 1] - (size_t)n)
			return n;
	return 0;
}

void aml_pkg_begin(struct aml *a)
{
	if (a->err)
		return;
	if (a->depth == AML_MAX_DEPTH) {
		fail(a, -EINVAL);
		return;
	}
	a->open[a->depth++] = a->len;
}

void aml_pkg_end(struct aml *a)
{
	if (a->err)
		return;
	if (a->depth == 0) {
		fail(a, -EINVAL);
		return;
	}
	size_t start = a->open[--a->depth];
	size_t body = a->len - start;
	int n = aml_pkglen_size(body);
	if (n == 0) {
		fail(a, -ENOSPC);
		return;
	}
	if ((size_t)n > a->cap - a->len) {
		fail(a, -ENOSPC);
		return;
	}
	uint8_t enc[4];
	aml_pkglen_encode((uint32_t)(body + (size_t)n), enc);
	memmove(a->buf + start + n, a->buf + start, body);
	memcpy(a->buf + start, enc, (size_t)n);
	a->len += (size_t)n;
}

static bool lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return lead_char(c) || (c >= '0' && c <= '9');
}

void aml_namestring(struct aml *a, const char *path)
{
	if (a->err)
		return;
	if (!path) {
		fail(a, -EINVAL);
		return;
	}
	uint8_t out[2 + 255 + 4 * 255];
	size_t n = 0;
	if (*path == '\\')
		out[n++] = AML_ROOT_CHAR, path++;
	else
		while (*path == '^' && n < 255)
			out[n++] = AML_PARENT_PREFIX, path++;

	/* NameSegs, each exactly 4 chars once padded */
	uint8_t segs[4 * 255];
	size_t nseg = 0;
	while (*path) {
		size_t l = strcspn(path, ".");
		if (l == 0 || l > 4 || nseg == 255 || !lead_char(path[0])) {
			fail(a, -EINVAL);
			return;
		}
		for (size_t i = 0; i < 4; i++) {
			char c = i < l ? path[i] : '_';
			if (!name_char(c)) {
				fail(a, -EINVAL);
				return;
			}
			segs[4 * nseg + i] = (uint8_t)c;
		}
		nseg++;
		path += l;
		if (*path == '.' && !*++path) {   /* trailing dot */
			fail(a, -EINVAL);
			return;
		}
	}
	if (nseg == 0) {
		/* a bare prefix is NullName-terminated; a name is required here */
		fail(a, -EINVAL);
		return;
	}
	if (nseg == 2)
		out[n++] = AML_DUAL_NAME_PREFIX;
	else if (nseg > 2)
		out[n++] = AML_MULTI_NAME_PREFIX, out[n++] = (uint8_t)nseg;
	memcpy(out + n, segs, 4 * nseg);
	n += 4 * nseg;
	aml_bytes(a, out, n);
}

void aml_scope_begin(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE_OP);
	aml_pkg_begin(a);
	aml_namestring(a, path);
}

void aml_device_begin(struct aml *a, const char *path)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	aml_pkg_begin(a);
	aml_namestring(a, path);
}

void aml_name(struct aml *a, const char *path)
{
	aml_byte(a, AML_NAME_OP);
	aml_namestring(a, path);
}

static void put_le(struct aml *a, uint8_t prefix, uint64_t v, int bytes)
{
	uint8_t b[9];
	b[0] = prefix;
	for (int i = 0; i < bytes; i++)
		b[1 + i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, 1 + (size_t)bytes);
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0)
		aml_byte(a, AML_ZERO_OP);
	else if (v == 1)
		aml_byte(a, AML_ONE_OP);
	else if (v <= 0xff)
		put_le(a, AML_BYTE_PREFIX, v, 1);
	else if (v <= 0xffff)
		put_le(a, AML_WORD_PREFIX, v, 2);
	else if (v <= 0xffffffffu)
		put_le(a, AML_DWORD_PREFIX, v, 4);
	else
		put_le(a, AML_QWORD_PREFIX, v, 8);
}

void aml_string(struct aml *a, const char *s)
{
	if (!s) {
		fail(a, -EINVAL);
		return;
	}
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p > 0x7f) {   /* AsciiChar is 0x01-0x7F */
			fail(a, -EINVAL);
			return;
		}
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* An EISA id is 3 letters (5 bits each, 'A' = 1) and 4 hex digits, stored
 * big-endian: "PNP0501" -> bytes 41 D0 05 01. */
void aml_eisaid(struct aml *a, const char *id)
{
	if (!id || strlen(id) != 7) {
		fail(a, -EINVAL);
		return;
	}
	uint32_t v = 0;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			fail(a, -EINVAL);
			return;
		}
		v = (v << 5) | (uint32_t)(id[i] - 0x40);
	}
	for (int i = 3; i < 7; i++) {
		int d = hex_digit(id[i]);
		if (d < 0) {
			fail(a, -EINVAL);
			return;
		}
		v = (v << 4) | (uint32_t)d;
	}
	uint8_t b[5] = { AML_DWORD_PREFIX, (uint8_t)(v >> 24), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 8), (uint8_t)v };
	aml_bytes(a, b, sizeof(b));
}

void aml_res_init(struct aml_res *r)
{
	memset(r, 0, sizeof(*r));
}

static void res_put(struct aml_res *r, const uint8_t *p, size_t n)
{
	if (r->err)
		return;
	/* keep 2 bytes for the End Tag */
	if (n > sizeof(r->b) - 2 - r->len) {
		r->err = -ENOSPC;
		return;
	}
	memcpy(r->b + r->len, p, n);
	r->len += n;
}

void aml_res_io(struct aml_res *r, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	uint8_t d[8] = { RES_IO, RES_IO_DECODE16, (uint8_t)min, (uint8_t)(min >> 8),
			 (uint8_t)max, (uint8_t)(max >> 8), align, len };
	if (max < min) {
		r->err = r->err ? r->err : -EINVAL;
		return;
	}
	res_put(r, d, sizeof(d));
}

void aml_res_mem32_fixed(struct aml_res *r, bool writable, uint32_t base, uint32_t len)
{
	uint8_t d[12] = { RES_MEM32_FIXED, RES_MEM32_FIXED_LEN, 0, writable ? 1 : 0,
			  (uint8_t)base, (uint8_t)(base >> 8), (uint8_t)(base >> 16),
			  (uint8_t)(base >> 24), (uint8_t)len, (uint8_t)(len >> 8),
			  (uint8_t)(len >> 16), (uint8_t)(len >> 24) };
	res_put(r, d, sizeof(d));
}

void aml_res_interrupt(struct aml_res *r, bool edge, bool active_low, uint32_t gsi)
{
	uint8_t flags = RES_EXT_IRQ_CONSUMER | (edge ? RES_EXT_IRQ_EDGE : 0) |
			(active_low ? RES_EXT_IRQ_ACTIVE_LOW : 0);
	uint8_t d[9] = { RES_EXT_IRQ, RES_EXT_IRQ_LEN, 0, flags, 1, (uint8_t)gsi,
			 (uint8_t)(gsi >> 8), (uint8_t)(gsi >> 16), (uint8_t)(gsi >> 24) };
	res_put(r, d, sizeof(d));
}

void aml_resource_template(struct aml *a, const struct aml_res *r)
{
	if (r->err) {
		fail(a, r->err);
		return;
	}
	uint8_t sum = RES_END_TAG;
	for (size_t i = 0; i < r->len; i++)
		sum = (uint8_t)(sum + r->b[i]);
	uint8_t end[2] = { RES_END_TAG, (uint8_t)-sum };

	aml_byte(a, AML_BUFFER_OP);
	aml_pkg_begin(a);
	aml_integer(a, r->len + sizeof(end));   /* BufferSize */
	aml_bytes(a, r->b, r->len);
	aml_bytes(a, end, sizeof(end));
	aml_pkg_end(a);
}
