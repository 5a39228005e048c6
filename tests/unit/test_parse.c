#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "cloudlet/error.h"
#include "cloudlet/parse.h"

Test(parse, sizes)
{
	struct cl_error err = { 0 };
	uint64_t v;
	cr_assert_eq(cl_parse_size("4096", &v, &err), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(cl_parse_size("512K", &v, &err), 0);
	cr_assert_eq(v, 512u << 10);
	cr_assert_eq(cl_parse_size("256M", &v, &err), 0);
	cr_assert_eq(v, 256u << 20);
	cr_assert_eq(cl_parse_size("2g", &v, &err), 0);
	cr_assert_eq(v, 2ull << 30);
	cr_assert_eq(cl_parse_size("1GiB", &v, &err), 0);
	cr_assert_eq(v, 1ull << 30);
	cr_assert_eq(cl_parse_size("64MB", &v, &err), 0);
	cr_assert_eq(v, 64ull << 20);
}

Test(parse, bad_sizes)
{
	struct cl_error err = { 0 };
	uint64_t v = 7;
	const char *bad[] = { "", "-1", "M", "12Q", "1.5G", "10 M", "3Mx", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cl_err_clear(&err);
		cr_assert_lt(cl_parse_size(bad[i], &v, &err), 0, "accepted '%s'", bad[i]);
		cr_assert_neq(err.msg[0], '\0');
	}
	cr_assert_eq(v, 7, "output written on error");
	cr_assert_eq(cl_parse_size("17179869184T", &v, &err), -ERANGE);
	cr_assert(strstr(err.msg, "too large"));
}

Test(parse, uints)
{
	struct cl_error err = { 0 };
	uint64_t v;
	cr_assert_eq(cl_parse_uint("2", 1, 255, &v, &err), 0);
	cr_assert_eq(v, 2);
	cr_assert_eq(cl_parse_uint("0", 1, 255, &v, &err), -ERANGE);
	cr_assert(strstr(err.msg, "out of range 1..255"), "%s", err.msg);
	cr_assert_eq(cl_parse_uint("+3", 0, 9, &v, &err), -EINVAL);
	cr_assert_eq(cl_parse_uint("3 ", 0, 9, &v, &err), -EINVAL);
	cr_assert_eq(cl_parse_uint(NULL, 0, 9, &v, &err), -EINVAL);
}

Test(parse, durations)
{
	struct cl_error err = { 0 };
	uint64_t v;
	cr_assert_eq(cl_parse_duration_ms("30", &v, &err), 0);
	cr_assert_eq(v, 30000);
	cr_assert_eq(cl_parse_duration_ms("500ms", &v, &err), 0);
	cr_assert_eq(v, 500);
	cr_assert_eq(cl_parse_duration_ms("2m", &v, &err), 0);
	cr_assert_eq(v, 120000);
	cr_assert_eq(cl_parse_duration_ms("1h", &v, &err), 0);
	cr_assert_eq(v, 3600000);
	cr_assert_lt(cl_parse_duration_ms("5x", &v, &err), 0);
	cr_assert_lt(cl_parse_duration_ms("s", &v, &err), 0);
}

Test(error, wrap_prepends_context_and_keeps_code)
{
	struct cl_error err = { 0 };
	cr_assert_eq(cl_err(&err, ENOENT, "kernel %s", "x"), -ENOENT);
	cr_assert_eq(cl_err_wrap(&err, "vm %s", "a"), -ENOENT);
	cr_assert_str_eq(err.msg, "vm a: kernel x");
	cr_assert_eq(cl_err_sys(&err, EACCES, "open %s", "/dev/kvm"), -EACCES);
	cr_assert_str_eq(err.msg, "open /dev/kvm: Permission denied");
	cr_assert_eq(cl_err(&err, 0, "zero becomes EINVAL"), -EINVAL);
}

Test(error, wrap_truncates_detail_not_context)
{
	struct cl_error err = { 0 };
	char big[2 * CL_ERR_MSG_MAX];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cl_err(&err, EIO, "%s", big);
	cl_err_wrap(&err, "ctx");
	cr_assert_eq(strncmp(err.msg, "ctx: xxx", 8), 0);
	cr_assert_eq(strlen(err.msg), CL_ERR_MSG_MAX - 1);
}
