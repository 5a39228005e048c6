/* `bench all`'s reports: the table a person reads on stdout, and the JSON
 * with every raw sample and the environment. Both from struct bench_all
 * alone (pure but for the output), so tests feed them canned samples. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cloudlet/bench.h"

#define NAME_W 16

static bool emulated(const struct bench_all *r)
{
	return !strcmp(r->env.kvm_host, "emulated");
}

/* at most 8 series: the start-up table's VMs then containers */
static size_t startup_series(const struct bench_all *r, const struct bench_series **s)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nvm; i++)
		s[n++] = &r->vm[i];
	for (size_t i = 0; i < r->nct; i++)
		s[n++] = &r->ct[i];
	return n;
}

static void surface_value(char *buf, size_t size, long v)
{
	if (v == BENCH_SURFACE_ANY)
		snprintf(buf, size, "any");
	else if (v == BENCH_SURFACE_NA)
		snprintf(buf, size, "n/a");
	else if (v == BENCH_SURFACE_UNMEASURED)
		snprintf(buf, size, "not measured");
	else
		snprintf(buf, size, "%ld", v);
}

static void density_words(char *buf, size_t size, unsigned long n, const char *what)
{
	if (n)
		snprintf(buf, size, "%lu %s", n, what);
	else
		snprintf(buf, size, "%s not measured", what);
}

void bench_all_table(FILE *out, const struct bench_all *r)
{
	const struct bench_series *s[8];
	size_t n = startup_series(r, s);
	fprintf(out, "bench all: the images/ workload as a microVM and as a container, %u run(s) each\n", r->runs);
	fprintf(out, "machine: %s; %s; KVM %s\n", r->env.cpu[0] ? r->env.cpu : "unknown CPU", r->env.kernel,
		emulated(r) ? "emulated (tests/kvmhost/run): both kinds ran inside the emulated KVM host; "
			      "absolute times are emulation-distorted, read the ratios"
			    : !strcmp(r->env.kvm_host, "native") ? "native" : "not known to be native or emulated");
	if (r->env.qemu[0] || r->env.runc[0] || r->env.crun[0])
		fprintf(out, "references: %s%s%s%s%s\n", r->env.qemu, r->env.qemu[0] && r->env.runc[0] ? "; " : "",
			r->env.runc, (r->env.qemu[0] || r->env.runc[0]) && r->env.crun[0] ? "; " : "", r->env.crun);
	for (size_t i = 0; i < r->nnotes; i++)
		fprintf(out, "note: %s\n", r->notes[i]);

	fprintf(out, "\n1. start-up: launch -> ready marker (VM: serial console, container: stdout), "
		     "launch -> exit (VM: reset handled, container: deleted)\n");
	bench_table_rows(out, &bench_startup_kind, s, n, NAME_W);
	if (r->nvm > 1)
		bench_table_ratio(out, &bench_startup_kind, &r->vm[0], &r->vm[1], NAME_W);
	for (size_t i = 1; i < r->nct; i++)
		bench_table_ratio(out, &bench_startup_kind, &r->ct[0], &r->ct[i], NAME_W);
	if (r->nvm && r->nct)
		bench_table_ratio(out, &bench_startup_kind, &r->vm[0], &r->ct[0], NAME_W);

	fprintf(out, "\n2. memory per idle instance (the workload's serve mode), and teardown\n");
	const struct bench_series *idle[] = { &r->idle[BENCH_VM], &r->idle[BENCH_CT] };
	bench_table_rows(out, &bench_idle_kind, idle, 2, NAME_W);
	bench_table_ratio(out, &bench_idle_kind, idle[0], idle[1], NAME_W);
	double vm = bench_all_cost(r, BENCH_VM), ct = bench_all_cost(r, BENCH_CT);
	fprintf(out, "host cost = the instance's cgroup (VM: guest RAM touched, VMM, KVM kernel memory) + its "
		     "launcher's PSS: VM %.1f MiB, container %.1f MiB\n", vm, ct);
	char dv[32], dc[32];
	density_words(dv, sizeof(dv), bench_all_density(r, BENCH_VM), "microVMs");
	density_words(dc, sizeof(dc), bench_all_density(r, BENCH_CT), "containers");
	fprintf(out, "density in %.0f MiB: %s, %s (extrapolated from the per-instance cost above, measured one "
		     "instance at a time)\n", (double)r->budget / (1024 * 1024), dv, dc);

	fprintf(out, "\n3. network: TCP throughput and RTT between two instances on one VPC (bench vpc-net), and a "
		     "bare veth pair\n");
	if (!r->net.measured) {
		fprintf(out, "%s\n", r->net.note);
	} else {
		const struct bench_series *p[BENCH_NET_PAIRS];
		for (size_t i = 0; i < r->net.npairs; i++)
			p[i] = &r->net.pair[i];
		bench_table_rows(out, &bench_vpc_net_kind, p, r->net.npairs, NAME_W);
		/* each pair against the reference, the veth pair (pair[0]) */
		for (size_t i = 1; i < r->net.npairs; i++)
			bench_table_ratio(out, &bench_vpc_net_kind, p[i], p[0], NAME_W);
		if (r->net.note[0])
			fprintf(out, "note: %s\n", r->net.note);
	}

	fprintf(out, "\n4. isolation surface: what each kind exposes to the host kernel\n");
	struct bench_surface_row rows[BENCH_SURFACE_ROWS];
	size_t nr = bench_surface(r->facts, rows, BENCH_SURFACE_ROWS);
	fprintf(out, "%-34s %12s %12s  %s\n", "", "microVM", "container", "why");
	for (size_t i = 0; i < nr; i++) {
		char a[16], b[16];
		surface_value(a, sizeof(a), rows[i].vm);
		surface_value(b, sizeof(b), rows[i].ct);
		fprintf(out, "%-34s %12s %12s  %s\n", rows[i].what, a, b, rows[i].why);
	}
}

static json_object *series_json(const struct bench_kind *k, const struct bench_series *s)
{
	json_object *x = json_object_new_object();
	json_object_object_add(x, "name", json_object_new_string(s->name));
	json_object_object_add(x, "runs", json_object_new_int((int)s->n));
	json_object_object_add(x, "failed", json_object_new_int((int)s->failed));
	if (s->error[0])
		json_object_object_add(x, "error", json_object_new_string(s->error));
	for (size_t m = 0; m < k->nmetrics; m++)
		if (!(s->na & (1u << m)))
			json_object_object_add(x, k->metrics[m].key, bench_json_stats(s->v[m], s->n));
	return x;
}

static json_object *section(const struct bench_kind *k, const struct bench_series *const *s, size_t n)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	json_object *units = json_object_new_object();
	for (size_t m = 0; m < k->nmetrics; m++)
		json_object_object_add(units, k->metrics[m].key, json_object_new_string(k->metrics[m].title));
	json_object_object_add(o, "metrics", units);
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, series_json(k, s[i]));
	json_object_object_add(o, "series", a);
	return o;
}

static json_object *str(const char *s)
{
	return json_object_new_string(s);
}

int bench_all_json(const char *path, const struct bench_all *r, struct cl_error *err)
{
	json_object *root = json_object_new_object();
	json_object_object_add(root, "benchmark", str("all"));

	json_object *env = json_object_new_object(), *tools = json_object_new_object();
	json_object_object_add(env, "kernel", str(r->env.kernel));
	json_object_object_add(env, "cpu", str(r->env.cpu));
	json_object_object_add(env, "kvm_host", str(r->env.kvm_host));
	json_object_object_add(env, "kvm_emulated", json_object_new_boolean(emulated(r)));
	json_object_object_add(tools, "qemu", r->env.qemu[0] ? str(r->env.qemu) : NULL);
	json_object_object_add(tools, "runc", r->env.runc[0] ? str(r->env.runc) : NULL);
	json_object_object_add(tools, "crun", r->env.crun[0] ? str(r->env.crun) : NULL);
	json_object_object_add(env, "tools", tools);
	json_object_object_add(root, "environment", env);

	json_object *cfg = json_object_new_object();
	json_object_object_add(cfg, "runs", json_object_new_int((int)r->runs));
	json_object_object_add(cfg, "budget_bytes", json_object_new_int64((int64_t)r->budget));
	json_object_object_add(root, "config", cfg);

	const struct bench_series *s[8];
	size_t n = startup_series(r, s);
	json_object_object_add(root, "startup", section(&bench_startup_kind, s, n));

	const struct bench_series *idle[] = { &r->idle[BENCH_VM], &r->idle[BENCH_CT] };
	json_object *mem = section(&bench_idle_kind, idle, 2);
	json_object *cost = json_object_new_object(), *dens = json_object_new_object();
	json_object_object_add(cost, "vm", json_object_new_double(bench_all_cost(r, BENCH_VM)));
	json_object_object_add(cost, "ct", json_object_new_double(bench_all_cost(r, BENCH_CT)));
	json_object_object_add(cost, "is", str("median cost_mib: cgroup usage + the launcher's PSS"));
	json_object_object_add(mem, "cost_mib", cost);
	json_object_object_add(dens, "budget_mib", json_object_new_double((double)r->budget / (1024 * 1024)));
	json_object_object_add(dens, "vm", json_object_new_int64((int64_t)bench_all_density(r, BENCH_VM)));
	json_object_object_add(dens, "ct", json_object_new_int64((int64_t)bench_all_density(r, BENCH_CT)));
	json_object_object_add(dens, "extrapolated", json_object_new_boolean(1));
	json_object_object_add(mem, "density", dens);
	json_object_object_add(root, "memory", mem);

	json_object *net;
	if (r->net.measured) {
		const struct bench_series *p[BENCH_NET_PAIRS];
		for (size_t i = 0; i < r->net.npairs; i++)
			p[i] = &r->net.pair[i];
		net = section(&bench_vpc_net_kind, p, r->net.npairs);
	} else {
		net = json_object_new_object();
		json_object_object_add(net, "note", str(r->net.note));
	}
	json_object_object_add(net, "measured", json_object_new_boolean(r->net.measured));
	json_object_object_add(root, "network", net);

	struct bench_surface_row rows[BENCH_SURFACE_ROWS];
	size_t nr = bench_surface(r->facts, rows, BENCH_SURFACE_ROWS);
	json_object *iso = json_object_new_array();
	for (size_t i = 0; i < nr; i++) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "what", str(rows[i].what));
		/* words (any, n/a, not measured) are null with the word beside */
		char w[16];
		surface_value(w, sizeof(w), rows[i].vm);
		json_object_object_add(x, "vm", rows[i].vm >= 0 ? json_object_new_int64(rows[i].vm) : NULL);
		if (rows[i].vm < 0)
			json_object_object_add(x, "vm_word", str(w));
		surface_value(w, sizeof(w), rows[i].ct);
		json_object_object_add(x, "ct", rows[i].ct >= 0 ? json_object_new_int64(rows[i].ct) : NULL);
		if (rows[i].ct < 0)
			json_object_object_add(x, "ct_word", str(w));
		json_object_object_add(x, "why", str(rows[i].why));
		json_object_array_add(iso, x);
	}
	json_object_object_add(root, "isolation", iso);

	json_object *notes = json_object_new_array();
	for (size_t i = 0; i < r->nnotes; i++)
		json_object_array_add(notes, str(r->notes[i]));
	json_object_object_add(root, "notes", notes);
	json_object_object_add(root, "failed", json_object_new_boolean(bench_all_failed(r)));

	int rc = json_object_to_file_ext(path, root, JSON_C_TO_STRING_PRETTY);
	json_object_put(root);
	return rc < 0 ? cl_err(err, EIO, "cannot write %s", path) : 0;
}
