/* virtio entropy device (virtio 1.2 §5.4): one request queue; every
 * buffer the driver posts is filled from getrandom(2). No device features,
 * no configuration space. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "../virtio/devices.h"

/* bytes given per request at most: the driver asks again for more */
#define RNG_MAX_REQUEST (64u << 10)

struct virtio_rng {
	struct vdev d;             /* first: the transport's dev pointer is this */
	struct virtq_chain chain;
};

static uint32_t fill(const struct virtq_chain *c)
{
	uint32_t done = 0;
	/* §5.4.6.1: the device fills the driver's writable buffers; readable
	 * ones (which the driver must not post) are skipped */
	for (unsigned i = c->nread; i < c->nread + c->nwrite && done < RNG_MAX_REQUEST; i++) {
		const struct virtq_seg *s = &c->seg[i];
		uint32_t want = s->len < RNG_MAX_REQUEST - done ? s->len : RNG_MAX_REQUEST - done;
		uint32_t got = 0;
		while (got < want) {
			ssize_t n = getrandom(s->host + got, want - got, 0);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return done + got;
			}
			got += (uint32_t)n;
		}
		done += got;
	}
	return done;
}

static uint32_t rng_handle(void *dev, const struct virtq_chain *c)
{
	(void)dev;
	return fill(c);
}

static void rng_notify(void *dev, struct virtio_mmio *t, unsigned q)
{
	struct virtio_rng *rng = dev;
	virtio_mmio_serve(t, q, &rng->chain, rng_handle, rng);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.nqueues = 1,
	.notify = rng_notify,
};

int virtio_rng_open(struct vdev **out, struct cl_error *err)
{
	struct virtio_rng *rng = calloc(1, sizeof(*rng));
	if (!rng)
		return cl_err(err, ENOMEM, "virtio-rng: out of memory");
	vdev_init(&rng->d, &rng_ops, 0, NULL, 0);
	snprintf(rng->d.name, sizeof(rng->d.name), "virtio-rng");
	*out = &rng->d;
	return 0;
}
