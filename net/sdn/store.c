/* The store behind one small interface (include/cloudlet/sdn.h): chosen by
 * URL, and the typed reads every user shares. Keys:
 *   /cloudlet/schema        SDN_SCHEMA, written once
 *   /cloudlet/hosts/NAME    a host (model.c)
 *   /cloudlet/vpcs/NAME     a VPC with its attachments (model.c)
 *   /cloudlet/applied/HOST  HOST's agent's report: the desired revision it
 *                           has applied, and when (struct sdn_report) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/sdn.h"

int sdn_store_open(const char *url, struct sdn_store **out, struct cl_error *err)
{
	int r;
	if (!url || !url[0])
		return cl_err(err, EINVAL, "no controller configured (set %s=sqlite:PATH, etcd:http://HOST:PORT or "
			      "http://HOST:PORT)",
			      SDN_ENV);
	if (!strncmp(url, "sqlite:", 7))
		r = sdn_store_sqlite_open(url + 7, out, err);
	else if (!strncmp(url, "etcd:", 5))
		r = sdn_store_etcd_open(url + 5, out, err);
	else if (!strncmp(url, "http://", 7))
		r = sdn_store_http_open(url, out, err);
	else
		return cl_err(err, EINVAL, "controller %s: unknown store (sqlite:PATH, etcd:http://HOST:PORT or "
			      "http://HOST:PORT)", url);
	if (r < 0)
		return r;
	const char *parts[] = { "cluster", url };
	snprintf((*out)->url, sizeof((*out)->url), "%s", url);
	snprintf((*out)->cluster, sizeof((*out)->cluster), "%08llx",
		 (unsigned long long)(net_hash(parts, 2) >> 32));
	return 0;
}

void sdn_store_close(struct sdn_store *s)
{
	if (s)
		s->ops->close(s);
}

void sdn_kvs_free(struct sdn_kv *kvs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kvs[i].key);
		free(kvs[i].value);
	}
	free(kvs);
}

static int schema_check(const char *url, const struct sdn_kv *kv, struct cl_error *err)
{
	long v = strtol(kv->value, NULL, 10);
	if (v > SDN_SCHEMA)
		return cl_err(err, EPROTO, "controller %s: store written by a newer cloudlet (schema %ld, this one "
			      "knows %d): upgrade cloudlet", url, v, SDN_SCHEMA);
	if (v < 1)
		return cl_err(err, EBADMSG, "controller %s: schema '%s'", url, kv->value);
	return 0;
}

int sdn_state_from_kvs(const struct sdn_kv *kvs, size_t n, const char *url, struct sdn_state *out,
		       struct cl_error *err)
{
	int r = 0;
	int64_t rev = 0;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n && r == 0; i++) {
		const char *k = kvs[i].key;
		if (kvs[i].mod_rev > rev && strncmp(k, "/cloudlet/applied/", 18))
			rev = kvs[i].mod_rev;
		if (!strcmp(k, "/cloudlet/schema")) {
			r = schema_check(url, &kvs[i], err);
		} else if (!strncmp(k, "/cloudlet/hosts/", 16)) {
			struct sdn_host *g = realloc(out->hosts, (out->nhosts + 1) * sizeof(*g));
			if (!g) {
				r = cl_err(err, ENOMEM, "out of memory");
				break;
			}
			out->hosts = g;
			if ((r = sdn_host_from_json(kvs[i].value, &g[out->nhosts], err)) == 0)
				out->nhosts++;
			else
				cl_err_wrap(err, "%s", k);
		} else if (!strncmp(k, "/cloudlet/vpcs/", 15)) {
			struct sdn_vpc *g = realloc(out->vpcs, (out->nvpcs + 1) * sizeof(*g));
			if (!g) {
				r = cl_err(err, ENOMEM, "out of memory");
				break;
			}
			out->vpcs = g;
			if ((r = sdn_vpc_from_json(kvs[i].value, &g[out->nvpcs], err)) == 0)
				g[out->nvpcs++].mod_rev = kvs[i].mod_rev;
			else
				cl_err_wrap(err, "%s", k);
		}
	}
	/* the desired revision: the newest change to hosts or VPCs (the
	 * agents' own status writes do not count) */
	out->rev = rev;
	if (r < 0)
		sdn_state_free(out);
	return r;
}

int sdn_state_load(struct sdn_store *s, struct sdn_state *out, struct cl_error *err)
{
	struct sdn_kv *kvs;
	size_t n;
	int64_t rev;
	int r = s->ops->get(s, "/cloudlet/", &kvs, &n, &rev, err);
	memset(out, 0, sizeof(*out));
	if (r < 0)
		return r;
	r = sdn_state_from_kvs(kvs, n, s->url, out, err);
	sdn_kvs_free(kvs, n);
	return r;
}
