/* `cloudlet ct`: containers (crun/). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cloudlet/crun.h"

static int ct_run(const struct cli_args *a, struct cl_error *err)
{
	struct crun_run_opts o = {
		.root = a->root,
		.image = a->pos[0],
		.cmd = a->pos + 1,
		.ncmd = (size_t)a->npos - 1,
		.name = cli_str(a, "name", NULL),
		.hostname = cli_str(a, "hostname", NULL),
		.rootless = cli_flag(a, "rootless"),
		.tty = cli_flag(a, "tty"),
		.detach = cli_flag(a, "detach"),
	};
	const struct cli_val *env = cli_opt(a, "env"), *v;
	struct crun_run_result res;
	const char *sc;
	int r;

	o.env = env->list;
	o.nenv = env->nlist;
	o.nets = cli_opt(a, "net")->list;
	o.nnets = cli_opt(a, "net")->nlist;
	o.sgs = cli_opt(a, "sg")->list;
	o.nsgs = cli_opt(a, "sg")->nlist;
	o.host = cli_str(a, "host", NULL);
	o.rate_mbit = (uint32_t)cli_num(a, "rate", 0);
	if ((v = cli_opt(a, "memory"))->set) {
		if (!v->num)
			return cl_err(err, EINVAL, "ct run: --memory %s: a limit must be at least %llu MiB",
				      v->str, CRUN_MIN_MEMORY >> 20);
		o.limits.memory = v->num;
	}
	if ((v = cli_opt(a, "pids"))->set) {
		if (!v->num)
			return cl_err(err, EINVAL, "ct run: --pids 0: a limit must be at least %d", CRUN_MIN_PIDS);
		o.limits.pids = v->num;
	}
	if ((v = cli_opt(a, "cpus"))->set) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		if ((r = crun_parse_cpus(v->str, n > 0 ? (unsigned)n : 0, &o.limits.cpu_quota_us,
					 &o.limits.cpu_period_us, err)) < 0)
			return cl_err_wrap(err, "ct run: --cpus");
	}
	if ((r = crun_check_limits(&o.limits, err)) < 0)
		return cl_err_wrap(err, "ct run");
	sc = cli_str(a, "seccomp", "default");
	if (!strcmp(sc, "unconfined"))
		o.seccomp = CRUN_SECCOMP_UNCONFINED;
	else if (strcmp(sc, "default"))
		return cl_err(err, EINVAL, "ct run: --seccomp '%s': expected 'default' or 'unconfined'", sc);

	r = crun_run(&o, &res, err);
	if (r < 0 && res.status) {
		/* the workload's command could not run: its status, docker-style */
		fprintf(stderr, "%s: ct run: %s\n", a->prog, err->msg);
		return res.status;
	}
	if (r < 0)
		return cl_err_wrap(err, "ct run");
	if (o.detach) {
		printf("%s\n", res.name);
		return CLI_EXIT_OK;
	}
	return res.status;
}

static void age(int64_t created, char *buf, size_t len)
{
	int64_t s = (int64_t)time(NULL) - created;
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, len, "%llds ago", (long long)s);
	else if (s < 7200)
		snprintf(buf, len, "%lldm ago", (long long)(s / 60));
	else if (s < 172800)
		snprintf(buf, len, "%lldh ago", (long long)(s / 3600));
	else
		snprintf(buf, len, "%lldd ago", (long long)(s / 86400));
}

static int ct_ps(const struct cli_args *a, struct cl_error *err)
{
	struct crun_info *l;
	size_t n;
	int r = crun_list(a->root ? a->root : crun_default_root(), &l, &n, err);
	if (r < 0)
		return cl_err_wrap(err, "ct ps");
	printf("%-20s %-12s %-8s %-10s %-24s %s\n", "NAME", "STATUS", "PID", "CREATED", "IMAGE", "COMMAND");
	for (size_t i = 0; i < n; i++) {
		char st[32], pid[16], created[32];
		if (l[i].status == CRUN_STOPPED && l[i].exit_status >= 0)
			snprintf(st, sizeof(st), "exited(%d)", l[i].exit_status);
		else if (l[i].status == CRUN_STOPPED)
			snprintf(st, sizeof(st), "exited(?)");
		else
			snprintf(st, sizeof(st), "%s", crun_status_name(l[i].status));
		if (l[i].pid)
			snprintf(pid, sizeof(pid), "%d", (int)l[i].pid);
		else
			snprintf(pid, sizeof(pid), "-");
		age(l[i].created, created, sizeof(created));
		printf("%-20s %-12s %-8s %-10s %-24s %s\n", l[i].name, st, pid, created, l[i].image,
		       l[i].command);
	}
	free(l);
	return CLI_EXIT_OK;
}

static int ct_stop(const struct cli_args *a, struct cl_error *err)
{
	if (crun_stop(a->root ? a->root : crun_default_root(), a->pos[0],
		      cli_num(a, "time", 10000), err) < 0)
		return cl_err_wrap(err, "ct stop");
	return CLI_EXIT_OK;
}

static int ct_rm(const struct cli_args *a, struct cl_error *err)
{
	if (crun_rm(a->root ? a->root : crun_default_root(), a->pos[0], cli_flag(a, "force"), err) < 0)
		return cl_err_wrap(err, "ct rm");
	return CLI_EXIT_OK;
}

static const struct cli_opt ct_run_opts[] = {
	{ "name", 0, CLI_STR, "NAME", "container name (default: ct-<8 hex digits>)", false },
	{ "memory", 'm', CLI_SIZE, "SIZE", "memory limit, no swap (e.g. 64M; at least 6M)", false },
	{ "cpus", 0, CLI_STR, "N", "CPU quota in CPUs (e.g. 0.5)", false },
	{ "pids", 0, CLI_UINT, "N", "maximum number of processes (at least 2)", false },
	{ "hostname", 0, CLI_STR, "NAME", "hostname inside the container (default: the name)", false },
	{ "env", 'e', CLI_LIST, "K=V", "set an environment variable (over the image's)", false },
	{ "rootless", 0, CLI_FLAG, NULL, "run in a user namespace (always when not root)", false },
	{ "tty", 't', CLI_FLAG, NULL, "allocate a pseudo-terminal", false },
	{ "detach", 'd', CLI_FLAG, NULL, "run in the background, print the name; see `ct ps`", false },
	{ "seccomp", 0, CLI_STR, "PROFILE", "'default' (allowlist, EPERM otherwise) or 'unconfined'", false },
	{ "net", 0, CLI_LIST, "VPC/SUBNET", "attach a NIC (eth0, eth1...) to a VPC subnet", false },
	{ "sg", 0, CLI_LIST, "SG", "security group of the NICs (default: the VPC's 'default')", false },
	{ "host", 0, CLI_STR, "HOST", "place the NICs on this overlay host (cloudlet host add)", false },
	{ "rate", 0, CLI_UINT, "MBIT", "limit traffic to each NIC to MBIT Mbit/s (overlay hosts; tc tbf)", false },
	{ 0 },
};

static const struct cli_opt ct_stop_opts[] = {
	{ "time", 0, CLI_DURATION, "DURATION", "wait this long after SIGTERM before SIGKILL (default 10s)", false },
	{ 0 },
};

static const struct cli_opt ct_rm_opts[] = {
	{ "force", 'f', CLI_FLAG, NULL, "kill the container first if it runs", false },
	{ 0 },
};

static const struct cli_opt ct_none[] = { { 0 } };

const struct cli_cmd cli_ct_cmds[] = {
	{ "run", "IMAGE[:TAG] [CMD ARGS...]", "run a container from an OCI image layout",
	  ct_run_opts, 1, -1, true, ct_run, NULL,
	  "IMAGE is an OCI image layout directory (tag 'latest' by default) or a root\n"
	  "filesystem directory. CMD replaces the image's Cmd; its Entrypoint stays.\n"
	  "The container gets its own pid, mount, uts, ipc, net and cgroup namespaces\n"
	  "(lo, plus eth0... on VPC subnets with --net),\n"
	  "an overlay root over the image's layers, the Docker default\n"
	  "capabilities and seccomp profile, and the limits given. Its state lives in\n"
	  "ROOT/ct/NAME (--root, default " CRUN_DEFAULT_ROOT " for root).\n"
	  "Foreground: stdio is passed through (or a pty with -t), SIGINT/SIGTERM go to\n"
	  "the container, and everything is removed when it ends.\n"
	  "Exit status: the container's (128+N if signal N ended it), 127 its command\n"
	  "was not found, 126 it could not be executed, 1 a bad value or the container\n"
	  "could not be started (nothing is left behind), 2 usage error.\n"
	  "--detach: 0 once it runs; then `ct ps`, `ct stop`, `ct rm`." },
	{ "ps", "", "list containers", ct_none, 0, 0, false, ct_ps, NULL,
	  "Every container under ROOT/ct: running ones, and detached ones that ended\n"
	  "(until `ct rm`). STATUS exited(?) means the runtime in charge died." },
	{ "stop", "NAME", "stop a running container", ct_stop_opts, 1, 1, false, ct_stop, NULL,
	  "SIGTERM to the container's init (forwarded to its workload), SIGKILL after\n"
	  "--time. A detached container stays listed, stopped, until `ct rm`." },
	{ "rm", "NAME", "remove a stopped container", ct_rm_opts, 1, 1, false, ct_rm, NULL,
	  "Removes its directory (upper layer, log, state) and what is left of its cgroup." },
	{ 0 },
};
