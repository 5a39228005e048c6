/* One running VM: what vm.c (orchestration), vcpu.c (vCPU threads) and
 * loop.c (the event loop) share. Internal to vmm/. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "bus.h"
#include "cloudlet/net.h"
#include "cloudlet/vmm.h"
#include "devices/devices.h"
#include "kvm.h"
#include "mem.h"
#include "virtio/devices.h"

/* An event loop source (vm_loop_add): fn(ctx, epoll events) on the loop thread. */
struct loop_src {
	int fd;
	uint32_t events;
	void (*fn)(void *ctx, uint32_t events);
	void *ctx;
};
#define VM_LOOP_MAX_SRC 64

struct vcpu {
	unsigned index;
	struct kvm_vcpu_fd k;
	pthread_t thread;
	bool started;
	struct vm *vm;
	uint64_t exits_io, exits_mmio, exits_other;
};

struct vm {
	const struct vmm_config *cfg;
	struct kvm kvm;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct uart com1;
	struct i8042 kbd;
	struct cmos cmos;
	struct pvpanic pvpanic;
	struct vm_hooks hooks;
	struct vdev *vdevs[VDEV_MAX];   /* virtio devices, in MMIO-window order */
	unsigned nvdevs;
	struct loop_src srcs[VM_LOOP_MAX_SRC];
	unsigned nsrcs;
	struct vcpu *vcpus;
	unsigned ncpus;
	int stop_fd;                 /* eventfd: a device or vCPU asked the VM to end */
	atomic_bool stopping;
	pthread_mutex_t stop_lock;
	int status;                  /* enum vmm_exit, first request wins */
	char reason[256];
	uint64_t t_start_ns;
	atomic_uint_fast64_t t_first_run_ns;
	struct vmm_net nets[VMM_MAX_NETS];           /* cfg->nets, VPC ones attached */
	struct net_attachment atts[VMM_MAX_NETS];    /* those attachments */
	char *cmdline;                               /* cfg's, plus ip= for a VPC NIC */
};

/* netattach.c: attach cfg's `--net VPC/SUBNET` NICs (vm->nets, vm->cmdline
 * are then what to boot with); detach undoes it on every path. */
int vm_nets_attach(struct vm *vm, struct cl_error *err);
void vm_nets_detach(struct vm *vm);

/* Ask the VM to end (thread-safe, first caller's status wins). */
void vm_stop(struct vm *vm, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int vcpus_start(struct vm *vm, struct cl_error *err);
void vcpus_stop(struct vm *vm);
/* Add a source to the event loop (before vm_loop runs): fn is called on
 * the loop thread when fd has any of `events` (EPOLLIN, EPOLLET...). */
int vm_loop_add(struct vm *vm, int fd, uint32_t events, void (*fn)(void *ctx, uint32_t events),
		void *ctx, struct cl_error *err);
/* The device event loop on the calling thread, until vm_stop. */
int vm_loop(struct vm *vm, struct cl_error *err);

#endif
