/* The store check and repair (src/admin/fsck.c, repair.c): a healthy index
 * run checks clean; crash-shaped lag is pending, not a problem; each
 * invariant X1..X3 (fsck.c) is caught when broken and named by symbol id;
 * repair fixes it and checks clean; repair refuses a read-only workspace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <aether/aether.h>
#include <aether/vector_store.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"
#include <aether/admin.h>
#include "workspace/workspace.h"

typedef struct fx {
    char dir[64];
    ae_workspace *ws;
} fx;

static void write_source(const char *dir, int files)
{
    for (int f = 0; f < files; f++) {
        char path[128];
        snprintf(path, sizeof path, "%s/mod_%d.py", dir, f);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        for (int i = 0; i < 4; i++)
            fprintf(fp, "def mod_%d_fn_%d(x):\n    \"\"\"Step %d.\"\"\"\n    return x + %d\n\n", f,
                    i, i, i);
        fclose(fp);
    }
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/ae-test-fsck-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    char aether[96], cfg[128];
    snprintf(aether, sizeof aether, "%s/.aether", f->dir);
    snprintf(cfg, sizeof cfg, "%s/config.toml", aether);
    if (ae_mkdirs(aether, NULL) < 0) return -1;
    FILE *fp = fopen(cfg, "w");
    if (!fp) return -1;
    fputs("[embeddings]\nprovider = \"mock\"\n", fp);
    fclose(fp);
    write_source(f->dir, 3);
    ae_error err;
    ae_open_options oo = {.readonly = false};
    if (ae_workspace_open(f->dir, &oo, &f->ws, &err) < 0) return -1;
    if (ae_workspace_index(f->ws, NULL, NULL, &err) < 0) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    ae_workspace_close(f->ws);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void exec_sql(fx *f, const char *sql)
{
    ae_error err;
    assert_int_equal(ae_meta_exec(f->ws->meta, sql, &err), 0);
}

static char *first_id(fx *f, int offset)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(ae_meta_db(f->ws->meta),
                                        "SELECT id FROM sir ORDER BY id LIMIT 1 OFFSET ?", -1, &st,
                                        NULL),
                     SQLITE_OK);
    sqlite3_bind_int(st, 1, offset);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *id = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return id;
}

static bool lists(const ae_strlist *l, const char *id)
{
    for (size_t i = 0; i < l->len; i++)
        if (!strcmp(l->items[i], id)) return true;
    return false;
}

static void test_healthy(void **state)
{
    fx *f = *state;
    ae_fsck_report rep;
    ae_error err;
    assert_int_equal(ae_workspace_fsck(f->ws, NULL, &rep, &err), 0);
    assert_int_equal(rep.n_problems, 0);
    assert_true(rep.sqlite_ok);
    assert_int_equal(rep.n_tables, 1);
    assert_true(rep.cross_checked);
    assert_int_equal(rep.sirs_current, 12);
    assert_int_equal(rep.sirs_embedded, 12);
    assert_int_equal(rep.sirs_pending, 0);
    assert_int_equal(rep.store_rows, 12);
    assert_int_equal(rep.state_rows, 12);
    assert_string_equal(rep.backend, "lancedb");
    ae_fsck_report_free(&rep);
}

/* The store committed, the state row was not written yet: pending (X1 holds). */
static void test_lag_is_pending(void **state)
{
    fx *f = *state;
    char *id = first_id(f, 0);
    char sql[256];
    snprintf(sql, sizeof sql, "DELETE FROM embedding_state WHERE symbol_id = '%s'", id);
    exec_sql(f, sql);
    /* and a state lagging a newer SIR */
    char *id2 = first_id(f, 1);
    snprintf(sql, sizeof sql, "UPDATE sir SET sir_hash = 'abcd' WHERE id = '%s'", id2);
    exec_sql(f, sql);
    ae_fsck_report rep;
    ae_error err;
    assert_int_equal(ae_workspace_fsck(f->ws, NULL, &rep, &err), 0);
    assert_int_equal(rep.n_problems, 0);
    assert_int_equal(rep.sirs_pending, 2);
    assert_int_equal(rep.sirs_embedded, 10);
    ae_fsck_report_free(&rep);
    free(id);
    free(id2);
}

/* X1 and X2 broken, each named, and an untracked vector (what a crash between
 * the two prune steps leaves) counted as pending; repair fixes all three. */
static void test_violations_and_repair(void **state)
{
    fx *f = *state;
    char *x1 = first_id(f, 2), *x2 = first_id(f, 3);
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE embedding_state SET provider = 'gone' WHERE symbol_id = '%s'",
             x1);
    exec_sql(f, sql);
    snprintf(sql, sizeof sql, "UPDATE sir SET sir_hash = 'ee' WHERE id = '%s'", x2);
    exec_sql(f, sql);
    snprintf(sql, sizeof sql, "UPDATE embedding_state SET sir_hash = 'ee' WHERE symbol_id = '%s'",
             x2);
    exec_sql(f, sql);
    /* X3: a vector for a symbol that does not exist, no state row. */
    ae_vector_store *vs;
    ae_error err;
    assert_int_equal(ae_ws_vector_store(f->ws, &vs, &err), 0);
    float v[64];
    for (int i = 0; i < 64; i++)
        v[i] = (float)(i + 1);
    const char *ghost = "00000000000000000000000000000000000000000000000000000000000000ff";
    ae_vs_record rec = {.symbol_id = ghost,
                        .sir_hash = "11",
                        .provider = "mock",
                        .model = "mock-64d",
                        .embedding = v,
                        .dim = 64};
    assert_int_equal(ae_vs_upsert(vs, &rec, 1, &err), 0);

    ae_fsck_report rep;
    assert_int_equal(ae_workspace_fsck(f->ws, NULL, &rep, &err), 0);
    assert_int_equal(rep.cross_problems, 2);
    assert_int_equal(rep.n_problems, 2);
    assert_true(lists(&rep.missing_ids, x1));
    assert_true(lists(&rep.missing_ids, x2));
    assert_true(lists(&rep.untracked_ids, ghost));
    assert_true(rep.prune_pending >= 1);
    assert_int_equal(rep.problems.len, 2);
    ae_fsck_report_free(&rep);

    ae_repair_report r;
    assert_int_equal(ae_workspace_repair(f->ws, NULL, &r, &err), 0);
    assert_int_equal(r.before.n_problems, 2);
    assert_int_equal(r.reembedded, 2);
    assert_true(r.pruned >= 1);
    assert_true(r.embeddings_written >= 2);
    assert_true(r.actions.len >= 2);
    assert_int_equal(r.after.n_problems, 0);
    assert_int_equal(r.after.sirs_pending, 0);
    assert_int_equal(r.after.prune_pending, 0);
    assert_int_equal(r.after.sirs_embedded, r.after.sirs_current);
    assert_int_equal(r.after.store_rows, r.after.sirs_current);
    ae_repair_report_free(&r);
    free(x1);
    free(x2);
}

static void test_repair_needs_read_write(void **state)
{
    fx *f = *state;
    ae_workspace *ro;
    ae_error err;
    ae_open_options oo = {.readonly = true};
    assert_int_equal(ae_workspace_open(f->dir, &oo, &ro, &err), 0);
    ae_repair_report r;
    assert_int_equal(ae_workspace_repair(ro, NULL, &r, &err), AE_EINVAL);
    assert_non_null(strstr(err.message, "read-write"));
    ae_repair_report_free(&r);
    /* fsck works read-only and sees the same healthy store */
    ae_fsck_report rep;
    assert_int_equal(ae_workspace_fsck(ro, NULL, &rep, &err), 0);
    assert_int_equal(rep.n_problems, 0);
    assert_int_equal(rep.sirs_embedded, 12);
    ae_fsck_report_free(&rep);
    ae_workspace_close(ro);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_healthy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lag_is_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_violations_and_repair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repair_needs_read_write, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
