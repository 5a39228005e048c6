/* Split virtqueues (virtio 1.2 §2.7), the device side. The guest owns the
 * rings and may rewrite them at any moment, so everything read from them is
 * copied once and then validated: descriptor addresses and lengths through
 * gmem_ptr (inside guest RAM, no wrap-around), chains bounded in length,
 * descriptors and bytes, loops, indirect tables (§2.7.5.3) and the
 * readable-before-writable order (§2.7.4.2). A chain that breaks a rule is
 * never partially used: virtq_pop returns a negative errno and the caller
 * puts the device into DEVICE_NEEDS_RESET (§2.1.2).
 *
 * Pure with respect to the host: only guest memory (struct guest_mem) is
 * touched, so tests and the fuzzer run it on a plain buffer. */
#ifndef VMM_VIRTIO_QUEUE_H
#define VMM_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../mem.h"

/* §2.7.5 */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
/* §2.7.6, §2.7.8 */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

/* QueueNumMax of every device; a power of two (split rings index modulo
 * the size with free-running 16-bit counters, §2.7). */
#define VIRTQ_MAX_SIZE  256
/* Descriptors in one chain, an indirect table's included. Linux's drivers
 * use at most seg_max + 2 (blk) and MAX_SKB_FRAGS + 2 (net). */
#define VIRTQ_MAX_SEGS  256
/* Bytes in one chain: more than any request the devices advertise (blk:
 * seg_max * size_max = 126 MiB), far less than the 4 GiB a used.len holds. */
#define VIRTQ_MAX_CHAIN_BYTES (128u << 20)

/* §2.7.5: as laid out in guest memory (little-endian) */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
} __attribute__((packed));

/* One validated buffer of a chain: [host, host+len) is guest RAM. */
struct virtq_seg {
	uint8_t *host;
	uint64_t gpa;
	uint32_t len;
};

/* A validated chain: seg[0..nread) are device-readable, then
 * seg[nread..nread+nwrite) device-writable (§2.7.4.2 order). */
struct virtq_chain {
	uint16_t head;                 /* what goes back in the used ring */
	unsigned nread, nwrite;
	uint64_t read_len, write_len;  /* bytes, each <= VIRTQ_MAX_CHAIN_BYTES */
	struct virtq_seg seg[VIRTQ_MAX_SEGS];
};

struct virtq {
	/* set by the driver through the transport (§4.2.2 QueueNum, QueueDesc...) */
	uint16_t num;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* negotiated features that change the ring's behaviour */
	bool indirect;                 /* VIRTIO_F_INDIRECT_DESC */
	bool event_idx;                /* VIRTIO_F_EVENT_IDX */
	/* device state */
	bool ready;
	uint16_t last_avail;           /* next avail ring entry to take */
	uint16_t used_idx;             /* our copy of used->idx */
	uint16_t signalled_used;       /* used_idx when the driver was last interrupted */
	bool signalled_valid;
	/* host addresses of the rings, set by virtq_activate */
	uint8_t *desc, *avail, *used;
};

/* Validate the queue's size and ring addresses (power-of-two num <=
 * VIRTQ_MAX_SIZE, alignment and extent of each ring inside RAM, §2.7
 * "Virtqueue alignment"), map the rings and reset the indices. 0, -EINVAL
 * (size/alignment) or -EFAULT (not RAM). */
int virtq_activate(struct virtq *q, const struct guest_mem *m);
/* Back to the state before the driver configured it. */
void virtq_reset(struct virtq *q);

/* Walk the chain starting at `head` in a descriptor table of `tsize`
 * entries at host address `table` (the ring's table, or an indirect one
 * when !allow_indirect). Fills c (c->head untouched). 0 or:
 *   -EINVAL  bad flags/next/order (next >= tsize, readable after writable,
 *            INDIRECT without the feature, with NEXT, in an indirect table,
 *            twice, or an indirect table's len not a non-zero multiple of 16)
 *   -EFAULT  a buffer or indirect table not wholly inside guest RAM
 *   -ELOOP   more descriptors than the table holds: a loop or an over-long chain
 *   -E2BIG   more than VIRTQ_MAX_SEGS buffers or VIRTQ_MAX_CHAIN_BYTES bytes */
int virtq_walk(const struct guest_mem *m, const uint8_t *table, uint32_t tsize, uint16_t head,
	       bool allow_indirect, struct virtq_chain *c);

/* Take the next available chain: 1 and *c filled, 0 if the ring is empty,
 * negative errno if the ring or chain is broken (avail->idx more than num
 * ahead, head >= num, or virtq_walk's errors): the device must then stop
 * using the queue (DEVICE_NEEDS_RESET). With EVENT_IDX, an empty ring
 * also asks the driver to notify at the next buffer (avail_event, §2.7.10). */
int virtq_pop(struct virtq *q, const struct guest_mem *m, struct virtq_chain *c);
/* Give back the chain taken last (nothing consumed: retry later). */
void virtq_unpop(struct virtq *q);
/* Return a chain to the driver with `len` bytes written into its writable
 * part (§2.7.8); the used index is published with release semantics. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);
/* After pushes: must the driver be interrupted? (§2.7.7: used_event with
 * EVENT_IDX, else the avail ring's NO_INTERRUPT flag) */
bool virtq_should_interrupt(struct virtq *q);

/* §2.7.10 vring_need_event: has new_idx passed event_idx since old_idx? */
static inline bool virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

/* Scatter-gather helpers over a validated chain. */
/* iovecs for bytes [off, off+len) of the readable (write=false) or writable
 * part; returns the number of iovecs (<= max), or -1 if the range is not
 * inside that part or needs more than max iovecs. */
int virtq_iov(const struct virtq_chain *c, bool write, uint64_t off, uint64_t len,
	      struct iovec *iov, int max);
/* Copy bytes out of the readable part / into the writable part at off;
 * returns how many were copied (short at the end of the part). */
uint64_t virtq_read(const struct virtq_chain *c, uint64_t off, void *dst, uint64_t len);
uint64_t virtq_write(const struct virtq_chain *c, uint64_t off, const void *src, uint64_t len);
/* Copy bytes back out of the writable part (what a host read put there). */
uint64_t virtq_read_back(const struct virtq_chain *c, uint64_t off, void *dst, uint64_t len);

#endif
