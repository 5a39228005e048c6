/* The controller's status and housekeeping: what `cloudlet controller`
 * reads (the store's revision and schema, every host's last agent report)
 * and its compaction (the history watches read from). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/sdn.h"

void sdn_status_free(struct sdn_status *s)
{
	free(s->hosts);
	memset(s, 0, sizeof(*s));
}

int sdn_status_get(const char *url, struct sdn_status *out, struct cl_error *err)
{
	struct sdn_store *st;
	struct sdn_kv *kvs = NULL;
	size_t n = 0;
	struct sdn_state s;
	int r;
	memset(out, 0, sizeof(*out));
	if ((r = sdn_store_open(url, &st, err)) < 0)
		return r;
	snprintf(out->url, sizeof(out->url), "%s", st->url);
	snprintf(out->cluster, sizeof(out->cluster), "%s", st->cluster);
	if ((r = st->ops->get(st, "/cloudlet/", &kvs, &n, &out->rev, err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kvs[i].key, "/cloudlet/schema"))
			out->schema = strtol(kvs[i].value, NULL, 10);
	if ((r = sdn_state_from_kvs(kvs, n, st->url, &s, err)) < 0)
		goto out;
	out->desired = s.rev;
	if (s.nhosts && !(out->hosts = calloc(s.nhosts, sizeof(*out->hosts)))) {
		sdn_state_free(&s);
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t h = 0; h < s.nhosts; h++) {
		struct sdn_status_host *o = &out->hosts[out->nhosts++];
		char key[128];
		snprintf(o->name, sizeof(o->name), "%s", s.hosts[h].name);
		snprintf(key, sizeof(key), "/cloudlet/applied/%s", o->name);
		for (size_t i = 0; i < n; i++)
			if (!strcmp(kvs[i].key, key))
				o->reported = sdn_report_from_json(kvs[i].value, &o->rep) == 0;
	}
	sdn_state_free(&s);
out:
	sdn_kvs_free(kvs, n);
	sdn_store_close(st);
	return r;
}

int sdn_store_compact(const char *url, int64_t rev, int64_t *done, struct cl_error *err)
{
	struct sdn_store *st;
	struct sdn_kv *kvs = NULL;
	size_t n = 0;
	int64_t cur;
	int r;
	if ((r = sdn_store_open(url, &st, err)) < 0)
		return r;
	/* the current revision: a range over one key answers it */
	if ((r = st->ops->get(st, "/cloudlet/schema", &kvs, &n, &cur, err)) < 0)
		goto out;
	if (rev <= 0)
		rev = cur;
	if (rev > cur) {
		r = cl_err(err, ERANGE, "controller %s: compact %lld: a future revision (the store is at %lld)", url,
			   (long long)rev, (long long)cur);
		goto out;
	}
	if ((r = st->ops->compact(st, rev, err)) == 0 && done)
		*done = rev;
out:
	sdn_kvs_free(kvs, n);
	sdn_store_close(st);
	return r;
}
