/* The VMM's seccomp filters (internal to vmm/): built from the tables
 * (sc_tables.c, sc_ioctls.c) into classic BPF before any thread is
 * filtered, installed by each thread on itself (seccomp(2)
 * SECCOMP_SET_MODE_FILTER, no TSYNC: every thread has its own kind). */
#ifndef VMM_JAIL_FILTER_H
#define VMM_JAIL_FILTER_H

#include <linux/filter.h>
#include <stdint.h>

#include "cloudlet/vmm.h"

/* The kernel's action for a syscall outside the allowlist. */
uint32_t vmm_sc_default_action(enum vmm_seccomp mode);
/* Compile a kind's table; default_action is vmm_sc_default_action()'s, or
 * an SCMP_ACT_ERRNO in tests. out->filter is malloc'd (vmm_sc_free). */
int vmm_sc_build(enum vmm_thread_kind kind, uint32_t default_action, struct sock_fprog *out,
		 struct cl_error *err);
void vmm_sc_free(struct sock_fprog *p);
/* Install on the calling thread (no_new_privs must be set, or
 * CAP_SYS_ADMIN held). 0 or -errno. */
int vmm_sc_install(const struct sock_fprog *p);

#endif
