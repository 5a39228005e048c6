/* crun/mounts.c, crun/rootfs.c, crun/ns.c: the tables a container is made
 * of, and the overlay options. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "cloudlet/crun.h"

static struct cl_error err;

static const struct crun_mount *mount_at(const char *target)
{
	for (size_t i = 0; i < crun_default_mounts_count; i++)
		if (!strcmp(crun_default_mounts[i].target, target))
			return &crun_default_mounts[i];
	return NULL;
}

static ptrdiff_t idx(const char *target)
{
	const struct crun_mount *m = mount_at(target);
	cr_assert_not_null(m, "no mount on %s", target);
	return m - crun_default_mounts;
}

Test(crun_mounts, default_mounts)
{
	const char *want[] = { "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", NULL };
	for (int i = 0; want[i]; i++)
		cr_assert_not_null(mount_at(want[i]), "%s", want[i]);
	/* parents before children */
	cr_assert_lt(idx("/dev"), idx("/dev/pts"));
	cr_assert_lt(idx("/dev"), idx("/dev/shm"));
	cr_assert_lt(idx("/sys"), idx("/sys/fs/cgroup"));
	cr_assert(mount_at("/sys")->flags & MS_RDONLY, "/sys read-only");
	cr_assert(mount_at("/sys/fs/cgroup")->flags & MS_RDONLY);
	cr_assert(mount_at("/proc")->flags & MS_NOSUID);
	cr_assert_str_eq(mount_at("/dev/pts")->fstype, "devpts");
	cr_assert(strstr(mount_at("/dev/pts")->data, "newinstance"), "own devpts instance");
	cr_assert(strstr(mount_at("/dev/pts")->data, "gid=5"));
	cr_assert_null(strstr(mount_at("/dev/pts")->data_userns, "gid="), "gid 5 is unmapped in a userns");
	cr_assert_str_eq(mount_at("/dev/mqueue")->fstype, "mqueue");
	for (size_t i = 0; i < crun_default_mounts_count; i++)
		cr_assert_eq(crun_default_mounts[i].target[0], '/');
}

static bool in(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

Test(crun_mounts, masked_and_readonly_paths)
{
	/* runtime-spec config-linux.md / Docker defaults */
	const char *masked[] = { "/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
				 "/sys/firmware", "/proc/scsi", "/proc/acpi", "/proc/latency_stats", NULL };
	for (int i = 0; masked[i]; i++)
		cr_assert(in(crun_masked_paths, crun_masked_paths_count, masked[i]), "%s", masked[i]);
	const char *ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL };
	for (int i = 0; ro[i]; i++)
		cr_assert(in(crun_readonly_paths, crun_readonly_paths_count, ro[i]), "%s", ro[i]);
	for (size_t i = 0; i < crun_masked_paths_count; i++) {
		cr_assert_eq(crun_masked_paths[i][0], '/');
		cr_assert_not(in(crun_readonly_paths, crun_readonly_paths_count, crun_masked_paths[i]));
	}
}

Test(crun_mounts, devices_and_symlinks)
{
	const struct { const char *path; unsigned maj, min; } want[] = {
		{ "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
		{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
	};
	cr_assert_eq(crun_default_devices_count, 6);
	for (size_t i = 0; i < 6; i++) {
		cr_assert_str_eq(crun_default_devices[i].path, want[i].path);
		cr_assert_eq(crun_default_devices[i].major, want[i].maj);
		cr_assert_eq(crun_default_devices[i].minor, want[i].min);
	}
	const char *links[][2] = { { "/dev/fd", "/proc/self/fd" }, { "/dev/stdin", "/proc/self/fd/0" },
				   { "/dev/stdout", "/proc/self/fd/1" }, { "/dev/stderr", "/proc/self/fd/2" },
				   { "/dev/ptmx", "pts/ptmx" } };
	cr_assert_eq(crun_dev_symlinks_count, 5);
	for (size_t i = 0; i < 5; i++) {
		cr_assert_str_eq(crun_dev_symlinks[i].path, links[i][0]);
		cr_assert_str_eq(crun_dev_symlinks[i].target, links[i][1]);
	}
}

Test(crun_mounts, namespaces)
{
	int all = 0;
	for (size_t i = 0; i < crun_namespaces_count; i++)
		all |= crun_namespaces[i].flag;
	cr_assert_eq(all, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
			       CLONE_NEWPID | CLONE_NEWCGROUP);
	cr_assert_str_eq(crun_namespaces[0].name, "user", "the user namespace owns the others");
	cr_assert(crun_namespaces[0].userns_only);
	for (size_t i = 1; i < crun_namespaces_count; i++)
		cr_assert_not(crun_namespaces[i].userns_only);
}

Test(crun_mounts, overlay_data)
{
	char buf[4096];
	char *layers[] = { "/s/l/bottom", "/s/l/mid", "/s/l/top" };
	cr_assert_eq(crun_overlay_data(layers, 3, "/r/ct/a/upper", "/r/ct/a/work", false, buf, sizeof(buf), &err), 0,
		     "%s", err.msg);
	cr_assert_str_eq(buf, "lowerdir=/s/l/top:/s/l/mid:/s/l/bottom,upperdir=/r/ct/a/upper,workdir=/r/ct/a/work");
	cr_assert_eq(crun_overlay_data(layers, 1, "/u", "/w", true, buf, sizeof(buf), &err), 0);
	cr_assert_str_eq(buf, "lowerdir=/s/l/bottom,upperdir=/u,workdir=/w,userxattr");
	char *rep[] = { "/l/a", "/l/b", "/l/a", "/l/c", "/l/b" };
	cr_assert_eq(crun_overlay_data(rep, 5, "/u", "/w", false, buf, sizeof(buf), &err), 0);
	cr_assert_str_eq(buf, "lowerdir=/l/b:/l/c:/l/a,upperdir=/u,workdir=/w", "repeats: topmost kept");
}

Test(crun_mounts, overlay_data_rejects)
{
	char buf[4096];
	char *colon[] = { "/a:b" }, *comma[] = { "/a,b" }, *rel[] = { "a" }, *ok[] = { "/a" };
	cr_assert_eq(crun_overlay_data(colon, 1, "/u", "/w", false, buf, sizeof(buf), &err), -EINVAL);
	cr_assert(strstr(err.msg, "'/a:b'"), "%s", err.msg);
	cr_assert_eq(crun_overlay_data(comma, 1, "/u", "/w", false, buf, sizeof(buf), &err), -EINVAL);
	cr_assert_eq(crun_overlay_data(rel, 1, "/u", "/w", false, buf, sizeof(buf), &err), -EINVAL);
	cr_assert_eq(crun_overlay_data(ok, 0, "/u", "/w", false, buf, sizeof(buf), &err), -EINVAL);
	cr_assert_eq(crun_overlay_data(ok, 1, "/u\\", "/w", false, buf, sizeof(buf), &err), -EINVAL);
	cr_assert_eq(crun_overlay_data(ok, 1, "/u", "/w", false, buf, 10, &err), -E2BIG);
	/* more than a page of layers */
	static char paths[200][96];
	char *many[200];
	for (int i = 0; i < 200; i++) {
		snprintf(paths[i], sizeof(paths[i]), "/var/lib/cloudlet/images/layers/sha256/%040d", i);
		many[i] = paths[i];
	}
	static char big[16384];
	cr_assert_eq(crun_overlay_data(many, 200, "/u", "/w", false, big, sizeof(big), &err), -E2BIG);
	cr_assert(strstr(err.msg, "200 layers"), "%s", err.msg);
}
