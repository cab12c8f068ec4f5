/* ae_config_override: one known key set from text (the --inference-* flags), validated by the
 * same key table as the file, row by row; messages name the origin instead of path:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "config/config.h"

typedef struct row {
    const char *section, *key, *value;
    int rc;             /* 0 or AE_ECONFIG */
    const char *expect; /* substring of the message, or NULL */
} row;

static const row rows[] = {
    {"inference", "provider", "ollama", 0, NULL},
    {"inference", "provider", "olama", AE_ECONFIG,
     "--flag: [inference] provider = \"olama\" is not supported; accepted: \"auto\""},
    {"inference", "provider", "", AE_ECONFIG, "is not supported"},
    {"inference", "model", "qwen2.5-coder:7b", 0, NULL},
    {"inference", "endpoint", "http://127.0.0.1:11434", 0, NULL},
    {"inference", "endpoint", "https://api.openai.com", 0, NULL},
    {"inference", "endpoint", "ftp://x", AE_ECONFIG,
     "--flag: [inference] endpoint 'ftp://x' must start with http:// or https://"},
    {"inference", "api_key_env", "OPENAI_API_KEY", 0, NULL},
    {"inference", "temperature", "0", AE_ECONFIG, "--flag: [inference] temperature is not a known"},
    {"embeddings", "enabled", "false", 0, NULL},
    {"embeddings", "enabled", "no", AE_ECONFIG, "must be true or false, not 'no'"},
    {"embeddings", "dim", "768", 0, NULL},
    {"embeddings", "dim", "0", AE_ECONFIG,
     "[embeddings] dim = 0 is out of range; accepted: 1..16384"},
    {"embeddings", "dim", "12x", AE_ECONFIG, "must be an integer, not '12x'"},
    {"search", "target_recall", "0.97", 0, NULL},
    {"search", "target_recall", "1", AE_ECONFIG,
     "--flag: [search] target_recall = 1 is out of range; accepted: a number between 0 and 1"},
    {"search", "target_recall", "nan", AE_ECONFIG, "[search] target_recall = nan is out of range"},
    {"search", "target_recall", "0.9x", AE_ECONFIG,
     "[search] target_recall must be a number, not '0.9x'"},
    {"search", "target_recall", "", AE_ECONFIG, "must be a number, not ''"},
    {"search", "index_build_memory_mb", "4096", 0, NULL},
    {"search", "index_build_memory_mb", "8", AE_ECONFIG,
     "--flag: [search] index_build_memory_mb = 8 is out of range; accepted: 16..1048576 (MiB)"},
    {"search", "index_build_memory_mb", "2G", AE_ECONFIG, "must be an integer, not '2G'"},
};

static void test_rows(void **state)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ae_config c;
        ae_config_init_defaults(&c);
        ae_error err = {0};
        int rc =
            ae_config_override(&c, rows[i].section, rows[i].key, rows[i].value, "--flag", &err);
        if (rc != rows[i].rc)
            fail_msg("row %zu (%s.%s=%s): rc %d, wanted %d (%s)", i, rows[i].section, rows[i].key,
                     rows[i].value, rc, rows[i].rc, err.message);
        if (rows[i].expect && !strstr(err.message, rows[i].expect))
            fail_msg("row %zu: message '%s' lacks '%s'", i, err.message, rows[i].expect);
        ae_config_free(&c);
    }
}

static void test_values_land(void **state)
{
    ae_config c;
    ae_config_init_defaults(&c);
    ae_error err = {0};
    assert_int_equal(ae_config_override(&c, "inference", "provider", "openai_compat", "p", &err),
                     0);
    assert_int_equal(ae_config_override(&c, "inference", "model", "m", "m", &err), 0);
    assert_int_equal(ae_config_override(&c, "embeddings", "enabled", "false", "e", &err), 0);
    assert_int_equal(ae_config_override(&c, "embeddings", "dim", "99", "d", &err), 0);
    assert_string_equal(c.inference.provider, "openai_compat");
    assert_string_equal(c.inference.model, "m");
    assert_false(c.embeddings.enabled);
    assert_int_equal(c.embeddings.dim, 99);
    /* an empty string unsets a string key */
    assert_int_equal(ae_config_override(&c, "inference", "model", "", "m", &err), 0);
    assert_null(c.inference.model);
    /* a failed override leaves the value as it was */
    assert_int_equal(ae_config_override(&c, "inference", "provider", "nope", "p", &err),
                     AE_ECONFIG);
    assert_string_equal(c.inference.provider, "openai_compat");
    ae_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_values_land),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
