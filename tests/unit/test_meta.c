/* meta.sqlite: schema, SIR history only on hash change, reference-tool databases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meta/meta.h"
#include "unit/test_meta_util.h"

static void test_sir_history_only_on_change(void **state)
{
    ae_meta *m;
    ae_error err;
    assert_int_equal(ae_meta_open(db_path("a.sqlite"), false, &m, &err), 0);
    bool changed;
    assert_int_equal(
        ae_meta_sir_put(m, "id1", "h1", "static", "static-v1", "{}", 1, &changed, &err), 0);
    assert_true(changed);
    assert_int_equal(
        ae_meta_sir_put(m, "id1", "h1", "static", "static-v1", "{}", 2, &changed, &err), 0);
    assert_false(changed);
    assert_int_equal(count(m, "SELECT COUNT(*) FROM sir_history"), 1);
    assert_int_equal(
        ae_meta_sir_put(m, "id1", "h2", "static", "static-v1", "{\"x\":1}", 3, &changed, &err), 0);
    assert_true(changed);
    assert_int_equal(count(m, "SELECT COUNT(*) FROM sir_history"), 2);
    assert_int_equal(count(m, "SELECT sir_version FROM sir WHERE id='id1'"), 2);
    char *json;
    char hash[65];
    bool found;
    assert_int_equal(ae_meta_sir_get(m, "id1", &json, hash, &found, &err), 0);
    assert_true(found);
    assert_string_equal(json, "{\"x\":1}");
    assert_string_equal(hash, "h2");
    free(json);
    ae_meta_close(m);
}

/* A database in the reference tool's schema (no name/signature columns) opens,
 * gains our columns, and keeps its rows. */
static void test_reference_schema_upgrades(void **state)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path("ref.sqlite"), &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(
            db,
            "CREATE TABLE symbols (id TEXT PRIMARY KEY, file_path TEXT NOT NULL, language TEXT NOT "
            "NULL,"
            " kind TEXT NOT NULL, qualified_name TEXT NOT NULL, signature_fingerprint TEXT NOT "
            "NULL,"
            " last_seen_at INTEGER NOT NULL, access_count INTEGER NOT NULL DEFAULT 0, "
            "last_accessed_at INTEGER);"
            "INSERT INTO symbols VALUES ('s1','a.rs','rust','function','a::f','fp',1,0,NULL);"
            "PRAGMA user_version = 9;",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    ae_meta *m;
    ae_error err;
    assert_int_equal(ae_meta_open(db_path("ref.sqlite"), false, &m, &err), 0);
    assert_int_equal(count(m, "SELECT COUNT(*) FROM symbols WHERE id='s1'"), 1);
    assert_int_equal(
        count(m, "SELECT COUNT(*) FROM pragma_table_info('symbols') WHERE name='content_hash'"), 1);
    /* the reference tool's own schema version is untouched */
    assert_int_equal(count(m, "PRAGMA user_version"), 9);
    ae_meta_close(m);
}

static void test_readonly_missing_is_not_found(void **state)
{
    ae_meta *m;
    ae_error err;
    assert_int_equal(ae_meta_open(db_path("missing.sqlite"), true, &m, &err), AE_ENOTFOUND);
    assert_null(m);
    assert_non_null(strstr(err.message, "missing.sqlite"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sir_history_only_on_change),
        cmocka_unit_test(test_reference_schema_upgrades),
        cmocka_unit_test(test_readonly_missing_is_not_found),
    };
    return TM_RUN(tests);
}
