/* Instances: the launchers as they are (`cloudlet ct run` in the
 * foreground — it creates the container, attaches it to the subnet and
 * removes everything when its workload ends), run as children of the
 * serving process with the workload `/init run /bin/clfn serve PORT
 * HANDLER`. Their console (stdout+stderr) is read by a thread that copies
 * it into the function's log and notes two lines: the workload's
 * "cloudlet-ready" (the guest is up: end of create) and clfn's
 * "clfn-ready" (the runtime listens: end of start). Then the server
 * connects to clfn on the instance's VPC address from inside the VPC's
 * namespace and waits for its hello. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cloudlet/clock.h"
#include "cloudlet/crun.h"
#include "cloudlet/fn_proto.h"
#include "cloudlet/net.h"
#include "cloudlet/proc.h"
#include "cloudlet/vmm.h"
#include "internal.h"

#define STOP_GRACE_MS 5000        /* SIGTERM, then SIGKILL (as `ct stop`) */

void fn_log(int fd, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	if (fd < 0)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	/* O_APPEND and one write: entries from many threads do not interleave */
	ssize_t w = write(fd, buf, (size_t)n);
	(void)w;
}

/* ---- the console reader ---- */

static void *console_read(void *arg)
{
	struct fn_inst *i = arg;
	char buf[4096], line[1024];
	size_t ll = 0;
	for (;;) {
		ssize_t k = read(i->console, buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		for (ssize_t j = 0; j < k; j++) {
			if (buf[j] != '\n' && ll < sizeof(line) - 1) {
				line[ll++] = buf[j];
				continue;
			}
			if (buf[j] != '\n')
				continue;    /* an over-long line: its end is dropped */
			line[ll] = '\0';
			uint64_t t = cl_now_ns();
			pthread_mutex_lock(&i->mu);
			if (!i->t_guest && !strncmp(line, "cloudlet-ready", 14))
				i->t_guest = t;
			if (!i->t_runtime && !strncmp(line, "clfn-ready", 10))
				i->t_runtime = t;
			pthread_cond_broadcast(&i->cond);
			pthread_mutex_unlock(&i->mu);
			fn_log(i->log, "[%s] %s\n", i->id, line);
			ll = 0;
		}
	}
	pthread_mutex_lock(&i->mu);
	i->exited = true;
	pthread_cond_broadcast(&i->cond);
	pthread_mutex_unlock(&i->mu);
	return NULL;
}

/* ---- the launcher ---- */

static int argv_add(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

static void argv_free(char **v)
{
	for (size_t k = 0; v && v[k]; k++)
		free(v[k]);
	free(v);
}

static int add_all(char ***v, size_t *n, const char *const *w, size_t k)
{
	int r = 0;
	for (size_t j = 0; r == 0 && j < k; j++)
		r = argv_add(v, n, w[j]);
	return r;
}

/* ct: `cloudlet --root ROOT ct run --name ID --net NET --sg ... --memory M
 *      -e K=V ... IMAGE run /bin/clfn serve PORT HANDLER`
 * vm: `cloudlet --root ROOT vm run --name ID --net NET --sg ... --mem M
 *      -k IMAGE/bzImage -i IMAGE/initramfs.cpio.gz
 *      -c "BASE K=V ... -- run /bin/clfn serve PORT \"HANDLER\""`
 * (the kernel gives unknown name=value parameters to init as its
 * environment, and the words after "--" as its arguments; a quoted word
 * stays one: fn_spec_check keeps '"' out of a VM's handler and env) */
static int launcher_argv(const struct fn_inst *i, const char *root, const char *exe,
			 const struct fn_spec *s, char ***out)
{
	char **v = NULL, mem[32], port[16];
	size_t n = 0;
	bool vm = s->kind == FN_VM;
	int r;
	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)s->memory);
	snprintf(port, sizeof(port), "%u", FN_RUNTIME_PORT);
	const char *head[] = { exe, "--root", root, vm ? "vm" : "ct", "run", "--name", i->id, "--net", s->net,
			       vm ? "--mem" : "--memory", mem, "--sg", FN_INVOKE_SG };
	r = add_all(&v, &n, head, sizeof(head) / sizeof(head[0]));
	/* the VPC's default group when the function names none, as the launchers */
	for (size_t k = 0; r == 0 && k < (s->nsgs ? s->nsgs : 1); k++)
		if ((r = argv_add(&v, &n, "--sg")) == 0)
			r = argv_add(&v, &n, s->nsgs ? s->sgs[k] : NET_SG_DEFAULT);
	if (!vm) {
		for (size_t k = 0; r == 0 && k < s->nenv; k++)
			if ((r = argv_add(&v, &n, "-e")) == 0)
				r = argv_add(&v, &n, s->env[k]);
		const char *tail[] = { s->image, "run", "/bin/clfn", "serve", port, s->handler };
		if (r == 0)
			r = add_all(&v, &n, tail, sizeof(tail) / sizeof(tail[0]));
	} else {
		char k_img[PATH_MAX], i_img[PATH_MAX], *cmd = NULL;
		size_t len = strlen(VMM_DEFAULT_CMDLINE) + strlen(s->handler) + 64;
		for (size_t k = 0; k < s->nenv; k++)
			len += strlen(s->env[k]) + 1;
		snprintf(k_img, sizeof(k_img), "%s/bzImage", s->image);
		snprintf(i_img, sizeof(i_img), "%s/initramfs.cpio.gz", s->image);
		if (r == 0 && !(cmd = malloc(len)))
			r = -ENOMEM;
		if (r == 0) {
			size_t o = (size_t)snprintf(cmd, len, "%s", VMM_DEFAULT_CMDLINE);
			for (size_t k = 0; k < s->nenv; k++)
				o += (size_t)snprintf(cmd + o, len - o, " %s", s->env[k]);
			snprintf(cmd + o, len - o, " -- run /bin/clfn serve %s \"%s\"", port, s->handler);
			const char *tail[] = { "-k", k_img, "-i", i_img, "-c", cmd };
			r = add_all(&v, &n, tail, sizeof(tail) / sizeof(tail[0]));
		}
		free(cmd);
	}
	if (r < 0) {
		argv_free(v);
		return r;
	}
	*out = v;
	return 0;
}

static int spawn(struct fn_inst *i, char **argv, struct cl_error *err)
{
	int p[2], r;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	if (pipe2(p, O_CLOEXEC) < 0)
		return cl_err_sys(err, errno, "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	/* its own process group: a ^C to the server is not a stop of every instance */
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
				 POSIX_SPAWN_SETPGROUP);
	r = posix_spawn(&i->pid, argv[0], &fa, &at, argv, NULL);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(p[1]);
	if (r != 0) {
		close(p[0]);
		i->pid = 0;
		return cl_err_sys(err, r, "%s", argv[0]);
	}
	i->pid_start = cl_pid_start(i->pid);
	i->console = p[0];
	return 0;
}

/* ---- the connection ---- */

static int remaining_ms(uint64_t deadline_ns)
{
	uint64_t now = cl_now_ns();
	if (now >= deadline_ns)
		return 0;
	uint64_t ms = (deadline_ns - now + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* 0, -ETIMEDOUT, or -EPIPE (closed / error) */
static int io_deadline(int fd, void *buf, size_t n, bool wr, uint64_t deadline_ns)
{
	char *p = buf;
	while (n) {
		ssize_t k = wr ? send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT) : recv(fd, p, n, MSG_DONTWAIT);
		if (k > 0) {
			p += k;
			n -= (size_t)k;
			continue;
		}
		if (k == 0)
			return -EPIPE;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -EPIPE;
		struct pollfd pf = { fd, wr ? POLLOUT : POLLIN, 0 };
		int ms = remaining_ms(deadline_ns);
		if (ms == 0)
			return -ETIMEDOUT;
		if (poll(&pf, 1, ms) == 0 && remaining_ms(deadline_ns) == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

static int instance_ip(struct fn_inst *i, const char *root, const struct fn_spec *s, char *netns,
		       struct cl_error *err)
{
	char vn[NET_NAME_LEN + 1], sn[NET_NAME_LEN + 1];
	struct vpc v;
	int r;
	if ((r = net_ref_parse(s->net, vn, sn, err)) < 0 || (r = vpc_get(root, vn, &v, err)) < 0)
		return r;
	r = cl_err(err, ENOENT, "instance %s: no attachment on %s", i->id, s->net);
	for (size_t k = 0; k < v.natts; k++)
		if (!strcmp(v.atts[k].id, i->id) && !strcmp(v.atts[k].subnet, sn)) {
			i->ip = v.atts[k].ip;
			snprintf(netns, NET_IFNAMSIZ, "%s", v.netns);
			cl_err_clear(err);
			r = 0;
			break;
		}
	vpc_free(&v);
	return r;
}

static int connect_runtime(struct fn_inst *i, const char *netns, uint64_t deadline_ns,
			   struct cl_error *err)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(FN_RUNTIME_PORT),
				  .sin_addr.s_addr = htonl(i->ip) };
	char ip[IP4_STR_MAX];
	int one = 1, r;
	for (;;) {
		int s;
		if ((r = net_netns_socket(netns, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, &s, err)) < 0)
			return r;
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		r = connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
		if (r == -EINPROGRESS) {
			struct pollfd pf = { s, POLLOUT, 0 };
			socklen_t l = sizeof(r);
			if (poll(&pf, 1, remaining_ms(deadline_ns)) <= 0)
				r = -ETIMEDOUT;
			else if (getsockopt(s, SOL_SOCKET, SO_ERROR, &r, &l) == 0)
				r = -r;
		}
		uint32_t hello;
		if (r == 0 && (r = io_deadline(s, &hello, 4, false, deadline_ns)) == 0 &&
		    ntohl(hello) != FN_PROTO_MAGIC)
			r = -EPROTO;
		if (r == 0) {
			i->sock = s;
			return 0;
		}
		close(s);
		/* clfn printed its line once listening: a refusal is the
		 * network not yet there (a VM's first ARP), try again */
		if ((r != -ECONNREFUSED && r != -EHOSTUNREACH) || remaining_ms(deadline_ns) == 0)
			return cl_err_sys(err, r == -ETIMEDOUT ? ETIMEDOUT : -r, "instance %s: runtime at %s:%u",
					  i->id, ip4_format(i->ip, ip), FN_RUNTIME_PORT);
		struct timespec ts = { 0, 2000000 };
		nanosleep(&ts, NULL);
	}
}

int fn_inst_start(struct fn_inst *i, const char *root, const char *exe, const struct fn_spec *s,
		  uint64_t deadline_ns, uint64_t *create_ns, uint64_t *start_ns, struct cl_error *err)
{
	char dir[PATH_MAX], netns[NET_IFNAMSIZ], **argv = NULL;
	uint32_t rnd;
	int r;

	i->sock = i->console = i->log = -1;
	pthread_mutex_init(&i->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&i->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)cl_now_ns();
	snprintf(i->id, sizeof(i->id), "fn-%s-%08x", s->name, rnd);
	i->created = (int64_t)time(NULL);
	if ((r = fn_dir(root, s->name, dir, sizeof(dir), err)) < 0)
		goto fail;
	strncat(dir, "/log", sizeof(dir) - strlen(dir) - 1);
	i->log = open(dir, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	i->kind = s->kind;
	if ((r = launcher_argv(i, root, exe, s, &argv)) < 0) {
		cl_err(err, -r, "out of memory");
		goto fail;
	}
	i->t_spawn = cl_now_ns();
	r = spawn(i, argv, err);
	argv_free(argv);
	if (r < 0)
		goto fail;
	if ((r = pthread_create(&i->reader, NULL, console_read, i)) != 0) {
		r = cl_err_sys(err, r, "thread");
		goto fail;
	}
	i->reader_started = true;
	/* wait for clfn's line (or the launcher's end, or the deadline) */
	struct timespec ts = { (time_t)(deadline_ns / 1000000000u), (long)(deadline_ns % 1000000000u) };
	pthread_mutex_lock(&i->mu);
	while (!i->t_runtime && !i->exited)
		if (pthread_cond_timedwait(&i->cond, &i->mu, &ts) == ETIMEDOUT)
			break;
	bool ready = i->t_runtime != 0, exited = i->exited;
	pthread_mutex_unlock(&i->mu);
	if (!ready) {
		r = exited ? cl_err(err, ECHILD, "instance %s: the launcher exited before the runtime "
				    "was ready (see `fn logs %s`)", i->id, s->name)
			   : cl_err(err, ETIMEDOUT, "instance %s: not ready before the deadline", i->id);
		goto fail;
	}
	if ((r = instance_ip(i, root, s, netns, err)) < 0 ||
	    (r = connect_runtime(i, netns, deadline_ns, err)) < 0)
		goto fail;
	uint64_t guest = i->t_guest ? i->t_guest : i->t_runtime;
	*create_ns = guest - i->t_spawn;
	*start_ns = cl_now_ns() - guest;
	return 0;
fail:
	fn_inst_stop(i, root);
	return r;
}

void fn_inst_call(struct fn_inst *i, const void *body, size_t len, uint64_t deadline_ns,
		  struct fn_result *res)
{
	uint32_t w[FN_RESP_WORDS];
	struct fn_proto_resp pr;
	uint64_t t0 = cl_now_ns();
	int r;
	fn_proto_req_encode(w, (uint32_t)len);
	if ((r = io_deadline(i->sock, w, FN_REQ_WORDS * 4, true, deadline_ns)) < 0 ||
	    (r = io_deadline(i->sock, (void *)body, len, true, deadline_ns)) < 0 ||
	    (r = io_deadline(i->sock, w, FN_RESP_WORDS * 4, false, deadline_ns)) < 0)
		goto fail;
	if (fn_proto_resp_decode(w, &pr) < 0) {
		r = -EPROTO;
		goto fail;
	}
	res->out = malloc(pr.out_len + 1);
	res->err_tail = malloc(pr.err_len + 1);
	if (!res->out || !res->err_tail) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = io_deadline(i->sock, res->out, pr.out_len, false, deadline_ns)) < 0 ||
	    (r = io_deadline(i->sock, res->err_tail, pr.err_len, false, deadline_ns)) < 0)
		goto fail;
	res->out[pr.out_len] = '\0';
	res->err_tail[pr.err_len] = '\0';
	res->out_len = pr.out_len;
	res->status = (int)pr.status;
	res->handler_ns = (uint64_t)pr.handler_us * 1000u;
	res->outcome = pr.status == 0 ? FN_OK : FN_HANDLER_FAIL;
	return;
fail:
	res->handler_ns = cl_now_ns() - t0;
	res->outcome = r == -ETIMEDOUT ? FN_TIMEOUT : FN_INST_LOST;
	res->status = -1;
}

bool fn_inst_alive(struct fn_inst *i)
{
	pthread_mutex_lock(&i->mu);
	bool exited = i->exited;
	pthread_mutex_unlock(&i->mu);
	if (exited || i->sock < 0)
		return false;
	/* an idle connection has nothing to read: readable means closed */
	struct pollfd pf = { i->sock, POLLIN | POLLRDHUP, 0 };
	return poll(&pf, 1, 0) == 0;
}

/* SIGTERM, up to STOP_GRACE_MS, then SIGKILL; reaps our own child */
static void end_launcher(pid_t pid, bool child)
{
	int st;
	kill(pid, SIGTERM);
	for (int k = 0; k < STOP_GRACE_MS / 10; k++) {
		if (child ? waitpid(pid, &st, WNOHANG) == pid : kill(pid, 0) < 0)
			return;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	if (child)
		waitpid(pid, &st, 0);
}

void fn_inst_stop(struct fn_inst *i, const char *root)
{
	if (i->sock >= 0)
		close(i->sock);
	i->sock = -1;
	if (i->pid > 0) {
		end_launcher(i->pid, true);
		/* a launcher that had to be killed could not clean up: its
		 * container is removed as `ct rm -f` would (a VMM's attachment
		 * is freed by the next change to its VPC) */
		if (i->kind == FN_CT)
			crun_rm(root, i->id, true, NULL);
		i->pid = 0;
	}
	if (i->reader_started)
		pthread_join(i->reader, NULL);
	i->reader_started = false;
	if (i->console >= 0)
		close(i->console);
	if (i->log >= 0)
		close(i->log);
	i->console = i->log = -1;
	pthread_cond_destroy(&i->cond);
	pthread_mutex_destroy(&i->mu);
}

void fn_inst_reap_orphans(const char *root, const struct fn_orphan *o, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (o[k].pid > 0 && cl_pid_alive(o[k].pid, o[k].start))
			kill(o[k].pid, SIGTERM);
	for (int t = 0; t < STOP_GRACE_MS / 10; t++) {
		bool any = false;
		for (size_t k = 0; k < n; k++)
			any |= o[k].pid > 0 && cl_pid_alive(o[k].pid, o[k].start);
		if (!any)
			break;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	for (size_t k = 0; k < n; k++) {
		if (o[k].pid > 0 && cl_pid_alive(o[k].pid, o[k].start))
			kill(o[k].pid, SIGKILL);
		crun_rm(root, o[k].id, true, NULL);
	}
}
