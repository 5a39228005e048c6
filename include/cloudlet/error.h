/* cloudlet error object, carried from the failing call up to the one place
 * that prints it (cli/). Library functions return 0 or a negative errno and
 * fill *err; each caller may prepend context ("vm: kernel x: ...").
 * Pattern after crun's libcrun_error_t: the library never prints or exits. */
#ifndef CLOUDLET_ERROR_H
#define CLOUDLET_ERROR_H

#include <stddef.h>

#define CL_ERR_MSG_MAX 1024

struct cl_error {
	int code;                   /* positive errno, 0 = no error */
	char msg[CL_ERR_MSG_MAX];   /* one line, no trailing newline */
};

/* Set err to errnum (EINVAL when 0) and a formatted message; returns -errnum. */
int cl_err(struct cl_error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like cl_err, with ": strerror(errnum)" appended. */
int cl_err_sys(struct cl_error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepend "CONTEXT: " to the message; keeps the code; returns -code. */
int cl_err_wrap(struct cl_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void cl_err_clear(struct cl_error *err);

#endif
