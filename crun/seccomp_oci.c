/* A bundle's own seccomp profile (runtime-spec config-linux.md "Seccomp"):
 * linux.seccomp parsed into struct crun_seccomp (pure), and compiled into a
 * libseccomp filter. Loading it is ct_seccomp_apply's (seccomp.c), the one
 * place that loads a container's filter.
 *
 * As runc: a syscall name this architecture does not know is skipped (a
 * profile lists every ABI's calls); a rule whose action is the default one
 * adds nothing; args on distinct indexes are ANDed in one rule, args that
 * repeat an index become one rule each (libseccomp refuses two tests of
 * one argument in a rule). An unknown action, operator, architecture or
 * flag is an error that names it. */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/crun.h"

/* config-linux.md: "action" and "defaultAction" values */
const struct crun_sc_name crun_sc_actions[] = {
	{ "SCMP_ACT_KILL", SCMP_ACT_KILL },
	{ "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS },
	{ "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD },
	{ "SCMP_ACT_TRAP", SCMP_ACT_TRAP },
	{ "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0) },
	{ "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0) },
	{ "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW },
	{ "SCMP_ACT_LOG", SCMP_ACT_LOG },
};
const size_t crun_sc_actions_count = sizeof(crun_sc_actions) / sizeof(crun_sc_actions[0]);

/* config-linux.md: args[].op */
const struct crun_sc_name crun_sc_ops[] = {
	{ "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
	{ "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
	{ "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
	{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};
const size_t crun_sc_ops_count = sizeof(crun_sc_ops) / sizeof(crun_sc_ops[0]);

/* config-linux.md: flags, as seccomp(2) SECCOMP_FILTER_FLAG_* through
 * libseccomp's filter attributes */
const struct crun_sc_name crun_sc_flags[] = {
	{ "SECCOMP_FILTER_FLAG_TSYNC", CRUN_SC_FLAG_TSYNC },
	{ "SECCOMP_FILTER_FLAG_LOG", CRUN_SC_FLAG_LOG },
	{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", CRUN_SC_FLAG_SPEC_ALLOW },
};
const size_t crun_sc_flags_count = sizeof(crun_sc_flags) / sizeof(crun_sc_flags[0]);

static int name_lookup(const struct crun_sc_name *t, size_t n, const char *s, uint32_t *v)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(t[i].name, s)) {
			*v = t[i].value;
			return 0;
		}
	return -1;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64" -> its token (0: unknown) */
uint32_t crun_sc_arch(const char *name)
{
	char low[32];
	const char *p = name && !strncmp(name, "SCMP_ARCH_", 10) ? name + 10 : NULL;
	if (!p || strlen(p) >= sizeof(low))
		return 0;
	for (size_t i = 0; (low[i] = (char)tolower((unsigned char)p[i])); i++)
		;
	return seccomp_arch_resolve_name(low);
}

static json_object *get(json_object *o, const char *k)
{
	json_object *v;
	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* SCMP_ACT_ERRNO/TRACE carry errnoRet (EPERM when absent, as runc) */
static int action_parse(json_object *name, json_object *ret, const char *what, uint32_t *out,
			struct cl_error *err)
{
	const char *s = name ? json_object_get_string(name) : NULL;
	uint32_t a;
	if (!s)
		return cl_err(err, EINVAL, "%s: no action", what);
	if (!strcmp(s, "SCMP_ACT_NOTIFY"))
		return cl_err(err, ENOTSUP, "%s: SCMP_ACT_NOTIFY (a seccomp agent) is not supported", what);
	if (name_lookup(crun_sc_actions, crun_sc_actions_count, s, &a) < 0)
		return cl_err(err, EINVAL, "%s: unknown seccomp action '%s'", what, s);
	if (a == SCMP_ACT_ERRNO(0) || a == SCMP_ACT_TRACE(0)) {
		int64_t e = ret ? json_object_get_int64(ret) : 1 /* EPERM */;
		if (e < 0 || e > 0xffff)
			return cl_err(err, EINVAL, "%s: errnoRet %lld out of range", what, (long long)e);
		a |= (uint32_t)e;
	}
	*out = a;
	return 0;
}

static int arg_parse(json_object *o, const char *what, struct crun_sc_arg *a, struct cl_error *err)
{
	json_object *idx = get(o, "index"), *op = get(o, "op");
	uint32_t v;
	if (!idx || json_object_get_int64(idx) < 0 || json_object_get_int64(idx) > 5)
		return cl_err(err, EINVAL, "%s: index must be 0 to 5", what);
	const char *ops = op ? json_object_get_string(op) : "";
	if (name_lookup(crun_sc_ops, crun_sc_ops_count, ops, &v) < 0)
		return cl_err(err, EINVAL, "%s: unknown seccomp operator '%s'", what, ops);
	a->index = (unsigned)json_object_get_int64(idx);
	a->op = (enum scmp_compare)v;
	a->value = get(o, "value") ? json_object_get_uint64(get(o, "value")) : 0;
	a->value_two = get(o, "valueTwo") ? json_object_get_uint64(get(o, "valueTwo")) : 0;
	return 0;
}

static int rule_parse(json_object *o, size_t i, struct crun_sc_rule *r, struct cl_error *err)
{
	char what[64];
	json_object *names = get(o, "names"), *args = get(o, "args");
	snprintf(what, sizeof(what), "linux.seccomp.syscalls[%zu]", i);
	if (!names || !json_object_is_type(names, json_type_array) || !json_object_array_length(names))
		return cl_err(err, EINVAL, "%s: no names", what);
	size_t n = json_object_array_length(names);
	if (!(r->names = calloc(n + 1, sizeof(*r->names))))
		return cl_err(err, ENOMEM, "out of memory");
	for (size_t k = 0; k < n; k++) {
		json_object *e = json_object_array_get_idx(names, k);
		if (!json_object_is_type(e, json_type_string))
			return cl_err(err, EINVAL, "%s.names[%zu] is not a string", what, k);
		if (!(r->names[k] = strdup(json_object_get_string(e))))
			return cl_err(err, ENOMEM, "out of memory");
	}
	int rc = action_parse(get(o, "action"), get(o, "errnoRet"), what, &r->action, err);
	if (rc < 0)
		return rc;
	if (args && !json_object_is_type(args, json_type_array))
		return cl_err(err, EINVAL, "%s.args is not an array", what);
	size_t na = args ? json_object_array_length(args) : 0;
	if (na > CRUN_SC_MAX_ARGS)
		return cl_err(err, EINVAL, "%s: more than %d args", what, CRUN_SC_MAX_ARGS);
	for (size_t k = 0; k < na; k++) {
		char w[96];
		snprintf(w, sizeof(w), "%s.args[%zu]", what, k);
		if ((rc = arg_parse(json_object_array_get_idx(args, k), w, &r->args[k], err)) < 0)
			return rc;
		r->nargs++;
	}
	return 0;
}

int crun_seccomp_parse(struct json_object *o, struct crun_seccomp **out, struct cl_error *err)
{
	struct crun_seccomp *p = calloc(1, sizeof(*p));
	int r;
	if (!p)
		return cl_err(err, ENOMEM, "out of memory");
	*out = p;
	if (!json_object_is_type(o, json_type_object))
		return cl_err(err, EINVAL, "linux.seccomp is not an object");
	if ((r = action_parse(get(o, "defaultAction"), get(o, "defaultErrnoRet"), "linux.seccomp.defaultAction",
			      &p->default_action, err)) < 0)
		return r;
	if (get(o, "listenerPath"))
		return cl_err(err, ENOTSUP, "linux.seccomp.listenerPath (a seccomp agent) is not supported");
	json_object *arches = get(o, "architectures"), *flags = get(o, "flags"), *sys = get(o, "syscalls");
	for (size_t i = 0; arches && i < json_object_array_length(arches); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arches, i));
		if (p->narches == CRUN_SC_MAX_ARCHES)
			return cl_err(err, EINVAL, "linux.seccomp: more than %d architectures", CRUN_SC_MAX_ARCHES);
		if (!(p->arches[p->narches++] = crun_sc_arch(s)))
			return cl_err(err, EINVAL, "linux.seccomp: unknown architecture '%s'", s ? s : "");
	}
	for (size_t i = 0; flags && i < json_object_array_length(flags); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(flags, i));
		uint32_t f;
		if (name_lookup(crun_sc_flags, crun_sc_flags_count, s, &f) < 0)
			return cl_err(err, EINVAL, "linux.seccomp: unsupported flag '%s'", s ? s : "");
		p->flags |= f;
	}
	if (sys && !json_object_is_type(sys, json_type_array))
		return cl_err(err, EINVAL, "linux.seccomp.syscalls is not an array");
	size_t n = sys ? json_object_array_length(sys) : 0;
	if (n && !(p->rules = calloc(n, sizeof(*p->rules))))
		return cl_err(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		p->nrules++;
		if ((r = rule_parse(json_object_array_get_idx(sys, i), i, &p->rules[i], err)) < 0)
			return r;
	}
	return 0;
}

void crun_seccomp_free(struct crun_seccomp *p)
{
	for (size_t i = 0; p && i < p->nrules; i++) {
		for (size_t k = 0; p->rules[i].names && p->rules[i].names[k]; k++)
			free(p->rules[i].names[k]);
		free(p->rules[i].names);
	}
	if (p)
		free(p->rules);
	free(p);
}

static struct scmp_arg_cmp arg_cmp(const struct crun_sc_arg *a)
{
	/* MASKED_EQ: (arg & value) == valueTwo; the rest compare with value */
	return (struct scmp_arg_cmp){ .arg = a->index, .op = a->op, .datum_a = a->value,
				      .datum_b = a->op == SCMP_CMP_MASKED_EQ ? a->value_two : 0 };
}

static int rule_add(scmp_filter_ctx ctx, const struct crun_sc_rule *r, int nr)
{
	struct scmp_arg_cmp cmps[CRUN_SC_MAX_ARGS];
	bool repeat = false;
	for (size_t i = 0; i < r->nargs; i++) {
		cmps[i] = arg_cmp(&r->args[i]);
		for (size_t k = 0; k < i; k++)
			repeat |= r->args[k].index == r->args[i].index;
	}
	if (!repeat)
		return seccomp_rule_add_array(ctx, r->action, nr, (unsigned)r->nargs, cmps);
	for (size_t i = 0; i < r->nargs; i++) {
		int e = seccomp_rule_add_array(ctx, r->action, nr, 1, &cmps[i]);
		if (e < 0)
			return e;
	}
	return 0;
}

int crun_seccomp_compile(const struct crun_seccomp *p, scmp_filter_ctx *out, struct cl_error *err)
{
	static const struct { uint32_t flag; enum scmp_filter_attr attr; const char *name; } attrs[] = {
		{ CRUN_SC_FLAG_TSYNC, SCMP_FLTATR_CTL_TSYNC, "SECCOMP_FILTER_FLAG_TSYNC" },
		{ CRUN_SC_FLAG_LOG, SCMP_FLTATR_CTL_LOG, "SECCOMP_FILTER_FLAG_LOG" },
		{ CRUN_SC_FLAG_SPEC_ALLOW, SCMP_FLTATR_CTL_SSB, "SECCOMP_FILTER_FLAG_SPEC_ALLOW" },
	};
	scmp_filter_ctx ctx = seccomp_init(p->default_action);
	int e = 0;
	if (!ctx)
		return cl_err(err, EINVAL, "seccomp: the default action is not valid here");
	for (size_t i = 0; i < p->narches && e == 0; i++)
		if ((e = seccomp_arch_add(ctx, p->arches[i])) == -EEXIST)
			e = 0;   /* the native one is already there */
	if (e < 0) {
		seccomp_release(ctx);
		return cl_err(err, -e, "seccomp: add an architecture: %s", strerror(-e));
	}
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if ((p->flags & attrs[i].flag) && (e = seccomp_attr_set(ctx, attrs[i].attr, 1)) < 0) {
			seccomp_release(ctx);
			return cl_err(err, -e, "seccomp: flag %s: %s", attrs[i].name, strerror(-e));
		}
	for (size_t i = 0; i < p->nrules; i++) {
		const struct crun_sc_rule *r = &p->rules[i];
		if (r->action == p->default_action)
			continue;
		for (size_t k = 0; r->names[k]; k++) {
			int nr = seccomp_syscall_resolve_name(r->names[k]);
			if (nr == __NR_SCMP_ERROR)
				continue;   /* not a syscall of this architecture */
			if ((e = rule_add(ctx, r, nr)) < 0) {
				seccomp_release(ctx);
				return cl_err(err, -e, "seccomp: syscalls[%zu] %s: %s", i, r->names[k], strerror(-e));
			}
		}
	}
	*out = ctx;
	return 0;
}
