/* The pool's decisions as pure functions over instance states (unit-tested
 * in tests/unit/test_fn.c): which instance serves, when to scale out, when
 * to reap, the queue bound, HTTP statuses and the trigger's retry policy.
 * Issue #11: "warm instances are reused; new ones start only when all are
 * busy, up to --concurrency; --min-warm are kept ready; instances idle
 * longer than --idle-ttl are reaped". */
#include "cloudlet/fn.h"

enum fn_sched_action fn_sched_pick(const struct fn_sched_inst *in, size_t n, unsigned concurrency,
				   size_t *idx)
{
	size_t best = n, live = 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i].state == FN_I_STOPPING)
			continue;
		live++;
		/* most recently used first: LIFO keeps the others idle, to be reaped */
		if (in[i].state == FN_I_IDLE && (best == n || in[i].last_used_ns > in[best].last_used_ns))
			best = i;
	}
	if (best < n) {
		*idx = best;
		return FN_SERVE;
	}
	/* new ones only when all are busy (or starting for their starters) */
	if (live < concurrency)
		return FN_START;
	return FN_WAIT;
}

bool fn_sched_admit(unsigned waiting, unsigned queue_max)
{
	return waiting < queue_max;
}

size_t fn_sched_reap(const struct fn_sched_inst *in, size_t n, uint64_t now_ns, uint64_t ttl_ns,
		     unsigned min_warm, size_t *out, size_t max)
{
	size_t live = 0, k = 0;
	for (size_t i = 0; i < n; i++)
		if (in[i].state != FN_I_STOPPING)
			live++;
	/* oldest idle first, until only min_warm remain */
	while (k < max && live > min_warm) {
		size_t pick = n;
		for (size_t i = 0; i < n; i++) {
			if (in[i].state != FN_I_IDLE || now_ns < in[i].last_used_ns ||
			    now_ns - in[i].last_used_ns <= ttl_ns)
				continue;
			bool taken = false;
			for (size_t j = 0; j < k; j++)
				taken |= out[j] == i;
			if (!taken && (pick == n || in[i].last_used_ns < in[pick].last_used_ns))
				pick = i;
		}
		if (pick == n)
			break;
		out[k++] = pick;
		live--;
	}
	return k;
}

unsigned fn_sched_prewarm(const struct fn_sched_inst *in, size_t n, unsigned min_warm,
			  unsigned concurrency)
{
	unsigned live = 0;
	for (size_t i = 0; i < n; i++)
		if (in[i].state != FN_I_STOPPING)
			live++;
	unsigned want = min_warm < concurrency ? min_warm : concurrency;
	return live < want ? want - live : 0;
}

/* RFC 9110 section 15: 502 Bad Gateway for an upstream (the handler) that
 * failed, 503 when none could be started, 504 for the deadline, RFC 6585's
 * 429 for a full queue. */
static const struct {
	unsigned http;
	const char *name;
} outcomes[] = {
	[FN_OK] = { 200, "ok" },
	[FN_HANDLER_FAIL] = { 502, "handler-failed" },
	[FN_INST_LOST] = { 502, "instance-lost" },
	[FN_START_FAIL] = { 503, "start-failed" },
	[FN_TIMEOUT] = { 504, "timeout" },
	[FN_QUEUE_FULL] = { 429, "queue-full" },
	[FN_NOT_FOUND] = { 404, "not-found" },
	[FN_TOO_LARGE] = { 413, "too-large" },
	[FN_BAD_METHOD] = { 405, "bad-method" },
};

unsigned fn_http_status(enum fn_outcome o)
{
	return (unsigned)o < sizeof(outcomes) / sizeof(outcomes[0]) ? outcomes[o].http : 500;
}

const char *fn_outcome_name(enum fn_outcome o)
{
	return (unsigned)o < sizeof(outcomes) / sizeof(outcomes[0]) ? outcomes[o].name : "?";
}

bool fn_retry_next(unsigned attempt, unsigned max_attempts, uint64_t base_ms, uint64_t cap_ms,
		   uint64_t *delay_ms)
{
	if (attempt >= max_attempts)
		return false;
	uint64_t d = base_ms;
	for (unsigned i = 1; i < attempt && d < cap_ms; i++)
		d *= 2;
	*delay_ms = d < cap_ms ? d : cap_ms;
	return true;
}
