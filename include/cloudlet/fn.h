/* fn/: serverless functions behind `cloudlet fn` (issue #11).
 *
 * A deployment (store.c) is a JSON record ROOT/fn/NAME.json: the image, the
 * handler, the kind of instance (container or microVM) and the limits.
 * Instances (instance.c) are started through the existing launchers — a
 * foreground `cloudlet ct run` or `cloudlet vm run` child of the serving
 * process, attached to the function's subnet — and run the in-guest runtime
 * /bin/clfn (images/rootfs/tools/clfn.c), which serves one invocation at a
 * time over TCP on the instance's VPC address, port FN_RUNTIME_PORT,
 * reached from inside the VPC's network namespace (fn_proto.h is the wire
 * format). The pool (pool.c) keeps warm instances per function, scales out
 * up to the concurrency, queues requests while instances start and reaps
 * idle ones; every decision it takes is a pure function here (sched.c,
 * unit-tested). The gateway (gateway.c, libmicrohttpd) and the MQTT trigger
 * (trigger.c, libmosquitto) deliver events to the pool.
 *
 * Errors: 0 or -errno and one line in struct cl_error; nothing here prints. */
#ifndef CLOUDLET_FN_H
#define CLOUDLET_FN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloudlet/bench.h"
#include "cloudlet/error.h"

#define FN_NAME_MAX 40                  /* instance names "fn-NAME-xxxxxxxx" stay <= 63 */
#define FN_RUNTIME_PORT 7070            /* clfn's listening port in every instance */
#define FN_INVOKE_SG "fn-invoke"        /* the VPC security group letting the gateway in */
#define FN_DEFAULT_MEMORY (128ull << 20)
#define FN_MIN_MEMORY (16ull << 20)
#define FN_DEFAULT_TIMEOUT_MS 30000ull
#define FN_MAX_TIMEOUT_MS 900000ull     /* 15 minutes, as AWS Lambda */
#define FN_DEFAULT_CONCURRENCY 10u
#define FN_MAX_CONCURRENCY 100u
#define FN_DEFAULT_IDLE_TTL_MS 60000ull
#define FN_DEFAULT_QUEUE 100u
#define FN_MAX_QUEUE 10000u
#define FN_BODY_MAX (6u << 20)          /* request and response bodies: Lambda's 6 MB */
#define FN_STDERR_TAIL 2048u            /* what a 502 quotes of a handler's stderr */

enum fn_kind { FN_CT, FN_VM };

struct fn_spec {
	char name[FN_NAME_MAX + 1];
	enum fn_kind kind;
	char *image;              /* OCI layout (ct) / kernel image directory (vm) */
	char *handler;            /* run by /bin/sh -c in the instance */
	uint64_t memory;          /* bytes */
	uint64_t timeout_ms;      /* the whole invocation, queueing included */
	unsigned concurrency;     /* instances at most */
	unsigned min_warm;        /* instances kept started */
	uint64_t idle_ttl_ms;     /* an idle instance older than this is reaped */
	unsigned queue;           /* requests waiting at most (then 429) */
	char *net;                /* "VPC/SUBNET" */
	char **sgs;               /* security groups (none: the VPC's default) */
	size_t nsgs;
	char **env;               /* K=V */
	size_t nenv;
	int64_t created;          /* unix seconds */
};

void fn_spec_free(struct fn_spec *s);
const char *fn_kind_name(enum fn_kind k);
int fn_kind_parse(const char *s, enum fn_kind *k, struct cl_error *err);
/* The handler's command word to look for in the image: 1 and cmd filled,
 * or 0 when the shell runs it itself (a built-in, a reserved word, an
 * assignment or expansion): then only /bin/sh is needed. */
int fn_handler_command(const char *handler, char *cmd, size_t len);
/* Pure checks of a spec's values (name, limits, env syntax, net ref). */
int fn_spec_check(const struct fn_spec *s, struct cl_error *err);

/* ---- store.c: ROOT/fn/NAME.json ---- */

char *fn_spec_to_json(const struct fn_spec *s);   /* malloc'd; NULL: out of memory */
int fn_spec_from_json(const char *json, const char *what, struct fn_spec *s, struct cl_error *err);
/* Check, verify the image and handler exist, open the invocation path in
 * the VPC (security group FN_INVOKE_SG), write the record; -EEXIST if the
 * name is taken. */
int fn_deploy(const char *root, struct fn_spec *s, struct cl_error *err);
int fn_get(const char *root, const char *name, struct fn_spec *s, struct cl_error *err);
/* Names of every deployment, sorted; *names malloc'd (free each and it). */
int fn_list(const char *root, char ***names, size_t *n, struct cl_error *err);
/* Remove the record and its log directory. */
int fn_remove(const char *root, const char *name, struct cl_error *err);
/* ROOT/fn/NAME/ (created on demand): log, instances snapshot */
int fn_dir(const char *root, const char *name, char *buf, size_t len, struct cl_error *err);

/* ---- sched.c: the pool's decisions, pure ---- */

enum fn_inst_state { FN_I_STARTING, FN_I_IDLE, FN_I_BUSY, FN_I_STOPPING };

struct fn_sched_inst {
	enum fn_inst_state state;
	uint64_t last_used_ns;    /* monotonic: when it last became idle (or started) */
};

enum fn_sched_action {
	FN_SERVE,     /* use instance *idx */
	FN_START,     /* start a new instance for this request */
	FN_WAIT,      /* wait for one to become idle or to finish starting */
};

/* A request arrives or wakes up: serve on the most recently used idle
 * instance (so the rest age towards reaping), else start one if fewer
 * than `concurrency` exist (the starter is served by the instance it
 * starts), else wait for one to become idle. */
enum fn_sched_action fn_sched_pick(const struct fn_sched_inst *in, size_t n, unsigned concurrency,
				   size_t *idx);
/* May one more request wait? (queue bound: else 429) */
bool fn_sched_admit(unsigned waiting, unsigned queue_max);
/* Idle instances to reap at `now`: idle for longer than ttl, oldest first,
 * keeping min_warm instances alive. Writes up to `max` indexes into out;
 * returns how many. */
size_t fn_sched_reap(const struct fn_sched_inst *in, size_t n, uint64_t now_ns, uint64_t ttl_ns,
		     unsigned min_warm, size_t *out, size_t max);
/* How many instances to start now to keep min_warm (starting ones count). */
unsigned fn_sched_prewarm(const struct fn_sched_inst *in, size_t n, unsigned min_warm,
			  unsigned concurrency);

/* How one invocation ended, and its HTTP status. */
enum fn_outcome {
	FN_OK,           /* handler exited 0: 200 with its stdout */
	FN_HANDLER_FAIL, /* exited non-zero or was killed: 502 */
	FN_INST_LOST,    /* the instance died under it: 502 */
	FN_START_FAIL,   /* no instance could be started: 503 */
	FN_TIMEOUT,      /* the deadline passed: 504 */
	FN_QUEUE_FULL,   /* 429 */
	FN_NOT_FOUND,    /* 404 */
	FN_TOO_LARGE,    /* request body over FN_BODY_MAX: 413 */
	FN_BAD_METHOD,   /* 405 */
};
unsigned fn_http_status(enum fn_outcome o);
const char *fn_outcome_name(enum fn_outcome o);

/* Trigger retries: after failed attempt `attempt` (1-based) of at most
 * `max_attempts`, retry after *delay_ms (exponential from base, capped),
 * or (false) give up and publish to the dead-letter topic. */
bool fn_retry_next(unsigned attempt, unsigned max_attempts, uint64_t base_ms, uint64_t cap_ms,
		   uint64_t *delay_ms);

/* ---- pool.c: instances of the deployed functions, in one process ---- */

struct fn_pool;

struct fn_result {
	enum fn_outcome outcome;
	bool cold;                /* served by an instance started for it */
	int status;               /* handler exit status (128+N: signal N) */
	char *out;                /* handler stdout (malloc'd) */
	size_t out_len;
	char *err_tail;           /* last FN_STDERR_TAIL bytes of its stderr */
	char instance[64];
	uint64_t queue_ns, create_ns, start_ns, handler_ns, total_ns;
};
void fn_result_free(struct fn_result *r);

/* A pool serving the functions under root; exe is the cloudlet binary
 * the launchers are run from. Reaps instances left by a previous server. */
int fn_pool_open(const char *root, const char *exe, struct fn_pool **p, struct cl_error *err);
/* Invoke: blocks until done; returns 0 with res filled (outcome may be a
 * failure), -errno only for an unknown function (-ENOENT) or a bad record. */
int fn_pool_invoke(struct fn_pool *p, const char *name, const void *body, size_t len,
		   struct fn_result *res, struct cl_error *err);
/* One reaping/pre-warming pass (the server calls it periodically). */
void fn_pool_tick(struct fn_pool *p);
const char *fn_pool_root(const struct fn_pool *p);
/* Stop the function's idle instances now (the next call is cold). */
void fn_pool_drain(struct fn_pool *p, const char *name);
/* Stop every instance and free the pool. */
void fn_pool_close(struct fn_pool *p);
/* Prometheus text exposition of the counters and histograms (malloc'd). */
char *fn_pool_metrics(struct fn_pool *p);

/* ---- gateway.c ---- */

struct fn_gateway;
/* Serve POST /fn/NAME and GET /metrics on addr ("127.0.0.1:8080"). */
int fn_gateway_start(struct fn_pool *p, const char *addr, struct fn_gateway **g,
		     struct cl_error *err);
void fn_gateway_stop(struct fn_gateway *g);

/* ---- client.c: `fn invoke` through a running gateway (libcurl) ---- */

/* ROOT/fn/gateway.json: where the serving process listens (up), or gone. */
int fn_gateway_record(const char *root, const char *addr, bool up, struct cl_error *err);
/* The live gateway's address into addr; -ENOENT if none runs. */
int fn_gateway_find(const char *root, char *addr, size_t len);
/* POST the event to it; res as fn_pool_invoke's (the body of a failure in
 * err_tail), -ENOENT for an unknown function. */
int fn_gateway_invoke(const char *addr, const char *name, const void *body, size_t len,
		      struct fn_result *res, struct cl_error *err);

/* ---- bench.c: `cloudlet bench fn` ---- */

enum { FN_BENCH_TOTAL, FN_BENCH_CREATE, FN_BENCH_START, FN_BENCH_HANDLER };
struct fn_bench_opts {
	const char *exe;                  /* the cloudlet binary (the launchers) */
	const char *ct_image, *vm_image;  /* NULL: that kind is not measured */
	unsigned runs;                    /* cold invocations (and warm ones, x10) */
	unsigned tput_count;              /* invocations per throughput measurement */
	unsigned concurrency;             /* the second throughput measurement's */
	void (*progress)(void *ctx, const char *line);
	void *ctx;
};
struct fn_bench_kind {
	const char *name;                 /* "ct", "vm" */
	struct bench_series cold, warm;   /* metrics FN_BENCH_*, ms */
	double tput[2];                   /* invocations/s at concurrency 1 and N */
	unsigned tput_failed[2];
};
/* In a state root and VPC of its own (removed after), deploy the same
 * function (`cat`) per kind; per kind: `runs` cold invocations (every
 * instance stopped before each), 10 x runs warm ones, then throughput at
 * concurrency 1 and o->concurrency on warm instances. */
int fn_bench_run(const struct fn_bench_opts *o, struct fn_bench_kind *k, size_t *nk, struct cl_error *err);

/* ---- trigger.c ---- */

struct fn_trigger_opts {
	const char *function, *topic;
	const char *broker;                       /* "HOST:PORT"; NULL: 127.0.0.1:1883 */
	const char *dead_letter;                  /* NULL: TOPIC/dead-letter */
	unsigned max_attempts;                    /* invocations per message at most */
	uint64_t retry_base_ms;                   /* first retry delay, doubling */
};
struct fn_trigger;
/* Subscribe (QoS 1, persistent session) and invoke the function once per
 * message in a thread of libmosquitto's, until fn_trigger_stop. */
int fn_trigger_start(struct fn_pool *p, const struct fn_trigger_opts *o, struct fn_trigger **t,
		     struct cl_error *err);
void fn_trigger_stop(struct fn_trigger *t);

#endif
