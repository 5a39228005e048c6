/* KVM wrappers: see kvm.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cloudlet/file.h"
#include "kvm.h"

/* api.rst 4.1: the only stable API version */
#define KVM_API_VERSION_STABLE 12
/* api.rst 4.15/4.32: the TSS (3 pages) and EPT identity map page needed on
 * Intel; placed just below 4 GiB in the MMIO window, as Firecracker does */
#define KVM_TSS_ADDR           0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR  0xfffbc000ULL

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
};

int kvm_open(const char *dev, int *fd, struct cl_error *err)
{
	*fd = open(dev, O_RDWR | O_CLOEXEC);
	if (*fd >= 0)
		return 0;
	int r = errno;
	if (r == ENOENT)
		return cl_err(err, r, "%s does not exist: this machine has no KVM "
			      "(run VM tests through tests/kvmhost/run)", dev);
	return cl_err_sys(err, r, "cannot open %s", dev);
}

int kvm_vm_create(struct kvm *k, int sys_fd, const char *dev, unsigned flags,
		  struct cl_error *err)
{
	int r;
	memset(k, 0, sizeof(*k));
	k->vm_fd = -1;
	k->sys_fd = sys_fd;
	r = ioctl(k->sys_fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION_STABLE) {
		r = cl_err(err, ENOTSUP, "%s: KVM API version %d, need %d", dev, r,
			   KVM_API_VERSION_STABLE);
		goto fail;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++)
		if (ioctl(k->sys_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			r = cl_err(err, ENOTSUP, "%s lacks %s", dev, required_caps[i].name);
			goto fail;
		}
	k->max_vcpus = ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (k->max_vcpus <= 0)   /* api.rst: absent means KVM_CAP_NR_VCPUS, else 4 */
		k->max_vcpus = ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (k->max_vcpus <= 0)
		k->max_vcpus = 4;
	k->run_size = ioctl(k->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->run_size < (int)sizeof(struct kvm_run)) {
		r = cl_err_sys(err, errno, "KVM_GET_VCPU_MMAP_SIZE");
		goto fail;
	}
	k->vm_fd = ioctl(k->sys_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0) {
		r = cl_err_sys(err, errno, "KVM_CREATE_VM");
		goto fail;
	}
	if (ioctl(k->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0) {
		r = cl_err_sys(err, errno, "KVM_SET_TSS_ADDR");
		goto fail;
	}
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	if (ioctl(k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0) {
		r = cl_err_sys(err, errno, "KVM_SET_IDENTITY_MAP_ADDR");
		goto fail;
	}
	if (!(flags & KVM_VM_IRQCHIP))
		return 0;
	if (ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		r = cl_err_sys(err, errno, "KVM_CREATE_IRQCHIP");
		goto fail;
	}
	/* the PC speaker port 0x61 is read during TSC calibration: let KVM
	 * answer it (KVM_PIT_SPEAKER_DUMMY) instead of exiting to us */
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(k->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		r = cl_err_sys(err, errno, "KVM_CREATE_PIT2");
		goto fail;
	}
	return 0;
fail:
	kvm_vm_destroy(k);
	return r;
}

void kvm_vm_destroy(struct kvm *k)
{
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->sys_fd >= 0)
		close(k->sys_fd);
	k->vm_fd = k->sys_fd = -1;
}

int kvm_add_memory(struct kvm *k, uint64_t gpa, uint64_t size, void *host,
		   struct cl_error *err)
{
	struct kvm_userspace_memory_region region = {
		.slot = (uint32_t)k->nslots,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};
	if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return cl_err_sys(err, errno, "KVM_SET_USER_MEMORY_REGION slot %d (%llu MiB at %#llx)",
				  k->nslots, (unsigned long long)(size >> 20),
				  (unsigned long long)gpa);
	k->nslots++;
	return 0;
}

int kvm_irq_line(struct kvm *k, uint32_t irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = (uint32_t)level };
	return ioctl(k->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

int kvm_irqfd(struct kvm *k, int fd, uint32_t gsi, struct cl_error *err)
{
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = gsi };
	if (ioctl(k->vm_fd, KVM_IRQFD, &irqfd) < 0)
		return cl_err_sys(err, errno, "KVM_IRQFD (GSI %u)", gsi);
	return 0;
}

int kvm_ioeventfd(struct kvm *k, int fd, uint64_t addr, uint32_t len, uint64_t datamatch,
		  struct cl_error *err)
{
	struct kvm_ioeventfd io = {
		.datamatch = datamatch,
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};
	if (ioctl(k->vm_fd, KVM_IOEVENTFD, &io) < 0)
		return cl_err_sys(err, errno, "KVM_IOEVENTFD at %#llx", (unsigned long long)addr);
	return 0;
}

int kvm_supported_cpuid(struct kvm *k, struct kvm_cpuid2 **out, struct cl_error *err)
{
	/* api.rst 4.46: E2BIG means the table was too small: grow and retry */
	for (uint32_t n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return cl_err(err, ENOMEM, "out of memory");
		c->nent = n;
		if (ioctl(k->sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			*out = c;
			return 0;
		}
		int e = errno;
		free(c);
		if (e != E2BIG)
			return cl_err_sys(err, e, "KVM_GET_SUPPORTED_CPUID");
	}
	return cl_err(err, E2BIG, "KVM_GET_SUPPORTED_CPUID: table too large");
}

int kvm_vcpu_create(struct kvm *k, unsigned id, struct kvm_vcpu_fd *v, struct cl_error *err)
{
	v->run = NULL;
	v->stats_fd = -1;
	v->fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0)
		return cl_err_sys(err, errno, "KVM_CREATE_VCPU %u", id);
	fcntl(v->fd, F_SETFD, FD_CLOEXEC);
	v->run_size = k->run_size;
	void *p = mmap(NULL, (size_t)k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (p == MAP_FAILED) {
		int e = errno;
		close(v->fd);
		v->fd = -1;
		return cl_err_sys(err, e, "mmap of vCPU %u's kvm_run", id);
	}
	v->run = p;
	/* opened now, read at the end: after setup the filters admit pread64,
	 * not KVM_GET_STATS_FD (-1 where the kernel has no binary stats) */
	v->stats_fd = ioctl(v->fd, KVM_GET_STATS_FD, NULL);
	return 0;
}

void kvm_vcpu_destroy(struct kvm_vcpu_fd *v)
{
	if (v->run)
		munmap(v->run, (size_t)v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	if (v->stats_fd >= 0)
		close(v->stats_fd);
	v->run = NULL;
	v->fd = v->stats_fd = -1;
}

int kvm_vcpu_stats_each(int fd, void (*fn)(void *ctx, const char *name, uint64_t value),
			void *ctx)
{
	struct kvm_stats_header hdr;
	int r = 0;
	if (fd < 0)
		return -ENOTSUP;
	if (cl_pread_full(fd, &hdr, sizeof(hdr), 0) < 0 || hdr.name_size == 0 ||
	    hdr.name_size > 4096 || hdr.num_desc > 65536) {
		r = -EIO;
		goto out;
	}
	/* descriptors are variable-sized: the fixed part, then name_size bytes */
	size_t dsize = sizeof(struct kvm_stats_desc) + hdr.name_size;
	struct kvm_stats_desc *d = malloc(dsize);
	if (!d) {
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < hdr.num_desc && r == 0; i++) {
		uint64_t v;
		if (cl_pread_full(fd, d, dsize, hdr.desc_offset + (uint64_t)i * dsize) < 0) {
			r = -EIO;
			break;
		}
		d->name[hdr.name_size - 1] = '\0';
		/* only single-valued counters: histograms have size > 1 */
		if (d->size != 1)
			continue;
		if (cl_pread_full(fd, &v, sizeof(v), hdr.data_offset + (uint64_t)d->offset) < 0)
			r = -EIO;
		else
			fn(ctx, d->name, v);
	}
	free(d);
out:
	return r;
}

struct stat_find {
	const char *name;
	uint64_t *value;
	int found;
};

static void stat_find_cb(void *ctx, const char *name, uint64_t value)
{
	struct stat_find *f = ctx;
	if (!strcmp(name, f->name)) {
		*f->value = value;
		f->found = 1;
	}
}

int kvm_vcpu_stat(int stats_fd, const char *name, uint64_t *value)
{
	struct stat_find f = { name, value, 0 };
	int r = kvm_vcpu_stats_each(stats_fd, stat_find_cb, &f);
	return r < 0 ? r : f.found ? 0 : -ENOENT;
}
