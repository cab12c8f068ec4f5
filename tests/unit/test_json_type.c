/* util/json_type.h: the type names the MCP and LSP servers put in their
 * "must be X, not Y" messages, one row per JSON type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "util/json_type.h"

static void test_every_type(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *name;
    } rows[] = {
        {"{}", "an object"}, {"[]", "an array"},    {"\"x\"", "a string"},  {"7", "an integer"},
        {"7.5", "a number"}, {"true", "a boolean"}, {"false", "a boolean"}, {"null", "null"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        json_error_t jerr;
        json_t *v = json_loads(rows[i].json, JSON_DECODE_ANY, &jerr);
        assert_non_null(v);
        assert_string_equal(ae_json_type_name(v), rows[i].name);
        json_decref(v);
    }
    assert_string_equal(ae_json_type_name(NULL), "missing");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
