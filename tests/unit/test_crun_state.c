/* crun/state.c and crun/lifecycle.c: state.json round trip, name claims,
 * and what ps/rm make of a container whose runtime died. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../crun/internal.h"

static char root[64];
static struct cl_error err;

static void setup(void)
{
	strcpy(root, "/tmp/cloudlet-test-state.XXXXXX");
	cr_assert_not_null(mkdtemp(root));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(crun_state, .init = setup, .fini = teardown);

Test(crun_state, round_trip)
{
	char *dir;
	cr_assert_eq(ct_state_create_dir(root, "web", &dir, &err), 0, "%s", err.msg);
	struct ct_state s = {
		.status = CRUN_RUNNING, .pid = 4242, .pid_start = 123456789ull, .monitor = 77,
		.monitor_start = 99, .exit_status = -1, .created = 1700000000, .detached = true,
		.cg = { .version = 1 },
	};
	strcpy(s.name, "web");
	strcpy(s.image, "build/images/oci:latest");
	strcpy(s.command, "/init serve \"quoted\"");
	strcpy(s.cg.path[CL_CG_MEMORY], "/sys/fs/cgroup/memory/cloudlet/web");
	strcpy(s.cg.parent[CL_CG_MEMORY], "/sys/fs/cgroup/memory/cloudlet");
	cr_assert_eq(ct_state_write(dir, &s, &err), 0, "%s", err.msg);
	struct ct_state t;
	cr_assert_eq(ct_state_read(dir, &t, &err), 0, "%s", err.msg);
	cr_assert_str_eq(t.name, "web");
	cr_assert_eq(t.status, CRUN_RUNNING);
	cr_assert_eq(t.pid, 4242);
	cr_assert_eq(t.pid_start, 123456789ull);
	cr_assert_eq(t.monitor, 77);
	cr_assert_eq(t.exit_status, -1);
	cr_assert_eq(t.created, 1700000000);
	cr_assert(t.detached);
	cr_assert_str_eq(t.command, "/init serve \"quoted\"");
	cr_assert_eq(t.cg.version, 1);
	cr_assert_str_eq(t.cg.path[CL_CG_MEMORY], "/sys/fs/cgroup/memory/cloudlet/web");
	cr_assert_str_eq(t.cg.path[CL_CG_PIDS], "");
	/* no temp file left */
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s/state.json.tmp", dir);
	cr_assert_neq(access(tmp, F_OK), 0);
	free(dir);
}

Test(crun_state, names_are_claimed_once)
{
	char *dir, *dir2 = (char *)1;
	cr_assert_eq(ct_state_create_dir(root, "a", &dir, &err), 0);
	cr_assert_eq(ct_state_create_dir(root, "a", &dir2, &err), -EEXIST);
	cr_assert(strstr(err.msg, "container 'a' already exists"), "%s", err.msg);
	cr_assert_null(dir2);
	free(dir);
}

Test(crun_state, remove_dir_with_unreadable_parts)
{
	char *dir, p[PATH_MAX];
	cr_assert_eq(ct_state_create_dir(root, "x", &dir, &err), 0);
	/* overlay's work/work is mode 0 */
	snprintf(p, sizeof(p), "%s/work", dir);
	cr_assert_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/work/work", dir);
	cr_assert_eq(mkdir(p, 0), 0);
	snprintf(p, sizeof(p), "%s/upper/a/b", dir);
	cr_assert_eq(cl_mkdir_p(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/upper/link", dir);
	cr_assert_eq(symlink("/etc", p), 0);
	cr_assert_eq(ct_state_remove_dir(dir, &err), 0, "%s", err.msg);
	cr_assert_neq(access(dir, F_OK), 0);
	cr_assert_eq(access("/etc/passwd", F_OK), 0, "never through a symlink");
	cr_assert_eq(ct_state_remove_dir(dir, &err), 0, "already gone is fine");
	free(dir);
}

Test(crun_state, dead_runtime_is_stopped_and_removable)
{
	char *dir;
	cr_assert_eq(ct_state_create_dir(root, "stale", &dir, &err), 0);
	/* running, but the process in charge is gone (pid_start never matches) */
	struct ct_state s = { .status = CRUN_RUNNING, .pid = getpid(), .pid_start = 1,
			      .monitor = getpid(), .monitor_start = 1, .exit_status = -1 };
	strcpy(s.name, "stale");
	cr_assert_eq(ct_state_write(dir, &s, &err), 0);
	struct crun_info *l;
	size_t n;
	cr_assert_eq(crun_list(root, &l, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(l[0].name, "stale");
	cr_assert_eq(l[0].status, CRUN_STOPPED);
	cr_assert_eq(l[0].exit_status, -1, "unknown");
	cr_assert_eq(l[0].pid, 0);
	free(l);
	cr_assert_eq(crun_stop(root, "stale", 0, &err), 0, "stopping a stopped container: %s", err.msg);
	cr_assert_eq(crun_rm(root, "stale", false, &err), 0, "%s", err.msg);
	cr_assert_neq(access(dir, F_OK), 0);
	cr_assert_eq(crun_rm(root, "stale", false, &err), -ENOENT);
	cr_assert(strstr(err.msg, "no such container 'stale'"), "%s", err.msg);
	cr_assert_eq(crun_rm(root, "../etc", false, &err), -EINVAL, "names are checked");
	free(dir);
}

Test(crun_state, list_sorted_and_skips_junk)
{
	const char *names[] = { "b", "a", "c" };
	for (int i = 0; i < 3; i++) {
		char *dir;
		cr_assert_eq(ct_state_create_dir(root, names[i], &dir, &err), 0);
		struct ct_state s = { .status = CRUN_STOPPED, .exit_status = i };
		strcpy(s.name, names[i]);
		cr_assert_eq(ct_state_write(dir, &s, &err), 0);
		free(dir);
	}
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/ct/half-made", root);   /* no state.json */
	cr_assert_eq(mkdir(p, 0700), 0);
	struct crun_info *l;
	size_t n;
	cr_assert_eq(crun_list(root, &l, &n, &err), 0);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(l[0].name, "a");
	cr_assert_eq(l[0].exit_status, 1);
	cr_assert_str_eq(l[2].name, "c");
	free(l);
}

Test(crun_state, pid_start)
{
	cr_assert_gt(cl_pid_start(getpid()), 0);
	cr_assert(cl_pid_alive(getpid(), cl_pid_start(getpid())));
	cr_assert_not(cl_pid_alive(getpid(), cl_pid_start(getpid()) + 1));
	cr_assert_not(cl_pid_alive(0, 1));
}
