/* The overlay benchmarks' cloud: a controller store of their own, simulated
 * hosts and one real agent process per host (`cloudlet host agent`), made
 * through the same library calls and commands a user runs, and taken down
 * on every path. See bench/bench.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "cloudlet/sdn.h"

#define AGENT_GRACE_MS 5000   /* SIGTERM -> the agent's loop ends within its 100 ms naps */

int cloud_open(struct cloud *c, const char *cloudlet, const char *dir, unsigned interval_ms, size_t cap,
	       struct cl_error *err)
{
	memset(c, 0, sizeof(*c));
	c->cloudlet = cloudlet;
	c->interval_ms = interval_ms;
	snprintf(c->dir, sizeof(c->dir), "%s", dir);
	snprintf(c->url, sizeof(c->url), "sqlite:%s/controller.db", dir);
	const char *old = getenv(SDN_ENV);
	if (old && !(c->saved_env = strdup(old)))
		return cl_err(err, ENOMEM, "out of memory");
	c->agent = calloc(cap, sizeof(*c->agent));
	c->host = calloc(cap, sizeof(*c->host));
	c->cap = cap;
	if (!c->agent || !c->host) {
		cloud_close(c);
		return cl_err(err, ENOMEM, "out of memory");
	}
	/* the launchers (`ct run --host`) and net_attach find it there */
	if (setenv(SDN_ENV, c->url, 1) < 0) {
		int e = errno;
		cloud_close(c);
		return cl_err_sys(err, e, "setenv %s", SDN_ENV);
	}
	c->env_set = true;
	int r = sdn_store_open(c->url, &c->st, err);
	if (r < 0)
		cloud_close(c);
	return r;
}

int cloud_host_add(struct cloud *c, const char *name, struct cl_error *err)
{
	char log[4200], interval[32] = "";
	if (c->n >= c->cap)
		return cl_err(err, ENOSPC, "more than %zu hosts", c->cap);
	int r = sdn_host_add(c->url, name, err);
	if (r < 0)
		return r;
	snprintf(c->host[c->n], sizeof(c->host[0]), "%s", name);
	snprintf(log, sizeof(log), "%s/agent-%s.log", c->dir, name);
	if (c->interval_ms)
		snprintf(interval, sizeof(interval), "%ums", c->interval_ms);
	/* its log in a file: a pipe nobody reads would stall it */
	char *argv[] = { "/bin/sh", "-c", "exec \"$0\" host agent ${1:+--interval \"$1\"} \"$2\" 2>>\"$3\"",
			 (char *)c->cloudlet, interval, (char *)name, log, NULL };
	if ((r = child_start(&c->agent[c->n], argv, -1, err)) < 0) {
		sdn_host_rm(c->url, name, NULL);
		return cl_err_wrap(err, "agent of host %s", name);
	}
	c->n++;
	return 0;
}

int cloud_applied(struct cloud *c, struct sdn_store *st, int64_t *applied, int64_t *store_rev, struct cl_error *err)
{
	struct sdn_kv *kvs;
	size_t n;
	int64_t rev;
	int r = st->ops->get(st, "/cloudlet/applied/", &kvs, &n, &rev, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->n; i++) {
		applied[i] = -1;
		for (size_t k = 0; k < n; k++)
			if (!strcmp(kvs[k].key + strlen("/cloudlet/applied/"), c->host[i])) {
				struct sdn_report rep;
				if (sdn_report_from_json(kvs[k].value, &rep) == 0)
					applied[i] = rep.applied;
			}
	}
	sdn_kvs_free(kvs, n);
	if (store_rev)
		*store_rev = rev;
	return 0;
}

void cloud_agent_tail(const struct cloud *c, size_t i, char *buf, size_t len)
{
	char path[4200], line[512];
	snprintf(path, sizeof(path), "%s/agent-%s.log", c->dir, c->host[i]);
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	/* the last line that is not the routine "applied revision" */
	while (fgets(line, sizeof(line), f))
		if (!strstr(line, ": applied revision "))
			snprintf(buf, len, "%.*s", (int)strcspn(line, "\n"), line);
	fclose(f);
}

int cloud_settle(struct cloud *c, unsigned timeout_ms, struct cl_error *err)
{
	int64_t *applied = calloc(c->n + 1, sizeof(*applied));
	struct sdn_state s;
	int r;
	if (!applied)
		return cl_err(err, ENOMEM, "out of memory");
	if ((r = sdn_state_load(c->st, &s, err)) < 0)
		goto out;
	int64_t want = s.rev;
	sdn_state_free(&s);
	for (double end = bench_now_ms() + timeout_ms;;) {
		if ((r = cloud_applied(c, c->st, applied, NULL, err)) < 0)
			goto out;
		size_t late = c->n;
		for (size_t i = 0; i < c->n && late == c->n; i++)
			if (applied[i] < want)
				late = i;
		if (late == c->n)
			break;
		if (bench_now_ms() > end) {
			char tail[400];
			cloud_agent_tail(c, late, tail, sizeof(tail));
			r = cl_err(err, ETIMEDOUT, "host %s: its agent has not applied revision %lld in %u s "
				   "(applied %lld; its log: %s)", c->host[late], (long long)want, timeout_ms / 1000,
				   (long long)applied[late], tail[0] ? tail : "empty");
			goto out;
		}
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
	}
out:
	free(applied);
	return r;
}

void cloud_close(struct cloud *c)
{
	for (size_t i = 0; i < c->n; i++)
		child_stop(&c->agent[i], AGENT_GRACE_MS);
	/* the last host removed takes the shared underlay namespace along */
	for (size_t i = c->n; i-- > 0;)
		sdn_host_rm(c->url, c->host[i], NULL);
	c->n = 0;
	sdn_store_close(c->st);
	c->st = NULL;
	if (c->env_set) {
		if (c->saved_env)
			setenv(SDN_ENV, c->saved_env, 1);
		else
			unsetenv(SDN_ENV);
	}
	c->env_set = false;
	free(c->saved_env);
	free(c->agent);
	free(c->host);
	c->saved_env = NULL;
	c->agent = NULL;
	c->host = NULL;
}
