/* Data fragments: round trips, bad input, and an attack on every byte.
 * A corrupt file must give a clean error from open or verify, never a crash
 * (ASan/UBSan run this test). */
#include <math.h>
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

#include "util/mem.h"
#include "vectors/fragment.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ae-test-fragment-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *tmp_path(const char *name)
{
    return ae_asprintf("%s/%s", dir, name);
}

typedef struct rows {
    ae_fragment_rows r;
    char **ids, **hashes, **providers, **models;
    float *emb;
    int64_t *ts;
} rows;

static uint64_t rng;
static float frand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((double)(rng >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
}

static rows make_rows(size_t n, uint32_t dim)
{
    rows x;
    memset(&x, 0, sizeof x);
    rng = 0x12345678ull + n * 31 + dim;
    x.ids = calloc(n, sizeof *x.ids);
    x.hashes = calloc(n, sizeof *x.hashes);
    x.providers = calloc(n, sizeof *x.providers);
    x.models = calloc(n, sizeof *x.models);
    x.emb = calloc(n * dim, sizeof *x.emb);
    x.ts = calloc(n, sizeof *x.ts);
    for (size_t i = 0; i < n; i++) {
        x.ids[i] = ae_asprintf("sym-%06zu", i);               /* 10 bytes each */
        x.hashes[i] = ae_asprintf("%0*zx", (int)(i % 70), i); /* varying, some empty */
        x.providers[i] = ae_strdup(i % 2 ? "mock" : "hash");
        x.models[i] = ae_strdup("mini-\xc3\xa9"); /* UTF-8 */
        x.ts[i] = 1700000000000LL + (int64_t)i * 1000 - 5;
        for (uint32_t d = 0; d < dim; d++)
            x.emb[i * dim + d] = frand();
    }
    x.r = (ae_fragment_rows){n,
                             dim,
                             (const char *const *)x.ids,
                             (const char *const *)x.hashes,
                             (const char *const *)x.providers,
                             (const char *const *)x.models,
                             x.emb,
                             x.ts,
                             NULL};
    return x;
}

static void free_rows(rows *x)
{
    for (size_t i = 0; i < x->r.n; i++) {
        free(x->ids[i]);
        free(x->hashes[i]);
        free(x->providers[i]);
        free(x->models[i]);
    }
    free(x->ids);
    free(x->hashes);
    free(x->providers);
    free(x->models);
    free(x->emb);
    free(x->ts);
}

typedef int (*str_fn)(const ae_fragment *, size_t, const char **, size_t *);

static void check_str(const ae_fragment *f, str_fn fn, size_t row, const char *want)
{
    const char *s = NULL;
    size_t len = 0;
    assert_int_equal(fn(f, row, &s, &len), 0);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(s, want, len);
}

static void check_fragment(const ae_fragment *f, const rows *x)
{
    size_t n = x->r.n;
    uint32_t dim = x->r.dim;
    assert_int_equal(ae_fragment_nrows(f), n);
    assert_int_equal(ae_fragment_dim(f), dim);
    const float *v = ae_fragment_vectors(f);
    assert_int_equal((uintptr_t)v % 64, 0);
    assert_memory_equal(v, x->emb, n * dim * sizeof(float)); /* bit-exact */
    const float *inv = ae_fragment_inv_norms(f);
    for (size_t i = 0; i < n; i++) {
        check_str(f, ae_fragment_symbol_id, i, x->ids[i]);
        check_str(f, ae_fragment_sir_hash, i, x->hashes[i]);
        check_str(f, ae_fragment_provider, i, x->providers[i]);
        check_str(f, ae_fragment_model, i, x->models[i]);
        assert_int_equal(ae_fragment_updated_at(f, i), x->ts[i]);
        double ss = 0;
        for (uint32_t d = 0; d < dim; d++)
            ss += (double)x->emb[i * dim + d] * x->emb[i * dim + d];
        double want = ss > 0 ? 1 / sqrt(ss) : 0;
        assert_true(fabs(inv[i] - want) <= 1e-6 * want);
    }
    const char *s;
    size_t len;
    assert_int_equal(ae_fragment_symbol_id(f, n, &s, &len), AE_EINVAL);
    assert_int_equal(ae_fragment_updated_at(f, n), 0);
}

static void test_round_trip(void **state)
{
    (void)state;
    const size_t ns[] = {1, 7, 1000};
    const uint32_t dims[] = {3, 64, 768};
    for (size_t a = 0; a < 3; a++) {
        for (size_t b = 0; b < 3; b++) {
            rows x = make_rows(ns[a], dims[b]);
            char *path = tmp_path("rt.arrow");
            ae_error err = {0};
            uint64_t size = 0;
            uint8_t sum[AE_FRAGMENT_CHECKSUM_LEN];
            assert_int_equal(ae_fragment_write(path, &x.r, &size, sum, &err), 0);
            struct stat st;
            assert_int_equal(stat(path, &st), 0);
            assert_int_equal((uint64_t)st.st_size, size);
            ae_fragment *f = NULL;
            int rc = ae_fragment_open(path, &f, &err);
            if (rc) fail_msg("%s", err.message);
            assert_int_equal(ae_fragment_file_size(f), size);
            assert_string_equal(ae_fragment_path(f), path);
            check_fragment(f, &x);
            assert_int_equal(ae_fragment_verify(f, NULL, &err), 0);
            assert_int_equal(ae_fragment_verify(f, sum, &err), 0);
            sum[5] ^= 1;
            assert_int_equal(ae_fragment_verify(f, sum, &err), AE_ECORRUPT);
            assert_non_null(strstr(err.message, "manifest says"));
            ae_fragment_close(f);
            free(path);
            free_rows(&x);
        }
    }
    ae_fragment_close(NULL);
}

static void test_zero_vector_has_zero_inv_norm(void **state)
{
    (void)state;
    rows x = make_rows(3, 4);
    memset(x.emb + 4, 0, 4 * sizeof(float));
    char *path = tmp_path("zero.arrow");
    ae_fragment *f;
    ae_error err;
    assert_int_equal(ae_fragment_write(path, &x.r, NULL, NULL, &err), 0);
    assert_int_equal(ae_fragment_open(path, &f, &err), 0);
    assert_true(ae_fragment_inv_norms(f)[1] == 0.0f);
    assert_true(ae_fragment_inv_norms(f)[0] > 0.0f);
    assert_int_equal(ae_fragment_verify(f, NULL, &err), 0);
    ae_fragment_close(f);
    free(path);
    free_rows(&x);
}

/* RssFile of this process in KiB (/proc/self/status). */
static long rss_file_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "RssFile:", 8)) v = atol(line + 8);
    if (f) fclose(f);
    return v;
}

/* A build pass's release drops the rows' inverse norms from the resident
 * set too, not only their vectors (the norms of 10M rows are 40 MB); the
 * bytes read afterwards are the same. */
static void test_release_rows_drops_norms(void **state)
{
    (void)state;
    enum { N = 200000 };
    rows x = make_rows(N, 3);
    char *path = tmp_path("release.arrow");
    ae_fragment *f;
    ae_error err;
    assert_int_equal(ae_fragment_write(path, &x.r, NULL, NULL, &err), 0);
    assert_int_equal(ae_fragment_open(path, &f, &err), 0);
    const float *inv = ae_fragment_inv_norms(f);
    double before = 0, after = 0;
    for (size_t i = 0; i < N; i++) /* maps the norms' 800 KB, not the vectors */
        before += inv[i];
    long mapped = rss_file_kb();
    ae_fragment_release_rows(f, 0, N);
    long released = rss_file_kb();
    if (mapped >= 0 && released >= 0) /* no /proc: nothing to look at */
        assert_true(mapped - released >= (long)(N * sizeof(float) / 1024) * 9 / 10);
    for (size_t i = 0; i < N; i++)
        after += inv[i];
    assert_true(before == after);
    ae_fragment_release_rows(f, N, N + 5); /* empty and out-of-range ranges are no-ops */
    ae_fragment_release_rows(f, 7, 7);
    ae_fragment_close(f);
    free(path);
    free_rows(&x);
}

static void expect_rejected(rows *x, const char *needle)
{
    char *path = tmp_path("bad.arrow");
    unlink(path);
    ae_error err = {0};
    uint64_t size = 77;
    assert_int_equal(ae_fragment_write(path, &x->r, &size, NULL, &err), AE_EINVAL);
    if (!strstr(err.message, needle)) fail_msg("message '%s' lacks '%s'", err.message, needle);
    assert_int_equal(size, 77);
    assert_int_not_equal(access(path, F_OK), 0); /* nothing written */
    free(path);
}

static void test_bad_input_rejected(void **state)
{
    (void)state;
    rows x = make_rows(5, 8);
    x.emb[4 * 8 + 3] = NAN;
    expect_rejected(&x, "NaN at dimension 3 of row 4");
    x.emb[4 * 8 + 3] = -INFINITY;
    expect_rejected(&x, "infinity at dimension 3 of row 4");
    x.emb[4 * 8 + 3] = 0.5f;
    x.r.dim = 0;
    expect_rejected(&x, "dimension 0");
    x.r.dim = AE_MAX_DIM + 1;
    expect_rejected(&x, "outside 1..16384");
    x.r.dim = 8;
    x.r.n = 0;
    expect_rejected(&x, "at least one row");
    x.r.n = 5;
    char *saved = x.hashes[2];
    x.hashes[2] = NULL;
    expect_rejected(&x, "sir_hash of row 2 is NULL");
    x.hashes[2] = saved;
    x.r.models = NULL;
    expect_rejected(&x, "no model column");
    x.r.models = (const char *const *)x.models;
    x.emb[0] = 1e-39f; /* a norm that underflows the inverse in float32 */
    for (int d = 1; d < 8; d++)
        x.emb[d] = 0;
    expect_rejected(&x, "too small");
    free_rows(&x);
}

static void test_open_errors(void **state)
{
    (void)state;
    ae_fragment *f = (ae_fragment *)1;
    ae_error err;
    char *path = tmp_path("missing.arrow");
    assert_int_equal(ae_fragment_open(path, &f, &err), AE_ENOTFOUND);
    assert_null(f);
    FILE *fp = fopen(path, "w");
    fclose(fp);
    assert_int_equal(ae_fragment_open(path, &f, &err), AE_ECORRUPT);
    assert_non_null(strstr(err.message, path));
    free(path);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc(*len);
    assert_int_equal(fread(b, 1, *len, fp), *len);
    fclose(fp);
    return b;
}

static void spit(const char *path, const uint8_t *b, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b, 1, len, fp), len);
    fclose(fp);
}

/* Reads every row the way a scan would; must never crash on an opened file. */
static void read_all(const ae_fragment *f)
{
    volatile float sink = 0;
    for (size_t i = 0; i < ae_fragment_nrows(f); i++) {
        const char *s;
        size_t len;
        if (ae_fragment_symbol_id(f, i, &s, &len) == 0 && len) sink += (float)s[len - 1];
        if (ae_fragment_model(f, i, &s, &len) == 0 && len) sink += (float)s[0];
        sink += ae_fragment_vectors(f)[i * ae_fragment_dim(f) + ae_fragment_dim(f) - 1];
        sink += ae_fragment_inv_norms(f)[i] + (float)ae_fragment_updated_at(f, i);
    }
    (void)sink;
}

/* Rows passed as one pointer per vector (the upsert path) make the same
 * file, byte for byte, as one contiguous array; bad values are caught the
 * same way.  3 MB of vectors: the writer's buffer fills several times. */
static void test_row_pointers_same_file(void **state)
{
    (void)state;
    const size_t n = 1000;
    const uint32_t dim = 768;
    rows x = make_rows(n, dim);
    const float **ptrs = calloc(n, sizeof *ptrs);
    float *scattered = calloc(n * (dim + 5), sizeof(float)); /* rows not adjacent */
    assert_non_null(ptrs);
    assert_non_null(scattered);
    for (size_t i = 0; i < n; i++) {
        size_t at = (n - 1 - i) * (dim + 5) + 1; /* reversed, misaligned */
        memcpy(scattered + at, x.emb + i * dim, dim * sizeof(float));
        ptrs[i] = scattered + at;
    }
    char *a = tmp_path("contig.arrow"), *b = tmp_path("rowptr.arrow");
    ae_error err = {0};
    uint64_t sa = 0, sb = 0;
    uint8_t ca[AE_FRAGMENT_CHECKSUM_LEN], cb[AE_FRAGMENT_CHECKSUM_LEN];
    assert_int_equal(ae_fragment_write(a, &x.r, &sa, ca, &err), 0);
    ae_fragment_rows r = x.r;
    r.embeddings = NULL;
    r.embedding_rows = ptrs;
    if (ae_fragment_write(b, &r, &sb, cb, &err) < 0) fail_msg("%s", err.message);
    assert_int_equal(sa, sb);
    assert_memory_equal(ca, cb, sizeof ca);
    size_t la, lb;
    uint8_t *da = slurp(a, &la), *db = slurp(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(da, db, la);
    ae_fragment *f = NULL;
    assert_int_equal(ae_fragment_open(b, &f, &err), 0);
    check_fragment(f, &x);
    assert_int_equal(ae_fragment_verify(f, cb, &err), 0);
    ae_fragment_close(f);
    ((float *)ptrs[617])[700] = NAN;
    unlink(b);
    assert_int_equal(ae_fragment_write(b, &r, NULL, NULL, &err), AE_EINVAL);
    assert_non_null(strstr(err.message, "NaN at dimension 700 of row 617"));
    assert_int_not_equal(access(b, F_OK), 0);
    free(da);
    free(db);
    free(a);
    free(b);
    free(ptrs);
    free(scattered);
    free_rows(&x);
}

static void test_truncated_everywhere(void **state)
{
    (void)state;
    rows x = make_rows(7, 3);
    char *path = tmp_path("t.arrow"), *cut = tmp_path("cut.arrow");
    ae_error err;
    assert_int_equal(ae_fragment_write(path, &x.r, NULL, NULL, &err), 0);
    size_t len;
    uint8_t *b = slurp(path, &len);
    for (size_t k = 0; k < len; k++) {
        spit(cut, b, k);
        ae_fragment *f = NULL;
        int rc = ae_fragment_open(cut, &f, &err);
        if (rc != AE_ECORRUPT) fail_msg("truncated to %zu of %zu bytes: rc %d", k, len, rc);
        assert_null(f);
    }
    free(b);
    free(path);
    free(cut);
    free_rows(&x);
}

/* Every single-byte change is caught by open or by verify against the
 * writer's whole-file digest; the body digest alone catches all changes
 * before the footer. */
static void test_flipped_bytes_everywhere(void **state)
{
    (void)state;
    rows x = make_rows(7, 3);
    char *path = tmp_path("f.arrow"), *bad = tmp_path("flip.arrow");
    ae_error err;
    uint8_t sum[AE_FRAGMENT_CHECKSUM_LEN];
    assert_int_equal(ae_fragment_write(path, &x.r, NULL, sum, &err), 0);
    size_t len;
    uint8_t *b = slurp(path, &len);
    size_t opened = 0;
    for (size_t k = 0; k < len; k++) {
        for (int flip = 0; flip < 2; flip++) {
            uint8_t saved = b[k];
            b[k] ^= flip ? 0xFF : 0x01;
            spit(bad, b, len);
            b[k] = saved;
            ae_fragment *f = NULL;
            int rc = ae_fragment_open(bad, &f, &err);
            if (rc == 0) {
                opened++;
                read_all(f);
                rc = ae_fragment_verify(f, sum, &err);
                ae_fragment_close(f);
                if (rc != AE_ECORRUPT) fail_msg("flip at %zu of %zu undetected: %d", k, len, rc);
            } else if (rc != AE_ECORRUPT && rc != AE_EVERSION && rc != AE_ENOTOURS) {
                fail_msg("flip at %zu: unexpected rc %d (%s)", k, rc, err.message);
            }
        }
    }
    assert_true(opened > len / 2); /* most flips hit data, which only verify sees */
    free(b);
    free(path);
    free(bad);
    free_rows(&x);
}

static void test_random_damage(void **state)
{
    (void)state;
    rows x = make_rows(13, 5);
    char *path = tmp_path("r.arrow"), *bad = tmp_path("rand.arrow");
    ae_error err;
    assert_int_equal(ae_fragment_write(path, &x.r, NULL, NULL, &err), 0);
    size_t len;
    uint8_t *b = slurp(path, &len), *c = malloc(len);
    rng = 99;
    for (int trial = 0; trial < 3000; trial++) {
        memcpy(c, b, len);
        int nflips = 1 + (int)((frand() + 1) * 8);
        for (int i = 0; i < nflips; i++) {
            size_t k = (size_t)((frand() + 1) / 2 * (double)len) % len;
            c[k] = (uint8_t)((int)(frand() * 1000) & 0xff);
        }
        spit(bad, c, len);
        ae_fragment *f = NULL;
        if (ae_fragment_open(bad, &f, &err) == 0) {
            read_all(f);
            (void)ae_fragment_verify(f, NULL, &err);
            ae_fragment_close(f);
        }
    }
    free(b);
    free(c);
    free(path);
    free(bad);
    free_rows(&x);
}

static size_t find_last(const uint8_t *b, size_t len, const void *pat, size_t plen)
{
    for (size_t i = len - plen + 1; i-- > 0;)
        if (memcmp(b + i, pat, plen) == 0) return i;
    return SIZE_MAX;
}

static void test_newer_version_and_foreign_files(void **state)
{
    (void)state;
    rows x = make_rows(2, 3);
    char *path = tmp_path("v.arrow"), *bad = tmp_path("v2.arrow");
    ae_error err;
    assert_int_equal(ae_fragment_write(path, &x.r, NULL, NULL, &err), 0);
    size_t len;
    uint8_t *b = slurp(path, &len);
    /* footer KeyValue: value string "1" (len 1) sits before the key string */
    size_t key = find_last(b, len, "aether.format_version", 21);
    assert_true(key != SIZE_MAX);
    size_t val = find_last(b, key, "\x01\x00\x00\x00\x31\x00", 6);
    assert_true(val != SIZE_MAX);
    b[val + 4] = '2';
    spit(bad, b, len);
    ae_fragment *f = NULL;
    assert_int_equal(ae_fragment_open(bad, &f, &err), AE_EVERSION);
    assert_non_null(strstr(err.message, "newer"));
    b[val + 4] = '1';
    b[key] = 'X'; /* the key is gone: some other tool's arrow file */
    spit(bad, b, len);
    assert_int_equal(ae_fragment_open(bad, &f, &err), AE_ENOTOURS);
    free(b);
    free(path);
    free(bad);
    free_rows(&x);
}

/* A damaged Utf8 offset passes open (which reads no column), fails the row
 * access cleanly, and fails verify. */
static void test_bad_offset_caught_per_row(void **state)
{
    (void)state;
    rows x = make_rows(6, 3);
    char *path = tmp_path("o.arrow"), *bad = tmp_path("o2.arrow");
    ae_error err;
    assert_int_equal(ae_fragment_write(path, &x.r, NULL, NULL, &err), 0);
    size_t len;
    uint8_t *b = slurp(path, &len);
    const int32_t offs[4] = {0, 10, 20, 30}; /* symbol ids are 10 bytes */
    size_t at = find_last(b, len, offs, sizeof offs);
    assert_true(at != SIZE_MAX);
    int32_t huge = 1 << 30;
    memcpy(b + at + 8, &huge, 4); /* offset of row 2 */
    spit(bad, b, len);
    ae_fragment *f = NULL;
    assert_int_equal(ae_fragment_open(bad, &f, &err), 0);
    const char *s;
    size_t slen;
    assert_int_equal(ae_fragment_symbol_id(f, 0, &s, &slen), 0);
    assert_int_equal(ae_fragment_symbol_id(f, 1, &s, &slen), AE_ECORRUPT);
    assert_int_equal(ae_fragment_symbol_id(f, 2, &s, &slen), AE_ECORRUPT);
    assert_int_equal(ae_fragment_verify(f, NULL, &err), AE_ECORRUPT);
    assert_non_null(strstr(err.message, "checksum mismatch"));
    ae_fragment_close(f);
    free(b);
    free(path);
    free(bad);
    free_rows(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_row_pointers_same_file),
        cmocka_unit_test(test_zero_vector_has_zero_inv_norm),
        cmocka_unit_test(test_release_rows_drops_norms),
        cmocka_unit_test(test_bad_input_rejected),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_flipped_bytes_everywhere),
        cmocka_unit_test(test_random_damage),
        cmocka_unit_test(test_newer_version_and_foreign_files),
        cmocka_unit_test(test_bad_offset_caught_per_row),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
