/* net/sdn/ internals: the HTTP clients' shared part (libcurl), for
 * store_etcd.c and store_http.c. */
#ifndef NET_SDN_HTTP_H
#define NET_SDN_HTTP_H

#include <stddef.h>

#include "cloudlet/buf.h"

/* CURLOPT_WRITEFUNCTION appending to the struct cl_buf of
 * CURLOPT_WRITEDATA; a body over 64 MiB ends the transfer. */
size_t sdn_buf_write(char *data, size_t size, size_t nmemb, void *arg);

#endif
