/* SIR status and history in meta.sqlite (meta/meta_sir.h): a database of the previous schema
 * upgrades in place and keeps its rows; a failure keeps the previous SIR and turns it stale; a
 * first failure leaves a placeholder that is not a SIR; the next success is fresh again;
 * history rows carry commit_hash; the planner's state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meta/meta_sir.h"
#include "unit/test_meta_util.h"

static void store(ae_meta *m, const char *id, const char *hash, const char *json,
                  const char *commit, int64_t now_ms, bool *changed)
{
    ae_meta_sir_write w = {.id = id,
                           .sir_hash = hash,
                           .provider = "ollama",
                           .model = "m1",
                           .sir_json = json,
                           .source_hash = "c1",
                           .commit_hash = commit,
                           .now_ms = now_ms};
    ae_error err = {0};
    assert_int_equal(ae_meta_sir_store(m, &w, changed, &err), 0);
}

/* The `sir` table as the previous build (schema_version 1, no status columns) created it. */
static void test_previous_schema_upgrades(void **state)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path("old.sqlite"), &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TABLE aether_c_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                     "INSERT INTO aether_c_meta VALUES ('schema_version', '1');"
                     "CREATE TABLE sir (id TEXT PRIMARY KEY, sir_hash TEXT NOT NULL, sir_version "
                     "INTEGER NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, updated_at "
                     "INTEGER NOT NULL, sir_json TEXT);"
                     "INSERT INTO sir VALUES ('a', 'ha', 3, 'static', 'static-v1', 1700000000123, "
                     "'{\"intent\":\"x\"}');",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    ae_meta *m;
    ae_error err = {0};
    for (int pass = 0; pass < 2; pass++) { /* idempotent: the second open changes nothing */
        assert_int_equal(ae_meta_open(db_path("old.sqlite"), false, &m, &err), 0);
        assert_int_equal(count(m, "SELECT COUNT(*) FROM pragma_table_info('sir') WHERE name IN "
                                  "('sir_status','last_error','last_attempt_at','source_hash')"),
                         4);
        assert_int_equal(count(m, "SELECT COUNT(*) FROM aether_c_meta WHERE "
                                  "key='sir_status_columns' AND value='1'"),
                         1);
        ae_sir_info *s;
        assert_int_equal(ae_meta_sir_info(m, "a", &s, &err), 0);
        assert_non_null(s);
        assert_true(s->has_sir);
        assert_string_equal(s->sir_json, "{\"intent\":\"x\"}");
        assert_string_equal(s->sir_hash, "ha");
        assert_int_equal(s->sir_version, 3);
        assert_string_equal(s->sir_status, "fresh");
        assert_null(s->last_error);
        assert_int_equal(s->last_attempt_at, 1700000000); /* from updated_at, ms -> s */
        ae_sir_info_free(s);
        ae_meta_close(m);
    }
}

static void test_stale_keeps_previous_then_fresh(void **state)
{
    ae_meta *m;
    ae_error err = {0};
    assert_int_equal(ae_meta_open(db_path("s.sqlite"), false, &m, &err), 0);
    bool changed;
    store(m, "a", "h1", "{\"v\":1}", "1111111111111111111111111111111111111111", 5000, &changed);
    assert_true(changed);
    assert_int_equal(ae_meta_sir_mark_stale(m, "a", "ollama", "m1", "HTTP 500", 9000, &err), 0);
    ae_sir_info *s;
    assert_int_equal(ae_meta_sir_info(m, "a", &s, &err), 0);
    assert_true(s->has_sir);
    assert_string_equal(s->sir_hash, "h1");
    assert_string_equal(s->sir_json, "{\"v\":1}");
    assert_int_equal(s->sir_version, 1);
    assert_string_equal(s->sir_status, "stale");
    assert_string_equal(s->last_error, "HTTP 500");
    assert_int_equal(s->last_attempt_at, 9);
    ae_sir_info_free(s);
    ae_meta_sir_state st;
    assert_int_equal(ae_meta_sir_state_get(m, "a", "c1", &st, &err), 0);
    assert_true(st.row && st.present && st.stale && st.same_source);
    assert_string_equal(st.provider, "ollama");
    /* the same SIR again: fresh, no new version */
    store(m, "a", "h1", "{\"v\":1}", NULL, 12000, &changed);
    assert_false(changed);
    assert_int_equal(ae_meta_sir_info(m, "a", &s, &err), 0);
    assert_string_equal(s->sir_status, "fresh");
    assert_null(s->last_error);
    assert_int_equal(s->last_attempt_at, 12);
    ae_sir_info_free(s);
    /* a new SIR: version 2, history with its commit (NULL outside git) */
    store(m, "a", "h2", "{\"v\":2}", NULL, 15000, &changed);
    assert_true(changed);
    ae_sir_history *h;
    assert_int_equal(ae_meta_sir_history(m, "a", &h, &err), 0);
    assert_int_equal(h->n, 2);
    assert_int_equal(h->versions[0].version, 1);
    assert_string_equal(h->versions[0].sir_hash, "h1");
    assert_string_equal(h->versions[0].commit_hash, "1111111111111111111111111111111111111111");
    assert_string_equal(h->versions[0].sir_json, "{\"v\":1}");
    assert_int_equal(h->versions[0].created_at, 5000);
    assert_int_equal(h->versions[1].version, 2);
    assert_null(h->versions[1].commit_hash);
    assert_string_equal(h->versions[1].provider, "ollama");
    assert_string_equal(h->versions[1].model, "m1");
    ae_sir_history_free(h);
    /* source_hash: a SIR made from other source is not current */
    assert_int_equal(ae_meta_sir_state_get(m, "a", "c2", &st, &err), 0);
    assert_false(st.same_source);
    ae_meta_close(m);
}

static void test_first_failure_is_a_placeholder(void **state)
{
    ae_meta *m;
    ae_error err = {0};
    assert_int_equal(ae_meta_open(db_path("p.sqlite"), false, &m, &err), 0);
    assert_int_equal(ae_meta_sir_mark_stale(m, "b", "ollama", "m1", "timeout", 3000, &err), 0);
    ae_sir_info *s;
    assert_int_equal(ae_meta_sir_info(m, "b", &s, &err), 0);
    assert_false(s->has_sir);
    assert_null(s->sir_json);
    assert_string_equal(s->sir_hash, "");
    assert_int_equal(s->sir_version, 0);
    assert_string_equal(s->sir_status, "stale");
    assert_string_equal(s->last_error, "timeout");
    assert_string_equal(s->provider, "ollama");
    ae_sir_info_free(s);
    /* not a SIR for readers, counts or the planner */
    char *json;
    char hash[65];
    bool found;
    assert_int_equal(ae_meta_sir_get(m, "b", &json, hash, &found, &err), 0);
    assert_false(found);
    int64_t n;
    assert_int_equal(ae_meta_sir_count(m, &n, &err), 0);
    assert_int_equal(n, 0);
    ae_meta_sir_state st;
    assert_int_equal(ae_meta_sir_state_get(m, "b", "c1", &st, &err), 0);
    assert_true(st.row && st.stale);
    assert_false(st.present);
    ae_sir_history *h;
    assert_int_equal(ae_meta_sir_history(m, "b", &h, &err), 0);
    assert_int_equal(h->n, 0);
    ae_sir_history_free(h);
    /* the first success is version 1 */
    bool changed;
    store(m, "b", "h1", "{}", NULL, 4000, &changed);
    assert_true(changed);
    assert_int_equal(count(m, "SELECT sir_version FROM sir WHERE id='b'"), 1);
    assert_int_equal(count(m, "SELECT COUNT(*) FROM sir WHERE id='b' AND sir_status='fresh' AND "
                              "last_error IS NULL"),
                     1);
    /* unknown ids */
    assert_int_equal(ae_meta_sir_info(m, "zz", &s, &err), 0);
    assert_null(s);
    assert_int_equal(ae_meta_sir_state_get(m, "zz", "c", &st, &err), 0);
    assert_false(st.row);
    assert_false(st.symbol_same); /* no symbols row */
    ae_meta_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_previous_schema_upgrades),
        cmocka_unit_test(test_stale_keeps_previous_then_fresh),
        cmocka_unit_test(test_first_failure_is_a_placeholder),
    };
    return TM_RUN(tests);
}
