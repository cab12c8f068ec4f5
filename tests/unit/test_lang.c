/* The language layer: the language table row by row, every lexical rule row by a sample that
 * must trigger exactly that row, and the cases where the two lexers it replaced disagreed
 * (symbols/span.c's and the static provider's "blanker"), checked through both of its users.
 *
 * The disagreement cases were written first and run against the old code (main at ec4a36e):
 *   span.c  rust raw string r#"..}.."#        end line: want 4, got 2
 *   blanker rust string across lines           `fake(x)` on the second line left as code
 *   blanker rust char '\'' then ','            "['\'','(']" -> the '(' left as code
 *   span.c  js template with escaped backtick  end line: want 4, got 5
 *   span.c  java text block                    end line: want 6, got 3 (the blanker too)
 * while the other copy got each of the first four right. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/lang.h"
#include "sir/provider.h"
#include "symbols/files.h"
#include "symbols/internal.h"

/* ---- the language table ----------------------------------------------------------------- */

/* What the two old tables said: files.c's extension map and the static provider's family_of. */
static const struct {
    const char *path, *language;
} extension_rows[] = {
    {"a.rs", "rust"},
    {"a.ts", "typescript"},
    {"a.mts", "typescript"},
    {"a.cts", "typescript"},
    {"a.tsx", "tsx"},
    {"a.js", "javascript"},
    {"a.mjs", "javascript"},
    {"a.cjs", "javascript"},
    {"a.jsx", "jsx"},
    {"a.py", "python"},
    {"a.c", "c"},
    {"a.h", "c"},
    {"a.go", "go"},
    {"a.cc", "cpp"},
    {"a.cpp", "cpp"},
    {"a.cxx", "cpp"},
    {"a.hpp", "cpp"},
    {"a.hh", "cpp"},
    {"a.hxx", "cpp"},
    {"a.java", "java"},
    {"dir.rs/noext", NULL},
    {".c", NULL},
    {"x.C.bak", NULL},
    {"Makefile", NULL},
    {"x.md", NULL},
    {"src/x.tsx", "tsx"},
};

static const struct {
    const char *name;
    lang_family family;
} family_rows[] = {
    {"c", LANG_FAM_C},           {"cpp", LANG_FAM_C},       {"c++", LANG_FAM_C},
    {"objc", LANG_FAM_C},        {"cuda", LANG_FAM_C},      {"rust", LANG_FAM_RUST},
    {"Rust", LANG_FAM_RUST},     {"go", LANG_FAM_GO},       {"python", LANG_FAM_PY},
    {"typescript", LANG_FAM_JS}, {"tsx", LANG_FAM_JS},      {"javascript", LANG_FAM_JS},
    {"jsx", LANG_FAM_JS},        {"java", LANG_FAM_JAVA},   {"csharp", LANG_FAM_JAVA},
    {"c#", LANG_FAM_JAVA},       {"kotlin", LANG_FAM_JAVA}, {"scala", LANG_FAM_JAVA},
    {"ruby", LANG_FAM_OTHER},    {NULL, LANG_FAM_OTHER},
};

static void test_extension_rows(void **state)
{
    for (size_t i = 0; i < sizeof extension_rows / sizeof extension_rows[0]; i++) {
        const char *want = extension_rows[i].language;
        const lang_info *l = lang_for_path(extension_rows[i].path);
        const char *got = ae_language_for_path(extension_rows[i].path);
        if (!want) {
            if (l || got) fail_msg("%s: expected no language", extension_rows[i].path);
            continue;
        }
        if (!l || !got) fail_msg("%s: expected %s, got none", extension_rows[i].path, want);
        assert_string_equal(l->name, want);
        assert_string_equal(got, want); /* symbols/files.c answers from the same table */
    }
}

static void test_family_rows(void **state)
{
    for (size_t i = 0; i < sizeof family_rows / sizeof family_rows[0]; i++) {
        const lang_info *l = lang_or_other(family_rows[i].name);
        assert_non_null(l);
        if (l->family != family_rows[i].family)
            fail_msg("%s: family %d, expected %d",
                     family_rows[i].name ? family_rows[i].name : "NULL", l->family,
                     family_rows[i].family);
    }
}

/* Every row: found by its name in any case, an extension owned by one row only, a syntax. */
static void test_table_is_consistent(void **state)
{
    size_t n;
    const lang_info *rows = lang_table(&n);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(lang_by_name(rows[i].name), &rows[i]);
        char upper[32];
        size_t k = 0;
        for (; rows[i].name[k] && k + 1 < sizeof upper; k++)
            upper[k] =
                (char)(rows[i].name[k] >= 'a' && rows[i].name[k] <= 'z' ? rows[i].name[k] - 32
                                                                        : rows[i].name[k]);
        upper[k] = '\0';
        assert_ptr_equal(lang_by_name(upper), &rows[i]);
        assert_non_null(rows[i].syntax);
        const char *ext = rows[i].extensions;
        while (ext && *ext) {
            size_t w = strcspn(ext, " ");
            char path[32];
            assert_true(w > 1 && w < sizeof path - 2 && ext[0] == '.');
            snprintf(path, sizeof path, "f%.*s", (int)w, ext);
            if (lang_for_path(path) != &rows[i])
                fail_msg("%s belongs to %s, not %s", path, lang_for_path(path)->name, rows[i].name);
            ext += w;
            ext += strspn(ext, " ");
        }
    }
    assert_null(lang_by_name("ruby"));
    assert_null(lang_by_name(NULL));
    assert_non_null(lang_or_other("ruby"));
    assert_null(lang_for_path(NULL));
}

/* ---- the lexical rules, one sample per row ---------------------------------------------- */

/* input starts with the literal or comment of the rule (syntax, open); want is the input with
 * comments and literal contents blanked, as the static provider sees it. */
static const struct rule_case {
    const lang_syntax *syntax;
    const char *open;
    const char *input, *want;
} rule_cases[] = {
    {&lang_syntax_c, "//", "// f(x) {\ng();", "         \ng();"},
    {&lang_syntax_c, "/*", "/* f(\n } */g();", "     \n     g();"},
    {&lang_syntax_c, "\"", "\"a\\\"(\" g()", "\"    \" g()"},
    {&lang_syntax_c, "'", "'{' g()", "' ' g()"},
    {&lang_syntax_cpp, "//", "// {\nx", "    \nx"},
    {&lang_syntax_cpp, "/*", "/*{*/x", "     x"},
    {&lang_syntax_cpp, "R\"", "R\"(a \"}\" b)\" x", "R\"(       )\" x"},
    {&lang_syntax_cpp, "u8R\"", "u8R\"xy(})\")xy\" x", "u8R\"xy(   )xy\" x"},
    {&lang_syntax_cpp, "uR\"", "uR\"(})\" x", "uR\"( )\" x"},
    {&lang_syntax_cpp, "UR\"", "UR\"(})\" x", "UR\"( )\" x"},
    {&lang_syntax_cpp, "LR\"", "LR\"(})\" x", "LR\"( )\" x"},
    {&lang_syntax_cpp, "\"", "\"{\" x", "\" \" x"},
    {&lang_syntax_cpp, "'", "'}' x", "' ' x"},
    {&lang_syntax_rust, "//", "/// doc f()\nx", "           \nx"},
    {&lang_syntax_rust, "/*", "/* a /* b */ f() */x", "                   x"},
    {&lang_syntax_rust, "r", "r#\"say \"}\" now\"# x", "r#\"           \"# x"},
    {&lang_syntax_rust, "br", "br##\"a\"#b\"## x", "br##\"    \"## x"},
    {&lang_syntax_rust, "cr", "cr\"}\" x", "cr\" \" x"},
    {&lang_syntax_rust, "\"", "\"a\n f(x)\" y", "\" \n     \" y"},
    {&lang_syntax_rust, "'", "'\\'' x", "'  ' x"},
    {&lang_syntax_go, "//", "// f()\nx", "      \nx"},
    {&lang_syntax_go, "/*", "/* f() */x", "         x"},
    {&lang_syntax_go, "\"", "\"f()\" x", "\"   \" x"},
    {&lang_syntax_go, "'", "'{' x", "' ' x"},
    {&lang_syntax_go, "`", "`a\\` f()", "`  ` f()"}, /* no escapes in raw strings */
    {&lang_syntax_python, "#", "# f()\nx", "     \nx"},
    {&lang_syntax_python, "\"\"\"", "\"\"\"a \"\n f()\"\"\" x", "\"\"\"   \n    \"\"\" x"},
    {&lang_syntax_python, "'''", "'''f()''' x", "'''   ''' x"},
    {&lang_syntax_python, "\"", "\"it's\" x", "\"    \" x"},
    {&lang_syntax_python, "'", "'a\"b' x", "'   ' x"},
    {&lang_syntax_js, "//", "// f()\nx", "      \nx"},
    {&lang_syntax_js, "/*", "/** f() */x", "          x"},
    {&lang_syntax_js, "\"", "\"f()\" x", "\"   \" x"},
    {&lang_syntax_js, "'", "'f()' x", "'   ' x"},
    {&lang_syntax_js, "`", "`a \\` {\n b` x", "`      \n  ` x"},
    {&lang_syntax_java, "//", "// f()\nx", "      \nx"},
    {&lang_syntax_java, "/*", "/* f() */x", "         x"},
    {&lang_syntax_java, "\"\"\"", "\"\"\"\n } \"\n\"\"\" x", "\"\"\"\n    \n\"\"\" x"},
    {&lang_syntax_java, "\"", "\"f()\" x", "\"   \" x"},
    {&lang_syntax_java, "'", "'{' x", "' ' x"},
    {&lang_syntax_other, "//", "// f()\nx", "      \nx"},
    {&lang_syntax_other, "/*", "/* f() */x", "         x"},
    {&lang_syntax_other, "\"", "\"f()\" x", "\"   \" x"},
    {&lang_syntax_other, "'", "'f()' x", "'   ' x"},
    {&lang_syntax_other, "`", "`f()` x", "`   ` x"},
};

/* A language row whose syntax is syn (to call the lexer the way its users do). */
static const lang_info *lang_with(const lang_syntax *syn)
{
    size_t n;
    const lang_info *rows = lang_table(&n);
    for (size_t i = 0; i < n; i++)
        if (rows[i].syntax == syn) return &rows[i];
    const lang_info *other = lang_or_other(NULL);
    assert_ptr_equal(other->syntax, syn);
    return other;
}

static void test_rule_rows(void **state)
{
    size_t nsyn;
    const lang_syntax *const *syns = lang_syntaxes(&nsyn);
    size_t ncases = sizeof rule_cases / sizeof rule_cases[0], used = 0, bad = 0;
    for (size_t s = 0; s < nsyn; s++) {
        const lang_syntax *syn = syns[s];
        const lang_info *lang = lang_with(syn);
        for (size_t r = 0; r < syn->nrules; r++) {
            const lang_rule *rule = &syn->rules[r];
            for (size_t o = 0; o < r; o++) /* a row is named by its opening */
                assert_string_not_equal(syn->rules[o].open, rule->open);
            size_t samples = 0;
            for (size_t c = 0; c < ncases; c++) {
                const struct rule_case *k = &rule_cases[c];
                if (k->syntax != syn || strcmp(k->open, rule->open) != 0) continue;
                samples++;
                used++;
                size_t n = strlen(k->input);
                lang_lexer lx;
                lang_token tok;
                lang_lexer_init(&lx, lang, k->input, 0, n);
                assert_true(lang_lex(&lx, &tok));
                if (tok.rule != rule)
                    fail_msg("%s %s: sample %s matched %s", syn->name, rule->open, k->input,
                             tok.rule ? tok.rule->open : "no rule");
                assert_int_equal(tok.start, 0);
                char *got = lang_blank(lang, k->input, n, true);
                assert_non_null(got);
                bool same = strcmp(got, k->want) == 0;
                if (!same)
                    print_error("%s %s: blank(%s) = [%s], expected [%s]\n", syn->name, rule->open,
                                k->input, got, k->want);
                free(got);
                bad += !same;
                char *raw = lang_blank(lang, k->input, n, false); /* literals kept */
                assert_non_null(raw);
                for (size_t i = 0; i < n; i++)
                    if (tok.kind == LANG_TOK_STRING && i < tok.end)
                        assert_int_equal(raw[i], k->input[i]);
                free(raw);
            }
            if (samples == 0) fail_msg("%s: rule %s has no sample", syn->name, rule->open);
        }
    }
    assert_int_equal(bad, 0);
    assert_int_equal(used, ncases); /* every sample names a row that exists */
}

/* ---- the lexer's edges ------------------------------------------------------------------- */

static lang_token first_token(const char *language, const char *text, size_t from)
{
    lang_lexer lx;
    lang_token tok;
    lang_lexer_init(&lx, lang_or_other(language), text, from, strlen(text));
    assert_true(lang_lex(&lx, &tok));
    return tok;
}

static void test_lexer_edges(void **state)
{
    /* Rust: lifetimes and labels are code, chars of one UTF-8 character are literals */
    assert_int_equal(first_token("rust", "'a str", 0).kind, LANG_TOK_CODE);
    assert_int_equal(first_token("rust", "'outer: loop", 0).kind, LANG_TOK_CODE);
    assert_int_equal(first_token("rust", "'\xc3\xa9' x", 0).kind, LANG_TOK_STRING);
    assert_int_equal(first_token("rust", "'\xc3\xa9' x", 0).end, 4);
    assert_int_equal(first_token("rust", "'\\u{1F600}' x", 0).end, 11);
    assert_int_equal(first_token("rust", "'' x", 0).kind, LANG_TOK_CODE);
    /* a raw string prefix must start a word: `bar"x"` is an identifier then a string */
    char *b = lang_blank(lang_by_name("rust"), "bar\"x\" ", 7, true);
    assert_string_equal(b, "bar\" \" ");
    free(b);
    assert_int_equal(first_token("rust", "xr\"a\"", 1).kind, LANG_TOK_CODE); /* looks back */
    assert_int_equal(first_token("rust", "r#x", 0).kind, LANG_TOK_CODE);     /* not raw */
    /* C++: a delimiter longer than 16 bytes is not a raw string */
    assert_int_equal(first_token("cpp", "R\"aaaaaaaaaaaaaaaaa(x)aaaaaaaaaaaaaaaaa\"", 0).kind,
                     LANG_TOK_CODE);
    /* single-line literals stop before the newline, which stays code */
    lang_token t = first_token("c", "\"abc\nd\"", 0);
    assert_false(t.closed);
    assert_int_equal(t.end, 4);
    /* ... unless a backslash continues them */
    t = first_token("c", "\"ab\\\ncd\" x", 0);
    assert_true(t.closed);
    assert_int_equal(t.end, 8);
    /* unclosed block comments and raw strings run to the limit */
    t = first_token("rust", "/* /* */ x", 0);
    assert_false(t.closed);
    assert_int_equal(t.end, 10);
    t = first_token("rust", "r#\"abc\" x", 0);
    assert_false(t.closed);
    assert_int_equal(t.end, 9);
    /* an escape at the limit does not read past it */
    lang_lexer lx;
    lang_lexer_init(&lx, lang_by_name("c"), "\"ab\\", 0, 4);
    assert_true(lang_lex(&lx, &t));
    assert_int_equal(t.end, 4);
    assert_false(lang_lex(&lx, &t));
    /* a limit inside a literal cuts it */
    lang_lexer_init(&lx, lang_by_name("go"), "`abc` x", 0, 3);
    assert_true(lang_lex(&lx, &t));
    assert_int_equal(t.end, 3);
    assert_false(t.closed);
    /* comment markers per language */
    assert_string_equal(lang_line_comment(lang_by_name("python")), "#");
    assert_string_equal(lang_line_comment(lang_by_name("go")), "//");
    const char *o, *c;
    assert_false(lang_block_comment(lang_by_name("python"), &o, &c));
    assert_true(lang_block_comment(lang_by_name("java"), &o, &c));
    assert_string_equal(o, "/*");
    assert_string_equal(c, "*/");
}

/* ---- where the two old lexers disagreed: both users, one answer -------------------------- */

static int end_line(const char *language, const char *text)
{
    src_text s;
    assert_int_equal(src_text_init(&s, text, strlen(text)), 0);
    int end = span_end_line(&s, language, "function", 1, 0);
    src_text_free(&s);
    return end;
}

/* The static provider's dependencies for a body: the blanker at work. */
static bool depends_on(const char *language, const char *source, const char *name)
{
    ae_symbol sym = {0};
    sym.language = (char *)language;
    sym.kind = (char *)"function";
    sym.name = (char *)"f";
    sym.qualified_name = (char *)"f";
    sym.source = (char *)source;
    ae_sir out;
    ae_error err = {0};
    assert_int_equal(ae_sir_generate_static(&sym, &out, &err), 0);
    bool found = false;
    for (size_t i = 0; i < out.dependencies.len; i++)
        found |= strcmp(out.dependencies.items[i], name) == 0;
    ae_sir_clear(&out);
    return found;
}

static void test_old_disagreements(void **state)
{
    /* Rust raw strings: span.c read the "}" inside as the end of the body */
    const char *rust_raw = "fn f() {\n    let s = r#\"say \"}\" now\"#;\n    g();\n}\nfn h() {}\n";
    assert_int_equal(end_line("rust", rust_raw), 4);
    assert_true(depends_on("rust", rust_raw, "g"));
    assert_false(depends_on("rust", "fn f() { let s = r#\"a \" x(1) \"#; }", "x"));

    /* Rust strings cross lines: the blanker stopped them at the newline */
    const char *rust_ml = "fn f() {\n    let s = \"a\n } fake(x)\";\n    g();\n}\n";
    assert_int_equal(end_line("rust", rust_ml), 5);
    assert_false(depends_on("rust", rust_ml, "fake"));
    assert_true(depends_on("rust", rust_ml, "g"));

    /* Rust '\'': the blanker ended the literal at the escaped quote */
    char *b = lang_blank(lang_by_name("rust"), "['\\'','(']", 10, true);
    assert_string_equal(b, "['  ',' ']");
    free(b);

    /* JS template literals have escapes: span.c ended this one at the \` */
    const char *js = "function f() {\n  const s = `a \\` { b`;\n  return s;\n}\nfunction g() {}\n";
    assert_int_equal(end_line("javascript", js), 4);
    assert_false(depends_on("javascript", "function f() { return `\\` x(1) `; }", "x"));

    /* Java text blocks (neither lexer knew them) */
    const char *java = "String f() {\n    String t = \"\"\"\n        } \"\n        \"\"\";\n"
                       "    return t;\n}\nString g() { return \"\"; }\n";
    assert_int_equal(end_line("java", java), 6);
    assert_false(depends_on("java", "String f() { return \"\"\"\n  x(1)\n  \"\"\"; }", "x"));

    /* the taxonomy: span.c compared names exactly, family_of ignored case */
    assert_int_equal(end_line("Rust", rust_raw), 4);
}

/* Doc comments and docstrings read through the same lexer. */
static char *doc_of(const char *language, const char *kind, const char *text, int start)
{
    src_text s;
    assert_int_equal(src_text_init(&s, text, strlen(text)), 0);
    int end = span_end_line(&s, language, kind, start, 0);
    char *d = span_doc(&s, language, kind, start, 0, end);
    src_text_free(&s);
    return d;
}

static void test_docs(void **state)
{
    char *d =
        doc_of("python", "function", "def f():\n    r\"\"\"Raw doc.\"\"\"\n    return 1\n", 1);
    assert_string_equal(d, "Raw doc.");
    free(d);
    d = doc_of("python", "function", "def f():\n    # note\n    'one line'\n", 1);
    assert_string_equal(d, "one line");
    free(d);
    d = doc_of("python", "function", "def f():\n    'cut\n    return 1\n", 1);
    assert_null(d); /* a one-line string cut by a newline is no docstring */
    d = doc_of("python", "function", "def f():\n    x = 'no'\n", 1);
    assert_null(d);
    d = doc_of("python", "function", "#!/usr/bin/env python\ndef f():\n    pass\n", 2);
    assert_null(d); /* a shebang is no doc */
    d = doc_of("rust", "function", "/// Adds.\n#[inline]\nfn f() {}\n", 3);
    assert_string_equal(d, "Adds.");
    free(d);
    d = doc_of("rust", "function", "//! Module doc.\nfn f() {}\n", 2);
    assert_null(d); /* an inner doc belongs to the module */
    d = doc_of("cpp", "function", "/** Sums. */\n[[nodiscard]]\nint f() { return 1; }\n", 3);
    assert_string_equal(d, "Sums.");
    free(d);
    d = doc_of("go", "function", "// Run runs.\n// More.\nfunc Run() {}\n", 3);
    assert_string_equal(d, "Run runs. More.");
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extension_rows),
        cmocka_unit_test(test_family_rows),
        cmocka_unit_test(test_table_is_consistent),
        cmocka_unit_test(test_rule_rows),
        cmocka_unit_test(test_lexer_edges),
        cmocka_unit_test(test_old_disagreements),
        cmocka_unit_test(test_docs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
