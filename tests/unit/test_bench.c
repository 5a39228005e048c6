/* bench/: statistics and the parsers of what VMMs report. */
#include <criterion/criterion.h>
#include <errno.h>

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
