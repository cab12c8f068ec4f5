/* Migration between the VectorStore backends (see migrate.h).  Notes:
 * 1. Bounded memory: legacy rows are read in keyset pages ordered by
 *    symbol_id (WHERE symbol_id > last ORDER BY symbol_id LIMIT batch), so a
 *    1M-row table is never loaded at once; one page is one upsert.
 * 2. Resumable without duplicates: the vector table's upsert replaces an
 *    existing symbol_id, so re-running a page is harmless; embedding_state is
 *    written only after the store committed (a crash in between costs a
 *    re-copy), and the marker only after the last page (fsync'd, atomic).
 * 3. The sync asks SQL for the difference.  On every read-write open:
 *    rows whose sir_hash is the symbol's current one and that the active
 *    backend's state lacks.  Right after a switch (the previous read-write
 *    open used the other backend, ae_migrate_switch_*): every row the other
 *    backend holds -- current for its symbol, or tracked in its
 *    embedding_state (imported rows of ids that are not symbols) -- that the
 *    active backend's state lacks or records differently, and the deletions
 *    made meanwhile are mirrored (ae_migrate_mirror_deletes).  Only then: in
 *    steady state the other backend's extra rows are ones the active backend
 *    deleted.  Stale rows are never copied over current ones.
 * 4. A malformed legacy row (bad JSON, wrong length, NaN written as null,
 *    empty array, empty id) is skipped, counted and listed by id with the
 *    reason; it is not recorded in embedding_state, so the next index run
 *    embeds that symbol again instead of trusting the broken row.
 * 5. Test hook: ae_migrate_set_kill_after_batch(k) raises SIGKILL after the
 *    k-th committed batch (crash tests).  Test builds (AE_TESTING) also read
 *    AE_MIGRATE_KILL_AFTER_BATCH and AE_MIGRATE_BATCH_ROWS (the default page
 *    size) from the environment, for the shell tests; release builds never
 *    do. */
#include "store/migrate.h"

#include "meta/sqlite_err.h"
#include "store/sqlite_floats.h"
#include "util/clock.h"
#include "vectors/vs_validate.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CANDIDATE_PAGE 65536 /* ids per pass over the lancedb store */

static size_t batch_size(const ae_migrate_opts *o)
{
    size_t b = o ? o->batch_rows : 0;
#ifdef AE_TESTING
    if (!b) {
        const char *e = getenv("AE_MIGRATE_BATCH_ROWS");
        if (e && *e) b = (size_t)strtoul(e, NULL, 10);
    }
#endif
    if (!b) b = AE_MIGRATE_DEFAULT_BATCH;
    if (b < AE_MIGRATE_MIN_BATCH) b = AE_MIGRATE_MIN_BATCH;
    if (b > AE_MIGRATE_MAX_BATCH) b = AE_MIGRATE_MAX_BATCH;
    return b;
}

/* Process-global, like the I/O fault spec: set by the crash tests only. */
static long kill_after_batch;

void ae_migrate_set_kill_after_batch(long k)
{
    kill_after_batch = k > 0 ? k : 0;
}

static long kill_after(void)
{
#ifdef AE_TESTING
    const char *e = getenv("AE_MIGRATE_KILL_AFTER_BATCH");
    if (!kill_after_batch && e && *e) return strtol(e, NULL, 10);
#endif
    return kill_after_batch;
}

static int sql_fail(ae_meta *m, ae_error *err, const char *what)
{
    return ae_sqlite_fail(ae_meta_db(m), err, "%s", what);
}

static int count_query(ae_meta *m, const char *sql, const char *bind1, int64_t *out, ae_error *err)
{
    sqlite3_stmt *st;
    *out = 0;
    AE_TRY(ae_meta_prepare(m, sql, &st, err));
    if (bind1) sqlite3_bind_text(st, 1, bind1, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return s == SQLITE_ROW ? 0 : sql_fail(m, err, "count");
}

static bool table_exists(ae_meta *m, const char *name)
{
    sqlite3_stmt *st;
    if (ae_meta_prepare(m, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", &st,
                        NULL) < 0)
        return false;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

/* ---- report ---------------------------------------------------------------- */

void ae_migrate_report_free(ae_migrate_report *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n_tables; i++) {
        free(r->tables[i].provider);
        free(r->tables[i].model);
    }
    for (size_t i = 0; i < r->n_bad; i++) {
        free(r->bad[i].symbol_id);
        free(r->bad[i].reason);
    }
    free(r->tables);
    free(r->bad);
    memset(r, 0, sizeof *r);
}

static int report_table(ae_migrate_report *r, const ae_vs_record *rec, ae_error *err)
{
    for (size_t i = 0; i < r->n_tables; i++) {
        ae_migrate_table *t = &r->tables[i];
        if (t->dim == rec->dim && !strcmp(t->provider, rec->provider) &&
            !strcmp(t->model, rec->model)) {
            t->rows++;
            return 0;
        }
    }
    ae_migrate_table *ts = ae_realloc_array(r->tables, r->n_tables + 1, sizeof *ts);
    if (!ts) return ae_fail(err, AE_ENOMEM, "out of memory");
    r->tables = ts;
    ae_migrate_table *t = &ts[r->n_tables];
    *t = (ae_migrate_table){.provider = ae_strdup(rec->provider),
                            .model = ae_strdup(rec->model),
                            .dim = rec->dim,
                            .rows = 1};
    if (!t->provider || !t->model) {
        free(t->provider);
        free(t->model);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    r->n_tables++;
    return 0;
}

static int report_bad(ae_migrate_report *r, const char *id, const char *reason, ae_error *err)
{
    r->rows_malformed++;
    if (r->n_bad >= AE_MIGRATE_REPORT_IDS) return 0;
    ae_migrate_bad *b = ae_realloc_array(r->bad, r->n_bad + 1, sizeof *b);
    if (!b) return ae_fail(err, AE_ENOMEM, "out of memory");
    r->bad = b;
    b[r->n_bad].symbol_id = ae_strdup(id ? id : "");
    b[r->n_bad].reason = ae_strdup(reason);
    if (!b[r->n_bad].symbol_id || !b[r->n_bad].reason) {
        free(b[r->n_bad].symbol_id);
        free(b[r->n_bad].reason);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    r->n_bad++;
    return 0;
}

/* Why the fast parser refused a row; only runs for rejected rows. */
static void diagnose(const char *json, uint32_t dim, char *out, size_t cap)
{
    if (!json) {
        snprintf(out, cap, "embedding_json is NULL");
        return;
    }
    json_error_t je;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &je);
    if (!v) {
        bool nonfinite = false;
        for (const char *p = json; *p && !nonfinite; p++)
            nonfinite = !strncasecmp(p, "nan", 3) || !strncasecmp(p, "inf", 3);
        if (nonfinite)
            snprintf(out, cap, "NaN or Infinity in embedding_json");
        else
            snprintf(out, cap, "invalid JSON at column %d: %.100s", je.column, je.text);
        return;
    }
    if (!json_is_array(v)) {
        snprintf(out, cap, "embedding_json is not an array");
    } else if (json_array_size(v) == 0) {
        snprintf(out, cap, "empty array (embedding_dim %u)", dim);
    } else if (json_array_size(v) != dim) {
        snprintf(out, cap, "expected %u values (embedding_dim), found %zu", dim,
                 json_array_size(v));
    } else {
        snprintf(out, cap, "unreadable number");
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *x = json_array_get(v, i);
            if (json_is_null(x)) {
                snprintf(out, cap, "null (NaN) at index %zu", i);
                break;
            }
            if (!json_is_number(x)) {
                snprintf(out, cap, "non-number at index %zu", i);
                break;
            }
            if (!isfinite((float)json_number_value(x))) {
                snprintf(out, cap, "value at index %zu is outside the float32 range", i);
                break;
            }
        }
    }
    json_decref(v);
}

/* ---- a batch of rows owned by the migration ------------------------------ */

typedef struct batch {
    ae_vs_record *recs;
    float *vecs; /* n * max_dim, grown as needed */
    size_t n, cap;
    size_t vec_cap; /* floats */
    size_t vec_len;
} batch;

static void batch_clear(batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free((char *)b->recs[i].symbol_id);
        free((char *)b->recs[i].sir_hash);
        free((char *)b->recs[i].provider);
        free((char *)b->recs[i].model);
    }
    b->n = 0;
    b->vec_len = 0;
}

static void batch_free(batch *b)
{
    batch_clear(b);
    free(b->recs);
    free(b->vecs);
    memset(b, 0, sizeof *b);
}

/* Room for one more row of dim floats; returns the vector slot. */
static float *batch_slot(batch *b, uint32_t dim, ae_error *err)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        ae_vs_record *r = ae_realloc_array(b->recs, cap, sizeof *r);
        if (!r) return ae_fail(err, AE_ENOMEM, "out of memory for %zu rows", cap), NULL;
        b->recs = r;
        b->cap = cap;
    }
    if (b->vec_len + dim > b->vec_cap) {
        size_t cap = b->vec_cap ? b->vec_cap : 4096;
        while (cap < b->vec_len + dim)
            cap *= 2;
        float *v = ae_realloc_array(b->vecs, cap, sizeof *v);
        if (!v) return ae_fail(err, AE_ENOMEM, "out of memory for %zu floats", cap), NULL;
        b->vecs = v;
        b->vec_cap = cap;
    }
    return b->vecs + b->vec_len;
}

/* Appends a record whose vector was written into the slot. */
static int batch_push(batch *b, const ae_vs_record *src, ae_error *err)
{
    ae_vs_record *r = &b->recs[b->n];
    *r = *src;
    r->symbol_id = ae_strdup(src->symbol_id);
    r->sir_hash = ae_strdup(src->sir_hash);
    r->provider = ae_strdup(src->provider);
    r->model = ae_strdup(src->model);
    if (!r->symbol_id || !r->sir_hash || !r->provider || !r->model) {
        free((char *)r->symbol_id);
        free((char *)r->sir_hash);
        free((char *)r->provider);
        free((char *)r->model);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    b->vec_len += src->dim;
    b->n++;
    return 0;
}

/* Vectors move when vecs grows: point the records at their slots at flush. */
static void batch_fix_pointers(batch *b)
{
    size_t off = 0;
    for (size_t i = 0; i < b->n; i++) {
        b->recs[i].embedding = b->vecs + off;
        off += b->recs[i].dim;
    }
}

/* Upsert the batch (one commit per table), then record embedding_state. */
static int batch_flush(batch *b, ae_meta *meta, ae_vector_store *to, const char *backend,
                       ae_migrate_report *rep, ae_error *err)
{
    if (!b->n) return 0;
    batch_fix_pointers(b);
    AE_TRY(ae_vs_upsert(to, b->recs, b->n, err));
    AE_TRY(ae_meta_begin(meta, err));
    for (size_t i = 0; i < b->n; i++) {
        const ae_vs_record *r = &b->recs[i];
        int rc = ae_meta_embedded_put(meta, backend, r->symbol_id, r->sir_hash, r->provider,
                                      r->model, err);
        if (rc == 0) rc = report_table(rep, r, err);
        if (rc < 0) {
            ae_meta_rollback(meta);
            return rc;
        }
    }
    AE_TRY(ae_meta_commit(meta, err));
    rep->rows_migrated += b->n;
    batch_clear(b);
    return 0;
}

/* ---- sqlite -> lancedb ------------------------------------------------------ */

/* Every legacy row, except one whose symbol lancedb already holds at the
 * current sir_hash while the legacy row is older (a re-run after indexing on
 * lancedb must not put a stale vector over a current one). */
static const char newer_in_lance[] =
    "EXISTS (SELECT 1 FROM embedding_state a JOIN sir s ON s.id = a.symbol_id "
    "WHERE a.backend = 'lancedb' AND a.symbol_id = e.symbol_id AND a.sir_hash = s.sir_hash "
    "AND e.sir_hash <> s.sir_hash)";
static const char all_where[] =
    "FROM sir_embeddings e WHERE typeof(e.symbol_id) = 'text' AND e.symbol_id <> ''";
/* ids the keyset (symbol_id > '') never reaches */
static const char all_badid_sql[] =
    "SELECT CAST(symbol_id AS TEXT) FROM sir_embeddings "
    "WHERE symbol_id IS NULL OR typeof(symbol_id) <> 'text' OR symbol_id = ''";

/* The steady-state sync: current rows (their SIR's hash) lancedb's state
 * lacks. */
static const char diff_where[] =
    "FROM sir_embeddings e JOIN sir s ON s.id = e.symbol_id AND s.sir_hash = e.sir_hash "
    "LEFT JOIN embedding_state a ON a.backend = 'lancedb' AND a.symbol_id = e.symbol_id "
    "WHERE (a.symbol_id IS NULL OR a.sir_hash <> s.sir_hash)";
/* Right after a switch (note 3): every sqlite row that is current (its SIR's
 * hash) or that sqlite's embedding_state tracks (imported rows of ids that
 * are not symbols included), which lancedb's state lacks or records with
 * another hash, provider or model -- except a stale row over a current one. */
static const char diff_wide_where[] =
    "FROM sir_embeddings e LEFT JOIN sir s ON s.id = e.symbol_id "
    "LEFT JOIN embedding_state q ON q.backend = 'sqlite' AND q.symbol_id = e.symbol_id "
    "LEFT JOIN embedding_state a ON a.backend = 'lancedb' AND a.symbol_id = e.symbol_id "
    "WHERE typeof(e.symbol_id) = 'text' AND (s.sir_hash = e.sir_hash OR q.sir_hash = e.sir_hash) "
    "AND (a.symbol_id IS NULL OR a.sir_hash <> e.sir_hash OR a.provider <> e.provider "
    "OR a.model <> e.model) "
    "AND NOT (a.symbol_id IS NOT NULL AND a.sir_hash = s.sir_hash AND e.sir_hash <> s.sir_hash)";

static int read_row(sqlite3_stmt *st, batch *b, ae_migrate_report *rep, ae_error *err)
{
    const char *id = (const char *)sqlite3_column_text(st, 0);
    ae_vs_record r = {
        .symbol_id = id,
        .sir_hash = (const char *)sqlite3_column_text(st, 1),
        .provider = (const char *)sqlite3_column_text(st, 2),
        .model = (const char *)sqlite3_column_text(st, 3),
        .updated_at = sqlite3_column_int64(st, 6),
    };
    sqlite3_int64 d = sqlite3_column_int64(st, 4);
    const char *json = (const char *)sqlite3_column_text(st, 5);
    char why[256];
    if (strlen(id) > AE_SYMBOL_ID_MAX)
        return report_bad(rep, id, "symbol_id longer than 64 bytes", err);
    if (!r.sir_hash || !*r.sir_hash) return report_bad(rep, id, "empty sir_hash", err);
    if (!r.provider || !*r.provider) return report_bad(rep, id, "empty provider", err);
    if (!r.model || !*r.model) return report_bad(rep, id, "empty model", err);
    if (d <= 0 || d > AE_MAX_DIM) {
        snprintf(why, sizeof why, "embedding_dim %lld outside 1..%d", (long long)d, AE_MAX_DIM);
        return report_bad(rep, id, why, err);
    }
    r.dim = (uint32_t)d;
    float *slot = batch_slot(b, r.dim, err);
    if (!slot) return err ? err->code : AE_ENOMEM;
    if (ae_sqlite_parse_floats(json, slot, r.dim) < 0) {
        diagnose(json, r.dim, why, sizeof why);
        return report_bad(rep, id, why, err);
    }
    if (r.updated_at < 0) r.updated_at = 0;
    r.embedding = slot;
    return batch_push(b, &r, err);
}

static int sqlite_to_table(ae_meta *meta, ae_vector_store *lance, const char *vectors_dir,
                           bool all_rows, bool wide, const ae_migrate_opts *opts,
                           ae_migrate_report *rep, ae_error *err)
{
    const char *diff = wide ? diff_wide_where : diff_where;
    double t0 = ae_mono_s();
    rep->from = "sqlite";
    rep->to = "lancedb";
    if (!table_exists(meta, "sir_embeddings")) {
        if (all_rows && vectors_dir) {
            AE_TRY(ae_migrate_write_marker(vectors_dir, rep, err));
            rep->marker_written = true;
        }
        return 0;
    }
    size_t per = batch_size(opts);
    long kill_at = kill_after(), batches = 0;
    int64_t total = 0;
    batch b = {0};
    char *last = ae_strdup("");
    char *sql = NULL;
    int rc = 0;
    sqlite3_stmt *st = NULL;
    if (!last) AE_FAIL(err, AE_ENOMEM, "out of memory");
    bool have_state = table_exists(meta, "embedding_state") && table_exists(meta, "sir");
    if (all_rows) {
        char *csql = NULL;
        if (asprintf(&csql, "SELECT COUNT(*) %s%s%s", all_where, have_state ? " AND NOT " : "",
                     have_state ? newer_in_lance : "") < 0)
            AE_FAIL(err, AE_ENOMEM, "out of memory");
        rc = count_query(meta, csql, NULL, &total, err);
        free(csql);
        if (rc < 0) goto cleanup;
        if (have_state) {
            int64_t newer = 0;
            if (asprintf(&csql, "SELECT COUNT(*) %s AND %s", all_where, newer_in_lance) < 0)
                AE_FAIL(err, AE_ENOMEM, "out of memory");
            rc = count_query(meta, csql, NULL, &newer, err);
            free(csql);
            if (rc < 0) goto cleanup;
            rep->rows_newer += (size_t)newer;
        }
        AE_CHECK(ae_meta_prepare(meta, all_badid_sql, &st, err));
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *id = (const char *)sqlite3_column_text(st, 0);
            rep->rows_read++;
            AE_CHECK(report_bad(
                rep, id, id ? "symbol_id is not a non-empty string" : "empty symbol_id", err));
        }
        sqlite3_finalize(st);
        st = NULL;
    } else {
        char *csql = NULL;
        if (asprintf(&csql, "SELECT COUNT(*) %s", diff) < 0)
            AE_FAIL(err, AE_ENOMEM, "out of memory");
        rc = count_query(meta, csql, NULL, &total, err);
        free(csql);
        if (rc < 0) goto cleanup;
        if (total == 0) goto cleanup;
    }
    if (all_rows) {
        if (asprintf(&sql,
                     "SELECT e.symbol_id, e.sir_hash, e.provider, e.model, e.embedding_dim, "
                     "e.embedding_json, e.updated_at %s%s%s AND e.symbol_id > ?1 "
                     "ORDER BY e.symbol_id LIMIT ?2",
                     all_where, have_state ? " AND NOT " : "",
                     have_state ? newer_in_lance : "") < 0)
            sql = NULL;
    } else if (asprintf(&sql,
                        "SELECT e.symbol_id, e.sir_hash, e.provider, e.model, e.embedding_dim, "
                        "e.embedding_json, e.updated_at %s AND e.symbol_id > ?1 "
                        "ORDER BY e.symbol_id LIMIT ?2",
                        diff) < 0) {
        sql = NULL;
    }
    if (!sql) AE_FAIL(err, AE_ENOMEM, "out of memory");
    size_t done = 0;
    for (;;) {
        AE_CHECK(ae_meta_prepare(meta, sql, &st, err));
        sqlite3_bind_text(st, 1, last, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)per);
        size_t got = 0;
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            const char *id = (const char *)sqlite3_column_text(st, 0);
            char *copy = ae_strdup(id);
            if (!copy) AE_FAIL(err, AE_ENOMEM, "out of memory");
            free(last);
            last = copy;
            got++;
            rep->rows_read++;
            AE_CHECK(read_row(st, &b, rep, err));
        }
        if (s != SQLITE_DONE) {
            rc = sql_fail(meta, err, "read sir_embeddings");
            goto cleanup;
        }
        sqlite3_finalize(st);
        st = NULL;
        if (!got) break;
        AE_CHECK(batch_flush(&b, meta, lance, "lancedb", rep, err));
        done += got;
        if (opts && opts->progress)
            opts->progress(opts->progress_ctx, done, (size_t)total > done ? (size_t)total : done);
        if (kill_at > 0 && ++batches == kill_at) raise(SIGKILL);
        if (got < per) break;
    }
    if (all_rows && vectors_dir) {
        AE_CHECK(ae_migrate_write_marker(vectors_dir, rep, err));
        rep->marker_written = true;
    }
cleanup:
    sqlite3_finalize(st);
    batch_free(&b);
    free(last);
    free(sql);
    rep->seconds += ae_mono_s() - t0;
    return rc;
}

int ae_migrate_sqlite_to_table(ae_meta *meta, ae_vector_store *lance, const char *vectors_dir,
                               bool all_rows, const ae_migrate_opts *opts, ae_migrate_report *rep,
                               ae_error *err)
{
    return sqlite_to_table(meta, lance, vectors_dir, all_rows, false, opts, rep, err);
}

int ae_migrate_switch_to_table(ae_meta *meta, ae_vector_store *lance, const ae_migrate_opts *opts,
                               ae_migrate_report *rep, ae_error *err)
{
    return sqlite_to_table(meta, lance, NULL, false, true, opts, rep, err);
}

/* ---- lancedb -> sqlite ------------------------------------------------------ */

typedef struct cand {
    char *id, *hash;
    bool found;
} cand;

typedef struct pull_ctx {
    cand *c;
    size_t n;
    batch b;
    size_t per;
    ae_meta *meta;
    ae_vector_store *to;
    ae_migrate_report *rep;
    ae_error *err;
    size_t done, total;
    const ae_migrate_opts *opts;
} pull_ctx;

static int cmp_cand(const void *a, const void *b)
{
    return strcmp(((const cand *)a)->id, ((const cand *)b)->id);
}

static int pull_row(const ae_vs_record *rec, void *ctx)
{
    pull_ctx *p = ctx;
    cand key = {.id = (char *)rec->symbol_id};
    cand *c = bsearch(&key, p->c, p->n, sizeof *c, cmp_cand);
    if (!c || c->found || strcmp(c->hash, rec->sir_hash)) return 0;
    c->found = true;
    float *slot = batch_slot(&p->b, rec->dim, p->err);
    if (!slot) return p->err ? p->err->code : AE_ENOMEM;
    memcpy(slot, rec->embedding, (size_t)rec->dim * sizeof *slot);
    AE_TRY(batch_push(&p->b, rec, p->err));
    if (p->b.n < p->per) return 0;
    size_t n = p->b.n;
    AE_TRY(batch_flush(&p->b, p->meta, p->to, "sqlite", p->rep, p->err));
    p->done += n;
    if (p->opts && p->opts->progress) p->opts->progress(p->opts->progress_ctx, p->done, p->total);
    return 0;
}

static const char pull_where[] =
    "FROM embedding_state a JOIN sir s ON s.id = a.symbol_id AND s.sir_hash = a.sir_hash "
    "LEFT JOIN sir_embeddings e ON e.symbol_id = a.symbol_id "
    "WHERE a.backend = 'lancedb' AND (e.symbol_id IS NULL OR e.sir_hash <> s.sir_hash)";
/* Right after a switch: every row lancedb's embedding_state tracks (imported rows of ids that are
 * not symbols included) that sir_embeddings lacks or holds with another
 * hash, provider or model -- except a stale row over a current one. */
static const char pull_wide_where[] =
    "FROM embedding_state a LEFT JOIN sir s ON s.id = a.symbol_id "
    "LEFT JOIN sir_embeddings e ON e.symbol_id = a.symbol_id "
    "WHERE a.backend = 'lancedb' AND (e.symbol_id IS NULL OR e.sir_hash <> a.sir_hash "
    "OR e.provider <> a.provider OR e.model <> a.model) "
    "AND NOT (e.symbol_id IS NOT NULL AND e.sir_hash = s.sir_hash AND a.sir_hash <> s.sir_hash)";

static int table_to_sqlite(ae_meta *meta, ae_vector_store *lance, ae_vector_store *sqlite_vs,
                           bool wide, const ae_migrate_opts *opts, ae_migrate_report *rep,
                           ae_error *err)
{
    const char *pull = wide ? pull_wide_where : pull_where;
    double t0 = ae_mono_s();
    rep->from = "lancedb";
    rep->to = "sqlite";
    pull_ctx p = {.per = batch_size(opts),
                  .meta = meta,
                  .to = sqlite_vs,
                  .rep = rep,
                  .err = err,
                  .opts = opts};
    char *sql = NULL, *csql = NULL, *last = ae_strdup("");
    sqlite3_stmt *st = NULL;
    int rc = 0;
    int64_t total = 0;
    if (!last || asprintf(&csql, "SELECT COUNT(*) %s", pull) < 0 ||
        asprintf(&sql,
                 "SELECT a.symbol_id, a.sir_hash %s AND a.symbol_id > ?1 "
                 "ORDER BY a.symbol_id LIMIT ?2",
                 pull) < 0)
        AE_FAIL(err, AE_ENOMEM, "out of memory");
    AE_CHECK(count_query(meta, csql, NULL, &total, err));
    if (!total) goto cleanup;
    p.total = (size_t)total;
    p.c = ae_calloc_array(CANDIDATE_PAGE, sizeof *p.c);
    if (!p.c) AE_FAIL(err, AE_ENOMEM, "out of memory for %d candidate ids", CANDIDATE_PAGE);
    for (;;) {
        AE_CHECK(ae_meta_prepare(meta, sql, &st, err));
        sqlite3_bind_text(st, 1, last, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, CANDIDATE_PAGE);
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            cand *c = &p.c[p.n];
            c->id = ae_strdup((const char *)sqlite3_column_text(st, 0));
            c->hash = ae_strdup((const char *)sqlite3_column_text(st, 1));
            c->found = false;
            p.n++;
            if (!c->id || !c->hash) AE_FAIL(err, AE_ENOMEM, "out of memory");
        }
        if (s != SQLITE_DONE) {
            rc = sql_fail(meta, err, "read embedding_state");
            goto cleanup;
        }
        sqlite3_finalize(st);
        st = NULL;
        if (!p.n) break;
        free(last);
        last = ae_strdup(p.c[p.n - 1].id); /* ORDER BY gives sorted ids for bsearch */
        if (!last) AE_FAIL(err, AE_ENOMEM, "out of memory");
        rep->rows_read += p.n;
        AE_CHECK(ae_vs_iterate(lance, pull_row, &p, err));
        size_t n = p.b.n;
        AE_CHECK(batch_flush(&p.b, meta, sqlite_vs, "sqlite", rep, err));
        p.done += n;
        /* promised but absent: forget the promise so the next index run re-embeds */
        AE_CHECK(ae_meta_begin(meta, err));
        for (size_t i = 0; i < p.n && rc == 0; i++)
            if (!p.c[i].found) {
                rep->rows_missing++;
                rc = ae_meta_embedded_delete(meta, "lancedb", p.c[i].id, err);
            }
        if (rc < 0) {
            ae_meta_rollback(meta);
            goto cleanup;
        }
        AE_CHECK(ae_meta_commit(meta, err));
        if (opts && opts->progress) opts->progress(opts->progress_ctx, p.done, p.total);
        bool more = p.n == CANDIDATE_PAGE;
        for (size_t i = 0; i < p.n; i++) {
            free(p.c[i].id);
            free(p.c[i].hash);
        }
        p.n = 0;
        if (!more) break;
    }
cleanup:
    sqlite3_finalize(st);
    for (size_t i = 0; i < p.n; i++) {
        free(p.c[i].id);
        free(p.c[i].hash);
    }
    free(p.c);
    batch_free(&p.b);
    free(sql);
    free(csql);
    free(last);
    rep->seconds += ae_mono_s() - t0;
    return rc;
}

int ae_migrate_table_to_sqlite(ae_meta *meta, ae_vector_store *lance, ae_vector_store *sqlite_vs,
                               const ae_migrate_opts *opts, ae_migrate_report *rep, ae_error *err)
{
    return table_to_sqlite(meta, lance, sqlite_vs, false, opts, rep, err);
}

int ae_migrate_switch_to_sqlite(ae_meta *meta, ae_vector_store *lance, ae_vector_store *sqlite_vs,
                                const ae_migrate_opts *opts, ae_migrate_report *rep, ae_error *err)
{
    return table_to_sqlite(meta, lance, sqlite_vs, true, opts, rep, err);
}

/* ---- pruning ------------------------------------------------------------------ */

typedef struct prune_ctx {
    sqlite3_stmt *exists;
    ae_strlist gone;
} prune_ctx;

static int prune_row(const ae_vs_record *rec, void *ctx)
{
    prune_ctx *p = ctx;
    sqlite3_reset(p->exists);
    sqlite3_bind_text(p->exists, 1, rec->symbol_id, -1, SQLITE_STATIC);
    if (sqlite3_step(p->exists) == SQLITE_ROW) return 0;
    return ae_strlist_push(&p->gone, rec->symbol_id) < 0 ? AE_ENOMEM : 0;
}

int ae_migrate_prune_table(ae_meta *meta, ae_vector_store *lance, size_t *pruned, ae_error *err)
{
    *pruned = 0;
    size_t rows = 0;
    int64_t tracked = 0;
    AE_TRY(ae_vs_count(lance, NULL, NULL, &rows, err));
    AE_TRY(count_query(meta, "SELECT COUNT(*) FROM embedding_state WHERE backend = 'lancedb'", NULL,
                       &tracked, err));
    if ((int64_t)rows <= tracked) return 0;
    prune_ctx p = {0};
    int rc = 0;
    AE_CHECK(ae_meta_prepare(meta, "SELECT 1 FROM symbols WHERE id = ?1", &p.exists, err));
    rc = ae_vs_iterate(lance, prune_row, &p, err);
    if (rc == AE_ENOMEM) AE_FAIL(err, AE_ENOMEM, "out of memory");
    if (rc < 0) goto cleanup;
    if (p.gone.len) {
        AE_CHECK(ae_vs_delete(lance, (const char *const *)p.gone.items, p.gone.len, err));
        AE_CHECK(ae_meta_begin(meta, err));
        for (size_t i = 0; i < p.gone.len && rc == 0; i++)
            rc = ae_meta_embedded_delete(meta, "lancedb", p.gone.items[i], err);
        if (rc < 0) {
            ae_meta_rollback(meta);
            goto cleanup;
        }
        AE_CHECK(ae_meta_commit(meta, err));
    }
    *pruned = p.gone.len;
cleanup:
    sqlite3_finalize(p.exists);
    ae_strlist_free(&p.gone);
    return rc;
}

/* ---- deletions across a switch ---------------------------------------------- */

int ae_migrate_mirror_deletes(ae_meta *meta, const char *from, const char *to,
                              ae_vector_store *to_vs, size_t *deleted, ae_error *err)
{
    *deleted = 0;
    if (!table_exists(meta, "embedding_state")) return 0;
    sqlite3_stmt *st = NULL;
    ae_strlist gone = {0};
    int rc = 0;
    AE_CHECK(ae_meta_prepare(meta,
                             "SELECT b.symbol_id FROM embedding_state b WHERE b.backend = ?1 AND "
                             "NOT EXISTS (SELECT 1 FROM embedding_state a WHERE a.backend = ?2 "
                             "AND a.symbol_id = b.symbol_id)",
                             &st, err));
    sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        if (ae_strlist_push(&gone, (const char *)sqlite3_column_text(st, 0)) < 0)
            AE_FAIL(err, AE_ENOMEM, "out of memory");
    if (s != SQLITE_DONE) {
        rc = sql_fail(meta, err, "read embedding_state");
        goto cleanup;
    }
    if (!gone.len) goto cleanup;
    /* state first, then the store, as the pipeline's prune: a crash in
     * between leaves an untracked vector, which the next open prunes */
    AE_CHECK(ae_meta_begin(meta, err));
    for (size_t i = 0; i < gone.len && rc == 0; i++)
        rc = ae_meta_embedded_delete(meta, to, gone.items[i], err);
    if (rc < 0) {
        ae_meta_rollback(meta);
        goto cleanup;
    }
    AE_CHECK(ae_meta_commit(meta, err));
    AE_CHECK(ae_vs_delete(to_vs, (const char *const *)gone.items, gone.len, err));
    *deleted = gone.len;
cleanup:
    sqlite3_finalize(st);
    ae_strlist_free(&gone);
    return rc;
}

/* ---- marker and cheap checks ------------------------------------------------- */

bool ae_migrate_marker_present(const char *vectors_dir)
{
    char *p = ae_path_join(vectors_dir, AE_MIGRATE_MARKER);
    bool present = p && ae_path_exists(p);
    free(p);
    return present;
}

int ae_migrate_write_marker(const char *vectors_dir, const ae_migrate_report *rep, ae_error *err)
{
    AE_TRY(ae_mkdirs(vectors_dir, err));
    char *p = ae_path_join(vectors_dir, AE_MIGRATE_MARKER);
    if (!p) return ae_fail(err, AE_ENOMEM, "out of memory");
    char text[160];
    int len = snprintf(text, sizeof text, "migrated_rows=%zu\nmalformed_rows=%zu\n",
                       rep ? rep->rows_migrated : 0, rep ? rep->rows_malformed : 0);
    int rc = ae_write_file_atomic(p, text, (size_t)len, err);
    free(p);
    return rc;
}

int ae_migrate_legacy_rows(ae_meta *meta, int64_t *n, ae_error *err)
{
    *n = 0;
    if (!table_exists(meta, "sir_embeddings")) return 0;
    return count_query(meta, "SELECT COUNT(*) FROM sir_embeddings", NULL, n, err);
}

int ae_migrate_pending(ae_meta *meta, const char *active, int64_t *n, ae_error *err)
{
    *n = 0;
    if (!table_exists(meta, "sir_embeddings") || !table_exists(meta, "embedding_state") ||
        !table_exists(meta, "sir"))
        return 0;
    char *sql = NULL;
    if (asprintf(&sql, "SELECT COUNT(*) %s", !strcmp(active, "lancedb") ? diff_where : pull_where) <
        0)
        return ae_fail(err, AE_ENOMEM, "out of memory");
    int rc = count_query(meta, sql, NULL, n, err);
    free(sql);
    return rc;
}
