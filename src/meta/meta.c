/* meta.sqlite access.  Notes:
 * 1. WAL mode with a busy timeout, so readers (search, the MCP server) never
 *    block the indexer and the indexer waits briefly instead of failing;
 *    synchronous=FULL, so a committed transaction survives power loss (the
 *    embedding state must never claim a vector the store lost).
 * 2. Schema creation is idempotent and tolerant of a database written by the
 *    reference tool: its tables are reused, our extra columns are added.
 * 3. A new meta.sqlite is built complete under a private name (WAL mode set,
 *    schema written, closed) and only then linked into place.  A writer killed
 *    while creating it leaves no meta.sqlite (just a temp file the next writer
 *    removes), never a half-made one with a hot rollback journal that a
 *    read-only opener could not roll back. */
#include "meta/meta.h"

#include "meta/meta_fts.h"
#include "meta/meta_sir.h"
#include "meta/sqlite_err.h"
#include "util/err.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ae_meta {
    sqlite3 *db;
    char *path;
    void *fts; /* meta_fts.c's prepared statements */
};

void **ae_meta_fts_slot(ae_meta *m)
{
    return &m->fts;
}

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS aether_c_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS symbols ("
    "  id TEXT PRIMARY KEY, file_path TEXT NOT NULL, language TEXT NOT NULL,"
    "  kind TEXT NOT NULL, qualified_name TEXT NOT NULL, signature_fingerprint TEXT NOT NULL,"
    "  last_seen_at INTEGER NOT NULL, access_count INTEGER NOT NULL DEFAULT 0,"
    "  last_accessed_at INTEGER);"
    "CREATE TABLE IF NOT EXISTS sir ("
    "  id TEXT PRIMARY KEY, sir_hash TEXT NOT NULL, sir_version INTEGER NOT NULL,"
    "  provider TEXT NOT NULL, model TEXT NOT NULL, updated_at INTEGER NOT NULL, sir_json TEXT);"
    "CREATE TABLE IF NOT EXISTS sir_history ("
    "  symbol_id TEXT NOT NULL, version INTEGER NOT NULL CHECK (version >= 1),"
    "  sir_hash TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL CHECK (created_at >= 0), sir_json TEXT NOT NULL,"
    "  commit_hash TEXT, PRIMARY KEY (symbol_id, version));"
    "CREATE TABLE IF NOT EXISTS sir_embeddings ("
    "  symbol_id TEXT PRIMARY KEY, sir_hash TEXT NOT NULL, provider TEXT NOT NULL,"
    "  model TEXT NOT NULL, embedding_dim INTEGER NOT NULL, embedding_json TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS idx_sir_embeddings_provider_model_dim"
    "  ON sir_embeddings(provider, model, embedding_dim);"
    "CREATE TABLE IF NOT EXISTS files ("
    "  path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS embedding_state ("
    "  backend TEXT NOT NULL, symbol_id TEXT NOT NULL, sir_hash TEXT NOT NULL,"
    "  provider TEXT NOT NULL, model TEXT NOT NULL, PRIMARY KEY (backend, symbol_id));";

/* The record of a complete embedding sync (src/workspace/embed_sync.h) goes with any write
 * that could make a sync necessary: a SIR written, changed or removed, a symbol added or
 * removed, an embedding_state row written or removed -- by any writer, this project's or
 * the reference tool's, in that write's transaction.  (Symbol updates keep it: an updated
 * symbol's SIR is what the sync looks at.) */
#define CLEAN_DROP "BEGIN DELETE FROM aether_c_meta WHERE key = 'embed_sync_clean'; END;"
static const char *const sync_clean_triggers_sql =
    "CREATE TRIGGER IF NOT EXISTS aether_c_sync_sir_ins AFTER INSERT ON sir " CLEAN_DROP
    "CREATE TRIGGER IF NOT EXISTS aether_c_sync_sir_upd AFTER UPDATE ON sir " CLEAN_DROP
    "CREATE TRIGGER IF NOT EXISTS aether_c_sync_sir_del AFTER DELETE ON sir " CLEAN_DROP
    "CREATE TRIGGER IF NOT EXISTS aether_c_sync_sym_ins AFTER INSERT ON symbols " CLEAN_DROP
    "CREATE TRIGGER IF NOT EXISTS aether_c_sync_sym_del AFTER DELETE ON symbols " CLEAN_DROP
    "CREATE TRIGGER IF NOT EXISTS aether_c_sync_es_ins AFTER INSERT ON embedding_state " CLEAN_DROP
    "CREATE TRIGGER IF NOT EXISTS aether_c_sync_es_upd AFTER UPDATE ON embedding_state " CLEAN_DROP
    "CREATE TRIGGER IF NOT EXISTS aether_c_sync_es_del AFTER DELETE ON embedding_state " CLEAN_DROP;

/* Columns this project adds to the reference tool's symbols table. */
static const char *const symbol_extra_columns[][2] = {
    {"name", "TEXT"},          {"signature", "TEXT"},   {"content_hash", "TEXT"},
    {"start_line", "INTEGER"}, {"end_line", "INTEGER"}, {"end_column", "INTEGER"},
};

/* The codes come from the one mapping (sqlite_err.h): a full disk under
 * meta.sqlite is AE_ENOSPC, a lock held elsewhere AE_EBUSY. */
static int sql_fail(ae_meta *m, ae_error *err, const char *what)
{
    return ae_sqlite_fail(m->db, err, "%s: %s", m->path, what);
}

int ae_meta_exec(ae_meta *m, const char *sql, ae_error *err)
{
    if (sqlite3_exec(m->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return ae_sqlite_fail(m->db, err, "%s", m->path);
    return 0;
}

int ae_meta_prepare(ae_meta *m, const char *sql, sqlite3_stmt **st, ae_error *err)
{
    if (sqlite3_prepare_v2(m->db, sql, -1, st, NULL) != SQLITE_OK) return sql_fail(m, err, sql);
    return 0;
}

static int has_column(ae_meta *m, const char *table, const char *column, bool *out, ae_error *err)
{
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", table);
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(m, sql, &st, err));
    *out = false;
    while (sqlite3_step(st) == SQLITE_ROW)
        if (!strcmp((const char *)sqlite3_column_text(st, 1), column)) *out = true;
    sqlite3_finalize(st);
    return 0;
}

static int migrate(ae_meta *m, ae_error *err)
{
    AE_TRY(ae_meta_exec(m, schema_sql, err));
    for (size_t i = 0; i < sizeof symbol_extra_columns / sizeof *symbol_extra_columns; i++) {
        bool present;
        AE_TRY(has_column(m, "symbols", symbol_extra_columns[i][0], &present, err));
        if (present) continue;
        char sql[160];
        snprintf(sql, sizeof sql, "ALTER TABLE symbols ADD COLUMN %s %s",
                 symbol_extra_columns[i][0], symbol_extra_columns[i][1]);
        AE_TRY(ae_meta_exec(m, sql, err));
    }
    AE_TRY(ae_meta_exec(m,
                        "CREATE INDEX IF NOT EXISTS idx_symbols_file ON symbols(file_path);"
                        "CREATE INDEX IF NOT EXISTS idx_sir_embeddings_symbol_hash"
                        "  ON sir_embeddings(symbol_id, sir_hash);"
                        "INSERT OR REPLACE INTO aether_c_meta(key, value) "
                        "VALUES ('schema_version', '1');",
                        err));
    AE_TRY(ae_meta_exec(m, sync_clean_triggers_sql, err));
    AE_TRY(meta_sir_migrate(m, err)); /* SIR status columns (meta_sir.c) */
    return ae_meta_fts_migrate(m, err);
}

static int open_db(const char *path, bool readonly, ae_meta **out, ae_error *err)
{
    *out = NULL;
    ae_meta *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = 0;
    ae_sqlite_fault_install();
    int orc = readonly ? ae_sqlite_open_readonly(path, &m->db)
                       : sqlite3_open_v2(path, &m->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (orc != SQLITE_OK) {
        if (readonly && m->db && (sqlite3_errcode(m->db) & 0xff) == SQLITE_CANTOPEN)
            rc = ae_fail(err, AE_ENOTFOUND, "open %s: %s", path, sqlite3_errmsg(m->db));
        else
            rc = ae_sqlite_fail(m->db, err, "open %s", path);
        goto cleanup;
    }
    sqlite3_busy_timeout(m->db, 10000);
    if (!readonly) {
        AE_CHECK(ae_meta_exec(m, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", err));
        AE_CHECK(migrate(m, err));
    }
    AE_CHECK(ae_meta_exec(m, "PRAGMA foreign_keys=OFF;", err));
    *out = m;
    return 0;
cleanup:
    ae_meta_close(m);
    return rc;
}

static void remove_db_files(const char *db)
{
    static const char *const suffixes[] = {"", "-journal", "-wal", "-shm"};
    char p[4096];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(p, sizeof p, "%s%s", db, suffixes[i]);
        unlink(p);
    }
}

/* Note 3: builds a complete new database under "<path>.new-<pid>" and links it
 * into place.  link() never replaces, so a writer that lost the race to
 * another creator simply opens the winner's file.  (A writer SIGKILLed here
 * leaves its small temp file behind; a later run with the same pid removes it.) */
static int create_complete(const char *path, ae_error *err)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.new-%ld", path, (long)getpid()) >= sizeof tmp)
        return ae_fail(err, AE_EINVAL, "path too long: %s", path);
    remove_db_files(tmp); /* left by a writer killed while creating */
    ae_meta *m;
    int rc = open_db(tmp, false, &m, err);
    if (rc < 0) {
        remove_db_files(tmp);
        return rc;
    }
    /* Back to a plain file (the WAL is checkpointed into it and removed on close). */
    ae_meta_close(m);
    if (link(tmp, path) < 0 && errno != EEXIST) {
        rc = ae_fail(err, errno == ENOSPC ? AE_ENOSPC : AE_EIO, "create %s: %s", path,
                     strerror(errno));
    } else {
        (void)ae_sync_parent(path); /* best effort: the file is complete either way */
    }
    remove_db_files(tmp);
    return rc;
}

int ae_meta_open(const char *path, bool readonly, ae_meta **out, ae_error *err)
{
    *out = NULL;
    struct stat sb;
    if (!readonly && stat(path, &sb) < 0 && errno == ENOENT) AE_TRY(create_complete(path, err));
    return open_db(path, readonly, out, err);
}

void ae_meta_close(ae_meta *m)
{
    if (!m) return;
    ae_meta_fts_close(m);
    sqlite3_close_v2(m->db);
    free(m->path);
    free(m);
}

sqlite3 *ae_meta_db(ae_meta *m)
{
    return m->db;
}

int ae_meta_begin(ae_meta *m, ae_error *err)
{
    return ae_meta_exec(m, "BEGIN IMMEDIATE", err);
}

int ae_meta_commit(ae_meta *m, ae_error *err)
{
    return ae_meta_exec(m, "COMMIT", err);
}

void ae_meta_rollback(ae_meta *m)
{
    sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Steps a statement expecting no rows; finalizes it. */
static int step_done(ae_meta *m, sqlite3_stmt *st, ae_error *err, const char *what)
{
    int s = sqlite3_step(st);
    int rc = 0;
    if (s != SQLITE_DONE) rc = sql_fail(m, err, what);
    sqlite3_finalize(st);
    return rc;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

int ae_meta_file_get(ae_meta *m, const char *path, ae_file_state *out, bool *found, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(m, "SELECT mtime_ns, size FROM files WHERE path = ?", &st, err));
    bind_text(st, 1, path);
    *found = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->mtime_ns = sqlite3_column_int64(st, 0);
        out->size = sqlite3_column_int64(st, 1);
        *found = true;
    }
    sqlite3_finalize(st);
    return 0;
}

int ae_meta_file_put(ae_meta *m, const char *path, const ae_file_state *fs, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(m, "INSERT OR REPLACE INTO files(path, mtime_ns, size) VALUES (?,?,?)",
                           &st, err));
    bind_text(st, 1, path);
    sqlite3_bind_int64(st, 2, fs->mtime_ns);
    sqlite3_bind_int64(st, 3, fs->size);
    return step_done(m, st, err, "record file");
}

int ae_meta_file_delete(ae_meta *m, const char *path, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(m, "DELETE FROM files WHERE path = ?", &st, err));
    bind_text(st, 1, path);
    return step_done(m, st, err, "delete file");
}

static int collect_strings(ae_meta *m, sqlite3_stmt *st, ae_strlist *out, ae_error *err)
{
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (ae_strlist_push(out, (const char *)sqlite3_column_text(st, 0)) < 0) {
            sqlite3_finalize(st);
            return ae_fail(err, AE_ENOMEM, "out of memory");
        }
    }
    int rc = s == SQLITE_DONE ? 0 : sql_fail(m, err, "query");
    sqlite3_finalize(st);
    return rc;
}

int ae_meta_file_list(ae_meta *m, ae_strlist *out, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(m, "SELECT path FROM files ORDER BY path", &st, err));
    return collect_strings(m, st, out, err);
}

int ae_meta_symbol_ids_for_file(ae_meta *m, const char *path, ae_strlist *out, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(m, "SELECT id FROM symbols WHERE file_path = ? ORDER BY id", &st, err));
    bind_text(st, 1, path);
    return collect_strings(m, st, out, err);
}

int ae_meta_symbol_upsert(ae_meta *m, const ae_symbol *s, int64_t now_ms, bool *content_changed,
                          ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(m, "SELECT content_hash FROM symbols WHERE id = ?", &st, err));
    bind_text(st, 1, s->id);
    *content_changed = true;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *old = (const char *)sqlite3_column_text(st, 0);
        *content_changed = !old || strcmp(old, s->content_hash) != 0;
    }
    sqlite3_finalize(st);
    AE_TRY(ae_meta_prepare(
        m,
        "INSERT INTO symbols(id, file_path, language, kind, qualified_name, "
        "signature_fingerprint, last_seen_at, name, signature, content_hash, start_line, end_line, "
        "end_column) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
        "file_path=excluded.file_path, language=excluded.language, kind=excluded.kind, "
        "qualified_name=excluded.qualified_name, "
        "signature_fingerprint=excluded.signature_fingerprint, last_seen_at=excluded.last_seen_at, "
        "name=excluded.name, signature=excluded.signature, content_hash=excluded.content_hash, "
        "start_line=excluded.start_line, end_line=excluded.end_line, "
        "end_column=excluded.end_column",
        &st, err));
    bind_text(st, 1, s->id);
    bind_text(st, 2, s->file_path);
    bind_text(st, 3, s->language);
    bind_text(st, 4, s->kind);
    bind_text(st, 5, s->qualified_name);
    bind_text(st, 6, s->signature_fingerprint);
    sqlite3_bind_int64(st, 7, now_ms);
    bind_text(st, 8, s->name);
    bind_text(st, 9, s->signature);
    bind_text(st, 10, s->content_hash);
    sqlite3_bind_int(st, 11, s->start_line);
    sqlite3_bind_int(st, 12, s->end_line);
    sqlite3_bind_int(st, 13, ae_symbol_end_column(s->source));
    AE_TRY(step_done(m, st, err, "store symbol"));
    return ae_meta_fts_symbol(m, s, err);
}

int ae_meta_symbol_delete(ae_meta *m, const char *id, ae_error *err)
{
    static const char *const sqls[] = {
        "DELETE FROM symbols WHERE id = ?",
        "DELETE FROM sir WHERE id = ?",
        "DELETE FROM sir_embeddings WHERE symbol_id = ?",
    };
    /* embedding_state rows stay: the pipeline finds vectors of deleted symbols
     * through them, deletes those from the active backend, then the rows. */
    for (size_t i = 0; i < sizeof sqls / sizeof *sqls; i++) {
        sqlite3_stmt *st;
        AE_TRY(ae_meta_prepare(m, sqls[i], &st, err));
        bind_text(st, 1, id);
        AE_TRY(step_done(m, st, err, "delete symbol"));
    }
    return ae_meta_fts_symbol_delete(m, id, err);
}

static int count_rows(ae_meta *m, const char *sql, int64_t *out, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(m, sql, &st, err));
    *out = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return 0;
}

int ae_meta_symbol_count(ae_meta *m, int64_t *out, ae_error *err)
{
    return count_rows(m, "SELECT COUNT(*) FROM symbols", out, err);
}

int ae_meta_sir_count(ae_meta *m, int64_t *out, ae_error *err)
{
    return count_rows(m, "SELECT COUNT(*) FROM sir WHERE " AE_META_SIR_PRESENT, out, err);
}

int ae_meta_sir_put(ae_meta *m, const char *id, const char *sir_hash, const char *provider,
                    const char *model, const char *sir_json, int64_t now_ms, bool *changed,
                    ae_error *err)
{
    ae_meta_sir_write w = {.id = id,
                           .sir_hash = sir_hash,
                           .provider = provider,
                           .model = model,
                           .sir_json = sir_json,
                           .now_ms = now_ms};
    return ae_meta_sir_store(m, &w, changed, err); /* meta_sir.c */
}

int ae_meta_sir_get(ae_meta *m, const char *id, char **json, char hash[AE_BLAKE3_HEX_LEN + 1],
                    bool *found, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(
        m, "SELECT sir_json, sir_hash FROM sir WHERE id = ? AND " AE_META_SIR_PRESENT, &st, err));
    bind_text(st, 1, id);
    *found = false;
    *json = NULL;
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *j = (const char *)sqlite3_column_text(st, 0);
        const char *h = (const char *)sqlite3_column_text(st, 1);
        *json = strdup(j ? j : "");
        snprintf(hash, AE_BLAKE3_HEX_LEN + 1, "%s", h ? h : "");
        *found = true;
        if (!*json) rc = ae_fail(err, AE_ENOMEM, "out of memory");
    }
    sqlite3_finalize(st);
    return rc;
}

int ae_meta_embedded_put(ae_meta *m, const char *backend, const char *id, const char *sir_hash,
                         const char *provider, const char *model, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(m,
                           "INSERT OR REPLACE INTO embedding_state(backend, symbol_id, sir_hash, "
                           "provider, model) VALUES (?,?,?,?,?)",
                           &st, err));
    bind_text(st, 1, backend);
    bind_text(st, 2, id);
    bind_text(st, 3, sir_hash);
    bind_text(st, 4, provider);
    bind_text(st, 5, model);
    return step_done(m, st, err, "record embedding state");
}

int ae_meta_embedded_delete(ae_meta *m, const char *backend, const char *id, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(m, "DELETE FROM embedding_state WHERE backend = ? AND symbol_id = ?",
                           &st, err));
    bind_text(st, 1, backend);
    bind_text(st, 2, id);
    return step_done(m, st, err, "delete embedding state");
}
