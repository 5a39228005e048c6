/* Value parsers: see include/cloudlet/parse.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "cloudlet/parse.h"

/* Leading decimal digits of s into *v; returns the first unparsed char or
 * NULL on no digits / overflow. strtoull is avoided: it accepts "-1". */
static const char *parse_digits(const char *s, uint64_t *v)
{
	uint64_t n = 0;
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return NULL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (n > (UINT64_MAX - d) / 10)
			return NULL;
		n = n * 10 + d;
	}
	*v = n;
	return p;
}

int cl_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
		  struct cl_error *err)
{
	uint64_t v;
	const char *end = s ? parse_digits(s, &v) : NULL;
	if (!end || *end)
		return cl_err(err, EINVAL, "'%s' is not a whole number", s ? s : "");
	if (v < min || v > max)
		return cl_err(err, ERANGE, "%s is out of range %llu..%llu", s,
			      (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

int cl_parse_size(const char *s, uint64_t *out, struct cl_error *err)
{
	static const struct { char suffix; unsigned shift; } units[] = {
		{ 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 },
	};
	uint64_t v;
	const char *end = s ? parse_digits(s, &v) : NULL;
	if (!end)
		return cl_err(err, EINVAL, "'%s' is not a size (e.g. 4096, 512K, 256M, 2G)", s ? s : "");
	unsigned shift = 0;
	if (*end) {
		size_t i;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (toupper((unsigned char)*end) == units[i].suffix)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			goto bad;
		shift = units[i].shift;
		end++;
		if (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))
			end += strlen(end);
		if (*end)
			goto bad;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return cl_err(err, ERANGE, "size '%s' is too large", s);
	*out = v << shift;
	return 0;
bad:
	return cl_err(err, EINVAL, "'%s' is not a size (e.g. 4096, 512K, 256M, 2G)", s);
}

int cl_parse_duration_ms(const char *s, uint64_t *out, struct cl_error *err)
{
	static const struct { const char *suffix; uint64_t ms; } units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	uint64_t v;
	const char *end = s ? parse_digits(s, &v) : NULL;
	if (end)
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(end, units[i].suffix)) {
				if (v > UINT64_MAX / units[i].ms)
					return cl_err(err, ERANGE, "duration '%s' is too large", s);
				*out = v * units[i].ms;
				return 0;
			}
	return cl_err(err, EINVAL, "'%s' is not a duration (e.g. 500ms, 30s, 2m)", s ? s : "");
}

int cl_parse_ipv4_port(const char *s, struct sockaddr_in *out, struct cl_error *err)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = s ? strrchr(s, ':') : NULL;
	uint64_t port;
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		goto bad;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	const char *end = parse_digits(colon + 1, &port);
	if (inet_pton(AF_INET, host, &out->sin_addr) != 1 || !end || *end || port == 0 || port > 65535)
		goto bad;
	out->sin_port = htons((uint16_t)port);
	return 0;
bad:
	return cl_err(err, EINVAL, "listen address '%.80s': expected IPV4:PORT", s ? s : "");
}
