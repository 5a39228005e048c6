/* virtio-mmio transport (vmm/virtio/mmio.c): the register state machine
 * driven as Linux's virtio_mmio driver drives it, and as a broken or
 * hostile driver might. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/virtio/mmio.h"

#define RAM (1u << 20)

static uint8_t *ram;
static struct guest_mem m;
static struct virtio_mmio t;
static int irqs, kicks, kicked_q, activations, resets, notifies, activate_result;
static uint8_t config[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static int dev_activate(void *dev, struct virtio_mmio *tr)
{
	(void)dev;
	(void)tr;
	activations++;
	return activate_result;
}
static void dev_reset(void *dev)
{
	(void)dev;
	resets++;
}
static void dev_notify(void *dev, struct virtio_mmio *tr, unsigned q)
{
	(void)dev;
	(void)q;
	notifies++;
	/* a device that finds a broken chain */
	struct virtq_chain *c = malloc(sizeof(*c));
	int r = virtq_pop(&tr->q[q], tr->mem, c);
	free(c);
	if (r < 0)
		virtio_mmio_fail(tr);
}
static const struct virtio_dev_ops ops = {
	.name = "test", .device_id = 42, .nqueues = 2,
	.activate = dev_activate, .reset = dev_reset, .notify = dev_notify,
};
static void on_irq(void *ctx)
{
	(void)ctx;
	irqs++;
}
static void on_kick(void *ctx, unsigned q)
{
	(void)ctx;
	kicks++;
	kicked_q = (int)q;
}

static void setup(void)
{
	ram = aligned_alloc(4096, RAM);
	memset(ram, 0, RAM);
	gmem_layout(&m, ram, RAM);
	irqs = kicks = activations = resets = notifies = activate_result = 0;
	kicked_q = -1;
	virtio_mmio_init(&t, &ops, NULL, &m, VIRTIO_BIT(5), config, sizeof(config));
	t.irq = on_irq;
	t.kick = on_kick;
}
static void teardown(void)
{
	virtio_mmio_destroy(&t);
	free(ram);
}
TestSuite(virtio_mmio, .init = setup, .fini = teardown);

static uint32_t rd(uint64_t off)
{
	return virtio_mmio_read(&t, off, 4);
}
static void wr(uint64_t off, uint32_t v)
{
	virtio_mmio_write(&t, off, v, 4);
}
static void features(uint64_t f)
{
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}
static void queue(unsigned i, uint32_t num, uint64_t base)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, i);
	wr(VIRTIO_MMIO_QUEUE_NUM, num);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)base);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(base >> 32));
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(base + 0x1000));
	wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(base + 0x2000));
	wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
}
/* Linux's probe sequence up to DRIVER_OK (§3.1.1) */
static void bring_up(uint64_t f)
{
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	features(f);
	wr(VIRTIO_MMIO_STATUS, rd(VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_FEATURES_OK);
	cr_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	queue(0, 8, 0x10000);
	queue(1, 8, 0x20000);
	wr(VIRTIO_MMIO_STATUS, rd(VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

Test(virtio_mmio, identity)
{
	cr_assert_eq(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	cr_assert_eq(rd(VIRTIO_MMIO_VERSION), 2);
	cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_ID), 42);
	cr_assert_eq(rd(VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	cr_assert_eq(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff, "no shared memory");
	cr_assert_eq(virtio_mmio_read(&t, VIRTIO_MMIO_MAGIC_VALUE, 1), 0, "control registers are 32-bit");
	cr_assert_eq(virtio_mmio_read(&t, VIRTIO_MMIO_MAGIC_VALUE + 2, 4), 0, "and aligned");
}

Test(virtio_mmio, feature_windows)
{
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES),
		     (uint32_t)(VIRTIO_BIT(5) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
				VIRTIO_BIT(VIRTIO_F_EVENT_IDX)));
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), 1, "VERSION_1 is bit 32");
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
	/* driver features only between DRIVER and FEATURES_OK */
	features(VIRTIO_BIT(5));
	cr_assert_eq(t.driver_features, 0, "ignored before DRIVER");
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	features(VIRTIO_BIT(5) | VIRTIO_BIT(VIRTIO_F_VERSION_1));
	cr_assert_eq(t.driver_features, VIRTIO_BIT(5) | VIRTIO_BIT(VIRTIO_F_VERSION_1));
	wr(VIRTIO_MMIO_STATUS, 0xb);
	features(0);
	cr_assert_eq(t.driver_features, VIRTIO_BIT(5) | VIRTIO_BIT(VIRTIO_F_VERSION_1),
		     "frozen after FEATURES_OK");
}

Test(virtio_mmio, features_ok_refused_for_unoffered_bits_or_no_version_1)
{
	wr(VIRTIO_MMIO_STATUS, 1);
	wr(VIRTIO_MMIO_STATUS, 3);
	features(VIRTIO_BIT(5));   /* no VERSION_1: a legacy driver */
	wr(VIRTIO_MMIO_STATUS, 0xb);
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 3, "FEATURES_OK not accepted");
	features(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(6));   /* 6 not offered */
	wr(VIRTIO_MMIO_STATUS, 0xb);
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 3);
	features(VIRTIO_BIT(VIRTIO_F_VERSION_1));
	wr(VIRTIO_MMIO_STATUS, 0xb);
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0xb);
	cr_assert(virtio_features_ok(0x3, 0x1ull << 32 | 1) == false);
	cr_assert(virtio_features_ok(VIRTIO_BIT(32) | 1, VIRTIO_BIT(32)));
}

Test(virtio_mmio, status_steps_in_order)
{
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_DRIVER);
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0, "DRIVER without ACKNOWLEDGE");
	wr(VIRTIO_MMIO_STATUS, 1);
	wr(VIRTIO_MMIO_STATUS, 1 | VIRTIO_STATUS_FEATURES_OK);
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 1, "FEATURES_OK without DRIVER");
	wr(VIRTIO_MMIO_STATUS, 3);
	wr(VIRTIO_MMIO_STATUS, 3 | VIRTIO_STATUS_DRIVER_OK);
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 3, "DRIVER_OK without FEATURES_OK");
	wr(VIRTIO_MMIO_STATUS, 1);
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 3, "bits are not cleared but by a reset");
	wr(VIRTIO_MMIO_STATUS, 3 | 0x10);
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 3, "unknown bit");
	cr_assert_eq(activations, 0);
}

Test(virtio_mmio, full_bring_up_and_reset)
{
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
	bring_up(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0xf);
	cr_assert_eq(activations, 1);
	cr_assert(t.q[0].ready && t.q[1].ready);
	cr_assert(t.q[0].event_idx && !t.q[0].indirect, "ring features follow the driver");
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	/* queue registers are frozen once the device runs */
	wr(VIRTIO_MMIO_QUEUE_NUM, 4);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x50000);
	cr_assert_eq(t.q[0].num, 8);
	cr_assert_eq(t.q[0].desc_gpa, 0x10000);
	wr(VIRTIO_MMIO_STATUS, 0);
	cr_assert_eq(resets, 2, "bring_up resets first, then this one");
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0);
	cr_assert_not(t.q[0].ready);
	cr_assert_eq(t.driver_features, 0);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
}

Test(virtio_mmio, nonexistent_queue)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, 2);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	cr_assert_eq(kicks, 0, "no notification for a queue that does not exist");
}

Test(virtio_mmio, bad_queue_setup_needs_reset)
{
	wr(VIRTIO_MMIO_STATUS, 1);
	wr(VIRTIO_MMIO_STATUS, 3);
	features(VIRTIO_BIT(VIRTIO_F_VERSION_1));
	wr(VIRTIO_MMIO_STATUS, 0xb);
	queue(0, 8, RAM - 0x800);   /* rings past the end of RAM */
	cr_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	wr(VIRTIO_MMIO_STATUS, rd(VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
	cr_assert_eq(activations, 0, "a broken device is not activated");
	wr(VIRTIO_MMIO_STATUS, 0);
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0, "reset clears NEEDS_RESET");
	cr_assert_not(t.broken);
}

Test(virtio_mmio, queue_size_not_power_of_two)
{
	wr(VIRTIO_MMIO_STATUS, 1);
	wr(VIRTIO_MMIO_STATUS, 3);
	features(VIRTIO_BIT(VIRTIO_F_VERSION_1));
	wr(VIRTIO_MMIO_STATUS, 0xb);
	queue(0, 12, 0x10000);
	cr_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

Test(virtio_mmio, notify_and_interrupts)
{
	bring_up(VIRTIO_BIT(VIRTIO_F_VERSION_1));
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	cr_assert_eq(kicks, 1);
	cr_assert_eq(kicked_q, 1);
	virtio_mmio_notify(&t, 1);
	cr_assert_eq(notifies, 1);
	/* a used buffer raises the vring interrupt; ACK clears it */
	pthread_mutex_lock(&t.lock);
	virtq_push(&t.q[0], 0, 0);
	virtio_mmio_used(&t, 0);
	pthread_mutex_unlock(&t.lock);
	cr_assert_eq(irqs, 1);
	cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

Test(virtio_mmio, bad_chain_needs_reset_and_stops_the_queue)
{
	bring_up(VIRTIO_BIT(VIRTIO_F_VERSION_1));
	/* avail ring of queue 0 at 0x11000: head 200 >= num 8 */
	uint16_t head = 200, idx = 1;
	memcpy(ram + 0x11004, &head, 2);
	memcpy(ram + 0x11002, &idx, 2);
	virtio_mmio_notify(&t, 0);
	cr_assert_eq(notifies, 1);
	cr_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	cr_assert_eq(irqs, 1);
	virtio_mmio_notify(&t, 0);
	cr_assert_eq(notifies, 1, "a broken device serves no queue");
	/* recovery: reset and bring up again */
	bring_up(VIRTIO_BIT(VIRTIO_F_VERSION_1));
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0xf);
}

Test(virtio_mmio, activate_failure_needs_reset)
{
	activate_result = -1;
	bring_up(VIRTIO_BIT(VIRTIO_F_VERSION_1));
	cr_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	virtio_mmio_notify(&t, 0);
	cr_assert_eq(notifies, 0);
}

Test(virtio_mmio, failed_driver)
{
	bring_up(VIRTIO_BIT(VIRTIO_F_VERSION_1));
	wr(VIRTIO_MMIO_STATUS, 0xf | VIRTIO_STATUS_FAILED);
	virtio_mmio_notify(&t, 0);
	cr_assert_eq(notifies, 0);
}

Test(virtio_mmio, config_space)
{
	cr_assert_eq(virtio_mmio_read(&t, 0x100, 1), 1);
	cr_assert_eq(virtio_mmio_read(&t, 0x102, 2), 0x0403);
	cr_assert_eq(virtio_mmio_read(&t, 0x104, 4), 0x08070605);
	cr_assert_eq(virtio_mmio_read(&t, 0x101, 2), 0, "misaligned");
	cr_assert_eq(virtio_mmio_read(&t, 0x106, 4), 0, "misaligned 32-bit");
	cr_assert_eq(virtio_mmio_read(&t, 0x108, 1), 0, "past the end");
	cr_assert_eq(virtio_mmio_read(&t, 0xfff, 1), 0, "window end");
	virtio_mmio_write(&t, 0x100, 0xff, 1);
	cr_assert_eq(config[0], 1, "read-only");
}

Test(virtio_mmio, bus_ops_any_width)
{
	uint8_t b[8];
	virtio_mmio_ops.read(&t, 0, b, 8);
	cr_assert_eq(b[0], 0, "8-byte reads of control registers read 0");
	virtio_mmio_ops.read(&t, 0, b, 4);
	cr_assert_eq(memcmp(b, "virt", 4), 0);
	virtio_mmio_ops.read(&t, 0x100, b, 1);
	cr_assert_eq(b[0], 1);
}

Test(virtio_mmio, queue_taken_down_by_the_driver)
{
	bring_up(VIRTIO_BIT(VIRTIO_F_VERSION_1));
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(VIRTIO_MMIO_QUEUE_READY, 0);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0, "Linux's vm_del_vq reads 0 back");
	virtio_mmio_notify(&t, 1);
	cr_assert_eq(notifies, 0, "a queue taken down is not served");
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0, "and not set up again while the device runs");
}

static unsigned again_kicks;
static void count_kick(void *ctx, unsigned q)
{
	(void)ctx;
	(void)q;
	again_kicks++;
}

Test(virtio_mmio, budget_requeues_through_the_kick_hook)
{
	t.kick = count_kick;
	again_kicks = 0;
	virtio_mmio_again(&t, 0);
	cr_assert_eq(again_kicks, 1);
}
