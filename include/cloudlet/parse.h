/* Small value parsers shared by the CLI and the libraries (pure, no I/O). */
#ifndef CLOUDLET_PARSE_H
#define CLOUDLET_PARSE_H

#include <netinet/in.h>
#include <stdint.h>

#include "cloudlet/error.h"

/* "4096", "512K", "256M", "2G", "1T" (binary units, optional "iB"/"B").
 * Rejects empty, negative, trailing junk and overflow. */
int cl_parse_size(const char *s, uint64_t *out, struct cl_error *err);

/* Decimal unsigned integer in [min, max]. */
int cl_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
		  struct cl_error *err);

/* Durations: "30s", "500ms", "2m", "1h", or bare seconds; result in ms. */
int cl_parse_duration_ms(const char *s, uint64_t *out, struct cl_error *err);

/* "IPV4:PORT" (a listen address: "127.0.0.1:8080"), port 1-65535. */
int cl_parse_ipv4_port(const char *s, struct sockaddr_in *out, struct cl_error *err);

#endif
