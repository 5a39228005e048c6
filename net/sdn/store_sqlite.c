/* The embedded store: one SQLite database (libsqlite3), for a single
 * machine without etcd. etcd's model in tables: kv(key, value, mod_rev),
 * the store-wide revision, and the history a watch reads: log(rev, key,
 * value; NULL for a delete), compacted (rows before `compacted` dropped,
 * automatically beyond LOG_KEEP revisions). Every write is one transaction
 * (BEGIN IMMEDIATE: writers queue on SQLite's lock, readers never block);
 * a watch polls PRAGMA data_version, which moves when another connection
 * commits (sqlite.org/pragma.html#pragma_data_version). */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloudlet/sdn.h"

#define LOG_KEEP 1000       /* revisions of history kept (etcd: auto-compaction-retention) */
#define WATCH_POLL_MS 50

struct sq {
	struct sdn_store base;
	sqlite3 *db;
	char path[4096];
};

static int sq_fail(struct sq *q, struct cl_error *err, const char *what)
{
	int code = sqlite3_errcode(q->db);
	return cl_err(err, code == SQLITE_BUSY ? EAGAIN : EIO, "controller sqlite:%s: %s: %s", q->path, what,
		      sqlite3_errmsg(q->db));
}

static int sq_exec(struct sq *q, const char *sql, struct cl_error *err)
{
	return sqlite3_exec(q->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : sq_fail(q, err, sql);
}

static int sq_get(struct sdn_store *s, const char *prefix, struct sdn_kv **kvs, size_t *n, int64_t *rev,
		  struct cl_error *err)
{
	struct sq *q = (struct sq *)s;
	sqlite3_stmt *st = NULL;
	int r = 0;
	*kvs = NULL;
	*n = 0;
	if ((r = sq_exec(q, "BEGIN", err)) < 0)
		return r;
	if (sqlite3_prepare_v2(q->db, "SELECT rev FROM meta", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		r = sq_fail(q, err, "read revision");
		goto out;
	}
	*rev = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	/* prefix match as a range: key >= prefix AND key < prefix + 0xff */
	if (sqlite3_prepare_v2(q->db, "SELECT key, value, mod_rev FROM kv WHERE substr(key, 1, ?2) = ?1 "
				      "ORDER BY key", -1, &st, NULL) != SQLITE_OK) {
		r = sq_fail(q, err, "read");
		goto out;
	}
	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)strlen(prefix));
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct sdn_kv *g = realloc(*kvs, (*n + 1) * sizeof(*g));
		if (!g) {
			r = cl_err(err, ENOMEM, "out of memory");
			goto out;
		}
		*kvs = g;
		g[*n].key = strdup((const char *)sqlite3_column_text(st, 0));
		g[*n].value = strdup((const char *)sqlite3_column_text(st, 1));
		g[*n].mod_rev = sqlite3_column_int64(st, 2);
		(*n)++;
		if (!g[*n - 1].key || !g[*n - 1].value) {
			r = cl_err(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	r = r == SQLITE_DONE ? 0 : sq_fail(q, err, "read");
out:
	sqlite3_finalize(st);
	sq_exec(q, "COMMIT", NULL);
	if (r < 0) {
		sdn_kvs_free(*kvs, *n);
		*kvs = NULL;
		*n = 0;
	}
	return r;
}

/* inside a write transaction: drop the log before rev */
static int sq_compact_locked(struct sq *q, int64_t rev, struct cl_error *err)
{
	sqlite3_stmt *st = NULL;
	int r = 0;
	if (sqlite3_prepare_v2(q->db, "DELETE FROM log WHERE rev < ?1", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, rev) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		r = sq_fail(q, err, "compact");
	sqlite3_finalize(st);
	st = NULL;
	if (r == 0 && (sqlite3_prepare_v2(q->db, "UPDATE compacted SET rev = max(rev, ?1)", -1, &st, NULL) != SQLITE_OK ||
		       sqlite3_bind_int64(st, 1, rev) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE))
		r = sq_fail(q, err, "compact");
	sqlite3_finalize(st);
	return r;
}

static int64_t sq_int(struct sq *q, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int sq_compact(struct sdn_store *s, int64_t rev, struct cl_error *err)
{
	struct sq *q = (struct sq *)s;
	int r;
	if ((r = sq_exec(q, "BEGIN IMMEDIATE", err)) < 0)
		return r;
	int64_t cur = sq_int(q, "SELECT rev FROM meta");
	if (cur < 0)
		r = sq_fail(q, err, "read revision");
	else if (rev > cur)
		r = cl_err(err, ERANGE, "controller sqlite:%s: compact %lld: a future revision (the store is at %lld)",
			   q->path, (long long)rev, (long long)cur);
	else
		r = sq_compact_locked(q, rev, err);
	if (r == 0 && (r = sq_exec(q, "COMMIT", err)) == 0)
		return 0;
	sq_exec(q, "ROLLBACK", NULL);
	return r;
}

/* one look at the log: the events after `after` under prefix */
static int sq_changes(struct sq *q, const char *prefix, int64_t after, struct sdn_watch *w, struct cl_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;
	if ((r = sq_exec(q, "BEGIN", err)) < 0)
		return r;
	int64_t compacted = sq_int(q, "SELECT rev FROM compacted");
	if (sdn_watch_gap(after, compacted)) {
		w->compacted = compacted;
		goto out;
	}
	if (sqlite3_prepare_v2(q->db, "SELECT rev, key, value FROM log WHERE rev > ?1 AND substr(key, 1, ?3) = ?2 "
				      "ORDER BY rev", -1, &st, NULL) != SQLITE_OK) {
		r = sq_fail(q, err, "read log");
		goto out;
	}
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)strlen(prefix));
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct sdn_kv *g = realloc(w->ev, (w->n + 1) * sizeof(*g));
		if (!g) {
			r = cl_err(err, ENOMEM, "out of memory");
			goto out;
		}
		w->ev = g;
		g += w->n++;
		g->mod_rev = sqlite3_column_int64(st, 0);
		g->key = strdup((const char *)sqlite3_column_text(st, 1));
		g->value = sqlite3_column_type(st, 2) == SQLITE_NULL ? NULL
								     : strdup((const char *)sqlite3_column_text(st, 2));
		if (!g->key || (sqlite3_column_type(st, 2) != SQLITE_NULL && !g->value)) {
			r = cl_err(err, ENOMEM, "out of memory");
			goto out;
		}
		w->rev = g->mod_rev;
	}
	r = r == SQLITE_DONE ? 0 : sq_fail(q, err, "read log");
out:
	sqlite3_finalize(st);
	sq_exec(q, "COMMIT", NULL);
	return r;
}

static int sq_watch(struct sdn_store *s, const char *prefix, int64_t after, unsigned timeout_ms, struct sdn_watch *w,
		    struct cl_error *err)
{
	struct sq *q = (struct sq *)s;
	int64_t seen = -1;
	memset(w, 0, sizeof(*w));
	for (unsigned t = 0;; t += WATCH_POLL_MS) {
		/* another connection committed since the last look */
		int64_t dv = sq_int(q, "PRAGMA data_version");
		if (dv != seen) {
			int r = sq_changes(q, prefix, after, w, err);
			if (r < 0 || w->n || w->compacted) {
				if (r < 0)
					sdn_watch_free(w);
				return r;
			}
			seen = dv;
		}
		if (t >= timeout_ms)
			return 0;
		struct timespec ts = { 0, WATCH_POLL_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static int sq_cas(struct sdn_store *s, const char *key, const char *value, int64_t expect, int64_t *rev,
		  struct cl_error *err)
{
	struct sq *q = (struct sq *)s;
	sqlite3_stmt *st = NULL;
	int64_t cur = 0, next;
	int r;
	if ((r = sq_exec(q, "BEGIN IMMEDIATE", err)) < 0)
		return r;
	if (sqlite3_prepare_v2(q->db, "SELECT mod_rev FROM kv WHERE key = ?1", -1, &st, NULL) != SQLITE_OK) {
		r = sq_fail(q, err, "read");
		goto out;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		cur = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (expect >= 0 && cur != expect) {
		r = -EAGAIN;
		goto out;
	}
	if (!value && !cur)
		goto out;   /* deleting what is not there: nothing changes */
	if ((r = sq_exec(q, "UPDATE meta SET rev = rev + 1", err)) < 0)
		goto out;
	if (sqlite3_prepare_v2(q->db, value ? "INSERT OR REPLACE INTO kv(key, value, mod_rev) "
					      "VALUES (?1, ?2, (SELECT rev FROM meta))"
					    : "DELETE FROM kv WHERE key = ?1",
			       -1, &st, NULL) != SQLITE_OK) {
		r = sq_fail(q, err, "write");
		goto out;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (value)
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = sq_fail(q, err, "write");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(q->db, "SELECT rev FROM meta", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		r = sq_fail(q, err, "read revision");
		goto out;
	}
	next = sqlite3_column_int64(st, 0);
	if (rev)
		*rev = next;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(q->db, "INSERT INTO log(rev, key, value) VALUES (?1, ?2, ?3)", -1, &st, NULL) !=
	    SQLITE_OK) {
		r = sq_fail(q, err, "log");
		goto out;
	}
	sqlite3_bind_int64(st, 1, next);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (value)
		sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = sq_fail(q, err, "log");
		goto out;
	}
	if (next % 100 == 0 && next > LOG_KEEP)
		r = sq_compact_locked(q, next - LOG_KEEP, err);
out:
	sqlite3_finalize(st);
	if (r == 0 && (r = sq_exec(q, "COMMIT", err)) == 0)
		return 0;
	sq_exec(q, "ROLLBACK", NULL);
	return r;
}

static void sq_close(struct sdn_store *s)
{
	struct sq *q = (struct sq *)s;
	sqlite3_close(q->db);
	free(q);
}

static const struct sdn_store_ops sq_ops = {
	.get = sq_get, .cas = sq_cas, .watch = sq_watch, .compact = sq_compact, .close = sq_close,
};

int sdn_store_sqlite_open(const char *path, struct sdn_store **out, struct cl_error *err)
{
	struct sq *q = calloc(1, sizeof(*q));
	if (!q)
		return cl_err(err, ENOMEM, "out of memory");
	q->base.ops = &sq_ops;
	snprintf(q->path, sizeof(q->path), "%s", path);
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		int r = cl_err(err, EIO, "controller sqlite:%s: %s", path, q->db ? sqlite3_errmsg(q->db) : "cannot open");
		sq_close(&q->base);
		return r;
	}
	sqlite3_busy_timeout(q->db, 5000);
	int r = sq_exec(q, "PRAGMA journal_mode=WAL; "
			   "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, "
			   "mod_rev INTEGER NOT NULL); "
			   "CREATE TABLE IF NOT EXISTS meta (rev INTEGER NOT NULL); "
			   "INSERT INTO meta(rev) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM meta); "
			   "CREATE TABLE IF NOT EXISTS log (rev INTEGER PRIMARY KEY, key TEXT NOT NULL, value TEXT); "
			   "CREATE TABLE IF NOT EXISTS compacted (rev INTEGER NOT NULL); "
			   "INSERT INTO compacted(rev) SELECT (SELECT rev FROM meta) + 1 "
			   "WHERE NOT EXISTS (SELECT 1 FROM compacted)", err);
	if (r < 0) {
		sq_close(&q->base);
		return r;
	}
	*out = &q->base;
	return 0;
}
