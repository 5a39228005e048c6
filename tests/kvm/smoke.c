/* KVM smoke test: a real-mode guest writes to two I/O ports and halts; the
 * exits must be exactly IO(0x3f8, 1 byte, 'K'), IO(0x80, 2 bytes, 0xbeef),
 * HLT. Exit 0 pass, 1 fail, 77 skip (no /dev/kvm). Protocol of the KVM API:
 * Documentation/virt/kvm/api.rst (KVM_CREATE_VM, KVM_RUN, struct kvm_run). */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_ADDR 0x1000

/* 16-bit code, hand-assembled */
static const uint8_t code[] = {
    0xba, 0xf8, 0x03, /* mov $0x3f8, %dx */
    0xb0, 0x40,       /* mov $0x40, %al */
    0x04, 0x0b,       /* add $0x0b, %al   -> 'K', so the guest computes */
    0xee,             /* out %al, (%dx) */
    0xb8, 0xef, 0xbe, /* mov $0xbeef, %ax */
    0xe7, 0x80,       /* out %ax, $0x80 */
    0xf4,             /* hlt */
};

struct want {
    uint32_t reason;
    uint16_t port;
    uint8_t size;
    uint32_t data;
};

static const struct want wants[] = {
    {KVM_EXIT_IO, 0x3f8, 1, 'K'},
    {KVM_EXIT_IO, 0x80, 2, 0xbeef},
    {KVM_EXIT_HLT, 0, 0, 0},
};

static void on_alarm(int sig)
{
    static const char msg[] = "FAIL: kvm smoke: no exit within 10 s\n";
    (void)sig;
    if (write(2, msg, sizeof msg - 1) < 0) _exit(1);
    _exit(1);
}

static int fail(const char *what)
{
    fprintf(stderr, "kvm smoke: %s: %s\n", what, strerror(errno));
    return 1;
}

int main(void)
{
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    alarm(10);

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        if (errno == ENOENT) {
            fprintf(stderr, "kvm smoke: no /dev/kvm\n");
            return 77;
        }
        return fail("open /dev/kvm");
    }
    int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        fprintf(stderr, "kvm smoke: API version %d, want %d\n", api, KVM_API_VERSION);
        return 1;
    }
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) return fail("KVM_CREATE_VM");

    uint8_t *mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return fail("mmap");
    memcpy(mem, code, sizeof code);
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = GUEST_ADDR, .memory_size = 0x1000,
        .userspace_addr = (uintptr_t)mem,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return fail("KVM_SET_USER_MEMORY_REGION");

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) return fail("KVM_CREATE_VCPU");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < (int)sizeof(struct kvm_run)) return fail("KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) return fail("mmap kvm_run");

    /* the vCPU resets into real mode; only point CS:IP at the code */
    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) return fail("KVM_GET_SREGS");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) return fail("KVM_SET_SREGS");
    struct kvm_regs regs = {.rip = GUEST_ADDR, .rflags = 2};
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) return fail("KVM_SET_REGS");

    for (size_t i = 0; i < sizeof wants / sizeof wants[0]; i++) {
        const struct want *w = &wants[i];
        if (ioctl(vcpu, KVM_RUN, 0) < 0) return fail("KVM_RUN");
        if (run->exit_reason != w->reason) {
            fprintf(stderr, "kvm smoke: exit %zu: reason %u, want %u\n", i, run->exit_reason,
                    w->reason);
            return 1;
        }
        if (w->reason != KVM_EXIT_IO) continue;
        uint32_t data = 0;
        memcpy(&data, (uint8_t *)run + run->io.data_offset, run->io.size <= 4 ? run->io.size : 4);
        if (run->io.direction != KVM_EXIT_IO_OUT || run->io.port != w->port ||
            run->io.size != w->size || run->io.count != 1 || data != w->data) {
            fprintf(stderr,
                    "kvm smoke: exit %zu: io dir %u port %#x size %u count %u data %#x, "
                    "want out port %#x size %u count 1 data %#x\n",
                    i, run->io.direction, run->io.port, run->io.size, run->io.count, data,
                    w->port, w->size, w->data);
            return 1;
        }
    }
    printf("kvm smoke: IO(0x3f8,'K'), IO(0x80,0xbeef), HLT as expected\n");
    return 0;
}
