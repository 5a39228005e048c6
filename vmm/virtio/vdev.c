/* Wiring a virtio-mmio device into the VM: see devices.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../layout.h"
#include "../vm.h"
#include "devices.h"

/* 5, 6, 7, then 9..23: 18 pins of KVM's 24-pin IOAPIC */
uint32_t vdev_gsi(unsigned i)
{
	return i < 3 ? 5 + i : 9 + (i - 3);
}

void vdev_init(struct vdev *d, const struct virtio_dev_ops *ops, uint64_t features,
	       const void *config, uint32_t config_len)
{
	virtio_mmio_init(&d->t, ops, d, NULL, features, config, config_len);
	d->irqfd = -1;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		d->kick[q] = (struct vdev_kick){ d, q, -1 };
	d->src.fd = -1;
	d->host_fd = -1;
}

/* transport hooks */
static void irq_pulse(void *ctx)
{
	struct vdev *d = ctx;
	uint64_t one = 1;
	/* an eventfd write only fails if the counter would overflow: the
	 * interrupt is pending anyway then */
	if (write(d->irqfd, &one, sizeof(one)) < 0) { }
}

static void kick_loop(void *ctx, unsigned q)
{
	struct vdev *d = ctx;
	uint64_t one = 1;
	if (q < VIRTIO_MAX_QUEUES && d->kick[q].fd >= 0 &&
	    write(d->kick[q].fd, &one, sizeof(one)) < 0) { }
}

/* event loop sources */
static void on_kick(void *ctx, uint32_t events)
{
	struct vdev_kick *k = ctx;
	uint64_t n;
	(void)events;
	if (read(k->fd, &n, sizeof(n)) < 0 && errno == EAGAIN)
		return;
	virtio_mmio_notify(&k->d->t, k->q);
}

static void on_src(void *ctx, uint32_t events)
{
	struct vdev *d = ctx;
	d->src.fn(d, events);
}

int vdev_attach(struct vm *vm, struct vdev *d, unsigned i, struct cl_error *err)
{
	if (i >= VDEV_MAX)
		return cl_err(err, ENOSPC, "%s: more than %d virtio devices", d->name, VDEV_MAX);
	d->base = LAYOUT_VIRTIO_MMIO + (uint64_t)i * VIRTIO_MMIO_WINDOW;
	d->gsi = vdev_gsi(i);
	d->t.mem = &vm->mem;
	d->t.irq = irq_pulse;
	d->t.kick = kick_loop;
	d->t.hook_ctx = d;
	int r;
	d->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->irqfd < 0)
		return cl_err_sys(err, errno, "%s: eventfd", d->name);
	if ((r = kvm_irqfd(&vm->kvm, d->irqfd, d->gsi, err)) < 0)
		return cl_err_wrap(err, "%s", d->name);
	for (unsigned q = 0; q < d->t.ops->nqueues; q++) {
		struct vdev_kick *k = &d->kick[q];
		k->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (k->fd < 0)
			return cl_err_sys(err, errno, "%s: eventfd", d->name);
		if ((r = kvm_ioeventfd(&vm->kvm, k->fd, d->base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, q, err)) < 0 ||
		    (r = vm_loop_add(vm, k->fd, EPOLLIN, on_kick, k, err)) < 0)
			return cl_err_wrap(err, "%s", d->name);
	}
	if (d->src.fd >= 0 && (r = vm_loop_add(vm, d->src.fd, d->src.events, on_src, d, err)) < 0)
		return cl_err_wrap(err, "%s", d->name);
	return bus_register(&vm->mmio, d->base, VIRTIO_MMIO_WINDOW, &virtio_mmio_ops, &d->t,
			    d->name, err);
}

void vdev_free(struct vdev *d)
{
	if (!d)
		return;
	if (d->irqfd >= 0)
		close(d->irqfd);
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		if (d->kick[q].fd >= 0)
			close(d->kick[q].fd);
	virtio_mmio_destroy(&d->t);
	if (d->free)
		d->free(d);
	else
		free(d);
}
