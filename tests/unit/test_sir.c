/* SIR records: canonical JSON byte for byte, hashes, parsing and validation, and the mock and
 * static providers on small snippets of each language. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sir/provider.h"
#include "sir/sir.h"
#include "util/err.h"

#ifdef AE_TESTING /* internals, file-static in other builds */
void sir_format_double(double x, char out[40]);
int static_doc_sentence(const char *doc, char **out);
int static_name_words(const char *name, ae_strlist *words);
int static_name_sentence(const ae_symbol *sym, bool has_output, char **out);
#endif

static const char *const MOCK_FOO_JSON =
    "{\"confidence\":1.0,\"dependencies\":[],\"error_modes\":[],\"inputs\":[],"
    "\"intent\":\"Mock summary for foo\",\"outputs\":[],\"side_effects\":[]}";
/* b3sum of MOCK_FOO_JSON */
static const char *const MOCK_FOO_HASH =
    "0cfe91cc03aa1f9e568fa52378d5ba7e1f4b0940c290358eb2ce69e9aa012d0c";

static void push_all(ae_strlist *l, const char *const *items)
{
    for (; *items; items++)
        assert_int_equal(ae_strlist_push(l, *items), 0);
}

static char *canonical(const ae_sir *s)
{
    char *json = NULL;
    ae_error err = {0};
    int rc = ae_sir_canonical_json(s, &json, &err);
    if (rc != 0) fail_msg("canonical json failed: %s", err.message);
    return json;
}

static void assert_list(const ae_strlist *l, const char *const *expected)
{
    size_t n = 0;
    while (expected[n])
        n++;
    if (l->len != n) {
        for (size_t i = 0; i < l->len; i++)
            print_message("  got [%zu] %s\n", i, l->items[i]);
        fail_msg("expected %zu items, got %zu", n, l->len);
    }
    for (size_t i = 0; i < n; i++)
        assert_string_equal(l->items[i], expected[i]);
}

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})
#define EMPTY     ((const char *const[]){NULL})

/* ---- canonical JSON --------------------------------------------------------------------- */

static void test_canonical_order_and_sorting(void **state)
{
    ae_sir s = {0};
    s.intent = ae_strdup("Parses config.");
    push_all(&s.inputs, LIST("b: int", "a: str"));
    push_all(&s.outputs, LIST("Config"));
    push_all(&s.dependencies, LIST("zeta", "Alpha", "alpha", "beta"));
    push_all(&s.error_modes, LIST("returns Err"));
    push_all(&s.side_effects, LIST("writes files", "network"));
    s.confidence = 0.75;
    char *json = canonical(&s);
    assert_string_equal(json, "{\"confidence\":0.75,\"dependencies\":[\"Alpha\",\"alpha\",\"beta\","
                              "\"zeta\"],\"error_modes\":[\"returns Err\"],\"inputs\":[\"a: "
                              "str\",\"b: int\"],\"intent\":\"Parses config.\",\"outputs\":["
                              "\"Config\"],\"side_effects\":[\"network\",\"writes files\"]}");
    /* the record itself is not reordered */
    assert_string_equal(s.dependencies.items[0], "zeta");
    free(json);
    ae_sir_clear(&s);
    assert_null(s.intent);
    assert_int_equal(s.dependencies.len, 0);
    ae_sir_clear(NULL);
}

static void test_canonical_escaping_and_unicode(void **state)
{
    ae_sir s = {0};
    s.intent = ae_strdup("say \"hi\" \\ tab\there\nline\r\b\f\x01\x1f\x7f caf\xc3\xa9 \xe2\x9c\x93 "
                         "\xf0\x9f\x98\x80 </script>");
    s.confidence = 1;
    char *json = canonical(&s);
    assert_string_equal(json, "{\"confidence\":1.0,\"dependencies\":[],\"error_modes\":[],"
                              "\"inputs\":[],\"intent\":\"say \\\"hi\\\" \\\\ tab\\there\\nline\\r"
                              "\\b\\f\\u0001\\u001f\x7f caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80 "
                              "</script>\",\"outputs\":[],\"side_effects\":[]}");
    free(json);
    ae_sir_clear(&s);
}

/* The confidence as the canonical JSON prints it. */
static void confidence_text(double x, char out[40])
{
    ae_sir s = {0};
    s.intent = ae_strdup("x");
    s.confidence = x;
    char *json = canonical(&s);
    const char *prefix = "{\"confidence\":";
    assert_memory_equal(json, prefix, strlen(prefix));
    size_t n = strcspn(json + strlen(prefix), ",");
    assert_true(n < 40);
    memcpy(out, json + strlen(prefix), n);
    out[n] = '\0';
    free(json);
    ae_sir_clear(&s);
}

static void test_confidence_forms(void **state)
{
    static const struct {
        double x;
        const char *want;
    } cases[] = {
        {1.0, "1.0"},
        {0.75, "0.75"},
        {0.0, "0.0"},
        {0.1, "0.1"},
        {0.6, "0.6"},
        {0.4, "0.4"},
        {0.3, "0.3"},
        {1.0 / 3.0, "0.3333333333333333"},
        {0.123456789, "0.123456789"},
        {0.00001, "0.00001"},
        {0.0001234, "0.0001234"},
        {1e-7, "1e-7"},
        {1.5e-9, "1.5e-9"},
        {5e-324, "5e-324"},
        {-0.0, "-0.0"},
        {0.1 + 0.2, "0.30000000000000004"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[40];
        confidence_text(cases[i].x, out);
        assert_string_equal(out, cases[i].want);
        assert_true(strtod(out, NULL) == cases[i].x);
    }
#ifdef AE_TESTING
    static const struct {
        double x;
        const char *want;
    } wide[] = {
        {12.5, "12.5"}, {100.0, "100.0"}, {1e16, "1e16"}, {123456.0, "123456.0"}, {-2.5, "-2.5"}};
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++) {
        char out[40];
        sir_format_double(wide[i].x, out);
        assert_string_equal(out, wide[i].want);
    }
#endif
}

static void test_mock_known_answer(void **state)
{
    ae_symbol sym = {0};
    sym.qualified_name = "foo";
    sym.name = "foo";
    ae_sir s;
    ae_error err = {0};
    assert_int_equal(ae_sir_generate_mock(&sym, &s, &err), 0);
    assert_string_equal(s.intent, "Mock summary for foo");
    assert_true(s.confidence == 1.0);
    char *json = canonical(&s);
    assert_string_equal(json, MOCK_FOO_JSON);
    free(json);
    char hash[AE_BLAKE3_HEX_LEN + 1];
    assert_int_equal(ae_sir_hash(&s, hash, &err), 0);
    assert_string_equal(hash, MOCK_FOO_HASH);
    ae_sir_clear(&s);

    sym.qualified_name = "config::Config::new";
    assert_int_equal(ae_sir_generate_mock(&sym, &s, &err), 0);
    assert_string_equal(s.intent, "Mock summary for config::Config::new");
    assert_int_equal(s.inputs.len + s.outputs.len + s.dependencies.len + s.error_modes.len +
                         s.side_effects.len,
                     0);
    ae_sir_clear(&s);

    sym.qualified_name = NULL;
    assert_int_equal(ae_sir_generate_mock(&sym, &s, &err), AE_EINVAL);
    assert_null(s.intent);
    assert_int_equal(ae_sir_generate_mock(NULL, &s, &err), AE_EINVAL);
}

static void test_hash_ignores_list_order(void **state)
{
    ae_sir a = {0}, b = {0};
    a.intent = ae_strdup("Loads things.");
    b.intent = ae_strdup("Loads things.");
    a.confidence = b.confidence = 0.5;
    push_all(&a.dependencies, LIST("read", "parse", "close"));
    push_all(&b.dependencies, LIST("close", "read", "parse"));
    push_all(&a.side_effects, LIST("reads files", "network"));
    push_all(&b.side_effects, LIST("network", "reads files"));
    char ha[AE_BLAKE3_HEX_LEN + 1], hb[AE_BLAKE3_HEX_LEN + 1];
    ae_error err = {0};
    assert_int_equal(ae_sir_hash(&a, ha, &err), 0);
    assert_int_equal(ae_sir_hash(&b, hb, &err), 0);
    assert_string_equal(ha, hb);
    assert_int_equal(strlen(ha), AE_BLAKE3_HEX_LEN);
    assert_int_equal(strspn(ha, "0123456789abcdef"), AE_BLAKE3_HEX_LEN);

    /* a value moved to another list, or a changed confidence, changes the hash */
    ae_strlist_free(&b.side_effects);
    push_all(&b.side_effects, LIST("network"));
    push_all(&b.error_modes, LIST("reads files"));
    assert_int_equal(ae_sir_hash(&b, hb, &err), 0);
    assert_string_not_equal(ha, hb);
    b.confidence = 0.5000000001;
    char hc[AE_BLAKE3_HEX_LEN + 1];
    assert_int_equal(ae_sir_hash(&b, hc, &err), 0);
    assert_string_not_equal(hb, hc);
    ae_sir_clear(&a);
    ae_sir_clear(&b);
}

/* ---- validation and parsing --------------------------------------------------------------- */

static void test_validate_rejects_bad_records(void **state)
{
    ae_sir s = {0};
    ae_error err = {0};
    char *json = (char *)"untouched";
    assert_int_equal(ae_sir_validate(&s, &err), AE_EINVAL);
    assert_string_equal(err.message, "sir: intent is missing");
    assert_int_equal(ae_sir_canonical_json(&s, &json, &err), AE_EINVAL);
    assert_null(json);
    char hash[AE_BLAKE3_HEX_LEN + 1];
    assert_int_equal(ae_sir_hash(&s, hash, &err), AE_EINVAL);

    s.intent = ae_strdup(" \t\n ");
    assert_int_equal(ae_sir_validate(&s, &err), AE_EINVAL);
    assert_string_equal(err.message, "sir: intent is blank");
    free(s.intent);
    s.intent = ae_strdup("ok");
    assert_int_equal(ae_sir_validate(&s, &err), 0);

    s.confidence = NAN;
    assert_int_equal(ae_sir_validate(&s, &err), AE_EINVAL);
    assert_non_null(strstr(err.message, "confidence must be in [0, 1]"));
    s.confidence = 1.5;
    assert_int_equal(ae_sir_validate(&s, &err), AE_EINVAL);
    assert_string_equal(err.message, "sir: confidence must be in [0, 1], not 1.5");
    s.confidence = -0.25;
    assert_int_equal(ae_sir_validate(&s, &err), AE_EINVAL);
    s.confidence = 1;

    push_all(&s.outputs, LIST("fine", "bad \xc3\x28 byte"));
    assert_int_equal(ae_sir_validate(&s, &err), AE_EINVAL);
    assert_string_equal(err.message, "sir outputs[1]: invalid utf-8 at byte 4");
    ae_strlist_free(&s.outputs);
    push_all(&s.outputs, LIST("overlong \xc0\xaf", "x"));
    assert_int_equal(ae_sir_validate(&s, &err), AE_EINVAL);
    ae_strlist_free(&s.outputs);
    push_all(&s.outputs, LIST("surrogate \xed\xa0\x80"));
    assert_int_equal(ae_sir_validate(&s, &err), AE_EINVAL);
    ae_strlist_free(&s.outputs);
    assert_int_equal(ae_sir_validate(&s, &err), 0);
    assert_int_equal(ae_sir_validate(NULL, &err), AE_EINVAL);
    ae_sir_clear(&s);
}

static void test_from_json_round_trip(void **state)
{
    ae_sir s = {0};
    s.intent = ae_strdup("Writes \"files\" \xe2\x9c\x93\n");
    push_all(&s.inputs, LIST("path: &Path", "data: &[u8]"));
    push_all(&s.outputs, LIST("io::Result<()>"));
    push_all(&s.dependencies, LIST("write_all", "create"));
    push_all(&s.error_modes, LIST("propagates errors with ?"));
    push_all(&s.side_effects, LIST("writes files"));
    s.confidence = 0.6;
    char *json = canonical(&s);

    ae_sir back;
    ae_error err = {0};
    assert_int_equal(ae_sir_from_json(json, &back, &err), 0);
    assert_string_equal(back.intent, s.intent);
    assert_true(back.confidence == 0.6);
    assert_list(&back.inputs, LIST("data: &[u8]", "path: &Path"));
    char *again = canonical(&back);
    assert_string_equal(again, json);
    free(again);
    free(json);
    ae_sir_clear(&back);
    ae_sir_clear(&s);

    /* lists may be missing; whitespace and key order are free; integers are numbers */
    assert_int_equal(
        ae_sir_from_json(" { \"intent\" : \"Mock summary for foo\", \"confidence\": 1 } ", &back,
                         &err),
        0);
    json = canonical(&back);
    assert_string_equal(json, MOCK_FOO_JSON);
    free(json);
    ae_sir_clear(&back);
}

static void expect_json_error(const char *text, const char *message_part)
{
    ae_sir s;
    ae_error err = {0};
    int rc = ae_sir_from_json(text, &s, &err);
    if (rc != AE_EINVAL) fail_msg("expected AE_EINVAL for %s, got %d", text, rc);
    assert_int_equal(err.code, AE_EINVAL);
    if (!strstr(err.message, message_part))
        fail_msg("message \"%s\" lacks \"%s\"", err.message, message_part);
    assert_null(s.intent);
    assert_int_equal(s.inputs.len + s.dependencies.len, 0);
}

static void test_from_json_errors(void **state)
{
    expect_json_error("", "sir json: line");
    expect_json_error("{\"intent\":\"x\",", "sir json: line 1");
    expect_json_error("[1,2]", "expected an object");
    expect_json_error("{\"intent\":\"x\",\"confidence\":1,\"summary\":\"y\"}",
                      "unknown key \"summary\" (expected confidence, dependencies, "
                      "error_modes, inputs, intent, outputs, side_effects)");
    expect_json_error("{\"confidence\":1}", "intent is missing");
    expect_json_error("{\"intent\":\"  \",\"confidence\":1}", "intent is blank");
    expect_json_error("{\"intent\":7,\"confidence\":1}", "intent must be a string");
    expect_json_error("{\"intent\":null,\"confidence\":1}", "intent must be a string");
    expect_json_error("{\"intent\":\"x\"}", "confidence is missing");
    expect_json_error("{\"intent\":\"x\",\"confidence\":\"high\"}", "confidence must be a number");
    expect_json_error("{\"intent\":\"x\",\"confidence\":1.01}", "confidence must be in [0, 1]");
    expect_json_error("{\"intent\":\"x\",\"confidence\":-1e-9}", "confidence must be in [0, 1]");
    expect_json_error("{\"intent\":\"x\",\"confidence\":1,\"inputs\":\"a\"}",
                      "inputs must be an array of strings");
    expect_json_error("{\"intent\":\"x\",\"confidence\":1,\"outputs\":null}",
                      "outputs must be an array of strings");
    expect_json_error("{\"intent\":\"x\",\"confidence\":1,\"dependencies\":[\"a\",3]}",
                      "dependencies[1] must be a string");
    expect_json_error("{\"intent\":\"x\",\"confidence\":1,\"error_modes\":[[\"a\"]]}",
                      "error_modes[0] must be a string");
    expect_json_error("{\"intent\":\"x\",\"confidence\":1,\"side_effects\":{}}",
                      "side_effects must be an array");
    expect_json_error("{\"intent\":\"x\",\"intent\":\"y\",\"confidence\":1}", "duplicate");
    expect_json_error("{\"intent\":\"x\",\"confidence\":1} trailing", "sir json: line 1");
    ae_sir s;
    ae_error err = {0};
    assert_int_equal(ae_sir_from_json(NULL, &s, &err), AE_EINVAL);
}

#ifdef AE_TESTING
/* ---- static provider: pieces -------------------------------------------------------------- */

static void assert_words(const char *name, const char *const *want)
{
    ae_strlist w = {0};
    assert_int_equal(static_name_words(name, &w), 0);
    assert_list(&w, want);
    ae_strlist_free(&w);
}

static void test_name_words(void **state)
{
    assert_words("parse_config_file", LIST("parse", "config", "file"));
    assert_words("parseConfigFile", LIST("parse", "config", "file"));
    assert_words("ParseConfigFile", LIST("parse", "config", "file"));
    assert_words("parseHTTPRequest", LIST("parse", "HTTP", "request"));
    assert_words("HTTPServer", LIST("HTTP", "server"));
    assert_words("getURL", LIST("get", "URL"));
    assert_words("MAX_SIZE", LIST("max", "size"));
    assert_words("__init__", LIST("init"));
    assert_words("utf8Decode2x", LIST("utf8", "decode2x"));
    assert_words("kebab-case-name", LIST("kebab", "case", "name"));
    assert_words("", EMPTY);
}

static void assert_name_sentence(const char *kind, const char *name, const char *qualified,
                                 bool has_output, const char *want)
{
    ae_symbol sym = {0};
    sym.kind = (char *)kind;
    sym.name = (char *)name;
    sym.qualified_name = (char *)qualified;
    char *got = NULL;
    assert_int_equal(static_name_sentence(&sym, has_output, &got), 0);
    assert_string_equal(got, want);
    free(got);
}

static void test_name_sentences(void **state)
{
    assert_name_sentence("function", "parse_config_file", "parse_config_file", false,
                         "Function that parses config file.");
    assert_name_sentence("function", "parseConfigFile", "parseConfigFile", true,
                         "Function that parses config file.");
    assert_name_sentence("method", "apply_patch", "Repo::apply_patch", false,
                         "Method that applies patch.");
    assert_name_sentence("method", "flush", "Writer::flush", false, "Method that flushes.");
    assert_name_sentence("func", "is_empty", "is_empty", true,
                         "Function that checks whether it is empty.");
    assert_name_sentence("function", "new", "Config::new", true,
                         "Function that creates a new Config.");
    assert_name_sentence("function", "to_string", "Id::to_string", true,
                         "Function that converts to string.");
    assert_name_sentence("function", "config_path", "config_path", true,
                         "Function that returns config path.");
    assert_name_sentence("function", "main", "main", false, "Function for main.");
    assert_name_sentence("member", "init", "Store::init", false, "Method that initializes.");
    assert_name_sentence("struct", "VectorStore", "VectorStore", false,
                         "Struct representing vector store.");
    assert_name_sentence("trait", "SirProvider", "SirProvider", false,
                         "Trait describing sir provider.");
    assert_name_sentence("constructor", "__init__", "Server.__init__", false,
                         "Constructor for Server.");
    assert_name_sentence("variable", "MAX_RETRIES", "MAX_RETRIES", false,
                         "Variable for max retries.");
    assert_name_sentence(NULL, "x", "x", false, "Symbol for x.");
    /* C-style "<prefix>_<object>_<verb>" names */
    assert_name_sentence("function", "ae_buf_append", "ae_buf_append", true,
                         "Function that appends buf.");
    assert_name_sentence("function", "ae_write_file_atomic", "ae_write_file_atomic", true,
                         "Function that writes file atomic.");
    assert_name_sentence("function", "ae_path_exists", "ae_path_exists", true,
                         "Function that checks whether path exists.");
    assert_name_sentence("function", "node_is_leaf", "node_is_leaf", true,
                         "Function that checks whether node is leaf.");
    assert_name_sentence("function", "ae_is_dir", "ae_is_dir", true,
                         "Function that checks whether it is dir.");
    /* constructors by name */
    assert_name_sentence("method", "__init__", "Foo::__init__", false, "Constructor for Foo.");
    assert_name_sentence("method", "constructor", "Service::constructor", false,
                         "Constructor for Service.");
    assert_name_sentence("method", "Widget", "Widget::Widget", false, "Constructor for Widget.");
    assert_name_sentence("type_alias", "NodeId", "NodeId", false,
                         "Type alias representing node id.");
}

static void assert_doc(const char *doc, const char *want)
{
    char *got = NULL;
    assert_int_equal(static_doc_sentence(doc, &got), 0);
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_doc_first_sentence(void **state)
{
    assert_doc("Parses the file. Then more.", "Parses the file.");
    assert_doc("  Parses the\n   file\tquickly!  Yes", "Parses the file quickly!");
    assert_doc("Handles inputs, e.g. files. Second.", "Handles inputs, e.g. files.");
    assert_doc("Summary line without a stop\n\nDetails here. More.", "Summary line without a stop");
    assert_doc("Version 1.2 of the loader. Next.", "Version 1.2 of the loader.");
    assert_doc("@brief Opens the store.\n@param p path", "Opens the store.");
    assert_doc("Is it ready? Maybe.", "Is it ready?");
    assert_doc("bad \xff byte.", "bad ? byte.");
    assert_doc("  \n\t ", NULL);
    assert_doc(NULL, NULL);

    char long_doc[600];
    memset(long_doc, 0, sizeof long_doc);
    for (int i = 0; i < 60; i++)
        strcat(long_doc, "word ");
    strcat(long_doc, "end.");
    char *got = NULL;
    assert_int_equal(static_doc_sentence(long_doc, &got), 0);
    assert_true(strlen(got) <= 200);
    assert_true(strlen(got) >= 190);
    assert_string_equal(got + strlen(got) - 8, " word...");
    free(got);
}

#endif

/* ---- static provider: whole symbols per language ----------------------------------------- */

static ae_sir run_static(const char *lang, const char *kind, const char *name,
                         const char *qualified, const char *signature, const char *source,
                         const char *doc)
{
    ae_symbol sym = {0};
    sym.language = (char *)lang;
    sym.kind = (char *)kind;
    sym.name = (char *)name;
    sym.qualified_name = (char *)qualified;
    sym.signature = (char *)signature;
    sym.source = (char *)source;
    sym.doc = (char *)doc;
    ae_sir s;
    ae_error err = {0};
    int rc = ae_sir_generate_static(&sym, &s, &err);
    if (rc != 0) fail_msg("static provider failed: %s", err.message);
    assert_int_equal(ae_sir_validate(&s, &err), 0);
    return s;
}

static void test_static_rust(void **state)
{
    ae_sir s = run_static(
        "rust", "function", "load_config", "config::load_config",
        "pub fn load_config<P: AsRef<Path>>(&self, path: P, strict: bool) -> Result<Config, "
        "Error>",
        "#[inline]\n"
        "pub fn load_config<P: AsRef<Path>>(&self, path: P, strict: bool) -> Result<Config, "
        "Error> {\n"
        "    // parse(later) is not a call\n"
        "    let text = fs::read_to_string(path.as_ref())?;\n"
        "    let cfg: Config = toml::from_str(&text).map_err(|e| Error::Parse(e.to_string()))?;\n"
        "    if cfg.name.is_empty() { return Err(Error::Empty); }\n"
        "    let s = \"fake_call(x)\"; let c = 'x'; let r: &'static str = s;\n"
        "    println!(\"loaded {}\", cfg.name);\n"
        "    let v = cfg.items.iter().map(|x| x.len()).collect::<Vec<_>>();\n"
        "    let n = v.first().unwrap();\n"
        "    self.load_config(path, strict)\n"
        "}\n",
        "Loads the configuration at `path`.\nMore details here.");
    assert_string_equal(s.intent, "Loads the configuration at `path`.");
    assert_true(s.confidence == 0.6);
    assert_list(&s.inputs, LIST("path: P", "strict: bool"));
    assert_list(&s.outputs, LIST("Result<Config, Error>"));
    assert_list(&s.dependencies,
                LIST("Parse", "as_ref", "collect", "first", "from_str", "is_empty", "iter", "len",
                     "map", "map_err", "read_to_string", "to_string", "unwrap"));
    assert_list(&s.error_modes, LIST("panics", "propagates errors with ?", "returns Err"));
    assert_list(&s.side_effects, LIST("prints output", "reads files"));
    ae_sir_clear(&s);

    s = run_static("rust", "method", "save", "Store::save",
                   "fn save(&mut self) -> io::Result<()>\n    where Self: Sized",
                   "fn save(&mut self) -> io::Result<()>\n    where Self: Sized\n{\n"
                   "    let mut f = File::create(&self.path)?;\n    f.write_all(b\"x\")?;\n"
                   "    std::process::Command::new(\"sync\").status()?;\n    Ok(())\n}\n",
                   NULL);
    assert_string_equal(s.intent, "Method that saves.");
    assert_true(s.confidence == 0.4);
    assert_list(&s.inputs, EMPTY);
    assert_list(&s.outputs, LIST("io::Result<()>"));
    assert_list(&s.dependencies, LIST("create", "new", "status", "write_all"));
    assert_list(&s.error_modes, LIST("propagates errors with ?"));
    assert_list(&s.side_effects, LIST("spawns processes", "writes files"));
    ae_sir_clear(&s);
}

static void test_static_python(void **state)
{
    ae_sir s =
        run_static("python", "member", "load", "Loader.load",
                   "def load(self, path: str, mode: str = \"r\", *args, **kwargs) -> dict:",
                   "    @cached\n"
                   "    def load(self, path: str, mode: str = \"r\", *args, **kwargs) -> dict:\n"
                   "        \"\"\"Loads it (really).\"\"\"\n"
                   "        # helper(x) in a comment\n"
                   "        with open(path, 'w') as f:\n"
                   "            data = json.load(f)\n"
                   "        if not data:\n"
                   "            raise errors.ConfigError(\"empty\")\n"
                   "        try:\n"
                   "            check(data)\n"
                   "        except KeyError:\n"
                   "            raise\n"
                   "        print(data)\n"
                   "        return self._normalize(data)\n",
                   "Load a mapping from disk.\n\n    Args: path");
    assert_string_equal(s.intent, "Load a mapping from disk.");
    assert_list(&s.inputs, LIST("**kwargs", "*args", "mode: str", "path: str"));
    assert_list(&s.outputs, LIST("dict"));
    assert_list(&s.dependencies, LIST("ConfigError", "_normalize", "check", "open", "print"));
    assert_list(&s.error_modes, LIST("raises errors.ConfigError", "re-raises exceptions"));
    assert_list(&s.side_effects, LIST("prints output", "writes files"));
    ae_sir_clear(&s);

    s = run_static("python", "function", "read_settings", "read_settings",
                   "def read_settings(path=DEFAULT_PATH) -> None:",
                   "def read_settings(path=DEFAULT_PATH) -> None:\n"
                   "    global SETTINGS\n"
                   "    SETTINGS = open(path).read()\n"
                   "    subprocess.run(['ls'])\n",
                   NULL);
    assert_string_equal(s.intent, "Function that reads settings.");
    assert_list(&s.inputs, LIST("path"));
    assert_list(&s.outputs, EMPTY);
    assert_list(&s.dependencies, LIST("open", "read", "run"));
    assert_list(&s.error_modes, EMPTY);
    assert_list(&s.side_effects, LIST("mutates global state", "reads files", "spawns processes"));
    ae_sir_clear(&s);
}

static void test_static_go(void **state)
{
    ae_sir s = run_static(
        "go", "method", "ReadConfig", "Server::ReadConfig",
        "func (s *Server) ReadConfig(ctx context.Context, a, b int) (cfg *Config, err error)",
        "func (s *Server) ReadConfig(ctx context.Context, a, b int) (cfg *Config, err error) {\n"
        "\tdata, err := os.ReadFile(s.path)\n"
        "\tif err != nil {\n"
        "\t\treturn nil, fmt.Errorf(\"read %s: %w\", s.path, err)\n"
        "\t}\n"
        "\tresp, err := http.Get(s.url)\n"
        "\tif err != nil {\n\t\treturn nil, err\n\t}\n"
        "\tfmt.Println(`raw(string)`)\n"
        "\treturn parse[Config](data)\n"
        "}\n",
        NULL);
    assert_string_equal(s.intent, "Method that reads config.");
    assert_list(&s.inputs, LIST("a int", "b int", "ctx context.Context"));
    assert_list(&s.outputs, LIST("cfg *Config", "err error"));
    assert_list(&s.dependencies, LIST("Errorf", "Get", "Println", "ReadFile"));
    assert_list(&s.error_modes, LIST("returns error"));
    assert_list(&s.side_effects, LIST("network", "prints output", "reads files"));
    ae_sir_clear(&s);

    s = run_static("go", "function", "MustOpen", "MustOpen", "func MustOpen(p string) *DB",
                   "func MustOpen(p string) *DB {\n\tdb, err := Open(p)\n\tif err != nil {\n"
                   "\t\tpanic(err)\n\t}\n\treturn db\n}\n",
                   "MustOpen opens the database or panics.");
    assert_string_equal(s.intent, "MustOpen opens the database or panics.");
    assert_list(&s.inputs, LIST("p string"));
    assert_list(&s.outputs, LIST("*DB"));
    assert_list(&s.dependencies, LIST("Open", "panic"));
    assert_list(&s.error_modes, LIST("panics"));
    ae_sir_clear(&s);
}

static void test_static_typescript(void **state)
{
    ae_sir s = run_static(
        "typescript", "function", "fetchUser", "fetchUser",
        "export async function fetchUser<T>(this: Client, id: string, opts: Options = {}): "
        "Promise<User<T>>",
        "export async function fetchUser<T>(this: Client, id: string, opts: Options = {}): "
        "Promise<User<T>> {\n"
        "  const res = await fetch(`/users/${id}`);\n"
        "  if (!res.ok) throw new HttpError(res.status);\n"
        "  console.log(\"got (it)\", res);\n"
        "  return res.json();\n"
        "}\n",
        NULL);
    assert_string_equal(s.intent, "Function that fetches user.");
    assert_list(&s.inputs, LIST("id: string", "opts: Options"));
    assert_list(&s.outputs, LIST("Promise<User<T>>"));
    assert_list(&s.dependencies, LIST("HttpError", "fetch", "json", "log"));
    assert_list(&s.error_modes, LIST("throws HttpError"));
    assert_list(&s.side_effects, LIST("network", "prints output"));
    ae_sir_clear(&s);

    s = run_static("javascript", "function", "writeReport", "writeReport",
                   "function writeReport(path, data)",
                   "function writeReport(path, data) {\n"
                   "  fs.writeFileSync(path, JSON.stringify(data));\n"
                   "  if (!data) { throw err; }\n"
                   "  process.exit(1);\n"
                   "}\n",
                   NULL);
    assert_list(&s.inputs, LIST("data", "path"));
    assert_list(&s.outputs, EMPTY);
    assert_list(&s.dependencies, LIST("exit", "stringify", "writeFileSync"));
    assert_list(&s.error_modes, LIST("throws"));
    assert_list(&s.side_effects, LIST("exits process", "writes files"));
    ae_sir_clear(&s);
}

static void test_static_c(void **state)
{
    ae_sir s =
        run_static("c", "function", "buf_dup", "buf_dup",
                   "static inline char *\nbuf_dup(const ae_buf *b, size_t n)",
                   "static inline char *\nbuf_dup(const ae_buf *b, size_t n)\n{\n"
                   "    /* copy(b) */\n"
                   "    if (n > b->len) {\n        errno = EINVAL;\n        return NULL;\n    }\n"
                   "    FILE *f = fopen(\"/tmp/log\", \"ab\");\n"
                   "    char *d = malloc(sizeof(char) * (n + 1));\n"
                   "    memcpy(d, b->data, n);\n"
                   "    fprintf(stderr, \"dup(%zu)\\n\", n);\n"
                   "    snprintf(d, n, \"%s\", \"printf(x)\");\n"
                   "    return d;\n}\n",
                   "Copies the first n bytes of a buffer.\n\nThe caller frees it.");
    assert_string_equal(s.intent, "Copies the first n bytes of a buffer.");
    assert_list(&s.inputs, LIST("const ae_buf *b", "size_t n"));
    assert_list(&s.outputs, LIST("char *"));
    assert_list(&s.dependencies, LIST("fopen", "fprintf", "malloc", "memcpy", "snprintf"));
    assert_list(&s.error_modes, LIST("returns NULL on error", "sets errno"));
    assert_list(&s.side_effects, LIST("prints output", "writes files"));
    ae_sir_clear(&s);

    s = run_static("c", "function", "open_ro", "open_ro", "int open_ro(const char *path)",
                   "int open_ro(const char *path)\n{\n    int fd = open(path, O_RDONLY);\n"
                   "    if (fd < 0 && errno == ENOENT) return -1;\n"
                   "    if (getenv(\"X\")) system(\"ls\");\n    return fd;\n}\n",
                   NULL);
    assert_string_equal(s.intent, "Function that opens ro.");
    assert_list(&s.inputs, LIST("const char *path"));
    assert_list(&s.outputs, LIST("int"));
    assert_list(&s.dependencies, LIST("getenv", "open", "system"));
    assert_list(&s.error_modes, LIST("returns -1 on error"));
    assert_list(&s.side_effects, LIST("reads environment", "reads files", "spawns processes"));
    ae_sir_clear(&s);

    s = run_static("c", "function", "reset", "reset", "void reset(void)",
                   "void reset(void) { counter = 0; }", NULL);
    assert_list(&s.inputs, EMPTY);
    assert_list(&s.outputs, EMPTY);
    assert_list(&s.dependencies, EMPTY);
    ae_sir_clear(&s);
}

static void test_static_definitions_are_not_calls(void **state)
{
    /* a class span holds method definitions; only what their bodies call counts */
    ae_sir s = run_static("python", "class", "Foo", "Foo", "class Foo(Base):",
                          "class Foo(Base):\n"
                          "    def __init__(self, x):\n"
                          "        self.x = validate(x)\n"
                          "    async def bar(self):\n"
                          "        return await fetch_bar(self.x)\n",
                          "A foo.");
    assert_string_equal(s.intent, "A foo.");
    assert_list(&s.inputs, EMPTY);
    assert_list(&s.dependencies, LIST("fetch_bar", "validate"));
    ae_sir_clear(&s);

    s = run_static("typescript", "class", "Service", "Service", "export class Service",
                   "export class Service {\n"
                   "  constructor(private name: string) { init(name); }\n"
                   "  greet(who: string): string {\n"
                   "    return format(who);\n"
                   "  }\n"
                   "  static create(): Service { return new Service(\"x\"); }\n"
                   "}\n",
                   NULL);
    assert_list(&s.dependencies, LIST("format", "init")); /* not its own name */
    ae_sir_clear(&s);

    s = run_static("java", "class", "Repo", "Repo", "public class Repo",
                   "public class Repo {\n"
                   "  public void save(Item it) throws IOException {\n"
                   "    Files.write(path, it.bytes());\n"
                   "  }\n"
                   "}\n",
                   NULL);
    assert_list(&s.dependencies, LIST("bytes", "write"));
    assert_list(&s.side_effects, LIST("writes files"));
    ae_sir_clear(&s);

    /* Rust conditions are not parenthesised: `if check(x) {` is a call */
    s = run_static("rust", "function", "run", "run", "fn run(x: u8)",
                   "fn run(x: u8) {\n    if check(x) {\n        go_on();\n    }\n}\n", NULL);
    assert_list(&s.dependencies, LIST("check", "go_on"));
    ae_sir_clear(&s);

    /* declarations (fields, variants, method signatures) have no calls */
    s = run_static("go", "interface", "Handler", "Handler", "type Handler interface",
                   "type Handler interface {\n\tHandle(req string) error\n}\n", NULL);
    assert_string_equal(s.intent, "Interface describing handler.");
    assert_list(&s.dependencies, EMPTY);
    ae_sir_clear(&s);
    s = run_static("rust", "enum", "Shape", "Shape", "pub enum Shape",
                   "pub enum Shape {\n    Circle(f64),\n    Square(f64),\n}\n", NULL);
    assert_list(&s.dependencies, EMPTY);
    assert_list(&s.inputs, EMPTY);
    ae_sir_clear(&s);
    s = run_static("rust", "type_alias", "Pair", "Pair", "type Pair = (i32, i32);",
                   "type Pair = (i32, i32);", NULL);
    assert_string_equal(s.intent, "Type alias representing pair.");
    assert_list(&s.inputs, EMPTY);
    ae_sir_clear(&s);
}

static void test_static_edge_cases(void **state)
{
    /* nothing but a name */
    ae_sir s = run_static(NULL, "class", "RequestQueue", "RequestQueue", NULL, NULL, NULL);
    assert_string_equal(s.intent, "Class representing request queue.");
    assert_true(s.confidence == 0.4);
    ae_sir_clear(&s);

    /* dependencies are capped at 32, the alphabetically first */
    char src[4096] = "fn many() {\n";
    for (int i = 0; i < 40; i++) {
        char line[32];
        snprintf(line, sizeof line, "    call_%02d();\n", 39 - i);
        strcat(src, line);
    }
    strcat(src, "}\n");
    s = run_static("rust", "function", "many", "many", "fn many()", src, NULL);
    assert_int_equal(s.dependencies.len, 32);
    assert_string_equal(s.dependencies.items[0], "call_00");
    assert_string_equal(s.dependencies.items[31], "call_31");
    ae_sir_clear(&s);

    /* invalid UTF-8 in the source does not make an invalid record */
    s = run_static("c", "function", "f", "f", "int f(char \xff x)", "int f(char \xff x) { g(); }",
                   NULL);
    assert_list(&s.inputs, LIST("char ? x"));
    assert_list(&s.dependencies, LIST("g"));
    ae_sir_clear(&s);

    /* a record from the static provider hashes like any other */
    s = run_static("go", "function", "Run", "Run", "func Run()", "func Run() { go work() }", NULL);
    char hash[AE_BLAKE3_HEX_LEN + 1];
    ae_error err = {0};
    assert_int_equal(ae_sir_hash(&s, hash, &err), 0);
    assert_list(&s.dependencies, LIST("work"));
    ae_sir_clear(&s);

    ae_symbol none = {0};
    assert_int_equal(ae_sir_generate_static(&none, &s, &err), AE_EINVAL);
    assert_null(s.intent);
    assert_int_equal(ae_sir_generate_static(NULL, &s, &err), AE_EINVAL);
    assert_int_equal(ae_sir_generate_static(&none, NULL, &err), AE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_order_and_sorting),
        cmocka_unit_test(test_canonical_escaping_and_unicode),
        cmocka_unit_test(test_confidence_forms),
        cmocka_unit_test(test_mock_known_answer),
        cmocka_unit_test(test_hash_ignores_list_order),
        cmocka_unit_test(test_validate_rejects_bad_records),
        cmocka_unit_test(test_from_json_round_trip),
        cmocka_unit_test(test_from_json_errors),
#ifdef AE_TESTING
        cmocka_unit_test(test_name_words),
        cmocka_unit_test(test_name_sentences),
        cmocka_unit_test(test_doc_first_sentence),
#endif
        cmocka_unit_test(test_static_rust),
        cmocka_unit_test(test_static_python),
        cmocka_unit_test(test_static_go),
        cmocka_unit_test(test_static_typescript),
        cmocka_unit_test(test_static_c),
        cmocka_unit_test(test_static_definitions_are_not_calls),
        cmocka_unit_test(test_static_edge_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
