/* virtio-mmio transport, version 2: see mmio.h. */
#include <errno.h>
#include <string.h>

#include "mmio.h"

#define DRIVER_BITS (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
		     VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FAILED)

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_dev_ops *ops, void *dev,
		      const struct guest_mem *mem, uint64_t device_features, const void *config,
		      uint32_t config_len)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->ops = ops;
	t->dev = dev;
	t->mem = mem;
	t->device_features = device_features | VIRTIO_TRANSPORT_FEATURES;
	t->config = config;
	t->config_len = config_len;
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	pthread_mutex_destroy(&t->lock);
}

bool virtio_features_ok(uint64_t dev, uint64_t drv)
{
	/* §2.2.1: only offered bits; §6.1: a modern device refuses a driver
	 * without VERSION_1 (we have no legacy interface) */
	return !(drv & ~dev) && (drv & VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

static bool live(const struct virtio_mmio *t)
{
	return (t->status & VIRTIO_STATUS_DRIVER_OK) && !t->broken &&
	       !(t->status & VIRTIO_STATUS_FAILED);
}

static void raise_irq(struct virtio_mmio *t, uint32_t bit)
{
	t->isr |= bit;
	if (t->irq)
		t->irq(t->hook_ctx);
}

void virtio_mmio_used(struct virtio_mmio *t, unsigned q)
{
	if (q < VIRTIO_MAX_QUEUES && virtq_should_interrupt(&t->q[q]))
		raise_irq(t, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_fail(struct virtio_mmio *t)
{
	t->bad_chains++;
	if (t->broken)
		return;
	t->broken = true;
	t->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	/* §2.1.2: with DRIVER_OK set, tell the driver through a configuration
	 * change notification */
	if (t->status & VIRTIO_STATUS_DRIVER_OK)
		raise_irq(t, VIRTIO_MMIO_INT_CONFIG);
}

/* §4.2.2.3.1 / §2.4: status 0 resets the device to its initial state */
static void reset(struct virtio_mmio *t)
{
	if (t->ops->reset)
		t->ops->reset(t->dev);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		virtq_reset(&t->q[i]);
	t->driver_features = 0;
	t->device_features_sel = t->driver_features_sel = t->queue_sel = 0;
	t->status = 0;
	t->isr = 0;
	t->broken = false;
}

/* §3.1.1: the driver sets the status bits one step at a time, in order;
 * anything else (clearing a bit without a reset, skipping a step, unknown
 * bits) is ignored. */
static void write_status(struct virtio_mmio *t, uint32_t val)
{
	if (val == 0) {
		reset(t);
		return;
	}
	uint32_t old = t->status & DRIVER_BITS;
	/* NEEDS_RESET is the device's: a driver writing back what it read may carry it */
	if (val & ~(DRIVER_BITS | VIRTIO_STATUS_DEVICE_NEEDS_RESET))
		return;
	val &= DRIVER_BITS;
	if (old & ~val)
		return;
	uint32_t add = val & ~old;
	if (add & VIRTIO_STATUS_FAILED) {
		/* the driver gave up (§2.1): stop serving queues */
		t->status |= VIRTIO_STATUS_FAILED;
		return;
	}
	if ((add & VIRTIO_STATUS_DRIVER) && !(val & VIRTIO_STATUS_ACKNOWLEDGE))
		return;
	if ((add & VIRTIO_STATUS_FEATURES_OK) && !(val & VIRTIO_STATUS_DRIVER))
		return;
	if ((add & VIRTIO_STATUS_DRIVER_OK) && !(val & VIRTIO_STATUS_FEATURES_OK))
		return;
	if (add & VIRTIO_STATUS_FEATURES_OK) {
		/* §2.2.2: the device leaves FEATURES_OK clear if it cannot
		 * support the driver's subset; the driver reads it back */
		if (!virtio_features_ok(t->device_features, t->driver_features)) {
			t->status |= add & ~(VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
			return;
		}
	}
	t->status |= add;
	if ((add & VIRTIO_STATUS_DRIVER_OK) && !t->broken && t->ops->activate &&
	    t->ops->activate(t->dev, t) < 0)
		virtio_mmio_fail(t);
}

static struct virtq *sel_queue(struct virtio_mmio *t)
{
	return t->queue_sel < t->ops->nqueues ? &t->q[t->queue_sel] : NULL;
}

/* Queue registers may change only while the queue is not ready and the
 * driver is not yet running the device (§4.2.2.3.2; no VIRTIO_F_RING_RESET). */
static struct virtq *setup_queue(struct virtio_mmio *t)
{
	struct virtq *q = sel_queue(t);
	if (!q || q->ready || (t->status & VIRTIO_STATUS_DRIVER_OK))
		return NULL;
	return q;
}

static void set_lo(uint64_t *v, uint32_t lo)
{
	*v = (*v & 0xffffffff00000000ull) | lo;
}
static void set_hi(uint64_t *v, uint32_t hi)
{
	*v = (*v & 0xffffffffull) | ((uint64_t)hi << 32);
}

static uint32_t config_read(struct virtio_mmio *t, uint64_t off, uint32_t len)
{
	/* §4.2.2.2: naturally aligned accesses of the field's width */
	if ((len != 1 && len != 2 && len != 4) || off % len || off > t->config_len ||
	    len > t->config_len - off)
		return 0;
	uint32_t v = 0;
	memcpy(&v, t->config + off, len);   /* little-endian host and device (§2.5) */
	return v;
}

uint32_t virtio_mmio_read(struct virtio_mmio *t, uint64_t off, uint32_t len)
{
	uint32_t v = 0;
	pthread_mutex_lock(&t->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		v = config_read(t, off - VIRTIO_MMIO_CONFIG, len);
		goto out;
	}
	/* §4.2.2.2: control registers are read 32 bits wide and aligned */
	if (len != 4 || off % 4)
		goto out;
	struct virtq *q = sel_queue(t);
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: v = VIRTIO_MMIO_MAGIC; break;
	case VIRTIO_MMIO_VERSION: v = 2; break;
	case VIRTIO_MMIO_DEVICE_ID: v = t->ops->device_id; break;
	case VIRTIO_MMIO_VENDOR_ID: v = VIRTIO_MMIO_VENDOR; break;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		v = t->device_features_sel == 0 ? (uint32_t)t->device_features
		  : t->device_features_sel == 1 ? (uint32_t)(t->device_features >> 32) : 0;
		break;
	/* §4.2.2: 0 for a queue that does not exist */
	case VIRTIO_MMIO_QUEUE_NUM_MAX: v = q ? VIRTQ_MAX_SIZE : 0; break;
	case VIRTIO_MMIO_QUEUE_READY: v = q && q->ready; break;
	case VIRTIO_MMIO_INTERRUPT_STATUS: v = t->isr; break;
	case VIRTIO_MMIO_STATUS: v = t->status; break;
	case VIRTIO_MMIO_CONFIG_GENERATION: v = t->config_generation; break;
	/* no shared memory regions: length -1 (§4.2.2) */
	case VIRTIO_MMIO_SHM_LEN_LOW: case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW: case VIRTIO_MMIO_SHM_BASE_HIGH:
		v = 0xffffffff;
		break;
	default: break;   /* write-only and reserved registers read 0 */
	}
out:
	pthread_mutex_unlock(&t->lock);
	return v;
}

void virtio_mmio_write(struct virtio_mmio *t, uint64_t off, uint32_t val, uint32_t len)
{
	/* the configuration space has no field the driver may write here */
	if (off >= VIRTIO_MMIO_CONFIG || len != 4 || off % 4)
		return;
	pthread_mutex_lock(&t->lock);
	struct virtq *q;
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: t->device_features_sel = val; break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: t->driver_features_sel = val; break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		/* §3.1.1 step 4: between DRIVER and FEATURES_OK only */
		if (!(t->status & VIRTIO_STATUS_DRIVER) || (t->status & VIRTIO_STATUS_FEATURES_OK))
			break;
		if (t->driver_features_sel == 0)
			set_lo(&t->driver_features, val);
		else if (t->driver_features_sel == 1)
			set_hi(&t->driver_features, val);
		break;
	case VIRTIO_MMIO_QUEUE_SEL: t->queue_sel = val; break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if ((q = setup_queue(t)))
			q->num = val > 0xffff ? 0 : (uint16_t)val;   /* checked at QueueReady */
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: if ((q = setup_queue(t))) set_lo(&q->desc_gpa, val); break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: if ((q = setup_queue(t))) set_hi(&q->desc_gpa, val); break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW: if ((q = setup_queue(t))) set_lo(&q->avail_gpa, val); break;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: if ((q = setup_queue(t))) set_hi(&q->avail_gpa, val); break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW: if ((q = setup_queue(t))) set_lo(&q->used_gpa, val); break;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: if ((q = setup_queue(t))) set_hi(&q->used_gpa, val); break;
	case VIRTIO_MMIO_QUEUE_READY:
		q = sel_queue(t);
		if (!q)
			break;
		if (!val) {
			/* the driver takes the queue down (Linux's vm_del_vq reads
			 * 0 back): it is simply not served any more */
			q->ready = false;
			break;
		}
		if (q->ready || (t->status & VIRTIO_STATUS_DRIVER_OK))
			break;
		/* §3.1.1 step 7: queues are set up after FEATURES_OK */
		if (!(t->status & VIRTIO_STATUS_FEATURES_OK)) {
			virtio_mmio_fail(t);
			break;
		}
		q->indirect = virtio_mmio_has(t, VIRTIO_F_INDIRECT_DESC);
		q->event_idx = virtio_mmio_has(t, VIRTIO_F_EVENT_IDX);
		if (virtq_activate(q, t->mem) < 0)
			virtio_mmio_fail(t);   /* bad size or rings outside RAM */
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* no VIRTIO_F_NOTIFICATION_DATA: the value is the queue index */
		if (val < t->ops->nqueues && t->kick)
			t->kick(t->hook_ctx, val);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK: t->isr &= ~val; break;
	case VIRTIO_MMIO_STATUS: write_status(t, val); break;
	default: break;   /* read-only and reserved registers */
	}
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_notify(struct virtio_mmio *t, unsigned q)
{
	pthread_mutex_lock(&t->lock);
	if (live(t) && q < t->ops->nqueues && t->q[q].ready && t->ops->notify)
		t->ops->notify(t->dev, t, q);
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_again(struct virtio_mmio *t, unsigned q)
{
	if (t->kick)
		t->kick(t->hook_ctx, q);
}

void virtio_mmio_serve(struct virtio_mmio *t, unsigned q, struct virtq_chain *c,
		       uint32_t (*handle)(void *dev, const struct virtq_chain *c), void *dev)
{
	int r = 0;
	unsigned n = 0;
	while (n < VIRTIO_BUDGET && (r = virtq_pop(&t->q[q], t->mem, c)) > 0) {
		virtq_push(&t->q[q], c->head, handle(dev, c));
		n++;
	}
	if (n)
		virtio_mmio_used(t, q);
	if (r < 0)
		virtio_mmio_fail(t);
	else if (n == VIRTIO_BUDGET)
		virtio_mmio_again(t, q);
}

void virtio_mmio_run(struct virtio_mmio *t, void (*fn)(void *dev, struct virtio_mmio *t))
{
	pthread_mutex_lock(&t->lock);
	if (live(t))
		fn(t->dev, t);
	pthread_mutex_unlock(&t->lock);
}

static void bus_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	uint32_t v = virtio_mmio_read(dev, off, len);
	memset(data, 0, len);
	memcpy(data, &v, len < 4 ? len : 4);
}

static void bus_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	uint32_t v = 0;
	memcpy(&v, data, len < 4 ? len : 4);
	virtio_mmio_write(dev, off, v, len);
}

const struct bus_ops virtio_mmio_ops = { bus_read, bus_write };
