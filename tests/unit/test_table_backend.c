/* The "lancedb" VectorStore backend against the contract of vector_store.h,
 * and against the SQLite backend on the same data (same ids, same order,
 * scores within 1e-5). */
#include "test_table_util.h"

#include "store/tables_admin.h"
#include "util/fs.h"

static const char *P = "hash", *M = "hash_v1";

typedef struct counter {
    size_t n;
    size_t other_model;
} counter;

static int count_rows(const ae_vs_record *rec, void *ctx)
{
    counter *c = ctx;
    c->n++;
    if (!strcmp(rec->model, "other")) c->other_model++;
    return 0;
}

static int stop_early(const ae_vs_record *rec, void *ctx)
{
    (void)rec;
    return ++*(int *)ctx == 3 ? 42 : 0;
}

static void test_contract(void **state)
{
    ae_error err;
    char *dir = tt_tmpdir();
    char *vdir = ae_path_join(dir, "vectors");
    ae_vector_store *vs = NULL;
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    assert_string_equal(vs->ops->name, "lancedb");
    float q[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    ae_vs_hit *hits = NULL;
    size_t n = 0;
    assert_int_equal(ae_vs_search(vs, q, 8, P, M, 5, NULL, &hits, &n, &err), AE_ENOTFOUND);
    size_t cnt = 99;
    TT_OK(ae_vs_count(vs, NULL, NULL, &cnt, &err));
    assert_int_equal(cnt, 0);
    assert_false(ae_path_exists(vdir)); /* reads create nothing */

    /* one batch, two keys: (hash, hash_v1, 8) and (hash, other, 4) */
    tt_batch a = tt_make(P, M, 8, 0, 30, 1);
    tt_batch o = tt_make(P, "other", 4, 100, 5, 2);
    ae_vs_record mixed[35];
    for (int i = 0; i < 30; i++)
        mixed[i] = a.recs[i];
    for (int i = 0; i < 5; i++)
        mixed[30 + i] = o.recs[i];
    TT_OK(ae_vs_upsert(vs, mixed, 35, &err));
    TT_OK(ae_vs_count(vs, NULL, NULL, &cnt, &err));
    assert_int_equal(cnt, 35);
    TT_OK(ae_vs_count(vs, P, "other", &cnt, &err));
    assert_int_equal(cnt, 5);
    TT_OK(ae_vs_count(vs, "nobody", NULL, &cnt, &err));
    assert_int_equal(cnt, 0);
    counter c = {0};
    TT_OK(ae_vs_iterate(vs, count_rows, &c, &err));
    assert_int_equal(c.n, 35);
    assert_int_equal(c.other_model, 5);
    int calls = 0;
    assert_int_equal(ae_vs_iterate(vs, stop_early, &calls, &err), 42);

    TT_OK(ae_vs_search(vs, a.recs[4].embedding, 8, P, M, 3, NULL, &hits, &n, &err));
    assert_int_equal(n, 3);
    assert_string_equal(hits[0].symbol_id, "sym-000004");
    free(hits);
    assert_int_equal(ae_vs_search(vs, q, 8, P, "nope", 3, NULL, &hits, &n, &err), AE_ENOTFOUND);

    /* a symbol moving to another model leaves its old table (as in SQLite) */
    tt_batch mv = tt_make(P, "other", 4, 4, 1, 3); /* sym-000004 now in "other" */
    TT_OK(ae_vs_upsert(vs, mv.recs, 1, &err));
    TT_OK(ae_vs_count(vs, P, M, &cnt, &err));
    assert_int_equal(cnt, 29);
    TT_OK(ae_vs_count(vs, P, "other", &cnt, &err));
    assert_int_equal(cnt, 6);

    const char *ids[] = {"sym-000001", "sym-000100", "missing"};
    TT_OK(ae_vs_delete(vs, ids, 3, &err));
    TT_OK(ae_vs_count(vs, NULL, NULL, &cnt, &err));
    assert_int_equal(cnt, 33);
    TT_OK(ae_vs_rebuild_index(vs, &err));

    /* a bad record anywhere in the batch: nothing written to any table */
    tt_batch bad = tt_make(P, "third", 4, 0, 3, 4);
    bad.emb[2 * 4 + 1] = INFINITY;
    assert_int_equal(ae_vs_upsert(vs, bad.recs, 3, &err), AE_EINVAL);
    TT_OK(ae_vs_count(vs, P, "third", &cnt, &err));
    assert_int_equal(cnt, 0);
    ae_vs_close(vs);

    /* admin entry points */
    ae_table_status *st = NULL;
    size_t nst = 0;
    TT_OK(ae_tables_status(vdir, &st, &nst, &err));
    assert_int_equal(nst, 2);
    size_t live = 0, deleted = 0;
    for (size_t i = 0; i < nst; i++) {
        live += st[i].rows_live;
        deleted += st[i].rows_deleted;
        assert_true(st[i].versions_retained >= 1);
        assert_int_equal(st[i].has_index, 0);
    }
    assert_int_equal(live, 33);
    assert_int_equal(deleted, 3);
    free(st);
    TT_OK(ae_tables_optimize(vdir, NULL, &err));
    TT_OK(ae_tables_status(vdir, &st, &nst, &err));
    for (size_t i = 0; i < nst; i++) {
        assert_int_equal(st[i].rows_deleted, 0);
        assert_int_equal(st[i].fragments, 1);
    }
    free(st);
    ae_tables_fsck_report *rep = NULL;
    size_t nrep = 0, problems = 99;
    TT_OK(ae_tables_fsck(vdir, &rep, &nrep, &problems, &err));
    assert_int_equal(nrep, 2);
    assert_int_equal(problems, 0);
    ae_tables_fsck_free(rep, nrep);

    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    TT_OK(ae_vs_count(vs, NULL, NULL, &cnt, &err));
    assert_int_equal(cnt, 33);
    ae_vs_close(vs);

    tt_free(&a);
    tt_free(&o);
    tt_free(&mv);
    tt_free(&bad);
    tt_rmrf(dir);
    free(vdir);
    free(dir);
}

/* drop_empty_except: a table without a live row goes unless it is the kept key's;
 * a table with rows stays whatever its key. */
static void test_drop_empty_except(void **state)
{
    ae_error err;
    char *dir = tt_tmpdir();
    char *vdir = ae_path_join(dir, "vectors");
    ae_vector_store *vs = NULL;
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    tt_batch a = tt_make("hash", "hash-v1", 8, 0, 10, 1);  /* the old provider's table */
    tt_batch b = tt_make("ppmi", "m1", 4, 0, 10, 2);       /* the same ids, new provider */
    tt_batch c = tt_make("byo", "kept", 4, 500, 3, 3);     /* other ids: keeps its rows */
    tt_batch k = tt_make("hash", "hash-v1", 8, 900, 1, 4); /* kept key, emptied below */
    TT_OK(ae_vs_upsert(vs, a.recs, 10, &err));
    TT_OK(ae_vs_upsert(vs, c.recs, 3, &err));
    size_t dropped = 99;
    TT_OK(ae_vs_drop_empty_except(vs, "ppmi", "m1", &dropped, &err));
    assert_int_equal(dropped, 0);              /* nothing empty yet */
    TT_OK(ae_vs_upsert(vs, b.recs, 10, &err)); /* moves every id of a to the new table */
    TT_OK(ae_vs_drop_empty_except(vs, "ppmi", "m1", &dropped, &err));
    assert_int_equal(dropped, 1);
    size_t cnt = 0;
    TT_OK(ae_vs_count(vs, NULL, NULL, &cnt, &err));
    assert_int_equal(cnt, 13);
    ae_table_status *st = NULL;
    size_t nst = 0;
    TT_OK(ae_tables_status(vdir, &st, &nst, &err));
    assert_int_equal(nst, 2);
    free(st);
    /* the kept key's table stays even when empty */
    TT_OK(ae_vs_upsert(vs, k.recs, 1, &err));
    const char *ids[] = {"sym-000900"};
    TT_OK(ae_vs_delete(vs, ids, 1, &err));
    TT_OK(ae_vs_drop_empty_except(vs, "hash", "hash-v1", &dropped, &err));
    assert_int_equal(dropped, 0);
    assert_int_equal(ae_vs_drop_empty_except(vs, "", "m1", NULL, &err), AE_EINVAL);
    ae_vs_close(vs);
    TT_OK(ae_tables_status(vdir, &st, &nst, &err));
    assert_int_equal(nst, 3);
    free(st);
    tt_free(&a);
    tt_free(&b);
    tt_free(&c);
    tt_free(&k);
    tt_rmrf(dir);
    free(vdir);
    free(dir);
}

static void test_same_results_as_sqlite(void **state)
{
    ae_error err;
    char *dir = tt_tmpdir();
    char *vdir = ae_path_join(dir, "vectors");
    char *db = ae_path_join(dir, "meta.sqlite");
    ae_vector_store *lv = NULL, *sv = NULL;
    TT_OK(ae_vs_open_table(vdir, &lv, &err));
    TT_OK(ae_vs_open_sqlite(db, &sv, &err));
    const uint32_t dim = 32;
    tt_batch a = tt_make(P, M, dim, 0, 400, 7);
    /* duplicates of one vector make exact ties */
    for (int i = 390; i < 400; i++)
        memcpy(a.emb + i * dim, a.emb + 5 * dim, dim * sizeof(float));
    for (size_t off = 0; off < 400; off += 100) {
        TT_OK(ae_vs_upsert(lv, a.recs + off, 100, &err));
        TT_OK(ae_vs_upsert(sv, a.recs + off, 100, &err));
    }
    const char *del[] = {"sym-000010", "sym-000395", "sym-000200"};
    TT_OK(ae_vs_delete(lv, del, 3, &err));
    TT_OK(ae_vs_delete(sv, del, 3, &err));
    for (int qi = 0; qi < 8; qi++) {
        float q[32];
        if (qi == 0)
            memcpy(q, a.emb + 5 * dim, sizeof q);
        else
            tt_vec(1234, (size_t)qi, q, dim);
        ae_vs_hit *h1 = NULL, *h2 = NULL;
        size_t n1 = 0, n2 = 0;
        TT_OK(ae_vs_search(lv, q, dim, P, M, 20, NULL, &h1, &n1, &err));
        TT_OK(ae_vs_search(sv, q, dim, P, M, 20, NULL, &h2, &n2, &err));
        assert_int_equal(n1, 20);
        assert_int_equal(n1, n2);
        for (size_t i = 0; i < n1; i++) {
            assert_string_equal(h1[i].symbol_id, h2[i].symbol_id);
            assert_float_equal(h1[i].score, h2[i].score, 1e-5);
        }
        free(h1);
        free(h2);
    }
    ae_vs_close(lv);
    ae_vs_close(sv);
    tt_free(&a);
    tt_rmrf(dir);
    free(vdir);
    free(db);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contract),
        cmocka_unit_test(test_drop_empty_except),
        cmocka_unit_test(test_same_results_as_sqlite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
