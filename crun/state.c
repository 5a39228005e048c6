/* The state directory: ROOT/ct/NAME/ per container (state.json, the overlay
 * upper/work dirs, the rootfs mount point, a detached container's log) and
 * ROOT/ct/.lock, an flock taken around every read-modify-write of a
 * state.json. A name is claimed by mkdir (atomic); state.json is replaced by
 * rename (readers never see half a file). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloudlet/file.h"
#include "internal.h"

char *ct_path_join(const char *a, const char *b)
{
	char *p;
	if (asprintf(&p, "%s/%s", a, b) < 0)
		return NULL;
	return p;
}

char *ct_state_path(const char *root, const char *name)
{
	char *p;
	if (asprintf(&p, "%s/ct/%s", root, name) < 0)
		return NULL;
	return p;
}

int ct_state_lock(const char *root, bool exclusive, int *fd, struct cl_error *err)
{
	char *ct = ct_path_join(root, "ct");
	if (!ct)
		return cl_err(err, ENOMEM, "out of memory");
	int r = cl_mkdir_p(ct, 0711);
	if (r < 0) {
		cl_err_sys(err, -r, "state directory %s", ct);
		free(ct);
		return r;
	}
	char *lock = ct_path_join(ct, ".lock");
	free(ct);
	if (!lock)
		return cl_err(err, ENOMEM, "out of memory");
	*fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0) {
		r = cl_err_sys(err, errno, "%s", lock);
		free(lock);
		return r;
	}
	while (flock(*fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno == EINTR)
			continue;
		r = cl_err_sys(err, errno, "lock %s", lock);
		close(*fd);
		free(lock);
		return r;
	}
	free(lock);
	return 0;
}

void ct_state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);   /* releases the flock */
}

int ct_state_create_dir(const char *root, const char *name, char **dir, struct cl_error *err)
{
	char *ct = ct_path_join(root, "ct");
	if (!ct)
		return cl_err(err, ENOMEM, "out of memory");
	int r = cl_mkdir_p(ct, 0711);
	free(ct);
	if (r < 0)
		return cl_err_sys(err, -r, "state directory %s/ct", root);
	if (!(*dir = ct_state_path(root, name)))
		return cl_err(err, ENOMEM, "out of memory");
	if (mkdir(*dir, 0700) < 0) {
		r = errno == EEXIST ? cl_err(err, EEXIST, "container '%s' already exists (see 'ct ps'; 'ct rm %s')", name, name)
				    : cl_err_sys(err, errno, "create %s", *dir);
		free(*dir);
		*dir = NULL;
		return r;
	}
	return 0;
}

int ct_state_remove_dir(const char *dir, struct cl_error *err)
{
	int r = cl_remove_tree(dir);
	if (r < 0)
		return cl_err_sys(err, -r, "remove %s", dir);
	return 0;
}

void ct_state_free(struct ct_state *s)
{
	free(s->annotations);
	s->annotations = NULL;
}

/* runtime-spec state.md: ociVersion, id, status, pid (while it runs),
 * bundle, annotations */
char *ct_state_oci_json(const struct ct_state *s, const char *status)
{
	json_object *o = json_object_new_object();
	json_object *ann = s->annotations ? json_tokener_parse(s->annotations) : NULL;
	json_object_object_add(o, "ociVersion", json_object_new_string(CRUN_OCI_VERSION));
	json_object_object_add(o, "id", json_object_new_string(s->name));
	json_object_object_add(o, "status", json_object_new_string(status));
	if (strcmp(status, "stopped"))
		json_object_object_add(o, "pid", json_object_new_int(s->pid));
	json_object_object_add(o, "bundle", json_object_new_string(s->bundle));
	json_object_object_add(o, "annotations", ann ? ann : json_object_new_object());
	char *t = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return t;
}

/* ---- pids ---- */

/* ---- state.json ---- */

static const char *const status_names[] = {
	[CRUN_CREATED] = "created",
	[CRUN_RUNNING] = "running",
	[CRUN_STOPPED] = "stopped",
	[CRUN_PAUSED] = "paused",
};

const char *crun_status_name(enum crun_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s] : "unknown";
}

int ct_state_write(const char *dir, const struct ct_state *s, struct cl_error *err)
{
	json_object *o = json_object_new_object(), *cg = json_object_new_object();
	json_object *paths = json_object_new_array(), *parents = json_object_new_array();
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "status", json_object_new_string(crun_status_name(s->status)));
	json_object_object_add(o, "pid", json_object_new_int(s->pid));
	json_object_object_add(o, "pid_start", json_object_new_uint64(s->pid_start));
	json_object_object_add(o, "monitor", json_object_new_int(s->monitor));
	json_object_object_add(o, "monitor_start", json_object_new_uint64(s->monitor_start));
	json_object_object_add(o, "exit_status", json_object_new_int(s->exit_status));
	json_object_object_add(o, "created", json_object_new_int64(s->created));
	json_object_object_add(o, "detached", json_object_new_boolean(s->detached));
	json_object_object_add(o, "image", json_object_new_string(s->image));
	json_object_object_add(o, "command", json_object_new_string(s->command));
	json_object_object_add(cg, "version", json_object_new_int(s->cg.version));
	for (int c = 0; c < CL_CG_NCTRL; c++) {
		json_object_array_add(paths, json_object_new_string(s->cg.path[c]));
		json_object_array_add(parents, json_object_new_string(s->cg.parent[c]));
	}
	json_object_object_add(cg, "paths", paths);
	json_object_object_add(cg, "parents", parents);
	json_object_object_add(o, "cgroup", cg);
	if (s->bundle[0]) {
		json_object *ann = s->annotations ? json_tokener_parse(s->annotations) : NULL;
		json_object_object_add(o, "bundle", json_object_new_string(s->bundle));
		json_object_object_add(o, "annotations", ann ? ann : json_object_new_object());
	}

	char tmp[PATH_MAX], path[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s/state.json.tmp", dir);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	int r = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = cl_err_sys(err, errno, "%s", tmp);
	} else {
		size_t len = strlen(text);
		ssize_t n = write(fd, text, len);
		int e = errno;
		if (close(fd) < 0 && n == (ssize_t)len)
			n = -1, e = errno;
		if (n != (ssize_t)len)
			r = cl_err_sys(err, n < 0 ? e : EIO, "write %s", tmp);
		else if (rename(tmp, path) < 0)
			r = cl_err_sys(err, errno, "rename %s", tmp);
		if (r < 0)
			unlink(tmp);
	}
	json_object_put(o);
	return r;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : "";
}

static int64_t jint(json_object *o, const char *k, int64_t def)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : def;
}

int ct_state_read(const char *dir, struct ct_state *s, struct cl_error *err)
{
	char path[PATH_MAX], *buf;
	snprintf(path, sizeof(path), "%s/state.json", dir);
	int r = cl_text_read(path, 1 << 20, &buf, err);
	if (r < 0)
		return r;
	json_tokener *tok = json_tokener_new();
	json_object *o = tok ? json_tokener_parse_ex(tok, buf, (int)strlen(buf)) : NULL;
	json_tokener_free(tok);
	free(buf);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return cl_err(err, EINVAL, "%s: not a state file", path);
	}
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", jstr(o, "name"));
	const char *st = jstr(o, "status");
	s->status = CRUN_STOPPED;
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (!strcmp(st, status_names[i]))
			s->status = (enum crun_status)i;
	s->pid = (pid_t)jint(o, "pid", 0);
	s->pid_start = (unsigned long long)jint(o, "pid_start", 0);
	s->monitor = (pid_t)jint(o, "monitor", 0);
	s->monitor_start = (unsigned long long)jint(o, "monitor_start", 0);
	s->exit_status = (int)jint(o, "exit_status", -1);
	s->created = jint(o, "created", 0);
	json_object *v;
	s->detached = json_object_object_get_ex(o, "detached", &v) && json_object_get_boolean(v);
	snprintf(s->image, sizeof(s->image), "%s", jstr(o, "image"));
	snprintf(s->command, sizeof(s->command), "%s", jstr(o, "command"));
	snprintf(s->bundle, sizeof(s->bundle), "%s", jstr(o, "bundle"));
	json_object *ann;
	if (json_object_object_get_ex(o, "annotations", &ann) &&
	    !(s->annotations = strdup(json_object_to_json_string_ext(ann, JSON_C_TO_STRING_PLAIN)))) {
		json_object_put(o);
		return cl_err(err, ENOMEM, "out of memory");
	}
	json_object *cg;
	if (json_object_object_get_ex(o, "cgroup", &cg)) {
		json_object *paths, *parents;
		s->cg.version = (int)jint(cg, "version", 0);
		if (json_object_object_get_ex(cg, "paths", &paths) &&
		    json_object_object_get_ex(cg, "parents", &parents))
			for (int c = 0; c < CL_CG_NCTRL; c++) {
				const char *p = json_object_get_string(json_object_array_get_idx(paths, (size_t)c));
				const char *q = json_object_get_string(json_object_array_get_idx(parents, (size_t)c));
				snprintf(s->cg.path[c], sizeof(s->cg.path[c]), "%s", p ? p : "");
				snprintf(s->cg.parent[c], sizeof(s->cg.parent[c]), "%s", q ? q : "");
			}
	}
	json_object_put(o);
	return 0;
}
