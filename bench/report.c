/* Reports: a table a person reads, and JSON with every raw sample and the
 * environment (for plots and for comparing runs). */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "cloudlet/bench.h"

static void cell(FILE *out, const double *v, size_t n, const char *fmt)
{
	struct bench_stats st;
	bench_stats(v, n, &st);
	char buf[64];
	if (!n)
		snprintf(buf, sizeof(buf), "-");
	else
		snprintf(buf, sizeof(buf), fmt, st.median, st.min, st.max);
	fprintf(out, " %-26s", buf);
}

static double median(const double *v, size_t n)
{
	struct bench_stats st;
	bench_stats(v, n, &st);
	return st.median;
}

void bench_boot_table(FILE *out, const struct bench_boot_series *const *s, size_t n)
{
	fprintf(out, "%-14s %4s %-26s %-26s %-26s\n", "vmm", "runs", " ready marker ms",
		" guest reset handled ms", " KVM exits per boot");
	fprintf(out, "%-14s %4s %-26s %-26s %-26s\n", "", "", " median (min-max)",
		" median (min-max)", " median (min-max)");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%-14s %4zu", s[i]->name, s[i]->n);
		cell(out, s[i]->ready_ms, s[i]->n, "%.0f (%.0f-%.0f)");
		cell(out, s[i]->reset_ms, s[i]->n, "%.0f (%.0f-%.0f)");
		cell(out, s[i]->exits, s[i]->n, "%.0f (%.0f-%.0f)");
		fprintf(out, "\n");
		if (s[i]->failed)
			fprintf(out, "  %zu run(s) failed; first: %s\n", s[i]->failed, s[i]->error);
	}
	/* ratios of medians against the last series (the reference) */
	for (size_t i = 0; n > 1 && i + 1 < n; i++) {
		const struct bench_boot_series *a = s[i], *b = s[n - 1];
		if (!a->n || !b->n)
			continue;
		fprintf(out, "%-19s", "ratio");
		fprintf(out, " %-26.2f %-26.2f %-26.2f   (%s / %s, medians)\n",
			median(a->ready_ms, a->n) / median(b->ready_ms, b->n),
			median(a->reset_ms, a->n) / median(b->reset_ms, b->n),
			median(a->exits, a->n) / median(b->exits, b->n), a->name, b->name);
	}
}

static json_object *samples(const double *v, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_double(v[i]));
	return a;
}

static json_object *stats(const double *v, size_t n)
{
	struct bench_stats st;
	bench_stats(v, n, &st);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "median", json_object_new_double(st.median));
	json_object_object_add(o, "min", json_object_new_double(st.min));
	json_object_object_add(o, "max", json_object_new_double(st.max));
	json_object_object_add(o, "samples", samples(v, n));
	return o;
}

int bench_boot_json(const char *path, const char *benchmark, const struct bench_vm_boot_opts *o,
		    const struct bench_boot_series *const *s, size_t n, struct cl_error *err)
{
	json_object *root = json_object_new_object(), *env = json_object_new_object();
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
	json_object_object_add(root, "benchmark", json_object_new_string(benchmark));
	json_object_object_add(root, "environment", env);
	if (o) {
		json_object *cfg = json_object_new_object();
		json_object_object_add(cfg, "kernel", json_object_new_string(o->kernel));
		json_object_object_add(cfg, "initrd", json_object_new_string(o->initrd));
		json_object_object_add(cfg, "cpus", json_object_new_int((int)o->cpus));
		json_object_object_add(cfg, "mem", json_object_new_string(o->mem));
		json_object_object_add(cfg, "runs", json_object_new_int((int)o->runs));
		json_object_object_add(root, "config", cfg);
	}
	json_object *series = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "vmm", json_object_new_string(s[i]->name));
		json_object_object_add(x, "failed", json_object_new_int((int)s[i]->failed));
		if (s[i]->error[0])
			json_object_object_add(x, "error", json_object_new_string(s[i]->error));
		json_object_object_add(x, "ready_ms", stats(s[i]->ready_ms, s[i]->n));
		json_object_object_add(x, "reset_ms", stats(s[i]->reset_ms, s[i]->n));
		if (o)   /* VM boots only */
			json_object_object_add(x, "kvm_exits", stats(s[i]->exits, s[i]->n));
		json_object_array_add(series, x);
	}
	json_object_object_add(root, "series", series);
	int r = json_object_to_file_ext(path, root, JSON_C_TO_STRING_PRETTY);
	json_object_put(root);
	return r < 0 ? cl_err(err, EIO, "cannot write %s", path) : 0;
}

void bench_ct_table(FILE *out, const struct bench_boot_series *const *s, size_t n)
{
	fprintf(out, "%-10s %4s %-26s %-26s\n", "runtime", "runs", " ready marker ms",
		" create..deleted ms");
	fprintf(out, "%-10s %4s %-26s %-26s\n", "", "", " median (min-max)", " median (min-max)");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%-10s %4zu", s[i]->name, s[i]->n);
		cell(out, s[i]->ready_ms, s[i]->n, "%.1f (%.1f-%.1f)");
		cell(out, s[i]->reset_ms, s[i]->n, "%.1f (%.1f-%.1f)");
		fprintf(out, "\n");
		if (s[i]->failed)
			fprintf(out, "  %zu run(s) failed; first: %s\n", s[i]->failed, s[i]->error);
	}
	/* cloudlet (the first series) against each reference */
	for (size_t i = 1; i < n; i++) {
		if (!s[0]->n || !s[i]->n)
			continue;
		fprintf(out, "%-15s", "ratio");
		fprintf(out, " %-26.2f %-26.2f (%s / %s, medians)\n",
			median(s[0]->ready_ms, s[0]->n) / median(s[i]->ready_ms, s[i]->n),
			median(s[0]->reset_ms, s[0]->n) / median(s[i]->reset_ms, s[i]->n),
			s[0]->name, s[i]->name);
	}
}
