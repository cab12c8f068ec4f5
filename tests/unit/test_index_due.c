/* ae_tables_index_due: the policy the watcher asks when its queue is empty (src/watch/watch.c
 * note 5; src/store/table_index_policy.h).  One store is taken through the policy's cases, a
 * row of the table below each: what is done to the store, then whether a build is due.  Every
 * row with `build` set then runs the build the policy asked for, as the watcher's child does. */
#include "test_table_util.h"

#include "store/table_index_policy.h"
#include "util/fs.h"

#include <aether/vector_store.h>

#define P   "hash"
#define M   "hash-v1"
#define DIM 8u
#define MIN 1000 /* ae_table_set_index_min_rows for this test */

typedef enum { ADD, DELETE, CORRUPT, OTHER_TABLE_ADD, NOTHING } action;

typedef struct row {
    const char *what;
    action act;
    size_t first, n; /* ids sym-<first> .. for ADD / DELETE */
    bool due;        /* what the policy must say after the action */
    bool build;      /* then build (only where due) */
} row;

static const row rows[] = {
    {"an empty store: nothing to build", NOTHING, 0, 0, false, false},
    {"900 rows, below the threshold of 1000", ADD, 0, 900, false, false},
    {"2000 rows and no index", ADD, 900, 1100, true, true},
    {"right after the build", NOTHING, 0, 0, false, false},
    {"300 appended: 300 of 2300 live = 13%", ADD, 2000, 300, false, false},
    {"200 deleted: (300 + 200) of 2100 live = 24%", DELETE, 0, 200, true, true},
    {"rebuilt over every row", NOTHING, 0, 0, false, false},
    {"4400 appended: 4400 of 6500 live", ADD, 10000, 4400, true, true},
    {"1100 appended: 1100 of 7600 live = 14%, but above the threshold's 1000", ADD, 20000, 1100,
     true, true},
    {"200 appended: under both", ADD, 30000, 200, false, false},
    {"the index file truncated: unusable", CORRUPT, 0, 0, true, true},
    {"a second table of another model, below the threshold", OTHER_TABLE_ADD, 0, 900, false, false},
    {"the second table past the threshold without an index", OTHER_TABLE_ADD, 900, 1100, true,
     true},
    {"both indexed", NOTHING, 0, 0, false, false},
};

static void add(ae_vector_store *vs, const char *model, size_t first, size_t n)
{
    ae_error err;
    tt_batch b = tt_make(P, model, DIM, first, n, 7);
    TT_OK(ae_vs_upsert(vs, b.recs, b.n, &err));
    tt_free(&b);
}

static void del(ae_vector_store *vs, size_t first, size_t n)
{
    ae_error err;
    char(*ids)[32] = calloc(n, sizeof *ids);
    const char **p = calloc(n, sizeof *p);
    assert_non_null(ids);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "sym-%06zu", first + i);
        p[i] = ids[i];
    }
    TT_OK(ae_vs_delete(vs, p, n, &err));
    free(p);
    free(ids);
}

static void corrupt(const char *vdir)
{
    ae_error err;
    ae_table *t = NULL;
    TT_OK(ae_table_open(vdir, P, M, DIM, 0, NULL, &t, &err));
    char *ix = ae_table_index_path(t, NULL, NULL);
    assert_non_null(ix);
    assert_int_equal(truncate(ix, 64), 0);
    free(ix);
    ae_table_close(t);
}

static void test_policy_rows(void **state)
{
    (void)state;
    ae_error err;
    ae_table_set_index_min_rows(MIN);
    char *dir = tt_tmpdir(), *vdir = ae_path_join(dir, "vectors");
    ae_vector_store *vs = NULL;
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        const row *r = &rows[i];
        switch (r->act) {
        case ADD:
            add(vs, M, r->first, r->n);
            break;
        case DELETE:
            del(vs, r->first, r->n);
            break;
        case CORRUPT:
            /* another handle, as the watcher's: it maps the file afresh */
            ae_vs_close(vs);
            corrupt(vdir);
            TT_OK(ae_vs_open_table(vdir, &vs, &err));
            break;
        case OTHER_TABLE_ADD:
            add(vs, "hash-v2", 100000 + r->first, r->n);
            break;
        case NOTHING:
            break;
        }
        bool due = !r->due;
        TT_OK(ae_tables_index_due(vs, &due, &err));
        if (due != r->due) fail_msg("row %zu (%s): due %d, want %d", i, r->what, due, r->due);
        if (r->build) {
            TT_OK(ae_vs_rebuild_index(vs, &err));
            TT_OK(ae_tables_index_due(vs, &due, &err));
            if (due) fail_msg("row %zu (%s): still due after the build", i, r->what);
        }
    }
    ae_vs_close(vs);
    tt_rmrf(dir);
    free(dir);
    free(vdir);
    ae_table_set_index_min_rows(0);
}

/* The policy is the native backend's: another backend is refused, naming it. */
static void test_other_backend(void **state)
{
    (void)state;
    ae_error err;
    static const ae_vector_store_ops other = {.name = "sqlite"};
    ae_vector_store fake = {&other, NULL};
    bool due = true;
    assert_int_equal(ae_tables_index_due(&fake, &due, &err), AE_EINVAL);
    assert_false(due);
    assert_non_null(strstr(err.message, "lancedb"));
    assert_int_equal(ae_tables_index_due(NULL, &due, &err), AE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_rows),
        cmocka_unit_test(test_other_backend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
