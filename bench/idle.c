/* One idle instance of the workload, its `serve` mode (listening on its
 * loopback, nothing to do): started in the foreground, measured once it
 * prints cloudlet-serving and has settled, then stopped with SIGTERM (the
 * VMM ends the VM; `ct run` forwards it to the container, whose /init
 * shuts down). The instance is the launched process's first child: the
 * VMM under the jailed launcher (it has threads, no children), the
 * workload's /init under `ct run` and the runtime's init. Memory (MiB):
 *   cost    - cgroup + the launcher's PSS: what the host pays, the same
 *             sum for both kinds (the launcher is the one process of an
 *             instance outside its cgroup; both stay for its lifetime)
 *   cgroup  - the instance's cgroup's usage (VM: the jail's cgroup: guest
 *             RAM the guest touched, the VMM, KVM's kernel memory)
 *   pss     - PSS of the whole process tree, launcher included
 *   guest   - VM: Rss of the VMM's guest RAM mapping (n/a for containers)
 * and teardown, SIGTERM -> the launcher has exited (all cleaned up). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "cloudlet/bench.h"

#define SERVING "cloudlet-serving"
#define SETTLE_US 500000   /* after the marker: the servers' last pages */

struct serving {
	bool up;
};

static void on_line(void *ctx, const char *line)
{
	struct serving *s = ctx;
	if (strstr(line, SERVING))
		s->up = true;
}

static const struct bench_metric metrics[] = {
	[BENCH_IDLE_COST] = { "cost_mib", "host cost MiB", "%.1f (%.1f-%.1f)" },
	[BENCH_IDLE_PSS] = { "pss_mib", "process tree PSS MiB", "%.1f (%.1f-%.1f)" },
	[BENCH_IDLE_CGROUP] = { "cgroup_mib", "cgroup memory MiB", "%.1f (%.1f-%.1f)" },
	[BENCH_IDLE_GUEST] = { "guest_touched_mib", "guest RAM touched MiB", "%.1f (%.1f-%.1f)" },
	[BENCH_IDLE_TEARDOWN] = { "teardown_ms", "SIGTERM -> gone ms", "%.0f (%.0f-%.0f)" },
};
const struct bench_kind bench_idle_kind = { "idle", "idle instance", metrics, 5 };

/* what a run could measure; NULL when all of it */
static const char *measure(pid_t launcher, bool vm, double *v, struct bench_facts *f)
{
	pid_t pids[2], inst = launcher;
	/* down the first-child chain, two levels at most */
	for (int depth = 0; depth < 2 && proc_tree(inst, pids, 2) == 2; depth++)
		inst = pids[1];
	if (inst == launcher)
		return "the launcher has no child (no instance)";
	uint64_t rss, pss, lrss, lpss, cg, size, guest;
	if (proc_tree_memory(launcher, &rss, &pss) < 0 || proc_self_memory(launcher, &lrss, &lpss) < 0)
		return "cannot read the process tree's smaps_rollup";
	if (proc_cgroup_memory(inst, &cg) < 0)
		return "cannot read the instance's cgroup memory usage";
	v[BENCH_IDLE_PSS] = (double)pss / 1024;
	v[BENCH_IDLE_CGROUP] = (double)cg / (1024 * 1024);
	v[BENCH_IDLE_COST] = v[BENCH_IDLE_CGROUP] + (double)lpss / 1024;
	v[BENCH_IDLE_GUEST] = 0;
	if (vm) {
		if (proc_guest_memory(inst, &size, &guest) < 0)
			return "cannot find the VMM's guest memory in its smaps";
		v[BENCH_IDLE_GUEST] = (double)guest / 1024;
	}
	int devices = f->devices;
	proc_facts(inst, f);
	f->devices = devices;
	return NULL;
}

void bench_idle_one(struct bench_series *s, char *const argv[], bool vm, unsigned timeout_s,
		    struct bench_facts *f)
{
	struct child c;
	struct cl_error err = { 0 };
	struct serving up = { false };
	double v[BENCH_MAX_METRICS] = { 0 };
	if (child_start(&c, argv, -1, &err) < 0) {
		bench_series_fail(s, "%s", err.msg);
		return;
	}
	child_wait(&c, bench_now_ms() + timeout_s * 1000.0, on_line, &up, &up.up);
	const char *why = NULL;
	char status[64];
	if (!up.up) {
		snprintf(status, sizeof(status), "exited with status %d before serving",
			 WIFEXITED(c.status) ? WEXITSTATUS(c.status) : 128 + WTERMSIG(c.status));
		why = c.reaped ? (c.errbuf[0] ? c.errbuf : status) : "not serving within the timeout";
	} else {
		usleep(SETTLE_US);
		why = measure(c.pid, vm, v, f);
	}
	if (why) {
		bench_series_fail(s, "%s", why);
		/* a launcher stopped by SIGTERM removes what it made; SIGKILL
		 * (child_kill) only if it does not end */
		if (!c.reaped) {
			kill(c.pid, SIGTERM);
			child_wait(&c, bench_now_ms() + timeout_s * 1000.0, NULL, NULL, NULL);
		}
		child_kill(&c);
		return;
	}
	double t = bench_now_ms();
	kill(c.pid, SIGTERM);
	child_wait(&c, t + timeout_s * 1000.0, NULL, NULL, NULL);
	v[BENCH_IDLE_TEARDOWN] = bench_now_ms() - t;
	/* the VMM reports the signal as its status (128+15), ct run the
	 * workload's: serve shuts down with 0 */
	int want = vm ? 128 + SIGTERM : 0;
	unsigned n;
	if (!c.reaped)
		bench_series_fail(s, "did not stop within %u s of SIGTERM", timeout_s);
	else if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != want)
		bench_series_fail(s, "stopped with status %d, not %d: %s", WIFEXITED(c.status) ?
				  WEXITSTATUS(c.status) : 128 + WTERMSIG(c.status), want, c.errbuf);
	else if (vm && bench_parse_devices(c.errbuf, &n) < 0)
		bench_series_fail(s, "no devices= in %s", c.errbuf);
	else {
		if (vm)
			f->devices = (int)n;
		bench_series_add(s, v, 5);
	}
	child_kill(&c);
}
