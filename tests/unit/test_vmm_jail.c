/* vmm/jail/: the jail's limits and input checks, and reading the
 * kernel's audit record of a seccomp action (all pure). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "../../vmm/jail/jail.h"

static struct cl_error err;

Test(vmm_jail, limits)
{
	cr_assert_eq(jail_memory_limit(256ull << 20), (256ull << 20) + VMM_JAIL_MEM_OVERHEAD);
	/* the loop thread, the vCPUs, KVM's per-VM worker */
	cr_assert_eq(jail_pids_limit(1), 3);
	cr_assert_eq(jail_pids_limit(2), 4);
	/* above every fd open and what setup adds */
	uint64_t nofile = jail_nofile_limit(9, 2, 3);
	cr_assert_gt(nofile, 9 + 2 * 2 + 3 * 3);
	cr_assert_lt(nofile, 128, "not a blanket limit: %llu", (unsigned long long)nofile);
	cr_assert_gt(jail_nofile_limit(-1, 1, 0), 3);
	/* FSIZE: the largest read-write disk, or the console's file plus its budget */
	cr_assert_eq(jail_fsize_limit(64 << 20, false, 0), 64 << 20);
	cr_assert_eq(jail_fsize_limit(64 << 20, true, 100), 100 + JAIL_CONSOLE_FSIZE);
	cr_assert_eq(jail_fsize_limit(4ull << 40, true, 100), 4ull << 40);
	/* no disk, the console on a pipe: still room for the filters' memfd */
	cr_assert_eq(jail_fsize_limit(0, false, 0), JAIL_FSIZE_MIN);
	cr_assert_geq(JAIL_FSIZE_MIN, 4096 * 8, "BPF_MAXINSNS instructions");
}

Test(vmm_jail, ids)
{
	const char *identity = "         0          0 4294967295\n";
	cr_assert_eq(jail_ids_check(65533, 65533, identity, identity, &err), 0, "%s", err.msg);
	cr_assert_eq(jail_ids_check(1000, 100, NULL, NULL, &err), 0);
	cr_assert_eq(jail_ids_check(0, 65533, identity, identity, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "--uid 0: the jailed VMM does not run as root");
	cr_assert_eq(jail_ids_check(65533, 0, identity, identity, &err), -EINVAL);
	cr_assert(strstr(err.msg, "--gid 0"), "%s", err.msg);
	cr_assert_eq(jail_ids_check((uid_t)-1, 1, identity, identity, &err), -EINVAL);
	cr_assert(strstr(err.msg, "--uid 4294967295: not a valid id"), "%s", err.msg);
	/* in a user namespace mapping 0-65535 only */
	const char *small = "0 100000 65536\n";
	cr_assert_eq(jail_ids_check(65533, 65533, small, small, &err), 0);
	cr_assert_eq(jail_ids_check(70000, 65533, small, small, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "--uid 70000: not mapped in this user namespace");
	cr_assert_eq(jail_ids_check(65533, 70000, small, "0 1 10\n70000 5 1\n", &err), 0, "second range");
}

Test(vmm_jail, base_dir)
{
	struct stat st = { .st_mode = S_IFDIR | 0700, .st_uid = 0 };
	cr_assert_eq(jail_base_check("/run/cloudlet/jail", &st, 0, &err), 0);
	st.st_mode = S_IFDIR | 01777;
	cr_assert_eq(jail_base_check("/tmp", &st, 0, &err), -EPERM);
	cr_assert(strstr(err.msg, "--jail-base /tmp: world-writable"), "%s", err.msg);
	st.st_mode = S_IFDIR | 0770;
	cr_assert_eq(jail_base_check("/srv/j", &st, 0, &err), -EPERM);
	cr_assert(strstr(err.msg, "group-writable"), "%s", err.msg);
	st.st_mode = S_IFREG | 0600;
	cr_assert_eq(jail_base_check("/etc/passwd", &st, 0, &err), -ENOTDIR);
	cr_assert_str_eq(err.msg, "--jail-base /etc/passwd: not a directory");
	st.st_mode = S_IFLNK | 0777;
	cr_assert_eq(jail_base_check("/srv/link", &st, 0, &err), -ENOTDIR);
	cr_assert(strstr(err.msg, "symbolic link"), "%s", err.msg);
	st = (struct stat){ .st_mode = S_IFDIR | 0755, .st_uid = 1000 };
	cr_assert_eq(jail_base_check("/home/u/j", &st, 0, &err), -EPERM);
	cr_assert(strstr(err.msg, "owned by uid 1000"), "%s", err.msg);
	st.st_uid = 0;
	cr_assert_eq(jail_base_check("rel/dir", &st, 0, &err), -EINVAL);
}

Test(vmm_jail, audit_record)
{
	/* as /dev/kmsg hands them out, one record per read */
	static const char kill[] =
		"5,374,3971735,-;audit: type=1326 audit(1795603941.636:2): auid=4294967295 uid=65533 "
		"gid=65533 ses=4294967295 subj=unconfined pid=158 comm=\"cl-vcpu0\" exe=\"/usr/bin/cloudlet\" "
		"sig=31 arch=c000003e syscall=257 compat=0 ip=0x7f3f682704f7 code=0x80000000\n";
	struct audit_seccomp a;
	cr_assert_eq(audit_seccomp_parse(kill, strlen(kill), &a), 0);
	cr_assert_eq(a.pid, 158);
	cr_assert_eq(a.syscall, 257);
	cr_assert_str_eq(a.comm, "cl-vcpu0");
	cr_assert_eq(a.code, 0x80000000u);
	/* a LOG action; comm hex-encoded (audit does that for odd names) */
	static const char log[] = "5,9,1,-;audit: type=1326 audit(1.2:3): auid=0 uid=0 gid=0 ses=1 "
				  "pid=42 comm=636C2D766D6D exe=\"/x\" sig=0 arch=c000003e syscall=41 "
				  "compat=0 ip=0x1 code=0x7ffc0000\n SUBSYSTEM=x\n";
	cr_assert_eq(audit_seccomp_parse(log, strlen(log), &a), 0);
	cr_assert_str_eq(a.comm, "cl-vmm");
	cr_assert_eq(a.syscall, 41);
	cr_assert_eq(a.code, 0x7ffc0000u);
	/* other records; a pid that is only ppid's */
	static const char other[] = "6,10,2,-;audit: type=1400 audit(1.2:3): apparmor=\"DENIED\" pid=1\n";
	cr_assert_eq(audit_seccomp_parse(other, strlen(other), &a), -ENOENT);
	static const char plain[] = "6,11,3,-;eth0: link up\n";
	cr_assert_eq(audit_seccomp_parse(plain, strlen(plain), &a), -ENOENT);
	static const char noname[] = "no semicolon type=1326 pid=1 syscall=2";
	cr_assert_eq(audit_seccomp_parse(noname, strlen(noname), &a), -ENOENT);
	static const char ppid[] = "5,1,1,-;audit: type=1326 audit(1:1): ppid=7 syscall=3\n";
	cr_assert_eq(audit_seccomp_parse(ppid, strlen(ppid), &a), -ENOENT);
}
