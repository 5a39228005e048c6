/* The VM's event loop, on the thread that called vmm_run (kvmtool's
 * epoll.c idea): console input to the UART, SIGINT/SIGTERM/SIGHUP through
 * a signalfd, the --timeout timerfd, the stop eventfd that devices and
 * vCPUs write when the guest ends, and the sources devices registered with
 * vm_loop_add (virtio queue notifications, taps). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "console.h"
#include "vm.h"

enum { TOKEN_STOP = 1, TOKEN_SIGNAL, TOKEN_TIMER, TOKEN_CONSOLE, TOKEN_SRC = 16 };

/* While the UART's FIFO is full the console is not read; retry this often. */
#define CONSOLE_RETRY_MS 5

static int ep_add_ev(int ep, int fd, uint32_t events, uint64_t token)
{
	struct epoll_event ev = { .events = events, .data.u64 = token };
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int ep_add(int ep, int fd, uint64_t token)
{
	return ep_add_ev(ep, fd, EPOLLIN, token);
}

int vm_loop_add(struct vm *vm, int fd, uint32_t events, void (*fn)(void *ctx, uint32_t events),
		void *ctx, struct cl_error *err)
{
	if (vm->nsrcs == VM_LOOP_MAX_SRC)
		return cl_err(err, ENOSPC, "event loop: more than %d sources", VM_LOOP_MAX_SRC);
	vm->srcs[vm->nsrcs++] = (struct loop_src){ fd, events, fn, ctx };
	return 0;
}

/* Returns false when the console should no longer be read (EOF or error). */
static bool console_pump(struct vm *vm, struct console_esc *esc, bool is_tty, bool *starved)
{
	uint8_t in[UART_FIFO], out[2 * UART_FIFO];
	size_t space = uart_rx_space(&vm->com1);
	/* leave room for an escape's two bytes */
	*starved = space < 2;
	if (*starved)
		return true;
	ssize_t n = read(vm->cfg->console_in, in, space / 2);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	bool quit = false;
	size_t o = is_tty ? console_filter(esc, in, (size_t)n, out, &quit)
			  : (memcpy(out, in, (size_t)n), (size_t)n);
	uart_rx_push(&vm->com1, out, o);
	if (quit)
		vm_stop(vm, VMM_EXIT_SIGNAL + SIGINT, "stopped from the console (Ctrl-a x)");
	return true;
}

int vm_loop_prepare(struct vm *vm, struct cl_error *err)
{
	int ep, sfd;
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	ep = vm->loop.ep = epoll_create1(EPOLL_CLOEXEC);
	sfd = vm->loop.sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (ep < 0 || sfd < 0)
		return cl_err_sys(err, errno, "event loop setup");
	if (ep_add(ep, vm->stop_fd, TOKEN_STOP) < 0 || ep_add(ep, sfd, TOKEN_SIGNAL) < 0)
		return cl_err_sys(err, errno, "epoll_ctl");
	if (vm->cfg->timeout_ms) {
		struct itimerspec its = {
			.it_value = { (time_t)(vm->cfg->timeout_ms / 1000),
				      (long)(vm->cfg->timeout_ms % 1000) * 1000000L },
		};
		int tfd = vm->loop.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0 || ep_add(ep, tfd, TOKEN_TIMER) < 0)
			return cl_err_sys(err, errno, "timerfd");
	}
	for (unsigned i = 0; i < vm->nsrcs; i++)
		if (ep_add_ev(ep, vm->srcs[i].fd, vm->srcs[i].events, TOKEN_SRC + i) < 0)
			return cl_err_sys(err, errno, "epoll_ctl");
	vm->loop.console_tty = vm->cfg->console_in >= 0 && isatty(vm->cfg->console_in);
	return 0;
}

void vm_loop_close(struct vm *vm)
{
	int *fds[] = { &vm->loop.tfd, &vm->loop.sfd, &vm->loop.ep };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int vm_loop(struct vm *vm, struct cl_error *err)
{
	int ep = vm->loop.ep, sfd = vm->loop.sfd, r = 0;
	bool console = vm->cfg->console_in >= 0, is_tty = vm->loop.console_tty;
	struct console_esc esc = { 0 };

	/* a regular file or /dev/null cannot be polled (EPERM): no console input */
	if (console && ep_add(ep, vm->cfg->console_in, TOKEN_CONSOLE) < 0)
		console = false;

	bool starved = false, registered = console;
	while (!atomic_load(&vm->stopping)) {
		struct epoll_event evs[16];
		int n = epoll_wait(ep, evs, 16, starved ? CONSOLE_RETRY_MS : -1);
		if (n < 0 && errno != EINTR) {
			r = cl_err_sys(err, errno, "epoll_wait");
			break;
		}
		if (starved && console && !console_pump(vm, &esc, is_tty, &starved))
			console = false;
		for (int i = 0; i < n; i++) {
			uint64_t tok = evs[i].data.u64;
			if (tok >= TOKEN_SRC && tok < TOKEN_SRC + vm->nsrcs) {
				const struct loop_src *src = &vm->srcs[tok - TOKEN_SRC];
				src->fn(src->ctx, evs[i].events);
				continue;
			}
			switch (tok) {
			case TOKEN_STOP:
				break;   /* `stopping` is already set */
			case TOKEN_SIGNAL: {
				struct signalfd_siginfo si;
				if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					const char *name = sigabbrev_np((int)si.ssi_signo);
					vm_stop(vm, VMM_EXIT_SIGNAL + (int)si.ssi_signo, "stopped by SIG%s",
						name ? name : "?");
				}
				break;
			}
			case TOKEN_TIMER:
				vm_stop(vm, VMM_EXIT_TIMEOUT, "timeout: the guest ran for %llu ms",
					(unsigned long long)vm->cfg->timeout_ms);
				break;
			case TOKEN_CONSOLE:
				if (console && !console_pump(vm, &esc, is_tty, &starved))
					console = false;
				break;
			}
		}
		/* a console we cannot drain into (FIFO full) or at EOF is not polled */
		bool want = console && !starved;
		if (want != registered) {
			if (want)
				ep_add(ep, vm->cfg->console_in, TOKEN_CONSOLE);
			else
				epoll_ctl(ep, EPOLL_CTL_DEL, vm->cfg->console_in, NULL);
			registered = want;
		}
	}
	return r;
}
