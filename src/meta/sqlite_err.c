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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    if (code == AE_ENOSPC) ae_err_prefix(err, "disk full: ");
    return code;
}

bool ae_sqlite_readonly_media(const char *db_path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", db_path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    return access(dir, W_OK) != 0 && (errno == EROFS || errno == EACCES || errno == EPERM);
}

int ae_sqlite_open_readonly(const char *db_path, sqlite3 **db)
{
    char wal[4096];
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    struct stat st;
    bool wal_left = stat(wal, &st) == 0 && st.st_size > 0;
    if (wal_left || !ae_sqlite_readonly_media(db_path))
        return sqlite3_open_v2(db_path, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    /* file:<path>?immutable=1, with the URI's special characters escaped */
    size_t n = strlen(db_path);
    char *uri = malloc(3 * n + 32);
    if (!uri) {
        *db = NULL;
        return SQLITE_NOMEM;
    }
    char *o = uri + sprintf(uri, "file:");
    for (const unsigned char *p = (const unsigned char *)db_path; *p; p++) {
        if (*p == '%' || *p == '?' || *p == '#' || *p < 0x21 || *p >= 0x7f)
            o += sprintf(o, "%%%02X", *p);
        else
            *o++ = (char)*p;
    }
    strcpy(o, "?immutable=1");
    int rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                             NULL);
    free(uri);
    return rc;
}
