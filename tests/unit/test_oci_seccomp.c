/* A bundle's linux.seccomp (crun/seccomp_oci.c): config-linux.md's example
 * parsed, what is refused by name, `spec`'s profile compiling to the very
 * filter of the built-in table, and profiles loaded in a child process
 * (mkdir failing with a chosen errno, personality filtered on its
 * argument) - seccomp needs no privilege once no_new_privs is set. */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cloudlet/crun.h"

static struct cl_error err;

static struct crun_seccomp *parse(const char *json, int *rc)
{
	json_object *o = json_tokener_parse(json);
	cr_assert_not_null(o, "bad test JSON: %s", json);
	struct crun_seccomp *p = NULL;
	cl_err_clear(&err);
	*rc = crun_seccomp_parse(o, &p, &err);
	json_object_put(o);
	return p;
}

/* config-linux.md's example, plus args and flags */
Test(oci_seccomp, config_linux_md_example)
{
	int rc;
	struct crun_seccomp *p = parse(
		"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"],"
		" \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],"
		" \"syscalls\": [{\"names\": [\"getcwd\", \"chmod\"], \"action\": \"SCMP_ACT_ERRNO\"},"
		"  {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 22,"
		"   \"args\": [{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"},"
		"              {\"index\": 1, \"value\": 255, \"valueTwo\": 4, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}",
		&rc);
	cr_assert_eq(rc, 0, "%s", err.msg);
	cr_assert_eq(p->default_action, SCMP_ACT_ALLOW);
	cr_assert_eq(p->narches, 2);
	cr_assert_eq(p->arches[0], SCMP_ARCH_X86);
	cr_assert_eq(p->arches[1], SCMP_ARCH_X32);
	cr_assert_eq(p->flags, CRUN_SC_FLAG_LOG);
	cr_assert_eq(p->nrules, 2);
	cr_assert_str_eq(p->rules[0].names[1], "chmod");
	cr_assert_eq(p->rules[0].action, SCMP_ACT_ERRNO(EPERM), "no errnoRet: EPERM, as runc");
	cr_assert_eq(p->rules[1].action, SCMP_ACT_ERRNO(22));
	cr_assert_eq(p->rules[1].nargs, 2);
	cr_assert_eq(p->rules[1].args[1].op, SCMP_CMP_MASKED_EQ);
	cr_assert_eq(p->rules[1].args[1].value_two, 4);
	scmp_filter_ctx ctx;
	cr_assert_eq(crun_seccomp_compile(p, &ctx, &err), 0, "%s", err.msg);
	seccomp_release(ctx);
	crun_seccomp_free(p);
}

static void refused(const char *json, const char *msg_part)
{
	int rc;
	struct crun_seccomp *p = parse(json, &rc);
	cr_assert_lt(rc, 0, "accepted: %s", json);
	cr_assert_not_null(strstr(err.msg, msg_part), "'%s' lacks '%s'", err.msg, msg_part);
	crun_seccomp_free(p);
}

Test(oci_seccomp, refused_by_name)
{
	refused("{\"defaultAction\": \"SCMP_ACT_MAYBE\"}", "unknown seccomp action 'SCMP_ACT_MAYBE'");
	refused("{}", "no action");
	refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
		"SCMP_ACT_NOTIFY");
	refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_KILL\","
		" \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_ABOUT\"}]}]}",
		"unknown seccomp operator 'SCMP_CMP_ABOUT'");
	refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_KILL\","
		" \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}", "index must be 0 to 5");
	refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_Z80\"]}",
		"unknown architecture 'SCMP_ARCH_Z80'");
	refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"]}",
		"unsupported flag 'SECCOMP_FILTER_FLAG_NEW_LISTENER'");
	refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"action\": \"SCMP_ACT_KILL\"}]}",
		"syscalls[0]: no names");
	refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 70000}", "errnoRet 70000 out of range");
	refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/run/agent.sock\"}", "listenerPath");
}

/* names another architecture (or a newer kernel) has are skipped, as runc */
Test(oci_seccomp, unknown_syscall_names_skipped)
{
	int rc;
	struct crun_seccomp *p = parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
				       "{\"names\": [\"no_such_call_ever\", \"mkdir\"], \"action\": \"SCMP_ACT_KILL\"}]}", &rc);
	cr_assert_eq(rc, 0, "%s", err.msg);
	scmp_filter_ctx ctx;
	cr_assert_eq(crun_seccomp_compile(p, &ctx, &err), 0, "%s", err.msg);
	seccomp_release(ctx);
	crun_seccomp_free(p);
}

static char *bpf_of(scmp_filter_ctx ctx, size_t *len)
{
	int fd = memfd_create("bpf", 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(seccomp_export_bpf(ctx, fd), 0);
	off_t n = lseek(fd, 0, SEEK_END);
	char *buf = malloc((size_t)n + 1);
	cr_assert_eq(pread(fd, buf, (size_t)n, 0), n);
	close(fd);
	*len = (size_t)n;
	return buf;
}

/* `spec` writes the built-in table as linux.seccomp: a bundle made from it
 * gets exactly ct run's filter */
Test(oci_seccomp, spec_profile_is_the_builtin_filter)
{
	char *t = crun_spec_default(false);
	struct crun_bundle b;
	cr_assert_eq(crun_bundle_parse(t, "/b", &b, &err), 0, "%s", err.msg);
	cr_assert_not_null(b.seccomp);
	scmp_filter_ctx ours, builtin = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	cr_assert_eq(crun_seccomp_compile(b.seccomp, &ours, &err), 0, "%s", err.msg);
	cr_assert_eq(cl_seccomp_add(builtin, crun_seccomp_default, crun_seccomp_default_count, &err), 0);
	size_t n1, n2;
	char *a = bpf_of(ours, &n1), *c = bpf_of(builtin, &n2);
	cr_assert_eq(n1, n2, "spec's profile compiles to %zu bytes, the table to %zu", n1, n2);
	cr_assert_eq(memcmp(a, c, n1), 0, "spec's profile is not the built-in filter");
	free(a);
	free(c);
	seccomp_release(ours);
	seccomp_release(builtin);
	crun_bundle_free(&b);
	free(t);
}

/* load p in a child, run probe there: its exit status */
static int in_child(const char *json, int (*probe)(void))
{
	int rc;
	struct crun_seccomp *p = parse(json, &rc);
	cr_assert_eq(rc, 0, "%s", err.msg);
	scmp_filter_ctx ctx;
	cr_assert_eq(crun_seccomp_compile(p, &ctx, &err), 0, "%s", err.msg);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	/* exit_group itself: a sanitizer's exit hooks (LeakSanitizer) would make
	 * syscalls the profile under test may refuse */
	if (pid == 0)
		syscall(SYS_exit_group, seccomp_load(ctx) < 0 ? 100 : probe());
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	seccomp_release(ctx);
	crun_seccomp_free(p);
	cr_assert(WIFEXITED(st), "the probe died (signal %d)", WTERMSIG(st));
	return WEXITSTATUS(st);
}

static int probe_mkdir(void)
{
	return mkdir("/nonexistent-dir/x", 0700) < 0 ? errno : 0;   /* ENOENT unfiltered */
}

static int probe_personality(void)
{
	/* 0xffffffff queries; PER_LINUX32 (8) is filtered, PER_LINUX (0) is not */
	int a = personality(PER_LINUX32) < 0 ? errno : 0;
	int b = personality(PER_LINUX) < 0 ? errno : 0;
	return a * 10 + b;
}

Test(oci_seccomp, loaded_errno_and_args)
{
	cr_assert_eq(in_child("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"],"
			      " \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 28}]}", probe_mkdir), ENOSPC);
	cr_assert_eq(in_child("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"],"
			      " \"action\": \"SCMP_ACT_ERRNO\"}]}", probe_mkdir), EPERM);
	cr_assert_eq(in_child("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}", probe_mkdir), ENOENT);
	cr_assert_eq(in_child("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"personality\"],"
			      " \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1,"
			      " \"args\": [{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"}]}]}", probe_personality),
		     EPERM * 10 + 0);
	/* an allowlist: the default fails with defaultErrnoRet */
	cr_assert_eq(in_child("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,"
			      " \"syscalls\": [{\"names\": [\"exit_group\", \"exit\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
			      probe_mkdir), ENOSYS);
}
