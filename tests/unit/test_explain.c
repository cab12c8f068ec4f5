/* include/aether/explain.h, the pure parts: the symbol at a position (nested spans, ties,
 * bounds), LSP <-> ae_position columns over non-ASCII text, the hover Markdown byte for byte
 * (fresh, stale, no SIR), SIR field diffs, the history hint, and why-changed by every
 * selector and every reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <aether/explain.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

/* ---- spans -------------------------------------------------------------- */

static void test_pick_nested(void **state)
{
    (void)state;
    /* class Server (lines 1..20) > method handle (5..12) > closure (8..9) */
    ae_symbol_span s[] = {
        ae_span_of_lines("c", "Server", 1, 20),
        ae_span_of_lines("m", "Server::handle", 5, 12),
        ae_span_of_lines("f", "Server::handle::inner", 8, 9),
        ae_span_of_lines("g", "helper", 22, 22),
    };
    assert_int_equal(ae_span_pick(s, 4, (ae_position){1, 1}), 0);
    assert_int_equal(ae_span_pick(s, 4, (ae_position){4, 80}), 0);
    assert_int_equal(ae_span_pick(s, 4, (ae_position){5, 1}), 1);
    assert_int_equal(ae_span_pick(s, 4, (ae_position){8, 3}), 2);
    assert_int_equal(ae_span_pick(s, 4, (ae_position){9, 999}), 2);
    assert_int_equal(ae_span_pick(s, 4, (ae_position){10, 1}), 1);
    assert_int_equal(ae_span_pick(s, 4, (ae_position){12, 1}), 1);
    assert_int_equal(ae_span_pick(s, 4, (ae_position){13, 1}), 0);
    assert_int_equal(ae_span_pick(s, 4, (ae_position){20, 5}), 0);
    assert_int_equal(ae_span_pick(s, 4, (ae_position){21, 1}), -1); /* between symbols */
    assert_int_equal(ae_span_pick(s, 4, (ae_position){22, 1}), 3);
    assert_int_equal(ae_span_pick(s, 4, (ae_position){23, 1}), -1); /* end exclusive */
    assert_int_equal(ae_span_pick(s, 0, (ae_position){1, 1}), -1);
    /* order of the input does not matter */
    ae_symbol_span r[] = {s[2], s[1], s[0]};
    assert_int_equal(ae_span_pick(r, 3, (ae_position){8, 1}), 0);
}

static void test_pick_columns_and_ties(void **state)
{
    (void)state;
    /* start inclusive, end exclusive, with columns */
    ae_symbol_span a = {"a", "a", 3, 5, 3, 10};
    assert_int_equal(ae_span_pick(&a, 1, (ae_position){3, 4}), -1);
    assert_int_equal(ae_span_pick(&a, 1, (ae_position){3, 5}), 0);
    assert_int_equal(ae_span_pick(&a, 1, (ae_position){3, 9}), 0);
    assert_int_equal(ae_span_pick(&a, 1, (ae_position){3, 10}), -1);
    /* equal line spans: the one starting later is inner; then the longer name */
    ae_symbol_span t[] = {
        ae_span_of_lines("x", "Outer", 4, 6),
        ae_span_of_lines("y", "Outer::inner", 4, 6),
        ae_span_of_lines("z", "late", 5, 7),
    };
    assert_int_equal(ae_span_pick(t, 2, (ae_position){5, 1}), 1);
    ae_symbol_span u[] = {t[0], t[2]};
    assert_int_equal(ae_span_pick(u, 2, (ae_position){5, 1}), 1); /* later start */
}

/* ---- positions ---------------------------------------------------------- */

static void test_lsp_positions(void **state)
{
    (void)state;
    /* line 0: "aé😀b"  (a:1B/1u, é:2B/1u, 😀:4B/2u, b:1B/1u); line 1 CRLF-ended; line 2 */
    const char *text = "a\xc3\xa9\xf0\x9f\x98\x80"
                       "b\r\nxyz\r\nlast";
    size_t len = strlen(text);
    ae_position p;
    ae_error err;
    struct {
        uint32_t line, ch;
        int want_line, want_col;
    } rows[] = {
        {0, 0, 1, 1}, {0, 1, 1, 2}, {0, 2, 1, 3},  {0, 3, 1, 4}, /* inside the pair: the emoji */
        {0, 4, 1, 4}, {0, 5, 1, 5}, {0, 99, 1, 5},               /* clamps to the line's end */
        {1, 3, 2, 4}, {1, 9, 2, 4},                              /* "\r" is not a character */
        {2, 4, 3, 5},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        assert_int_equal(ae_position_from_lsp(text, len, rows[i].line, rows[i].ch, &p, &err), 0);
        assert_int_equal(p.line, rows[i].want_line);
        assert_int_equal(p.column, rows[i].want_col);
    }
    assert_int_equal(ae_position_from_lsp(text, len, 3, 0, &p, &err), AE_EINVAL);
    assert_non_null(strstr(err.message, "line 4 is past the end"));

    uint32_t l, c;
    struct {
        int line, col;
        uint32_t want_line, want_ch;
    } back[] = {
        {1, 1, 0, 0}, {1, 2, 0, 1},  {1, 3, 0, 2}, {1, 4, 0, 4},
        {1, 5, 0, 5}, {1, 50, 0, 5}, {2, 2, 1, 1}, {3, 1, 2, 0},
    };
    for (size_t i = 0; i < sizeof back / sizeof *back; i++) {
        ae_position q = {back[i].line, back[i].col};
        assert_int_equal(ae_position_to_lsp(text, len, q, &l, &c, &err), 0);
        assert_int_equal(l, back[i].want_line);
        assert_int_equal(c, back[i].want_ch);
    }
    assert_int_equal(ae_position_to_lsp(text, len, (ae_position){0, 1}, &l, &c, &err), AE_EINVAL);
    assert_int_equal(ae_position_to_lsp(text, len, (ae_position){4, 1}, &l, &c, &err), AE_EINVAL);
    /* a stray continuation byte is one character of one unit */
    const char *bad = "\x80x";
    assert_int_equal(ae_position_from_lsp(bad, 2, 0, 1, &p, &err), 0);
    assert_int_equal(p.column, 2);
    /* empty text has one empty line */
    assert_int_equal(ae_position_from_lsp("", 0, 0, 5, &p, &err), 0);
    assert_int_equal(p.column, 1);
}

/* ---- hover -------------------------------------------------------------- */

static const char *const SIR_A =
    "{\"confidence\":0.875,\"dependencies\":[\"os.path\"],\"error_modes\":[],"
    "\"inputs\":[\"path: str\",\"strict: bool\"],\"intent\":\"Parse the config file.\","
    "\"outputs\":[\"Config\"],\"side_effects\":[]}";
static const char *const SIR_B =
    "{\"confidence\":0.9,\"dependencies\":[\"os.path\"],\"error_modes\":[\"ValueError\"],"
    "\"inputs\":[\"path: str\",\"strict: bool\"],\"intent\":\"Parse and validate the config.\","
    "\"outputs\":[\"Config\"],\"side_effects\":[]}";

static void test_hover_fresh(void **state)
{
    (void)state;
    char *md;
    ae_error err;
    assert_int_equal(ae_hover_markdown("config::parse", SIR_A, false, NULL, &md, &err), 0);
    assert_string_equal(md, "### config::parse\n"
                            "\n"
                            "**Confidence:** 0.88\n"
                            "\n"
                            "**Intent**\n"
                            "Parse the config file.\n"
                            "\n"
                            "**Inputs**\n"
                            "- path: str\n"
                            "- strict: bool\n"
                            "\n"
                            "**Outputs**\n"
                            "- Config\n"
                            "\n"
                            "**Side Effects**\n"
                            "(none)\n"
                            "\n"
                            "**Dependencies**\n"
                            "- os.path\n"
                            "\n"
                            "**Error Modes**\n"
                            "(none)");
    free(md);
}

static void test_hover_stale_and_missing(void **state)
{
    (void)state;
    char *md;
    ae_error err;
    assert_int_equal(ae_hover_markdown("f", "{\"confidence\":1,\"intent\":\"Do it.\"}", true,
                                       "provider timed out", &md, &err),
                     0);
    assert_string_equal(md, "### f\n\n**Confidence:** 1.00\n\n"
                            "> AETHER WARNING: SIR is stale. Last error: provider timed out\n\n"
                            "**Intent**\nDo it.\n\n**Inputs**\n(none)\n\n**Outputs**\n(none)\n\n"
                            "**Side Effects**\n(none)\n\n**Dependencies**\n(none)\n\n"
                            "**Error Modes**\n(none)");
    free(md);
    assert_int_equal(ae_hover_markdown("f", "{\"intent\":\"x\"}", true, NULL, &md, &err), 0);
    assert_non_null(strstr(md, "\n> AETHER WARNING: SIR is stale.\n\n**Intent**"));
    assert_non_null(strstr(md, "**Confidence:** 0.00\n"));
    free(md);
    assert_int_equal(ae_hover_markdown("f", NULL, false, NULL, &md, &err), 0);
    assert_string_equal(md,
                        "AETHER: No SIR yet for this symbol. Run aetherd indexing and try again.");
    free(md);
    /* stale, with a blank error (left out) and with one (trimmed); without a SIR: the warning
     * line, then the no-SIR text */
    assert_int_equal(ae_hover_markdown("f", "{\"intent\":\"x\"}", true, " \t", &md, &err), 0);
    assert_non_null(strstr(md, "\n> AETHER WARNING: SIR is stale.\n\n**Intent**"));
    free(md);
    assert_int_equal(ae_hover_markdown("f", NULL, true, "  HTTP 500 \n", &md, &err), 0);
    assert_string_equal(md,
                        "AETHER WARNING: SIR is stale. Last error: HTTP 500\n\n"
                        "AETHER: No SIR yet for this symbol. Run aetherd indexing and try again.");
    free(md);
    /* list items are trimmed */
    assert_int_equal(
        ae_hover_markdown("f", "{\"inputs\":[\"  a \", \"b\\n\"]}", false, NULL, &md, &err), 0);
    assert_non_null(strstr(md, "**Inputs**\n- a\n- b\n\n**Outputs**"));
    free(md);
    assert_int_equal(ae_hover_markdown("f", "[1]", false, NULL, &md, &err), AE_ECORRUPT);
    assert_null(md);
    assert_int_equal(ae_hover_markdown("f", "{bad", false, NULL, &md, &err), AE_ECORRUPT);
    assert_non_null(strstr(err.message, "not a JSON object"));
}

/* ---- diffs, hints, why-changed ------------------------------------------ */

static void test_fields_diff(void **state)
{
    (void)state;
    ae_strlist a = {0}, r = {0}, m = {0};
    ae_error err;
    assert_int_equal(ae_sir_fields_diff(SIR_A, SIR_B, &a, &r, &m, &err), 0);
    assert_int_equal(a.len, 1);
    assert_string_equal(a.items[0], "error_modes");
    assert_int_equal(r.len, 0);
    assert_int_equal(m.len, 2);
    assert_string_equal(m.items[0], "confidence");
    assert_string_equal(m.items[1], "intent");
    ae_strlist_free(&a);
    ae_strlist_free(&m);
    /* the reverse direction removes; keys missing on one side; sorted output */
    assert_int_equal(ae_sir_fields_diff("{\"z\":1,\"b\":[1],\"intent\":\"x\"}",
                                        "{\"intent\":\"x\",\"y\":\"\",\"a\":2,\"c\":3}", &a, &r, &m,
                                        &err),
                     0);
    assert_int_equal(a.len, 2);
    assert_string_equal(a.items[0], "a");
    assert_string_equal(a.items[1], "c");
    assert_int_equal(r.len, 2);
    assert_string_equal(r.items[0], "b");
    assert_string_equal(r.items[1], "z");
    assert_int_equal(m.len, 0);
    ae_strlist_free(&a);
    ae_strlist_free(&r);
    assert_int_equal(ae_sir_fields_diff("{}", "7", &a, &r, &m, &err), AE_ECORRUPT);
    assert_non_null(strstr(err.message, "the later SIR"));
}

static ae_sir_entry entry(int64_t v, int64_t at, const char *json, const char *commit)
{
    ae_sir_entry e = {.version = v, .created_at = at};
    snprintf(e.sir_hash, sizeof e.sir_hash, "%064lld", (long long)v);
    e.provider = (char *)"mock";
    e.model = (char *)"m1";
    e.sir_json = (char *)json;
    e.commit_hash = (char *)commit;
    return e;
}

static void test_history_hint(void **state)
{
    (void)state;
    char *h;
    ae_error err;
    ae_sir_timeline t = {0};
    assert_int_equal(ae_history_hint(&t, &h, &err), 0);
    assert_null(h);
    ae_sir_entry e[] = {entry(1, 1000, SIR_A, NULL), entry(2, 2000, SIR_B, NULL)};
    t.entries = e;
    t.n = t.total = 1;
    assert_int_equal(ae_history_hint(&t, &h, &err), 0);
    assert_string_equal(h, "> AETHER WHY: only one recorded SIR version.");
    free(h);
    t.n = t.total = 2;
    assert_int_equal(ae_history_hint(&t, &h, &err), 0);
    assert_string_equal(h, "> AETHER WHY: latest v1 -> v2; added: error_modes; removed: none; "
                           "modified: confidence,intent.");
    free(h);
    ae_sir_entry same[] = {entry(3, 1, SIR_A, NULL), entry(7, 2, SIR_A, NULL)};
    t.entries = same;
    assert_int_equal(ae_history_hint(&t, &h, &err), 0);
    assert_string_equal(h, "> AETHER WHY: latest v3 -> v7; added: none; removed: none; "
                           "modified: none.");
    free(h);
}

static const char *const SIR_C = "{\"confidence\":0.5,\"intent\":\"Third.\",\"outputs\":[\"x\"]}";

static void test_why_changed(void **state)
{
    (void)state;
    ae_sir_entry e[] = {entry(1, 1000, SIR_A, "aaaa"), entry(2, 2000, SIR_B, NULL),
                        entry(3, 3000, SIR_C, "cccc")};
    ae_sir_timeline h = {e, 3, 3};
    ae_why_changed *w;
    ae_error err;

    assert_int_equal(ae_why_changed_compute(&h, NULL, &w, &err), 0); /* latest pair */
    assert_true(w->found);
    assert_null(w->reason);
    assert_string_equal(ae_why_mode_name(w->mode), "auto");
    assert_int_equal(w->from.version, 2);
    assert_int_equal(w->to.version, 3);
    assert_null(w->from.commit_hash);
    assert_string_equal(w->to.commit_hash, "cccc");
    assert_string_equal(w->prior_summary, "Parse and validate the config.");
    assert_string_equal(w->current_summary, "Third.");
    assert_int_equal(w->fields_removed.len, 3); /* dependencies, error_modes, inputs */
    assert_string_equal(w->fields_removed.items[0], "dependencies");
    assert_string_equal(w->fields_removed.items[2], "inputs");
    assert_int_equal(w->fields_modified.len, 3); /* confidence, intent, outputs */
    ae_why_changed_free(w);

    ae_why_selector v = {AE_WHY_VERSION, 1, 2};
    assert_int_equal(ae_why_changed_compute(&h, &v, &w, &err), 0);
    assert_true(w->found);
    assert_string_equal(ae_why_mode_name(w->mode), "version");
    assert_int_equal(w->from.version, 1);
    assert_int_equal(w->to.version, 2);
    assert_string_equal(w->from.commit_hash, "aaaa");
    assert_int_equal(w->fields_added.len, 1);
    ae_why_changed_free(w);

    v = (ae_why_selector){AE_WHY_VERSION, 1, 9};
    assert_int_equal(ae_why_changed_compute(&h, &v, &w, &err), 0);
    assert_false(w->found);
    assert_string_equal(w->reason, "selector_not_found");
    assert_null(w->prior_summary);
    ae_why_changed_free(w);

    /* timestamps: the latest version at or before each */
    ae_why_selector t = {AE_WHY_TIMESTAMP, 1500, 3000};
    assert_int_equal(ae_why_changed_compute(&h, &t, &w, &err), 0);
    assert_true(w->found);
    assert_string_equal(ae_why_mode_name(w->mode), "timestamp");
    assert_int_equal(w->from.version, 1);
    assert_int_equal(w->to.version, 3);
    ae_why_changed_free(w);
    t = (ae_why_selector){AE_WHY_TIMESTAMP, 999, 3000}; /* before the first version */
    assert_int_equal(ae_why_changed_compute(&h, &t, &w, &err), 0);
    assert_false(w->found);
    assert_string_equal(w->reason, "selector_not_found");
    ae_why_changed_free(w);

    h.n = h.total = 1;
    assert_int_equal(ae_why_changed_compute(&h, NULL, &w, &err), 0);
    assert_false(w->found);
    assert_string_equal(w->reason, "single_version_only");
    ae_why_changed_free(w);
    h.n = h.total = 0;
    assert_int_equal(ae_why_changed_compute(&h, &v, &w, &err), 0);
    assert_false(w->found);
    assert_string_equal(w->reason, "no_history");
    ae_why_changed_free(w);
    assert_int_equal(ae_why_changed_compute(NULL, NULL, &w, &err), 0);
    assert_string_equal(w->reason, "no_history");
    ae_why_changed_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick_nested),
        cmocka_unit_test(test_pick_columns_and_ties),
        cmocka_unit_test(test_lsp_positions),
        cmocka_unit_test(test_hover_fresh),
        cmocka_unit_test(test_hover_stale_and_missing),
        cmocka_unit_test(test_fields_diff),
        cmocka_unit_test(test_history_hint),
        cmocka_unit_test(test_why_changed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
