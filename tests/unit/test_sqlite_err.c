/* The one SQLite -> AE_E* mapping: every row of the table, and a full disk
 * under meta.sqlite and under the legacy sqlite backend surfacing as
 * AE_ENOSPC (docs/ERRORS.md), with the old data intact afterwards.
 *
 * The full disk is the library's test VFS (meta/sqlite_fault.c), registered
 * as SQLite's default: it forwards to the real (unix) VFS until told the disk
 * is full, then fails every write with SQLITE_FULL, which is what the unix
 * VFS returns when write() gets ENOSPC.  (An fsync that fails with ENOSPC comes back as
 * SQLITE_IOERR_FSYNC; SQLite does not record that errno for a failed COMMIT, so only the mapping's
 * row covers it.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta/meta.h"
#include "meta/sqlite_err.h"
#include "unit/test_table_util.h"
#include "util/fs.h"

#include <aether/vector_store.h>

/* --- the mapping, row by row ------------------------------------------------ */

static const struct {
    int sqlite, sys_errno, want;
    const char *why;
} rows[] = {
    {SQLITE_FULL, 0, AE_ENOSPC, "write ran out of space"},
    {SQLITE_IOERR_FSYNC, ENOSPC, AE_ENOSPC, "fsync of a full disk"},
    {SQLITE_IOERR_WRITE, EDQUOT, AE_ENOSPC, "quota exceeded"},
    {SQLITE_IOERR_WRITE, EIO, AE_EIO, "a real I/O error"},
    {SQLITE_IOERR, 0, AE_EIO, "I/O error, errno unknown"},
    {SQLITE_BUSY, 0, AE_EBUSY, "locked by another connection"},
    {SQLITE_BUSY_SNAPSHOT, 0, AE_EBUSY, "extended busy code"},
    {SQLITE_LOCKED, 0, AE_EBUSY, "locked inside this connection"},
    {SQLITE_NOMEM, 0, AE_ENOMEM, "out of memory"},
    {SQLITE_TOOBIG, 0, AE_ENOMEM, "value over SQLite's limit"},
    {SQLITE_CORRUPT, 0, AE_ECORRUPT, "malformed database"},
    {SQLITE_CORRUPT_INDEX, 0, AE_ECORRUPT, "extended corrupt code"},
    {SQLITE_NOTADB, 0, AE_ECORRUPT, "not a database"},
    {SQLITE_FORMAT, 0, AE_EVERSION, "format"},
    {SQLITE_RANGE, 0, AE_EINVAL, "bind index"},
    {SQLITE_MISUSE, 0, AE_EINVAL, "API misuse"},
    {SQLITE_CANTOPEN, ENOENT, AE_EIO, "cannot open"},
    {SQLITE_READONLY, 0, AE_EIO, "read-only database"},
    {SQLITE_ERROR, 0, AE_EIO, "SQL error"},
    {SQLITE_CONSTRAINT, 0, AE_EIO, "constraint"},
};

static void test_mapping_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        int got = ae_sqlite_code(rows[i].sqlite, rows[i].sys_errno);
        if (got != rows[i].want)
            fail_msg("row %zu (%s): sqlite %d errno %d -> %d, want %d", i, rows[i].why,
                     rows[i].sqlite, rows[i].sys_errno, got, rows[i].want);
    }
}

static void test_fail_message(void **state)
{
    (void)state;
    ae_error err;
    assert_int_equal(ae_sqlite_fail(NULL, &err, "open %s", "x.sqlite"), AE_ENOMEM);
    assert_string_equal(err.message, "open x.sqlite: out of memory");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "SELECT * FROM nope", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(ae_sqlite_fail(db, &err, "query %d", 1), AE_EIO);
    assert_string_equal(err.message, "query 1: no such table: nope");
    assert_int_equal(ae_sqlite_fail(db, NULL, "query"), AE_EIO);
    sqlite3_close(db);
}

/* --- the test VFS (meta/sqlite_fault.c) fills the disk on demand ----------- */

static int setup_vfs(void **state)
{
    (void)state;
    return ae_sqlite_fault_register();
}

static int teardown_vfs(void **state)
{
    (void)state;
    ae_sqlite_fault_unregister();
    return 0;
}

/* --- meta.sqlite on a full disk ---------------------------------------------- */

static int64_t files_rows(ae_meta *m)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(ae_meta_db(m), "SELECT COUNT(*) FROM files", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* One transaction of `n` file rows; the first failing call's code. */
static int put_files(ae_meta *m, int from, int n, ae_error *err)
{
    int rc = ae_meta_begin(m, err);
    for (int i = 0; rc == 0 && i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "src/file_%06d.c", from + i);
        ae_file_state fs = {.mtime_ns = i, .size = 100 + i};
        rc = ae_meta_file_put(m, path, &fs, err);
    }
    if (rc == 0) rc = ae_meta_commit(m, err);
    if (rc < 0) ae_meta_rollback(m);
    return rc;
}

static void test_meta_full_disk(void **state)
{
    (void)state;
    char *dir = tt_tmpdir(), *path = ae_path_join(dir, "meta.sqlite");
    ae_meta *m;
    ae_error err;
    TT_OK(ae_meta_open(path, false, &m, &err));
    TT_OK(put_files(m, 0, 10, &err));

    ae_sqlite_fault_full_at(1);
    /* enough rows to overflow SQLite's page cache, so pages are written
     * before the commit too */
    int rc = put_files(m, 10, 5000, &err);
    ae_sqlite_fault_full_at(0);
    if (rc != AE_ENOSPC) fail_msg("write on a full disk: %d %s", rc, err.message);
    assert_true(ae_sqlite_fault_refused() > 0);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "full"));
    assert_int_equal(files_rows(m), 10); /* the failed transaction left nothing */

    /* space is back: the same handle writes again */
    TT_OK(put_files(m, 10, 5, &err));
    assert_int_equal(files_rows(m), 15);
    ae_meta_close(m);
    /* and the file reopens with everything committed */
    TT_OK(ae_meta_open(path, false, &m, &err));
    assert_int_equal(files_rows(m), 15);
    ae_meta_close(m);

    /* creating a database on a full disk */
    char *path2 = ae_path_join(dir, "new.sqlite");
    ae_sqlite_fault_full_at(1);
    rc = ae_meta_open(path2, false, &m, &err);
    ae_sqlite_fault_full_at(0);
    if (rc != AE_ENOSPC) fail_msg("open on a full disk: %d %s", rc, err.message);
    assert_null(m);
    free(path2);
    tt_rmrf(dir);
    free(dir);
    free(path);
}

/* --- the legacy sqlite backend on a full disk -------------------------------- */

static void test_sqlite_backend_full_disk(void **state)
{
    (void)state;
    char *dir = tt_tmpdir(), *path = ae_path_join(dir, "meta.sqlite");
    ae_vector_store *vs;
    ae_error err;
    TT_OK(ae_vs_open_sqlite(path, &vs, &err));
    float v[4] = {1, 0, 0, 0};
    ae_vs_record r = {.symbol_id = "sym-1",
                      .sir_hash = "h",
                      .provider = "mock",
                      .model = "m",
                      .dim = 4,
                      .embedding = v};
    TT_OK(ae_vs_upsert(vs, &r, 1, &err));
    ae_sqlite_fault_full_at(1);
    r.symbol_id = "sym-2";
    int rc = ae_vs_upsert(vs, &r, 1, &err);
    ae_sqlite_fault_full_at(0);
    assert_int_equal(rc, AE_ENOSPC);
    assert_non_null(strstr(err.message, "full"));
    TT_OK(ae_vs_upsert(vs, &r, 1, &err));
    ae_vs_close(vs);
    tt_rmrf(dir);
    free(dir);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapping_rows),
        cmocka_unit_test(test_fail_message),
        cmocka_unit_test(test_meta_full_disk),
        cmocka_unit_test(test_sqlite_backend_full_disk),
    };
    return cmocka_run_group_tests(tests, setup_vfs, teardown_vfs);
}
