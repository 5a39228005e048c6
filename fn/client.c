/* `fn invoke` through a running gateway (libcurl): the serving process
 * records where it listens in ROOT/fn/gateway.json ({ "pid", "pid_start",
 * "listen" }); while that process lives, invocations go to its warm pool
 * like any HTTP client's, and the answer's X-Fn-* and Server-Timing
 * headers fill the result. */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cloudlet/net.h"
#include "cloudlet/proc.h"
#include "internal.h"

static int record_path(const char *root, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/fn/gateway.json", root) < len ? 0 : -ENAMETOOLONG;
}

int fn_gateway_record(const char *root, const char *addr, bool up, struct cl_error *err)
{
	char p[PATH_MAX];
	if (record_path(root, p, sizeof(p)) < 0)
		return cl_err(err, ENAMETOOLONG, "%s: path too long", root);
	if (!up) {
		unlink(p);
		return 0;
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "pid_start", json_object_new_int64((int64_t)cl_pid_start(getpid())));
	json_object_object_add(o, "listen", json_object_new_string(addr));
	int r = net_state_write_json(p, o, err);
	json_object_put(o);
	return r;
}

int fn_gateway_find(const char *root, char *addr, size_t len)
{
	char p[PATH_MAX];
	struct json_object *o = NULL, *pid, *st, *l;
	if (record_path(root, p, sizeof(p)) < 0 || net_state_read_json(p, &o, NULL) < 0)
		return -ENOENT;
	int r = -ENOENT;
	if (json_object_object_get_ex(o, "pid", &pid) && json_object_object_get_ex(o, "pid_start", &st) &&
	    json_object_object_get_ex(o, "listen", &l) &&
	    cl_pid_alive(json_object_get_int(pid), (unsigned long long)json_object_get_int64(st)) &&
	    (size_t)snprintf(addr, len, "%s", json_object_get_string(l)) < len)
		r = 0;
	json_object_put(o);
	return r;
}

struct buf {
	char *p;
	size_t n;
	bool over;
};

static size_t on_body(char *d, size_t sz, size_t nm, void *arg)
{
	struct buf *b = arg;
	size_t k = sz * nm;
	if (b->over || b->n + k > FN_BODY_MAX + 4096) {
		b->over = true;
		return k;
	}
	char *np = realloc(b->p, b->n + k + 1);
	if (!np)
		return 0;
	memcpy(np + b->n, d, k);
	b->p = np;
	b->n += k;
	b->p[b->n] = '\0';
	return k;
}

/* the X-Fn-* and Server-Timing headers into res */
static size_t on_header(char *d, size_t sz, size_t nm, void *arg)
{
	struct fn_result *res = arg;
	size_t k = sz * nm;
	char line[512];
	snprintf(line, sizeof(line), "%.*s", (int)(k < sizeof(line) - 1 ? k : sizeof(line) - 1), d);
	line[strcspn(line, "\r\n")] = '\0';
	double q, c, s, h, t;
	if (!strncasecmp(line, "X-Fn-Served: ", 13))
		res->cold = !strcmp(line + 13, "cold");
	else if (!strncasecmp(line, "X-Fn-Instance: ", 15))
		snprintf(res->instance, sizeof(res->instance), "%.63s", line + 15);
	else if (!strncasecmp(line, "X-Fn-Status: ", 13))
		res->status = atoi(line + 13);
	else if (!strncasecmp(line, "Server-Timing: ", 15) &&
		 sscanf(line + 15, "queue;dur=%lf, create;dur=%lf, start;dur=%lf, handler;dur=%lf, total;dur=%lf",
			&q, &c, &s, &h, &t) == 5) {
		res->queue_ns = (uint64_t)(q * 1e6);
		res->create_ns = (uint64_t)(c * 1e6);
		res->start_ns = (uint64_t)(s * 1e6);
		res->handler_ns = (uint64_t)(h * 1e6);
		res->total_ns = (uint64_t)(t * 1e6);
	}
	return k;
}

static const struct {
	long http;
	enum fn_outcome o;
} by_status[] = {
	{ 200, FN_OK }, { 502, FN_HANDLER_FAIL }, { 503, FN_START_FAIL }, { 504, FN_TIMEOUT },
	{ 429, FN_QUEUE_FULL }, { 404, FN_NOT_FOUND }, { 413, FN_TOO_LARGE }, { 405, FN_BAD_METHOD },
};

int fn_gateway_invoke(const char *addr, const char *name, const void *body, size_t len,
		      struct fn_result *res, struct cl_error *err)
{
	char url[512];
	struct buf b = { 0 };
	long http = 0;
	memset(res, 0, sizeof(*res));
	res->status = -1;
	snprintf(url, sizeof(url), "http://%s/fn/%s", addr, name);
	CURL *c = curl_easy_init();
	if (!c)
		return cl_err(err, ENOMEM, "curl_easy_init");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, res);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* the gateway's own deadline answers first (504) */
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(FN_MAX_TIMEOUT_MS / 1000 + 60));
	CURLcode cr = curl_easy_perform(c);
	if (cr == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_cleanup(c);
	if (cr != CURLE_OK) {
		free(b.p);
		return cl_err(err, EIO, "gateway %s: %s", addr, curl_easy_strerror(cr));
	}
	res->outcome = FN_START_FAIL;
	for (size_t i = 0; i < sizeof(by_status) / sizeof(by_status[0]); i++)
		if (by_status[i].http == http)
			res->outcome = by_status[i].o;
	if (res->outcome == FN_NOT_FOUND) {
		free(b.p);
		return cl_err(err, ENOENT, "function %s: no such function", name);
	}
	if (res->outcome == FN_OK) {
		res->out = b.p;
		res->out_len = b.n;
	} else {
		/* the gateway's text: the reason, and a handler's stderr tail */
		res->err_tail = b.p;
	}
	return 0;
}
