/* virtio-mmio transport, version 2 (virtio 1.2 §4.2.2): the register
 * window a device shows the guest, its status state machine (§2.1, §3.1),
 * feature negotiation and queue setup. Devices (vmm/devices/virtio_*.c)
 * plug in through struct virtio_dev_ops and see only validated queues.
 *
 * Threads: register accesses come from vCPU threads (KVM_EXIT_MMIO through
 * the bus), queue work runs on the event loop thread (ioeventfd on
 * QueueNotify). Both hold the transport's lock, so a reset never races a
 * request in flight. The interrupt goes out through a hook (an irqfd write
 * in the VM, a counter in the tests). */
#ifndef VMM_VIRTIO_MMIO_H
#define VMM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../bus.h"
#include "../mem.h"
#include "queue.h"

/* §5: device ids */
#define VIRTIO_ID_NET    1
#define VIRTIO_ID_BLOCK  2
#define VIRTIO_ID_RNG    4

/* §2.1: device status bits */
#define VIRTIO_STATUS_ACKNOWLEDGE        1
#define VIRTIO_STATUS_DRIVER             2
#define VIRTIO_STATUS_DRIVER_OK          4
#define VIRTIO_STATUS_FEATURES_OK        8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED             128

/* §6: reserved feature bits the transport handles */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32
#define VIRTIO_BIT(b) (1ull << (b))

/* §4.2.2: register offsets */
#define VIRTIO_MMIO_MAGIC_VALUE         0x000
#define VIRTIO_MMIO_VERSION             0x004
#define VIRTIO_MMIO_DEVICE_ID           0x008
#define VIRTIO_MMIO_VENDOR_ID           0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES     0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES     0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL           0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX       0x034
#define VIRTIO_MMIO_QUEUE_NUM           0x038
#define VIRTIO_MMIO_QUEUE_READY         0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY        0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS    0x060
#define VIRTIO_MMIO_INTERRUPT_ACK       0x064
#define VIRTIO_MMIO_STATUS              0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW      0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH     0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW    0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH   0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW    0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH   0x0a4
#define VIRTIO_MMIO_SHM_SEL             0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW         0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH        0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW        0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH       0x0bc
#define VIRTIO_MMIO_CONFIG_GENERATION   0x0fc
#define VIRTIO_MMIO_CONFIG              0x100

#define VIRTIO_MMIO_MAGIC      0x74726976   /* "virt" */
#define VIRTIO_MMIO_VENDOR     0x4c444c43   /* "CLDL": ours; §4.2.2 leaves it free */
#define VIRTIO_MMIO_WINDOW     0x1000       /* bytes per device (layout.h) */
#define VIRTIO_MMIO_INT_VRING  1            /* InterruptStatus bits, §4.2.2.1 */
#define VIRTIO_MMIO_INT_CONFIG 2

#define VIRTIO_MAX_QUEUES 2

struct virtio_mmio;

/* What a device provides. Callbacks run with the transport locked. */
struct virtio_dev_ops {
	const char *name;                /* "virtio-blk" */
	uint32_t device_id;              /* VIRTIO_ID_* */
	unsigned nqueues;                /* <= VIRTIO_MAX_QUEUES */
	/* DRIVER_OK: features are final (t->driver_features) and every queue
	 * the device uses is ready. 0, or negative: the device cannot run
	 * (the transport sets DEVICE_NEEDS_RESET). Optional. */
	int (*activate)(void *dev, struct virtio_mmio *t);
	/* Status 0 written: forget everything the driver set up. Optional. */
	void (*reset)(void *dev);
	/* Queue q has new buffers (QueueNotify), on the event loop thread. */
	void (*notify)(void *dev, struct virtio_mmio *t, unsigned q);
};

struct virtio_mmio {
	pthread_mutex_t lock;
	const struct virtio_dev_ops *ops;
	void *dev;
	const struct guest_mem *mem;
	uint64_t device_features;        /* offered: the device's plus the transport's */
	uint64_t driver_features;        /* accepted by the driver (final once FEATURES_OK) */
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint32_t status;
	uint32_t isr;                    /* InterruptStatus */
	uint32_t config_generation;
	const uint8_t *config;           /* device configuration space (§4.2.2: from 0x100) */
	uint32_t config_len;
	struct virtq q[VIRTIO_MAX_QUEUES];
	bool broken;                     /* DEVICE_NEEDS_RESET: queues are no longer served */
	/* hooks: raise the device's interrupt (edge: one pulse per call), and
	 * pass a QueueNotify write that reached userspace to the event loop
	 * (the ioeventfd normally catches it in the kernel). */
	void (*irq)(void *ctx);
	void (*kick)(void *ctx, unsigned q);
	void *hook_ctx;
	uint64_t bad_chains;             /* how often a device gave up on a queue */
};

/* Transport features every device gets: VERSION_1 (modern only, no legacy
 * interface), indirect descriptors and event-index suppression, which
 * queue.c implements. */
#define VIRTIO_TRANSPORT_FEATURES \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | \
	 VIRTIO_BIT(VIRTIO_F_EVENT_IDX))

/* device_features: the device's own bits (the transport's are added). */
void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_dev_ops *ops, void *dev,
		      const struct guest_mem *mem, uint64_t device_features, const void *config,
		      uint32_t config_len);
void virtio_mmio_destroy(struct virtio_mmio *t);
extern const struct bus_ops virtio_mmio_ops;   /* register with len VIRTIO_MMIO_WINDOW */

/* Register access as the guest makes it (locks). */
uint32_t virtio_mmio_read(struct virtio_mmio *t, uint64_t off, uint32_t len);
void virtio_mmio_write(struct virtio_mmio *t, uint64_t off, uint32_t val, uint32_t len);

/* Event loop side: queue q was notified. Runs the device's notify with the
 * lock held, if the device is live (DRIVER_OK, not broken, queue ready). */
void virtio_mmio_notify(struct virtio_mmio *t, unsigned q);
/* Run fn with the lock held if the device is live (net: tap readable). */
void virtio_mmio_run(struct virtio_mmio *t, void (*fn)(void *dev, struct virtio_mmio *t));

/* For devices (lock held): */
/* chains were pushed on q: interrupt the driver unless it suppressed it */
void virtio_mmio_used(struct virtio_mmio *t, unsigned q);
/* a device that stopped at its budget (VIRTIO_BUDGET chains per turn, so
 * that one busy queue cannot starve the others): serve q again on the
 * event loop's next turn */
#define VIRTIO_BUDGET 256
void virtio_mmio_again(struct virtio_mmio *t, unsigned q);
/* a bad ring or chain: DEVICE_NEEDS_RESET and a configuration interrupt
 * (§2.1.2); no queue is served again until the driver resets the device */
void virtio_mmio_fail(struct virtio_mmio *t);
/* Serve q as request/response devices do (blk, rng): pop each available
 * chain into *c, let handle() answer it (returning the bytes it wrote), push
 * it back; interrupt once, fail the device on a bad chain, and stop at the
 * budget (then served again on the next turn). */
void virtio_mmio_serve(struct virtio_mmio *t, unsigned q, struct virtq_chain *c,
		       uint32_t (*handle)(void *dev, const struct virtq_chain *c), void *dev);
static inline bool virtio_mmio_has(const struct virtio_mmio *t, unsigned bit)
{
	return (t->driver_features >> bit) & 1;
}

/* Pure: may the driver accept `drv` when the device offers `dev`?
 * (§2.2: a subset, §6.1: VERSION_1 required) */
bool virtio_features_ok(uint64_t dev, uint64_t drv);

#endif
