/* Reports: a table a person reads, and JSON with every raw sample and the
 * environment (for plots and for comparing runs). Both are driven by the
 * benchmark's metric table (struct bench_kind), so every benchmark prints
 * the same way. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "bench.h"
#include "cloudlet/bench.h"

#define CELL 26   /* a cell's width: "12345 (12000-13000)" and a heading fit */

static double median(const double *v, size_t n)
{
	struct bench_stats st;
	bench_stats(v, n, &st);
	return st.median;
}

static void cell(FILE *out, const struct bench_series *s, size_t m, const char *fmt)
{
	struct bench_stats st;
	bench_stats(s->v[m], s->n, &st);
	char buf[64];
	if (s->na & (1u << m))
		snprintf(buf, sizeof(buf), "n/a");
	else if (!s->n)
		snprintf(buf, sizeof(buf), "-");
	else
		snprintf(buf, sizeof(buf), fmt, st.median, st.min, st.max);
	fprintf(out, " %-*s", CELL, buf);
}

static int name_width(const struct bench_kind *k, const struct bench_series *const *s, size_t n)
{
	int w = (int)strlen(k->contender);
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(s[i]->name) > w)
			w = (int)strlen(s[i]->name);
	return w;
}

void bench_table_rows(FILE *out, const struct bench_kind *k, const struct bench_series *const *s, size_t n,
		      int w)
{
	fprintf(out, "%-*s %4s", w, k->contender, "runs");
	for (size_t m = 0; m < k->nmetrics; m++)
		fprintf(out, " %-*s", CELL, k->metrics[m].title);
	fprintf(out, "\n%-*s %4s", w, "", "");
	for (size_t m = 0; m < k->nmetrics; m++)
		fprintf(out, " %-*s", CELL, "median (min-max)");
	fprintf(out, "\n");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%-*s %4zu", w, s[i]->name, s[i]->n);
		for (size_t m = 0; m < k->nmetrics; m++)
			cell(out, s[i], m, k->metrics[m].fmt);
		fprintf(out, "\n");
		if (s[i]->failed)
			fprintf(out, "  %zu run(s) failed; first: %s\n", s[i]->failed, s[i]->error);
	}
}

void bench_table_ratio(FILE *out, const struct bench_kind *k, const struct bench_series *a,
		       const struct bench_series *b, int w)
{
	fprintf(out, "%-*s", w + 5, "ratio");
	for (size_t m = 0; m < k->nmetrics; m++) {
		unsigned bit = 1u << m;
		if (!a->n || !b->n || ((a->na | b->na) & bit)) {
			fprintf(out, " %-*s", CELL, "n/a");
			continue;
		}
		double r = median(a->v[m], a->n) / median(b->v[m], b->n);
		/* two decimals, or two significant digits below 0.1 (0.0042, not 0.00) */
		fprintf(out, r >= 0.1 ? " %-*.2f" : " %-*.2g", CELL, r);
	}
	fprintf(out, " (%s / %s, medians)\n", a->name, b->name);
}

void bench_table(FILE *out, const struct bench_kind *k, const struct bench_series *const *s, size_t n)
{
	int w = name_width(k, s, n);
	bench_table_rows(out, k, s, n, w);
	/* the first series (cloudlet) against each reference, medians */
	for (size_t i = 1; i < n; i++)
		if (s[0]->n && s[i]->n)
			bench_table_ratio(out, k, s[0], s[i], w);
}

void bench_table_vs_first(FILE *out, const struct bench_kind *k, const struct bench_series *const *s, size_t n)
{
	int w = name_width(k, s, n);
	bench_table_rows(out, k, s, n, w);
	for (size_t i = 1; i < n; i++)
		if (s[0]->n && s[i]->n)
			bench_table_ratio(out, k, s[i], s[0], w);
}

json_object *bench_json_stats(const double *v, size_t n)
{
	struct bench_stats st;
	bench_stats(v, n, &st);
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	json_object_object_add(o, "median", json_object_new_double(st.median));
	json_object_object_add(o, "min", json_object_new_double(st.min));
	json_object_object_add(o, "max", json_object_new_double(st.max));
	json_object_object_add(o, "p99", json_object_new_double(st.p99));
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_double(v[i]));
	json_object_object_add(o, "samples", a);
	return o;
}

json_object *bench_json_environment(void)
{
	json_object *env = json_object_new_object();
	struct utsname u;
	uname(&u);
	json_object_object_add(env, "kernel", json_object_new_string(u.release));
	const char *where = getenv("CLOUDLET_KVMHOST");
	json_object_object_add(env, "kvm_host", json_object_new_string(where ? where : "native"));
	FILE *ci = fopen("/proc/cpuinfo", "r");
	char line[256];
	while (ci && fgets(line, sizeof(line), ci))
		if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
			line[strcspn(line, "\n")] = '\0';
			json_object_object_add(env, "cpu", json_object_new_string(strchr(line, ':') + 2));
			break;
		}
	if (ci)
		fclose(ci);
	return env;
}

int bench_json(const char *path, const struct bench_kind *k, const struct bench_param *params, size_t nparams,
	       const struct bench_series *const *s, size_t n, struct cl_error *err)
{
	json_object *root = json_object_new_object();
	json_object_object_add(root, "benchmark", json_object_new_string(k->name));
	json_object_object_add(root, "environment", bench_json_environment());
	if (nparams) {
		json_object *cfg = json_object_new_object();
		for (size_t i = 0; i < nparams; i++)
			json_object_object_add(cfg, params[i].key, params[i].str ?
					       json_object_new_string(params[i].str) :
					       json_object_new_int64(params[i].num));
		json_object_object_add(root, "config", cfg);
	}
	json_object *series = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "vmm", json_object_new_string(s[i]->name));
		json_object_object_add(x, "failed", json_object_new_int((int)s[i]->failed));
		if (s[i]->error[0])
			json_object_object_add(x, "error", json_object_new_string(s[i]->error));
		for (size_t m = 0; m < k->nmetrics; m++)
			if (!(s[i]->na & (1u << m)))
				json_object_object_add(x, k->metrics[m].key, bench_json_stats(s[i]->v[m], s[i]->n));
		json_object_array_add(series, x);
	}
	json_object_object_add(root, "series", series);
	int r = json_object_to_file_ext(path, root, JSON_C_TO_STRING_PRETTY);
	json_object_put(root);
	return r < 0 ? cl_err(err, EIO, "cannot write %s", path) : 0;
}
