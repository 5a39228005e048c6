/* Naming the syscall that seccomp refused. A SECCOMP_RET_KILL_PROCESS
 * leaves the launcher only "killed by SIGSYS"; the kernel also writes an
 * AUDIT_SECCOMP record (type 1326: pid, comm, syscall number, action) for
 * every KILL and LOG action (seccomp(2), /proc/sys/kernel/seccomp/
 * actions_logged), which reaches /dev/kmsg when no audit daemon takes it.
 * The launcher, root, reads it from there: the thread's name (cl-vmm,
 * cl-vcpuN) says which allowlist it broke. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloudlet/clock.h"
#include "jail.h"

#define AUDIT_SECCOMP_TYPE "type=1326 "

/* " KEY=" inside [s, end): the value's start, or NULL */
static const char *field(const char *s, const char *end, const char *key)
{
	size_t k = strlen(key);
	for (const char *p = s; p + k + 2 <= end; p++)
		if (p[0] == ' ' && !memcmp(p + 1, key, k) && p[1 + k] == '=')
			return p + k + 2;
	return NULL;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int audit_seccomp_parse(const char *rec, size_t len, struct audit_seccomp *a)
{
	const char *end = rec + len, *msg = memchr(rec, ';', len);
	if (!msg)
		return -ENOENT;
	const char *nl = memchr(msg, '\n', (size_t)(end - msg));
	if (nl)
		end = nl;   /* continuation lines (" KEY=VALUE") are not the record */
	size_t tl = strlen(AUDIT_SECCOMP_TYPE);
	const char *t = NULL;
	for (const char *p = msg; p + tl <= end && !t; p++)
		if (!memcmp(p, AUDIT_SECCOMP_TYPE, tl))
			t = p;
	if (!t)
		return -ENOENT;
	const char *pid = field(t, end, "pid"), *sc = field(t, end, "syscall"),
		   *comm = field(t, end, "comm"), *code = field(t, end, "code");
	if (!pid || !sc)
		return -ENOENT;
	memset(a, 0, sizeof(*a));
	a->pid = strtol(pid, NULL, 10);
	a->syscall = strtol(sc, NULL, 10);
	a->code = code ? (uint32_t)strtoul(code, NULL, 16) : 0;
	if (comm && *comm == '"') {   /* comm="cl-vcpu0" */
		size_t i = 0;
		for (const char *p = comm + 1; p < end && *p != '"' && i < sizeof(a->comm) - 1; p++)
			a->comm[i++] = *p;
	} else if (comm) {            /* audit hex-encodes a name with odd characters */
		size_t i = 0;
		for (const char *p = comm; p + 1 < end && hexval(p[0]) >= 0 && hexval(p[1]) >= 0 &&
		     i < sizeof(a->comm) - 1; p += 2)
			a->comm[i++] = (char)(hexval(p[0]) * 16 + hexval(p[1]));
	}
	return 0;
}

int audit_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void add_event(struct vmm_result *res, const struct audit_seccomp *a)
{
	for (unsigned i = 0; i < res->nsc_events; i++) {
		struct vmm_sc_event *e = &res->sc_events[i];
		if (e->nr == a->syscall && !strcmp(e->thread, a->comm)) {
			e->count++;
			return;
		}
	}
	if (res->nsc_events == sizeof(res->sc_events) / sizeof(res->sc_events[0]))
		return;
	struct vmm_sc_event *e = &res->sc_events[res->nsc_events++];
	memset(e, 0, sizeof(*e));
	snprintf(e->thread, sizeof(e->thread), "%s", a->comm);
	e->nr = a->syscall;
	e->count = 1;
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)a->syscall);
	if (name)
		snprintf(e->syscall, sizeof(e->syscall), "%s", name);
	else
		snprintf(e->syscall, sizeof(e->syscall), "#%ld", a->syscall);
	free(name);
}

void audit_collect(int fd, pid_t pid, unsigned wait_ms, struct vmm_result *res)
{
	if (fd < 0)
		return;
	uint64_t deadline = cl_now_ns() + (uint64_t)wait_ms * 1000000u;
	bool any = false;
	for (;;) {
		char rec[8192];
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		if (n > 0) {
			struct audit_seccomp a;
			if (audit_seccomp_parse(rec, (size_t)n, &a) == 0 && a.pid == (long)pid) {
				add_event(res, &a);
				any = true;
			}
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == EINTR))
			continue;   /* EPIPE: records were overwritten; go on with the next */
		/* nothing more for now: kauditd prints asynchronously, so wait a
		 * little for the first record, and briefly for stragglers */
		uint64_t now = cl_now_ns();
		if (now >= deadline)
			return;
		int ms = (int)((deadline - now) / 1000000u);
		if (any && ms > 50)
			ms = 50;
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, ms) <= 0 && any)
			return;
	}
}
