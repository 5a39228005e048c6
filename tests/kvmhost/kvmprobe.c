/* kvmprobe — does /dev/kvm run a Linux-class guest here, or only toy code?
 *
 * KVM_GET_API_VERSION and a real-mode `out`/`hlt` also succeed on the
 * paravirtual /dev/kvm of kvm_pvm hosts, where a stock Linux guest then dies
 * with "KVM internal error. Suberror: 1 ... emulation failure" on a
 * `lock cmpxchg16b` (docs: /work/shared/kvm-nested.md). Such a KVM shadows the
 * guest's page tables: their pages are write-protected, so each write to them
 * traps and goes through KVM's instruction emulator (arch/x86/kvm/emulate.c),
 * and SLUB's cmpxchg_double can land on such a page. So this guest runs in
 * 64-bit long mode with 4-level paging and does a `lock cmpxchg16b` inside its
 * live PML4 and PT pages, rewrites a live PTE, then reports with `out`+`hlt`.
 *
 * Prints one line, "usable (...)" or "not usable: why"; exits 0 when usable,
 * 1 otherwise. An alarm bounds the run so a crawling KVM cannot hang us.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_S 3
#define MEM_SIZE (2u << 20)
#define GDT 0x1000
#define PML4 0x2000
#define PDPT 0x3000
#define PD 0x4000
#define PT 0x5000
#define CODE 0x10000
#define STACK_TOP 0x20000
#define MAGIC_FRAME 0x90000
#define MAGIC 0x1122334455667788ull
#define REPORT_PORT 0x99
#define OK_CODE 0x600dc0deu

/* The guest, assembled by gcc and copied to CODE; identity-mapped, so the
 * absolute addresses below are the layout #defined above. On a failed check
 * it sends the check's number instead of OK_CODE. */
extern const unsigned char probe_code[], probe_code_end[];
__asm__(".pushsection .rodata\n"
        ".globl probe_code, probe_code_end\n"
        "probe_code:\n"
        /* 1: ordinary work: sum 1..1000 and fill/sum a 64 KiB buffer */
        "  mov $1, %esi\n"
        "  xor %eax, %eax\n"
        "  mov $1000, %ecx\n"
        "1: add %rcx, %rax\n"
        "  loop 1b\n"
        "  cmp $500500, %rax\n"
        "  jne 9f\n"
        "  mov $2, %esi\n"
        "  mov $0x40000, %edi\n"
        "  mov $8192, %ecx\n"
        "2: mov %rcx, -8(%rdi,%rcx,8)\n"
        "  loop 2b\n"
        "  xor %eax, %eax\n"
        "  mov $8192, %ecx\n"
        "3: add -8(%rdi,%rcx,8), %rax\n"
        "  loop 3b\n"
        "  cmp $33558528, %rax\n" /* 8192*8193/2 */
        "  jne 9f\n"
        /* 3,4: lock cmpxchg16b on PML4 entries 256/257 (unused; the new
         * values keep bit 0 clear, so they stay not-present). */
        "  mov $0x2800, %edi\n"
        "  mov $3, %esi\n"
        "  xor %eax, %eax\n"
        "  xor %edx, %edx\n"
        "  mov $0x1110, %ebx\n"
        "  mov $0x2220, %ecx\n"
        "  lock cmpxchg16b (%rdi)\n"
        "  jne 9f\n"
        /* a compare that fails must load the current value into rdx:rax */
        "  mov $4, %esi\n"
        "  mov $1, %eax\n"
        "  mov $1, %edx\n"
        "  lock cmpxchg16b (%rdi)\n"
        "  je 9f\n"
        "  cmp $0x1110, %rax\n"
        "  jne 9f\n"
        "  cmp $0x2220, %rdx\n"
        "  jne 9f\n"
        /* 5: the same on the last-level PT page, entries 510/511 (unmapped) */
        "  mov $5, %esi\n"
        "  mov $0x5ff0, %edi\n"
        "  xor %eax, %eax\n"
        "  xor %edx, %edx\n"
        "  mov $0x4440, %ebx\n"
        "  mov $0x8880, %ecx\n"
        "  lock cmpxchg16b (%rdi)\n"
        "  jne 9f\n"
        "  cmpq $0x8880, 0x5ff8\n"
        "  jne 9f\n"
        /* 6: plain stores back into both table pages */
        "  mov $6, %esi\n"
        "  movq $0, 0x2800\n"
        "  movq $0, 0x2808\n"
        "  movq $0, 0x5ff0\n"
        "  movq $0, 0x5ff8\n"
        "  mov 0x2800, %rax\n"
        "  or 0x5ff8, %rax\n"
        "  jnz 9f\n"
        /* 7: touch VA 0x80000 (frame 0x80000, zero), point its live PTE
         * (PT[0x80]) at the frame holding MAGIC, invlpg, read again */
        "  mov $7, %esi\n"
        "  mov 0x80000, %rax\n"
        "  test %rax, %rax\n"
        "  jnz 9f\n"
        "  movq $0x90003, 0x5400\n"
        "  invlpg 0x80000\n"
        "  mov 0x80000, %rax\n"
        "  movabs $0x1122334455667788, %rdx\n"
        "  cmp %rdx, %rax\n"
        "  jne 9f\n"
        "  mov $0x600dc0de, %esi\n"
        "9: mov %esi, %eax\n"
        "  out %eax, $0x99\n"
        "  hlt\n"
        "  jmp 9b\n"
        "probe_code_end:\n"
        ".popsection\n");

static const char *check_name(uint32_t n)
{
    switch (n) {
    case 1: return "arithmetic loop";
    case 2: return "64 KiB memory fill";
    case 3: return "lock cmpxchg16b in the live PML4 page";
    case 4: return "failing lock cmpxchg16b in the live PML4 page";
    case 5: return "lock cmpxchg16b in the live PT page";
    case 6: return "stores into page-table pages";
    case 7: return "PTE rewrite + invlpg";
    default: return "unknown check";
    }
}

static void on_alarm(int sig)
{
    static const char msg[] = "not usable: guest did not finish within 3 s\n";
    (void)sig;
    /* only async-signal-safe calls here */
    if (write(1, msg, sizeof msg - 1) < 0) _exit(1);
    _exit(1);
}

static int fail(const char *what)
{
    printf("not usable: %s: %s\n", what, strerror(errno));
    return 1;
}

/* an 8-byte GDT descriptor: flat base 0, limit 0xfffff (4 KiB granular) */
static uint64_t gdt_entry(unsigned access, unsigned flags)
{
    return 0xffffull | ((uint64_t)access << 40) | ((uint64_t)(flags | 0xf) << 48);
}

static void seg(struct kvm_segment *s, unsigned sel, unsigned type, int code)
{
    memset(s, 0, sizeof *s);
    s->selector = sel;
    s->limit = 0xffffffff;
    s->type = type;
    s->present = 1;
    s->s = 1;
    s->g = 1;
    s->l = code;   /* 64-bit code segment */
    s->db = !code; /* L and D must not both be set */
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void)
{
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    alarm(DEADLINE_S);
    double t0 = now();

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) return fail("open /dev/kvm");
    int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        printf("not usable: KVM API version %d\n", api);
        return 1;
    }
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) return fail("KVM_CREATE_VM");

    unsigned char *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) return fail("mmap guest memory");
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
        .userspace_addr = (uintptr_t)mem,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return fail("KVM_SET_USER_MEMORY_REGION");

    /* GDT: null, 64-bit code (0x08), data (0x10) */
    uint64_t *gdt = (uint64_t *)(mem + GDT);
    gdt[1] = gdt_entry(0x9b, 0xa0); /* present, ring 0, code; G + L */
    gdt[2] = gdt_entry(0x93, 0xc0); /* present, ring 0, data; G + D/B */

    /* 4-level identity map of the first 1 MiB in 4 KiB pages; PT entries
     * 256..511 stay empty for the guest's cmpxchg16b. */
    uint64_t *pml4 = (uint64_t *)(mem + PML4), *pdpt = (uint64_t *)(mem + PDPT);
    uint64_t *pd = (uint64_t *)(mem + PD), *pt = (uint64_t *)(mem + PT);
    pml4[0] = PDPT | 3; /* present + writable */
    pdpt[0] = PD | 3;
    pd[0] = PT | 3;
    for (unsigned i = 0; i < 256; i++) pt[i] = (uint64_t)i << 12 | 3;
    *(uint64_t *)(mem + MAGIC_FRAME) = MAGIC;
    memcpy(mem + CODE, probe_code, (size_t)(probe_code_end - probe_code));

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) return fail("KVM_CREATE_VCPU");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < (int)sizeof(struct kvm_run)) return fail("KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE,
                               MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) return fail("mmap kvm_run");

    /* KVM refuses EFER.LME unless the guest's CPUID has long mode
     * (kvm_valid_efer), so give the vCPU what KVM supports. */
    unsigned nent = 128;
    struct kvm_cpuid2 *cpuid;
    for (;;) {
        cpuid = calloc(1, sizeof *cpuid + nent * sizeof cpuid->entries[0]);
        if (!cpuid) return fail("calloc");
        cpuid->nent = nent;
        if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) == 0) break;
        if (errno != E2BIG || nent > 4096) return fail("KVM_GET_SUPPORTED_CPUID");
        free(cpuid);
        nent *= 2;
    }
    int set_cpuid = ioctl(vcpu, KVM_SET_CPUID2, cpuid);
    free(cpuid);
    if (set_cpuid < 0) return fail("KVM_SET_CPUID2");

    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) return fail("KVM_GET_SREGS");
    seg(&sregs.cs, 0x08, 0xb, 1); /* execute/read, accessed */
    seg(&sregs.ds, 0x10, 0x3, 0); /* read/write, accessed */
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    sregs.gdt.base = GDT;
    sregs.gdt.limit = 3 * 8 - 1;
    sregs.cr3 = PML4;
    sregs.cr4 = 1u << 5;                              /* PAE */
    sregs.cr0 = 1u << 0 | 1u << 4 | 1u << 5 | 1u << 16 | 1u << 31; /* PE ET NE WP PG */
    sregs.efer = 1u << 8 | 1u << 10;                  /* LME LMA */
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) return fail("KVM_SET_SREGS (long mode)");

    struct kvm_regs regs = {.rip = CODE, .rsp = STACK_TOP, .rflags = 2};
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) return fail("KVM_SET_REGS");

    /* Expected: exactly one KVM_EXIT_IO carrying OK_CODE, then KVM_EXIT_HLT. */
    for (int step = 0;; step++) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) return fail("KVM_RUN");
        uint32_t r = run->exit_reason;
        if (step == 0 && r == KVM_EXIT_IO) {
            uint32_t v = 0;
            if (run->io.direction != KVM_EXIT_IO_OUT || run->io.port != REPORT_PORT ||
                run->io.size != 4 || run->io.count != 1) {
                printf("not usable: unexpected I/O exit (port %#x size %u)\n",
                       run->io.port, run->io.size);
                return 1;
            }
            memcpy(&v, (char *)run + run->io.data_offset, 4);
            if (v != OK_CODE) {
                printf("not usable: guest check %u failed (%s)\n", v, check_name(v));
                return 1;
            }
            continue;
        }
        if (step == 1 && r == KVM_EXIT_HLT) break;
        /* the guest keeps the number of the check it is in in %esi */
        struct kvm_regs now_regs;
        char where[128] = "";
        if (ioctl(vcpu, KVM_GET_REGS, &now_regs) == 0)
            snprintf(where, sizeof where, " during check %llu (%s), rip %#llx",
                     (unsigned long long)now_regs.rsi, check_name((uint32_t)now_regs.rsi),
                     (unsigned long long)now_regs.rip);
        switch (r) {
        case KVM_EXIT_INTERNAL_ERROR:
            printf("not usable: KVM internal error, suberror %u%s%s\n", run->internal.suberror,
                   run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
                       ? " (emulation failure)" : "", where);
            break;
        case KVM_EXIT_FAIL_ENTRY:
            printf("not usable: VM entry failed, reason %#llx\n",
                   (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
            break;
        case KVM_EXIT_SHUTDOWN:
            printf("not usable: guest shut down (triple fault)%s\n", where);
            break;
        default:
            printf("not usable: unexpected exit %u at step %d%s\n", r, step, where);
        }
        return 1;
    }
    alarm(0);
    printf("usable (long-mode probe passed in %.0f ms)\n", (now() - t0) * 1e3);
    return 0;
}
