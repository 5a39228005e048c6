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
 * ranges inside the chain. Build and run: make fuzz; see tests/fuzz/README.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t lognum = data[size - 2] % 9, feat = data[size - 1];
	size -= 2;
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
