/* A minimal QMP client over an abstract unix socket (no file to clean up,
 * and it works where /tmp is a 9p share that cannot hold sockets). JSON is
 * parsed with json-c. */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench.h"
#include "cloudlet/bench.h"

int qmp_connect(struct qmp *q, const char *name, int timeout_ms, struct cl_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	if (len + 1 > sizeof(sa.sun_path))
		return cl_err(err, ENAMETOOLONG, "QMP socket name too long");
	memcpy(sa.sun_path + 1, name, len);   /* sun_path[0] = 0: abstract namespace */
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
	memset(q, 0, sizeof(*q));
	double deadline = bench_now_ms() + timeout_ms;
	for (;;) {   /* QEMU listens only once it has started: retry */
		q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (q->fd < 0)
			return cl_err_sys(err, errno, "socket");
		if (connect(q->fd, (struct sockaddr *)&sa, salen) == 0)
			break;
		close(q->fd);
		q->fd = -1;
		if (bench_now_ms() > deadline)
			return cl_err(err, ETIMEDOUT, "QEMU's QMP socket did not appear within %d ms", timeout_ms);
		usleep(20000);
	}
	char *greeting = NULL;
	if (qmp_read(q, timeout_ms, &greeting) < 0 || !strstr(greeting, "\"QMP\"")) {
		free(greeting);
		return cl_err(err, EPROTO, "QEMU sent no QMP greeting");
	}
	free(greeting);
	char *reply = NULL;
	int r = qmp_execute(q, "{\"execute\": \"qmp_capabilities\"}", timeout_ms, &reply, err);
	free(reply);
	return r;
}

int qmp_read(struct qmp *q, int timeout_ms, char **msg)
{
	double deadline = bench_now_ms() + timeout_ms;
	for (;;) {
		char *nl = memchr(q->buf, '\n', q->len);
		if (nl) {
			size_t n = (size_t)(nl - q->buf);
			*msg = strndup(q->buf, n);
			memmove(q->buf, nl + 1, q->len - n - 1);
			q->len -= n + 1;
			if (*msg && strstr(*msg, "\"event\"") && strstr(*msg, "\"SHUTDOWN\""))
				q->shutdown_seen = true;
			return *msg ? 0 : -ENOMEM;
		}
		if (q->len == sizeof(q->buf))
			return -EMSGSIZE;
		/* poll at least once, even with no time left: timeout 0 means
		 * "what has already arrived" */
		int left = (int)(deadline - bench_now_ms());
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		int n = poll(&p, 1, left > 0 ? left : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ETIMEDOUT;
		ssize_t k = read(q->fd, q->buf + q->len, sizeof(q->buf) - q->len);
		if (k <= 0)
			return k == 0 ? -ECONNRESET : -errno;
		q->len += (size_t)k;
	}
}

int qmp_execute(struct qmp *q, const char *cmd, int timeout_ms, char **reply, struct cl_error *err)
{
	size_t len = strlen(cmd);
	if (write(q->fd, cmd, len) != (ssize_t)len || write(q->fd, "\n", 1) != 1)
		return cl_err_sys(err, errno, "QMP write");
	for (;;) {
		char *m = NULL;
		int r = qmp_read(q, timeout_ms, &m);
		if (r < 0)
			return cl_err(err, -r, "QMP: no answer to %s", cmd);
		if (strstr(m, "\"return\"")) {
			*reply = m;
			return 0;
		}
		if (strstr(m, "\"error\"")) {
			r = cl_err(err, EPROTO, "QMP: %s answered %.200s", cmd, m);
			free(m);
			return r;
		}
		free(m);   /* an event */
	}
}

void qmp_close(struct qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

/* query-stats (QEMU 7.1+, qapi/stats.json): a list of StatsResult, one per
 * vCPU, each {"provider": "kvm", "stats": [{"name": "exits", "value": N}...]}. */
int bench_qmp_sum_exits(const char *reply, uint64_t *exits)
{
	json_object *root = json_tokener_parse(reply), *ret, *res, *stats, *name, *value, *prov;
	int found = 0;
	*exits = 0;
	if (!root || !json_object_object_get_ex(root, "return", &ret) ||
	    !json_object_is_type(ret, json_type_array)) {
		json_object_put(root);
		return -EPROTO;
	}
	for (size_t i = 0; i < json_object_array_length(ret); i++) {
		res = json_object_array_get_idx(ret, i);
		if (!json_object_object_get_ex(res, "provider", &prov) ||
		    strcmp(json_object_get_string(prov), "kvm") ||
		    !json_object_object_get_ex(res, "stats", &stats) ||
		    !json_object_is_type(stats, json_type_array))
			continue;
		for (size_t j = 0; j < json_object_array_length(stats); j++) {
			json_object *s = json_object_array_get_idx(stats, j);
			if (json_object_object_get_ex(s, "name", &name) &&
			    !strcmp(json_object_get_string(name), "exits") &&
			    json_object_object_get_ex(s, "value", &value) &&
			    json_object_is_type(value, json_type_int)) {
				*exits += (uint64_t)json_object_get_int64(value);
				found = 1;
			}
		}
	}
	json_object_put(root);
	return found ? 0 : -ENOENT;
}
