/* net/ipam.c + net/state.c: leases on disk. Allocation order and
 * exhaustion through the files, release and reuse, the file's format,
 * corrupted files (an error naming the file, and the file left alone), and
 * processes allocating on one subnet at the same time. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cloudlet/net.h"
#include "net_fixtures.h"


static char state[64], file[128];
static struct cl_error err;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static void setup(void)
{
	strcpy(state, "/tmp/cl-net-test.XXXXXX");
	cr_assert_not_null(mkdtemp(state));
	snprintf(file, sizeof(file), "%s/leases/v/a.json", state);
	cl_err_clear(&err);
}

static void teardown(void)
{
	nftw(state, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(net_leases, .init = setup, .fini = teardown);

static uint32_t alloc_ip(const char *cidr, const char *kind, const char *id)
{
	struct lease l;
	struct cidr c = C(cidr);
	cr_assert_eq(ipam_allocate(state, "v", "a", &c, kind, id, &l, &err), 0, "%s", err.msg);
	return l.ip;
}

static void put_file(const char *text)
{
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/leases/v", state);
	cr_assert_eq(net_state_mkdirs(dir, &err), 0, "%s", err.msg);
	FILE *f = fopen(file, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

Test(net_leases, order_and_reserved)
{
	cr_assert_eq(alloc_ip("10.0.1.0/24", "vm", "a"), IP(10, 0, 1, 2));
	cr_assert_eq(alloc_ip("10.0.1.0/24", "ct", "b"), IP(10, 0, 1, 3));
	cr_assert_eq(alloc_ip("10.0.1.0/24", "vm", "c"), IP(10, 0, 1, 4));
	struct lease *v;
	size_t n;
	cr_assert_eq(ipam_list(state, "v", "a", &v, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 3);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(v[i].ip, IP(10, 0, 1, 2 + i), "sorted by address");
	free(v);
}

Test(net_leases, exhaust_30)
{
	cr_assert_eq(alloc_ip("10.0.0.0/30", "vm", "a"), IP(10, 0, 0, 2));
	struct lease l;
	struct cidr c = C("10.0.0.0/30");
	cr_assert_eq(ipam_allocate(state, "v", "a", &c, "vm", "b", &l, &err), -ENOSPC);
	cr_assert_str_eq(err.msg, "vpc v: subnet a: 10.0.0.0/30 is full (1 guest address, all leased)");
}

Test(net_leases, exhaust_29_then_release)
{
	char id[8];
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "g%d", i);
		cr_assert_eq(alloc_ip("10.0.0.8/29", "ct", id), IP(10, 0, 0, 10 + i));
	}
	struct lease l;
	struct cidr c = C("10.0.0.8/29");
	cr_assert_eq(ipam_allocate(state, "v", "a", &c, "ct", "g5", &l, &err), -ENOSPC);
	cr_assert_str_eq(err.msg, "vpc v: subnet a: 10.0.0.8/29 is full (5 guest addresses, all leased)");
	cr_assert_eq(ipam_release(state, "v", "a", "ct", "g2", &err), 0, "%s", err.msg);
	cr_assert_eq(alloc_ip("10.0.0.8/29", "ct", "g5"), IP(10, 0, 0, 12), "freed address reused");
}

Test(net_leases, refuse_31_32)
{
	struct lease l;
	struct cidr c31 = C("10.0.0.0/31"), c32 = C("10.0.0.1/32");
	cr_assert_eq(ipam_allocate(state, "v", "a", &c31, "vm", "a", &l, &err), -EINVAL);
	cr_assert(strstr(err.msg, "vpc v: subnet a: 10.0.0.0/31 is not a subnet with guest"),
		  "%s", err.msg);
	cr_assert_eq(ipam_allocate(state, "v", "a", &c32, "vm", "a", &l, &err), -EINVAL);
	struct stat st;
	cr_assert_lt(stat(file, &st), 0, "nothing written");
}

Test(net_leases, release_then_round_robin)
{
	alloc_ip("10.0.1.0/24", "vm", "a");
	alloc_ip("10.0.1.0/24", "vm", "b");
	alloc_ip("10.0.1.0/24", "vm", "c");
	cr_assert_eq(ipam_release(state, "v", "a", "vm", "b", &err), 0, "%s", err.msg);
	cr_assert_eq(ipam_release(state, "v", "a", "vm", "a", &err), 0, "%s", err.msg);
	/* released addresses wait their turn: next after the last leased (.4) */
	cr_assert_eq(alloc_ip("10.0.1.0/24", "ct", "d"), IP(10, 0, 1, 5));
	cr_assert_eq(alloc_ip("10.0.1.0/24", "ct", "e"), IP(10, 0, 1, 6));

	cr_assert_eq(ipam_release(state, "v", "a", "vm", "b", &err), -ENOENT);
	cr_assert_str_eq(err.msg, "vpc v: subnet a: no lease for vm b");
	cr_assert_eq(ipam_release(state, "v", "a", "ct", "c", &err), -ENOENT, "kind matters");
	/* a subnet that never leased anything: no directory appears */
	cr_assert_eq(ipam_release(state, "w", "z", "vm", "a", &err), -ENOENT);
	char p[128];
	snprintf(p, sizeof(p), "%s/leases/w", state);
	struct stat st;
	cr_assert_lt(stat(p, &st), 0);
}

Test(net_leases, idempotent_per_owner)
{
	struct lease a, b;
	struct cidr c = C("10.0.1.0/24");
	cr_assert_eq(ipam_allocate(state, "v", "a", &c, "vm", "web", &a, &err), 0, "%s", err.msg);
	cr_assert_eq(ipam_allocate(state, "v", "a", &c, "vm", "web", &b, &err), 0, "%s", err.msg);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0, "the same lease back");
	cr_assert_eq(ipam_allocate(state, "v", "a", &c, "ct", "web", &b, &err), 0, "%s", err.msg);
	cr_assert_eq(b.ip, IP(10, 0, 1, 3), "a container of the same name is another owner");
	struct lease *v;
	size_t n;
	cr_assert_eq(ipam_list(state, "v", "a", &v, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 2);
	free(v);
}

Test(net_leases, round_trip)
{
	time_t t0 = time(NULL);
	struct lease l;
	struct cidr c = C("10.0.1.0/24");
	cr_assert_eq(ipam_allocate(state, "v", "a", &c, "ct", "db", &l, &err), 0, "%s", err.msg);
	uint8_t mac[6];
	net_mac("v", "a", "ct", "db", 0, mac);
	cr_assert_eq(memcmp(l.mac, mac, 6), 0);
	cr_assert_str_eq(l.owner_kind, "ct");
	cr_assert_str_eq(l.owner_id, "db");
	cr_assert(l.created >= t0 && l.created <= time(NULL) + 1);

	struct lease *v;
	size_t n;
	cr_assert_eq(ipam_list(state, "v", "a", &v, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_assert_eq(memcmp(&v[0], &l, sizeof(l)), 0, "what was stored is what comes back");
	free(v);

	/* the file as documented in net.h, read by json-c directly */
	struct json_object *o = json_object_from_file(file), *x, *ls, *e;
	cr_assert_not_null(o);
	cr_assert(json_object_object_get_ex(o, "version", &x) && json_object_get_int(x) == 1);
	cr_assert(json_object_object_get_ex(o, "vpc", &x));
	cr_assert_str_eq(json_object_get_string(x), "v");
	cr_assert(json_object_object_get_ex(o, "subnet", &x));
	cr_assert_str_eq(json_object_get_string(x), "a");
	cr_assert(json_object_object_get_ex(o, "cidr", &x));
	cr_assert_str_eq(json_object_get_string(x), "10.0.1.0/24");
	cr_assert(json_object_object_get_ex(o, "gateway", &x));
	cr_assert_str_eq(json_object_get_string(x), "10.0.1.1");
	cr_assert(json_object_object_get_ex(o, "leases", &ls));
	cr_assert_eq(json_object_array_length(ls), 1);
	e = json_object_array_get_idx(ls, 0);
	char b[MAC_STR_MAX];
	cr_assert(json_object_object_get_ex(e, "ip", &x));
	cr_assert_str_eq(json_object_get_string(x), "10.0.1.2");
	cr_assert(json_object_object_get_ex(e, "mac", &x));
	cr_assert_str_eq(json_object_get_string(x), net_mac_format(mac, b));
	cr_assert(json_object_object_get_ex(e, "owner_kind", &x));
	cr_assert_str_eq(json_object_get_string(x), "ct");
	cr_assert(json_object_object_get_ex(e, "owner_id", &x));
	cr_assert_str_eq(json_object_get_string(x), "db");
	cr_assert(json_object_object_get_ex(e, "created", &x));
	cr_assert_eq(json_object_get_int64(x), l.created);
	json_object_put(o);

	/* the lock beside it; no temp file left behind */
	char p[160];
	struct stat st;
	snprintf(p, sizeof(p), "%s/leases/v/a.lock", state);
	cr_assert_eq(stat(p, &st), 0);
	snprintf(p, sizeof(p), "%s.tmp", file);
	cr_assert_lt(stat(p, &st), 0);
}

Test(net_leases, list_missing_is_empty)
{
	struct lease *v = (struct lease *)1;
	size_t n = 9;
	cr_assert_eq(ipam_list(state, "v", "a", &v, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 0);
	cr_assert_null(v);
}

Test(net_leases, other_cidr_refused)
{
	alloc_ip("10.0.1.0/24", "vm", "a");
	struct lease l;
	struct cidr c = C("10.0.1.0/25");
	cr_assert_eq(ipam_allocate(state, "v", "a", &c, "vm", "b", &l, &err), -EINVAL);
	cr_assert(strstr(err.msg, "vpc v: subnet a: ") && strstr(err.msg, file) &&
		  strstr(err.msg, "holds leases of 10.0.1.0/24, not 10.0.1.0/25"), "%s", err.msg);
}

Test(net_leases, bad_names_touch_nothing)
{
	struct lease l;
	struct cidr c = C("10.0.1.0/24");
	cr_assert_eq(ipam_allocate(state, "..", "a", &c, "vm", "x", &l, &err), -EINVAL);
	cr_assert_eq(ipam_allocate(state, "v", "../../etc", &c, "vm", "x", &l, &err), -EINVAL);
	cr_assert_eq(ipam_allocate(state, "v", "a", &c, "pod", "x", &l, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "owner kind 'pod': want vm or ct");
	cr_assert_eq(ipam_allocate(state, "v", "a", &c, "vm", "x y", &l, &err), -EINVAL);
	cr_assert_eq(ipam_allocate("", "v", "a", &c, "vm", "x", &l, &err), -EINVAL);
	struct cidr hb = { IP(10, 0, 1, 5), 24 };
	cr_assert_eq(ipam_allocate(state, "v", "a", &hb, "vm", "x", &l, &err), -EINVAL);
	char p[128];
	struct stat st;
	snprintf(p, sizeof(p), "%s/leases", state);
	cr_assert_lt(stat(p, &st), 0);
}

/* A lease that owner (ct, x) would get the MAC of: IPAM steps aside. */
Test(net_leases, mac_collision_salted)
{
	uint8_t m0[6], m1[6];
	char b[MAC_STR_MAX], text[512];
	net_mac("v", "a", "ct", "x", 0, m0);
	net_mac("v", "a", "ct", "x", 1, m1);
	snprintf(text, sizeof(text),
		 "{ \"version\": 1, \"vpc\": \"v\", \"subnet\": \"a\", \"cidr\": \"10.0.1.0/24\","
		 " \"leases\": [ { \"ip\": \"10.0.1.2\", \"mac\": \"%s\", \"owner_kind\": \"vm\","
		 " \"owner_id\": \"other\", \"created\": 1 } ] }", net_mac_format(m0, b));
	put_file(text);
	struct lease l;
	struct cidr c = C("10.0.1.0/24");
	cr_assert_eq(ipam_allocate(state, "v", "a", &c, "ct", "x", &l, &err), 0, "%s", err.msg);
	cr_assert_eq(l.ip, IP(10, 0, 1, 3));
	cr_assert_eq(memcmp(l.mac, m1, 6), 0);
}

static const struct {
	const char *text, *want;
} corrupt[] = {
	{ "", "not valid JSON: unexpected end of file" },
	{ "{", "not valid JSON: unexpected end of file" },
	{ "{ \"version\": 1, \"vpc\": \"v\", ", "not valid JSON" },
	{ "garbage", "not valid JSON" },
	{ "{} {}", "not valid JSON" },
	{ "{}x", "not valid JSON" },
	{ "[]", "not a JSON object" },
	{ "{ \"vpc\": \"v\" }", "'version' is missing" },
	{ "{ \"version\": \"1\" }", "'version' is not of type int" },
	{ "{ \"version\": 2 }", "version 2, this cloudlet reads version 1" },
	{ "{ \"version\": 1, \"vpc\": \"w\", \"subnet\": \"a\" }", "records vpc 'w', not 'v'" },
	{ "{ \"version\": 1, \"vpc\": \"v\", \"subnet\": \"b\" }", "records subnet 'b', not 'a'" },
	{ "{ \"version\": 1, \"vpc\": \"v\", \"subnet\": \"a\", \"cidr\": \"10.0.1.0/24\" }",
	  "'leases' is missing" },
	{ "{ \"version\": 1, \"vpc\": \"v\", \"subnet\": \"a\", \"cidr\": \"10.0.1.1/24\", \"leases\": [] }",
	  "cidr: 10.0.1.1/24 has host bits set" },
	{ "{ \"version\": 1, \"vpc\": \"v\", \"subnet\": \"a\", \"cidr\": \"10.0.1.0/31\", \"leases\": [] }",
	  "cidr /31 leaves no guest address" },
	{ "{ \"version\": 1, \"vpc\": \"v\", \"subnet\": \"a\", \"cidr\": \"10.0.1.0/24\", \"leases\": {} }",
	  "'leases' is not of type array" },
	{ "{ \"version\": 1, \"vpc\": \"v\", \"subnet\": \"a\", \"cidr\": \"10.0.1.0/24\", \"leases\": [ 7 ] }",
	  "lease 0: not an object" },
#define L(body) "{ \"version\": 1, \"vpc\": \"v\", \"subnet\": \"a\", \"cidr\": \"10.0.1.0/24\", \"leases\": [ " body " ] }"
#define E(ip, mac, kind, id) "{ \"ip\": \"" ip "\", \"mac\": \"" mac "\", \"owner_kind\": \"" kind "\", \"owner_id\": \"" id "\", \"created\": 5 }"
	{ L("{ \"ip\": \"10.0.1.2\" }"), "lease 0: 'mac' is missing" },
	{ L(E("10.0.1.2", "02:00:00:00:00:01", "vm", "a") ", " E("10.0.1.999", "02:00:00:00:00:02", "vm", "b")),
	  "lease 1: '10.0.1.999' is not an IPv4 address" },
	{ L(E("10.0.2.2", "02:00:00:00:00:01", "vm", "a")), "lease 0: ip 10.0.2.2 is not a guest address of 10.0.1.0/24" },
	{ L(E("10.0.1.1", "02:00:00:00:00:01", "vm", "a")), "lease 0: ip 10.0.1.1 is not a guest address" },
	{ L(E("10.0.1.255", "02:00:00:00:00:01", "vm", "a")), "lease 0: ip 10.0.1.255 is not a guest address" },
	{ L(E("10.0.1.2", "02:00:00:00:00", "vm", "a")), "lease 0: '02:00:00:00:00' is not a MAC address" },
	{ L(E("10.0.1.2", "03:00:00:00:00:01", "vm", "a")), "lease 0: mac 03:00:00:00:00:01 is multicast" },
	{ L(E("10.0.1.2", "02:00:00:00:00:01", "pod", "a")), "lease 0: owner kind 'pod'" },
	{ L(E("10.0.1.2", "02:00:00:00:00:01", "vm", "../a")), "lease 0: owner name '../a'" },
	{ L(E("10.0.1.2", "02:00:00:00:00:01", "vm", "a") ", " E("10.0.1.2", "02:00:00:00:00:02", "vm", "b")),
	  "ip 10.0.1.2 is leased twice (vm a and vm b)" },
	{ L(E("10.0.1.2", "02:00:00:00:00:01", "vm", "a") ", " E("10.0.1.3", "02:00:00:00:00:02", "vm", "a")),
	  "owner vm a holds two leases (10.0.1.2 and 10.0.1.3)" },
	{ L(E("10.0.1.2", "02:00:00:00:00:01", "vm", "a") ", " E("10.0.1.3", "02:00:00:00:00:01", "vm", "b")),
	  "mac 02:00:00:00:00:01 is on two leases (10.0.1.2 and 10.0.1.3)" },
	{ "{ \"version\": 1, \"vpc\": \"v\", \"subnet\": \"a\", \"cidr\": \"10.0.1.0/30\", \"leases\": [ "
	  E("10.0.1.2", "02:00:00:00:00:01", "vm", "a") ", " E("10.0.1.2", "02:00:00:00:00:02", "vm", "b") " ] }",
	  "2 leases, more than the subnet holds" },
};

Test(net_leases, corrupted_file_named)
{
	struct cidr c = C("10.0.1.0/24");
	for (size_t i = 0; i < sizeof(corrupt) / sizeof(corrupt[0]); i++) {
		put_file(corrupt[i].text);
		struct lease *v = NULL, l;
		size_t n = 0;
		cl_err_clear(&err);
		cr_assert_eq(ipam_list(state, "v", "a", &v, &n, &err), -EBADMSG,
			     "case %zu accepted: %s", i, err.msg);
		cr_assert_null(v);
		cr_assert_eq(strncmp(err.msg, file, strlen(file)), 0, "case %zu: '%s'", i, err.msg);
		cr_assert(strstr(err.msg, corrupt[i].want), "case %zu: '%s' lacks '%s'", i, err.msg,
			  corrupt[i].want);
		/* writers refuse too, and leave the evidence as it was */
		cr_assert_eq(ipam_allocate(state, "v", "a", &c, "vm", "new", &l, &err), -EBADMSG);
		cr_assert_eq(ipam_release(state, "v", "a", "vm", "a", &err), -EBADMSG);
		cr_assert_str_eq(slurp(file), corrupt[i].text, "case %zu: file changed", i);
	}
}

Test(net_leases, nul_byte_and_directory)
{
	put_file("{}");
	int fd = open(file, O_WRONLY | O_APPEND);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "\0", 1), 1);
	close(fd);
	struct lease *v;
	size_t n;
	cr_assert_eq(ipam_list(state, "v", "a", &v, &n, &err), -EBADMSG);
	cr_assert(strstr(err.msg, "NUL byte"), "%s", err.msg);
	unlink(file);
	cr_assert_eq(mkdir(file, 0755), 0);
	cr_assert_lt(ipam_list(state, "v", "a", &v, &n, &err), 0);
	cr_assert(strstr(err.msg, file) && strstr(err.msg, "not a regular file"), "%s", err.msg);
}

/* Extra fields are a newer writer's business, not corruption. */
Test(net_leases, unknown_fields_kept_readable)
{
	put_file(L(E("10.0.1.7", "02:00:00:00:00:01", "vm", "a")) "\n\n");
	struct lease *v;
	size_t n;
	cr_assert_eq(ipam_list(state, "v", "a", &v, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_assert_eq(v[0].ip, IP(10, 0, 1, 7));
	cr_assert_eq(v[0].created, 5);
	free(v);
	cr_assert_eq(alloc_ip("10.0.1.0/24", "vm", "b"), IP(10, 0, 1, 2));
}

/* NPROC processes allocate PER addresses each on one subnet file at once
 * (each in a tight loop, so their read-modify-writes interleave unless the
 * lock serialises them). Every address must be handed out once, and the
 * file must hold exactly what the children were told. */
enum { NPROC = 8, PER = 24 };

static void children(int churn, uint32_t got[NPROC][PER])
{
	int fds[NPROC][2];
	pid_t pid[NPROC];
	for (int p = 0; p < NPROC; p++) {
		cr_assert_eq(pipe(fds[p]), 0);
		pid[p] = fork();
		cr_assert_geq(pid[p], 0);
		if (pid[p] == 0) {
			struct cidr c = { IP(10, 7, 0, 0), 22 };
			struct cl_error e = { 0 };
			uint32_t mine[PER];
			for (int i = 0; i < PER; i++) {
				char id[32];
				struct lease l;
				snprintf(id, sizeof(id), "p%d-%d", p, i);
				if (ipam_allocate(state, "v", "a", &c, p & 1 ? "ct" : "vm", id, &l,
						  &e) < 0)
					_exit(10);
				mine[i] = l.ip;
				/* churn: give back every other one at once */
				if (churn && i % 2 &&
				    ipam_release(state, "v", "a", p & 1 ? "ct" : "vm", id, &e) < 0)
					_exit(11);
			}
			_exit(write(fds[p][1], mine, sizeof(mine)) == sizeof(mine) ? 0 : 12);
		}
		close(fds[p][1]);
	}
	for (int p = 0; p < NPROC; p++) {
		int st;
		cr_assert_eq(read(fds[p][0], got[p], sizeof(got[p])), (ssize_t)sizeof(got[p]));
		close(fds[p][0]);
		cr_assert_eq(waitpid(pid[p], &st, 0), pid[p]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d: status %#x", p, st);
	}
}

Test(net_leases, concurrent_processes, .timeout = 60)
{
	uint32_t got[NPROC][PER];
	children(0, got);
	struct lease *v;
	size_t n;
	cr_assert_eq(ipam_list(state, "v", "a", &v, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, NPROC * PER, "%zu leases in the file", n);
	/* lowest-first and no duplicates: exactly the first NPROC*PER guests */
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(v[i].ip, IP(10, 7, 0, 2) + i);
	/* and each child was told what the file says about it */
	for (int p = 0; p < NPROC; p++)
		for (int i = 0; i < PER; i++) {
			char id[32];
			snprintf(id, sizeof(id), "p%d-%d", p, i);
			size_t k = got[p][i] - IP(10, 7, 0, 2);
			cr_assert_lt(k, n);
			cr_assert_str_eq(v[k].owner_id, id);
			cr_assert_str_eq(v[k].owner_kind, p & 1 ? "ct" : "vm");
		}
	free(v);
}

Test(net_leases, concurrent_churn, .timeout = 60)
{
	uint32_t got[NPROC][PER];
	children(1, got);
	struct lease *v;
	size_t n;
	cr_assert_eq(ipam_list(state, "v", "a", &v, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, NPROC * PER / 2);
	for (size_t i = 1; i < n; i++)
		cr_assert_lt(v[i - 1].ip, v[i].ip, "distinct");
	/* the survivors are the even-numbered ones, at the addresses they got */
	for (int p = 0; p < NPROC; p++)
		for (int i = 0; i < PER; i += 2) {
			char id[32];
			snprintf(id, sizeof(id), "p%d-%d", p, i);
			size_t k = 0;
			while (k < n && strcmp(v[k].owner_id, id) != 0)
				k++;
			cr_assert_lt(k, n, "%s lost", id);
			cr_assert_eq(v[k].ip, got[p][i]);
		}
	free(v);
}
