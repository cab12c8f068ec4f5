/* SQLite result codes -> AE_E* (see sqlite_err.h).
 *
 * 1. One table, matched on the primary code (the low byte of an extended
 *    code), tested row by row in test_sqlite_err.c.
 * 2. SQLite's unix VFS reports a write that ran out of space as SQLITE_FULL,
 *    but an fsync or a truncate that did as SQLITE_IOERR_*; the errno SQLite
 *    saw (sqlite3_system_errno) tells those apart from other I/O errors. */
#include "meta/sqlite_err.h"

#include <errno.h>
#include <stddef.h>

static const struct {
    int sqlite;
    int code;
} sqlite_codes[] = {
    {SQLITE_FULL, AE_ENOSPC},      /* database or disk is full */
    {SQLITE_BUSY, AE_EBUSY},       /* another connection holds the lock */
    {SQLITE_LOCKED, AE_EBUSY},     /* a conflict inside this connection's cache */
    {SQLITE_NOMEM, AE_ENOMEM},     /* malloc failed */
    {SQLITE_TOOBIG, AE_ENOMEM},    /* a string or blob over SQLite's size limit */
    {SQLITE_CORRUPT, AE_ECORRUPT}, /* the file is malformed */
    {SQLITE_NOTADB, AE_ECORRUPT},  /* not a database file */
    {SQLITE_FORMAT, AE_EVERSION},  /* not used by SQLite 3, kept for completeness */
    {SQLITE_RANGE, AE_EINVAL},     /* bind index out of range: a bug here */
    {SQLITE_MISUSE, AE_EINVAL},    /* API misuse: a bug here */
};

int ae_sqlite_code(int sqlite_rc, int sys_errno)
{
    int primary = sqlite_rc & 0xff;
    for (size_t i = 0; i < sizeof sqlite_codes / sizeof *sqlite_codes; i++)
        if (sqlite_codes[i].sqlite == primary) return sqlite_codes[i].code;
    if (primary == SQLITE_IOERR && (sys_errno == ENOSPC || sys_errno == EDQUOT)) return AE_ENOSPC;
    return AE_EIO; /* IOERR, CANTOPEN, READONLY, PERM, ERROR, CONSTRAINT, ... */
}

int ae_sqlite_fail(sqlite3 *db, ae_error *err, const char *fmt, ...)
{
    int code =
        db ? ae_sqlite_code(sqlite3_extended_errcode(db), sqlite3_system_errno(db)) : AE_ENOMEM;
    va_list ap;
    va_start(ap, fmt);
    code = ae_vfail_detail(err, code, db ? sqlite3_errmsg(db) : "out of memory", fmt, ap);
    va_end(ap);
    return code;
}
