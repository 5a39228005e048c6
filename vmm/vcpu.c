/* vCPU threads: KVM_RUN in a loop, each exit decoded (cpu/exit.c) and
 * handed to the bus by address or turned into the VM's end. A thread is
 * stopped by setting kvm_run.immediate_exit and a signal (api.rst §5,
 * KVM_CAP_IMMEDIATE_EXIT): KVM_RUN then returns EINTR without a race.
 * Before its first KVM_RUN each thread installs its own seccomp filter
 * (the vcpu table) and waits at a gate until the main thread has installed
 * the vmm one (Firecracker's vCPU threads do the same). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include "cloudlet/clock.h"
#include "cpu/exit.h"
#include "jail/filter.h"
#include "vm.h"

#define VCPU_KICK_SIGNAL (SIGRTMIN)

static void kick_handler(int sig)
{
	(void)sig;   /* only interrupts KVM_RUN */
}

static void vcpu_handle(struct vcpu *v, const struct vcpu_exit *x)
{
	struct vm *vm = v->vm;
	switch (x->kind) {
	case VEXIT_IO:
		v->exits_io++;
		for (uint32_t i = 0; i < x->count; i++)
			bus_access(&vm->pio, x->addr, x->data + (size_t)i * x->size, x->size, x->write);
		return;
	case VEXIT_MMIO:
		v->exits_mmio++;
		bus_access(&vm->mmio, x->addr, x->data, x->size, x->write);
		return;
	default:
		break;
	}
	v->exits_other++;
	switch (x->kind) {
	case VEXIT_HLT:
		vm_stop(vm, VMM_EXIT_OK, "guest halted");
		return;
	case VEXIT_SYS_RESET:
		vm_stop(vm, VMM_EXIT_OK, "guest reset");
		return;
	case VEXIT_SYS_SHUTDOWN:
		vm_stop(vm, VMM_EXIT_OK, "guest powered off");
		return;
	case VEXIT_SYS_CRASH:
		vm_stop(vm, VMM_EXIT_PANIC, "guest crashed (KVM_SYSTEM_EVENT_CRASH)");
		return;
	case VEXIT_SHUTDOWN:
		vm_stop(vm, VMM_EXIT_TRIPLE_FAULT, "vCPU %u: triple fault (KVM_EXIT_SHUTDOWN)", v->index);
		return;
	default: {
		struct kvm_regs regs;
		unsigned long long rip = ioctl(v->k.fd, KVM_GET_REGS, &regs) == 0 ? regs.rip : 0;
		vm_stop(vm, VMM_EXIT_KVM_ERROR, "vCPU %u: %s (code %llu%s) at rip %#llx", v->index,
			vcpu_exit_name(x->kind), (unsigned long long)x->code,
			x->kind == VEXIT_INTERNAL_ERROR && x->code == KVM_INTERNAL_ERROR_EMULATION
				? ": emulation failure" : "",
			rip);
		return;
	}
	}
}

/* Name the thread (the kernel's audit record of a seccomp kill names it:
 * cl-vcpuN), install the filter, report at the gate and wait for go.
 * false: the VM ends before running. */
static bool vcpu_gate(struct vcpu *v)
{
	struct vm *vm = v->vm;
	char name[16];
	snprintf(name, sizeof(name), "cl-vcpu%u", v->index);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	int r = vm->sc[VMM_THREAD_VCPU].filter ? vmm_sc_install(&vm->sc[VMM_THREAD_VCPU]) : 0;
	pthread_mutex_lock(&vm->gate.lock);
	vm->gate.ready++;
	if (r < 0 && !vm->gate.error)
		vm->gate.error = r;
	pthread_cond_broadcast(&vm->gate.cond);
	while (!vm->gate.go)
		pthread_cond_wait(&vm->gate.cond, &vm->gate.lock);
	pthread_mutex_unlock(&vm->gate.lock);
	return r == 0 && !atomic_load(&vm->stopping);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	sigset_t kick;
	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	if (!vcpu_gate(v))
		return NULL;

	while (!atomic_load(&vm->stopping)) {
		/* the first entry into the guest is the boot time's end */
		if (v->index == 0 && !atomic_load(&vm->t_first_run_ns)) {
			uint_fast64_t zero = 0;
			atomic_compare_exchange_strong(&vm->t_first_run_ns, &zero, cl_now_ns());
		}
		if (ioctl(v->k.fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->k.run->immediate_exit = 0;
				continue;
			}
			vm_stop(vm, VMM_EXIT_KVM_ERROR, "vCPU %u: KVM_RUN: %s", v->index, strerror(errno));
			break;
		}
		struct vcpu_exit x;
		vcpu_exit_decode(v->k.run, (size_t)v->k.run_size, &x);
		vcpu_handle(v, &x);
	}
	return NULL;
}

int vcpus_start(struct vm *vm, struct cl_error *err)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;   /* no SA_RESTART: KVM_RUN must return EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return cl_err_sys(err, errno, "sigaction");
	unsigned started = 0;
	int r = 0;
	for (unsigned i = 0; i < vm->ncpus && !r; i++) {
		r = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (r) {
			r = cl_err_sys(err, r, "vCPU %u: pthread_create", i);
		} else {
			vm->vcpus[i].started = true;
			started++;
		}
	}
	/* every thread that started is filtered and waiting before any runs */
	pthread_mutex_lock(&vm->gate.lock);
	while (vm->gate.ready < started)
		pthread_cond_wait(&vm->gate.cond, &vm->gate.lock);
	if (!r && vm->gate.error)
		r = cl_err_sys(err, -vm->gate.error, "seccomp: install the vcpu threads' filter");
	pthread_mutex_unlock(&vm->gate.lock);
	return r;
}

void vcpus_release(struct vm *vm)
{
	pthread_mutex_lock(&vm->gate.lock);
	vm->gate.go = true;
	pthread_cond_broadcast(&vm->gate.cond);
	pthread_mutex_unlock(&vm->gate.lock);
}

void vcpus_stop(struct vm *vm)
{
	atomic_store(&vm->stopping, true);
	if (!vm->vcpus)   /* setup failed before any vCPU existed */
		return;
	vcpus_release(vm);   /* threads still at the gate see `stopping` and end */
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (!v->started)
			continue;
		v->k.run->immediate_exit = 1;
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
	}
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].started) {
			pthread_join(vm->vcpus[i].thread, NULL);
			vm->vcpus[i].started = false;
		}
}
