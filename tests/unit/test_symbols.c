/* Symbol extraction: kinds and qualified names per language, id stability, file listing
 * (git and walk), ctags batching, empty/vanished files, ctags failures, the JSON parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "symbols/extract.h"
#include "symbols/files.h"
#include "symbols/internal.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers --------------------------------------------------------------------------- */

typedef struct got_sym {
    char id[AE_BLAKE3_HEX_LEN + 1], content_hash[AE_BLAKE3_HEX_LEN + 1];
    char *file, *kind, *qname, *sig, *doc;
    int start, end;
} got_sym;

typedef struct got {
    got_sym syms[4096];
    size_t n;
    char *files[512];
    size_t nfiles;
    size_t calls_with_zero;
    int abort_with;
} got;

static int collect(const char *rel, const char *lang, ae_symbol *s, size_t n, void *ctx)
{
    got *g = ctx;
    assert_non_null(lang);
    if (g->nfiles < 512) g->files[g->nfiles++] = strdup(rel);
    if (n == 0) g->calls_with_zero++;
    for (size_t i = 0; i < n && g->n < 4096; i++) {
        got_sym *o = &g->syms[g->n++];
        assert_string_equal(s[i].file_path, rel);
        assert_string_equal(s[i].language, lang);
        memcpy(o->id, s[i].id, sizeof o->id);
        memcpy(o->content_hash, s[i].content_hash, sizeof o->content_hash);
        o->file = strdup(rel);
        o->kind = strdup(s[i].kind);
        o->qname = strdup(s[i].qualified_name);
        o->sig = strdup(s[i].signature);
        o->doc = s[i].doc ? strdup(s[i].doc) : NULL;
        o->start = s[i].start_line;
        o->end = s[i].end_line;
        assert_true(o->start >= 1 && o->end >= o->start);
    }
    return g->abort_with;
}

static void got_free(got *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->syms[i].file);
        free(g->syms[i].kind);
        free(g->syms[i].qname);
        free(g->syms[i].sig);
        free(g->syms[i].doc);
    }
    for (size_t i = 0; i < g->nfiles; i++)
        free(g->files[i]);
    free(g);
}

static got *got_new(void)
{
    got *g = calloc(1, sizeof *g);
    assert_non_null(g);
    return g;
}

static const got_sym *find(const got *g, const char *file, const char *qname)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->syms[i].file, file) == 0 && strcmp(g->syms[i].qname, qname) == 0)
            return &g->syms[i];
    return NULL;
}

static size_t count_in(const got *g, const char *file)
{
    size_t n = 0;
    for (size_t i = 0; i < g->n; i++)
        n += strcmp(g->syms[i].file, file) == 0;
    return n;
}

static void expect(const got *g, const char *file, const char *qname, const char *kind)
{
    const got_sym *s = find(g, file, qname);
    if (!s) fail_msg("%s: no symbol %s", file, qname);
    if (strcmp(s->kind, kind) != 0)
        fail_msg("%s: %s is a %s, not a %s", file, qname, s->kind, kind);
}

static char *make_tmpdir(void)
{
    char tmpl[] = "/tmp/ae-test-symbols-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static void rm_rf(char *dir)
{
    char *cmd = ae_asprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(dir);
}

static void write_at(const char *dir, const char *rel, const char *text)
{
    char *path = ae_path_join(dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    ae_error err;
    assert_int_equal(ae_mkdirs(path, &err), 0);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(path);
}

static got *extract_one(const char *dir, const char *rel)
{
    ae_strlist files = {0};
    assert_int_equal(ae_strlist_push(&files, rel), 0);
    got *g = got_new();
    ae_error err = {0};
    int rc = ae_symbols_extract(dir, &files, collect, g, &err);
    if (rc != 0) fail_msg("extract %s: %s", rel, err.message);
    ae_strlist_free(&files);
    return g;
}

static got *fixtures(void)
{
    static const char *names[] = {"sample.c",  "sample.go", "sample.js",
                                  "sample.py", "sample.rs", "sample.ts"};
    const char *src = getenv("AE_SOURCE_DIR");
    char *dir = ae_path_join(src ? src : ".", "tests/fixtures/symbols");
    ae_strlist files = {0};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(ae_strlist_push(&files, names[i]), 0);
    got *g = got_new();
    ae_error err = {0};
    int rc = ae_symbols_extract(dir, &files, collect, g, &err);
    if (rc != 0) fail_msg("extract fixtures: %s", err.message);
    assert_int_equal(g->nfiles, 6);
    ae_strlist_free(&files);
    free(dir);
    return g;
}

/* ---- languages ------------------------------------------------------------------------- */

static void test_rust(void **state)
{
    got *g = fixtures();
    const char *f = "sample.rs";
    expect(g, f, "Point", "struct");
    expect(g, f, "Shape", "enum");
    expect(g, f, "Draw", "trait");
    expect(g, f, "Draw::draw", "method");
    expect(g, f, "Point::new", "method");
    expect(g, f, "Point::draw", "method");
    expect(g, f, "Pair", "type_alias");
    expect(g, f, "MAX", "constant");
    expect(g, f, "square", "macro");
    expect(g, f, "inner::helper", "function");
    expect(g, f, "top_level", "function");
    assert_null(find(g, f, "Point::x"));      /* fields are not symbols */
    assert_null(find(g, f, "Shape::Circle")); /* nor enum variants */
    assert_null(find(g, f, "inner"));         /* modules are scopes only */
    assert_int_equal(count_in(g, f), 11);

    const got_sym *s = find(g, f, "Point::new");
    assert_string_equal(s->sig, "pub fn new(x: i32,\n               y: i32) -> Self");
    assert_string_equal(s->doc, "Makes a point.");
    assert_int_equal(s->start, 21);
    assert_int_equal(s->end, 24); /* derived from braces: ctags has no end for Rust */
    assert_int_equal(find(g, f, "Point")->end, 8);
    assert_string_equal(find(g, f, "Point")->doc, "A point in space.");
    assert_string_equal(find(g, f, "Pair")->sig, "pub type Pair = (i32, i32)");
    assert_string_equal(find(g, f, "MAX")->sig, "pub const MAX: i32");
    assert_int_equal(find(g, f, "Draw::draw")->end, 16);
    assert_null(find(g, f, "top_level")->doc);
    got_free(g);
}

static void test_typescript(void **state)
{
    got *g = fixtures();
    const char *f = "sample.ts";
    expect(g, f, "Greeter", "interface");
    expect(g, f, "Greeter::greet", "method");
    expect(g, f, "Id", "type_alias");
    expect(g, f, "Color", "enum");
    expect(g, f, "Service", "class");
    expect(g, f, "Service::greet", "method");
    expect(g, f, "Service::create", "method");
    expect(g, f, "add", "function");
    expect(g, f, "handler", "function"); /* an arrow function bound to a const */
    expect(g, f, "LIMIT", "constant");
    assert_null(find(g, f, "Service::count")); /* properties */
    assert_null(find(g, f, "add::local"));     /* locals */
    assert_null(find(g, f, "local"));
    assert_null(find(g, f, "Color::Red"));
    const got_sym *s = find(g, f, "add");
    assert_string_equal(s->sig, "export function add(a: number, b: number): number");
    assert_int_equal(s->start, 23);
    assert_int_equal(s->end, 26);
    assert_string_equal(find(g, f, "Greeter")->doc, "A greeter.");
    assert_int_equal(find(g, f, "Service")->end, 21);
    got_free(g);
}

static void test_javascript(void **state)
{
    got *g = fixtures();
    const char *f = "sample.js";
    expect(g, f, "add", "function");
    expect(g, f, "Animal", "class");
    expect(g, f, "Animal::constructor", "method");
    expect(g, f, "Animal::speak", "method");
    expect(g, f, "arrow", "function");
    assert_int_equal(count_in(g, f), 5); /* not the module.exports field */
    assert_string_equal(find(g, f, "add")->doc, "Adds numbers.");
    assert_string_equal(find(g, f, "Animal::speak")->sig, "speak()");
    assert_int_equal(find(g, f, "Animal")->end, 13);
    got_free(g);
}

static void test_python(void **state)
{
    got *g = fixtures();
    const char *f = "sample.py";
    expect(g, f, "MAX_SIZE", "constant");
    expect(g, f, "Foo", "class");
    expect(g, f, "Foo::__init__", "method");
    expect(g, f, "Foo::bar", "method");
    expect(g, f, "Foo::Nested", "class");
    expect(g, f, "Foo::Nested::deep", "method");
    expect(g, f, "helper", "function");
    expect(g, f, "fetch", "function");
    assert_null(find(g, f, "helper::local_fn")); /* nested function = local */
    assert_null(find(g, f, "Foo::attr"));
    assert_null(find(g, f, "os"));
    assert_int_equal(count_in(g, f), 9);
    /* ctags has no end for a constant: brackets, not the `]` in a comment, close it */
    expect(g, f, "ALL_NAMES", "constant");
    assert_int_equal(find(g, f, "ALL_NAMES")->start, 37);
    assert_int_equal(find(g, f, "ALL_NAMES")->end, 40);
    assert_string_equal(find(g, f, "ALL_NAMES")->sig, "ALL_NAMES");
    const got_sym *s = find(g, f, "Foo::bar");
    assert_string_equal(s->sig, "def bar(self, y,\n            z=2)");
    assert_string_equal(s->doc, "Bar does things.");
    assert_int_equal(s->start, 15);
    assert_int_equal(s->end, 19);
    assert_string_equal(find(g, f, "Foo")->doc, "A foo.");
    assert_string_equal(find(g, f, "helper")->doc, "Top-level helper.");
    assert_string_equal(find(g, f, "fetch")->sig, "async def fetch(url: str) -> bytes");
    assert_null(find(g, f, "Foo::__init__")->doc);
    got_free(g);
}

static void test_c(void **state)
{
    got *g = fixtures();
    const char *f = "sample.c";
    expect(g, f, "SQUARE", "macro");
    expect(g, f, "point", "struct");
    expect(g, f, "point_t", "type_alias");
    expect(g, f, "value", "union");
    expect(g, f, "color", "enum");
    expect(g, f, "add", "function");
    expect(g, f, "helper", "function");
    assert_null(find(g, f, "MAX"));     /* object-like macro */
    assert_null(find(g, f, "counter")); /* global variable */
    assert_null(find(g, f, "point::x"));
    assert_null(find(g, f, "RED"));
    assert_int_equal(count_in(g, f), 7);
    const got_sym *s = find(g, f, "add");
    assert_string_equal(s->sig, "int add(int a,\n        int b)");
    assert_string_equal(s->doc, "Adds two integers.");
    assert_int_equal(s->start, 28);
    assert_int_equal(s->end, 33);
    assert_string_equal(find(g, f, "SQUARE")->sig, "#define SQUARE(x)");
    assert_string_equal(find(g, f, "point")->doc, "A point.");
    got_free(g);
}

static void test_go(void **state)
{
    got *g = fixtures();
    const char *f = "sample.go";
    expect(g, f, "Server", "struct");
    expect(g, f, "Handler", "interface");
    expect(g, f, "Handler::Handle", "method");
    expect(g, f, "ID", "type_alias");
    expect(g, f, "Version", "constant");
    expect(g, f, "Server::Start", "method");
    expect(g, f, "New", "function");
    assert_null(find(g, f, "Debug")); /* package variable */
    assert_null(find(g, f, "main"));  /* package */
    assert_null(find(g, f, "Server::Addr"));
    assert_int_equal(count_in(g, f), 7);
    const got_sym *s = find(g, f, "Server::Start");
    assert_string_equal(s->sig, "func (s *Server) Start(port int) error");
    assert_string_equal(s->doc, "Start starts the server.");
    assert_int_equal(s->end, 24);
    got_free(g);
}

/* ---- id stability ---------------------------------------------------------------------- */

static got *extract_text(const char *dir, const char *rel, const char *text)
{
    write_at(dir, rel, text);
    return extract_one(dir, rel);
}

static void test_id_stability(void **state)
{
    char *dir = make_tmpdir();
    got *v1 = extract_text(dir, "m.rs", "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n");
    /* whitespace-only edit inside the signature */
    got *v2 =
        extract_text(dir, "m.rs", "fn add(a: i32,\n       b:i32)  ->  i32\n{\n    a + b\n}\n");
    /* moved down below another function */
    got *v3 = extract_text(dir, "m.rs",
                           "fn other() {}\n\n\n\nfn add(a: i32, b: i32) -> i32 {\n"
                           "    a + b\n}\n");
    /* body change */
    got *v4 = extract_text(dir, "m.rs", "fn add(a: i32, b: i32) -> i32 {\n    b + a\n}\n");
    /* signature change */
    got *v5 = extract_text(dir, "m.rs", "fn add(a: i64, b: i32) -> i32 {\n    a + b\n}\n");
    const got_sym *s1 = find(v1, "m.rs", "add"), *s2 = find(v2, "m.rs", "add"),
                  *s3 = find(v3, "m.rs", "add"), *s4 = find(v4, "m.rs", "add"),
                  *s5 = find(v5, "m.rs", "add");
    assert_non_null(s1);
    assert_non_null(s2);
    assert_non_null(s3);
    assert_non_null(s4);
    assert_non_null(s5);
    assert_string_equal(s1->id, s2->id);
    assert_string_equal(s1->id, s3->id);
    assert_int_equal(s1->start, 1);
    assert_int_equal(s3->start, 5);
    assert_string_equal(s1->content_hash, s3->content_hash); /* same source text */
    assert_string_equal(s1->id, s4->id);
    assert_string_not_equal(s1->content_hash, s4->content_hash);
    assert_string_not_equal(s1->id, s5->id);
    assert_string_not_equal(s1->id, find(v3, "m.rs", "other")->id);
    got_free(v1);
    got_free(v2);
    got_free(v3);
    got_free(v4);
    got_free(v5);

    /* the id recipe itself, against a hash computed here */
    ae_symbol s = {0};
    s.language = "python";
    s.file_path = "a/b.py";
    s.kind = "function";
    s.qualified_name = "f";
    s.signature = "def f(a,\n      b)";
    s.source = "def f(a, b):\n    pass";
    assert_int_equal(ae_symbol_compute_ids(&s), 0);
    char fp[AE_BLAKE3_HEX_LEN + 1], id[AE_BLAKE3_HEX_LEN + 1], ch[AE_BLAKE3_HEX_LEN + 1];
    blake3_hex("deff(a,b)", 9, fp);
    char *key = ae_asprintf("python\na/b.py\nfunction\nf\n%s", fp);
    blake3_hex(key, strlen(key), id);
    blake3_hex(s.source, strlen(s.source), ch);
    assert_string_equal(s.signature_fingerprint, fp);
    assert_string_equal(s.id, id);
    assert_string_equal(s.content_hash, ch);
    free(key);
    s.kind = NULL;
    assert_int_equal(ae_symbol_compute_ids(&s), AE_EINVAL);
    rm_rf(dir);
}

static void test_duplicate_ids_keep_first(void **state)
{
    char *dir = make_tmpdir();
    got *g = extract_text(dir, "d.py",
                          "class A:\n    def x(self):\n        return 1\n\n"
                          "    def x(self):\n        return 2\n");
    assert_int_equal(count_in(g, "d.py"), 2); /* A and one A::x */
    const got_sym *s = find(g, "d.py", "A::x");
    assert_non_null(s);
    assert_int_equal(s->start, 2);
    got_free(g);
    rm_rf(dir);
}

static void test_declarations_sharing_a_line(void **state)
{
    char *dir = make_tmpdir();
    got *g = extract_text(dir, "one.rs",
                          "/// Doc.\nimpl P { fn a(x: i32) -> i32 { x } fn b() -> u8 { 2 } }\n");
    const got_sym *a = find(g, "one.rs", "P::a"), *b = find(g, "one.rs", "P::b");
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a->sig, "fn a(x: i32) -> i32");
    assert_string_equal(b->sig, "fn b() -> u8");
    assert_int_equal(b->start, 2);
    assert_int_equal(b->end, 2);
    assert_null(b->doc); /* the comment above belongs to the impl, not to b */
    got_free(g);
    rm_rf(dir);
}

/* ---- files ----------------------------------------------------------------------------- */

static void assert_list(const ae_strlist *l, const char *const *want, size_t n)
{
    for (size_t i = 0; i < l->len; i++)
        print_message("listed: %s\n", l->items[i]);
    assert_int_equal(l->len, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(l->items[i], want[i]);
}

static void test_gitignore_respected(void **state)
{
    char *dir = make_tmpdir();
    write_at(dir, ".gitignore", "ignored/\n*.gen.py\n");
    write_at(dir, "keep.py", "def f():\n    pass\n");
    write_at(dir, "ignored/x.py", "def g():\n    pass\n");
    write_at(dir, "a.gen.py", "def h():\n    pass\n");
    write_at(dir, "sub/y.rs", "fn y() {}\n");
    write_at(dir, "sub/B.go", "package sub\n");
    write_at(dir, "notes.txt", "text\n");
    char *cmd = ae_asprintf("git -C '%s' init -q && git -C '%s' add keep.py", dir, dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    ae_strlist l = {0};
    ae_error err = {0};
    assert_int_equal(ae_workspace_list_files(dir, &l, &err), 0);
    static const char *const want[] = {"keep.py", "sub/B.go", "sub/y.rs"};
    assert_list(&l, want, 3);
    ae_strlist_free(&l);
    rm_rf(dir);
}

static void test_walk_skips(void **state)
{
    char *dir = make_tmpdir(), *outside = make_tmpdir();
    write_at(dir, "a.py", "x = 1\n");
    write_at(dir, "src/ok.c", "int ok(void) { return 0; }\n");
    write_at(dir, "node_modules/m.js", "function m() {}\n");
    write_at(dir, ".git/hooks/h.py", "pass\n");
    write_at(dir, ".aether/x.py", "pass\n");
    write_at(dir, "build/b.c", "int b;\n");
    write_at(dir, "build-debug/c.c", "int c;\n");
    write_at(dir, "target/t.rs", "fn t() {}\n");
    write_at(dir, "README.md", "# hi\n");
    write_at(outside, "out.py", "pass\n");
    char *bin = ae_path_join(dir, "bin.c");
    FILE *f = fopen(bin, "wb");
    assert_non_null(f);
    fwrite("int x;\0\1\2", 1, 9, f);
    fclose(f);
    free(bin);
    char *l1 = ae_path_join(dir, "outlink.py"), *t1 = ae_path_join(outside, "out.py");
    char *l2 = ae_path_join(dir, "inlink.h");
    assert_int_equal(symlink(t1, l1), 0);
    assert_int_equal(symlink("src/ok.c", l2), 0);
    free(l1);
    free(t1);
    free(l2);
    ae_strlist l = {0};
    ae_error err = {0};
    assert_int_equal(ae_workspace_list_files(dir, &l, &err), 0);
    static const char *const want[] = {"a.py", "inlink.h", "src/ok.c"};
    assert_list(&l, want, 3);
    ae_strlist_free(&l);
    assert_int_equal(ae_workspace_list_files("/nonexistent/ae", &l, &err), AE_ENOTFOUND);
    assert_non_null(strstr(err.message, "/nonexistent/ae"));
    rm_rf(dir);
    rm_rf(outside);
}

static void test_language_for_path(void **state)
{
    assert_string_equal(ae_language_for_path("a/b.rs"), "rust");
    assert_string_equal(ae_language_for_path("x.ts"), "typescript");
    assert_string_equal(ae_language_for_path("x.tsx"), "tsx");
    assert_string_equal(ae_language_for_path("x.js"), "javascript");
    assert_string_equal(ae_language_for_path("x.jsx"), "jsx");
    assert_string_equal(ae_language_for_path("x.py"), "python");
    assert_string_equal(ae_language_for_path("x.h"), "c");
    assert_string_equal(ae_language_for_path("x.c"), "c");
    assert_string_equal(ae_language_for_path("x.go"), "go");
    assert_string_equal(ae_language_for_path("x.cpp"), "cpp");
    assert_string_equal(ae_language_for_path("x.java"), "java");
    assert_null(ae_language_for_path("x.md"));
    assert_null(ae_language_for_path("Makefile"));
    assert_null(ae_language_for_path("dir.rs/noext"));
    assert_null(ae_language_for_path(".c"));
    assert_null(ae_language_for_path("x.C.bak"));
}

/* ---- batching, empty and vanished files, failures -------------------------------------- */

static void test_batching(void **state)
{
    char *dir = make_tmpdir();
    enum { N = AE_SYMBOLS_BATCH_FILES + 44 };
    for (int i = 0; i < N; i++) {
        char rel[64], text[128];
        snprintf(rel, sizeof rel, "pkg/m%03d.py", i);
        snprintf(text, sizeof text, "def f%03d(x):\n    return x\n", i);
        write_at(dir, rel, text);
    }
    /* a ctags wrapper that counts its runs */
    char *log = ae_path_join(dir, "runs.log");
    char *wrapper = ae_asprintf("#!/bin/sh\necho run >> '%s'\nexec ctags \"$@\"\n", log);
    write_at(dir, "ctags-wrapper.sh", wrapper);
    char *wpath = ae_path_join(dir, "ctags-wrapper.sh");
    assert_int_equal(chmod(wpath, 0755), 0);
    setenv("AE_CTAGS", wpath, 1);

    ae_strlist files = {0};
    ae_error err = {0};
    assert_int_equal(ae_workspace_list_files(dir, &files, &err), 0);
    assert_int_equal(files.len, N);
    got *g = got_new();
    int rc = ae_symbols_extract(dir, &files, collect, g, &err);
    unsetenv("AE_CTAGS");
    if (rc) fail_msg("%s", err.message);
    assert_int_equal(g->n, N);
    for (int i = 0; i < N; i++) {
        char q[16];
        snprintf(q, sizeof q, "f%03d", i);
        const got_sym *s = &g->syms[i];
        assert_string_equal(s->qname, q); /* in list order, each in its own file */
        assert_string_equal(s->file, files.items[i]);
    }
    char *runs;
    size_t len;
    assert_int_equal(ae_read_file(log, &runs, &len, &err), 0);
    assert_string_equal(runs, "run\nrun\n"); /* one ctags per batch, not per file */
    free(runs);
    ae_strlist_free(&files);
    got_free(g);
    free(log);
    free(wrapper);
    free(wpath);
    rm_rf(dir);
}

static void test_empty_and_vanished(void **state)
{
    char *dir = make_tmpdir();
    write_at(dir, "empty.py", "");
    write_at(dir, "empty.rs", "\n\n");
    write_at(dir, "one.go", "package one\n\nfunc One() int {\n\treturn 1\n}\n");
    ae_strlist files = {0};
    assert_int_equal(ae_strlist_push(&files, "empty.py"), 0);
    assert_int_equal(ae_strlist_push(&files, "empty.rs"), 0);
    assert_int_equal(ae_strlist_push(&files, "gone.py"), 0);
    assert_int_equal(ae_strlist_push(&files, "one.go"), 0);
    got *g = got_new();
    ae_error err = {0};
    assert_int_equal(ae_symbols_extract(dir, &files, collect, g, &err), 0);
    assert_int_equal(g->nfiles, 3); /* the vanished file is skipped, not fatal */
    assert_string_equal(g->files[0], "empty.py");
    assert_string_equal(g->files[1], "empty.rs");
    assert_string_equal(g->files[2], "one.go");
    assert_int_equal(g->calls_with_zero, 2);
    assert_int_equal(g->n, 1);
    expect(g, "one.go", "One", "function");
    got_free(g);

    /* the callback's error stops extraction and comes back */
    g = got_new();
    g->abort_with = AE_EPROVIDER;
    assert_int_equal(ae_symbols_extract(dir, &files, collect, g, &err), AE_EPROVIDER);
    assert_int_equal(g->nfiles, 1);
    got_free(g);
    ae_strlist_free(&files);
    rm_rf(dir);
}

static void test_ctags_failures(void **state)
{
    char *dir = make_tmpdir();
    write_at(dir, "a.py", "def a():\n    pass\n");
    write_at(dir, "bad-ctags.sh", "#!/bin/sh\necho 'ctags: boom on purpose' >&2\nexit 3\n");
    char *bad = ae_path_join(dir, "bad-ctags.sh");
    assert_int_equal(chmod(bad, 0755), 0);
    ae_strlist files = {0};
    assert_int_equal(ae_strlist_push(&files, "a.py"), 0);
    got *g = got_new();
    ae_error err = {0};

    setenv("AE_CTAGS", "/nonexistent/ctags", 1);
    assert_int_equal(ae_symbols_extract(dir, &files, collect, g, &err), AE_EEXTERNAL);
    assert_non_null(strstr(err.message, "/nonexistent/ctags"));
    assert_non_null(strstr(err.message, "No such file"));

    setenv("AE_CTAGS", bad, 1);
    assert_int_equal(ae_symbols_extract(dir, &files, collect, g, &err), AE_EEXTERNAL);
    assert_non_null(strstr(err.message, "status 3"));
    assert_non_null(strstr(err.message, "boom on purpose"));

    /* a ctags that exits without reading a list bigger than a pipe buffer: a clean error,
     * not a hang on the full pipe or a SIGPIPE that kills the program */
    ae_strlist many = {0};
    for (int i = 0; i < AE_SYMBOLS_BATCH_FILES; i++) {
        char name[400];
        snprintf(name, sizeof name, "%0380d.py", i);
        assert_int_equal(ae_strlist_push(&many, name), 0);
    }
    write_at(dir, "quick-exit.sh", "#!/bin/sh\nexit 4\n");
    char *quick = ae_path_join(dir, "quick-exit.sh");
    assert_int_equal(chmod(quick, 0755), 0);
    setenv("AE_CTAGS", quick, 1);
    assert_int_equal(ae_symbols_extract(dir, &many, collect, g, &err), AE_EEXTERNAL);
    assert_non_null(strstr(err.message, "status 4"));
    free(quick);
    ae_strlist_free(&many);
    unsetenv("AE_CTAGS");
    assert_int_equal(g->nfiles, 0);

    assert_int_equal(ae_symbols_extract(dir, NULL, collect, g, &err), AE_EINVAL);
    got_free(g);
    free(bad);
    ae_strlist_free(&files);
    rm_rf(dir);
}

/* ---- the JSON line parser and kind mapping --------------------------------------------- */

static void test_parse_line(void **state)
{
    ctags_tag t;
    ae_error err = {0};
    const char *ok = "{\"_type\": \"tag\", \"name\": \"bar\", \"path\": \"./a.py\", \"line\": 15, "
                     "\"kind\": \"member\", \"scope\": \"Foo.Nested\", \"scopeKind\": \"class\", "
                     "\"end\": 19, \"signature\": \"(self)\"}";
    assert_int_equal(ctags_parse_line(ok, strlen(ok), &t, &err), 1);
    assert_string_equal(t.name, "bar");
    assert_string_equal(t.path, "./a.py");
    assert_int_equal(t.line, 15);
    assert_int_equal(t.end, 19);
    assert_string_equal(t.scope_kind, "class");
    assert_string_equal(ctags_normalize_kind("python", &t, NULL), "method");
    assert_null(ctags_normalize_kind("c", &t, NULL)); /* a C "member" is a field */
    char *q = ctags_qualified_name("python", &t);
    assert_string_equal(q, "Foo::Nested::bar");
    free(q);
    ctags_tag_clear(&t);

    const char *go = "{\"_type\":\"tag\",\"name\":\"Start\",\"path\":\"s.go\",\"line\":3,"
                     "\"kind\":\"func\",\"scope\":\"main.Server\",\"scopeKind\":\"struct\"}";
    assert_int_equal(ctags_parse_line(go, strlen(go), &t, &err), 1);
    assert_int_equal(t.end, 0);
    assert_string_equal(ctags_normalize_kind("go", &t, NULL), "method");
    q = ctags_qualified_name("go", &t);
    assert_string_equal(q, "Server::Start");
    free(q);
    ctags_tag_clear(&t);

    const char *ptag = "{\"_type\": \"ptag\", \"name\": \"JSON_OUTPUT_VERSION\"}";
    assert_int_equal(ctags_parse_line(ptag, strlen(ptag), &t, &err), 0);
    assert_int_equal(ctags_parse_line("   ", 3, &t, &err), 0);
    static const char *const bad[] = {
        "{\"_type\": \"tag\", \"name\": \"x\"", /* truncated */
        "[1, 2]",                               /* not an object */
        "{\"_type\":\"tag\",\"name\":\"x\",\"path\":\"a.c\",\"kind\":\"function\"}", /* no line */
        "{\"_type\":\"tag\",\"name\":\"x\",\"path\":\"a.c\",\"kind\":\"f\",\"line\":\"3\"}",
        "{\"_type\":\"tag\",\"name\":\"x\",\"path\":\"a.c\",\"kind\":\"f\",\"line\":0}",
        "{\"_type\":\"tag\",\"name\":\"x\\u0000y\",\"path\":\"a.c\",\"kind\":\"f\",\"line\":1}",
        "{\"_type\":\"tag\",\"name\":7,\"path\":\"a.c\",\"kind\":\"f\",\"line\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err.code = 0;
        assert_int_equal(ctags_parse_line(bad[i], strlen(bad[i]), &t, &err), AE_ECORRUPT);
        assert_int_equal(err.code, AE_ECORRUPT);
        assert_true(strlen(err.message) > 0);
        assert_null(t.name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rust),
        cmocka_unit_test(test_typescript),
        cmocka_unit_test(test_javascript),
        cmocka_unit_test(test_python),
        cmocka_unit_test(test_c),
        cmocka_unit_test(test_go),
        cmocka_unit_test(test_id_stability),
        cmocka_unit_test(test_duplicate_ids_keep_first),
        cmocka_unit_test(test_declarations_sharing_a_line),
        cmocka_unit_test(test_gitignore_respected),
        cmocka_unit_test(test_walk_skips),
        cmocka_unit_test(test_language_for_path),
        cmocka_unit_test(test_batching),
        cmocka_unit_test(test_empty_and_vanished),
        cmocka_unit_test(test_ctags_failures),
        cmocka_unit_test(test_parse_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
