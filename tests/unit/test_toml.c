/* TOML subset: every accepted construct parses to the right typed value and
 * line, and every rejected one fails with AE_ECONFIG naming PATH:LINE. */
#include "config/toml.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static ae_toml_table *parse_ok(const char *text)
{
    ae_toml_table *t = NULL;
    ae_error err = {0};
    int rc = ae_toml_parse(text, strlen(text), "t.toml", &t, &err);
    if (rc != 0) fail_msg("parse failed: %s", err.message);
    assert_non_null(t);
    return t;
}

static const ae_toml_value *get(const ae_toml_table *t, const char *path, ae_toml_type type)
{
    const ae_toml_value *v = ae_toml_get_path(t, path);
    if (!v) fail_msg("missing %s", path);
    if (v->type != type)
        fail_msg("%s: type %s, want %s", path, ae_toml_type_name(v->type), ae_toml_type_name(type));
    return v;
}

static const char DOC[] = "# leading comment\n"
                          "title = \"aether\" # trailing comment\n"
                          "bare-key_1 = 'C:\\path\\no escapes'\n"
                          "\"quoted key\" = true\n"
                          "'lit key' = false\n"
                          "\n"
                          "[ints]\n"
                          "dec = 42\n"
                          "neg = -17\n"
                          "plus = +5\n"
                          "under = 1_000_000\n"
                          "hex = 0xDEAD_beef\n"
                          "oct = 0o755\n"
                          "bin = 0b1011\n"
                          "min = -9223372036854775808\n"
                          "max = 9223372036854775807\n"
                          "zero = 0\n"
                          "\n"
                          "[floats]\n"
                          "a = 1.5\n"
                          "b = -2e3\n"
                          "c = 6.25E-1\n"
                          "d = 1_000.5\n"
                          "e = inf\n"
                          "f = -inf\n"
                          "g = nan\n"
                          "h = 0.0\n"
                          "\n"
                          "[strings]\n"
                          "esc = \"tab\\there\\n\\\"q\\\" \\\\ \\u00e9 \\U0001F600\"\n"
                          "empty = \"\"\n"
                          "ml = \"\"\"\n"
                          "line one\n"
                          "line two\"\"\"\n"
                          "trim = \"\"\"a \\\n"
                          "     b\"\"\"\n"
                          "lit_ml = '''\n"
                          "raw \\n text'''\n"
                          "quotes = \"\"\"x\"\"\"\"\"\n"
                          "\n"
                          "[a.b]  # nested header\n"
                          "c = 1\n"
                          "dotted.key = \"v\"\n"
                          "\n"
                          "[arrays]\n"
                          "nums = [1, 2, 3]\n"
                          "multi = [\n"
                          "  \"x\",  # comment in array\n"
                          "  \"y\",\n"
                          "]\n"
                          "nested = [[1, 2], ['a']]\n"
                          "empty = []\n"
                          "mixed = [1, 2.5, \"s\", true]\n";

static void test_parse_document(void **state)
{
    (void)state;
    ae_toml_table *t = parse_ok(DOC);
    const ae_toml_value *v;

    v = get(t, "title", AE_TOML_STRING);
    assert_string_equal(v->u.str, "aether");
    assert_int_equal(v->line, 2);
    assert_string_equal(get(t, "bare-key_1", AE_TOML_STRING)->u.str, "C:\\path\\no escapes");
    assert_true(get(t, "quoted key", AE_TOML_BOOL)->u.b);
    assert_false(ae_toml_get(t, "lit key")->u.b);

    assert_int_equal(get(t, "ints.dec", AE_TOML_INT)->u.i, 42);
    assert_int_equal(get(t, "ints.dec", AE_TOML_INT)->line, 8);
    assert_int_equal(get(t, "ints.neg", AE_TOML_INT)->u.i, -17);
    assert_int_equal(get(t, "ints.plus", AE_TOML_INT)->u.i, 5);
    assert_int_equal(get(t, "ints.under", AE_TOML_INT)->u.i, 1000000);
    assert_int_equal(get(t, "ints.hex", AE_TOML_INT)->u.i, 0xDEADBEEF);
    assert_int_equal(get(t, "ints.oct", AE_TOML_INT)->u.i, 0755);
    assert_int_equal(get(t, "ints.bin", AE_TOML_INT)->u.i, 11);
    assert_true(get(t, "ints.min", AE_TOML_INT)->u.i == INT64_MIN);
    assert_true(get(t, "ints.max", AE_TOML_INT)->u.i == INT64_MAX);
    assert_int_equal(get(t, "ints.zero", AE_TOML_INT)->u.i, 0);

    assert_true(get(t, "floats.a", AE_TOML_FLOAT)->u.f == 1.5);
    assert_true(get(t, "floats.b", AE_TOML_FLOAT)->u.f == -2000.0);
    assert_true(get(t, "floats.c", AE_TOML_FLOAT)->u.f == 0.625);
    assert_true(get(t, "floats.d", AE_TOML_FLOAT)->u.f == 1000.5);
    assert_true(isinf(get(t, "floats.e", AE_TOML_FLOAT)->u.f));
    assert_true(get(t, "floats.f", AE_TOML_FLOAT)->u.f < 0);
    assert_true(isnan(get(t, "floats.g", AE_TOML_FLOAT)->u.f));
    assert_true(get(t, "floats.h", AE_TOML_FLOAT)->u.f == 0.0);

    assert_string_equal(get(t, "strings.esc", AE_TOML_STRING)->u.str,
                        "tab\there\n\"q\" \\ \xc3\xa9 \xf0\x9f\x98\x80");
    assert_string_equal(get(t, "strings.empty", AE_TOML_STRING)->u.str, "");
    v = get(t, "strings.ml", AE_TOML_STRING);
    assert_string_equal(v->u.str, "line one\nline two");
    assert_int_equal(v->line, 32);
    assert_string_equal(get(t, "strings.trim", AE_TOML_STRING)->u.str, "a b");
    assert_string_equal(get(t, "strings.lit_ml", AE_TOML_STRING)->u.str, "raw \\n text");
    assert_string_equal(get(t, "strings.quotes", AE_TOML_STRING)->u.str, "x\"\"");

    v = get(t, "a", AE_TOML_TABLE);
    assert_int_equal(v->line, 41); /* implicitly created by [a.b] */
    v = get(t, "a.b", AE_TOML_TABLE);
    assert_int_equal(v->line, 41);
    assert_int_equal(get(t, "a.b.c", AE_TOML_INT)->u.i, 1);
    assert_string_equal(get(t, "a.b.dotted.key", AE_TOML_STRING)->u.str, "v");
    assert_int_equal(get(t, "a.b.dotted.key", AE_TOML_STRING)->line, 43);

    v = get(t, "arrays.nums", AE_TOML_ARRAY);
    assert_int_equal(v->u.array.len, 3);
    assert_int_equal(v->u.array.items[2].u.i, 3);
    v = get(t, "arrays.multi", AE_TOML_ARRAY);
    assert_int_equal(v->u.array.len, 2);
    assert_string_equal(v->u.array.items[1].u.str, "y");
    assert_int_equal(v->u.array.items[1].line, 49);
    v = get(t, "arrays.nested", AE_TOML_ARRAY);
    assert_int_equal(v->u.array.len, 2);
    assert_int_equal(v->u.array.items[0].type, AE_TOML_ARRAY);
    assert_int_equal(v->u.array.items[0].u.array.items[1].u.i, 2);
    assert_string_equal(v->u.array.items[1].u.array.items[0].u.str, "a");
    assert_int_equal(get(t, "arrays.empty", AE_TOML_ARRAY)->u.array.len, 0);
    v = get(t, "arrays.mixed", AE_TOML_ARRAY);
    assert_int_equal(v->u.array.items[3].type, AE_TOML_BOOL);

    assert_null(ae_toml_get_path(t, "ints.nope"));
    assert_null(ae_toml_get_path(t, "title.sub"));
    assert_null(ae_toml_get(t, "nope"));
    ae_toml_free(t);
}

static void test_crlf_bom_and_empty(void **state)
{
    (void)state;
    ae_toml_table *t = parse_ok("\xEF\xBB\xBF# c\r\n[s]\r\nk = \"v\"\r\nn = [\r\n 1,\r\n]\r\n");
    assert_string_equal(get(t, "s.k", AE_TOML_STRING)->u.str, "v");
    assert_int_equal(get(t, "s.k", AE_TOML_STRING)->line, 3);
    assert_int_equal(get(t, "s.n", AE_TOML_ARRAY)->u.array.len, 1);
    ae_toml_free(t);

    t = parse_ok("k = \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\" # \xe6\x97\xa5\n");
    assert_string_equal(ae_toml_get(t, "k")->u.str, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    ae_toml_free(t);

    t = parse_ok("");
    assert_int_equal(t->len, 0);
    ae_toml_free(t);

    /* Not NUL-terminated: only len bytes are read. */
    const char buf[] = {'a', '=', '1', 'x'};
    ae_error err = {0};
    assert_int_equal(ae_toml_parse(buf, 3, NULL, &t, &err), 0);
    assert_int_equal(ae_toml_get(t, "a")->u.i, 1);
    ae_toml_free(t);
}

static const struct {
    const char *text;
    size_t len; /* 0: strlen */
    const char *want;
} BAD[] = {
    {"a = 1\na = 2\n", 0, "t.toml:2: duplicate key 'a' (first defined on line 1)"},
    {"[s]\nx.y = 1\nx.y = 2\n", 0, "t.toml:3: duplicate key 'x.y' (first defined on line 2)"},
    {"[x]\n\n[x]\n", 0, "t.toml:3: table [x] is defined twice (first on line 1)"},
    {"[a]\nb.c = 1\n[a.b]\n", 0, "t.toml:3: table [a.b] was already created by dotted keys"},
    {"a = 1\n[a.b]\n", 0, "t.toml:2: [a.b]: key 'a' is already a value of type integer"},
    {"a = 1\na.b = 2\n", 0, "t.toml:2: key 'a' is already a value of type integer"},
    {"a = \"abc\n", 0, "t.toml:1: unterminated string"},
    {"\n\nb = {x = 1}\n", 0, "t.toml:3: inline tables ({...}) are not supported"},
    {"[[t]]\n", 0, "t.toml:1: arrays of tables ([[...]]) are not supported"},
    {"x = 1\nd = 1979-05-27\n", 0, "t.toml:2: dates and times are not supported"},
    {"x = 07:32:00\n", 0, "t.toml:1: dates and times are not supported"},
    {"[e]\nprovider = hash\n", 0, "t.toml:2: expected a value, found 'hash' (strings need quotes)"},
    {"x = 1 2\n", 0, "t.toml:1: expected end of line after the value, found '2'"},
    {"[s] junk\n", 0, "t.toml:1: expected end of line after the table header, found 'j'"},
    {"x = [1, 2\n\n", 0, "t.toml:1: unterminated array (missing ']')"},
    {"x = [\n1\n2]\n", 0, "t.toml:3: expected ',' or ']' in the array opened on line 1, found '2'"},
    {"x = [1,,2]\n", 0, "t.toml:1: expected a value, found ','"},
    {"x = \"\\q\"\n", 0, "t.toml:1: invalid escape '\\'q''"},
    {"x = \"\\u12\"\n", 0, "t.toml:1: \\u escape needs 4 hex digits"},
    {"x = \"\\uD800\"\n", 0, "t.toml:1: \\uD800 is not a Unicode scalar value"},
    {"x = \"\\u0000\"\n", 0, "t.toml:1: \\u0000 (NUL) is not allowed"},
    {"x = 0123\n", 0, "t.toml:1: leading zeros are not allowed in '0123'"},
    {"x = 9223372036854775808\n", 0, "t.toml:1: integer '9223372036854775808' does not fit"},
    {"x = -9223372036854775809\n", 0, "does not fit in 64 bits"},
    {"x = 0x1_0000_0000_0000_0000\n", 0, "does not fit in 64 bits"},
    {"x = 1__0\n", 0, "t.toml:1: invalid number '1__0'"},
    {"x = 1_\n", 0, "t.toml:1: invalid number '1_'"},
    {"x = -0x10\n", 0, "t.toml:1: a sign is not allowed on '-0x10'"},
    {"x = 0xG\n", 0, "t.toml:1: invalid base-16 integer '0xG'"},
    {"x = 1.\n", 0, "t.toml:1: invalid float '1.': a '.' needs digits on both sides"},
    {"x = 1e\n", 0, "t.toml:1: invalid float '1e': bad exponent"},
    {"x = 1e999\n", 0, "t.toml:1: float '1e999' is out of range"},
    {"x = 1.2.3\n", 0, "t.toml:1: invalid number '1.2.3'"},
    {"x =\n", 0, "t.toml:1: missing value for key 'x'"},
    {"x = # nothing\n", 0, "t.toml:1: missing value for key 'x'"},
    {"= 1\n", 0, "t.toml:1: expected a key, found '='"},
    {"x 1\n", 0, "t.toml:1: expected '=' after key 'x', found '1'"},
    {"\n[a\n", 0, "t.toml:2: expected ']' to close the table header, found end of line"},
    {"x = \"a\x01"
     "b\"\n",
     0, "t.toml:1: control character 0x01 in string"},
    {"# bad \x7f comment\n", 0, "t.toml:1: control character 0x7f in comment"},
    {"x = 1\r y = 2\n", 0, "t.toml:1: bare carriage return"},
    {"\r", 0, "t.toml:1: bare carriage return"},
    {"a\0b = 1\n", 8, "t.toml:1: expected '=' after key 'a', found byte 0x00"},
    {"x = '''abc\n\n", 0, "t.toml:1: unterminated multi-line string (missing ''')"},
    {"x = \"\"\"abc\"\"\"\"\"\"\n", 0, "t.toml:1: too many quotes closing a multi-line string"},
    {"\"\"\"k\"\"\" = 1\n", 0, "t.toml:1: multi-line strings cannot be keys"},
    {"x = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n", 0,
     "t.toml:1: arrays nested deeper than 64"},
    {"a = 1\nx = \"\xff\"\n", 0, "t.toml:2: invalid UTF-8 (byte 0xff)"},
    {"x = \"\xc0\xaf\"\n", 0, "t.toml:1: invalid UTF-8 (byte 0xc0)"},       /* overlong '/' */
    {"x = \"\xed\xa0\x80\"\n", 0, "t.toml:1: invalid UTF-8 (byte 0xed)"},   /* surrogate */
    {"x = \"\xf4\x90\x80\x80\"", 0, "t.toml:1: invalid UTF-8 (byte 0xf4)"}, /* > U+10FFFF */
    {"# \xe2\x82\n", 0, "t.toml:1: invalid UTF-8 (byte 0xe2)"},             /* truncated */
    {"x = tru\n", 0, "t.toml:1: expected a value, found 'tru' (strings need quotes)"},
    {"x = 'no\nend'\n", 0, "t.toml:1: unterminated string (missing ')"},
};

static void test_errors_name_file_and_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        ae_toml_table *t = (ae_toml_table *)1;
        ae_error err = {0};
        size_t len = BAD[i].len ? BAD[i].len : strlen(BAD[i].text);
        int rc = ae_toml_parse(BAD[i].text, len, "t.toml", &t, &err);
        if (rc != AE_ECONFIG)
            fail_msg("case %zu (%s): rc %d, message '%s'", i, BAD[i].want, rc, err.message);
        assert_null(t);
        assert_int_equal(err.code, AE_ECONFIG);
        if (!strstr(err.message, BAD[i].want))
            fail_msg("case %zu: message '%s' lacks '%s'", i, err.message, BAD[i].want);
    }
}

static void test_path_defaults_to_input(void **state)
{
    (void)state;
    ae_toml_table *t = NULL;
    ae_error err = {0};
    assert_int_equal(ae_toml_parse("x = ?", 5, NULL, &t, &err), AE_ECONFIG);
    assert_string_equal(err.message, "<input>:1: expected a value, found '?'");
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(ae_toml_type_name(AE_TOML_STRING), "string");
    assert_string_equal(ae_toml_type_name(AE_TOML_INT), "integer");
    assert_string_equal(ae_toml_type_name(AE_TOML_FLOAT), "float");
    assert_string_equal(ae_toml_type_name(AE_TOML_BOOL), "boolean");
    assert_string_equal(ae_toml_type_name(AE_TOML_ARRAY), "array");
    assert_string_equal(ae_toml_type_name(AE_TOML_TABLE), "table");
    ae_toml_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_document),
        cmocka_unit_test(test_crlf_bom_and_empty),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_path_defaults_to_input),
        cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
