/* Split virtqueues, device side: see queue.h. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "queue.h"

/* §2.7 "Virtqueue alignment" and the ring sizes of §2.7.5, §2.7.6, §2.7.8 */
#define DESC_ALIGN  16
#define AVAIL_ALIGN 2
#define USED_ALIGN  4
#define DESC_SIZE(n)  (16ull * (n))
#define AVAIL_SIZE(n) (6ull + 2ull * (n))   /* flags, idx, ring[n], used_event */
#define USED_SIZE(n)  (6ull + 8ull * (n))   /* flags, idx, ring[n], avail_event */

/* Ring fields the driver writes concurrently: one access each, with the
 * ordering §2.7.13 asks for (the driver's barriers pair with these). */
static inline uint16_t ld16_acquire(const uint8_t *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE));
}
static inline uint16_t ld16(const uint8_t *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
}
static inline void st16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELAXED);
}
static inline void st16_release(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELEASE);
}
static inline void st32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, htole32(v), __ATOMIC_RELAXED);
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

int virtq_activate(struct virtq *q, const struct guest_mem *m)
{
	uint32_t n = q->num;
	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return -EINVAL;
	if ((q->desc_gpa % DESC_ALIGN) || (q->avail_gpa % AVAIL_ALIGN) || (q->used_gpa % USED_ALIGN))
		return -EINVAL;
	uint8_t *d = gmem_ptr(m, q->desc_gpa, DESC_SIZE(n));
	uint8_t *a = gmem_ptr(m, q->avail_gpa, AVAIL_SIZE(n));
	uint8_t *u = gmem_ptr(m, q->used_gpa, USED_SIZE(n));
	if (!d || !a || !u)
		return -EFAULT;
	q->desc = d;
	q->avail = a;
	q->used = u;
	q->last_avail = q->used_idx = q->signalled_used = 0;
	q->signalled_valid = false;
	q->ready = true;
	return 0;
}

static int add_seg(const struct guest_mem *m, struct virtq_chain *c, const struct virtq_desc *d,
		   bool write)
{
	uint64_t addr = le64toh(d->addr);
	uint32_t len = le32toh(d->len);
	/* §2.7.4.2: every device-writable buffer comes after the readable ones */
	if (!write && c->nwrite)
		return -EINVAL;
	if (c->nread + c->nwrite >= VIRTQ_MAX_SEGS)
		return -E2BIG;
	if (c->read_len + c->write_len + len > VIRTQ_MAX_CHAIN_BYTES)
		return -E2BIG;
	/* gmem_ptr refuses addr + len wrapping and anything outside one RAM region */
	uint8_t *host = gmem_ptr(m, addr, len);
	if (!host)
		return -EFAULT;
	c->seg[c->nread + c->nwrite] = (struct virtq_seg){ host, addr, len };
	if (write) {
		c->nwrite++;
		c->write_len += len;
	} else {
		c->nread++;
		c->read_len += len;
	}
	return 0;
}

/* One table (the ring's, or an indirect one at depth 1). */
static int walk(const struct guest_mem *m, const uint8_t *table, uint32_t tsize, uint16_t head,
		bool allow_indirect, struct virtq_chain *c)
{
	uint32_t idx = head, count = 0;
	for (;;) {
		struct virtq_desc d;
		if (idx >= tsize)
			return -EINVAL;
		/* §2.7.5.3.1/§2.7.4: no chain is longer than its table; more
		 * descriptors than that means the chain loops */
		if (++count > tsize)
			return -ELOOP;
		/* one copy: the guest may rewrite the table while we look (no double fetch) */
		memcpy(&d, table + 16ull * idx, sizeof(d));
		uint16_t flags = le16toh(d.flags);
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			/* §2.7.5.3.1: only with the feature, never inside an indirect
			 * table, never together with NEXT; WRITE is ignored */
			if (!allow_indirect || (flags & VIRTQ_DESC_F_NEXT))
				return -EINVAL;
			uint32_t len = le32toh(d.len);
			if (len == 0 || len % sizeof(struct virtq_desc))
				return -EINVAL;
			const uint8_t *ind = gmem_ptr(m, le64toh(d.addr), len);
			if (!ind)
				return -EFAULT;
			uint32_t n = len / (uint32_t)sizeof(struct virtq_desc);
			if (n > VIRTQ_MAX_SEGS)
				return -E2BIG;
			/* §2.7.5.3.2: the chain starts at the table's first entry */
			return walk(m, ind, n, 0, false, c);
		}
		int r = add_seg(m, c, &d, flags & VIRTQ_DESC_F_WRITE);
		if (r < 0)
			return r;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			return 0;
		idx = le16toh(d.next);
	}
}

int virtq_walk(const struct guest_mem *m, const uint8_t *table, uint32_t tsize, uint16_t head,
	       bool allow_indirect, struct virtq_chain *c)
{
	c->nread = c->nwrite = 0;
	c->read_len = c->write_len = 0;
	return walk(m, table, tsize, head, allow_indirect, c);
}

int virtq_pop(struct virtq *q, const struct guest_mem *m, struct virtq_chain *c)
{
	if (!q->ready)
		return 0;
	uint8_t *avail_event = q->used + 4 + 8ull * q->num;
	/* acquire: the ring entry and descriptors are read after the index (§2.7.13.3) */
	uint16_t avail_idx = ld16_acquire(q->avail + 2);
	if (avail_idx == q->last_avail) {
		if (!q->event_idx)
			return 0;
		/* §2.7.10: ask for a notification at the next buffer, then look
		 * again: a buffer added before the driver saw avail_event would
		 * otherwise never be notified (store-load: full fence) */
		st16(avail_event, q->last_avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = ld16_acquire(q->avail + 2);
		if (avail_idx == q->last_avail)
			return 0;
	}
	/* the driver never has more than num buffers outstanding (§2.7.13) */
	if ((uint16_t)(avail_idx - q->last_avail) > q->num)
		return -EINVAL;
	uint16_t head = ld16(q->avail + 4 + 2u * (q->last_avail % q->num));
	if (head >= q->num)
		return -EINVAL;
	int r = virtq_walk(m, q->desc, q->num, head, q->indirect, c);
	if (r < 0)
		return r;
	c->head = head;
	q->last_avail++;
	if (q->event_idx)
		st16(avail_event, q->last_avail);
	return 1;
}

void virtq_unpop(struct virtq *q)
{
	q->last_avail--;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	uint8_t *e = q->used + 4 + 8u * (q->used_idx % q->num);
	st32(e, head);
	st32(e + 4, len);
	q->used_idx++;
	/* release: the element (and the data written into the buffers) is
	 * visible before the index that publishes it (§2.7.13.2 in reverse) */
	st16_release(q->used + 2, q->used_idx);
}

bool virtq_should_interrupt(struct virtq *q)
{
	/* the used index store must be visible before we read the driver's
	 * suppression state (store-load ordering needs a full fence) */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx)
		return !(ld16(q->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	uint16_t used_event = ld16(q->avail + 4 + 2u * q->num);
	uint16_t old = q->signalled_used;
	bool valid = q->signalled_valid;
	q->signalled_used = q->used_idx;
	q->signalled_valid = true;
	/* §2.7.7.2: interrupt when used idx passed used_event since the last one */
	return !valid || virtq_need_event(used_event, q->used_idx, old);
}

int virtq_iov(const struct virtq_chain *c, bool write, uint64_t off, uint64_t len,
	      struct iovec *iov, int max)
{
	unsigned first = write ? c->nread : 0, n = write ? c->nwrite : c->nread;
	uint64_t total = write ? c->write_len : c->read_len;
	if (off > total || len > total - off)
		return -1;
	int k = 0;
	for (unsigned i = first; i < first + n && len; i++) {
		const struct virtq_seg *s = &c->seg[i];
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		uint64_t take = s->len - off < len ? s->len - off : len;
		if (k == max)
			return -1;
		iov[k].iov_base = s->host + off;
		iov[k].iov_len = (size_t)take;
		k++;
		len -= take;
		off = 0;
	}
	return k;
}

/* part: the writable (true) or readable part; to_chain: the copy's direction */
static uint64_t copy(const struct virtq_chain *c, bool part, bool to_chain, uint64_t off,
		     void *buf, uint64_t len)
{
	unsigned first = part ? c->nread : 0, n = part ? c->nwrite : c->nread;
	uint64_t done = 0;
	for (unsigned i = first; i < first + n && done < len; i++) {
		const struct virtq_seg *s = &c->seg[i];
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		uint64_t take = s->len - off < len - done ? s->len - off : len - done;
		if (to_chain)
			memcpy(s->host + off, (const uint8_t *)buf + done, (size_t)take);
		else
			memcpy((uint8_t *)buf + done, s->host + off, (size_t)take);
		done += take;
		off = 0;
	}
	return done;
}

uint64_t virtq_read(const struct virtq_chain *c, uint64_t off, void *dst, uint64_t len)
{
	return copy(c, false, false, off, dst, len);
}

uint64_t virtq_write(const struct virtq_chain *c, uint64_t off, const void *src, uint64_t len)
{
	return copy(c, true, true, off, (void *)src, len);
}

uint64_t virtq_read_back(const struct virtq_chain *c, uint64_t off, void *dst, uint64_t len)
{
	return copy(c, true, false, off, dst, len);
}
