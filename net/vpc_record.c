/* A VPC's record, ROOT/vpc/NAME.json, to and from the model (json-c):
 *   { "version": 1, "name": "v", "cidr": "10.20.0.0/16", "netns": "clvpc-…",
 *     "subnets": [ { "name": "a", "cidr": "10.20.1.0/24" } ],
 *     "sgs": [ { "name": "default", "rules": [ { "dir": "ingress",
 *                "proto": "all", "ports": "", "from": "sg:default" } ] } ],
 *     "attachments": [ { "kind": "ct", "id": "web", "subnet": "a",
 *         "ifname": "clvh-…", "ip": "10.20.1.2", "mac": "02:…",
 *         "sgs": ["default"], "pid": 123, "pid_start": 456 } ],
 *     "nat": { "uplink": "eth0", "transit": "100.64.0.0" } }      (or null)
 * Reading checks it whole: a record that does not hold together is an
 * error naming the file, never half-used. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define RECORD_VERSION 1

void vpc_free(struct vpc *v)
{
	for (size_t i = 0; i < v->nsubnets; i++)
		free((char *)v->subnets[i].name);
	free(v->subnets);
	for (size_t i = 0; i < v->nsgs; i++)
		free(v->sgs[i].rules);
	free(v->sgs);
	for (size_t i = 0; i < v->natts; i++)
		free(v->atts[i].sgs);
	free(v->atts);
	memset(v, 0, sizeof(*v));
}

const struct net_subnet *vpc_subnet_find(const struct vpc *v, const char *name)
{
	for (size_t i = 0; i < v->nsubnets; i++)
		if (!strcmp(v->subnets[i].name, name))
			return &v->subnets[i];
	return NULL;
}

struct vpc_sg *vpc_sg_find(const struct vpc *v, const char *name)
{
	for (size_t i = 0; i < v->nsgs; i++)
		if (!strcmp(v->sgs[i].name, name))
			return &v->sgs[i];
	return NULL;
}

/* ---- reading ---- */

struct rd {
	const char *what;
	struct cl_error *err;
};

static int bad(struct rd *rd, const char *fmt, const char *detail)
{
	char m[256];
	snprintf(m, sizeof(m), fmt, detail);
	return cl_err(rd->err, EBADMSG, "%s: %s", rd->what, m);
}

static const char *str(struct rd *rd, struct json_object *o, const char *key, int *r)
{
	struct json_object *f;
	if (*r < 0)
		return NULL;
	if (!json_object_object_get_ex(o, key, &f) || !json_object_is_type(f, json_type_string)) {
		*r = bad(rd, "\"%s\" missing or not a string", key);
		return NULL;
	}
	return json_object_get_string(f);
}

static struct json_object *arr(struct rd *rd, struct json_object *o, const char *key, int *r)
{
	struct json_object *f;
	if (*r < 0)
		return NULL;
	if (!json_object_object_get_ex(o, key, &f) || !json_object_is_type(f, json_type_array)) {
		*r = bad(rd, "\"%s\" missing or not an array", key);
		return NULL;
	}
	return f;
}

static int copy_name(struct rd *rd, const char *what, const char *s, char *out)
{
	if (net_name_check(what, s, rd->err) < 0)
		return cl_err_wrap(rd->err, "%s", rd->what);
	snprintf(out, NET_NAME_LEN + 1, "%s", s);
	return 0;
}

static int rd_cidr(struct rd *rd, const char *s, struct cidr *c)
{
	return cidr_parse(s, c, rd->err) < 0 ? cl_err_wrap(rd->err, "%s", rd->what) : 0;
}

static int rd_sgs(struct rd *rd, struct json_object *a, struct vpc *v)
{
	int r = 0;
	size_t n = json_object_array_length(a);
	if (n && !(v->sgs = calloc(n, sizeof(*v->sgs))))
		return cl_err(rd->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n && r == 0; i++) {
		struct json_object *o = json_object_array_get_idx(a, i), *rules;
		struct vpc_sg *g = &v->sgs[v->nsgs];
		const char *name = str(rd, o, "name", &r);
		if (r < 0 || (r = copy_name(rd, "security group", name, g->name)) < 0)
			break;
		if (vpc_sg_find(v, name))
			return bad(rd, "security group %s listed twice", name);
		v->nsgs++;
		if (!(rules = arr(rd, o, "rules", &r)))
			break;
		size_t k = json_object_array_length(rules);
		if (k && !(g->rules = calloc(k, sizeof(*g->rules))))
			return cl_err(rd->err, ENOMEM, "out of memory");
		for (size_t j = 0; j < k && r == 0; j++) {
			struct json_object *ro = json_object_array_get_idx(rules, j);
			const char *dir = str(rd, ro, "dir", &r), *proto = str(rd, ro, "proto", &r),
				   *ports = str(rd, ro, "ports", &r), *from = str(rd, ro, "from", &r);
			if (r < 0)
				break;
			if (strcmp(dir, "ingress") && strcmp(dir, "egress"))
				return bad(rd, "rule direction '%s'", dir);
			r = sg_rule_parse(strcmp(dir, "ingress") ? SG_EGRESS : SG_INGRESS, proto,
					  ports[0] ? ports : NULL, from, &g->rules[j], rd->err);
			if (r < 0)
				return cl_err_wrap(rd->err, "%s: security group %s", rd->what, g->name);
			g->nrules++;
		}
	}
	return r;
}

static int rd_atts(struct rd *rd, struct json_object *a, struct vpc *v)
{
	int r = 0;
	size_t n = json_object_array_length(a);
	if (n && !(v->atts = calloc(n, sizeof(*v->atts))))
		return cl_err(rd->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n && r == 0; i++) {
		struct json_object *o = json_object_array_get_idx(a, i), *sgs, *f;
		struct vpc_att *t = &v->atts[v->natts];
		const char *kind = str(rd, o, "kind", &r), *id = str(rd, o, "id", &r),
			   *sub = str(rd, o, "subnet", &r), *ifn = str(rd, o, "ifname", &r),
			   *ip = str(rd, o, "ip", &r), *mac = str(rd, o, "mac", &r);
		if (r < 0 || !(sgs = arr(rd, o, "sgs", &r)))
			break;
		if (strcmp(kind, "vm") && strcmp(kind, "ct"))
			return bad(rd, "attachment kind '%s'", kind);
		snprintf(t->kind, sizeof(t->kind), "%s", kind);
		if ((r = copy_name(rd, "guest", id, t->id)) < 0 ||
		    (r = copy_name(rd, "subnet", sub, t->subnet)) < 0)
			break;
		const struct net_subnet *s = vpc_subnet_find(v, sub);
		if (!s)
			return bad(rd, "attachment on unknown subnet %s", sub);
		if (strlen(ifn) == 0 || strlen(ifn) >= NET_IFNAMSIZ)
			return bad(rd, "interface name '%s'", ifn);
		snprintf(t->ifname, sizeof(t->ifname), "%s", ifn);
		if (ip4_parse(ip, &t->ip, rd->err) < 0 || net_mac_parse(mac, t->mac, rd->err) < 0)
			return cl_err_wrap(rd->err, "%s", rd->what);
		if (!cidr_contains_ip(&s->cidr, t->ip))
			return bad(rd, "attachment address %s outside its subnet", ip);
		v->natts++;
		size_t k = json_object_array_length(sgs);
		if (k && !(t->sgs = calloc(k, sizeof(*t->sgs))))
			return cl_err(rd->err, ENOMEM, "out of memory");
		for (size_t j = 0; j < k; j++) {
			const char *g = json_object_get_string(json_object_array_get_idx(sgs, j));
			if (!g || !vpc_sg_find(v, g))
				return bad(rd, "attachment in unknown security group %s", g ? g : "?");
			snprintf(t->sgs[t->nsgs++], NET_NAME_LEN + 1, "%s", g);
		}
		if (json_object_object_get_ex(o, "rate_mbit", &f))
			t->rate_mbit = (uint32_t)json_object_get_int64(f);
		if (json_object_object_get_ex(o, "host", &f) &&
		    (r = copy_name(rd, "host", json_object_get_string(f), t->host)) < 0)
			break;
		if (json_object_object_get_ex(o, "pid", &f))
			t->pid = json_object_get_int(f);
		if (json_object_object_get_ex(o, "pid_start", &f))
			t->pid_start = (unsigned long long)json_object_get_int64(f);
	}
	return r;
}

static int rd_nat(struct rd *rd, struct json_object *o, struct vpc *v)
{
	struct json_object *nat;
	int r = 0;
	if (!json_object_object_get_ex(o, "nat", &nat) || !nat)
		return 0;
	const char *up = str(rd, nat, "uplink", &r), *tr = str(rd, nat, "transit", &r);
	if (r < 0)
		return r;
	if (!up[0] || strlen(up) >= NET_IFNAMSIZ)
		return bad(rd, "uplink '%s'", up);
	if (ip4_parse(tr, &v->transit, rd->err) < 0)
		return cl_err_wrap(rd->err, "%s", rd->what);
	snprintf(v->uplink, sizeof(v->uplink), "%s", up);
	v->nat = true;
	return 0;
}

int vpc_from_json(const char *json, const char *what, struct vpc *v, struct cl_error *err)
{
	struct rd rd = { what, err };
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL, *f, *subs, *sgs, *atts;
	int r = 0;
	memset(v, 0, sizeof(*v));
	if (!tok)
		return cl_err(err, ENOMEM, "out of memory");
	o = json_tokener_parse_ex(tok, json, (int)strlen(json) + 1);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		r = cl_err(err, EBADMSG, "%s: not a JSON object", what);
		goto out;
	}
	if (!json_object_object_get_ex(o, "version", &f) || json_object_get_int(f) != RECORD_VERSION) {
		r = cl_err(err, EBADMSG, "%s: record version is not %d (written by another cloudlet?)",
			   what, RECORD_VERSION);
		goto out;
	}
	const char *name = str(&rd, o, "name", &r), *cidr = str(&rd, o, "cidr", &r),
		   *ns = str(&rd, o, "netns", &r);
	if (r < 0 || (r = copy_name(&rd, "vpc", name, v->name)) < 0 || (r = rd_cidr(&rd, cidr, &v->cidr)) < 0)
		goto out;
	if (!ns[0] || strlen(ns) >= sizeof(v->netns) || strchr(ns, '/')) {
		r = bad(&rd, "netns '%s'", ns);
		goto out;
	}
	snprintf(v->netns, sizeof(v->netns), "%s", ns);
	if (!(subs = arr(&rd, o, "subnets", &r)))
		goto out;
	size_t n = json_object_array_length(subs);
	if (n && !(v->subnets = calloc(n, sizeof(*v->subnets)))) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *so = json_object_array_get_idx(subs, i);
		const char *sn = str(&rd, so, "name", &r), *sc = str(&rd, so, "cidr", &r);
		struct cidr c;
		if (r < 0 || (r = rd_cidr(&rd, sc, &c)) < 0)
			goto out;
		if ((r = net_subnet_check(v->name, &v->cidr, sn, &c, v->subnets, v->nsubnets, err)) < 0) {
			cl_err_wrap(err, "%s", what);
			goto out;
		}
		if (!(v->subnets[v->nsubnets].name = strdup(sn))) {
			r = cl_err(err, ENOMEM, "out of memory");
			goto out;
		}
		v->subnets[v->nsubnets++].cidr = c;
	}
	if (!(sgs = arr(&rd, o, "sgs", &r)) || (r = rd_sgs(&rd, sgs, v)) < 0 ||
	    !(atts = arr(&rd, o, "attachments", &r)) || (r = rd_atts(&rd, atts, v)) < 0 ||
	    (r = rd_nat(&rd, o, v)) < 0)
		goto out;
	/* rules may name groups declared after them */
	for (size_t i = 0; i < v->nsgs; i++)
		for (size_t j = 0; j < v->sgs[i].nrules; j++)
			if (v->sgs[i].rules[j].from_sg && !vpc_sg_find(v, v->sgs[i].rules[j].sg)) {
				r = bad(&rd, "a rule names unknown security group %s", v->sgs[i].rules[j].sg);
				goto out;
			}
out:
	if (r < 0)
		vpc_free(v);
	json_object_put(o);
	json_tokener_free(tok);
	return r < 0 ? r : 0;
}

/* ---- writing ---- */

static void put_str(struct json_object *o, const char *k, const char *s)
{
	json_object_object_add(o, k, json_object_new_string(s));
}

struct json_object *vpc_to_jobj(const struct vpc *v)
{
	char b[64];
	struct json_object *o = json_object_new_object(), *subs = json_object_new_array(),
			   *sgs = json_object_new_array(), *atts = json_object_new_array();
	json_object_object_add(o, "version", json_object_new_int(RECORD_VERSION));
	put_str(o, "name", v->name);
	put_str(o, "cidr", cidr_format(&v->cidr, b));
	put_str(o, "netns", v->netns);
	for (size_t i = 0; i < v->nsubnets; i++) {
		struct json_object *s = json_object_new_object();
		put_str(s, "name", v->subnets[i].name);
		put_str(s, "cidr", cidr_format(&v->subnets[i].cidr, b));
		json_object_array_add(subs, s);
	}
	json_object_object_add(o, "subnets", subs);
	for (size_t i = 0; i < v->nsgs; i++) {
		struct json_object *g = json_object_new_object(), *rules = json_object_new_array();
		put_str(g, "name", v->sgs[i].name);
		for (size_t j = 0; j < v->sgs[i].nrules; j++) {
			const struct sg_rule *r = &v->sgs[i].rules[j];
			struct json_object *ro = json_object_new_object();
			put_str(ro, "dir", r->dir == SG_INGRESS ? "ingress" : "egress");
			put_str(ro, "proto", r->proto == 6 ? "tcp" : r->proto == 17 ? "udp"
					     : r->proto == 1 ? "icmp" : "all");
			if (r->port_lo && r->port_lo != r->port_hi)
				snprintf(b, sizeof(b), "%u-%u", r->port_lo, r->port_hi);
			else if (r->port_lo)
				snprintf(b, sizeof(b), "%u", r->port_lo);
			else
				b[0] = '\0';
			put_str(ro, "ports", b);
			if (r->from_sg)
				snprintf(b, sizeof(b), "sg:%.60s", r->sg);
			else
				cidr_format(&r->peer, b);
			put_str(ro, "from", b);
			json_object_array_add(rules, ro);
		}
		json_object_object_add(g, "rules", rules);
		json_object_array_add(sgs, g);
	}
	json_object_object_add(o, "sgs", sgs);
	for (size_t i = 0; i < v->natts; i++) {
		const struct vpc_att *t = &v->atts[i];
		struct json_object *a = json_object_new_object(), *g = json_object_new_array();
		put_str(a, "kind", t->kind);
		put_str(a, "id", t->id);
		put_str(a, "subnet", t->subnet);
		put_str(a, "ifname", t->ifname);
		put_str(a, "ip", ip4_format(t->ip, b));
		put_str(a, "mac", net_mac_format(t->mac, b));
		for (size_t j = 0; j < t->nsgs; j++)
			json_object_array_add(g, json_object_new_string(t->sgs[j]));
		json_object_object_add(a, "sgs", g);
		if (t->host[0])
			put_str(a, "host", t->host);
		if (t->rate_mbit)
			json_object_object_add(a, "rate_mbit", json_object_new_int64(t->rate_mbit));
		json_object_object_add(a, "pid", json_object_new_int(t->pid));
		json_object_object_add(a, "pid_start", json_object_new_int64((int64_t)t->pid_start));
		json_object_array_add(atts, a);
	}
	json_object_object_add(o, "attachments", atts);
	if (v->nat) {
		struct json_object *n = json_object_new_object();
		put_str(n, "uplink", v->uplink);
		put_str(n, "transit", ip4_format(v->transit, b));
		json_object_object_add(o, "nat", n);
	} else {
		json_object_object_add(o, "nat", NULL);
	}
	return o;
}

char *vpc_to_json(const struct vpc *v)
{
	struct json_object *o = vpc_to_jobj(v);
	const char *s = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	char *out = s ? strdup(s) : NULL;
	json_object_put(o);
	return out;
}
