/* The store in etcd (Debian's etcd-server), through its v3 JSON gateway
 * (etcd's api/v3 kv.proto over HTTP: POST /v3/kv/range, /v3/kv/txn,
 * /v3/kv/compaction, /v3/watch) with libcurl and json-c. Keys and values
 * travel base64-encoded (proto3 JSON maps bytes to base64) and 64-bit
 * numbers as strings; compare-and-swap is one txn comparing the key's
 * mod_revision. A watch is one long POST whose response streams a JSON
 * message per change batch: read with libcurl's multi interface (so a wait
 * has a deadline and the stream stays open between waits) and json-c's
 * incremental tokener. */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloudlet/sdn.h"
#include "http.h"

#define TIMEOUT_MS 3000L

struct et {
	struct sdn_store base;
	CURL *curl;
	char endpoint[512];
	/* the watch stream */
	CURLM *multi;
	CURL *wcurl;
	char *wbody;
	json_tokener *tok;
	struct json_object **msgs;  /* parsed, not yet handled */
	size_t nmsgs;
	bool wbad;                  /* a reply that is not JSON */
	int64_t wpos;               /* the stream delivers changes after this revision; -1: no stream */
};

static char *b64(const char *s, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static char *unb64(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(3 * (n / 4) + 1);
	if (!out)
		return NULL;
	int len = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	if (len < 0) {
		free(out);
		return NULL;
	}
	/* DecodeBlock counts the padding as zero bytes */
	while (n && s[n - 1] == '=' && len > 0) {
		n--;
		len--;
	}
	out[len] = '\0';
	return out;
}

/* POST body to PATH; *out the parsed reply */
static int call(struct et *e, const char *path, struct json_object *body, struct json_object **out,
		struct cl_error *err)
{
	char url[600];
	struct cl_buf b = { 0 };
	snprintf(url, sizeof(url), "%s%s", e->endpoint, path);
	curl_easy_reset(e->curl);
	curl_easy_setopt(e->curl, CURLOPT_URL, url);
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, sdn_buf_write);
	curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
	curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
	CURLcode c = curl_easy_perform(e->curl);
	long status = 0;
	curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
	int r = 0;
	if (c != CURLE_OK)
		r = cl_err(err, EHOSTUNREACH, "controller etcd:%s: unreachable (%s)", e->endpoint, curl_easy_strerror(c));
	else if (status != 200)
		r = cl_err(err, EIO, "controller etcd:%s: %s: HTTP %ld: %.200s", e->endpoint, path, status,
			   b.p ? b.p : "");
	else if (!(*out = json_tokener_parse(b.p ? b.p : "")))
		r = cl_err(err, EBADMSG, "controller etcd:%s: %s: reply is not JSON", e->endpoint, path);
	free(b.p);
	return r;
}

static int64_t num(struct json_object *o, const char *k)
{
	struct json_object *f;
	/* proto3 JSON: int64 as a string, and left out when 0 */
	return json_object_object_get_ex(o, k, &f) ? strtoll(json_object_get_string(f), NULL, 10) : 0;
}

static int64_t header_rev(struct json_object *o)
{
	struct json_object *h;
	return json_object_object_get_ex(o, "header", &h) ? num(h, "revision") : 0;
}

static int et_get(struct sdn_store *s, const char *prefix, struct sdn_kv **kvs, size_t *n, int64_t *rev,
		  struct cl_error *err)
{
	struct et *e = (struct et *)s;
	size_t len = strlen(prefix);
	char *end = strdup(prefix);
	struct json_object *body = json_object_new_object(), *rep = NULL, *arr;
	char *k = b64(prefix, len), *ke = NULL;
	int r = 0;
	*kvs = NULL;
	*n = 0;
	if (!end || !body || !k) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	/* every key with the prefix: [prefix, prefix with its last byte + 1) */
	end[len - 1]++;
	if (!(ke = b64(end, len))) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	json_object_object_add(body, "key", json_object_new_string(k));
	json_object_object_add(body, "range_end", json_object_new_string(ke));
	if ((r = call(e, "/v3/kv/range", body, &rep, err)) < 0)
		goto out;
	*rev = header_rev(rep);
	if (json_object_object_get_ex(rep, "kvs", &arr)) {
		size_t m = json_object_array_length(arr);
		if (m && !(*kvs = calloc(m, sizeof(**kvs)))) {
			r = cl_err(err, ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < m; i++) {
			struct json_object *o = json_object_array_get_idx(arr, i), *fk, *fv;
			const char *vs = json_object_object_get_ex(o, "value", &fv) ? json_object_get_string(fv) : "";
			if (!json_object_object_get_ex(o, "key", &fk) || !((*kvs)[i].key = unb64(json_object_get_string(fk))) ||
			    !((*kvs)[i].value = unb64(vs))) {
				*n = i + 1;
				r = cl_err(err, EBADMSG, "controller etcd:%s: a key that is not base64", e->endpoint);
				goto out;
			}
			(*kvs)[i].mod_rev = num(o, "mod_revision");
		}
		*n = m;
	}
out:
	if (r < 0) {
		sdn_kvs_free(*kvs, *n);
		*kvs = NULL;
		*n = 0;
	}
	json_object_put(rep);
	json_object_put(body);
	free(end);
	free(k);
	free(ke);
	return r;
}

static int et_cas(struct sdn_store *s, const char *key, const char *value, int64_t expect, int64_t *rev,
		  struct cl_error *err)
{
	struct et *e = (struct et *)s;
	char *k = b64(key, strlen(key)), *v = value ? b64(value, strlen(value)) : NULL, rv[32];
	struct json_object *body = json_object_new_object(), *rep = NULL, *ok;
	int r;
	if (!k || (value && !v) || !body) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	if (expect >= 0) {
		struct json_object *cmp = json_object_new_object(), *cmps = json_object_new_array();
		json_object_object_add(cmp, "key", json_object_new_string(k));
		json_object_object_add(cmp, "target", json_object_new_string("MOD"));
		json_object_object_add(cmp, "result", json_object_new_string("EQUAL"));
		snprintf(rv, sizeof(rv), "%lld", (long long)expect);
		json_object_object_add(cmp, "mod_revision", json_object_new_string(rv));
		json_object_array_add(cmps, cmp);
		json_object_object_add(body, "compare", cmps);
	}
	struct json_object *op = json_object_new_object(), *req = json_object_new_object(),
			   *ops = json_object_new_array();
	json_object_object_add(req, "key", json_object_new_string(k));
	if (v)
		json_object_object_add(req, "value", json_object_new_string(v));
	json_object_object_add(op, v ? "request_put" : "request_delete_range", req);
	json_object_array_add(ops, op);
	json_object_object_add(body, "success", ops);
	if ((r = call(e, "/v3/kv/txn", body, &rep, err)) < 0)
		goto out;
	if (expect >= 0 && !(json_object_object_get_ex(rep, "succeeded", &ok) && json_object_get_boolean(ok)))
		r = -EAGAIN;
	else if (rev)
		*rev = header_rev(rep);
out:
	json_object_put(rep);
	json_object_put(body);
	free(k);
	free(v);
	return r;
}

int sdn_etcd_watch_msg(struct json_object *msg, struct sdn_watch *w, struct cl_error *err)
{
	struct json_object *res, *f, *evs;
	/* the gateway's stream error, e.g. grpc_code 14 UNAVAILABLE "transport
	 * is closing" when the server stops */
	if (json_object_object_get_ex(msg, "error", &f)) {
		struct json_object *m;
		return cl_err(err, EHOSTUNREACH, "unreachable (%s)",
			      json_object_object_get_ex(f, "message", &m) ? json_object_get_string(m)
									 : json_object_to_json_string(f));
	}
	if (!json_object_object_get_ex(msg, "result", &res))
		return cl_err(err, EBADMSG, "%.200s", json_object_to_json_string(msg));
	w->compacted = num(res, "compact_revision") > w->compacted ? num(res, "compact_revision") : w->compacted;
	if (json_object_object_get_ex(res, "canceled", &f) && json_object_get_boolean(f))
		return 1;
	if (!json_object_object_get_ex(res, "events", &evs))
		return 0;   /* created, or a progress notification */
	size_t m = json_object_array_length(evs);
	struct sdn_kv *g = realloc(w->ev, (w->n + m + 1) * sizeof(*g));
	if (!g)
		return cl_err(err, ENOMEM, "out of memory");
	w->ev = g;
	for (size_t i = 0; i < m; i++) {
		struct json_object *e = json_object_array_get_idx(evs, i), *kv, *fk, *fv, *ft;
		struct sdn_kv *k = &w->ev[w->n];
		/* proto3 JSON leaves out the default: type PUT */
		bool del = json_object_object_get_ex(e, "type", &ft) && !strcmp(json_object_get_string(ft), "DELETE");
		if (!json_object_object_get_ex(e, "kv", &kv) || !json_object_object_get_ex(kv, "key", &fk))
			return cl_err(err, EBADMSG, "an event without a key");
		memset(k, 0, sizeof(*k));
		k->mod_rev = num(kv, "mod_revision");
		if (!(k->key = unb64(json_object_get_string(fk))) ||
		    (!del && !(k->value = unb64(json_object_object_get_ex(kv, "value", &fv) ? json_object_get_string(fv)
											  : "")))) {
			free(k->key);
			return cl_err(err, EBADMSG, "a key or value that is not base64");
		}
		w->n++;
		if (k->mod_rev > w->rev)
			w->rev = k->mod_rev;
	}
	return 0;
}

static size_t on_stream(char *data, size_t size, size_t nmemb, void *arg)
{
	struct et *e = arg;
	size_t len = size * nmemb, off = 0;
	while (off < len) {
		struct json_object *o = json_tokener_parse_ex(e->tok, data + off, (int)(len - off));
		enum json_tokener_error je = json_tokener_get_error(e->tok);
		if (!o && je == json_tokener_continue)
			break;      /* the rest of a message comes in a later chunk */
		if (!o) {
			e->wbad = true;
			return 0;
		}
		off += json_tokener_get_parse_end(e->tok);
		json_tokener_reset(e->tok);
		struct json_object **g = realloc(e->msgs, (e->nmsgs + 1) * sizeof(*g));
		if (!g) {
			json_object_put(o);
			return 0;
		}
		e->msgs = g;
		g[e->nmsgs++] = o;
	}
	return len;
}

static void watch_stop(struct et *e)
{
	if (e->wcurl) {
		curl_multi_remove_handle(e->multi, e->wcurl);
		curl_easy_cleanup(e->wcurl);
		e->wcurl = NULL;
	}
	for (size_t i = 0; i < e->nmsgs; i++)
		json_object_put(e->msgs[i]);
	free(e->msgs);
	e->msgs = NULL;
	e->nmsgs = 0;
	free(e->wbody);
	e->wbody = NULL;
	if (e->tok)
		json_tokener_reset(e->tok);
	e->wbad = false;
	e->wpos = -1;
}

static int watch_start(struct et *e, const char *prefix, int64_t after, struct cl_error *err)
{
	size_t len = strlen(prefix);
	char url[600], rv[32], *end = strdup(prefix), *k = b64(prefix, len), *ke = NULL;
	struct json_object *body = json_object_new_object(), *cr = json_object_new_object();
	int r = 0;
	if (!end || !k || !body || !cr || (end[len - 1]++, !(ke = b64(end, len)))) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	json_object_object_add(cr, "key", json_object_new_string(k));
	json_object_object_add(cr, "range_end", json_object_new_string(ke));
	snprintf(rv, sizeof(rv), "%lld", (long long)after + 1);
	json_object_object_add(cr, "start_revision", json_object_new_string(rv));
	json_object_object_add(body, "create_request", cr);
	cr = NULL;
	if (!(e->wbody = strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN))) ||
	    (!e->multi && !(e->multi = curl_multi_init())) || (!e->tok && !(e->tok = json_tokener_new())) ||
	    !(e->wcurl = curl_easy_init())) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	snprintf(url, sizeof(url), "%s/v3/watch", e->endpoint);
	curl_easy_setopt(e->wcurl, CURLOPT_URL, url);
	curl_easy_setopt(e->wcurl, CURLOPT_POSTFIELDS, e->wbody);
	curl_easy_setopt(e->wcurl, CURLOPT_WRITEFUNCTION, on_stream);
	curl_easy_setopt(e->wcurl, CURLOPT_WRITEDATA, e);
	curl_easy_setopt(e->wcurl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(e->wcurl, CURLOPT_NOSIGNAL, 1L);
	/* a dead server behind a live connection: TCP keepalive notices */
	curl_easy_setopt(e->wcurl, CURLOPT_TCP_KEEPALIVE, 1L);
	if (curl_multi_add_handle(e->multi, e->wcurl) != CURLM_OK) {
		r = cl_err(err, ENOMEM, "libcurl: cannot watch");
		goto out;
	}
	e->wpos = after;
out:
	if (r < 0)
		watch_stop(e);
	json_object_put(cr);
	json_object_put(body);
	free(end);
	free(k);
	free(ke);
	return r;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int et_watch(struct sdn_store *s, const char *prefix, int64_t after, unsigned timeout_ms, struct sdn_watch *w,
		    struct cl_error *err)
{
	struct et *e = (struct et *)s;
	int64_t deadline = now_ms() + timeout_ms;
	int r = 0, running = 0;
	memset(w, 0, sizeof(*w));
	/* the open stream goes on from where the last call left it */
	if (e->wpos != after)
		watch_stop(e);
	if (!e->wcurl && (r = watch_start(e, prefix, after, err)) < 0)
		return r;
	for (;;) {
		curl_multi_perform(e->multi, &running);
		while (e->nmsgs && r == 0) {
			struct json_object *m = e->msgs[0];
			memmove(e->msgs, e->msgs + 1, --e->nmsgs * sizeof(*e->msgs));
			r = sdn_etcd_watch_msg(m, w, err);
			json_object_put(m);
		}
		if (r != 0 || w->n || e->wbad || !running)
			break;
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return 0;
		curl_multi_poll(e->multi, NULL, 0, left > 200 ? 200 : (int)left, NULL);
	}
	if (r == 0 && w->n) {
		/* the stream goes on after these; one that ended is opened
		 * again by the next call */
		if (running)
			e->wpos = w->rev;
		else
			watch_stop(e);
		return 0;
	}
	/* the stream ended: canceled (compacted), broken, or never connected */
	CURLcode c = CURLE_OK;
	long status = 0;
	struct CURLMsg *cm;
	int left;
	while ((cm = curl_multi_info_read(e->multi, &left)))
		if (cm->msg == CURLMSG_DONE)
			c = cm->data.result;
	curl_easy_getinfo(e->wcurl, CURLINFO_RESPONSE_CODE, &status);
	bool bad = e->wbad;
	watch_stop(e);
	if (r == 1) {
		if (w->compacted > 0)
			return 0;
		return cl_err(err, ECANCELED, "controller etcd:%s: watch canceled", e->endpoint);
	}
	if (r < 0) {
		sdn_watch_free(w);
		return cl_err_wrap(err, "controller etcd:%s%s", e->endpoint, err && err->code == EHOSTUNREACH ? "" : ": watch");
	}
	if (c != CURLE_OK && !bad)
		return cl_err(err, EHOSTUNREACH, "controller etcd:%s: unreachable (%s)", e->endpoint, curl_easy_strerror(c));
	if (status != 200 || bad)
		return cl_err(err, EIO, "controller etcd:%s: /v3/watch: HTTP %ld", e->endpoint, status);
	return cl_err(err, EHOSTUNREACH, "controller etcd:%s: unreachable (the watch stream ended)", e->endpoint);
}

static int et_compact(struct sdn_store *s, int64_t rev, struct cl_error *err)
{
	struct et *e = (struct et *)s;
	struct json_object *body = json_object_new_object(), *rep = NULL;
	char rv[32];
	if (!body)
		return cl_err(err, ENOMEM, "out of memory");
	snprintf(rv, sizeof(rv), "%lld", (long long)rev);
	json_object_object_add(body, "revision", json_object_new_string(rv));
	int r = call(e, "/v3/kv/compaction", body, &rep, err);
	json_object_put(rep);
	json_object_put(body);
	return r;
}

static void et_close(struct sdn_store *s)
{
	struct et *e = (struct et *)s;
	watch_stop(e);
	if (e->multi)
		curl_multi_cleanup(e->multi);
	if (e->tok)
		json_tokener_free(e->tok);
	if (e->curl)
		curl_easy_cleanup(e->curl);
	free(e);
}

static const struct sdn_store_ops et_ops = {
	.get = et_get, .cas = et_cas, .watch = et_watch, .compact = et_compact, .close = et_close,
};

int sdn_store_etcd_open(const char *endpoint, struct sdn_store **out, struct cl_error *err)
{
	if (strncmp(endpoint, "http://", 7) || strlen(endpoint) >= sizeof(((struct et *)0)->endpoint))
		return cl_err(err, EINVAL, "controller etcd:%.100s: expected etcd:http://HOST:PORT", endpoint);
	struct et *e = calloc(1, sizeof(*e));
	if (!e || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(e->curl = curl_easy_init())) {
		free(e);
		return cl_err(err, ENOMEM, "libcurl: cannot start");
	}
	e->base.ops = &et_ops;
	e->wpos = -1;
	snprintf(e->endpoint, sizeof(e->endpoint), "%s", endpoint);
	size_t n = strlen(e->endpoint);
	if (e->endpoint[n - 1] == '/')
		e->endpoint[n - 1] = '\0';
	*out = &e->base;
	return 0;
}
