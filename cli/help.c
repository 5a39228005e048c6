/* Usage text, generated from the same tables the parser reads, so that
 * `--help` cannot drift from what is accepted. */
#include <string.h>

#include "cli.h"

static void help_cmd_line(FILE *out, const struct cli_cmd *c)
{
	char head[96];
	snprintf(head, sizeof(head), "%s %s", c->name, c->synopsis ? c->synopsis : "");
	fprintf(out, "  %-34s %s%s%s%s\n", head, c->summary,
		c->run ? "" : " [not implemented yet: issue ", c->run ? "" : c->issue,
		c->run ? "" : "]");
}

static void help_top(FILE *out, const struct cli_group *groups, const char *prog)
{
	fprintf(out,
		"usage: %s [--root DIR] COMMAND ...\n\n"
		"A small cloud on one host: microVMs and containers on one VPC network.\n\n"
		"Commands:\n", prog);
	for (const struct cli_group *g = groups; g->name; g++)
		fprintf(out, "  %-8s %s\n", g->name, g->summary);
	fprintf(out, "\nGlobal options:\n"
		"  --root DIR   state directory (default /var/lib/cloudlet)\n"
		"  --help       this text; `%s COMMAND --help` for a command\n"
		"  --version    print the version\n", prog);
}

static void help_group(FILE *out, const struct cli_group *g, const char *prog)
{
	fprintf(out, "usage: %s %s COMMAND [OPTIONS] ...\n\n%s\n\nCommands:\n",
		prog, g->name, g->summary);
	for (const struct cli_cmd *c = g->cmds; c->name; c++)
		help_cmd_line(out, c);
	fprintf(out, "\n`%s %s COMMAND --help` describes a command.\n", prog, g->name);
}

static void help_cmd(FILE *out, const struct cli_group *g, const struct cli_cmd *c,
		     const char *prog)
{
	/* a one-command group's command has no name of its own */
	fprintf(out, "usage: %s %s%s%s [OPTIONS]%s%s\n\n%s\n", prog, g->name, c->name[0] ? " " : "", c->name,
		c->synopsis && *c->synopsis ? " " : "", c->synopsis ? c->synopsis : "",
		c->summary);
	if (!c->run)
		fprintf(out, "(not implemented yet: arrives with issue %s)\n", c->issue);
	if (c->details)
		fprintf(out, "\n%s\n", c->details);
	fprintf(out, "\nOptions:\n");
	for (const struct cli_opt *o = c->opts; o && o->name; o++) {
		char head[64];
		const char *mv = o->metavar ? o->metavar : "";
		if (o->short_name)
			snprintf(head, sizeof(head), "-%c, --%s %s", o->short_name, o->name, mv);
		else
			snprintf(head, sizeof(head), "    --%s %s", o->name, mv);
		fprintf(out, "  %-28s %s%s%s\n", head, o->help,
			o->required ? " (required)" : "",
			o->type == CLI_LIST ? " (repeatable)" : "");
	}
	fprintf(out, "  %-28s %s\n", "-h, --help", "this text");
}

void cli_help(FILE *out, const struct cli_group *groups, const struct cli_args *a)
{
	if (a->cmd)
		help_cmd(out, a->group, a->cmd, a->prog);
	else if (a->group)
		help_group(out, a->group, a->prog);
	else
		help_top(out, groups, a->prog);
}
