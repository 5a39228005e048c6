/* libFuzzer target: the virtqueue chain walker and the virtio-blk request
 * parser, on guest RAM the fuzzer writes directly. The input is the first
 * bytes of a 64 KiB guest RAM (the rest is zero):
 *   0x0000  descriptor table (up to 256 entries)
 *   0x1000  avail ring       (flags, idx, ring[], used_event)
 *   0x2000  used ring        (the device writes it)
 *   0x3000  indirect tables and buffers, anywhere the descriptors point
 * and two control bytes at its very end: the queue size (log2, 1..256)
 * and the negotiated ring features (INDIRECT_DESC, EVENT_IDX).
 * Every chain popped must lie inside RAM; the blk parser must describe
 * ranges inside the chain.
 * With bit 3 of the features byte set, the input drives instead a whole
 * virtio-blk device (on a memfd) through its virtio-mmio registers: the
 * first 6*K bytes (K = the third byte from the end) are register accesses
 * (op, register/4, le32 value; op bit 0 write, bit 1 a QueueNotify on the
 * event loop side), the rest is guest RAM as above.
 * Build and run: make fuzz; see tests/fuzz/README.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../vmm/virtio/devices.h"

#define RAM (64u << 10)

static _Alignas(4096) uint8_t ram[RAM];
static struct virtq_chain chain;
static struct iovec iov[VIRTQ_MAX_SEGS];

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "virtq_fuzz: %s\n", what);
		abort();
	}
}

static struct vdev *blk;
static int blk_fd = -1;
static struct guest_mem blk_mem;

static void no_irq(void *ctx)
{
	(void)ctx;
}
static void no_kick(void *ctx, unsigned q)
{
	(void)ctx;
	(void)q;
}

/* a virtio-blk device on a 32 KiB memfd, driven through its registers */
static void transport(const uint8_t *ops, size_t nops)
{
	if (!blk) {
		char path[64];
		struct cl_error err;
		blk_fd = memfd_create("virtq_fuzz", 0);
		check(blk_fd >= 0, "memfd_create");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", blk_fd);
		check(ftruncate(blk_fd, 32 << 10) == 0, "ftruncate");
		struct vmm_disk d = { path, 0 };
		check(virtio_blk_open(&blk, &d, 0, &err) == 0, "virtio_blk_open");
		gmem_layout(&blk_mem, ram, RAM);
		blk->t.mem = &blk_mem;
		blk->t.irq = no_irq;
		blk->t.kick = no_kick;
	}
	virtio_mmio_write(&blk->t, VIRTIO_MMIO_STATUS, 0, 4);   /* reset between inputs */
	for (size_t i = 0; i < nops; i++) {
		const uint8_t *o = ops + 6 * i;
		uint32_t val;
		memcpy(&val, o + 2, 4);
		uint64_t off = (uint64_t)o[1] * 4;
		if (o[0] & 2)
			virtio_mmio_notify(&blk->t, val & 1);
		else if (o[0] & 1)
			virtio_mmio_write(&blk->t, off, val, 4);
		else
			virtio_mmio_read(&blk->t, off, (o[0] >> 2) % 4 + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	uint8_t lognum = data[size - 2] % 9, feat = data[size - 1];
	size -= 2;
	if (feat & 8) {
		size_t nops = data[size - 1];
		size -= 1;
		if (6 * nops > size)
			nops = size / 6;
		memset(ram, 0, sizeof(ram));
		memcpy(ram, data + 6 * nops, size - 6 * nops < RAM ? size - 6 * nops : RAM);
		transport(data, nops);
		return 0;
	}
	memset(ram, 0, sizeof(ram));
	memcpy(ram, data, size < RAM ? size : RAM);

	struct guest_mem m;
	gmem_layout(&m, ram, RAM);
	struct virtq q;
	virtq_reset(&q);
	q.num = (uint16_t)(1u << lognum);
	q.desc_gpa = 0;
	q.avail_gpa = 0x1000;
	q.used_gpa = 0x2000;
	q.indirect = feat & 1;
	q.event_idx = feat & 2;
	check(virtq_activate(&q, &m) == 0, "activate failed on a good layout");

	for (unsigned n = 0; n < 2u * q.num + 2; n++) {
		int r = virtq_pop(&q, &m, &chain);
		if (r <= 0)
			break;
		check(chain.head < q.num, "head out of range");
		check(chain.nread + chain.nwrite <= VIRTQ_MAX_SEGS, "too many segments");
		uint64_t rl = 0, wl = 0;
		for (unsigned i = 0; i < chain.nread + chain.nwrite; i++) {
			const struct virtq_seg *s = &chain.seg[i];
			check(s->host >= ram && s->len <= RAM && s->host - ram <= (long)(RAM - s->len),
			      "segment outside guest RAM");
			check(s->host - ram == (long)s->gpa, "host and guest addresses disagree");
			*(i < chain.nread ? &rl : &wl) += s->len;
		}
		check(rl == chain.read_len && wl == chain.write_len, "lengths disagree");
		check(rl + wl <= VIRTQ_MAX_CHAIN_BYTES, "chain too long");

		struct blk_req req;
		if (virtio_blk_parse(&chain, 64, feat & 4, &req) == 0) {
			check(req.status_off < chain.write_len, "status outside the writable part");
			if (req.status == VIRTIO_BLK_S_OK && (req.type == VIRTIO_BLK_T_IN ||
							       req.type == VIRTIO_BLK_T_OUT)) {
				bool out = req.type == VIRTIO_BLK_T_OUT;
				check(req.data_len % 512 == 0 && req.sector + req.data_len / 512 <= 64,
				      "request outside the disk");
				int k = virtq_iov(&chain, !out, req.data_off, req.data_len, iov,
						  VIRTQ_MAX_SEGS);
				check(k >= 0, "data range not inside the chain");
				uint64_t sum = 0;
				for (int i = 0; i < k; i++) {
					sum += iov[i].iov_len;
					/* touch it: ASan sees any stray pointer */
					if (iov[i].iov_len)
						((volatile uint8_t *)iov[i].iov_base)[iov[i].iov_len - 1] ^= 0;
				}
				check(sum == req.data_len, "iovecs do not add up");
			}
			uint8_t st = req.status;
			check(virtq_write(&chain, req.status_off, &st, 1) == 1, "status not written");
		}
		virtq_push(&q, chain.head, (uint32_t)chain.write_len);
		virtq_should_interrupt(&q);
	}
	return 0;
}
