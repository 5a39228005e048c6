/* Shorthands shared by the net/ unit tests (test_net_*.c). */
#ifndef TESTS_NET_FIXTURES_H
#define TESTS_NET_FIXTURES_H

#include <criterion/criterion.h>

#include "cloudlet/net.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A block the test knows is valid; a parse failure fails the test. */
static inline struct cidr C(const char *s)
{
	struct cl_error err = { 0 };
	struct cidr c = { 0 };
	cr_assert_eq(cidr_parse(s, &c, &err), 0, "%s: %s", s, err.msg);
	return c;
}

/* A parsed block as a pointer, for arguments (a few live at once). */
static inline const struct cidr *P(const char *s)
{
	static struct cidr ring[8];
	static unsigned k;
	struct cidr *c = &ring[k++ % 8];
	*c = C(s);
	return c;
}

#endif
