/* The native VectorStore backend (config value "lancedb"): one vector table
 * (src/vectors/table.h) per (provider, model, dim).
 *
 * 1. One table per (provider, model, dim), created on the first upsert of
 *    that key; search, count and iterate never create anything.
 * 2. Tables are opened lazily and cached; each read refreshes the table to
 *    the newest committed version first, so a long-lived reader (the MCP
 *    server) sees other processes' commits.  The writer lock of a table is
 *    taken at its first write and held until close, so read-only users never
 *    block or get blocked.
 * 3. Like the SQLite backend (symbol_id is its primary key), an upsert also
 *    removes the same ids from the other tables, so both backends hold the
 *    same rows.  That second step is a separate commit per table: a crash
 *    between the two can leave an id in an old model's table (a query of that
 *    old model would still find it), never lose the new row.
 * 4. Search goes through the table's IVF-PQ index when the table has one and
 *    at least ae_table_index_min_rows() live rows: lists probed over the
 *    rows the index covers, the rows appended since its build scanned
 *    exactly and merged (so a new symbol is found at once), deleted rows
 *    filtered by the table's live test.  The index file is mapped once per
 *    index the snapshot names and kept with the cached table; a new index in
 *    a newer snapshot is mapped on the next search.
 * 5. An index that fails its checks (open, size against the manifest, rows
 *    and dim against the table, the full verify for files up to
 *    AE_TABLE_INDEX_CHECK_ON_OPEN_BYTES whose identity is not the one their
 *    build recorded after verifying them) is never searched: the exact scan
 *    answers, and last_warning says why.  Wrong answers are not an option;
 *    slow ones are, until rebuild_index replaces the file.
 * 6. rebuild_index builds only what is due (table_index_policy.h): no index and
 *    enough rows, an unusable index, or more than AE_TABLE_REINDEX_PERCENT of
 *    the live rows (or more than the threshold's worth of rows) appended or
 *    deleted since the build.
 * 7. Threads: searches on one handle run concurrently, under the handle's
 *    read lock: the search only reads the snapshot, its mapped fragments and
 *    the mapped index; its scratch (query copy, lookup tables, heaps, hits)
 *    is allocated per call.  Under that same read lock it first checks that
 *    the cached table is current (search_ready: one stat of versions/, the
 *    index file its snapshot names is the one mapped, a filter's id map
 *    built), so it answers from one consistent snapshot.  Only when something
 *    changed does it take the write lock to bring the table up to date
 *    (search_prepare: the refresh, mapping a new index, building the id
 *    map), then the read lock again; if the table changed once more in
 *    between, or an index turned out bad while searching (note 5), the
 *    search runs under the write lock.  The staleness check writes nothing
 *    (ae_table_refresh_due): the refresh that follows it lists versions/
 *    again and records what it saw.  Every other operation (upsert, delete,
 *    builds, count, iterate, drops) holds the write lock throughout.
 *    last_warning is of the most recent search that set or cleared it.
 *    (Rejected: the refresh check under the write lock on every search, as
 *    before: a write lock waits for the other threads' searches, so two
 *    threads on one handle alternated on one core instead of using two.) */
#include <aether/vector_store.h>

#include "index/ivfpq.h"
#include "store/tables_admin.h"
#include "store/table_index_policy.h"
#include "store/table_tune.h"
#include "vectors/vs_validate.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"
#include "vectors/table.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WARNING_MAX (AE_ERROR_MESSAGE_MAX + 160)

/* A cached table and the index its snapshot names (4., 5.). */
typedef struct lance_tab {
    ae_table *t;
    ae_ivfpq *ix;     /* mapped and checked; NULL: search exactly */
    char *ix_path;    /* the index file ix (or the failed attempt) is of */
    char *ix_problem; /* why that file is not used, or NULL */
    uint64_t ix_gen;  /* the snapshot (ae_table_snapshot_gen) index_sync last
                         matched ix_path to; 0: not since the last change */
} lance_tab;

typedef struct lance_be {
    char *dir;
    lance_tab *tabs;
    size_t n, cap;
    char warning[WARNING_MAX]; /* of the last search; "" = none (warning_mu) */
    pthread_mutex_t warning_mu;
    pthread_rwlock_t rw;  /* note 7 */
    double target_recall; /* of this store's builds; 0: ae_table_target_recall() */
} lance_be;

/* --- the index of one table ------------------------------------------------ */

/* Process-global: set by tests and benchmarks, 0 = the default. */
static size_t index_min_rows_override;

void ae_table_set_index_min_rows(size_t rows)
{
    index_min_rows_override = rows;
}

static size_t build_budget_override;

void ae_table_set_index_build_budget(size_t bytes)
{
    build_budget_override = bytes;
}

size_t ae_table_index_build_budget(void)
{
    return build_budget_override ? build_budget_override : AE_IVFPQ_DEFAULT_BUILD_BUDGET;
}

static double target_recall_override;

void ae_table_set_target_recall(double target)
{
    target_recall_override = target;
}

double ae_table_target_recall(void)
{
    double v = target_recall_override > 0 ? target_recall_override : AE_TABLE_DEFAULT_TARGET_RECALL;
    return v < 0.5 ? 0.5 : v > 0.999 ? 0.999 : v;
}

size_t ae_table_index_min_rows(void)
{
    size_t v = index_min_rows_override ? index_min_rows_override : AE_IVFPQ_EXACT_BELOW_ROWS;
#ifdef AE_TESTING
    const char *e = getenv(AE_TABLE_INDEX_ENV);
    if (!index_min_rows_override && e && *e) {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(e, &end, 10);
        if (!errno && !*end) v = (size_t)x;
    }
#endif
    return v < AE_IVFPQ_MIN_ROWS ? AE_IVFPQ_MIN_ROWS : v;
}

static void index_drop(lance_tab *lt)
{
    ae_ivfpq_close(lt->ix);
    free(lt->ix_path);
    free(lt->ix_problem);
    lt->ix = NULL;
    lt->ix_path = lt->ix_problem = NULL;
    lt->ix_gen = 0;
}

/* The checks of note 5 that open does not do itself. */
static int index_check(ae_table *t, const ae_ivfpq *ix, const char *path, uint64_t rows,
                       ae_error *err)
{
    uint64_t size = ae_table_index_size(t);
    AE_RETURN_IF(ae_ivfpq_file_bytes(ix) != size, err, AE_ECORRUPT,
                 "%s: %zu bytes, the manifest says %llu", path, ae_ivfpq_file_bytes(ix),
                 (unsigned long long)size);
    AE_RETURN_IF(ae_ivfpq_dim(ix) != ae_table_dim(t), err, AE_ECORRUPT,
                 "%s: expected %u dimensions, not %u", path, (unsigned)ae_table_dim(t),
                 (unsigned)ae_ivfpq_dim(ix));
    AE_RETURN_IF(ae_ivfpq_rows_covered(ix) != rows || rows > ae_table_rows_total(t), err,
                 AE_ECORRUPT, "%s: covers %zu rows, the manifest says %llu of %zu", path,
                 ae_ivfpq_rows_covered(ix), (unsigned long long)rows, ae_table_rows_total(t));
    if (size <= AE_TABLE_INDEX_CHECK_ON_OPEN_BYTES && !ae_table_index_unchanged_since_verify(t))
        AE_TRY(ae_ivfpq_fsck(ix, err));
    return 0;
}

/* Makes lt->ix the index the table's snapshot names (mapped once per file). */
static void index_sync(lance_tab *lt)
{
    uint64_t covers, rows, gen = ae_table_snapshot_gen(lt->t);
    if (lt->ix_gen == gen) return;
    char *path = ae_table_index_path(lt->t, &covers, &rows);
    if (path && lt->ix_path && !strcmp(path, lt->ix_path)) {
        free(path);
        lt->ix_gen = gen;
        return;
    }
    index_drop(lt);
    lt->ix_gen = gen; /* set after the drop, which clears it */
    if (!path) return;
    lt->ix_path = path;
    ae_error e;
    ae_ivfpq *ix = NULL;
    int rc = ae_ivfpq_open(path, &ix, &e);
    if (rc == 0) rc = index_check(lt->t, ix, path, rows, &e);
    if (rc < 0) {
        ae_ivfpq_close(ix);
        lt->ix_problem = ae_strdup(e.message);
        return;
    }
    lt->ix = ix;
}

#ifdef AE_TESTING
/* AE_INDEX_PUBLISH_DELAY_MS (test builds, docs/TESTING.md): a pause between a build and its
 * publish, so the shell tests can commit rows while a long build runs. */
static void publish_delay_hook(void)
{
    const char *e = getenv("AE_INDEX_PUBLISH_DELAY_MS");
    long ms = e && *e ? strtol(e, NULL, 10) : 0;
    if (ms > 0) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
        }
    }
}
#endif

/* Builds an index over every row of the snapshot (deleted rows included:
 * the live test filters them, the next optimize drops them and rebuilds),
 * checks the file, publishes it with one commit, and maps it. */
static int index_build(lance_tab *lt, double target, ae_error *err)
{
    ae_table *t = lt->t;
    char *path = NULL;
    AE_TRY(ae_table_index_new_path(t, "ivfpq", &path, err));
    ae_vec_source src;
    ae_table_vec_source(t, &src);
    ae_table_advise_sequential(t, true); /* the build reads every row */
    ae_ivfpq_params params = {.mem_budget = ae_table_index_build_budget()};
    int rc = ae_ivfpq_build(&src, &params, path, err);
    ae_table_advise_sequential(t, false);
    ae_table_index_info info = {.verified = true};
    if (rc == 0) {
        ae_ivfpq *ix = NULL;
        rc = ae_ivfpq_open(path, &ix, err);
        if (rc == 0) rc = ae_ivfpq_fsck(ix, err);
        /* the recall it gives on the table's own rows, and the setting that
         * reaches the target (table_tune.h), recorded with the index */
        if (rc == 0) rc = ae_table_tune_index(t, ix, target, &info.tuned, err);
        ae_ivfpq_close(ix);
    }
#ifdef AE_TESTING
    publish_delay_hook();
#endif
    if (rc == 0) rc = ae_table_publish_index_ex(t, path, src.n, &info, err);
    if (rc < 0) unlink(path);
    free(path);
    if (rc == 0) index_sync(lt);
    return rc;
}

/* The index in use passed the full check in this process (index_check) but its manifest has
 * no stamp: published before stamps existed, or its file was touched or copied since.  A
 * writer records the stamp now, so later readers skip the check (one commit, same file). */
static int index_stamp(lance_tab *lt, ae_error *err)
{
    ae_table *t = lt->t;
    if (!lt->ix || ae_table_index_size(t) > AE_TABLE_INDEX_CHECK_ON_OPEN_BYTES ||
        ae_table_index_unchanged_since_verify(t))
        return 0;
    uint64_t rows = 0;
    char *path = ae_table_index_path(t, NULL, &rows);
    AE_RETURN_IF(!path, err, AE_ENOMEM, "out of memory");
    ae_table_index_info info = {.verified = true};
    ae_table_index_tuned(t, &info.tuned);
    int rc = ae_table_publish_index_ex(t, path, rows, &info, err);
    free(path);
    return rc;
}

/* Note 6: is a build due (with force: whenever the table is big enough)? */
static bool index_due(lance_tab *lt, bool force)
{
    ae_table *t = lt->t;
    size_t live = ae_table_rows_live(t), total = ae_table_rows_total(t);
    if (live < ae_table_index_min_rows()) return false;
    index_sync(lt);
    if (force || !lt->ix) return true;
    size_t stale = (total - ae_ivfpq_rows_covered(lt->ix)) + (total - live);
    return (double)stale * 100.0 > (double)live * AE_TABLE_REINDEX_PERCENT ||
           stale > ae_table_index_min_rows();
}

/* The index in use was tuned for another target than this store's (the
 * config's target_recall changed since its build), or never tuned: measure
 * it again for `target` and record the result (one commit, same file; the
 * verified stamp kept when the file still has its identity). */
static int index_retune(lance_tab *lt, double target, ae_error *err)
{
    ae_table *t = lt->t;
    ae_index_tuned tu;
    bool have = ae_table_index_tuned(t, &tu);
    if (!lt->ix || (have && tu.target == target) ||
        (!have && ae_table_rows_live(t) < AE_TABLE_TUNE_MIN_ROWS))
        return 0;
    uint64_t rows = 0;
    char *path = ae_table_index_path(t, NULL, &rows);
    AE_RETURN_IF(!path, err, AE_ENOMEM, "out of memory");
    ae_table_index_info info = {.verified = ae_table_index_unchanged_since_verify(t)};
    int rc = ae_table_tune_index(t, lt->ix, target, &info.tuned, err);
    if (rc == 0) rc = ae_table_publish_index_ex(t, path, rows, &info, err);
    free(path);
    return rc;
}

/* Builds when due; an index in use that is not due is retuned for a changed
 * target and gets its stamp. */
static int index_maintain(lance_tab *lt, bool force, double target, ae_error *err)
{
    if (ae_table_rows_live(lt->t) < ae_table_index_min_rows()) return 0;
    if (!index_due(lt, force)) {
        AE_TRY(index_retune(lt, target, err));
        return index_stamp(lt, err);
    }
    return index_build(lt, target, err);
}

/* --- the table cache ------------------------------------------------------- */

static lance_tab *cached(lance_be *b, const char *name)
{
    for (size_t i = 0; i < b->n; i++)
        if (!strcmp(ae_table_get_name(b->tabs[i].t), name)) return &b->tabs[i];
    return NULL;
}

static int cache_add(lance_be *b, ae_table *t, ae_error *err)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4;
        lance_tab *ts = ae_realloc_array(b->tabs, cap, sizeof *ts);
        if (!ts) {
            ae_table_close(t);
            return ae_fail(err, AE_ENOMEM, "out of memory");
        }
        b->tabs = ts;
        b->cap = cap;
    }
    b->tabs[b->n++] = (lance_tab){.t = t};
    return 0;
}

/* The table of a key, from the cache or opened (created if `create`). */
static int tab_for(lance_be *b, const char *provider, const char *model, uint32_t dim, int create,
                   lance_tab **out, ae_error *err)
{
    char name[AE_TABLE_NAME_MAX];
    ae_table_name(provider, model, dim, name);
    *out = cached(b, name);
    if (*out) return ae_table_refresh((*out)->t, err);
    ae_table *t = NULL;
    AE_TRY(ae_table_open(b->dir, provider, model, dim, create, NULL, &t, err));
    AE_TRY(cache_add(b, t, err));
    *out = &b->tabs[b->n - 1];
    return 0;
}

static int table_for(lance_be *b, const char *provider, const char *model, uint32_t dim, int create,
                     ae_table **out, ae_error *err)
{
    lance_tab *lt = NULL;
    int rc = tab_for(b, provider, model, dim, create, &lt, err);
    *out = lt ? lt->t : NULL;
    return rc;
}

/* Opens (and refreshes) every table of the directory into the cache. */
static int open_all(lance_be *b, ae_error *err)
{
    ae_strlist names = {0};
    AE_TRY(ae_tables_list(b->dir, &names, err));
    int rc = 0;
    for (size_t i = 0; i < names.len && rc == 0; i++) {
        lance_tab *lt = cached(b, names.items[i]);
        if (lt) {
            rc = ae_table_refresh(lt->t, err);
            continue;
        }
        ae_table *t = NULL;
        char *path = ae_path_join(b->dir, names.items[i]);
        if (!path) {
            rc = ae_fail(err, AE_ENOMEM, "out of memory");
            break;
        }
        rc = ae_table_open_dir(path, NULL, &t, err);
        free(path);
        if (rc == 0) rc = cache_add(b, t, err);
    }
    ae_strlist_free(&names);
    return rc;
}

static int same_key(const ae_vs_record *a, const ae_vs_record *c)
{
    return a->dim == c->dim && !strcmp(a->provider, c->provider) && !strcmp(a->model, c->model);
}

static int upsert_excl(void *be, const ae_vs_record *recs, size_t n, ae_error *err)
{
    lance_be *b = be;
    AE_TRY(ae_vs_validate_records(recs, n, err));
    if (n == 0) return 0;
    ae_vs_record *group = ae_calloc_array(n, sizeof *group);
    const char **ids = ae_calloc_array(n, sizeof *ids);
    char *done = calloc(n, 1);
    int rc = 0;
    if (!group || !ids || !done) AE_FAIL(err, AE_ENOMEM, "out of memory for %zu records", n);
    for (size_t i = 0; i < n; i++) {
        if (done[i]) continue;
        size_t g = 0;
        for (size_t j = i; j < n; j++) {
            if (done[j] || !same_key(&recs[i], &recs[j])) continue;
            group[g] = recs[j];
            ids[g++] = recs[j].symbol_id;
            done[j] = 1;
        }
        ae_table *t = NULL;
        AE_CHECK(table_for(b, recs[i].provider, recs[i].model, recs[i].dim, 1, &t, err));
        AE_CHECK(ae_table_upsert(t, group, g, err));
        /* the same ids leave every other table (see note 3) */
        AE_CHECK(open_all(b, err));
        for (size_t k = 0; k < b->n; k++) {
            if (b->tabs[k].t == t) continue;
            AE_CHECK(ae_table_delete(b->tabs[k].t, ids, g, NULL, err));
        }
    }
cleanup:
    free(group);
    free(ids);
    free(done);
    return rc;
}

static int delete_excl(void *be, const char *const *ids, size_t n, ae_error *err)
{
    lance_be *b = be;
    if (n == 0) return 0;
    AE_TRY(open_all(b, err));
    for (size_t i = 0; i < b->n; i++)
        AE_TRY(ae_table_delete(b->tabs[i].t, ids, n, NULL, err));
    return 0;
}

static int cmp_hit(const void *a, const void *c)
{
    const ae_vs_hit *x = a, *y = c;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return strcmp(x->symbol_id, y->symbol_id);
}

/* Extra candidates asked of the index, so that ties at the k-th score are
 * broken by symbol_id (the exact scan's order) rather than by row. */
#define TIE_EXTRA 8

/* Note 4: the index over the rows it covers, the exact scan over the rest. */
static int index_search(lance_tab *lt, const float *query, size_t limit,
                        const ae_vs_search_opts *opts, ae_row_live_fn live_fn, void *live_ctx,
                        size_t n_allowed, ae_vs_hit **hits, size_t *n_hits, ae_error *err)
{
    ae_table *t = lt->t;
    size_t live = ae_table_rows_live(t);
    if (n_allowed < live) live = n_allowed;
    size_t want = limit + TIE_EXTRA < live ? limit + TIE_EXTRA : live;
    ae_index_tuned tu;
    bool tuned = ae_table_index_tuned(t, &tu) && tu.nprobe > 0 && tu.refine > 0;
    uint32_t nprobe = opts && opts->nprobe > 0 ? (uint32_t)opts->nprobe : tuned ? tu.nprobe : 0;
    /* A filter keeping a fraction f of the rows: probe 1/f times as many
     * lists, so about as many allowed rows are scanned as without it. */
    if (n_allowed < ae_table_rows_live(t)) {
        uint64_t p = (uint64_t)(nprobe ? nprobe : AE_IVFPQ_DEFAULT_NPROBE) * ae_table_rows_live(t) /
                     (n_allowed ? n_allowed : 1);
        uint32_t nl = ae_ivfpq_nlist(lt->ix);
        nprobe = p > nl ? nl : (uint32_t)p;
    }
    uint32_t refine = ae_ivfpq_default_refine_m(ae_table_dim(t), ae_ivfpq_m(lt->ix));
    if (opts && opts->refine_factor > 0)
        refine = (uint32_t)opts->refine_factor;
    else if (tuned)
        refine = tu.refine;
    /* The re-rank depth is limit * refine, as asked: the TIE_EXTRA slots must
     * not multiply it (18 x 20 instead of 10 x 20 rows cost 0.3 ms at 1M). */
    if (want > limit && limit > 0) refine = (uint32_t)((limit * refine + want - 1) / want);
    if (refine < 1) refine = 1;
    if (refine > AE_IVFPQ_MAX_REFINE) refine = AE_IVFPQ_MAX_REFINE;
    ae_ivfpq_hit *h = ae_calloc_array(want ? want : 1, sizeof *h);
    ae_vs_hit *out = ae_calloc_array(want ? want : 1, sizeof *out);
    size_t nh = 0;
    int rc = 0;
    if (!h || !out) AE_FAIL(err, AE_ENOMEM, "out of memory for %zu hits", want);
    ae_vec_source src;
    ae_table_vec_source_search(t, &src);
    AE_CHECK(
        ae_ivfpq_search(lt->ix, &src, query, want, nprobe, refine, live_fn, live_ctx, h, &nh, err));
    /* h is best first: only the hits scoring at least the limit-th can be in
     * the answer (the extra ones break ties at that score), so only their
     * symbol_ids are read */
    if (nh > limit) {
        size_t cut = limit;
        while (cut < nh && h[cut].score == h[limit - 1].score)
            cut++;
        nh = cut;
    }
    if (nh) {
        uint64_t rows[64];
        size_t np = nh < 64 ? nh : 64;
        for (size_t i = 0; i < np; i++)
            rows[i] = h[i].row;
        ae_table_prefetch_ids(t, rows, np); /* cold: one batch of reads, not a fault per id */
    }
    for (size_t i = 0; i < nh; i++) {
        AE_CHECK(ae_table_row_symbol_id(t, (size_t)h[i].row, out[i].symbol_id, err));
        out[i].score = h[i].score;
    }
    qsort(out, nh, sizeof *out, cmp_hit);
    *hits = out;
    *n_hits = nh < limit ? nh : limit;
    out = NULL;
cleanup:
    free(h);
    free(out);
    return rc;
}

/* Row predicate of a filtered index search: live and in the allowed set. */
typedef struct allow_bits {
    ae_table *t;
    uint8_t *bits;
    size_t n;
} allow_bits;

static bool allowed_row(void *ctx, size_t row)
{
    const allow_bits *a = ctx;
    return row < a->n && (a->bits[row >> 3] >> (row & 7)) & 1 && ae_table_row_live(a->t, row);
}

/* The filter path (see ae_vs_search_opts): an exact scan of the allowed rows
 * when they are few or there is no index, else the index probed wider, then
 * the exact scan if the probe came back short. */
static int filtered_search(lance_tab *lt, const float *query, uint32_t dim, size_t limit,
                           const ae_vs_search_opts *opts, ae_vs_hit **hits, size_t *n_hits,
                           ae_error *err)
{
    ae_table *t = lt->t;
    uint64_t *rows = NULL;
    size_t n_rows = 0;
    AE_TRY(ae_table_rows_for_ids(t, opts->allow_ids, opts->n_allow, &rows, &n_rows, err));
    int rc = 0;
    allow_bits a = {t, NULL, ae_table_rows_total(t)};
    bool use_index = !opts->exact && n_rows > AE_VS_FILTER_EXACT_ROWS &&
                     ae_table_rows_live(t) >= ae_table_index_min_rows();
    if (use_index && lt->ix) { /* mapped by search_prepare (note 7) */
        a.bits = calloc(a.n / 8 + 1, 1);
        if (!a.bits) AE_FAIL(err, AE_ENOMEM, "out of memory for a %zu-row filter", a.n);
        for (size_t i = 0; i < n_rows; i++)
            a.bits[rows[i] >> 3] |= (uint8_t)(1u << (rows[i] & 7));
        ae_error e2;
        rc = index_search(lt, query, limit, opts, allowed_row, &a, n_rows, hits, n_hits, &e2);
        if (rc < 0 && rc != AE_ECORRUPT) {
            *err = e2;
            goto cleanup;
        }
        rc = 0;
        if (*n_hits >= (limit < n_rows ? limit : n_rows)) goto cleanup;
        free(*hits); /* short (or a corrupt index): the exact scan answers */
        *hits = NULL;
        *n_hits = 0;
    }
    rc = ae_table_search_rows(t, query, dim, limit, rows, n_rows, hits, n_hits, err);
cleanup:
    free(a.bits);
    free(rows);
    return rc;
}

static void set_warning(lance_be *b, const lance_tab *lt)
{
    pthread_mutex_lock(&b->warning_mu);
    if (!lt)
        b->warning[0] = '\0';
    else
        snprintf(b->warning, sizeof b->warning,
                 "vector index of table %s is unusable, exact scan used (rebuild with "
                 "--optimize): %s",
                 ae_table_get_name(lt->t), lt->ix_problem);
    pthread_mutex_unlock(&b->warning_mu);
}

/* The search proper, under the read lock (note 7) after search_ready: reads
 * the cached table and its mapped index, changes nothing of the handle.  An
 * index found bad while searching is returned in *bad (AE_ECORRUPT, its
 * message in err) for the caller to drop under the write lock. */
static int search_shared(lance_be *b, lance_tab *lt, const float *query, uint32_t dim, size_t limit,
                         const ae_vs_search_opts *opts, ae_vs_hit **hits, size_t *n_hits,
                         ae_ivfpq **bad, ae_error *err)
{
    ae_table *t = lt->t;
    if (opts && opts->allow_ids) {
        AE_TRY(ae_vs_validate_allow(opts, err));
        return filtered_search(lt, query, dim, limit, opts, hits, n_hits, err);
    }
    if ((opts && opts->exact) || ae_table_rows_live(t) < ae_table_index_min_rows())
        return ae_table_search(t, query, dim, limit, hits, n_hits, err);
    if (lt->ix) {
        /* a table without deleted rows needs no live test per candidate */
        ae_row_live_fn live =
            ae_table_rows_live(t) < ae_table_rows_total(t) ? ae_table_row_live : NULL;
        int rc = index_search(lt, query, limit, opts, live, t, SIZE_MAX, hits, n_hits, err);
        if (rc == AE_ECORRUPT) *bad = lt->ix;
        return rc;
    }
    if (lt->ix_problem) set_warning(b, lt);
    return ae_table_search(t, query, dim, limit, hits, n_hits, err);
}

/* Note 7, under the write lock: the cached table refreshed to the newest
 * version, the index its snapshot names mapped, a filter's id map built. */
static int search_prepare(lance_be *b, const char *provider, const char *model, uint32_t dim,
                          const ae_vs_search_opts *opts, lance_tab **out, ae_error *err)
{
    *out = NULL;
    lance_tab *lt = NULL;
    int rc = tab_for(b, provider, model, dim, 0, &lt, err);
    size_t live = rc == 0 ? ae_table_rows_live(lt->t) : 0;
    if (rc == 0 && live >= ae_table_index_min_rows() && !(opts && opts->exact)) index_sync(lt);
    if (rc == 0 && live && opts && opts->allow_ids) rc = ae_table_ensure_ids(lt->t, err);
    if (rc == AE_ENOTFOUND || (rc == 0 && live == 0))
        return ae_fail(err, AE_ENOTFOUND, "no vectors for provider %s, model %s, dim %u", provider,
                       model, (unsigned)dim);
    /* A file failing the cheap checks of open (magic, footer, lengths, a
     * deletion file's checksum): never answer from the rest as if whole. */
    if (rc == AE_ECORRUPT)
        return ae_err_prefix(err,
                             "vector table for %s/%s is damaged (aetherd --fsck names the files, "
                             "aetherd --repair rewrites them): ",
                             provider, model);
    if (rc == 0) *out = lt;
    return rc;
}

/* Note 7, under the read lock: whether lt answers this search as it is --
 * nothing to refresh (checked when `fresh` is false: one stat), the index its
 * snapshot names mapped, a filter's id map built.  Changes nothing. */
static bool search_ready(const lance_tab *lt, const ae_vs_search_opts *opts, bool fresh)
{
    ae_table *t = lt->t;
    size_t live = ae_table_rows_live(t);
    if (live == 0 || (!fresh && ae_table_refresh_due(t))) return false;
    /* the index its snapshot names is mapped: index_sync matched it to this
     * very snapshot (a number compared, not a path built per search) */
    if (live >= ae_table_index_min_rows() && !(opts && opts->exact) &&
        lt->ix_gen != ae_table_snapshot_gen(t))
        return false;
    return !(opts && opts->allow_ids && !ae_table_ids_ready(t));
}

/* Note 5: an index found bad while searching is never used again for its file. */
static void index_forget(lance_tab *lt, const ae_error *why)
{
    ae_ivfpq_close(lt->ix);
    lt->ix = NULL;
    free(lt->ix_problem);
    lt->ix_problem = ae_strdup(why->message);
}

static int lance_search(void *be, const float *query, uint32_t dim, const char *provider,
                        const char *model, size_t limit, const ae_vs_search_opts *opts,
                        ae_vs_hit **hits, size_t *n_hits, ae_error *err)
{
    lance_be *b = be;
    *hits = NULL;
    *n_hits = 0;
    set_warning(b, NULL);
    AE_TRY(ae_vs_validate_query(query, dim, provider, model, err));
    char name[AE_TABLE_NAME_MAX];
    ae_table_name(provider, model, dim, name);
    ae_ivfpq *bad = NULL;
    ae_error e2;
    lance_tab *lt = NULL;
    int rc = 0;
    /* note 7: the search under the read lock, beside other threads' searches,
     * when the cached table is current; else the write lock to bring it up to
     * date, and the read lock again (the table may have changed meanwhile:
     * then the exclusive path below answers) */
    for (int pass = 0; pass < 2; pass++) {
        pthread_rwlock_rdlock(&b->rw);
        lt = cached(b, name);
        bool ready = lt && search_ready(lt, opts, pass == 1);
        if (ready && limit)
            rc = search_shared(b, lt, query, dim, limit, opts, hits, n_hits, &bad, &e2);
        pthread_rwlock_unlock(&b->rw);
        if (ready && !bad) {
            if (rc < 0) *err = e2;
            return rc;
        }
        if (bad || pass == 1) break;
        pthread_rwlock_wrlock(&b->rw);
        rc = search_prepare(b, provider, model, dim, opts, &lt, err);
        pthread_rwlock_unlock(&b->rw);
        if (rc < 0) return rc;
        if (limit == 0) return 0;
    }
    /* the rare exclusive path: the table changed again between the two
     * locks, or an index found bad while searching (dropped for good, note 5;
     * the exact scan answers) */
    pthread_rwlock_wrlock(&b->rw);
    rc = search_prepare(b, provider, model, dim, opts, &lt, err);
    if (rc == 0 && bad && lt->ix == bad) index_forget(lt, &e2);
    for (int i = 0; rc == 0 && limit && i < 2; i++) {
        bad = NULL;
        rc = search_shared(b, lt, query, dim, limit, opts, hits, n_hits, &bad, &e2);
        if (!bad) {
            if (rc < 0) *err = e2;
            break;
        }
        index_forget(lt, &e2); /* then the exact scan answers */
    }
    pthread_rwlock_unlock(&b->rw);
    return rc;
}

/* The target of b's builds. */
static double store_target(const lance_be *b)
{
    return b->target_recall > 0 ? b->target_recall : ae_table_target_recall();
}

static int rebuild_index_excl(void *be, ae_error *err)
{
    lance_be *b = be;
    AE_TRY(open_all(b, err));
    for (size_t i = 0; i < b->n; i++)
        AE_TRY(index_maintain(&b->tabs[i], false, store_target(b), err));
    return 0;
}

static const char *lance_last_warning(void *be)
{
    lance_be *b = be;
    pthread_mutex_lock(&b->warning_mu);
    const char *w = b->warning[0] ? b->warning : NULL;
    pthread_mutex_unlock(&b->warning_mu);
    return w;
}

static int count_excl(void *be, const char *provider, const char *model, size_t *out, ae_error *err)
{
    lance_be *b = be;
    *out = 0;
    AE_TRY(open_all(b, err));
    for (size_t i = 0; i < b->n; i++) {
        ae_table *t = b->tabs[i].t;
        if (provider && strcmp(provider, ae_table_provider(t))) continue;
        if (model && strcmp(model, ae_table_model(t))) continue;
        *out += ae_table_rows_live(t);
    }
    return 0;
}

static int iterate_excl(void *be, ae_vs_row_fn fn, void *ctx, ae_error *err)
{
    lance_be *b = be;
    AE_TRY(open_all(b, err));
    for (size_t i = 0; i < b->n; i++) {
        int rc = ae_table_iterate(b->tabs[i].t, fn, ctx, err);
        if (rc) return rc;
    }
    return 0;
}

/* Closes table i, takes it out of the cache and drops its directory. */
static int drop_table_at(lance_be *b, size_t i, ae_error *err)
{
    char name[AE_TABLE_NAME_MAX];
    snprintf(name, sizeof name, "%s", ae_table_get_name(b->tabs[i].t));
    index_drop(&b->tabs[i]);
    ae_table_close(b->tabs[i].t);
    memmove(&b->tabs[i], &b->tabs[i + 1], (b->n - i - 1) * sizeof *b->tabs);
    b->n--;
    return ae_table_drop(b->dir, name, err);
}

/* Closes and drops the tables of provider's other models (one commit each:
 * ae_table_drop renames a table away atomically, then deletes it). */
static int drop_models_except_excl(void *be, const char *provider, const char *keep_model,
                                   size_t *dropped, ae_error *err)
{
    lance_be *b = be;
    AE_TRY(open_all(b, err));
    size_t i = 0;
    while (i < b->n) {
        ae_table *t = b->tabs[i].t;
        if (strcmp(provider, ae_table_provider(t)) || !strcmp(keep_model, ae_table_model(t))) {
            i++;
            continue;
        }
        AE_TRY(drop_table_at(b, i, err));
        (*dropped)++;
    }
    return 0;
}

static int drop_empty_except_excl(void *be, const char *keep_provider, const char *keep_model,
                                  size_t *dropped, ae_error *err)
{
    lance_be *b = be;
    AE_TRY(open_all(b, err));
    size_t i = 0;
    while (i < b->n) {
        ae_table *t = b->tabs[i].t;
        AE_TRY(ae_table_refresh(t, err));
        bool keep = (!strcmp(keep_provider, ae_table_provider(t)) &&
                     !strcmp(keep_model, ae_table_model(t))) ||
                    ae_table_rows_live(t) > 0;
        if (keep) {
            i++;
            continue;
        }
        AE_TRY(drop_table_at(b, i, err));
        (*dropped)++;
    }
    return 0;
}

static void lance_close(void *be)
{
    lance_be *b = be;
    if (!b) return;
    for (size_t i = 0; i < b->n; i++) {
        index_drop(&b->tabs[i]);
        ae_table_close(b->tabs[i].t);
    }
    free(b->tabs);
    free(b->dir);
    pthread_rwlock_destroy(&b->rw);
    pthread_mutex_destroy(&b->warning_mu);
    free(b);
}

static void lance_release_locks(void *be)
{
    lance_be *b = be;
    if (!b) return;
    pthread_rwlock_wrlock(&b->rw);
    for (size_t i = 0; i < b->n; i++)
        ae_table_unlock(b->tabs[i].t);
    pthread_rwlock_unlock(&b->rw);
}

/* --- every operation but search holds the write lock (note 7) ----------- */

static int lance_upsert(void *be, const ae_vs_record *recs, size_t n, ae_error *err)
{
    lance_be *b = be;
    pthread_rwlock_wrlock(&b->rw);
    int rc = upsert_excl(be, recs, n, err);
    pthread_rwlock_unlock(&b->rw);
    return rc;
}

static int lance_delete(void *be, const char *const *ids, size_t n, ae_error *err)
{
    lance_be *b = be;
    pthread_rwlock_wrlock(&b->rw);
    int rc = delete_excl(be, ids, n, err);
    pthread_rwlock_unlock(&b->rw);
    return rc;
}

static int lance_rebuild_index(void *be, ae_error *err)
{
    lance_be *b = be;
    pthread_rwlock_wrlock(&b->rw);
    int rc = rebuild_index_excl(be, err);
    pthread_rwlock_unlock(&b->rw);
    return rc;
}

static int lance_count(void *be, const char *provider, const char *model, size_t *out,
                       ae_error *err)
{
    lance_be *b = be;
    pthread_rwlock_wrlock(&b->rw);
    int rc = count_excl(be, provider, model, out, err);
    pthread_rwlock_unlock(&b->rw);
    return rc;
}

static int lance_iterate(void *be, ae_vs_row_fn fn, void *ctx, ae_error *err)
{
    lance_be *b = be;
    pthread_rwlock_wrlock(&b->rw);
    int rc = iterate_excl(be, fn, ctx, err);
    pthread_rwlock_unlock(&b->rw);
    return rc;
}

static int lance_drop_models_except(void *be, const char *provider, const char *keep_model,
                                    size_t *dropped, ae_error *err)
{
    lance_be *b = be;
    pthread_rwlock_wrlock(&b->rw);
    int rc = drop_models_except_excl(be, provider, keep_model, dropped, err);
    pthread_rwlock_unlock(&b->rw);
    return rc;
}

static int lance_drop_empty_except(void *be, const char *keep_provider, const char *keep_model,
                                   size_t *dropped, ae_error *err)
{
    lance_be *b = be;
    pthread_rwlock_wrlock(&b->rw);
    int rc = drop_empty_except_excl(be, keep_provider, keep_model, dropped, err);
    pthread_rwlock_unlock(&b->rw);
    return rc;
}

static const ae_vector_store_ops lance_ops = {
    .name = "lancedb",
    .upsert = lance_upsert,
    .delete_ids = lance_delete,
    .search_nearest = lance_search,
    .rebuild_index = lance_rebuild_index,
    .count = lance_count,
    .iterate = lance_iterate,
    .close = lance_close,
    .last_warning = lance_last_warning,
    .drop_models_except = lance_drop_models_except,
    .drop_empty_except = lance_drop_empty_except,
    .release_locks = lance_release_locks,
};

int ae_tables_build_indexes(ae_vector_store *vs, bool force, ae_error *err)
{
    AE_RETURN_IF(!vs || vs->ops != &lance_ops, err, AE_EINVAL,
                 "index builds need the lancedb vector backend");
    lance_be *b = vs->backend;
    pthread_rwlock_wrlock(&b->rw);
    int rc = open_all(b, err);
    for (size_t i = 0; rc == 0 && i < b->n; i++)
        rc = index_maintain(&b->tabs[i], force, store_target(b), err);
    pthread_rwlock_unlock(&b->rw);
    return rc;
}

int ae_tables_set_target_recall(ae_vector_store *vs, double target, ae_error *err)
{
    AE_RETURN_IF(!vs || vs->ops != &lance_ops, err, AE_EINVAL,
                 "a target recall needs the lancedb vector backend");
    /* written so that NaN fails too */
    AE_RETURN_IF(!(target > 0 && target < 1), err, AE_EINVAL, "target recall %g is outside (0, 1)",
                 target);
    lance_be *b = vs->backend;
    pthread_rwlock_wrlock(&b->rw);
    b->target_recall = target;
    pthread_rwlock_unlock(&b->rw);
    return 0;
}

int ae_tables_index_due(ae_vector_store *vs, bool *due, ae_error *err)
{
    *due = false;
    AE_RETURN_IF(!vs || vs->ops != &lance_ops, err, AE_EINVAL,
                 "index builds need the lancedb vector backend");
    lance_be *b = vs->backend;
    pthread_rwlock_wrlock(&b->rw);
    int rc = open_all(b, err);
    for (size_t i = 0; rc == 0 && i < b->n && !*due; i++)
        *due = index_due(&b->tabs[i], false);
    pthread_rwlock_unlock(&b->rw);
    return rc;
}

int ae_vs_open_table(const char *vectors_dir, ae_vector_store **out, ae_error *err)
{
    *out = NULL;
    AE_RETURN_IF(!vectors_dir || !*vectors_dir, err, AE_EINVAL, "no vectors directory given");
    AE_RETURN_IF(ae_path_exists(vectors_dir) && !ae_is_dir(vectors_dir), err, AE_EINVAL,
                 "%s is not a directory", vectors_dir);
    lance_be *b = calloc(1, sizeof *b);
    ae_vector_store *vs = malloc(sizeof *vs);
    if (!b || !vs || !(b->dir = ae_strdup(vectors_dir))) {
        free(b ? b->dir : NULL);
        free(b);
        free(vs);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    pthread_rwlock_init(&b->rw, NULL);
    pthread_mutex_init(&b->warning_mu, NULL);
    vs->ops = &lance_ops;
    vs->backend = b;
    *out = vs;
    return 0;
}

/* --- administration (tables_admin.h) ------------------------------------- */

typedef struct status_acc {
    ae_table_status *st;
    size_t n;
} status_acc;

static int status_one(ae_table **t, void *ctx, ae_error *err)
{
    status_acc *a = ctx;
    ae_table_status *st = ae_realloc_array(a->st, a->n + 1, sizeof *st);
    if (!st) return ae_fail(err, AE_ENOMEM, "out of memory");
    a->st = st;
    memset(&st[a->n], 0, sizeof *st);
    AE_TRY(ae_table_status_get(*t, &st[a->n], err));
    a->n++;
    return 0;
}

int ae_tables_status(const char *vectors_dir, ae_table_status **out, size_t *n, ae_error *err)
{
    *out = NULL;
    *n = 0;
    status_acc a = {0};
    int rc = ae_tables_each(vectors_dir, NULL, status_one, &a, err);
    if (rc == 0 && !a.st && !(a.st = ae_calloc_array(1, sizeof *a.st)))
        rc = ae_fail(err, AE_ENOMEM, "out of memory");
    if (rc < 0) {
        free(a.st);
        return rc;
    }
    *out = a.st;
    *n = a.n;
    return 0;
}

static int optimize_one(ae_table **t, void *ctx, ae_error *err)
{
    (void)ctx;
    int rc = ae_table_optimize(*t, err);
    /* compaction renumbered the rows and cleared the index slot; built for the
     * process's target (a workspace's own store retunes it for its config at
     * its next index pass: index_retune) */
    lance_tab lt = {.t = *t};
    if (rc == 0) rc = index_maintain(&lt, false, ae_table_target_recall(), err);
    index_drop(&lt);
    return rc;
}

int ae_tables_optimize(const char *vectors_dir, const ae_table_opts *opts, ae_error *err)
{
    return ae_tables_each(vectors_dir, opts, optimize_one, NULL, err);
}

int ae_tables_fsck(const char *vectors_dir, ae_tables_fsck_report **out, size_t *n,
                   size_t *problems, ae_error *err)
{
    *out = NULL;
    *n = 0;
    if (problems) *problems = 0;
    ae_strlist names = {0};
    AE_TRY(ae_tables_list(vectors_dir, &names, err));
    ae_tables_fsck_report *r = ae_calloc_array(names.len + 1, sizeof *r);
    int rc = 0;
    size_t done = 0;
    if (!r) AE_FAIL(err, AE_ENOMEM, "out of memory");
    for (; done < names.len; done++) {
        char *path = ae_path_join(vectors_dir, names.items[done]);
        if (!path) AE_FAIL(err, AE_ENOMEM, "out of memory");
        snprintf(r[done].name, sizeof r[done].name, "%s", names.items[done]);
        rc = ae_table_fsck(path, &r[done].report, err);
        free(path);
        if (rc < 0) goto cleanup;
        if (problems) *problems += r[done].report.n_problems;
    }
    *out = r;
    *n = done;
    r = NULL;
cleanup:
    if (r) ae_tables_fsck_free(r, done);
    ae_strlist_free(&names);
    return rc;
}

void ae_tables_fsck_free(ae_tables_fsck_report *r, size_t n)
{
    if (!r) return;
    for (size_t i = 0; i < n; i++)
        ae_table_fsck_report_free(&r[i].report);
    free(r);
}

/* --- index state (table_index_policy.h) ---------------------------------------- */

static void describe(lance_tab *lt, char *out, size_t cap)
{
    ae_table *t = lt->t;
    size_t live = ae_table_rows_live(t), total = ae_table_rows_total(t);
    size_t min = ae_table_index_min_rows();
    index_sync(lt);
    if (lt->ix) {
        size_t covered = ae_ivfpq_rows_covered(lt->ix);
        ae_index_tuned tu;
        char rec[128] = "";
        if (ae_table_index_tuned(t, &tu))
            snprintf(rec, sizeof rec,
                     ", recall@%u %.3f at nprobe %u / refine %u (measured on %u rows)", tu.k,
                     tu.recall, tu.nprobe, tu.refine, tu.sample);
        snprintf(out, cap, "ivfpq nlist=%u, rows covered %zu, unindexed %zu%s%s",
                 (unsigned)ae_ivfpq_nlist(lt->ix), covered, total - covered, rec,
                 live < min ? " (exact below the threshold)" : "");
    } else if (lt->ix_problem) {
        snprintf(out, cap, "exact (index unusable: %s)", lt->ix_problem);
    } else if (live < min) {
        snprintf(out, cap, "exact (%zu rows, index from %zu)", live, min);
    } else {
        snprintf(out, cap, "exact (no index yet, %zu rows)", live);
    }
}

typedef struct largest {
    const char *provider, *model;
    ae_table *best;
} largest;

/* Keeps the table of (provider, model) with the most live rows. */
static int keep_largest(ae_table **t, void *ctx, ae_error *err)
{
    (void)err;
    largest *l = ctx;
    bool match = (!l->provider || !*l->provider || !strcmp(l->provider, ae_table_provider(*t))) &&
                 (!l->model || !*l->model || !strcmp(l->model, ae_table_model(*t)));
    if (match && ae_table_rows_live(*t) > 0 &&
        (!l->best || ae_table_rows_live(*t) > ae_table_rows_live(l->best))) {
        ae_table_close(l->best);
        l->best = *t;
        *t = NULL;
    }
    return 0;
}

int ae_table_index_state(const char *vectors_dir, const char *provider, const char *model,
                         char *out, size_t cap, ae_error *err)
{
    snprintf(out, cap, "no vectors");
    largest l = {provider, model, NULL};
    int rc = ae_tables_each(vectors_dir, NULL, keep_largest, &l, err);
    lance_tab best = {.t = l.best};
    if (rc == 0 && best.t) describe(&best, out, cap);
    index_drop(&best);
    ae_table_close(best.t);
    return rc;
}
