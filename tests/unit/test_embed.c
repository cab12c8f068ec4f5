/* Embedding providers: mock matches the reference bit for bit, hash carries
 * identifier signal, the registry rejects what it does not know. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "embed/embed.h"
#include "embed/embed_provider.h"

/* Independent FNV-1a, written out again so the test does not trust embed.c. */
static uint64_t ref_fnv(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static ae_embedder *open_ok(const char *provider, int dim)
{
    ae_embed_options o = {.provider = provider, .dim = dim};
    ae_embedder *e = NULL;
    ae_error err;
    ae_error_clear(&err);
    int rc = ae_embedder_open(&o, &e, &err);
    if (rc != 0) fail_msg("open %s: %s", provider, err.message);
    return e;
}

static double cosine(const float *a, const float *b, uint32_t dim)
{
    double d = 0, na = 0, nb = 0;
    for (uint32_t i = 0; i < dim; i++) {
        d += (double)a[i] * b[i];
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }
    return na == 0 || nb == 0 ? 0 : d / sqrt(na * nb);
}

static void test_fnv_known_values(void **state)
{
    /* published FNV-1a 64 test vectors */
    assert_true(embed_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(embed_fnv1a64("foobar", 6) == 0x85944171f73967e8ULL);
    assert_true(ref_fnv("a") == 0xaf63dc4c8601ec8cULL);
}

static void test_mock_exact_vectors(void **state)
{
    ae_embedder *e = open_ok("mock", 0);
    assert_string_equal(ae_embedder_provider(e), "mock");
    assert_string_equal(ae_embedder_model(e), "mock-64d");
    assert_int_equal(ae_embedder_dim(e), 64);

    /* "a": h = 0xaf63dc4c8601ec8c, h % 64 = 12, bit 8 = 0 -> +1.
     * "foobar": h = 0x85944171f73967e8, h % 64 = 40, bit 8 = 1 -> -1. */
    const char *texts[] = {"a", "A, FooBar!!", "a a", "!!! ... ", "", "foobar"};
    float v[6 * 64];
    ae_error err;
    assert_int_equal(ae_embedder_embed(e, texts, 6, v, &err), 0);

    float half = 1.0f / sqrtf(2.0f);
    for (int i = 0; i < 64; i++) {
        assert_true(v[0 * 64 + i] == (i == 12 ? 1.0f : 0.0f));
        assert_true(v[1 * 64 + i] == (i == 12 ? half : i == 40 ? -half : 0.0f));
        assert_true(v[2 * 64 + i] == (i == 12 ? 1.0f : 0.0f));
        assert_true(v[3 * 64 + i] == 0.0f);
        assert_true(v[4 * 64 + i] == 0.0f);
        assert_true(v[5 * 64 + i] == (i == 40 ? -1.0f : 0.0f));
    }

    /* a generic text against the rule recomputed here */
    const char *t = "oauth token refresh session auth";
    const char *toks[] = {"oauth", "token", "refresh", "session", "auth"};
    float want[64] = {0};
    for (int k = 0; k < 5; k++) {
        uint64_t h = ref_fnv(toks[k]);
        want[h % 64] += ((h >> 8) & 1) ? -1.0f : 1.0f;
    }
    float sum = 0;
    for (int i = 0; i < 64; i++)
        sum += want[i] * want[i];
    float norm = sqrtf(sum);
    for (int i = 0; i < 64; i++)
        want[i] /= norm;
    float got[64];
    assert_int_equal(ae_embedder_embed(e, &t, 1, got, &err), 0);
    assert_memory_equal(got, want, sizeof want);
    ae_embedder_close(e);
}

static void test_mock_ranks_related_text_first(void **state)
{
    ae_embedder *e = open_ok("mock", 0);
    const char *texts[] = {"oauth refresh token", "oauth token refresh session auth",
                           "cache lookup memory hit"};
    float v[3 * 64];
    ae_error err;
    assert_int_equal(ae_embedder_embed(e, texts, 3, v, &err), 0);
    double related = cosine(v, v + 64, 64), unrelated = cosine(v, v + 128, 64);
    assert_true(related > 0.5);
    assert_true(related > unrelated + 0.3);
    ae_embedder_close(e);
}

static void test_hash_carries_identifier_signal(void **state)
{
    ae_embedder *e = open_ok("hash", 0);
    assert_string_equal(ae_embedder_model(e), "hash-v1");
    assert_int_equal(ae_embedder_dim(e), 384);
    const char *texts[] = {
        "parse config",
        "{\"confidence\":0.4,\"dependencies\":[\"fopen\"],\"inputs\":[\"path: &str\"],"
        "\"intent\":\"Function parseConfigFile reads the settings.\",\"outputs\":[\"Config\"]}",
        "{\"confidence\":0.4,\"dependencies\":[\"fopen\"],\"inputs\":[\"path: &str\"],"
        "\"intent\":\"Calls parse_config_file on startup.\",\"outputs\":[\"Config\"]}",
        "{\"confidence\":0.4,\"dependencies\":[\"malloc\"],\"inputs\":[\"key: u64\"],"
        "\"intent\":\"Function that looks up a cache entry.\",\"outputs\":[\"bool\"]}",
        "{\"confidence\":0.4,\"dependencies\":[\"write\"],\"inputs\":[\"html: &str\"],"
        "\"intent\":\"Renders the HTML template to a socket.\",\"outputs\":[\"usize\"]}",
    };
    float *v = calloc(5 * 384, sizeof(float));
    ae_error err;
    assert_int_equal(ae_embedder_embed(e, texts, 5, v, &err), 0);
    double s1 = cosine(v, v + 384, 384), s2 = cosine(v, v + 2 * 384, 384);
    double u1 = cosine(v, v + 3 * 384, 384), u2 = cosine(v, v + 4 * 384, 384);
    assert_true(s1 > u1 + 0.1 && s1 > u2 + 0.1);
    assert_true(s2 > u1 + 0.1 && s2 > u2 + 0.1);
    /* unit length */
    double n = 0;
    for (int i = 0; i < 384; i++)
        n += (double)v[384 + i] * v[384 + i];
    assert_true(fabs(n - 1.0) < 1e-5);
    free(v);
    ae_embedder_close(e);
}

static void test_hash_identifier_styles_share_subwords(void **state)
{
    ae_embedder *e = open_ok("hash", 256);
    assert_int_equal(ae_embedder_dim(e), 256);
    const char *texts[] = {"HTTPServer",        "http server", "parseConfigFile",
                           "parse_config_file", "ParseConfig", "zebra"};
    float v[6 * 256];
    ae_error err;
    assert_int_equal(ae_embedder_embed(e, texts, 6, v, &err), 0);
    assert_true(cosine(v, v + 256, 256) > 0.8);        /* same sub-words */
    assert_true(cosine(v + 512, v + 768, 256) > 0.99); /* same sub-words + identifier */
    assert_true(cosine(v + 512, v + 1024, 256) > 0.5); /* two of three sub-words */
    assert_true(cosine(v + 512, v + 1280, 256) < 0.3); /* nothing shared */
    ae_embedder_close(e);
}

static void test_hash_skips_json_keys_and_is_deterministic(void **state)
{
    ae_embedder *e = open_ok("hash", 0);
    const char *keys_only = "{\"confidence\":0.4,\"dependencies\":[],\"error_modes\":[],"
                            "\"inputs\":[],\"intent\":\"\",\"outputs\":[],\"side_effects\":[]}";
    const char *texts[] = {keys_only, "the parser", "the parser"};
    float v[3 * 384], w[384];
    ae_error err;
    assert_int_equal(ae_embedder_embed(e, texts, 3, v, &err), 0);
    for (int i = 0; i < 384; i++)
        assert_true(v[i] == 0.0f);
    assert_memory_equal(v + 384, v + 768, 384 * sizeof(float));
    embed_hash_vector("the parser", 384, w);
    assert_memory_equal(v + 384, w, sizeof w);
    ae_embedder_close(e);
}

static void test_batches_larger_than_batch_size(void **state)
{
    ae_embed_options o = {.provider = "mock", .batch_size = 2};
    ae_embedder *e = NULL;
    ae_error err;
    assert_int_equal(ae_embedder_open(&o, &e, &err), 0);
    const char *texts[] = {"a", "b", "c", "d", "foobar"};
    float v[5 * 64], one[64];
    assert_int_equal(ae_embedder_embed(e, texts, 5, v, &err), 0);
    for (int i = 0; i < 5; i++) {
        embed_mock_vector(texts[i], one);
        assert_memory_equal(v + i * 64, one, sizeof one);
    }
    const char *with_null[] = {"a", NULL};
    assert_int_equal(ae_embedder_embed(e, with_null, 2, v, &err), AE_EINVAL);
    assert_string_equal(err.message, "text 1 of 2 is NULL");
    ae_embedder_close(e);
}

static void test_bad_options(void **state)
{
    ae_embedder *e = (ae_embedder *)1;
    ae_error err;
    ae_embed_options o = {.provider = "bert"};
    assert_int_equal(ae_embedder_open(&o, &e, &err), AE_EINVAL);
    assert_null(e);
    assert_non_null(strstr(err.message, "unknown embedding provider 'bert'"));
    assert_non_null(strstr(err.message, "'mock'"));
    assert_non_null(strstr(err.message, "'hash'"));
    assert_non_null(strstr(err.message, "'qwen3_local'"));

    /* HTTP providers need a model before they talk to anyone. */
    o.provider = "ollama";
    assert_int_equal(ae_embedder_open(&o, &e, &err), AE_ECONFIG);
    assert_non_null(strstr(err.message, "[embeddings] model is required for provider 'ollama'"));
    o.provider = "openai_compat";
    assert_int_equal(ae_embedder_open(&o, &e, &err), AE_ECONFIG);

    o.provider = NULL;
    assert_int_equal(ae_embedder_open(&o, &e, &err), AE_EINVAL);

    ae_embed_options h = {.provider = "hash", .dim = 4};
    assert_int_equal(ae_embedder_open(&h, &e, &err), AE_EINVAL);
    assert_string_equal(err.message, "hash embedding dim must be between 8 and 16384, not 4");
    h.dim = 16385;
    assert_int_equal(ae_embedder_open(&h, &e, &err), AE_EINVAL);
    h.dim = 0;
    h.model = "nomic-embed-text";
    assert_int_equal(ae_embedder_open(&h, &e, &err), AE_EINVAL);
    assert_string_equal(err.message, "provider 'hash' has model 'hash-v1', not 'nomic-embed-text'");

    ae_embed_options m = {.provider = "mock", .dim = 384, .model = "mock-64d"};
    assert_int_equal(ae_embedder_open(&m, &e, &err), 0); /* dim is a hash-only knob */
    assert_int_equal(ae_embedder_dim(e), 64);
    ae_embedder_close(e);
    m.batch_size = -1;
    assert_int_equal(ae_embedder_open(&m, &e, &err), AE_EINVAL);
    ae_embedder_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv_known_values),
        cmocka_unit_test(test_mock_exact_vectors),
        cmocka_unit_test(test_mock_ranks_related_text_first),
        cmocka_unit_test(test_hash_carries_identifier_signal),
        cmocka_unit_test(test_hash_identifier_styles_share_subwords),
        cmocka_unit_test(test_hash_skips_json_keys_and_is_deterministic),
        cmocka_unit_test(test_batches_larger_than_batch_size),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
