/* SIR generation over HTTP against a real loopback server (tests/http_stub/stub.h): the request
 * each API gets, reply parsing (fences, prose), validation with bounded re-asks, transport
 * retries, response_format fallback, prompt bounds, and the unified provider handle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http_stub/stub.h"

#include "sir/sir_provider.h"
#include "util/err.h"

#define KEY     "sk-sir-SECRET-777"
#define KEY_ENV "AE_TEST_SIR_KEY"

AE_STATIC char *sir_http_reply_json(const char *content);
AE_STATIC char *sir_http_user_prompt(const ae_symbol *sym, size_t max_source);

static stub S;

static ae_symbol SYM = {
    .language = "rust",
    .file_path = "src/math.rs",
    .kind = "function",
    .name = "add",
    .qualified_name = "math::add",
    .signature = "pub fn add(a: i32, b: i32) -> i32",
    .source = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n",
    .start_line = 10,
    .end_line = 12,
};

static int setup(void **state)
{
    setenv("AE_HTTP_BACKOFF_MS", "10", 1);
    setenv("AE_HTTP_RETRIES", "2", 1);
    setenv(KEY_ENV, KEY, 1);
    return stub_start(&S, 8);
}

static int teardown(void **state)
{
    stub_stop(&S);
    return 0;
}

static int reset(void **state)
{
    stub_reset(&S);
    S.chat_content = STUB_DEFAULT_SIR;
    return 0;
}

static ae_sir_provider *open_ok(const char *provider, const char *endpoint)
{
    ae_sir_provider_options o = {
        .provider = provider, .model = "coder-7b", .endpoint = endpoint, .api_key_env = KEY_ENV};
    ae_sir_provider *p = NULL;
    ae_error err = {0};
    if (ae_sir_provider_open_options(&o, &p, &err) != 0) fail_msg("open: %s", err.message);
    return p;
}

static void assert_default_sir(const ae_sir *s)
{
    assert_string_equal(s->intent, "Adds two numbers");
    assert_int_equal(s->inputs.len, 2);
    assert_string_equal(s->inputs.items[1], "b");
    assert_int_equal(s->outputs.len, 1);
    assert_float_equal(s->confidence, 0.9, 1e-12);
}

static void test_openai_chat_request_and_reply(void **state)
{
    ae_sir_provider *p = open_ok("openai_compat", S.base);
    assert_string_equal(ae_sir_provider_name(p), "openai_compat");
    assert_string_equal(ae_sir_provider_model(p), "coder-7b");
    assert_int_equal(stub_count(&S), 0); /* open sends nothing */
    ae_sir sir = {0};
    ae_error err = {0};
    assert_int_equal(ae_sir_provider_generate(p, &SYM, &sir, &err), 0);
    assert_default_sir(&sir);
    ae_sir_clear(&sir);
    assert_int_equal(stub_count(&S), 1);
    assert_string_equal(S.log[0].path, "/v1/chat/completions");
    assert_string_equal(S.log[0].auth, "Bearer " KEY);
    json_t *b = json_loads(S.log[0].body, 0, NULL);
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "model")), "coder-7b");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(b, "response_format"), "type")),
        "json_object");
    assert_int_equal(json_integer_value(json_object_get(b, "temperature")), 0);
    json_t *msgs = json_object_get(b, "messages");
    assert_int_equal(json_array_size(msgs), 2);
    const char *sys = json_string_value(json_object_get(json_array_get(msgs, 0), "content"));
    const char *user = json_string_value(json_object_get(json_array_get(msgs, 1), "content"));
    assert_non_null(strstr(sys, "\"error_modes\""));
    assert_non_null(strstr(sys, "\"confidence\": number between 0 and 1"));
    assert_non_null(strstr(user, "Language: rust"));
    assert_non_null(strstr(user, "Qualified name: math::add"));
    assert_non_null(strstr(user, "Signature: pub fn add(a: i32, b: i32) -> i32"));
    assert_non_null(strstr(user, "Source (lines 10-12):\n```\npub fn add"));
    json_decref(b);
    ae_sir_provider_close(p);
}

static void test_ollama_chat_fenced_reply(void **state)
{
    ae_sir_provider *p = open_ok("ollama", S.base);
    char fenced[600];
    snprintf(fenced, sizeof fenced, "Here you go:\n```json\n%s\n```\n", STUB_DEFAULT_SIR);
    S.chat_content = fenced;
    ae_sir sir = {0};
    ae_error err = {0};
    assert_int_equal(ae_sir_provider_generate(p, &SYM, &sir, &err), 0);
    assert_default_sir(&sir);
    ae_sir_clear(&sir);
    assert_string_equal(S.log[0].path, "/api/chat");
    json_t *b = json_loads(S.log[0].body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(b, "format")), "json");
    assert_true(json_is_false(json_object_get(b, "stream")));
    assert_null(json_object_get(b, "response_format"));
    json_decref(b);
    ae_sir_provider_close(p);

    /* qwen3_local is the same API under the reference tool's name; trailing slash is fine. */
    char ep[128];
    snprintf(ep, sizeof ep, "%s/", S.base);
    p = open_ok("qwen3_local", ep);
    assert_string_equal(ae_sir_provider_name(p), "qwen3_local");
    assert_int_equal(ae_sir_provider_generate(p, &SYM, &sir, &err), 0);
    ae_sir_clear(&sir);
    assert_string_equal(S.log[1].path, "/api/chat");
    ae_sir_provider_close(p);
}

static void test_bad_replies_retried_then_reported(void **state)
{
    ae_sir_provider *p = open_ok("openai_compat", S.base);
    ae_sir sir = {0};
    ae_error err = {0};
    /* Two invalid replies, then a valid one: three requests, a record. */
    stub_push(&S, (stub_reply){.content = "I cannot do that."});
    stub_push(&S, (stub_reply){.content = "{\"intent\":\"x\",\"confidence\":1.5}"});
    assert_int_equal(ae_sir_provider_generate(p, &SYM, &sir, &err), 0);
    assert_default_sir(&sir);
    ae_sir_clear(&sir);
    assert_int_equal(stub_count(&S), 3);

    /* Every attempt bad: an error naming the last reason, nothing returned. */
    struct {
        stub_reply r;
        const char *want;
    } cases[] = {
        {{.content = "{\"intent\":\"   \",\"confidence\":0.5}"}, "intent"},
        {{.content = "{\"intent\":\"x\",\"confidence\":-0.1}"}, "confidence"},
        {{.content = "{\"intent\":\"x\",\"confidence\":0.5,\"inputs\":[1]}"}, "inputs"},
        {{.content = "{\"intent\":\"x\",\"confidence\":0.5,\"mood\":\"happy\"}"}, "mood"},
        {{.content = "{\"confidence\":0.5}"}, "intent"},
        {{.content = "{\"intent\": \"x\", "}, "no JSON object"},
        {{.body = "{\"choices\":[]}"}, "reply has no choices[0].message.content"},
        {{.body = "<html>oops</html>"}, "reply is not JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        stub_reset(&S);
        for (int k = 0; k < 3; k++)
            stub_push(&S, cases[i].r);
        memset(&sir, 0, sizeof sir);
        assert_int_equal(ae_sir_provider_generate(p, &SYM, &sir, &err), AE_EPROVIDER);
        assert_null(sir.intent);
        assert_int_equal(sir.inputs.len, 0);
        assert_int_equal(stub_count(&S), 3);
        if (!strstr(err.message, "gave no valid SIR for math::add after 3 attempts: ") ||
            !strstr(err.message, cases[i].want))
            fail_msg("case %zu: %s", i, err.message);
        assert_non_null(strstr(err.message, "model coder-7b at "));
        ae_sir_clear(&sir);
    }
    ae_sir_provider_close(p);
}

static void test_transport_retries_and_errors(void **state)
{
    ae_sir_provider *p = open_ok("ollama", S.base);
    ae_sir sir = {0};
    ae_error err = {0};
    stub_push(&S, (stub_reply){.status = 429, .body = "{}"});
    stub_push(&S, (stub_reply){.status = 502, .body = "bad gateway"});
    assert_int_equal(ae_sir_provider_generate(p, &SYM, &sir, &err), 0);
    assert_default_sir(&sir);
    ae_sir_clear(&sir);
    assert_int_equal(stub_count(&S), 3);

    /* Transport failure after the HTTP retries: reported at once, no re-ask on top. */
    stub_reset(&S);
    for (int k = 0; k < 3; k++)
        stub_push(&S, (stub_reply){.status = 500, .body = "{\"error\":\"out of memory " KEY "\"}"});
    assert_int_equal(ae_sir_provider_generate(p, &SYM, &sir, &err), AE_EPROVIDER);
    assert_null(sir.intent);
    assert_int_equal(stub_count(&S), 3);
    char want[128];
    snprintf(want, sizeof want, "POST %s/api/chat: HTTP 500 after 3 attempts", S.base);
    assert_non_null(strstr(err.message, want));
    assert_null(strstr(err.message, KEY));
    ae_sir_clear(&sir);
    ae_sir_provider_close(p);
}

static void test_response_format_fallback(void **state)
{
    ae_sir_provider *p = open_ok("openai_compat", S.base);
    stub_push(&S,
              (stub_reply){.status = 400, .body = "{\"error\":\"unknown field response_format\"}"});
    ae_sir sir = {0};
    ae_error err = {0};
    assert_int_equal(ae_sir_provider_generate(p, &SYM, &sir, &err), 0);
    ae_sir_clear(&sir);
    assert_int_equal(stub_count(&S), 2);
    assert_non_null(strstr(S.log[0].body, "response_format"));
    assert_null(strstr(S.log[1].body, "response_format"));
    /* Remembered for the next symbol. */
    assert_int_equal(ae_sir_provider_generate(p, &SYM, &sir, &err), 0);
    ae_sir_clear(&sir);
    assert_null(strstr(S.log[2].body, "response_format"));
    /* Any other 400 is an error, not retried. */
    stub_push(&S, (stub_reply){.status = 400, .body = "{\"error\":\"model not loaded\"}"});
    assert_int_equal(ae_sir_provider_generate(p, &SYM, &sir, &err), AE_EPROVIDER);
    assert_non_null(strstr(err.message, "HTTP 400 after 1 attempt: {\"error\":\"model not loaded"));
    assert_int_equal(stub_count(&S), 4);
    ae_sir_clear(&sir);
    ae_sir_provider_close(p);
}

static void test_prompt_bounds_and_reply_extraction(void **state)
{
    /* A 100 KB body with multi-byte characters and an invalid byte is cut to max_source at a
     * character boundary and stays valid UTF-8 (jansson would refuse it otherwise). */
    size_t n = 99999;
    char *src = malloc(n + 1);
    for (size_t i = 0; i < n; i += 3)
        memcpy(src + i, "\xc3\xa9x", 3);
    src[n] = 0;
    src[5] = (char)0xff;
    ae_symbol big = SYM;
    big.source = src;
    char *prompt = sir_http_user_prompt(&big, 1001);
    assert_non_null(prompt);
    assert_non_null(strstr(prompt, "... (truncated to 1001 bytes)"));
    assert_true(strlen(prompt) < 1001 + 512);
    json_t *j = json_string(prompt);
    assert_non_null(j); /* valid UTF-8 */
    json_decref(j);
    assert_non_null(strstr(prompt, "?"));
    free(prompt);

    ae_sir_provider_options o = {
        .provider = "ollama", .model = "m", .endpoint = S.base, .max_source = 1001};
    ae_sir_provider *p;
    ae_error err = {0};
    assert_int_equal(ae_sir_provider_open_options(&o, &p, &err), 0);
    ae_sir sir = {0};
    assert_int_equal(ae_sir_provider_generate(p, &big, &sir, &err), 0);
    ae_sir_clear(&sir);
    assert_true(strlen(S.log[0].body) < 4000);
    ae_sir_provider_close(p);
    free(src);

    char *x = sir_http_reply_json("```json\n{\"a\":{\"b\":1}}\n```");
    assert_string_equal(x, "{\"a\":{\"b\":1}}");
    free(x);
    assert_null(sir_http_reply_json("no object here }{"));
}

static void test_unified_open(void **state)
{
    ae_config c = {0};
    ae_sir_provider *p;
    ae_error err = {0};
    const char *names[][3] = {{"auto", "static", "static-v1"},
                              {"static", "static", "static-v1"},
                              {"mock", "mock", "mock"}};
    for (int i = 0; i < 3; i++) {
        c.inference.provider = (char *)names[i][0];
        assert_int_equal(ae_sir_provider_open(&c, &p, &err), 0);
        assert_string_equal(ae_sir_provider_name(p), names[i][1]);
        assert_string_equal(ae_sir_provider_model(p), names[i][2]);
        ae_sir sir = {0};
        assert_int_equal(ae_sir_provider_generate(p, &SYM, &sir, &err), 0);
        if (i == 2) assert_string_equal(sir.intent, "Mock summary for math::add");
        ae_sir_clear(&sir);
        ae_sir_provider_close(p);
    }
    c.inference.provider = "gpt";
    assert_int_equal(ae_sir_provider_open(&c, &p, &err), AE_ECONFIG);
    assert_non_null(strstr(err.message, "unknown SIR provider 'gpt'"));
    assert_non_null(strstr(err.message, "'ollama'"));
    c.inference.provider = "ollama";
    assert_int_equal(ae_sir_provider_open(&c, &p, &err), AE_ECONFIG);
    assert_non_null(strstr(err.message, "[inference] model is required for provider 'ollama'"));
    c.inference.provider = "openai_compat";
    c.inference.model = "m";
    assert_int_equal(ae_sir_provider_open(&c, &p, &err), AE_ECONFIG);
    assert_non_null(strstr(err.message, "[inference] endpoint is required"));
    c.inference.endpoint = S.base;
    c.inference.api_key_env = "AE_TEST_SIR_UNSET";
    unsetenv("AE_TEST_SIR_UNSET");
    assert_int_equal(ae_sir_provider_open(&c, &p, &err), AE_ECONFIG);
    assert_non_null(strstr(err.message, "AE_TEST_SIR_UNSET"));
    c.inference.api_key_env = KEY_ENV;
    assert_int_equal(ae_sir_provider_open(&c, &p, &err), 0);
    ae_sir_provider_close(p);
    ae_sir_provider_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_openai_chat_request_and_reply, reset),
        cmocka_unit_test_setup(test_ollama_chat_fenced_reply, reset),
        cmocka_unit_test_setup(test_bad_replies_retried_then_reported, reset),
        cmocka_unit_test_setup(test_transport_retries_and_errors, reset),
        cmocka_unit_test_setup(test_response_format_fallback, reset),
        cmocka_unit_test_setup(test_prompt_bounds_and_reply_extraction, reset),
        cmocka_unit_test_setup(test_unified_open, reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
