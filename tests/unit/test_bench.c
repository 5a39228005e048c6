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
