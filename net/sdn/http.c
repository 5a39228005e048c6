/* The HTTP clients' shared part: see http.h. */
#include <stdlib.h>
#include <string.h>

#include "http.h"

size_t sdn_buf_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sdn_buf *b = arg;
	size_t len = size * nmemb;
	if (b->n + len > (64u << 20))
		return 0;   /* a desired state this big is not ours */
	char *g = realloc(b->p, b->n + len + 1);
	if (!g)
		return 0;
	memcpy(g + b->n, data, len);
	b->p = g;
	b->n += len;
	g[b->n] = '\0';
	return len;
}
