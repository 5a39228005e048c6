/* A function's deployment values and their checks (pure). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/fn.h"
#include "cloudlet/net.h"

void fn_spec_free(struct fn_spec *s)
{
	free(s->image);
	free(s->handler);
	free(s->net);
	for (size_t i = 0; i < s->nsgs; i++)
		free(s->sgs[i]);
	free(s->sgs);
	for (size_t i = 0; i < s->nenv; i++)
		free(s->env[i]);
	free(s->env);
	memset(s, 0, sizeof(*s));
}

const char *fn_kind_name(enum fn_kind k)
{
	return k == FN_VM ? "vm" : "ct";
}

int fn_kind_parse(const char *s, enum fn_kind *k, struct cl_error *err)
{
	if (!strcmp(s, "ct"))
		*k = FN_CT;
	else if (!strcmp(s, "vm"))
		*k = FN_VM;
	else
		return cl_err(err, EINVAL, "kind '%.40s': expected ct or vm", s);
	return 0;
}

static int check_name(const char *n, struct cl_error *err)
{
	size_t len = strlen(n);
	if (len == 0 || len > FN_NAME_MAX)
		return cl_err(err, EINVAL, "function name '%.80s': 1 to %d characters", n, FN_NAME_MAX);
	for (size_t i = 0; i < len; i++) {
		char c = n[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		/* it becomes a file name and part of container names */
		if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.')))
			return cl_err(err, EINVAL, "function name '%s': letters, digits, '-', '_', '.', "
				      "starting with a letter or digit", n);
	}
	return 0;
}

int fn_spec_check(const struct fn_spec *s, struct cl_error *err)
{
	char vpc[NET_NAME_LEN + 1], sub[NET_NAME_LEN + 1];
	int r;
	if ((r = check_name(s->name, err)) < 0)
		return r;
	if (!s->image || !s->image[0])
		return cl_err(err, EINVAL, "function %s: missing image", s->name);
	if (!s->handler || !s->handler[strspn(s->handler, " \t")])
		return cl_err(err, EINVAL, "function %s: empty handler", s->name);
	if (s->memory < FN_MIN_MEMORY)
		return cl_err(err, EINVAL, "function %s: memory %llu bytes: at least %llu MiB", s->name,
			      (unsigned long long)s->memory, FN_MIN_MEMORY >> 20);
	if (s->timeout_ms < 1 || s->timeout_ms > FN_MAX_TIMEOUT_MS)
		return cl_err(err, EINVAL, "function %s: timeout %llu ms: from 1 ms to %llu s", s->name,
			      (unsigned long long)s->timeout_ms, FN_MAX_TIMEOUT_MS / 1000);
	if (s->concurrency < 1 || s->concurrency > FN_MAX_CONCURRENCY)
		return cl_err(err, EINVAL, "function %s: concurrency %u: from 1 to %u", s->name,
			      s->concurrency, FN_MAX_CONCURRENCY);
	if (s->min_warm > s->concurrency)
		return cl_err(err, EINVAL, "function %s: min-warm %u exceeds concurrency %u", s->name,
			      s->min_warm, s->concurrency);
	if (s->idle_ttl_ms < 1)
		return cl_err(err, EINVAL, "function %s: idle-ttl must be at least 1 ms", s->name);
	if (s->queue < 1 || s->queue > FN_MAX_QUEUE)
		return cl_err(err, EINVAL, "function %s: queue %u: from 1 to %u", s->name, s->queue,
			      FN_MAX_QUEUE);
	if (!s->net)
		return cl_err(err, EINVAL, "function %s: missing --net VPC/SUBNET (instances live in a subnet)",
			      s->name);
	if ((r = net_ref_parse(s->net, vpc, sub, err)) < 0)
		return cl_err_wrap(err, "function %s: net", s->name);
	for (size_t i = 0; i < s->nsgs; i++)
		if ((r = net_name_check("security group", s->sgs[i], err)) < 0)
			return cl_err_wrap(err, "function %s", s->name);
	/* a VM's handler is one quoted word of its kernel command line */
	if (s->kind == FN_VM && strpbrk(s->handler, "\"\n"))
		return cl_err(err, EINVAL, "function %s: a VM handler cannot hold '\"' or a newline", s->name);
	for (size_t i = 0; i < s->nenv; i++) {
		const char *eq = strchr(s->env[i], '=');
		if (!eq || eq == s->env[i])
			return cl_err(err, EINVAL, "function %s: env '%.80s': expected K=V", s->name, s->env[i]);
		/* the VM flavour passes env on the kernel command line, word by word */
		if (strpbrk(s->env[i], " \t\n\"'"))
			return cl_err(err, EINVAL, "function %s: env '%.80s': no spaces or quotes", s->name,
				      s->env[i]);
	}
	return 0;
}

/* POSIX shell reserved words and the built-ins sh runs without a file
 * (XCU 2.4, 2.14 and the intrinsic utilities of XCU 1.7) */
static const char *const sh_words[] = {
	"!", "{", "}", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then",
	"until", "while", "break", ":", "continue", ".", "eval", "exec", "exit", "export", "readonly",
	"return", "set", "shift", "times", "trap", "unset", "alias", "bg", "cd", "command", "false",
	"fg", "getopts", "hash", "jobs", "kill", "read", "true", "type", "ulimit", "umask", "unalias",
	"wait", "echo", "printf", "test", "[", "pwd",
};

int fn_handler_command(const char *handler, char *cmd, size_t len)
{
	const char *h = handler + strspn(handler, " \t\n");
	/* the command word: up to the first blank or shell operator */
	size_t k = strcspn(h, " \t\n;|&<>()");
	if (k == 0 || k >= len)
		return k == 0 ? 0 : -ENAMETOOLONG;
	memcpy(cmd, h, k);
	cmd[k] = '\0';
	/* an assignment, an expansion or quoting: only sh can tell */
	if (strpbrk(cmd, "=$`\"'\\*?"))
		return 0;
	for (size_t i = 0; i < sizeof(sh_words) / sizeof(sh_words[0]); i++)
		if (!strcmp(cmd, sh_words[i]))
			return 0;
	return 1;
}
