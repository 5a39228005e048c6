/* The container's process from the image config and the command line, and
 * the value checks of `ct run`: pure functions, no I/O. Docker semantics:
 * args = Entrypoint + (CMD from the command line, else the image's Cmd);
 * --env overrides the image's Env by key; WorkingDir defaults to "/". */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/crun.h"

int crun_parse_cpus(const char *s, unsigned host_cpus, uint64_t *quota_us,
		    uint64_t *period_us, struct cl_error *err)
{
	/* fixed point: 1 CPU = CRUN_CPU_PERIOD_US (1e5) us of quota per period,
	 * so five decimals are exact microseconds; no floating point */
	uint64_t whole = 0, frac = 0;
	int nwhole = 0, nfrac = 0;
	const char *p = s;

	if (!s)
		return cl_err(err, EINVAL, "missing number of CPUs");
	for (; isdigit((unsigned char)*p); p++, nwhole++) {
		if (whole > 1000000)
			return cl_err(err, ERANGE, "'%s' CPUs is too many", s);
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++, nfrac++) {
			if (nfrac >= 5)
				return cl_err(err, EINVAL, "'%s': at most 5 digits after the point", s);
			frac = frac * 10 + (uint64_t)(*p - '0');
		}
	if (*p || (!nwhole && !nfrac))
		return cl_err(err, EINVAL, "'%s' is not a number of CPUs (e.g. 0.5 or 2)", s);
	for (int i = nfrac; i < 5; i++)
		frac *= 10;
	uint64_t quota = whole * CRUN_CPU_PERIOD_US + frac;
	if (quota < CRUN_MIN_CPU_QUOTA_US)
		return cl_err(err, ERANGE, "'%s' CPUs is below the minimum of 0.01", s);
	if (host_cpus && quota > (uint64_t)host_cpus * CRUN_CPU_PERIOD_US)
		return cl_err(err, ERANGE, "'%s' CPUs is more than this host's %u", s, host_cpus);
	*quota_us = quota;
	*period_us = CRUN_CPU_PERIOD_US;
	return 0;
}

int crun_check_limits(const struct cl_cg_limits *l, struct cl_error *err)
{
	if (l->memory && l->memory < CRUN_MIN_MEMORY)
		return cl_err(err, ERANGE, "memory limit %" PRIu64 " bytes is below the minimum of %llu MiB",
			      l->memory, CRUN_MIN_MEMORY >> 20);
	if (l->pids && l->pids < CRUN_MIN_PIDS)
		return cl_err(err, ERANGE, "pids limit %" PRIu64 " is below the minimum of %d (the container's init and its workload)",
			      l->pids, CRUN_MIN_PIDS);
	if (l->cpu_quota_us && (l->cpu_quota_us < CRUN_MIN_CPU_QUOTA_US || !l->cpu_period_us))
		return cl_err(err, ERANGE, "cpu quota %" PRIu64 " us is below the minimum of %llu us",
			      l->cpu_quota_us, CRUN_MIN_CPU_QUOTA_US);
	return 0;
}

static int check_name(const char *name, size_t max, struct cl_error *err)
{
	size_t n = name ? strlen(name) : 0;
	if (!n)
		return cl_err(err, EINVAL, "empty container name");
	if (n > max)
		return cl_err(err, EINVAL, "container name '%.80s' is longer than %zu characters", name, max);
	if (!isalnum((unsigned char)name[0]))
		return cl_err(err, EINVAL, "container name '%s' must start with a letter or digit", name);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return cl_err(err, EINVAL, "container name '%s': only letters, digits, '_', '.' and '-'", name);
	return 0;
}

int crun_check_name(const char *name, struct cl_error *err)
{
	return check_name(name, CRUN_NAME_MAX, err);
}

int crun_check_id(const char *id, struct cl_error *err)
{
	return check_name(id, CRUN_ID_MAX, err);
}

int crun_check_hostname(const char *host, struct cl_error *err)
{
	size_t n = host ? strlen(host) : 0;
	if (!n || n > 64)
		return cl_err(err, EINVAL, "hostname '%.80s' must be 1 to 64 characters", host ? host : "");
	if (host[0] == '-' || host[0] == '.')
		return cl_err(err, EINVAL, "hostname '%s' must start with a letter or digit", host);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)host[i]) && host[i] != '-' && host[i] != '.')
			return cl_err(err, EINVAL, "hostname '%s': only letters, digits, '-' and '.'", host);
	return 0;
}

/* ---- string vectors ---- */

static size_t vec_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

static void vec_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Append a copy of s; *v stays NULL-terminated. */
static int vec_push(char ***v, const char *s)
{
	size_t n = vec_len(*v);
	char *c = strdup(s);
	char **nv = c ? realloc(*v, (n + 2) * sizeof(*nv)) : NULL;
	if (!nv) {
		free(c);
		return -ENOMEM;
	}
	nv[n] = c;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

int crun_env_set(char ***env, const char *key, const char *value, bool overwrite)
{
	size_t klen = strlen(key);
	char *kv = malloc(klen + strlen(value) + 2);
	if (!kv)
		return -ENOMEM;
	strcpy(kv, key);
	kv[klen] = '=';
	strcpy(kv + klen + 1, value);
	for (size_t i = 0; *env && (*env)[i]; i++) {
		if (!strncmp((*env)[i], key, klen) && (*env)[i][klen] == '=') {
			if (overwrite) {
				free((*env)[i]);
				(*env)[i] = kv;
			} else {
				free(kv);
			}
			return 0;
		}
	}
	int r = vec_push(env, kv);
	free(kv);
	return r;
}

void crun_process_free(struct crun_process *p)
{
	vec_free(p->args);
	vec_free(p->env);
	free(p->cwd);
	free(p->user);
	memset(p, 0, sizeof(*p));
}

int crun_spec_process(const struct crun_image_config *ic, char *const *cmd, size_t ncmd,
		      const char *const *env, size_t nenv, const char *hostname, bool tty,
		      struct crun_process *p, struct cl_error *err)
{
	static const struct crun_image_config none;
	int r = -ENOMEM;

	memset(p, 0, sizeof(*p));
	if (!ic)
		ic = &none;
	/* args: Entrypoint, then the command line's CMD or else the image's Cmd */
	for (size_t i = 0; ic->entrypoint && ic->entrypoint[i]; i++)
		if (vec_push(&p->args, ic->entrypoint[i]) < 0)
			goto oom;
	if (ncmd) {
		for (size_t i = 0; i < ncmd; i++)
			if (vec_push(&p->args, cmd[i]) < 0)
				goto oom;
	} else {
		for (size_t i = 0; ic->cmd && ic->cmd[i]; i++)
			if (vec_push(&p->args, ic->cmd[i]) < 0)
				goto oom;
	}
	if (!p->args || !p->args[0][0]) {
		r = cl_err(err, EINVAL, "no command to run: the image has no Entrypoint or Cmd and none was given");
		goto fail;
	}

	/* env: the image's, then --env by key, then defaults */
	for (size_t i = 0; ic->env && ic->env[i]; i++)
		if (vec_push(&p->env, ic->env[i]) < 0)
			goto oom;
	for (size_t i = 0; i < nenv; i++) {
		const char *eq = strchr(env[i], '=');
		if (!eq || eq == env[i]) {
			r = cl_err(err, EINVAL, "--env '%s': expected KEY=VALUE", env[i]);
			goto fail;
		}
		char key[256];
		size_t klen = (size_t)(eq - env[i]);
		if (klen >= sizeof(key)) {
			r = cl_err(err, EINVAL, "--env '%.40s...': name too long", env[i]);
			goto fail;
		}
		memcpy(key, env[i], klen);
		key[klen] = '\0';
		if (crun_env_set(&p->env, key, eq + 1, true) < 0)
			goto oom;
	}
	if (crun_env_set(&p->env, "PATH", CRUN_DEFAULT_PATH, false) < 0 ||
	    (hostname && crun_env_set(&p->env, "HOSTNAME", hostname, false) < 0) ||
	    (tty && crun_env_set(&p->env, "TERM", "xterm", false) < 0))
		goto oom;

	/* cwd: WorkingDir, relative ones taken from "/" as Docker does */
	const char *wd = ic->working_dir && ic->working_dir[0] ? ic->working_dir : "/";
	if (wd[0] == '/') {
		p->cwd = strdup(wd);
	} else if ((p->cwd = malloc(strlen(wd) + 2))) {
		p->cwd[0] = '/';
		strcpy(p->cwd + 1, wd);
	}
	p->user = strdup(ic->user ? ic->user : "");
	if (!p->cwd || !p->user)
		goto oom;
	return 0;
oom:
	r = cl_err(err, ENOMEM, "out of memory");
fail:
	crun_process_free(p);
	return r;
}

/* ---- User: against the container's /etc/passwd and /etc/group ---- */

static bool all_digits(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int parse_id(const char *s, size_t n, uint32_t *out)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v >= UINT32_MAX)   /* (uid_t)-1 is "no change" to setuid */
			return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Find the line of a passwd/group text whose field `key_field` equals key
 * (length klen); copy field `want` of it into out. Returns 0 or -ENOENT. */
static int db_lookup(const char *text, int key_field, const char *key, size_t klen,
		     int want, char *out, size_t outlen)
{
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *f[8] = { 0 };
		size_t fl[8] = { 0 };
		int nf = 0;
		for (const char *q = line; nf < 8;) {
			const char *c = memchr(q, ':', (size_t)(line + len - q));
			f[nf] = q;
			fl[nf] = c ? (size_t)(c - q) : (size_t)(line + len - q);
			nf++;
			if (!c)
				break;
			q = c + 1;
		}
		if (line[0] != '#' && nf > key_field && nf > want &&
		    fl[key_field] == klen && !memcmp(f[key_field], key, klen)) {
			if (fl[want] >= outlen)
				return -ERANGE;
			memcpy(out, f[want], fl[want]);
			out[fl[want]] = '\0';
			return 0;
		}
		line = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

int crun_user_resolve(const char *user, const char *passwd, const char *group,
		      uid_t *uid, gid_t *gid, char **home, struct cl_error *err)
{
	const char *colon = user ? strchr(user, ':') : NULL;
	size_t ulen = !user ? 0 : colon ? (size_t)(colon - user) : strlen(user);
	const char *g = colon ? colon + 1 : NULL;
	char buf[4096], uidstr[16];
	uint32_t u = 0, gg = 0;
	bool have_gid = false;

	*home = NULL;
	strcpy(buf, "/");
	const char *uname = user;
	if (ulen == 0 && user && user[0] == ':')
		return cl_err(err, EINVAL, "user '%s': missing the user before ':'", user);
	if (ulen == 0) {   /* no User: root, with root's home from /etc/passwd */
		uname = "0";
		ulen = 1;
	}
	if (all_digits(uname, ulen)) {
		if (parse_id(uname, ulen, &u) < 0)
			return cl_err(err, ERANGE, "user '%s': id out of range", user);
		/* a numeric uid need not be in /etc/passwd; if it is, use its gid and home */
		snprintf(uidstr, sizeof(uidstr), "%u", u);
		char gidstr[16];
		if (!db_lookup(passwd, 2, uidstr, strlen(uidstr), 3, gidstr, sizeof(gidstr)) &&
		    all_digits(gidstr, strlen(gidstr)) && !parse_id(gidstr, strlen(gidstr), &gg))
			have_gid = true;
		if (db_lookup(passwd, 2, uidstr, strlen(uidstr), 5, buf, sizeof(buf)) < 0 || !buf[0])
			strcpy(buf, "/");
	} else {
		char ustr[16], gidstr[16];
		if (db_lookup(passwd, 0, user, ulen, 2, ustr, sizeof(ustr)) < 0)
			return cl_err(err, ENOENT, "user '%.*s' not found in the container's /etc/passwd",
				      (int)ulen, user);
		if (!all_digits(ustr, strlen(ustr)) || parse_id(ustr, strlen(ustr), &u) < 0 ||
		    db_lookup(passwd, 0, user, ulen, 3, gidstr, sizeof(gidstr)) < 0 ||
		    !all_digits(gidstr, strlen(gidstr)) || parse_id(gidstr, strlen(gidstr), &gg) < 0)
			return cl_err(err, EINVAL, "user '%.*s': bad entry in the container's /etc/passwd",
				      (int)ulen, user);
		have_gid = true;
		if (db_lookup(passwd, 0, user, ulen, 5, buf, sizeof(buf)) < 0 || !buf[0])
			strcpy(buf, "/");
	}
	if (g) {
		size_t glen = strlen(g);
		char gidstr[16];
		if (!glen)
			return cl_err(err, EINVAL, "user '%s': missing the group after ':'", user);
		if (all_digits(g, glen)) {
			if (parse_id(g, glen, &gg) < 0)
				return cl_err(err, ERANGE, "user '%s': group id out of range", user);
		} else if (db_lookup(group, 0, g, glen, 2, gidstr, sizeof(gidstr)) < 0) {
			return cl_err(err, ENOENT, "group '%s' not found in the container's /etc/group", g);
		} else if (!all_digits(gidstr, strlen(gidstr)) || parse_id(gidstr, strlen(gidstr), &gg) < 0) {
			return cl_err(err, EINVAL, "group '%s': bad entry in the container's /etc/group", g);
		}
		have_gid = true;
	}
	if (!(*home = strdup(buf)))
		return cl_err(err, ENOMEM, "out of memory");
	*uid = u;
	*gid = have_gid ? gg : 0;
	return 0;
}
