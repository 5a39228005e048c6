/* net/sdn/api.c: the controller's HTTP API — requests parsed and checked
 * (path, method, body), replies encoded and decoded with their revision,
 * errors carried across as HTTP statuses; and the listen address. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/parse.h"
#include "cloudlet/sdn.h"

Test(sdn_api, requests_by_path_and_method)
{
	struct sdn_api_req rq;
	struct cl_error err = { 0 };
	cr_assert_eq(sdn_api_req_parse("GET", "/v1/health", NULL, &rq, &err), 0);
	cr_assert_eq(rq.call, SDN_API_HEALTH);
	cr_assert_eq(sdn_api_req_parse("POST", "/v1/range", "{\"prefix\": \"/cloudlet/\"}", &rq, &err), 0);
	cr_assert_eq(rq.call, SDN_API_RANGE);
	cr_assert_str_eq(rq.key, "/cloudlet/");
	sdn_api_req_free(&rq);
	cr_assert_eq(sdn_api_req_parse("POST", "/v1/cas", "{\"key\": \"/cloudlet/x\", \"value\": \"v\", \"expect\": 7}",
				       &rq, &err), 0);
	cr_assert_str_eq(rq.value, "v");
	cr_assert_eq(rq.expect, 7);
	sdn_api_req_free(&rq);
	cr_assert_eq(sdn_api_req_parse("POST", "/v1/cas", "{\"key\": \"/cloudlet/x\", \"value\": null}", &rq, &err), 0);
	cr_assert_null(rq.value, "null deletes");
	cr_assert_eq(rq.expect, -1, "no expect: whatever it is");
	sdn_api_req_free(&rq);
	cr_assert_eq(sdn_api_req_parse("POST", "/v1/watch",
				       "{\"prefix\": \"/cloudlet/\", \"after\": 41, \"timeout_ms\": 500}", &rq, &err), 0);
	cr_assert_eq(rq.after, 41);
	cr_assert_eq(rq.timeout_ms, 500);
	sdn_api_req_free(&rq);
	cr_assert_eq(sdn_api_req_parse("POST", "/v1/compact", "{\"revision\": 12}", &rq, &err), 0);
	cr_assert_eq(rq.rev, 12);
	sdn_api_req_free(&rq);
}

Test(sdn_api, bad_requests_name_what_is_wrong)
{
	struct sdn_api_req rq;
	struct cl_error err = { 0 };
	cr_assert_eq(sdn_api_req_parse("GET", "/v2/range", NULL, &rq, &err), -ENOENT);
	cr_assert_eq(sdn_api_status(err.code), 404);
	cr_assert_eq(sdn_api_req_parse("GET", "/v1/range", NULL, &rq, &err), -EOPNOTSUPP);
	cr_assert_str_eq(err.msg, "/v1/range: use POST");
	cr_assert_eq(sdn_api_status(err.code), 405);
	cr_assert_eq(sdn_api_req_parse("POST", "/v1/range", "not json", &rq, &err), -EINVAL);
	cr_assert_eq(sdn_api_status(err.code), 400);
	cr_assert_eq(sdn_api_req_parse("POST", "/v1/range", "{\"prefix\": 3}", &rq, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "/v1/range: \"prefix\": not a string");
	cr_assert_eq(sdn_api_req_parse("POST", "/v1/range", "{\"prefix\": \"cloudlet\"}", &rq, &err), -EINVAL,
		     "a relative key");
	cr_assert_eq(sdn_api_req_parse("POST", "/v1/cas", "{\"key\": \"/a\"}", &rq, &err), -EINVAL,
		     "a cas without a value (null deletes; absent is a mistake)");
	cr_assert_str_eq(err.msg, "/v1/cas: \"value\": missing");
	cr_assert_eq(sdn_api_req_parse("POST", "/v1/cas", "{\"key\": \"/a\", \"value\": \"v\", \"expect\": -2}", &rq,
				       &err), -EINVAL);
	cr_assert_eq(sdn_api_req_parse("POST", "/v1/cas", "{\"key\": \"/a\\nb\", \"value\": \"v\"}", &rq, &err),
		     -EINVAL, "a control character in a key");
	cr_assert_eq(sdn_api_req_parse("POST", "/v1/watch", "{\"prefix\": \"/c/\", \"timeout_ms\": 30001}", &rq,
				       &err), -EINVAL, "a long poll over its bound");
	cr_assert_eq(sdn_api_req_parse("POST", "/v1/watch", "{\"prefix\": \"/c/\", \"after\": \"5\"}", &rq, &err),
		     -EINVAL);
	cr_assert_eq(sdn_api_req_parse("POST", "/v1/compact", "{}", &rq, &err), -EINVAL);
	cr_assert_eq(sdn_api_req_parse("POST", "/v1/compact", "{\"revision\": 0}", &rq, &err), -EINVAL);
}

Test(sdn_api, a_request_survives_the_round_trip)
{
	struct sdn_api_req in = { .call = SDN_API_CAS, .key = "/cloudlet/vpcs/a", .value = NULL, .expect = 0 }, out;
	struct cl_error err = { 0 };
	char *j = sdn_api_req_to_json(&in);
	cr_assert_eq(sdn_api_req_parse("POST", sdn_api_path(in.call), j, &out, &err), 0, "%s", err.msg);
	cr_assert_str_eq(out.key, "/cloudlet/vpcs/a");
	cr_assert_null(out.value);
	cr_assert_eq(out.expect, 0, "0: the key must be absent");
	sdn_api_req_free(&out);
	free(j);
	in = (struct sdn_api_req){ .call = SDN_API_WATCH, .key = "/cloudlet/", .after = 9, .timeout_ms = 250 };
	j = sdn_api_req_to_json(&in);
	cr_assert_eq(sdn_api_req_parse("POST", "/v1/watch", j, &out, &err), 0);
	cr_assert_eq(out.after, 9);
	cr_assert_eq(out.timeout_ms, 250);
	sdn_api_req_free(&out);
	free(j);
}

Test(sdn_api, kvs_with_the_store_revision)
{
	struct sdn_kv in[] = {
		{ .key = "/cloudlet/schema", .value = "2", .mod_rev = 1 },
		{ .key = "/cloudlet/vpcs/a", .value = "{\"name\":\"a\",\"cidr\":\"10.0.0.0/16\"}", .mod_rev = 5 },
	}, *kvs;
	size_t n;
	int64_t rev;
	struct cl_error err = { 0 };
	char *j = sdn_api_kvs_to_json(in, 2, 17);
	cr_assert_eq(sdn_api_kvs_from_json(j, &kvs, &n, &rev, &err), 0, "%s", err.msg);
	cr_assert_eq(rev, 17, "the store's revision, not the newest key's");
	cr_assert_eq(n, 2);
	cr_assert_str_eq(kvs[1].value, in[1].value, "a JSON value travels as a string, unchanged");
	cr_assert_eq(kvs[1].mod_rev, 5);
	sdn_kvs_free(kvs, n);
	free(j);
	j = sdn_api_kvs_to_json(NULL, 0, 3);
	cr_assert_eq(sdn_api_kvs_from_json(j, &kvs, &n, &rev, &err), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(rev, 3);
	free(j);
	cr_assert_eq(sdn_api_kvs_from_json("{\"kvs\": []}", &kvs, &n, &rev, &err), -EBADMSG, "no revision");
	cr_assert_eq(sdn_api_kvs_from_json("{\"revision\": 3, \"kvs\": [{\"key\": \"/a\", \"value\": null, "
					   "\"mod_rev\": 2}]}", &kvs, &n, &rev, &err), -EBADMSG,
		     "a range holds no deletes");
}

Test(sdn_api, watch_replies_carry_deletes_and_compaction)
{
	struct sdn_kv ev[] = {
		{ .key = "/cloudlet/vpcs/a", .value = "A", .mod_rev = 8 },
		{ .key = "/cloudlet/vpcs/b", .value = NULL, .mod_rev = 9 },
	};
	struct sdn_watch in = { .ev = ev, .n = 2, .rev = 9 }, w;
	struct cl_error err = { 0 };
	char *j = sdn_api_watch_to_json(&in);
	cr_assert_eq(sdn_api_watch_from_json(j, &w, &err), 0, "%s", err.msg);
	cr_assert_eq(w.n, 2);
	cr_assert_eq(w.rev, 9);
	cr_assert_eq(w.compacted, 0);
	cr_assert_str_eq(w.ev[0].value, "A");
	cr_assert_null(w.ev[1].value, "a delete");
	sdn_watch_free(&w);
	free(j);
	in = (struct sdn_watch){ .compacted = 40 };
	j = sdn_api_watch_to_json(&in);
	cr_assert_eq(sdn_api_watch_from_json(j, &w, &err), 0);
	cr_assert_eq(w.n, 0);
	cr_assert_eq(w.compacted, 40, "a gap: the history starts at 40");
	free(j);
}

Test(sdn_api, cas_compact_and_errors)
{
	int64_t rev;
	bool ok;
	struct cl_error err = { 0 };
	char *j = sdn_api_rev_to_json(12, 0), msg[64];
	cr_assert_eq(sdn_api_rev_from_json(j, &rev, &ok, &err), 0);
	cr_assert_eq(rev, 12);
	cr_assert_not(ok, "a compare that failed");
	free(j);
	j = sdn_api_rev_to_json(13, 1);
	cr_assert_eq(sdn_api_rev_from_json(j, &rev, &ok, &err), 0);
	cr_assert(ok);
	free(j);
	j = sdn_api_error_to_json("controller sqlite:/x: compact 9: a future revision");
	cr_assert_eq(sdn_api_error_from_json(j, msg, sizeof(msg)), 0);
	cr_assert_str_eq(msg, "controller sqlite:/x: compact 9: a future revision");
	free(j);
	cr_assert_eq(sdn_api_error_from_json("<html>", msg, sizeof(msg)), -1);
	cr_assert_eq(sdn_api_code(sdn_api_status(EHOSTUNREACH)), EHOSTUNREACH, "the store behind is down");
	cr_assert_eq(sdn_api_code(sdn_api_status(ERANGE)), ERANGE);
	cr_assert_eq(sdn_api_code(sdn_api_status(EPROTO)), EPROTO, "a newer schema");
	cr_assert_eq(sdn_api_status(ENOMEM), 500);
	cr_assert_eq(sdn_api_code(418), EIO);
}

Test(sdn_api, listen_addresses)
{
	struct sockaddr_in sa;
	struct cl_error err = { 0 };
	cr_assert_eq(cl_parse_ipv4_port("127.0.0.1:7480", &sa, &err), 0);
	cr_assert_eq(ntohs(sa.sin_port), 7480);
	cr_assert_eq(ntohl(sa.sin_addr.s_addr), 0x7f000001);
	const char *bad[] = { "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "localhost:80",
			      "127.0.0.1:-1", "127.0.0.1:80x", ":80", NULL };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(cl_parse_ipv4_port(bad[i], &sa, &err), -EINVAL, "%s", bad[i] ? bad[i] : "NULL");
		cr_assert(strstr(err.msg, "expected IPV4:PORT"));
	}
}
