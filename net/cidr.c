/* IPv4 addresses, CIDR blocks (RFC 4632), names and the subnet rules of a
 * VPC: pure functions, see include/cloudlet/net.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cloudlet/net.h"

/* User input echoed in an error: bounded and on one line. */
static const char *quote(const char *s, char buf[52])
{
	size_t i = 0;
	for (; s[i] && i < 48; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (s[i])
		buf[i++] = '.', buf[i++] = '.', buf[i++] = '.';
	buf[i] = '\0';
	return buf;
}

/* A decimal 0..max with no sign and no leading zero, as the next token of
 * *p; advances *p. */
static bool dec(const char **p, unsigned max, unsigned *out)
{
	const char *s = *p;
	unsigned v = 0;
	size_t n = 0;
	while (s[n] >= '0' && s[n] <= '9') {
		v = v * 10 + (unsigned)(s[n] - '0');
		if (++n > 3 || v > max)
			return false;
	}
	if (n == 0 || (n > 1 && s[0] == '0'))
		return false;
	*p = s + n;
	*out = v;
	return true;
}

/* Parse a dotted quad at *p (advancing it); NULL or the reason it is not. */
static const char *ip4_scan(const char **p, uint32_t *out)
{
	uint32_t a = 0;
	for (int i = 0; i < 4; i++) {
		const char *s = *p;
		unsigned v;
		if (i > 0) {
			if (*s != '.')
				return "want four octets A.B.C.D";
			s++;
		}
		if (!dec(&s, 255, &v)) {
			if (*s == '0' && s[1] >= '0' && s[1] <= '9')
				return "octet with a leading zero";
			if (*s >= '0' && *s <= '9')
				return "octet above 255";
			return "want four octets A.B.C.D";
		}
		a = a << 8 | v;
		*p = s;
	}
	*out = a;
	return NULL;
}

int ip4_parse(const char *s, uint32_t *out, struct cl_error *err)
{
	char q[52];
	if (!s)
		return cl_err(err, EINVAL, "no IPv4 address given");
	const char *p = s, *why;
	uint32_t a;
	if ((why = ip4_scan(&p, &a)))
		return cl_err(err, EINVAL, "'%s' is not an IPv4 address: %s", quote(s, q), why);
	if (*p)
		return cl_err(err, EINVAL, "'%s' is not an IPv4 address: junk after it", quote(s, q));
	*out = a;
	return 0;
}

uint32_t cidr_mask(uint8_t prefix)
{
	/* a shift by 32 is undefined behaviour, hence /0 apart */
	return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~0u << (32 - prefix);
}

int cidr_parse(const char *s, struct cidr *out, struct cl_error *err)
{
	char q[52];
	if (!s)
		return cl_err(err, EINVAL, "no CIDR block given");
	const char *p = s, *why;
	uint32_t a;
	unsigned prefix;
	if ((why = ip4_scan(&p, &a)))
		return cl_err(err, EINVAL, "'%s' is not a CIDR block (A.B.C.D/N): %s", quote(s, q), why);
	if (*p != '/')
		return cl_err(err, EINVAL, "'%s' is not a CIDR block (A.B.C.D/N): %s", quote(s, q),
			      *p ? "junk after the address" : "no /N prefix length");
	p++;
	if (!dec(&p, 32, &prefix))
		return cl_err(err, EINVAL, "'%s' is not a CIDR block (A.B.C.D/N): "
			      "prefix length must be 0..32 without leading zeros", quote(s, q));
	if (*p)
		return cl_err(err, EINVAL, "'%s' is not a CIDR block (A.B.C.D/N): junk after it",
			      quote(s, q));
	uint32_t m = cidr_mask((uint8_t)prefix);
	if (a & ~m) {
		struct cidr c = { a & m, (uint8_t)prefix };
		char b[CIDR_STR_MAX];
		/* RFC 4632 section 3.1: the host bits of a prefix are zero; a
		 * typo here would otherwise silently widen or shift the block */
		return cl_err(err, EINVAL, "%s has host bits set (did you mean %s?)", quote(s, q),
			      cidr_format(&c, b));
	}
	out->addr = a;
	out->prefix = (uint8_t)prefix;
	return 0;
}

char *ip4_format(uint32_t ip, char buf[IP4_STR_MAX])
{
	snprintf(buf, IP4_STR_MAX, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255,
		 ip & 255);
	return buf;
}

char *cidr_format(const struct cidr *c, char buf[CIDR_STR_MAX])
{
	uint32_t a = c->addr;
	snprintf(buf, CIDR_STR_MAX, "%u.%u.%u.%u/%u", a >> 24, a >> 16 & 255, a >> 8 & 255,
		 a & 255, c->prefix & 63);
	return buf;
}

uint32_t cidr_broadcast(const struct cidr *c)
{
	return c->addr | ~cidr_mask(c->prefix);
}

uint32_t cidr_first_host(const struct cidr *c)
{
	/* RFC 3021: both addresses of a /31 are hosts */
	return c->prefix >= 31 ? c->addr : c->addr + 1;
}

uint32_t cidr_last_host(const struct cidr *c)
{
	return c->prefix >= 31 ? cidr_broadcast(c) : cidr_broadcast(c) - 1;
}

uint64_t cidr_host_count(const struct cidr *c)
{
	uint64_t size = 1ull << (32 - c->prefix);
	return c->prefix >= 31 ? size : size - 2;
}

bool cidr_contains_ip(const struct cidr *c, uint32_t ip)
{
	return (ip & cidr_mask(c->prefix)) == c->addr;
}

bool cidr_within(const struct cidr *outer, const struct cidr *inner)
{
	return inner->prefix >= outer->prefix && cidr_contains_ip(outer, inner->addr);
}

bool cidr_overlaps(const struct cidr *a, const struct cidr *b)
{
	/* aligned blocks either nest or are disjoint (RFC 4632 section 3.1) */
	return cidr_within(a, b) || cidr_within(b, a);
}

int net_name_check(const char *what, const char *name, struct cl_error *err)
{
	char q[52];
	if (!name || !*name)
		return cl_err(err, EINVAL, "%s name is empty", what);
	size_t n = strlen(name);
	if (n > NET_NAME_LEN)
		return cl_err(err, ENAMETOOLONG, "%s name '%s': longer than %d characters", what,
			      quote(name, q), NET_NAME_LEN);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (isalnum(ch) && ch < 128)
			continue;
		if (i > 0 && (ch == '-' || ch == '_' || ch == '.'))
			continue;
		return cl_err(err, EINVAL, "%s name '%s': only letters, digits, '-', '_' and '.' "
			      "allowed, starting with a letter or digit", what, quote(name, q));
	}
	return 0;
}

int net_vpc_check(const char *vpc, const struct cidr *vc, struct cl_error *err)
{
	char b[CIDR_STR_MAX];
	int r = net_name_check("vpc", vpc, err);
	if (r < 0)
		return r;
	if (vc->prefix > NET_SUBNET_MAX_PREFIX)
		return cl_err(err, EINVAL, "vpc %s: %s is too small: it must hold a subnet of at "
			      "least a /%d", vpc, cidr_format(vc, b), NET_SUBNET_MAX_PREFIX);
	return 0;
}

int net_subnet_check(const char *vpc, const struct cidr *vc, const char *name,
		     const struct cidr *sc, const struct net_subnet *sib, size_t n,
		     struct cl_error *err)
{
	char b1[CIDR_STR_MAX], b2[CIDR_STR_MAX];
	int r = net_name_check("vpc", vpc, err);
	if (r == 0)
		r = net_name_check("subnet", name, err);
	if (r < 0)
		return r;
	if (sc->prefix > NET_SUBNET_MAX_PREFIX)
		return cl_err(err, EINVAL, "vpc %s: subnet %s: %s is too small: a subnet needs a "
			      "network address, a gateway, a guest and a broadcast address "
			      "(/%d or shorter)", vpc, name, cidr_format(sc, b1),
			      NET_SUBNET_MAX_PREFIX);
	if (!cidr_within(vc, sc))
		return cl_err(err, EINVAL, "vpc %s: subnet %s: %s is not within the VPC's %s",
			      vpc, name, cidr_format(sc, b1), cidr_format(vc, b2));
	for (size_t i = 0; i < n; i++)
		if (sib[i].name && strcmp(sib[i].name, name) == 0)
			return cl_err(err, EEXIST, "vpc %s: subnet %s already exists (%s)", vpc,
				      name, cidr_format(&sib[i].cidr, b1));
	for (size_t i = 0; i < n; i++)
		if (cidr_overlaps(sc, &sib[i].cidr))
			return cl_err(err, EEXIST, "vpc %s: subnet %s: %s overlaps %s (subnet %s)",
				      vpc, name, cidr_format(sc, b1),
				      cidr_format(&sib[i].cidr, b2),
				      sib[i].name ? sib[i].name : "?");
	return 0;
}

bool net_subnets_overlap(const struct net_subnet *s, size_t n, size_t *i, size_t *j)
{
	/* quadratic, and VPCs hold tens of subnets */
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++)
			if (cidr_overlaps(&s[a].cidr, &s[b].cidr)) {
				*i = a;
				*j = b;
				return true;
			}
	return false;
}
