/* Deployments: ROOT/fn/NAME.json, written atomically under ROOT/fn/.lock
 * with net/'s record helpers (the same mechanism as VPC records):
 *   { "version": 1, "name": "hello", "kind": "ct", "image": "/path/oci",
 *     "handler": "cat", "memory": 134217728, "timeout_ms": 30000,
 *     "concurrency": 10, "min_warm": 0, "idle_ttl_ms": 60000, "queue": 100,
 *     "net": "v/a", "sgs": [], "env": ["K=V"], "created": 1700000000 }
 * A record is checked whole when read (fn_spec_check), never half-used. */
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cloudlet/crun.h"
#include "cloudlet/fn.h"
#include "cloudlet/net.h"

#define RECORD_VERSION 1

static int fn_path(const char *root, const char *name, const char *suffix, char *buf, size_t len,
		   struct cl_error *err)
{
	if ((size_t)snprintf(buf, len, "%s/fn/%s%s", root, name, suffix) >= len)
		return cl_err(err, ENAMETOOLONG, "%s/fn: path too long", root);
	return 0;
}

int fn_dir(const char *root, const char *name, char *buf, size_t len, struct cl_error *err)
{
	int r = fn_path(root, name, "", buf, len, err);
	return r < 0 ? r : net_state_mkdirs(buf, err);
}

static int lock_fn(const char *root, int *fd, struct cl_error *err)
{
	char p[PATH_MAX];
	int r;
	if ((r = fn_path(root, "", "", p, sizeof(p), err)) < 0 || (r = net_state_mkdirs(p, err)) < 0)
		return r;
	strcat(p, ".lock");
	return net_state_lock(p, fd, err);
}

static struct json_object *strv(char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static struct json_object *spec_jobj(const struct fn_spec *s)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_int(RECORD_VERSION));
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "kind", json_object_new_string(fn_kind_name(s->kind)));
	json_object_object_add(o, "image", json_object_new_string(s->image));
	json_object_object_add(o, "handler", json_object_new_string(s->handler));
	json_object_object_add(o, "memory", json_object_new_int64((int64_t)s->memory));
	json_object_object_add(o, "timeout_ms", json_object_new_int64((int64_t)s->timeout_ms));
	json_object_object_add(o, "concurrency", json_object_new_int64(s->concurrency));
	json_object_object_add(o, "min_warm", json_object_new_int64(s->min_warm));
	json_object_object_add(o, "idle_ttl_ms", json_object_new_int64((int64_t)s->idle_ttl_ms));
	json_object_object_add(o, "queue", json_object_new_int64(s->queue));
	json_object_object_add(o, "net", json_object_new_string(s->net));
	json_object_object_add(o, "sgs", strv(s->sgs, s->nsgs));
	json_object_object_add(o, "env", strv(s->env, s->nenv));
	json_object_object_add(o, "created", json_object_new_int64(s->created));
	return o;
}

char *fn_spec_to_json(const struct fn_spec *s)
{
	struct json_object *o = spec_jobj(s);
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	char *out = t ? strdup(t) : NULL;
	json_object_put(o);
	return out;
}

struct rd {
	const char *what;
	struct cl_error *err;
	int r;
};

static struct json_object *field(struct rd *rd, struct json_object *o, const char *key,
				 enum json_type t)
{
	struct json_object *f;
	if (rd->r < 0)
		return NULL;
	if (!json_object_object_get_ex(o, key, &f) || !json_object_is_type(f, t)) {
		rd->r = cl_err(rd->err, EBADMSG, "%s: \"%s\" missing or of the wrong type", rd->what, key);
		return NULL;
	}
	return f;
}

static char *rd_str(struct rd *rd, struct json_object *o, const char *key)
{
	struct json_object *f = field(rd, o, key, json_type_string);
	char *s = f ? strdup(json_object_get_string(f)) : NULL;
	if (f && !s)
		rd->r = cl_err(rd->err, ENOMEM, "out of memory");
	return s;
}

static uint64_t rd_u64(struct rd *rd, struct json_object *o, const char *key)
{
	struct json_object *f = field(rd, o, key, json_type_int);
	int64_t v = f ? json_object_get_int64(f) : 0;
	if (f && v < 0)
		rd->r = cl_err(rd->err, EBADMSG, "%s: \"%s\" is negative", rd->what, key);
	return v < 0 ? 0 : (uint64_t)v;
}

static unsigned rd_uint(struct rd *rd, struct json_object *o, const char *key)
{
	uint64_t v = rd_u64(rd, o, key);
	if (rd->r == 0 && v > 1000000)
		rd->r = cl_err(rd->err, EBADMSG, "%s: \"%s\" out of range", rd->what, key);
	return (unsigned)v;
}

static char **rd_strv(struct rd *rd, struct json_object *o, const char *key, size_t *n)
{
	struct json_object *a = field(rd, o, key, json_type_array);
	size_t k = a ? json_object_array_length(a) : 0;
	char **v = k ? calloc(k, sizeof(*v)) : NULL;
	*n = 0;
	if (k && !v) {
		rd->r = cl_err(rd->err, ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < k && rd->r == 0; i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		if (!json_object_is_type(e, json_type_string)) {
			rd->r = cl_err(rd->err, EBADMSG, "%s: \"%s\" holds a non-string", rd->what, key);
			break;
		}
		if (!(v[i] = strdup(json_object_get_string(e))))
			rd->r = cl_err(rd->err, ENOMEM, "out of memory");
		else
			(*n)++;
	}
	return v;
}

int fn_spec_from_json(const char *json, const char *what, struct fn_spec *s, struct cl_error *err)
{
	struct rd rd = { what, err, 0 };
	struct json_object *o = json_tokener_parse(json), *f;
	memset(s, 0, sizeof(*s));
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return cl_err(err, EBADMSG, "%s: not a JSON object", what);
	}
	if (!json_object_object_get_ex(o, "version", &f) || json_object_get_int(f) != RECORD_VERSION) {
		json_object_put(o);
		return cl_err(err, EBADMSG, "%s: record version is not %d", what, RECORD_VERSION);
	}
	char *name = rd_str(&rd, o, "name"), *kind = rd_str(&rd, o, "kind");
	if (rd.r == 0 && strlen(name) > FN_NAME_MAX)
		rd.r = cl_err(err, EBADMSG, "%s: name too long", what);
	if (rd.r == 0) {
		snprintf(s->name, sizeof(s->name), "%s", name);
		if (fn_kind_parse(kind, &s->kind, err) < 0)
			rd.r = cl_err_wrap(err, "%s", what);
	}
	free(name);
	free(kind);
	s->image = rd_str(&rd, o, "image");
	s->handler = rd_str(&rd, o, "handler");
	s->memory = rd_u64(&rd, o, "memory");
	s->timeout_ms = rd_u64(&rd, o, "timeout_ms");
	s->concurrency = rd_uint(&rd, o, "concurrency");
	s->min_warm = rd_uint(&rd, o, "min_warm");
	s->idle_ttl_ms = rd_u64(&rd, o, "idle_ttl_ms");
	s->queue = rd_uint(&rd, o, "queue");
	s->net = rd_str(&rd, o, "net");
	s->sgs = rd_strv(&rd, o, "sgs", &s->nsgs);
	s->env = rd_strv(&rd, o, "env", &s->nenv);
	s->created = (int64_t)rd_u64(&rd, o, "created");
	json_object_put(o);
	if (rd.r == 0 && fn_spec_check(s, err) < 0)
		rd.r = cl_err_wrap(err, "%s", what);
	if (rd.r < 0)
		fn_spec_free(s);
	return rd.r;
}

int fn_get(const char *root, const char *name, struct fn_spec *s, struct cl_error *err)
{
	char p[PATH_MAX];
	struct json_object *o = NULL;
	int r;
	memset(s, 0, sizeof(*s));
	if (strlen(name) > FN_NAME_MAX || strchr(name, '/') || name[0] == '.' || !name[0])
		return cl_err(err, ENOENT, "function %.80s: no such function", name);
	if ((r = fn_path(root, name, ".json", p, sizeof(p), err)) < 0)
		return r;
	r = net_state_read_json(p, &o, err);
	if (r == -ENOENT)
		return cl_err(err, ENOENT, "function %s: no such function", name);
	if (r < 0)
		return r;
	r = fn_spec_from_json(json_object_to_json_string(o), p, s, err);
	json_object_put(o);
	return r;
}

/* Instances reach clfn from the VPC router's address on their subnet: one
 * VPC security group lets exactly that in, and a function's instances are
 * its members besides their own groups. */
static int invoke_sg(const char *root, const struct fn_spec *s, struct cl_error *err)
{
	char vn[NET_NAME_LEN + 1], sn[NET_NAME_LEN + 1], ref[2 * NET_NAME_LEN + 2], from[CIDR_STR_MAX];
	char port[8];
	struct vpc v;
	struct sg_rule rule;
	int r;
	if ((r = net_ref_parse(s->net, vn, sn, err)) < 0 || (r = vpc_get(root, vn, &v, err)) < 0)
		return r;
	const struct net_subnet *sub = vpc_subnet_find(&v, sn);
	if (!sub) {
		vpc_free(&v);
		return cl_err(err, ENOENT, "subnet %s: no such subnet", s->net);
	}
	for (size_t i = 0; i < s->nsgs; i++)
		if (!vpc_sg_find(&v, s->sgs[i])) {
			vpc_free(&v);
			return cl_err(err, ENOENT, "security group %s/%s: no such group", vn, s->sgs[i]);
		}
	struct cidr gw = { cidr_first_host(&sub->cidr), 32 };
	cidr_format(&gw, from);
	snprintf(port, sizeof(port), "%u", FN_RUNTIME_PORT);
	snprintf(ref, sizeof(ref), "%s/%s", vn, FN_INVOKE_SG);
	if ((r = sg_rule_parse(SG_INGRESS, "tcp", port, from, &rule, err)) < 0) {
		vpc_free(&v);
		return r;
	}
	const struct vpc_sg *g = vpc_sg_find(&v, FN_INVOKE_SG);
	bool have = false;
	for (size_t i = 0; g && i < g->nrules; i++)
		have |= g->rules[i].port_lo == rule.port_lo && g->rules[i].peer.addr == rule.peer.addr &&
			!g->rules[i].from_sg;
	bool had_group = g != NULL;
	vpc_free(&v);
	if (have)
		return 0;
	if (!had_group && (r = vpc_sg_create(root, ref, err)) < 0 && r != -EEXIST)
		return r;
	return vpc_sg_rule_add(root, ref, &rule, err);
}

/* the layers (or root directory) a function's instances are made of */
static int image_root(const struct fn_spec *s, char *buf, size_t len, struct cl_error *err)
{
	if (s->kind == FN_CT) {
		snprintf(buf, len, "%s", s->image);
		return 0;
	}
	/* the VM flavour boots the project's guest kernel with the workload
	 * initramfs: IMAGE is the directory holding both (build/images) and
	 * the staged tree they are made of */
	static const char *const need[] = { "bzImage", "initramfs.cpio.gz", "rootfs" };
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		snprintf(buf, len, "%s/%s", s->image, need[i]);
		if (access(buf, R_OK) < 0)
			return cl_err_sys(err, errno, "image %s: %s", s->image, need[i]);
	}
	return 0;
}

static int handler_check(const char *root, const struct fn_spec *s, struct cl_error *err)
{
	char cmd[256], img[PATH_MAX];
	/* handlers run as `/bin/sh -c HANDLER`: the shell, and the command
	 * the handler starts with unless the shell runs it itself */
	int r, ext = fn_handler_command(s->handler, cmd, sizeof(cmd));
	if (ext < 0)
		return cl_err(err, -ext, "handler '%.60s...': command too long", s->handler);
	if ((r = image_root(s, img, sizeof(img), err)) < 0 ||
	    (r = crun_image_lookup(root, img, "/bin/sh", err)) < 0)
		return r;
	return ext ? crun_image_lookup(root, img, cmd, err) : 0;
}

int fn_deploy(const char *root, struct fn_spec *s, struct cl_error *err)
{
	char p[PATH_MAX];
	int fd, r;
	if ((r = fn_spec_check(s, err)) < 0)
		return r;
	if ((r = handler_check(root, s, err)) < 0)
		return cl_err_wrap(err, "function %s", s->name);
	if ((r = lock_fn(root, &fd, err)) < 0)
		return r;
	if ((r = fn_path(root, s->name, ".json", p, sizeof(p), err)) < 0)
		goto out;
	if (access(p, F_OK) == 0) {
		r = cl_err(err, EEXIST, "function %s exists (fn rm it first)", s->name);
		goto out;
	}
	if ((r = invoke_sg(root, s, err)) < 0) {
		cl_err_wrap(err, "function %s", s->name);
		goto out;
	}
	s->created = (int64_t)time(NULL);
	struct json_object *o = spec_jobj(s);
	r = net_state_write_json(p, o, err);
	json_object_put(o);
out:
	close(fd);
	return r;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int fn_list(const char *root, char ***names, size_t *n, struct cl_error *err)
{
	char p[PATH_MAX];
	int r;
	*names = NULL;
	*n = 0;
	if ((r = fn_path(root, "", "", p, sizeof(p), err)) < 0)
		return r;
	DIR *d = opendir(p);
	if (!d)
		return errno == ENOENT ? 0 : cl_err_sys(err, errno, "%s", p);
	struct dirent *e;
	size_t cap = 0;
	while ((e = readdir(d))) {
		size_t k = strlen(e->d_name);
		if (e->d_name[0] == '.' || k <= 5 || strcmp(e->d_name + k - 5, ".json"))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			char **nv = realloc(*names, cap * sizeof(*nv));
			if (!nv) {
				r = cl_err(err, ENOMEM, "out of memory");
				break;
			}
			*names = nv;
		}
		if (!((*names)[*n] = strndup(e->d_name, k - 5))) {
			r = cl_err(err, ENOMEM, "out of memory");
			break;
		}
		(*n)++;
	}
	closedir(d);
	if (r < 0) {
		for (size_t i = 0; i < *n; i++)
			free((*names)[i]);
		free(*names);
		*names = NULL;
		*n = 0;
		return r;
	}
	if (*n)
		qsort(*names, *n, sizeof(**names), name_cmp);
	return 0;
}

static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];
	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    (size_t)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) < sizeof(p))
			unlink(p);
	closedir(d);
	rmdir(dir);
}

int fn_remove(const char *root, const char *name, struct cl_error *err)
{
	struct fn_spec s;
	char p[PATH_MAX];
	int fd, r;
	if ((r = fn_get(root, name, &s, err)) < 0)
		return r;
	fn_spec_free(&s);
	if ((r = lock_fn(root, &fd, err)) < 0)
		return r;
	if ((r = fn_path(root, name, ".json", p, sizeof(p), err)) == 0 && unlink(p) < 0)
		r = cl_err_sys(err, errno, "%s", p);
	if (r == 0 && fn_path(root, name, "", p, sizeof(p), NULL) == 0)
		rm_dir(p);
	close(fd);
	return r;
}
