/* `cloudlet-cni`: a CNI plugin (SPEC.md 1.1: ADD, DEL, CHECK, STATUS, GC,
 * VERSION)
 * that attaches a container's network namespace to a cloudlet VPC subnet
 * through net_attach — the same veth, lease (`vpc show` lists it), bridge
 * port and security groups as `ct run --net`. The runtime passes
 * CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME in the environment
 * and the network configuration on stdin; the result or the error goes to
 * stdout as JSON (cloudlet/cni.h), exit 0 or 1. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloudlet/cni.h"
#include "cloudlet/crun.h"
#include "runtime.h"

static int fail(const char *version, int code, const char *msg, const char *details)
{
	char *t = cni_error_render(version, code, msg, details);
	if (t)
		puts(t);
	free(t);
	return 1;
}

static char *read_stdin(void)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n + 1 >= cap) {
			if (cap >= (1u << 20))
				break;
			char *g = realloc(buf, cap *= 2);
			if (!g) {
				free(buf);
				return NULL;
			}
			buf = g;
		}
		ssize_t k = read(STDIN_FILENO, buf + n, cap - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	if (buf)
		buf[n] = '\0';
	return buf;
}

static const char *env(const char *k)
{
	const char *v = getenv(k);
	return v && v[0] ? v : NULL;
}

int cni_main(void)
{
	const char *cmd = env("CNI_COMMAND"), *id = env("CNI_CONTAINERID");
	const char *netns = env("CNI_NETNS"), *ifname = env("CNI_IFNAME");
	struct cl_error err = { 0 };
	struct cni_conf c;
	char version[16];
	int code, r;

	char *in = read_stdin();
	cni_peek_version(in, version);
	if (!cmd) {
		free(in);
		return fail(version, CNI_ERR_ENV, "CNI_COMMAND is not set", "cloudlet-cni is run by a container runtime (CNI SPEC.md)");
	}
	if (!strcmp(cmd, "VERSION")) {
		free(in);
		char *t = cni_version_render(version);
		puts(t ? t : "{}");
		free(t);
		return 0;
	}
	if (strcmp(cmd, "ADD") && strcmp(cmd, "DEL") && strcmp(cmd, "CHECK") && strcmp(cmd, "STATUS") &&
	    strcmp(cmd, "GC")) {
		free(in);
		return fail(version, CNI_ERR_ENV, "CNI_COMMAND: unknown command", cmd);
	}
	r = cni_conf_parse(in ? in : "", &c, &code, &err);
	free(in);
	if (r < 0)
		return fail(version, code, err.msg, NULL);
	const char *root = c.root[0] ? c.root : crun_default_root();
	/* SPEC 1.1: whether ADD would work now (no attachment parameters) */
	if (!strcmp(cmd, "STATUS")) {
		struct cni_status_facts f;
		r = cni_status_facts_get(root, &c, &f, &err);
		code = CNI_ERR_IO;
		if (r == 0)
			r = cni_status_decide(&c, &f, &code, &err);
		cni_conf_free(&c);
		return r < 0 ? fail(c.version, code, err.msg, NULL) : 0;
	}
	/* SPEC 1.1: the attachments still valid are listed; the rest go */
	if (!strcmp(cmd, "GC")) {
		size_t removed;
		if (!c.has_valid) {
			cni_conf_free(&c);
			return fail(c.version, CNI_ERR_CONFIG, "GC needs cni.dev/valid-attachments", NULL);
		}
		r = cni_gc(root, &c, &removed, &err);
		cni_conf_free(&c);
		if (r < 0)
			return fail(c.version, CNI_ERR_IO, err.msg, NULL);
		if (removed)
			fprintf(stderr, "cloudlet-cni: GC detached %zu stale attachment%s\n", removed, removed == 1 ? "" : "s");
		return 0;
	}
	if (!id || !ifname || (strcmp(cmd, "DEL") && !netns)) {
		cni_conf_free(&c);
		return fail(c.version, CNI_ERR_ENV, "CNI_CONTAINERID, CNI_IFNAME and CNI_NETNS are required", cmd);
	}
	if (!strcmp(cmd, "DEL")) {
		/* idempotent: a container, netns, lease or VPC already gone is success */
		struct net_attachment a = { .tap_fd = -1 };
		snprintf(a.kind, sizeof(a.kind), "ct");
		snprintf(a.id, sizeof(a.id), "%s", id);
		if (net_ref_parse(c.ref, a.vpc, a.subnet, &err) == 0 && net_detach(root, &a, &err) < 0) {
			cni_conf_free(&c);
			return fail(c.version, CNI_ERR_IO, err.msg, NULL);
		}
		cni_conf_free(&c);
		return 0;
	}
	int ns = open(netns, O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		cl_err_sys(&err, errno, "CNI_NETNS %s", netns);
		cni_conf_free(&c);
		return fail(c.version, CNI_ERR_UNKNOWN_CONTAINER, err.msg, NULL);
	}
	struct net_attach_req rq = {
		.root = root, .ref = c.ref, .kind = "ct", .id = id,
		.guest_ns = ns, .guest_ifname = ifname, .holder = -1,
	};
	struct net_attachment a;
	if (!strcmp(cmd, "ADD")) {
		r = net_attach(&rq, &a, &err);
		close(ns);
		if (r < 0) {
			cni_conf_free(&c);
			return fail(c.version, r == -EAGAIN ? CNI_ERR_TRY_AGAIN : CNI_ERR_VPC, err.msg, NULL);
		}
		char *t = cni_result_render(&c, &a, ifname, netns);
		puts(t ? t : "{}");
		free(t);
		cni_conf_free(&c);
		return 0;
	}
	/* CHECK: the attachment against the kernel, the record and prevResult */
	r = net_attach_check(&rq, &a, &err);
	close(ns);
	if (r == 0 && !c.has_prev)
		r = cl_err(&err, EINVAL, "CHECK needs the prevResult of ADD");
	if (r == 0 && (c.prev_ip != a.ip || c.prev_prefix != a.prefix)) {
		char want[IP4_STR_MAX], have[IP4_STR_MAX];
		r = cl_err(&err, EIO, "prevResult says %s/%u, the VPC leased %s/%u", ip4_format(c.prev_ip, want),
			   (unsigned)c.prev_prefix, ip4_format(a.ip, have), (unsigned)a.prefix);
	}
	cni_conf_free(&c);
	if (r < 0)
		return fail(c.version, CNI_ERR_VPC, err.msg, NULL);
	return 0;
}
