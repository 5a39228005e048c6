/* A growing byte buffer with a limit: HTTP bodies read in chunks (the
 * servers' uploads, libcurl's write callbacks). */
#ifndef CLOUDLET_BUF_H
#define CLOUDLET_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct cl_buf {
	char *p;        /* malloc'd, NUL-terminated once anything is appended */
	size_t n;
	bool over;      /* something went past the limit (and was dropped) */
};
/* Append len bytes unless that makes more than max: then nothing more is
 * appended, over is set, -E2BIG. -ENOMEM; else 0. */
int cl_buf_append(struct cl_buf *b, const void *data, size_t len, size_t max);
void cl_buf_free(struct cl_buf *b);

#endif
