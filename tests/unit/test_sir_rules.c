/* The static provider's rule table (src/sir/static_rules.c), row by row: every row's sample,
 * read as the body of a function in a language of the row's family, must fire exactly that
 * row and add the row's text.  A new row without a sample, or whose sample also fires another
 * row, fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sir/static_internal.h"

/* The language a family's samples are read as; "ruby" has no row, so it is the other family,
 * where only the rows for every family apply. */
static const char *const family_language[] = {
    [LANG_FAM_OTHER] = "ruby", [LANG_FAM_C] = "c",       [LANG_FAM_RUST] = "rust",
    [LANG_FAM_GO] = "go",      [LANG_FAM_PY] = "python", [LANG_FAM_JS] = "javascript",
    [LANG_FAM_JAVA] = "java",
};

static void run(const char *language, const char *source, ae_sir *out, bool *fired, size_t n)
{
    ae_symbol sym = {0};
    sym.language = (char *)language;
    sym.kind = (char *)"function";
    sym.name = (char *)"f";
    sym.qualified_name = (char *)"f";
    sym.source = (char *)source;
    memset(out, 0, sizeof *out);
    memset(fired, 0, n * sizeof *fired);
    assert_int_equal(static_body(&sym, lang_or_other(language), out, fired), 0);
}

static bool list_has_prefix(const ae_strlist *l, const char *text)
{
    const char *hole = strstr(text, "%s");
    size_t n = hole ? (size_t)(hole - text) : strlen(text);
    for (size_t i = 0; i < l->len; i++)
        if (strncmp(l->items[i], text, n) == 0 && (hole || l->items[i][n] == '\0')) return true;
    return false;
}

static void test_every_row_fires_alone(void **state)
{
    size_t n;
    const static_rule *rules = static_rules(&n);
    bool *fired = calloc(n, sizeof *fired);
    assert_non_null(fired);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        const static_rule *r = &rules[i];
        ae_sir out;
        run(family_language[r->family], r->sample, &out, fired, n);
        const ae_strlist *l = r->list == STATIC_ERROR_MODE ? &out.error_modes : &out.side_effects;
        if (!fired[i]) {
            print_error("row %zu (%s): its sample `%s` does not fire it\n", i, r->pattern,
                        r->sample);
            bad++;
        }
        for (size_t j = 0; j < n; j++)
            if (j != i && fired[j]) {
                print_error("row %zu (%s): its sample `%s` also fires row %zu (%s)\n", i,
                            r->pattern, r->sample, j, rules[j].pattern);
                bad++;
            }
        if (fired[i] && !list_has_prefix(l, r->effect) &&
            !(r->otherwise && list_has_prefix(l, r->otherwise))) {
            print_error("row %zu (%s): `%s` did not add \"%s\"\n", i, r->pattern, r->sample,
                        r->effect);
            bad++;
        }
        ae_sir_clear(&out);
    }
    free(fired);
    assert_int_equal(bad, 0);
}

/* Rows for every family fire in each of them. */
static void test_shared_rows_fire_in_every_family(void **state)
{
    size_t n;
    const static_rule *rules = static_rules(&n);
    bool *fired = calloc(n, sizeof *fired);
    assert_non_null(fired);
    for (size_t i = 0; i < n; i++) {
        if (rules[i].family != LANG_FAM_OTHER) continue;
        for (size_t f = 0; f < sizeof family_language / sizeof family_language[0]; f++) {
            ae_sir out;
            run(family_language[f], rules[i].sample, &out, fired, n);
            if (!fired[i])
                fail_msg("row %zu (%s) does not fire in %s", i, rules[i].pattern,
                         family_language[f]);
            ae_sir_clear(&out);
        }
    }
    free(fired);
}

/* The engine reads a row's fields only in the combinations it knows. */
static void test_rows_are_well_formed(void **state)
{
    size_t n;
    const static_rule *rules = static_rules(&n);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        const static_rule *r = &rules[i];
        if (!r->pattern || !r->pattern[0] || !r->effect || !r->sample || !r->sample[0])
            fail_msg("row %zu: pattern, effect and sample are required", i);
        bool args = r->test == TEST_ARGS_STD_STREAM || r->test == TEST_ARGS_MODE_WRITES ||
                    r->test == TEST_ARGS_OPEN_WRITES;
        if (args && r->site != SITE_CALL) fail_msg("row %zu: an argument test needs a call", i);
        if (r->site == SITE_KEYWORD && r->match != MATCH_CHAIN)
            fail_msg("row %zu: a keyword row matches the whole chain", i);
        if ((r->site == SITE_OPERATOR) != (r->match == MATCH_NONE))
            fail_msg("row %zu: operator rows, and only they, match no chain", i);
        if ((r->test == TEST_FOLLOWED_BY) != (r->word != NULL))
            fail_msg("row %zu: TEST_FOLLOWED_BY, and only it, has a word", i);
        bool names = r->test == TEST_RAISED_NAME || r->test == TEST_THROWN_TYPE;
        if (strstr(r->effect, "%s") && !names) fail_msg("row %zu: nothing fills %%s", i);
        if (r->otherwise && r->test == TEST_NONE) fail_msg("row %zu: otherwise without test", i);
        for (size_t j = 0; j < i; j++) /* no row twice */
            if (rules[j].family == r->family && rules[j].site == r->site &&
                rules[j].match == r->match && strcmp(rules[j].pattern, r->pattern) == 0 &&
                rules[j].when == r->when && rules[j].test == r->test &&
                (rules[j].scope == r->scope ||
                 (rules[j].scope && r->scope && strcmp(rules[j].scope, r->scope) == 0)) &&
                (rules[j].word == r->word ||
                 (rules[j].word && r->word && strcmp(rules[j].word, r->word) == 0)))
                fail_msg("row %zu repeats row %zu (%s)", i, j, r->pattern);
    }
}

/* Conditions cut both ways: the same names where a row's condition fails add nothing. */
static void test_conditions_hold_back(void **state)
{
    size_t n;
    static_rules(&n);
    bool *fired = calloc(n, sizeof *fired);
    assert_non_null(fired);
    static const struct {
        const char *language, *source;
    } quiet[] = {
        {"c", "obj.printf(x); o.write(fd); a.b.exit(1);"}, /* not free functions */
        {"rust", "x.unwrap(); let p = print;"},            /* one chain; no macro */
        {"javascript", "exec(c); other.writeFile(p);"},    /* bare exec; not fs */
        {"go", "fmt.Fprintln(w, x); return nil"},          /* not a std stream; no error */
        {"python", "raise_it(x); assert(x)"},              /* not keywords */
        {"c", "return -10; return NULLABLE; errno == 0;"},
        {"ruby", "printf(x); os.Exit(1); panic(x)"}, /* no family rows for other languages */
    };
    for (size_t q = 0; q < sizeof quiet / sizeof quiet[0]; q++) {
        ae_sir out;
        run(quiet[q].language, quiet[q].source, &out, fired, n);
        for (size_t i = 0; i < n; i++)
            if (fired[i]) fail_msg("%s `%s` fired row %zu", quiet[q].language, quiet[q].source, i);
        ae_sir_clear(&out);
    }
    free(fired);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_are_well_formed),
        cmocka_unit_test(test_every_row_fires_alone),
        cmocka_unit_test(test_shared_rows_fire_in_every_family),
        cmocka_unit_test(test_conditions_hold_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
