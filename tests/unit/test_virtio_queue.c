/* Split virtqueue (vmm/virtio/queue.c) on hand-built rings in a buffer
 * that stands in for guest RAM: well-formed chains, and every way a guest
 * can get a chain wrong. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/virtio/queue.h"

#define RAM   (1u << 20)
#define DESC  0x1000u
#define AVAIL 0x2000u
#define USED  0x3000u
#define IND   0x4000u
#define DATA  0x10000u
#define QN    8

static uint8_t *ram;
static struct guest_mem m;
static struct virtq q;
static struct virtq_chain c;

static void setup(void)
{
	ram = aligned_alloc(4096, RAM);
	cr_assert(ram);
	memset(ram, 0, RAM);
	gmem_layout(&m, ram, RAM);
	virtq_reset(&q);
	q.num = QN;
	q.desc_gpa = DESC;
	q.avail_gpa = AVAIL;
	q.used_gpa = USED;
	cr_assert_eq(virtq_activate(&q, &m), 0);
}
static void teardown(void)
{
	free(ram);
}
TestSuite(virtq, .init = setup, .fini = teardown);

static void desc_at(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		    uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };
	memcpy(ram + table + 16 * i, &d, 16);
}
static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	desc_at(DESC, i, addr, len, flags, next);
}
static uint16_t rd16(uint64_t a)
{
	uint16_t v;
	memcpy(&v, ram + a, 2);
	return v;
}
static uint32_t rd32(uint64_t a)
{
	uint32_t v;
	memcpy(&v, ram + a, 4);
	return v;
}
static void wr16(uint64_t a, uint16_t v)
{
	memcpy(ram + a, &v, 2);
}
/* the driver offers chain `head` */
static void offer(uint16_t head)
{
	uint16_t idx = rd16(AVAIL + 2);
	wr16(AVAIL + 4 + 2 * (idx % QN), head);
	wr16(AVAIL + 2, (uint16_t)(idx + 1));
}

Test(virtq, empty_ring)
{
	cr_assert_eq(virtq_pop(&q, &m, &c), 0);
}

Test(virtq, well_formed_chain)
{
	/* header (readable), data (writable), status (writable): a blk read */
	desc(0, DATA, 16, VIRTQ_DESC_F_NEXT, 3);
	desc(3, DATA + 0x1000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 5);
	desc(5, DATA + 0x2000, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), 1);
	cr_assert_eq(c.head, 0);
	cr_assert_eq(c.nread, 1);
	cr_assert_eq(c.nwrite, 2);
	cr_assert_eq(c.read_len, 16);
	cr_assert_eq(c.write_len, 513);
	cr_assert_eq(c.seg[0].host, ram + DATA);
	cr_assert_eq(c.seg[1].host, ram + DATA + 0x1000);
	cr_assert_eq(c.seg[2].gpa, DATA + 0x2000);
	cr_assert_eq(virtq_pop(&q, &m, &c), 0, "consumed");

	virtq_push(&q, c.head, 513);
	cr_assert_eq(rd16(USED + 2), 1, "used idx published");
	cr_assert_eq(rd32(USED + 4), 0, "used id");
	cr_assert_eq(rd32(USED + 8), 513, "used len");
	cr_assert(virtq_should_interrupt(&q));
	wr16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	cr_assert_not(virtq_should_interrupt(&q), "driver suppressed interrupts");
}

Test(virtq, ring_wraps_around)
{
	desc(1, DATA, 4, 0, 0);
	for (unsigned i = 0; i < 3 * QN; i++) {
		offer(1);
		cr_assert_eq(virtq_pop(&q, &m, &c), 1);
		virtq_push(&q, c.head, 0);
	}
	cr_assert_eq(rd16(USED + 2), 3 * QN);
	cr_assert_eq(q.last_avail, 3 * QN);
}

Test(virtq, unpop_gives_the_chain_back)
{
	desc(2, DATA, 4, 0, 0);
	offer(2);
	cr_assert_eq(virtq_pop(&q, &m, &c), 1);
	virtq_unpop(&q);
	cr_assert_eq(virtq_pop(&q, &m, &c), 1);
	cr_assert_eq(c.head, 2);
}

Test(virtq, address_outside_ram)
{
	desc(0, RAM - 8, 16, 0, 0);   /* runs 8 bytes past the end */
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), -EFAULT);
	cr_assert_eq(q.last_avail, 0, "a bad chain is not consumed");
}

Test(virtq, address_far_outside_ram)
{
	desc(0, 0xfffffffff0000000ull, 16, 0, 0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), -EFAULT);
}

Test(virtq, len_overflows_the_address_space)
{
	/* addr + len wraps to a small number that is inside RAM */
	desc(0, 0xffffffffffffff00ull, 0x200, 0, 0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), -EFAULT);
}

Test(virtq, chain_loop)
{
	desc(0, DATA, 4, VIRTQ_DESC_F_NEXT, 1);
	desc(1, DATA, 4, VIRTQ_DESC_F_NEXT, 0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), -ELOOP);
}

Test(virtq, self_loop)
{
	desc(4, DATA, 4, VIRTQ_DESC_F_NEXT, 4);
	offer(4);
	cr_assert_eq(virtq_pop(&q, &m, &c), -ELOOP);
}

Test(virtq, chain_as_long_as_the_table_is_fine_longer_is_not)
{
	for (unsigned i = 0; i < QN; i++)
		desc(i, DATA, 4, i + 1 < QN ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), 1);
	cr_assert_eq(c.nread, QN);
	/* next beyond the table */
	desc(QN - 1, DATA, 4, VIRTQ_DESC_F_NEXT, QN);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), -EINVAL);
}

Test(virtq, head_out_of_range)
{
	offer(QN);
	cr_assert_eq(virtq_pop(&q, &m, &c), -EINVAL);
}

Test(virtq, avail_idx_too_far_ahead)
{
	desc(0, DATA, 4, 0, 0);
	wr16(AVAIL + 2, QN + 1);
	cr_assert_eq(virtq_pop(&q, &m, &c), -EINVAL);
}

Test(virtq, readable_after_writable)
{
	desc(0, DATA, 4, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	desc(1, DATA, 4, 0, 0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), -EINVAL);
}

Test(virtq, too_many_bytes)
{
	/* VIRTQ_MAX_CHAIN_BYTES cannot exist in 1 MiB: fake a bigger RAM */
	struct guest_mem big;
	uint8_t *fake = (uint8_t *)0x100000000000ull;   /* never dereferenced */
	gmem_layout(&big, fake, 1ull << 30);
	uint8_t table[32];
	struct virtq_desc d[2] = {
		{ 0, VIRTQ_MAX_CHAIN_BYTES, VIRTQ_DESC_F_NEXT, 1 },
		{ 0, 1, 0, 0 },
	};
	memcpy(table, d, sizeof(d));
	cr_assert_eq(virtq_walk(&big, table, 2, 0, false, &c), -E2BIG);
	d[1].len = 0;
	memcpy(table, d, sizeof(d));
	cr_assert_eq(virtq_walk(&big, table, 2, 0, false, &c), 0, "exactly the limit is fine");
}

Test(virtq, indirect_table)
{
	q.indirect = true;
	desc_at(IND, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc_at(IND, 1, DATA + 0x100, 100, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	desc_at(IND, 2, DATA + 0x200, 1, VIRTQ_DESC_F_WRITE, 0);
	desc(0, DATA + 0x800, 8, VIRTQ_DESC_F_NEXT, 1);   /* a direct one first */
	desc(1, IND, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), 1);
	cr_assert_eq(c.nread, 2);
	cr_assert_eq(c.nwrite, 2);
	cr_assert_eq(c.read_len, 24);
	cr_assert_eq(c.write_len, 101);
}

Test(virtq, indirect_without_the_feature)
{
	desc_at(IND, 0, DATA, 16, 0, 0);
	desc(0, IND, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), -EINVAL);
}

Test(virtq, indirect_inside_indirect)
{
	q.indirect = true;
	desc_at(IND + 0x100, 0, DATA, 16, 0, 0);
	desc_at(IND, 0, IND + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc(0, IND, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), -EINVAL);
}

Test(virtq, indirect_with_next)
{
	q.indirect = true;
	desc_at(IND, 0, DATA, 16, 0, 0);
	desc(0, IND, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	desc(1, DATA, 16, 0, 0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), -EINVAL);
}

Test(virtq, indirect_bad_sizes_and_places)
{
	q.indirect = true;
	desc(0, IND, 0, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), -EINVAL, "empty table");
	desc(0, IND, 24, VIRTQ_DESC_F_INDIRECT, 0);
	cr_assert_eq(virtq_pop(&q, &m, &c), -EINVAL, "not a multiple of 16");
	desc(0, RAM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	cr_assert_eq(virtq_pop(&q, &m, &c), -EFAULT, "table past the end of RAM");
	desc(0, IND, 16 * (VIRTQ_MAX_SEGS + 1), VIRTQ_DESC_F_INDIRECT, 0);
	cr_assert_eq(virtq_pop(&q, &m, &c), -E2BIG, "table with too many entries");
}

Test(virtq, indirect_loop)
{
	q.indirect = true;
	desc_at(IND, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc_at(IND, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 0);
	desc(0, IND, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), -ELOOP);
	desc_at(IND, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 2);
	cr_assert_eq(virtq_pop(&q, &m, &c), -EINVAL, "next past the indirect table");
}

Test(virtq, activate_checks)
{
	struct virtq b;
	virtq_reset(&b);
	b.desc_gpa = DESC, b.avail_gpa = AVAIL, b.used_gpa = USED;
	b.num = 0;
	cr_assert_eq(virtq_activate(&b, &m), -EINVAL, "size 0");
	b.num = 6;
	cr_assert_eq(virtq_activate(&b, &m), -EINVAL, "not a power of two");
	b.num = 2 * VIRTQ_MAX_SIZE;
	cr_assert_eq(virtq_activate(&b, &m), -EINVAL, "above QueueNumMax");
	b.num = 8;
	b.desc_gpa = DESC + 8;
	cr_assert_eq(virtq_activate(&b, &m), -EINVAL, "descriptor table misaligned");
	b.desc_gpa = DESC;
	b.used_gpa = USED + 2;
	cr_assert_eq(virtq_activate(&b, &m), -EINVAL, "used ring misaligned");
	b.used_gpa = RAM - 16;
	cr_assert_eq(virtq_activate(&b, &m), -EFAULT, "used ring past RAM");
	b.used_gpa = USED;
	b.avail_gpa = 0xfffffffffffffff0ull;
	cr_assert_eq(virtq_activate(&b, &m), -EFAULT, "avail ring wraps");
	b.avail_gpa = AVAIL;
	cr_assert_eq(virtq_activate(&b, &m), 0);
	cr_assert(b.ready);
}

Test(virtq, event_idx)
{
	q.event_idx = true;
	desc(0, DATA, 4, 0, 0);
	/* empty ring: the device asks to be notified at the next buffer */
	cr_assert_eq(virtq_pop(&q, &m, &c), 0);
	cr_assert_eq(rd16(USED + 4 + 8 * QN), 0, "avail_event = last_avail");
	offer(0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), 1);
	cr_assert_eq(rd16(USED + 4 + 8 * QN), 1);
	virtq_push(&q, 0, 0);
	cr_assert(virtq_should_interrupt(&q), "first interrupt always");
	/* the driver wants an interrupt only once used idx passes 3 */
	wr16(AVAIL + 4 + 2 * QN, 3);
	cr_assert_eq(virtq_pop(&q, &m, &c), 1);
	virtq_push(&q, 0, 0);   /* used idx 2 */
	cr_assert_not(virtq_should_interrupt(&q));
	desc(0, DATA, 4, 0, 0);
	offer(0);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), 1);
	virtq_push(&q, 0, 0);   /* 3 */
	cr_assert_eq(virtq_pop(&q, &m, &c), 1);
	virtq_push(&q, 0, 0);   /* 4: passed used_event 3 */
	cr_assert(virtq_should_interrupt(&q));
}

Test(virtq, need_event_wraps)
{
	cr_assert(virtq_need_event(0xffff, 0, 0xfffe));
	cr_assert_not(virtq_need_event(5, 5, 4));
	cr_assert(virtq_need_event(4, 5, 4));
}

Test(virtq, iov_and_copies)
{
	desc(0, DATA, 3, VIRTQ_DESC_F_NEXT, 1);
	desc(1, DATA + 0x100, 5, VIRTQ_DESC_F_NEXT, 2);
	desc(2, DATA + 0x200, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	desc(3, DATA + 0x300, 4, VIRTQ_DESC_F_WRITE, 0);
	memcpy(ram + DATA, "abc", 3);
	memcpy(ram + DATA + 0x100, "defgh", 5);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), 1);
	char buf[16] = { 0 };
	cr_assert_eq(virtq_read(&c, 1, buf, 6), 6);
	cr_assert_str_eq(buf, "bcdefg");
	cr_assert_eq(virtq_read(&c, 6, buf, 10), 2, "short at the end");
	cr_assert_eq(virtq_write(&c, 2, "WXYZ", 4), 4);
	cr_assert_eq(memcmp(ram + DATA + 0x202, "WX", 2), 0);
	cr_assert_eq(memcmp(ram + DATA + 0x300, "YZ", 2), 0);
	struct iovec iov[4];
	cr_assert_eq(virtq_iov(&c, false, 2, 4, iov, 4), 2);
	cr_assert_eq(iov[0].iov_base, ram + DATA + 2);
	cr_assert_eq(iov[0].iov_len, 1);
	cr_assert_eq(iov[1].iov_len, 3);
	cr_assert_eq(virtq_iov(&c, true, 0, 8, iov, 4), 2);
	cr_assert_eq(virtq_iov(&c, true, 0, 9, iov, 4), -1, "past the writable part");
	cr_assert_eq(virtq_iov(&c, true, 0, 8, iov, 1), -1, "too few iovecs");
}

Test(virtq, read_back_from_the_writable_part)
{
	desc(0, DATA, 4, VIRTQ_DESC_F_NEXT, 1);
	desc(1, DATA + 0x100, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	desc(2, DATA + 0x200, 4, VIRTQ_DESC_F_WRITE, 0);
	memcpy(ram + DATA, "rrrr", 4);
	memcpy(ram + DATA + 0x100, "abcd", 4);
	memcpy(ram + DATA + 0x200, "efgh", 4);
	offer(0);
	cr_assert_eq(virtq_pop(&q, &m, &c), 1);
	char buf[8] = { 0 };
	cr_assert_eq(virtq_read_back(&c, 2, buf, 5), 5);
	cr_assert_str_eq(buf, "cdefg");
}
