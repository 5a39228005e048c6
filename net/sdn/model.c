/* The desired state's values as the store keeps them (json-c):
 *   hosts/NAME: { "name": "h1", "underlay": "172.31.0.2" }
 *   vpcs/NAME:  { "vpc": <the VPC record of net/vpc_record.c, attachments
 *                 carrying "host">, "vni": 4096,
 *                 "last": [ "10.0.1.7", ... the address leased last, per subnet ] }
 *   vnis:       { "4096": "NAME", ... every VNI claimed, and by which VPC }
 * and the names derived from them. See include/cloudlet/sdn.h. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/sdn.h"
#include "../internal.h"

int sdn_host_check(const char *name, struct cl_error *err)
{
	int r = net_name_check("host", name, err);
	if (r < 0)
		return r;
	if (strlen(name) > SDN_HOST_NAME_MAX)
		return cl_err(err, ENAMETOOLONG,
			      "host %.64s: name too long (at most %d characters: it goes into the "
			      "names of its namespaces and links)", name, SDN_HOST_NAME_MAX);
	return 0;
}

int sdn_vni_pick(const uint32_t *used, size_t n, uint32_t first, uint32_t last, uint32_t *out)
{
	/* n is small (subnets of all VPCs): a quadratic scan is fine */
	for (uint64_t v = first; v <= last; v++) {
		bool taken = false;
		for (size_t i = 0; i < n && !taken; i++)
			taken = used[i] == v;
		if (!taken) {
			*out = (uint32_t)v;
			return 0;
		}
		if (v - first > n)
			break;
	}
	return -ENOSPC;
}

static char *hex8(const char *const *parts, size_t n, char out[9])
{
	snprintf(out, 9, "%08llx", (unsigned long long)(net_hash(parts, n) >> 32));
	return out;
}

void sdn_host_netns(const char *cluster, const char *host, char out[NET_NAME_LEN + 32])
{
	snprintf(out, NET_NAME_LEN + 32, "clsh-%.8s-%.24s", cluster, host);
}

void sdn_vpc_netns(const char *cluster, const char *host, const char *vpc, char out[NET_NAME_LEN + 32])
{
	char h[9];
	const char *parts[] = { vpc };
	snprintf(out, NET_NAME_LEN + 32, "clsv-%.8s-%.24s-%s", cluster, host, hex8(parts, 1, h));
}

char *sdn_vxlan_name(const char *vpc, char out[NET_IFNAMSIZ])
{
	const char *parts[] = { "vxlan", vpc };
	snprintf(out, NET_IFNAMSIZ, "clvx-%010llx",
		 (unsigned long long)(net_hash(parts, 2) >> 24));
	return out;
}

void sdn_router_mac(const char *vpc, const char *host, uint8_t mac[6])
{
	net_mac(vpc, "", "router", host, 0, mac);
}

void sdn_gateway_mac(const char *vpc, const char *subnet, uint8_t mac[6])
{
	net_mac(vpc, subnet, "gateway", "", 0, mac);
}

const struct sdn_host *sdn_host_find(const struct sdn_state *s, const char *name)
{
	for (size_t i = 0; i < s->nhosts; i++)
		if (!strcmp(s->hosts[i].name, name))
			return &s->hosts[i];
	return NULL;
}

void sdn_vpc_free(struct sdn_vpc *v)
{
	vpc_free(&v->v);
	free(v->last);
	v->last = NULL;
}

void sdn_state_free(struct sdn_state *s)
{
	for (size_t i = 0; i < s->nvpcs; i++)
		sdn_vpc_free(&s->vpcs[i]);
	free(s->vpcs);
	free(s->hosts);
	memset(s, 0, sizeof(*s));
}

static struct json_object *parse(const char *json, const char *what, struct cl_error *err)
{
	struct json_tokener *t = json_tokener_new();
	if (!t) {
		cl_err(err, ENOMEM, "out of memory");
		return NULL;
	}
	struct json_object *o = json_tokener_parse_ex(t, json, (int)strlen(json));
	if (!o || json_tokener_get_parse_end(t) != strlen(json) ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
		cl_err(err, EBADMSG, "%s: not a JSON object", what);
	}
	json_tokener_free(t);
	return o;
}

int sdn_host_from_json(const char *json, struct sdn_host *h, struct cl_error *err)
{
	struct json_object *o = parse(json, "host record", err), *n, *u;
	int r = -EBADMSG;
	if (!o)
		return -EBADMSG;
	memset(h, 0, sizeof(*h));
	if (!json_object_object_get_ex(o, "name", &n) || !json_object_object_get_ex(o, "underlay", &u) ||
	    !json_object_is_type(n, json_type_string) || !json_object_is_type(u, json_type_string)) {
		r = cl_err(err, EBADMSG, "host record: \"name\" or \"underlay\" missing");
	} else if ((r = sdn_host_check(json_object_get_string(n), err)) == 0 &&
		   (r = ip4_parse(json_object_get_string(u), &h->underlay, err)) == 0) {
		snprintf(h->name, sizeof(h->name), "%s", json_object_get_string(n));
		struct json_object *m;
		h->machine = json_object_object_get_ex(o, "machine", &m) && json_object_get_boolean(m);
	} else {
		cl_err_wrap(err, "host record");
	}
	json_object_put(o);
	return r;
}

char *sdn_host_to_json(const struct sdn_host *h)
{
	char ip[IP4_STR_MAX];
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "name", json_object_new_string(h->name));
	json_object_object_add(o, "underlay", json_object_new_string(ip4_format(h->underlay, ip)));
	if (h->machine)
		json_object_object_add(o, "machine", json_object_new_boolean(1));
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

int sdn_vpc_from_json(const char *json, struct sdn_vpc *v, struct cl_error *err)
{
	struct json_object *o = parse(json, "vpc record", err), *rec, *vni;
	int r;
	memset(v, 0, sizeof(*v));
	if (!o)
		return -EBADMSG;
	if (!json_object_object_get_ex(o, "vpc", &rec)) {
		r = cl_err(err, EBADMSG, "vpc record: \"vpc\" missing");
		goto out;
	}
	if ((r = vpc_from_json(json_object_to_json_string(rec), "vpc record", &v->v, err)) < 0)
		goto out;
	if (!json_object_object_get_ex(o, "vni", &vni) || !json_object_is_type(vni, json_type_int)) {
		r = json_object_object_get_ex(o, "vnis", &vni)
			    ? cl_err(err, EPROTO, "vpc record %s: written by an older cloudlet (a VNI per subnet, "
				     "schema 1): remove the VPC and create it again", v->v.name)
			    : cl_err(err, EBADMSG, "vpc record %s: \"vni\" missing", v->v.name);
		goto out;
	}
	int64_t n = json_object_get_int64(vni);
	if (n < SDN_VNI_FIRST || n > SDN_VNI_LAST) {
		r = cl_err(err, EBADMSG, "vpc record %s: VNI %lld out of range", v->v.name, (long long)n);
		goto out;
	}
	v->vni = (uint32_t)n;
	if (v->v.nsubnets && !(v->last = calloc(v->v.nsubnets, sizeof(*v->last)))) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	struct json_object *last;
	if (json_object_object_get_ex(o, "last", &last) && json_object_is_type(last, json_type_array))
		for (size_t i = 0; i < v->v.nsubnets && i < json_object_array_length(last); i++)
			if (ip4_parse(json_object_get_string(json_object_array_get_idx(last, i)) ?: "", &v->last[i],
				      NULL) < 0)
				v->last[i] = 0;
out:
	if (r < 0)
		sdn_vpc_free(v);
	json_object_put(o);
	return r;
}

char *sdn_vpc_to_json(const struct sdn_vpc *v)
{
	struct json_object *o = json_object_new_object(), *rec = vpc_to_jobj(&v->v),
			   *last = json_object_new_array();
	char *s = NULL, ip[IP4_STR_MAX];
	if (o && rec && last) {
		for (size_t i = 0; i < v->v.nsubnets; i++)
			json_object_array_add(last, json_object_new_string(ip4_format(v->last ? v->last[i] : 0, ip)));
		json_object_object_add(o, "last", last);
		json_object_object_add(o, "vpc", rec);
		json_object_object_add(o, "vni", json_object_new_int64(v->vni));
		last = rec = NULL;
		s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(rec);
	json_object_put(last);
	json_object_put(o);
	return s;
}

/* ---- the VNI claims ---- */

void sdn_vnis_free(struct sdn_vnis *m)
{
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

const struct sdn_vni_claim *sdn_vnis_find(const struct sdn_vnis *m, uint32_t vni)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].vni == vni)
			return &m->v[i];
	return NULL;
}

static int vnis_add(struct sdn_vnis *m, uint32_t vni, const char *vpc)
{
	struct sdn_vni_claim *g = realloc(m->v, (m->n + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	m->v = g;
	g[m->n].vni = vni;
	snprintf(g[m->n++].vpc, sizeof(g->vpc), "%s", vpc);
	return 0;
}

int sdn_vnis_from_json(const char *json, struct sdn_vnis *out, struct cl_error *err)
{
	struct json_object *o = parse(json, "vni claims", err);
	int r = 0;
	memset(out, 0, sizeof(*out));
	if (!o)
		return -EBADMSG;
	json_object_object_foreach(o, k, val)
	{
		char *end;
		unsigned long long n = strtoull(k, &end, 10);
		const char *vpc = json_object_get_string(val);
		if (*end || n < SDN_VNI_FIRST || n > SDN_VNI_LAST || !json_object_is_type(val, json_type_string) ||
		    net_name_check("vpc", vpc, NULL) < 0) {
			r = cl_err(err, EBADMSG, "vni claims: '%.16s': expected a VNI in %d..%d naming a VPC", k,
				   SDN_VNI_FIRST, SDN_VNI_LAST);
			break;
		}
		if ((r = vnis_add(out, (uint32_t)n, vpc)) < 0) {
			cl_err(err, ENOMEM, "out of memory");
			break;
		}
	}
	if (r < 0)
		sdn_vnis_free(out);
	json_object_put(o);
	return r;
}

char *sdn_vnis_to_json(const struct sdn_vnis *m)
{
	struct json_object *o = json_object_new_object();
	char k[16], *s = NULL;
	if (!o)
		return NULL;
	for (size_t i = 0; i < m->n; i++) {
		snprintf(k, sizeof(k), "%u", m->v[i].vni);
		json_object_object_add(o, k, json_object_new_string(m->v[i].vpc));
	}
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

int sdn_vnis_claim(struct sdn_vnis *m, const char *vpc, uint32_t first, uint32_t last, uint32_t *out)
{
	uint32_t *used = calloc(m->n + 1, sizeof(*used));
	if (!used)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++)
		used[i] = m->v[i].vni;
	int r = sdn_vni_pick(used, m->n, first, last, out);
	free(used);
	return r < 0 ? r : vnis_add(m, *out, vpc);
}

int sdn_vnis_release(struct sdn_vnis *m, uint32_t vni, const char *vpc)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].vni == vni && !strcmp(m->v[i].vpc, vpc)) {
			m->v[i] = m->v[--m->n];
			return 1;
		}
	return 0;
}
