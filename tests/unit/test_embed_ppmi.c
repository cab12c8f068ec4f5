/* The learned embedder ("ppmi"): tokens, training, determinism (in one
 * process, across processes and BLAS thread counts), the model file and its
 * corruption cases, model names and pointer files, drift counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "embed/embed.h"
#include "embed/embed_model.h"
#include "embed/embed_text.h"
#include "util/blas.h"
#include "embed/embed_tokens.h"
#include "embed/ppmi.h"
#include "embed/ppmi_internal.h"
#include "util/fs.h"

/* A small corpus with two topics, so co-occurrence has something to learn:
 * sockets/network and files/paths.  Generated, not hand-tuned: each document
 * draws words of one topic with a fixed LCG. */
static const char *const NET[] = {"socket", "connect", "network", "host",    "port",
                                  "packet", "send",    "recv",    "address", "tcp"};
static const char *const FS[] = {"file", "path",  "directory", "read", "write",
                                 "open", "close", "buffer",    "disk", "folder"};
#define N_DOCS 240

static char docs[N_DOCS][256];

static void make_docs(void)
{
    uint32_t s = 12345;
    for (int d = 0; d < N_DOCS; d++) {
        const char *const *topic = d % 2 ? FS : NET;
        char *p = docs[d];
        p += sprintf(p, "%s_%d ", d % 2 ? "fs_op" : "net_op", d);
        for (int w = 0; w < 6; w++) {
            s = s * 1103515245u + 12345u;
            p += sprintf(p, "%s ", topic[(s >> 16) % 10]);
        }
    }
}

static ppmi_params small_params(void)
{
    ppmi_params p;
    ppmi_params_default(&p);
    p.dim = 16;
    p.hashed = 4;
    return p;
}

static ppmi_model *train_docs(const ppmi_params *p)
{
    ppmi_trainer *t = NULL;
    ae_error err;
    assert_int_equal(ppmi_trainer_new(p, &t, &err), 0);
    for (int d = 0; d < N_DOCS; d++)
        assert_int_equal(ppmi_trainer_add(t, docs[d], strlen(docs[d]), &err), 0);
    ppmi_model *m = NULL;
    int rc = ppmi_trainer_finish(t, &m, &err);
    if (rc) fail_msg("train: %s", err.message);
    ppmi_trainer_free(t);
    return m;
}

static double dot(const float *a, const float *b, uint32_t n)
{
    double s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

typedef struct toks {
    char buf[512];
    int n;
} toks;

static int collect(const char *tok, size_t len, void *ctx)
{
    toks *t = ctx;
    size_t used = strlen(t->buf);
    snprintf(t->buf + used, sizeof t->buf - used, "%s%.*s", t->n++ ? " " : "", (int)len, tok);
    return 0;
}

static void test_tokens(void **state)
{
    static const struct {
        const char *in, *out;
    } rows[] = {
        {"parseConfigFile", "parse config file"},
        {"HTTPServer_v2 x", "http server"},      /* digits and one-byte tokens dropped */
        {"the socket of a host", "socket host"}, /* English stop words (src/text) */
        {"sha256sum 1234", "sha sum"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ok", "ok"}, /* longer than EMBED_TOKEN_MAX */
        {"", ""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        toks t = {{0}, 0};
        assert_int_equal(embed_tokenize(rows[i].in, strlen(rows[i].in), collect, &t), 0);
        assert_string_equal(t.buf, rows[i].out);
    }
}

static void test_symbol_text(void **state)
{
    ae_buf b = {0};
    const char *sir = "{\"confidence\":0.4,\"dependencies\":[\"open\"],\"error_modes\":[],"
                      "\"inputs\":[\"path\"],\"intent\":\"Reads a file.\",\"outputs\":[],"
                      "\"side_effects\":[]}";
    ae_embed_symbol sym = {.name = "load",
                           .qualified_name = "Cfg::load",
                           .signature = "def load(path)",
                           .file_path = "pkg/cfg.py",
                           .sir_json = sir};
    assert_int_equal(ae_embed_symbol_text("ppmi", &sym, &b), 0);
    assert_non_null(strstr(b.data, "Cfg::load"));
    assert_non_null(strstr(b.data, "pkg/cfg.py"));
    assert_non_null(strstr(b.data, "Reads a file."));
    assert_non_null(strstr(b.data, "open"));
    assert_null(strstr(b.data, "confidence")); /* values, not keys */
    assert_null(strstr(b.data, "0.4"));
    /* other providers read the SIR JSON unchanged (reference compatibility) */
    assert_int_equal(ae_embed_symbol_text("mock", &sym, &b), 0);
    assert_string_equal(b.data, sir);
    /* a SIR that is not JSON is read as text */
    ae_embed_symbol plain = {.sir_json = "plain words"};
    assert_int_equal(ae_embed_symbol_text("ppmi", &plain, &b), 0);
    assert_non_null(strstr(b.data, "plain words"));
    ae_buf_free(&b);
}

static void test_train_learns_topics(void **state)
{
    make_docs();
    ppmi_params p = small_params();
    ppmi_model *m = train_docs(&p);
    assert_int_equal(ppmi_model_dim(m), 16);
    assert_true(ppmi_model_vocab(m) >= 20);
    ae_error err;
    float q[16], a[16], b[16];
    /* a query word that never appears with the answer's words still lands near
     * them: "tcp" against a network document without "tcp" */
    const char *net = "socket connect host port", *fs = "file path directory read";
    assert_int_equal(ppmi_embed(m, "tcp", 3, q, &err), 0);
    assert_int_equal(ppmi_embed(m, net, strlen(net), a, &err), 0);
    assert_int_equal(ppmi_embed(m, fs, strlen(fs), b, &err), 0);
    assert_true(fabs(dot(a, a, 16) - 1.0) < 1e-5);
    assert_true(dot(q, a, 16) > dot(q, b, 16) + 0.2);
    /* no token at all: the zero vector */
    assert_int_equal(ppmi_embed(m, "!!", 2, q, &err), 0);
    assert_true(dot(q, q, 16) == 0.0);
    /* an unknown word still has a direction (the hashed part) */
    assert_int_equal(ppmi_embed(m, "zyzzyva", 7, q, &err), 0);
    assert_true(fabs(dot(q, q, 16) - 1.0) < 1e-5);
    assert_int_equal(ppmi_model_lookup(m, "socket", 6) >= 0, 1);
    assert_int_equal(ppmi_model_lookup(m, "zyzzyva", 7), -1);
    ppmi_model_free(m);
}

/* A pair table far too small for the corpus: pruning keeps it bounded, the
 * result is still a working, deterministic model. */
static void test_pair_budget_prunes(void **state)
{
    make_docs();
    ppmi_params p = small_params();
    p.pair_budget = 1024;
    p.max_doc_tokens = 64;
    /* many distinct tokens: every document adds its own identifiers */
    ppmi_trainer *t = NULL;
    ae_error err;
    assert_int_equal(ppmi_trainer_new(&p, &t, &err), 0);
    char doc[512];
    for (int d = 0; d < 400; d++) {
        snprintf(doc, sizeof doc, "%s x%c%c y%c%c socket", docs[d % N_DOCS], 'a' + d % 13,
                 'a' + d % 17, 'a' + d % 11, 'a' + d % 19);
        assert_int_equal(ppmi_trainer_add(t, doc, strlen(doc), &err), 0);
    }
    ppmi_model *m = NULL;
    assert_int_equal(ppmi_trainer_finish(t, &m, &err), 0);
    ppmi_trainer_free(t);
    /* ~400 tokens in 2+ documents, ~60 distinct pairs per document: far more
     * distinct pairs than 1024, so the table was pruned */
    assert_true(ppmi_model_vocab(m) > 300);
    float v[16];
    assert_int_equal(ppmi_embed(m, "socket host", 11, v, &err), 0);
    assert_true(fabs(dot(v, v, 16) - 1.0) < 1e-5);
    ppmi_model_free(m);
}

static void test_deterministic_in_process(void **state)
{
    make_docs();
    ppmi_params p = small_params();
    ppmi_model *a = train_docs(&p), *b = train_docs(&p);
    assert_string_equal(ppmi_model_hash(a), ppmi_model_hash(b));
    float va[16], vb[16];
    ae_error err;
    for (int d = 0; d < N_DOCS; d += 17) {
        ppmi_embed(a, docs[d], strlen(docs[d]), va, &err);
        ppmi_embed(b, docs[d], strlen(docs[d]), vb, &err);
        assert_memory_equal(va, vb, sizeof va);
    }
    /* another seed is another model */
    p.seed++;
    ppmi_model *c = train_docs(&p);
    assert_string_not_equal(ppmi_model_hash(a), ppmi_model_hash(c));
    ppmi_model_free(a);
    ppmi_model_free(b);
    ppmi_model_free(c);
}

/* Trains in a child process with `threads` BLAS threads; returns its hash. */
static void child_hash(int threads, char out[65])
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        if (ae_blas_load(NULL) != 0) _exit(5);
        ae_blas_set_num_threads(threads);
        make_docs();
        ppmi_params p;
        ppmi_params_default(&p);
        p.dim = 16;
        p.hashed = 4;
        ppmi_trainer *t = NULL;
        ae_error err;
        ppmi_model *m = NULL;
        if (ppmi_trainer_new(&p, &t, &err)) _exit(2);
        for (int d = 0; d < N_DOCS; d++)
            ppmi_trainer_add(t, docs[d], strlen(docs[d]), &err);
        if (ppmi_trainer_finish(t, &m, &err)) _exit(3);
        ssize_t w = write(fd[1], ppmi_model_hash(m), 64);
        _exit(w == 64 ? 0 : 4);
    }
    close(fd[1]);
    ssize_t got = 0, r;
    while (got < 64 && (r = read(fd[0], out + got, (size_t)(64 - got))) > 0)
        got += r;
    close(fd[0]);
    out[64] = '\0';
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(got, 64);
}

static void test_deterministic_across_processes(void **state)
{
    char h1[65], h2[65], h4[65];
    child_hash(1, h1);
    child_hash(2, h2);
    child_hash(4, h4);
    assert_string_equal(h1, h2);
    assert_string_equal(h1, h4);
    make_docs();
    ppmi_params p = small_params();
    ppmi_model *m = train_docs(&p);
    assert_string_equal(ppmi_model_hash(m), h1);
    ppmi_model_free(m);
}

static char tmp_root[64];

static int setup_tmp(void **state)
{
    snprintf(tmp_root, sizeof tmp_root, "/tmp/ae_ppmi_XXXXXX");
    return mkdtemp(tmp_root) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_bytes(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static void test_model_file(void **state)
{
    make_docs();
    ppmi_params p = small_params();
    ppmi_model *m = train_docs(&p);
    char path[128];
    snprintf(path, sizeof path, "%s/m.bin", tmp_root);
    ae_error err;
    assert_int_equal(ppmi_model_save(m, path, &err), 0);
    ppmi_model *l = NULL;
    assert_int_equal(ppmi_model_load(path, 1, &l, &err), 0);
    assert_string_equal(ppmi_model_hash(l), ppmi_model_hash(m));
    float a[16], b[16];
    ppmi_embed(m, docs[3], strlen(docs[3]), a, &err);
    ppmi_embed(l, docs[3], strlen(docs[3]), b, &err);
    assert_memory_equal(a, b, sizeof a);
    ppmi_model_free(l);

    char *img = NULL;
    size_t n = 0;
    assert_int_equal(ae_read_file(path, &img, &n, &err), 0);
    unsigned char *orig = malloc(n);
    memcpy(orig, img, n);
    char bad[128];
    snprintf(bad, sizeof bad, "%s/bad.bin", tmp_root);
    /* every region: magic, header fields, header digest, padding, each section, trailer */
    size_t vec_at = (size_t)((const unsigned char *)m->vecs - m->image);
    size_t probes[] = {
        0,      8,          16,     40,   100,
        300,    420,        470,    512,  (size_t)((const unsigned char *)m->weight - m->image),
        vec_at, vec_at + 5, n - 33, n - 1};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        memcpy(img, orig, n);
        img[probes[i]] ^= 0x5a;
        write_bytes(bad, (unsigned char *)img, n);
        ppmi_model *x = NULL;
        int rc = ppmi_model_load(bad, 1, &x, &err);
        if (rc == 0) fail_msg("a flipped byte at %zu of %zu was not detected", probes[i], n);
        assert_true(rc == AE_ECORRUPT || rc == AE_ENOTOURS || rc == AE_EVERSION);
        assert_null(x);
    }
    /* the vectors (last section) are only checked with verify_all */
    memcpy(img, orig, n);
    img[vec_at + 5] ^= 0x5a;
    write_bytes(bad, (unsigned char *)img, n);
    ppmi_model *x = NULL;
    assert_int_equal(ppmi_model_load(bad, 0, &x, &err), 0);
    ppmi_model_free(x);
    /* truncations */
    size_t cuts[] = {0, 100, 600, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_bytes(bad, orig, cuts[i]);
        x = NULL;
        assert_true(ppmi_model_load(bad, 0, &x, &err) < 0);
        assert_null(x);
    }
    memcpy(img, orig, n);
    memcpy(img, "NOTMODEL", 8);
    write_bytes(bad, (unsigned char *)img, n);
    assert_int_equal(ppmi_model_load(bad, 0, &x, &err), AE_ENOTOURS);
    free(orig);
    free(img);
    ppmi_model_free(m);
}

static void test_names_and_pointers(void **state)
{
    static const struct {
        const char *name;
        int ok;
    } rows[] = {
        {"ppmi-256-0123abcd", 1}, {"ppmi-16-ffffffff", 1},     {"ppmi-256-0123ABCD", 0},
        {"ppmi-256-0123abc", 0},  {"ppmi-256-0123abcde", 0},   {"ppmi--0123abcd", 0},
        {"hash-256-0123abcd", 0}, {"../ppmi-256-0123abcd", 0}, {"", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_int_equal(ae_embed_model_check_name(rows[i].name, NULL) == 0, rows[i].ok);
    char name[AE_EMBED_MODEL_NAME_MAX + 1];
    ae_embed_model_name(256, "0123abcdef", name);
    assert_string_equal(name, "ppmi-256-0123abcd");

    char dir[128];
    snprintf(dir, sizeof dir, "%s/models", tmp_root);
    ae_error err;
    char cur[AE_EMBED_MODEL_NAME_MAX + 1];
    assert_int_equal(ae_embed_model_current(dir, AE_EMBED_MODEL_CURRENT, cur, &err), AE_ENOTFOUND);
    assert_int_equal(ae_embed_model_set(dir, AE_EMBED_MODEL_CURRENT, "ppmi-16-0123abcd", &err), 0);
    assert_int_equal(ae_embed_model_current(dir, AE_EMBED_MODEL_CURRENT, cur, &err), 0);
    assert_string_equal(cur, "ppmi-16-0123abcd");
    assert_int_equal(ae_embed_model_set(dir, AE_EMBED_MODEL_CURRENT, "../x", &err), AE_EINVAL);
    char path[192];
    snprintf(path, sizeof path, "%s/CURRENT", dir);
    write_bytes(path, (const unsigned char *)"../../etc/passwd\n", 17);
    assert_int_equal(ae_embed_model_current(dir, AE_EMBED_MODEL_CURRENT, cur, &err), AE_ECORRUPT);

    /* drift counters round-trip; garbage is corrupt */
    ae_embed_drift d = {7, 100, 9}, r;
    assert_int_equal(ae_embed_drift_write(dir, "ppmi-16-0123abcd", &d, &err), 0);
    assert_int_equal(ae_embed_drift_read(dir, "ppmi-16-0123abcd", &r, &err), 0);
    assert_true(r.symbols == 7 && r.tokens == 100 && r.oov_tokens == 9);
    snprintf(path, sizeof path, "%s/ppmi-16-0123abcd.drift", dir);
    write_bytes(path, (const unsigned char *)"symbols x", 9);
    assert_int_equal(ae_embed_drift_read(dir, "ppmi-16-0123abcd", &r, &err), AE_ECORRUPT);

    /* gc keeps only the named model's files */
    snprintf(path, sizeof path, "%s/ppmi-16-00000000.bin", dir);
    write_bytes(path, (const unsigned char *)"x", 1);
    snprintf(path, sizeof path, "%s/ppmi-16-0123abcd.bin", dir);
    write_bytes(path, (const unsigned char *)"x", 1);
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    write_bytes(path, (const unsigned char *)"x", 1);
    const char *keep[] = {"ppmi-16-0123abcd"};
    assert_int_equal(ae_embed_model_gc(dir, keep, 1, &err), 0);
    snprintf(path, sizeof path, "%s/ppmi-16-00000000.bin", dir);
    assert_false(ae_path_exists(path));
    snprintf(path, sizeof path, "%s/ppmi-16-0123abcd.bin", dir);
    assert_true(ae_path_exists(path));
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    assert_true(ae_path_exists(path)); /* not ours: left alone */
}

static void test_provider(void **state)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/prov", tmp_root);
    ae_error err;
    ae_embedder *e = NULL;
    ae_embed_options o = {.provider = "ppmi", .model_dir = dir};
    /* no model yet: not found (search turns it into a lexical fallback) */
    assert_int_equal(ae_embedder_open(&o, &e, &err), AE_ENOTFOUND);
    o.model_dir = NULL;
    assert_int_equal(ae_embedder_open(&o, &e, &err), AE_EINVAL);
    o.model_dir = dir;

    make_docs();
    ae_embed_trainer *t = NULL;
    assert_int_equal(ae_embed_trainer_open("ppmi", &t, &err), 0);
    for (int d = 0; d < N_DOCS; d++)
        assert_int_equal(ae_embed_trainer_add(t, docs[d], &err), 0);
    char name[AE_EMBED_MODEL_NAME_MAX + 1];
    assert_int_equal(ae_embed_trainer_finish(t, dir, name, &err), 0);
    ae_embed_trainer_close(t);
    assert_int_equal(ae_embed_model_check_name(name, &err), 0);
    assert_int_equal(ae_embed_model_set(dir, AE_EMBED_MODEL_CURRENT, name, &err), 0);

    o.verify_model = true;
    assert_int_equal(ae_embedder_open(&o, &e, &err), 0);
    assert_string_equal(ae_embedder_model(e), name);
    assert_int_equal(ae_embedder_dim(e), 256);
    const char *texts[] = {"socket connect", "zyzzyva socket"};
    float v[2 * 256];
    assert_int_equal(ae_embedder_embed(e, texts, 2, v, &err), 0);
    uint64_t tok = 0, oov = 0;
    assert_int_equal(ae_embedder_token_stats(e, &tok, &oov), 0);
    assert_true(tok == 4 && oov == 1);
    ae_embedder_close(e);

    /* a file whose content is not the model its name says */
    char from[256], to[256];
    snprintf(from, sizeof from, "%s/%s.bin", dir, name);
    snprintf(to, sizeof to, "%s/ppmi-256-00000000.bin", dir);
    assert_int_equal(rename(from, to), 0);
    o.model = "ppmi-256-00000000";
    assert_int_equal(ae_embedder_open(&o, &e, &err), AE_ECORRUPT);
    /* hash is not a learned provider */
    assert_int_equal(ae_embed_trainer_open("hash", &t, &err), AE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_symbol_text),
        cmocka_unit_test(test_train_learns_topics),
        cmocka_unit_test(test_pair_budget_prunes),
        cmocka_unit_test(test_deterministic_in_process),
        cmocka_unit_test(test_deterministic_across_processes),
        cmocka_unit_test(test_model_file),
        cmocka_unit_test(test_names_and_pointers),
        cmocka_unit_test(test_provider),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
