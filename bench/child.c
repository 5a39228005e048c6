/* Timed child processes: the benchmark measures from fork to lines on the
 * child's stdout and to its exit. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cloudlet/clock.h"

double bench_now_ms(void)
{
	return (double)cl_now_ns() / 1e6;
}

int child_start(struct child *c, char *const argv[], int netns, struct cl_error *err)
{
	pid_t parent = getpid();
	int out[2], er[2];
	memset(c, 0, sizeof(*c));
	c->out = c->err = -1;
	if (pipe2(out, O_CLOEXEC) < 0)
		return cl_err_sys(err, errno, "pipe");
	if (pipe2(er, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		return cl_err_sys(err, errno, "pipe");
	}
	c->pid = fork();
	if (c->pid < 0) {
		int e = errno;
		close(out[0]); close(out[1]); close(er[0]); close(er[1]);
		return cl_err_sys(err, e, "fork");
	}
	if (c->pid == 0) {
		/* no child outlives the bench (a VMM, a server in the bench's
		 * network namespace): checked after, in case it is already gone */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(126);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out[1], 1) < 0 || dup2(er[1], 2) < 0)
			_exit(126);
		if (netns >= 0 && setns(netns, CLONE_NEWNET) < 0)
			_exit(126);
		/* a fresh process group: a stop signal reaches all of it */
		setpgid(0, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	close(er[1]);
	c->out = out[0];
	c->err = er[0];
	return 0;
}

static void drain_out(struct child *c, void (*on_line)(void *, const char *), void *ctx)
{
	char buf[4096];
	ssize_t n = read(c->out, buf, sizeof(buf));
	if (n <= 0) {
		if (n == 0 || errno != EINTR) {
			close(c->out);
			c->out = -1;
		}
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		char ch = buf[i];
		if (ch == '\n' || c->outlen == sizeof(c->outline) - 1) {
			c->outline[c->outlen] = '\0';
			/* the guest's tty ends lines with \r\n */
			if (c->outlen && c->outline[c->outlen - 1] == '\r')
				c->outline[c->outlen - 1] = '\0';
			if (on_line)
				on_line(ctx, c->outline);
			c->outlen = 0;
		} else {
			c->outline[c->outlen++] = ch;
		}
	}
}

static void drain_err(struct child *c)
{
	char buf[1024];
	ssize_t n = read(c->err, buf, sizeof(buf));
	if (n <= 0) {
		if (n == 0 || errno != EINTR) {
			close(c->err);
			c->err = -1;
		}
		return;
	}
	size_t room = sizeof(c->errbuf) - 1 - c->errlen;
	size_t k = (size_t)n < room ? (size_t)n : room;
	memcpy(c->errbuf + c->errlen, buf, k);
	c->errlen += k;
	c->errbuf[c->errlen] = '\0';
}

int child_poll(struct child *c, int extra_fd, int timeout_ms,
	       void (*on_line)(void *ctx, const char *line), void *ctx, bool *extra_ready)
{
	struct pollfd p[3] = {
		{ .fd = c->out, .events = POLLIN },
		{ .fd = c->err, .events = POLLIN },
		{ .fd = extra_fd, .events = POLLIN },
	};
	if (extra_ready)
		*extra_ready = false;
	int n = poll(p, 3, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ETIMEDOUT;
	if (c->out >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
		drain_out(c, on_line, ctx);
	if (c->err >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
		drain_err(c);
	if (extra_fd >= 0 && extra_ready && (p[2].revents & (POLLIN | POLLHUP | POLLERR)))
		*extra_ready = true;
	return 0;
}

bool child_wait(struct child *c, double deadline_ms, void (*on_line)(void *ctx, const char *line),
		void *ctx, const bool *stop)
{
	while ((c->out >= 0 || c->err >= 0 || !child_reap(c)) && bench_now_ms() < deadline_ms &&
	       !(stop && *stop))
		if (child_poll(c, -1, 20, on_line, ctx, NULL) == -ETIMEDOUT || (c->out < 0 && c->err < 0))
			child_reap(c);
	return c->reaped;
}

bool child_reap(struct child *c)
{
	if (!c->reaped && c->pid > 0 && waitpid(c->pid, &c->status, WNOHANG) == c->pid)
		c->reaped = true;
	return c->reaped;
}

void child_kill(struct child *c)
{
	if (c->pid > 0 && !c->reaped) {
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &c->status, 0);
		c->reaped = true;
	}
	if (c->out >= 0)
		close(c->out);
	if (c->err >= 0)
		close(c->err);
	c->out = c->err = -1;
}

bool child_stop(struct child *c, int grace_ms)
{
	if (c->pid > 0 && !c->reaped) {
		kill(c->pid, SIGTERM);
		child_wait(c, bench_now_ms() + grace_ms, NULL, NULL, NULL);
	}
	bool ended = c->reaped;
	child_kill(c);
	return ended;
}
