/* virtio network device (virtio 1.2 §5.1) on a tap: one receive and one
 * transmit queue, the MAC in the configuration space, frames with the
 * 12-byte virtio_net_hdr on both sides. The tap is opened with
 * IFF_VNET_HDR and a header size of 12 (TUNSETVNETHDRSZ), so its header is
 * the driver's: checksum and TSO offloads pass through untranslated.
 *   guest -> tap (TX): offered always (CSUM, HOST_TSO4/6): a tap accepts
 *                      partial checksums and GSO frames from its writer.
 *   tap -> guest (RX): GUEST_CSUM/TSO4/TSO6 only if the tap accepts
 *                      TUNSETOFFLOAD, and then set to what the driver took.
 * The tap is created if absent (and, not being persistent, disappears when
 * the VMM closes it) or attached if it exists (and then left alone). */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cloudlet/net.h"
#include "../virtio/devices.h"

#define RXQ 0
#define TXQ 1
#define HDR_LEN ((uint32_t)sizeof(struct virtio_net_hdr))   /* 12: VERSION_1 */
#define ETH_HLEN_MIN 14

struct virtio_net {
	struct vdev d;             /* first: the transport's dev pointer is this */
	int tap;
	char ifname[IFNAMSIZ];
	bool tap_offload;          /* TUNSETOFFLOAD works: guest offloads can be offered */
	atomic_bool tap_readable;  /* the tap may hold frames: an edge came, no EAGAIN since */
	uint8_t config[12];        /* §5.1.4: mac[6], status (F_STATUS not offered),
	                              max_virtqueue_pairs (F_MQ not offered), mtu (F_MTU) */
	uint64_t tx_dropped, rx_dropped;
	struct virtq_chain chain;
	struct iovec iov[VIRTQ_MAX_SEGS + 1];
};

void virtio_net_mac_from_name(const char *name, uint8_t mac[6])
{
	/* FNV-1a 64 over "cloudlet-tap", NUL, the name */
	uint64_t h = 0xcbf29ce484222325ull;
	const char *parts[2] = { "cloudlet-tap", name };
	for (int p = 0; p < 2; p++)
		for (const char *s = parts[p];; s++) {
			h ^= (uint8_t)*s;
			h *= 0x100000001b3ull;
			if (!*s)
				break;
		}
	/* locally administered, unicast (IEEE 802: bit 1 set, bit 0 clear) */
	mac[0] = 0x02;
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
}

bool virtio_net_tx_hdr_ok(const struct virtio_net_hdr *h, uint64_t pkt_len, uint64_t features)
{
	if (pkt_len < ETH_HLEN_MIN || pkt_len > VIRTIO_NET_MAX_FRAME)
		return false;
	/* §5.1.6.2.1: the driver sets only NEEDS_CSUM in flags */
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return false;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!(features & VIRTIO_BIT(VIRTIO_NET_F_CSUM)))
			return false;
		uint32_t start = le16toh(h->csum_start), off = le16toh(h->csum_offset);
		if ((uint64_t)start + off + 2 > pkt_len)
			return false;
	}
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!(features & VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4)))
			return false;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!(features & VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6)))
			return false;
		break;
	default:   /* UDP (UFO) and ECN are not offered */
		return false;
	}
	/* §5.1.6.2.1: a GSO frame also needs a partial checksum and a segment size */
	return (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && le16toh(h->gso_size) != 0;
}

bool virtio_net_rx_hdr_fix(struct virtio_net_hdr *h, uint64_t features)
{
	/* §5.1.6.4: without MRG_RXBUF every frame is in one buffer */
	h->num_buffers = htole16(1);
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!(features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4)))
			return false;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!(features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6)))
			return false;
		break;
	default:
		return false;
	}
	/* §5.1.6.4.1: without GUEST_CSUM, flags are zero; a frame whose
	 * checksum is still to be done cannot be given to such a driver */
	if (!(features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM))) {
		if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			return false;
		h->flags = 0;
	}
	h->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
	return true;
}

/* ---- transmit: guest -> tap ---- */
static void net_tx(struct virtio_net *n, struct virtio_mmio *t)
{
	struct virtq *q = &t->q[TXQ];
	struct virtq_chain *c = &n->chain;
	int r = 0;
	unsigned n_done = 0;
	while (n_done < VIRTIO_BUDGET && (r = virtq_pop(q, t->mem, c)) > 0) {
		struct virtio_net_hdr h;
		/* the tap gets our validated copy of the header, not the guest's
		 * bytes, which it could change after the check */
		int k = -1;
		if (c->read_len >= HDR_LEN && virtq_read(c, 0, &h, HDR_LEN) == HDR_LEN &&
		    virtio_net_tx_hdr_ok(&h, c->read_len - HDR_LEN, t->driver_features)) {
			n->iov[0] = (struct iovec){ &h, HDR_LEN };
			k = virtq_iov(c, false, HDR_LEN, c->read_len - HDR_LEN, n->iov + 1,
				      VIRTQ_MAX_SEGS);
		}
		if (k < 0 || writev(n->tap, n->iov, k + 1) < 0)
			n->tx_dropped++;
		/* §5.1.6.2: transmitted buffers come back with nothing written */
		virtq_push(q, c->head, 0);
		n_done++;
	}
	if (n_done)
		virtio_mmio_used(t, TXQ);
	if (r < 0)
		virtio_mmio_fail(t);
	else if (n_done == VIRTIO_BUDGET)
		virtio_mmio_again(t, TXQ);
}

/* ---- receive: tap -> guest, while both a frame and a buffer are there ---- */
static void net_rx(struct virtio_net *n, struct virtio_mmio *t)
{
	struct virtq *q = &t->q[RXQ];
	struct virtq_chain *c = &n->chain;
	unsigned pushed = 0;
	for (unsigned turn = 0; atomic_load(&n->tap_readable); turn++) {
		if (turn == VIRTIO_BUDGET) {
			virtio_mmio_again(t, RXQ);
			break;
		}
		int r = virtq_pop(q, t->mem, c);
		if (r < 0) {
			virtio_mmio_fail(t);
			break;
		}
		if (r == 0)
			break;   /* no buffer: the driver's next RX notification resumes */
		int k = c->write_len >= HDR_LEN + ETH_HLEN_MIN
			? virtq_iov(c, true, 0, c->write_len, n->iov, VIRTQ_MAX_SEGS) : -1;
		if (k < 0) {
			/* a buffer no frame fits in: give it back empty */
			virtq_push(q, c->head, 0);
			pushed++;
			continue;
		}
		ssize_t len = readv(n->tap, n->iov, k);
		if (len < 0) {
			virtq_unpop(q);
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				atomic_store(&n->tap_readable, false);
			else if (errno != EINTR)
				atomic_store(&n->tap_readable, false);   /* tap gone: nothing more to read */
			break;
		}
		struct virtio_net_hdr h;
		if ((uint64_t)len < HDR_LEN || virtq_read_back(c, 0, &h, HDR_LEN) != HDR_LEN ||
		    !virtio_net_rx_hdr_fix(&h, t->driver_features)) {
			n->rx_dropped++;
			virtq_unpop(q);   /* the buffer serves the next frame */
			continue;
		}
		virtq_write(c, 0, &h, HDR_LEN);
		uint64_t used = (uint64_t)len < c->write_len ? (uint64_t)len : c->write_len;
		virtq_push(q, c->head, (uint32_t)used);
		pushed++;
	}
	if (pushed)
		virtio_mmio_used(t, RXQ);
}

static void net_notify(void *dev, struct virtio_mmio *t, unsigned q)
{
	struct virtio_net *n = dev;
	if (q == TXQ)
		net_tx(n, t);
	else
		net_rx(n, t);
}

static void net_rx_run(void *dev, struct virtio_mmio *t)
{
	net_rx(dev, t);
}

/* event loop: the tap has frames (edge-triggered) */
static void net_tap_event(struct vdev *d, uint32_t events)
{
	struct virtio_net *n = (struct virtio_net *)d;
	(void)events;
	atomic_store(&n->tap_readable, true);
	virtio_mmio_run(&d->t, net_rx_run);
}

static unsigned tun_offloads(uint64_t f)
{
	unsigned o = 0;
	if (f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)) {
		o |= TUN_F_CSUM;
		if (f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4))
			o |= TUN_F_TSO4;
		if (f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6))
			o |= TUN_F_TSO6;
	}
	return o;
}

static int net_activate(void *dev, struct virtio_mmio *t)
{
	struct virtio_net *n = dev;
	/* the tap may only hand us what the driver accepted */
	if (n->tap_offload && ioctl(n->tap, TUNSETOFFLOAD, tun_offloads(t->driver_features)) < 0)
		return -errno;
	if (!t->q[RXQ].ready || !t->q[TXQ].ready)
		return -EINVAL;
	/* frames that queued up before the driver was ready: served from the
	 * event loop (this runs on a vCPU thread) */
	if (t->kick)
		t->kick(t->hook_ctx, RXQ);
	return 0;
}

static void net_reset(void *dev)
{
	struct virtio_net *n = dev;
	if (n->tap_offload)
		ioctl(n->tap, TUNSETOFFLOAD, 0);
}

static const struct virtio_dev_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.nqueues = 2,
	.activate = net_activate,
	.reset = net_reset,
	.notify = net_notify,
};

static void net_free(struct vdev *d)
{
	struct virtio_net *n = (struct virtio_net *)d;
	/* the last close of a tap we created removes it (it is not persistent) */
	if (n->tap >= 0)
		close(n->tap);
	free(n);
}

static void link_up(const char *name)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	struct ifreq ifr = { 0 };
	memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
}

int virtio_net_open(struct vdev **out, const struct vmm_net *net, unsigned index,
		    struct cl_error *err)
{
	const char *name = net->tap;
	int r;
	if (!name || !*name || strlen(name) >= IFNAMSIZ)
		return cl_err(err, EINVAL, "--net: bad tap name '%s'", name ? name : "");
	struct virtio_net *n = calloc(1, sizeof(*n));
	if (!n)
		return cl_err(err, ENOMEM, "tap %s: out of memory", name);
	bool existed = true;
	n->tap = -1;
	/* a tap opened for us (in a VPC's namespace, net_attach) is shared:
	 * our own descriptor, closed by us, theirs by them */
	if (net->has_fd && (n->tap = fcntl(net->fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		r = cl_err_sys(err, errno, "tap %s", name);
		goto fail;
	}
	if (!net->has_fd && (r = net_tap_open(name, &n->tap, &existed, err)) < 0) {
		n->tap = -1;
		goto fail;
	}
	memcpy(n->ifname, name, strlen(name));
	int hdr = (int)HDR_LEN;
	if (ioctl(n->tap, TUNSETVNETHDRSZ, &hdr) < 0) {
		r = cl_err_sys(err, errno, "tap %s: TUNSETVNETHDRSZ", name);
		goto fail;
	}
	/* offloads towards the guest only if the tap can do them; off until
	 * the driver says which it takes */
	n->tap_offload = ioctl(n->tap, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) == 0;
	if (n->tap_offload)
		ioctl(n->tap, TUNSETOFFLOAD, 0);
	if (!existed)
		link_up(name);

	static const uint8_t zero[6];
	if (memcmp(net->mac, zero, 6))
		memcpy(n->config, net->mac, 6);
	else
		virtio_net_mac_from_name(name, n->config);
	uint64_t features = VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_NET_F_CSUM) |
			    VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6);
	if (n->tap_offload)
		features |= VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) |
			    VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6);
	size_t cfg_len = 8;
	if (net->mtu) {
		/* an overlay's guest: the underlay's MTU less the encapsulation */
		features |= VIRTIO_BIT(VIRTIO_NET_F_MTU);
		n->config[10] = (uint8_t)(net->mtu & 0xff);     /* le16 */
		n->config[11] = (uint8_t)(net->mtu >> 8);
		cfg_len = sizeof(n->config);
	}
	vdev_init(&n->d, &net_ops, features, n->config, cfg_len);
	n->d.free = net_free;
	n->d.host_fd = n->tap;
	n->d.src = (struct vdev_src){ n->tap, EPOLLIN | EPOLLET, net_tap_event };
	snprintf(n->d.name, sizeof(n->d.name), "eth%u (tap %s)", index, name);
	*out = &n->d;
	return 0;
fail:
	if (n->tap >= 0)
		close(n->tap);
	free(n);
	return r;
}
