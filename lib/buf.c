/* The growing buffer: see include/cloudlet/buf.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/buf.h"

int cl_buf_append(struct cl_buf *b, const void *data, size_t len, size_t max)
{
	if (b->over || len > max || b->n > max - len) {
		b->over = true;
		return -E2BIG;
	}
	char *g = realloc(b->p, b->n + len + 1);
	if (!g)
		return -ENOMEM;
	memcpy(g + b->n, data, len);
	b->p = g;
	b->n += len;
	g[b->n] = '\0';
	return 0;
}

void cl_buf_free(struct cl_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->n = 0;
	b->over = false;
}
