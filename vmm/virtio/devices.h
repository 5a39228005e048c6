/* virtio devices of the VM (vmm/devices/virtio_*.c) and how they are wired
 * to it (vmm/virtio/vdev.c). Each device embeds a struct vdev first:
 *   1. *_open: the host side (a file, a tap), before /dev/kvm is touched,
 *      so that bad input reads the same on every machine;
 *   2. vdev_attach: guest RAM, an MMIO window on the bus, an irqfd for its
 *      GSI, an ioeventfd per queue on QueueNotify, event loop sources;
 *   3. vdev_free: closes everything (after the VM fd, which holds the
 *      irqfd/ioeventfd registrations, is gone).
 * The pure parts (blk request parsing, net header handling) are declared
 * here too, for the unit tests and the fuzzer. */
#ifndef VMM_VIRTIO_DEVICES_H
#define VMM_VIRTIO_DEVICES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "cloudlet/error.h"
#include "cloudlet/vmm.h"
#include "mmio.h"

struct vm;

/* IOAPIC pins for virtio devices: 5.. skipping 8 (the RTC's legacy IRQ);
 * 4 is COM1, 0-3 the PIT/cascade/keyboard of PC tradition. */
#define VDEV_MAX 18

struct vdev;
struct vdev_src {                  /* an extra event loop source (net: the tap) */
	int fd;
	uint32_t events;
	void (*fn)(struct vdev *d, uint32_t events);
};

struct vdev_kick {
	struct vdev *d;
	unsigned q;
	int fd;                    /* ioeventfd */
};

struct vdev {
	struct virtio_mmio t;
	char name[32];             /* "vda", "rng0", "eth0 (tap0)": for messages */
	uint64_t base;             /* MMIO window */
	uint32_t gsi;
	int irqfd;
	struct vdev_kick kick[VIRTIO_MAX_QUEUES];
	struct vdev_src src;       /* fd -1: none */
	int host_fd;               /* the host side (disk file, tap), -1: none; the
	                              jail keeps it open when it closes the rest */
	void (*free)(struct vdev *d);   /* the device's own resources */
};

/* GSI of the i-th virtio device (i < VDEV_MAX). */
uint32_t vdev_gsi(unsigned i);
/* Wire device d into the VM as its i-th virtio device. */
int vdev_attach(struct vm *vm, struct vdev *d, unsigned i, struct cl_error *err);
/* Close the device's fds and free it (NULL: nothing). */
void vdev_free(struct vdev *d);
/* Common initialisation (fds -1, transport with no guest RAM yet). */
void vdev_init(struct vdev *d, const struct virtio_dev_ops *ops, uint64_t features,
	       const void *config, uint32_t config_len);

/* ---- virtio_rng.c (§5.4) ---- */
int virtio_rng_open(struct vdev **out, struct cl_error *err);

/* ---- virtio_blk.c (§5.2) ---- */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX  2
#define VIRTIO_BLK_F_RO       5
#define VIRTIO_BLK_F_FLUSH    9
#define VIRTIO_BLK_T_IN       0
#define VIRTIO_BLK_T_OUT      1
#define VIRTIO_BLK_T_FLUSH    4
#define VIRTIO_BLK_T_GET_ID   8
#define VIRTIO_BLK_S_OK       0
#define VIRTIO_BLK_S_IOERR    1
#define VIRTIO_BLK_S_UNSUPP   2
#define VIRTIO_BLK_ID_BYTES   20
#define VIRTIO_BLK_SECTOR     512
/* what the device advertises (config size_max, seg_max): one request is
 * at most seg_max * size_max bytes of data, under VIRTQ_MAX_CHAIN_BYTES */
#define VIRTIO_BLK_SEG_MAX    126
#define VIRTIO_BLK_SIZE_MAX   (1u << 20)

/* A request, as parsed from a validated chain (§5.2.6): a 16-byte header
 * at the start of the readable part, the status byte at the end of the
 * writable part, data in between. */
struct blk_req {
	uint32_t type;
	uint64_t sector;
	uint64_t data_off;         /* IN/GET_ID: in the writable part; OUT: in the readable part */
	uint64_t data_len;
	uint64_t status_off;       /* in the writable part */
	uint8_t status;            /* VIRTIO_BLK_S_OK: do it; anything else: report only */
};
/* Pure. 0 and *r, or -EINVAL if the chain cannot even carry a status
 * (header shorter than 16 bytes or no writable byte): the request is then
 * returned with nothing written. Checks: IN/OUT data a whole number of
 * sectors and inside the disk (no overflow), OUT on a read-only disk
 * (IOERR), unknown types (UNSUPP). */
int virtio_blk_parse(const struct virtq_chain *c, uint64_t sectors, bool ro, struct blk_req *r);
int virtio_blk_open(struct vdev **out, const struct vmm_disk *disk, unsigned index,
		    struct cl_error *err);
/* The opened file's device and inode (st_dev, st_ino of *st). */
void virtio_blk_stat(const struct vdev *d, struct stat *st);

/* ---- virtio_net.c (§5.1) ---- */
#define VIRTIO_NET_F_CSUM       0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU        3   /* §5.1.3: config.mtu is the device's maximum MTU */
#define VIRTIO_NET_F_MAC        5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN  9
#define VIRTIO_NET_F_HOST_TSO4  11
#define VIRTIO_NET_F_HOST_TSO6  12
#define VIRTIO_NET_F_HOST_ECN   13
/* §5.1.6: struct virtio_net_hdr with VERSION_1 (num_buffers always there) */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_GSO_TCPV4    1
#define VIRTIO_NET_HDR_GSO_UDP      3
#define VIRTIO_NET_HDR_GSO_TCPV6    4
#define VIRTIO_NET_HDR_GSO_ECN      0x80
/* Largest frame the device takes from the driver or gives it: a 64 KiB
 * GSO packet plus its Ethernet header */
#define VIRTIO_NET_MAX_FRAME  (65536 + 14)
/* Pure: may the driver's header on a TX packet of pkt_len bytes (after the
 * header) go to the tap, given the negotiated features? (§5.1.6.2: GSO
 * only as negotiated, checksum offsets inside the packet) */
bool virtio_net_tx_hdr_ok(const struct virtio_net_hdr *h, uint64_t pkt_len, uint64_t features);
/* Pure: the header the tap wrote on an RX packet, fixed for the driver
 * (§5.1.6.3: num_buffers 1 without MRG_RXBUF; flags the driver did not
 * negotiate cleared). false: drop the packet (GSO the driver cannot take). */
bool virtio_net_rx_hdr_fix(struct virtio_net_hdr *h, uint64_t features);
/* Pure: a stable, locally administered unicast MAC from a name. */
void virtio_net_mac_from_name(const char *name, uint8_t mac[6]);
int virtio_net_open(struct vdev **out, const struct vmm_net *net, unsigned index,
		    struct cl_error *err);

#endif
