/* The store through a controller process (`cloudlet controller serve`,
 * server.c): URL "http://HOST:PORT", the API of api.c with libcurl. The
 * revisions are the controller's store's; a watch is one long poll per
 * call, on the same connection (so the controller keeps its own watch of
 * the store open between them). */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/sdn.h"
#include "http.h"

#define TIMEOUT_MS 3000L

struct ht {
	struct sdn_store base;
	CURL *curl;
	char endpoint[512];
};

/* one call: *reply the 200 reply's body */
static int call(struct ht *h, const struct sdn_api_req *rq, char **reply, struct cl_error *err)
{
	const char *path = sdn_api_path(rq->call);
	char url[600], *body = NULL;
	struct cl_buf b = { 0 };
	snprintf(url, sizeof(url), "%s%s", h->endpoint, path);
	curl_easy_reset(h->curl);
	if (rq->call != SDN_API_HEALTH) {
		if (!(body = sdn_api_req_to_json(rq)))
			return cl_err(err, ENOMEM, "out of memory");
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, sdn_buf_write);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, TIMEOUT_MS + (long)rq->timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	CURLcode c = curl_easy_perform(h->curl);
	long status = 0;
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	free(body);
	int r = 0;
	if (c != CURLE_OK) {
		r = cl_err(err, EHOSTUNREACH, "controller %s: unreachable (%s)", h->endpoint, curl_easy_strerror(c));
	} else if (status != 200) {
		char msg[CL_ERR_MSG_MAX];
		if (sdn_api_error_from_json(b.p, msg, sizeof(msg)) < 0)
			snprintf(msg, sizeof(msg), "HTTP %ld: %.200s", status, b.p ? b.p : "");
		r = cl_err(err, sdn_api_code((unsigned)status), "controller %s: %s: %s", h->endpoint, path, msg);
	}
	if (r < 0)
		free(b.p);
	else
		*reply = b.p ? b.p : strdup("");
	return r;
}

static int reply_bad(struct ht *h, const struct sdn_api_req *rq, struct cl_error *err)
{
	return cl_err_wrap(err, "controller %s: %s", h->endpoint, sdn_api_path(rq->call));
}

static int ht_get(struct sdn_store *s, const char *prefix, struct sdn_kv **kvs, size_t *n, int64_t *rev,
		  struct cl_error *err)
{
	struct ht *h = (struct ht *)s;
	struct sdn_api_req rq = { .call = SDN_API_RANGE, .key = (char *)prefix };
	char *rep;
	*kvs = NULL;
	*n = 0;
	int r = call(h, &rq, &rep, err);
	if (r < 0)
		return r;
	if ((r = sdn_api_kvs_from_json(rep, kvs, n, rev, err)) < 0)
		reply_bad(h, &rq, err);
	free(rep);
	return r;
}

static int ht_cas(struct sdn_store *s, const char *key, const char *value, int64_t expect, int64_t *rev,
		  struct cl_error *err)
{
	struct ht *h = (struct ht *)s;
	struct sdn_api_req rq = { .call = SDN_API_CAS, .key = (char *)key, .value = (char *)value, .expect = expect };
	char *rep;
	bool ok = false;
	int64_t rv = 0;
	int r = call(h, &rq, &rep, err);
	if (r < 0)
		return r;
	if ((r = sdn_api_rev_from_json(rep, &rv, &ok, err)) < 0)
		reply_bad(h, &rq, err);
	else if (!ok)
		r = -EAGAIN;
	else if (rev)
		*rev = rv;
	free(rep);
	return r;
}

static int ht_watch(struct sdn_store *s, const char *prefix, int64_t after, unsigned timeout_ms, struct sdn_watch *w,
		    struct cl_error *err)
{
	struct ht *h = (struct ht *)s;
	struct sdn_api_req rq = {
		.call = SDN_API_WATCH, .key = (char *)prefix, .after = after,
		.timeout_ms = timeout_ms > SDN_API_WATCH_MAX_MS ? SDN_API_WATCH_MAX_MS : timeout_ms,
	};
	char *rep;
	memset(w, 0, sizeof(*w));
	int r = call(h, &rq, &rep, err);
	if (r < 0)
		return r;
	if ((r = sdn_api_watch_from_json(rep, w, err)) < 0)
		reply_bad(h, &rq, err);
	free(rep);
	return r;
}

static int ht_compact(struct sdn_store *s, int64_t rev, struct cl_error *err)
{
	struct ht *h = (struct ht *)s;
	struct sdn_api_req rq = { .call = SDN_API_COMPACT, .rev = rev };
	char *rep;
	int r = call(h, &rq, &rep, err);
	if (r < 0)
		return r;
	if ((r = sdn_api_rev_from_json(rep, NULL, NULL, err)) < 0)
		reply_bad(h, &rq, err);
	free(rep);
	return r;
}

static void ht_close(struct sdn_store *s)
{
	struct ht *h = (struct ht *)s;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h);
}

static const struct sdn_store_ops ht_ops = {
	.get = ht_get, .cas = ht_cas, .watch = ht_watch, .compact = ht_compact, .close = ht_close,
};

int sdn_store_http_open(const char *url, struct sdn_store **out, struct cl_error *err)
{
	if (strncmp(url, "http://", 7) || !url[7] || strlen(url) >= sizeof(((struct ht *)0)->endpoint))
		return cl_err(err, EINVAL, "controller %.100s: expected http://HOST:PORT", url);
	struct ht *h = calloc(1, sizeof(*h));
	if (!h || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(h->curl = curl_easy_init())) {
		free(h);
		return cl_err(err, ENOMEM, "libcurl: cannot start");
	}
	h->base.ops = &ht_ops;
	snprintf(h->endpoint, sizeof(h->endpoint), "%s", url);
	size_t n = strlen(h->endpoint);
	if (h->endpoint[n - 1] == '/')
		h->endpoint[n - 1] = '\0';
	*out = &h->base;
	return 0;
}
