/* ae_bm25() (meta_fts.c note 5) against FTS5's own bm25(): the same rows and
 * the same scores, to the bit, for the k best of every query, while rows that
 * cannot be among them are left unscored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meta/meta.h"
#include "meta/meta_fts.h"

#define ROWS  4000
#define VOCAB 600

static char dir[] = "/tmp/ae-test-fts-rank-XXXXXX";
static ae_meta *meta;

static uint64_t rng = 16;

static uint32_t next_u32(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng >> 33);
}

/* Word i of a skewed vocabulary: w0 is in most rows, w599 in a few. */
static int skewed_word(void)
{
    double u = (double)next_u32() / 4294967296.0;
    return (int)(VOCAB * u * u * u);
}

static void words(char *out, size_t cap, int lo, int hi)
{
    int n = lo + (int)(next_u32() % (unsigned)(hi - lo + 1));
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, cap - len, "%sw%d", i ? " " : "", skewed_word());
}

static int setup(void **state)
{
    (void)state;
    ae_error err;
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/meta.sqlite", dir);
    assert_int_equal(ae_meta_open(path, false, &meta, &err), 0);
    assert_int_equal(ae_meta_fts_rank_register(meta, &err), 0);
    assert_int_equal(ae_meta_fts_rank_register(meta, &err), 0); /* idempotent */
    sqlite3 *db = ae_meta_db(meta);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO fts_words(rowid, name, qualified_name, "
                                        "path, sir, tags) VALUES (?, ?, ?, ?, ?, ?)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    static const int lo[] = {1, 1, 2, 0}, hi[] = {3, 5, 6, 60};
    for (int r = 1; r <= ROWS; r++) {
        char col[4][1024];
        sqlite3_bind_int(st, 1, r);
        for (int c = 0; c < 4; c++) {
            words(col[c], sizeof col[c], lo[c], hi[c]);
            sqlite3_bind_text(st, 2 + c, col[c], -1, SQLITE_TRANSIENT);
        }
        sqlite3_bind_text(st, 6, r % 3 ? "python function" : "c macro", -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ae_meta_close(meta);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

typedef struct ranked {
    int64_t rowid[ROWS];
    double score[ROWS];
    int n, zero;
} ranked;

static void run(const char *fn, const char *match, int k, ranked *out)
{
    char sql[512];
    /* LIMIT -1 with k: every row, to count the unscored ones */
    snprintf(sql, sizeof sql,
             "SELECT rowid, %s AS s FROM fts_words WHERE fts_words MATCH ?1 ORDER BY s, rowid "
             "LIMIT ?2",
             fn);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(ae_meta_db(meta), sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, k);
    out->n = out->zero = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        out->rowid[out->n] = sqlite3_column_int64(st, 0);
        out->score[out->n] = sqlite3_column_double(st, 1);
        if (out->score[out->n] == 0.0) out->zero++;
        out->n++;
    }
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(st);
}

static ranked want, got;

/* counts: NULL, or ae_bm25()'s per-phrase row counts as an SQL literal */
static void same_top_k(const char *match, const char *counts, int k)
{
    char fn[1024];
    run("bm25(fts_words, " AE_FTS_WEIGHTS ")", match, k, &want);
    snprintf(fn, sizeof fn, "ae_bm25(fts_words, %d, %s, " AE_FTS_WEIGHTS ")", k,
             counts ? counts : "NULL");
    run(fn, match, k, &got);
    assert_int_equal(got.n, want.n);
    for (int i = 0; i < want.n; i++) {
        if (got.rowid[i] != want.rowid[i] || got.score[i] != want.score[i])
            fail_msg("%s (%s) k=%d: rank %d is row %lld (%.17g), bm25() has row %lld (%.17g)",
                     match, counts ? counts : "NULL", k, i, (long long)got.rowid[i], got.score[i],
                     (long long)want.rowid[i], want.score[i]);
    }
    assert_int_equal(got.zero, 0);
}

static int64_t rows_matching(int word)
{
    char q[32];
    snprintf(q, sizeof q, "\"w%d\"", word);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(ae_meta_db(meta),
                                        "SELECT count(*) FROM fts_words WHERE fts_words MATCH ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void test_same_rows_and_scores(void **state)
{
    (void)state;
    static const int ks[] = {1, 2, 5, 10, 20, 80, 500};
    char q[512], counts[512], some[512];
    for (int t = 0; t < 60; t++) {
        /* 1-8 words of every frequency, some queries with a column filter as
         * lexical.c writes one; the row counts given, given in part (-1), or
         * not given (NULL, or the wrong number of them: ignored) */
        int n = 1 + t % 8;
        size_t len = (size_t)snprintf(q, sizeof q, "(");
        size_t clen = (size_t)snprintf(counts, sizeof counts, "'");
        size_t slen = (size_t)snprintf(some, sizeof some, "'");
        for (int i = 0; i < n; i++) {
            int w = i % 2 ? skewed_word() : (int)(next_u32() % VOCAB);
            len += (size_t)snprintf(q + len, sizeof q - len, "%s\"w%d\"", i ? " OR " : "", w);
            int64_t c = rows_matching(w);
            clen += (size_t)snprintf(counts + clen, sizeof counts - clen, "%s%lld", i ? " " : "",
                                     (long long)c);
            slen += (size_t)snprintf(some + slen, sizeof some - slen, "%s%lld", i ? " " : "",
                                     i % 2 ? -1LL : (long long)c);
        }
        bool tags = t % 5 == 0;
        snprintf(q + len, sizeof q - len, ")%s", tags ? " AND {tags} : \"python\"" : "");
        snprintf(counts + clen, sizeof counts - clen, "%s'", tags ? " -1" : "");
        snprintf(some + slen, sizeof some - slen, "%s'", tags ? " -1" : (n > 1 ? "" : " 5"));
        for (size_t j = 0; j < sizeof ks / sizeof *ks; j++) {
            same_top_k(q, NULL, ks[j]);
            same_top_k(q, counts, ks[j]);
            same_top_k(q, some, ks[j]);
        }
    }
    /* k <= 0: no pruning, every row scored as bm25() scores it */
    run("bm25(fts_words, " AE_FTS_WEIGHTS ")", "\"w0\" OR \"w3\"", -1, &want);
    run("ae_bm25(fts_words, 0, NULL, " AE_FTS_WEIGHTS ")", "\"w0\" OR \"w3\"", -1, &got);
    assert_int_equal(got.n, want.n);
    assert_true(want.n > ROWS / 2);
    assert_int_equal(got.zero, 0);
    for (int i = 0; i < want.n; i++) {
        assert_int_equal(got.rowid[i], want.rowid[i]);
        assert_true(got.score[i] == want.score[i]);
    }
}

/* The point of it: a rare word with a frequent one, k = 10, leaves most of
 * the frequent word's rows unscored (0), and the 10 best are still bm25()'s. */
static void test_skips_rows_that_cannot_rank(void **state)
{
    (void)state;
    const char *q = "\"w0\" OR \"w590\" OR \"w1\"";
    run("bm25(fts_words, " AE_FTS_WEIGHTS ")", q, -1, &want);
    run("ae_bm25(fts_words, 10, NULL, " AE_FTS_WEIGHTS ")", q, -1, &got);
    assert_int_equal(got.n, want.n);
    assert_true(want.n > ROWS / 2);
    assert_true(got.zero > want.n / 2);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(got.rowid[i], want.rowid[i]);
        assert_true(got.score[i] == want.score[i]);
    }
    for (int i = 10; i < got.n; i++) /* unscored rows sort after the scored ones */
        assert_true(got.score[i] == 0.0 || got.score[i] >= got.score[9]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_rows_and_scores),
        cmocka_unit_test(test_skips_rows_that_cannot_rank),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
