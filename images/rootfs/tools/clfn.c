/* clfn: the in-guest runtime of `cloudlet fn` instances, the same static
 * binary in the container and the microVM flavours (/bin/clfn of the
 * workload image).
 *
 *   clfn serve PORT HANDLER   listen on TCP PORT (every address), print
 *                             "clfn-ready port=PORT" once listening, then
 *                             serve one connection at a time, one
 *                             invocation at a time on it (fn_proto.h):
 *                             each runs `/bin/sh -c HANDLER` with the event
 *                             on stdin and answers its stdout, the tail of
 *                             its stderr and its exit status.
 *
 * Why TCP on the instance's VPC address: it is the one channel a container
 * and a microVM both have without anything kind-specific (no shared
 * filesystem, no vsock device in the VMM), it goes through the same subnet,
 * security groups and bridge as the function's own traffic, and the server
 * reaches it from inside the VPC's network namespace. Exit status 1 on a
 * setup failure (one line on stderr), 2 on usage errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cloudlet/fn_proto.h"

static int io_full(int fd, void *buf, size_t n, int wr)
{
	char *p = buf;
	while (n) {
		ssize_t k = wr ? write(fd, p, n) : read(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

struct out {
	char *buf;
	size_t len, max;
	int tail;           /* keep the last max bytes instead of the first */
};

static void out_add(struct out *o, const char *p, size_t n)
{
	if (!o->tail) {
		size_t k = n < o->max - o->len ? n : o->max - o->len;
		memcpy(o->buf + o->len, p, k);
		o->len += k;
		return;
	}
	if (n >= o->max) {
		memcpy(o->buf, p + n - o->max, o->max);
		o->len = o->max;
		return;
	}
	size_t keep = o->len + n > o->max ? o->max - n : o->len;
	memmove(o->buf, o->buf + o->len - keep, keep);
	memcpy(o->buf + keep, p, n);
	o->len = keep + n;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* run the handler over body; fill r, out and err */
static void invoke(const char *handler, const char *body, size_t len, struct fn_proto_resp *r,
		   struct out *out, struct out *err)
{
	int in[2], po[2], pe[2], st;
	uint64_t t0 = now_us();
	out->len = err->len = 0;
	r->status = 127;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		out_add(err, "clfn: pipe failed\n", 18);
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", handler, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(po[1]);
	close(pe[1]);
	if (pid < 0) {
		close(in[1]);
		close(po[0]);
		close(pe[0]);
		out_add(err, "clfn: fork failed\n", 18);
		return;
	}
	/* feed stdin while draining both outputs: no deadlock on big events */
	size_t off = 0;
	int fin = in[1];
	if (len == 0) {
		close(fin);
		fin = -1;
	}
	fcntl(po[0], F_SETFL, O_NONBLOCK);
	fcntl(pe[0], F_SETFL, O_NONBLOCK);
	if (fin >= 0)
		fcntl(fin, F_SETFL, O_NONBLOCK);
	int open_o = 1, open_e = 1;
	char chunk[65536];
	while (open_o || open_e) {
		struct pollfd p[3] = { { po[0], open_o ? POLLIN : 0, 0 }, { pe[0], open_e ? POLLIN : 0, 0 },
				       { fin, POLLOUT, 0 } };
		if (poll(p, fin >= 0 ? 3 : 2, -1) < 0 && errno != EINTR)
			break;
		if (fin >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t k = write(fin, body + off, len - off);
			if (k > 0)
				off += (size_t)k;
			if ((k < 0 && errno != EAGAIN) || off == len) {
				close(fin);
				fin = -1;
			}
		}
		for (int i = 0; i < 2; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t k = read(p[i].fd, chunk, sizeof(chunk));
			if (k > 0)
				out_add(i ? err : out, chunk, (size_t)k);
			else if (k == 0 || errno != EAGAIN)
				*(i ? &open_e : &open_o) = 0;
		}
	}
	if (fin >= 0)
		close(fin);
	close(po[0]);
	close(pe[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? (uint32_t)WEXITSTATUS(st) : 128u + (uint32_t)WTERMSIG(st);
	r->handler_us = (uint32_t)(now_us() - t0);
}

static void serve_conn(int c, const char *handler, struct out *out, struct out *err, char *body)
{
	uint32_t w[FN_RESP_WORDS], len;
	struct fn_proto_resp r;
	w[0] = htonl(FN_PROTO_MAGIC);
	if (io_full(c, w, 4, 1) < 0)
		return;
	while (io_full(c, w, FN_REQ_WORDS * 4, 0) == 0) {
		if (fn_proto_req_decode(w, &len) < 0 || io_full(c, body, len, 0) < 0)
			return;
		invoke(handler, body, len, &r, out, err);
		r.out_len = (uint32_t)out->len;
		r.err_len = (uint32_t)err->len;
		fn_proto_resp_encode(w, &r);
		if (io_full(c, w, FN_RESP_WORDS * 4, 1) < 0 || io_full(c, out->buf, out->len, 1) < 0 ||
		    io_full(c, err->buf, err->len, 1) < 0)
			return;
	}
}

int main(int argc, char **argv)
{
	if (argc != 4 || strcmp(argv[1], "serve")) {
		fprintf(stderr, "usage: clfn serve PORT HANDLER\n");
		return 2;
	}
	int port = atoi(argv[2]), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	static struct out out = { .max = FN_PROTO_BODY_MAX }, err = { .max = FN_PROTO_ERR_MAX, .tail = 1 };
	char *body = malloc(FN_PROTO_BODY_MAX);
	out.buf = malloc(out.max);
	err.buf = malloc(err.max);
	if (!body || !out.buf || !err.buf) {
		fprintf(stderr, "clfn: out of memory\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 4) < 0) {
		fprintf(stderr, "clfn: port %d: %s\n", port, strerror(errno));
		return 1;
	}
	printf("clfn-ready port=%d\n", port);
	fflush(stdout);
	for (;;) {
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "clfn: accept: %s\n", strerror(errno));
			return 1;
		}
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		serve_conn(c, argv[3], &out, &err, body);
		close(c);
	}
}
