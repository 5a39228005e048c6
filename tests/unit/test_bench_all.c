/* bench all: the /proc parsers, the isolation rows, and the table, JSON and
 * SVG from canned samples (no VM, no container, no root). */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloudlet/bench.h"
#include "cloudlet/cgroup.h"
#include "cloudlet/crun.h"
#include "cloudlet/vmm.h"

Test(bench_all, parse_rollup)
{
	const char *t = "55d0c0a00000-7ffc5d3f1000 ---p 00000000 00:00 0                          [rollup]\n"
			"Rss:              268540 kB\nPss:              262144 kB\nPss_Anon:         260000 kB\n";
	uint64_t rss = 0, pss = 0;
	cr_assert_eq(bench_parse_rollup(t, &rss, &pss), 0);
	cr_assert_eq(rss, 268540);
	cr_assert_eq(pss, 262144, "Pss, not Pss_Anon");
	cr_assert_eq(bench_parse_rollup("Rss: 12 kB\n", &rss, &pss), -ENOENT);
	cr_assert_eq(bench_parse_rollup("Rss: x kB\nPss: 1 kB\n", &rss, &pss), -EINVAL);
	cr_assert_eq(bench_parse_rollup("Rss: 1 MB\nPss: 1 kB\n", &rss, &pss), -EINVAL, "the unit is kB");
	cr_assert_eq(bench_parse_rollup(NULL, &rss, &pss), -ENOENT);
}

Test(bench_all, smaps_largest_anonymous)
{
	const char *t =
		"5581f0c00000-5581f0e00000 r-xp 00000000 08:01 1234    /usr/bin/cloudlet\n"
		"Size:               2048 kB\nRss:                1900 kB\n"
		"7f0000000000-7f0010000000 rw-p 00000000 00:00 0 \n"
		"Size:             262144 kB\nRss:               40960 kB\n"
		"7f1000000000-7f1000100000 rw-p 00000000 00:00 0 \n"
		"Size:               1024 kB\nRss:                1024 kB\n"
		"7f2000000000-7f2020000000 rw-s 00000000 00:05 77      /memfd:big (deleted)\n"
		"Size:             524288 kB\nRss:                   4 kB\n"
		"7ffc5d3d0000-7ffc5d3f1000 rw-p 00000000 00:00 0       [stack]\n"
		"Size:                132 kB\nRss:                  20 kB\n";
	uint64_t size = 0, rss = 0;
	cr_assert_eq(bench_parse_smaps_largest_anon(t, &size, &rss), 0);
	cr_assert_eq(size, 262144, "the guest RAM mapping, not the named memfd or the file");
	cr_assert_eq(rss, 40960);
	cr_assert_eq(bench_parse_smaps_largest_anon("5581f0c00000-5581f0e00000 r-xp 00000000 08:01 1 /bin/x\n"
						    "Rss: 4 kB\n", &size, &rss), -ENOENT);
}

Test(bench_all, cgroup_memory_file)
{
	struct cl_cg_layout v2 = { .unified = "/sys/fs/cgroup" }, v1 = { .unified = "/sys/fs/cgroup/unified" };
	snprintf(v1.v1[CL_CG_MEMORY], sizeof(v1.v1[0]), "/sys/fs/cgroup/memory");
	char f[256];
	cr_assert_eq(bench_cgroup_memory_file("0::/cloudlet-vm/vm-Ab12Cd\n", &v2, f, sizeof(f)), 0);
	cr_assert_str_eq(f, "/sys/fs/cgroup/cloudlet-vm/vm-Ab12Cd/memory.current");
	const char *hybrid = "12:pids:/cloudlet/x\n11:cpu,cpuacct:/cloudlet/x\n5:memory:/cloudlet/x\n"
			     "1:name=systemd:/user.slice\n0::/user.slice\n";
	cr_assert_eq(bench_cgroup_memory_file(hybrid, &v1, f, sizeof(f)), 0);
	cr_assert_str_eq(f, "/sys/fs/cgroup/memory/cloudlet/x/memory.usage_in_bytes",
			 "v1's memory controller, not the controller-less unified one");
	cr_assert_eq(bench_cgroup_memory_file("3:cpu:/a\n", &v1, f, sizeof(f)), -ENOENT);
	cr_assert_eq(bench_cgroup_memory_file("0::/a\n", &v2, f, 10), -ENAMETOOLONG);
}

Test(bench_all, parse_devices)
{
	unsigned n = 0;
	cr_assert_eq(bench_parse_devices("cloudlet: vm run: kvm-exits=2142 devices=5 vmm-exits io=3\n", &n), 0);
	cr_assert_eq(n, 5);
	cr_assert_eq(bench_parse_devices("kvm-exits=1", &n), -ENOENT);
	cr_assert_eq(bench_parse_devices("x devices=5x", &n), -EINVAL);
	cr_assert_eq(bench_parse_devices("x devices=-1", &n), -EINVAL);
}

static const struct bench_facts facts[BENCH_NKINDS] = {
	[BENCH_VM] = { 6, "mnt pid net ipc uts cgroup", 1, 0, 2, 5 },
	[BENCH_CT] = { 6, "mnt pid net ipc uts cgroup", 17, 6, 1, -1 },
};

Test(bench_all, surface_rows)
{
	struct bench_surface_row rows[BENCH_SURFACE_ROWS];
	size_t n = bench_surface(facts, rows, BENCH_SURFACE_ROWS);
	cr_assert_eq(n, 8);
	/* syscalls: the container's profile minus its errno rows; the VMM's
	 * distinct names over both thread kinds, at least the larger table */
	long ct = 0;
	for (size_t i = 0; i < crun_seccomp_default_count; i++)
		ct += crun_seccomp_default[i].kind != CL_SC_ERRNO;
	cr_assert_str_eq(rows[0].what, "host syscalls allowed");
	cr_assert_eq(rows[0].ct, ct);
	cr_assert_geq(rows[0].vm, (long)vmm_sc_tables[VMM_THREAD_VMM].n);
	cr_assert_leq(rows[0].vm, (long)(vmm_sc_tables[VMM_THREAD_VMM].n + vmm_sc_tables[VMM_THREAD_VCPU].n));
	cr_assert_lt(rows[0].vm, rows[0].ct);
	cr_assert_eq(rows[1].ct, BENCH_SURFACE_ANY, "ioctl: any request in the container");
	cr_assert_gt(rows[2].vm, rows[1].vm, "more KVM ioctls at setup than allowed after");
	cr_assert_eq(rows[2].ct, BENCH_SURFACE_NA);
	cr_assert_eq(rows[3].vm, 5);
	cr_assert_eq(rows[5].vm, 2, "8 kinds - 6 own");
	cr_assert(strstr(rows[5].why, "VM mnt pid net ipc uts cgroup"), "%s", rows[5].why);
	cr_assert_eq(rows[6].ct, 17);
	struct bench_facts none[BENCH_NKINDS] = { { -1, "", -1, -1, -1, -1 }, { -1, "", -1, -1, -1, -1 } };
	bench_surface(none, rows, BENCH_SURFACE_ROWS);
	cr_assert_eq(rows[3].vm, BENCH_SURFACE_UNMEASURED);
	cr_assert_eq(rows[5].ct, BENCH_SURFACE_UNMEASURED);
	cr_assert_eq(bench_surface(facts, rows, 3), 3, "never past max");
}

/* a canned run: 3 boots per VMM, 3 container starts per runtime (crun's
 * failed), 3 idle instances per kind, network pending */
static struct bench_all *canned(void)
{
	static struct bench_all r;
	memset(&r, 0, sizeof(r));
	snprintf(r.env.kernel, sizeof(r.env.kernel), "Linux 6.1.0-28-amd64");
	snprintf(r.env.cpu, sizeof(r.env.cpu), "QEMU TCG <max> & co");
	snprintf(r.env.kvm_host, sizeof(r.env.kvm_host), "emulated");
	snprintf(r.env.qemu, sizeof(r.env.qemu), "QEMU emulator version 7.2.22");
	snprintf(r.env.runc, sizeof(r.env.runc), "runc version 1.1.5");
	r.runs = 3;
	r.budget = 1ull << 30;
	bench_series_init(&r.vm[0], "vm cloudlet");
	bench_series_init(&r.vm[1], "vm qemu-microvm");
	r.nvm = 2;
	for (int i = 0; i < 3; i++) {
		double a[] = { 4000 + 100 * i, 4300 + 100 * i, 2100 + i }, b[] = { 6000 + 200 * i, 6400, 3000 };
		bench_series_add(&r.vm[0], a, 3);
		bench_series_add(&r.vm[1], b, 3);
	}
	const char *ct[] = { "ct cloudlet", "ct runc", "ct crun" };
	for (int k = 0; k < 3; k++) {
		bench_series_init(&r.ct[k], ct[k]);
		r.ct[k].na = 1u << BENCH_BOOT_EXITS;
		for (int i = 0; i < 3 && k < 2; i++) {
			double v[] = { 40.0 + k * 10 + i, 50.0 + k * 10 + i };
			bench_series_add(&r.ct[k], v, 2);
		}
	}
	bench_series_fail(&r.ct[2], "cgroups in hybrid mode not supported");
	r.nct = 3;
	bench_series_init(&r.idle[BENCH_VM], "vm cloudlet");
	bench_series_init(&r.idle[BENCH_CT], "ct cloudlet");
	r.idle[BENCH_CT].na = 1u << BENCH_IDLE_GUEST;
	for (int i = 0; i < 3; i++) {
		double v[] = { 64 + i, 58 + i, 70, 40, 90 }, c[] = { 8 + i, 2 + i, 7, 0, 120 };
		bench_series_add(&r.idle[BENCH_VM], v, 5);
		bench_series_add(&r.idle[BENCH_CT], c, 5);
	}
	memcpy(r.facts, facts, sizeof(facts));
	snprintf(r.net.note, sizeof(r.net.note), "not measured (pending)");
	snprintf(r.notes[r.nnotes++], sizeof(r.notes[0]), "crun absent or disabled: skipped");
	return &r;
}

Test(bench_all, cost_density_failed)
{
	struct bench_all *r = canned();
	cr_assert_float_eq(bench_all_cost(r, BENCH_VM), 65, 1e-9, "the median cost");
	cr_assert_float_eq(bench_all_cost(r, BENCH_CT), 9, 1e-9);
	cr_assert_eq(bench_all_density(r, BENCH_VM), 15, "1024 MiB / 65 MiB");
	cr_assert_eq(bench_all_density(r, BENCH_CT), 113);
	cr_assert(bench_all_failed(r), "crun's failed run");
	r->ct[2].failed = 0;
	cr_assert_not(bench_all_failed(r));
	r->idle[BENCH_VM].n = 0;
	cr_assert_eq(bench_all_density(r, BENCH_VM), 0, "not measured: no figure");
}

static char *table_text(const struct bench_all *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	bench_all_table(f, r);
	fclose(f);
	return text;
}

/* the first three cells of the ratio row ending in label */
static bool ratio_line(const char *t, const char *label, char *a, char *b, char *c)
{
	const char *end = strstr(t, label), *start = end;
	while (start && start > t && start[-1] != '\n')
		start--;
	return end && sscanf(start, "ratio %15s %15s %15s", a, b, c) == 3;
}

Test(bench_all, table)
{
	char *t = table_text(canned());
	cr_assert(strstr(t, "KVM emulated (tests/kvmhost/run): both kinds ran inside the emulated KVM host; "
			    "absolute times are emulation-distorted, read the ratios"), "%s", t);
	cr_assert(strstr(t, "note: crun absent or disabled: skipped"), "%s", t);
	cr_assert(strstr(t, "\nvm cloudlet         3 4100.0 (4000.0-4200.0)"), "%s", t);
	cr_assert(strstr(t, "\nct cloudlet         3 41.0 (40.0-42.0)           51.0 (50.0-52.0)           n/a"),
		  "%s", t);
	cr_assert(strstr(t, "  3 run(s) failed") == NULL && strstr(t, "  1 run(s) failed; first: ct crun: cgroups"),
		  "%s", t);
	/* ratios: cloudlet/QEMU, cloudlet/runc, VM/container (4100/41) */
	char a[16], b[16], c[16];
	cr_assert(ratio_line(t, "(vm cloudlet / vm qemu-microvm, medians)", a, b, c), "%s", t);
	cr_assert(!strcmp(a, "0.66") && !strcmp(b, "0.69") && !strcmp(c, "0.70"), "%s %s %s", a, b, c);
	cr_assert(ratio_line(t, "(ct cloudlet / ct runc, medians)", a, b, c));
	cr_assert(!strcmp(a, "0.80") && !strcmp(b, "0.84") && !strcmp(c, "n/a"), "%s %s %s", a, b, c);
	cr_assert(ratio_line(t, "(ct cloudlet / ct crun, medians)", a, b, c));
	cr_assert(!strcmp(a, "n/a") && !strcmp(b, "n/a"), "crun has no sample");
	cr_assert(ratio_line(t, "(vm cloudlet / ct cloudlet, medians)", a, b, c));
	cr_assert(!strcmp(a, "100.00") && !strcmp(b, "86.27") && !strcmp(c, "n/a"), "%s %s %s", a, b, c);
	cr_assert(strstr(t, "VM 65.0 MiB, container 9.0 MiB"), "%s", t);
	cr_assert(strstr(t, "density in 1024 MiB: 15 microVMs, 113 containers (extrapolated"), "%s", t);
	cr_assert(strstr(t, "3. network"), "%s", t);
	cr_assert(strstr(t, "\nnot measured (pending)\n"), "%s", t);
	cr_assert(strstr(t, "\nhost syscalls allowed  "), "%s", t);
	cr_assert(strstr(t, "ioctl requests allowed                        4          any"), "%s", t);
	free(t);
}

Test(bench_all, json_schema)
{
	char path[] = "/tmp/cloudlet-test-bench-all.XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	struct cl_error err = { 0 };
	cr_assert_eq(bench_all_json(path, canned(), &err), 0, "%s", err.msg);
	json_object *root = json_object_from_file(path), *x, *y, *z;
	unlink(path);
	cr_assert_not_null(root);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(root, "benchmark")), "all");
	cr_assert(json_object_object_get_ex(root, "environment", &x));
	cr_assert(json_object_get_boolean(json_object_object_get(x, "kvm_emulated")));
	cr_assert(json_object_object_get_ex(x, "tools", &y));
	cr_assert_str_eq(json_object_get_string(json_object_object_get(y, "runc")), "runc version 1.1.5");
	cr_assert(json_object_object_get_ex(y, "crun", &z) && z == NULL, "absent: null");
	/* every raw sample, per series and metric */
	cr_assert(json_object_object_get_ex(root, "startup", &x) && json_object_object_get_ex(x, "series", &y));
	cr_assert_eq(json_object_array_length(y), 5);
	json_object *vm = json_object_array_get_idx(y, 0), *ct = json_object_array_get_idx(y, 2);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(vm, "name")), "vm cloudlet");
	z = json_object_object_get(json_object_object_get(vm, "ready_ms"), "samples");
	cr_assert_eq(json_object_array_length(z), 3);
	cr_assert_float_eq(json_object_get_double(json_object_array_get_idx(z, 2)), 4200, 1e-9);
	cr_assert_float_eq(json_object_get_double(json_object_object_get(json_object_object_get(vm, "kvm_exits"),
									 "median")), 2101, 1e-9);
	cr_assert_not(json_object_object_get_ex(ct, "kvm_exits", NULL), "a container has no KVM exits");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(json_object_array_get_idx(y, 4), "error")),
			 "ct crun: cgroups in hybrid mode not supported");
	cr_assert(json_object_object_get_ex(root, "memory", &x));
	cr_assert(json_object_object_get_ex(x, "density", &y));
	cr_assert(json_object_get_boolean(json_object_object_get(y, "extrapolated")));
	cr_assert_eq(json_object_get_int(json_object_object_get(y, "ct")), 113);
	z = json_object_object_get(json_object_array_get_idx(json_object_object_get(x, "series"), 1), "cgroup_mib");
	cr_assert_eq(json_object_array_length(json_object_object_get(z, "samples")), 3);
	cr_assert(json_object_object_get_ex(root, "network", &x));
	cr_assert_not(json_object_get_boolean(json_object_object_get(x, "measured")));
	cr_assert(json_object_object_get_ex(root, "isolation", &x));
	cr_assert_eq(json_object_array_length(x), 8);
	y = json_object_array_get_idx(x, 1);
	cr_assert(json_object_object_get_ex(y, "ct", &z) && z == NULL);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(y, "ct_word")), "any");
	cr_assert(json_object_get_boolean(json_object_object_get(root, "failed")));
	json_object_put(root);
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

Test(bench_all, svg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_eq(bench_all_svg(f, canned()), 0);
	fclose(f);
	const char *head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"";
	cr_assert_eq(strncmp(text, head, strlen(head)), 0, "%s", text);
	cr_assert_eq(strcmp(text + len - 7, "</svg>\n"), 0);
	/* the expected series: start-up per kind and tool (crun: none, its
	 * run failed), memory per kind; network pending */
	const char *ids[] = { "series-startup-vm-cloudlet", "series-startup-vm-qemu-microvm",
			      "series-startup-ct-cloudlet", "series-startup-ct-runc",
			      "series-memory-vm-cloudlet", "series-memory-ct-cloudlet", "id=\"network-pending\"" };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		cr_assert(strstr(text, ids[i]), "%s missing", ids[i]);
	cr_assert_null(strstr(text, "series-startup-ct-crun"));
	cr_assert_eq(count(text, "class=\"sample\""), 12, "a dot per successful start-up sample");
	cr_assert_eq(count(text, "<g "), count(text, "</g>"));
	cr_assert_eq(count(text, "<text"), count(text, "</text>"));
	cr_assert(strstr(text, "QEMU TCG &lt;max&gt; &amp; co"), "text is escaped");
	cr_assert_null(strstr(text, "<max>"));
	cr_assert_null(strstr(text, "nan"));
	cr_assert_null(strstr(text, "inf"));
	cr_assert(strstr(text, "read the ratios"));
	free(text);
}

Test(bench_all, svg_note_wraps)
{
	struct bench_all *r = canned();
	snprintf(r->net.note, sizeof(r->net.note), "not measured (pending: a reason long enough to need three "
		 "lines in the panel, with a_word_longer_than_forty_characters_in_it_here)");
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_eq(bench_all_svg(f, r), 0);
	fclose(f);
	const char *p = strstr(text, "id=\"network-pending\"");
	cr_assert(p);
	size_t lines = 0, chars = 0;
	for (const char *t = p; (t = strstr(t, "<tspan")) && t < strstr(p, "</text>"); t++) {
		const char *a = strchr(t, '>') + 1, *b = strstr(a, "</tspan>");
		cr_assert_leq(b - a, 40, "a line of at most 40 characters: %.*s", (int)(b - a), a);
		lines++;
		chars += (size_t)(b - a);
	}
	cr_assert_geq(lines, 3);
	cr_assert_geq(chars + lines, strlen(r->net.note) - 2, "nothing lost but the spaces cut at");
	free(text);
}

Test(bench_all, svg_network_series)
{
	struct bench_all *r = canned();
	r->net.measured = true;
	const char *names[] = { "veth", "ct-ct", "vm <-> vm" };
	for (int i = 0; i < 3; i++) {
		double v[] = { 900 + i, 800, 100 };
		bench_series_init(&r->net.pair[i], names[i]);
		bench_series_add(&r->net.pair[i], v, 3);
	}
	r->net.npairs = 3;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_eq(bench_all_svg(f, r), 0);
	fclose(f);
	cr_assert(strstr(text, "id=\"series-network-vm-vm\""), "%s", text);
	cr_assert(strstr(text, "id=\"series-network-veth\""));
	cr_assert(strstr(text, "id=\"series-network-ct-ct\""));
	char *t = table_text(r);
	cr_assert(strstr(t, "(vm <-> vm / veth, medians)"), "%s", t);
	free(t);
	cr_assert_null(strstr(text, "network-pending"));
	free(text);
}
