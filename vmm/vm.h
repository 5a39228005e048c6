/* One running VM: what vm.c (orchestration), vcpu.c (vCPU threads) and
 * loop.c (the event loop) share. Internal to vmm/. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <linux/filter.h>

#include "boot/kernel.h"
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

/* What the VM takes from the host, acquired before anything else (and,
 * in a jailed launch, before the VMM gives up its privileges). */
struct vm_files {
	const struct vmm_config *cfg;
	uint8_t *img;                /* the kernel image, read whole */
	size_t len;
	struct kernel_info ki;
	int initrd_fd;               /* -1: none */
	int kvm_fd;                  /* /dev/kvm */
	struct vdev *vdevs[VDEV_MAX];   /* virtio devices with their host side open */
	unsigned nvdevs;
	struct vmm_net nets[VMM_MAX_NETS];           /* cfg->nets, VPC ones attached */
	struct net_attachment atts[VMM_MAX_NETS];    /* those attachments */
	char *cmdline;                               /* cfg's, plus ip= for a VPC NIC */
};
/* Check the config and open everything (attaching VPC NICs); on failure
 * nothing is left. */
int vm_files_open(const struct vmm_config *cfg, struct vm_files *f, struct cl_error *err);
/* Close this process's fds of them (the VPC attachments stay). */
void vm_files_close(struct vm_files *f);
/* netattach.c: attach cfg's `--net VPC/SUBNET` NICs (f->nets, f->cmdline
 * are then what to boot with); detach undoes it, once the VM has ended. */
int vm_nets_attach(struct vm_files *f, struct cl_error *err);
void vm_nets_detach(struct vm_files *f);
/* vmm_run on files already open (they are the VM's from now on, closed
 * whatever happens). */
int vm_run_files(struct vm_files *f, struct vmm_result *res, struct cl_error *err);

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
	struct {
		int ep, sfd, tfd;    /* epoll, signalfd, --timeout timerfd (vm_loop_prepare) */
		bool console_tty;
	} loop;
	int initrd_fd;
	struct sock_fprog sc[VMM_THREAD_NKINDS];   /* compiled filters; none with --seccomp=off */
	struct {                     /* the vCPUs' start: filter installed, then wait for go */
		pthread_mutex_t lock;
		pthread_cond_t cond;
		unsigned ready;
		int error;           /* a vCPU's seccomp(2) failure, -errno */
		bool go;
	} gate;
	struct vcpu *vcpus;
	unsigned ncpus;
	int stop_fd;                 /* eventfd: a device or vCPU asked the VM to end */
	atomic_bool stopping;
	pthread_mutex_t stop_lock;
	int status;                  /* enum vmm_exit, first request wins */
	char reason[256];
	uint64_t t_start_ns;
	atomic_uint_fast64_t t_first_run_ns;
	const char *cmdline;         /* the files' (cfg's, plus ip= for a VPC NIC) */
};

/* tests/kvm/hooks.c replaces it in the test build (vm.c) */
void vmm_test_console_hook(uint8_t byte);

/* Ask the VM to end (thread-safe, first caller's status wins). */
void vm_stop(struct vm *vm, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Start the vCPU threads: each names itself, installs the vcpu filter and
 * waits; returns once all are waiting (or one failed). */
int vcpus_start(struct vm *vm, struct cl_error *err);
/* Let them enter KVM_RUN. */
void vcpus_release(struct vm *vm);
void vcpus_stop(struct vm *vm);
/* Add a source to the event loop (before vm_loop runs): fn is called on
 * the loop thread when fd has any of `events` (EPOLLIN, EPOLLET...). */
int vm_loop_add(struct vm *vm, int fd, uint32_t events, void (*fn)(void *ctx, uint32_t events),
		void *ctx, struct cl_error *err);
/* Create and arm everything the loop polls (before the filters: the loop
 * itself then needs no epoll_create, signalfd or timerfd call). */
int vm_loop_prepare(struct vm *vm, struct cl_error *err);
/* The device event loop on the calling thread, until vm_stop. */
int vm_loop(struct vm *vm, struct cl_error *err);
void vm_loop_close(struct vm *vm);

#endif
