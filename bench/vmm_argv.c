/* The command lines of the two VMMs the VM benchmarks compare, built in one
 * place so that every benchmark boots the guest the same way on both. */
#include <stdarg.h>
#include <stdio.h>

#include "bench.h"
#include "cloudlet/bench.h"

void argv_add(struct argv *a, const char *fmt, ...)
{
	size_t room = sizeof(a->store) - a->used;
	/* one slot stays free for the terminating NULL */
	if (a->overflow || a->n + 1 >= sizeof(a->v) / sizeof(a->v[0])) {
		a->overflow = true;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(a->store + a->used, room, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= room) {
		a->overflow = true;
		return;
	}
	a->v[a->n++] = a->store + a->used;
	a->v[a->n] = NULL;
	a->used += (size_t)k + 1;
}

void argv_words(struct argv *a, ...)
{
	va_list ap;
	va_start(ap, a);
	for (const char *w; (w = va_arg(ap, const char *));)
		argv_add(a, "%s", w);
	va_end(ap);
}

void argv_cloudlet(struct argv *a, const struct bench_vm_opts *o, const char *cmdline)
{
	/* no virtio-rng: QEMU microvm gets none either (like for like) */
	argv_add(a, "%s", o->cloudlet);
	if (o->root)
		argv_words(a, "--root", o->root, NULL);
	argv_words(a, "vm", "run", "--no-rng", "--mem", o->mem, "-k", o->kernel, "-i", o->initrd,
		   "-c", cmdline, "--cpus", NULL);
	argv_add(a, "%u", o->cpus);
	argv_add(a, "--timeout");
	argv_add(a, "%us", o->timeout_s);
}

void argv_qemu(struct argv *a, const struct bench_vm_opts *o, const char *cmdline)
{
	/* -no-reboot: the guest's reset ends QEMU */
	argv_words(a, o->qemu, "-M", "microvm", "-accel", "kvm", "-cpu", "host", "-m", o->mem, "-nodefaults",
		   "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot", "-kernel", o->kernel,
		   "-initrd", o->initrd, "-append", cmdline, "-smp", NULL);
	argv_add(a, "%u", o->cpus);
}
