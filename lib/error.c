/* The error object: see include/cloudlet/error.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cloudlet/error.h"

static int err_vset(struct cl_error *err, int errnum, int sys, const char *fmt, va_list ap)
{
	if (errnum <= 0)
		errnum = errnum < 0 ? -errnum : EINVAL;
	if (!err)
		return -errnum;
	err->code = errnum;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (sys && n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(errnum));
	return -errnum;
}

int cl_err(struct cl_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = err_vset(err, errnum, 0, fmt, ap);
	va_end(ap);
	return r;
}

int cl_err_sys(struct cl_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = err_vset(err, errnum, 1, fmt, ap);
	va_end(ap);
	return r;
}

int cl_err_wrap(struct cl_error *err, const char *fmt, ...)
{
	if (!err)
		return -EINVAL;
	if (!err->code)
		err->code = EINVAL;
	char ctx[CL_ERR_MSG_MAX], old[CL_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* truncation is acceptable: the innermost detail is cut, never the context */
	size_t n = strlen(ctx);
	if (n > sizeof(err->msg) - 3)
		n = sizeof(err->msg) - 3;
	memcpy(err->msg, ctx, n);
	memcpy(err->msg + n, ": ", 2);
	size_t m = strlen(old);
	if (m > sizeof(err->msg) - n - 3)
		m = sizeof(err->msg) - n - 3;
	memcpy(err->msg + n + 2, old, m);
	err->msg[n + 2 + m] = '\0';
	return -err->code;
}

void cl_err_clear(struct cl_error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}
