/* The controller's HTTP API (README "VPCs across hosts"): the store's small
 * interface (include/cloudlet/sdn.h, struct sdn_store_ops) as JSON over
 * HTTP, parsed and encoded here (pure; json-c), served by server.c and
 * called by store_http.c.
 *   GET  /v1/health   {"store", "cluster", "schema", "revision"}
 *   POST /v1/range    {"prefix"} -> {"revision", "kvs": [{"key", "value", "mod_rev"}]}
 *   POST /v1/cas      {"key", "value" (null: delete), "expect"} -> {"revision", "succeeded"}
 *   POST /v1/watch    {"prefix", "after", "timeout_ms"} -> {"revision", "compacted", "events": [kv, value null: delete]}
 *   POST /v1/compact  {"revision"} -> {"revision"}
 * An error: its HTTP status and {"error": "message"}. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/sdn.h"

static const struct {
	const char *path;
	const char *method;
	enum sdn_api_call call;
} calls[] = {
	{ "/v1/health", "GET", SDN_API_HEALTH },  { "/v1/range", "POST", SDN_API_RANGE },
	{ "/v1/cas", "POST", SDN_API_CAS },       { "/v1/watch", "POST", SDN_API_WATCH },
	{ "/v1/compact", "POST", SDN_API_COMPACT },
};

const char *sdn_api_path(enum sdn_api_call c)
{
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (calls[i].call == c)
			return calls[i].path;
	return "?";
}

void sdn_api_req_free(struct sdn_api_req *rq)
{
	free(rq->key);
	free(rq->value);
	memset(rq, 0, sizeof(*rq));
}

/* a member of the body: a string (NULL: absent or null), or an integer */
static int field_str(struct json_object *o, const char *k, bool need, bool nullable, char **out, struct cl_error *err)
{
	struct json_object *f;
	*out = NULL;
	if (!json_object_object_get_ex(o, k, &f) || !f) {
		if (need && !(nullable && json_object_object_get_ex(o, k, &f)))
			return cl_err(err, EINVAL, "\"%s\": missing", k);
		return 0;
	}
	if (!json_object_is_type(f, json_type_string))
		return cl_err(err, EINVAL, "\"%s\": not a string", k);
	if (!(*out = strdup(json_object_get_string(f))))
		return cl_err(err, ENOMEM, "out of memory");
	return 0;
}

static int field_int(struct json_object *o, const char *k, int64_t min, int64_t max, int64_t def, int64_t *out,
		     struct cl_error *err)
{
	struct json_object *f;
	*out = def;
	if (!json_object_object_get_ex(o, k, &f))
		return 0;
	if (!json_object_is_type(f, json_type_int))
		return cl_err(err, EINVAL, "\"%s\": not an integer", k);
	*out = json_object_get_int64(f);
	if (*out < min || *out > max)
		return cl_err(err, EINVAL, "\"%s\": %lld is out of range [%lld, %lld]", k, (long long)*out,
			      (long long)min, (long long)max);
	return 0;
}

/* the keys are ours: absolute, printable, bounded */
static int key_check(const char *k, const char *what, struct cl_error *err)
{
	size_t n = strlen(k);
	if (k[0] != '/' || n > 1024)
		return cl_err(err, EINVAL, "\"%s\": '%.80s': expected a path of at most 1024 bytes", what, k);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)k[i] < 0x20 || k[i] == 0x7f)
			return cl_err(err, EINVAL, "\"%s\": a control character", what);
	return 0;
}

int sdn_api_req_parse(const char *method, const char *path, const char *body, struct sdn_api_req *rq,
		      struct cl_error *err)
{
	size_t i, n = sizeof(calls) / sizeof(calls[0]);
	memset(rq, 0, sizeof(*rq));
	for (i = 0; i < n && strcmp(calls[i].path, path); i++)
		;
	if (i == n)
		return cl_err(err, ENOENT, "no such path: %.200s", path);
	if (strcmp(calls[i].method, method))
		return cl_err(err, EOPNOTSUPP, "%s: use %s", calls[i].path, calls[i].method);
	rq->call = calls[i].call;
	if (rq->call == SDN_API_HEALTH)
		return 0;
	struct json_object *o = json_tokener_parse(body ? body : "");
	int r = 0;
	int64_t v;
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return cl_err(err, EINVAL, "%s: the body is not a JSON object", calls[i].path);
	}
	switch (rq->call) {
	case SDN_API_RANGE:
		if ((r = field_str(o, "prefix", true, false, &rq->key, err)) == 0)
			r = key_check(rq->key, "prefix", err);
		break;
	case SDN_API_CAS:
		if ((r = field_str(o, "key", true, false, &rq->key, err)) < 0 ||
		    (r = key_check(rq->key, "key", err)) < 0 ||
		    (r = field_str(o, "value", true, true, &rq->value, err)) < 0)
			break;
		r = field_int(o, "expect", -1, INT64_MAX, -1, &rq->expect, err);
		break;
	case SDN_API_WATCH:
		if ((r = field_str(o, "prefix", true, false, &rq->key, err)) < 0 ||
		    (r = key_check(rq->key, "prefix", err)) < 0 ||
		    (r = field_int(o, "after", 0, INT64_MAX, 0, &rq->after, err)) < 0)
			break;
		r = field_int(o, "timeout_ms", 0, SDN_API_WATCH_MAX_MS, 0, &v, err);
		rq->timeout_ms = (unsigned)v;
		break;
	case SDN_API_COMPACT:
		if (!json_object_object_get_ex(o, "revision", NULL))
			r = cl_err(err, EINVAL, "\"revision\": missing");
		else
			r = field_int(o, "revision", 1, INT64_MAX, 0, &rq->rev, err);
		break;
	case SDN_API_HEALTH:
		break;
	}
	json_object_put(o);
	if (r < 0) {
		sdn_api_req_free(rq);
		return cl_err_wrap(err, "%s", calls[i].path);
	}
	return 0;
}

static char *dump(struct json_object *o)
{
	char *s = o ? strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) : NULL;
	json_object_put(o);
	return s;
}

char *sdn_api_req_to_json(const struct sdn_api_req *rq)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	switch (rq->call) {
	case SDN_API_RANGE:
		json_object_object_add(o, "prefix", json_object_new_string(rq->key));
		break;
	case SDN_API_CAS:
		json_object_object_add(o, "key", json_object_new_string(rq->key));
		json_object_object_add(o, "value", rq->value ? json_object_new_string(rq->value) : NULL);
		json_object_object_add(o, "expect", json_object_new_int64(rq->expect));
		break;
	case SDN_API_WATCH:
		json_object_object_add(o, "prefix", json_object_new_string(rq->key));
		json_object_object_add(o, "after", json_object_new_int64(rq->after));
		json_object_object_add(o, "timeout_ms", json_object_new_int64(rq->timeout_ms));
		break;
	case SDN_API_COMPACT:
		json_object_object_add(o, "revision", json_object_new_int64(rq->rev));
		break;
	case SDN_API_HEALTH:
		break;
	}
	return dump(o);
}

static struct json_object *kvs_array(const struct sdn_kv *kvs, size_t n)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; a && i < n; i++) {
		struct json_object *kv = json_object_new_object();
		json_object_object_add(kv, "key", json_object_new_string(kvs[i].key));
		json_object_object_add(kv, "value", kvs[i].value ? json_object_new_string(kvs[i].value) : NULL);
		json_object_object_add(kv, "mod_rev", json_object_new_int64(kvs[i].mod_rev));
		json_object_array_add(a, kv);
	}
	return a;
}

char *sdn_api_kvs_to_json(const struct sdn_kv *kvs, size_t n, int64_t rev)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "revision", json_object_new_int64(rev));
	json_object_object_add(o, "kvs", kvs_array(kvs, n));
	return dump(o);
}

char *sdn_api_watch_to_json(const struct sdn_watch *w)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "revision", json_object_new_int64(w->rev));
	json_object_object_add(o, "compacted", json_object_new_int64(w->compacted));
	json_object_object_add(o, "events", kvs_array(w->ev, w->n));
	return dump(o);
}

char *sdn_api_rev_to_json(int64_t rev, int succeeded)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "revision", json_object_new_int64(rev));
	if (succeeded >= 0)
		json_object_object_add(o, "succeeded", json_object_new_boolean(succeeded));
	return dump(o);
}

char *sdn_api_health_to_json(const struct sdn_status *s)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "store", json_object_new_string(s->url));
	json_object_object_add(o, "cluster", json_object_new_string(s->cluster));
	json_object_object_add(o, "schema", json_object_new_int64(s->schema));
	json_object_object_add(o, "revision", json_object_new_int64(s->rev));
	return dump(o);
}

char *sdn_api_error_to_json(const char *msg)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "error", json_object_new_string(msg));
	return dump(o);
}

/* errno <-> HTTP status: the store's failures keep their kind across */
static const struct {
	int code;
	unsigned status;
} statuses[] = {
	{ EINVAL, 400 },     { ENOENT, 404 },      { EOPNOTSUPP, 405 }, { ERANGE, 416 },
	{ EPROTO, 409 },     { EHOSTUNREACH, 503 }, { EAGAIN, 503 },    { EBADMSG, 502 },
};

unsigned sdn_api_status(int code)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].code == code)
			return statuses[i].status;
	return 500;
}

int sdn_api_code(unsigned status)
{
	/* 503 both ways: the store behind the controller is what is down */
	if (status == 503)
		return EHOSTUNREACH;
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].status == status)
			return statuses[i].code;
	return EIO;
}

static int reply_parse(const char *json, struct json_object **o, int64_t *rev, struct cl_error *err)
{
	struct json_object *f;
	if (!(*o = json_tokener_parse(json ? json : "")) || !json_object_is_type(*o, json_type_object) ||
	    !json_object_object_get_ex(*o, "revision", &f) || !json_object_is_type(f, json_type_int)) {
		json_object_put(*o);
		*o = NULL;
		return cl_err(err, EBADMSG, "a reply without a revision");
	}
	if (rev)
		*rev = json_object_get_int64(f);
	return 0;
}

static int kvs_parse(struct json_object *a, bool deletes, struct sdn_kv **kvs, size_t *n, struct cl_error *err)
{
	*kvs = NULL;
	*n = 0;
	if (!a || !json_object_is_type(a, json_type_array))
		return cl_err(err, EBADMSG, "a reply without its keys");
	size_t m = json_object_array_length(a);
	if (m && !(*kvs = calloc(m, sizeof(**kvs))))
		return cl_err(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < m; i++) {
		struct json_object *e = json_object_array_get_idx(a, i), *fk, *fv, *fr;
		struct sdn_kv *k = &(*kvs)[i];
		*n = i + 1;
		if (!json_object_object_get_ex(e, "key", &fk) || !json_object_is_type(fk, json_type_string) ||
		    !json_object_object_get_ex(e, "value", &fv) ||
		    !(json_object_is_type(fv, json_type_string) || (deletes && !fv)) ||
		    !json_object_object_get_ex(e, "mod_rev", &fr) || !json_object_is_type(fr, json_type_int))
			return cl_err(err, EBADMSG, "a key without its key, value or mod_rev");
		k->mod_rev = json_object_get_int64(fr);
		if (!(k->key = strdup(json_object_get_string(fk))) ||
		    (fv && !(k->value = strdup(json_object_get_string(fv)))))
			return cl_err(err, ENOMEM, "out of memory");
	}
	return 0;
}

int sdn_api_kvs_from_json(const char *json, struct sdn_kv **kvs, size_t *n, int64_t *rev, struct cl_error *err)
{
	struct json_object *o, *a = NULL;
	int r = reply_parse(json, &o, rev, err);
	*kvs = NULL;
	*n = 0;
	if (r < 0)
		return r;
	json_object_object_get_ex(o, "kvs", &a);
	if ((r = kvs_parse(a, false, kvs, n, err)) < 0) {
		sdn_kvs_free(*kvs, *n);
		*kvs = NULL;
		*n = 0;
	}
	json_object_put(o);
	return r;
}

int sdn_api_watch_from_json(const char *json, struct sdn_watch *w, struct cl_error *err)
{
	struct json_object *o, *a = NULL, *f;
	memset(w, 0, sizeof(*w));
	int r = reply_parse(json, &o, &w->rev, err);
	if (r < 0)
		return r;
	if (json_object_object_get_ex(o, "compacted", &f))
		w->compacted = json_object_get_int64(f);
	json_object_object_get_ex(o, "events", &a);
	if ((r = kvs_parse(a, true, &w->ev, &w->n, err)) < 0)
		sdn_watch_free(w);
	json_object_put(o);
	return r;
}

int sdn_api_rev_from_json(const char *json, int64_t *rev, bool *succeeded, struct cl_error *err)
{
	struct json_object *o, *f;
	int r = reply_parse(json, &o, rev, err);
	if (r < 0)
		return r;
	if (succeeded)
		*succeeded = json_object_object_get_ex(o, "succeeded", &f) && json_object_get_boolean(f);
	json_object_put(o);
	return 0;
}

int sdn_api_error_from_json(const char *json, char *msg, size_t len)
{
	struct json_object *o = json_tokener_parse(json ? json : ""), *f;
	int r = -1;
	if (o && json_object_object_get_ex(o, "error", &f) && json_object_is_type(f, json_type_string)) {
		snprintf(msg, len, "%s", json_object_get_string(f));
		r = 0;
	}
	json_object_put(o);
	return r;
}
