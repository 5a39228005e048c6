/* The HTTP clients' shared part: see http.h. */
#include "http.h"

size_t sdn_buf_write(char *data, size_t size, size_t nmemb, void *arg)
{
	/* a desired state this big is not ours */
	return cl_buf_append(arg, data, size * nmemb, 64u << 20) == 0 ? size * nmemb : 0;
}
