/* The store in etcd (Debian's etcd-server), through its v3 JSON gateway
 * (etcd's api/v3 kv.proto over HTTP: POST /v3/kv/range, /v3/kv/txn) with
 * libcurl and json-c. Keys and values travel base64-encoded (proto3 JSON
 * maps bytes to base64) and 64-bit numbers as strings; compare-and-swap is
 * one txn comparing the key's mod_revision. */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/sdn.h"

#define TIMEOUT_MS 3000L

struct et {
	struct sdn_store base;
	CURL *curl;
	char endpoint[512];
};

struct buf {
	char *p;
	size_t n;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t len = size * nmemb;
	if (b->n + len > (64u << 20))
		return 0;   /* a desired state this big is not ours */
	char *g = realloc(b->p, b->n + len + 1);
	if (!g)
		return 0;
	memcpy(g + b->n, data, len);
	b->p = g;
	b->n += len;
	g[b->n] = '\0';
	return len;
}

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
	struct buf b = { 0 };
	snprintf(url, sizeof(url), "%s%s", e->endpoint, path);
	curl_easy_reset(e->curl);
	curl_easy_setopt(e->curl, CURLOPT_URL, url);
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, on_data);
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

static void et_close(struct sdn_store *s)
{
	struct et *e = (struct et *)s;
	if (e->curl)
		curl_easy_cleanup(e->curl);
	free(e);
}

static const struct sdn_store_ops et_ops = { .get = et_get, .cas = et_cas, .close = et_close };

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
	snprintf(e->endpoint, sizeof(e->endpoint), "%s", endpoint);
	size_t n = strlen(e->endpoint);
	if (e->endpoint[n - 1] == '/')
		e->endpoint[n - 1] = '\0';
	*out = &e->base;
	return 0;
}
