/* fn/ internals shared by its files (not a public API). */
#ifndef FN_INTERNAL_H
#define FN_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cloudlet/fn.h"

/* ---- instance.c: one container or microVM running clfn ---- */

struct fn_inst {
	char id[64];                  /* container / VM name: fn-NAME-xxxxxxxx */
	enum fn_inst_state state;     /* the pool's, under the pool's lock */
	uint64_t last_used_ns;        /* monotonic */
	int64_t created;              /* unix seconds */
	uint64_t invocations;
	enum fn_kind kind;
	/* below: owned by instance.c */
	pid_t pid;                    /* the launcher (`cloudlet ct run` / `vm run`) */
	unsigned long long pid_start;
	int console;                  /* the launcher's stdout+stderr (pipe) */
	int log;                      /* the function's log, O_APPEND */
	int sock;                     /* the connection to clfn; -1 until ready */
	uint32_t ip;
	pthread_t reader;
	bool reader_started;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	uint64_t t_spawn, t_guest, t_runtime;   /* monotonic ns; 0: not yet */
	bool exited;                  /* the console reached EOF */
};

/* Start an instance of s (launcher, console reader, wait for clfn, connect)
 * before deadline_ns. i is zeroed by the caller except state/last_used.
 * create_ns/start_ns: spawn -> guest init ready, -> runtime ready. On
 * failure the instance is stopped and nothing of it remains. */
int fn_inst_start(struct fn_inst *i, const char *root, const char *exe, const struct fn_spec *s,
		  uint64_t deadline_ns, uint64_t *create_ns, uint64_t *start_ns, struct cl_error *err);
/* One invocation; fills res (outcome FN_OK, FN_HANDLER_FAIL, FN_INST_LOST
 * or FN_TIMEOUT). */
void fn_inst_call(struct fn_inst *i, const void *body, size_t len, uint64_t deadline_ns,
		  struct fn_result *res);
/* Is it still usable (launcher alive, connection not closed)? */
bool fn_inst_alive(struct fn_inst *i);
/* Stop it (SIGTERM to the launcher, which removes what it made; SIGKILL
 * after a grace period) and release everything it holds. */
void fn_inst_stop(struct fn_inst *i, const char *root);
/* Launchers left by a server that died: end them the same way, all at
 * once (SIGTERM to every one, then wait). */
struct fn_orphan {
	char id[64];
	pid_t pid;
	unsigned long long start;
};
void fn_inst_reap_orphans(const char *root, const struct fn_orphan *o, size_t n);

/* append one entry to the function's log (one write) */
void fn_log(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
