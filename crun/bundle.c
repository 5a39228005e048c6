/* An OCI bundle's config.json (runtime-spec v1.x config.md and
 * config-linux.md) into struct crun_bundle: pure, json-c only. What the
 * runtime cannot honour is refused by name rather than ignored. */
#include <errno.h>
#include <json-c/json.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "cloudlet/crun.h"

const char *const crun_hook_names[CRUN_HOOK_NKINDS] = {
	[CRUN_HOOK_PRESTART] = "prestart",
	[CRUN_HOOK_CREATE_RUNTIME] = "createRuntime",
	[CRUN_HOOK_CREATE_CONTAINER] = "createContainer",
	[CRUN_HOOK_START_CONTAINER] = "startContainer",
	[CRUN_HOOK_POSTSTART] = "poststart",
	[CRUN_HOOK_POSTSTOP] = "poststop",
};

/* config-linux.md "Namespaces": type -> flag */
static const struct { const char *type; int flag; } ns_types[] = {
	{ "pid", CLONE_NEWPID }, { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
	{ "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS }, { "user", CLONE_NEWUSER },
	{ "cgroup", CLONE_NEWCGROUP },
};

/* config.md "POSIX process": rlimits by name */
static const struct { const char *name; int resource; } rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_CORE", RLIMIT_CORE }, { "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA }, { "RLIMIT_FSIZE", RLIMIT_FSIZE }, { "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE }, { "RLIMIT_NOFILE", RLIMIT_NOFILE }, { "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS }, { "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

/* config.md "Mounts" options that are mount(2) flags (clear: the "no"
 * form turned off again); propagation options are applied by none here */
static const struct { const char *name; unsigned long set, clear; } mount_opts[] = {
	{ "ro", MS_RDONLY, 0 }, { "rw", 0, MS_RDONLY },
	{ "nosuid", MS_NOSUID, 0 }, { "suid", 0, MS_NOSUID },
	{ "nodev", MS_NODEV, 0 }, { "dev", 0, MS_NODEV },
	{ "noexec", MS_NOEXEC, 0 }, { "exec", 0, MS_NOEXEC },
	{ "sync", MS_SYNCHRONOUS, 0 }, { "async", 0, MS_SYNCHRONOUS },
	{ "noatime", MS_NOATIME, 0 }, { "atime", 0, MS_NOATIME },
	{ "relatime", MS_RELATIME, 0 }, { "norelatime", 0, MS_RELATIME },
	{ "strictatime", MS_STRICTATIME, 0 }, { "nostrictatime", 0, MS_STRICTATIME },
	{ "nodiratime", MS_NODIRATIME, 0 }, { "diratime", 0, MS_NODIRATIME },
	{ "bind", MS_BIND, 0 }, { "rbind", MS_BIND | MS_REC, 0 },
	{ "private", 0, 0 }, { "rprivate", 0, 0 }, { "shared", 0, 0 }, { "rshared", 0, 0 },
	{ "slave", 0, 0 }, { "rslave", 0, 0 }, { "unbindable", 0, 0 }, { "runbindable", 0, 0 },
	{ "defaults", 0, 0 },
};

int crun_mount_options(const char *const *opts, size_t n, unsigned long *flags, char *data,
		       size_t len, struct cl_error *err)
{
	size_t used = 0;
	*flags = 0;
	if (len)
		data[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t k;
		for (k = 0; k < sizeof(mount_opts) / sizeof(mount_opts[0]); k++)
			if (!strcmp(opts[i], mount_opts[k].name))
				break;
		if (k < sizeof(mount_opts) / sizeof(mount_opts[0])) {
			*flags = (*flags & ~mount_opts[k].clear) | mount_opts[k].set;
			continue;
		}
		int w = snprintf(data + used, used < len ? len - used : 0, "%s%s", used ? "," : "", opts[i]);
		if (w < 0 || used + (size_t)w >= len)
			return cl_err(err, E2BIG, "mount options longer than %zu bytes", len);
		used += (size_t)w;
	}
	return 0;
}

/* ---- json helpers ---- */

static json_object *get(json_object *o, const char *k)
{
	json_object *v;
	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int strv(json_object *a, const char *what, char ***out, struct cl_error *err)
{
	*out = NULL;
	if (!a)
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return cl_err(err, EINVAL, "config.json: %s is not an array", what);
	size_t n = json_object_array_length(a);
	char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		return cl_err(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		if (!json_object_is_type(e, json_type_string) || !(v[i] = strdup(json_object_get_string(e)))) {
			for (size_t j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return cl_err(err, EINVAL, "config.json: %s[%zu] is not a string", what, i);
		}
	}
	*out = v;
	return 0;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* ---- sections ---- */

static int parse_process(json_object *p, struct crun_bundle *b, struct cl_error *err)
{
	int r;
	if (!p)
		return cl_err(err, EINVAL, "config.json: no process (config.md: required to start)");
	json_object *t = get(p, "terminal");
	b->terminal = t && json_object_get_boolean(t);
	if ((r = strv(get(p, "args"), "process.args", &b->proc.args, err)) < 0 ||
	    (r = strv(get(p, "env"), "process.env", &b->proc.env, err)) < 0)
		return r;
	if (!b->proc.args || !b->proc.args[0])
		return cl_err(err, EINVAL, "config.json: process.args is empty");
	if (!b->proc.env && !(b->proc.env = calloc(1, sizeof(char *))))
		return cl_err(err, ENOMEM, "out of memory");
	const char *cwd = str(p, "cwd");
	if (!cwd || cwd[0] != '/')
		return cl_err(err, EINVAL, "config.json: process.cwd '%s' is not an absolute path", cwd ? cwd : "");
	json_object *u = get(p, "user");
	unsigned uid = u && get(u, "uid") ? (unsigned)json_object_get_int64(get(u, "uid")) : 0;
	unsigned gid = u && get(u, "gid") ? (unsigned)json_object_get_int64(get(u, "gid")) : 0;
	if (!(b->proc.cwd = strdup(cwd)) || asprintf(&b->proc.user, "%u:%u", uid, gid) < 0) {
		b->proc.user = NULL;
		return cl_err(err, ENOMEM, "out of memory");
	}
	json_object *rl = get(p, "rlimits");
	for (size_t i = 0; rl && i < json_object_array_length(rl); i++) {
		json_object *e = json_object_array_get_idx(rl, i);
		const char *type = str(e, "type");
		size_t k;
		for (k = 0; k < sizeof(rlimit_names) / sizeof(rlimit_names[0]); k++)
			if (type && !strcmp(type, rlimit_names[k].name))
				break;
		if (k == sizeof(rlimit_names) / sizeof(rlimit_names[0]))
			return cl_err(err, EINVAL, "config.json: unknown rlimit '%s'", type ? type : "");
		if (b->nrlimits == CRUN_BUNDLE_MAX_RLIMITS)
			return cl_err(err, EINVAL, "config.json: more than %d rlimits", CRUN_BUNDLE_MAX_RLIMITS);
		struct crun_rlimit *l = &b->rlimits[b->nrlimits++];
		l->resource = rlimit_names[k].resource;
		l->soft = get(e, "soft") ? (uint64_t)json_object_get_uint64(get(e, "soft")) : 0;
		l->hard = get(e, "hard") ? (uint64_t)json_object_get_uint64(get(e, "hard")) : 0;
		if (l->soft > l->hard)
			return cl_err(err, EINVAL, "config.json: %s soft limit above its hard limit", type);
	}
	/* one set for all five: the bounding set says what may ever be had */
	json_object *caps = get(get(p, "capabilities"), "bounding");
	if (caps) {
		char **names;
		if ((r = strv(caps, "process.capabilities.bounding", &names, err)) < 0)
			return r;
		size_t n = 0;
		while (names && names[n])
			n++;
		b->caps = calloc(n + 1, sizeof(*b->caps));
		for (size_t i = 0; b->caps && i < n; i++) {
			cap_value_t cv;
			const char *nm = names[i];
			if (cap_from_name(nm, &cv) < 0) {
				r = cl_err(err, EINVAL, "config.json: unknown capability '%s'", nm);
				break;
			}
			b->caps[b->ncaps++] = (int)cv;
		}
		strv_free(names);
		if (!b->caps)
			return cl_err(err, ENOMEM, "out of memory");
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_mounts(json_object *a, struct crun_bundle *b, struct cl_error *err)
{
	if (!a)
		return 0;
	size_t n = json_object_array_length(a);
	if (!(b->mounts = calloc(n + 1, sizeof(*b->mounts))))
		return cl_err(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(a, i);
		const char *dst = str(m, "destination"), *type = str(m, "type"), *src = str(m, "source");
		char **opts;
		char data[1024];
		unsigned long flags;
		int r;
		if (!dst || dst[0] != '/')
			return cl_err(err, EINVAL, "config.json: mounts[%zu].destination '%s' is not an absolute path",
				      i, dst ? dst : "");
		if ((r = strv(get(m, "options"), "mounts[].options", &opts, err)) < 0)
			return r;
		size_t no = 0;
		while (opts && opts[no])
			no++;
		r = crun_mount_options((const char *const *)opts, no, &flags, data, sizeof(data), err);
		strv_free(opts);
		if (r < 0)
			return cl_err_wrap(err, "config.json: mounts[%zu] (%s)", i, dst);
		struct crun_mount *cm = &b->mounts[b->nmounts++];
		bool bind = (flags & MS_BIND) || (type && !strcmp(type, "bind"));
		if (bind)
			flags |= MS_BIND;
		/* cgroup: the unified hierarchy, only when the container has one */
		bool cgroup = type && (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2"));
		cm->target = strdup(dst);
		cm->fstype = bind ? NULL : cgroup ? strdup("cgroup2") : dup_or_null(type ? type : "none");
		cm->source = dup_or_null(src ? src : type);
		cm->flags = flags;
		cm->data = data[0] ? strdup(data) : NULL;
		cm->when = cgroup ? CRUN_M_CGROUP2 : 0;
		if (!cm->target || (!bind && !cm->fstype) || !cm->source)
			return cl_err(err, ENOMEM, "out of memory");
		if (bind && src && src[0] != '/')
			return cl_err(err, EINVAL, "config.json: bind mount source '%s' is not an absolute path", src);
	}
	return 0;
}

static int parse_linux(json_object *l, struct crun_bundle *b, struct cl_error *err)
{
	int r;
	json_object *nss = get(l, "namespaces");
	for (size_t i = 0; nss && i < json_object_array_length(nss); i++) {
		json_object *n = json_object_array_get_idx(nss, i);
		const char *type = str(n, "type"), *path = str(n, "path");
		size_t k;
		for (k = 0; k < sizeof(ns_types) / sizeof(ns_types[0]); k++)
			if (type && !strcmp(type, ns_types[k].type))
				break;
		if (k == sizeof(ns_types) / sizeof(ns_types[0]))
			return cl_err(err, EINVAL, "config.json: unknown namespace type '%s'", type ? type : "");
		if (b->nns == CRUN_BUNDLE_MAX_NS)
			return cl_err(err, EINVAL, "config.json: more than %d namespaces", CRUN_BUNDLE_MAX_NS);
		if (ns_types[k].flag == CLONE_NEWUSER)
			return cl_err(err, ENOTSUP, "config.json: a user namespace from a bundle is not supported (run as root without one)");
		b->ns[b->nns].flag = ns_types[k].flag;
		if (path && !(b->ns[b->nns].path = strdup(path)))
			return cl_err(err, ENOMEM, "out of memory");
		b->nns++;
	}
	json_object *res = get(l, "resources");
	json_object *mem = get(get(res, "memory"), "limit"), *pids = get(get(res, "pids"), "limit");
	json_object *quota = get(get(res, "cpu"), "quota"), *period = get(get(res, "cpu"), "period");
	if (mem && json_object_get_int64(mem) > 0)
		b->limits.memory = (uint64_t)json_object_get_int64(mem);
	if (pids && json_object_get_int64(pids) > 0)
		b->limits.pids = (uint64_t)json_object_get_int64(pids);
	if (quota && json_object_get_int64(quota) > 0) {
		b->limits.cpu_quota_us = (uint64_t)json_object_get_int64(quota);
		b->limits.cpu_period_us = period && json_object_get_int64(period) > 0
			? (uint64_t)json_object_get_int64(period) : CRUN_CPU_PERIOD_US;
	}
	/* config-linux.md "Cgroups Path": absolute under each hierarchy's root,
	 * relative under the runtime's own parent; systemd's slice:prefix:name
	 * needs its cgroup driver, which this runtime does not have */
	const char *cp = str(l, "cgroupsPath");
	if (cp && cp[0]) {
		char abs[256];
		const char *c1 = strchr(cp, ':');
		if (c1 && strchr(c1 + 1, ':') && cp[0] != '/')
			return cl_err(err, ENOTSUP, "config.json: linux.cgroupsPath '%s' is systemd's slice:prefix:name "
				      "(the systemd cgroup driver is not supported; give a path)", cp);
		snprintf(abs, sizeof(abs), "%s%s", cp[0] == '/' ? "" : "/", cp);
		if (!cl_cg_path_valid(abs))
			return cl_err(err, EINVAL, "config.json: linux.cgroupsPath '%s' is not a clean path "
				      "(no empty, '.' or '..' parts, under 200 bytes)", cp);
		if (!(b->cgroups_path = strdup(cp)))
			return cl_err(err, ENOMEM, "out of memory");
	}
	json_object *sc = get(l, "seccomp");
	if (sc && (r = crun_seccomp_parse(sc, &b->seccomp, err)) < 0)
		return cl_err_wrap(err, "config.json");
	if ((r = strv(get(l, "maskedPaths"), "linux.maskedPaths", &b->masked, err)) < 0 ||
	    (r = strv(get(l, "readonlyPaths"), "linux.readonlyPaths", &b->readonly, err)) < 0)
		return r;
	return 0;
}

static int parse_hooks(json_object *h, struct crun_bundle *b, struct cl_error *err)
{
	for (int k = 0; h && k < CRUN_HOOK_NKINDS; k++) {
		json_object *a = get(h, crun_hook_names[k]);
		if (!a)
			continue;
		size_t n = json_object_array_length(a);
		if (!(b->hooks[k] = calloc(n + 1, sizeof(*b->hooks[k]))))
			return cl_err(err, ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(a, i);
			struct crun_hook *hk = &b->hooks[k][b->nhooks[k]++];
			const char *path = str(e, "path");
			int r;
			if (!path || path[0] != '/')
				return cl_err(err, EINVAL, "config.json: hooks.%s[%zu].path is not an absolute path",
					      crun_hook_names[k], i);
			if (!(hk->path = strdup(path)))
				return cl_err(err, ENOMEM, "out of memory");
			if ((r = strv(get(e, "args"), "hooks[].args", &hk->args, err)) < 0 ||
			    (r = strv(get(e, "env"), "hooks[].env", &hk->env, err)) < 0)
				return r;
			json_object *t = get(e, "timeout");
			hk->timeout = t ? json_object_get_int(t) : 0;
			if (t && hk->timeout <= 0)
				return cl_err(err, EINVAL, "config.json: hooks.%s[%zu].timeout must be more than zero",
					      crun_hook_names[k], i);
		}
	}
	return 0;
}

int crun_process_parse(const char *json, struct crun_bundle *b, struct cl_error *err)
{
	json_object *o = json_tokener_parse(json);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return cl_err(err, EINVAL, "process.json: not a JSON object");
	}
	crun_process_free(&b->proc);
	free(b->caps);
	b->caps = NULL;
	b->ncaps = 0;
	b->nrlimits = 0;
	int r = parse_process(o, b, err);
	json_object_put(o);
	return r < 0 ? cl_err_wrap(err, "process.json") : 0;
}

int crun_bundle_parse(const char *json, const char *bundle_dir, struct crun_bundle *b,
		      struct cl_error *err)
{
	int r;
	memset(b, 0, sizeof(*b));
	json_tokener *tok = json_tokener_new();
	json_object *o = tok ? json_tokener_parse_ex(tok, json, (int)strlen(json)) : NULL;
	enum json_tokener_error je = tok ? json_tokener_get_error(tok) : json_tokener_error_parse_unexpected;
	json_tokener_free(tok);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return cl_err(err, EINVAL, "config.json: not a JSON object (%s)", json_tokener_error_desc(je));
	}
	const char *ver = str(o, "ociVersion");
	if (!ver) {
		r = cl_err(err, EINVAL, "config.json: no ociVersion");
		goto out;
	}
	/* semver: we implement 1.x (fields added in a minor version are optional) */
	if (strncmp(ver, "1.", 2) != 0) {
		r = cl_err(err, ENOTSUP, "config.json: unsupported ociVersion '%s' (this runtime implements %s)",
			   ver, CRUN_OCI_VERSION);
		goto out;
	}
	if (!(b->oci_version = strdup(ver))) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	json_object *root = get(o, "root");
	const char *rp = str(root, "path");
	if (!rp || !rp[0]) {
		r = cl_err(err, EINVAL, "config.json: no root.path");
		goto out;
	}
	if (rp[0] == '/' ? !(b->rootfs = strdup(rp)) : asprintf(&b->rootfs, "%s/%s", bundle_dir, rp) < 0) {
		b->rootfs = NULL;
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	b->rootfs_readonly = get(root, "readonly") && json_object_get_boolean(get(root, "readonly"));
	const char *host = str(o, "hostname");
	if (host && host[0] && !(b->hostname = strdup(host))) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	json_object *ann = get(o, "annotations");
	if (!(b->annotations = strdup(ann ? json_object_to_json_string_ext(ann, JSON_C_TO_STRING_PLAIN) : "{}"))) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	if ((r = parse_process(get(o, "process"), b, err)) < 0 ||
	    (r = parse_mounts(get(o, "mounts"), b, err)) < 0 ||
	    (r = parse_linux(get(o, "linux"), b, err)) < 0 ||
	    (r = parse_hooks(get(o, "hooks"), b, err)) < 0)
		goto out;
	r = 0;
out:
	json_object_put(o);
	if (r < 0)
		crun_bundle_free(b);
	return r;
}

void crun_bundle_free(struct crun_bundle *b)
{
	free(b->oci_version);
	free(b->rootfs);
	free(b->hostname);
	crun_process_free(&b->proc);
	free(b->caps);
	for (size_t i = 0; i < b->nns; i++)
		free(b->ns[i].path);
	for (size_t i = 0; i < b->nmounts; i++) {
		free((char *)b->mounts[i].target);
		free((char *)b->mounts[i].fstype);
		free((char *)b->mounts[i].source);
		free((char *)b->mounts[i].data);
	}
	free(b->mounts);
	strv_free(b->masked);
	strv_free(b->readonly);
	free(b->annotations);
	crun_seccomp_free(b->seccomp);
	free(b->cgroups_path);
	for (int k = 0; k < CRUN_HOOK_NKINDS; k++) {
		for (size_t i = 0; i < b->nhooks[k]; i++) {
			free(b->hooks[k][i].path);
			strv_free(b->hooks[k][i].args);
			strv_free(b->hooks[k][i].env);
		}
		free(b->hooks[k]);
	}
	memset(b, 0, sizeof(*b));
}
