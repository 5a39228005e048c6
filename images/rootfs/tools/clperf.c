/* clperf: the one measuring tool of `cloudlet bench vm-io`, the same static
 * binary in the guest (/bin/clperf of the workload image) and on the host.
 * The guest is busybox-only, so this brings the TCP and disk load itself.
 *
 *   clperf tcp-server PORT             serves the three TCP tests below, a
 *                                      process per connection, until killed;
 *                                      prints "clperf tcp-server port=PORT"
 *                                      once it listens
 *   clperf tcp-send HOST PORT SECONDS  client -> server bulk data
 *   clperf tcp-recv HOST PORT SECONDS  server -> client bulk data
 *   clperf tcp-rr HOST PORT COUNT      1-byte request/response ping-pong on
 *                                      one connection (netperf's TCP_RR)
 *   clperf randread DEVICE SECONDS     4 KiB O_DIRECT reads at random
 *                                      aligned offsets, one at a time (QD 1)
 *
 * Every client mode prints ONE result line on stdout, key=value after the
 * mode, the first value being the figure (bench/vm_io.c parses it):
 *   clperf tcp-send mbit_s=941.20 bytes=588251136 secs=5.000
 *   clperf tcp-rr rtt_us=48.1 min_us=39.0 max_us=912.4 n=1000 p99_us=96.3
 *   clperf randread iops=23150 n=115750 secs=5.000
 * Exit status 0, 1 on failure (one line on stderr), 2 on usage errors.
 *
 * Wire protocol: the client sends one request line, "send", "recv SECONDS"
 * or "rr". send: bytes until the client's EOF, then the server answers the
 * count it received ("%llu\n"), so the sender's time covers delivery, not
 * just its socket buffer. recv: the server sends for SECONDS and closes.
 * rr: the server echoes every byte. Clients are timed by the client's
 * CLOCK_MONOTONIC. Built static (gcc -static) so no library is needed in the
 * guest; only inet_pton, no resolver (NSS does not work statically). */
#define _GNU_SOURCE   /* O_DIRECT, accept4 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BULK (128 * 1024)       /* bytes per write/read in the bulk tests */
#define BLOCK 4096              /* the random-read size, and O_DIRECT's alignment */
#define CONNECT_WAIT_S 30       /* the server may come up after the guest */
#define SYN_WAIT_S 5            /* one connect attempt (the kernel's own is ~2 min) */
#define STALL_S 30              /* a connection with no progress this long is broken */
#define STR_(x) #x
#define STR(x) STR_(x)
#define RR_WARMUP 10            /* round trips not counted (ARP, slow start) */

static const char *phase = "";   /* "tcp-send to HOST:PORT: ", for die's line */

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;
	fputs("clperf: ", stderr);
	fputs(phase, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long num(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > 1000000000ul) {
		fprintf(stderr, "clperf: %s: '%s' is not a positive number\n", what, s);
		exit(2);
	}
	return v;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write: %s", errno == EAGAIN ? "no progress for " STR(STALL_S) " s" : strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

/* One byte at a time, so nothing after the line is consumed. */
static void read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	while (n + 1 < size) {
		ssize_t k = read(fd, buf + n, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die("read: %s", !k ? "connection closed" : errno == EAGAIN ? "no answer for " STR(STALL_S) " s"
									  : strerror(errno));
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
}

static void nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void __attribute__((noreturn)) serve_one(int fd)
{
	static char buf[BULK];
	char req[32];
	read_line(fd, req, sizeof(req));
	if (!strcmp(req, "send")) {
		unsigned long long total = 0;
		ssize_t n;
		while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
			total += n > 0 ? (unsigned long long)n : 0;
		int len = snprintf(req, sizeof(req), "%llu\n", total);
		write_all(fd, req, (size_t)len);
	} else if (!strncmp(req, "recv ", 5)) {
		double end = now_s() + (double)num(req + 5, "recv seconds");
		while (now_s() < end)
			write_all(fd, buf, sizeof(buf));
	} else if (!strcmp(req, "rr")) {
		char c;
		nodelay(fd);
		while (read(fd, &c, 1) == 1)
			write_all(fd, &c, 1);
	} else {
		die("unknown request '%s'", req);
	}
	close(fd);
	exit(0);
}

static int __attribute__((noreturn)) tcp_server(const char *port_s)
{
	unsigned long port = num(port_s, "port");
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
		die("listen on port %lu: %s", port, strerror(errno));
	signal(SIGCHLD, SIG_IGN);   /* connection processes reap themselves */
	printf("clperf tcp-server port=%lu\n", port);
	fflush(stdout);
	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept: %s", strerror(errno));
		}
		pid_t pid = fork();
		if (pid == 0) {
			/* a connection does not outlive its server */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(fd);
			serve_one(c);
		}
		close(c);
	}
}

/* Connect, retrying while the other side is not there yet. */
static int tcp_connect(const char *host, const char *port_s, const char *request)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)num(port_s, "port")) };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "clperf: '%s' is not an IPv4 address\n", host);
		exit(2);
	}
	static char ph[80];
	snprintf(ph, sizeof(ph), "%.*s to %s:%s: ", (int)strcspn(request, " \n"), request, host, port_s);
	phase = ph;
	double give_up = now_s() + CONNECT_WAIT_S;
	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket: %s", strerror(errno));
		/* socket(7): SO_SNDTIMEO bounds connect too (EINPROGRESS when it
		 * expires), SO_RCVTIMEO/SO_SNDTIMEO then every read and write, so
		 * a stalled path ends in a line naming the test, not the guest's
		 * timeout */
		struct timeval syn = { .tv_sec = SYN_WAIT_S }, stall = { .tv_sec = STALL_S };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &syn, sizeof(syn));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &stall, sizeof(stall));
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &stall, sizeof(stall));
			write_all(fd, request, strlen(request));
			return fd;
		}
		int e = errno;
		close(fd);
		if (now_s() > give_up || (e != ECONNREFUSED && e != ENETUNREACH && e != EHOSTUNREACH &&
					  e != ETIMEDOUT && e != EINPROGRESS && e != EINTR))
			die("connect: %s", e == EINPROGRESS ? "no answer" : strerror(e));
		usleep(200000);
	}
}

static int tcp_send(const char *host, const char *port, const char *secs_s)
{
	static char buf[BULK];
	double secs = (double)num(secs_s, "seconds");
	int fd = tcp_connect(host, port, "send\n");
	unsigned long long sent = 0, got = 0;
	double t0 = now_s();
	while (now_s() - t0 < secs) {
		write_all(fd, buf, sizeof(buf));
		sent += sizeof(buf);
	}
	shutdown(fd, SHUT_WR);
	char line[32];
	read_line(fd, line, sizeof(line));
	double dt = now_s() - t0;
	if (sscanf(line, "%llu", &got) != 1 || got != sent)
		die("the server counted '%s' bytes, %llu were sent", line, sent);
	printf("clperf tcp-send mbit_s=%.2f bytes=%llu secs=%.3f\n", (double)sent * 8 / dt / 1e6, sent, dt);
	return 0;
}

static int tcp_recv(const char *host, const char *port, const char *secs_s)
{
	static char buf[BULK];
	char req[32];
	snprintf(req, sizeof(req), "recv %lu\n", num(secs_s, "seconds"));
	int fd = tcp_connect(host, port, req);
	unsigned long long got = 0;
	double t0 = now_s();
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		got += n > 0 ? (unsigned long long)n : 0;
	if (n < 0)
		die("read: %s", errno == EAGAIN ? "no data for " STR(STALL_S) " s" : strerror(errno));
	double dt = now_s() - t0;
	if (!got)
		die("the server sent nothing");
	printf("clperf tcp-recv mbit_s=%.2f bytes=%llu secs=%.3f\n", (double)got * 8 / dt / 1e6, got, dt);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int tcp_rr(const char *host, const char *port, const char *count_s)
{
	unsigned long count = num(count_s, "count");
	double *us = malloc(count * sizeof(*us));
	if (!us)
		die("out of memory");
	int fd = tcp_connect(host, port, "rr\n");
	nodelay(fd);
	for (unsigned long i = 0; i < RR_WARMUP + count; i++) {
		char c = 'x';
		double t = now_s();
		write_all(fd, &c, 1);
		ssize_t n;
		while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
			;
		if (n != 1)
			die("no answer to request %lu (%s)", i, n ? strerror(errno) : "connection closed");
		if (i >= RR_WARMUP)
			us[i - RR_WARMUP] = (now_s() - t) * 1e6;
	}
	qsort(us, count, sizeof(*us), cmp_double);
	double median = count % 2 ? us[count / 2] : (us[count / 2 - 1] + us[count / 2]) / 2;
	/* nearest rank: the ceil(0.99 count)-th smallest */
	double p99 = us[(99 * count + 99) / 100 - 1];
	printf("clperf tcp-rr rtt_us=%.1f min_us=%.1f max_us=%.1f n=%lu p99_us=%.1f\n", median, us[0], us[count - 1],
	       count, p99);
	free(us);
	return 0;
}

static int randread(const char *dev, const char *secs_s)
{
	double secs = (double)num(secs_s, "seconds");
	int fd = open(dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		die("%s: %s", dev, strerror(errno));
	uint64_t size = 0;
	struct stat st;
	if (ioctl(fd, BLKGETSIZE64, &size) < 0)   /* not a block device: a file */
		size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	uint64_t blocks = size / BLOCK;
	if (!blocks)
		die("%s: smaller than one %d-byte block", dev, BLOCK);
	void *buf;
	if (posix_memalign(&buf, BLOCK, BLOCK))
		die("out of memory");
	/* xorshift64 (Marsaglia 2003), fixed seed: the same offsets every run */
	uint64_t x = 0x9e3779b97f4a7c15ull, n = 0;
	double t0 = now_s(), dt;
	while ((dt = now_s() - t0) < secs) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		off_t off = (off_t)((x % blocks) * BLOCK);
		if (pread(fd, buf, BLOCK, off) != BLOCK)
			die("%s: read at %lld: %s", dev, (long long)off, strerror(errno));
		n++;
	}
	printf("clperf randread iops=%.0f n=%llu secs=%.3f\n", (double)n / dt, (unsigned long long)n, dt);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "tcp-server") && argc == 3)
		return tcp_server(argv[2]);
	if (!strcmp(mode, "tcp-send") && argc == 5)
		return tcp_send(argv[2], argv[3], argv[4]);
	if (!strcmp(mode, "tcp-recv") && argc == 5)
		return tcp_recv(argv[2], argv[3], argv[4]);
	if (!strcmp(mode, "tcp-rr") && argc == 5)
		return tcp_rr(argv[2], argv[3], argv[4]);
	if (!strcmp(mode, "randread") && argc == 4)
		return randread(argv[2], argv[3]);
	fprintf(stderr, "usage: clperf tcp-server PORT | tcp-send HOST PORT SECONDS | tcp-recv HOST PORT SECONDS |\n"
			"       tcp-rr HOST PORT COUNT | randread DEVICE SECONDS\n");
	return 2;
}
