/* Round trips through one table: upsert, search, delete, re-upsert, reopen,
 * batch rules, key checks, names, registry and foreign directories. */
#include "test_table_util.h"

#include "util/fs.h"
#include "util/mem.h"
#include "vectors/manifest.h"

#include <sys/stat.h>

static const char *P = "hash", *M = "hash_v1";

static void test_name_is_readable_and_distinct(void **state)
{
    char a[AE_TABLE_NAME_MAX], b[AE_TABLE_NAME_MAX], c[AE_TABLE_NAME_MAX];
    ae_table_name("hash", "hash_v1", 384, a);
    ae_table_name("hash", "hash_v1", 768, b);
    ae_table_name("ha/sh", "hash v1", 384, c);
    assert_int_equal(strncmp(a, "d384-hash-hash_v1-", 18), 0);
    assert_int_equal(strlen(a), 18 + 8);
    assert_string_not_equal(a, b);
    assert_int_equal(strncmp(c, "d384-ha_sh-hash_v1-", 19), 0);
    assert_string_not_equal(a + 18, c + 19); /* same readable part, different hash */
}

static void test_upsert_search_delete_round_trip(void **state)
{
    ae_error err;
    char *dir = tt_tmpdir();
    ae_table *t = NULL;
    TT_OK(ae_table_open(dir, P, M, 16, 1, NULL, &t, &err));
    assert_int_equal(ae_table_version(t), 0);
    uint64_t gen = ae_table_snapshot_gen(t);
    assert_true(gen != 0);
    tt_batch b = tt_make(P, M, 16, 0, 50, 1);
    TT_OK(ae_table_upsert(t, b.recs, b.n, &err));
    assert_int_equal(ae_table_version(t), 1);
    assert_true(ae_table_snapshot_gen(t) != gen); /* a commit replaces the snapshot */
    gen = ae_table_snapshot_gen(t);
    assert_int_equal(ae_table_rows_live(t), 50);

    ae_vs_hit *hits = NULL;
    size_t n = 0;
    TT_OK(ae_table_search(t, b.recs[7].embedding, 16, 5, &hits, &n, &err));
    assert_int_equal(n, 5);
    assert_string_equal(hits[0].symbol_id, "sym-000007");
    assert_float_equal(hits[0].score, 1.0, 1e-5);
    for (size_t i = 1; i < n; i++)
        assert_true(hits[i - 1].score >= hits[i].score);
    free(hits);

    const char *del[] = {"sym-000007", "no-such-id"};
    size_t deleted = 99;
    TT_OK(ae_table_delete(t, del, 2, &deleted, &err));
    assert_int_equal(deleted, 1);
    assert_int_equal(ae_table_rows_live(t), 49);
    assert_int_equal(ae_table_version(t), 2);
    TT_OK(ae_table_search(t, b.recs[7].embedding, 16, 50, &hits, &n, &err));
    assert_int_equal(n, 49);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(hits[i].symbol_id, "sym-000007");
    free(hits);

    /* deleting only missing ids commits nothing */
    const char *missing[] = {"nope"};
    TT_OK(ae_table_delete(t, missing, 1, &deleted, &err));
    assert_int_equal(deleted, 0);
    assert_int_equal(ae_table_version(t), 2);
    assert_true(ae_table_snapshot_gen(t) != gen); /* the delete committed */
    gen = ae_table_snapshot_gen(t);
    TT_OK(ae_table_delete(t, missing, 1, &deleted, &err));
    assert_true(ae_table_snapshot_gen(t) == gen); /* nothing committed: same snapshot */

    /* a reader's snapshot changes with its refresh after the writer's commit */
    ae_table *r = NULL;
    TT_OK(ae_table_open(dir, P, M, 16, 0, NULL, &r, &err));
    uint64_t rgen = ae_table_snapshot_gen(r);
    assert_true(rgen != 0);
    TT_OK(ae_table_refresh(r, &err)); /* nothing new */
    assert_true(ae_table_snapshot_gen(r) == rgen);
    const char *del2[] = {"sym-000009"};
    TT_OK(ae_table_delete(t, del2, 1, &deleted, &err));
    assert_int_equal(deleted, 1);
    ae_table_close(t);
    TT_OK(ae_table_refresh(r, &err));
    assert_int_equal(ae_table_version(r), 3);
    assert_true(ae_table_snapshot_gen(r) != rgen);
    rgen = ae_table_snapshot_gen(r);
    TT_OK(ae_table_refresh(r, &err));
    assert_true(ae_table_snapshot_gen(r) == rgen);
    ae_table_close(r);

    /* reopen sees the committed data */
    TT_OK(ae_table_open(dir, P, M, 16, 0, NULL, &t, &err));
    assert_int_equal(ae_table_version(t), 3);
    assert_int_equal(ae_table_rows_live(t), 48);
    TT_OK(ae_table_search(t, b.recs[8].embedding, 16, 1, &hits, &n, &err));
    assert_int_equal(n, 1);
    assert_string_equal(hits[0].symbol_id, "sym-000008");
    free(hits);
    ae_table_close(t);
    tt_free(&b);
    tt_rmrf(dir);
    free(dir);
}

typedef struct seen {
    size_t n;
    char hash[65];
    float first;
} seen;

static int find_row(const ae_vs_record *rec, void *ctx)
{
    seen *s = ctx;
    s->n++;
    if (!strcmp(rec->symbol_id, "sym-000003")) {
        snprintf(s->hash, sizeof s->hash, "%s", rec->sir_hash);
        s->first = rec->embedding[0];
    }
    return 0;
}

static void test_reupsert_replaces_and_batch_keeps_last(void **state)
{
    ae_error err;
    char *dir = tt_tmpdir();
    ae_table *t = NULL;
    TT_OK(ae_table_open(dir, P, M, 8, 1, NULL, &t, &err));
    tt_batch a = tt_make(P, M, 8, 0, 10, 1);
    TT_OK(ae_table_upsert(t, a.recs, a.n, &err));
    /* a batch with sym-3 twice: the last one wins; sym-5 replaced too */
    tt_batch b = tt_make(P, M, 8, 3, 3, 2); /* sym-3, sym-4, sym-5 */
    b.recs[2] = b.recs[0];                  /* sym-3 (seed 2 vector) */
    b.recs[0].sir_hash = "first-copy";
    b.recs[2].sir_hash = "last-copy";
    TT_OK(ae_table_upsert(t, b.recs, 3, &err));
    assert_int_equal(ae_table_rows_live(t), 10);
    seen s = {0};
    TT_OK(ae_table_iterate(t, find_row, &s, &err));
    assert_int_equal(s.n, 10);
    assert_string_equal(s.hash, "last-copy");
    assert_float_equal(s.first, b.emb[0], 0);
    ae_vs_hit *hits = NULL;
    size_t n = 0;
    TT_OK(ae_table_search(t, b.emb, 8, 1, &hits, &n, &err));
    assert_string_equal(hits[0].symbol_id, "sym-000003");
    free(hits);
    ae_table_close(t);
    tt_free(&a);
    tt_free(&b);
    tt_rmrf(dir);
    free(dir);
}

static void test_bad_record_writes_nothing(void **state)
{
    ae_error err;
    char *dir = tt_tmpdir();
    ae_table *t = NULL;
    TT_OK(ae_table_open(dir, P, M, 8, 1, NULL, &t, &err));
    tt_batch a = tt_make(P, M, 8, 0, 20, 1);
    TT_OK(ae_table_upsert(t, a.recs, 10, &err));
    a.emb[15 * 8 + 3] = NAN;
    assert_int_equal(ae_table_upsert(t, a.recs, 20, &err), AE_EINVAL);
    assert_non_null(strstr(err.message, "dimension 3"));
    a.emb[15 * 8 + 3] = 0.5f;
    a.recs[12].dim = 4;
    assert_int_equal(ae_table_upsert(t, a.recs, 20, &err), AE_EINVAL);
    a.recs[12].dim = 8;
    a.recs[13].model = "other";
    assert_int_equal(ae_table_upsert(t, a.recs, 20, &err), AE_EINVAL);
    assert_int_equal(ae_table_version(t), 1);
    assert_int_equal(ae_table_rows_live(t), 10);
    ae_table_close(t);
    TT_OK(ae_table_open(dir, P, M, 8, 0, NULL, &t, &err));
    assert_int_equal(ae_table_version(t), 1);
    ae_table_close(t);
    tt_free(&a);
    tt_rmrf(dir);
    free(dir);
}

static void test_key_mismatch_and_foreign_dirs(void **state)
{
    ae_error err;
    char *dir = tt_tmpdir();
    ae_table *t = NULL;
    assert_int_equal(ae_table_open(dir, P, M, 8, 0, NULL, &t, &err), AE_ENOTFOUND);
    TT_OK(ae_table_open(dir, P, M, 8, 1, NULL, &t, &err));
    tt_batch a = tt_make(P, M, 8, 0, 3, 1);
    TT_OK(ae_table_upsert(t, a.recs, a.n, &err));
    ae_table_close(t);

    /* a foreign directory and a foreign file, named like our tables */
    char name[AE_TABLE_NAME_MAX], other[AE_TABLE_NAME_MAX];
    ae_table_name(P, M, 16, name);
    char *foreign = ae_path_join(dir, name);
    assert_int_equal(mkdir(foreign, 0755), 0);
    char *ffile = ae_path_join(foreign, "notes.txt");
    FILE *f = fopen(ffile, "w");
    fputs("keep me", f);
    fclose(f);
    char *lance = ae_path_join(dir, "my.lance");
    assert_int_equal(mkdir(lance, 0755), 0);
    assert_int_equal(ae_table_open(dir, P, M, 16, 1, NULL, &t, &err), AE_ENOTOURS);
    assert_true(ae_path_exists(ffile));

    /* a table moved under another key's name: dim/provider/model checked */
    ae_table_name(P, M, 8, name);
    ae_table_name("other", M, 8, other);
    char *from = ae_path_join(dir, name), *to = ae_path_join(dir, other);
    assert_int_equal(rename(from, to), 0);
    assert_int_equal(ae_table_open(dir, "other", M, 8, 1, NULL, &t, &err), AE_EINVAL);
    assert_non_null(strstr(err.message, "holds provider hash"));

    ae_strlist names = {0};
    TT_OK(ae_tables_list(dir, &names, &err));
    assert_int_equal(names.len, 1);
    assert_string_equal(names.items[0], other);
    ae_strlist_free(&names);
    /* opened by directory it reports its real key */
    TT_OK(ae_table_open_dir(to, NULL, &t, &err));
    assert_int_equal(ae_table_dim(t), 8);
    assert_int_equal(ae_table_rows_live(t), 3);
    ae_table_close(t);
    assert_true(ae_is_dir(lance));
    free(foreign);
    free(ffile);
    free(lance);
    free(from);
    free(to);
    tt_free(&a);
    tt_rmrf(dir);
    free(dir);
}

static void test_exact_search_matches_brute_force(void **state)
{
    ae_error err;
    char *dir = tt_tmpdir();
    ae_table *t = NULL;
    const uint32_t dim = 24;
    TT_OK(ae_table_open(dir, P, M, dim, 1, NULL, &t, &err));
    tt_batch a = tt_make(P, M, dim, 0, 700, 3);
    /* several fragments, some deletions, one duplicate vector for a tie */
    TT_OK(ae_table_upsert(t, a.recs, 300, &err));
    TT_OK(ae_table_upsert(t, a.recs + 300, 400, &err));
    memcpy(a.emb + 650 * dim, a.emb + 10 * dim, dim * sizeof(float));
    TT_OK(ae_table_upsert(t, a.recs + 650, 1, &err));
    const char *del[] = {"sym-000020", "sym-000420", "sym-000699"};
    TT_OK(ae_table_delete(t, del, 3, NULL, &err));
    bool live[700];
    for (int i = 0; i < 700; i++)
        live[i] = true;
    live[20] = live[420] = live[699] = false;
    for (int qi = 0; qi < 5; qi++) {
        float q[24];
        if (qi == 0)
            memcpy(q, a.emb + 10 * dim, sizeof q);
        else
            tt_vec(99, (size_t)qi, q, dim);
        /* reference: brute force in double, ties by id */
        double best[10];
        int ids[10];
        size_t nb = 0;
        for (int i = 0; i < 700; i++) {
            if (!live[i]) continue;
            double s = (float)tt_cos(q, a.emb + (size_t)i * dim, dim);
            size_t pos = nb;
            while (pos > 0 && (s > best[pos - 1] + 1e-6 ||
                               (fabs(s - best[pos - 1]) <= 1e-6 && i < ids[pos - 1])))
                pos--;
            if (pos >= 10) continue;
            if (nb < 10) nb++;
            memmove(best + pos + 1, best + pos, (nb - 1 - pos) * sizeof *best);
            memmove(ids + pos + 1, ids + pos, (nb - 1 - pos) * sizeof *ids);
            best[pos] = s;
            ids[pos] = i;
        }
        ae_vs_hit *hits = NULL;
        size_t n = 0;
        TT_OK(ae_table_search(t, q, dim, 10, &hits, &n, &err));
        assert_int_equal(n, 10);
        for (size_t i = 0; i < n; i++) {
            char want[16];
            snprintf(want, sizeof want, "sym-%06d", ids[i]);
            assert_string_equal(hits[i].symbol_id, want);
            assert_float_equal(hits[i].score, best[i], 1e-5);
        }
        if (qi == 0) {
            assert_string_equal(hits[0].symbol_id, "sym-000010"); /* tie: smaller id first */
            assert_string_equal(hits[1].symbol_id, "sym-000650");
        }
        free(hits);
    }
    float bad[3] = {1, 2, 3};
    ae_vs_hit *hits = NULL;
    size_t n = 0;
    assert_int_equal(ae_table_search(t, bad, 3, 5, &hits, &n, &err), AE_EINVAL);
    assert_non_null(strstr(err.message, "expected 24 dimensions, not 3"));
    ae_table_close(t);
    tt_free(&a);
    tt_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_is_readable_and_distinct),
        cmocka_unit_test(test_upsert_search_delete_round_trip),
        cmocka_unit_test(test_reupsert_replaces_and_batch_keeps_last),
        cmocka_unit_test(test_bad_record_writes_nothing),
        cmocka_unit_test(test_key_mismatch_and_foreign_dirs),
        cmocka_unit_test(test_exact_search_matches_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
