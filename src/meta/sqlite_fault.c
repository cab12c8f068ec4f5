/* Test builds only (AE_TESTING): a full disk under SQLite, for the fault
 * tests.  A VFS wrapping the default one, registered as the default, makes
 * the N-th write SQLite issues in this process (to meta.sqlite, its WAL or
 * journal, or the legacy sqlite store), and every later one, fail with
 * SQLITE_FULL -- what the unix VFS returns when write() gets ENOSPC.  The
 * shell tests set N with AE_SQLITE_FULL_AT (read at the first open,
 * ae_sqlite_fault_install); unit tests fill and empty the disk with
 * ae_sqlite_fault_full_at.  Release builds compile this to an empty function
 * and read no environment. */
#include "meta/sqlite_err.h"

#ifdef AE_TESTING
#include <stdlib.h>
#include <string.h>

static sqlite3_vfs *real_vfs;
static unsigned long full_at, writes, refused; /* full_at 0: never full */

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
    if (full_at && ++writes >= full_at) { /* the disk stays full */
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

/* Version 2: no xFetch, so every write goes through xWrite. */
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
    .zName = "ae-full-at",
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

int ae_sqlite_fault_register(void)
{
    if (real_vfs) return 0;
    real_vfs = sqlite3_vfs_find(NULL);
    if (!real_vfs) return -1;
    full_vfs.szOsFile = (int)sizeof(full_file) + real_vfs->szOsFile;
    full_vfs.mxPathname = real_vfs->mxPathname;
    if (sqlite3_vfs_register(&full_vfs, 1) == SQLITE_OK) return 0;
    real_vfs = NULL;
    return -1;
}

void ae_sqlite_fault_unregister(void)
{
    if (!real_vfs) return;
    sqlite3_vfs_unregister(&full_vfs);
    real_vfs = NULL;
}

void ae_sqlite_fault_full_at(unsigned long n)
{
    full_at = n;
    writes = 0;
    if (n) refused = 0;
}

unsigned long ae_sqlite_fault_refused(void)
{
    return refused;
}
#endif

void ae_sqlite_fault_install(void)
{
#ifdef AE_TESTING
    static int done;
    if (done) return;
    done = 1;
    const char *e = getenv("AE_SQLITE_FULL_AT");
    unsigned long n = e && *e ? strtoul(e, NULL, 10) : 0;
    if (!n || ae_sqlite_fault_register() < 0) return;
    ae_sqlite_fault_full_at(n);
#endif
}
