/* bench/: statistics, the parsers of what VMMs and clperf report, the
 * table, the VMMs' command lines. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bench/bench.h"
#include "cloudlet/bench.h"

Test(bench, stats_odd_even_empty)
{
	struct bench_stats st;
	double odd[] = { 5, 1, 3 }, even[] = { 4, 1, 3, 2 };
	bench_stats(odd, 3, &st);
	cr_assert_float_eq(st.median, 3, 1e-9);
	cr_assert_float_eq(st.min, 1, 1e-9);
	cr_assert_float_eq(st.max, 5, 1e-9);
	cr_assert_float_eq(st.mean, 3, 1e-9);
	cr_assert_float_eq(odd[0], 5, 1e-9, "samples left in their order");
	bench_stats(even, 4, &st);
	cr_assert_float_eq(st.median, 2.5, 1e-9);
	bench_stats(even, 0, &st);
	cr_assert_eq(st.n, 0);
	cr_assert_float_eq(st.median, 0, 1e-9);
}

Test(bench, parse_kvm_exits)
{
	uint64_t v = 0;
	cr_assert_eq(bench_parse_kvm_exits("cloudlet: vm run: kvm-exits=2142 vmm-exits io=333\n", &v), 0);
	cr_assert_eq(v, 2142);
	cr_assert_eq(bench_parse_kvm_exits("no counter here", &v), -ENOENT);
	cr_assert_eq(bench_parse_kvm_exits("kvm-exits=-5", &v), -EINVAL);
	cr_assert_eq(bench_parse_kvm_exits("kvm-exits=12x", &v), -EINVAL);
	cr_assert_eq(bench_parse_kvm_exits(NULL, &v), -ENOENT);
}

Test(bench, qmp_query_stats_sum)
{
	uint64_t v = 0;
	const char *two = "{\"return\": [{\"provider\": \"kvm\", \"stats\": [{\"name\": \"exits\", \"value\": 2934}],"
			  " \"qom-path\": \"/machine/unattached/device[0]\"}, {\"provider\": \"kvm\", \"stats\":"
			  " [{\"name\": \"halt_exits\", \"value\": 7}, {\"name\": \"exits\", \"value\": 66}]}]}";
	cr_assert_eq(bench_qmp_sum_exits(two, &v), 0);
	cr_assert_eq(v, 3000);
	cr_assert_eq(bench_qmp_sum_exits("{\"return\": []}", &v), -ENOENT);
	cr_assert_eq(bench_qmp_sum_exits("{\"error\": {\"class\": \"GenericError\"}}", &v), -EPROTO);
	cr_assert_eq(bench_qmp_sum_exits("not json", &v), -EPROTO);
	cr_assert_eq(bench_qmp_sum_exits("{\"return\": [{\"provider\": \"kvm\", \"stats\": [{\"name\": \"exits\", \"value\": \"x\"}]}]}", &v), -ENOENT);
}

Test(bench, parse_clperf_results)
{
	unsigned m = 99;
	double v = 0;
	cr_assert_eq(bench_parse_clperf("clperf tcp-send mbit_s=941.20 bytes=588251136 secs=5.000", &m, &v), 0);
	cr_assert_eq(m, BENCH_IO_TX);
	cr_assert_float_eq(v, 941.2, 1e-9);
	cr_assert_eq(bench_parse_clperf("clperf tcp-recv mbit_s=295.16 bytes=77332480 secs=2.096", &m, &v), 0);
	cr_assert_eq(m, BENCH_IO_RX);
	cr_assert_eq(bench_parse_clperf("clperf tcp-rr rtt_us=48.1 min_us=39.0 max_us=912.4 n=1000", &m, &v), 0);
	cr_assert_eq(m, BENCH_IO_RTT);
	cr_assert_float_eq(v, 48.1, 1e-9);
	cr_assert_eq(bench_parse_clperf("clperf randread iops=23150", &m, &v), 0, "the last field of the line");
	cr_assert_eq(m, BENCH_IO_IOPS);
	cr_assert_float_eq(v, 23150, 1e-9);
	/* a kernel message can share the console line */
	cr_assert_eq(bench_parse_clperf("[    3.1] random: crng init doneclperf randread iops=270 n=541", &m, &v), 0);
	cr_assert_float_eq(v, 270, 1e-9);
}

Test(bench, parse_clperf_rejects)
{
	unsigned m = 99;
	double v = -1;
	/* not result lines: nothing, the server's line, an error, usage */
	cr_assert_eq(bench_parse_clperf(NULL, &m, &v), -ENOENT);
	cr_assert_eq(bench_parse_clperf("cloudlet-exit status=0", &m, &v), -ENOENT);
	cr_assert_eq(bench_parse_clperf("clperf tcp-server port=5001", &m, &v), -ENOENT);
	cr_assert_eq(bench_parse_clperf("clperf: connect to 10.99.0.1:5001: No route to host", &m, &v), -ENOENT);
	cr_assert_eq(bench_parse_clperf("clperf randreads iops=5", &m, &v), -ENOENT);
	/* malformed figures */
	cr_assert_eq(bench_parse_clperf("clperf randread n=5 iops=5", &m, &v), -EINVAL, "figure first");
	cr_assert_eq(bench_parse_clperf("clperf randread iops=", &m, &v), -EINVAL);
	cr_assert_eq(bench_parse_clperf("clperf randread iops=0", &m, &v), -EINVAL, "zero");
	cr_assert_eq(bench_parse_clperf("clperf randread iops=-3", &m, &v), -EINVAL);
	cr_assert_eq(bench_parse_clperf("clperf randread iops=nan", &m, &v), -EINVAL);
	cr_assert_eq(bench_parse_clperf("clperf randread iops=1e999", &m, &v), -EINVAL, "overflow");
	cr_assert_eq(bench_parse_clperf("clperf randread iops= 5", &m, &v), -EINVAL);
	cr_assert_eq(bench_parse_clperf("clperf tcp-rr rtt_us=12x", &m, &v), -EINVAL);
	cr_assert_eq(m, 99, "untouched on failure");
	cr_assert_float_eq(v, -1, 1e-9);
}

Test(bench, vm_io_cmdline)
{
	char buf[512];
	cr_assert_eq(bench_vm_io_cmdline(buf, sizeof(buf), 5, 1000), 0);
	/* ip= before `--`, the mode and its command last (images/README.md) */
	const char *ip = strstr(buf, " ip=10.99.0.2::10.99.0.1:255.255.255.252::eth0:off ");
	const char *run = strstr(buf, " -- run sh -c \"clperf randread /dev/vda 5; ");
	cr_assert(ip && run && ip < run, "%s", buf);
	cr_assert(strstr(buf, "clperf tcp-send 10.99.0.1 5001 5; clperf tcp-recv 10.99.0.1 5001 5; "
			      "clperf tcp-rr 10.99.0.1 5001 1000\""), "%s", buf);
	cr_assert_eq(buf[strlen(buf) - 1], '"');
	cr_assert_eq(bench_vm_io_cmdline(buf, 40, 5, 1000), -ENAMETOOLONG);
}

Test(bench, series_add_fail)
{
	static struct bench_series s;
	bench_series_init(&s, "cloudlet");
	double a[] = { 1, 2 }, b[] = { 3, 4 };
	bench_series_add(&s, a, 2);
	bench_series_add(&s, b, 2);
	cr_assert_eq(s.n, 2);
	cr_assert_float_eq(s.v[1][0], 2, 1e-9);
	cr_assert_float_eq(s.v[0][1], 3, 1e-9);
	bench_series_fail(&s, "exit %d\nsecond line", 3);
	bench_series_fail(&s, "later");
	cr_assert_eq(s.failed, 2);
	cr_assert_str_eq(s.error, "cloudlet: exit 3", "the first reason, one line");
}

Test(bench, table_ratios)
{
	static struct bench_series cl, q;
	bench_series_init(&cl, "cloudlet");
	bench_series_init(&q, "qemu-microvm");
	double a[] = { 100, 200, 50, 1000 }, b[] = { 200, 100, 100, 500 };
	bench_series_add(&cl, a, 4);
	bench_series_add(&q, b, 4);
	const struct bench_series *s[] = { &cl, &q };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	bench_table(f, &bench_vm_io_kind, s, 2);
	fclose(f);
	cr_assert(strstr(text, "guest->host Mbit/s"), "%s", text);
	cr_assert(strstr(text, "\ncloudlet        1 100 (100-100)"), "%s", text);
	cr_assert(strstr(text, "\nratio             0.50"), "%s", text);
	cr_assert(strstr(text, "2.00                       0.50                       2.00"), "%s", text);
	cr_assert(strstr(text, "(cloudlet / qemu-microvm, medians)"), "%s", text);
	free(text);
}

Test(bench, table_vs_first)
{
	static struct bench_series veth, ct;
	bench_series_init(&veth, "veth pair");
	bench_series_init(&ct, "ct-ct, bridge");
	double a[] = { 1000, 2000, 10 }, b[] = { 500, 1000, 25 };
	bench_series_add(&veth, a, 3);
	bench_series_add(&ct, b, 3);
	const struct bench_series *s[] = { &veth, &ct };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	bench_table_vs_first(f, &bench_vpc_net_kind, s, 2);
	fclose(f);
	cr_assert(strstr(text, "client->server Mbit/s"), "%s", text);
	/* each pair over the reference: half the throughput, 2.5x the round trip */
	cr_assert(strstr(text, "0.50                       0.50                       2.50"), "%s", text);
	cr_assert(strstr(text, "(ct-ct, bridge / veth pair, medians)"), "%s", text);
	free(text);
}

Test(bench, argv_root)
{
	struct argv c = { 0 };
	struct bench_vm_opts o = { .cloudlet = "cloudlet", .kernel = "k", .initrd = "i", .mem = "256M", .cpus = 1,
				   .timeout_s = 60, .root = "/run/x" };
	argv_cloudlet(&c, &o, "-- exit");
	cr_assert_str_eq(c.v[1], "--root", "a global option: before the command");
	cr_assert_str_eq(c.v[2], "/run/x");
	cr_assert_str_eq(c.v[3], "vm");
}

Test(bench, argv_builder)
{
	struct argv a = { 0 };
	struct bench_vm_opts o = { .cloudlet = "cloudlet", .qemu = "qemu", .kernel = "bzImage", .initrd = "initrd",
				   .mem = "256M", .cpus = 2, .timeout_s = 60 };
	argv_qemu(&a, &o, "-- exit");
	cr_assert_not(a.overflow);
	cr_assert_str_eq(a.v[0], "qemu");
	cr_assert_null(a.v[a.n]);
	cr_assert_str_eq(a.v[a.n - 1], "2", "-smp's value");
	struct argv c = { 0 };
	argv_cloudlet(&c, &o, "-- exit");
	argv_add(&c, "%s,ro", "disk");
	cr_assert_str_eq(c.v[c.n - 1], "disk,ro");
	cr_assert_str_eq(c.v[c.n - 2], "60s");
	/* past the capacity: overflow, never a write out of bounds */
	struct argv big = { 0 };
	for (int i = 0; i < 100; i++)
		argv_add(&big, "%0200d", i);
	cr_assert(big.overflow);
	cr_assert_null(big.v[big.n]);
}

Test(bench, p99_nearest_rank)
{
	double v[200];
	struct bench_stats st;
	for (int i = 0; i < 200; i++)
		v[i] = 200 - i;          /* 1..200, reversed */
	bench_stats(v, 200, &st);
	cr_assert_float_eq(st.p99, 198, 1e-9, "rank ceil(0.99*200) = 198");
	bench_stats(v, 1, &st);
	cr_assert_float_eq(st.p99, 200, 1e-9);
	double w[] = { 5, 1, 3 };
	bench_stats(w, 3, &st);
	cr_assert_float_eq(st.p99, 5, 1e-9, "rank ceil(2.97) = 3: the largest");
}
