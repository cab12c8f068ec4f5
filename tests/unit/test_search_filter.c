/* Filtered vector search (ae_vs_search_opts.allow_ids): on a 200K-row table,
 * a 1% filter returns k hits -- the exact top-k of the allowed rows -- with
 * and without the ANN index; a 25% filter goes through the index probed
 * wider and still returns k allowed hits; fewer allowed rows than k give
 * exactly those; ids not in the table are ignored; a bad set is refused; the
 * SQLite backend filters the same way. */
#include "test_table_util.h"

#include "store/table_index_policy.h"

#include <aether/vector_store.h>

static const char *P = "hash", *M = "filter";

#define DIM    8
#define N_ROWS 200000
#define K      10

typedef struct fixture {
    char *dir;
    ae_vector_store *vs;
    tt_batch b;
} fixture;

static fixture fx;

static int setup(void **state)
{
    (void)state;
    ae_error err;
    fx.dir = tt_tmpdir();
    char vdir[512];
    snprintf(vdir, sizeof vdir, "%s/vectors", fx.dir);
    if (ae_vs_open_table(vdir, &fx.vs, &err) < 0) return -1;
    fx.b = tt_make(P, M, DIM, 0, N_ROWS, 7);
    if (ae_vs_upsert(fx.vs, fx.b.recs, fx.b.n, &err) < 0) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ae_vs_close(fx.vs);
    tt_free(&fx.b);
    tt_rmrf(fx.dir);
    free(fx.dir);
    return 0;
}

/* Every `every`-th id from `first`: sorted, as the store requires. */
static const char **allowed(size_t every, size_t first, size_t *n)
{
    *n = 0;
    const char **ids = calloc(N_ROWS / every + 2, sizeof *ids);
    for (size_t i = first; i < N_ROWS; i += every)
        ids[(*n)++] = fx.b.ids[i];
    return ids;
}

/* Exact top-k by brute force over the allowed rows (every-th from first). */
static size_t brute(const float *q, size_t every, size_t first, size_t k, size_t *out)
{
    double *best = calloc(k, sizeof *best);
    size_t n = 0;
    for (size_t i = first; i < N_ROWS; i += every) {
        double s = tt_cos(q, fx.b.emb + i * DIM, DIM);
        if (n == k && s <= best[n - 1]) continue;
        size_t j = n < k ? n++ : k - 1;
        while (j > 0 && best[j - 1] < s) {
            best[j] = best[j - 1];
            out[j] = out[j - 1];
            j--;
        }
        best[j] = s;
        out[j] = i;
    }
    free(best);
    return n;
}

static void check_filtered(size_t every, size_t first, const ae_vs_search_opts *base,
                           double min_recall)
{
    ae_error err;
    size_t n_allow;
    const char **ids = allowed(every, first, &n_allow);
    ae_vs_search_opts o = base ? *base : (ae_vs_search_opts){0};
    o.allow_ids = ids;
    o.n_allow = n_allow;
    double recall = 0;
    const int queries = 8;
    for (int qi = 0; qi < queries; qi++) {
        float q[DIM];
        tt_vec(99, (size_t)qi, q, DIM);
        ae_vs_hit *hits = NULL;
        size_t nh = 0;
        TT_OK(ae_vs_search(fx.vs, q, DIM, P, M, K, &o, &hits, &nh, &err));
        if (nh != K) fail_msg("filter 1/%zu: %zu hits, want %d", every, nh, K);
        size_t want[K];
        assert_int_equal(brute(q, every, first, K, want), K);
        size_t found = 0;
        for (size_t i = 0; i < nh; i++) {
            size_t row = (size_t)strtoul(hits[i].symbol_id + 4, NULL, 10);
            if (row % every != first % every)
                fail_msg("filter 1/%zu: hit %s is not allowed", every, hits[i].symbol_id);
            for (size_t j = 0; j < K; j++)
                if (want[j] == row) found++;
            if (i > 0) assert_true(hits[i - 1].score >= hits[i].score);
        }
        recall += (double)found / K;
        free(hits);
    }
    recall /= queries;
    if (recall < min_recall)
        fail_msg("filter 1/%zu: recall@%d %.3f below %.2f", every, K, recall, min_recall);
    free(ids);
}

static void test_one_percent_without_index(void **state)
{
    (void)state;
    check_filtered(100, 3, NULL, 1.0); /* exact over the allowed rows */
}

static void test_one_percent_with_index(void **state)
{
    (void)state;
    ae_error err;
    TT_OK(ae_tables_build_indexes(fx.vs, true, &err));
    /* unfiltered search now goes through the index ... */
    float q[DIM];
    tt_vec(99, 0, q, DIM);
    ae_vs_hit *hits = NULL;
    size_t nh = 0;
    TT_OK(ae_vs_search(fx.vs, q, DIM, P, M, K, NULL, &hits, &nh, &err));
    assert_int_equal(nh, K);
    free(hits);
    /* ... and a 1% filter (2,000 rows) is answered by the exact scan of
     * those rows: k hits, exactly the filtered top-k */
    check_filtered(100, 3, NULL, 1.0);
}

static void test_broad_filter_probes_wider(void **state)
{
    (void)state;
    /* 25% (50,000 rows, above AE_VS_FILTER_EXACT_ROWS): the index, probed
     * 4x wider; k allowed hits whatever the recall */
    check_filtered(4, 1, NULL, 0.8);
    /* exact on request: the filtered exact top-k */
    ae_vs_search_opts ex = {.exact = 1};
    check_filtered(4, 1, &ex, 1.0);
}

static void test_fewer_allowed_than_k_and_unknown_ids(void **state)
{
    (void)state;
    ae_error err;
    const char *ids[] = {"nope-1", fx.b.ids[5], fx.b.ids[77], "sym-999999", fx.b.ids[150000]};
    /* sorted: "nope-1" < "sym-000005" < "sym-000077" < "sym-150000" < "sym-999999" */
    const char *sorted[] = {ids[0], ids[1], ids[2], ids[4], ids[3]};
    ae_vs_search_opts o = {.allow_ids = sorted, .n_allow = 5};
    float q[DIM];
    tt_vec(99, 1, q, DIM);
    ae_vs_hit *hits = NULL;
    size_t nh = 0;
    TT_OK(ae_vs_search(fx.vs, q, DIM, P, M, K, &o, &hits, &nh, &err));
    assert_int_equal(nh, 3);
    for (size_t i = 0; i < nh; i++)
        assert_true(!strcmp(hits[i].symbol_id, ids[1]) || !strcmp(hits[i].symbol_id, ids[2]) ||
                    !strcmp(hits[i].symbol_id, ids[4]));
    free(hits);
    /* nothing allowed is in the table: no hits, not an error */
    const char *none[] = {"a", "b"};
    o = (ae_vs_search_opts){.allow_ids = none, .n_allow = 2};
    TT_OK(ae_vs_search(fx.vs, q, DIM, P, M, K, &o, &hits, &nh, &err));
    assert_int_equal(nh, 0);
    free(hits);
}

static void test_bad_allowed_set(void **state)
{
    (void)state;
    ae_error err;
    const char *unsorted[] = {fx.b.ids[9], fx.b.ids[2]};
    ae_vs_search_opts o = {.allow_ids = unsorted, .n_allow = 2};
    float q[DIM];
    tt_vec(99, 1, q, DIM);
    ae_vs_hit *hits = NULL;
    size_t nh = 0;
    assert_int_equal(ae_vs_search(fx.vs, q, DIM, P, M, K, &o, &hits, &nh, &err), AE_EINVAL);
    assert_non_null(strstr(err.message, "not sorted"));
    free(hits);
}

static void test_sqlite_backend_filters(void **state)
{
    (void)state;
    ae_error err;
    char path[512];
    snprintf(path, sizeof path, "%s/meta.sqlite", fx.dir);
    ae_vector_store *vs;
    TT_OK(ae_vs_open_sqlite(path, &vs, &err));
    tt_batch b = tt_make(P, M, DIM, 0, 2000, 7); /* the same vectors as fx rows 0..1999 */
    TT_OK(ae_vs_upsert(vs, b.recs, b.n, &err));
    const char **ids = calloc(20, sizeof *ids);
    for (size_t i = 0; i < 20; i++)
        ids[i] = b.ids[i * 100 + 3]; /* 1% */
    ae_vs_search_opts o = {.allow_ids = ids, .n_allow = 20};
    float q[DIM];
    tt_vec(99, 2, q, DIM);
    ae_vs_hit *hits = NULL, *lh = NULL;
    size_t nh = 0, nl = 0;
    TT_OK(ae_vs_search(vs, q, DIM, P, M, K, &o, &hits, &nh, &err));
    assert_int_equal(nh, K);
    /* same ids and order as the native backend on the same allowed rows */
    TT_OK(ae_vs_search(fx.vs, q, DIM, P, M, K, &o, &lh, &nl, &err));
    assert_int_equal(nl, K);
    for (size_t i = 0; i < K; i++)
        assert_string_equal(hits[i].symbol_id, lh[i].symbol_id);
    free(hits);
    free(lh);
    free(ids);
    tt_free(&b);
    ae_vs_close(vs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_percent_without_index),
        cmocka_unit_test(test_fewer_allowed_than_k_and_unknown_ids),
        cmocka_unit_test(test_bad_allowed_set),
        cmocka_unit_test(test_one_percent_with_index),
        cmocka_unit_test(test_broad_filter_probes_wider),
        cmocka_unit_test(test_sqlite_backend_filters),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
