/* `cloudlet fn`: serverless functions (fn/). */
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cloudlet/crun.h"
#include "cloudlet/file.h"
#include "cloudlet/fn.h"
#include "cloudlet/net.h"
#include "cloudlet/proc.h"

static const char *root_of(const struct cli_args *a)
{
	return a->root ? a->root : crun_default_root();
}

static int strv_dup(const struct cli_val *v, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!v->nlist)
		return 0;
	if (!(*out = calloc(v->nlist, sizeof(**out))))
		return -ENOMEM;
	for (size_t i = 0; i < v->nlist; i++) {
		if (!((*out)[i] = strdup(v->list[i])))
			return -ENOMEM;
		(*n)++;
	}
	return 0;
}

static int fn_deploy_cmd(const struct cli_args *a, struct cl_error *err)
{
	struct fn_spec s = { 0 };
	const struct cli_val *v;
	int r;
	if (strlen(a->pos[0]) > FN_NAME_MAX)
		return cl_err(err, EINVAL, "fn deploy: function name '%.80s': at most %d characters", a->pos[0],
			      FN_NAME_MAX);
	snprintf(s.name, sizeof(s.name), "%s", a->pos[0]);
	if ((r = fn_kind_parse(cli_str(a, "kind", "ct"), &s.kind, err)) < 0)
		return cl_err_wrap(err, "fn deploy: --kind");
	s.memory = cli_num(a, "memory", FN_DEFAULT_MEMORY);
	s.timeout_ms = cli_num(a, "timeout", FN_DEFAULT_TIMEOUT_MS);
	s.idle_ttl_ms = cli_num(a, "idle-ttl", FN_DEFAULT_IDLE_TTL_MS);
	/* CLI_UINT values beyond unsigned are out of range anyway */
	uint64_t c = cli_num(a, "concurrency", FN_DEFAULT_CONCURRENCY), w = cli_num(a, "min-warm", 0),
		 q = cli_num(a, "queue", FN_DEFAULT_QUEUE);
	s.concurrency = c > UINT_MAX ? UINT_MAX : (unsigned)c;
	s.min_warm = w > UINT_MAX ? UINT_MAX : (unsigned)w;
	s.queue = q > UINT_MAX ? UINT_MAX : (unsigned)q;
	if ((v = cli_opt(a, "timeout"))->set && !v->num)
		return cl_err(err, EINVAL, "fn deploy: --timeout %s: must be more than 0", v->str);
	if (!(s.image = strdup(cli_str(a, "image", ""))) || !(s.handler = strdup(cli_str(a, "handler", ""))) ||
	    ((v = cli_opt(a, "net"))->set && !(s.net = strdup(v->str))) ||
	    strv_dup(cli_opt(a, "sg"), &s.sgs, &s.nsgs) < 0 || strv_dup(cli_opt(a, "env"), &s.env, &s.nenv) < 0) {
		fn_spec_free(&s);
		return cl_err(err, ENOMEM, "out of memory");
	}
	r = fn_deploy(root_of(a), &s, err);
	fn_spec_free(&s);
	return r < 0 ? cl_err_wrap(err, "fn deploy") : 0;
}

static int fn_ls(const struct cli_args *a, struct cl_error *err)
{
	char **names;
	size_t n;
	int r = fn_list(root_of(a), &names, &n, err);
	if (r < 0)
		return cl_err_wrap(err, "fn ls");
	printf("%-20s %-4s %-10s %-8s %-8s %s\n", "NAME", "KIND", "NET", "MEMORY", "TIMEOUT", "HANDLER");
	for (size_t i = 0; i < n; i++) {
		struct fn_spec s;
		struct cl_error e = { 0 };
		if (fn_get(root_of(a), names[i], &s, &e) < 0) {
			printf("%-20s (%s)\n", names[i], e.msg);
		} else {
			printf("%-20s %-4s %-10s %-8llu %-8.1f %s\n", s.name, fn_kind_name(s.kind), s.net,
			       (unsigned long long)(s.memory >> 20), (double)s.timeout_ms / 1000, s.handler);
			fn_spec_free(&s);
		}
		free(names[i]);
	}
	free(names);
	return 0;
}

static int64_t jint(struct json_object *o, const char *k)
{
	struct json_object *f;
	return json_object_object_get_ex(o, k, &f) ? json_object_get_int64(f) : 0;
}

/* one serving process's snapshot (ROOT/fn/NAME/instances-PID.json), if it lives */
static void show_server(const char *path, bool *header)
{
	struct json_object *o, *arr, *f;
	char *text = NULL;
	if (cl_text_read(path, 1 << 20, &text, NULL) < 0)
		return;
	o = json_tokener_parse(text);
	free(text);
	if (!o)
		return;
	if (!cl_pid_alive((pid_t)jint(o, "server_pid"), (unsigned long long)jint(o, "server_start"))) {
		json_object_put(o);
		return;
	}
	printf("server %lld: invocations: %lld (cold %lld, warm %lld)\n", (long long)jint(o, "server_pid"),
	       (long long)jint(o, "invocations"), (long long)jint(o, "cold"), (long long)jint(o, "warm"));
	if (!*header)
		printf("%-28s %-9s %-8s %s\n", "INSTANCE", "STATE", "AGE", "INVOCATIONS");
	*header = true;
	if (json_object_object_get_ex(o, "instances", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *e = json_object_array_get_idx(arr, i);
			const char *id = json_object_object_get_ex(e, "id", &f) ? json_object_get_string(f) : "?";
			const char *st = json_object_object_get_ex(e, "state", &f) ? json_object_get_string(f) : "?";
			long long age = (long long)time(NULL) - jint(e, "created");
			printf("%-28s %-9s %-8lld %lld\n", id, st, age < 0 ? 0 : age, (long long)jint(e, "invocations"));
		}
	json_object_put(o);
}

static int fn_show(const struct cli_args *a, struct cl_error *err)
{
	struct fn_spec s;
	char dir[PATH_MAX], path[PATH_MAX];
	if (fn_get(root_of(a), a->pos[0], &s, err) < 0)
		return cl_err_wrap(err, "fn show");
	printf("name:        %s\nkind:        %s\nimage:       %s\nhandler:     %s\nnet:         %s\n"
	       "memory:      %llu MiB\ntimeout:     %llu ms\nconcurrency: %u\nmin-warm:    %u\n"
	       "idle-ttl:    %llu ms\nqueue:       %u\n",
	       s.name, fn_kind_name(s.kind), s.image, s.handler, s.net, (unsigned long long)(s.memory >> 20),
	       (unsigned long long)s.timeout_ms, s.concurrency, s.min_warm, (unsigned long long)s.idle_ttl_ms,
	       s.queue);
	for (size_t i = 0; i < s.nenv; i++)
		printf("env:         %s\n", s.env[i]);
	for (size_t i = 0; i < s.nsgs; i++)
		printf("sg:          %s\n", s.sgs[i]);
	snprintf(dir, sizeof(dir), "%s/fn/%s", root_of(a), s.name);
	fn_spec_free(&s);
	bool header = false;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, "instances-", 10) &&
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
			show_server(path, &header);
	if (d)
		closedir(d);
	if (!header)
		printf("instances:   none (no server running)\n");
	return 0;
}

static int fn_rm(const struct cli_args *a, struct cl_error *err)
{
	return fn_remove(root_of(a), a->pos[0], err) < 0 ? cl_err_wrap(err, "fn rm") : 0;
}

static int fn_logs(const struct cli_args *a, struct cl_error *err)
{
	struct fn_spec s;
	char path[PATH_MAX], *text = NULL;
	if (fn_get(root_of(a), a->pos[0], &s, err) < 0)
		return cl_err_wrap(err, "fn logs");
	fn_spec_free(&s);
	snprintf(path, sizeof(path), "%s/fn/%s/log", root_of(a), a->pos[0]);
	int r = cl_text_read(path, 64u << 20, &text, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return cl_err_wrap(err, "fn logs");
	fputs(text, stdout);
	free(text);
	return 0;
}


/* `fn invoke`: through the running gateway (`fn serve`, its warm pool),
 * else with a pool of its own in this process — an instance started for
 * this one call (cold) and stopped after it. */
static int fn_invoke(const struct cli_args *a, struct cl_error *err)
{
	const char *data = cli_str(a, "data", "");
	char exe[PATH_MAX];
	uint8_t *body = NULL;
	size_t len = strlen(data);
	struct fn_pool *p;
	struct fn_result res;
	int r;
	if (data[0] == '@') {
		if ((r = cl_file_read(data + 1, FN_BODY_MAX, &body, &len, err)) < 0)
			return cl_err_wrap(err, "fn invoke: --data");
	}
	char gw[256];
	const char *ev = body ? (const char *)body : data;
	if (fn_gateway_find(root_of(a), gw, sizeof(gw)) == 0) {
		r = fn_gateway_invoke(gw, a->pos[0], ev, len, &res, err);
	} else {
		if ((r = cli_self_path(exe, sizeof(exe), err)) < 0 ||
		    (r = fn_pool_open(root_of(a), exe, &p, err)) < 0) {
			free(body);
			return cl_err_wrap(err, "fn invoke");
		}
		r = fn_pool_invoke(p, a->pos[0], ev, len, &res, err);
		fn_pool_close(p);
	}
	free(body);
	if (r < 0)
		return cl_err_wrap(err, "fn invoke");
	if (res.out)
		fwrite(res.out, 1, res.out_len, stdout);
	fflush(stdout);
	fprintf(stderr, "fn invoke: %s %s status=%d http=%u create=%.1fms start=%.1fms handler=%.1fms total=%.1fms\n",
		res.cold ? "cold" : "warm", fn_outcome_name(res.outcome), res.status,
		fn_http_status(res.outcome), (double)res.create_ns / 1e6, (double)res.start_ns / 1e6,
		(double)res.handler_ns / 1e6, (double)res.total_ns / 1e6);
	if (res.outcome != FN_OK && res.err_tail && res.err_tail[0])
		fputs(res.err_tail, stderr);
	enum fn_outcome o = res.outcome;
	fn_result_free(&res);
	return o == FN_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* A long-running pool (fn serve, fn trigger): SIGINT/SIGTERM blocked
 * before any thread exists, so every thread inherits the mask and only
 * pool_wait's sigtimedwait takes them. */
static int pool_begin(const struct cli_args *a, sigset_t *set, struct fn_pool **p, struct cl_error *err)
{
	char exe[PATH_MAX];
	int r;
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	if ((r = cli_self_path(exe, sizeof(exe), err)) < 0)
		return r;
	return fn_pool_open(root_of(a), exe, p, err);
}

/* the pool's reaping and pre-warming ticks until a stop signal */
static void pool_wait(struct fn_pool *p, const sigset_t *set)
{
	struct timespec tick = { 0, 200000000 };
	while (sigtimedwait(set, NULL, &tick) < 0)
		fn_pool_tick(p);
}

/* `fn serve`: the gateway until SIGINT/SIGTERM */
static int fn_serve(const struct cli_args *a, struct cl_error *err)
{
	const char *addr = cli_str(a, "listen", "127.0.0.1:8080");
	struct fn_pool *p;
	struct fn_gateway *g;
	sigset_t set;
	if (pool_begin(a, &set, &p, err) < 0)
		return cl_err_wrap(err, "fn serve");
	if (fn_gateway_start(p, addr, &g, err) < 0) {
		fn_pool_close(p);
		return cl_err_wrap(err, "fn serve");
	}
	/* `fn invoke` finds it there */
	if (fn_gateway_record(root_of(a), addr, true, err) < 0) {
		fn_gateway_stop(g);
		fn_pool_close(p);
		return cl_err_wrap(err, "fn serve");
	}
	printf("fn serve: listening on http://%s\n", addr);
	fflush(stdout);
	pool_wait(p, &set);
	fn_gateway_record(root_of(a), addr, false, NULL);
	fn_gateway_stop(g);
	fn_pool_close(p);
	return 0;
}

/* `fn trigger`: an MQTT subscription invoking the function, with a pool
 * of its own, until SIGINT/SIGTERM */
static int fn_trigger(const struct cli_args *a, struct cl_error *err)
{
	struct fn_trigger_opts o = {
		.function = a->pos[0],
		.topic = cli_str(a, "mqtt", ""),
		.broker = cli_str(a, "broker", "127.0.0.1:1883"),
		.dead_letter = cli_str(a, "dead-letter", NULL),
		.max_attempts = (unsigned)cli_num(a, "attempts", 3),
		.retry_base_ms = cli_num(a, "retry-delay", 200),
	};
	struct fn_pool *p;
	struct fn_trigger *t;
	sigset_t set;
	if (pool_begin(a, &set, &p, err) < 0)
		return cl_err_wrap(err, "fn trigger");
	if (fn_trigger_start(p, &o, &t, err) < 0) {
		fn_pool_close(p);
		return cl_err_wrap(err, "fn trigger %s", o.function);
	}
	printf("fn trigger: %s <- mqtt %s (broker %s)\n", o.function, o.topic, o.broker);
	fflush(stdout);
	pool_wait(p, &set);
	fn_trigger_stop(t);
	fn_pool_close(p);
	return 0;
}

static const struct cli_opt fn_trigger_opts[] = {
	{ "mqtt", 0, CLI_STR, "TOPIC", "subscribe to TOPIC (QoS 1); one invocation per message", true },
	{ "broker", 0, CLI_STR, "HOST:PORT", "MQTT broker (default 127.0.0.1:1883)", false },
	{ "dead-letter", 0, CLI_STR, "TOPIC", "where failed messages go (default TOPIC/dead-letter)", false },
	{ "attempts", 0, CLI_UINT, "N", "invocations per message before the dead letter (default 3)", false },
	{ "retry-delay", 0, CLI_DURATION, "DURATION", "first retry delay, doubling (default 200ms)", false },
	{ 0 },
};

static const struct cli_opt fn_deploy_opts[] = {
	{ "image", 0, CLI_STR, "IMAGE", "OCI image layout holding the function", true },
	{ "handler", 0, CLI_STR, "'CMD ARGS'", "command run per invocation (by /bin/sh -c)", true },
	{ "kind", 0, CLI_STR, "ct|vm", "container or microVM (default ct)", false },
	{ "memory", 0, CLI_SIZE, "SIZE", "memory per instance (default 128M)", false },
	{ "timeout", 0, CLI_DURATION, "DURATION", "per-invocation limit, queueing included (default 30s)", false },
	{ "concurrency", 0, CLI_UINT, "N", "maximum instances (default 10)", false },
	{ "min-warm", 0, CLI_UINT, "N", "instances kept warm (default 0)", false },
	{ "idle-ttl", 0, CLI_DURATION, "DURATION", "reap idle instances after (default 60s)", false },
	{ "queue", 0, CLI_UINT, "N", "requests waiting for an instance at most, then 429 (default 100)", false },
	{ "net", 0, CLI_STR, "VPC/SUBNET", "the subnet instances are attached to", true },
	{ "sg", 0, CLI_LIST, "SG", "security group (default: the VPC's default)", false },
	{ "env", 'e', CLI_LIST, "K=V", "environment variable", false },
	{ 0 },
};
static const struct cli_opt fn_invoke_opts[] = {
	{ "data", 0, CLI_STR, "@FILE|STR", "request body", false },
	{ 0 },
};
static const struct cli_opt fn_serve_opts[] = {
	{ "listen", 0, CLI_STR, "IPV4:PORT", "gateway address (default 127.0.0.1:8080)", false },
	{ 0 },
};
static const struct cli_opt fn_none[] = { { 0 } };

const struct cli_cmd cli_fn_cmds[] = {
	{ "deploy", "NAME", "deploy a function", fn_deploy_opts, 1, 1, false, fn_deploy_cmd, NULL,
	  "The image must hold the handler's command; instances are containers\n"
	  "(--kind ct) on the subnet, in its security groups plus " FN_INVOKE_SG ",\n"
	  "which lets the gateway reach the in-guest runtime (port 7070)." },
	{ "ls", "", "list functions", fn_none, 0, 0, false, fn_ls, NULL, NULL },
	{ "show", "NAME", "instances and invocation counts", fn_none, 1, 1, false, fn_show, NULL, NULL },
	{ "invoke", "NAME", "invoke a function once (a cold instance of its own)", fn_invoke_opts, 1, 1, false,
	  fn_invoke, NULL, NULL },
	{ "logs", "NAME", "show a function's logs", fn_none, 1, 1, false, fn_logs, NULL, NULL },
	{ "rm", "NAME", "remove a function", fn_none, 1, 1, false, fn_rm, NULL, NULL },
	{ "trigger", "NAME", "invoke a function per MQTT message", fn_trigger_opts, 1, 1, false, fn_trigger,
	  NULL, NULL },
	{ "serve", "", "the HTTP gateway: POST /fn/NAME, GET /metrics", fn_serve_opts, 0, 0, false, fn_serve,
	  NULL, NULL },
	{ 0 },
};
