/* CNI SPEC.md 1.1 encodings: the network configuration this plugin takes
 *   { "cniVersion": "1.0.0", "name": "n", "type": "cloudlet-cni",
 *     "vpc": "v", "subnet": "a", "root": "/var/lib/cloudlet",
 *     "dns": { "nameservers": [...] } }
 * and the result / error / version objects it prints. See cloudlet/cni.h. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/cni.h"

/* 0.4.0 results differ only in "version" on each IP (SPEC 0.4 "Result");
 * 1.1.0 adds STATUS and GC, and only optional result fields */
static const char *const versions[] = { "0.4.0", "1.0.0", "1.1.0" };

bool cni_version_supported(const char *v)
{
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (v && !strcmp(v, versions[i]))
			return true;
	return false;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v;
	return o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : NULL;
}

/* prevResult.ips[0].address "A.B.C.D/N" (CHECK compares it) */
static int prev_parse(json_object *prev, struct cni_conf *c, struct cl_error *err)
{
	json_object *ips;
	if (!prev || !json_object_object_get_ex(prev, "ips", &ips) || !json_object_is_type(ips, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(ips); i++) {
		const char *addr = str(json_object_array_get_idx(ips, i), "address");
		char buf[CIDR_STR_MAX + 1];
		if (!addr || strchr(addr, ':'))
			continue;   /* IPv6: not ours */
		snprintf(buf, sizeof(buf), "%s", addr);
		char *slash = strchr(buf, '/');
		if (!slash)
			return cl_err(err, EINVAL, "prevResult: address '%s' has no prefix", addr);
		*slash = '\0';
		char *end;
		long p = strtol(slash + 1, &end, 10);
		int r;
		if (*end || p < 0 || p > 32 || (r = ip4_parse(buf, &c->prev_ip, err)) < 0)
			return cl_err(err, EINVAL, "prevResult: bad address '%s'", addr);
		c->prev_prefix = (uint8_t)p;
		c->has_prev = true;
		return 0;
	}
	return 0;
}

int cni_conf_parse(const char *json, struct cni_conf *c, int *code, struct cl_error *err)
{
	int r = 0;
	memset(c, 0, sizeof(*c));
	json_object *o = json_tokener_parse(json);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		*code = CNI_ERR_DECODE;
		return cl_err(err, EINVAL, "the network configuration on stdin is not a JSON object");
	}
	const char *v = str(o, "cniVersion"), *name = str(o, "name");
	const char *vpc = str(o, "vpc"), *subnet = str(o, "subnet"), *root = str(o, "root");
	snprintf(c->version, sizeof(c->version), "%s", v ? v : "");
	*code = CNI_ERR_CONFIG;
	if (!v) {
		r = cl_err(err, EINVAL, "network configuration: no cniVersion");
	} else if (!cni_version_supported(v)) {
		*code = CNI_ERR_VERSION;
		r = cl_err(err, ENOTSUP, "cniVersion %s is not supported (0.4.0, 1.0.0, 1.1.0)", v);
	} else if (!name || net_name_check("network", name, err) < 0) {
		r = name ? -EINVAL : cl_err(err, EINVAL, "network configuration: no name");
	} else if (!vpc || !subnet) {
		r = cl_err(err, EINVAL, "network configuration %s: \"vpc\" and \"subnet\" name the cloudlet subnet", name);
	} else if (root && (root[0] != '/' || strlen(root) >= sizeof(c->root))) {
		r = cl_err(err, EINVAL, "network configuration %s: root '%s' is not an absolute path", name, root);
	} else {
		snprintf(c->name, sizeof(c->name), "%s", name);
		snprintf(c->ref, sizeof(c->ref), "%s/%s", vpc, subnet);
		snprintf(c->root, sizeof(c->root), "%s", root ? root : "");
		char vb[NET_NAME_LEN + 1], sb[NET_NAME_LEN + 1];
		if ((r = net_ref_parse(c->ref, vb, sb, err)) < 0)
			cl_err_wrap(err, "network configuration %s", name);
	}
	json_object *dns, *prev, *valid;
	/* SPEC 1.1 GC: [{"containerID": ..., "ifname": ...}] */
	if (r == 0 && json_object_object_get_ex(o, "cni.dev/valid-attachments", &valid)) {
		size_t n = json_object_is_type(valid, json_type_array) ? json_object_array_length(valid) : 0;
		c->has_valid = true;
		if (!json_object_is_type(valid, json_type_array))
			r = cl_err(err, EINVAL, "cni.dev/valid-attachments is not an array");
		else if (n && !(c->valid = calloc(n, sizeof(*c->valid))))
			r = cl_err(err, ENOMEM, "out of memory");
		for (size_t i = 0; r == 0 && i < n; i++) {
			const char *id = str(json_object_array_get_idx(valid, i), "containerID");
			if (!id)
				r = cl_err(err, EINVAL, "cni.dev/valid-attachments[%zu] has no containerID", i);
			else if (!(c->valid[c->nvalid++] = strdup(id)))
				r = cl_err(err, ENOMEM, "out of memory");
		}
		if (r < 0)
			*code = CNI_ERR_DECODE;
	}
	if (r == 0 && json_object_object_get_ex(o, "dns", &dns) &&
	    !(c->dns = strdup(json_object_to_json_string_ext(dns, JSON_C_TO_STRING_PLAIN))))
		r = cl_err(err, ENOMEM, "out of memory");
	if (r == 0 && json_object_object_get_ex(o, "prevResult", &prev) && (r = prev_parse(prev, c, err)) < 0)
		*code = CNI_ERR_DECODE;
	json_object_put(o);
	if (r < 0)
		cni_conf_free(c);
	return r;
}

void cni_conf_free(struct cni_conf *c)
{
	free(c->dns);
	c->dns = NULL;
	for (size_t i = 0; i < c->nvalid; i++)
		free(c->valid[i]);
	free(c->valid);
	c->valid = NULL;
	c->nvalid = 0;
}

int cni_status_decide(const struct cni_conf *c, const struct cni_status_facts *f, int *code,
		      struct cl_error *err)
{
	*code = CNI_ERR_UNAVAILABLE;
	if (!f->vpc || !f->subnet)
		return cl_err(err, ENOENT, "network %s: %s %s does not exist", c->name,
			      f->vpc ? "subnet" : "VPC of", c->ref);
	if (!f->netns) {
		*code = CNI_ERR_DEGRADED;
		return cl_err(err, ENOENT, "network %s: the namespace of VPC %s is gone (attached containers have no network)",
			      c->name, c->ref);
	}
	if (f->leased >= f->capacity)
		return cl_err(err, ENOSPC, "network %s: subnet %s is full (%llu of %llu addresses leased)", c->name,
			      c->ref, (unsigned long long)f->leased, (unsigned long long)f->capacity);
	return 0;
}

bool cni_gc_stale(const struct cni_conf *c, const struct vpc_att *a)
{
	const char *slash = strchr(c->ref, '/');
	/* pid 0: kept until a DEL (net_attach's holder -1); ct run's have theirs */
	if (a->pid != 0 || strcmp(a->kind, "ct") || !slash || strcmp(a->subnet, slash + 1))
		return false;
	for (size_t i = 0; i < c->nvalid; i++)
		if (!strcmp(c->valid[i], a->id))
			return false;
	return true;
}

static char *dump(json_object *o)
{
	char *t = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return t;
}

char *cni_result_render(const struct cni_conf *c, const struct net_attachment *a,
			const char *ifname, const char *netns)
{
	char mac[MAC_STR_MAX], ip[IP4_STR_MAX], gw[IP4_STR_MAX], addr[CIDR_STR_MAX + 4];
	json_object *o = json_object_new_object(), *ifs = json_object_new_array();
	json_object *ips = json_object_new_array(), *routes = json_object_new_array();
	json_object_object_add(o, "cniVersion", json_object_new_string(c->version));
	json_object *i = json_object_new_object();
	json_object_object_add(i, "name", json_object_new_string(ifname));
	json_object_object_add(i, "mac", json_object_new_string(net_mac_format(a->mac, mac)));
	json_object_object_add(i, "sandbox", json_object_new_string(netns));
	json_object_array_add(ifs, i);
	json_object_object_add(o, "interfaces", ifs);
	json_object *e = json_object_new_object();
	snprintf(addr, sizeof(addr), "%s/%u", ip4_format(a->ip, ip), (unsigned)a->prefix);
	if (!strcmp(c->version, "0.4.0"))
		json_object_object_add(e, "version", json_object_new_string("4"));
	json_object_object_add(e, "address", json_object_new_string(addr));
	json_object_object_add(e, "gateway", json_object_new_string(ip4_format(a->gateway, gw)));
	json_object_object_add(e, "interface", json_object_new_int(0));
	json_object_array_add(ips, e);
	json_object_object_add(o, "ips", ips);
	json_object *rt = json_object_new_object();
	json_object_object_add(rt, "dst", json_object_new_string("0.0.0.0/0"));
	json_object_object_add(rt, "gw", json_object_new_string(gw));
	json_object_array_add(routes, rt);
	json_object_object_add(o, "routes", routes);
	json_object *dns = c->dns ? json_tokener_parse(c->dns) : NULL;
	json_object_object_add(o, "dns", dns ? dns : json_object_new_object());
	return dump(o);
}

char *cni_error_render(const char *version, int code, const char *msg, const char *details)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "cniVersion", json_object_new_string(version && version[0] ? version : CNI_VERSION));
	json_object_object_add(o, "code", json_object_new_int(code));
	json_object_object_add(o, "msg", json_object_new_string(msg));
	if (details && details[0])
		json_object_object_add(o, "details", json_object_new_string(details));
	return dump(o);
}

char *cni_version_render(const char *version)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	json_object_object_add(o, "cniVersion", json_object_new_string(version && version[0] ? version : CNI_VERSION));
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		json_object_array_add(a, json_object_new_string(versions[i]));
	json_object_object_add(o, "supportedVersions", a);
	return dump(o);
}

void cni_peek_version(const char *json, char out[16])
{
	json_object *o = json ? json_tokener_parse(json) : NULL;
	const char *v = str(o, "cniVersion");
	snprintf(out, 16, "%s", v ? v : "");
	json_object_put(o);
}
