/* The per-host agent: read the whole desired state once, then watch the
 * store from the last revision seen, keeping a copy of the keys; on every
 * change to the desired state, and every interval regardless (drift
 * repair: a deleted FDB entry, bridge or nft rule comes back within an
 * interval), observe the host, reconcile, apply, and report the revision
 * applied. A revision gap (the store compacted the history the watch
 * needs) is the one reason to read everything again. With the store
 * unreachable the data plane is left as it is and the agent retries with
 * backoff, resuming its watch where it stopped. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloudlet/proc.h"
#include "dataplane.h"

#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 4000

static void logf_(void (*log)(const char *), const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(void (*log)(const char *), const char *fmt, ...)
{
	char line[1400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log)
		log(line);
}

static void op_line(const struct sdn_op *op, char *buf, size_t len)
{
	static const char *const verbs[] = { "add", "change", "del" };
	const struct sdn_item *it = op->item;
	const char *v = it->kind == SDN_NFT ? "(ruleset)" : it->value;
	snprintf(buf, len, "%s %s %s %s%s%s", verbs[op->type], sdn_kind_name(it->kind), it->ns, it->key,
		 op->type == SDN_OP_DEL ? "" : " = ", op->type == SDN_OP_DEL ? "" : v);
}

struct agent {
	struct sdn_store *st;
	struct sdn_dp dp;
	const char *host;
	void (*log)(const char *);
	struct sdn_kv *kvs;         /* the copy of /cloudlet/, sorted by key */
	size_t n;
	int64_t seen;               /* the store revision the copy reflects */
	int64_t desired;            /* the newest change to hosts or VPCs in it */
	int64_t applied;            /* the desired revision last reported (-1: none) */
	int64_t reported_ms;        /* when (monotonic) */
	unsigned report_ms;
	bool started, synced;       /* synced: the copy follows the store (no gap) */
	bool down;                  /* the store is unreachable */
	bool dirty;                 /* the desired state changed since the last pass */
	unsigned backoff;           /* ms, while down */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* one pass: 0 when every op applied */
static int agent_pass(struct agent *a, struct cl_error *err)
{
	struct sdn_store *st = a->st;
	struct sdn_dp *dp = &a->dp;
	const char *host = a->host;
	void (*log)(const char *) = a->log;
	struct sdn_state s;
	struct sdn_items want = { 0 }, have = { 0 };
	struct sdn_op *ops = NULL;
	size_t n = 0, failed = 0;
	char line[512];
	int r;
	if ((r = sdn_state_from_kvs(a->kvs, a->n, st->url, &s, err)) < 0)
		return r;
	if (s.rev > a->desired)
		a->desired = s.rev;
	const struct sdn_host *me = sdn_host_find(&s, host);
	if (!me) {
		sdn_state_free(&s);
		return cl_err(err, ENOENT, "host %s: no such host in the controller", host);
	}
	/* a simulated host's namespace here, or this machine: as recorded */
	if (me->machine != dp->machine) {
		sdn_state_free(&s);
		return cl_err(err, EINVAL, me->machine ? "host %s: a machine, but a simulated host's namespace is here"
						       : "host %s: a simulated host, but its namespace is not here "
							 "(cloudlet host add %s?)", host, host);
	}
	/* a machine's agent runs on that machine: its underlay address is here */
	if (me->machine && dp_has_addr(dp, me->underlay) != 1) {
		char ip[IP4_STR_MAX];
		r = cl_err(err, EADDRNOTAVAIL, "host %s: its address %s is not on this machine (run its agent there)",
			   host, ip4_format(me->underlay, ip));
		sdn_state_free(&s);
		return r;
	}
	/* guests of this host whose launcher died (SIGKILL) without detaching:
	 * the holder's pid is local to the host its agent runs on */
	for (size_t i = 0; i < s.nvpcs; i++)
		for (size_t k = 0; k < s.vpcs[i].v.natts; k++) {
			const struct vpc_att *t = &s.vpcs[i].v.atts[k];
			struct cl_error e = { 0 };
			if (strcmp(t->host, host) || !t->pid || cl_pid_alive(t->pid, t->pid_start))
				continue;
			if (sdn_att_release(st->url, s.vpcs[i].v.name, t, &e) == 0)
				logf_(log, "host %s: released %s %s on %s/%s (its holder, pid %d, is gone)", host,
				      t->kind, t->id, s.vpcs[i].v.name, t->subnet, t->pid);
			else
				logf_(log, "host %s: release %s %s: %s", host, t->kind, t->id, e.msg);
		}
	if ((r = sdn_desired(&s, st->cluster, host, &want, err)) < 0 ||
	    (r = dp_observe(dp, &have, err)) < 0)
		goto out;
	if ((r = sdn_reconcile(&want, &have, &ops, &n)) < 0) {
		r = cl_err(err, -r, "reconcile: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct cl_error e = { 0 };
		op_line(&ops[i], line, sizeof(line));
		if (dp_apply(dp, &ops[i], &e) < 0) {
			failed++;
			logf_(log, "host %s: rev %lld: %s: FAILED: %s", host, (long long)a->desired, line, e.msg);
		} else {
			logf_(log, "host %s: rev %lld: %s", host, (long long)a->desired, line);
		}
	}
	if (failed)
		r = cl_err(err, EIO, "host %s: %zu of %zu ops failed", host, failed, n);
out:
	free(ops);
	sdn_items_free(&want);
	sdn_items_free(&have);
	sdn_state_free(&s);
	return r;
}

/* sleep ms in slices, returning early on *stop */
static void nap(unsigned ms, volatile int *stop)
{
	for (unsigned t = 0; t < ms && !*stop; t += 100) {
		unsigned d = ms - t < 100 ? ms - t : 100;
		struct timespec ts = { 0, (long)d * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* read everything: the copy and the revision to watch from */
static int agent_resync(struct agent *a, struct cl_error *err)
{
	struct sdn_kv *kvs;
	size_t n;
	int64_t rev;
	int r = a->st->ops->get(a->st, "/cloudlet/", &kvs, &n, &rev, err);
	if (r < 0)
		return r;
	sdn_kvs_free(a->kvs, a->n);
	a->kvs = kvs;
	a->n = n;
	a->seen = rev;
	return 0;
}

/* /cloudlet/applied/HOST: when the desired revision applied moved, and at
 * least every report_ms (so `controller status` tells a live agent) */
static void agent_report(struct agent *a)
{
	int64_t now = now_ms();
	if (a->desired == a->applied && now - a->reported_ms < a->report_ms)
		return;
	struct sdn_report rep = { .applied = a->desired, .seen = a->seen, .at = (int64_t)time(NULL),
				  .every_ms = a->report_ms };
	struct cl_error e = { 0 };
	char key[128], *val = sdn_report_to_json(&rep);
	snprintf(key, sizeof(key), "/cloudlet/applied/%s", a->host);
	if (val && a->st->ops->cas(a->st, key, val, -1, NULL, &e) == 0) {
		if (a->desired != a->applied)
			logf_(a->log, "host %s: applied revision %lld", a->host, (long long)a->desired);
		a->applied = a->desired;
		a->reported_ms = now;
	}
	free(val);
}

/* the store is down: keep forwarding, say so once, back off */
static void agent_down(struct agent *a, const char *why, volatile int *stop)
{
	if (!a->down)
		logf_(a->log, "host %s: %s (data plane left as it is; retrying)", a->host, why);
	a->down = true;
	nap(a->backoff, stop);
	a->backoff = a->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : a->backoff * 2;
}

/* before watching: a full read (at start, after a gap); or, coming back
 * from an outage, one look (the watch resumes from a->seen). 0: go on */
static int agent_connect(struct agent *a, const char *url, volatile int *stop)
{
	struct cl_error e = { 0 };
	struct sdn_kv *kvs = NULL;
	size_t n = 0;
	int64_t rev = 0;
	int r = a->synced ? a->st->ops->get(a->st, "/cloudlet/schema", &kvs, &n, &rev, &e) : agent_resync(a, &e);
	sdn_kvs_free(kvs, n);
	if (r < 0) {
		agent_down(a, e.msg, stop);
		return r;
	}
	if (!a->started)
		logf_(a->log, "host %s: agent started on controller %s: full resync at revision %lld", a->host, url,
		      (long long)a->seen);
	else if (a->down && a->synced)
		logf_(a->log, "host %s: controller back at revision %lld: watching from revision %lld", a->host,
		      (long long)rev, (long long)a->seen + 1);
	else
		logf_(a->log, "host %s: %sfull resync at revision %lld", a->host, a->down ? "controller back: " : "",
		      (long long)a->seen);
	a->dirty = a->dirty || !a->synced;
	a->started = a->synced = true;
	a->down = false;
	a->backoff = BACKOFF_FIRST_MS;
	return 0;
}

/* wait for the store's next changes until the next pass and take them in */
static void agent_follow(struct agent *a, int64_t wait_ms, volatile int *stop)
{
	struct cl_error e = { 0 };
	struct sdn_watch w;
	if (a->st->ops->watch(a->st, "/cloudlet/", a->seen, wait_ms > 0 ? (unsigned)wait_ms : 0, &w, &e) < 0) {
		agent_down(a, e.msg, stop);
		return;
	}
	if (w.compacted) {
		logf_(a->log, "host %s: revision gap: changes after revision %lld are compacted away (the store's "
		      "history starts at %lld): full resync", a->host, (long long)a->seen, (long long)w.compacted);
		a->synced = false;
	} else if (w.n) {
		int64_t d = sdn_kvs_apply(&a->kvs, &a->n, w.ev, w.n);
		if (d < 0) {
			logf_(a->log, "host %s: out of memory: full resync", a->host);
			a->synced = false;
		} else if (d > 0) {
			a->dirty = true;
			if (d > a->desired)
				a->desired = d;
		}
		a->seen = w.rev;
	}
	sdn_watch_free(&w);
}

int sdn_agent_run(const char *url, const char *host, unsigned interval_ms, unsigned report_ms,
		  volatile int *stop, void (*log)(const char *line), struct cl_error *err)
{
	struct agent a = { .host = host, .log = log, .applied = -1, .report_ms = report_ms ? report_ms : 10000,
			   .dirty = true, .backoff = BACKOFF_FIRST_MS };
	int64_t next_pass = 0;
	int r;
	if (!interval_ms)
		interval_ms = 1000;
	if ((r = sdn_host_check(host, err)) < 0 || (r = sdn_store_open(url, &a.st, err)) < 0)
		return r;
	if ((r = dp_open(&a.dp, a.st->cluster, host, err)) < 0) {
		sdn_store_close(a.st);
		return r;
	}
	while (!*stop) {
		if ((!a.synced || a.down) && agent_connect(&a, url, stop) < 0)
			continue;
		if (a.dirty || now_ms() >= next_pass) {
			struct cl_error e = { 0 };
			if (agent_pass(&a, &e) < 0)
				logf_(log, "%s", e.msg);
			else
				agent_report(&a);
			a.dirty = false;
			next_pass = now_ms() + interval_ms;
		}
		agent_follow(&a, next_pass - now_ms(), stop);
	}
	dp_close(&a.dp);
	sdn_kvs_free(a.kvs, a.n);
	sdn_store_close(a.st);
	return 0;
}
