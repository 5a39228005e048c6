/* `bench oci`: `podman run --rm IMAGE true` (plus --ulimit: see below) with podman's --runtime set to
 * cloudlet-runtime, runc and crun in turn (alternately, N times each, so
 * all see the same machine conditions), on the images/ workload loaded
 * once into a podman store of the bench's own. What differs between the
 * columns is only the OCI runtime under podman + conmon. --network none:
 * no CNI plugin on the path (and no host firewall change). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "cloudlet/bench.h"

static const struct bench_metric metrics[] = {
	{ "run_ms", "podman run --rm ms", "%.1f (%.1f-%.1f)" },
};
const struct bench_kind bench_oci_kind = { "oci", "runtime", metrics, 1 };

/* podman's global options: the bench's store, cgroupfs (no systemd), no events */
static void podman_base(struct argv *a, const struct bench_oci_opts *o)
{
	argv_words(a, o->podman, NULL);
	argv_add(a, "--root=%s/storage", o->workdir);
	argv_add(a, "--runroot=%s/run", o->workdir);
	argv_words(a, "--cgroup-manager", "cgroupfs", "--events-backend", "none", NULL);
}

/* the last stdout line (pull -q: the image id) */
static void keep_line(void *ctx, const char *line)
{
	snprintf(ctx, 80, "%s", line);
}

static int run_to_end(char *const argv[], unsigned timeout_s, double *ms, char *why, size_t len,
		      char last[80])
{
	struct child c;
	struct cl_error err = { 0 };
	double t0 = bench_now_ms();
	if (child_start(&c, argv, -1, &err) < 0) {
		snprintf(why, len, "%.200s", err.msg);
		return -1;
	}
	child_wait(&c, t0 + timeout_s * 1000.0, last ? keep_line : NULL, last, NULL);
	*ms = bench_now_ms() - t0;
	int r = 0;
	if (!c.reaped) {
		snprintf(why, len, "no exit within %u s", timeout_s);
		r = -1;
	} else if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) {
		snprintf(why, len, "exit %d: %.200s", WIFEXITED(c.status) ? WEXITSTATUS(c.status) : -1,
			 c.errbuf[0] ? c.errbuf : "(no message)");
		for (char *p = why; *p; p++)
			if (*p == '\n')
				*p = ' ';
		r = -1;
	}
	child_kill(&c);
	return r;
}

int bench_oci(const struct bench_oci_opts *o, struct bench_series *s, size_t *nseries,
	      struct cl_error *err)
{
	char why[256], image[PATH_MAX], id[80] = "";
	double ms;
	if (o->runs < 1 || o->runs > BENCH_MAX_RUNS)
		return cl_err(err, EINVAL, "--runs %u is out of range 1..%d", o->runs, BENCH_MAX_RUNS);
	if (!o->podman)
		return cl_err(err, ENOENT, "bench oci: podman is not installed (make deps)");
	if (!realpath(o->image, image))
		return cl_err_sys(err, errno, "image %s (run: make images)", o->image);

	/* the image into the bench's store, once, untimed */
	struct argv a = { 0 };
	podman_base(&a, o);
	argv_words(&a, "pull", "-q", NULL);
	argv_add(&a, "oci:%s:latest", image);
	if (a.overflow)
		return cl_err(err, E2BIG, "bench oci: podman's command line");
	int r = run_to_end(a.v, 300, &ms, why, sizeof(why), id);
	if (r < 0)
		return cl_err(err, EIO, "bench oci: podman pull oci:%s: %s", image, why);
	if (strspn(id, "0123456789abcdef") != 64)
		return cl_err(err, EIO, "bench oci: podman pull -q printed '%s', not an image id", id);

	const char *names[] = { "cloudlet", "runc", "crun" };
	const char *rts[] = { o->runtime, o->runc, o->crun };
	*nseries = 0;
	for (int k = 0; k < 3; k++)
		if (rts[k])
			bench_series_init(&s[(*nseries)++], names[k]);
	char line[160];
	for (unsigned i = 0; i < o->runs; i++) {
		size_t k = 0;
		for (int t = 0; t < 3; t++) {
			if (!rts[t])
				continue;
			struct argv b = { 0 };
			podman_base(&b, o);
			argv_add(&b, "--runtime=%s", rts[t]);
			/* rlimits below podman's defaults (nofile, nproc 1048576), which
			 * a root without CAP_SYS_RESOURCE cannot raise to: any runtime
			 * that applies process.rlimits would fail on such hosts */
			argv_words(&b, "run", "--rm", "--pull=never", "--network=none", "--ulimit=nofile=1024:1024",
				   "--ulimit=nproc=1024:1024", "--entrypoint=true", id, NULL);
			if (b.overflow)
				return cl_err(err, E2BIG, "bench oci: podman's command line");
			if (run_to_end(b.v, o->timeout_s, &ms, why, sizeof(why), NULL) == 0)
				bench_series_add(&s[k], &ms, 1);
			else
				bench_series_fail(&s[k], "%s", why);
			k++;
		}
		if (o->progress) {
			snprintf(line, sizeof(line), "oci: run %u/%u done", i + 1, o->runs);
			o->progress(o->ctx, line);
		}
	}
	return 0;
}
