/* fuzz_store_corrupt, deterministic: flip bytes of every file of a committed
 * table (every 3rd byte of the manifests and deletion files, every 31st of
 * the fragments, a bit that moves with the offset) and truncate them, then
 * verify, open, search, iterate and (every 32nd time) upsert.  A clean error
 * is fine, a crash is not, and verify must always notice the change. */
#include "test_table_util.h"

#include "util/fs.h"
#include "util/mem.h"

#include <dirent.h>

static const char *P = "hash", *M = "hash_v1";

static void list_files(const char *tdir, const char *sub, ae_strlist *out);

static void build(const char *dir, char **tdir)
{
    ae_error err;
    ae_table *t = NULL;
    TT_OK(ae_table_open(dir, P, M, 4, 1, NULL, &t, &err));
    tt_batch a = tt_make(P, M, 4, 0, 12, 1);
    TT_OK(ae_table_upsert(t, a.recs, 8, &err));
    TT_OK(ae_table_upsert(t, a.recs + 8, 4, &err));
    const char *del[] = {"sym-000002", "sym-000009"};
    TT_OK(ae_table_delete(t, del, 2, NULL, &err));
    if (tdir) *tdir = ae_strdup(ae_table_dir(t));
    ae_table_close(t);
    tt_free(&a);
}

static int touch_row(const ae_vs_record *rec, void *ctx)
{
    *(size_t *)ctx += strlen(rec->symbol_id) + (rec->embedding[0] > 0);
    return 0;
}

/* verify notices; open/search/iterate/upsert do not crash */
static void attack(const char *dir, const char *tdir, const char *rel, bool upsert)
{
    ae_error err;
    ae_table_fsck_report rep;
    TT_OK(ae_table_fsck(tdir, &rep, &err));
    if (rep.n_problems == 0) fail_msg("verify missed a flipped byte in %s", rel);
    ae_table_fsck_report_free(&rep);
    ae_table *t = NULL;
    if (ae_table_open(dir, P, M, 4, 0, NULL, &t, &err) != 0) return;
    float q[4] = {0.5f, -1, 0.25f, 1};
    ae_vs_hit *hits = NULL;
    size_t n = 0, sum = 0;
    if (ae_table_search(t, q, 4, 5, &hits, &n, &err) == 0) free(hits);
    ae_table_iterate(t, touch_row, &sum, &err);
    if (upsert) {
        tt_batch b = tt_make(P, M, 4, 3, 2, 7);
        ae_table_upsert(t, b.recs, b.n, &err);
        tt_free(&b);
    }
    ae_table_close(t);
}

static void list_files(const char *tdir, const char *sub, ae_strlist *out)
{
    char *p = ae_path_join(tdir, sub);
    DIR *d = opendir(p);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.') ae_strlist_push_owned(out, ae_asprintf("%s/%s", sub, de->d_name));
    if (d) closedir(d);
    free(p);
}

typedef struct pristine {
    ae_strlist names;
    char **data;
    size_t *len;
} pristine;

static void save(const char *tdir, pristine *p, const ae_strlist *files)
{
    memset(p, 0, sizeof *p);
    p->data = calloc(files->len, sizeof *p->data);
    p->len = calloc(files->len, sizeof *p->len);
    for (size_t i = 0; i < files->len; i++) {
        ae_error err;
        char *path = ae_path_join(tdir, files->items[i]);
        TT_OK(ae_read_file(path, &p->data[i], &p->len[i], &err));
        ae_strlist_push(&p->names, files->items[i]);
        free(path);
    }
}

/* Puts the table back exactly as saved, dropping what an upsert added. */
static void restore(const char *tdir, const pristine *p)
{
    ae_strlist now = {0};
    list_files(tdir, "versions", &now);
    list_files(tdir, "deletions", &now);
    list_files(tdir, "data", &now);
    list_files(tdir, "index", &now);
    for (size_t i = 0; i < now.len; i++) {
        bool known = false;
        for (size_t k = 0; k < p->names.len; k++)
            known |= !strcmp(now.items[i], p->names.items[k]);
        char *path = ae_path_join(tdir, now.items[i]);
        if (!known) unlink(path);
        free(path);
    }
    for (size_t k = 0; k < p->names.len; k++) {
        char *path = ae_path_join(tdir, p->names.items[k]);
        FILE *f = fopen(path, "wb");
        fwrite(p->data[k], 1, p->len[k], f);
        fclose(f);
        free(path);
    }
    ae_strlist_free(&now);
}

static void pristine_free(pristine *p)
{
    for (size_t i = 0; i < p->names.len; i++)
        free(p->data[i]);
    free(p->data);
    free(p->len);
    ae_strlist_free(&p->names);
}

static void test_flipped_bytes_never_crash(void **state)
{
    char *dir = tt_tmpdir();
    char *tdir = NULL;
    build(dir, &tdir);
    ae_strlist files = {0};
    list_files(tdir, "versions", &files);
    list_files(tdir, "deletions", &files);
    list_files(tdir, "data", &files);
    ae_strlist_sort(&files);
    assert_true(files.len >= 3 + 1 + 2);
    pristine saved;
    save(tdir, &saved, &files);
    size_t attacks = 0;
    for (size_t i = 0; i < files.len; i++) {
        char *path = ae_path_join(tdir, files.items[i]);
        char *orig = NULL;
        size_t len = 0;
        ae_error err;
        TT_OK(ae_read_file(path, &orig, &len, &err));
        bool fragment = !strncmp(files.items[i], "data/", 5);
        size_t step = fragment ? 31 : 3;
        for (size_t off = 0; off < len; off += step) {
            char *bad = malloc(len);
            memcpy(bad, orig, len);
            bad[off] ^= (char)(1u << (off % 8));
            FILE *f = fopen(path, "wb");
            fwrite(bad, 1, len, f);
            fclose(f);
            free(bad);
            bool upsert = attacks % 32 == 0;
            attack(dir, tdir, files.items[i], upsert);
            attacks++;
            restore(tdir, &saved);
        }
        /* truncations too */
        for (size_t cut = 0; cut < len; cut += len / 7 + 1) {
            FILE *f = fopen(path, "wb");
            fwrite(orig, 1, cut, f);
            fclose(f);
            attack(dir, tdir, files.items[i], false);
            attacks++;
            restore(tdir, &saved);
        }
        free(orig);
        free(path);
    }
    print_message("%zu corrupted stores survived\n", attacks);
    pristine_free(&saved);
    ae_strlist_free(&files);
    free(tdir);
    tt_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flipped_bytes_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
