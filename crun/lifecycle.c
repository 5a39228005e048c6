/* `ct ps`, `ct stop`, `ct rm` over the state directory. A container is
 * live while the process in charge of it (the foreground runtime, or a
 * detached container's monitor) is: when that died without recording an
 * end, the container is reported stopped with an unknown status, and
 * `ct rm` removes what is left of it (cgroup, directory). */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static bool in_charge_alive(const struct ct_state *s)
{
	return cl_pid_alive(s->monitor, s->monitor_start);
}

/* the status as seen from outside: a dead monitor means it is over */
enum crun_status ct_effective_status(const struct ct_state *s)
{
	/* an OCI container has no process in charge: its init is all there is */
	if (s->bundle[0])
		return s->status != CRUN_STOPPED && !cl_pid_alive(s->pid, s->pid_start) ? CRUN_STOPPED : s->status;
	if (s->status != CRUN_STOPPED && !in_charge_alive(s))
		return CRUN_STOPPED;
	if (s->status == CRUN_RUNNING && !cl_pid_alive(s->pid, s->pid_start))
		return CRUN_STOPPED;   /* ended; the monitor is recording it */
	return s->status;
}

static int cmp_info(const void *a, const void *b)
{
	return strcmp(((const struct crun_info *)a)->name, ((const struct crun_info *)b)->name);
}

int crun_list(const char *root, struct crun_info **list, size_t *n, struct cl_error *err)
{
	int fd, r;
	*list = NULL;
	*n = 0;
	if ((r = ct_state_lock(root, false, &fd, err)) < 0)
		return r;
	char *dirpath = ct_path_join(root, "ct");
	DIR *d = dirpath ? opendir(dirpath) : NULL;
	if (!d) {
		r = dirpath ? cl_err_sys(err, errno, "%s", dirpath) : cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	struct dirent *de;
	size_t cap = 0;
	while ((de = readdir(d))) {
		struct ct_state s;
		if (de->d_name[0] == '.' || strlen(de->d_name) > CRUN_ID_MAX)
			continue;
		char *dir = ct_state_path(root, de->d_name);
		int e = dir ? ct_state_read(dir, &s, NULL) : -ENOMEM;
		free(dir);
		if (e < 0)
			continue;   /* not a container (or half made: claimed under the lock) */
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct crun_info *nl = realloc(*list, cap * sizeof(**list));
			if (!nl) {
				r = cl_err(err, ENOMEM, "out of memory");
				break;
			}
			*list = nl;
		}
		struct crun_info *i = &(*list)[(*n)++];
		memset(i, 0, sizeof(*i));
		memcpy(i->name, de->d_name, strlen(de->d_name) + 1);
		i->status = ct_effective_status(&s);
		i->pid = i->status == CRUN_RUNNING ? s.pid : 0;
		i->exit_status = i->status == CRUN_STOPPED ? (s.status == CRUN_STOPPED ? s.exit_status : -1) : 0;
		i->created = s.created;
		i->detached = s.detached;
		snprintf(i->image, sizeof(i->image), "%s", s.image);
		snprintf(i->command, sizeof(i->command), "%s", s.command);
		ct_state_free(&s);
	}
	closedir(d);
	if (*n)
		qsort(*list, *n, sizeof(**list), cmp_info);
out:
	free(dirpath);
	ct_state_unlock(fd);
	if (r < 0) {
		free(*list);
		*list = NULL;
		*n = 0;
	}
	return r;
}

static int load(const char *root, const char *name, char **dir, struct ct_state *s,
		struct cl_error *err)
{
	int r = crun_check_name(name, err);
	if (r < 0)
		return r;
	if (!(*dir = ct_state_path(root, name)))
		return cl_err(err, ENOMEM, "out of memory");
	int fd;
	if ((r = ct_state_lock(root, false, &fd, err)) < 0)
		goto fail;
	r = ct_state_read(*dir, s, err);
	ct_state_unlock(fd);
	if (r == -ENOENT)
		r = cl_err(err, ENOENT, "no such container '%s' (see 'ct ps')", name);
	if (r == 0)
		return 0;
fail:
	free(*dir);
	*dir = NULL;
	return r;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* signal the init, verified to be the same process as recorded */
int ct_signal_init(const struct ct_state *s, int sig)
{
	int pfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (pfd < 0)
		return errno == ESRCH ? 0 : -errno;
	int r = 0;
	if (cl_pid_alive(s->pid, s->pid_start) &&
	    syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0 && errno != ESRCH)
		r = -errno;
	close(pfd);
	return r;
}

/* until the process in charge has recorded the end (or is gone), or timeout */
static bool wait_recorded(const char *dir, long timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	do {
		struct ct_state s;
		if (ct_state_read(dir, &s, NULL) < 0)
			return true;   /* a foreground runtime removed it all */
		ct_state_free(&s);
		if (s.status == CRUN_STOPPED || !in_charge_alive(&s))
			return true;
		sleep_ms(20);
	} while (now_ms() < end);
	return false;
}

int crun_stop(const char *root, const char *name, uint64_t timeout_ms, struct cl_error *err)
{
	struct ct_state s;
	char *dir;
	int r = load(root, name, &dir, &s, err);
	if (r < 0)
		return r;
	if (ct_effective_status(&s) == CRUN_STOPPED)
		goto done;
	if (s.status == CRUN_CREATED) {
		r = cl_err(err, EAGAIN, "container '%s' is starting; try again", name);
		goto done;
	}
	if ((r = ct_signal_init(&s, SIGTERM)) < 0) {
		r = cl_err_sys(err, -r, "signal container '%s'", name);
		goto done;
	}
	long long end = now_ms() + (long long)timeout_ms;
	while (cl_pid_alive(s.pid, s.pid_start) && now_ms() < end)
		sleep_ms(20);
	if (cl_pid_alive(s.pid, s.pid_start) && (r = ct_signal_init(&s, SIGKILL)) < 0) {
		r = cl_err_sys(err, -r, "kill container '%s'", name);
		goto done;
	}
	if (!wait_recorded(dir, 10000))
		r = cl_err(err, ETIMEDOUT, "container '%s' did not stop", name);
done:
	ct_state_free(&s);
	free(dir);
	return r;
}

int crun_rm(const char *root, const char *name, bool force, struct cl_error *err)
{
	struct ct_state s;
	char *dir;
	int r = load(root, name, &dir, &s, err);
	if (r < 0)
		return r;
	if (ct_effective_status(&s) != CRUN_STOPPED) {
		if (!force) {
			r = cl_err(err, EBUSY, "container '%s' is running (ct stop %s, or ct rm --force)", name, name);
			goto done;
		}
		if ((r = crun_stop(root, name, 0, err)) < 0)
			goto done;
	}
	/* a foreground runtime cleans up after itself */
	if (!wait_recorded(dir, 10000)) {
		r = cl_err(err, ETIMEDOUT, "container '%s' did not stop", name);
		goto done;
	}
	int fd;
	if ((r = ct_state_lock(root, true, &fd, err)) < 0)
		goto done;
	ct_state_free(&s);
	if (ct_state_read(dir, &s, NULL) == 0) {
		const struct cl_cgroup_ops *ops = cl_cgroup_ops_for(s.cg.version);
		if (ops && (r = ops->destroy(&s.cg, err)) < 0) {
			ct_state_unlock(fd);
			goto done;
		}
		r = ct_state_remove_dir(dir, err);
		ct_state_free(&s);
	}
	ct_state_unlock(fd);
done:
	ct_state_free(&s);
	free(dir);
	return r;
}
