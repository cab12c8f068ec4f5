/* The index build's memory budget: the plan adds up every phase, a build
 * over budget is refused before it allocates or writes anything (at the
 * index and through the table), and the release hints of a build pass change
 * nothing in the file it writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "index/ivfpq.h"
#include "store/table_index_policy.h"
#include "test_table_util.h"
#include "util/fs.h"
#include "util/mem.h"

typedef struct mat {
    float *x;
    size_t n;
    uint32_t dim;
    size_t releases, released; /* release calls seen, and the rows they covered */
} mat;

static const float *mat_row(void *ctx, size_t i)
{
    mat *m = ctx;
    return m->x + i * m->dim;
}

static void mat_release(void *ctx, size_t lo, size_t hi)
{
    mat *m = ctx;
    assert_true(lo <= hi && hi <= m->n);
    m->releases++;
    m->released += hi - lo;
}

static mat make_mat(size_t n, uint32_t dim, uint64_t seed)
{
    mat m = {calloc(n * dim, sizeof(float)), n, dim, 0, 0};
    assert_non_null(m.x);
    uint64_t s = seed;
    for (size_t i = 0; i < n * dim; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        m.x[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5) + (float)(i / dim % 7);
    }
    return m;
}

static char *tmp_file(const char *name)
{
    return ae_asprintf("/tmp/ae-test-budget-%ld-%s", (long)getpid(), name);
}

/* The plan: phases add up, grow with the rows, and the default budget is
 * what a 10M x 768 build does not fit in (docs/BENCHMARKS.md). */
static void test_plan_figures(void **state)
{
    (void)state;
    ae_error err;
    ae_ivfpq_build_mem a, b, big;
    assert_int_equal(ae_ivfpq_build_memory(100000, 128, NULL, &a, &err), 0);
    assert_int_equal(ae_ivfpq_build_memory(1000000, 128, NULL, &b, &err), 0);
    assert_true(a.total > 0 && b.total > a.total);
    assert_true(a.total >= a.fixed + a.rows);
    assert_true(a.total >= a.fixed + a.rows - 100000 * 16 + a.image);
    /* per-row arrays: list (4) + ids (4) + codes twice (m = 32 at dim 128:
     * 4 dims a sub-quantiser, ae_ivfpq_dim_defaults) */
    assert_int_equal(b.rows, (size_t)1000000 * (4 + 4 + 2 * 32));
    assert_true(b.image >= (size_t)1000000 * (32 + 4));
    assert_int_equal(ae_ivfpq_build_memory(10000000, 768, NULL, &big, &err), 0);
    assert_true(big.total > AE_IVFPQ_DEFAULT_BUILD_BUDGET);
    assert_int_equal(ae_ivfpq_build_memory(10, 128, NULL, &a, &err), AE_EINVAL);
    ae_ivfpq_params p = {.m = 7};
    assert_int_equal(ae_ivfpq_build_memory(100000, 128, &p, &a, &err), AE_EINVAL);
}

/* Over budget: AE_ENOMEM naming what is needed and the budget, no file.
 * Within it: the same build succeeds. */
static void test_refused_over_budget(void **state)
{
    (void)state;
    mat m = make_mat(6000, 384, 1);
    ae_vec_source src = {m.n, m.dim, mat_row, NULL, &m, NULL, NULL, NULL};
    ae_ivfpq_build_mem need;
    ae_error err;
    assert_int_equal(ae_ivfpq_build_memory(m.n, m.dim, NULL, &need, &err), 0);
    assert_true(need.total > AE_IVFPQ_MIN_BUILD_BUDGET); /* the sample alone is 9 MiB */
    char *path = tmp_file("over.ivfpq");
    unlink(path);
    ae_ivfpq_params p = {.mem_budget = AE_IVFPQ_MIN_BUILD_BUDGET};
    assert_int_equal(ae_ivfpq_build(&src, &p, path, &err), AE_ENOMEM);
    char want[96];
    snprintf(want, sizeof want, "needs %.0f MiB of memory", (double)need.total / (1 << 20));
    if (!strstr(err.message, want)) fail_msg("'%s' lacks '%s'", err.message, want);
    assert_non_null(strstr(err.message, "6000 rows x 384"));
    assert_non_null(strstr(err.message, "more than its budget of 16 MiB"));
    assert_false(ae_path_exists(path));
    assert_int_equal(m.releases, 0); /* refused before reading a row */
    p.mem_budget = need.total;
    if (ae_ivfpq_build(&src, &p, path, &err) < 0) fail_msg("%s", err.message);
    assert_true(ae_path_exists(path));
    unlink(path);
    free(path);
    free(m.x);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*len);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

/* The release hints cover the rows and change nothing: same file bytes. */
static void test_release_changes_nothing(void **state)
{
    (void)state;
    mat m = make_mat(30000, 64, 2);
    ae_vec_source plain = {m.n, m.dim, mat_row, NULL, &m, NULL, NULL, NULL};
    ae_vec_source hinted = plain;
    hinted.release = mat_release;
    char *a = tmp_file("plain.ivfpq"), *b = tmp_file("hinted.ivfpq");
    ae_error err;
    ae_ivfpq_params p = {.threads = 2};
    assert_int_equal(ae_ivfpq_build(&plain, &p, a, &err), 0);
    assert_int_equal(ae_ivfpq_build(&hinted, &p, b, &err), 0);
    assert_true(m.releases >= 3);   /* after sampling, and per worker at its end */
    assert_true(m.released >= m.n); /* every row is released at least once */
    size_t la, lb;
    uint8_t *da = slurp(a, &la), *db = slurp(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(da, db, la);
    free(da);
    free(db);
    unlink(a);
    unlink(b);
    free(a);
    free(b);
    free(m.x);
}

/* Through the table: the process's budget reaches the build; a refused
 * build leaves the table as it was (exact search answers), and a build
 * within the default budget then publishes. */
static void test_table_build_refused(void **state)
{
    (void)state;
    ae_error err;
    ae_table_set_index_min_rows(1000);
    char *dir = tt_tmpdir(), *vdir = ae_path_join(dir, "vectors");
    enum { N = 6000, DIM = 384 };
    mat m = make_mat(N, DIM, 3);
    ae_vs_record *r = calloc(N, sizeof *r);
    char(*ids)[16] = calloc(N, sizeof *ids);
    for (size_t i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "s%05zu", i);
        r[i] = (ae_vs_record){ids[i], "h", "p", "m", m.x + i * DIM, DIM, 1};
    }
    ae_vector_store *vs = NULL;
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    TT_OK(ae_vs_upsert(vs, r, N, &err));
    ae_table_set_index_build_budget(AE_IVFPQ_MIN_BUILD_BUDGET);
    assert_int_equal(ae_table_index_build_budget(), AE_IVFPQ_MIN_BUILD_BUDGET);
    assert_int_equal(ae_tables_build_indexes(vs, true, &err), AE_ENOMEM);
    assert_non_null(strstr(err.message, "more than its budget of 16 MiB"));
    char state_line[200];
    TT_OK(ae_table_index_state(vdir, "p", "m", state_line, sizeof state_line, &err));
    assert_non_null(strstr(state_line, "exact"));
    ae_vs_hit *hits = NULL;
    size_t nh = 0;
    ae_vs_search_opts o = {0};
    TT_OK(ae_vs_search(vs, m.x + 17 * DIM, DIM, "p", "m", 5, &o, &hits, &nh, &err));
    assert_true(nh == 5 && !strcmp(hits[0].symbol_id, "s00017"));
    free(hits);
    ae_table_set_index_build_budget(0);
    assert_int_equal(ae_table_index_build_budget(), AE_IVFPQ_DEFAULT_BUILD_BUDGET);
    TT_OK(ae_tables_build_indexes(vs, true, &err));
    TT_OK(ae_table_index_state(vdir, "p", "m", state_line, sizeof state_line, &err));
    assert_non_null(strstr(state_line, "ivfpq"));
    ae_vs_close(vs);
    ae_table_set_index_min_rows(0);
    tt_rmrf(dir);
    free(vdir);
    free(dir);
    free(r);
    free(ids);
    free(m.x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_figures),
        cmocka_unit_test(test_refused_over_budget),
        cmocka_unit_test(test_release_changes_nothing),
        cmocka_unit_test(test_table_build_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
