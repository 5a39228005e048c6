/* net/cni.c: the network configuration and the result/error/version
 * objects against CNI SPEC.md 1.0's examples; SPEC 1.1's STATUS decision
 * and GC's choice of stale attachments. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/cni.h"

static struct cl_error err;

static json_object *get(json_object *o, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *t = strtok(buf, "."); t && o; t = strtok(NULL, ".")) {
		if (t[0] >= '0' && t[0] <= '9')
			o = json_object_array_get_idx(o, (size_t)atoi(t));
		else if (!json_object_object_get_ex(o, t, &o))
			o = NULL;
	}
	return o;
}

static const char *s(json_object *o, const char *path)
{
	json_object *v = get(o, path);
	return v ? json_object_get_string(v) : "(none)";
}

Test(cni, netconf_and_result)
{
	struct cni_conf c;
	int code = 0;
	const char *conf = "{ \"cniVersion\": \"1.0.0\", \"name\": \"dbnet\", \"type\": \"cloudlet-cni\","
			   "  \"vpc\": \"v1\", \"subnet\": \"a\", \"root\": \"/srv/cl\","
			   "  \"dns\": { \"nameservers\": [ \"10.1.0.1\" ] } }";
	cr_assert_eq(cni_conf_parse(conf, &c, &code, &err), 0, "%s", err.msg);
	cr_assert_str_eq(c.ref, "v1/a");
	cr_assert_str_eq(c.root, "/srv/cl");
	cr_assert_not(c.has_prev);
	struct net_attachment a = { .ip = 0x0a1e0105, .gateway = 0x0a1e0101, .prefix = 24,
				    .mac = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 } };
	char *t = cni_result_render(&c, &a, "eth0", "/var/run/netns/blue");
	json_object *r = json_tokener_parse(t);
	/* SPEC.md "Success" example's shape */
	cr_assert_str_eq(s(r, "cniVersion"), "1.0.0");
	cr_assert_str_eq(s(r, "interfaces.0.name"), "eth0");
	cr_assert_str_eq(s(r, "interfaces.0.mac"), "02:11:22:33:44:55");
	cr_assert_str_eq(s(r, "interfaces.0.sandbox"), "/var/run/netns/blue");
	cr_assert_str_eq(s(r, "ips.0.address"), "10.30.1.5/24");
	cr_assert_str_eq(s(r, "ips.0.gateway"), "10.30.1.1");
	cr_assert_eq(json_object_get_int(get(r, "ips.0.interface")), 0);
	cr_assert_null(get(r, "ips.0.version"), "1.0.0 dropped ips[].version");
	cr_assert_str_eq(s(r, "routes.0.dst"), "0.0.0.0/0");
	cr_assert_str_eq(s(r, "routes.0.gw"), "10.30.1.1");
	cr_assert_str_eq(s(r, "dns.nameservers.0"), "10.1.0.1");
	json_object_put(r);
	free(t);
	cni_conf_free(&c);
}

Test(cni, version_040_result_and_prev_result)
{
	struct cni_conf c;
	int code;
	const char *conf = "{ \"cniVersion\": \"0.4.0\", \"name\": \"n\", \"vpc\": \"v\", \"subnet\": \"s\","
			   "  \"prevResult\": { \"ips\": [ { \"address\": \"fd00::5/64\" }, { \"address\": \"10.0.0.9/28\" } ] } }";
	cr_assert_eq(cni_conf_parse(conf, &c, &code, &err), 0, "%s", err.msg);
	cr_assert(c.has_prev);
	cr_assert_eq(c.prev_ip, 0x0a000009);
	cr_assert_eq(c.prev_prefix, 28);
	struct net_attachment a = { .ip = 0x0a000009, .gateway = 0x0a000001, .prefix = 28 };
	char *t = cni_result_render(&c, &a, "net1", "/proc/1/ns/net");
	json_object *r = json_tokener_parse(t);
	cr_assert_str_eq(s(r, "ips.0.version"), "4");
	cr_assert_str_eq(s(r, "interfaces.0.name"), "net1");
	json_object_put(r);
	free(t);
	cni_conf_free(&c);
}

static void bad(const char *conf, int want_code, const char *part)
{
	struct cni_conf c;
	int code = 0;
	cl_err_clear(&err);
	cr_assert_lt(cni_conf_parse(conf, &c, &code, &err), 0, "accepted %s", conf);
	cr_assert_eq(code, want_code, "%s: code %d", conf, code);
	cr_assert_not_null(strstr(err.msg, part), "'%s' lacks '%s'", err.msg, part);
}

Test(cni, bad_netconf_codes)
{
	bad("{", CNI_ERR_DECODE, "not a JSON object");
	bad("{\"name\": \"n\", \"vpc\": \"v\", \"subnet\": \"s\"}", CNI_ERR_CONFIG, "no cniVersion");
	bad("{\"cniVersion\": \"0.3.1\", \"name\": \"n\", \"vpc\": \"v\", \"subnet\": \"s\"}", CNI_ERR_VERSION, "0.3.1");
	bad("{\"cniVersion\": \"1.0.0\", \"vpc\": \"v\", \"subnet\": \"s\"}", CNI_ERR_CONFIG, "no name");
	bad("{\"cniVersion\": \"1.0.0\", \"name\": \"n\", \"vpc\": \"v\"}", CNI_ERR_CONFIG, "\"subnet\"");
	bad("{\"cniVersion\": \"1.0.0\", \"name\": \"n\", \"vpc\": \"../x\", \"subnet\": \"s\"}", CNI_ERR_CONFIG, "..");
	bad("{\"cniVersion\": \"1.0.0\", \"name\": \"n\", \"vpc\": \"v\", \"subnet\": \"s\", \"root\": \"rel\"}",
	    CNI_ERR_CONFIG, "not an absolute path");
	bad("{\"cniVersion\": \"1.0.0\", \"name\": \"n\", \"vpc\": \"v\", \"subnet\": \"s\","
	    " \"prevResult\": {\"ips\": [{\"address\": \"10.0.0.300/24\"}]}}", CNI_ERR_DECODE, "prevResult");
}

Test(cni, error_and_version_objects)
{
	/* SPEC.md "Error" example: cniVersion, code, msg, details */
	char *t = cni_error_render("1.0.0", 7, "Invalid Configuration", "Network 192.168.0.0/31 too small");
	json_object *e = json_tokener_parse(t);
	cr_assert_str_eq(s(e, "cniVersion"), "1.0.0");
	cr_assert_eq(json_object_get_int(get(e, "code")), 7);
	cr_assert_str_eq(s(e, "msg"), "Invalid Configuration");
	cr_assert_str_eq(s(e, "details"), "Network 192.168.0.0/31 too small");
	json_object_put(e);
	free(t);
	t = cni_error_render("", 4, "m", NULL);
	e = json_tokener_parse(t);
	cr_assert_str_eq(s(e, "cniVersion"), CNI_VERSION);
	cr_assert_null(get(e, "details"));
	json_object_put(e);
	free(t);
	/* SPEC.md "VERSION" example: cniVersion, supportedVersions */
	t = cni_version_render("1.0.0");
	e = json_tokener_parse(t);
	cr_assert_str_eq(s(e, "supportedVersions.1"), "1.0.0");
	cr_assert_str_eq(s(e, "supportedVersions.2"), "1.1.0");
	json_object_put(e);
	free(t);
	char v[16];
	cni_peek_version("{\"cniVersion\": \"0.4.0\"}", v);
	cr_assert_str_eq(v, "0.4.0");
	cni_peek_version("garbage", v);
	cr_assert_str_eq(v, "");
}

#define CONF11(extra) "{\"cniVersion\": \"1.1.0\", \"name\": \"n\", \"vpc\": \"v\", \"subnet\": \"a\"" extra "}"

Test(cni, status_decision)
{
	struct cni_conf c;
	int code = 0;
	cr_assert_eq(cni_conf_parse(CONF11(""), &c, &code, &err), 0, "%s", err.msg);
	struct cni_status_facts f = { .vpc = true, .subnet = true, .netns = true, .leased = 3, .capacity = 253 };
	cr_assert_eq(cni_status_decide(&c, &f, &code, &err), 0, "%s", err.msg);
	f.leased = 253;
	cr_assert_lt(cni_status_decide(&c, &f, &code, &err), 0);
	cr_assert_eq(code, CNI_ERR_UNAVAILABLE);
	cr_assert_not_null(strstr(err.msg, "v/a is full (253 of 253"), "%s", err.msg);
	f.leased = 0;
	f.netns = false;
	cr_assert_lt(cni_status_decide(&c, &f, &code, &err), 0);
	cr_assert_eq(code, CNI_ERR_DEGRADED, "the VPC's namespace gone: its containers lost their network");
	f.subnet = false;
	cr_assert_lt(cni_status_decide(&c, &f, &code, &err), 0);
	cr_assert_eq(code, CNI_ERR_UNAVAILABLE);
	cr_assert_not_null(strstr(err.msg, "subnet v/a does not exist"), "%s", err.msg);
	f.vpc = false;
	cr_assert_lt(cni_status_decide(&c, &f, &code, &err), 0);
	cr_assert_eq(code, CNI_ERR_UNAVAILABLE);
	cni_conf_free(&c);
}

Test(cni, gc_valid_attachments)
{
	struct cni_conf c;
	int code = 0;
	cr_assert_eq(cni_conf_parse(CONF11(", \"cni.dev/valid-attachments\": [{\"containerID\": \"keep\", \"ifname\": \"eth0\"}]"),
				   &c, &code, &err), 0, "%s", err.msg);
	cr_assert(c.has_valid);
	cr_assert_eq(c.nvalid, 1);
	struct vpc_att a = { .kind = "ct", .id = "gone", .subnet = "a", .pid = 0 };
	cr_assert(cni_gc_stale(&c, &a), "a CNI attachment not listed goes");
	snprintf(a.id, sizeof(a.id), "keep");
	cr_assert_not(cni_gc_stale(&c, &a), "a listed one stays");
	snprintf(a.id, sizeof(a.id), "gone");
	a.pid = 4242;
	cr_assert_not(cni_gc_stale(&c, &a), "ct run's (it has a holder) is not CNI's");
	a.pid = 0;
	snprintf(a.subnet, sizeof(a.subnet), "b");
	cr_assert_not(cni_gc_stale(&c, &a), "another subnet is another network");
	snprintf(a.subnet, sizeof(a.subnet), "a");
	snprintf(a.kind, sizeof(a.kind), "vm");
	cr_assert_not(cni_gc_stale(&c, &a), "a VM's tap is not CNI's");
	cni_conf_free(&c);
	cr_assert_lt(cni_conf_parse(CONF11(", \"cni.dev/valid-attachments\": [{\"ifname\": \"eth0\"}]"), &c, &code, &err), 0);
	cr_assert_eq(code, CNI_ERR_DECODE);
	cr_assert_not_null(strstr(err.msg, "no containerID"));
	cr_assert_lt(cni_conf_parse(CONF11(", \"cni.dev/valid-attachments\": {}"), &c, &code, &err), 0);
	cr_assert_eq(cni_conf_parse(CONF11(""), &c, &code, &err), 0);
	cr_assert_not(c.has_valid);
	cni_conf_free(&c);
}
