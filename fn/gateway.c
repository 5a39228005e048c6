/* The API gateway: libmicrohttpd, a thread per connection (an invocation
 * blocks its thread while it waits for an instance, queueing included).
 *   POST /fn/NAME   the body is the event; 200 with the handler's stdout,
 *                   else the status of fn_http_status() and a short text
 *   GET  /metrics   fn_pool_metrics()
 * Every invocation's answer says how it was served and its timings:
 *   X-Fn-Served: cold|warm, X-Fn-Instance, X-Fn-Status (exit status),
 *   Server-Timing (W3C): queue, create, start, handler, total in ms. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/buf.h"
#include "cloudlet/parse.h"
#include "internal.h"

struct fn_gateway {
	struct MHD_Daemon *d;
	struct fn_pool *pool;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const void *body, size_t len,
			     bool copy, const char *ctype)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, (void *)body, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_MUST_FREE);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", ctype);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char buf[FN_STDERR_TAIL + 512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	return reply(c, status, buf, (size_t)n, true, "text/plain; charset=utf-8");
}

static enum MHD_Result invoke(struct fn_gateway *g, struct MHD_Connection *c, const char *name,
			      struct cl_buf *u)
{
	struct fn_result res;
	struct cl_error err = { 0 };
	char v[256];
	if (u->over)
		return text(c, fn_http_status(FN_TOO_LARGE), "request body over %u bytes\n", FN_BODY_MAX);
	if (fn_pool_invoke(g->pool, name, u->p ? u->p : "", u->n, &res, &err) < 0)
		return text(c, err.code == ENOENT ? 404 : 500, "%s\n", err.msg);
	unsigned status = fn_http_status(res.outcome);
	struct MHD_Response *r;
	if (res.outcome == FN_OK) {
		r = MHD_create_response_from_buffer(res.out_len, res.out, MHD_RESPMEM_MUST_FREE);
		res.out = NULL;
	} else {
		char msg[FN_STDERR_TAIL + 256];
		int n;
		if (res.outcome == FN_HANDLER_FAIL)
			n = snprintf(msg, sizeof(msg), "handler failed: exit status %d\n%s", res.status,
				     res.err_tail ? res.err_tail : "");
		else
			n = snprintf(msg, sizeof(msg), "%s\n", fn_outcome_name(res.outcome));
		if (n < 0)
			n = 0;
		if ((size_t)n >= sizeof(msg))
			n = sizeof(msg) - 1;
		r = MHD_create_response_from_buffer((size_t)n, msg, MHD_RESPMEM_MUST_COPY);
	}
	if (!r) {
		fn_result_free(&res);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", res.outcome == FN_OK ? "application/octet-stream"
									  : "text/plain; charset=utf-8");
	MHD_add_response_header(r, "X-Fn-Served", res.cold ? "cold" : "warm");
	MHD_add_response_header(r, "X-Fn-Outcome", fn_outcome_name(res.outcome));
	if (res.instance[0])
		MHD_add_response_header(r, "X-Fn-Instance", res.instance);
	snprintf(v, sizeof(v), "%d", res.status);
	MHD_add_response_header(r, "X-Fn-Status", v);
	snprintf(v, sizeof(v), "queue;dur=%.3f, create;dur=%.3f, start;dur=%.3f, handler;dur=%.3f, total;dur=%.3f",
		 (double)res.queue_ns / 1e6, (double)res.create_ns / 1e6, (double)res.start_ns / 1e6,
		 (double)res.handler_ns / 1e6, (double)res.total_ns / 1e6);
	MHD_add_response_header(r, "Server-Timing", v);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	fn_result_free(&res);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *data, size_t *data_size, void **con_cls)
{
	struct fn_gateway *g = cls;
	struct cl_buf *u = *con_cls;
	(void)version;
	bool fn = !strncmp(url, "/fn/", 4);
	if (!u) {
		if (!(u = calloc(1, sizeof(*u))))
			return MHD_NO;
		*con_cls = u;
		/* a declared length over the limit is refused before it is read */
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (fn && cl && strtoull(cl, NULL, 10) > FN_BODY_MAX)
			return text(c, fn_http_status(FN_TOO_LARGE), "request body over %u bytes\n", FN_BODY_MAX);
		return MHD_YES;
	}
	if (*data_size) {
		if (cl_buf_append(u, data, *data_size, FN_BODY_MAX) == -ENOMEM)
			return MHD_NO;
		*data_size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, "/metrics") && !strcmp(method, "GET")) {
		char *m = fn_pool_metrics(g->pool);
		return m ? reply(c, 200, m, strlen(m), false, "text/plain; version=0.0.4") : MHD_NO;
	}
	if (!fn || !url[4] || strchr(url + 4, '/'))
		return text(c, 404, "no such path: %.200s\n", url);
	if (strcmp(method, "POST"))
		return text(c, fn_http_status(FN_BAD_METHOD), "use POST\n");
	return invoke(g, c, url + 4, u);
}

static void done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct cl_buf *u = *con_cls;
	(void)cls;
	(void)c;
	(void)t;
	if (u) {
		cl_buf_free(u);
		free(u);
	}
	*con_cls = NULL;
}

int fn_gateway_start(struct fn_pool *p, const char *addr, struct fn_gateway **out, struct cl_error *err)
{
	struct sockaddr_in sa;
	if (cl_parse_ipv4_port(addr, &sa, err) < 0)
		return -EINVAL;
	struct fn_gateway *g = calloc(1, sizeof(*g));
	if (!g)
		return cl_err(err, ENOMEM, "out of memory");
	g->pool = p;
	g->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
				ntohs(sa.sin_port), NULL, NULL, handle, g, MHD_OPTION_SOCK_ADDR, &sa,
				MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)(FN_MAX_TIMEOUT_MS / 1000 + 60), MHD_OPTION_END);
	if (!g->d) {
		free(g);
		return cl_err(err, EADDRINUSE, "gateway: cannot listen on %s", addr);
	}
	*out = g;
	return 0;
}

void fn_gateway_stop(struct fn_gateway *g)
{
	if (!g)
		return;
	MHD_stop_daemon(g->d);
	free(g);
}
