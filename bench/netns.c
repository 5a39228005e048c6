/* The host side of the I/O benchmark's network: a network namespace that
 * only the bench and its children use, so no packet of the benchmark can
 * reach a real interface, and nothing is left behind: the namespace has no
 * name (no bind mount in /run/netns), its last user's exit frees it, and
 * the kernel deletes its tap with it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

static int if_up(int sock, const char *name, struct cl_error *err)
{
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return cl_err_sys(err, errno, "%s: SIOCGIFFLAGS", name);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return cl_err_sys(err, errno, "%s: SIOCSIFFLAGS", name);
	return 0;
}

static int set_addr(int sock, const char *name, unsigned long req, in_addr_t a, struct cl_error *err)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = a };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	memcpy(&ifr.ifr_addr, &sa, sizeof(sa));
	if (ioctl(sock, req, &ifr) < 0)
		return cl_err_sys(err, errno, "%s: %s", name, req == SIOCSIFADDR ? "SIOCSIFADDR" : "SIOCSIFNETMASK");
	return 0;
}

/* In the current namespace: lo up; a persistent tap (it outlives this
 * fd: the VMMs attach to it one after the other) with addr/prefix, up. */
static int configure(const char *tap, in_addr_t addr, unsigned prefix, struct cl_error *err)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap);
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return cl_err_sys(err, errno, "/dev/net/tun");
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0) {
		int e = errno;
		close(fd);
		return cl_err_sys(err, e, "tap %s", tap);
	}
	close(fd);
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return cl_err_sys(err, errno, "socket");
	in_addr_t mask = htonl(prefix ? ~0u << (32 - prefix) : 0);
	int r = if_up(sock, "lo", err);
	if (r == 0)
		r = set_addr(sock, tap, SIOCSIFADDR, addr, err);
	if (r == 0)
		r = set_addr(sock, tap, SIOCSIFNETMASK, mask, err);
	if (r == 0)
		r = if_up(sock, tap, err);
	close(sock);
	return r;
}

int netns_new(int *netns, struct cl_error *err)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return cl_err_sys(err, errno, "/proc/self/ns/net");
	if (unshare(CLONE_NEWNET) < 0) {
		int e = errno;
		close(self);
		return cl_err_sys(err, e, "unshare(CLONE_NEWNET) (the network benches need root)");
	}
	int r = 0;
	*netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*netns < 0)
		r = cl_err_sys(err, errno, "/proc/self/ns/net");
	/* back where we came from, in every case */
	if (setns(self, CLONE_NEWNET) < 0 && r == 0)
		r = cl_err_sys(err, errno, "setns back to the bench's own network namespace");
	close(self);
	if (r < 0 && *netns >= 0) {
		close(*netns);
		*netns = -1;
	}
	return r;
}

int netns_with_tap(const char *tap, const char *host_cidr, int *netns, struct cl_error *err)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(host_cidr, '/');
	struct in_addr addr;
	int prefix = slash ? atoi(slash + 1) : -1;
	if (!slash || (size_t)(slash - host_cidr) >= sizeof(ip) || prefix < 1 || prefix > 30)
		return cl_err(err, EINVAL, "%s: not ADDRESS/PREFIX", host_cidr);
	snprintf(ip, sizeof(ip), "%.*s", (int)(slash - host_cidr), host_cidr);
	if (inet_pton(AF_INET, ip, &addr) != 1)
		return cl_err(err, EINVAL, "%s: not an IPv4 address", ip);

	int r = netns_new(netns, err);
	if (r < 0)
		return r;
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		r = cl_err_sys(err, errno, "/proc/self/ns/net");
	else if (setns(*netns, CLONE_NEWNET) < 0)
		r = cl_err_sys(err, errno, "setns into the bench's namespace");
	else {
		r = configure(tap, addr.s_addr, (unsigned)prefix, err);
		if (setns(self, CLONE_NEWNET) < 0 && r == 0)
			r = cl_err_sys(err, errno, "setns back to the bench's own network namespace");
	}
	if (self >= 0)
		close(self);
	if (r < 0) {
		close(*netns);
		*netns = -1;
	}
	return r;
}
