/* The legacy VectorStore backend: the reference tool's sir_embeddings table,
 * searched by brute force.  Kept as the fallback and the baseline the native
 * vector table is measured against.
 *
 * 1. The layout is the reference's, column for column, so a meta.sqlite
 *    written by either tool is readable by the other; embeddings are JSON text
 *    ("%.9g" per float, which round-trips float32 exactly).
 * 2. Search reads every row of (provider, model, dim), parses its JSON with a
 *    small hand-rolled parser (jansson would allocate a tree per row; a
 *    one-multiply fast path covers the "%.9g" numbers we write, strtof the
 *    rest, with identical results) and scores cosine in double.  Malformed rows and rows of the
 * wrong length are skipped, never fatal: one bad row must not take search down.
 * 3. symbol_id is the PRIMARY KEY, so an upsert replaces a symbol's embedding
 *    whatever its provider/model was; that is the reference's behaviour.
 * 4. Statements are prepared per call: a query costs ~10 us to prepare against
 *    a scan of milliseconds, and nothing goes stale if another connection
 *    changes the schema. */
#include <aether/vector_store.h>

#include "meta/sqlite_err.h"
#include "store/sqlite_floats.h"
#include "util/clock.h"
#include "util/topk.h"
#include "vectors/vs_validate.h"
#include "util/err.h"
#include "util/mem.h"

#include <math.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SQLITE_BUSY_TIMEOUT_MS 5000

typedef struct sqlite_backend {
    sqlite3 *db;
    char *path;
} sqlite_backend;

static const char schema_sql[] = "CREATE TABLE IF NOT EXISTS sir_embeddings ("
                                 "symbol_id TEXT PRIMARY KEY, "
                                 "sir_hash TEXT NOT NULL, "
                                 "provider TEXT NOT NULL, "
                                 "model TEXT NOT NULL, "
                                 "embedding_dim INTEGER NOT NULL, "
                                 "embedding_json TEXT NOT NULL, "
                                 "updated_at INTEGER NOT NULL)";

static int fail_sqlite(sqlite_backend *b, ae_error *err, const char *what)
{
    if (strstr(sqlite3_errmsg(b->db), "no such table"))
        return ae_fail(err, AE_ENOTFOUND, "%s: %s: table sir_embeddings does not exist", b->path,
                       what);
    return ae_sqlite_fail(b->db, err, "%s: %s", b->path, what);
}

static int prepare(sqlite_backend *b, const char *sql, sqlite3_stmt **st, ae_error *err,
                   const char *what)
{
    if (sqlite3_prepare_v2(b->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return fail_sqlite(b, err, what);
    }
    return 0;
}

static int exec(sqlite_backend *b, const char *sql, ae_error *err, const char *what)
{
    if (sqlite3_exec(b->db, sql, NULL, NULL, NULL) != SQLITE_OK) return fail_sqlite(b, err, what);
    return 0;
}

/* ---- JSON float arrays ------------------------------------------------- */

static int write_json_floats(ae_buf *buf, const float *v, uint32_t dim)
{
    buf->len = 0;
    /* worst case "-1.23456789e-38," is 16 bytes */
    if (ae_buf_reserve(buf, (size_t)dim * 16 + 3) < 0) return AE_ENOMEM;
    char *p = buf->data;
    *p++ = '[';
    for (uint32_t j = 0; j < dim; j++) {
        if (j) *p++ = ',';
        p += snprintf(p, 17, "%.9g", (double)v[j]);
    }
    *p++ = ']';
    *p = '\0';
    buf->len = (size_t)(p - buf->data);
    return 0;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* Fast path for one JSON number: up to 15 significant digits and a decimal
 * exponent within +-22 make m * 10^e (or m / 10^-e) one correctly rounded
 * double operation; rounding that double to float is then correct unless it
 * landed exactly on a float midpoint, which is checked.  Returns 1 to ask the
 * caller for strtof (long mantissas, big exponents, denormals). */
static int fast_float(const char *p, const char **end, float *out)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *s = p;
    int neg = *s == '-';
    s += neg;
    uint64_t m = 0;
    int nd = 0, e = 0;
    if (!(*s >= '0' && *s <= '9')) return 1;
    for (; *s >= '0' && *s <= '9'; s++) {
        if ((nd || *s != '0') && ++nd > 15) return 1;
        m = m * 10 + (uint64_t)(*s - '0');
    }
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9')) return 1;
        for (; *s >= '0' && *s <= '9'; s++, e--) {
            if ((nd || *s != '0') && ++nd > 15) return 1;
            m = m * 10 + (uint64_t)(*s - '0');
        }
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        int sign = 1, x = 0;
        if (*s == '+' || *s == '-') sign = *s++ == '-' ? -1 : 1;
        if (!(*s >= '0' && *s <= '9')) return 1;
        for (; *s >= '0' && *s <= '9'; s++)
            if (x < 10000) x = x * 10 + (*s - '0');
        e += sign * x;
    }
    double v = (double)m; /* exact: m < 10^15 < 2^53 */
    if (m) {
        if (e < -22 || e > 22) return 1;
        v = e < 0 ? v / pow10[-e] : v * pow10[e];
        if (v < 1.17549435082228750797e-38 || v > 3.40282346638528859812e+38) return 1;
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        if ((bits & 0x1fffffffULL) == 0x10000000ULL) return 1; /* float midpoint */
    }
    float f = (float)v;
    *out = neg ? -f : f;
    *end = s;
    return 0;
}

/* Parses a JSON array of exactly `dim` finite numbers into out.  Returns 0, or
 * -1 for anything else (bad syntax, wrong count, overflow to infinity). */
AE_STATIC int sqlite_parse_floats(const char *s, float *out, uint32_t dim)
{
    if (!s) return -1;
    const char *p = skip_ws(s);
    if (*p++ != '[') return -1;
    p = skip_ws(p);
    uint32_t n = 0;
    if (*p == ']') {
        p++;
    } else {
        for (;;) {
            /* JSON numbers start with '-' or a digit; this rejects strtof's
             * "inf", "nan", hex floats and leading '+' or '.' */
            if (!(*p == '-' || (*p >= '0' && *p <= '9'))) return -1;
            if (n == dim) return -1;
            const char *end;
            float f;
            if (fast_float(p, &end, &f) != 0) {
                char *send;
                f = strtof(p, &send);
                end = send;
                if (end == p || !isfinite(f)) return -1;
                for (const char *c = p; c < end; c++) /* strtof also takes "0x1p4" */
                    if (!((*c >= '0' && *c <= '9') || *c == '.' || *c == 'e' || *c == 'E' ||
                          *c == '-' || *c == '+'))
                        return -1;
            }
            out[n++] = f;
            p = skip_ws(end);
            if (*p == ',') {
                p = skip_ws(p + 1);
                continue;
            }
            if (*p == ']') {
                p++;
                break;
            }
            return -1;
        }
    }
    if (*skip_ws(p) != '\0') return -1;
    return n == dim ? 0 : -1;
}

int ae_sqlite_parse_floats(const char *s, float *out, uint32_t dim)
{
    return sqlite_parse_floats(s, out, dim);
}

/* ---- ops ---------------------------------------------------------------- */

static int sqlite_upsert(void *be, const ae_vs_record *recs, size_t n, ae_error *err)
{
    sqlite_backend *b = be;
    AE_TRY(ae_vs_validate_records(recs, n, err));
    if (n == 0) return 0;

    sqlite3_stmt *st = NULL;
    ae_buf json = {0};
    int rc = 0, in_tx = 0;
    int64_t now = ae_now_ms();
    AE_CHECK(exec(b, "BEGIN IMMEDIATE", err, "begin upsert"));
    in_tx = 1;
    AE_CHECK(prepare(b,
                     "INSERT OR REPLACE INTO sir_embeddings (symbol_id, sir_hash, provider, model, "
                     "embedding_dim, embedding_json, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                     "?7)",
                     &st, err, "prepare upsert"));
    for (size_t i = 0; i < n; i++) {
        const ae_vs_record *r = &recs[i];
        if (write_json_floats(&json, r->embedding, r->dim) < 0)
            AE_FAIL(err, AE_ENOMEM, "out of memory encoding row %zu (%u dimensions)", i, r->dim);
        sqlite3_bind_text(st, 1, r->symbol_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->sir_hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, r->provider, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->model, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, r->dim);
        sqlite3_bind_text(st, 6, json.data, (int)json.len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, r->updated_at ? r->updated_at : now);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = fail_sqlite(b, err, "upsert");
            ae_err_prefix(err, "row %zu (symbol_id %s): ", i, r->symbol_id);
            goto cleanup;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    st = NULL;
    AE_CHECK(exec(b, "COMMIT", err, "commit upsert"));
    in_tx = 0;
cleanup:
    sqlite3_finalize(st);
    if (in_tx) sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
    ae_buf_free(&json);
    return rc;
}

static int sqlite_delete_ids(void *be, const char *const *ids, size_t n, ae_error *err)
{
    sqlite_backend *b = be;
    if (n == 0) return 0;
    sqlite3_stmt *st = NULL;
    int rc = 0, in_tx = 0;
    AE_CHECK(exec(b, "BEGIN IMMEDIATE", err, "begin delete"));
    in_tx = 1;
    AE_CHECK(
        prepare(b, "DELETE FROM sir_embeddings WHERE symbol_id = ?1", &st, err, "prepare delete"));
    for (size_t i = 0; i < n; i++) {
        if (!ids[i]) AE_FAIL(err, AE_EINVAL, "id %zu of %zu is NULL", i, n);
        sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = fail_sqlite(b, err, "delete");
            goto cleanup;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    st = NULL;
    AE_CHECK(exec(b, "COMMIT", err, "commit delete"));
    in_tx = 0;
cleanup:
    sqlite3_finalize(st);
    if (in_tx) sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static double cosine(const float *q, double qnorm, const float *v, uint32_t dim)
{
    double dot = 0.0, vv = 0.0;
    for (uint32_t j = 0; j < dim; j++) {
        dot += (double)q[j] * v[j];
        vv += (double)v[j] * v[j];
    }
    if (qnorm == 0.0 || vv == 0.0) return 0.0;
    return dot / (qnorm * sqrt(vv));
}

static int sqlite_search(void *be, const float *query, uint32_t dim, const char *provider,
                         const char *model, size_t limit, const ae_vs_search_opts *opts,
                         ae_vs_hit **hits, size_t *n_hits, ae_error *err)
{
    sqlite_backend *b = be;
    *hits = NULL;
    *n_hits = 0;
    AE_TRY(ae_vs_validate_query(query, dim, provider, model, err));
    AE_TRY(ae_vs_validate_allow(opts, err));

    sqlite3_stmt *st = NULL;
    float *row = NULL;
    ae_topk top;
    ae_topk_init(&top, limit);
    int rc = 0;
    size_t seen = 0;
    row = ae_calloc_array(dim, sizeof *row);
    if (!row) AE_FAIL(err, AE_ENOMEM, "out of memory for a %u-dimension row", dim);
    AE_CHECK(prepare(b,
                     "SELECT symbol_id, embedding_json FROM sir_embeddings "
                     "WHERE provider = ?1 AND model = ?2 AND embedding_dim = ?3",
                     &st, err, "prepare search"));
    sqlite3_bind_text(st, 1, provider, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, model, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, dim);

    double qn = 0.0;
    for (uint32_t j = 0; j < dim; j++)
        qn += (double)query[j] * query[j];
    qn = sqrt(qn);

    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        seen++;
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (!id || !*id || limit == 0 || !ae_vs_opts_allows(opts, id)) continue;
        const char *json = (const char *)sqlite3_column_text(st, 1);
        if (sqlite_parse_floats(json, row, dim) < 0) continue;
        float score = (float)cosine(query, qn, row, dim);
        AE_CHECK(ae_topk_push(&top, id, score, err));
    }
    if (step != SQLITE_DONE) {
        rc = fail_sqlite(b, err, "search");
        goto cleanup;
    }
    if (seen == 0)
        AE_FAIL(err, AE_ENOTFOUND,
                "%s: no embeddings for provider '%s' model '%s' with %u dimensions", b->path,
                provider, model, dim);
    ae_topk_finish(&top, hits, n_hits);
cleanup:
    sqlite3_finalize(st);
    ae_topk_free(&top);
    free(row);
    return rc;
}

static int sqlite_rebuild_index(void *be, ae_error *err)
{
    return 0; /* brute force has no index */
}

/* One table holds every model: the old model's rows are deleted (normally
 * none are left, as symbol_id is the key and re-embedding replaced them). */
static int sqlite_drop_models_except(void *be, const char *provider, const char *keep_model,
                                     size_t *dropped, ae_error *err)
{
    sqlite_backend *b = be;
    sqlite3_stmt *st = NULL;
    int rc = 0;
    AE_CHECK(prepare(b, "DELETE FROM sir_embeddings WHERE provider = ?1 AND model <> ?2", &st, err,
                     "prepare drop"));
    sqlite3_bind_text(st, 1, provider, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, keep_model, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = fail_sqlite(b, err, "drop old models");
        goto cleanup;
    }
    *dropped = (size_t)sqlite3_changes(b->db);
cleanup:
    sqlite3_finalize(st);
    return rc;
}

static int sqlite_count(void *be, const char *provider, const char *model, size_t *out,
                        ae_error *err)
{
    sqlite_backend *b = be;
    sqlite3_stmt *st = NULL;
    int rc = 0;
    AE_CHECK(prepare(b,
                     "SELECT COUNT(*) FROM sir_embeddings WHERE (?1 IS NULL OR provider = ?1) "
                     "AND (?2 IS NULL OR model = ?2)",
                     &st, err, "prepare count"));
    if (provider) sqlite3_bind_text(st, 1, provider, -1, SQLITE_STATIC);
    if (model) sqlite3_bind_text(st, 2, model, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = fail_sqlite(b, err, "count");
        goto cleanup;
    }
    *out = (size_t)sqlite3_column_int64(st, 0);
cleanup:
    sqlite3_finalize(st);
    return rc;
}

static int sqlite_iterate(void *be, ae_vs_row_fn fn, void *ctx, ae_error *err)
{
    sqlite_backend *b = be;
    sqlite3_stmt *st = NULL;
    float *row = NULL;
    uint32_t row_cap = 0;
    int rc = 0;
    AE_CHECK(prepare(b,
                     "SELECT symbol_id, sir_hash, provider, model, embedding_dim, embedding_json, "
                     "updated_at FROM sir_embeddings",
                     &st, err, "prepare iterate"));
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        ae_vs_record r = {0};
        r.symbol_id = (const char *)sqlite3_column_text(st, 0);
        r.sir_hash = (const char *)sqlite3_column_text(st, 1);
        r.provider = (const char *)sqlite3_column_text(st, 2);
        r.model = (const char *)sqlite3_column_text(st, 3);
        sqlite3_int64 d = sqlite3_column_int64(st, 4);
        r.updated_at = sqlite3_column_int64(st, 6);
        if (!r.symbol_id || !*r.symbol_id || strlen(r.symbol_id) > AE_SYMBOL_ID_MAX ||
            !r.sir_hash || !r.provider || !r.model || d <= 0 || d > AE_MAX_DIM)
            continue;
        r.dim = (uint32_t)d;
        if (r.dim > row_cap) {
            float *p = ae_realloc_array(row, r.dim, sizeof *p);
            if (!p) AE_FAIL(err, AE_ENOMEM, "out of memory for a %u-dimension row", r.dim);
            row = p;
            row_cap = r.dim;
        }
        if (sqlite_parse_floats((const char *)sqlite3_column_text(st, 5), row, r.dim) < 0) continue;
        r.embedding = row;
        rc = fn(&r, ctx);
        if (rc != 0) goto cleanup;
    }
    if (step != SQLITE_DONE) rc = fail_sqlite(b, err, "iterate");
cleanup:
    sqlite3_finalize(st);
    free(row);
    return rc;
}

static void sqlite_close(void *be)
{
    sqlite_backend *b = be;
    if (!b) return;
    sqlite3_close_v2(b->db);
    free(b->path);
    free(b);
}

static const ae_vector_store_ops sqlite_ops = {
    .name = "sqlite",
    .upsert = sqlite_upsert,
    .delete_ids = sqlite_delete_ids,
    .search_nearest = sqlite_search,
    .rebuild_index = sqlite_rebuild_index,
    .count = sqlite_count,
    .iterate = sqlite_iterate,
    .close = sqlite_close,
    .drop_models_except = sqlite_drop_models_except,
};

int ae_vs_open_sqlite(const char *db_path, ae_vector_store **out, ae_error *err)
{
    AE_RETURN_IF(!db_path || !*db_path || !out, err, AE_EINVAL,
                 "ae_vs_open_sqlite: a database path and out are required");
    *out = NULL;
    int rc = 0;
    ae_vector_store *vs = calloc(1, sizeof *vs);
    sqlite_backend *b = calloc(1, sizeof *b);
    if (!vs || !b || !(b->path = ae_strdup(db_path)))
        AE_FAIL(err, AE_ENOMEM, "out of memory opening %s", db_path);
    /* On read-only media the store still serves searches (writes fail with
     * SQLite's "readonly database"); elsewhere it is opened for writing. */
    ae_sqlite_fault_install();
    bool ro = ae_sqlite_readonly_media(db_path);
    int orc =
        ro ? ae_sqlite_open_readonly(db_path, &b->db)
           : sqlite3_open_v2(db_path, &b->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (orc != SQLITE_OK) {
        rc = b->db ? fail_sqlite(b, err, "open")
                   : ae_fail(err, AE_ENOMEM, "out of memory opening %s", db_path);
        goto cleanup;
    }
    sqlite3_busy_timeout(b->db, SQLITE_BUSY_TIMEOUT_MS);
    if (!ro) {
        AE_CHECK(exec(b, "PRAGMA journal_mode=WAL", err, "enable WAL"));
        AE_CHECK(exec(b, schema_sql, err, "create sir_embeddings"));
    }
    vs->ops = &sqlite_ops;
    vs->backend = b;
    *out = vs;
    return 0;
cleanup:
    sqlite_close(b);
    free(vs);
    return rc;
}
