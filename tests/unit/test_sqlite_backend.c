/* The legacy SQLite VectorStore: layout, round trips, exact float32 storage,
 * ranking against hand-computed cosine, atomic rejection of bad batches, and
 * tolerance of malformed rows written by someone else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <aether/vector_store.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/topk.h"
#include "vectors/vs_validate.h"

#ifdef AE_TESTING /* the parser is file-static outside test builds */
int sqlite_parse_floats(const char *s, float *out, uint32_t dim);
#endif

typedef struct fixture {
    char dir[64];
    char path[96];
    ae_vector_store *vs;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/ae-test-sqlite-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/meta.sqlite", f->dir);
    ae_error err;
    if (ae_vs_open_sqlite(f->path, &f->vs, &err) != 0) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ae_vs_close(f->vs);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

static ae_vs_record rec(const char *id, const float *v, uint32_t dim)
{
    ae_vs_record r = {.symbol_id = id,
                      .sir_hash = "h1",
                      .provider = "mock",
                      .model = "mock-64d",
                      .embedding = v,
                      .dim = dim,
                      .updated_at = 1700000000000};
    return r;
}

/* A second connection, for poking at the table behind the backend's back. */
static sqlite3 *raw(fixture *f)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static void raw_exec(fixture *f, const char *sql)
{
    sqlite3 *db = raw(f);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static size_t count(fixture *f, const char *provider, const char *model)
{
    size_t n = 99;
    ae_error err;
    assert_int_equal(ae_vs_count(f->vs, provider, model, &n, &err), 0);
    return n;
}

static double ref_cos(const float *a, const float *b, int d)
{
    double x = 0, y = 0, z = 0;
    for (int i = 0; i < d; i++) {
        x += (double)a[i] * b[i];
        y += (double)a[i] * a[i];
        z += (double)b[i] * b[i];
    }
    return y == 0 || z == 0 ? 0 : x / sqrt(y * z);
}

static void test_layout_and_wal(void **state)
{
    fixture *f = *state;
    assert_string_equal(f->vs->ops->name, "sqlite");
    sqlite3 *db = raw(f);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA table_info(sir_embeddings)", -1, &st, NULL),
                     SQLITE_OK);
    const char *want[][3] = {{"symbol_id", "TEXT", "0"},        {"sir_hash", "TEXT", "1"},
                             {"provider", "TEXT", "1"},         {"model", "TEXT", "1"},
                             {"embedding_dim", "INTEGER", "1"}, {"embedding_json", "TEXT", "1"},
                             {"updated_at", "INTEGER", "1"}};
    int i = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        assert_true(i < 7);
        assert_string_equal(sqlite3_column_text(st, 1), want[i][0]);
        assert_string_equal(sqlite3_column_text(st, 2), want[i][1]);
        assert_int_equal(sqlite3_column_int(st, 3), atoi(want[i][2]));
        assert_int_equal(sqlite3_column_int(st, 5), i == 0); /* primary key */
        i++;
    }
    assert_int_equal(i, 7);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal(sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_round_trip_and_ranking(void **state)
{
    fixture *f = *state;
    float a[4] = {1, 0, 0, 0}, b[4] = {0.6f, 0.8f, 0, 0}, c[4] = {-1, 2, 3, 0.5f};
    float z[4] = {0, 0, 0, 0};
    ae_vs_record r[4] = {rec("sym-a", a, 4), rec("sym-b", b, 4), rec("sym-c", c, 4),
                         rec("sym-z", z, 4)};
    ae_error err;
    assert_int_equal(ae_vs_upsert(f->vs, r, 4, &err), 0);
    assert_int_equal(count(f, NULL, NULL), 4);
    assert_int_equal(count(f, "mock", NULL), 4);
    assert_int_equal(count(f, "mock", "mock-64d"), 4);
    assert_int_equal(count(f, "hash", NULL), 0);
    assert_int_equal(count(f, NULL, "other"), 0);

    float q[4] = {0.9f, 0.3f, -0.1f, 0.2f};
    ae_vs_hit *hits;
    size_t n;
    assert_int_equal(ae_vs_search(f->vs, q, 4, "mock", "mock-64d", 10, NULL, &hits, &n, &err), 0);
    assert_int_equal(n, 4);
    /* hand order: a (0.9/|q| = 0.9147), b (0.78/|q| = 0.7928), z (0), c (< 0) */
    assert_string_equal(hits[0].symbol_id, "sym-a");
    assert_string_equal(hits[1].symbol_id, "sym-b");
    assert_string_equal(hits[2].symbol_id, "sym-z");
    assert_string_equal(hits[3].symbol_id, "sym-c");
    double qn = sqrt(0.81 + 0.09 + 0.01 + 0.04);
    assert_float_equal(hits[0].score, 0.9 / qn, 1e-6);
    assert_float_equal(hits[1].score, (0.9 * 0.6 + 0.3 * 0.8) / qn, 1e-6);
    assert_true(hits[2].score == 0.0f);
    assert_float_equal(hits[3].score, ref_cos(q, c, 4), 1e-6);
    assert_true(hits[3].score < 0);
    free(hits);

    /* limit 2 keeps the best two */
    assert_int_equal(ae_vs_search(f->vs, q, 4, "mock", "mock-64d", 2, NULL, &hits, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(hits[0].symbol_id, "sym-a");
    assert_string_equal(hits[1].symbol_id, "sym-b");
    free(hits);

    /* delete, then it is gone; missing ids are fine */
    const char *del[] = {"sym-a", "never-existed"};
    assert_int_equal(ae_vs_delete(f->vs, del, 2, &err), 0);
    assert_int_equal(count(f, NULL, NULL), 3);
    assert_int_equal(ae_vs_search(f->vs, q, 4, "mock", "mock-64d", 1, NULL, &hits, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(hits[0].symbol_id, "sym-b");
    free(hits);
    assert_int_equal(ae_vs_rebuild_index(f->vs, &err), 0);
}

static void test_ties_by_symbol_id(void **state)
{
    fixture *f = *state;
    float v[3] = {1, 2, 3}, w[3] = {2, 4, 6}; /* same direction: equal cosine */
    ae_vs_record r[4] = {rec("c", v, 3), rec("a", w, 3), rec("d", v, 3), rec("b", v, 3)};
    ae_error err;
    assert_int_equal(ae_vs_upsert(f->vs, r, 4, &err), 0);
    ae_vs_hit *hits;
    size_t n;
    assert_int_equal(ae_vs_search(f->vs, v, 3, "mock", "mock-64d", 3, NULL, &hits, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(hits[0].symbol_id, "a");
    assert_string_equal(hits[1].symbol_id, "b");
    assert_string_equal(hits[2].symbol_id, "c");
    free(hits);
}

static void test_replace_on_reupsert(void **state)
{
    fixture *f = *state;
    float v1[2] = {1, 0}, v2[2] = {0, 1};
    ae_vs_record r = rec("s1", v1, 2);
    ae_error err;
    assert_int_equal(ae_vs_upsert(f->vs, &r, 1, &err), 0);
    r.embedding = v2;
    r.sir_hash = "h2";
    r.updated_at = 0; /* now */
    int64_t before = (int64_t)time(NULL) * 1000 - 1000;
    assert_int_equal(ae_vs_upsert(f->vs, &r, 1, &err), 0);
    assert_int_equal(count(f, NULL, NULL), 1);

    sqlite3 *db = raw(f);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT sir_hash, embedding_json, embedding_dim, "
                                        "updated_at FROM sir_embeddings",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal(sqlite3_column_text(st, 0), "h2");
    assert_string_equal(sqlite3_column_text(st, 1), "[0,1]");
    assert_int_equal(sqlite3_column_int(st, 2), 2);
    int64_t at = sqlite3_column_int64(st, 3);
    assert_true(at >= before && at <= (int64_t)time(NULL) * 1000 + 1000);
    sqlite3_finalize(st);
    sqlite3_close(db);

    ae_vs_hit *hits;
    size_t n;
    assert_int_equal(ae_vs_search(f->vs, v2, 2, "mock", "mock-64d", 5, NULL, &hits, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_float_equal(hits[0].score, 1.0, 1e-7);
    free(hits);
}

typedef struct collected {
    size_t n;
    float v[8];
    uint32_t dim;
    char id[80];
    char sir_hash[16];
    int64_t updated_at;
    int stop_after;
} collected;

static int collect(const ae_vs_record *r, void *ctx)
{
    collected *c = ctx;
    c->n++;
    if (r->dim <= 8) memcpy(c->v, r->embedding, r->dim * sizeof(float));
    c->dim = r->dim;
    snprintf(c->id, sizeof c->id, "%s", r->symbol_id);
    snprintf(c->sir_hash, sizeof c->sir_hash, "%s", r->sir_hash);
    c->updated_at = r->updated_at;
    return c->stop_after && (int)c->n >= c->stop_after ? 42 : 0;
}

static void test_float32_round_trips_exactly(void **state)
{
    fixture *f = *state;
    float v[8] = {0.1f,  -1.0f / 3.0f, 3.4028235e38f, 1.17549435e-38f, 1.4e-45f /* denormal */,
                  -0.0f, 123456.789f,  0.70710677f};
    ae_vs_record r = rec("exact", v, 8);
    r.sir_hash = "hx";
    ae_error err;
    assert_int_equal(ae_vs_upsert(f->vs, &r, 1, &err), 0);
    collected c = {0};
    assert_int_equal(ae_vs_iterate(f->vs, collect, &c, &err), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.dim, 8);
    assert_memory_equal(c.v, v, sizeof v); /* bit for bit, -0.0 included */
    assert_string_equal(c.id, "exact");
    assert_string_equal(c.sir_hash, "hx");
    assert_int_equal(c.updated_at, 1700000000000);
}

static void test_bad_batches_write_nothing(void **state)
{
    fixture *f = *state;
    float good[4] = {1, 2, 3, 4}, nan_at_2[4] = {1, 2, NAN, 4}, inf[4] = {INFINITY, 0, 0, 0};
    ae_error err;
    char long_id[80];
    memset(long_id, 'x', 65);
    long_id[65] = '\0';

    ae_vs_record r[2] = {rec("ok", good, 4), rec("abcdef0123456789abcdef", nan_at_2, 4)};
    assert_int_equal(ae_vs_upsert(f->vs, r, 2, &err), AE_EINVAL);
    assert_string_equal(err.message, "NaN at dimension 2 of row 1 (symbol_id abcdef012345...)");
    r[1] = rec("inf", inf, 4);
    assert_int_equal(ae_vs_upsert(f->vs, r, 2, &err), AE_EINVAL);
    assert_string_equal(err.message, "infinity at dimension 0 of row 1 (symbol_id inf)");
    r[1] = rec("", good, 4);
    assert_int_equal(ae_vs_upsert(f->vs, r, 2, &err), AE_EINVAL);
    assert_string_equal(err.message, "empty symbol_id in row 1");
    r[1] = rec(long_id, good, 4);
    assert_int_equal(ae_vs_upsert(f->vs, r, 2, &err), AE_EINVAL);
    assert_non_null(strstr(err.message, "longer than 64 bytes"));
    r[1] = rec("zero-dim", good, 0);
    assert_int_equal(ae_vs_upsert(f->vs, r, 2, &err), AE_EINVAL);
    assert_string_equal(err.message,
                        "dimension 0 of row 1 (symbol_id zero-dim) is outside 1..16384");
    r[1] = rec("huge-dim", good, 16385);
    assert_int_equal(ae_vs_upsert(f->vs, r, 2, &err), AE_EINVAL);
    r[1] = rec("no-model", good, 4);
    r[1].model = NULL;
    assert_int_equal(ae_vs_upsert(f->vs, r, 2, &err), AE_EINVAL);
    assert_string_equal(err.message, "missing model in row 1 (symbol_id no-model)");
    r[1] = rec("no-hash", good, 4);
    r[1].sir_hash = "";
    assert_int_equal(ae_vs_upsert(f->vs, r, 2, &err), AE_EINVAL);
    r[1] = rec("no-provider", good, 4);
    r[1].provider = NULL;
    assert_int_equal(ae_vs_upsert(f->vs, r, 2, &err), AE_EINVAL);
    /* straight through the ops table too: the backend validates on its own */
    r[1] = rec("nan", nan_at_2, 4);
    assert_int_equal(f->vs->ops->upsert(f->vs->backend, r, 2, &err), AE_EINVAL);

    assert_int_equal(count(f, NULL, NULL), 0);

    /* a 64-byte id is fine */
    long_id[64] = '\0';
    r[1] = rec(long_id, good, 4);
    assert_int_equal(ae_vs_upsert(f->vs, r, 2, &err), 0);
    assert_int_equal(count(f, NULL, NULL), 2);
    ae_vs_hit *hits;
    size_t n;
    float q[4] = {1, 2, 3, 4};
    assert_int_equal(ae_vs_search(f->vs, q, 4, "mock", "mock-64d", 5, NULL, &hits, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(hits[0].symbol_id, "ok"); /* equal scores: symbol_id ascending */
    assert_string_equal(hits[1].symbol_id, long_id);
    free(hits);
}

static void test_bad_queries(void **state)
{
    fixture *f = *state;
    float good[4] = {1, 2, 3, 4}, q_nan[4] = {0, NAN, 0, 0};
    ae_vs_record r = rec("ok", good, 4);
    ae_error err;
    assert_int_equal(ae_vs_upsert(f->vs, &r, 1, &err), 0);
    ae_vs_hit *hits = (ae_vs_hit *)1;
    size_t n = 7;
    assert_int_equal(ae_vs_search(f->vs, q_nan, 4, "mock", "mock-64d", 5, NULL, &hits, &n, &err),
                     AE_EINVAL);
    assert_string_equal(err.message, "NaN at dimension 1 of the query vector");
    assert_null(hits);
    assert_int_equal(n, 0);
    assert_int_equal(ae_vs_search(f->vs, good, 0, "mock", "mock-64d", 5, NULL, &hits, &n, &err),
                     AE_EINVAL);
    assert_int_equal(ae_vs_search(f->vs, good, 4, NULL, "mock-64d", 5, NULL, &hits, &n, &err),
                     AE_EINVAL);
    assert_int_equal(ae_vs_search(NULL, good, 4, "mock", "mock-64d", 5, NULL, &hits, &n, &err),
                     AE_EINVAL);
    /* limit 0: nothing, but not an error */
    assert_int_equal(ae_vs_search(f->vs, good, 4, "mock", "mock-64d", 0, NULL, &hits, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_null(hits);
}

static void test_not_found(void **state)
{
    fixture *f = *state;
    float v[4] = {1, 2, 3, 4};
    ae_vs_record r = rec("ok", v, 4);
    ae_error err;
    ae_vs_hit *hits;
    size_t n;
    /* empty table */
    assert_int_equal(ae_vs_search(f->vs, v, 4, "mock", "mock-64d", 5, NULL, &hits, &n, &err),
                     AE_ENOTFOUND);
    assert_non_null(strstr(err.message, "no embeddings for provider 'mock' model 'mock-64d' "
                                        "with 4 dimensions"));
    assert_int_equal(ae_vs_upsert(f->vs, &r, 1, &err), 0);
    assert_int_equal(ae_vs_search(f->vs, v, 4, "hash", "mock-64d", 5, NULL, &hits, &n, &err),
                     AE_ENOTFOUND);
    assert_int_equal(ae_vs_search(f->vs, v, 4, "mock", "hash-v1", 5, NULL, &hits, &n, &err),
                     AE_ENOTFOUND);
    assert_int_equal(ae_vs_search(f->vs, v, 3, "mock", "mock-64d", 5, NULL, &hits, &n, &err),
                     AE_ENOTFOUND); /* wrong dim */
    assert_null(hits);

    /* table dropped behind our back */
    raw_exec(f, "DROP TABLE sir_embeddings");
    assert_int_equal(ae_vs_search(f->vs, v, 4, "mock", "mock-64d", 5, NULL, &hits, &n, &err),
                     AE_ENOTFOUND);
    assert_non_null(strstr(err.message, "table sir_embeddings does not exist"));
    size_t c;
    assert_int_equal(ae_vs_count(f->vs, NULL, NULL, &c, &err), AE_ENOTFOUND);
    collected col = {0};
    assert_int_equal(ae_vs_iterate(f->vs, collect, &col, &err), AE_ENOTFOUND);
    assert_int_equal(ae_vs_upsert(f->vs, &r, 1, &err), AE_ENOTFOUND);
}

static void test_malformed_rows_are_skipped(void **state)
{
    fixture *f = *state;
    raw_exec(f, "INSERT INTO sir_embeddings VALUES "
                "('good', 'h', 'mock', 'mock-64d', 3, '[1, 0, 0]', 1),"
                "('short', 'h', 'mock', 'mock-64d', 3, '[1, 0]', 1),"
                "('long', 'h', 'mock', 'mock-64d', 3, '[1, 0, 0, 0]', 1),"
                "('garbage', 'h', 'mock', 'mock-64d', 3, 'not json', 1),"
                "('nan', 'h', 'mock', 'mock-64d', 3, '[NaN, 0, 0]', 1),"
                "('huge', 'h', 'mock', 'mock-64d', 3, '[1e39, 0, 0]', 1),"
                "('trail', 'h', 'mock', 'mock-64d', 3, '[1, 0, 0] x', 1),"
                "('badsep', 'h', 'mock', 'mock-64d', 3, '[1 0 0]', 1),"
                "('numtext', 'h', 'mock', 'mock-64d', 3, 42, 1),"
                "('negdim', 'h', 'mock', 'mock-64d', -3, '[1, 0, 0]', 1),"
                "('spaces', 'h', 'mock', 'mock-64d', 3, ' [ 0.5 ,\n0.5, -0 ] ', 1)");
    float q[3] = {1, 0, 0};
    ae_vs_hit *hits;
    size_t n;
    ae_error err;
    assert_int_equal(ae_vs_search(f->vs, q, 3, "mock", "mock-64d", 10, NULL, &hits, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(hits[0].symbol_id, "good");
    assert_string_equal(hits[1].symbol_id, "spaces");
    assert_float_equal(hits[1].score, 1 / sqrt(2), 1e-6);
    free(hits);
    collected c = {0};
    assert_int_equal(ae_vs_iterate(f->vs, collect, &c, &err), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(count(f, NULL, NULL), 11); /* count is of rows, not of parseable rows */
}

static void test_iterate_stops_early(void **state)
{
    fixture *f = *state;
    float v[2] = {1, 1};
    ae_vs_record r[3] = {rec("a", v, 2), rec("b", v, 2), rec("c", v, 2)};
    ae_error err;
    assert_int_equal(ae_vs_upsert(f->vs, r, 3, &err), 0);
    collected c = {.stop_after = 2};
    assert_int_equal(ae_vs_iterate(f->vs, collect, &c, &err), 42);
    assert_int_equal(c.n, 2);
    c = (collected){0};
    assert_int_equal(ae_vs_iterate(f->vs, collect, &c, &err), 0);
    assert_int_equal(c.n, 3);
}

#ifdef AE_TESTING
static void test_parse_floats(void **state)
{
    float out[3];
    assert_int_equal(sqlite_parse_floats("[1,2.5,-3e-2]", out, 3), 0);
    assert_true(out[0] == 1.0f && out[1] == 2.5f && out[2] == -3e-2f);
    assert_int_equal(sqlite_parse_floats("[]", out, 0), 0);
    assert_int_equal(sqlite_parse_floats("[]", out, 3), -1);
    assert_int_equal(sqlite_parse_floats("[1,2,]", out, 3), -1);
    assert_int_equal(sqlite_parse_floats("[1,,2,3]", out, 3), -1);
    assert_int_equal(sqlite_parse_floats("[1,2,3", out, 3), -1);
    assert_int_equal(sqlite_parse_floats("1,2,3]", out, 3), -1);
    assert_int_equal(sqlite_parse_floats("[+1,2,3]", out, 3), -1);
    assert_int_equal(sqlite_parse_floats("[inf,2,3]", out, 3), -1);
    assert_int_equal(sqlite_parse_floats("[0x10,2,3]", out, 3), -1);
    assert_int_equal(sqlite_parse_floats("[1,2,3,4]", out, 3), -1);
    assert_int_equal(sqlite_parse_floats("", out, 3), -1);
    assert_int_equal(sqlite_parse_floats(NULL, out, 3), -1);
}

/* The parser's fast path must agree with strtof bit for bit. */
static void test_parse_floats_agrees_with_strtof(void **state)
{
    srand(11);
    char buf[64];
    for (int i = 0; i < 200000; i++) {
        uint32_t bits = ((uint32_t)rand() << 16) ^ (uint32_t)rand();
        float x;
        memcpy(&x, &bits, sizeof x);
        if (!isfinite(x)) continue;
        const char *fmt = i % 3 == 0 ? "[%.9g]" : i % 3 == 1 ? "[%.6g]" : "[%.12e]";
        snprintf(buf, sizeof buf, fmt, (double)x);
        float got, want = strtof(buf + 1, NULL);
        if (!isfinite(want)) continue;
        assert_int_equal(sqlite_parse_floats(buf, &got, 1), 0);
        if (memcmp(&got, &want, sizeof got) != 0) fail_msg("%s: %.9g != %.9g", buf, got, want);
        /* random short decimals too, the shape most JSON writers produce */
        snprintf(buf, sizeof buf, "[%s0.%0*d]", rand() % 2 ? "-" : "", 1 + rand() % 14,
                 rand() % 100000000);
        want = strtof(buf + 1, NULL);
        assert_int_equal(sqlite_parse_floats(buf, &got, 1), 0);
        if (memcmp(&got, &want, sizeof got) != 0) fail_msg("%s: %.9g != %.9g", buf, got, want);
    }
    /* a decimal exactly halfway between two floats rounds to even either way */
    const char *mid = "[16777217]"; /* 2^24 + 1 */
    float got;
    assert_int_equal(sqlite_parse_floats(mid, &got, 1), 0);
    assert_true(got == 16777216.0f);
}

#endif

static void test_topk_matches_full_sort(void **state)
{
    /* random scores with many ties against qsort of everything */
    enum { N = 500, K = 17 };
    ae_vs_hit all[N];
    srand(7);
    ae_topk t;
    ae_topk_init(&t, K);
    ae_error err;
    for (int i = 0; i < N; i++) {
        snprintf(all[i].symbol_id, sizeof all[i].symbol_id, "id%03d", (i * 37) % N);
        all[i].score = (float)(rand() % 20) / 20.0f;
        assert_int_equal(ae_topk_push(&t, all[i].symbol_id, all[i].score, &err), 0);
    }
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            if (ae_vs_hit_cmp(&all[j], &all[i]) < 0) {
                ae_vs_hit tmp = all[i];
                all[i] = all[j];
                all[j] = tmp;
            }
    ae_vs_hit *hits;
    size_t n;
    ae_topk_finish(&t, &hits, &n);
    assert_int_equal(n, K);
    for (int i = 0; i < K; i++) {
        assert_string_equal(hits[i].symbol_id, all[i].symbol_id);
        assert_true(hits[i].score == all[i].score);
    }
    free(hits);
    ae_topk_init(&t, 0);
    assert_int_equal(ae_topk_push(&t, "x", 1.0f, &err), 0);
    ae_topk_finish(&t, &hits, &n);
    assert_int_equal(n, 0);
    assert_null(hits);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layout_and_wal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_and_ranking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ties_by_symbol_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_on_reupsert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_float32_round_trips_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_batches_write_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_rows_are_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iterate_stops_early, setup, teardown),
#ifdef AE_TESTING
        cmocka_unit_test(test_parse_floats),
        cmocka_unit_test(test_parse_floats_agrees_with_strtof),
#endif
        cmocka_unit_test(test_topk_matches_full_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
