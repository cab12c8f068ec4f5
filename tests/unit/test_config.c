/* Config model: defaults, the default file round trip, overrides, unknown
 * keys as warnings, and PATH:LINE + accepted values for every bad value. */
#include "config/config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static void assert_defaults(const ae_config *c)
{
    assert_string_equal(c->inference.provider, "auto");
    assert_null(c->inference.model);
    assert_null(c->inference.endpoint);
    assert_null(c->inference.api_key_env);
    assert_true(c->storage.mirror_sir_files);
    assert_true(c->embeddings.enabled);
    assert_string_equal(c->embeddings.provider, "ppmi");
    assert_string_equal(c->embeddings.retrain, "auto");
    assert_null(c->embeddings.model);
    assert_null(c->embeddings.endpoint);
    assert_null(c->embeddings.api_key_env);
    assert_int_equal(c->embeddings.dim, 384);
    assert_string_equal(c->embeddings.vector_backend, "lancedb");
    assert_int_equal(c->embeddings.batch_size, 64);
    assert_int_equal(c->search.nprobe, 0);
    assert_int_equal(c->search.refine_factor, 0);
    assert_true(c->search.target_recall == 0.95);
    assert_int_equal(c->search.index_build_memory_mb, 2048);
    /* [verify]: no commands until the user lists them (docs/VERIFY.md) */
    assert_int_equal(c->verify.commands.len, 0);
    assert_string_equal(c->verify.mode, "host");
    assert_int_equal(c->verify.timeout_secs, 600);
    assert_int_equal(c->verify.max_output_bytes, 1 << 20);
    assert_string_equal(c->verify.container.runtime, "docker");
    assert_string_equal(c->verify.container.workdir, "/workspace");
    assert_null(c->verify.container.image);
    assert_false(c->verify.container.fallback_to_host_on_unavailable);
    assert_string_equal(c->verify.microvm.runtime, "firecracker");
    assert_int_equal(c->verify.microvm.vcpu_count, 1);
    assert_int_equal(c->verify.microvm.memory_mib, 1024);
}

static int parse(const char *text, ae_config *c, ae_error *err)
{
    return ae_config_parse("t.toml", text, strlen(text), c, err);
}

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/ae-config-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

static void test_init_defaults(void **state)
{
    (void)state;
    ae_config c;
    ae_config_init_defaults(&c);
    assert_defaults(&c);
    assert_int_equal(c.warnings.len, 0);
    ae_config_free(&c);
    ae_config_free(&c); /* zeroed: a second free is harmless */
}

static void test_missing_file_gives_defaults(void **state)
{
    (void)state;
    ae_config c;
    ae_error err = {0};
    assert_int_equal(ae_config_load("/nonexistent/dir/config.toml", &c, &err), 0);
    assert_defaults(&c);
    assert_int_equal(c.warnings.len, 0);
    ae_config_free(&c);
}

static void test_default_file_round_trip(void **state)
{
    (void)state;
    char *dir = tmpdir();
    char path[600], aether[512];
    snprintf(aether, sizeof aether, "%s/.aether", dir);
    snprintf(path, sizeof path, "%s/config.toml", aether);
    ae_error err = {0};

    assert_int_equal(ae_config_write_default(path, &err), 0);
    char *text = slurp(path);
    assert_string_equal(text, ae_config_default_text());
    free(text);

    ae_config c;
    assert_int_equal(ae_config_load(path, &c, &err), 0);
    assert_defaults(&c);
    if (c.warnings.len) fail_msg("unexpected warning: %s", c.warnings.items[0]);
    ae_config_free(&c);

    /* An existing file is never overwritten. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("[embeddings]\nvector_backend = \"sqlite\"\n", f);
    fclose(f);
    assert_int_equal(ae_config_write_default(path, &err), 0);
    assert_int_equal(ae_config_load(path, &c, &err), 0);
    assert_string_equal(c.embeddings.vector_backend, "sqlite");
    ae_config_free(&c);

    /* No temp files left behind. */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", aether);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

static void test_default_text_documents_every_key(void **state)
{
    (void)state;
    const char *t = ae_config_default_text();
    static const char *const needles[] = {
        "[inference]",
        "provider = \"auto\"",
        "# model = ",
        "# endpoint = ",
        "# api_key_env = ",
        "\"auto\", \"mock\", \"static\", \"openai_compat\", \"ollama\", \"qwen3_local\"",
        "[storage]",
        "mirror_sir_files = true",
        "[embeddings]",
        "enabled = true",
        "provider = \"ppmi\"",
        "\"mock\", \"hash\", \"ppmi\", \"openai_compat\", \"ollama\", \"qwen3_local\"",
        "retrain = \"auto\"",
        "accepted: \"auto\", \"never\", \"always\"",
        "dim = 384",
        "accepted: 1..16384",
        "vector_backend = \"lancedb\"",
        "accepted: \"lancedb\", \"sqlite\"",
        "batch_size = 64",
        "accepted: 1..4096",
        "[search]",
        "nprobe = 0",
        "refine_factor = 0",
        "accepted: 0 (index default) or a positive integer",
        "target_recall = 0.95",
        "accepted: a number between 0 and 1, both excluded (e.g. 0.95)",
        "index_build_memory_mb = 2048",
        "accepted: 16..1048576 (MiB)",
        "accepted: true, false",
    };
    for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++)
        if (!strstr(t, needles[i])) fail_msg("default text lacks %s", needles[i]);
}

static void test_overrides(void **state)
{
    (void)state;
    ae_config c;
    ae_error err = {0};
    int rc = parse("[inference]\n"
                   "provider = \"openai_compat\"\n"
                   "model = \"gpt-x\"\n"
                   "endpoint = \"http://localhost:8080/v1\"\n"
                   "api_key_env = \"MY_KEY\"\n"
                   "[storage]\n"
                   "mirror_sir_files = false\n"
                   "[embeddings]\n"
                   "enabled = false\n"
                   "provider = \"ollama\"\n"
                   "model = \"nomic-embed-text\"\n"
                   "endpoint = \"http://127.0.0.1:11434\"\n"
                   "api_key_env = \"\"\n"
                   "dim = 8192\n"
                   "vector_backend = \"sqlite\"\n"
                   "batch_size = 4096\n"
                   "[search]\n"
                   "nprobe = 16\n"
                   "refine_factor = 4\n"
                   "target_recall = 0.985\n"
                   "index_build_memory_mb = 512\n",
                   &c, &err);
    if (rc) fail_msg("%s", err.message);
    assert_string_equal(c.inference.provider, "openai_compat");
    assert_string_equal(c.inference.model, "gpt-x");
    assert_string_equal(c.inference.endpoint, "http://localhost:8080/v1");
    assert_string_equal(c.inference.api_key_env, "MY_KEY");
    assert_false(c.storage.mirror_sir_files);
    assert_false(c.embeddings.enabled);
    assert_string_equal(c.embeddings.provider, "ollama");
    assert_string_equal(c.embeddings.model, "nomic-embed-text");
    assert_string_equal(c.embeddings.endpoint, "http://127.0.0.1:11434");
    assert_null(c.embeddings.api_key_env); /* "" means unset */
    assert_int_equal(c.embeddings.dim, 8192);
    assert_string_equal(c.embeddings.vector_backend, "sqlite");
    assert_int_equal(c.embeddings.batch_size, 4096);
    assert_int_equal(c.search.nprobe, 16);
    assert_int_equal(c.search.refine_factor, 4);
    assert_true(c.search.target_recall == 0.985);
    assert_int_equal(c.search.index_build_memory_mb, 512);
    assert_int_equal(c.warnings.len, 0);
    ae_config_free(&c);

    /* Lower bounds are accepted too. */
    assert_int_equal(parse("[embeddings]\ndim = 1\nbatch_size = 1\n", &c, &err), 0);
    assert_int_equal(c.embeddings.dim, 1);
    assert_int_equal(c.embeddings.batch_size, 1);
    ae_config_free(&c);
    /* target_recall: any number strictly between 0 and 1, exponents too */
    assert_int_equal(parse("[search]\ntarget_recall = 5e-1\n", &c, &err), 0);
    assert_true(c.search.target_recall == 0.5);
    ae_config_free(&c);
    assert_int_equal(parse("[search]\ntarget_recall = 0.999999\n", &c, &err), 0);
    assert_true(c.search.target_recall == 0.999999);
    ae_config_free(&c);
    /* index_build_memory_mb: both bounds */
    assert_int_equal(parse("[search]\nindex_build_memory_mb = 16\n", &c, &err), 0);
    assert_int_equal(c.search.index_build_memory_mb, 16);
    ae_config_free(&c);
    assert_int_equal(parse("[search]\nindex_build_memory_mb = 1048576\n", &c, &err), 0);
    assert_int_equal(c.search.index_build_memory_mb, 1048576);
    ae_config_free(&c);
}

static void test_reference_tool_config_warns(void **state)
{
    (void)state;
    ae_config c;
    ae_error err = {0};
    int rc = parse("[general]\n"                                     /* 1 */
                   "log_level = \"info\"\n"                          /* 2 */
                   "\n"                                              /* 3 */
                   "[inference]\n"                                   /* 4 */
                   "provider = \"mock\"\n"                           /* 5 */
                   "api_key_env = \"GEMINI_API_KEY\"\n"              /* 6 */
                   "temperature = 0.2\n"                             /* 7 */
                   "\n"                                              /* 8 */
                   "[storage]\n"                                     /* 9 */
                   "mirror_sir_files = true\n"                       /* 10 */
                   "\n"                                              /* 11 */
                   "[embeddings]\n"                                  /* 12 */
                   "enabled = false\n"                               /* 13 */
                   "provider = \"mock\"\n"                           /* 14 */
                   "vector_backend = \"lancedb\"\n"                  /* 15 */
                   "\n"                                              /* 16 */
                   "[verify]\n"                                      /* 17 */
                   "commands = [\"cargo test\", \"cargo clippy\"]\n" /* 18 */
                   "mode = \"host\"\n"                               /* 19 */
                   "\n"                                              /* 20 */
                   "[embeddings.candle]\n"                           /* 21 */
                   "model_dir = \"x\"\n",                            /* 22 */
                   &c, &err);
    if (rc) fail_msg("%s", err.message);
    assert_string_equal(c.inference.provider, "mock");
    assert_string_equal(c.inference.api_key_env, "GEMINI_API_KEY");
    assert_false(c.embeddings.enabled);
    assert_string_equal(c.embeddings.provider, "mock");
    assert_int_equal(c.warnings.len, 3);
    assert_string_equal(c.warnings.items[0], "t.toml:1: unknown section [general] (ignored)");
    assert_string_equal(c.warnings.items[1],
                        "t.toml:7: unknown key 'temperature' in [inference] (ignored)");
    assert_string_equal(c.warnings.items[2],
                        "t.toml:21: unknown key 'candle' in [embeddings] (ignored)");
    /* [verify] is read: the reference's allow-list and mode */
    assert_int_equal(c.verify.commands.len, 2);
    assert_string_equal(c.verify.commands.items[1], "cargo clippy");
    assert_string_equal(c.verify.mode, "host");
    ae_config_free(&c);

    assert_int_equal(parse("version = 2\n[search]\nnprobe = 3\n", &c, &err), 0);
    assert_int_equal(c.warnings.len, 1);
    assert_string_equal(c.warnings.items[0], "t.toml:1: unknown top-level key 'version' (ignored)");
    assert_int_equal(c.search.nprobe, 3);
    ae_config_free(&c);
}

static const struct {
    const char *text, *want;
} BAD[] = {
    {"[verify]\nmode = \"vm\"\n",
     "t.toml:2: [verify] mode = \"vm\" is not supported; accepted: \"host\", \"container\", "
     "\"microvm\""},
    {"[verify]\ncommands = \"make\"\n",
     "t.toml:2: [verify] commands must be an array of strings, not a string; accepted: an array "
     "of command strings"},
    {"[verify]\ncommands = [\"make\", 3]\n",
     "t.toml:2: [verify] commands item 2 must be a string, not an integer"},
    {"[verify]\ntimeout_secs = 0\n",
     "t.toml:2: [verify] timeout_secs = 0 is out of range; accepted: 1..86400 (seconds per "
     "command)"},
    {"[verify]\nmax_output_bytes = 10\n",
     "t.toml:2: [verify] max_output_bytes = 10 is out of range"},
    {"[verify.container]\nfallback_to_host_on_unavailable = \"yes\"\n",
     "t.toml:2: [verify.container] fallback_to_host_on_unavailable must be a boolean, not a "
     "string; accepted: true, false"},
    {"[verify.microvm]\nvcpu_count = 65\n",
     "t.toml:2: [verify.microvm] vcpu_count = 65 is out of range; accepted: 1..64"},
    {"[inference]\nprovider = \"gemini\"\n",
     "t.toml:2: [inference] provider = \"gemini\" is not supported; accepted: \"auto\", \"mock\", "
     "\"static\", \"openai_compat\", \"ollama\", \"qwen3_local\""},
    {"[inference]\nmodel = 5\n",
     "t.toml:2: [inference] model must be a string, not an integer; accepted: a model name string"},
    {"[storage]\n\nmirror_sir_files = 1\n",
     "t.toml:3: [storage] mirror_sir_files must be a boolean, not an integer; accepted: true, "
     "false"},
    {"[embeddings]\nenabled = \"yes\"\n",
     "t.toml:2: [embeddings] enabled must be a boolean, not a string; accepted: true, false"},
    {"[embeddings]\nprovider = \"Hash\"\n",
     "t.toml:2: [embeddings] provider = \"Hash\" is not supported; accepted: \"mock\", \"hash\", "
     "\"ppmi\", \"openai_compat\", \"ollama\", \"qwen3_local\""},
    {"[embeddings]\nretrain = \"sometimes\"\n",
     "t.toml:2: [embeddings] retrain = \"sometimes\" is not supported; accepted: \"auto\", "
     "\"never\", \"always\""},
    {"[embeddings]\ndim = 0\n",
     "t.toml:2: [embeddings] dim = 0 is out of range; accepted: 1..16384"},
    {"[embeddings]\ndim = 16385\n",
     "t.toml:2: [embeddings] dim = 16385 is out of range; accepted: 1..16384"},
    {"[embeddings]\ndim = 4294967680\n",
     "t.toml:2: [embeddings] dim = 4294967680 is out of range; accepted: 1..16384"},
    {"[embeddings]\ndim = \"384\"\n",
     "t.toml:2: [embeddings] dim must be an integer, not a string; accepted: 1..16384"},
    {"[embeddings]\ndim = 384.0\n",
     "t.toml:2: [embeddings] dim must be an integer, not a float; accepted: 1..16384"},
    {"[embeddings]\nvector_backend = \"lance\"\n",
     "t.toml:2: [embeddings] vector_backend = \"lance\" is not supported; accepted: \"lancedb\", "
     "\"sqlite\""},
    {"[embeddings]\nvector_backend = [\"sqlite\"]\n",
     "t.toml:2: [embeddings] vector_backend must be a string, not an array; accepted: "
     "\"lancedb\", \"sqlite\""},
    {"[embeddings]\nbatch_size = 0\n",
     "t.toml:2: [embeddings] batch_size = 0 is out of range; accepted: 1..4096"},
    {"[embeddings]\nbatch_size = 4097\n",
     "t.toml:2: [embeddings] batch_size = 4097 is out of range; accepted: 1..4096"},
    {"[search]\nnprobe = -1\n",
     "t.toml:2: [search] nprobe = -1 is out of range; accepted: 0 (index default) or a positive "
     "integer"},
    {"[search]\nrefine_factor = 1.5\n",
     "t.toml:2: [search] refine_factor must be an integer, not a float; accepted: 0 (index "
     "default) or a positive integer"},
    {"[search]\nindex_build_memory_mb = 15\n",
     "t.toml:2: [search] index_build_memory_mb = 15 is out of range; accepted: 16..1048576 (MiB)"},
    {"[search]\nindex_build_memory_mb = 1048577\n",
     "t.toml:2: [search] index_build_memory_mb = 1048577 is out of range; accepted: 16..1048576 "
     "(MiB)"},
    {"[search]\nindex_build_memory_mb = 1.5\n",
     "t.toml:2: [search] index_build_memory_mb must be an integer, not a float; accepted: "
     "16..1048576 (MiB)"},
    {"[search]\nindex_build_memory_mb = \"2G\"\n",
     "t.toml:2: [search] index_build_memory_mb must be an integer, not a string; accepted: "
     "16..1048576 (MiB)"},
    {"[search]\ntarget_recall = 0\n",
     "t.toml:2: [search] target_recall = 0 is out of range; accepted: a number between 0 and 1, "
     "both excluded (e.g. 0.95)"},
    {"[search]\ntarget_recall = 1\n", "t.toml:2: [search] target_recall = 1 is out of range"},
    {"[search]\ntarget_recall = 1.0\n", "t.toml:2: [search] target_recall = 1 is out of range"},
    {"[search]\ntarget_recall = 0.0\n", "t.toml:2: [search] target_recall = 0 is out of range"},
    {"[search]\ntarget_recall = -0.5\n", "t.toml:2: [search] target_recall = -0.5 is out of range"},
    {"[search]\ntarget_recall = 95\n", "t.toml:2: [search] target_recall = 95 is out of range"},
    {"[search]\ntarget_recall = nan\n",
     "t.toml:2: [search] target_recall = nan is out of range; accepted: a number between 0 and 1"},
    {"[search]\ntarget_recall = -nan\n", "t.toml:2: [search] target_recall = "},
    {"[search]\ntarget_recall = inf\n", "t.toml:2: [search] target_recall = inf is out of range"},
    {"[search]\ntarget_recall = \"0.95\"\n",
     "t.toml:2: [search] target_recall must be a number, not a string; accepted: a number "
     "between 0 and 1, both excluded (e.g. 0.95)"},
    {"[search]\ntarget_recall = true\n",
     "t.toml:2: [search] target_recall must be a number, not a boolean"},
    {"embeddings = 1\n",
     "t.toml:1: embeddings must be a [embeddings] section, not an integer; accepted: a table"},
    {"[embeddings.dim]\n", "t.toml:1: [embeddings] dim must be an integer, not a table"},
    {"[embeddings]\nprovider = hash\n",
     "t.toml:2: expected a value, found 'hash' (strings need quotes)"},
    {"[search]\nnprobe = 1\nnprobe = 2\n",
     "t.toml:3: duplicate key 'nprobe' (first defined on line 2)"},
    /* Unknown sections do not hide errors after them. */
    {"[general]\nx = 1\n[embeddings]\ndim = -5\n", "t.toml:4: [embeddings] dim = -5"},
};

static void test_bad_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        ae_config c;
        ae_error err = {0};
        memset(&c, 0x5a, sizeof c);
        int rc = parse(BAD[i].text, &c, &err);
        if (rc != AE_ECONFIG) fail_msg("case %zu: rc %d (%s), want AE_ECONFIG", i, rc, err.message);
        if (!strstr(err.message, BAD[i].want))
            fail_msg("case %zu: message '%s' lacks '%s'", i, err.message, BAD[i].want);
        /* out is zeroed on failure */
        assert_null(c.inference.provider);
        assert_null(c.warnings.items);
        ae_config_free(&c);
    }
}

static void test_load_names_real_path(void **state)
{
    (void)state;
    char *dir = tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/config.toml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# comment\n[embeddings]\nvector_backend = \"faiss\"\n[foo]\n", f);
    fclose(f);
    ae_config c;
    ae_error err = {0};
    assert_int_equal(ae_config_load(path, &c, &err), AE_ECONFIG);
    char want[600];
    snprintf(want, sizeof want, "%s:3: [embeddings] vector_backend = \"faiss\"", path);
    if (strncmp(err.message, want, strlen(want)) != 0)
        fail_msg("message '%s' does not start with '%s'", err.message, want);
    unlink(path);

    /* A directory where the file should be is an I/O error, not defaults. */
    assert_int_equal(mkdir(path, 0755), 0);
    assert_true(ae_config_load(path, &c, &err) < 0);
    assert_true(ae_config_write_default(path, &err) == 0); /* exists: left alone */
    rmdir(path);
    rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_defaults),
        cmocka_unit_test(test_missing_file_gives_defaults),
        cmocka_unit_test(test_default_file_round_trip),
        cmocka_unit_test(test_default_text_documents_every_key),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_reference_tool_config_warns),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_load_names_real_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
