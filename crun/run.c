/* `ct run`, the runtime's side: check the input, resolve the image, claim
 * the name (ROOT/ct/NAME), make the cgroup, start the container (process.c)
 * and wait for it while forwarding signals and relaying a pty; then remove
 * everything it made. Detached, a monitor process (own session, stdio to
 * ROOT/ct/NAME/log) does the starting and waiting, tells the caller once
 * the workload runs, and records the exit status for `ct ps`. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "internal.h"

const char *crun_default_root(void)
{
	static char buf[PATH_MAX];
	if (geteuid() == 0)
		return CRUN_DEFAULT_ROOT;
	const char *x = getenv("XDG_DATA_HOME"), *h = getenv("HOME");
	if (x && x[0] == '/')
		snprintf(buf, sizeof(buf), "%s/cloudlet", x);
	else
		snprintf(buf, sizeof(buf), "%s/.local/share/cloudlet", h && h[0] == '/' ? h : "/tmp");
	return buf;
}

void ct_cg_parent(const char *root, char out[CT_CG_PARENT_MAX])
{
	char real[PATH_MAX], dflt[PATH_MAX];
	const char *r = realpath(root, real) ? real : root;
	const char *d = realpath(CRUN_DEFAULT_ROOT, dflt) ? dflt : CRUN_DEFAULT_ROOT;
	if (strcmp(r, d) == 0) {
		snprintf(out, CT_CG_PARENT_MAX, "%s", CT_CG_PARENT);
		return;
	}
	const char *parts[] = { "cgroup", r };
	snprintf(out, CT_CG_PARENT_MAX, "%s-%08llx", CT_CG_PARENT,
		 (unsigned long long)(net_hash(parts, 2) >> 32));
}

/* ---- the image ---- */

/* An OCI image layout (image_open: layers unpacked once into ROOT/images,
 * shared by every container), or a plain root filesystem directory (one
 * lower layer, no config: the command line gives the command). */
static int resolve_image(struct ct *c, const char *ref, struct crun_image_config *ic,
			 struct image *img, struct cl_error *err)
{
	struct stat st;
	char *layout;
	int r;

	memset(ic, 0, sizeof(*ic));
	if (!ref || !ref[0])
		return cl_err(err, EINVAL, "missing image");
	bool rootfs = stat(ref, &st) == 0 && S_ISDIR(st.st_mode);
	if (rootfs && (layout = ct_path_join(ref, "oci-layout"))) {
		rootfs = access(layout, F_OK) < 0;
		free(layout);
	}
	if (rootfs) {
		c->layers = calloc(2, sizeof(*c->layers));
		if (!c->layers || !(c->layers[0] = realpath(ref, NULL)))
			return cl_err_sys(err, c->layers ? errno : ENOMEM, "image %s", ref);
		c->nlayers = 1;
		return 0;
	}
	char *store = ct_path_join(c->root, "images");
	if (!store)
		return cl_err(err, ENOMEM, "out of memory");
	if ((r = cl_mkdir_p(store, 0700)) < 0) {
		cl_err_sys(err, -r, "image store %s", store);
		free(store);
		return r;
	}
	r = image_open(store, ref, img, err);
	free(store);
	if (r < 0)
		return r;
	c->layers = calloc(img->nlayers + 1, sizeof(*c->layers));
	if (!c->layers)
		return cl_err(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < img->nlayers; i++)
		if (!(c->layers[i] = strdup(img->layers[i])))
			return cl_err(err, ENOMEM, "out of memory");
	c->nlayers = img->nlayers;
	ic->entrypoint = img->config.entrypoint;
	ic->cmd = img->config.cmd;
	ic->env = img->config.env;
	ic->working_dir = img->config.working_dir;
	ic->user = img->config.user;
	return 0;
}

/* ---- state ---- */

int ct_state_save(const struct ct *c, const struct ct_state *st, struct cl_error *err)
{
	int fd, r = ct_state_lock(c->root, true, &fd, err);
	if (r < 0)
		return r;
	r = ct_state_write(c->dir, st, err);
	ct_state_unlock(fd);
	return r;
}

/* the container's cgroup and directory, as far as they were made */
void ct_teardown(struct ct *c)
{
	if (c->cg_ops) {
		c->cg_ops->destroy(&c->cg, NULL);
		c->cg_ops = NULL;
	}
	if (c->dir) {
		int fd;
		bool locked = ct_state_lock(c->root, true, &fd, NULL) == 0;
		ct_state_remove_dir(c->dir, NULL);
		if (locked)
			ct_state_unlock(fd);
	}
}

static void join_args(char *const *args, char *out, size_t len)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; args && args[i] && n + 1 < len; i++) {
		int k = snprintf(out + n, len - n, "%s%s", i ? " " : "", args[i]);
		if (k < 0)
			break;
		n += (size_t)k;
	}
}

/* claim ROOT/ct/NAME (a given name, else ct-<8 hex>) and write its first state */
int ct_claim_name(struct ct *c, struct ct_state *st, struct cl_error *err)
{
	int r;
	for (int tries = 0;; tries++) {
		if (c->o->name) {
			snprintf(c->name, sizeof(c->name), "%s", c->o->name);
		} else {
			uint32_t rnd;
			if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
				rnd = (uint32_t)time(NULL) ^ (uint32_t)getpid() ^ (uint32_t)tries;
			snprintf(c->name, sizeof(c->name), "ct-%08x", rnd);
		}
		int fd;
		if ((r = ct_state_lock(c->root, true, &fd, err)) < 0)
			return r;
		r = ct_state_create_dir(c->root, c->name, &c->dir, err);
		if (r == 0) {
			snprintf(st->name, sizeof(st->name), "%s", c->name);
			r = ct_state_write(c->dir, st, err);
			if (r < 0) {
				ct_state_remove_dir(c->dir, NULL);
				free(c->dir);
				c->dir = NULL;
			}
		}
		ct_state_unlock(fd);
		if (r != -EEXIST || c->o->name || tries > 5)
			return r;
	}
}

/* ---- starting and waiting ---- */

static void write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t k = write(fd, buf, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;   /* our stdout went away: drop the output, keep running */
		buf += k;
		n -= (size_t)k;
	}
}

/* the signals a user stops a container with, forwarded once it runs */
static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
}

/* The container's NICs (VPC attachments), made in its network namespace
 * while its init waits for GO, so the workload starts with them up; the
 * runtime (or the monitor) holds them and detaches them when it ends. */
static int nets_attach(struct ct *c, pid_t init, struct cl_error *err)
{
	char path[64], ifname[16];
	int ns, r = 0;
	if (!c->o->nnets)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init);
	if ((ns = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return cl_err_sys(err, errno, "the container's network namespace");
	for (size_t i = 0; i < c->o->nnets && r == 0; i++) {
		snprintf(ifname, sizeof(ifname), "eth%u", (unsigned)i & 0xff);
		struct net_attach_req rq = {
			.root = c->root, .ref = c->o->nets[i], .kind = "ct", .id = c->name,
			.sgs = c->o->sgs, .nsgs = c->o->nsgs, .guest_ns = ns, .guest_ifname = ifname,
			.host = c->o->host, .rate_mbit = c->o->rate_mbit,
		};
		r = net_attach(&rq, &c->nets[i], err);
	}
	close(ns);
	return r;
}

void ct_nets_detach(struct ct *c)
{
	for (size_t i = 0; c->nets && i < c->o->nnets; i++)
		net_detach(c->root, &c->nets[i], NULL);
}

int ct_spawn(struct ct *c, struct ct_state *st, enum crun_status status, int *sock,
	     pid_t *initp, struct cl_error *err)
{
	int sv[2], r;
	struct ct_msg m;

	/* the helper's child, the init, is ours once the helper exits */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return cl_err_sys(err, errno, "PR_SET_CHILD_SUBREAPER");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return cl_err_sys(err, errno, "socketpair");
	fflush(NULL);
	pid_t helper = fork();
	if (helper < 0) {
		r = cl_err_sys(err, errno, "fork");
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (helper == 0) {
		close(sv[0]);
		c->sock = sv[1];
		ct_helper_main(c);
	}
	close(sv[1]);
	int got = ct_msg_recv(sv[0], &m, NULL);
	while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
		;
	if (got != 1 || m.type != CT_MSG_PID) {
		if (got == 1 && m.type == CT_MSG_ERROR)
			r = cl_err(err, m.code, "%s", m.msg);
		else
			r = cl_err(err, EPROTO, "the container's helper died before starting it");
		close(sv[0]);
		return r;
	}
	pid_t init = m.pid;
	st->status = status;
	st->pid = init;
	st->pid_start = cl_pid_start(init);
	struct ct_msg go = { .type = CT_MSG_GO, .pid = init };
	/* runtime.md: prestart and createRuntime hooks once the namespaces
	 * exist, before pivot_root (the init waits for GO) */
	if ((r = nets_attach(c, init, err)) == 0 && c->bundle &&
	    (r = ct_hooks_run(c->bundle, CRUN_HOOK_PRESTART, st, err)) == 0)
		r = ct_hooks_run(c->bundle, CRUN_HOOK_CREATE_RUNTIME, st, err);
	if (r == 0)
		r = ct_state_save(c, st, err);
	if (r == 0 && (r = ct_msg_send(sv[0], &go, -1)) < 0)
		cl_err_sys(err, -r, "start the container");
	if (r < 0) {
		kill(init, SIGKILL);
		while (waitpid(init, NULL, 0) < 0 && errno == EINTR)
			;
		close(sv[0]);
		return r;
	}
	*sock = sv[0];
	*initp = init;
	return 0;
}

/* Outcome of run_container. */
struct outcome {
	bool started;                /* the workload exec'd */
	int status;                  /* the init's exit status (128+N: signal N) */
	int err_type;                /* CT_MSG_ERROR / CT_MSG_EXEC from the container */
	int interrupted;             /* a stop signal came before the workload ran */
	struct cl_error cerr;
};

static void notify(int fd, int type, int status, const struct cl_error *e)
{
	struct ct_msg m = { .type = type, .pid = status, .code = e ? e->code : 0 };
	if (fd < 0)
		return;
	if (e)
		snprintf(m.msg, sizeof(m.msg), "%s", e->msg);
	write_all(fd, (const char *)&m, sizeof(m));
}

/* Start the container and wait for its init; relay signals and the pty.
 * notify_fd (detached): gets a CT_MSG_GO once the workload runs. */
static int run_container(struct ct *c, struct ct_state *st, int notify_fd,
			 struct outcome *out, struct cl_error *err)
{
	sigset_t set, old;
	int sv[2] = { -1, -1 }, sfd = -1, r = 0;
	struct ct_tty tty = { .master = -1 };
	bool sock_open = true, stdin_open = true, master_live = true, init_done = false;
	pid_t init = 0;
	struct ct_msg m;

	memset(out, 0, sizeof(*out));
	sigemptyset(&set);
	for (int s = 0, sigs[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	     s < 8; s++)
		sigaddset(&set, sigs[s]);
	sigprocmask(SIG_BLOCK, &set, &old);
	if ((sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		r = cl_err_sys(err, errno, "signalfd");
		goto out;
	}
	sigset_t pending, stops;
	stop_signals(&stops);
	if (sigpending(&pending) == 0)
		for (int sig = 1; sig < NSIG; sig++)
			if (sigismember(&stops, sig) && sigismember(&pending, sig)) {
				r = cl_err(err, EINTR, "interrupted by SIG%s before the container started",
					   sigabbrev_np(sig));
				goto out;
			}
	if ((r = ct_spawn(c, st, CRUN_RUNNING, &sv[0], &init, err)) < 0)
		goto out;

	for (;;) {
		struct pollfd p[4];
		int np = 0, isock = -1, isig, imaster = -1, istdin = -1;
		if (init_done && (sock_open || tty.master >= 0)) {
			/* everything in the container is gone: drain what is left */
			if (sock_open) {
				int pfd;
				int k = ct_msg_recv(sv[0], &m, &pfd);
				if (pfd >= 0)
					close(pfd);
				if (k == 1 && (m.type == CT_MSG_ERROR || m.type == CT_MSG_EXEC) && !out->err_type) {
					out->err_type = m.type;
					cl_err(&out->cerr, m.code, "%s", m.msg);
				}
				if (k <= 0)
					sock_open = false;
				continue;
			}
			char buf[4096];
			ssize_t k = read(tty.master, buf, sizeof(buf));
			if (k > 0) {
				write_all(STDOUT_FILENO, buf, (size_t)k);
				continue;
			}
			close(tty.master);
			tty.master = -1;
			continue;
		}
		if (init_done)
			break;
		if (sock_open) {
			p[np] = (struct pollfd){ .fd = sv[0], .events = POLLIN };
			isock = np++;
		}
		p[np] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		isig = np++;
		if (tty.master >= 0 && master_live) {
			p[np] = (struct pollfd){ .fd = tty.master, .events = POLLIN };
			imaster = np++;
			if (stdin_open) {
				p[np] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
				istdin = np++;
			}
		}
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = cl_err_sys(err, errno, "poll");
			kill(init, SIGKILL);
			continue;   /* and wait for it */
		}
		if (isock >= 0 && p[isock].revents) {
			int pfd;
			int k = ct_msg_recv(sv[0], &m, &pfd);
			if (k == 1 && m.type == CT_MSG_PTY && pfd >= 0 && tty.master < 0) {
				fcntl(pfd, F_SETFL, fcntl(pfd, F_GETFL) | O_NONBLOCK);
				ct_tty_begin(&tty, pfd);
			} else {
				if (pfd >= 0)
					close(pfd);
				if (k == 1 && (m.type == CT_MSG_ERROR || m.type == CT_MSG_EXEC) && !out->err_type) {
					out->err_type = m.type;
					cl_err(&out->cerr, m.code, "%s", m.msg);
				}
			}
			if (k <= 0) {
				sock_open = false;
				if (!out->err_type) {
					out->started = true;
					notify(notify_fd, CT_MSG_GO, 0, NULL);
				}
			}
		}
		if (p[isig].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				int sig = (int)si.ssi_signo;
				if (sig == SIGCHLD) {
					int ws;
					pid_t q;
					while ((q = waitpid(-1, &ws, WNOHANG)) > 0)
						if (q == init) {
							init_done = true;
							out->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
						}
				} else if (sig == SIGWINCH) {
					ct_tty_resize(&tty);
				} else if (out->started) {
					kill(init, sig);
				} else {
					/* before the workload runs there is nothing to stop gently */
					out->interrupted = sig;
					kill(init, SIGKILL);
				}
			}
		}
		if (imaster >= 0 && p[imaster].revents) {
			char buf[4096];
			ssize_t k = read(tty.master, buf, sizeof(buf));
			if (k > 0)
				write_all(STDOUT_FILENO, buf, (size_t)k);
			else if (k == 0 || (errno != EAGAIN && errno != EINTR))
				master_live = false;   /* EIO: nobody has the peer open now; wait for the init */
		}
		if (istdin >= 0 && p[istdin].revents) {
			char buf[4096];
			ssize_t k = read(STDIN_FILENO, buf, sizeof(buf));
			if (k > 0)
				write_all(tty.master, buf, (size_t)k);
			else if (k == 0 || (errno != EAGAIN && errno != EINTR))
				stdin_open = false;
		}
	}
out:
	ct_nets_detach(c);
	ct_tty_end(&tty);
	if (tty.master >= 0)
		close(tty.master);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* ---- foreground and detached ---- */

static int outcome_result(const struct outcome *oc, struct crun_run_result *res,
			  struct cl_error *err)
{
	if (oc->interrupted && !oc->started)
		return cl_err(err, EINTR, "interrupted by SIG%s before the container started",
			      sigabbrev_np(oc->interrupted));
	if (oc->err_type == CT_MSG_EXEC) {
		res->status = oc->status ? oc->status : 127;
		return cl_err(err, oc->cerr.code, "%s", oc->cerr.msg);
	}
	if (oc->err_type == CT_MSG_ERROR)
		return cl_err(err, oc->cerr.code, "%s", oc->cerr.msg);
	res->status = oc->status;
	return 0;
}

static int run_foreground(struct ct *c, struct ct_state *st, struct crun_run_result *res,
			  struct cl_error *err)
{
	struct outcome oc;
	int r = run_container(c, st, -1, &oc, err);
	if (r < 0)
		return r;
	return outcome_result(&oc, res, err);
}

static void monitor_main(struct ct *c, struct ct_state *st, int report) __attribute__((noreturn));
static void monitor_main(struct ct *c, struct ct_state *st, int report)
{
	struct cl_error e = { 0 };
	struct outcome oc;
	char log[PATH_MAX];

	setsid();
	snprintf(log, sizeof(log), "%s/log", c->dir);
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int lf = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (in < 0 || lf < 0) {
		cl_err_sys(&e, errno, "%s", in < 0 ? "/dev/null" : log);
		ct_teardown(c);
		notify(report, CT_MSG_ERROR, 0, &e);
		_exit(1);
	}
	dup2(in, 0);
	dup2(lf, 1);
	dup2(lf, 2);
	close(in);
	close(lf);
	/* nothing of our caller's stays open in a long-lived process (a
	 * caller's pipe would never see EOF): only stdio and the report pipe */
	if (report > 3)
		syscall(SYS_close_range, 3u, (unsigned)report - 1, 0u);
	syscall(SYS_close_range, (unsigned)report + 1, ~0u, 0u);
	st->monitor = getpid();
	st->monitor_start = cl_pid_start(st->monitor);
	int r = run_container(c, st, report, &oc, &e);
	if (!oc.started) {
		/* it never ran: leave nothing, then say why */
		struct crun_run_result res = { .status = 0 };
		if (r == 0)
			r = outcome_result(&oc, &res, &e);
		ct_teardown(c);
		notify(report, CT_MSG_ERROR, res.status, &e);
		_exit(1);
	}
	close(report);
	/* it ran: the cgroup goes now, the directory (upper, log, state) at `ct rm` */
	if (c->cg_ops)
		c->cg_ops->destroy(&c->cg, NULL);
	st->status = CRUN_STOPPED;
	st->pid = 0;
	st->pid_start = 0;
	st->monitor = 0;
	st->monitor_start = 0;
	st->exit_status = oc.status;
	ct_state_save(c, st, NULL);
	_exit(0);
}

static int run_detached(struct ct *c, struct ct_state *st, struct crun_run_result *res,
			struct cl_error *err, bool *handed_over)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return cl_err_sys(err, errno, "pipe");
	fflush(NULL);
	pid_t m = fork();
	if (m < 0) {
		close(p[0]);
		close(p[1]);
		return cl_err_sys(err, errno, "fork the monitor");
	}
	if (m == 0) {
		close(p[0]);
		monitor_main(c, st, p[1]);
	}
	close(p[1]);
	*handed_over = true;   /* the monitor owns the container's cgroup and directory */
	struct ct_msg msg;
	ssize_t n;
	do
		n = read(p[0], &msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n != (ssize_t)sizeof(msg)) {
		/* it died without a word: clean up after it */
		*handed_over = false;
		waitpid(m, NULL, WNOHANG);
		return cl_err(err, EPROTO, "the container's monitor died while starting it");
	}
	msg.msg[sizeof(msg.msg) - 1] = '\0';
	if (msg.type == CT_MSG_GO)
		return 0;
	res->status = msg.pid;
	return cl_err(err, msg.code ? msg.code : EIO, "%s", msg.msg);
}

int ct_cgroup_make(struct ct *c, struct ct_state *st, struct cl_error *err)
{
	const struct crun_run_opts *o = c->o;
	int r;
	/* a cgroup always as root (accounting, devices); rootless only for limits */
	if (c->uid != 0 && !cl_cg_needed(&o->limits))
		return 0;
	static const char *const why[CL_CG_NCTRL] = {
		[CL_CG_MEMORY] = "--memory", [CL_CG_CPU] = "--cpus", [CL_CG_PIDS] = "--pids",
	};
	static const char *const why_oci[CL_CG_NCTRL] = {
		[CL_CG_MEMORY] = "linux.resources.memory.limit", [CL_CG_CPU] = "linux.resources.cpu.quota",
		[CL_CG_PIDS] = "linux.resources.pids.limit",
	};
	char parent[CT_CG_PARENT_MAX], path[PATH_MAX];
	ct_cg_parent(c->root, parent);
	struct cl_cg_spec spec = {
		.parent = parent,
		.name = c->name,
		.limits = &o->limits,
		/* a user namespace cannot make device nodes: nothing to confine */
		.devices = c->userns ? NULL : crun_cg_devices_allow,
		.ndevices = crun_cg_devices_allow_count,
		.why = c->bundle ? why_oci : why,
	};
	/* linux.cgroupsPath: a relative one under our parent (runtime-determined) */
	const char *cp = c->bundle ? c->bundle->cgroups_path : NULL;
	if (cp) {
		if (cp[0] != '/')
			snprintf(path, sizeof(path), "/%s/%s", parent, cp);
		spec.path = cp[0] == '/' ? cp : path;
	}
	const struct cl_cgroup_ops *ops;
	struct cl_cg_layout layout;
	if ((r = cl_cgroup_ops_get(&ops, &layout, err)) < 0 ||
	    (r = ops->create(&c->cg, &layout, &spec, err)) < 0) {
		if (c->uid != 0 && (r == -EACCES || r == -EPERM))
			cl_err_wrap(err, "limits as a non-root user need a cgroup it may create");
		return r;
	}
	c->cg_ops = ops;
	st->cg = c->cg;
	return 0;
}

void ct_defaults(struct ct *c)
{
	c->mounts = crun_default_mounts;
	c->nmounts = crun_default_mounts_count;
	c->masked = crun_masked_paths;
	c->nmasked = crun_masked_paths_count;
	c->readonly = crun_readonly_paths;
	c->nreadonly = crun_readonly_paths_count;
	c->caps = crun_default_caps;
	c->ncaps = crun_default_caps_count;
	c->sock = -1;
	c->fifo_fd = -1;
	snprintf(c->oldroot, sizeof(c->oldroot), "%s", CT_OLDROOT);
}

int crun_run(const struct crun_run_opts *o, struct crun_run_result *res, struct cl_error *err)
{
	struct ct c;
	struct ct_state st;
	struct crun_image_config ic;
	struct image img;
	bool handed_over = false, masked = false;
	int r;

	memset(&c, 0, sizeof(c));
	memset(&st, 0, sizeof(st));
	memset(&img, 0, sizeof(img));
	memset(res, 0, sizeof(*res));
	c.o = o;
	ct_defaults(&c);
	if ((r = crun_check_limits(&o->limits, err)) < 0 ||
	    (o->name && (r = crun_check_name(o->name, err)) < 0) ||
	    (o->hostname && (r = crun_check_hostname(o->hostname, err)) < 0))
		return r;
	if (o->tty && o->detach)
		return cl_err(err, EINVAL, "a detached container cannot have a terminal (-t with --detach)");
	if (o->nnets && (o->rootless || geteuid() != 0))
		return cl_err(err, EPERM, "--net needs root (the VPC's links need CAP_NET_ADMIN)");
	if (o->nsgs && !o->nnets)
		return cl_err(err, EINVAL, "--sg without --net: security groups apply to VPC attachments");
	if (o->nnets > 8)
		return cl_err(err, EINVAL, "--net given %zu times: at most 8", o->nnets);
	if (!(c.root = strdup(o->root ? o->root : crun_default_root())))
		return cl_err(err, ENOMEM, "out of memory");
	c.uid = geteuid();
	c.gid = getegid();
	c.userns = o->rootless || c.uid != 0;

	if (o->nnets && !(c.nets = calloc(o->nnets, sizeof(*c.nets)))) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < o->nnets; i++)
		c.nets[i].tap_fd = -1;
	if ((r = resolve_image(&c, o->image, &ic, &img, err)) < 0)
		goto out;

	st.status = CRUN_CREATED;
	st.created = (long long)time(NULL);
	st.exit_status = -1;
	st.detached = o->detach;
	st.monitor = getpid();   /* in charge; a detached container's monitor takes over */
	st.monitor_start = cl_pid_start(st.monitor);
	snprintf(st.image, sizeof(st.image), "%s", o->image);
	/* from here on something exists to remove: ^C must not kill us half
	 * way; a stop signal that arrives before the container runs aborts */
	sigset_t stops, oldmask;
	stop_signals(&stops);
	sigprocmask(SIG_BLOCK, &stops, &oldmask);
	masked = true;
	if ((r = ct_claim_name(&c, &st, err)) < 0)
		goto out;
	snprintf(res->name, sizeof(res->name), "%s", c.name);
	if (o->hostname) {
		snprintf(c.hostname, sizeof(c.hostname), "%s", o->hostname);
	} else {
		snprintf(c.hostname, sizeof(c.hostname), "%.*s", CRUN_NAME_MAX, c.name);   /* ct run names are at most that */
		for (char *h = c.hostname; *h; h++)
			if (*h == '_')
				*h = '-';
	}
	if ((r = crun_spec_process(&ic, o->cmd, o->ncmd, o->env, o->nenv, c.hostname, o->tty,
				   &c.proc, err)) < 0)
		goto out;
	join_args(c.proc.args, st.command, sizeof(st.command));
	image_free(&img);   /* the spec holds copies of its config */

	c.upper = ct_path_join(c.dir, "upper");
	c.work = ct_path_join(c.dir, "work");
	c.rootfs = ct_path_join(c.dir, "rootfs");
	if (!c.upper || !c.work || !c.rootfs) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	const char *dirs[] = { c.upper, c.work, c.rootfs };
	for (size_t i = 0; i < 3; i++)
		if (mkdir(dirs[i], 0755) < 0) {
			r = cl_err_sys(err, errno, "create %s", dirs[i]);
			goto out;
		}

	if ((r = ct_cgroup_make(&c, &st, err)) < 0 || (r = ct_state_save(&c, &st, err)) < 0)
		goto out;

	r = o->detach ? run_detached(&c, &st, res, err, &handed_over)
		      : run_foreground(&c, &st, res, err);
out:
	if (!handed_over)
		ct_teardown(&c);
	if (masked) {
		/* a stop signal for a container that never ran has been
		 * answered (error); consume it rather than die of it now */
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&stops, NULL, &zero) > 0)
			;
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
	}
	image_free(&img);
	crun_process_free(&c.proc);
	for (size_t i = 0; c.layers && c.layers[i]; i++)
		free(c.layers[i]);
	free(c.layers);
	free(c.upper);
	free(c.work);
	free(c.rootfs);
	free(c.dir);
	free(c.root);
	free(c.nets);
	return r;
}
