/* The per-host agent: read the desired state, observe the host, reconcile,
 * apply, report the revision applied; again every interval, which both
 * follows the store and repairs drift (a deleted FDB entry, bridge or nft
 * rule comes back within an interval). With the store unreachable the data
 * plane is left as it is and the agent retries. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloudlet/proc.h"
#include "dataplane.h"

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

/* one pass: 0 when every op applied */
static int agent_pass(struct sdn_store *st, struct sdn_dp *dp, const char *host, int64_t *rev,
		      void (*log)(const char *), struct cl_error *err)
{
	struct sdn_state s;
	struct sdn_items want = { 0 }, have = { 0 };
	struct sdn_op *ops = NULL;
	size_t n = 0, failed = 0;
	char line[512];
	int r;
	if ((r = sdn_state_load(st, &s, err)) < 0)
		return r;
	*rev = s.rev;
	if (!sdn_host_find(&s, host)) {
		sdn_state_free(&s);
		return cl_err(err, ENOENT, "host %s: no such host in the controller", host);
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
			logf_(log, "host %s: rev %lld: %s: FAILED: %s", host, (long long)s.rev, line, e.msg);
		} else {
			logf_(log, "host %s: rev %lld: %s", host, (long long)s.rev, line);
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

static void nap(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int sdn_agent_run(const char *url, const char *host, unsigned interval_ms, volatile int *stop,
		  void (*log)(const char *line), struct cl_error *err)
{
	struct sdn_store *st;
	struct sdn_dp dp;
	int64_t applied = -1;
	bool down = false;
	int r;
	if ((r = sdn_host_check(host, err)) < 0 || (r = sdn_store_open(url, &st, err)) < 0)
		return r;
	if ((r = dp_open(&dp, st->cluster, host, err)) < 0) {
		sdn_store_close(st);
		return r;
	}
	logf_(log, "host %s: agent started on controller %s: full resync", host, url);
	while (!*stop) {
		struct cl_error e = { 0 };
		int64_t rev = -1;
		r = agent_pass(st, &dp, host, &rev, log, &e);
		if (r < 0 && rev < 0) {
			/* the store is down: keep forwarding, say so once */
			if (!down)
				logf_(log, "host %s: %s (data plane left as it is; retrying)", host, e.msg);
			down = true;
		} else {
			if (down)
				logf_(log, "host %s: controller back at revision %lld: full resync", host, (long long)rev);
			down = false;
			if (r < 0)
				logf_(log, "%s", e.msg);
			if (r == 0 && rev != applied) {
				char key[128], val[64];
				snprintf(key, sizeof(key), "/cloudlet/applied/%s", host);
				snprintf(val, sizeof(val), "%lld", (long long)rev);
				if (st->ops->cas(st, key, val, -1, NULL, &e) == 0) {
					applied = rev;
					logf_(log, "host %s: applied revision %lld", host, (long long)rev);
				}
			}
		}
		for (unsigned t = 0; t < interval_ms && !*stop; t += 100)
			nap(100);
	}
	dp_close(&dp);
	sdn_store_close(st);
	return 0;
}
