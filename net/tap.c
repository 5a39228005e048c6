/* Taps for microVMs: Documentation/networking/tuntap.rst. IFF_VNET_HDR
 * because virtio-net frames carry a virtio_net_hdr (virtio 1.2 §5.1.6),
 * which the tap then understands for checksum and segmentation offload. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cloudlet/net.h"

int net_tap_open(const char *name, int *out, bool *existed, struct cl_error *err)
{
	if (!name || !*name || strlen(name) >= IFNAMSIZ)
		return cl_err(err, EINVAL, "bad tap name '%s'", name ? name : "");
	bool was = if_nametoindex(name) != 0;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return cl_err_sys(err, errno, "tap %s: /dev/net/tun", name);
	struct ifreq ifr = { 0 };
	memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno, r;
		if (e == EPERM)
			r = cl_err_sys(err, e, "tap %s: cannot %s it (needs CAP_NET_ADMIN)", name,
				       was ? "attach" : "create");
		else if (e == EINVAL && was)
			r = cl_err(err, e, "tap %s: the interface exists and is not a tap", name);
		else if (e == EBUSY)
			r = cl_err(err, e, "tap %s: in use by another process", name);
		else
			r = cl_err_sys(err, e, "tap %s: TUNSETIFF", name);
		close(fd);
		return r;
	}
	*out = fd;
	if (existed)
		*existed = was;
	return 0;
}
