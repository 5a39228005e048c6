/* The OCI runtime lifecycle (runtime-spec runtime.md) over the same
 * container code as `ct run`: a bundle's config.json becomes a struct ct
 * (bundle.c), and create/start/state/kill/delete drive it.
 *
 *   create: claim ROOT/ct/ID, copy config.json there, make exec.fifo and
 *           the cgroup, spawn the helper and init (run.c), run the
 *           prestart/createRuntime hooks, and return once the init has set
 *           the container up and waits on exec.fifo (CT_MSG_READY). The
 *           init outlives us: our caller's subreaper adopts it.
 *   start:  open exec.fifo for reading, so the init's open for writing
 *           returns; it then forks the workload. poststart hooks.
 *   delete: kill what is left, remove cgroup and directory, poststop.
 * State (state.json) changes under ROOT/ct/.lock; ids are independent. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

int ct_oci_load(const char *root, const char *id, char **dir, struct ct_state *s,
		struct cl_error *err)
{
	int fd, r = crun_check_id(id, err);
	if (r < 0)
		return r;
	if (!(*dir = ct_state_path(root, id)))
		return cl_err(err, ENOMEM, "out of memory");
	if ((r = ct_state_lock(root, false, &fd, err)) == 0) {
		r = ct_state_read(*dir, s, err);
		ct_state_unlock(fd);
	}
	if (r == 0 && !s->bundle[0]) {
		ct_state_free(s);
		r = cl_err(err, EINVAL, "container %s is not an OCI container (see 'cloudlet ct')", id);
	} else if (r == -ENOENT) {
		r = cl_err(err, ENOENT, "container %s does not exist", id);
	}
	if (r < 0) {
		free(*dir);
		*dir = NULL;
	}
	return r;
}

/* running, or paused when its cgroup is frozen */
static enum crun_status oci_status(const struct ct_state *s)
{
	enum crun_status st = ct_effective_status(s);
	const struct cl_cgroup_ops *ops = cl_cgroup_ops_for(s->cg.version);
	if (st == CRUN_RUNNING && ops && ops->frozen(&s->cg) == 1)
		return CRUN_PAUSED;
	return st;
}

/* the bundle as it was at create (its config.json copied to ROOT/ct/ID) */
static int load_config(const char *dir, const char *bundle, struct crun_bundle *b,
		       struct cl_error *err)
{
	char *path = ct_path_join(dir, "config.json"), *text;
	if (!path)
		return cl_err(err, ENOMEM, "out of memory");
	int r = cl_text_read(path, 4 << 20, &text, err);
	free(path);
	if (r < 0)
		return r;
	r = crun_bundle_parse(text, bundle, b, err);
	free(text);
	return r;
}

static int write_pid_file(const char *path, pid_t pid, struct cl_error *err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	int r = cl_file_write_atomic(path, buf, 0644, err);
	return r < 0 ? cl_err_wrap(err, "pid file") : 0;
}

/* until the init has set the container up; a pty goes to the console socket */
static int wait_ready(int sock, const char *console, struct cl_error *err)
{
	for (;;) {
		struct ct_msg m;
		int pfd, k = ct_msg_recv(sock, &m, &pfd);
		if (k <= 0)
			return cl_err(err, EPROTO, "the container's init died while setting it up");
		if (m.type == CT_MSG_PTY && pfd >= 0) {
			int r = ct_tty_send_console(console, pfd, err);
			close(pfd);
			if (r < 0)
				return r;
			continue;
		}
		if (pfd >= 0)
			close(pfd);
		if (m.type == CT_MSG_READY)
			return 0;
		if (m.type == CT_MSG_ERROR || m.type == CT_MSG_EXEC)
			return cl_err(err, m.code, "%s", m.msg);
	}
}

int crun_oci_create(const struct crun_oci_create_opts *o, pid_t *pid, struct cl_error *err)
{
	struct crun_bundle b;
	struct ct c;
	struct ct_state st;
	char *bundle = NULL, *text = NULL, *cfg = NULL;
	int r, sock = -1;
	pid_t init = 0;

	memset(&c, 0, sizeof(c));
	memset(&st, 0, sizeof(st));
	memset(&b, 0, sizeof(b));
	if ((r = crun_check_id(o->id, err)) < 0)
		return r;
	if (geteuid() != 0)
		return cl_err(err, EPERM, "the OCI runtime needs root (rootless bundles are not supported)");
	for (int fd = 3; fd < 3 + o->preserve_fds; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			return cl_err(err, EBADF, "--preserve-fds %d: fd %d is not open", o->preserve_fds, fd);
	if (!(bundle = realpath(o->bundle ? o->bundle : ".", NULL)))
		return cl_err_sys(err, errno, "bundle %s", o->bundle ? o->bundle : ".");
	if (!(cfg = ct_path_join(bundle, "config.json"))) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	if ((r = cl_text_read(cfg, 4 << 20, &text, err)) < 0) {
		if (r == -ENOENT)
			cl_err(err, ENOENT, "bundle %s: no config.json", bundle);
		goto out;
	}
	if ((r = crun_bundle_parse(text, bundle, &b, err)) < 0)
		goto out;
	struct stat sst;
	if (stat(b.rootfs, &sst) < 0 || !S_ISDIR(sst.st_mode)) {
		r = cl_err(err, ENOENT, "bundle %s: root.path %s is not a directory", bundle, b.rootfs);
		goto out;
	}
	if (b.terminal && !o->console_socket) {
		r = cl_err(err, EINVAL, "process.terminal is true: --console-socket is required");
		goto out;
	}
	if (b.hostname && (r = crun_check_hostname(b.hostname, err)) < 0)
		goto out;
	if (b.seccomp) {   /* what the container would fail on at start, refused now */
		scmp_filter_ctx sc;
		if ((r = crun_seccomp_compile(b.seccomp, &sc, err)) < 0) {
			cl_err_wrap(err, "config.json: linux.seccomp");
			goto out;
		}
		seccomp_release(sc);
	}

	const struct crun_run_opts ro = {
		.root = o->root,
		.name = o->id,
		.limits = b.limits,
		.seccomp = b.seccomp ? CRUN_SECCOMP_DEFAULT : CRUN_SECCOMP_UNCONFINED,
		.seccomp_profile = b.seccomp,
		.preserve_fds = o->preserve_fds,
		.tty = b.terminal,
	};
	if ((r = crun_check_limits(&ro.limits, err)) < 0)
		goto out;
	ct_defaults(&c);
	c.o = &ro;
	c.bundle = &b;
	c.bundle_dir = bundle;
	c.proc = b.proc;
	c.rootfs = b.rootfs;
	c.mounts = b.mounts;
	c.nmounts = b.nmounts;
	c.masked = (const char *const *)b.masked;
	c.readonly = (const char *const *)b.readonly;
	for (c.nmasked = 0; b.masked && b.masked[c.nmasked];)
		c.nmasked++;
	for (c.nreadonly = 0; b.readonly && b.readonly[c.nreadonly];)
		c.nreadonly++;
	c.caps = b.caps;
	c.ncaps = b.ncaps;
	snprintf(c.oldroot, sizeof(c.oldroot), "%s-%s", CT_OLDROOT, o->id);
	c.uid = 0;
	c.gid = 0;
	snprintf(c.hostname, sizeof(c.hostname), "%s", b.hostname ? b.hostname : "");
	if (!(c.root = strdup(o->root ? o->root : crun_default_root()))) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}

	st.status = CRUN_CREATED;
	st.created = (long long)time(NULL);
	st.exit_status = -1;
	snprintf(st.bundle, sizeof(st.bundle), "%s", bundle);
	snprintf(st.command, sizeof(st.command), "%s", b.proc.args[0]);
	st.annotations = b.annotations;
	if ((r = ct_claim_name(&c, &st, err)) < 0) {
		if (r == -EEXIST)
			cl_err(err, EEXIST, "container with id %s already exists", o->id);
		goto out;
	}
	char *copy = ct_path_join(c.dir, "config.json");
	r = copy ? cl_file_write_atomic(copy, text, 0600, err) : cl_err(err, ENOMEM, "out of memory");
	free(copy);
	if (r < 0)
		goto out;
	if (!(c.fifo = ct_path_join(c.dir, "exec.fifo"))) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	if (mkfifo(c.fifo, 0600) < 0) {
		r = cl_err_sys(err, errno, "mkfifo %s", c.fifo);
		goto out;
	}
	if ((r = ct_cgroup_make(&c, &st, err)) < 0 || (r = ct_state_save(&c, &st, err)) < 0)
		goto out;
	if ((r = ct_spawn(&c, &st, CRUN_CREATED, &sock, &init, err)) < 0)
		goto out;
	if ((r = wait_ready(sock, o->console_socket, err)) < 0 ||
	    (o->pid_file && (r = write_pid_file(o->pid_file, init, err)) < 0)) {
		kill(init, SIGKILL);
		while (waitpid(init, NULL, 0) < 0 && errno == EINTR)
			;
		goto out;
	}
	*pid = init;
	/* `run` waits for the init itself; create leaves it to our caller's subreaper */
	if (!o->keep_subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
out:
	if (r < 0)
		ct_teardown(&c);
	if (sock >= 0)
		close(sock);
	st.annotations = NULL;   /* the bundle's */
	crun_bundle_free(&b);
	free(c.fifo);
	free(c.dir);
	free(c.root);
	free(text);
	free(cfg);
	free(bundle);
	return r;
}

int crun_oci_start(const char *root, const char *id, struct cl_error *err)
{
	struct ct_state s;
	char *dir, *fifo = NULL;
	int r = ct_oci_load(root, id, &dir, &s, err), fd = -1;
	if (r < 0)
		return r;
	enum crun_status now = oci_status(&s);
	if (now != CRUN_CREATED) {
		r = cl_err(err, EBUSY, "cannot start container %s: it is %s, not created", id, crun_status_name(now));
		goto out;
	}
	if (!(fifo = ct_path_join(dir, "exec.fifo"))) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	if ((fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		r = errno == ENOENT ? cl_err(err, EBUSY, "cannot start container %s: already started", id)
				    : cl_err_sys(err, errno, "%s", fifo);
		goto out;
	}
	/* the init's byte, unless it died meanwhile */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int k = poll(&p, 1, 100);
		if (k < 0 && errno != EINTR) {
			r = cl_err_sys(err, errno, "poll %s", fifo);
			goto out;
		}
		if (k > 0) {
			char msg[CL_ERR_MSG_MAX];
			ssize_t n = read(fd, msg, sizeof(msg) - 1);
			if (n == 1 && msg[0] == '0')
				break;
			if (n > 0) {   /* a startContainer hook failed; the init has stopped */
				msg[n] = '\0';
				r = cl_err(err, ECANCELED, "cannot start container %s: %s", id, msg);
				goto out;
			}
			if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				r = cl_err(err, EBUSY, "cannot start container %s: already started", id);
				goto out;
			}
		}
		if (!cl_pid_alive(s.pid, s.pid_start)) {
			r = cl_err(err, ESRCH, "cannot start container %s: its init has exited", id);
			goto out;
		}
	}
	unlink(fifo);
	int lfd;
	if ((r = ct_state_lock(root, true, &lfd, err)) < 0)
		goto out;
	struct ct_state cur;
	if ((r = ct_state_read(dir, &cur, err)) == 0) {
		cur.status = CRUN_RUNNING;
		r = ct_state_write(dir, &cur, err);
		ct_state_free(&cur);
	}
	ct_state_unlock(lfd);
	if (r < 0)
		goto out;
	/* runtime.md: a poststart hook's failure is a warning, not an error */
	struct crun_bundle b;
	s.status = CRUN_RUNNING;
	if (load_config(dir, s.bundle, &b, NULL) == 0) {
		ct_hooks_run(&b, CRUN_HOOK_POSTSTART, &s, NULL);
		crun_bundle_free(&b);
	}
out:
	if (fd >= 0)
		close(fd);
	free(fifo);
	free(dir);
	ct_state_free(&s);
	return r;
}

int crun_oci_pause(const char *root, const char *id, bool pause, struct cl_error *err)
{
	struct ct_state s;
	char *dir;
	int r = ct_oci_load(root, id, &dir, &s, err);
	if (r < 0)
		return r;
	enum crun_status now = oci_status(&s);
	const struct cl_cgroup_ops *ops = cl_cgroup_ops_for(s.cg.version);
	if (now != (pause ? CRUN_RUNNING : CRUN_PAUSED))
		r = cl_err(err, EBUSY, "cannot %s container %s: it is %s", pause ? "pause" : "resume", id,
			   crun_status_name(now));
	else if (!ops)
		r = cl_err(err, ENOTSUP, "container %s has no cgroup to freeze", id);
	else if ((r = ops->freeze(&s.cg, pause, err)) < 0)
		cl_err_wrap(err, "%s container %s", pause ? "pause" : "resume", id);
	free(dir);
	ct_state_free(&s);
	return r;
}

int crun_oci_state(const char *root, const char *id, struct crun_oci_state *o,
		   struct cl_error *err)
{
	struct ct_state s;
	char *dir;
	int r = ct_oci_load(root, id, &dir, &s, err);
	if (r < 0)
		return r;
	free(dir);
	memset(o, 0, sizeof(*o));
	snprintf(o->id, sizeof(o->id), "%s", s.name);
	o->status = oci_status(&s);
	o->pid = o->status == CRUN_STOPPED ? 0 : s.pid;
	snprintf(o->bundle, sizeof(o->bundle), "%s", s.bundle);
	o->annotations = s.annotations;
	o->created = s.created;
	return 0;
}

void crun_oci_state_free(struct crun_oci_state *s)
{
	free(s->annotations);
	s->annotations = NULL;
}

char *crun_oci_state_json(const struct crun_oci_state *o)
{
	struct ct_state s;
	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "%s", o->id);
	s.pid = o->pid;
	snprintf(s.bundle, sizeof(s.bundle), "%s", o->bundle);
	s.annotations = o->annotations;
	return ct_state_oci_json(&s, crun_status_name(o->status));
}

/* the processes of the container's cgroup (any hierarchy holds them all) */
static int cgroup_pids(const struct ct_state *s, pid_t **pids, size_t *n, struct cl_error *err)
{
	*pids = NULL;
	*n = 0;
	for (int i = 0; i < CL_CG_NCTRL; i++) {
		if (!s->cg.path[i][0])
			continue;
		char *procs = ct_path_join(s->cg.path[i], "cgroup.procs"), *text;
		int r = procs ? cl_text_read(procs, 1 << 20, &text, err) : cl_err(err, ENOMEM, "out of memory");
		free(procs);
		if (r < 0)
			return r;
		size_t cap = 0;
		for (char *p = text, *end;; p = end) {
			long pid = strtol(p, &end, 10);
			if (end == p)
				break;
			if (*n == cap) {
				pid_t *np = realloc(*pids, (cap = cap ? 2 * cap : 16) * sizeof(pid_t));
				if (!np) {
					free(text);
					return cl_err(err, ENOMEM, "out of memory");
				}
				*pids = np;
			}
			(*pids)[(*n)++] = (pid_t)pid;
		}
		free(text);
		return 0;
	}
	return cl_err(err, ENOENT, "container %s has no cgroup", s->name);
}

int crun_oci_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct cl_error *err)
{
	struct ct_state s;
	char *dir;
	int r = ct_oci_load(root, id, &dir, &s, err);
	if (r < 0)
		return r;
	r = cgroup_pids(&s, pids, n, err);
	free(dir);
	ct_state_free(&s);
	return r;
}

/* every process of the container (kill --all) */
static int signal_cgroup(const struct ct_state *s, int sig, struct cl_error *err)
{
	pid_t *pids;
	size_t n;
	if (cgroup_pids(s, &pids, &n, NULL) < 0)
		return ct_signal_init(s, sig);
	for (size_t i = 0; i < n; i++)
		kill(pids[i], sig);
	free(pids);
	(void)err;
	return 0;
}

int crun_oci_kill(const char *root, const char *id, int sig, bool all, struct cl_error *err)
{
	struct ct_state s;
	char *dir;
	int r = ct_oci_load(root, id, &dir, &s, err);
	if (r < 0)
		return r;
	if (ct_effective_status(&s) == CRUN_STOPPED)
		r = cl_err(err, ESRCH, "container %s is not running", id);
	else if ((r = all ? signal_cgroup(&s, sig, err) : ct_signal_init(&s, sig)) < 0)
		cl_err_sys(err, -r, "signal container %s", id);
	free(dir);
	ct_state_free(&s);
	return r;
}

int crun_oci_delete(const char *root, const char *id, bool force, struct cl_error *err)
{
	struct ct_state s;
	char *dir;
	int r = ct_oci_load(root, id, &dir, &s, err);
	if (r < 0)
		return r;
	enum crun_status now = oci_status(&s);
	/* runc's rule: a created container may go (it never ran), a running one only forced */
	if ((now == CRUN_RUNNING || now == CRUN_PAUSED) && !force) {
		r = cl_err(err, EBUSY, "cannot delete container %s that is not stopped: %s (use --force)", id,
			   crun_status_name(now));
		goto out;
	}
	if (now == CRUN_PAUSED)
		cl_cgroup_ops_for(s.cg.version)->freeze(&s.cg, false, NULL);   /* a frozen task cannot die */
	if (now != CRUN_STOPPED) {
		ct_signal_init(&s, SIGKILL);
		for (int i = 0; i < 500 && cl_pid_alive(s.pid, s.pid_start); i++) {
			struct timespec ts = { 0, 20 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	struct crun_bundle b;
	bool have_config = load_config(dir, s.bundle, &b, NULL) == 0;
	int fd;
	if ((r = ct_state_lock(root, true, &fd, err)) == 0) {
		const struct cl_cgroup_ops *ops = cl_cgroup_ops_for(s.cg.version);
		if (!ops || (r = ops->destroy(&s.cg, err)) == 0)
			r = ct_state_remove_dir(dir, err);
		ct_state_unlock(fd);
	}
	if (have_config) {
		/* runtime.md: poststop failures are warnings */
		if (r == 0) {
			s.status = CRUN_STOPPED;
			ct_hooks_run(&b, CRUN_HOOK_POSTSTOP, &s, NULL);
		}
		crun_bundle_free(&b);
	}
out:
	free(dir);
	ct_state_free(&s);
	return r;
}

int crun_signal_parse(const char *s, int *sig, struct cl_error *err)
{
	if (!s || !*s)
		return cl_err(err, EINVAL, "empty signal");
	char *end;
	long n = strtol(s, &end, 10);
	if (!*end) {
		if (n <= 0 || n >= NSIG)
			return cl_err(err, EINVAL, "signal %s is out of range", s);
		*sig = (int)n;
		return 0;
	}
	const char *name = strncasecmp(s, "SIG", 3) ? s : s + 3;
	for (int i = 1; i < NSIG; i++) {
		const char *abbrev = sigabbrev_np(i);
		if (abbrev && !strcasecmp(abbrev, name)) {
			*sig = i;
			return 0;
		}
	}
	return cl_err(err, EINVAL, "unknown signal '%s'", s);
}
