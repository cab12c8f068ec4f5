/* Corruption: truncated or bit-flipped manifests, fragments and deletion
 * files are found by verify with the file name in the message; readers fall
 * back past a torn newest manifest (C5) and fail cleanly on a bad file. */
#include "test_table_util.h"

#include "util/blake3.h"
#include "util/fs.h"
#include "util/mem.h"
#include "vectors/deletion.h"
#include "vectors/manifest.h"

#include <fcntl.h>

static const char *P = "hash", *M = "hash_v1";

/* v1: 10 rows, v2: 10 more, v3: 2 deleted from the first fragment */
static ae_table *make_table(const char *dir)
{
    ae_error err;
    ae_table *t = NULL;
    TT_OK(ae_table_open(dir, P, M, 8, 1, NULL, &t, &err));
    tt_batch a = tt_make(P, M, 8, 0, 20, 1);
    TT_OK(ae_table_upsert(t, a.recs, 10, &err));
    TT_OK(ae_table_upsert(t, a.recs + 10, 10, &err));
    const char *del[] = {"sym-000001", "sym-000004"};
    TT_OK(ae_table_delete(t, del, 2, NULL, &err));
    tt_free(&a);
    return t;
}

static char *read_all(const char *path, size_t *len)
{
    char *d = NULL;
    ae_error err;
    TT_OK(ae_read_file(path, &d, len, &err));
    return d;
}

static void write_all(const char *path, const char *d, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, len, f), len);
    fclose(f);
}

static void flip(const char *path, size_t off)
{
    size_t len;
    char *d = read_all(path, &len);
    assert_true(off < len);
    d[off] ^= 0x10;
    write_all(path, d, len);
    free(d);
}

/* The single problem verify reports must name `file`. */
static void expect_problem(const char *tdir, const char *file, const char *words)
{
    ae_error err;
    ae_table_fsck_report rep;
    TT_OK(ae_table_fsck(tdir, &rep, &err));
    bool found = false;
    for (size_t i = 0; i < rep.n_problems; i++) {
        if (strcmp(rep.problems[i].file, file)) continue;
        assert_non_null(strstr(rep.problems[i].message, file + strlen(file) - 10));
        if (words) assert_non_null(strstr(rep.problems[i].message, words));
        found = true;
    }
    if (!found) fail_msg("verify did not report %s (%zu problems)", file, rep.n_problems);
    ae_table_fsck_report_free(&rep);
}

static void expect_clean(const char *tdir)
{
    ae_error err;
    ae_table_fsck_report rep;
    TT_OK(ae_table_fsck(tdir, &rep, &err));
    for (size_t i = 0; i < rep.n_problems; i++)
        print_error("%s\n", rep.problems[i].message);
    assert_int_equal(rep.n_problems, 0);
    assert_int_equal(rep.versions_checked, 3);
    assert_int_equal(rep.latest_version, 3);
    assert_int_equal(rep.rows_live, 18);
    assert_true(rep.files_checked >= 3);
    ae_table_fsck_report_free(&rep);
}

static void test_fragment_bit_flip_and_truncation(void **state)
{
    char *dir = tt_tmpdir();
    ae_table *t = make_table(dir);
    char *tdir = ae_strdup(ae_table_dir(t));
    ae_table_close(t);
    expect_clean(tdir);
    ae_manifest m;
    ae_error err;
    char *mpath = ae_asprintf("%s/versions/00000000000000000003.manifest", tdir);
    TT_OK(manifest_read(mpath, &m, &err));
    assert_int_equal(m.n_fragments, 2);
    char *frag = ae_path_join(tdir, m.fragments[1].data.file);
    size_t len;
    char *orig = read_all(frag, &len);
    flip(frag, len / 2);
    expect_problem(tdir, m.fragments[1].data.file, "checksum mismatch");
    write_all(frag, orig, len / 3);
    expect_problem(tdir, m.fragments[1].data.file, "bytes, manifest says");
    /* a reader of a truncated fragment gets a clean error, not a crash */
    assert_int_equal(ae_table_open(dir, P, M, 8, 0, NULL, &t, &err), AE_ECORRUPT);
    assert_non_null(strstr(err.message, ".arrow"));
    unlink(frag);
    expect_problem(tdir, m.fragments[1].data.file, NULL);
    write_all(frag, orig, len);
    expect_clean(tdir);

    /* deletion file */
    char *del = ae_path_join(tdir, m.fragments[0].deletion.file);
    free(orig);
    orig = read_all(del, &len);
    flip(del, 33);
    expect_problem(tdir, m.fragments[0].deletion.file, "checksum mismatch");
    assert_int_equal(ae_table_open(dir, P, M, 8, 0, NULL, &t, &err), AE_ECORRUPT);
    assert_non_null(strstr(err.message, ".del"));
    write_all(del, orig, len);
    expect_clean(tdir);
    manifest_free(&m);
    free(orig);
    free(del);
    free(frag);
    free(mpath);
    free(tdir);
    tt_rmrf(dir);
    free(dir);
}

static void test_torn_manifest_falls_back(void **state)
{
    char *dir = tt_tmpdir();
    ae_table *t = make_table(dir);
    char *tdir = ae_strdup(ae_table_dir(t));
    ae_table_close(t);
    ae_error err;
    const char *rel = "versions/00000000000000000003.manifest";
    char *mpath = ae_path_join(tdir, rel);
    size_t len;
    char *orig = read_all(mpath, &len);
    for (int mode = 0; mode < 3; mode++) {
        if (mode == 0) write_all(mpath, orig, len - 5); /* torn trailer */
        if (mode == 1) write_all(mpath, orig, len / 2); /* torn body */
        if (mode == 2) {                                /* bit flip in the body */
            write_all(mpath, orig, len);
            flip(mpath, 40);
        }
        expect_problem(tdir, rel, NULL);
        TT_OK(ae_table_open(dir, P, M, 8, 0, NULL, &t, &err));
        assert_int_equal(ae_table_version(t), 2);
        assert_int_equal(ae_table_rows_live(t), 20);
        ae_table_close(t);
    }
    /* the next commit skips the corrupt number instead of reusing it (C6) */
    TT_OK(ae_table_open(dir, P, M, 8, 0, NULL, &t, &err));
    tt_batch a = tt_make(P, M, 8, 50, 1, 1);
    TT_OK(ae_table_upsert(t, a.recs, 1, &err));
    assert_int_equal(ae_table_version(t), 4);
    assert_int_equal(ae_table_rows_live(t), 21);
    ae_table_close(t);
    tt_free(&a);
    free(orig);
    free(mpath);
    free(tdir);
    tt_rmrf(dir);
    free(dir);
}

static void test_manifest_decode_rules(void **state)
{
    ae_error err;
    ae_manifest m = {0}, back;
    ae_manifest_fragment f = {.id = 3, .rows = 7, .deleted = 2};
    f.data = (ae_file_ref){"data/a.arrow", 123, ""};
    f.deletion = (ae_file_ref){"deletions/a.del", 48, ""};
    memset(f.data.checksum, 'a', 64);
    memset(f.deletion.checksum, 'b', 64);
    m.version = 9;
    m.provider = "p";
    m.model = "m";
    m.dim = 4;
    m.created_at = 1700000000000;
    m.next_fragment_id = 4;
    m.fragments = &f;
    m.n_fragments = 1;
    m.index.ref = (ae_file_ref){"index/x.ivfpq", 99, ""};
    memset(m.index.ref.checksum, 'c', 64);
    m.index.covers_version = 8;
    m.index.rows = 5;
    char *text;
    size_t len;
    TT_OK(manifest_encode(&m, &text, &len, &err));
    TT_OK(manifest_decode(text, len, "x", &back, &err));
    assert_int_equal(back.version, 9);
    assert_int_equal(back.fragments[0].deleted, 2);
    assert_string_equal(back.fragments[0].deletion.file, "deletions/a.del");
    assert_string_equal(back.index.ref.file, "index/x.ivfpq");
    assert_int_equal(back.index.covers_version, 8);
    manifest_free(&back);
    /* re-sign a modified body: the checks behind the checksum */
    const char *cases[][3] = {
        {"\"format\":1", "\"format\":2", "format 2"},
        {"aether-vector-table", "lance-vector-table!", "not an aether"},
        {"data/a.arrow", "/etc/passwd!", "malformed"},
        {"\"next_fragment_id\":4", "\"next_fragment_id\":3", "malformed"},
    };
    int codes[] = {AE_EVERSION, AE_ENOTOURS, AE_ECORRUPT, AE_ECORRUPT};
    for (int i = 0; i < 4; i++) {
        char *body = ae_strndup(text, strchr(text, '\n') - text);
        char *at = strstr(body, cases[i][0]);
        assert_non_null(at);
        assert_int_equal(strlen(cases[i][0]), strlen(cases[i][1]));
        memcpy(at, cases[i][1], strlen(cases[i][1]));
        char hex[65];
        blake3_hex(body, strlen(body), hex);
        char *file =
            ae_asprintf("%s\n{\"body_blake3\":\"%s\",\"body_len\":%zu}\n", body, hex, strlen(body));
        assert_int_equal(manifest_decode(file, strlen(file), "v9", &back, &err), codes[i]);
        assert_non_null(strstr(err.message, cases[i][2]));
        assert_non_null(strstr(err.message, "v9"));
        free(body);
        free(file);
    }
    assert_int_equal(manifest_decode(text, len - 1, "v9", &back, &err), AE_ECORRUPT);
    assert_int_equal(manifest_decode("", 0, "v9", &back, &err), AE_ECORRUPT);
    free(text);
}

static void test_deletion_file_rules(void **state)
{
    ae_error err;
    uint32_t rows[] = {1, 5, 9};
    char *d;
    size_t len;
    TT_OK(deletion_encode(7, rows, 3, &d, &len, &err));
    assert_int_equal(len, 32 + 12 + 32);
    uint32_t *back;
    size_t n;
    TT_OK(deletion_decode(d, len, "x.del", 7, 10, &back, &n, &err));
    assert_int_equal(n, 3);
    assert_int_equal(back[2], 9);
    free(back);
    assert_int_equal(deletion_decode(d, len, "x.del", 7, 9, &back, &n, &err), AE_ECORRUPT);
    assert_non_null(strstr(err.message, "x.del: deleted row 9"));
    assert_int_equal(deletion_decode(d, len, "x.del", 8, 10, &back, &n, &err), AE_ECORRUPT);
    assert_int_equal(deletion_decode(d, len - 1, "x.del", 7, 10, &back, &n, &err), AE_ECORRUPT);
    d[40] ^= 1;
    assert_int_equal(deletion_decode(d, len, "x.del", 7, 10, &back, &n, &err), AE_ECORRUPT);
    assert_non_null(strstr(err.message, "checksum"));
    free(d);
    uint32_t bad[] = {4, 4};
    assert_int_equal(deletion_encode(7, bad, 2, &d, &len, &err), AE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fragment_bit_flip_and_truncation),
        cmocka_unit_test(test_torn_manifest_falls_back),
        cmocka_unit_test(test_manifest_decode_rules),
        cmocka_unit_test(test_deletion_file_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
