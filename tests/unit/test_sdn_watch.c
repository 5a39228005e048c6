/* net/sdn/: following the store from a revision — the revision-gap rule,
 * the agent's copy of the keys kept by watch events, etcd's watch stream
 * messages (as the JSON gateway sends them), and the agents' reports. */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/sdn.h"

Test(sdn_watch, gap_when_the_next_revision_is_compacted_away)
{
	cr_assert_not(sdn_watch_gap(10, 0), "nothing compacted");
	cr_assert_not(sdn_watch_gap(10, 5), "compacted before what was seen");
	cr_assert_not(sdn_watch_gap(10, 11), "the history starts at the next revision");
	cr_assert(sdn_watch_gap(10, 12), "revision 11 is gone");
	cr_assert(sdn_watch_gap(0, 40));
}

static struct sdn_kv kv(const char *k, const char *v, int64_t rev)
{
	return (struct sdn_kv){ .key = (char *)k, .value = (char *)v, .mod_rev = rev };
}

Test(sdn_watch, events_keep_the_copy_sorted_and_current)
{
	struct sdn_kv *kvs = NULL;
	size_t n = 0;
	struct sdn_kv ev[] = {
		kv("/cloudlet/vpcs/b", "B1", 3), kv("/cloudlet/hosts/h1", "H1", 4), kv("/cloudlet/vpcs/a", "A1", 5),
		kv("/cloudlet/vpcs/b", "B2", 6), kv("/cloudlet/nosuch", NULL, 7),
	};
	cr_assert_eq(sdn_kvs_apply(&kvs, &n, ev, 5), 6, "the newest desired change (a delete of nothing counts too)");
	cr_assert_eq(n, 3);
	cr_assert_str_eq(kvs[0].key, "/cloudlet/hosts/h1");
	cr_assert_str_eq(kvs[1].key, "/cloudlet/vpcs/a");
	cr_assert_str_eq(kvs[2].key, "/cloudlet/vpcs/b");
	cr_assert_str_eq(kvs[2].value, "B2", "a later put replaces");
	cr_assert_eq(kvs[2].mod_rev, 6);

	struct sdn_kv del[] = { kv("/cloudlet/vpcs/a", NULL, 8) };
	cr_assert_eq(sdn_kvs_apply(&kvs, &n, del, 1), 8);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(kvs[1].key, "/cloudlet/vpcs/b");

	/* the agents' own reports change nothing an agent must apply */
	struct sdn_kv rep[] = { kv("/cloudlet/applied/h1", "{}", 9), kv("/cloudlet/applied/h2", NULL, 10) };
	cr_assert_eq(sdn_kvs_apply(&kvs, &n, rep, 2), 0);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(kvs[0].key, "/cloudlet/applied/h1");
	sdn_kvs_free(kvs, n);
}

Test(sdn_watch, the_copy_yields_the_same_state_as_a_full_read)
{
	struct sdn_kv *kvs = NULL;
	size_t n = 0;
	struct sdn_state s;
	struct cl_error err = { 0 };
	struct sdn_kv ev[] = {
		kv("/cloudlet/schema", "1", 1),
		kv("/cloudlet/hosts/h1", "{\"name\": \"h1\", \"underlay\": \"172.31.0.2\"}", 2),
		kv("/cloudlet/hosts/h2", "{\"name\": \"h2\", \"underlay\": \"172.31.0.3\"}", 3),
		kv("/cloudlet/applied/h1", "{\"applied\": 3}", 4),
		kv("/cloudlet/hosts/h2", NULL, 5),
	};
	cr_assert_eq(sdn_kvs_apply(&kvs, &n, ev, 5), 5);
	cr_assert_eq(sdn_state_from_kvs(kvs, n, "sqlite:x", &s, &err), 0, "%s", err.msg);
	cr_assert_eq(s.nhosts, 1);
	cr_assert_str_eq(s.hosts[0].name, "h1");
	cr_assert_eq(s.rev, 2, "the newest key left; reports do not count");
	sdn_state_free(&s);

	struct sdn_kv newer[] = { kv("/cloudlet/schema", "7", 6) };
	sdn_kvs_apply(&kvs, &n, newer, 1);
	cr_assert_eq(sdn_state_from_kvs(kvs, n, "sqlite:x", &s, &err), -EPROTO);
	cr_assert(strstr(err.msg, "newer cloudlet (schema 7"), "%s", err.msg);
	sdn_kvs_free(kvs, n);
}

static int msg(const char *json, struct sdn_watch *w, struct cl_error *err)
{
	struct json_object *o = json_tokener_parse(json);
	cr_assert(o, "%s", json);
	int r = sdn_etcd_watch_msg(o, w, err);
	json_object_put(o);
	return r;
}

/* /cloudlet/vpcs/a = L2Nsb3VkbGV0L3ZwY3MvYQ==, "{}" = e30= */
Test(sdn_watch, etcd_stream_messages)
{
	struct sdn_watch w = { 0 };
	struct cl_error err = { 0 };
	cr_assert_eq(msg("{\"result\":{\"header\":{\"revision\":\"6\"},\"created\":true}}", &w, &err), 0);
	cr_assert_eq(w.n, 0, "created: no events");
	cr_assert_eq(msg("{\"result\":{\"header\":{\"revision\":\"9\"},\"events\":["
			 "{\"kv\":{\"key\":\"L2Nsb3VkbGV0L3ZwY3MvYQ==\",\"create_revision\":\"7\",\"mod_revision\":\"7\","
			 "\"version\":\"1\",\"value\":\"e30=\"}},"
			 "{\"type\":\"DELETE\",\"kv\":{\"key\":\"L2Nsb3VkbGV0L3ZwY3MvYQ==\",\"mod_revision\":\"8\"}}]}}",
			 &w, &err),
		     0, "%s", err.msg);
	cr_assert_eq(w.n, 2);
	cr_assert_str_eq(w.ev[0].key, "/cloudlet/vpcs/a");
	cr_assert_str_eq(w.ev[0].value, "{}", "type left out: a PUT");
	cr_assert_eq(w.ev[0].mod_rev, 7);
	cr_assert_null(w.ev[1].value, "a DELETE");
	cr_assert_eq(w.rev, 8, "the last event's revision, not the header's");
	cr_assert_eq(w.compacted, 0);
	sdn_watch_free(&w);

	cr_assert_eq(msg("{\"result\":{\"header\":{},\"canceled\":true,\"compact_revision\":\"5\"}}", &w, &err), 1,
		     "canceled");
	cr_assert_eq(w.compacted, 5);
	sdn_watch_free(&w);

	cr_assert_eq(msg("{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"transport is closing\"}}", &w, &err),
		     -EHOSTUNREACH);
	cr_assert_str_eq(err.msg, "unreachable (transport is closing)");
	cr_assert_lt(msg("{\"result\":{\"events\":[{\"kv\":{\"key\":\"!!\"}}]}}", &w, &err), 0, "not base64");
	sdn_watch_free(&w);
	cr_assert_lt(msg("[1]", &w, &err), 0);
}

Test(sdn_watch, reports_round_trip_and_go_stale)
{
	struct sdn_report r = { .applied = 42, .seen = 44, .at = 1000, .every_ms = 2000 }, back;
	char *j = sdn_report_to_json(&r);
	cr_assert_eq(sdn_report_from_json(j, &back), 0);
	free(j);
	cr_assert_eq(back.applied, 42);
	cr_assert_eq(back.seen, 44);
	cr_assert_eq(back.at, 1000);
	cr_assert_eq(back.every_ms, 2000);
	cr_assert_not(sdn_report_stale(&back, 1006), "two reports missed");
	cr_assert(sdn_report_stale(&back, 1007), "three missed");
	back.every_ms = 100;
	cr_assert_not(sdn_report_stale(&back, 1003), "never stale sooner than 3 s");
	cr_assert(sdn_report_stale(&back, 1004));

	cr_assert_eq(sdn_report_from_json("17", &back), 0, "an older agent's bare revision");
	cr_assert_eq(back.applied, 17);
	cr_assert(sdn_report_stale(&back, 1), "no time: cannot be told live");
	cr_assert_lt(sdn_report_from_json("nope", &back), 0);
	cr_assert_lt(sdn_report_from_json("\"x\"", &back), 0);
}
