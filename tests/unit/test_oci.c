/* The OCI runtime's pure parts: config.json parsing (crun/bundle.c)
 * against runtime-spec config.md's examples, mount options, signal names,
 * the runc-style command line (cli/runtime_args.c), and the state file's
 * OCI fields and transitions (crun/state.c, lifecycle.c). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../../cli/runtime.h"
#include "../../crun/internal.h"

static struct cl_error err;

/* config.md's example, trimmed to the fields this runtime reads */
static const char *example =
	"{ \"ociVersion\": \"1.0.1\","
	"  \"process\": { \"terminal\": true, \"user\": { \"uid\": 1, \"gid\": 1 },"
	"    \"args\": [\"sh\"], \"env\": [\"PATH=/usr/bin:/bin\", \"TERM=xterm\"], \"cwd\": \"/\","
	"    \"capabilities\": { \"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"] } },"
	"  \"root\": { \"path\": \"rootfs\", \"readonly\": true },"
	"  \"hostname\": \"slartibartfast\","
	"  \"mounts\": ["
	"    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },"
	"    { \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
	"      \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"] },"
	"    { \"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/volumes/testing\","
	"      \"options\": [\"rbind\", \"rw\"] } ],"
	"  \"hooks\": { \"prestart\": [ { \"path\": \"/usr/bin/fix-mounts\", \"args\": [\"fix-mounts\", \"arg1\"],"
	"      \"env\": [\"key1=value1\"] }, { \"path\": \"/usr/bin/setup-network\", \"timeout\": 5 } ],"
	"    \"createContainer\": [ { \"path\": \"/bin/create-hook\" } ],"
	"    \"startContainer\": [ { \"path\": \"/bin/start-hook\", \"timeout\": 2 } ],"
	"    \"poststop\": [ { \"path\": \"/usr/sbin/cleanup.sh\", \"args\": [\"cleanup.sh\", \"-f\"] } ] },"
	"  \"linux\": { \"namespaces\": [ { \"type\": \"pid\" }, { \"type\": \"network\", \"path\": \"/var/run/netns/x\" },"
	"      { \"type\": \"mount\" } ],"
	"    \"resources\": { \"memory\": { \"limit\": 536870912 }, \"pids\": { \"limit\": 32771 },"
	"      \"cpu\": { \"quota\": 1000000, \"period\": 500000 } },"
	"    \"maskedPaths\": [\"/proc/kcore\"], \"readonlyPaths\": [\"/proc/sys\"],"
	"    \"seccomp\": { \"defaultAction\": \"SCMP_ACT_ALLOW\" } },"
	"  \"annotations\": { \"com.example.key1\": \"value1\" } }";

Test(oci_bundle, config_md_example)
{
	struct crun_bundle b;
	cr_assert_eq(crun_bundle_parse(example, "/b", &b, &err), 0, "%s", err.msg);
	cr_assert_str_eq(b.oci_version, "1.0.1");
	cr_assert_str_eq(b.rootfs, "/b/rootfs");
	cr_assert(b.rootfs_readonly);
	cr_assert(b.terminal);
	cr_assert_str_eq(b.hostname, "slartibartfast");
	cr_assert_str_eq(b.proc.args[0], "sh");
	cr_assert_str_eq(b.proc.env[1], "TERM=xterm");
	cr_assert_str_eq(b.proc.user, "1:1");
	cr_assert_eq(b.ncaps, 3);
	cr_assert_eq(b.caps[1], 5 /* CAP_KILL */);
	cr_assert_eq(b.nmounts, 3);
	cr_assert_str_eq(b.mounts[1].fstype, "tmpfs");
	cr_assert_eq(b.mounts[1].flags, MS_NOSUID | MS_STRICTATIME);
	cr_assert_str_eq(b.mounts[1].data, "mode=755,size=65536k");
	cr_assert_eq(b.mounts[2].flags, MS_BIND | MS_REC);
	cr_assert_str_eq(b.mounts[2].source, "/volumes/testing");
	cr_assert_eq(b.nhooks[CRUN_HOOK_PRESTART], 2);
	cr_assert_str_eq(b.hooks[CRUN_HOOK_PRESTART][0].args[1], "arg1");
	cr_assert_eq(b.hooks[CRUN_HOOK_PRESTART][1].timeout, 5);
	cr_assert_eq(b.nhooks[CRUN_HOOK_POSTSTOP], 1);
	cr_assert_eq(b.nhooks[CRUN_HOOK_CREATE_CONTAINER], 1);
	cr_assert_str_eq(b.hooks[CRUN_HOOK_START_CONTAINER][0].path, "/bin/start-hook");
	cr_assert_eq(b.nns, 3);
	cr_assert_eq(b.ns[1].flag, CLONE_NEWNET);
	cr_assert_str_eq(b.ns[1].path, "/var/run/netns/x");
	cr_assert_null(b.ns[0].path);
	cr_assert_eq(b.limits.memory, 536870912);
	cr_assert_eq(b.limits.pids, 32771);
	cr_assert_eq(b.limits.cpu_quota_us, 1000000);
	cr_assert_eq(b.limits.cpu_period_us, 500000);
	cr_assert(b.seccomp);
	cr_assert_str_eq(b.masked[0], "/proc/kcore");
	cr_assert_str_eq(b.readonly[0], "/proc/sys");
	json_object *ann = json_tokener_parse(b.annotations);
	json_object *v;
	cr_assert(json_object_object_get_ex(ann, "com.example.key1", &v));
	cr_assert_str_eq(json_object_get_string(v), "value1");
	json_object_put(ann);
	crun_bundle_free(&b);
}

static void refused(const char *json, const char *msg_part)
{
	struct crun_bundle b;
	cl_err_clear(&err);
	cr_assert_lt(crun_bundle_parse(json, "/b", &b, &err), 0, "accepted: %s", json);
	cr_assert_not_null(strstr(err.msg, msg_part), "'%s' lacks '%s'", err.msg, msg_part);
}

Test(oci_bundle, refused)
{
	refused("not json", "not a JSON object");
	refused("{\"root\": {\"path\": \"r\"}}", "no ociVersion");
	refused("{\"ociVersion\": \"2.0.0\", \"root\": {\"path\": \"r\"}}", "unsupported ociVersion '2.0.0'");
	refused("{\"ociVersion\": \"1.0.0\", \"process\": {\"args\": [\"a\"], \"cwd\": \"/\"}}", "no root.path");
	refused("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}}", "no process");
	refused("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [], \"cwd\": \"/\"}}",
		"process.args is empty");
	refused("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"x\"}}",
		"process.cwd 'x'");
	refused("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"/\"},"
		" \"linux\": {\"namespaces\": [{\"type\": \"time-travel\"}]}}", "unknown namespace type 'time-travel'");
	refused("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"/\","
		" \"capabilities\": {\"bounding\": [\"CAP_FLY\"]}}}", "unknown capability 'CAP_FLY'");
	refused("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"/\"},"
		" \"hooks\": {\"startContainer\": [{\"path\": \"/x\", \"timeout\": 0}]}}", "startContainer[0].timeout");
	refused("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"/\"},"
		" \"hooks\": {\"prestart\": [{\"path\": \"x\"}]}}", "not an absolute path");
	refused("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"/\"},"
		" \"mounts\": [{\"destination\": \"rel\", \"type\": \"tmpfs\"}]}", "destination 'rel'");
}

#define CG_BUNDLE(path) "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, " \
	"\"process\": {\"args\": [\"a\"], \"cwd\": \"/\"}, \"linux\": {\"cgroupsPath\": \"" path "\"}}"

/* config-linux.md "Cgroups Path": the cgroupfs forms, systemd's refused */
Test(oci_bundle, cgroups_path)
{
	struct crun_bundle b;
	cr_assert_eq(crun_bundle_parse(CG_BUNDLE("/libpod_parent/libpod-abc"), "/b", &b, &err), 0, "%s", err.msg);
	cr_assert_str_eq(b.cgroups_path, "/libpod_parent/libpod-abc");
	crun_bundle_free(&b);
	cr_assert_eq(crun_bundle_parse(CG_BUNDLE("mygroup/c1"), "/b", &b, &err), 0, "%s", err.msg);
	cr_assert_str_eq(b.cgroups_path, "mygroup/c1");
	crun_bundle_free(&b);
	refused(CG_BUNDLE("system.slice:docker:abc"), "systemd's slice:prefix:name");
	refused(CG_BUNDLE("/a/../../etc"), "linux.cgroupsPath '/a/../../etc' is not a clean path");
	refused(CG_BUNDLE("../up"), "not a clean path");
}

Test(oci_bundle, absolute_root_and_no_annotations)
{
	struct crun_bundle b;
	const char *j = "{\"ociVersion\": \"1.1.0\", \"root\": {\"path\": \"/abs/root\"},"
			" \"process\": {\"args\": [\"true\"], \"cwd\": \"/\"}}";
	cr_assert_eq(crun_bundle_parse(j, "/b", &b, &err), 0, "%s", err.msg);
	cr_assert_str_eq(b.rootfs, "/abs/root");
	cr_assert_str_eq(b.annotations, "{}");
	cr_assert_str_eq(b.proc.user, "0:0");
	cr_assert_not_null(b.proc.env);
	cr_assert_null(b.proc.env[0]);
	cr_assert_not(b.seccomp);
	crun_bundle_free(&b);
}

Test(oci_bundle, mount_options)
{
	const char *o[] = { "ro", "nosuid", "noexec", "rw", "rbind", "mode=1777", "size=1m", "rprivate" };
	unsigned long f;
	char data[64];
	cr_assert_eq(crun_mount_options(o, 8, &f, data, sizeof(data), &err), 0);
	cr_assert_eq(f, MS_NOSUID | MS_NOEXEC | MS_BIND | MS_REC);   /* "rw" clears "ro" */
	cr_assert_str_eq(data, "mode=1777,size=1m");
	char small[4];
	cr_assert_lt(crun_mount_options(o, 8, &f, small, sizeof(small), &err), 0);
}

Test(oci_bundle, spec_default_parses_back)
{
	char *t = crun_spec_default(false);
	struct crun_bundle b;
	cr_assert_eq(crun_bundle_parse(t, "/b", &b, &err), 0, "%s", err.msg);
	cr_assert_eq(b.nmounts, crun_default_mounts_count);
	cr_assert_eq(b.ncaps, crun_default_caps_count);
	cr_assert_eq(b.caps[0], crun_default_caps[0]);
	crun_bundle_free(&b);
	free(t);
	t = crun_features();
	json_object *f = json_tokener_parse(t);
	json_object *v;
	cr_assert(json_object_object_get_ex(f, "ociVersionMax", &v));
	cr_assert_str_eq(json_object_get_string(v), CRUN_OCI_VERSION);
	json_object_put(f);
	free(t);
}

Test(oci_signal, names_and_numbers)
{
	int s;
	cr_assert_eq(crun_signal_parse("KILL", &s, &err), 0);
	cr_assert_eq(s, SIGKILL);
	cr_assert_eq(crun_signal_parse("SIGTERM", &s, &err), 0);
	cr_assert_eq(s, SIGTERM);
	cr_assert_eq(crun_signal_parse("hup", &s, &err), 0);
	cr_assert_eq(s, SIGHUP);
	cr_assert_eq(crun_signal_parse("9", &s, &err), 0);
	cr_assert_eq(s, 9);
	cr_assert_lt(crun_signal_parse("0", &s, &err), 0);
	cr_assert_lt(crun_signal_parse("SIGNOPE", &s, &err), 0);
	cr_assert_lt(crun_signal_parse("", &s, &err), 0);
}

/* ---- the command line ---- */

static int parse(struct rt_args *a, const char *line)
{
	static char buf[512];
	static char *argv[32];
	int argc = 0;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	cl_err_clear(&err);
	return rt_parse(argc, argv, a, &err);
}

Test(oci_cli, global_flags_as_containerd_and_conmon_pass_them)
{
	struct rt_args a;
	cr_assert_eq(parse(&a, "cloudlet-runtime --root /run/x --log /l.json --log-format json create "
			      "--bundle /b --pid-file /p --console-socket /s id1"), 0, "%s", err.msg);
	cr_assert_str_eq(a.root, "/run/x");
	cr_assert_str_eq(a.log, "/l.json");
	cr_assert_eq(a.log_format, RT_LOG_JSON);
	cr_assert_eq(a.verb, RT_CREATE);
	cr_assert_str_eq(a.bundle, "/b");
	cr_assert_str_eq(a.pid_file, "/p");
	cr_assert_str_eq(a.console_socket, "/s");
	cr_assert_str_eq(a.id, "id1");
	/* Go-style single dash and --opt=value */
	cr_assert_eq(parse(&a, "rt -root=/r --systemd-cgroup delete -force id2"), 0, "%s", err.msg);
	cr_assert_str_eq(a.root, "/r");
	cr_assert(a.systemd_cgroup);
	cr_assert(a.force);
	cr_assert_str_eq(a.id, "id2");
	cr_assert_eq(parse(&a, "rt kill --all id3 KILL"), 0, "%s", err.msg);
	cr_assert(a.all);
	cr_assert_eq(a.npos, 2);
	cr_assert_str_eq(a.pos[1], "KILL");
	cr_assert_eq(parse(&a, "rt list -q"), 0, "%s", err.msg);
	cr_assert(a.quiet);
	cr_assert_eq(parse(&a, "rt ps --format json id"), 0, "%s", err.msg);
	cr_assert(a.json);
	cr_assert_eq(parse(&a, "rt run --preserve-fds=2 --bundle /b id4"), 0, "%s", err.msg);
	cr_assert_eq(a.preserve_fds, 2);
	cr_assert_eq(parse(&a, "rt"), 0);
	cr_assert(a.help);
}

Test(oci_cli, bad_command_lines)
{
	struct rt_args a;
	cr_assert_lt(parse(&a, "rt --log-format xml state x"), 0);
	cr_assert_not_null(strstr(err.msg, "--log-format xml"));
	cr_assert_lt(parse(&a, "rt frobnicate x"), 0);
	cr_assert_not_null(strstr(err.msg, "unknown command 'frobnicate'"));
	cr_assert_lt(parse(&a, "rt start"), 0);
	cr_assert_not_null(strstr(err.msg, "missing container id"));
	cr_assert_lt(parse(&a, "rt state a b"), 0);
	cr_assert_lt(parse(&a, "rt --bogus state a"), 0);
	cr_assert_lt(parse(&a, "rt create --preserve-fds two --bundle /b a"), 0);
	cr_assert_not_null(strstr(err.msg, "--preserve-fds two"));
	cr_assert_lt(parse(&a, "rt create --preserve-fds -1 --bundle /b a"), 0);
	cr_assert_lt(parse(&a, "rt exec --preserve-fds 1 a true"), 0);
	cr_assert_lt(parse(&a, "rt --rootless true state a"), 0);
}

/* ---- the state file ---- */

static char root[64];

static void setup(void)
{
	strcpy(root, "/tmp/cloudlet-test-oci.XXXXXX");
	cr_assert_not_null(mkdtemp(root));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
}

Test(oci_state, round_trip_and_transitions, .init = setup, .fini = teardown)
{
	char *dir;
	cr_assert_eq(ct_state_create_dir(root, "c1", &dir, &err), 0, "%s", err.msg);
	struct ct_state s = { .status = CRUN_CREATED, .pid = getpid(), .pid_start = cl_pid_start(getpid()),
			      .exit_status = -1, .created = 1700000000 };
	strcpy(s.name, "c1");
	strcpy(s.bundle, "/srv/bundle");
	s.annotations = (char *)"{\"a\":\"b\"}";
	cr_assert_eq(ct_state_write(dir, &s, &err), 0, "%s", err.msg);
	struct ct_state r;
	cr_assert_eq(ct_state_read(dir, &r, &err), 0, "%s", err.msg);
	cr_assert_str_eq(r.bundle, "/srv/bundle");
	cr_assert_str_eq(r.annotations, "{\"a\":\"b\"}");
	/* created while its init lives; no monitor is needed */
	cr_assert_eq(ct_effective_status(&r), CRUN_CREATED);
	r.status = CRUN_RUNNING;
	cr_assert_eq(ct_effective_status(&r), CRUN_RUNNING);
	/* the init gone (or another process with its pid): stopped */
	r.pid_start += 1;
	cr_assert_eq(ct_effective_status(&r), CRUN_STOPPED);
	char *j = ct_state_oci_json(&r, crun_status_name(ct_effective_status(&r)));
	json_object *o = json_tokener_parse(j), *v;
	cr_assert(json_object_object_get_ex(o, "status", &v));
	cr_assert_str_eq(json_object_get_string(v), "stopped");
	cr_assert_not(json_object_object_get_ex(o, "pid", &v), "state.md: pid only while it runs");
	cr_assert(json_object_object_get_ex(o, "ociVersion", &v));
	json_object_put(o);
	free(j);
	ct_state_free(&r);
	free(dir);
}

Test(oci_bundle, rlimits)
{
	struct crun_bundle b;
	const char *j = "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"/\","
			" \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 512},"
			"               {\"type\": \"RLIMIT_NPROC\", \"hard\": 10, \"soft\": 10}]}}";
	cr_assert_eq(crun_bundle_parse(j, "/b", &b, &err), 0, "%s", err.msg);
	cr_assert_eq(b.nrlimits, 2);
	cr_assert_eq(b.rlimits[0].resource, RLIMIT_NOFILE);
	cr_assert_eq(b.rlimits[0].soft, 512);
	cr_assert_eq(b.rlimits[0].hard, 1024);
	cr_assert_eq(b.rlimits[1].resource, RLIMIT_NPROC);
	crun_bundle_free(&b);
	refused("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"/\","
		" \"rlimits\": [{\"type\": \"RLIMIT_WISHES\", \"hard\": 3, \"soft\": 3}]}}", "unknown rlimit 'RLIMIT_WISHES'");
	refused("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"/\","
		" \"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"hard\": 1, \"soft\": 2}]}}", "soft limit above its hard limit");
}
