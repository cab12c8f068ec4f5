/* Sub-token splitter: one row per rule (tokenize.h), the stop table row by
 * row, and the borrowed-buffer / no-allocation contract. */
#include "text/tokenize.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static const struct {
    const char *in;
    unsigned flags;
    const char *want; /* tokens joined by one space */
} ROWS[] = {
    {"", 0, ""},
    {"   \t\n", 0, ""},
    {"x", 0, "x"},
    {"snake_case_name", 0, "snake case name"},
    {"__init__", 0, "init"},
    {"camelCase", 0, "camel case"},
    {"PascalCase", 0, "pascal case"},
    {"HTTPServer", 0, "http server"},
    {"XMLHttpRequest", 0, "xml http request"},
    {"getHTTPResponseCode", 0, "get http response code"},
    {"ALLCAPS", 0, "allcaps"},
    {"MAX_PATH_LEN", 0, "max path len"},
    {"sha256sum", 0, "sha 256 sum"},
    {"int64_t", 0, "int 64 t"},
    {"utf8Decode", 0, "utf 8 decode"},
    {"v2", 0, "v 2"},
    {"2021", 0, "2021"},
    {"os.path.join", 0, "os path join"},
    {"Foo::bar_baz()", 0, "foo bar baz"},
    {"src/util/fs.c", 0, "src util fs c"},
    {"caf\xc3\xa9"
     "Bar",
     0, "caf\xc3\xa9 bar"},
    {"\xc3\x89t\xc3\xa9", 0, "\xc3\x89t\xc3\xa9"},
    {"Return the number of items.", 0, "return the number of items"},
    {"Return the number of items.", AE_TOK_STOP, "return number items"},
    {"The A an OF", AE_TOK_STOP, ""},
    {"getValue", AE_TOK_WHOLE, "getvalue get value"},
    {"parse_http_request", AE_TOK_WHOLE, "parse_http_request parse http request"},
    {"__init__", AE_TOK_WHOLE, "init"},
    {"_private_x_", AE_TOK_WHOLE, "private_x private x"},
    {"value", AE_TOK_WHOLE, "value"},
    {"is_the_one", AE_TOK_WHOLE | AE_TOK_STOP, "is_the_one"},
    {"a_b", AE_TOK_STOP, "b"},
    /* 65 letters: longer than AE_TOK_MAX, skipped; the next word still comes. */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ok", 0, "ok"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0,
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
};

static void join(const char *in, unsigned flags, char *out, size_t cap)
{
    ae_tok_iter it;
    ae_tok_init(&it, in, strlen(in), flags);
    const char *t;
    size_t n;
    size_t used = 0;
    out[0] = '\0';
    while (ae_tok_next(&it, &t, &n)) {
        assert_int_equal(strlen(t), n);
        assert_true(used + n + 2 < cap);
        if (used) out[used++] = ' ';
        memcpy(out + used, t, n);
        used += n;
        out[used] = '\0';
    }
}

static void test_rows(void **state)
{
    (void)state;
    char got[512];
    for (size_t i = 0; i < sizeof ROWS / sizeof ROWS[0]; i++) {
        join(ROWS[i].in, ROWS[i].flags, got, sizeof got);
        if (strcmp(got, ROWS[i].want) != 0)
            fail_msg("row %zu (%s, flags %u): got \"%s\", want \"%s\"", i, ROWS[i].in,
                     ROWS[i].flags, got, ROWS[i].want);
    }
}

static void test_stop_table_sorted_and_found(void **state)
{
    (void)state;
    assert_true(ae_tok_stop_count > 20);
    for (size_t i = 0; i < ae_tok_stop_count; i++) {
        const char *w = ae_tok_stop_words[i];
        if (i > 0 && strcmp(ae_tok_stop_words[i - 1], w) >= 0)
            fail_msg("stop table not sorted at row %zu (%s after %s)", i, w,
                     ae_tok_stop_words[i - 1]);
        if (!ae_tok_is_stop(w, strlen(w))) fail_msg("stop row %zu (%s) not found", i, w);
        /* A prefix or an extension of a stop word is not a stop word unless listed. */
        char longer[AE_TOK_MAX + 2];
        snprintf(longer, sizeof longer, "%sqz", w);
        assert_false(ae_tok_is_stop(longer, strlen(longer)));
    }
    static const char *const KEEP[] = {"return", "get", "set", "file", "new", "none", "self"};
    for (size_t i = 0; i < sizeof KEEP / sizeof KEEP[0]; i++)
        assert_false(ae_tok_is_stop(KEEP[i], strlen(KEEP[i])));
}

static void test_length_bounded_input(void **state)
{
    (void)state;
    /* The input need not be NUL-terminated: only len bytes are read. */
    const char buf[] = {'f', 'o', 'o', 'B', 'a', 'r', 'X'};
    ae_tok_iter it;
    ae_tok_init(&it, buf, 6, 0);
    const char *t;
    size_t n;
    assert_int_equal(ae_tok_next(&it, &t, &n), 1);
    assert_string_equal(t, "foo");
    assert_int_equal(ae_tok_next(&it, &t, &n), 1);
    assert_string_equal(t, "bar");
    assert_int_equal(ae_tok_next(&it, &t, &n), 0);
    assert_int_equal(ae_tok_next(&it, &t, &n), 0);
    ae_tok_init(&it, NULL, 5, AE_TOK_WHOLE);
    assert_int_equal(ae_tok_next(&it, &t, &n), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_stop_table_sorted_and_found),
        cmocka_unit_test(test_length_bounded_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
