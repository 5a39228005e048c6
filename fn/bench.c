/* `cloudlet bench fn`: cold and warm invocation latency of the same
 * function as a container and as a microVM, and throughput at concurrency
 * 1 and N, in one run, through the pool the gateway uses (no HTTP in the
 * figures). Cold = every instance stopped first: launcher, guest, runtime,
 * connection, handler. Warm = an idle instance: the runtime round trip. */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloudlet/clock.h"
#include "cloudlet/file.h"
#include "cloudlet/net.h"
#include "internal.h"

#define WARM_PER_COLD 10

static void note(const struct fn_bench_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const struct fn_bench_opts *o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	if (!o->progress)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	o->progress(o->ctx, buf);
}

static void sample(struct bench_series *s, const struct fn_result *r)
{
	double v[] = { (double)r->total_ns / 1e6, (double)r->create_ns / 1e6, (double)r->start_ns / 1e6,
		       (double)r->handler_ns / 1e6 };
	bench_series_add(s, v, 4);
}

struct load {
	struct fn_pool *p;
	const char *name;
	unsigned count;
	unsigned failed;
};

static void *load_run(void *arg)
{
	struct load *l = arg;
	for (unsigned i = 0; i < l->count; i++) {
		struct fn_result r;
		if (fn_pool_invoke(l->p, l->name, "x", 1, &r, NULL) < 0 || r.outcome != FN_OK)
			l->failed++;
		fn_result_free(&r);
	}
	return NULL;
}

/* invocations/s of `total` calls spread over `conc` threads */
static double throughput(struct fn_pool *p, const char *name, unsigned conc, unsigned total, unsigned *failed)
{
	struct load l[FN_MAX_CONCURRENCY];
	pthread_t t[FN_MAX_CONCURRENCY];
	unsigned started = 0;
	uint64_t t0 = cl_now_ns();
	for (unsigned i = 0; i < conc; i++) {
		l[i] = (struct load){ p, name, total / conc + (i < total % conc), 0 };
		if (pthread_create(&t[i], NULL, load_run, &l[i]) == 0)
			started++;
		else
			*failed += l[i].count;
	}
	for (unsigned i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		*failed += l[i].failed;
	}
	double secs = (double)(cl_now_ns() - t0) / 1e9;
	return secs > 0 ? (double)(total - *failed) / secs : 0;
}

static int measure(const struct fn_bench_opts *o, struct fn_pool *p, const char *name, struct fn_bench_kind *k)
{
	struct cl_error err = { 0 };
	for (unsigned run = 0; run < o->runs; run++) {
		struct fn_result r;
		fn_pool_drain(p, name);
		if (fn_pool_invoke(p, name, "x", 1, &r, &err) < 0 || r.outcome != FN_OK || !r.cold)
			bench_series_fail(&k->cold, "cold run %u: %s", run + 1,
					  err.msg[0] ? err.msg : fn_outcome_name(r.outcome));
		else
			sample(&k->cold, &r);
		fn_result_free(&r);
		for (unsigned w = 0; w < WARM_PER_COLD; w++) {
			if (fn_pool_invoke(p, name, "x", 1, &r, &err) < 0 || r.outcome != FN_OK || r.cold)
				bench_series_fail(&k->warm, "warm run: %s", fn_outcome_name(r.outcome));
			else
				sample(&k->warm, &r);
			fn_result_free(&r);
		}
		note(o, "fn %s: run %u/%u: cold %.1f ms", k->name, run + 1, o->runs,
		     k->cold.n ? k->cold.v[FN_BENCH_TOTAL][k->cold.n - 1] : 0.0);
	}
	/* throughput on warm instances: a first burst starts them */
	unsigned f = 0;
	throughput(p, name, o->concurrency, o->concurrency, &f);
	k->tput[0] = throughput(p, name, 1, o->tput_count, &k->tput_failed[0]);
	k->tput[1] = throughput(p, name, o->concurrency, o->tput_count, &k->tput_failed[1]);
	note(o, "fn %s: %.1f/s at concurrency 1, %.1f/s at %u", k->name, k->tput[0], k->tput[1], o->concurrency);
	fn_pool_drain(p, name);
	return 0;
}

int fn_bench_run(const struct fn_bench_opts *o, struct fn_bench_kind *k, size_t *nk, struct cl_error *err)
{
	char root[] = "/run/cloudlet-bench-fn.XXXXXX", vpc[32], net[64];
	struct fn_pool *p = NULL;
	int r;
	*nk = 0;
	if (o->concurrency < 1 || o->concurrency > FN_MAX_CONCURRENCY || o->runs < 1 || o->runs > BENCH_MAX_RUNS / WARM_PER_COLD)
		return cl_err(err, EINVAL, "bench fn: runs 1..%d, concurrency 1..%u", BENCH_MAX_RUNS / WARM_PER_COLD,
			      FN_MAX_CONCURRENCY);
	if (!mkdtemp(root))
		return cl_err_sys(err, errno, "mkdtemp %s", root);
	snprintf(vpc, sizeof(vpc), "fnbench-%d", (int)getpid());
	snprintf(net, sizeof(net), "%s/a", vpc);
	if ((r = vpc_create(root, vpc, "10.98.0.0/16", err)) < 0)
		goto out;
	if ((r = vpc_subnet_create(root, net, "10.98.1.0/24", err)) < 0 ||
	    (r = fn_pool_open(root, o->exe, &p, err)) < 0)
		goto out_vpc;
	const struct {
		const char *name, *image;
		enum fn_kind kind;
	} kinds[] = { { "ct", o->ct_image, FN_CT }, { "vm", o->vm_image, FN_VM } };
	for (size_t i = 0; i < 2 && r == 0; i++) {
		if (!kinds[i].image)
			continue;
		struct fn_spec s = {
			.kind = kinds[i].kind, .memory = FN_DEFAULT_MEMORY, .timeout_ms = 300000,
			.concurrency = o->concurrency, .idle_ttl_ms = 3600000, .queue = FN_DEFAULT_QUEUE,
		};
		snprintf(s.name, sizeof(s.name), "bench-%s", kinds[i].name);
		if (!(s.image = strdup(kinds[i].image)) || !(s.handler = strdup("cat")) || !(s.net = strdup(net))) {
			fn_spec_free(&s);
			r = cl_err(err, ENOMEM, "out of memory");
			break;
		}
		char name[FN_NAME_MAX + 1];
		snprintf(name, sizeof(name), "%s", s.name);
		r = fn_deploy(root, &s, err);
		fn_spec_free(&s);
		if (r < 0)
			break;
		struct fn_bench_kind *bk = &k[(*nk)++];
		memset(bk, 0, sizeof(*bk));
		bk->name = kinds[i].name;
		bench_series_init(&bk->cold, kinds[i].name);
		bench_series_init(&bk->warm, kinds[i].name);
		note(o, "fn %s: %u cold and %u warm invocations, then %u at concurrency 1 and %u", bk->name, o->runs,
		     o->runs * WARM_PER_COLD, o->tput_count, o->concurrency);
		measure(o, p, name, bk);
	}
	fn_pool_close(p);
out_vpc:
	vpc_rm(root, vpc, true, NULL);
out:;
	cl_remove_tree(root); /* best effort: a scratch dir under /run */
	return r;
}
