/* Shared helpers of the meta.sqlite unit tests (header-only): one temp dir
 * per program, paths in it, a COUNT(*), and a main that cleans up. */
#ifndef AE_TEST_META_UTIL_H
#define AE_TEST_META_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "meta/meta.h"

static char tm_dir[] = "/tmp/ae-test-meta-XXXXXX";

/* `name` inside the program's temp dir (a static buffer: use before the next call). */
static inline char *db_path(const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", tm_dir, name);
    return buf;
}

/* The one integer a "SELECT COUNT(*) ..." returns. */
static inline int64_t count(ae_meta *m, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(ae_meta_db(m), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Makes the temp dir, runs the tests, removes the dir: main's exit status. */
#define TM_RUN(tests) tm_run(#tests, tests, sizeof(tests) / sizeof((tests)[0]))
static inline int tm_run(const char *name, const struct CMUnitTest *tests, size_t n)
{
    if (!mkdtemp(tm_dir)) return 1;
    int rc = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tm_dir);
    if (system(cmd) != 0) rc = 1;
    return rc;
}

#endif
