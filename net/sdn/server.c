/* The controller process (`cloudlet controller serve`): owns the store
 * (SQLite or etcd, store.c) and serves its interface as the HTTP API of
 * api.c with libmicrohttpd, a thread per connection. Each connection has
 * its own store handle: SQLite's watch notices commits of other
 * connections only (PRAGMA data_version), and etcd's watch stream stays
 * open between one client's long polls. A long poll waits in slices, so a
 * stop never waits for one to end. */
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/buf.h"
#include "cloudlet/parse.h"
#include "cloudlet/sdn.h"

#define BODY_MAX (32u << 20)    /* a desired state this big is not ours */
#define SLICE_MS 250

struct sdn_server {
	struct MHD_Daemon *d;
	char url[512];
	volatile int stopping;
};

struct conn {
	struct sdn_store *st;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *json)
{
	if (!json)
		return MHD_NO;
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(json), json, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(json);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result fail(struct MHD_Connection *c, const struct cl_error *e)
{
	return reply(c, sdn_api_status(e->code), sdn_api_error_to_json(e->msg));
}

static int serve_watch(struct sdn_server *srv, struct sdn_store *st, const struct sdn_api_req *rq,
		       struct sdn_watch *w, struct cl_error *err)
{
	unsigned left = rq->timeout_ms;
	for (;;) {
		unsigned t = left > SLICE_MS ? SLICE_MS : left;
		int r = st->ops->watch(st, rq->key, rq->after, t, w, err);
		if (r < 0 || w->n || w->compacted || (left -= t) == 0 || srv->stopping)
			return r;
		sdn_watch_free(w);
	}
}

static enum MHD_Result serve(struct sdn_server *srv, struct MHD_Connection *c, struct sdn_store *st,
			     const struct sdn_api_req *rq)
{
	struct cl_error e = { 0 };
	struct sdn_kv *kvs = NULL;
	size_t n = 0;
	int64_t rev = 0;
	char *out = NULL;
	int r = 0;
	switch (rq->call) {
	case SDN_API_HEALTH: {
		struct sdn_status s = { .schema = 0 };
		if ((r = st->ops->get(st, "/cloudlet/schema", &kvs, &n, &s.rev, &e)) < 0)
			break;
		snprintf(s.url, sizeof(s.url), "%s", st->url);
		snprintf(s.cluster, sizeof(s.cluster), "%s", st->cluster);
		if (n)
			s.schema = strtol(kvs[0].value, NULL, 10);
		out = sdn_api_health_to_json(&s);
		break;
	}
	case SDN_API_RANGE:
		if ((r = st->ops->get(st, rq->key, &kvs, &n, &rev, &e)) == 0)
			out = sdn_api_kvs_to_json(kvs, n, rev);
		break;
	case SDN_API_CAS:
		r = st->ops->cas(st, rq->key, rq->value, rq->expect, &rev, &e);
		if (r == 0 || r == -EAGAIN)
			out = sdn_api_rev_to_json(rev, r == 0);
		if (r == -EAGAIN)
			r = 0;
		break;
	case SDN_API_WATCH: {
		struct sdn_watch w;
		if ((r = serve_watch(srv, st, rq, &w, &e)) == 0) {
			out = sdn_api_watch_to_json(&w);
			sdn_watch_free(&w);
		}
		break;
	}
	case SDN_API_COMPACT:
		if ((r = st->ops->compact(st, rq->rev, &e)) == 0)
			out = sdn_api_rev_to_json(rq->rev, -1);
		break;
	}
	sdn_kvs_free(kvs, n);
	if (r < 0)
		return fail(c, &e);
	return reply(c, 200, out);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *data, size_t *data_size, void **con_cls)
{
	struct sdn_server *srv = cls;
	struct cl_buf *u = *con_cls;
	struct cl_error e = { 0 };
	(void)version;
	if (!u) {
		if (!(u = calloc(1, sizeof(*u))))
			return MHD_NO;
		*con_cls = u;
		return MHD_YES;
	}
	if (*data_size) {
		if (cl_buf_append(u, data, *data_size, BODY_MAX) == -ENOMEM)
			return MHD_NO;
		*data_size = 0;
		return MHD_YES;
	}
	if (u->over) {
		cl_err(&e, EINVAL, "%.200s: a body over %u bytes", url, BODY_MAX);
		return fail(c, &e);
	}
	struct sdn_api_req rq;
	if (sdn_api_req_parse(method, url, u->p, &rq, &e) < 0)
		return fail(c, &e);
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *cn = ci ? ci->socket_context : NULL;
	enum MHD_Result ret;
	if (!cn)
		ret = MHD_NO;
	else if (!cn->st && sdn_store_open(srv->url, &cn->st, &e) < 0)
		ret = fail(c, &e);
	else
		ret = serve(srv, c, cn->st, &rq);
	sdn_api_req_free(&rq);
	return ret;
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

static void notify(void *cls, struct MHD_Connection *c, void **socket_context, enum MHD_ConnectionNotificationCode t)
{
	struct conn *cn = *socket_context;
	(void)cls;
	(void)c;
	if (t == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = calloc(1, sizeof(struct conn));
	} else if (cn) {
		sdn_store_close(cn->st);
		free(cn);
		*socket_context = NULL;
	}
}

int sdn_server_start(const char *url, const char *listen, struct sdn_server **out, struct cl_error *err)
{
	struct sockaddr_in sa;
	struct sdn_store *st;
	struct sdn_state s;
	int r;
	if (cl_parse_ipv4_port(listen, &sa, err) < 0)
		return -EINVAL;
	if (url && !strncmp(url, "http://", 7))
		return cl_err(err, EINVAL, "--store %.200s: a controller cannot be its own store (sqlite:PATH or "
			      "etcd:http://HOST:PORT)", url);
	/* reachable, and of a schema this cloudlet knows */
	if ((r = sdn_store_open(url, &st, err)) < 0)
		return r;
	r = sdn_state_load(st, &s, err);
	sdn_store_close(st);
	if (r < 0)
		return r;
	sdn_state_free(&s);
	struct sdn_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return cl_err(err, ENOMEM, "out of memory");
	snprintf(srv->url, sizeof(srv->url), "%s", url);
	srv->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
				  ntohs(sa.sin_port), NULL, NULL, handle, srv, MHD_OPTION_SOCK_ADDR, &sa,
				  MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_NOTIFY_CONNECTION, notify, NULL,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(SDN_API_WATCH_MAX_MS / 1000 + 30),
				  MHD_OPTION_END);
	if (!srv->d) {
		free(srv);
		return cl_err(err, EADDRINUSE, "controller: cannot listen on %s (in use, or not an address of "
			      "this machine)", listen);
	}
	*out = srv;
	return 0;
}

void sdn_server_stop(struct sdn_server *srv)
{
	if (!srv)
		return;
	srv->stopping = 1;
	MHD_stop_daemon(srv->d);
	free(srv);
}
