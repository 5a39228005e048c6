/* argv -> struct cli_args, driven by the command tables. Pure: no printing,
 * no exiting; every problem comes back as one line in *err. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cloudlet/parse.h"

/* Count the words of a command name and check they match argv[i..]. */
static int cmd_match(const char *name, int argc, char **argv, int i)
{
	int words = 0;
	const char *p = name;
	while (*p) {
		size_t len = strcspn(p, " ");
		if (i + words >= argc || strlen(argv[i + words]) != len ||
		    strncmp(argv[i + words], p, len))
			return 0;
		words++;
		p += len;
		p += strspn(p, " ");
	}
	return words;
}

static const struct cli_opt *opt_find(const struct cli_cmd *cmd, const char *name,
				      size_t len, char short_name, int *idx)
{
	for (int k = 0; cmd->opts && cmd->opts[k].name; k++) {
		const struct cli_opt *o = &cmd->opts[k];
		if ((short_name && o->short_name == short_name) ||
		    (!short_name && strlen(o->name) == len && !strncmp(o->name, name, len))) {
			*idx = k;
			return o;
		}
	}
	return NULL;
}

static int opt_store(struct cli_args *a, const struct cli_opt *o, int idx,
		     const char *val, struct cl_error *err)
{
	struct cli_val *v = &a->v[idx];
	int r = 0;
	switch (o->type) {
	case CLI_FLAG:
		break;
	case CLI_STR:
		break;
	case CLI_LIST: {
		const char **l = realloc(v->list, (v->nlist + 1) * sizeof(*l));
		if (!l)
			return cl_err(err, ENOMEM, "out of memory");
		l[v->nlist++] = val;
		v->list = l;
		break;
	}
	case CLI_SIZE:
		r = cl_parse_size(val, &v->num, err);
		break;
	case CLI_UINT:
		r = cl_parse_uint(val, 0, UINT64_MAX, &v->num, err);
		break;
	case CLI_DURATION:
		r = cl_parse_duration_ms(val, &v->num, err);
		break;
	}
	if (r < 0)
		return cl_err_wrap(err, "--%s", o->name);
	v->set = true;
	v->str = val;
	return 0;
}

static int parse_cmd_args(struct cli_args *a, int argc, char **argv, int i,
			  struct cl_error *err)
{
	const struct cli_cmd *cmd = a->cmd;
	bool only_pos = false;

	a->pos = calloc((size_t)argc + 1, sizeof(*a->pos));
	if (!a->pos)
		return cl_err(err, ENOMEM, "out of memory");
	for (; i < argc; i++) {
		char *arg = argv[i];
		if (only_pos || arg[0] != '-' || !arg[1]) {
			a->pos[a->npos++] = arg;
			if (cmd->opts_first)
				only_pos = true;
			continue;
		}
		if (!strcmp(arg, "--")) {
			only_pos = true;
			continue;
		}
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			a->help = true;
			return 0;
		}
		const struct cli_opt *o;
		const char *val = NULL;
		int idx;
		if (arg[1] == '-') {
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			o = opt_find(cmd, name, len, 0, &idx);
			if (eq)
				val = eq + 1;
		} else {
			o = opt_find(cmd, NULL, 0, arg[1], &idx);
			if (arg[2])
				val = arg + 2;
		}
		if (!o)
			return cl_err(err, EINVAL, "unknown option '%s'", arg);
		if (o->type == CLI_FLAG) {
			if (val)
				return cl_err(err, EINVAL, "option --%s takes no value", o->name);
		} else if (!val) {
			if (i + 1 >= argc)
				return cl_err(err, EINVAL, "option --%s needs a value (%s)",
					      o->name, o->metavar ? o->metavar : "VALUE");
			val = argv[++i];
		}
		int r = opt_store(a, o, idx, val, err);
		if (r < 0)
			return r;
	}
	for (int k = 0; cmd->opts && cmd->opts[k].name; k++)
		if (cmd->opts[k].required && !a->v[k].set)
			return cl_err(err, EINVAL, "missing option --%s %s", cmd->opts[k].name,
				      cmd->opts[k].metavar ? cmd->opts[k].metavar : "");
	if (a->npos < cmd->min_args)
		return cl_err(err, EINVAL, "missing argument: %s", cmd->synopsis ? cmd->synopsis : "");
	if (cmd->max_args >= 0 && a->npos > cmd->max_args)
		return cl_err(err, EINVAL, "unexpected argument '%s'", a->pos[cmd->max_args]);
	return 0;
}

int cli_parse(const struct cli_group *groups, int argc, char **argv,
	      struct cli_args *a, struct cl_error *err)
{
	const char *slash;
	int i = 1, r;

	memset(a, 0, sizeof(*a));
	a->prog = argc > 0 && argv[0] ? argv[0] : "cloudlet";
	if ((slash = strrchr(a->prog, '/')))
		a->prog = slash + 1;

	/* global options, before the command */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			a->help = true;
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			a->version = true;
			return 0;
		} else if (!strcmp(argv[i], "--root")) {
			if (i + 1 >= argc)
				return cl_err(err, EINVAL, "option --root needs a value (DIR)");
			a->root = argv[++i];
		} else if (!strncmp(argv[i], "--root=", 7)) {
			a->root = argv[i] + 7;
		} else {
			return cl_err(err, EINVAL, "unknown option '%s' (try '%s --help')",
				      argv[i], a->prog);
		}
	}
	if (i >= argc)
		return cl_err(err, EINVAL, "missing command (try '%s --help')", a->prog);
	if (!strcmp(argv[i], "help")) {    /* `cloudlet help vm run` == `cloudlet vm run --help` */
		a->help = true;
		i++;
		if (i >= argc)
			return 0;
	}
	for (const struct cli_group *g = groups; g->name; g++)
		if (!strcmp(g->name, argv[i]))
			a->group = g;
	if (!a->group)
		return cl_err(err, EINVAL, "unknown command '%s' (try '%s --help')", argv[i], a->prog);
	i++;
	/* a group that is one command (`cloudlet agent --host H`): its
	 * table's only entry has an empty name */
	bool single = !a->group->cmds[0].name[0];
	if (single)
		a->cmd = a->group->cmds;
	if (i < argc && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")))
		a->help = true;
	if (a->help && (single || i >= argc || argv[i][0] == '-'))
		return 0;
	if (i >= argc && !single)
		return cl_err(err, EINVAL, "%s: missing command (try '%s %s --help')",
			      a->group->name, a->prog, a->group->name);

	int best = 0;
	for (const struct cli_cmd *c = a->group->cmds; c->name && !single; c++) {
		int w = cmd_match(c->name, argc, argv, i);
		if (w > best) {
			best = w;
			a->cmd = c;
		}
	}
	if (!a->cmd)
		return cl_err(err, EINVAL, "%s: unknown command '%s' (try '%s %s --help')",
			      a->group->name, argv[i], a->prog, a->group->name);
	if (a->help)
		return 0;
	r = parse_cmd_args(a, argc, argv, i + best, err);
	if (r < 0) {
		char msg[CL_ERR_MSG_MAX], name[128];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		snprintf(name, sizeof(name), "%s%s%s", a->group->name, single ? "" : " ", a->cmd->name);
		return cl_err(err, err->code, "%s: %.700s (try '%s %s --help')", name, msg, a->prog, name);
	}
	return 0;
}

void cli_args_free(struct cli_args *a)
{
	for (int k = 0; k < CLI_MAX_OPTS; k++)
		free(a->v[k].list);
	free(a->pos);
	memset(a, 0, sizeof(*a));
}

const struct cli_val *cli_opt(const struct cli_args *a, const char *name)
{
	for (int k = 0; a->cmd && a->cmd->opts && a->cmd->opts[k].name; k++)
		if (!strcmp(a->cmd->opts[k].name, name))
			return &a->v[k];
	return NULL;
}

bool cli_flag(const struct cli_args *a, const char *name)
{
	const struct cli_val *v = cli_opt(a, name);
	return v && v->set;
}

const char *cli_str(const struct cli_args *a, const char *name, const char *def)
{
	const struct cli_val *v = cli_opt(a, name);
	return v && v->set ? v->str : def;
}

uint64_t cli_num(const struct cli_args *a, const char *name, uint64_t def)
{
	const struct cli_val *v = cli_opt(a, name);
	return v && v->set ? v->num : def;
}
