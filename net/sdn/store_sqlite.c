/* The embedded store: one SQLite database (libsqlite3), for a single
 * machine without etcd. etcd's model in two tables: kv(key, value,
 * mod_rev) and the store-wide revision; every write is one transaction
 * (BEGIN IMMEDIATE: writers queue on SQLite's lock, readers never block). */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/sdn.h"

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

static const struct sdn_store_ops sq_ops = { .get = sq_get, .cas = sq_cas, .close = sq_close };

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
			   "INSERT INTO meta(rev) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM meta)", err);
	if (r < 0) {
		sq_close(&q->base);
		return r;
	}
	*out = &q->base;
	return 0;
}
