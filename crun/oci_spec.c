/* `spec` and `features`: the default config.json and features.md's
 * document, both written from the tables `ct run` uses (namespaces,
 * mounts, capabilities, masked and read-only paths), so they cannot
 * drift from what the runtime does. */
#include <errno.h>
#include <json-c/json.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>

#include "cloudlet/crun.h"

static const struct { int flag; const char *type; } ns_type_names[] = {
	{ CLONE_NEWPID, "pid" }, { CLONE_NEWNET, "network" }, { CLONE_NEWNS, "mount" },
	{ CLONE_NEWIPC, "ipc" }, { CLONE_NEWUTS, "uts" }, { CLONE_NEWUSER, "user" },
	{ CLONE_NEWCGROUP, "cgroup" },
};

static const char *ns_type(int flag)
{
	for (size_t i = 0; i < sizeof(ns_type_names) / sizeof(ns_type_names[0]); i++)
		if (ns_type_names[i].flag == flag)
			return ns_type_names[i].type;
	return "?";
}

static json_object *strings(const char *const *v, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static json_object *caps_array(void)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < crun_default_caps_count; i++) {
		char *name = cap_to_name((cap_value_t)crun_default_caps[i]);
		char up[64];
		size_t k = 0;
		for (; name && name[k] && k < sizeof(up) - 1; k++)
			up[k] = (char)(name[k] >= 'a' && name[k] <= 'z' ? name[k] - 32 : name[k]);
		up[k] = '\0';
		json_object_array_add(a, json_object_new_string(up));
		cap_free(name);
	}
	return a;
}

/* the inverse of crun_mount_options for the flags our tables use */
static json_object *mount_options(const struct crun_mount *m)
{
	static const struct { unsigned long flag; const char *name; } f[] = {
		{ MS_RDONLY, "ro" }, { MS_NOSUID, "nosuid" }, { MS_NODEV, "nodev" },
		{ MS_NOEXEC, "noexec" }, { MS_STRICTATIME, "strictatime" },
	};
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (m->flags & f[i].flag)
			json_object_array_add(a, json_object_new_string(f[i].name));
	if (m->data) {
		char *d = strdup(m->data), *save = NULL;
		for (char *t = d ? strtok_r(d, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
			json_object_array_add(a, json_object_new_string(t));
		free(d);
	}
	return a;
}

static char *dump(json_object *o)
{
	char *t = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return t;
}

static json_object *sc_rule(const char *action, int errnum)
{
	json_object *r = json_object_new_object();
	json_object_object_add(r, "names", json_object_new_array());
	json_object_object_add(r, "action", json_object_new_string(action));
	if (errnum)
		json_object_object_add(r, "errnoRet", json_object_new_int(errnum));
	return r;
}

static void sc_add_arg(json_object *rule, unsigned index, const char *op, uint64_t value)
{
	json_object *a = json_object_new_object(), *args;
	json_object_object_add(a, "index", json_object_new_int((int)index));
	json_object_object_add(a, "value", json_object_new_uint64(value));
	if (!strcmp(op, "SCMP_CMP_MASKED_EQ"))
		json_object_object_add(a, "valueTwo", json_object_new_uint64(0));
	json_object_object_add(a, "op", json_object_new_string(op));
	if (!json_object_object_get_ex(rule, "args", &args)) {
		args = json_object_new_array();
		json_object_object_add(rule, "args", args);
	}
	json_object_array_add(args, a);
}

static void sc_name(json_object *rule, const char *name)
{
	json_object *names;
	json_object_object_get_ex(rule, "names", &names);
	json_object_array_add(names, json_object_new_string(name));
}

/* the built-in allowlist (crun_seccomp_default) as config-linux.md's
 * object: the unconditional rows in one rule, a rule per conditional row
 * (ALLOW_IF_EQ: one per value, as libseccomp ORs rules) */
static json_object *seccomp_default(void)
{
	json_object *sc = json_object_new_object(), *rules = json_object_new_array();
	json_object *allow = sc_rule("SCMP_ACT_ALLOW", 0);
	json_object_object_add(sc, "defaultAction", json_object_new_string("SCMP_ACT_ERRNO"));
	json_object_object_add(sc, "defaultErrnoRet", json_object_new_int(EPERM));
	json_object_array_add(rules, allow);
	for (size_t i = 0; i < crun_seccomp_default_count; i++) {
		const struct cl_sc_rule *d = &crun_seccomp_default[i];
		json_object *r = NULL;
		switch (d->kind) {
		case CL_SC_ALLOW:
			sc_name(allow, d->name);
			continue;
		case CL_SC_ALLOW_IF_EQ:
			for (unsigned k = 0; k < d->nvals; k++) {
				json_object_array_add(rules, r = sc_rule("SCMP_ACT_ALLOW", 0));
				sc_name(r, d->name);
				sc_add_arg(r, d->arg, "SCMP_CMP_EQ", d->vals[k]);
			}
			continue;
		case CL_SC_ALLOW_IF_NE:
		case CL_SC_ALLOW_IF_MASK0:
			json_object_array_add(rules, r = sc_rule("SCMP_ACT_ALLOW", 0));
			sc_add_arg(r, d->arg, d->kind == CL_SC_ALLOW_IF_NE ? "SCMP_CMP_NE" : "SCMP_CMP_MASKED_EQ",
				   d->vals[0]);
			break;
		case CL_SC_ERRNO:
			json_object_array_add(rules, r = sc_rule("SCMP_ACT_ERRNO", d->errnum));
			break;
		}
		sc_name(r, d->name);
	}
	json_object_object_add(sc, "syscalls", rules);
	return sc;
}

char *crun_spec_default(bool rootless)
{
	json_object *o = json_object_new_object(), *p = json_object_new_object();
	json_object *user = json_object_new_object(), *caps = json_object_new_object();
	json_object_object_add(o, "ociVersion", json_object_new_string(CRUN_OCI_VERSION));
	json_object_object_add(p, "terminal", json_object_new_boolean(1));
	json_object_object_add(user, "uid", json_object_new_int(0));
	json_object_object_add(user, "gid", json_object_new_int(0));
	json_object_object_add(p, "user", user);
	const char *args[] = { "sh" };
	const char *env[] = { "PATH=" CRUN_DEFAULT_PATH, "TERM=xterm" };
	json_object_object_add(p, "args", strings(args, 1));
	json_object_object_add(p, "env", strings(env, 2));
	json_object_object_add(p, "cwd", json_object_new_string("/"));
	const char *sets[] = { "bounding", "effective", "permitted" };
	for (size_t i = 0; i < 3; i++)
		json_object_object_add(caps, sets[i], caps_array());
	json_object_object_add(p, "capabilities", caps);
	json_object_object_add(p, "noNewPrivileges", json_object_new_boolean(1));
	json_object_object_add(o, "process", p);
	json_object *root = json_object_new_object();
	json_object_object_add(root, "path", json_object_new_string("rootfs"));
	json_object_object_add(root, "readonly", json_object_new_boolean(1));
	json_object_object_add(o, "root", root);
	json_object_object_add(o, "hostname", json_object_new_string("cloudlet"));
	json_object *mounts = json_object_new_array();
	for (size_t i = 0; i < crun_default_mounts_count; i++) {
		const struct crun_mount *m = &crun_default_mounts[i];
		json_object *jm = json_object_new_object();
		json_object_object_add(jm, "destination", json_object_new_string(m->target));
		json_object_object_add(jm, "type", json_object_new_string(m->fstype));
		json_object_object_add(jm, "source", json_object_new_string(m->source));
		json_object_object_add(jm, "options", mount_options(m));
		json_object_array_add(mounts, jm);
	}
	json_object_object_add(o, "mounts", mounts);
	json_object *lx = json_object_new_object(), *nss = json_object_new_array();
	for (size_t i = 0; i < crun_namespaces_count; i++) {
		if (crun_namespaces[i].userns_only && !rootless)
			continue;
		json_object *n = json_object_new_object();
		json_object_object_add(n, "type", json_object_new_string(ns_type(crun_namespaces[i].flag)));
		json_object_array_add(nss, n);
	}
	json_object_object_add(lx, "namespaces", nss);
	json_object_object_add(lx, "maskedPaths", strings(crun_masked_paths, crun_masked_paths_count));
	json_object_object_add(lx, "readonlyPaths", strings(crun_readonly_paths, crun_readonly_paths_count));
	json_object_object_add(lx, "seccomp", seccomp_default());
	json_object_object_add(o, "linux", lx);
	return dump(o);
}

char *crun_features(void)
{
	json_object *o = json_object_new_object(), *lx = json_object_new_object();
	json_object_object_add(o, "ociVersionMin", json_object_new_string("1.0.0"));
	json_object_object_add(o, "ociVersionMax", json_object_new_string(CRUN_OCI_VERSION));
	json_object_object_add(o, "hooks", strings(crun_hook_names, CRUN_HOOK_NKINDS));
	const char *mopts[] = { "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "sync",
				"async", "noatime", "atime", "relatime", "norelatime", "strictatime",
				"nostrictatime", "nodiratime", "diratime", "bind", "rbind" };
	json_object_object_add(o, "mountOptions", strings(mopts, sizeof(mopts) / sizeof(mopts[0])));
	json_object *nss = json_object_new_array();
	for (size_t i = 0; i < sizeof(ns_type_names) / sizeof(ns_type_names[0]); i++)
		if (ns_type_names[i].flag != CLONE_NEWUSER)
			json_object_array_add(nss, json_object_new_string(ns_type_names[i].type));
	json_object_object_add(lx, "namespaces", nss);
	json_object_object_add(lx, "capabilities", caps_array());
	json_object *cg = json_object_new_object();
	json_object_object_add(cg, "v1", json_object_new_boolean(1));
	json_object_object_add(cg, "v2", json_object_new_boolean(1));
	json_object_object_add(cg, "systemd", json_object_new_boolean(0));
	json_object_object_add(lx, "cgroup", cg);
	json_object *sc = json_object_new_object();
	json_object_object_add(sc, "enabled", json_object_new_boolean(1));
	json_object *acts = json_object_new_array(), *ops = json_object_new_array();
	for (size_t i = 0; i < crun_sc_actions_count; i++)
		json_object_array_add(acts, json_object_new_string(crun_sc_actions[i].name));
	for (size_t i = 0; i < crun_sc_ops_count; i++)
		json_object_array_add(ops, json_object_new_string(crun_sc_ops[i].name));
	json_object_object_add(sc, "actions", acts);
	json_object_object_add(sc, "operators", ops);
	json_object_object_add(lx, "seccomp", sc);
	json_object_object_add(o, "linux", lx);
	return dump(o);
}
