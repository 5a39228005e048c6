/* CPUID for each vCPU: KVM's supported table with this vCPU's identity.
 * Leaf numbers and fields: Intel SDM vol. 2A "CPUID", AMD APM vol. 3 App. E.
 * The APIC IDs here must match the MADT's (0..ncpus-1). */
#include <errno.h>
#include <string.h>

#include "cpu.h"

#define CPUID_1_ECX_HYPERVISOR   (1u << 31)
#define CPUID_1_EDX_HTT          (1u << 28)
#define LEAF_EXT_TOPOLOGY        0xb
#define LEAF_EXT_TOPOLOGY_V2     0x1f
#define TOPO_LEVEL_SMT           1
#define TOPO_LEVEL_CORE          2

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;
	while ((1u << b) < n)
		b++;
	return b;
}

static int push(struct kvm_cpuid2 *out, uint32_t cap, const struct kvm_cpuid_entry2 *e)
{
	if (out->nent >= cap)
		return -ENOSPC;
	out->entries[out->nent++] = *e;
	return 0;
}

int cpuid_build(const struct kvm_cpuid2 *in, struct kvm_cpuid2 *out, uint32_t cap,
		unsigned index, unsigned ncpus)
{
	uint32_t max_basic = 0;
	out->nent = 0;
	for (uint32_t i = 0; i < in->nent; i++) {
		struct kvm_cpuid_entry2 e = in->entries[i];
		switch (e.function) {
		case 0:
			max_basic = e.eax;
			break;
		case 1:
			e.ebx = (e.ebx & 0x0000ffffu) | (index << 24) | ((ncpus & 0xff) << 16);
			e.ecx |= CPUID_1_ECX_HYPERVISOR;
			if (ncpus > 1)
				e.edx |= CPUID_1_EDX_HTT;
			break;
		case 4:
			/* EAX[31:26]: cores per package - 1; EAX[25:14]: sharing
			 * threads - 1 (private L1/L2, an L3 shared by all) */
			if ((e.eax & 0x1f) != 0) {
				uint32_t level = (e.eax >> 5) & 7, share = level >= 3 ? ncpus - 1 : 0;
				e.eax = (e.eax & 0x3fffu) | (share << 14) | ((ncpus - 1) << 26);
			}
			break;
		case LEAF_EXT_TOPOLOGY:
		case LEAF_EXT_TOPOLOGY_V2:
			continue;   /* rebuilt below; v2 dropped so the guest reads leaf 0xB */
		case 0x80000008:
			e.ecx = (e.ecx & ~0xf0ffu) | ((ncpus - 1) & 0xff);   /* AMD NC */
			break;
		case 0x8000001e:
			e.eax = index;                          /* AMD extended APIC ID */
			e.ebx = (e.ebx & ~0xffffu) | (index & 0xff); /* one thread per core */
			e.ecx &= ~0x7ffu;                       /* node 0, one node */
			break;
		}
		if (push(out, cap, &e) < 0)
			return -ENOSPC;
	}
	if (max_basic >= LEAF_EXT_TOPOLOGY) {
		/* SDM: leaf 0xB sub-leaf n describes level n; EDX is the x2APIC ID */
		struct kvm_cpuid_entry2 smt = {
			.function = LEAF_EXT_TOPOLOGY, .index = 0,
			.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
			.eax = 0, .ebx = 1, .ecx = TOPO_LEVEL_SMT << 8, .edx = index,
		};
		struct kvm_cpuid_entry2 core = smt, end = smt;
		core.index = 1;
		core.eax = bits_for(ncpus);
		core.ebx = ncpus;
		core.ecx = 1 | (TOPO_LEVEL_CORE << 8);
		end.index = 2;
		end.eax = end.ebx = 0;
		end.ecx = 2;
		if (push(out, cap, &smt) < 0 || push(out, cap, &core) < 0 || push(out, cap, &end) < 0)
			return -ENOSPC;
	}
	return 0;
}
