#include <criterion/criterion.h>
#include <string.h>

#include "../../cli/cli.h"

static struct cli_args a;
static struct cl_error err;

static int parse(int argc, char **argv)
{
	cl_err_clear(&err);
	return cli_parse(cli_groups, argc, argv, &a, &err);
}

static void fini(void)
{
	cli_args_free(&a);
}

TestSuite(cli, .fini = fini);

#define ARGV(...) (char *[]){ "cloudlet", __VA_ARGS__, NULL }
#define ARGC(...) ((int)(sizeof((char *[]){ "cloudlet", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(...) parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

Test(cli, vm_run_options)
{
	cr_assert_eq(PARSE("vm", "run", "--kernel", "bz", "--mem=512M", "-c", "console=ttyS0",
			   "--cpus", "2", "--timeout", "90s"), 0, "%s", err.msg);
	cr_assert_str_eq(a.group->name, "vm");
	cr_assert_str_eq(a.cmd->name, "run");
	cr_assert_str_eq(cli_str(&a, "kernel", NULL), "bz");
	cr_assert_eq(cli_num(&a, "mem", 0), 512u << 20);
	cr_assert_eq(cli_num(&a, "cpus", 1), 2);
	cr_assert_eq(cli_num(&a, "timeout", 0), 90000);
	cr_assert_str_eq(cli_str(&a, "cmdline", NULL), "console=ttyS0");
	cr_assert_null(cli_str(&a, "initrd", NULL));
	cr_assert_eq(cli_num(&a, "mem", 0), 512u << 20);
}

Test(cli, unknown_command)
{
	cr_assert_lt(PARSE("frobnicate"), 0);
	cr_assert_str_eq(err.msg, "unknown command 'frobnicate' (try 'cloudlet --help')");
	cli_args_free(&a);
	cr_assert_lt(PARSE("vm", "fly"), 0);
	cr_assert_str_eq(err.msg, "vm: unknown command 'fly' (try 'cloudlet vm --help')");
}

Test(cli, unknown_option_names_it)
{
	cr_assert_lt(PARSE("vm", "run", "--kernel", "k", "--bogus"), 0);
	cr_assert_str_eq(err.msg, "vm run: unknown option '--bogus' (try 'cloudlet vm run --help')");
	cli_args_free(&a);
	cr_assert_lt(PARSE("--verbose", "vm"), 0);
	cr_assert(strstr(err.msg, "unknown option '--verbose'"), "%s", err.msg);
}

Test(cli, missing_things)
{
	cr_assert_lt(PARSE("vm", "run"), 0);
	cr_assert(strstr(err.msg, "missing option --kernel"), "%s", err.msg);
	cli_args_free(&a);
	cr_assert_lt(PARSE("vm", "run", "--kernel"), 0);
	cr_assert(strstr(err.msg, "option --kernel needs a value"), "%s", err.msg);
	cli_args_free(&a);
	cr_assert_lt(parse(1, (char *[]){ "cloudlet", NULL }), 0);
	cr_assert(strstr(err.msg, "missing command"), "%s", err.msg);
	cli_args_free(&a);
	cr_assert_lt(PARSE("ct", "run"), 0);
	cr_assert(strstr(err.msg, "missing argument: IMAGE"), "%s", err.msg);
	cli_args_free(&a);
	cr_assert_lt(PARSE("ct", "stop", "a", "b"), 0);
	cr_assert(strstr(err.msg, "unexpected argument 'b'"), "%s", err.msg);
}

Test(cli, bad_values)
{
	cr_assert_lt(PARSE("vm", "run", "-k", "k", "--mem", "lots"), 0);
	cr_assert(strstr(err.msg, "vm run: --mem: 'lots' is not a size"), "%s", err.msg);
	cli_args_free(&a);
	cr_assert_lt(PARSE("vm", "run", "-k", "k", "--cpus", "-1"), 0);
	cr_assert(strstr(err.msg, "unknown option '-1'") || strstr(err.msg, "--cpus"), "%s", err.msg);
	cli_args_free(&a);
	cr_assert_lt(PARSE("ct", "run", "--rootless=yes", "img"), 0);
	cr_assert(strstr(err.msg, "--rootless takes no value"), "%s", err.msg);
}

Test(cli, ct_run_stops_options_at_image)
{
	cr_assert_eq(PARSE("ct", "run", "-e", "A=1", "--env", "B=2", "-t", "img:latest", "ls", "-l", "--help"), 0,
		     "%s", err.msg);
	cr_assert_not(a.help);
	cr_assert(cli_flag(&a, "tty"));
	const struct cli_val *env = cli_opt(&a, "env");
	cr_assert_eq(env->nlist, 2);
	cr_assert_str_eq(env->list[0], "A=1");
	cr_assert_str_eq(env->list[1], "B=2");
	cr_assert_eq(a.npos, 4);
	cr_assert_str_eq(a.pos[0], "img:latest");
	cr_assert_str_eq(a.pos[2], "-l");
	cr_assert_str_eq(a.pos[3], "--help");
}

Test(cli, multiword_commands_and_globals)
{
	cr_assert_eq(PARSE("--root", "/tmp/st", "vpc", "sg", "rule", "add", "v/web", "--ingress",
			   "--proto", "tcp", "--port", "8080"), 0, "%s", err.msg);
	cr_assert_str_eq(a.root, "/tmp/st");
	cr_assert_str_eq(a.cmd->name, "sg rule add");
	cr_assert_str_eq(a.pos[0], "v/web");
	cr_assert(cli_flag(&a, "ingress"));
	cli_args_free(&a);
	cr_assert_eq(PARSE("vpc", "subnet", "create", "v/a", "--cidr", "10.0.1.0/24"), 0, "%s", err.msg);
	cr_assert_str_eq(a.cmd->name, "subnet create");
}

Test(cli, help_at_every_level)
{
	cr_assert_eq(PARSE("--help"), 0);
	cr_assert(a.help && !a.group);
	cli_args_free(&a);
	cr_assert_eq(PARSE("ct", "--help"), 0);
	cr_assert(a.help && a.group && !a.cmd);
	cli_args_free(&a);
	cr_assert_eq(PARSE("vpc", "subnet", "create", "--help"), 0);
	cr_assert(a.help && a.cmd);
	cr_assert_str_eq(a.cmd->name, "subnet create");
	cli_args_free(&a);
	cr_assert_eq(PARSE("help", "vm", "run"), 0);
	cr_assert(a.help && a.cmd);
}

/* Every table is well formed: option counts fit, names unique, each
 * unimplemented command names its issue, and help prints each option. */
Test(cli, tables_are_consistent)
{
	for (const struct cli_group *g = cli_groups; g->name; g++)
		for (const struct cli_cmd *c = g->cmds; c->name; c++) {
			int n = 0;
			cr_assert(c->run || (c->issue && c->issue[0] == '#'), "%s %s", g->name, c->name);
			for (const struct cli_opt *o = c->opts; o && o->name; o++, n++) {
				cr_assert(o->help && *o->help);
				cr_assert_neq(o->short_name, 'h', "-h is help");
				for (const struct cli_opt *p = o + 1; p->name; p++) {
					cr_assert_str_neq(o->name, p->name);
					cr_assert(!o->short_name || o->short_name != p->short_name);
				}
				cr_assert((o->type == CLI_FLAG) == (o->metavar == NULL),
					  "%s %s --%s: metavar iff it takes a value", g->name, c->name, o->name);
			}
			cr_assert_lt(n, CLI_MAX_OPTS);

			char *buf = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&buf, &len);
			struct cli_args h = { .prog = "cloudlet", .group = g, .cmd = c, .help = true };
			cli_help(f, cli_groups, &h);
			fclose(f);
			for (const struct cli_opt *o = c->opts; o && o->name; o++) {
				char want[64];
				snprintf(want, sizeof(want), "--%s", o->name);
				cr_assert(strstr(buf, want), "help of %s %s lacks %s", g->name, c->name, want);
			}
			free(buf);
		}
}

/* a group that is one command: `cloudlet agent --host NAME` */
Test(cli, one_command_group)
{
	cr_assert_eq(PARSE("agent", "--host", "h1", "--interval", "2s"), 0, "%s", err.msg);
	cr_assert_str_eq(a.group->name, "agent");
	cr_assert_str_eq(cli_str(&a, "host", NULL), "h1");
	cr_assert_eq(cli_num(&a, "interval", 0), 2000);
	cli_args_free(&a);
	cr_assert_lt(PARSE("agent"), 0);
	cr_assert_str_eq(err.msg, "agent: missing option --host NAME (try 'cloudlet agent --help')");
	cli_args_free(&a);
	cr_assert_lt(PARSE("agent", "--host", "h1", "h2"), 0);
	cr_assert(strstr(err.msg, "unexpected argument 'h2'"), "%s", err.msg);
	cli_args_free(&a);
	cr_assert_eq(PARSE("agent", "--help"), 0);
	cr_assert(a.help && a.cmd);
	cli_args_free(&a);
	cr_assert_eq(PARSE("host", "agent", "h1"), 0, "the older spelling");
	cr_assert_str_eq(a.pos[0], "h1");
}
