/* Reciprocal Rank Fusion against a worked example. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "search/search.h"

static ae_match mk(const char *id, bool scored, double score)
{
    ae_match m = {.symbol_id = (char *)id,
                  .qualified_name = (char *)id,
                  .file_path = "f",
                  .language = "c",
                  .kind = "function",
                  .has_semantic_score = scored,
                  .semantic_score = score};
    return m;
}

static void free_out(ae_search_results *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->matches[i].symbol_id);
        free(r->matches[i].qualified_name);
        free(r->matches[i].file_path);
        free(r->matches[i].language);
        free(r->matches[i].kind);
    }
    free(r->matches);
}

/* lexical A,B,C and semantic C,A,D:
 *   A = 1/61 + 1/62 = 0.032522   C = 1/63 + 1/61 = 0.032266
 *   B = 1/62        = 0.016129   D = 1/63        = 0.015873  -> A, C, B, D */
static void test_worked_example(void **state)
{
    ae_match lm[] = {mk("A", false, 0), mk("B", false, 0), mk("C", false, 0)};
    ae_match sm[] = {mk("C", true, 0.9), mk("A", true, 0.8), mk("D", true, 0.7)};
    ae_search_results lex = {.matches = lm, .n = 3}, sem = {.matches = sm, .n = 3}, out = {0};
    ae_error err;
    assert_int_equal(ae_search_fuse_rrf(&lex, &sem, 10, &out, &err), 0);
    assert_int_equal(out.n, 4);
    const char *want[] = {"A", "C", "B", "D"};
    for (int i = 0; i < 4; i++)
        assert_string_equal(out.matches[i].symbol_id, want[i]);
    /* fused matches keep the semantic score when the symbol had one */
    assert_true(out.matches[0].has_semantic_score);
    assert_float_equal(out.matches[0].semantic_score, 0.8, 1e-12);
    assert_false(out.matches[2].has_semantic_score);
    free_out(&out);
}

static void test_ties_by_symbol_id_and_limit(void **state)
{
    ae_match lm[] = {mk("b", false, 0)};
    ae_match sm[] = {mk("a", true, 0.5)};
    ae_search_results lex = {.matches = lm, .n = 1}, sem = {.matches = sm, .n = 1}, out = {0};
    ae_error err;
    assert_int_equal(ae_search_fuse_rrf(&lex, &sem, 1, &out, &err), 0);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.matches[0].symbol_id, "a");
    free_out(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_ties_by_symbol_id_and_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
