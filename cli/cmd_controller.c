/* `cloudlet controller`: the overlay's control plane as its store sees it
 * (net/sdn/status.c), and the controller process serving the store
 * (net/sdn/server.c). The store is named by $CLOUDLET_CONTROLLER. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cloudlet/sdn.h"

static int controller_status_cmd(const struct cli_args *a, struct cl_error *err)
{
	struct sdn_status s;
	int64_t now = (int64_t)time(NULL);
	(void)a;
	int r = sdn_status_get(getenv(SDN_ENV), &s, err);
	if (r < 0)
		return r;
	printf("controller %s\n", s.url);
	printf("cluster    %s (in its namespaces' names)\n", s.cluster);
	if (s.schema)
		printf("schema     %ld\n", s.schema);
	else
		printf("schema     none yet (nothing written)\n");
	printf("revision   %lld (hosts and VPCs last changed at %lld)\n", (long long)s.rev, (long long)s.desired);
	printf("%-24s %-8s %-8s %-12s %s\n", "HOST", "APPLIED", "SEEN", "REPORTED", "AGENT");
	for (size_t i = 0; i < s.nhosts; i++) {
		const struct sdn_status_host *h = &s.hosts[i];
		char applied[24] = "-", seen[24] = "-", when[32] = "never";
		bool stale = !h->reported || sdn_report_stale(&h->rep, now);
		if (h->reported) {
			snprintf(applied, sizeof(applied), "%lld", (long long)h->rep.applied);
			if (h->rep.seen)
				snprintf(seen, sizeof(seen), "%lld", (long long)h->rep.seen);
			if (h->rep.at)
				snprintf(when, sizeof(when), "%llds ago", (long long)(now - h->rep.at));
		}
		printf("%-24s %-8s %-8s %-12s %s\n", h->name, applied, seen, when,
		       stale ? "STALE" : h->rep.applied < s.desired ? "behind" : "ok");
	}
	sdn_status_free(&s);
	return 0;
}

static int controller_compact_cmd(const struct cli_args *a, struct cl_error *err)
{
	int64_t done = 0;
	int r = sdn_store_compact(getenv(SDN_ENV), (int64_t)cli_num(a, "revision", 0), &done, err);
	if (r == 0)
		printf("compacted: history before revision %lld dropped\n", (long long)done);
	return r;
}

static volatile sig_atomic_t serve_stop;

static void serve_signal(int sig)
{
	(void)sig;
	serve_stop = 1;
}

static int controller_serve_cmd(const struct cli_args *a, struct cl_error *err)
{
	struct sigaction sa = { .sa_handler = serve_signal };
	struct sdn_server *srv;
	const char *store = cli_str(a, "store", NULL), *listen = cli_str(a, "listen", NULL);
	sigset_t block, old;
	/* a signal that comes before the wait is not lost: blocked until sigsuspend */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	int r = sdn_server_start(store, listen, &srv, err);
	if (r < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return r;
	}
	fprintf(stderr, "controller: serving %s on http://%s (pid %d)\n", store, listen, (int)getpid());
	while (!serve_stop)
		sigsuspend(&old);
	sdn_server_stop(srv);
	sigprocmask(SIG_SETMASK, &old, NULL);
	fprintf(stderr, "controller: stopped\n");
	return 0;
}

static const struct cli_opt controller_none[] = { { 0 } };
static const struct cli_opt controller_compact_opts[] = {
	{ "revision", 0, CLI_UINT, "REV", "drop the history before REV (default: the current revision)", false },
	{ 0 },
};

static const struct cli_opt controller_serve_opts[] = {
	{ "store", 0, CLI_STR, "URL", "the store it owns: sqlite:PATH or etcd:http://HOST:PORT", true },
	{ "listen", 0, CLI_STR, "IPV4:PORT", "where it serves its HTTP API (e.g. 127.0.0.1:7480)", true },
	{ 0 },
};

const struct cli_cmd cli_controller_cmds[] = {
	{ "serve", "", "run the controller process (foreground)", controller_serve_opts, 0, 0, false,
	  controller_serve_cmd, NULL,
	  "Owns the store (the embedded SQLite one or etcd) and serves its interface\n"
	  "(range, compare-and-swap, watch as a long poll, compact, health) as JSON\n"
	  "over HTTP; the CLI and the agents use it with\n"
	  "CLOUDLET_CONTROLLER=http://IPV4:PORT. Refuses a store it cannot reach or\n"
	  "one written by a newer cloudlet. Stops on SIGTERM/SIGINT; the agents keep\n"
	  "the data plane as it is while it is down." },
	{ "status", "", "the store, its revision, and every host's agent", controller_none, 0, 0, false,
	  controller_status_cmd, NULL,
	  "Prints the store's endpoint, its schema version and current revision, and\n"
	  "per host the desired revision its agent has applied, the store revision it\n"
	  "had seen, and when it last reported: STALE when it missed three reports\n"
	  "(its agent is gone or stuck), behind when it has not applied the newest\n"
	  "change yet. With the store unreachable: one line naming it, exit 1." },
	{ "compact", "", "drop the store's history (what agents watch from)", controller_compact_opts, 0, 0, false,
	  controller_compact_cmd, NULL,
	  "Like `etcdctl compact`: revisions before REV can no longer be watched; an\n"
	  "agent that had not seen them yet reads the whole state again (a full\n"
	  "resync, logged with the revisions). The SQLite store also compacts by\n"
	  "itself, keeping the last 1000 revisions." },
	{ 0 },
};
