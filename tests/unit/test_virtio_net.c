/* virtio-net header handling (vmm/devices/virtio_net.c): what goes from
 * the driver to the tap, what comes from the tap to the driver. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../vmm/virtio/devices.h"

#define F(b) VIRTIO_BIT(b)
static const uint64_t all_host = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |
				 F(VIRTIO_NET_F_HOST_TSO6);
static const uint64_t all_guest = F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
				  F(VIRTIO_NET_F_GUEST_TSO6);

Test(net_hdr, tx_plain_frame)
{
	struct virtio_net_hdr h = { 0 };
	cr_assert(virtio_net_tx_hdr_ok(&h, 60, 0));
	cr_assert_not(virtio_net_tx_hdr_ok(&h, 13, 0), "shorter than an Ethernet header");
	cr_assert_not(virtio_net_tx_hdr_ok(&h, VIRTIO_NET_MAX_FRAME + 1, all_host), "too long");
	h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	cr_assert_not(virtio_net_tx_hdr_ok(&h, 60, all_host), "DATA_VALID is the device's flag");
}

Test(net_hdr, tx_checksum_offload)
{
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
				    .csum_offset = 16 };
	cr_assert_not(virtio_net_tx_hdr_ok(&h, 100, 0), "CSUM not negotiated");
	cr_assert(virtio_net_tx_hdr_ok(&h, 100, F(VIRTIO_NET_F_CSUM)));
	cr_assert(virtio_net_tx_hdr_ok(&h, 52, F(VIRTIO_NET_F_CSUM)), "checksum field ends at the frame end");
	cr_assert_not(virtio_net_tx_hdr_ok(&h, 51, F(VIRTIO_NET_F_CSUM)), "past the frame");
	h.csum_start = 0xffff;
	h.csum_offset = 0xffff;
	cr_assert_not(virtio_net_tx_hdr_ok(&h, 60000, F(VIRTIO_NET_F_CSUM)), "no 16-bit wrap");
}

Test(net_hdr, tx_gso)
{
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				    .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448,
				    .csum_start = 34, .csum_offset = 16, .hdr_len = 66 };
	cr_assert(virtio_net_tx_hdr_ok(&h, 65000, all_host));
	cr_assert_not(virtio_net_tx_hdr_ok(&h, 65000, F(VIRTIO_NET_F_CSUM)), "TSO4 not negotiated");
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	cr_assert(virtio_net_tx_hdr_ok(&h, 65000, all_host));
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	cr_assert_not(virtio_net_tx_hdr_ok(&h, 65000, all_host), "UFO not offered");
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	cr_assert_not(virtio_net_tx_hdr_ok(&h, 65000, all_host), "ECN not offered");
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 0;
	cr_assert_not(virtio_net_tx_hdr_ok(&h, 65000, all_host), "GSO needs a segment size");
	h.gso_size = 1448;
	h.flags = 0;
	cr_assert_not(virtio_net_tx_hdr_ok(&h, 65000, all_host), "GSO needs NEEDS_CSUM");
}

Test(net_hdr, rx_fix)
{
	struct virtio_net_hdr h = { .num_buffers = 0xabcd };
	cr_assert(virtio_net_rx_hdr_fix(&h, 0));
	cr_assert_eq(h.num_buffers, 1, "one buffer per frame without MRG_RXBUF");
	h = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	cr_assert(virtio_net_rx_hdr_fix(&h, 0));
	cr_assert_eq(h.flags, 0, "no flags without GUEST_CSUM");
	h = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	cr_assert(virtio_net_rx_hdr_fix(&h, all_guest));
	cr_assert_eq(h.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	h = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM };
	cr_assert_not(virtio_net_rx_hdr_fix(&h, 0), "a partial checksum for a driver without GUEST_CSUM");
	h = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				     .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448 };
	cr_assert(virtio_net_rx_hdr_fix(&h, all_guest));
	cr_assert_not(virtio_net_rx_hdr_fix(&h, F(VIRTIO_NET_F_GUEST_CSUM)), "GUEST_TSO4 not taken");
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	cr_assert_not(virtio_net_rx_hdr_fix(&h, all_guest));
}

Test(net_hdr, mac_from_name)
{
	uint8_t a[6], b[6], c[6];
	virtio_net_mac_from_name("tap0", a);
	virtio_net_mac_from_name("tap0", b);
	virtio_net_mac_from_name("tap1", c);
	cr_assert_eq(memcmp(a, b, 6), 0, "stable");
	cr_assert_neq(memcmp(a, c, 6), 0, "differs by name");
	cr_assert_eq(a[0], 0x02, "locally administered unicast");
	cr_assert_eq(sizeof(struct virtio_net_hdr), 12);
}

Test(net_device, tap_errors)
{
	struct vdev *d;
	struct cl_error err;
	/* an interface that exists and is not a tap (lo exists in every netns) */
	struct vmm_net n = { .tap = "lo" };
	int r = virtio_net_open(&d, &n, 0, &err);
	if (r == -ENOENT || r == -EPERM || r == -EACCES)
		cr_skip_test("no /dev/net/tun or CAP_NET_ADMIN here: %s", err.msg);
	cr_assert_eq(r, -EINVAL, "%s", err.msg);
	cr_assert(strstr(err.msg, "lo") && strstr(err.msg, "not a tap"), "%s", err.msg);
}
