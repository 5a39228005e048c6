/* `bench sdn-scale`'s report: a table for people (p50 and p99 of each kind
 * of change at each number of hosts; the FDB rows per host) and JSON with
 * every sample. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cloudlet/bench.h"

static void p50_p99(char *buf, size_t len, const struct bench_series *s, int m, const char *fmt)
{
	struct bench_stats st;
	bench_stats(s->v[m], s->n, &st);
	if (!s->n)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, fmt, st.median, st.p99);
}

void bench_sdn_scale_table(FILE *out, const struct bench_sdn_scale_opts *o, const struct bench_sdn_scale *r)
{
	char a[48], b[48], c[48], ival[32] = "their default (1 s)";
	if (o->agent_interval_ms)
		snprintf(ival, sizeof(ival), "%u ms", o->agent_interval_ms);
	fprintf(out, "%u hosts x %u attachments in %u VPCs (each VPC on some hosts only); %u changes of each kind "
		"per step; agents' interval %s; cloud set up in %.0f s\n", o->hosts, o->per_host, o->vpcs, o->changes,
		ival, r->setup_s);
	fprintf(out, "%-17s %4s %-26s %-26s %-18s %s\n", "hosts: change", "n", "write -> all applied ms",
		"write -> first applied ms", "call -> write ms", "hosts affected");
	fprintf(out, "%-17s %4s %-26s %-26s %-18s %s\n", "", "", "p50 / p99", "p50 / p99", "p50", "mean");
	for (unsigned st = 0; st < r->nsteps; st++)
		for (int k = 0; k < BENCH_SDN_KINDS; k++) {
			const struct bench_series *s = &r->s[st][k];
			struct bench_stats w, h;
			p50_p99(a, sizeof(a), s, BENCH_SDN_CONVERGE, "%.0f / %.0f");
			p50_p99(b, sizeof(b), s, BENCH_SDN_FIRST, "%.0f / %.0f");
			bench_stats(s->v[BENCH_SDN_WRITE], s->n, &w);
			bench_stats(s->v[BENCH_SDN_AFFECTED], s->n, &h);
			snprintf(c, sizeof(c), s->n ? "%.1f" : "-", w.median);
			fprintf(out, "%-17s %4zu %-26s %-26s %-18s ", s->name, s->n, a, b, c);
			if (s->n)
				fprintf(out, "%.1f of %u\n", h.mean, r->hosts[st]);
			else
				fprintf(out, "- of %u\n", r->hosts[st]);
			if (s->failed)
				fprintf(out, "  %zu change(s) failed; first: %s\n", s->failed, s->error);
		}
	if (!r->nrows)
		return;
	fprintf(out, "\nper host (mean) as the hosts grow: /32 routes held / needed by its VPCs; FDB entries held /\n"
		"needed (one per other host of its VPCs; neighbour entries the same); the whole cloud's guests elsewhere\n");
	for (unsigned st = 0; st < r->nsteps && r->atts[st]; st++)
		fprintf(out, "%3u hosts, %4u attachments: routes %6.1f / %6.1f; FDB %5.1f / %5.1f; cloud %6.1f\n",
			r->hosts[st], r->atts[st], r->routes_mean[st], r->expect_mean[st], r->fdb_mean[st],
			r->expect_hosts_mean[st], r->cloud_mean[st]);
	fprintf(out, "\nper host at %zu hosts: what its kernel holds on the VXLAN devices vs what the VPCs present on\n"
		"it need (routes: their guests on other hosts; FDB and neighbour entries: those hosts), and the\n"
		"cloud's guests on other hosts (what a flat, every-guest design would hold)\n", r->nrows);
	fprintf(out, "%-8s %6s %5s %15s %13s %6s %7s\n", "host", "local", "vpcs", "routes/needed", "fdb/needed", "neigh",
		"cloud");
	long sum = 0, cloud = 0;
	for (size_t i = 0; i < r->nrows; i++) {
		const struct bench_sdn_host_row *w = &r->rows[i];
		char rt[32], fd[32];
		snprintf(rt, sizeof(rt), "%ld/%u", w->routes, w->expect);
		snprintf(fd, sizeof(fd), "%ld/%u", w->fdb, w->expect_hosts);
		bool ok = w->routes == w->expect && w->fdb == w->expect_hosts && w->neigh == w->expect_hosts;
		fprintf(out, "%-8s %6u %5u %15s %13s %6ld %7u%s\n", w->name, w->local, w->vpcs, rt, fd, w->neigh, w->cloud,
			ok ? "" : "  <- differs");
		sum += w->routes;
		cloud += w->cloud;
	}
	fprintf(out, "growth: %s; at %zu hosts %.1f routes per host on average, against %.1f guests elsewhere in the "
		"cloud\n", r->growth_ok ? "OK (at every step, every host holds exactly what its VPCs need)"
					: "FAILED (a host holds other entries than its VPCs need)",
		r->nrows, (double)sum / (double)r->nrows, (double)cloud / (double)r->nrows);
}

int bench_sdn_scale_json(const char *path, const struct bench_sdn_scale_opts *o, const struct bench_sdn_scale *r,
			 struct cl_error *err)
{
	const struct bench_kind *k = &bench_sdn_scale_kind;
	json_object *root = json_object_new_object(), *cfg = json_object_new_object();
	json_object_object_add(root, "benchmark", json_object_new_string(k->name));
	json_object_object_add(root, "environment", bench_json_environment());
	json_object_object_add(cfg, "hosts", json_object_new_int((int)o->hosts));
	json_object_object_add(cfg, "per_host", json_object_new_int((int)o->per_host));
	json_object_object_add(cfg, "vpcs", json_object_new_int((int)o->vpcs));
	json_object_object_add(cfg, "changes", json_object_new_int((int)o->changes));
	json_object_object_add(cfg, "agent_interval_ms", json_object_new_int((int)o->agent_interval_ms));
	json_object_object_add(root, "config", cfg);
	json_object_object_add(root, "setup_s", json_object_new_double(r->setup_s));
	json_object *steps = json_object_new_array();
	for (unsigned st = 0; st < r->nsteps; st++) {
		json_object *x = json_object_new_object(), *ch = json_object_new_object();
		json_object_object_add(x, "hosts", json_object_new_int((int)r->hosts[st]));
		json_object_object_add(x, "attachments", json_object_new_int((int)r->atts[st]));
		json_object_object_add(x, "routes_per_host", json_object_new_double(r->routes_mean[st]));
		json_object_object_add(x, "routes_needed_per_host", json_object_new_double(r->expect_mean[st]));
		json_object_object_add(x, "fdb_per_host", json_object_new_double(r->fdb_mean[st]));
		json_object_object_add(x, "fdb_needed_per_host", json_object_new_double(r->expect_hosts_mean[st]));
		json_object_object_add(x, "cloud_per_host", json_object_new_double(r->cloud_mean[st]));
		for (int c = 0; c < BENCH_SDN_KINDS; c++) {
			const struct bench_series *s = &r->s[st][c];
			json_object *y = json_object_new_object();
			json_object_object_add(y, "failed", json_object_new_int((int)s->failed));
			if (s->error[0])
				json_object_object_add(y, "error", json_object_new_string(s->error));
			for (size_t m = 0; m < k->nmetrics; m++)
				json_object_object_add(y, k->metrics[m].key, bench_json_stats(s->v[m], s->n));
			/* "attach", "detach", "sg_rule" */
			const char *name = strchr(s->name, ':') + 2;
			json_object_object_add(ch, !strcmp(name, "sg rule") ? "sg_rule" : name, y);
		}
		json_object_object_add(x, "changes", ch);
		json_object_array_add(steps, x);
	}
	json_object_object_add(root, "steps", steps);
	json_object *rows = json_object_new_array();
	for (size_t i = 0; i < r->nrows; i++) {
		const struct bench_sdn_host_row *w = &r->rows[i];
		json_object *x = json_object_new_object();
		json_object_object_add(x, "host", json_object_new_string(w->name));
		json_object_object_add(x, "local", json_object_new_int((int)w->local));
		json_object_object_add(x, "vpcs", json_object_new_int((int)w->vpcs));
		json_object_object_add(x, "routes_needed", json_object_new_int((int)w->expect));
		json_object_object_add(x, "fdb_needed", json_object_new_int((int)w->expect_hosts));
		json_object_object_add(x, "routes", json_object_new_int64(w->routes));
		json_object_object_add(x, "fdb", json_object_new_int64(w->fdb));
		json_object_object_add(x, "neigh", json_object_new_int64(w->neigh));
		json_object_object_add(x, "cloud", json_object_new_int((int)w->cloud));
		json_object_array_add(rows, x);
	}
	json_object_object_add(root, "hosts", rows);
	json_object_object_add(root, "growth_ok", json_object_new_boolean(r->growth_ok));
	int rc = json_object_to_file_ext(path, root, JSON_C_TO_STRING_PRETTY);
	json_object_put(root);
	return rc < 0 ? cl_err(err, EIO, "cannot write %s", path) : 0;
}
