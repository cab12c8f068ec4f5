/* A store's own target recall (table_index_policy.h, ae_tables_set_target_recall; the
 * workspace passes the config's [search] target_recall): validated, used by the store's
 * builds over the process default, and an index tuned for another target is measured again
 * and its record republished by the next index pass, without a rebuild (the same index file),
 * in the manifest so a reopened handle sees it; a pass with nothing to change commits nothing. */
#include "test_table_util.h"

#include "index/ivfpq.h"
#include "store/table_index_policy.h"
#include "store/table_tune.h"
#include "util/fs.h"

static const char *P = "hash", *M = "tune";
#define DIM  32
#define ROWS 20000

static ae_index_tuned recorded(const char *vdir, uint64_t *version, char **ixpath)
{
    ae_error err;
    ae_table *t = NULL;
    TT_OK(ae_table_open(vdir, P, M, DIM, 0, NULL, &t, &err));
    ae_table_status st;
    TT_OK(ae_table_status_get(t, &st, &err));
    if (version) *version = ae_table_version(t);
    if (ixpath) *ixpath = ae_table_index_path(t, NULL, NULL);
    ae_table_close(t);
    return st.index_tuned;
}

static void test_bad_targets(void **state)
{
    (void)state;
    char *vdir = tt_tmpdir();
    ae_error err;
    ae_vector_store *vs = NULL;
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    const double bad[] = {0, 1, -0.1, 1.5, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(ae_tables_set_target_recall(vs, bad[i], &err), AE_EINVAL);
        assert_non_null(strstr(err.message, "outside (0, 1)"));
    }
    TT_OK(ae_tables_set_target_recall(vs, 0.9, &err));
    ae_vs_close(vs);
    /* the legacy backend has no index to tune */
    char *db = ae_path_join(vdir, "meta.sqlite");
    TT_OK(ae_vs_open_sqlite(db, &vs, &err));
    assert_int_equal(ae_tables_set_target_recall(vs, 0.9, &err), AE_EINVAL);
    assert_non_null(strstr(err.message, "lancedb"));
    ae_vs_close(vs);
    free(db);
    tt_rmrf(vdir);
    free(vdir);
}

static void test_store_target(void **state)
{
    (void)state;
    char *vdir = tt_tmpdir();
    ae_error err;
    ae_table_set_index_min_rows(256);
    /* the process says 0.999; the store's own 0.5 wins */
    ae_table_set_target_recall(0.999);
    ae_vector_store *vs = NULL;
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    TT_OK(ae_tables_set_target_recall(vs, 0.5, &err));
    tt_batch x = tt_make(P, M, DIM, 0, ROWS, 33);
    TT_OK(ae_vs_upsert(vs, x.recs, x.n, &err));
    tt_free(&x);
    TT_OK(ae_tables_build_indexes(vs, true, &err));
    ae_vs_close(vs);
    ae_table_set_target_recall(0);
    char *f_lo = NULL;
    uint64_t v_lo = 0;
    ae_index_tuned lo = recorded(vdir, &v_lo, &f_lo);
    assert_true(lo.set);
    assert_true(lo.target == 0.5);
    assert_int_equal(lo.nprobe, AE_IVFPQ_DEFAULT_NPROBE);
    assert_int_equal(lo.refine, ae_ivfpq_default_refine(DIM));
    assert_non_null(f_lo);

    /* a new target: the plain index pass (nothing due) measures the same file again */
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    TT_OK(ae_tables_set_target_recall(vs, 0.995, &err));
    TT_OK(ae_vs_rebuild_index(vs, &err));
    ae_vs_close(vs);
    char *f_hi = NULL;
    uint64_t v_hi = 0;
    ae_index_tuned hi = recorded(vdir, &v_hi, &f_hi);
    assert_true(hi.set);
    assert_true(hi.target == 0.995);
    assert_string_equal(f_hi, f_lo);
    assert_true(v_hi == v_lo + 1);
    /* this uniform data is hard: the defaults do not reach 0.995 */
    assert_true((uint64_t)hi.nprobe * hi.refine > (uint64_t)lo.nprobe * lo.refine);
    assert_true(hi.recall >= lo.recall);
    assert_int_equal(hi.sample, lo.sample);

    /* the same target again: nothing measured, nothing committed */
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    TT_OK(ae_tables_set_target_recall(vs, 0.995, &err));
    TT_OK(ae_vs_rebuild_index(vs, &err));
    /* searches without nprobe / refine use the new record */
    float q[DIM];
    tt_vec(9, 4711, q, DIM);
    tt_assert_default_is(vs, P, M, q, DIM, hi.nprobe, hi.refine);
    ae_vs_close(vs);
    uint64_t v_same = 0;
    ae_index_tuned same = recorded(vdir, &v_same, NULL);
    assert_true(v_same == v_hi);
    assert_true(same.recall == hi.recall && same.nprobe == hi.nprobe && same.refine == hi.refine);
    print_message("target 0.5: recall %.3f at %u/%u; target 0.995: %.3f at %u/%u (same file)\n",
                  lo.recall, lo.nprobe, lo.refine, hi.recall, hi.nprobe, hi.refine);
    ae_table_set_index_min_rows(0);
    free(f_lo);
    free(f_hi);
    tt_rmrf(vdir);
    free(vdir);
}

static bool same_tuned(const ae_index_tuned *a, const ae_index_tuned *b)
{
    return a->set == b->set && a->target == b->target && a->recall == b->recall && a->k == b->k &&
           a->nprobe == b->nprobe && a->refine == b->refine && a->sample == b->sample;
}

/* table_tune.c note 4: the exact pass on 1, 2 or 3 threads measures the same figure, to the
 * last bit, at each of several settings (a high target walks the grid). */
static void test_threads_measure_the_same(void **state)
{
    (void)state;
    char *vdir = tt_tmpdir();
    ae_error err;
    ae_table_set_index_min_rows(256);
    ae_vector_store *vs = NULL;
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    tt_batch x = tt_make(P, M, DIM, 0, ROWS, 33);
    TT_OK(ae_vs_upsert(vs, x.recs, x.n, &err));
    tt_free(&x);
    TT_OK(ae_tables_build_indexes(vs, true, &err));
    ae_vs_close(vs);
    ae_table *t = NULL;
    TT_OK(ae_table_open(vdir, P, M, DIM, 0, NULL, &t, &err));
    char *path = ae_table_index_path(t, NULL, NULL);
    assert_non_null(path);
    ae_ivfpq *ix = NULL;
    TT_OK(ae_ivfpq_open(path, &ix, &err));
    const double targets[] = {0.5, 0.995};
    for (size_t g = 0; g < 2; g++) {
        ae_index_tuned one, more;
        TT_OK(ae_table_tune_index_mt(t, ix, targets[g], 1, &one, &err));
        assert_true(one.set);
        for (int th = 2; th <= 3; th++) {
            TT_OK(ae_table_tune_index_mt(t, ix, targets[g], th, &more, &err));
            if (!same_tuned(&one, &more))
                fail_msg("target %.3f: 1 thread %.17g at %u/%u, %d threads %.17g at %u/%u",
                         targets[g], one.recall, one.nprobe, one.refine, th, more.recall,
                         more.nprobe, more.refine);
        }
        TT_OK(ae_table_tune_index(t, ix, targets[g], &more, &err));
        assert_true(same_tuned(&one, &more));
    }
    ae_ivfpq_close(ix);
    ae_table_close(t);
    ae_table_set_index_min_rows(0);
    free(path);
    tt_rmrf(vdir);
    free(vdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_targets),
        cmocka_unit_test(test_store_target),
        cmocka_unit_test(test_threads_measure_the_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
