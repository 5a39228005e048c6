/* vmm_run: the VM's life, in order. What the VM takes from the host (the
 * kernel, the initrd, disks, taps, /dev/kvm) is opened first (vm_files_open:
 * the jailed launch does that before it gives up its privileges); every
 * later step that acquires something has its release in vm_teardown, which
 * runs on every path, so a failure half way leaves nothing behind. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "boot/acpi.h"
#include "boot/kernel.h"
#include "cloudlet/clock.h"
#include "cloudlet/file.h"
#include "cpu/cpu.h"
#include "jail/filter.h"
#include "layout.h"
#include "virtio/devices.h"
#include "vm.h"

#define KERNEL_MAX_BYTES (256u << 20)   /* larger than any real kernel image */

void vm_stop(struct vm *vm, int status, const char *fmt, ...)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (!atomic_load(&vm->stopping)) {
		va_list ap;
		va_start(ap, fmt);
		vm->status = status;
		vsnprintf(vm->reason, sizeof(vm->reason), fmt, ap);
		va_end(ap);
		atomic_store(&vm->stopping, true);
		uint64_t one = 1;
		if (write(vm->stop_fd, &one, sizeof(one)) < 0) { /* the flag is set regardless */ }
	}
	pthread_mutex_unlock(&vm->stop_lock);
}

static void hook_irq(void *ctx, uint32_t irq, int level)
{
	kvm_irq_line(&((struct vm *)ctx)->kvm, irq, level);
}

static void hook_stop(void *ctx, int status, const char *reason)
{
	vm_stop(ctx, status, "%s", reason);
}

/* A test build links its own (tests/kvm/hooks.c, build/tests/kvm/cloudlet-
 * test only: it makes a forbidden syscall once the guest is up); this
 * build's does nothing. Called with each console byte once it is out, on a
 * vCPU thread. */
__attribute__((weak)) void vmm_test_console_hook(uint8_t byte)
{
	(void)byte;
}

/* Guest serial output: a write per byte, as the UART sends them. */
static void console_tx(void *ctx, uint8_t byte)
{
	struct vm *vm = ctx;
	int fd = vm->cfg->console_out;
	while (fd >= 0 && write(fd, &byte, 1) < 0 && errno == EINTR && !atomic_load(&vm->stopping))
		;
	vmm_test_console_hook(byte);
}

int vmm_config_check(const struct vmm_config *cfg, uint64_t host_ram, unsigned max_cpus,
		     struct cl_error *err)
{
	if (!cfg->kernel || !*cfg->kernel)
		return cl_err(err, EINVAL, "no kernel given");
	if (cfg->mem_size < VMM_MIN_MEM)
		return cl_err(err, EINVAL, "--mem %llu MiB is too small (at least %llu MiB)",
			      (unsigned long long)(cfg->mem_size >> 20),
			      (unsigned long long)(VMM_MIN_MEM >> 20));
	if (cfg->mem_size & 0xfff)
		return cl_err(err, EINVAL, "--mem must be a multiple of 4 KiB");
	if (host_ram && cfg->mem_size > host_ram)
		return cl_err(err, ENOMEM, "--mem %llu MiB is more than this host's %llu MiB of RAM",
			      (unsigned long long)(cfg->mem_size >> 20),
			      (unsigned long long)(host_ram >> 20));
	if (cfg->ncpus < 1 || cfg->ncpus > max_cpus)
		return cl_err(err, EINVAL, "--cpus %u is out of range 1..%u", cfg->ncpus, max_cpus);
	if (cfg->ndisks > VMM_MAX_DISKS)
		return cl_err(err, EINVAL, "%u disks: at most %d", cfg->ndisks, VMM_MAX_DISKS);
	if (cfg->nnets > VMM_MAX_NETS)
		return cl_err(err, EINVAL, "%u networks: at most %d", cfg->nnets, VMM_MAX_NETS);
	for (unsigned i = 0; i < cfg->nnets; i++) {
		const struct vmm_net *n = &cfg->nets[i];
		if (n->vpc) {
			for (unsigned j = 0; j < i; j++)
				if (cfg->nets[j].vpc && !strcmp(cfg->nets[j].vpc, n->vpc))
					return cl_err(err, EINVAL, "--net %s given twice", n->vpc);
			continue;
		}
		if (!n->tap || !*n->tap || strlen(n->tap) >= 16)
			return cl_err(err, EINVAL, "--net: tap name '%s' is not 1..15 characters",
				      n->tap ? n->tap : "");
		if (n->mac[0] & 1)
			return cl_err(err, EINVAL, "--net tap=%s: MAC is multicast", n->tap);
		for (unsigned j = 0; j < i; j++) {
			if (cfg->nets[j].tap && !strcmp(cfg->nets[j].tap, n->tap))
				return cl_err(err, EINVAL, "--net: tap %s given twice", n->tap);
			static const uint8_t zero[6];
			if (memcmp(n->mac, zero, 6) && !memcmp(cfg->nets[j].mac, n->mac, 6))
				return cl_err(err, EINVAL, "--net: taps %s and %s have the same MAC",
					      cfg->nets[j].tap, n->tap);
		}
	}
	return 0;
}

int vmm_disk_parse(const char *spec, struct vmm_disk *d, char **buf, struct cl_error *err)
{
	*buf = NULL;
	memset(d, 0, sizeof(*d));
	char *s = strdup(spec);
	if (!s)
		return cl_err(err, ENOMEM, "out of memory");
	/* the last ",ro" is the option: a path may itself hold commas */
	char *comma = strrchr(s, ',');
	if (comma && !strcmp(comma, ",ro")) {
		*comma = '\0';
		d->ro = 1;
	} else if (comma && !strcmp(comma, ",rw")) {
		*comma = '\0';
	}
	if (!*s) {
		free(s);
		return cl_err(err, EINVAL, "--disk '%s': no path (PATH[,ro])", spec);
	}
	d->path = s;
	*buf = s;
	return 0;
}

int vmm_net_parse(const char *spec, struct vmm_net *n, char **buf, struct cl_error *err)
{
	*buf = NULL;
	memset(n, 0, sizeof(*n));
	if (strncmp(spec, "tap=", 4) && strchr(spec, '/')) {
		char vpc[NET_NAME_LEN + 1], sub[NET_NAME_LEN + 1];
		if (net_ref_parse(spec, vpc, sub, err) < 0)
			return cl_err_wrap(err, "--net");
		if (!(*buf = strdup(spec)))
			return cl_err(err, ENOMEM, "out of memory");
		n->vpc = *buf;
		return 0;
	}
	if (strncmp(spec, "tap=", 4))
		return cl_err(err, EINVAL, "--net '%s': expected tap=NAME or VPC/SUBNET", spec);
	const char *name = spec + 4;
	size_t len = strlen(name);
	if (len == 0 || len > 15)
		return cl_err(err, EINVAL, "--net '%s': a tap name has 1 to 15 characters", spec);
	/* the kernel's dev_valid_name(): no '/', no whitespace, not . or .. */
	if (strpbrk(name, "/: \t\n") || !strcmp(name, ".") || !strcmp(name, ".."))
		return cl_err(err, EINVAL, "--net '%s': '%s' is not an interface name", spec, name);
	char *s = strdup(name);
	if (!s)
		return cl_err(err, ENOMEM, "out of memory");
	n->tap = s;
	*buf = s;
	return 0;
}

static uint64_t host_ram_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

/* Copy the initrd (its fd, opened first) straight into guest RAM at its
 * chosen place. */
static int initrd_load(struct vm *vm, const struct kernel_info *ki, struct boot_setup *bs,
		       struct cl_error *err)
{
	const char *path = vm->cfg->initrd;
	struct stat st;
	int r;
	if (fstat(vm->initrd_fd, &st) < 0)
		return cl_err_sys(err, errno, "initrd %s", path);
	if ((r = initrd_place(ki, &vm->mem, (uint64_t)st.st_size, &bs->initrd_gpa, err)) < 0)
		return cl_err_wrap(err, "initrd %s", path);
	bs->initrd_size = (uint64_t)st.st_size;
	void *dst = gmem_ptr(&vm->mem, bs->initrd_gpa, bs->initrd_size);
	r = dst ? cl_pread_full(vm->initrd_fd, dst, bs->initrd_size, 0) : -EFAULT;
	if (r < 0)
		cl_err_sys(err, -r, "initrd %s: read", path);
	return r;
}

/* What can be judged from the files alone is judged before /dev/kvm is
 * touched: the error is then the same on every machine. The initrd is
 * opened here (*initrd_fd), once. */
static int vm_precheck(const struct vmm_config *cfg, const struct kernel_info *ki,
		       int *initrd_fd, struct cl_error *err)
{
	const char *cmdline = cfg->cmdline ? cfg->cmdline : VMM_DEFAULT_CMDLINE;
	/* room for the " ip=..." a VPC NIC adds (net_kernel_ip_arg: at most 70) */
	size_t extra = 0;
	for (unsigned i = 0; i < cfg->nnets; i++)
		extra = cfg->nets[i].vpc ? 72 : extra;
	if (strlen(cmdline) + extra > ki->cmdline_max)
		return cl_err(err, E2BIG, "--cmdline is %zu bytes%s, the kernel accepts at most %u",
			      strlen(cmdline), extra ? " (and a VPC NIC adds up to 72)" : "", ki->cmdline_max);
	/* placement is pure arithmetic on the layout: no memory needed yet */
	struct guest_mem layout;
	gmem_layout(&layout, NULL, cfg->mem_size);
	if (ki->kernel_end > gmem_low_end(&layout))
		return cl_err(err, ENOSPC, "kernel %s needs %llu MiB of guest RAM, --mem is %llu MiB",
			      cfg->kernel, (unsigned long long)((ki->kernel_end + (1 << 20) - 1) >> 20),
			      (unsigned long long)(cfg->mem_size >> 20));
	if (!cfg->initrd)
		return 0;
	struct stat st;
	if ((*initrd_fd = open(cfg->initrd, O_RDONLY | O_CLOEXEC)) < 0 || fstat(*initrd_fd, &st) < 0)
		return cl_err_sys(err, errno, "initrd %s", cfg->initrd);
	if (!S_ISREG(st.st_mode))
		return cl_err(err, EINVAL, "initrd %s: not a regular file", cfg->initrd);
	uint64_t gpa;
	if (initrd_place(ki, &layout, (uint64_t)st.st_size, &gpa, err) < 0)
		return cl_err_wrap(err, "initrd %s", cfg->initrd);
	return 0;
}

static int vm_boot_setup(struct vm *vm, const uint8_t *img, size_t len,
			 const struct kernel_info *ki, struct cl_error *err)
{
	const struct vmm_config *cfg = vm->cfg;
	struct boot_setup bs = { .cmdline = vm->cmdline };
	int r;

	if ((r = kernel_load(img, len, ki, &vm->mem, err)) < 0)
		return cl_err_wrap(err, "kernel %s", cfg->kernel);
	if (cfg->initrd && (r = initrd_load(vm, ki, &bs, err)) < 0)
		return r;
	/* The FADT is hardware-reduced, so Linux has no legacy PIC and maps an
	 * ISA interrupt only for a device the DSDT describes: COM1 must be
	 * there, or the console's request_irq(4) fails and userspace output is
	 * lost (arch/x86/kernel/acpi/boot.c, acpi_reduced_hw_init). */
	/* virtio-mmio devices are in the DSDT too (LNRO0005, which Linux's
	 * virtio_mmio probes), for the same reason: a command-line
	 * virtio_mmio.device= names an IRQ the guest cannot map */
	struct acpi_mmio_dev virtio[VDEV_MAX];
	for (unsigned i = 0; i < vm->nvdevs; i++)
		virtio[i] = (struct acpi_mmio_dev){
			.base = LAYOUT_VIRTIO_MMIO + (uint64_t)i * VIRTIO_MMIO_WINDOW,
			.size = VIRTIO_MMIO_WINDOW,
			.gsi = vdev_gsi(i),
			.level = false,   /* irqfd pulses an edge */
		};
	struct acpi_config acpi = {
		.ncpus = vm->ncpus,
		.pvpanic_port = PORT_PVPANIC,
		.serial_port = PORT_COM1,
		.serial_gsi = IRQ_COM1,
		.cmos_rtc = true,
		.virtio = virtio,
		.nvirtio = vm->nvdevs,
	};
	if ((r = acpi_build(&vm->mem, LAYOUT_ACPI, LAYOUT_ACPI_END, &acpi, &bs.rsdp_gpa, err)) < 0)
		return cl_err_wrap(err, "ACPI tables");
	if ((r = boot_params_write(img, len, ki, &bs, &vm->mem, err)) < 0)
		return cl_err_wrap(err, "kernel %s", cfg->kernel);
	if (cpu_tables_write(&vm->mem) < 0)
		return cl_err(err, EFAULT, "boot page tables do not fit in guest memory");
	return 0;
}

static int vm_devices(struct vm *vm, struct cl_error *err)
{
	int r;
	vm->pio.name = "pio";
	vm->mmio.name = "mmio";
	vm->hooks = (struct vm_hooks){ hook_irq, hook_stop, vm };
	uart_init(&vm->com1, IRQ_COM1, &vm->hooks, console_tx, vm);
	i8042_init(&vm->kbd, &vm->hooks);
	cmos_init(&vm->cmos);
	vm->pvpanic.hooks = vm->hooks;
	if ((r = bus_register(&vm->pio, PORT_COM1, 8, &uart_ops, &vm->com1, "ttyS0", err)) < 0 ||
	    (r = bus_register(&vm->pio, PORT_I8042_DATA, PORT_I8042_CMD - PORT_I8042_DATA + 1,
			      &i8042_ops, &vm->kbd, "i8042", err)) < 0 ||
	    (r = bus_register(&vm->pio, PORT_CMOS, 2, &cmos_ops, &vm->cmos, "cmos", err)) < 0 ||
	    (r = bus_register(&vm->pio, PORT_PVPANIC, 1, &pvpanic_ops, &vm->pvpanic, "pvpanic", err)) < 0)
		return r;
	for (unsigned i = 0; i < vm->nvdevs; i++)
		if ((r = vdev_attach(vm, vm->vdevs[i], i, err)) < 0)
			return r;
	return 0;
}

/* The host side of the virtio devices, before /dev/kvm: a missing disk or
 * a tap that cannot be made reads the same on every machine. Order: disks
 * (vda, vdb... in the guest), networks (eth0...), then the entropy device. */
_Static_assert(VMM_MAX_DISKS + VMM_MAX_NETS + 1 <= VDEV_MAX, "virtio devices: more than GSIs");

static int vm_virtio_open(struct vm_files *vm, struct cl_error *err)
{
	const struct vmm_config *cfg = vm->cfg;
	struct vdev *d;
	int r;
	struct stat st[VMM_MAX_DISKS];
	for (unsigned i = 0; i < cfg->ndisks; i++) {
		/* one file twice would be two caches of one disk: refused before
		 * the second open (whose lock would only say "in use") */
		if (stat(cfg->disks[i].path, &st[i]) == 0)
			for (unsigned j = 0; j < i; j++)
				if (st[j].st_dev == st[i].st_dev && st[j].st_ino == st[i].st_ino)
					return cl_err(err, EINVAL, "--disk %s: the same file as --disk %s",
						      cfg->disks[i].path, cfg->disks[j].path);
		if ((r = virtio_blk_open(&d, &cfg->disks[i], i, err)) < 0)
			return r;
		vm->vdevs[vm->nvdevs++] = d;
		/* what was opened is what counts (the path may have changed since) */
		virtio_blk_stat(d, &st[i]);
	}
	for (unsigned i = 0; i < cfg->nnets; i++) {
		if ((r = virtio_net_open(&d, &vm->nets[i], i, err)) < 0)
			return r;
		vm->vdevs[vm->nvdevs++] = d;
	}
	if (cfg->rng) {
		if ((r = virtio_rng_open(&d, err)) < 0)
			return r;
		vm->vdevs[vm->nvdevs++] = d;
	}
	return 0;
}

static int vm_vcpus(struct vm *vm, const struct kernel_info *ki, struct cl_error *err)
{
	struct kvm_cpuid2 *cpuid = NULL;
	int r = kvm_supported_cpuid(&vm->kvm, &cpuid, err);
	if (r < 0)
		return r;
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		free(cpuid);
		return cl_err(err, ENOMEM, "out of memory");
	}
	for (unsigned i = 0; i < vm->ncpus; i++)
		vm->vcpus[i] = (struct vcpu){ .index = i, .k = { .fd = -1 }, .vm = vm };
	enum cpu_entry_mode mode = ki->format == KERNEL_BZIMAGE ? CPU_ENTRY_LINUX64 : CPU_ENTRY_PVH32;
	for (unsigned i = 0; i < vm->ncpus && r == 0; i++) {
		r = kvm_vcpu_create(&vm->kvm, i, &vm->vcpus[i].k, err);
		if (r == 0)
			r = cpu_setup(vm->vcpus[i].k.fd, i, vm->ncpus, cpuid, mode, ki->entry, err);
	}
	free(cpuid);
	return r;
}

/* Sum one KVM counter into the result, by name (kvm_vcpu_stats_each). */
static void stats_add(void *ctx, const char *name, uint64_t value)
{
	struct vmm_result *res = ctx;
	unsigned i;
	if (!strcmp(name, "exits"))
		res->kvm_exits += value;
	for (i = 0; i < res->nkvm_stats; i++)
		if (!strcmp(res->kvm_stats[i].name, name))
			break;
	if (i == res->nkvm_stats) {
		if (i == sizeof(res->kvm_stats) / sizeof(res->kvm_stats[0]))
			return;
		snprintf(res->kvm_stats[i].name, sizeof(res->kvm_stats[i].name), "%s", name);
		res->nkvm_stats++;
	}
	res->kvm_stats[i].value += value;
}

static void vm_teardown(struct vm *vm)
{
	vcpus_stop(vm);
	vm_loop_close(vm);
	for (unsigned i = 0; vm->vcpus && i < vm->ncpus; i++)
		kvm_vcpu_destroy(&vm->vcpus[i].k);
	free(vm->vcpus);
	kvm_vm_destroy(&vm->kvm);
	/* after the VM fd: KVM held their irqfd/ioeventfd registrations */
	for (unsigned i = 0; i < vm->nvdevs; i++)
		vdev_free(vm->vdevs[i]);
	vm->nvdevs = 0;
	gmem_free(&vm->mem);
	uart_destroy(&vm->com1);
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	if (vm->initrd_fd >= 0)
		close(vm->initrd_fd);
	for (int k = 0; k < VMM_THREAD_NKINDS; k++)
		vmm_sc_free(&vm->sc[k]);
	pthread_mutex_destroy(&vm->stop_lock);
	pthread_mutex_destroy(&vm->gate.lock);
	pthread_cond_destroy(&vm->gate.cond);
}

int vm_files_open(const struct vmm_config *cfg, struct vm_files *f, struct cl_error *err)
{
	int r;
	*f = (struct vm_files){ .cfg = cfg, .initrd_fd = -1, .kvm_fd = -1 };
	if ((r = vmm_config_check(cfg, host_ram_bytes(), VMM_MAX_CPUS, err)) < 0)
		return r;
	if ((r = cl_file_read(cfg->kernel, KERNEL_MAX_BYTES, &f->img, &f->len, err)) < 0)
		return cl_err_wrap(err, "kernel");
	if ((r = kernel_probe(f->img, f->len, &f->ki, err)) < 0) {
		cl_err_wrap(err, "kernel %s", cfg->kernel);
		goto fail;
	}
	if ((r = vm_precheck(cfg, &f->ki, &f->initrd_fd, err)) < 0 ||
	    (r = vm_nets_attach(f, err)) < 0 ||
	    (r = vm_virtio_open(f, err)) < 0 ||
	    (r = kvm_open(cfg->kvm_dev ? cfg->kvm_dev : "/dev/kvm", &f->kvm_fd, err)) < 0)
		goto fail;
	return 0;
fail:
	vm_files_close(f);
	vm_nets_detach(f);
	return r;
}

void vm_files_close(struct vm_files *f)
{
	free(f->img);
	f->img = NULL;
	if (f->initrd_fd >= 0)
		close(f->initrd_fd);
	if (f->kvm_fd >= 0)
		close(f->kvm_fd);
	f->initrd_fd = f->kvm_fd = -1;
	for (unsigned i = 0; i < f->nvdevs; i++)
		vdev_free(f->vdevs[i]);
	f->nvdevs = 0;
}

/* Compile both filters (before any thread is filtered) and set
 * no_new_privs, which unprivileged seccomp(2) needs and every thread
 * inherits. */
static int vm_seccomp_prepare(struct vm *vm, struct cl_error *err)
{
	if (vm->cfg->seccomp == VMM_SECCOMP_OFF)
		return 0;
	uint32_t action = vmm_sc_default_action(vm->cfg->seccomp);
	for (int k = 0; k < VMM_THREAD_NKINDS; k++) {
		int r = vmm_sc_build(k, action, &vm->sc[k], err);
		if (r < 0)
			return r;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return cl_err_sys(err, errno, "no_new_privs");
	return 0;
}

int vm_run_files(struct vm_files *f, struct vmm_result *res, struct cl_error *err)
{
	const struct vmm_config *cfg = f->cfg;
	struct vm vm = { .cfg = cfg, .kvm = { .sys_fd = -1, .vm_fd = -1 }, .stop_fd = -1,
			 .initrd_fd = f->initrd_fd, .nvdevs = f->nvdevs, .cmdline = f->cmdline,
			 .loop = { .ep = -1, .sfd = -1, .tfd = -1 } };
	sigset_t block, saved_mask;
	int r;

	/* the VM owns what was opened from here on */
	memcpy(vm.vdevs, f->vdevs, sizeof(vm.vdevs));
	f->nvdevs = 0;
	f->initrd_fd = -1;
	int kvm_fd = f->kvm_fd;
	f->kvm_fd = -1;
	memset(res, 0, sizeof(*res));
	vm.t_start_ns = cl_now_ns();
	vm.ncpus = cfg->ncpus;
	pthread_mutex_init(&vm.stop_lock, NULL);
	pthread_mutex_init(&vm.gate.lock, NULL);
	pthread_cond_init(&vm.gate.cond, NULL);
	/* SIGINT/SIGTERM/SIGHUP arrive through the loop's signalfd: block them
	 * before any thread exists, so that every thread inherits the mask */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGRTMIN);
	pthread_sigmask(SIG_BLOCK, &block, &saved_mask);

	vm.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm.stop_fd < 0) {
		r = cl_err_sys(err, errno, "eventfd");
		close(kvm_fd);
		goto out;
	}
	if ((r = kvm_vm_create(&vm.kvm, kvm_fd, cfg->kvm_dev ? cfg->kvm_dev : "/dev/kvm",
			       KVM_VM_IRQCHIP, err)) < 0)
		goto out;
	if (vm.ncpus > (unsigned)vm.kvm.max_vcpus) {
		r = cl_err(err, EINVAL, "--cpus %u is more than KVM allows here (%d)", vm.ncpus,
			   vm.kvm.max_vcpus);
		goto out;
	}
	if ((r = gmem_alloc(&vm.mem, cfg->mem_size, err)) < 0)
		goto out;
	for (int i = 0; i < vm.mem.nregions; i++)
		if ((r = kvm_add_memory(&vm.kvm, vm.mem.regions[i].gpa, vm.mem.regions[i].size,
					vm.mem.regions[i].host, err)) < 0)
			goto out;
	if ((r = vm_boot_setup(&vm, f->img, f->len, &f->ki, err)) < 0 ||
	    (r = vm_devices(&vm, err)) < 0 ||
	    (r = vm_vcpus(&vm, &f->ki, err)) < 0 ||
	    (r = vm_loop_prepare(&vm, err)) < 0 ||
	    (r = vm_seccomp_prepare(&vm, err)) < 0)
		goto out;
	free(f->img);
	f->img = NULL;

	/* setup is over: each vCPU installs its filter and waits; this thread
	 * installs its own; only then does any vCPU enter KVM_RUN */
	prctl(PR_SET_NAME, "cl-vmm", 0, 0, 0);
	if ((r = vcpus_start(&vm, err)) < 0) {
		vm_stop(&vm, VMM_EXIT_KVM_ERROR, "could not start the vCPUs");
	} else if (vm.sc[VMM_THREAD_VMM].filter && (r = vmm_sc_install(&vm.sc[VMM_THREAD_VMM])) < 0) {
		cl_err_sys(err, -r, "seccomp: install the vmm thread's filter");
		vm_stop(&vm, VMM_EXIT_KVM_ERROR, "could not install the seccomp filter");
	} else {
		vcpus_release(&vm);
		if ((r = vm_loop(&vm, err)) < 0)
			vm_stop(&vm, VMM_EXIT_KVM_ERROR, "event loop failed");
	}
	vcpus_stop(&vm);

	res->status = vm.status;
	snprintf(res->reason, sizeof(res->reason), "%s", vm.reason);
	uint64_t first = atomic_load(&vm.t_first_run_ns);
	res->boot_ns = first ? first - vm.t_start_ns : 0;
	res->ndevices = (unsigned)(vm.pio.n + vm.mmio.n);
	for (unsigned i = 0; i < vm.ncpus; i++) {
		res->exits_io += vm.vcpus[i].exits_io;
		res->exits_mmio += vm.vcpus[i].exits_mmio;
		res->exits_other += vm.vcpus[i].exits_other;
		kvm_vcpu_stats_each(vm.vcpus[i].k.stats_fd, stats_add, res);
	}
out:
	vm_files_close(f);
	vm_teardown(&vm);
	pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
	return r;
}

int vmm_run(const struct vmm_config *cfg, struct vmm_result *res, struct cl_error *err)
{
	struct vm_files f;
	int r = vm_files_open(cfg, &f, err);
	if (r == 0)
		r = vm_run_files(&f, res, err);
	vm_nets_detach(&f);
	return r;
}
