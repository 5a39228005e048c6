/* `cloudlet vm`: the sandbox's options (--no-jail, --uid, --gid,
 * --jail-base, --seccomp), its report lines, and `vm seccomp-profile`. */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cloudlet/vmm.h"

int vm_sandbox_opts(const struct cli_args *a, struct vmm_config *c, struct vmm_jail *j,
		    struct cl_error *err)
{
	int r;
	const char *sc = cli_str(a, "seccomp", NULL);
	if (sc && (r = vmm_seccomp_parse(sc, &c->seccomp, err)) < 0)
		return r;
	bool asked = cli_opt(a, "uid")->set || cli_opt(a, "gid")->set || cli_opt(a, "jail-base")->set;
	/* jailed by default, as root: the jail needs namespaces, a cgroup, setuid */
	j->enabled = !cli_flag(a, "no-jail") && geteuid() == 0;
	if (asked && cli_flag(a, "no-jail"))
		return cl_err(err, EINVAL, "--uid, --gid and --jail-base go with a jailed launch, not --no-jail");
	if (asked && !j->enabled)
		return cl_err(err, EPERM, "--uid, --gid and --jail-base need root (a jailed launch)");
	uint64_t uid = cli_num(a, "uid", VMM_JAIL_ID), gid = cli_num(a, "gid", VMM_JAIL_ID);
	if (uid > UINT32_MAX || gid > UINT32_MAX)
		return cl_err(err, EINVAL, "--%s %llu: ids are 32-bit", uid > UINT32_MAX ? "uid" : "gid",
			      (unsigned long long)(uid > UINT32_MAX ? uid : gid));
	j->uid = (uid_t)uid;
	j->gid = (gid_t)gid;
	j->base = cli_str(a, "jail-base", NULL);
	return 0;
}

void vm_sandbox_report(FILE *out, const struct vmm_result *res)
{
	/* --seccomp=log: what would have killed the VMM (a kill: the reason names it) */
	if (res->status == VMM_EXIT_SIGNAL + SIGSYS)
		return;
	for (unsigned i = 0; i < res->nsc_events; i++) {
		const struct vmm_sc_event *e = &res->sc_events[i];
		fprintf(out, "cloudlet: vm run: seccomp log: thread %s made syscall %s (%ld) %u time%s, "
			"outside its allowlist\n", e->thread, e->syscall, e->nr, e->count,
			e->count == 1 ? "" : "s");
	}
}

/* "KVM_RUN KVM_IRQ_LINE ...": the requests kind k's filter admits */
static void ioctl_names(int k, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < vmm_ioctl_reqs_count && n < len; i++)
		if (vmm_ioctl_reqs[i].kinds & (1u << k))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "", vmm_ioctl_reqs[i].name);
}

static int profile_json(void)
{
	json_object *o = json_object_new_object(), *threads = json_object_new_array();
	for (int k = 0; k < VMM_THREAD_NKINDS; k++) {
		const struct vmm_sc_table *t = &vmm_sc_tables[k];
		json_object *th = json_object_new_object(), *calls = json_object_new_array();
		json_object_object_add(th, "kind", json_object_new_string(t->kind));
		json_object_object_add(th, "what", json_object_new_string(t->what));
		json_object_object_add(th, "count", json_object_new_int((int)t->n));
		for (size_t i = 0; i < t->n; i++) {
			json_object *c = json_object_new_object();
			json_object_object_add(c, "name", json_object_new_string(t->rules[i].name));
			json_object_object_add(c, "why", json_object_new_string(t->rules[i].why));
			if (!strcmp(t->rules[i].name, "ioctl")) {
				json_object *reqs = json_object_new_array();
				for (size_t q = 0; q < vmm_ioctl_reqs_count; q++)
					if (vmm_ioctl_reqs[q].kinds & (1u << k))
						json_object_array_add(reqs, json_object_new_string(vmm_ioctl_reqs[q].name));
				json_object_object_add(c, "requests", reqs);
			}
			json_object_array_add(calls, c);
		}
		json_object_object_add(th, "syscalls", calls);
		json_object_array_add(threads, th);
	}
	json_object_object_add(o, "threads", threads);
	json_object_object_add(o, "default_action", json_object_new_string("SECCOMP_RET_KILL_PROCESS"));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

int vm_seccomp_profile(const struct cli_args *a, struct cl_error *err)
{
	(void)err;
	if (cli_flag(a, "json"))
		return profile_json();
	for (int k = 0; k < VMM_THREAD_NKINDS; k++) {
		const struct vmm_sc_table *t = &vmm_sc_tables[k];
		printf("%s%s thread (%s): %zu syscalls\n", k ? "\n" : "", t->kind, t->what, t->n);
		for (size_t i = 0; i < t->n; i++) {
			printf("  %-16s %s\n", t->rules[i].name, t->rules[i].why);
			if (!strcmp(t->rules[i].name, "ioctl")) {
				char names[512];
				ioctl_names(k, names, sizeof(names));
				printf("  %-16s   requests: %s\n", "", names);
			}
		}
	}
	printf("\nanything else: SECCOMP_RET_KILL_PROCESS (--seccomp=log: logged and allowed)\n");
	return 0;
}
