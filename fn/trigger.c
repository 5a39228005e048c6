/* The queue trigger: an MQTT subscription (libmosquitto, QoS 1) that
 * invokes a function once per message. Delivery is at least once: the
 * session is persistent (clean_session false, a client id stable per
 * function and topic), so the broker keeps what arrives while the trigger
 * is away, and a message is handled inside libmosquitto's callback, whose
 * PUBACK follows it. A failed invocation is retried (fn_retry_next's
 * backoff); after the last attempt the message is published, unchanged,
 * to the dead-letter topic. MQTT 3.1.1: OASIS mqtt-v3.1.1 section 4.3.2. */
#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloudlet/net.h"
#include "internal.h"

#define KEEPALIVE_S 300          /* invocations run in the network thread */
#define RETRY_CAP_MS 10000

struct fn_trigger {
	struct mosquitto *m;
	struct fn_pool *pool;
	char *function, *topic, *dead_letter;
	unsigned max_attempts;
	uint64_t base_ms;
};

static void on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct fn_trigger *t = arg;
	/* (re)subscribe on every connection; a persistent session keeps it too */
	if (rc == 0)
		mosquitto_subscribe(m, NULL, t->topic, 1);
}

static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	struct fn_trigger *t = arg;
	struct cl_error err = { 0 };
	for (unsigned attempt = 1;; attempt++) {
		struct fn_result res;
		uint64_t delay;
		int r = fn_pool_invoke(t->pool, t->function, msg->payload, (size_t)msg->payloadlen, &res, &err);
		enum fn_outcome o = r < 0 ? FN_NOT_FOUND : res.outcome;
		if (r == 0)
			fn_result_free(&res);
		if (o == FN_OK)
			return;
		if (!fn_retry_next(attempt, t->max_attempts, t->base_ms, RETRY_CAP_MS, &delay))
			break;
		struct timespec ts = { (time_t)(delay / 1000), (long)(delay % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	mosquitto_publish(m, NULL, t->dead_letter, msg->payloadlen, msg->payload, 1, false);
}

static void trigger_free(struct fn_trigger *t)
{
	if (t->m)
		mosquitto_destroy(t->m);
	free(t->function);
	free(t->topic);
	free(t->dead_letter);
	free(t);
}

int fn_trigger_start(struct fn_pool *p, const struct fn_trigger_opts *o, struct fn_trigger **out,
		     struct cl_error *err)
{
	char host[256], id[24];
	const char *broker = o->broker ? o->broker : "127.0.0.1:1883", *colon = strrchr(broker, ':');
	unsigned long port = 1883;
	int rc;
	if (colon) {
		char *end;
		port = strtoul(colon + 1, &end, 10);
		if (!colon[1] || *end || port == 0 || port > 65535)
			return cl_err(err, EINVAL, "broker '%.80s': expected HOST:PORT", broker);
	}
	size_t hl = colon ? (size_t)(colon - broker) : strlen(broker);
	if (hl == 0 || hl >= sizeof(host))
		return cl_err(err, EINVAL, "broker '%.80s': expected HOST:PORT", broker);
	memcpy(host, broker, hl);
	host[hl] = '\0';
	if (!o->topic[0] || mosquitto_sub_topic_check(o->topic) != MOSQ_ERR_SUCCESS)
		return cl_err(err, EINVAL, "topic '%.80s': not a valid MQTT subscription", o->topic);
	if (o->max_attempts < 1)
		return cl_err(err, EINVAL, "attempts must be at least 1");
	struct fn_spec s;
	if ((rc = fn_get(fn_pool_root(p), o->function, &s, err)) < 0)
		return rc;
	fn_spec_free(&s);

	struct fn_trigger *t = calloc(1, sizeof(*t));
	if (!t)
		return cl_err(err, ENOMEM, "out of memory");
	char dl[1024];
	snprintf(dl, sizeof(dl), "%s", o->dead_letter ? o->dead_letter : "");
	if (!o->dead_letter && snprintf(dl, sizeof(dl), "%s/dead-letter", o->topic) >= (int)sizeof(dl)) {
		trigger_free(t);
		return cl_err(err, ENAMETOOLONG, "topic too long");
	}
	t->pool = p;
	t->max_attempts = o->max_attempts;
	t->base_ms = o->retry_base_ms;
	if (!(t->function = strdup(o->function)) || !(t->topic = strdup(o->topic)) || !(t->dead_letter = strdup(dl))) {
		trigger_free(t);
		return cl_err(err, ENOMEM, "out of memory");
	}
	if (strpbrk(dl, "+#") || !dl[0]) {
		trigger_free(t);
		return cl_err(err, EINVAL, "dead-letter topic '%.80s': no wildcards", dl);
	}
	/* a stable id: the broker keeps this trigger's session across restarts */
	const char *parts[] = { o->function, o->topic };
	snprintf(id, sizeof(id), "clfn-%016llx", (unsigned long long)net_hash(parts, 2));
	mosquitto_lib_init();
	if (!(t->m = mosquitto_new(id, false, t))) {
		trigger_free(t);
		return cl_err_sys(err, errno, "mosquitto_new");
	}
	mosquitto_connect_callback_set(t->m, on_connect);
	mosquitto_message_callback_set(t->m, on_message);
	if ((rc = mosquitto_connect(t->m, host, (int)port, KEEPALIVE_S)) != MOSQ_ERR_SUCCESS) {
		int e = rc == MOSQ_ERR_ERRNO ? errno : ECONNREFUSED;
		trigger_free(t);
		return cl_err(err, e, "broker %s: %s", broker, rc == MOSQ_ERR_ERRNO ? strerror(e)
										    : mosquitto_strerror(rc));
	}
	if ((rc = mosquitto_loop_start(t->m)) != MOSQ_ERR_SUCCESS) {
		trigger_free(t);
		return cl_err(err, EIO, "broker %s: %s", broker, mosquitto_strerror(rc));
	}
	*out = t;
	return 0;
}

void fn_trigger_stop(struct fn_trigger *t)
{
	if (!t)
		return;
	mosquitto_disconnect(t->m);
	mosquitto_loop_stop(t->m, false);
	trigger_free(t);
	mosquitto_lib_cleanup();
}
