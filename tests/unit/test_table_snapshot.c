/* Snapshot isolation: a reader keeps answering from the version it loaded
 * while a writer commits, compacts and removes the old files; refresh moves
 * it to the newest version.  Retention keeps recent versions openable. */
#include "test_table_util.h"

#include "util/fs.h"
#include "util/mem.h"
#include "vectors/manifest.h"

#include <dirent.h>

static const char *P = "hash", *M = "hash_v1";

static size_t count_dir(const char *dir, const char *sub)
{
    char *p = ae_path_join(dir, sub);
    DIR *d = opendir(p);
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.') n++;
    if (d) closedir(d);
    free(p);
    return n;
}

static void test_reader_survives_commit_and_compaction(void **state)
{
    ae_error err;
    char *dir = tt_tmpdir();
    ae_table *w = NULL, *r = NULL;
    ae_table_opts wo = {.retention_ms = -1, .keep_versions = 1};
    TT_OK(ae_table_open(dir, P, M, 8, 1, &wo, &w, &err));
    tt_batch a = tt_make(P, M, 8, 0, 40, 1);
    TT_OK(ae_table_upsert(w, a.recs, 20, &err));
    TT_OK(ae_table_upsert(w, a.recs + 20, 20, &err));

    TT_OK(ae_table_open(dir, P, M, 8, 0, NULL, &r, &err));
    assert_int_equal(ae_table_version(r), 2);
    ae_vs_hit *hits = NULL;
    size_t n = 0;

    /* the writer replaces sym-5, deletes sym-6, compacts, removes old files */
    tt_batch b = tt_make(P, M, 8, 5, 1, 2);
    TT_OK(ae_table_upsert(w, b.recs, 1, &err));
    const char *del[] = {"sym-000006"};
    TT_OK(ae_table_delete(w, del, 1, NULL, &err));
    TT_OK(ae_table_optimize(w, &err));
    assert_int_equal(ae_table_version(w), 5);
    assert_int_equal(count_dir(ae_table_dir(w), "versions"), 1);
    assert_int_equal(count_dir(ae_table_dir(w), "data"), 1);
    assert_int_equal(count_dir(ae_table_dir(w), "deletions"), 0);

    /* the reader still answers from version 2, files gone or not */
    TT_OK(ae_table_search(r, a.recs[6].embedding, 8, 1, &hits, &n, &err));
    assert_string_equal(hits[0].symbol_id, "sym-000006");
    assert_float_equal(hits[0].score, 1.0, 1e-5);
    free(hits);
    TT_OK(ae_table_search(r, a.recs[5].embedding, 8, 1, &hits, &n, &err));
    assert_string_equal(hits[0].symbol_id, "sym-000005");
    assert_float_equal(hits[0].score, 1.0, 1e-5);
    free(hits);
    assert_int_equal(ae_table_rows_live(r), 40);

    /* refresh: the newest version */
    TT_OK(ae_table_refresh(r, &err));
    assert_int_equal(ae_table_version(r), 5);
    assert_int_equal(ae_table_rows_live(r), 39);
    TT_OK(ae_table_search(r, a.recs[6].embedding, 8, 40, &hits, &n, &err));
    assert_int_equal(n, 39);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(hits[i].symbol_id, "sym-000006");
    free(hits);
    TT_OK(ae_table_search(r, b.recs[0].embedding, 8, 1, &hits, &n, &err));
    assert_string_equal(hits[0].symbol_id, "sym-000005");
    assert_float_equal(hits[0].score, 1.0, 1e-5);
    free(hits);

    /* writes after compaction still find the old ids (the idmap was rebuilt) */
    TT_OK(ae_table_upsert(w, a.recs, 3, &err));
    assert_int_equal(ae_table_rows_live(w), 39);
    ae_table_close(w);
    ae_table_close(r);
    tt_free(&a);
    tt_free(&b);
    tt_rmrf(dir);
    free(dir);
}

static void test_retention_window_and_keep_versions(void **state)
{
    ae_error err;
    char *dir = tt_tmpdir();
    ae_table *w = NULL;
    /* default retention (10 min): every version stays after cleanup */
    TT_OK(ae_table_open(dir, P, M, 8, 1, NULL, &w, &err));
    tt_batch a = tt_make(P, M, 8, 0, 10, 1);
    for (int i = 0; i < 5; i++)
        TT_OK(ae_table_upsert(w, a.recs + 2 * i, 2, &err));
    size_t removed = 99;
    TT_OK(ae_table_cleanup(w, &removed, &err));
    assert_int_equal(removed, 0);
    assert_int_equal(count_dir(ae_table_dir(w), "versions"), 5);
    ae_table_close(w);

    /* an old reader can open any retained version's files; after a cleanup
     * with no window, the newest 2 remain and orphans are gone */
    ae_table_opts o = {.retention_ms = -1};
    TT_OK(ae_table_open(dir, P, M, 8, 0, &o, &w, &err));
    char *orphan = ae_asprintf("%s/data/00000000000000000099-deadbeef.arrow", ae_table_dir(w));
    FILE *f = fopen(orphan, "w");
    fputs("torn", f);
    fclose(f);
    char *tmp = ae_asprintf("%s/versions/.tmp-00000000000000000009-0badf00d", ae_table_dir(w));
    f = fopen(tmp, "w");
    fclose(f);
    TT_OK(ae_table_cleanup(w, &removed, &err));
    assert_int_equal(count_dir(ae_table_dir(w), "versions"), 2);
    assert_false(ae_path_exists(orphan));
    assert_false(ae_path_exists(tmp));
    assert_int_equal(removed, 3 + 2); /* 3 manifests, the orphan, the temp file */
    assert_int_equal(count_dir(ae_table_dir(w), "data"), 5); /* both kept versions need all */
    ae_table_status st;
    TT_OK(ae_table_status_get(w, &st, &err));
    assert_int_equal(st.versions_retained, 2);
    assert_int_equal(st.rows_live, 10);
    assert_int_equal(st.fragments, 5);
    ae_table_close(w);
    free(orphan);
    free(tmp);
    tt_free(&a);
    tt_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_survives_commit_and_compaction),
        cmocka_unit_test(test_retention_window_and_keep_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
