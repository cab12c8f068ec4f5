/* Migration sqlite -> lancedb and the switch sync (src/store/migrate.c):
 * exact row counts and bit-identical vectors across several tables, identical
 * search before and after, SIGKILL mid-migration then rerun, malformed rows
 * reported by id, a meta.sqlite in the reference tool's schema, the read-only
 * fallback, and the sync in both directions never copying stale rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <aether/aether.h>
#include <aether/vector_store.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "meta/meta.h"
#include "store/migrate.h"
#include "util/fs.h"
#include "workspace/workspace.h"

typedef struct fx {
    char dir[64];
    char aether[96], meta_path[128], vectors[128];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/ae-test-migrate-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->aether, sizeof f->aether, "%s/.aether", f->dir);
    snprintf(f->meta_path, sizeof f->meta_path, "%s/meta.sqlite", f->aether);
    snprintf(f->vectors, sizeof f->vectors, "%s/vectors", f->aether);
    if (ae_mkdirs(f->aether, NULL) < 0) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* ---- data ------------------------------------------------------------------- */

typedef struct combo {
    const char *provider, *model;
    uint32_t dim;
    int rows;
} combo;

static const combo combos[] = {
    {"mock", "mock-64d", 64, 45}, {"hash", "hash-v1", 24, 37}, {"openai", "text-3-small", 7, 41}};
#define N_COMBOS 3
#define N_ROWS   (45 + 37 + 41)

static uint32_t rng = 12345;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static void vec_for(int row, uint32_t dim, float *out)
{
    rng = (uint32_t)row * 2654435761u + 7;
    for (uint32_t j = 0; j < dim; j++)
        out[j] = frand() * (j % 3 == 0 ? 1e-3f : 1.0f);
}

static void id_for(int row, char out[65])
{
    snprintf(out, 65, "%064x", row * 7919 + 1);
}

static void hash_for(int row, int gen, char out[65])
{
    snprintf(out, 65, "%060x%04x", row, gen);
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* Writes one legacy row as raw SQL, "%.9g" floats (what this project and a
 * float32-exact writer produce). */
static void put_legacy(sqlite3 *db, const char *id, const char *hash, const char *provider,
                       const char *model, long dim, const char *json)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT OR REPLACE INTO sir_embeddings VALUES "
                                        "(?1, ?2, ?3, ?4, ?5, ?6, 1700000000000)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, provider, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, model, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, dim);
    sqlite3_bind_text(st, 6, json, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static char *json_of(const float *v, uint32_t dim)
{
    char *s = malloc((size_t)dim * 20 + 4);
    char *p = s;
    *p++ = '[';
    for (uint32_t j = 0; j < dim; j++)
        p += sprintf(p, "%s%.9g", j ? "," : "", (double)v[j]);
    strcpy(p, "]");
    return s;
}

/* N_ROWS legacy rows over three (provider, model, dim) tables. */
static void fill_legacy(sqlite3 *db)
{
    float v[64];
    char id[65], h[65];
    exec(db, "BEGIN");
    int row = 0;
    for (int c = 0; c < N_COMBOS; c++)
        for (int i = 0; i < combos[c].rows; i++, row++) {
            vec_for(row, combos[c].dim, v);
            id_for(row, id);
            hash_for(row, 1, h);
            char *js = json_of(v, combos[c].dim);
            put_legacy(db, id, h, combos[c].provider, combos[c].model, combos[c].dim, js);
            free(js);
        }
    exec(db, "COMMIT");
}

static const combo *combo_of(int row)
{
    int c = 0, base = 0;
    while (row >= base + combos[c].rows)
        base += combos[c++].rows;
    return &combos[c];
}

typedef struct check_ctx {
    int seen, bad;
} check_ctx;

/* Every row of the store equals what fill_legacy wrote, bit for bit. */
static int check_row(const ae_vs_record *r, void *ctx)
{
    check_ctx *c = ctx;
    c->seen++;
    for (int row = 0; row < N_ROWS; row++) {
        char id[65];
        id_for(row, id);
        if (strcmp(id, r->symbol_id)) continue;
        const combo *k = combo_of(row);
        float v[64];
        vec_for(row, k->dim, v);
        if (r->dim != k->dim || strcmp(r->provider, k->provider) || strcmp(r->model, k->model) ||
            memcmp(v, r->embedding, k->dim * sizeof(float)))
            c->bad++;
        return 0;
    }
    c->bad++;
    return 0;
}

static int64_t count_sql(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void same_search(ae_vector_store *a, ae_vector_store *b)
{
    for (int c = 0; c < N_COMBOS; c++)
        for (int q = 0; q < 5; q++) {
            float v[64];
            vec_for(1000 + q, combos[c].dim, v);
            ae_vs_hit *ha = NULL, *hb = NULL;
            size_t na = 0, nb = 0;
            ae_error err;
            assert_int_equal(ae_vs_search(a, v, combos[c].dim, combos[c].provider, combos[c].model,
                                          10, NULL, &ha, &na, &err),
                             0);
            assert_int_equal(ae_vs_search(b, v, combos[c].dim, combos[c].provider, combos[c].model,
                                          10, NULL, &hb, &nb, &err),
                             0);
            assert_int_equal(na, 10);
            assert_int_equal(na, nb);
            for (size_t i = 0; i < na; i++) {
                assert_string_equal(ha[i].symbol_id, hb[i].symbol_id);
                assert_true(fabsf(ha[i].score - hb[i].score) < 1e-5f);
            }
            free(ha);
            free(hb);
        }
}

static size_t table_rows(const ae_migrate_report *r, const char *provider, uint32_t dim)
{
    for (size_t i = 0; i < r->n_tables; i++)
        if (!strcmp(r->tables[i].provider, provider) && r->tables[i].dim == dim)
            return r->tables[i].rows;
    return 0;
}

/* ---- tests --------------------------------------------------------------------- */

static void test_migrate_all_rows_bit_identical(void **state)
{
    fx *f = *state;
    ae_meta *meta;
    ae_error err;
    assert_int_equal(ae_meta_open(f->meta_path, false, &meta, &err), 0);
    fill_legacy(ae_meta_db(meta));
    ae_vector_store *lance, *sq;
    assert_int_equal(ae_vs_open_table(f->vectors, &lance, &err), 0);
    assert_int_equal(ae_vs_open_sqlite(f->meta_path, &sq, &err), 0);
    assert_false(ae_migrate_marker_present(f->vectors));

    ae_migrate_opts o = {.batch_rows = 16};
    ae_migrate_report rep = {0};
    assert_int_equal(ae_migrate_sqlite_to_table(meta, lance, f->vectors, true, &o, &rep, &err), 0);
    assert_int_equal(rep.rows_read, N_ROWS);
    assert_int_equal(rep.rows_migrated, N_ROWS);
    assert_int_equal(rep.rows_malformed, 0);
    assert_int_equal(rep.n_tables, N_COMBOS);
    for (int c = 0; c < N_COMBOS; c++)
        assert_int_equal(table_rows(&rep, combos[c].provider, combos[c].dim), combos[c].rows);
    assert_true(rep.marker_written);
    assert_true(ae_migrate_marker_present(f->vectors));
    ae_migrate_report_free(&rep);

    size_t n = 0;
    assert_int_equal(ae_vs_count(lance, NULL, NULL, &n, &err), 0);
    assert_int_equal(n, N_ROWS);
    check_ctx cc = {0};
    assert_int_equal(ae_vs_iterate(lance, check_row, &cc, &err), 0);
    assert_int_equal(cc.seen, N_ROWS);
    assert_int_equal(cc.bad, 0);
    assert_int_equal(
        count_sql(ae_meta_db(meta), "SELECT COUNT(*) FROM embedding_state WHERE backend='lancedb'"),
        N_ROWS);
    /* SQLite rows are never deleted */
    assert_int_equal(count_sql(ae_meta_db(meta), "SELECT COUNT(*) FROM sir_embeddings"), N_ROWS);
    same_search(sq, lance);

    /* a re-run replaces, never duplicates */
    assert_int_equal(ae_migrate_sqlite_to_table(meta, lance, f->vectors, true, &o, &rep, &err), 0);
    assert_int_equal(rep.rows_migrated, N_ROWS);
    ae_migrate_report_free(&rep);
    assert_int_equal(ae_vs_count(lance, NULL, NULL, &n, &err), 0);
    assert_int_equal(n, N_ROWS);
    same_search(sq, lance);
    ae_vs_close(lance);
    ae_vs_close(sq);
    ae_meta_close(meta);
}

typedef struct prog {
    size_t calls, done, total;
} prog;

static void on_progress(void *ctx, size_t done, size_t total)
{
    prog *p = ctx;
    assert_true(done >= p->done);
    p->calls++;
    p->done = done;
    p->total = total;
}

static void test_migrate_progress_and_batches(void **state)
{
    fx *f = *state;
    ae_meta *meta;
    ae_error err;
    assert_int_equal(ae_meta_open(f->meta_path, false, &meta, &err), 0);
    fill_legacy(ae_meta_db(meta));
    ae_vector_store *lance;
    assert_int_equal(ae_vs_open_table(f->vectors, &lance, &err), 0);
    prog p = {0};
    ae_migrate_opts o = {.batch_rows = 50, .progress = on_progress, .progress_ctx = &p};
    ae_migrate_report rep = {0};
    assert_int_equal(ae_migrate_sqlite_to_table(meta, lance, f->vectors, true, &o, &rep, &err), 0);
    assert_int_equal(p.calls, (N_ROWS + 49) / 50);
    assert_int_equal(p.done, N_ROWS);
    assert_int_equal(p.total, N_ROWS);
    ae_migrate_report_free(&rep);
    ae_vs_close(lance);
    ae_meta_close(meta);
}

/* Child: migrate with 10-row batches and SIGKILL after the 3rd commit. */
static void test_migrate_kill_then_rerun(void **state)
{
    fx *f = *state;
    ae_meta *meta;
    ae_error err;
    assert_int_equal(ae_meta_open(f->meta_path, false, &meta, &err), 0);
    fill_legacy(ae_meta_db(meta));
    ae_meta_close(meta);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ae_migrate_set_kill_after_batch(3);
        ae_meta *m;
        ae_vector_store *l;
        ae_migrate_opts o = {.batch_rows = 10};
        ae_migrate_report r = {0};
        if (ae_meta_open(f->meta_path, false, &m, &err) < 0 ||
            ae_vs_open_table(f->vectors, &l, &err) < 0)
            _exit(3);
        ae_migrate_sqlite_to_table(m, l, f->vectors, true, &o, &r, &err);
        _exit(4); /* not reached: killed after batch 3 */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    assert_false(ae_migrate_marker_present(f->vectors));

    ae_vector_store *lance;
    assert_int_equal(ae_vs_open_table(f->vectors, &lance, &err), 0);
    size_t n = 0;
    assert_int_equal(ae_vs_count(lance, NULL, NULL, &n, &err), 0);
    assert_int_equal(n, 30); /* three committed batches */

    /* the workspace's first rw open sees no marker and finishes the job */
    ae_vs_close(lance);
    ae_workspace *ws;
    ae_open_options oo = {.readonly = true};
    assert_int_equal(ae_workspace_open(f->dir, &oo, &ws, &err), 0);
    ae_vector_store *vs;
    assert_int_equal(ae_ws_vector_store(ws, &vs, &err), 0);
    assert_string_equal(ws->backend_name, "sqlite"); /* half-migrated: not used by readers */
    size_t nn;
    const char *const *notes = ae_workspace_notices(ws, &nn);
    assert_true(nn >= 1 && strstr(notes[0], "not been migrated"));
    ae_workspace_close(ws);
    assert_false(ae_migrate_marker_present(f->vectors));

    oo.readonly = false;
    assert_int_equal(ae_workspace_open(f->dir, &oo, &ws, &err), 0);
    assert_int_equal(ae_ws_vector_store(ws, &vs, &err), 0);
    assert_string_equal(ws->backend_name, "lancedb");
    assert_true(ae_migrate_marker_present(f->vectors));
    assert_int_equal(ae_vs_count(vs, NULL, NULL, &n, &err), 0);
    assert_int_equal(n, N_ROWS);
    check_ctx cc = {0};
    assert_int_equal(ae_vs_iterate(vs, check_row, &cc, &err), 0);
    assert_int_equal(cc.seen, N_ROWS);
    assert_int_equal(cc.bad, 0);
    ae_workspace_close(ws);
}

static void test_migrate_malformed_reported_by_id(void **state)
{
    fx *f = *state;
    ae_meta *meta;
    ae_error err;
    assert_int_equal(ae_meta_open(f->meta_path, false, &meta, &err), 0);
    sqlite3 *db = ae_meta_db(meta);
    fill_legacy(db);
    static const struct {
        const char *id, *json;
        long dim;
        const char *reason;
    } bad[] = {
        {"bad-json", "[1, 2,", 3, "invalid JSON"},
        {"bad-length", "[1,2,3,4]", 3, "expected 3 values (embedding_dim), found 4"},
        {"bad-null", "[1,null,3]", 3, "null (NaN) at index 1"},
        {"bad-nan", "[1,NaN,3]", 3, "NaN or Infinity"},
        {"bad-empty", "[]", 3, "empty array"},
        {"bad-overflow", "[1,1e39,3]", 3, "outside the float32 range"},
        {"bad-dim", "[1,2,3]", 0, "embedding_dim 0 outside"},
        {"bad-string", "[1,\"2\",3]", 3, "non-number at index 1"},
        {"", "[1,2,3]", 3, "empty symbol_id"},
    };
    size_t n_bad = sizeof bad / sizeof *bad;
    for (size_t i = 0; i < n_bad; i++)
        put_legacy(db, bad[i].id, "h", "mock", "mock-3d", bad[i].dim, bad[i].json);
    put_legacy(db, "good-3d", "h", "mock", "mock-3d", 3, "[0.5,-0.25,1]");
    exec(db, "INSERT INTO sir_embeddings VALUES (NULL, 'h', 'mock', 'mock-3d', 3, '[1,2,3]', 0)");

    ae_vector_store *lance;
    assert_int_equal(ae_vs_open_table(f->vectors, &lance, &err), 0);
    ae_migrate_opts o = {.batch_rows = 7};
    ae_migrate_report rep = {0};
    assert_int_equal(ae_migrate_sqlite_to_table(meta, lance, f->vectors, true, &o, &rep, &err), 0);
    assert_int_equal(rep.rows_migrated, N_ROWS + 1);
    assert_int_equal(rep.rows_malformed, n_bad + 1);
    assert_int_equal(rep.rows_read, N_ROWS + 1 + n_bad + 1);
    assert_int_equal(rep.n_bad, n_bad + 1);
    for (size_t i = 0; i < n_bad; i++) {
        bool found = false;
        for (size_t j = 0; j < rep.n_bad && !found; j++)
            if (!strcmp(rep.bad[j].symbol_id, bad[i].id)) {
                found = true;
                if (!strstr(rep.bad[j].reason, bad[i].reason))
                    fail_msg("%s: reason '%s', wanted '%s'", bad[i].id, rep.bad[j].reason,
                             bad[i].reason);
            }
        if (!found) fail_msg("malformed row '%s' not reported", bad[i].id);
    }
    assert_true(rep.marker_written);
    assert_int_equal(table_rows(&rep, "mock", 3), 1);
    ae_migrate_report_free(&rep);
    /* malformed rows are not recorded as embedded: the next index run redoes them */
    assert_int_equal(count_sql(db, "SELECT COUNT(*) FROM embedding_state WHERE symbol_id LIKE "
                                   "'bad-%'"),
                     0);
    assert_int_equal(count_sql(db, "SELECT COUNT(*) FROM sir_embeddings"), N_ROWS + n_bad + 2);
    size_t n;
    assert_int_equal(ae_vs_count(lance, NULL, NULL, &n, &err), 0);
    assert_int_equal(n, N_ROWS + 1);
    ae_vs_close(lance);
    ae_meta_close(meta);
}

/* The reference tool's schema (its CREATE TABLE statements) at user_version 9,
 * with rows as it writes them: serde_json's shortest float text. */
static void test_migrate_reference_schema(void **state)
{
    fx *f = *state;
    sqlite3 *db = open_db(f->meta_path);
    exec(db, "CREATE TABLE symbols (id TEXT PRIMARY KEY, file_path TEXT NOT NULL, language TEXT "
             "NOT NULL, kind TEXT NOT NULL, qualified_name TEXT NOT NULL, signature_fingerprint "
             "TEXT NOT NULL, last_seen_at INTEGER NOT NULL, access_count INTEGER NOT NULL DEFAULT "
             "0, last_accessed_at INTEGER);"
             "CREATE TABLE sir (id TEXT PRIMARY KEY, sir_hash TEXT NOT NULL, sir_version INTEGER "
             "NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, updated_at INTEGER NOT NULL, "
             "sir_json TEXT);"
             "CREATE TABLE sir_history (symbol_id TEXT NOT NULL, version INTEGER NOT NULL CHECK "
             "(version >= 1), sir_hash TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, "
             "created_at INTEGER NOT NULL CHECK (created_at >= 0), sir_json TEXT NOT NULL, "
             "commit_hash TEXT, PRIMARY KEY (symbol_id, version));"
             "CREATE TABLE sir_embeddings (symbol_id TEXT PRIMARY KEY, sir_hash TEXT NOT NULL, "
             "provider TEXT NOT NULL, model TEXT NOT NULL, embedding_dim INTEGER NOT NULL, "
             "embedding_json TEXT NOT NULL, updated_at INTEGER NOT NULL);"
             "PRAGMA user_version = 9;");
    const int n = 20;
    exec(db, "BEGIN");
    for (int i = 0; i < n; i++) {
        char id[65], h[65], sql[512];
        id_for(i, id);
        hash_for(i, 1, h);
        snprintf(sql, sizeof sql,
                 "INSERT INTO symbols VALUES ('%s', 'src/lib%d.rs', 'rust', 'function', "
                 "'crate::f%d', 'fp%d', 1700000000, 0, NULL);"
                 "INSERT INTO sir VALUES ('%s', '%s', 1, 'mock', 'mock', 1700000000, "
                 "'{\"intent\":\"f%d\"}');",
                 id, i, i, i, id, h, i);
        exec(db, sql);
        /* serde_json writes f32 in shortest round-trip form: 0.1, -0.03125, 1e-7 */
        char js[2048] = "[";
        for (int j = 0; j < 64; j++) {
            char num[32];
            static const char *const vals[] = {"0.1",  "-0.03125", "1e-7", "0.33333334",
                                               "-1.0", "2.5E-3",   "0",    "-0.0"};
            snprintf(num, sizeof num, "%s%s", j ? "," : "", vals[(i + j) % 8]);
            strcat(js, num);
        }
        strcat(js, "]");
        put_legacy(db, id, h, "mock", "mock-64d", 64, js);
    }
    exec(db, "COMMIT");
    sqlite3_close(db);

    ae_workspace *ws;
    ae_error err;
    /* read-only before migration: search uses the legacy rows, writes nothing */
    ae_open_options oo = {.readonly = true};
    assert_int_equal(ae_workspace_open(f->dir, &oo, &ws, &err), 0);
    ae_vector_store *vs;
    assert_int_equal(ae_ws_vector_store(ws, &vs, &err), 0);
    assert_string_equal(ws->backend_name, "sqlite");
    ae_workspace_close(ws);
    assert_false(ae_path_exists(f->vectors));

    oo.readonly = false;
    assert_int_equal(ae_workspace_open(f->dir, &oo, &ws, &err), 0);
    assert_int_equal(ae_ws_vector_store(ws, &vs, &err), 0);
    assert_string_equal(ws->backend_name, "lancedb");
    assert_true(ae_migrate_marker_present(f->vectors));
    size_t rows;
    assert_int_equal(ae_vs_count(vs, "mock", "mock-64d", &rows, &err), 0);
    assert_int_equal(rows, n);
    size_t nn;
    const char *const *notes = ae_workspace_notices(ws, &nn);
    assert_true(nn >= 1 && strstr(notes[0], "copied 20 embeddings from sqlite to lancedb"));

    /* vectors equal the reference text parsed as float32 */
    ae_vector_store *sq;
    assert_int_equal(ae_vs_open_sqlite(f->meta_path, &sq, &err), 0);
    float q[64];
    for (int j = 0; j < 64; j++)
        q[j] = (float)((j * 37) % 11) - 5.0f;
    ae_vs_hit *ha, *hb;
    size_t na, nb;
    assert_int_equal(ae_vs_search(sq, q, 64, "mock", "mock-64d", 20, NULL, &ha, &na, &err), 0);
    assert_int_equal(ae_vs_search(vs, q, 64, "mock", "mock-64d", 20, NULL, &hb, &nb, &err), 0);
    assert_int_equal(na, 20);
    assert_int_equal(nb, 20);
    for (size_t i = 0; i < na; i++) {
        assert_string_equal(ha[i].symbol_id, hb[i].symbol_id);
        assert_true(fabsf(ha[i].score - hb[i].score) < 1e-5f);
    }
    free(ha);
    free(hb);
    ae_vs_close(sq);
    ae_workspace_close(ws);

    db = open_db(f->meta_path);
    assert_int_equal(count_sql(db, "PRAGMA user_version"), 9);
    assert_int_equal(count_sql(db, "SELECT COUNT(*) FROM sir_embeddings"), n);
    assert_int_equal(
        count_sql(db, "SELECT COUNT(*) FROM embedding_state WHERE backend = 'lancedb'"), n);
    sqlite3_close(db);
}

/* Meta with n symbols whose current SIR hash is generation gen[i]. */
static void set_sir(sqlite3 *db, int i, int gen)
{
    char id[65], h[65], sql[512];
    id_for(i, id);
    hash_for(i, gen, h);
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO symbols (id, file_path, language, kind, qualified_name, "
             "signature_fingerprint, last_seen_at) VALUES ('%s', 'a.rs', 'rust', 'function', "
             "'f%d', 'fp', 0);"
             "INSERT OR REPLACE INTO sir (id, sir_hash, sir_version, provider, model, updated_at, "
             "sir_json) VALUES ('%s', '%s', 1, 'static', 'static-v1', 0, '{}');",
             id, i, id, h);
    exec(db, sql);
}

/* An embedding of symbol i at generation gen, written to vs and recorded. */
static void embed(ae_meta *meta, ae_vector_store *vs, const char *backend, int i, int gen)
{
    char id[65], h[65];
    id_for(i, id);
    hash_for(i, gen, h);
    float v[16];
    vec_for(i * 100 + gen, 16, v);
    ae_vs_record r = {.symbol_id = id,
                      .sir_hash = h,
                      .provider = "hash",
                      .model = "hash-v1",
                      .embedding = v,
                      .dim = 16};
    ae_error err;
    assert_int_equal(ae_vs_upsert(vs, &r, 1, &err), 0);
    assert_int_equal(ae_meta_embedded_put(meta, backend, id, h, "hash", "hash-v1", &err), 0);
}

typedef struct hash_ctx {
    const char *id;
    char hash[65];
    float v[16];
} hash_ctx;

static int find_id(const ae_vs_record *r, void *ctx)
{
    hash_ctx *h = ctx;
    if (strcmp(r->symbol_id, h->id)) return 0;
    snprintf(h->hash, sizeof h->hash, "%s", r->sir_hash);
    memcpy(h->v, r->embedding, sizeof h->v);
    return 1;
}

static void expect_gen(ae_vector_store *vs, int i, int gen)
{
    char id[65], h[65];
    id_for(i, id);
    hash_for(i, gen, h);
    hash_ctx c = {.id = id};
    ae_error err;
    assert_int_equal(ae_vs_iterate(vs, find_id, &c, &err), 1);
    if (strcmp(c.hash, h)) fail_msg("symbol %d: hash %s, wanted generation %d", i, c.hash, gen);
    float v[16];
    vec_for(i * 100 + gen, 16, v);
    assert_memory_equal(v, c.v, sizeof v);
}

static void test_switch_sync_both_ways(void **state)
{
    fx *f = *state;
    ae_meta *meta;
    ae_error err;
    assert_int_equal(ae_meta_open(f->meta_path, false, &meta, &err), 0);
    sqlite3 *db = ae_meta_db(meta);
    ae_vector_store *lance, *sq;
    assert_int_equal(ae_vs_open_table(f->vectors, &lance, &err), 0);
    assert_int_equal(ae_vs_open_sqlite(f->meta_path, &sq, &err), 0);
    /* both backends in step at generation 1 */
    for (int i = 0; i < 10; i++) {
        set_sir(db, i, 1);
        embed(meta, lance, "lancedb", i, 1);
        embed(meta, sq, "sqlite", i, 1);
    }
    int64_t pending;
    assert_int_equal(ae_migrate_pending(meta, "sqlite", &pending, &err), 0);
    assert_int_equal(pending, 0);
    /* on lancedb: symbols 0..2 change, 10 is new */
    for (int i = 0; i < 3; i++) {
        set_sir(db, i, 2);
        embed(meta, lance, "lancedb", i, 2);
    }
    set_sir(db, 10, 1);
    embed(meta, lance, "lancedb", 10, 1);
    /* symbol 5 changed but was never embedded anywhere: nothing to copy */
    set_sir(db, 5, 2);
    assert_int_equal(ae_migrate_pending(meta, "sqlite", &pending, &err), 0);
    assert_int_equal(pending, 4);

    ae_migrate_report rep = {0};
    ae_migrate_opts o = {.batch_rows = 2};
    assert_int_equal(ae_migrate_table_to_sqlite(meta, lance, sq, &o, &rep, &err), 0);
    assert_int_equal(rep.rows_read, 4);
    assert_int_equal(rep.rows_migrated, 4);
    assert_int_equal(rep.rows_missing, 0);
    ae_migrate_report_free(&rep);
    for (int i = 0; i < 3; i++)
        expect_gen(sq, i, 2);
    expect_gen(sq, 10, 1);
    expect_gen(sq, 5, 1); /* stale stays stale: the index run re-embeds it */
    assert_int_equal(ae_migrate_pending(meta, "sqlite", &pending, &err), 0);
    assert_int_equal(pending, 0);

    /* on sqlite: 3 changes; back to lancedb copies exactly that row */
    set_sir(db, 3, 2);
    embed(meta, sq, "sqlite", 3, 2);
    assert_int_equal(ae_migrate_pending(meta, "lancedb", &pending, &err), 0);
    assert_int_equal(pending, 1);
    assert_int_equal(ae_migrate_sqlite_to_table(meta, lance, f->vectors, false, &o, &rep, &err), 0);
    assert_int_equal(rep.rows_migrated, 1);
    assert_false(rep.marker_written);
    ae_migrate_report_free(&rep);
    expect_gen(lance, 3, 2);
    expect_gen(lance, 0, 2); /* a stale legacy row never overwrites a current vector */

    /* a full re-run (--migrate-vectors) keeps lancedb's newer rows too */
    exec(db, "UPDATE sir_embeddings SET sir_hash = 'old', embedding_json = '[0,0,0,0,0,0,0,0,0,0,"
             "0,0,0,0,0,1]' WHERE symbol_id = (SELECT id FROM symbols WHERE qualified_name='f1')");
    assert_int_equal(ae_migrate_sqlite_to_table(meta, lance, f->vectors, true, &o, &rep, &err), 0);
    assert_int_equal(rep.rows_newer, 1);
    assert_int_equal(rep.rows_migrated, 10);
    ae_migrate_report_free(&rep);
    expect_gen(lance, 1, 2);

    /* a lancedb vector whose symbol is gone (deleted while sqlite was active) */
    char id10[65], sql[256];
    id_for(10, id10);
    snprintf(sql, sizeof sql,
             "DELETE FROM symbols WHERE id = '%s'; DELETE FROM embedding_state WHERE symbol_id = "
             "'%s'",
             id10, id10);
    exec(db, sql);
    size_t pruned = 0, rows = 0;
    assert_int_equal(ae_migrate_prune_table(meta, lance, &pruned, &err), 0);
    assert_int_equal(pruned, 1);
    assert_int_equal(ae_vs_count(lance, NULL, NULL, &rows, &err), 0);
    assert_int_equal(rows, 10);
    assert_int_equal(ae_migrate_prune_table(meta, lance, &pruned, &err), 0);
    assert_int_equal(pruned, 0);
    ae_vs_close(lance);
    ae_vs_close(sq);
    ae_meta_close(meta);
}

static void test_empty_legacy_writes_marker(void **state)
{
    fx *f = *state;
    ae_workspace *ws;
    ae_error err;
    ae_open_options oo = {.readonly = false};
    assert_int_equal(ae_workspace_open(f->dir, &oo, &ws, &err), 0);
    ae_vector_store *vs;
    assert_int_equal(ae_ws_vector_store(ws, &vs, &err), 0);
    assert_string_equal(ws->backend_name, "lancedb");
    assert_true(ae_migrate_marker_present(f->vectors));
    size_t nn;
    ae_workspace_notices(ws, &nn);
    assert_int_equal(nn, 0);
    ae_migrate_report rep = {0};
    ae_workspace_migrate_vectors(ws, NULL, &rep, &err);
    assert_int_equal(rep.rows_migrated, 0);
    ae_migrate_report_free(&rep);
    ae_workspace_close(ws);
    /* read-only: refuses */
    oo.readonly = true;
    assert_int_equal(ae_workspace_open(f->dir, &oo, &ws, &err), 0);
    assert_int_equal(ae_workspace_migrate_vectors(ws, NULL, &rep, &err), AE_EINVAL);
    assert_non_null(strstr(err.message, "read-write"));
    ae_workspace_close(ws);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrate_all_rows_bit_identical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_progress_and_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_kill_then_rerun, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_malformed_reported_by_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_reference_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_switch_sync_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_legacy_writes_marker, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
