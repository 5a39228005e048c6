/* `bench ct-start`: the images/ workload as a container, created, started,
 * run to completion and deleted, N times each by cloudlet, runc and crun
 * (alternately, so all see the same machine conditions). The references
 * get an OCI bundle of the same rootfs (from `runc spec`, with process.args
 * set to the workload's `exit` mode); cloudlet runs the OCI image layout.
 * Measured from fork: the ready marker, and the runtime's exit (= the
 * container deleted: `runc run`/`crun run` delete on exit, as `ct run` does). */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "cloudlet/bench.h"

struct ready_ctx {
	double t0, ready;
};

static void on_line(void *ctx, const char *line)
{
	struct ready_ctx *r = ctx;
	if (r->ready < 0 && strstr(line, "cloudlet-ready "))
		r->ready = bench_now_ms() - r->t0;
}

static const struct bench_metric metrics[] = {
	[BENCH_BOOT_READY] = { "ready_ms", "ready marker ms", "%.1f (%.1f-%.1f)" },
	[BENCH_BOOT_RESET] = { "reset_ms", "create..deleted ms", "%.1f (%.1f-%.1f)" },
};
const struct bench_kind bench_ct_start_kind = { "ct-start", "runtime", metrics, 2 };

/* Run argv to completion; record ready and total on success. */
static void one(struct bench_series *s, char *const argv[], unsigned timeout_s)
{
	struct child c;
	struct cl_error err = { 0 };
	struct ready_ctx r = { bench_now_ms(), -1 };
	if (child_start(&c, argv, -1, &err) < 0) {
		bench_series_fail(s, "%s", err.msg);
		return;
	}
	child_wait(&c, r.t0 + timeout_s * 1000.0, on_line, &r, NULL);
	double total = bench_now_ms() - r.t0;
	if (!c.reaped)
		bench_series_fail(s, "no exit within the timeout");
	else if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0 || r.ready < 0)
		bench_series_fail(s, "%s", c.errbuf[0] ? c.errbuf : "no ready marker or non-zero exit");
	else {
		double v[] = { r.ready, total };
		bench_series_add(s, v, 2);
	}
	child_kill(&c);
}

/* An OCI bundle for the reference runtimes: `runc spec`'s defaults, the
 * workload's rootfs (read-only, shared with nothing that writes), args. */
static int make_bundle(const char *dir, const char *rootfs, const char *runc, struct cl_error *err)
{
	char cfg[PATH_MAX];
	if (snprintf(cfg, sizeof(cfg), "%s/config.json", dir) >= (int)sizeof(cfg))
		return cl_err(err, ENAMETOOLONG, "%s: path too long", dir);
	unlink(cfg);
	char *argv[] = { (char *)runc, "spec", "--bundle", (char *)dir, NULL };
	struct child c;
	if (child_start(&c, argv, -1, err) < 0)
		return -1;
	bool done = child_wait(&c, bench_now_ms() + 60000, NULL, NULL, NULL);
	child_kill(&c);
	if (!done || !WIFEXITED(c.status) || WEXITSTATUS(c.status))
		return cl_err(err, EIO, "runc spec failed: %s", done ? c.errbuf : "no exit within 60 s");
	json_object *root = json_object_from_file(cfg), *proc, *rt;
	if (!root || !json_object_object_get_ex(root, "process", &proc) ||
	    !json_object_object_get_ex(root, "root", &rt)) {
		json_object_put(root);
		return cl_err(err, EINVAL, "%s: not the config runc spec writes", cfg);
	}
	json_object *args = json_object_new_array();
	json_object_array_add(args, json_object_new_string("/init"));
	json_object_array_add(args, json_object_new_string("exit"));
	json_object_object_add(proc, "args", args);
	json_object_object_add(proc, "terminal", json_object_new_boolean(0));
	json_object_object_add(rt, "path", json_object_new_string(rootfs));
	json_object_object_add(rt, "readonly", json_object_new_boolean(1));
	int r = json_object_to_file(cfg, root);
	json_object_put(root);
	return r < 0 ? cl_err(err, EIO, "cannot write %s", cfg) : 0;
}

int bench_ct_start_prepare(const struct bench_ct_start_opts *o, struct bench_series *s, size_t *nseries,
			   struct cl_error *err)
{
	char rootfs[PATH_MAX], bundle[PATH_MAX];
	if (o->runs < 1 || o->runs > BENCH_MAX_RUNS)
		return cl_err(err, EINVAL, "--runs %u is out of range 1..%d", o->runs, BENCH_MAX_RUNS);
	if (!realpath(o->rootfs, rootfs))
		return cl_err_sys(err, errno, "rootfs %s (run: make images)", o->rootfs);
	if (access(o->image, R_OK) < 0)
		return cl_err_sys(err, errno, "image %s (run: make images)", o->image);
	if (snprintf(bundle, sizeof(bundle), "%s/bundle", o->workdir) >= (int)sizeof(bundle))
		return cl_err(err, ENAMETOOLONG, "%s: path too long", o->workdir);
	if (mkdir(bundle, 0700) < 0 && errno != EEXIST)
		return cl_err_sys(err, errno, "%s", bundle);

	const char *names[] = { "cloudlet", "runc", "crun" };
	const char *tools[] = { o->cloudlet, o->runc, o->crun };
	*nseries = 0;
	for (int k = 0; k < 3; k++)
		if (tools[k])
			bench_series_init(&s[(*nseries)++], names[k]);
	if ((o->runc || o->crun) && make_bundle(bundle, rootfs, o->runc ? o->runc : o->crun, err) < 0)
		return cl_err_wrap(err, "bench ct-start");
	return 0;
}

void bench_ct_start_round(const struct bench_ct_start_opts *o, struct bench_series *s, unsigned i)
{
	char bundle[PATH_MAX], state[PATH_MAX], id[64];
	snprintf(bundle, sizeof(bundle), "%s/bundle", o->workdir);   /* checked by prepare */
	snprintf(state, sizeof(state), "%s/state", o->workdir);
	snprintf(id, sizeof(id), "cloudlet-bench-%d-%u", (int)getpid(), i);
	size_t k = 0;
	char *cl_argv[] = { (char *)o->cloudlet, "--root", state, "ct", "run", "--name", id,
			    (char *)o->image, "exit", NULL };
	one(&s[k++], cl_argv, o->timeout_s);
	const char *tools[] = { o->runc, o->crun };
	for (int t = 0; t < 2; t++) {
		if (!tools[t])
			continue;
		char *argv[] = { (char *)tools[t], "--root", state, "run", "--bundle", bundle, id, NULL };
		one(&s[k++], argv, o->timeout_s);
	}
}

int bench_ct_start(const struct bench_ct_start_opts *o, struct bench_series *s,
		   size_t *nseries, struct cl_error *err)
{
	int r = bench_ct_start_prepare(o, s, nseries, err);
	if (r < 0)
		return r;
	char line[160];
	for (unsigned i = 0; i < o->runs; i++) {
		bench_ct_start_round(o, s, i);
		if (o->progress) {
			snprintf(line, sizeof(line), "ct-start: run %u/%u done", i + 1, o->runs);
			o->progress(o->ctx, line);
		}
	}
	return 0;
}
