/* `cloudlet host`: hosts of the overlay and their agents (net/sdn/). The
 * controller is the store named by $CLOUDLET_CONTROLLER. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cloudlet/sdn.h"

static const char *controller(void)
{
	return getenv(SDN_ENV);
}

static int host_add_cmd(const struct cli_args *a, struct cl_error *err)
{
	const char *addr = cli_str(a, "address", NULL);
	uint32_t ip;
	if (!addr)
		return sdn_host_add(controller(), a->pos[0], err);
	if (ip4_parse(addr, &ip, err) < 0)
		return cl_err_wrap(err, "--address");
	return sdn_host_add_machine(controller(), a->pos[0], ip, err);
}

static int host_rm_cmd(const struct cli_args *a, struct cl_error *err)
{
	return sdn_host_rm(controller(), a->pos[0], err);
}

static int host_ls_cmd(const struct cli_args *a, struct cl_error *err)
{
	struct sdn_state s;
	char ip[IP4_STR_MAX];
	(void)a;
	int r = sdn_host_list(controller(), &s, err);
	if (r < 0)
		return r;
	printf("%-24s %-16s %s\n", "NAME", "UNDERLAY", "KIND");
	for (size_t i = 0; i < s.nhosts; i++)
		printf("%-24s %-16s %s\n", s.hosts[i].name, ip4_format(s.hosts[i].underlay, ip),
		       s.hosts[i].machine ? "machine" : "simulated");
	sdn_state_free(&s);
	return 0;
}

static void agent_log(const char *line)
{
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;
	strftime(ts, sizeof(ts), "%H:%M:%S", localtime_r(&t, &tm));
	fprintf(stderr, "%s %s\n", ts, line);
}

/* `cloudlet agent --host NAME`, and its older spelling `host agent NAME` */
static int host_agent_cmd(const struct cli_args *a, struct cl_error *err)
{
	const char *host = a->npos ? a->pos[0] : cli_str(a, "host", NULL);
	volatile sig_atomic_t *stop = cli_trap_interrupts();
	return sdn_agent_run(controller(), host, (unsigned)cli_num(a, "interval", 1000),
			     (unsigned)cli_num(a, "report", 10000), stop, agent_log, err);
}

#define AGENT_OPTS \
	{ "interval", 0, CLI_DURATION, "TIME", "reconcile (and repair drift) at least this often (default 1s)", false }, \
	{ "report", 0, CLI_DURATION, "TIME", "report to the controller at least this often (default 10s)", false }
#define AGENT_DETAILS \
	"Makes the host's data plane (VPC namespaces, bridges, VXLAN devices,\n" \
	"static FDB and neighbour entries, nftables) match the controller: one full\n" \
	"read, then a watch from the last revision seen (a full resync only after\n" \
	"a revision gap), and puts back what drifts. Stops on SIGTERM/SIGINT,\n" \
	"leaving the data plane."

static const struct cli_opt host_none[] = { { 0 } };
static const struct cli_opt host_add_opts[] = {
	{ "address", 0, CLI_STR, "IP", "a machine of its own, reached on the underlay at IP (no simulation)", false },
	{ 0 },
};
static const struct cli_opt host_agent_opts[] = { AGENT_OPTS, { 0 } };
static const struct cli_opt agent_opts[] = {
	{ "host", 0, CLI_STR, "NAME", "the host this agent runs for", true },
	AGENT_OPTS,
	{ 0 },
};

const struct cli_cmd cli_agent_cmds[] = {
	{ "", "", "run a host's agent (foreground)", agent_opts, 0, 0, false, host_agent_cmd, NULL, AGENT_DETAILS },
	{ 0 },
};

const struct cli_cmd cli_host_cmds[] = {
	{ "add", "NAME", "add a host: simulated, or a machine with --address", host_add_opts, 1, 1, false,
	  host_add_cmd, NULL,
	  "A simulated host is a network namespace (clsh-...) with an underlay interface\n"
	  "ul0 on a bridge shared by all hosts (namespace clsu-...), addressed in\n"
	  "172.31.0.0/16 inside those namespaces only. With --address IP the host is a\n"
	  "machine of its own: IP is its address on the underlay (the network between\n"
	  "the hosts, which carries VXLAN, UDP 4789), nothing is created here, and its\n"
	  "agent runs on that machine, in its network namespace. Either way, run the\n"
	  "agent with `agent --host NAME`." },
	{ "ls", "", "list hosts", host_none, 0, 0, false, host_ls_cmd, NULL, NULL },
	{ "rm", "NAME", "remove a host", host_none, 1, 1, false, host_rm_cmd, NULL,
	  "Its guests' FDB and neighbour entries leave every other host." },
	{ "agent", "NAME", "run the host's agent (the same as `agent --host NAME`)", host_agent_opts, 1, 1, false,
	  host_agent_cmd, NULL, AGENT_DETAILS },
	{ 0 },
};
