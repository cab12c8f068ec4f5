/* The one mapping from SQLite result codes to the AE_E* space, used by every
 * module that talks to SQLite (meta.sqlite, the legacy sqlite backend,
 * migration).  docs/ERRORS.md promises AE_ENOSPC for a full disk and AE_EBUSY
 * for a lock held by another connection, whichever file SQLite was writing. */
#ifndef AE_META_SQLITE_ERR_H
#define AE_META_SQLITE_ERR_H

#include "util/err.h"

#include <sqlite3.h>
#include <stdbool.h>

/* The AE_E* code for a SQLite result code (primary or extended).  sys_errno
 * is sqlite3_system_errno() (0 if unknown): an I/O error caused by ENOSPC or
 * EDQUOT (an fsync of a full disk) is a full disk too.  SQLITE_OK and
 * SQLITE_ROW / SQLITE_DONE map to AE_EIO: a caller only asks after a failure. */
int ae_sqlite_code(int sqlite_rc, int sys_errno);

/* ae_fail with the mapped code of db's last error and "<context>: <sqlite's
 * message>"; db may be NULL (sqlite3_open could not allocate one). */
int ae_sqlite_fail(sqlite3 *db, ae_error *err, const char *fmt, ...) AE_PRINTF(3, 4);

/* Test builds: registers the full-disk VFS when AE_SQLITE_FULL_AT=N is set
 * (sqlite_fault.c); a no-op otherwise and in release builds. */
void ae_sqlite_fault_install(void);
#ifdef AE_TESTING
/* For unit tests: register the full-disk VFS as SQLite's default (0, or -1
 * when SQLite has no default VFS); remove it again. */
int ae_sqlite_fault_register(void);
void ae_sqlite_fault_unregister(void);
/* The disk fills at the n-th write from now (1: the next one) and stays
 * full, and the refused-write count starts again; 0 empties it (the count
 * stays readable). */
void ae_sqlite_fault_full_at(unsigned long n);
/* Writes refused since the disk last began to fill. */
unsigned long ae_sqlite_fault_refused(void);
#endif

/* True when the directory holding `db_path` cannot be written (a read-only
 * mount, or no write permission): SQLite cannot create the -shm file a WAL
 * database needs even to read. */
bool ae_sqlite_readonly_media(const char *db_path);
/* Opens db_path read-only for read-only media: with no -wal file left (a
 * clean close checkpoints it), as `immutable` (nothing can change the file,
 * so no locks and no -shm are needed); otherwise read-only as usual.  *db is
 * set even on failure (close it), like sqlite3_open_v2. */
int ae_sqlite_open_readonly(const char *db_path, sqlite3 **db);

#endif
