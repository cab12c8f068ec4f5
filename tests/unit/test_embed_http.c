/* HTTP embedding providers against a real loopback server (tests/http_stub/stub.h):
 * wire formats, batching, order, retries on 429/5xx/timeouts, Retry-After, dimension checks,
 * malformed replies, and the API key kept out of every error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http_stub/stub.h"

#include "embed/embed.h"
#include "util/http.h"

#include <math.h>
#include <time.h>

#define KEY     "sk-test-SECRET-4242"
#define KEY_ENV "AE_TEST_EMBED_KEY"

static stub S;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int setup(void **state)
{
    setenv("AE_HTTP_BACKOFF_MS", "10", 1);
    setenv("AE_HTTP_RETRIES", "3", 1);
    setenv("AE_HTTP_TIMEOUT_MS", "5000", 1);
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
    S.dim = 8;
    setenv("AE_HTTP_RETRIES", "3", 1);
    setenv("AE_HTTP_TIMEOUT_MS", "5000", 1);
    return 0;
}

static void check_vectors(const char *const *texts, size_t n, const float *v, size_t dim)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < dim; j++)
            assert_float_equal(v[i * dim + j], (float)stub_value(texts[i], j), 1e-6);
}

static ae_embedder *open_ok(const char *provider, const char *endpoint, int batch)
{
    ae_embed_options o = {.provider = provider,
                          .model = "test-embed",
                          .endpoint = endpoint,
                          .api_key_env = KEY_ENV,
                          .batch_size = batch};
    ae_embedder *e = NULL;
    ae_error err = {0};
    int rc = ae_embedder_open(&o, &e, &err);
    if (rc != 0) fail_msg("open %s: %s", provider, err.message);
    return e;
}

static const char *const TEXTS[] = {"alpha", "bravo two", "charlie three!", "d", "echo echo echo",
                                    "f f",   "golf"};
#define N_TEXTS 7

static void test_openai_batches_order_and_auth(void **state)
{
    ae_embedder *e = open_ok("openai_compat", S.base, 3);
    assert_int_equal(ae_embedder_dim(e), 8);
    assert_string_equal(ae_embedder_model(e), "test-embed");
    float v[N_TEXTS * 8];
    ae_error err = {0};
    assert_int_equal(ae_embedder_embed(e, TEXTS, N_TEXTS, v, &err), 0);
    check_vectors(TEXTS, N_TEXTS, v, 8); /* the stub replies in reverse order */
    /* probe + ceil(7/3) batches */
    assert_int_equal(stub_count(&S), 4);
    size_t sizes[] = {1, 3, 3, 1};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(S.log[i].path, "/v1/embeddings");
        assert_string_equal(S.log[i].auth, "Bearer " KEY);
        json_t *b = json_loads(S.log[i].body, 0, NULL);
        assert_non_null(b);
        assert_string_equal(json_string_value(json_object_get(b, "model")), "test-embed");
        assert_int_equal(json_array_size(json_object_get(b, "input")), sizes[i]);
        json_decref(b);
    }
    ae_embedder_close(e);

    /* An endpoint that already ends in /v1 or names the path is not doubled. */
    char ep[128];
    snprintf(ep, sizeof ep, "%s/v1/", S.base);
    e = open_ok("openai_compat", ep, 0);
    assert_string_equal(S.log[stub_count(&S) - 1].path, "/v1/embeddings");
    ae_embedder_close(e);
}

static void test_ollama_batch_and_alias(void **state)
{
    const char *names[] = {"ollama", "qwen3_local"};
    for (int k = 0; k < 2; k++) {
        stub_reset(&S);
        char ep[128];
        snprintf(ep, sizeof ep, "%s/", S.base);
        ae_embedder *e = open_ok(names[k], ep, 4);
        float v[N_TEXTS * 8];
        ae_error err = {0};
        assert_int_equal(ae_embedder_embed(e, TEXTS, N_TEXTS, v, &err), 0);
        check_vectors(TEXTS, N_TEXTS, v, 8);
        assert_int_equal(stub_count(&S), 3);
        assert_string_equal(S.log[1].path, "/api/embed");
        json_t *b = json_loads(S.log[1].body, 0, NULL);
        assert_string_equal(json_string_value(json_array_get(json_object_get(b, "input"), 3)), "d");
        json_decref(b);
        assert_string_equal(ae_embedder_provider(e), names[k]);
        ae_embedder_close(e);
    }
}

static void test_ollama_single_text_api(void **state)
{
    char ep[128];
    snprintf(ep, sizeof ep, "%s/api/embeddings", S.base);
    ae_embedder *e = open_ok("ollama", ep, 0);
    float v[3 * 8];
    ae_error err = {0};
    assert_int_equal(ae_embedder_embed(e, TEXTS, 3, v, &err), 0);
    check_vectors(TEXTS, 3, v, 8);
    assert_int_equal(stub_count(&S), 4); /* probe + one per text */
    json_t *b = json_loads(S.log[2].body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(b, "prompt")), "bravo two");
    assert_null(json_object_get(b, "input"));
    json_decref(b);

    /* The other places the reference tool reads a vector from. */
    const char *bodies[] = {"{\"data\":[{\"embedding\":[1,2,3,4,5,6,7,8]}]}",
                            "{\"embeddings\":[[1,2,3,4,5,6,7,8]]}",
                            "{\"vector\":[1,2,3,4,5,6,7,8]}"};
    for (int k = 0; k < 3; k++) {
        stub_push(&S, (stub_reply){.body = bodies[k]});
        float one[8];
        const char *t[] = {"x"};
        assert_int_equal(ae_embedder_embed(e, t, 1, one, &err), 0);
        assert_float_equal(one[7], 8.0f, 0);
    }
    stub_push(&S, (stub_reply){.body = "{\"vec\":[1,2,3,4,5,6,7,8]}"});
    float one[8];
    const char *t[] = {"x"};
    assert_int_equal(ae_embedder_embed(e, t, 1, one, &err), AE_EPROVIDER);
    assert_non_null(strstr(err.message, "reply has no embedding"));
    ae_embedder_close(e);
}

static void test_429_then_success_counts_retries(void **state)
{
    ae_embedder *e = open_ok("openai_compat", S.base, 0);
    stub_push(&S, (stub_reply){.status = 429, .body = "{\"error\":\"rate limited\"}"});
    stub_push(&S, (stub_reply){.status = 503, .body = "busy"});
    float v[2 * 8];
    ae_error err = {0};
    assert_int_equal(ae_embedder_embed(e, TEXTS, 2, v, &err), 0);
    check_vectors(TEXTS, 2, v, 8);
    assert_int_equal(stub_count(&S), 4); /* probe, 429, 503, success */

    /* A small Retry-After is honoured instead of the 10 ms backoff. */
    stub_push(&S, (stub_reply){.status = 429, .retry_after = 1, .body = "{}"});
    double t0 = now_s();
    assert_int_equal(ae_embedder_embed(e, TEXTS, 2, v, &err), 0);
    assert_true(now_s() - t0 >= 0.9);
    assert_int_equal(stub_count(&S), 6);

    /* A long one ends the retries with a message saying so. */
    stub_push(&S, (stub_reply){.status = 429, .retry_after = 3600, .body = "{}"});
    assert_int_equal(ae_embedder_embed(e, TEXTS, 2, v, &err), AE_EPROVIDER);
    assert_int_equal(stub_count(&S), 7);
    assert_non_null(strstr(err.message, "HTTP 429"));
    assert_non_null(strstr(err.message, "retry after 3600 s"));
    ae_embedder_close(e);
}

static void test_500s_exhaust_retries(void **state)
{
    ae_embedder *e = open_ok("ollama", S.base, 0);
    for (int i = 0; i < 4; i++)
        stub_push(&S, (stub_reply){.status = 500, .body = "{\"error\":\"model crashed\"}"});
    float v[8];
    ae_error err = {0};
    assert_int_equal(ae_embedder_embed(e, TEXTS, 1, v, &err), AE_EPROVIDER);
    assert_int_equal(stub_count(&S), 5); /* probe + 1 + 3 retries */
    char want[160];
    snprintf(want, sizeof want, "POST %s/api/embed: HTTP 500 after 4 attempts", S.base);
    assert_non_null(strstr(err.message, want));
    assert_non_null(strstr(err.message, "model crashed"));

    /* 400 is the caller's fault: not retried. */
    stub_push(&S, (stub_reply){.status = 400, .body = "{\"error\":\"bad model\"}"});
    assert_int_equal(ae_embedder_embed(e, TEXTS, 1, v, &err), AE_EPROVIDER);
    assert_int_equal(stub_count(&S), 6);
    assert_non_null(strstr(err.message, "HTTP 400 after 1 attempt:"));
    ae_embedder_close(e);
}

static void test_slow_replies_time_out(void **state)
{
    setenv("AE_HTTP_TIMEOUT_MS", "300", 1);
    setenv("AE_HTTP_RETRIES", "1", 1);
    ae_embedder *e = open_ok("openai_compat", S.base, 0);
    float v[8];
    ae_error err = {0};
    /* One slow reply, then a fast one: the retry succeeds. */
    stub_push(&S, (stub_reply){.delay_ms = 1000});
    assert_int_equal(ae_embedder_embed(e, TEXTS, 1, v, &err), 0);
    check_vectors(TEXTS, 1, v, 8);
    /* Two slow replies: the error says timeout and names the endpoint. */
    stub_push(&S, (stub_reply){.delay_ms = 1000});
    stub_push(&S, (stub_reply){.delay_ms = 1000});
    double t0 = now_s();
    assert_int_equal(ae_embedder_embed(e, TEXTS, 1, v, &err), AE_EPROVIDER);
    assert_true(now_s() - t0 < 2.0);
    assert_non_null(strstr(err.message, "timeout") ? strstr(err.message, "timeout")
                                                   : strstr(err.message, "Timeout"));
    assert_non_null(strstr(err.message, S.base));
    assert_non_null(strstr(err.message, "after 2 attempts"));
    ae_embedder_close(e);
}

static void test_dimension_learned_and_checked(void **state)
{
    S.dim = 12;
    ae_embedder *e = open_ok("openai_compat", S.base, 2);
    assert_int_equal(ae_embedder_dim(e), 12);
    float v[4 * 12];
    ae_error err = {0};
    stub_push(&S, (stub_reply){0});
    stub_push(&S, (stub_reply){.dim = 5});
    assert_int_equal(ae_embedder_embed(e, TEXTS, 4, v, &err), AE_EPROVIDER);
    char want[160];
    snprintf(want, sizeof want, "endpoint %s/v1/embeddings returned 5 dimensions, expected 12",
             S.base);
    assert_non_null(strstr(err.message, want));
    ae_embedder_close(e);

    /* Mixed dimensions inside one reply. */
    e = open_ok("ollama", S.base, 0);
    stub_push(&S, (stub_reply){.body = "{\"embeddings\":[[1,2,3,4,5,6,7,8,9,10,11,12],[1,2]]}"});
    assert_int_equal(ae_embedder_embed(e, TEXTS, 2, v, &err), AE_EPROVIDER);
    assert_non_null(strstr(err.message, "returned 2 dimensions, expected 12 (text 1)"));
    ae_embedder_close(e);
}

static void test_malformed_replies(void **state)
{
    ae_embedder *e = open_ok("openai_compat", S.base, 0);
    float v[2 * 8];
    ae_error err = {0};
    struct {
        const char *body, *want;
    } cases[] = {
        {"{\"data\": [", "malformed JSON"},
        {"[1,2]", "not an object"},
        {"{\"object\":\"list\"}", "no \"data\" array"},
        {"{\"data\":[{\"index\":0,\"embedding\":[1,2,3,4,5,6,7,8]}]}",
         "returned 1 embeddings for 2 texts"},
        {"{\"data\":[{\"index\":0,\"embedding\":[1,2,3,4,5,6,7,8]},{\"index\":0,"
         "\"embedding\":[1,2,3,4,5,6,7,8]}]}",
         "index 0 appears twice"},
        {"{\"data\":[{\"index\":5,\"embedding\":[1,2,3,4,5,6,7,8]},{\"index\":0,"
         "\"embedding\":[1,2,3,4,5,6,7,8]}]}",
         "data[0].index is not in 0..1"},
        {"{\"data\":[{\"index\":0},{\"index\":1}]}", "data[0] has no \"embedding\""},
        {"{\"data\":[{\"index\":0,\"embedding\":[1,2,3,\"4\",5,6,7,8]},{\"index\":1,"
         "\"embedding\":[1,2,3,4,5,6,7,8]}]}",
         "dimension 3 of embedding 0 is not a number"},
        {"{\"data\":[{\"index\":0,\"embedding\":[1,2,3,4,5,6,7,1e300]},{\"index\":1,"
         "\"embedding\":[1,2,3,4,5,6,7,8]}]}",
         "dimension 7 of embedding 0 is not a finite float"},
        {"{\"data\":[{\"index\":0,\"embedding\":[1,2,3,4,5,6,7,NaN]}]}", "malformed JSON"},
        {"{\"data\":[{\"index\":0,\"embedding\":[]},{\"index\":1,\"embedding\":[]}]}",
         "empty embedding"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        stub_push(&S, (stub_reply){.body = cases[i].body});
        assert_int_equal(ae_embedder_embed(e, TEXTS, 2, v, &err), AE_EPROVIDER);
        if (!strstr(err.message, cases[i].want))
            fail_msg("case %zu: '%s' does not contain '%s'", i, err.message, cases[i].want);
    }
    /* Malformed replies are not retried (they are not transient). */
    assert_int_equal(stub_count(&S), 1 + (int)(sizeof cases / sizeof cases[0]));
    ae_embedder_close(e);
}

static void test_key_never_in_errors(void **state)
{
    ae_embedder *e = open_ok("openai_compat", S.base, 0);
    float v[8];
    ae_error err = {0};
    stub_push(&S, (stub_reply){.status = 401,
                               .body = "{\"error\":\"invalid key sk-test-SECRET-4242 for user\"}"});
    assert_int_equal(ae_embedder_embed(e, TEXTS, 1, v, &err), AE_EPROVIDER);
    assert_null(strstr(err.message, KEY));
    assert_non_null(strstr(err.message, "HTTP 401"));
    assert_non_null(strstr(err.message, "[redacted]"));
    assert_non_null(strstr(err.message, "api_key_env"));
    assert_string_equal(S.log[1].auth, "Bearer " KEY);
    ae_embedder_close(e);

    /* No api_key_env: no Authorization header at all. */
    ae_embed_options o = {.provider = "ollama", .model = "m", .endpoint = S.base};
    assert_int_equal(ae_embedder_open(&o, &e, &err), 0);
    assert_string_equal(S.log[stub_count(&S) - 1].auth, "");
    ae_embedder_close(e);
}

static void test_config_errors(void **state)
{
    ae_embedder *e = (ae_embedder *)1;
    ae_error err = {0};
    ae_embed_options o = {.provider = "ollama", .endpoint = S.base};
    assert_int_equal(ae_embedder_open(&o, &e, &err), AE_ECONFIG);
    assert_null(e);
    assert_non_null(strstr(err.message, "[embeddings] model is required for provider 'ollama'"));

    o = (ae_embed_options){.provider = "openai_compat", .model = "m"};
    assert_int_equal(ae_embedder_open(&o, &e, &err), AE_ECONFIG);
    assert_non_null(strstr(err.message, "endpoint is required"));

    o = (ae_embed_options){.provider = "openai_compat", .model = "m", .endpoint = "ftp://x"};
    assert_int_equal(ae_embedder_open(&o, &e, &err), AE_ECONFIG);

    unsetenv("AE_TEST_UNSET_KEY");
    o = (ae_embed_options){.provider = "openai_compat",
                           .model = "m",
                           .endpoint = S.base,
                           .api_key_env = "AE_TEST_UNSET_KEY"};
    assert_int_equal(ae_embedder_open(&o, &e, &err), AE_ECONFIG);
    assert_non_null(strstr(err.message, "AE_TEST_UNSET_KEY"));
    assert_int_equal(stub_count(&S), 0); /* nothing was sent */

    /* Nobody listening: connection errors are retried, then reported. */
    setenv("AE_HTTP_RETRIES", "1", 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    char ep[64];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d", ntohs(a.sin_port));
    o = (ae_embed_options){.provider = "ollama", .model = "m", .endpoint = ep};
    assert_int_equal(ae_embedder_open(&o, &e, &err), AE_EPROVIDER);
    close(fd);
    assert_non_null(strstr(err.message, "provider 'ollama' (model m): POST "));
    assert_non_null(strstr(err.message, "failed after 2 attempts"));
}

static void test_http_response_cap(void **state)
{
    ae_http_options o = {.retries = 0, .max_response = 100};
    ae_http_client *c;
    ae_error err = {0};
    assert_int_equal(ae_http_client_new(&o, NULL, &c, &err), 0);
    char url[128];
    snprintf(url, sizeof url, "%s/api/embed", S.base);
    S.dim = 64;
    ae_http_response r;
    assert_int_equal(ae_http_post_json(c, url, "{\"model\":\"m\",\"input\":[\"a\"]}", &r, &err),
                     AE_EPROVIDER);
    assert_non_null(strstr(err.message, "response larger than 100 bytes"));
    ae_http_response_free(&r);
    S.dim = 1;
    assert_int_equal(ae_http_post_json(c, url, "{\"model\":\"m\",\"input\":[\"a\"]}", &r, &err), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "embeddings"));
    ae_http_response_free(&r);
    assert_int_equal(ae_http_client_stats(c)->requests, 2);
    assert_int_equal(ae_http_client_stats(c)->retries, 0);
    ae_http_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_openai_batches_order_and_auth, reset),
        cmocka_unit_test_setup(test_ollama_batch_and_alias, reset),
        cmocka_unit_test_setup(test_ollama_single_text_api, reset),
        cmocka_unit_test_setup(test_429_then_success_counts_retries, reset),
        cmocka_unit_test_setup(test_500s_exhaust_retries, reset),
        cmocka_unit_test_setup(test_slow_replies_time_out, reset),
        cmocka_unit_test_setup(test_dimension_learned_and_checked, reset),
        cmocka_unit_test_setup(test_malformed_replies, reset),
        cmocka_unit_test_setup(test_key_never_in_errors, reset),
        cmocka_unit_test_setup(test_config_errors, reset),
        cmocka_unit_test_setup(test_http_response_cap, reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
