/* The warm pool: every deployed function's instances in one serving
 * process, the decisions taken by sched.c. One lock over the pool; no
 * instance is started, called or stopped while it is held. Each function's
 * instance set is mirrored in ROOT/fn/NAME/instances-PID.json with this
 * server's pid, so that a server that died leaves nothing behind: the next
 * one ends the launchers it finds there (fn_pool_open). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cloudlet/clock.h"
#include "cloudlet/net.h"
#include "cloudlet/proc.h"
#include "internal.h"

/* latency histogram buckets, seconds (Prometheus' defaults) */
static const double buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))
#define NOUTCOMES (FN_BAD_METHOD + 1)

struct hist {
	uint64_t count[NBUCKETS + 1];
	double sum;
	uint64_t n;
};

struct fn_fn {
	struct fn_spec spec;
	struct fn_inst **insts;
	size_t n;
	unsigned waiting;
	uint64_t outcomes[NOUTCOMES];
	struct hist lat[2];        /* [0] warm, [1] cold */
	struct fn_fn *next;
};

struct fn_pool {
	char *root, *exe;
	pthread_mutex_t mu;
	pthread_cond_t cond;       /* an instance became idle or went away */
	struct fn_fn *fns;
	unsigned long long self_start;
};

void fn_result_free(struct fn_result *r)
{
	free(r->out);
	free(r->err_tail);
	r->out = r->err_tail = NULL;
}

/* ---- the instances snapshot ---- */

static void snapshot(struct fn_pool *p, struct fn_fn *f)
{
	char path[PATH_MAX];
	if (fn_dir(p->root, f->spec.name, path, sizeof(path), NULL) < 0)
		return;
	size_t l = strlen(path);
	snprintf(path + l, sizeof(path) - l, "/instances-%d.json", (int)getpid());
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	json_object_object_add(o, "server_pid", json_object_new_int(getpid()));
	json_object_object_add(o, "server_start", json_object_new_int64((int64_t)p->self_start));
	static const char *const st[] = { "starting", "warm", "busy", "stopping" };
	uint64_t now = cl_now_ns();
	for (size_t k = 0; k < f->n; k++) {
		struct fn_inst *i = f->insts[k];
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "id", json_object_new_string(i->id));
		json_object_object_add(e, "state", json_object_new_string(st[i->state]));
		json_object_object_add(e, "pid", json_object_new_int(i->pid));
		json_object_object_add(e, "pid_start", json_object_new_int64((int64_t)i->pid_start));
		json_object_object_add(e, "created", json_object_new_int64(i->created));
		json_object_object_add(e, "invocations", json_object_new_int64((int64_t)i->invocations));
		json_object_object_add(e, "idle_ms", json_object_new_int64(
			i->state == FN_I_IDLE ? (int64_t)((now - i->last_used_ns) / 1000000) : 0));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "instances", a);
	uint64_t total = 0;
	for (size_t k = 0; k < NOUTCOMES; k++)
		total += f->outcomes[k];
	json_object_object_add(o, "invocations", json_object_new_int64((int64_t)total));
	json_object_object_add(o, "cold", json_object_new_int64((int64_t)f->lat[1].n));
	json_object_object_add(o, "warm", json_object_new_int64((int64_t)f->lat[0].n));
	net_state_write_json(path, o, NULL);
	json_object_put(o);
}

/* launchers recorded by servers that are gone (one file per server:
 * `fn serve` and `fn trigger` may run side by side) */
static void reap_file(const char *path, struct fn_orphan **ov, size_t *on)
{
	struct json_object *o = NULL, *a, *f;
	if (net_state_read_json(path, &o, NULL) < 0)
		return;
	pid_t spid = json_object_object_get_ex(o, "server_pid", &f) ? json_object_get_int(f) : 0;
	unsigned long long sst = json_object_object_get_ex(o, "server_start", &f)
				       ? (unsigned long long)json_object_get_int64(f) : 0;
	if (spid > 0 && spid != getpid() && cl_pid_alive(spid, sst)) {
		json_object_put(o);
		return;      /* another server still owns them */
	}
	if (json_object_object_get_ex(o, "instances", &a) && json_object_is_type(a, json_type_array))
		for (size_t k = 0; k < json_object_array_length(a); k++) {
			struct json_object *e = json_object_array_get_idx(a, k), *id, *pid, *ps;
			struct fn_orphan *nv;
			if (!json_object_object_get_ex(e, "id", &id) || !json_object_object_get_ex(e, "pid", &pid) ||
			    !json_object_object_get_ex(e, "pid_start", &ps) ||
			    !(nv = realloc(*ov, (*on + 1) * sizeof(*nv))))
				continue;
			*ov = nv;
			snprintf(nv[*on].id, sizeof(nv[*on].id), "%s", json_object_get_string(id));
			nv[*on].pid = json_object_get_int(pid);
			nv[*on].start = (unsigned long long)json_object_get_int64(ps);
			(*on)++;
		}
	json_object_put(o);
	unlink(path);
}

static void reap_orphans(struct fn_pool *p, const char *name, struct fn_orphan **ov, size_t *on)
{
	char dir[PATH_MAX], path[PATH_MAX];
	if (snprintf(dir, sizeof(dir), "%s/fn/%s", p->root, name) >= (int)sizeof(dir))
		return;
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "instances-", 10) && strstr(e->d_name, ".json") &&
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
			reap_file(path, ov, on);
	closedir(d);
}

int fn_pool_open(const char *root, const char *exe, struct fn_pool **out, struct cl_error *err)
{
	struct fn_pool *p = calloc(1, sizeof(*p));
	char **names;
	size_t n;
	int r;
	if (!p || !(p->root = strdup(root)) || !(p->exe = strdup(exe))) {
		if (p)
			free(p->root);
		free(p);
		return cl_err(err, ENOMEM, "out of memory");
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	p->self_start = cl_pid_start(getpid());
	if ((r = fn_list(root, &names, &n, err)) < 0) {
		fn_pool_close(p);
		return r;
	}
	struct fn_orphan *ov = NULL;
	size_t on = 0;
	for (size_t k = 0; k < n; k++) {
		reap_orphans(p, names[k], &ov, &on);
		free(names[k]);
	}
	free(names);
	fn_inst_reap_orphans(root, ov, on);
	free(ov);
	*out = p;
	return 0;
}

static struct fn_fn *fn_find(struct fn_pool *p, const char *name)
{
	for (struct fn_fn *f = p->fns; f; f = f->next)
		if (!strcmp(f->spec.name, name))
			return f;
	return NULL;
}

/* under the lock: the function, loaded from its record on first use */
static int fn_load(struct fn_pool *p, const char *name, struct fn_fn **out, struct cl_error *err)
{
	struct fn_fn *f = fn_find(p, name);
	int r;
	if (f) {
		*out = f;
		return 0;
	}
	if (!(f = calloc(1, sizeof(*f))))
		return cl_err(err, ENOMEM, "out of memory");
	if ((r = fn_get(p->root, name, &f->spec, err)) < 0) {
		free(f);
		return r;
	}
	f->next = p->fns;
	p->fns = f;
	*out = f;
	return 0;
}

static int inst_add(struct fn_fn *f, struct fn_inst *i)
{
	struct fn_inst **v = realloc(f->insts, (f->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	f->insts = v;
	v[f->n++] = i;
	return 0;
}

static void inst_remove(struct fn_fn *f, struct fn_inst *i)
{
	for (size_t k = 0; k < f->n; k++)
		if (f->insts[k] == i) {
			f->insts[k] = f->insts[--f->n];
			return;
		}
}

static void sched_view(const struct fn_fn *f, struct fn_sched_inst *v)
{
	for (size_t k = 0; k < f->n; k++) {
		v[k].state = f->insts[k]->state;
		v[k].last_used_ns = f->insts[k]->last_used_ns;
	}
}

/* under the lock, which it drops while stopping */
static void inst_retire(struct fn_pool *p, struct fn_fn *f, struct fn_inst *i)
{
	i->state = FN_I_STOPPING;
	pthread_mutex_unlock(&p->mu);
	fn_inst_stop(i, p->root);
	pthread_mutex_lock(&p->mu);
	inst_remove(f, i);
	free(i);
	snapshot(p, f);
	pthread_cond_broadcast(&p->cond);
}

static void hist_add(struct hist *h, uint64_t ns)
{
	double s = (double)ns / 1e9;
	size_t b = 0;
	while (b < NBUCKETS && s > buckets[b])
		b++;
	h->count[b]++;
	h->sum += s;
	h->n++;
}

static void record(struct fn_pool *p, struct fn_fn *f, struct fn_result *res, const char *note)
{
	f->outcomes[res->outcome]++;
	if (res->outcome == FN_OK || res->outcome == FN_HANDLER_FAIL)
		hist_add(&f->lat[res->cold], res->total_ns);
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/fn/%s/log", p->root, f->spec.name) >= (int)sizeof(path))
		return;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	time_t now = time(NULL);
	struct tm tm;
	char ts[32];
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	fn_log(fd, "%s invoke %s %s %s status=%d total_ms=%.1f handler_ms=%.1f%s%s\n", ts,
	       res->instance[0] ? res->instance : "-", res->cold ? "cold" : "warm",
	       fn_outcome_name(res->outcome), res->status, (double)res->total_ns / 1e6,
	       (double)res->handler_ns / 1e6, note ? ": " : "", note ? note : "");
	if (res->outcome == FN_HANDLER_FAIL && res->err_tail && res->err_tail[0])
		fn_log(fd, "%s\n", res->err_tail);
	if (fd >= 0)
		close(fd);
}

int fn_pool_invoke(struct fn_pool *p, const char *name, const void *body, size_t len,
		   struct fn_result *res, struct cl_error *err)
{
	uint64_t t0 = cl_now_ns();
	struct fn_fn *f;
	struct fn_inst *i = NULL;
	char note[CL_ERR_MSG_MAX] = "";
	int r;

	memset(res, 0, sizeof(*res));
	res->status = -1;
	pthread_mutex_lock(&p->mu);
	if ((r = fn_load(p, name, &f, err)) < 0) {
		pthread_mutex_unlock(&p->mu);
		res->outcome = FN_NOT_FOUND;
		return r;
	}
	uint64_t deadline = t0 + f->spec.timeout_ms * 1000000u;
	struct timespec dl = { (time_t)(deadline / 1000000000u), (long)(deadline % 1000000000u) };
	if (len > FN_BODY_MAX) {
		res->outcome = FN_TOO_LARGE;
		goto done;
	}
	bool queued = false;
	for (;;) {
		struct fn_sched_inst v[FN_MAX_CONCURRENCY + 1];
		size_t idx;
		/* the instance set never exceeds the concurrency (<= FN_MAX_CONCURRENCY) */
		sched_view(f, v);
		enum fn_sched_action a = fn_sched_pick(v, f->n, f->spec.concurrency, &idx);
		if (a == FN_SERVE) {
			i = f->insts[idx];
			if (!fn_inst_alive(i)) {
				/* killed from outside while idle: replace it */
				inst_retire(p, f, i);
				i = NULL;
				continue;
			}
			i->state = FN_I_BUSY;
			break;
		}
		if (a == FN_START) {
			if (!(i = calloc(1, sizeof(*i))) || inst_add(f, i) < 0) {
				free(i);
				i = NULL;
				res->outcome = FN_START_FAIL;
				snprintf(note, sizeof(note), "out of memory");
				goto unqueue;
			}
			i->state = FN_I_STARTING;
			res->cold = true;
			break;
		}
		if (!queued) {
			if (!fn_sched_admit(f->waiting, f->spec.queue)) {
				res->outcome = FN_QUEUE_FULL;
				goto done;
			}
			queued = true;
			f->waiting++;
		}
		if (pthread_cond_timedwait(&p->cond, &p->mu, &dl) == ETIMEDOUT) {
			res->outcome = FN_TIMEOUT;
			snprintf(note, sizeof(note), "no instance free before the deadline");
			goto unqueue;
		}
	}
	if (queued)
		f->waiting--;
	queued = false;
	res->queue_ns = cl_now_ns() - t0;
	struct fn_spec spec = f->spec;    /* stays valid: specs change only with no instance */
	pthread_mutex_unlock(&p->mu);

	if (res->cold) {
		struct cl_error e = { 0 };
		if (fn_inst_start(i, p->root, p->exe, &spec, deadline, &res->create_ns, &res->start_ns, &e) < 0) {
			pthread_mutex_lock(&p->mu);
			inst_remove(f, i);
			free(i);
			pthread_cond_broadcast(&p->cond);
			res->outcome = cl_now_ns() >= deadline ? FN_TIMEOUT : FN_START_FAIL;
			snprintf(note, sizeof(note), "%s", e.msg);
			snprintf(res->instance, sizeof(res->instance), "-");
			goto done;
		}
		pthread_mutex_lock(&p->mu);
		i->state = FN_I_BUSY;
		snapshot(p, f);
		pthread_mutex_unlock(&p->mu);
	}
	snprintf(res->instance, sizeof(res->instance), "%s", i->id);
	fn_inst_call(i, body, len, deadline, res);

	pthread_mutex_lock(&p->mu);
	i->invocations++;
	if (res->outcome == FN_OK || res->outcome == FN_HANDLER_FAIL) {
		i->state = FN_I_IDLE;
		i->last_used_ns = cl_now_ns();
		pthread_cond_broadcast(&p->cond);
	} else {
		/* a timeout kills and replaces the instance; a lost one is gone */
		snprintf(note, sizeof(note), "%s", res->outcome == FN_TIMEOUT ? "instance killed (timeout)"
									      : "instance lost");
		inst_retire(p, f, i);
	}
	goto done;
unqueue:
	if (queued)
		f->waiting--;
done:
	res->total_ns = cl_now_ns() - t0;
	record(p, f, res, note[0] ? note : NULL);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

/* one function's pass: gone or redeployed records, dead and idle instances */
static void tick_fn(struct fn_pool *p, struct fn_fn *f, bool *drop)
{
	struct fn_spec s;
	*drop = false;
	int r = fn_get(p->root, f->spec.name, &s, NULL);
	if (r < 0 || s.created != f->spec.created) {
		/* removed or redeployed: its instances go; busy ones when done */
		for (size_t k = 0; k < f->n;) {
			struct fn_inst *i = f->insts[k];
			if (i->state == FN_I_IDLE)
				inst_retire(p, f, i);
			else
				k++;
		}
		if (f->n == 0 && f->waiting == 0) {
			if (r == 0) {
				fn_spec_free(&f->spec);
				f->spec = s;
			} else {
				*drop = true;
			}
			return;
		}
		if (r == 0)
			fn_spec_free(&s);
		return;
	}
	fn_spec_free(&s);
	for (size_t k = 0; k < f->n;) {
		struct fn_inst *i = f->insts[k];
		if (i->state == FN_I_IDLE && !fn_inst_alive(i))
			inst_retire(p, f, i);
		else
			k++;
	}
	struct fn_sched_inst v[FN_MAX_CONCURRENCY + 1];
	size_t out[FN_MAX_CONCURRENCY + 1];
	sched_view(f, v);
	size_t nr = fn_sched_reap(v, f->n, cl_now_ns(), f->spec.idle_ttl_ms * 1000000u, f->spec.min_warm,
				  out, FN_MAX_CONCURRENCY + 1);
	struct fn_inst *victims[FN_MAX_CONCURRENCY + 1];
	for (size_t k = 0; k < nr; k++)
		victims[k] = f->insts[out[k]];
	for (size_t k = 0; k < nr; k++)
		inst_retire(p, f, victims[k]);
	unsigned want = fn_sched_prewarm(v, f->n, f->spec.min_warm, f->spec.concurrency);
	for (unsigned k = 0; k < want; k++) {
		struct fn_inst *i = calloc(1, sizeof(*i));
		uint64_t c, st;
		if (!i || inst_add(f, i) < 0) {
			free(i);
			break;
		}
		i->state = FN_I_STARTING;
		struct fn_spec spec = f->spec;
		pthread_mutex_unlock(&p->mu);
		r = fn_inst_start(i, p->root, p->exe, &spec, cl_now_ns() + spec.timeout_ms * 1000000u, &c, &st,
				  NULL);
		pthread_mutex_lock(&p->mu);
		if (r < 0) {
			inst_remove(f, i);
			free(i);
			break;
		}
		i->state = FN_I_IDLE;
		i->last_used_ns = cl_now_ns();
		pthread_cond_broadcast(&p->cond);
	}
	snapshot(p, f);
}

void fn_pool_tick(struct fn_pool *p)
{
	char **names;
	size_t n;
	pthread_mutex_lock(&p->mu);
	/* functions deployed since: min-warm ones start without a request */
	if (fn_list(p->root, &names, &n, NULL) == 0) {
		for (size_t k = 0; k < n; k++) {
			struct fn_fn *f;
			if (!fn_find(p, names[k]))
				fn_load(p, names[k], &f, NULL);
			free(names[k]);
		}
		free(names);
	}
	for (struct fn_fn **fp = &p->fns; *fp;) {
		bool drop;
		tick_fn(p, *fp, &drop);
		if (drop) {
			struct fn_fn *f = *fp;
			*fp = f->next;
			fn_spec_free(&f->spec);
			free(f->insts);
			free(f);
		} else {
			fp = &(*fp)->next;
		}
	}
	pthread_mutex_unlock(&p->mu);
}

void fn_pool_drain(struct fn_pool *p, const char *name)
{
	pthread_mutex_lock(&p->mu);
	struct fn_fn *f = fn_find(p, name);
	for (size_t k = 0; f && k < f->n;) {
		if (f->insts[k]->state == FN_I_IDLE)
			inst_retire(p, f, f->insts[k]);
		else
			k++;
	}
	pthread_mutex_unlock(&p->mu);
}

const char *fn_pool_root(const struct fn_pool *p)
{
	return p->root;
}

void fn_pool_close(struct fn_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	while (p->fns) {
		struct fn_fn *f = p->fns;
		while (f->n)
			inst_retire(p, f, f->insts[0]);
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/fn/%s/instances-%d.json", p->root, f->spec.name,
			     (int)getpid()) < (int)sizeof(path))
			unlink(path);
		p->fns = f->next;
		fn_spec_free(&f->spec);
		free(f->insts);
		free(f);
	}
	pthread_mutex_unlock(&p->mu);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mu);
	free(p->root);
	free(p->exe);
	free(p);
}

/* ---- /metrics: Prometheus text exposition format 0.0.4 ---- */

char *fn_pool_metrics(struct fn_pool *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return NULL;
	pthread_mutex_lock(&p->mu);
	fprintf(m, "# HELP cloudlet_fn_invocations_total Invocations by function and outcome.\n"
		   "# TYPE cloudlet_fn_invocations_total counter\n");
	for (struct fn_fn *f = p->fns; f; f = f->next)
		for (size_t o = 0; o < NOUTCOMES; o++)
			if (f->outcomes[o])
				fprintf(m, "cloudlet_fn_invocations_total{function=\"%s\",outcome=\"%s\"} %llu\n",
					f->spec.name, fn_outcome_name((enum fn_outcome)o),
					(unsigned long long)f->outcomes[o]);
	fprintf(m, "# HELP cloudlet_fn_instances Instances by function and state.\n"
		   "# TYPE cloudlet_fn_instances gauge\n");
	static const char *const st[] = { "starting", "warm", "busy", "stopping" };
	for (struct fn_fn *f = p->fns; f; f = f->next)
		for (int s = 0; s < 4; s++) {
			unsigned c = 0;
			for (size_t k = 0; k < f->n; k++)
				c += f->insts[k]->state == (enum fn_inst_state)s;
			fprintf(m, "cloudlet_fn_instances{function=\"%s\",state=\"%s\"} %u\n", f->spec.name, st[s], c);
		}
	fprintf(m, "# HELP cloudlet_fn_latency_seconds Invocation latency, queueing included.\n"
		   "# TYPE cloudlet_fn_latency_seconds histogram\n");
	for (struct fn_fn *f = p->fns; f; f = f->next)
		for (int c = 0; c < 2; c++) {
			const struct hist *h = &f->lat[c];
			const char *served = c ? "cold" : "warm";
			uint64_t cum = 0;
			for (size_t b = 0; b < NBUCKETS; b++) {
				cum += h->count[b];
				fprintf(m, "cloudlet_fn_latency_seconds_bucket{function=\"%s\",served=\"%s\",le=\"%g\"} %llu\n",
					f->spec.name, served, buckets[b], (unsigned long long)cum);
			}
			fprintf(m, "cloudlet_fn_latency_seconds_bucket{function=\"%s\",served=\"%s\",le=\"+Inf\"} %llu\n"
				   "cloudlet_fn_latency_seconds_sum{function=\"%s\",served=\"%s\"} %.6f\n"
				   "cloudlet_fn_latency_seconds_count{function=\"%s\",served=\"%s\"} %llu\n",
				f->spec.name, served, (unsigned long long)h->n, f->spec.name, served, h->sum,
				f->spec.name, served, (unsigned long long)h->n);
		}
	pthread_mutex_unlock(&p->mu);
	fclose(m);
	return buf;
}
