/* fn/: the scheduler's decisions, HTTP status mapping, retry/dead-letter
 * policy, deployment checks and records, the runtime wire format. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/fn.h"
#include "cloudlet/fn_proto.h"

#define S(st, t) { .state = (st), .last_used_ns = (t) }

Test(fn_sched, empty_pool_starts_cold)
{
	size_t idx = 99;
	cr_assert_eq(fn_sched_pick(NULL, 0, 10, &idx), FN_START);
	cr_assert_eq(idx, 99);
}

Test(fn_sched, warm_instance_serves_most_recent_first)
{
	struct fn_sched_inst in[] = { S(FN_I_IDLE, 100), S(FN_I_BUSY, 500), S(FN_I_IDLE, 300),
				      S(FN_I_STARTING, 0) };
	size_t idx = 0;
	cr_assert_eq(fn_sched_pick(in, 4, 10, &idx), FN_SERVE);
	cr_assert_eq(idx, 2, "LIFO: the most recently used idle instance");
}

Test(fn_sched, scale_out_only_when_all_busy_and_under_concurrency)
{
	struct fn_sched_inst in[] = { S(FN_I_BUSY, 1), S(FN_I_STARTING, 0), S(FN_I_BUSY, 2) };
	size_t idx;
	cr_assert_eq(fn_sched_pick(in, 3, 4, &idx), FN_START);
	cr_assert_eq(fn_sched_pick(in, 3, 3, &idx), FN_WAIT, "at the concurrency: wait");
	/* stopping instances do not count against the concurrency */
	struct fn_sched_inst in2[] = { S(FN_I_BUSY, 1), S(FN_I_STOPPING, 0) };
	cr_assert_eq(fn_sched_pick(in2, 2, 2, &idx), FN_START);
	struct fn_sched_inst in3[] = { S(FN_I_STOPPING, 9) };
	cr_assert_eq(fn_sched_pick(in3, 1, 1, &idx), FN_START, "a stopping instance never serves");
}

Test(fn_sched, queue_bound)
{
	cr_assert(fn_sched_admit(0, 1));
	cr_assert_not(fn_sched_admit(1, 1));
	cr_assert(fn_sched_admit(99, 100));
	cr_assert_not(fn_sched_admit(100, 100));
}

Test(fn_sched, reap_idle_past_ttl_oldest_first)
{
	const uint64_t s = 1000000000ull;
	struct fn_sched_inst in[] = { S(FN_I_IDLE, 50 * s), S(FN_I_IDLE, 10 * s), S(FN_I_BUSY, 1 * s),
				      S(FN_I_IDLE, 95 * s), S(FN_I_IDLE, 30 * s) };
	size_t out[8];
	/* now 100 s, ttl 60 s: idle since 10 s and 30 s are past it (90, 70 s) */
	size_t n = fn_sched_reap(in, 5, 100 * s, 60 * s, 0, out, 8);
	cr_assert_eq(n, 2);
	cr_assert_eq(out[0], 1);
	cr_assert_eq(out[1], 4);
	/* exactly at the ttl: kept */
	cr_assert_eq(fn_sched_reap(in, 5, 70 * s, 60 * s, 0, out, 8), 0);
	/* never a busy one, whatever its age */
	struct fn_sched_inst busy[] = { S(FN_I_BUSY, 0) };
	cr_assert_eq(fn_sched_reap(busy, 1, 100 * s, 1, 0, out, 8), 0);
}

Test(fn_sched, reap_keeps_min_warm)
{
	const uint64_t s = 1000000000ull;
	struct fn_sched_inst in[] = { S(FN_I_IDLE, 1 * s), S(FN_I_IDLE, 2 * s), S(FN_I_IDLE, 3 * s) };
	size_t out[8];
	size_t n = fn_sched_reap(in, 3, 100 * s, 10 * s, 2, out, 8);
	cr_assert_eq(n, 1, "three idle, min-warm 2: one goes");
	cr_assert_eq(out[0], 0, "the oldest");
	cr_assert_eq(fn_sched_reap(in, 3, 100 * s, 10 * s, 3, out, 8), 0);
	cr_assert_eq(fn_sched_reap(in, 3, 100 * s, 10 * s, 0, out, 2), 2, "bounded by max");
}

Test(fn_sched, prewarm)
{
	struct fn_sched_inst in[] = { S(FN_I_IDLE, 1), S(FN_I_STOPPING, 0) };
	cr_assert_eq(fn_sched_prewarm(in, 2, 3, 10), 2);
	cr_assert_eq(fn_sched_prewarm(in, 2, 1, 10), 0);
	cr_assert_eq(fn_sched_prewarm(NULL, 0, 5, 2), 2, "never past the concurrency");
}

Test(fn_http, status_mapping)
{
	cr_assert_eq(fn_http_status(FN_OK), 200);
	cr_assert_eq(fn_http_status(FN_HANDLER_FAIL), 502);
	cr_assert_eq(fn_http_status(FN_INST_LOST), 502);
	cr_assert_eq(fn_http_status(FN_START_FAIL), 503);
	cr_assert_eq(fn_http_status(FN_TIMEOUT), 504);
	cr_assert_eq(fn_http_status(FN_QUEUE_FULL), 429);
	cr_assert_eq(fn_http_status(FN_NOT_FOUND), 404);
	cr_assert_eq(fn_http_status(FN_TOO_LARGE), 413);
	cr_assert_eq(fn_http_status(FN_BAD_METHOD), 405);
	cr_assert_eq(fn_http_status((enum fn_outcome)77), 500);
	cr_assert_str_eq(fn_outcome_name(FN_TIMEOUT), "timeout");
}

Test(fn_retry, backoff_then_dead_letter)
{
	uint64_t d = 0;
	cr_assert(fn_retry_next(1, 3, 100, 1000, &d));
	cr_assert_eq(d, 100);
	cr_assert(fn_retry_next(2, 3, 100, 1000, &d));
	cr_assert_eq(d, 200);
	cr_assert_not(fn_retry_next(3, 3, 100, 1000, &d), "third failure of three: dead letter");
	cr_assert(fn_retry_next(9, 20, 100, 1000, &d));
	cr_assert_eq(d, 1000, "capped");
	cr_assert_not(fn_retry_next(1, 1, 100, 1000, &d), "one attempt: no retry");
}

static void spec_ok(struct fn_spec *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->name, "hello");
	s->image = strdup("/img");
	s->handler = strdup("cat");
	s->memory = FN_DEFAULT_MEMORY;
	s->timeout_ms = 1000;
	s->concurrency = 10;
	s->idle_ttl_ms = 60000;
	s->queue = 100;
	s->net = strdup("v/a");
}

Test(fn_spec, checks)
{
	struct fn_spec s;
	struct cl_error err = { 0 };
	spec_ok(&s);
	cr_assert_eq(fn_spec_check(&s, &err), 0, "%s", err.msg);
	s.min_warm = 11;
	cr_assert_eq(fn_spec_check(&s, &err), -EINVAL);
	cr_assert(strstr(err.msg, "min-warm 11 exceeds concurrency 10"), "%s", err.msg);
	s.min_warm = 0;
	s.concurrency = 0;
	cr_assert_eq(fn_spec_check(&s, &err), -EINVAL);
	s.concurrency = 10;
	s.memory = 1 << 20;
	cr_assert_eq(fn_spec_check(&s, &err), -EINVAL);
	cr_assert(strstr(err.msg, "memory"), "%s", err.msg);
	s.memory = FN_DEFAULT_MEMORY;
	s.timeout_ms = FN_MAX_TIMEOUT_MS + 1;
	cr_assert_eq(fn_spec_check(&s, &err), -EINVAL);
	s.timeout_ms = 1000;
	strcpy(s.name, "../x");
	cr_assert_eq(fn_spec_check(&s, &err), -EINVAL);
	strcpy(s.name, "hello");
	free(s.net);
	s.net = strdup("nosubnet");
	cr_assert_eq(fn_spec_check(&s, &err), -EINVAL);
	fn_spec_free(&s);
}

Test(fn_spec, json_round_trip_and_refusals)
{
	struct fn_spec s, t;
	struct cl_error err = { 0 };
	spec_ok(&s);
	s.kind = FN_VM;
	s.env = calloc(1, sizeof(char *));
	s.env[0] = strdup("K=V");
	s.nenv = 1;
	char *j = fn_spec_to_json(&s);
	cr_assert_not_null(j);
	cr_assert_eq(fn_spec_from_json(j, "rec", &t, &err), 0, "%s", err.msg);
	cr_assert_str_eq(t.name, "hello");
	cr_assert_eq(t.kind, FN_VM);
	cr_assert_str_eq(t.handler, "cat");
	cr_assert_eq(t.nenv, 1);
	cr_assert_str_eq(t.env[0], "K=V");
	cr_assert_eq(t.concurrency, 10);
	fn_spec_free(&t);
	free(j);
	/* a record that does not hold together is refused, naming the file */
	s.concurrency = 0;
	j = fn_spec_to_json(&s);
	cr_assert_eq(fn_spec_from_json(j, "rec.json", &t, &err), -EINVAL);
	cr_assert(strstr(err.msg, "rec.json"), "%s", err.msg);
	free(j);
	cr_assert_eq(fn_spec_from_json("{\"version\":1}", "r", &t, &err), -EBADMSG);
	cr_assert_eq(fn_spec_from_json("[]", "r", &t, &err), -EBADMSG);
	fn_spec_free(&s);
}

Test(fn_proto, frames)
{
	uint32_t w[FN_RESP_WORDS], len;
	struct fn_proto_resp r = { 3, 1234, 10, 5 }, back;
	fn_proto_req_encode(w, 42);
	cr_assert_eq(fn_proto_req_decode(w, &len), 0);
	cr_assert_eq(len, 42);
	fn_proto_req_encode(w, FN_PROTO_BODY_MAX + 1);
	cr_assert_eq(fn_proto_req_decode(w, &len), -1, "over the body limit");
	fn_proto_resp_encode(w, &r);
	cr_assert_eq(fn_proto_resp_decode(w, &back), 0);
	cr_assert_eq(back.status, 3);
	cr_assert_eq(back.handler_us, 1234);
	cr_assert_eq(back.out_len, 10);
	cr_assert_eq(back.err_len, 5);
	w[0] = 0;
	cr_assert_eq(fn_proto_resp_decode(w, &back), -1, "bad magic");
	r.err_len = FN_PROTO_ERR_MAX + 1;
	fn_proto_resp_encode(w, &r);
	cr_assert_eq(fn_proto_resp_decode(w, &back), -1, "stderr tail over its bound");
}
