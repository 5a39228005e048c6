/* cli/: the `cloudlet` command line. Commands and their options are data
 * (tables in cmd_*.c); cli_parse() turns argv into a struct cli_args without
 * I/O, cli_help() prints usage generated from the same tables, and main.c is
 * the only place that prints an error and exits. */
#ifndef CLOUDLET_CLI_H
#define CLOUDLET_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cloudlet/error.h"

#define CLI_MAX_OPTS 32

/* exit statuses, as in coreutils/docker: 2 is a usage error */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

enum cli_opt_type {
	CLI_FLAG,      /* no value */
	CLI_STR,       /* one value, last one wins */
	CLI_LIST,      /* repeatable, every value kept in order */
	CLI_SIZE,      /* "256M", parsed with cl_parse_size */
	CLI_UINT,      /* whole number, parsed with cl_parse_uint */
	CLI_DURATION,  /* "30s", parsed with cl_parse_duration_ms (num = ms) */
};

struct cli_opt {
	const char *name;        /* long name, without "--" */
	char short_name;         /* 0: none */
	enum cli_opt_type type;
	const char *metavar;     /* shown in help: "SIZE", "PATH" */
	const char *help;
	bool required;
};

struct cli_args;

struct cli_cmd {
	const char *name;        /* one or more words: "run", "subnet create" */
	const char *synopsis;    /* positionals as shown in help: "IMAGE [CMD ARGS...]" */
	const char *summary;
	const struct cli_opt *opts;   /* terminated by { 0 } */
	int min_args, max_args;  /* positional count; max_args < 0: unbounded */
	bool opts_first;         /* options end at the first positional (`ct run IMG ls -l`) */
	int (*run)(const struct cli_args *a, struct cl_error *err);
	const char *issue;       /* while run is NULL: the issue that brings it */
	const char *details;     /* more help text, shown by `CMD --help` */
};

struct cli_group {
	const char *name;
	const char *summary;
	const struct cli_cmd *cmds;   /* terminated by { 0 } */
};

struct cli_val {
	bool set;
	const char *str;         /* last value given */
	uint64_t num;            /* parsed SIZE / UINT / DURATION */
	const char **list;       /* CLI_LIST: every value */
	size_t nlist;
};

struct cli_args {
	const char *prog;
	const char *root;                 /* --root: state directory */
	const struct cli_group *group;    /* NULL: top level */
	const struct cli_cmd *cmd;        /* NULL: group level */
	bool help;                        /* help was asked for at this level */
	bool version;
	struct cli_val v[CLI_MAX_OPTS];   /* indexed like cmd->opts */
	char **pos;
	int npos;
};

extern const struct cli_group cli_groups[];

int cli_parse(const struct cli_group *groups, int argc, char **argv,
	      struct cli_args *a, struct cl_error *err);
void cli_args_free(struct cli_args *a);
void cli_help(FILE *out, const struct cli_group *groups, const struct cli_args *a);

/* Accessors by option name (the name must exist in the command's table). */
const struct cli_val *cli_opt(const struct cli_args *a, const char *name);
bool cli_flag(const struct cli_args *a, const char *name);
const char *cli_str(const struct cli_args *a, const char *name, const char *def);
uint64_t cli_num(const struct cli_args *a, const char *name, uint64_t def);

/* vm_sandbox.c: `vm run`'s sandbox options into the config and the jail,
 * its seccomp log lines, and `vm seccomp-profile`. */
struct vmm_config;
struct vmm_jail;
struct vmm_result;
int vm_sandbox_opts(const struct cli_args *a, struct vmm_config *c, struct vmm_jail *j,
		    struct cl_error *err);
void vm_sandbox_report(FILE *out, const struct vmm_result *res);
int vm_seccomp_profile(const struct cli_args *a, struct cl_error *err);

/* bench_jail.c: `bench vm-jail`'s second table, the VMM's seccomp surface
 * per thread kind next to Firecracker's */
void bench_jail_surface(FILE *out);

/* The running binary (/proc/self/exe), for what starts it again: the
 * benchmarks' runners, the functions' launchers. */
int cli_self_path(char *buf, size_t size, struct cl_error *err);
/* SIGINT and SIGTERM set the flag returned to the signal's number
 * (cli/signals.c): for commands that stop cleanly by polling it. */
volatile sig_atomic_t *cli_trap_interrupts(void);

/* The per-group command tables (cmd_*.c). */
extern const struct cli_cmd cli_vm_cmds[], cli_ct_cmds[], cli_vpc_cmds[],
	cli_host_cmds[], cli_fn_cmds[], cli_bench_cmds[], cli_image_cmds[], cli_agent_cmds[],
	cli_controller_cmds[];

#endif
