/* Following the store from a revision (pure): the gap rule, the agent's
 * copy of the keys kept by watch events, and the agents' reports. etcd's
 * model (api/v3 rpc.proto, Watch): events come in revision order; a watch
 * whose start revision was compacted away is canceled with the compact
 * revision, and the watcher must read everything again. */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/sdn.h"

bool sdn_watch_gap(int64_t after, int64_t compacted)
{
	return compacted > 0 && after + 1 < compacted;
}

void sdn_watch_free(struct sdn_watch *w)
{
	sdn_kvs_free(w->ev, w->n);
	memset(w, 0, sizeof(*w));
}

/* the index of key in kvs, or where it would go (*found: there) */
static size_t kvs_find(const struct sdn_kv *kvs, size_t n, const char *key, bool *found)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(kvs[mid].key, key);
		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

int64_t sdn_kvs_apply(struct sdn_kv **kvs, size_t *n, const struct sdn_kv *ev, size_t nev)
{
	int64_t desired = 0;
	for (size_t i = 0; i < nev; i++) {
		bool found;
		size_t at = kvs_find(*kvs, *n, ev[i].key, &found);
		struct sdn_kv *k;
		if (!ev[i].value) {
			if (!found)
				continue;
			free((*kvs)[at].key);
			free((*kvs)[at].value);
			memmove(&(*kvs)[at], &(*kvs)[at + 1], (*n - at - 1) * sizeof(**kvs));
			(*n)--;
		} else {
			char *v = strdup(ev[i].value), *key = found ? NULL : strdup(ev[i].key);
			if (!v || (!found && !key)) {
				free(v);
				free(key);
				return -ENOMEM;
			}
			if (!found) {
				if (!(k = realloc(*kvs, (*n + 1) * sizeof(*k)))) {
					free(v);
					free(key);
					return -ENOMEM;
				}
				*kvs = k;
				memmove(&k[at + 1], &k[at], (*n - at) * sizeof(*k));
				k[at].key = key;
				k[at].value = NULL;
				(*n)++;
			}
			free((*kvs)[at].value);
			(*kvs)[at].value = v;
			(*kvs)[at].mod_rev = ev[i].mod_rev;
		}
		if (strncmp(ev[i].key, "/cloudlet/applied/", 18) && ev[i].mod_rev > desired)
			desired = ev[i].mod_rev;
	}
	return desired;
}

char *sdn_report_to_json(const struct sdn_report *r)
{
	struct json_object *o = json_object_new_object();
	char *s = NULL;
	if (!o)
		return NULL;
	json_object_object_add(o, "applied", json_object_new_int64(r->applied));
	json_object_object_add(o, "seen", json_object_new_int64(r->seen));
	json_object_object_add(o, "at", json_object_new_int64(r->at));
	json_object_object_add(o, "every_ms", json_object_new_int64(r->every_ms));
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static int64_t field(struct json_object *o, const char *k)
{
	struct json_object *f;
	return json_object_object_get_ex(o, k, &f) && json_object_is_type(f, json_type_int) ? json_object_get_int64(f)
											       : 0;
}

int sdn_report_from_json(const char *json, struct sdn_report *r)
{
	struct json_object *o = json_tokener_parse(json);
	memset(r, 0, sizeof(*r));
	if (!o)
		return -EBADMSG;
	int ret = 0;
	if (json_object_is_type(o, json_type_int)) {
		r->applied = json_object_get_int64(o);  /* an older agent: the revision alone */
	} else if (json_object_is_type(o, json_type_object)) {
		r->applied = field(o, "applied");
		r->seen = field(o, "seen");
		r->at = field(o, "at");
		int64_t every = field(o, "every_ms");
		r->every_ms = every > 0 && every < 86400000 ? (unsigned)every : 0;
	} else {
		ret = -EBADMSG;
	}
	json_object_put(o);
	return ret;
}

bool sdn_report_stale(const struct sdn_report *r, int64_t now)
{
	int64_t limit = 3 * (int64_t)r->every_ms / 1000;
	if (!r->at || !r->every_ms)
		return true;    /* no time: an agent that does not report */
	return now - r->at > (limit < 3 ? 3 : limit);
}
