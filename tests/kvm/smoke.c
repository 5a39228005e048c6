/* KVM smoke test through the project's own KVM layer (vmm/kvm.c, mem.c,
 * bus.c, cpu/exit.c): a real-mode guest writes to two I/O ports and halts;
 * the exits must arrive decoded, dispatched by address, in order.
 * Exit status: 0 pass, 1 fail, 77 no /dev/kvm (skip). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../../vmm/bus.h"
#include "../../vmm/cpu/exit.h"
#include "../../vmm/kvm.h"
#include "../../vmm/mem.h"

#define GUEST_MEM  (2u << 20)
#define GUEST_ADDR 0x1000

/* 16-bit code, hand-assembled */
static const uint8_t code[] = {
	0xba, 0xf8, 0x03, /* mov $0x3f8, %dx */
	0xb0, 0x40,       /* mov $0x40, %al */
	0x04, 0x0b,       /* add $0x0b, %al   -> 'K', so the guest computes */
	0xee,             /* out %al, (%dx) */
	0xb8, 0xef, 0xbe, /* mov $0xbeef, %ax */
	0xba, 0x01, 0x05, /* mov $0x501, %dx: not 0x80, which KVM on VMX passes */
	0xef,             /* out %ax, (%dx)    through to the hardware (no exit) */
	0xf4,             /* hlt */
};

/* what the two port devices saw, in order */
static struct { uint64_t port; uint32_t len, value; } seen[4];
static int nseen;

static void rec_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	uint32_t v = 0;
	memcpy(&v, data, len < 4 ? len : 4);
	if (nseen < 4)
		seen[nseen++] = (typeof(seen[0])){ (uint64_t)(uintptr_t)dev + off, len, v };
}
static const struct bus_ops rec_ops = { NULL, rec_write };

static void on_alarm(int sig)
{
	static const char msg[] = "FAIL: kvm smoke: no exit within 10 s\n";
	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0) { /* nothing else to do */ }
	_exit(1);
}

int main(void)
{
	struct kvm k;
	struct guest_mem m;
	struct kvm_vcpu_fd v;
	struct bus pio = { .name = "pio" };
	struct cl_error err = { 0 };
	int kvm_fd = -1;

	if (access("/dev/kvm", F_OK) < 0) {
		fprintf(stderr, "kvm smoke: no /dev/kvm\n");
		return 77;
	}
	signal(SIGALRM, on_alarm);
	alarm(10);
	if (kvm_open("/dev/kvm", &kvm_fd, &err) < 0 || kvm_vm_create(&k, kvm_fd, "/dev/kvm", 0, &err) < 0 ||
	    gmem_alloc(&m, GUEST_MEM, &err) < 0 ||
	    kvm_add_memory(&k, 0, GUEST_MEM, m.base, &err) < 0 ||
	    kvm_vcpu_create(&k, 0, &v, &err) < 0) {
		fprintf(stderr, "FAIL: kvm smoke: %s\n", err.msg);
		return 1;
	}
	gmem_write(&m, GUEST_ADDR, code, sizeof(code));
	/* the device "base" doubles as its port, so rec_write records absolute ports */
	if (bus_register(&pio, 0x3f8, 8, &rec_ops, (void *)0x3f8, "com1", &err) < 0 ||
	    bus_register(&pio, 0x501, 2, &rec_ops, (void *)0x501, "probe", &err) < 0) {
		fprintf(stderr, "FAIL: kvm smoke: %s\n", err.msg);
		return 1;
	}

	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = GUEST_ADDR, .rflags = 0x2 };
	if (ioctl(v.fd, KVM_GET_SREGS, &sregs) < 0)
		return perror("KVM_GET_SREGS"), 1;
	sregs.cs.base = 0;   /* real mode, CS:IP = 0:GUEST_ADDR */
	sregs.cs.selector = 0;
	if (ioctl(v.fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(v.fd, KVM_SET_REGS, &regs) < 0)
		return perror("KVM_SET_REGS"), 1;

	struct vcpu_exit x;
	for (;;) {
		if (ioctl(v.fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			return perror("KVM_RUN"), 1;
		}
		vcpu_exit_decode(v.run, (size_t)v.run_size, &x);
		if (x.kind != VEXIT_IO)
			break;
		for (uint32_t i = 0; i < x.count; i++)
			bus_access(&pio, x.addr, x.data + i * x.size, x.size, x.write);
	}
	int ok = x.kind == VEXIT_HLT && nseen == 2 && seen[0].port == 0x3f8 && seen[0].len == 1 &&
		 seen[0].value == 'K' && seen[1].port == 0x501 && seen[1].len == 2 &&
		 seen[1].value == 0xbeef;
	if (!ok) {
		fprintf(stderr, "FAIL: kvm smoke: last exit %s, %d port writes (%#llx len %u = %#x, ...)\n",
			vcpu_exit_name(x.kind), nseen, nseen ? (unsigned long long)seen[0].port : 0ULL,
			nseen ? seen[0].len : 0, nseen ? seen[0].value : 0);
		return 1;
	}
	printf("kvm smoke: IO(0x3f8,'K'), IO(0x501,0xbeef), HLT as expected\n");
	kvm_vcpu_destroy(&v);
	kvm_vm_destroy(&k);
	gmem_free(&m);
	return 0;
}
