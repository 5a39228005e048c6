/* crun/spec.c: the workload's process from image config + command line,
 * and the value checks of `ct run`. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/crun.h"

static struct cl_error err;

static const char *env_get(char **env, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], key, n) && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

static size_t count(char **v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

Test(crun_spec, cpus_fixed_point)
{
	uint64_t q, p;
	cr_assert_eq(crun_parse_cpus("0.5", 2, &q, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(q, 50000);
	cr_assert_eq(p, 100000);
	cr_assert_eq(crun_parse_cpus("2", 2, &q, &p, &err), 0);
	cr_assert_eq(q, 200000);
	cr_assert_eq(crun_parse_cpus("1.25", 0, &q, &p, &err), 0);
	cr_assert_eq(q, 125000);
	cr_assert_eq(crun_parse_cpus(".5", 4, &q, &p, &err), 0);
	cr_assert_eq(q, 50000);
	cr_assert_eq(crun_parse_cpus("0.01", 4, &q, &p, &err), 0);
	cr_assert_eq(q, 1000);
	cr_assert_eq(crun_parse_cpus("0.33333", 4, &q, &p, &err), 0);
	cr_assert_eq(q, 33333);
	cr_assert_eq(crun_parse_cpus("3.", 4, &q, &p, &err), 0);
	cr_assert_eq(q, 300000);
}

Test(crun_spec, cpus_rejected)
{
	uint64_t q = 7, p = 7;
	const char *bad[] = { "", ".", "-1", "+1", "0", "0.0", "0.009", "abc", "1e3", "1,5",
			      "0.5 ", " 0.5", "0.123456", "99999999999", NULL };
	for (int i = 0; bad[i]; i++) {
		cl_err_clear(&err);
		cr_assert_lt(crun_parse_cpus(bad[i], 0, &q, &p, &err), 0, "accepted '%s'", bad[i]);
		cr_assert_neq(err.msg[0], '\0');
		cr_assert_null(strchr(err.msg, '\n'));
	}
	cr_assert_eq(crun_parse_cpus("3", 2, &q, &p, &err), -ERANGE);
	cr_assert(strstr(err.msg, "more than this host's 2"), "%s", err.msg);
	cr_assert_eq(crun_parse_cpus("0.001", 2, &q, &p, &err), -ERANGE);
	cr_assert(strstr(err.msg, "minimum of 0.01"), "%s", err.msg);
	cr_assert_eq(q, 7, "output written on error");
}

Test(crun_spec, limits)
{
	struct cl_cg_limits l = { 0 };
	cr_assert_eq(crun_check_limits(&l, &err), 0);
	l.memory = 64 << 20;
	l.pids = 128;
	cr_assert_eq(crun_check_limits(&l, &err), 0);
	l.memory = 1 << 20;
	cr_assert_eq(crun_check_limits(&l, &err), -ERANGE);
	cr_assert(strstr(err.msg, "memory limit"), "%s", err.msg);
	l.memory = CRUN_MIN_MEMORY;
	l.pids = 1;
	cr_assert_eq(crun_check_limits(&l, &err), -ERANGE);
	cr_assert(strstr(err.msg, "pids limit 1"), "%s", err.msg);
}

Test(crun_spec, names_and_hostnames)
{
	cr_assert_eq(crun_check_name("web-1", &err), 0);
	cr_assert_eq(crun_check_name("a_b.c", &err), 0);
	const char *bad[] = { "", "-x", ".x", "a/b", "a b", "..", "x$",
			      "0123456789012345678901234567890123456789012345678901234567890123", NULL };
	for (int i = 0; bad[i]; i++)
		cr_assert_lt(crun_check_name(bad[i], &err), 0, "accepted '%s'", bad[i]);
	cr_assert_eq(crun_check_hostname("box.example", &err), 0);
	cr_assert_lt(crun_check_hostname("a_b", &err), 0);
	cr_assert_lt(crun_check_hostname("", &err), 0);
	cr_assert_lt(crun_check_hostname("-a", &err), 0);
}

Test(crun_spec, entrypoint_plus_image_cmd)
{
	char *ep[] = { "/init", NULL }, *cmd[] = { "exit", NULL };
	char *ienv[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "A=1", NULL };
	struct crun_image_config ic = { .entrypoint = ep, .cmd = cmd, .env = ienv, .working_dir = "/" };
	struct crun_process p;
	cr_assert_eq(crun_spec_process(&ic, NULL, 0, NULL, 0, "box", false, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(count(p.args), 2);
	cr_assert_str_eq(p.args[0], "/init");
	cr_assert_str_eq(p.args[1], "exit");
	cr_assert_str_eq(env_get(p.env, "PATH"), "/usr/sbin:/usr/bin:/sbin:/bin", "the image's PATH wins");
	cr_assert_str_eq(env_get(p.env, "A"), "1");
	cr_assert_str_eq(env_get(p.env, "HOSTNAME"), "box");
	cr_assert_null(env_get(p.env, "TERM"));
	cr_assert_str_eq(p.cwd, "/");
	cr_assert_str_eq(p.user, "");
	crun_process_free(&p);
}

Test(crun_spec, command_line_cmd_replaces_cmd_only)
{
	char *ep[] = { "/init", NULL }, *cmd[] = { "exit", NULL };
	struct crun_image_config ic = { .entrypoint = ep, .cmd = cmd };
	char *over[] = { "run", "sh", "-c", "exit 3" };
	struct crun_process p;
	cr_assert_eq(crun_spec_process(&ic, over, 4, NULL, 0, NULL, true, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(count(p.args), 5);
	cr_assert_str_eq(p.args[0], "/init");
	cr_assert_str_eq(p.args[1], "run");
	cr_assert_str_eq(p.args[4], "exit 3");
	cr_assert_str_eq(env_get(p.env, "PATH"), CRUN_DEFAULT_PATH, "a default PATH");
	cr_assert_str_eq(env_get(p.env, "TERM"), "xterm", "-t sets TERM");
	crun_process_free(&p);
}

Test(crun_spec, no_entrypoint)
{
	char *cmd[] = { "sh", NULL };
	struct crun_image_config ic = { .cmd = cmd, .working_dir = "srv", .user = "1000:1000" };
	char *over[] = { "ls", "-l" };
	struct crun_process p;
	cr_assert_eq(crun_spec_process(&ic, over, 2, NULL, 0, NULL, false, &p, &err), 0);
	cr_assert_eq(count(p.args), 2);
	cr_assert_str_eq(p.args[0], "ls");
	cr_assert_str_eq(p.cwd, "/srv", "relative WorkingDir from /");
	cr_assert_str_eq(p.user, "1000:1000");
	crun_process_free(&p);
	/* a rootfs directory has no config at all */
	cr_assert_eq(crun_spec_process(NULL, over, 1, NULL, 0, NULL, false, &p, &err), 0);
	cr_assert_eq(count(p.args), 1);
	cr_assert_str_eq(p.cwd, "/");
	crun_process_free(&p);
}

Test(crun_spec, nothing_to_run)
{
	struct crun_image_config ic = { 0 };
	struct crun_process p;
	cr_assert_eq(crun_spec_process(&ic, NULL, 0, NULL, 0, NULL, false, &p, &err), -EINVAL);
	cr_assert(strstr(err.msg, "no command to run"), "%s", err.msg);
	cr_assert_null(p.args);
}

Test(crun_spec, env_overrides_by_key)
{
	char *ienv[] = { "A=1", "B=2", "PATH=/bin", NULL };
	struct crun_image_config ic = { .cmd = (char *[]){ "x", NULL }, .env = ienv };
	const char *cli[] = { "B=two", "C=", "A=x=y", "HOSTNAME=mine" };
	struct crun_process p;
	cr_assert_eq(crun_spec_process(&ic, NULL, 0, cli, 4, "box", false, &p, &err), 0, "%s", err.msg);
	cr_assert_str_eq(env_get(p.env, "A"), "x=y");
	cr_assert_str_eq(env_get(p.env, "B"), "two");
	cr_assert_str_eq(env_get(p.env, "C"), "");
	cr_assert_str_eq(env_get(p.env, "HOSTNAME"), "mine", "--env beats the default");
	cr_assert_str_eq(env_get(p.env, "PATH"), "/bin");
	cr_assert_eq(count(p.env), 5, "no duplicates");
	cr_assert_str_eq(p.env[0], "A=x=y", "overrides keep the image's order");
	crun_process_free(&p);
	const char *bad[] = { "NOEQUALS" };
	cr_assert_eq(crun_spec_process(&ic, NULL, 0, bad, 1, NULL, false, &p, &err), -EINVAL);
	cr_assert(strstr(err.msg, "--env 'NOEQUALS': expected KEY=VALUE"), "%s", err.msg);
	const char *bad2[] = { "=v" };
	cr_assert_eq(crun_spec_process(&ic, NULL, 0, bad2, 1, NULL, false, &p, &err), -EINVAL);
}

Test(crun_spec, env_set)
{
	char **env = NULL;
	cr_assert_eq(crun_env_set(&env, "HOME", "/root", false), 0);
	cr_assert_eq(crun_env_set(&env, "HOME", "/x", false), 0);
	cr_assert_str_eq(env_get(env, "HOME"), "/root");
	cr_assert_eq(crun_env_set(&env, "HOME", "/x", true), 0);
	cr_assert_str_eq(env_get(env, "HOME"), "/x");
	cr_assert_eq(crun_env_set(&env, "HOMER", "s", false), 0);
	cr_assert_eq(count(env), 2);
	struct crun_process p = { .env = env };
	crun_process_free(&p);
}

static const char passwd[] =
	"root:x:0:0:root:/root:/bin/sh\n"
	"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
	"# comment:x:5:5::/:/\n"
	"app:x:1000:1001:App:/home/app:/bin/sh\n"
	"nohome:x:1002:1002::";
static const char group[] = "root:x:0:\nwheel:x:10:app\napp:x:1001:\n";

Test(crun_spec, user_resolve)
{
	uid_t u;
	gid_t g;
	char *home;
	cr_assert_eq(crun_user_resolve("", passwd, group, &u, &g, &home, &err), 0, "%s", err.msg);
	cr_assert(u == 0 && g == 0);
	cr_assert_str_eq(home, "/root");
	free(home);
	cr_assert_eq(crun_user_resolve("app", passwd, group, &u, &g, &home, &err), 0);
	cr_assert(u == 1000 && g == 1001);
	cr_assert_str_eq(home, "/home/app");
	free(home);
	cr_assert_eq(crun_user_resolve("app:wheel", passwd, group, &u, &g, &home, &err), 0);
	cr_assert(u == 1000 && g == 10);
	free(home);
	cr_assert_eq(crun_user_resolve("1000", passwd, group, &u, &g, &home, &err), 0);
	cr_assert(u == 1000 && g == 1001, "a known uid takes its passwd gid");
	free(home);
	cr_assert_eq(crun_user_resolve("4242:7", NULL, NULL, &u, &g, &home, &err), 0);
	cr_assert(u == 4242 && g == 7);
	cr_assert_str_eq(home, "/");
	free(home);
	cr_assert_eq(crun_user_resolve("4242", passwd, group, &u, &g, &home, &err), 0);
	cr_assert(u == 4242 && g == 0);
	free(home);
	cr_assert_eq(crun_user_resolve("nohome", passwd, group, &u, &g, &home, &err), 0);
	cr_assert_str_eq(home, "/");
	free(home);
}

Test(crun_spec, user_resolve_errors)
{
	uid_t u;
	gid_t g;
	char *home = (char *)1;
	cr_assert_eq(crun_user_resolve("nobody", passwd, group, &u, &g, &home, &err), -ENOENT);
	cr_assert(strstr(err.msg, "user 'nobody' not found"), "%s", err.msg);
	cr_assert_null(home);
	cr_assert_eq(crun_user_resolve("app:nogroup", passwd, group, &u, &g, &home, &err), -ENOENT);
	cr_assert(strstr(err.msg, "group 'nogroup'"), "%s", err.msg);
	cr_assert_lt(crun_user_resolve("comment", passwd, group, &u, &g, &home, &err), 0,
		     "comment lines are no users");
	cr_assert_lt(crun_user_resolve(":1", passwd, group, &u, &g, &home, &err), 0);
	cr_assert_lt(crun_user_resolve("app:", passwd, group, &u, &g, &home, &err), 0);
	cr_assert_lt(crun_user_resolve("4294967295", passwd, group, &u, &g, &home, &err), 0);
}
