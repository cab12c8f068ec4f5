/* The one SQLite -> AE_E* mapping: every row of the table, and a full disk
 * under meta.sqlite and under the legacy sqlite backend surfacing as
 * AE_ENOSPC (docs/ERRORS.md), with the old data intact afterwards.
 *
 * The full disk is a VFS wrapper registered as SQLite's default: it forwards
 * to the real (unix) VFS until told the disk is full, then fails every write
 * with SQLITE_FULL, which is what the unix VFS returns when write() gets
 * ENOSPC.  (An fsync that fails with ENOSPC comes back as SQLITE_IOERR_FSYNC;
 * SQLite does not record that errno for a failed COMMIT, so only the
 * mapping's row covers it.) */
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

/* --- a VFS whose disk fills up on demand ------------------------------------ */

enum disk { DISK_OK, DISK_FULL_WRITE };
static enum disk disk = DISK_OK;
static unsigned refused; /* writes / fsyncs refused so far */
static sqlite3_vfs *real_vfs;

typedef struct full_file {
    sqlite3_file base;
    sqlite3_file *real; /* follows this struct in the same allocation */
} full_file;

#define REAL(f) (((full_file *)(f))->real)

static int f_close(sqlite3_file *f)
{
    return REAL(f)->pMethods->xClose(REAL(f));
}
static int f_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}
static int f_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    if (disk == DISK_FULL_WRITE) {
        refused++;
        return SQLITE_FULL;
    }
    return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int f_sync(sqlite3_file *f, int flags)
{
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int f_lock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int f_unlock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int f_check_lock(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int f_control(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int f_sector(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int f_caps(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int f_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **out)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, out);
}
static int f_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void f_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int f_shm_unmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

/* Version 2: no xFetch, so SQLite reads through xRead instead of mmap. */
static const sqlite3_io_methods full_io = {
    2,          f_close,       f_read,       f_write,   f_truncate, f_sync, f_size,
    f_lock,     f_unlock,      f_check_lock, f_control, f_sector,   f_caps, f_shm_map,
    f_shm_lock, f_shm_barrier, f_shm_unmap,  NULL,      NULL,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    (void)vfs;
    full_file *ff = (full_file *)f;
    ff->real = (sqlite3_file *)&ff[1];
    memset(ff->real, 0, (size_t)real_vfs->szOsFile);
    int rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out_flags);
    ff->base.pMethods = ff->real->pMethods ? &full_io : NULL;
    return rc;
}
static int v_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync);
}
static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}
static int v_full(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}
static int v_random(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, n, out);
}
static int v_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return real_vfs->xSleep(real_vfs, us);
}
static int v_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, out);
}
static int v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xGetLastError(real_vfs, n, out);
}
static int v_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static sqlite3_vfs full_vfs = {
    .iVersion = 2,
    .zName = "ae-full-disk",
    .xOpen = v_open,
    .xDelete = v_delete,
    .xAccess = v_access,
    .xFullPathname = v_full,
    .xRandomness = v_random,
    .xSleep = v_sleep,
    .xCurrentTime = v_time,
    .xGetLastError = v_last_error,
    .xCurrentTimeInt64 = v_time64,
};

static int setup_vfs(void **state)
{
    (void)state;
    real_vfs = sqlite3_vfs_find(NULL);
    if (!real_vfs) return -1;
    full_vfs.szOsFile = (int)sizeof(full_file) + real_vfs->szOsFile;
    full_vfs.mxPathname = real_vfs->mxPathname;
    return sqlite3_vfs_register(&full_vfs, 1) == SQLITE_OK ? 0 : -1;
}

static int teardown_vfs(void **state)
{
    (void)state;
    sqlite3_vfs_unregister(&full_vfs);
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

    disk = DISK_FULL_WRITE;
    refused = 0;
    /* enough rows to overflow SQLite's page cache, so pages are written
     * before the commit too */
    int rc = put_files(m, 10, 5000, &err);
    disk = DISK_OK;
    if (rc != AE_ENOSPC) fail_msg("write on a full disk: %d %s", rc, err.message);
    assert_true(refused > 0);
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
    disk = DISK_FULL_WRITE;
    rc = ae_meta_open(path2, false, &m, &err);
    disk = DISK_OK;
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
    disk = DISK_FULL_WRITE;
    r.symbol_id = "sym-2";
    int rc = ae_vs_upsert(vs, &r, 1, &err);
    disk = DISK_OK;
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
