/* lib/buf.c: the growing buffer HTTP bodies are read into. */
#include <criterion/criterion.h>
#include <errno.h>

#include "cloudlet/buf.h"

Test(buf, appends_up_to_its_limit)
{
	struct cl_buf b = { 0 };
	cr_assert_eq(cl_buf_append(&b, "abc", 3, 6), 0);
	cr_assert_eq(cl_buf_append(&b, "", 0, 6), 0);
	cr_assert_eq(cl_buf_append(&b, "def", 3, 6), 0, "exactly the limit");
	cr_assert_str_eq(b.p, "abcdef", "kept NUL-terminated");
	cr_assert_eq(b.n, 6);
	cr_assert_not(b.over);
	cr_assert_eq(cl_buf_append(&b, "g", 1, 6), -E2BIG);
	cr_assert(b.over);
	cr_assert_eq(b.n, 6, "nothing past the limit is kept");
	cr_assert_eq(cl_buf_append(&b, "", 0, 100), -E2BIG, "once over, over");
	cl_buf_free(&b);
	cr_assert_null(b.p);
	cr_assert_eq(cl_buf_append(&b, "x", 1, (size_t)-1), 0, "a limit near SIZE_MAX does not overflow");
	cr_assert_eq(cl_buf_append(&b, "y", (size_t)-1, (size_t)-1), -E2BIG);
	cl_buf_free(&b);
}
