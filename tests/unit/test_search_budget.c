/* Lexical search's posting budget (ae_search_choose_tokens, search.h): the
 * tokens kept and their counts are the plain rule's ("leave out the most
 * frequent while the counts add up to more than the budget") computed on the
 * full counts, on random and hand-made count vectors, while a word far past
 * the budget is not counted to its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search/search.h"
#include "util/err.h"

#define MAXN AE_SEARCH_MAX_QUERY_TOKENS

typedef struct fake {
    int64_t rows[MAXN], seen[MAXN], steps;
    int fail_at; /* token whose step fails (-1: none) */
} fake;

static int fake_step(void *ctx, int i, bool *row, ae_error *err)
{
    fake *f = ctx;
    if (i == f->fail_at) return ae_fail(err, AE_EIO, "step of token %d failed", i);
    f->steps++;
    *row = f->seen[i] < f->rows[i];
    if (*row) f->seen[i]++;
    return 0;
}

/* The rule on the full counts, written out plainly. */
static void rule(int n, const int64_t *rows, int64_t budget, bool *keep)
{
    int64_t sum = 0;
    int kept = n;
    for (int i = 0; i < n; i++) {
        keep[i] = true;
        sum += rows[i];
    }
    while (sum > budget && kept > 1) {
        int worst = -1;
        for (int i = 0; i < n; i++)
            if (keep[i] && (worst < 0 || rows[i] > rows[worst])) worst = i;
        keep[worst] = false;
        kept--;
        sum -= rows[worst];
    }
}

static void check(int n, const int64_t *rows, int64_t budget, int64_t *steps)
{
    fake f = {.fail_at = -1};
    memcpy(f.rows, rows, (size_t)n * sizeof *rows);
    int64_t df[MAXN];
    bool keep[MAXN], want[MAXN];
    ae_error err;
    assert_int_equal(ae_search_choose_tokens(n, budget, fake_step, &f, df, keep, &err), 0);
    rule(n, rows, budget, want);
    for (int i = 0; i < n; i++) {
        if (keep[i] != want[i])
            fail_msg("n=%d budget=%lld: token %d (%lld rows) kept=%d, the rule says %d", n,
                     (long long)budget, i, (long long)rows[i], keep[i], want[i]);
        if (n == 1)
            assert_int_equal(df[i], -1); /* one token: kept, not counted */
        else if (keep[i])
            assert_int_equal(df[i], rows[i]);
        else
            assert_true(df[i] <= rows[i]);
    }
    if (steps) *steps = f.steps;
}

static uint64_t rng = 16;

static uint32_t next_u32(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng >> 33);
}

static void test_same_choice_as_the_rule(void **state)
{
    (void)state;
    for (int t = 0; t < 3000; t++) {
        int n = 1 + (int)(next_u32() % 12);
        int64_t rows[MAXN], budget = t % 3 ? 8192 : 1 + next_u32() % 3000;
        for (int i = 0; i < n; i++) {
            switch (next_u32() % 4) {
            case 0:
                rows[i] = next_u32() % 50;
                break; /* rare, or absent */
            case 1:
                rows[i] = next_u32() % (uint32_t)(2 * budget);
                break; /* near the budget */
            case 2:
                rows[i] = rows[next_u32() % (uint32_t)(i + 1)];
                break; /* ties */
            default:
                rows[i] = next_u32() % 100000;
                break; /* frequent */
            }
        }
        check(n, rows, budget, NULL);
    }
    /* hand-made: all past the budget (keep the rarest), ties at the top and
     * at the bottom, exactly the budget, zeros */
    static const int64_t cases[][5] = {
        {108312, 14726, 13208, 20000, 9000},
        {5000, 5000, 0, 0, 0},
        {8192, 0, 0, 0, 0},
        {4096, 4096, 1, 0, 0},
        {9000, 9000, 9000, 0, 0},
        {8193, 8193, 8193, 8193, 8193},
        {0, 0, 0, 0, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (int n = 1; n <= 5; n++)
            check(n, cases[c], 8192, NULL);
}

static void test_frequent_word_not_counted_to_its_end(void **state)
{
    (void)state;
    /* 'read the whole file' next to a word in 108K rows */
    const int64_t rows[] = {2142, 48, 2988, 2643, 108312};
    int64_t steps;
    check(5, rows, 8192, &steps);
    int64_t kept_rows = 2142 + 48 + 2988 + 2643;
    /* the kept words in full (+1 end step each), the frequent one to about
     * the level where the kept ones ended */
    assert_true(steps > kept_rows);
    assert_true(steps < kept_rows + 3 * 256 + 3200);
}

static void test_errors(void **state)
{
    (void)state;
    fake f = {.rows = {10, 10}, .fail_at = 1};
    int64_t df[MAXN];
    bool keep[MAXN];
    ae_error err;
    assert_int_equal(ae_search_choose_tokens(2, 8192, fake_step, &f, df, keep, &err), AE_EIO);
    assert_non_null(strstr(err.message, "token 1"));
    assert_int_equal(ae_search_choose_tokens(0, 8192, fake_step, &f, df, keep, &err), AE_EINVAL);
    assert_int_equal(ae_search_choose_tokens(MAXN + 1, 8192, fake_step, &f, df, keep, &err),
                     AE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_choice_as_the_rule),
        cmocka_unit_test(test_frequent_word_not_counted_to_its_end),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
