/* Small commits: the size-tiered tail merge keeps fragments few without
 * losing or duplicating ids; the index slot: published by a commit, kept by
 * appends and tail merges, cleared by optimize; global row access. */
#include "test_table_util.h"

#include "index/ivfpq.h"
#include "util/fs.h"
#include "util/mem.h"

#include <dirent.h>

static const char *P = "hash", *M = "hash_v1";

static void test_many_small_commits_are_merged(void **state)
{
    ae_error err;
    char *dir = tt_tmpdir();
    ae_table *t = NULL;
    TT_OK(ae_table_open(dir, P, M, 8, 1, NULL, &t, &err));
    tt_batch a = tt_make(P, M, 8, 0, 300, 1);
    for (size_t i = 0; i < 300; i++)
        TT_OK(ae_table_upsert(t, a.recs + i, 1, &err));
    ae_table_status st;
    TT_OK(ae_table_status_get(t, &st, &err));
    assert_int_equal(st.rows_live, 300);
    assert_true(st.fragments < 2 * AE_TABLE_MERGE_FANIN);
    /* auto cleanup ran: not every version is kept (default window, but the
     * files of superseded versions stay until they age out) */
    assert_true(st.versions_retained >= 2);
    /* every id is still there exactly once, and replaceable */
    tt_batch b = tt_make(P, M, 8, 0, 300, 2);
    TT_OK(ae_table_upsert(t, b.recs, 150, &err));
    for (size_t i = 150; i < 300; i += 10)
        TT_OK(ae_table_upsert(t, b.recs + i, 10, &err));
    assert_int_equal(ae_table_rows_live(t), 300);
    for (size_t i = 0; i < 300; i += 37) {
        ae_vs_hit *hits = NULL;
        size_t n = 0;
        TT_OK(ae_table_search(t, b.recs[i].embedding, 8, 1, &hits, &n, &err));
        assert_string_equal(hits[0].symbol_id, b.ids[i]);
        assert_float_equal(hits[0].score, 1.0, 1e-5);
        free(hits);
    }
    char *tdir = ae_strdup(ae_table_dir(t));
    ae_table_close(t);
    ae_table_fsck_report rep;
    TT_OK(ae_table_fsck(tdir, &rep, &err));
    assert_int_equal(rep.n_problems, 0);
    assert_int_equal(rep.rows_live, 300);
    ae_table_fsck_report_free(&rep);
    TT_OK(ae_table_open(dir, P, M, 8, 0, NULL, &t, &err));
    assert_int_equal(ae_table_rows_live(t), 300);
    ae_table_close(t);
    free(tdir);
    tt_free(&a);
    tt_free(&b);
    tt_rmrf(dir);
    free(dir);
}

static void test_periodic_cleanup_keeps_versions_bounded(void **state)
{
    ae_error err;
    char *dir = tt_tmpdir();
    ae_table *t = NULL;
    ae_table_opts o = {.retention_ms = -1, .keep_versions = 2};
    TT_OK(ae_table_open(dir, P, M, 8, 1, &o, &t, &err));
    tt_batch a = tt_make(P, M, 8, 0, 200, 1);
    for (size_t i = 0; i < 200; i++) {
        TT_OK(ae_table_upsert(t, a.recs + i, 1, &err));
        if (i % 3 == 0) TT_OK(ae_table_upsert(t, a.recs + i / 2, 1, &err)); /* replace */
    }
    ae_table_status st;
    TT_OK(ae_table_status_get(t, &st, &err));
    assert_true(st.version > 2 * AE_TABLE_CLEANUP_EVERY);
    assert_true(st.versions_retained <= AE_TABLE_CLEANUP_EVERY + 2);
    char *tdir = ae_strdup(ae_table_dir(t));
    ae_table_fsck_report rep;
    TT_OK(ae_table_fsck(tdir, &rep, &err));
    for (size_t i = 0; i < rep.n_problems; i++)
        print_error("%s\n", rep.problems[i].message);
    assert_int_equal(rep.n_problems, 0);
    assert_int_equal(rep.rows_live, 200);
    ae_table_fsck_report_free(&rep);
    /* the incremental cleanups removed the files of the removed versions:
     * one fragment per commit (~270) would remain otherwise */
    char *data = ae_path_join(tdir, "data");
    DIR *d = opendir(data);
    size_t files = 0;
    while (d && readdir(d))
        files++;
    closedir(d);
    free(data);
    print_message("data files after %llu versions: %zu\n", (unsigned long long)st.version, files);
    assert_true(files < 120);
    size_t removed = 0;
    TT_OK(ae_table_cleanup(t, &removed, &err));
    TT_OK(ae_table_status_get(t, &st, &err));
    assert_int_equal(st.versions_retained, 2);
    ae_table_close(t);
    TT_OK(ae_table_fsck(tdir, &rep, &err));
    assert_int_equal(rep.n_problems, 0);
    ae_table_fsck_report_free(&rep);
    free(tdir);
    tt_free(&a);
    tt_rmrf(dir);
    free(dir);
}

static void test_index_slot_and_rows(void **state)
{
    ae_error err;
    char *dir = tt_tmpdir();
    ae_table *t = NULL;
    TT_OK(ae_table_open(dir, P, M, 8, 1, NULL, &t, &err));
    tt_batch a = tt_make(P, M, 8, 0, 100, 1);
    TT_OK(ae_table_upsert(t, a.recs, 60, &err));
    const char *del[] = {"sym-000010"};
    TT_OK(ae_table_delete(t, del, 1, NULL, &err));

    ae_vec_source src;
    ae_table_vec_source(t, &src);
    assert_int_equal(src.n, 60);
    assert_int_equal(src.dim, 8);
    assert_memory_equal(src.row(src.ctx, 42), a.recs[42].embedding, 8 * sizeof(float));
    double nn = 0;
    for (int d = 0; d < 8; d++)
        nn += (double)a.recs[42].embedding[d] * a.recs[42].embedding[d];
    assert_float_equal(src.inv_norm(src.ctx, 42), 1 / sqrt(nn), 1e-5);
    assert_false(ae_table_row_live(t, 10));
    assert_true(ae_table_row_live(t, 11));
    assert_false(ae_table_row_live(t, 60));
    char id[AE_SYMBOL_ID_MAX + 1];
    TT_OK(ae_table_row_symbol_id(t, 42, id, &err));
    assert_string_equal(id, "sym-000042");
    assert_int_equal(ae_table_row_symbol_id(t, 60, id, &err), AE_EINVAL);

    char *path = NULL;
    TT_OK(ae_table_index_new_path(t, "ivfpq", &path, &err));
    FILE *f = fopen(path, "w");
    fputs("pretend index", f);
    fclose(f);
    assert_int_equal(ae_table_publish_index(t, "/etc/passwd", 60, &err), AE_EINVAL);
    assert_int_equal(ae_table_publish_index(t, path, 61, &err), AE_EINVAL);
    TT_OK(ae_table_publish_index(t, path, 60, &err));
    uint64_t covers = 0, rows = 0;
    char *got = ae_table_index_path(t, &covers, &rows);
    assert_string_equal(got, path);
    assert_int_equal(covers, 2);
    assert_int_equal(rows, 60);
    free(got);
    ae_table_status st;
    TT_OK(ae_table_status_get(t, &st, &err));
    assert_int_equal(st.has_index, 1);
    assert_int_equal(st.index_covers_version, 2);

    /* appends and tail merges keep it; a reopen sees it; verify checks it */
    for (size_t i = 60; i < 100; i++)
        TT_OK(ae_table_upsert(t, a.recs + i, 1, &err));
    TT_OK(ae_table_status_get(t, &st, &err));
    assert_int_equal(st.has_index, 1);
    assert_true(st.fragments < 1 + AE_TABLE_MERGE_FANIN);
    TT_OK(ae_table_cleanup(t, NULL, &err));
    assert_true(ae_path_exists(path));
    char *tdir = ae_strdup(ae_table_dir(t));
    ae_table_close(t);
    ae_table_fsck_report rep;
    TT_OK(ae_table_fsck(tdir, &rep, &err));
    assert_int_equal(rep.n_problems, 0);
    ae_table_fsck_report_free(&rep);
    f = fopen(path, "a");
    fputs("!", f);
    fclose(f);
    TT_OK(ae_table_fsck(tdir, &rep, &err));
    assert_int_equal(rep.n_problems, 1);
    assert_non_null(strstr(rep.problems[0].message, ".ivfpq"));
    ae_table_fsck_report_free(&rep);

    /* optimize moves rows: the slot is cleared */
    ae_table_opts o = {.retention_ms = -1, .keep_versions = 1};
    TT_OK(ae_table_open(dir, P, M, 8, 0, &o, &t, &err));
    TT_OK(ae_table_status_get(t, &st, &err));
    assert_int_equal(st.has_index, 1);
    TT_OK(ae_table_optimize(t, &err));
    TT_OK(ae_table_status_get(t, &st, &err));
    assert_int_equal(st.has_index, 0);
    assert_null(ae_table_index_path(t, NULL, NULL));
    assert_int_equal(st.rows_live, 99);
    ae_table_close(t);
    free(path);
    free(tdir);
    tt_free(&a);
    tt_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_small_commits_are_merged),
        cmocka_unit_test(test_periodic_cleanup_keeps_versions_bounded),
        cmocka_unit_test(test_index_slot_and_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
