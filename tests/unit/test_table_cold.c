/* Cold reads and cheap opens (docs/FORMAT.md "Fragment layout in the
 * manifest", "Index in the table"; docs/BENCHMARKS.md "Cold first query"):
 * every fragment a commit names carries its layout; a manifest without
 * layouts (older builds) still opens and the next commit adds them; a layout
 * that does not fit the file is refused at open and one that differs from
 * the file is reported by verify; a query after the table's files were
 * evicted from the page cache (the prefetching path) returns the warm
 * query's results bit for bit; the published index carries the identity it
 * was verified with, and a file whose identity changed is verified again;
 * the build's measured recall is in the manifest, survives a reopen, drives
 * the default search setting, and a higher target buys a costlier setting;
 * global rows map to the right fragment and row through the snapshot's row
 * index whatever the fragment sizes (empty-delete ones included), and the
 * index path answers the same with and without deleted rows in the table;
 * opening an evicted index asks for its small sections (centroids, norms,
 * codebooks, list offsets) in one batch. */
#include "test_table_util.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "index/ivfpq.h"
#include "index/ivfpq_internal.h"
#include "store/table_index_policy.h"
#include "util/fs.h"
#include "util/pagecache.h"
#include "vectors/manifest.h"

static const char *P = "hash", *M = "cold";
#define DIM 32

/* The newest manifest of the only table under vdir, decoded; *path (optional) its file. */
static void newest_manifest(const char *tdir, ae_manifest *m, char **path)
{
    uint64_t *vs = NULL;
    size_t n = 0;
    ae_error err;
    TT_OK(manifest_list(tdir, &vs, &n, &err));
    assert_true(n > 0);
    char name[64];
    manifest_name(vs[n - 1], name);
    free(vs);
    char *p = ae_path_join(tdir, name);
    TT_OK(manifest_read(p, m, &err));
    if (path)
        *path = p;
    else
        free(p);
}

/* Writes m as the next version of the table at tdir (a test forging an
 * older build's manifest, or a damaged one). */
static void write_next(const char *tdir, ae_manifest *m)
{
    ae_error err;
    m->version++;
    char *text;
    size_t len;
    TT_OK(manifest_encode(m, &text, &len, &err));
    char name[64];
    manifest_name(m->version, name);
    char *p = ae_path_join(tdir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    free(p);
    free(text);
}

static char *table_dir(const char *vdir)
{
    char name[AE_TABLE_NAME_MAX];
    ae_table_name(P, M, DIM, name);
    return ae_path_join(vdir, name);
}

/* Three commits of 700 rows: three fragments. */
static ae_table *filled(const char *vdir)
{
    ae_error err;
    ae_table *t = NULL;
    TT_OK(ae_table_open(vdir, P, M, DIM, 1, NULL, &t, &err));
    for (int b = 0; b < 3; b++) {
        tt_batch x = tt_make(P, M, DIM, (size_t)b * 700, 700, 7);
        TT_OK(ae_table_upsert(t, x.recs, x.n, &err));
        tt_free(&x);
    }
    return t;
}

static void search_ids(ae_table *t, uint32_t seed, char out[10][AE_SYMBOL_ID_MAX + 1],
                       float scores[10])
{
    ae_error err;
    float q[DIM];
    tt_vec(seed, 99999, q, DIM);
    ae_vs_hit *h = NULL;
    size_t nh = 0;
    TT_OK(ae_table_search(t, q, DIM, 10, &h, &nh, &err));
    assert_int_equal(nh, 10);
    for (size_t i = 0; i < nh; i++) {
        snprintf(out[i], AE_SYMBOL_ID_MAX + 1, "%s", h[i].symbol_id);
        scores[i] = h[i].score;
    }
    free(h);
}

static void test_layout_recorded_and_equal(void **state)
{
    (void)state;
    char *vdir = tt_tmpdir(), *tdir = table_dir(vdir);
    ae_table *t = filled(vdir);
    ae_manifest m;
    newest_manifest(tdir, &m, NULL);
    assert_int_equal(m.n_fragments, 3);
    ae_error err;
    for (size_t i = 0; i < m.n_fragments; i++) {
        assert_true(m.fragments[i].has_layout);
        char *p = ae_path_join(tdir, m.fragments[i].data.file);
        ae_fragment *f = NULL;
        TT_OK(ae_fragment_open(p, &f, &err));
        ae_fragment_layout lay;
        ae_fragment_get_layout(f, &lay);
        assert_memory_equal(&lay, &m.fragments[i].layout, sizeof lay);
        ae_fragment_close(f);
        free(p);
    }
    manifest_free(&m);
    ae_table_close(t);
    tt_rmrf(vdir);
    free(tdir);
    free(vdir);
}

static void test_manifest_without_layouts(void **state)
{
    (void)state;
    char *vdir = tt_tmpdir(), *tdir = table_dir(vdir);
    ae_table *t = filled(vdir);
    char want[10][AE_SYMBOL_ID_MAX + 1] = {{0}}, got[10][AE_SYMBOL_ID_MAX + 1] = {{0}};
    float ws[10], gs[10];
    search_ids(t, 3, want, ws);
    ae_table_close(t);
    /* an older build's manifest: the same, without the layouts */
    ae_manifest m;
    newest_manifest(tdir, &m, NULL);
    for (size_t i = 0; i < m.n_fragments; i++)
        m.fragments[i].has_layout = false;
    write_next(tdir, &m);
    uint64_t old_version = m.version;
    manifest_free(&m);
    ae_error err;
    TT_OK(ae_table_open(vdir, P, M, DIM, 0, NULL, &t, &err));
    assert_int_equal(ae_table_version(t), old_version);
    search_ids(t, 3, got, gs);
    assert_memory_equal(want, got, sizeof want);
    assert_memory_equal(ws, gs, sizeof ws);
    /* the next commit writes every fragment's layout */
    tt_batch x = tt_make(P, M, DIM, 5000, 10, 8);
    TT_OK(ae_table_upsert(t, x.recs, x.n, &err));
    tt_free(&x);
    ae_table_close(t);
    newest_manifest(tdir, &m, NULL);
    assert_int_equal(m.n_fragments, 4);
    for (size_t i = 0; i < m.n_fragments; i++)
        assert_true(m.fragments[i].has_layout);
    manifest_free(&m);
    tt_rmrf(vdir);
    free(tdir);
    free(vdir);
}

static void test_bad_layouts(void **state)
{
    (void)state;
    char *vdir = tt_tmpdir(), *tdir = table_dir(vdir);
    ae_table *t = filled(vdir);
    ae_table_close(t);
    ae_manifest m;
    newest_manifest(tdir, &m, NULL);
    ae_error err;
    /* 1. vectors past the footer: refused at open, naming the file */
    ae_fragment_layout keep = m.fragments[1].layout;
    m.fragments[1].layout.items = m.fragments[1].layout.footer;
    write_next(tdir, &m);
    t = NULL;
    assert_int_equal(ae_table_open(vdir, P, M, DIM, 0, NULL, &t, &err), AE_ECORRUPT);
    assert_non_null(strstr(err.message, m.fragments[1].data.file + 5)); /* past "data/" */
    assert_non_null(strstr(err.message, "layout"));
    /* a misaligned vector column too */
    m.fragments[1].layout = keep;
    m.fragments[1].layout.items += 4;
    write_next(tdir, &m);
    assert_int_equal(ae_table_open(vdir, P, M, DIM, 0, NULL, &t, &err), AE_ECORRUPT);
    /* 2. in bounds but not the file's (norms read from the updated_at
     *    column): opens, and verify reports the difference */
    m.fragments[1].layout = keep;
    m.fragments[1].layout.inv = keep.updated;
    write_next(tdir, &m);
    TT_OK(ae_table_open(vdir, P, M, DIM, 0, NULL, &t, &err));
    ae_table_close(t);
    ae_table_fsck_report rep;
    TT_OK(ae_table_fsck(tdir, &rep, &err));
    bool found = false;
    for (size_t i = 0; i < rep.n_problems; i++)
        if (strstr(rep.problems[i].message, "layout") &&
            !strcmp(rep.problems[i].file, m.fragments[1].data.file))
            found = true;
    assert_true(found);
    ae_table_fsck_report_free(&rep);
    manifest_free(&m);
    tt_rmrf(vdir);
    free(tdir);
    free(vdir);
}

/* posix_fadvise(DONTNEED) of every file under dir after fsync: the
 * benchmark's eviction (bench/runner/cold.c does the same). */
static int evict_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)f;
    if (flag != FTW_F) return 0;
    int fd = open(p, O_RDONLY);
    if (fd < 0) return 0;
    fsync(fd);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
    return 0;
}

static void evict(const char *dir)
{
    sync();
    nftw(dir, evict_one, 16, FTW_PHYS);
}

static void vs_search(const char *vdir, uint32_t seed, ae_vs_hit **h, size_t *nh)
{
    ae_error err;
    ae_vector_store *vs = NULL;
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    float q[DIM];
    tt_vec(seed, 4242, q, DIM);
    ae_vs_search_opts o = {.nprobe = 8, .refine_factor = 30};
    TT_OK(ae_vs_search(vs, q, DIM, P, M, 10, &o, h, nh, &err));
    assert_null(ae_vs_last_warning(vs));
    ae_vs_close(vs);
}

static void test_cold_query_equals_warm(void **state)
{
    (void)state;
    char *vdir = tt_tmpdir(), *tdir = table_dir(vdir);
    ae_table_set_index_min_rows(256);
    ae_error err;
    ae_vector_store *vs = NULL;
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    tt_fill_indexed(vs, P, M, DIM, 4, 1000, 11);
    ae_vs_close(vs);
    int cold_seen = 0;
    for (uint32_t seed = 1; seed <= 6; seed++) {
        ae_vs_hit *warm = NULL, *cold = NULL;
        size_t nw = 0, nc = 0;
        vs_search(vdir, seed, &warm, &nw);
        evict(vdir);
        /* the eviction worked where the file system has a page cache to drop */
        ae_table *t = NULL;
        TT_OK(ae_table_open(vdir, P, M, DIM, 0, NULL, &t, &err));
        uint64_t rows[4] = {0, 1000, 2000, 3999};
        if (!ae_table_rows_resident(t, rows, 4)) cold_seen++;
        ae_table_close(t);
        evict(vdir);
        vs_search(vdir, seed, &cold, &nc);
        assert_int_equal(nw, nc);
        assert_int_equal(nw, 10);
        for (size_t i = 0; i < nw; i++) {
            assert_string_equal(warm[i].symbol_id, cold[i].symbol_id);
            assert_memory_equal(&warm[i].score, &cold[i].score, sizeof(float));
        }
        free(warm);
        free(cold);
    }
    print_message("cold first queries: %d of 6 ran with the files evicted\n", cold_seen);
    assert_true(cold_seen > 0);
    ae_table_set_index_min_rows(0);
    tt_rmrf(vdir);
    free(tdir);
    free(vdir);
}

static void test_index_stamp(void **state)
{
    (void)state;
    char *vdir = tt_tmpdir(), *tdir = table_dir(vdir);
    ae_table_set_index_min_rows(256);
    ae_error err;
    ae_vector_store *vs = NULL;
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    tt_batch x = tt_make(P, M, DIM, 0, 3000, 12);
    TT_OK(ae_vs_upsert(vs, x.recs, x.n, &err));
    tt_free(&x);
    TT_OK(ae_tables_build_indexes(vs, true, &err));
    ae_vs_close(vs);
    ae_table *t = NULL;
    TT_OK(ae_table_open(vdir, P, M, DIM, 0, NULL, &t, &err));
    assert_true(ae_table_index_unchanged_since_verify(t));
    ae_manifest m;
    newest_manifest(tdir, &m, NULL);
    assert_true(m.index.stamp.set);
    char *ipath = ae_path_join(tdir, m.index.ref.file);
    manifest_free(&m);
    /* same bytes, new identity (touch): verified in full again, and fine */
    struct stat sb;
    assert_int_equal(stat(ipath, &sb), 0);
    struct timespec ts[2] = {sb.st_atim, {sb.st_mtim.tv_sec + 5, sb.st_mtim.tv_nsec}};
    assert_int_equal(utimensat(AT_FDCWD, ipath, ts, 0), 0);
    assert_false(ae_table_index_unchanged_since_verify(t));
    ae_vs_hit *h = NULL;
    size_t nh = 0;
    vs_search(vdir, 5, &h, &nh);
    free(h);
    /* a writer's index pass with nothing due records the stamp again (same file), as it does
     * for an index published before stamps existed */
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    TT_OK(ae_tables_build_indexes(vs, false, &err));
    ae_vs_close(vs);
    TT_OK(ae_table_refresh(t, &err));
    assert_true(ae_table_index_unchanged_since_verify(t));
    newest_manifest(tdir, &m, NULL);
    assert_true(m.index.stamp.set);
    assert_non_null(strstr(ipath, m.index.ref.file));
    manifest_free(&m);
    /* a flipped byte with the old mtime put back: the ctime still moved, so
     * the full check runs and finds it (exact answers and a warning) */
    int fd = open(ipath, O_RDWR);
    assert_true(fd >= 0);
    unsigned char c;
    off_t at = sb.st_size / 2;
    assert_int_equal(pread(fd, &c, 1, at), 1);
    c ^= 0x5a;
    assert_int_equal(pwrite(fd, &c, 1, at), 1);
    close(fd);
    struct timespec back[2] = {sb.st_atim, sb.st_mtim};
    assert_int_equal(utimensat(AT_FDCWD, ipath, back, 0), 0);
    assert_false(ae_table_index_unchanged_since_verify(t));
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    float q[DIM];
    tt_vec(5, 4242, q, DIM);
    TT_OK(ae_vs_search(vs, q, DIM, P, M, 10, NULL, &h, &nh, &err));
    assert_non_null(ae_vs_last_warning(vs));
    assert_non_null(strstr(ae_vs_last_warning(vs), "exact scan used"));
    free(h);
    ae_vs_close(vs);
    ae_table_close(t);
    ae_table_set_index_min_rows(0);
    free(ipath);
    tt_rmrf(vdir);
    free(tdir);
    free(vdir);
}

/* A 20000-row table with an index built for `target`; returns its record. */
static ae_index_tuned tuned_for(const char *vdir, double target)
{
    ae_error err;
    ae_table_set_index_min_rows(256);
    ae_table_set_target_recall(target);
    ae_vector_store *vs = NULL;
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    tt_batch x = tt_make(P, M, DIM, 0, 20000, 21);
    TT_OK(ae_vs_upsert(vs, x.recs, x.n, &err));
    tt_free(&x);
    TT_OK(ae_tables_build_indexes(vs, true, &err));
    ae_vs_close(vs);
    ae_table_set_target_recall(0);
    ae_table *t = NULL;
    TT_OK(ae_table_open(vdir, P, M, DIM, 0, NULL, &t, &err));
    ae_table_status st;
    TT_OK(ae_table_status_get(t, &st, &err));
    ae_table_close(t);
    return st.index_tuned;
}

static void test_measured_recall(void **state)
{
    (void)state;
    char *vdir = tt_tmpdir(), *tdir = table_dir(vdir);
    ae_index_tuned lo = tuned_for(vdir, 0.5);
    assert_true(lo.set);
    assert_int_equal(lo.k, 10);
    assert_int_equal(lo.sample, 128);
    assert_true(lo.recall > 0.5 && lo.recall <= 1.0);
    assert_true(lo.target == 0.5);
    /* never cheaper than the defaults: at a low target, the defaults */
    assert_int_equal(lo.nprobe, AE_IVFPQ_DEFAULT_NPROBE);
    assert_int_equal(lo.refine, ae_ivfpq_default_refine(DIM));
    /* in the manifest: a fresh handle (a reopen) reads the same record */
    ae_manifest m;
    newest_manifest(tdir, &m, NULL);
    assert_true(m.index.tuned.set);
    assert_true(m.index.tuned.recall == lo.recall);
    manifest_free(&m);
    /* searches without nprobe / refine use the recorded setting */
    ae_error err;
    ae_vector_store *vs = NULL;
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    float q[DIM];
    tt_vec(9, 777, q, DIM);
    tt_assert_default_is(vs, P, M, q, DIM, lo.nprobe, lo.refine);
    ae_vs_close(vs);
    tt_rmrf(vdir);
    free(vdir);
    vdir = tt_tmpdir();
    /* a target the defaults do not reach on this (uniform, hard) data buys
     * more probes or a deeper re-rank, and no less recall */
    ae_index_tuned hi = tuned_for(vdir, 0.999);
    assert_true(hi.set);
    assert_true((uint64_t)hi.nprobe * hi.refine > (uint64_t)lo.nprobe * lo.refine);
    assert_true(hi.recall >= lo.recall);
    print_message("measured recall@10: %.3f at nprobe %u / refine %u (target 0.5), %.3f at %u / %u "
                  "(target 0.999)\n",
                  lo.recall, lo.nprobe, lo.refine, hi.recall, hi.nprobe, hi.refine);
    ae_table_set_index_min_rows(0);
    tt_rmrf(vdir);
    free(tdir);
    free(vdir);
}

/* Fragments of many sizes (batches of 1 to 997 rows; the size-tiered merge
 * combines some): every global row's symbol_id through the row index
 * (ae_table_row_symbol_id, ae_table_row_live) is the one the fragments hold
 * in order (ae_table_iterate), the row past the end is refused, and deleted
 * rows are the ones not live. */
typedef struct order {
    char (*ids)[AE_SYMBOL_ID_MAX + 1];
    size_t n, cap;
} order;

static int collect(const ae_vs_record *r, void *ctx)
{
    order *o = ctx;
    if (o->n == o->cap) return 1;
    snprintf(o->ids[o->n++], AE_SYMBOL_ID_MAX + 1, "%s", r->symbol_id);
    return 0;
}

static void test_row_lookup(void **state)
{
    (void)state;
    char *vdir = tt_tmpdir();
    ae_error err;
    ae_table *t = NULL;
    TT_OK(ae_table_open(vdir, P, M, DIM, 1, NULL, &t, &err));
    static const size_t sizes[] = {1, 997, 3, 40, 1, 300, 5, 16, 17, 2, 600, 1, 1, 64, 255, 9};
    size_t first = 0;
    for (size_t b = 0; b < sizeof sizes / sizeof *sizes; b++) {
        tt_batch x = tt_make(P, M, DIM, first, sizes[b], 5);
        TT_OK(ae_table_upsert(t, x.recs, x.n, &err));
        tt_free(&x);
        first += sizes[b];
    }
    ae_table_status st;
    TT_OK(ae_table_status_get(t, &st, &err));
    print_message("row lookup: %zu rows in %zu fragments\n", first, st.fragments);
    assert_true(st.fragments >= 4);
    size_t total = ae_table_rows_total(t);
    assert_int_equal(total, first);
    order o = {calloc(total, sizeof *o.ids), 0, total};
    assert_non_null(o.ids);
    TT_OK(ae_table_iterate(t, collect, &o, &err));
    assert_int_equal(o.n, total);
    char id[AE_SYMBOL_ID_MAX + 1];
    for (size_t r = 0; r < total; r++) {
        TT_OK(ae_table_row_symbol_id(t, r, id, &err));
        assert_string_equal(id, o.ids[r]);
        assert_true(ae_table_row_live(t, r));
    }
    assert_true(ae_table_row_symbol_id(t, total, id, &err) < 0);
    assert_false(ae_table_row_live(t, total));
    /* delete every 7th row: exactly those are not live, numbering unchanged */
    const char **del = calloc(total / 7 + 1, sizeof *del);
    size_t nd = 0;
    for (size_t r = 0; r < total; r += 7)
        del[nd++] = o.ids[r];
    TT_OK(ae_table_delete(t, del, nd, NULL, &err));
    assert_int_equal(ae_table_rows_total(t), total);
    for (size_t r = 0; r < total; r++) {
        assert_int_equal(ae_table_row_live(t, r), r % 7 != 0);
        TT_OK(ae_table_row_symbol_id(t, r, id, &err));
        assert_string_equal(id, o.ids[r]);
    }
    free(del);
    free(o.ids);
    ae_table_close(t);
    tt_rmrf(vdir);
    free(vdir);
}

/* The index path without deleted rows skips the live test; with some, it
 * filters them: either way every answer equals the exact scan's when the
 * probe is exhaustive (ids, scores to rounding), ties across the limit
 * broken by symbol_id (only the hits that can make the answer have their
 * ids read). */
static void test_index_search_live(void **state)
{
    (void)state;
    char *vdir = tt_tmpdir();
    ae_table_set_index_min_rows(256);
    ae_error err;
    ae_vector_store *vs = NULL;
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    for (int b = 0; b < 3; b++) {
        tt_batch x = tt_make(P, M, DIM, (size_t)b * 1000, 1000, 13);
        /* exact ties across the 10th place: rows 0..11 of each batch repeat one vector */
        for (size_t i = 1; i < 12; i++)
            memcpy(x.emb + i * DIM, x.emb, DIM * sizeof(float));
        TT_OK(ae_vs_upsert(vs, x.recs, x.n, &err));
        tt_free(&x);
    }
    TT_OK(ae_tables_build_indexes(vs, true, &err));
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            const char *del[] = {"sym-000003", "sym-001004", "sym-002000", "sym-000500"};
            TT_OK(ae_vs_delete(vs, del, 4, &err));
        }
        for (uint32_t seed = 0; seed < 8; seed++) {
            float q[DIM];
            tt_vec(seed, 7, q, DIM);
            if (seed < 2) { /* a query on the tied vector */
                tt_batch x = tt_make(P, M, DIM, (size_t)seed * 1000, 1, 13);
                memcpy(q, x.emb, sizeof q);
                tt_free(&x);
            }
            ae_vs_hit *a = NULL, *e = NULL;
            size_t na = 0, ne = 0;
            ae_vs_search_opts all = {.nprobe = 100000, .refine_factor = 1000};
            ae_vs_search_opts exact = {.exact = 1};
            TT_OK(ae_vs_search(vs, q, DIM, P, M, 10, &all, &a, &na, &err));
            assert_null(ae_vs_last_warning(vs));
            TT_OK(ae_vs_search(vs, q, DIM, P, M, 10, &exact, &e, &ne, &err));
            assert_int_equal(na, ne);
            for (size_t i = 0; i < na; i++) {
                assert_string_equal(a[i].symbol_id, e[i].symbol_id);
                assert_float_equal(a[i].score, e[i].score, 1e-5); /* re-rank vs scan rounding */
                if (pass == 1) assert_string_not_equal(a[i].symbol_id, "sym-000003");
            }
            free(a);
            free(e);
        }
    }
    ae_vs_close(vs);
    ae_table_set_index_min_rows(0);
    tt_rmrf(vdir);
    free(vdir);
}

/* A young handle's re-rank reads its rows with pread (ae_vec_source.read_row,
 * AE_TABLE_READ_ROWS_SEARCHES), an older one through the mapping: the copy is
 * every row's own bytes and inverse norm, rows outside the fragment are
 * refused, and the same query answers the same, bit for bit, either way. */
static void test_read_rows_equal_mapped(void **state)
{
    (void)state;
    char *vdir = tt_tmpdir();
    ae_table_set_index_min_rows(256);
    ae_error err;
    ae_vector_store *vs = NULL;
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    tt_fill_indexed(vs, P, M, DIM, 3, 1000, 17);
    ae_vs_close(vs);

    /* the source: reads for the first searches only, and the same values */
    ae_table *t = NULL;
    TT_OK(ae_table_open(vdir, P, M, DIM, 0, NULL, &t, &err));
    ae_vec_source src;
    float buf[DIM], inv = -1;
    for (int i = 0; i < AE_TABLE_READ_ROWS_SEARCHES; i++) {
        ae_table_vec_source_search(t, &src);
        assert_non_null(src.read_row);
    }
    for (size_t r = 0; r < src.n; r++) {
        assert_true(src.read_row(src.ctx, r, buf, &inv));
        assert_memory_equal(buf, src.row(src.ctx, r), sizeof buf);
        float mapped = src.inv_norm(src.ctx, r);
        assert_memory_equal(&inv, &mapped, sizeof inv);
    }
    assert_false(src.read_row(src.ctx, src.n, buf, &inv));
    ae_table_vec_source_search(t, &src);
    assert_null(src.read_row);
    ae_table_vec_source(t, &src); /* builds and the tuner: never */
    assert_null(src.read_row);
    ae_table_close(t);

    /* the store: query q read, then (after the young searches) mapped */
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    ae_vs_search_opts o = {.nprobe = 8, .refine_factor = 30};
    float q[DIM];
    ae_vs_hit *first = NULL, *later = NULL, *h = NULL;
    size_t n1 = 0, n2 = 0, nh = 0;
    tt_vec(5, 4242, q, DIM);
    TT_OK(ae_vs_search(vs, q, DIM, P, M, 10, &o, &first, &n1, &err));
    for (uint32_t i = 0; i < AE_TABLE_READ_ROWS_SEARCHES; i++) {
        float other[DIM];
        tt_vec(100 + i, 4242, other, DIM);
        TT_OK(ae_vs_search(vs, other, DIM, P, M, 10, &o, &h, &nh, &err));
        free(h);
    }
    TT_OK(ae_vs_search(vs, q, DIM, P, M, 10, &o, &later, &n2, &err));
    assert_int_equal(n1, 10);
    assert_int_equal(n1, n2);
    for (size_t i = 0; i < n1; i++) {
        assert_string_equal(first[i].symbol_id, later[i].symbol_id);
        assert_memory_equal(&first[i].score, &later[i].score, sizeof(float));
    }
    free(first);
    free(later);
    ae_vs_close(vs);
    ae_table_set_index_min_rows(0);
    tt_rmrf(vdir);
    free(vdir);
}

/* Opening an index whose file was evicted starts the reads of the sections
 * every query needs, all of them (a probe of the header's page, which open
 * itself reads, used to find it resident and ask for nothing: each page of
 * centroids then came in through its own fault). */
static void test_index_open_prefetch(void **state)
{
    (void)state;
    char *vdir = tt_tmpdir();
    ae_table_set_index_min_rows(256);
    ae_error err;
    ae_vector_store *vs = NULL;
    TT_OK(ae_vs_open_table(vdir, &vs, &err));
    tt_batch x = tt_make(P, M, DIM, 0, 6000, 17);
    TT_OK(ae_vs_upsert(vs, x.recs, x.n, &err));
    tt_free(&x);
    TT_OK(ae_tables_build_indexes(vs, true, &err));
    ae_vs_close(vs);
    ae_table *t = NULL;
    TT_OK(ae_table_open(vdir, P, M, DIM, 0, NULL, &t, &err));
    char *path = ae_table_index_path(t, NULL, NULL);
    assert_non_null(path);
    ae_table_close(t);
    /* a page of the batch that open itself does not read: inside the
     * codebooks, past the header's page, before the list offsets' page */
    ae_ivfpq *ix = NULL;
    TT_OK(ae_ivfpq_open(path, &ix, &err));
    size_t end =
        (size_t)(ix->sec_off[IVFPQ_SEC_CODEBOOKS] + ix->sec_size[IVFPQ_SEC_CODEBOOKS] / 2) + 1;
    size_t lists = (size_t)ix->sec_off[IVFPQ_SEC_LISTS], bytes = ix->map_bytes;
    ae_ivfpq_close(ix);
    assert_true((end - 1) / 4096 > 0 && (end - 1) / 4096 < lists / 4096);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    const uint8_t *own = mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(own != MAP_FAILED);
    int cold = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        evict(vdir);
        if (ae_pc_resident(own + end - 1)) continue; /* no page cache to drop here */
        cold++;
        TT_OK(ae_ivfpq_open(path, &ix, &err));
        /* open started the reads: they complete without a touch */
        bool done = false;
        for (int i = 0; i < 300 && !done; i++) {
            done = ae_pc_resident(own + end - 1);
            if (!done) usleep(10000);
        }
        assert_true(done);
        ae_ivfpq_close(ix);
    }
    munmap((void *)own, bytes);
    close(fd);
    print_message("index open prefetch: %d of 3 opens found the sections cold\n", cold);
    free(path);
    ae_table_set_index_min_rows(0);
    tt_rmrf(vdir);
    free(vdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_recorded_and_equal),
        cmocka_unit_test(test_manifest_without_layouts),
        cmocka_unit_test(test_bad_layouts),
        cmocka_unit_test(test_cold_query_equals_warm),
        cmocka_unit_test(test_index_stamp),
        cmocka_unit_test(test_measured_recall),
        cmocka_unit_test(test_row_lookup),
        cmocka_unit_test(test_index_search_live),
        cmocka_unit_test(test_index_open_prefetch),
        cmocka_unit_test(test_read_rows_equal_mapped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
