/* Compaction (optimize) and cleanup of old versions.
 *
 * 1. Compaction copies the live rows, in table order, into new fragments of
 *    at most opts.fragment_rows rows (default: 256 MiB of vectors each), so
 *    memory stays bounded by one output fragment; then one commit replaces
 *    every fragment and drops every deletion file (and the index slot, whose
 *    row numbers no longer hold).
 * 2. Cleanup keeps the newest keep_versions valid manifests and every manifest
 *    younger than retention_ms, and removes the other manifests, then every
 *    file in data/, deletions/, index/ that no kept manifest names, and stale
 *    versions/.tmp-* files.  Corrupt manifests are left for verify to report.
 * 3. A reader that already loaded a snapshot keeps its mmaps and its deletion
 *    bitmaps in memory, so removing files under it is harmless; the window
 *    only protects readers between reading a manifest and opening its files,
 *    and those retry from the newest version anyway (snapshot.c).
 * 4. Both run under the writer lock; their I/O is the "compact" phase.
 * 5. After each upsert, a size-tiered merge keeps the fragment count low
 *    without rewriting the table: when the last AE_TABLE_MERGE_FANIN
 *    fragments are of one tier (floor(log16(live rows))) they become one
 *    fragment of the next tier.  Only the tail is merged, so row numbers an
 *    IVF-PQ index covers never move; full compaction is left to optimize. */
#include "vectors/table_internal.h"

#include "util/clock.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"
#include "vectors/io.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { DEFAULT_FRAGMENT_BYTES = 256 << 20 };

/* One output fragment being gathered: string arena + offsets. */
typedef struct chunk {
    size_t n, cap;
    uint32_t dim;
    ae_buf arena;
    size_t *offs; /* 4 per row: id, hash, provider, model */
    const char **ptrs;
    float *emb;
    int64_t *updated;
} chunk;

static void chunk_free(chunk *c)
{
    ae_buf_free(&c->arena);
    free(c->offs);
    free(c->ptrs);
    free(c->emb);
    free(c->updated);
}

static int chunk_init(chunk *c, size_t cap, uint32_t dim)
{
    memset(c, 0, sizeof *c);
    c->cap = cap;
    c->dim = dim;
    c->offs = ae_calloc_array(cap, 4 * sizeof *c->offs);
    c->ptrs = ae_calloc_array(cap, 4 * sizeof *c->ptrs);
    c->emb = ae_calloc_array(cap, (size_t)dim * sizeof(float));
    c->updated = ae_calloc_array(cap, sizeof *c->updated);
    return c->offs && c->ptrs && c->emb && c->updated ? 0 : AE_ENOMEM;
}

static int add_str(chunk *c, int (*get)(const ae_fragment *, size_t, const char **, size_t *),
                   const ae_fragment *f, size_t row, size_t *off)
{
    const char *s;
    size_t len;
    int rc = get(f, row, &s, &len);
    if (rc < 0) return rc;
    *off = c->arena.len;
    if (ae_buf_append(&c->arena, s, len) < 0 || ae_buf_append(&c->arena, "\0", 1) < 0)
        return AE_ENOMEM;
    return 0;
}

static int chunk_add(chunk *c, const snap_frag *sf, size_t row)
{
    size_t *o = &c->offs[4 * c->n];
    int rc;
    if ((rc = add_str(c, ae_fragment_symbol_id, sf->frag, row, &o[0])) < 0 ||
        (rc = add_str(c, ae_fragment_sir_hash, sf->frag, row, &o[1])) < 0 ||
        (rc = add_str(c, ae_fragment_provider, sf->frag, row, &o[2])) < 0 ||
        (rc = add_str(c, ae_fragment_model, sf->frag, row, &o[3])) < 0)
        return rc;
    memcpy(c->emb + c->n * c->dim, ae_fragment_vectors(sf->frag) + row * c->dim,
           (size_t)c->dim * sizeof(float));
    c->updated[c->n] = ae_fragment_updated_at(sf->frag, row);
    c->n++;
    return 0;
}

static ae_fragment_rows chunk_rows(chunk *c)
{
    const char **cols = c->ptrs; /* column k of row i at cols[k * n + i] */
    for (size_t i = 0; i < c->n; i++)
        for (size_t k = 0; k < 4; k++)
            cols[k * c->n + i] = c->arena.data + c->offs[4 * i + k];
    ae_fragment_rows r = {c->n,   c->dim,     cols, cols + c->n, cols + 2 * c->n, cols + 3 * c->n,
                          c->emb, c->updated, NULL};
    return r;
}

static bool needs_compaction(const snapshot *s, size_t target)
{
    if (s->rows_live != s->rows_total) return true;
    size_t want = (s->rows_live + target - 1) / target;
    return s->m.n_fragments > want;
}

static size_t target_rows(const ae_table *t)
{
    size_t target = t->opts.fragment_rows;
    if (target == AE_TABLE_DEFAULT_FRAGMENT_ROWS) {
        size_t by_bytes = DEFAULT_FRAGMENT_BYTES / ((size_t)t->dim * sizeof(float));
        if (by_bytes < target) target = by_bytes ? by_bytes : 1;
    }
    return target;
}

/* Rewrites the live rows of fragments [from, n) into fragments of at most
 * `target` rows and commits them in place of the old ones. */
static int merge_range(ae_table *t, size_t from, size_t target, ae_error *err)
{
    const snapshot *s = t->snap;
    size_t live = 0;
    for (size_t f = from; f < s->m.n_fragments; f++)
        live += s->frags[f].rows - s->frags[f].n_del;
    size_t n_out = (live + target - 1) / target;
    ae_manifest_fragment *written = ae_calloc_array(n_out + 1, sizeof *written);
    if (!written) return ae_fail(err, AE_ENOMEM, "out of memory");
    size_t n_written = 0;
    uint64_t next_id = s->m.next_fragment_id;
    char token[9];
    commit_token(token);
    chunk c;
    int rc = 0;
    size_t cap = live < target ? live : target;
    if (chunk_init(&c, cap ? cap : 1, t->dim) < 0)
        AE_FAIL(err, AE_ENOMEM, "out of memory for a fragment of %zu rows", cap);
    snapshot_advise(s, from, true); /* one pass over every row */
    for (size_t f = from; f < s->m.n_fragments; f++) {
        const snap_frag *sf = &s->frags[f];
        for (size_t r = 0; r < sf->rows; r++) {
            if (snap_row_deleted(sf, r)) continue;
            if (chunk_add(&c, sf, r) < 0)
                AE_FAIL(err, AE_ECORRUPT, "%s: unreadable row %zu", s->m.fragments[f].data.file, r);
            if (c.n < c.cap) continue;
            ae_fragment_rows fr = chunk_rows(&c);
            AE_CHECK(commit_write_fragment(t, token, next_id++, &fr, &written[n_written], err));
            n_written++;
            c.n = 0;
            c.arena.len = 0;
        }
    }
    if (c.n) {
        ae_fragment_rows fr = chunk_rows(&c);
        AE_CHECK(commit_write_fragment(t, token, next_id++, &fr, &written[n_written], err));
        n_written++;
    }
    snapshot_advise(s, from, false);
    commit_plan plan = {.replace = true,
                        .replace_from = from,
                        .written = written,
                        .n_written = n_written,
                        .next_fragment_id = next_id};
    rc = commit_apply(t, &plan, err);
cleanup:
    if (rc < 0 && !t->fatal) {
        /* unpublished: the new fragments are orphans (C7) */
        for (size_t i = 0; i < n_written; i++) {
            char *p = ae_path_join(t->dir, written[i].data.file);
            if (p) vio_unlink(p, NULL);
            free(p);
        }
    }
    for (size_t i = 0; i < n_written; i++)
        free(written[i].data.file);
    free(written);
    chunk_free(&c);
    return rc;
}

static int compact(ae_table *t, ae_error *err)
{
    size_t target = target_rows(t);
    if (!needs_compaction(t->snap, target)) return 0;
    return merge_range(t, 0, target, err);
}

/* Size tier of a fragment: floor(log16(live rows)). */
static unsigned tier(const snap_frag *f)
{
    size_t live = f->rows - f->n_del;
    unsigned k = 0;
    while (live >= AE_TABLE_MERGE_FANIN) {
        live /= AE_TABLE_MERGE_FANIN;
        k++;
    }
    return k;
}

static int cleanup_incremental(ae_table *t, ae_error *err);

void compact_after_append(ae_table *t)
{
    size_t target = target_rows(t);
    for (int round = 0; round < 8; round++) {
        const snapshot *s = t->snap;
        size_t n = s->m.n_fragments;
        if (n < AE_TABLE_MERGE_FANIN) break;
        size_t from = n - AE_TABLE_MERGE_FANIN, live = 0;
        unsigned k = tier(&s->frags[n - 1]);
        bool same = true;
        for (size_t f = from; f < n; f++) {
            same = same && tier(&s->frags[f]) == k;
            live += s->frags[f].rows - s->frags[f].n_del;
        }
        /* merging rows an index covers would move them: leave those alone */
        if (!same || live > target || s->frags[from].base < s->m.index.rows) break;
        vio_phase_begin("compact");
        int rc = merge_range(t, from, target, NULL);
        vio_phase_end();
        if (rc < 0) break;
    }
    if (!t->fatal && t->snap->m.version % AE_TABLE_CLEANUP_EVERY == 0) {
        vio_phase_begin("compact");
        cleanup_incremental(t, NULL);
        vio_phase_end();
    }
}

/* --- cleanup --------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* keep is sorted */
static bool referenced(const ae_strlist *keep, const char *rel)
{
    return keep->len && bsearch(&rel, keep->items, keep->len, sizeof *keep->items, cmp_str);
}

static int keep_files(const ae_manifest *m, ae_strlist *keep)
{
    for (size_t i = 0; i < m->n_fragments; i++) {
        if (ae_strlist_push(keep, m->fragments[i].data.file) < 0) return AE_ENOMEM;
        if (m->fragments[i].deletion.file &&
            ae_strlist_push(keep, m->fragments[i].deletion.file) < 0)
            return AE_ENOMEM;
    }
    if (m->index.ref.file && ae_strlist_push(keep, m->index.ref.file) < 0) return AE_ENOMEM;
    return 0;
}

static bool young(const ae_table *t, const char *rel)
{
    char *p = ae_path_join(t->dir, rel);
    struct stat st;
    bool y = p && stat(p, &st) == 0 &&
             (int64_t)st.st_mtime * 1000 > ae_now_ms() - AE_TABLE_INDEX_GRACE_MS;
    free(p);
    return y;
}

/* Removes files of sub/ that no kept manifest names (and temp files). */
static int sweep_ex(ae_table *t, const char *sub, const ae_strlist *keep, bool grace,
                    size_t *removed, ae_error *err);

static int sweep(ae_table *t, const char *sub, const ae_strlist *keep, size_t *removed,
                 ae_error *err)
{
    return sweep_ex(t, sub, keep, true, removed, err);
}

/* grace false: the caller knows no build of this table runs anywhere (see
 * ae_table_sweep_index_orphans), so a young unreferenced index file is an orphan too. */
static int sweep_ex(ae_table *t, const char *sub, const ae_strlist *keep, bool grace,
                    size_t *removed, ae_error *err)
{
    char *dir = ae_path_join(t->dir, sub);
    if (!dir) return ae_fail(err, AE_ENOMEM, "out of memory");
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        free(dir);
        return e == ENOENT ? 0 : ae_fail_errno(err, e, "open %s/%s", t->dir, sub);
    }
    int rc = 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && rc == 0) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        uint64_t v;
        bool is_versions = !strcmp(sub, "versions");
        if (is_versions && (manifest_parse_name(de->d_name, &v) || strncmp(de->d_name, ".tmp-", 5)))
            continue; /* manifests are handled by the caller; unknown names kept */
        char *rel = ae_asprintf("%s/%s", sub, de->d_name);
        if (!rel) {
            rc = ae_fail(err, AE_ENOMEM, "out of memory");
            break;
        }
        if (grace && !is_versions && !referenced(keep, rel) && !strcmp(sub, "index") &&
            young(t, rel)) {
            free(rel); /* maybe an index being built: see AE_TABLE_INDEX_GRACE_MS */
            continue;
        }
        if (is_versions || !referenced(keep, rel)) {
            char *p = ae_path_join(t->dir, rel);
            rc = p ? vio_unlink(p, err) : ae_fail(err, AE_ENOMEM, "out of memory");
            free(p);
            n++;
        }
        free(rel);
    }
    closedir(d);
    if (rc == 0 && n) rc = vio_fsync_dir(dir, err);
    free(dir);
    if (removed) *removed += n;
    return rc;
}

static int cleanup_locked(ae_table *t, size_t *removed, ae_error *err)
{
    uint64_t *vs = NULL;
    size_t n = 0;
    AE_TRY(manifest_list(t->dir, &vs, &n, err));
    ae_strlist keep = {0};
    int rc = 0;
    size_t kept_valid = 0, n_removed = 0;
    int64_t cutoff = ae_now_ms() - t->opts.retention_ms;
    bool removed_manifest = false;
    for (size_t i = n; i > 0; i--) {
        char name[64];
        manifest_name(vs[i - 1], name);
        char *path = ae_path_join(t->dir, name);
        if (!path) AE_FAIL(err, AE_ENOMEM, "out of memory");
        ae_manifest m;
        int r = manifest_read(path, &m, NULL);
        if (r < 0) {
            free(path); /* corrupt or foreign: left for verify to report */
            continue;
        }
        bool keep_it = kept_valid < t->opts.keep_versions || m.created_at >= cutoff ||
                       m.version == t->snap->m.version;
        if (keep_it) {
            kept_valid++;
            r = keep_files(&m, &keep);
            manifest_free(&m);
            free(path);
            if (r < 0) AE_FAIL(err, AE_ENOMEM, "out of memory");
            continue;
        }
        manifest_free(&m);
        rc = vio_unlink(path, err);
        free(path);
        if (rc < 0) goto cleanup;
        n_removed++;
        removed_manifest = true;
    }
    if (removed_manifest) {
        char *dir = ae_path_join(t->dir, "versions");
        rc = dir ? vio_fsync_dir(dir, err) : ae_fail(err, AE_ENOMEM, "out of memory");
        free(dir);
        if (rc < 0) goto cleanup;
    }
    ae_strlist_sort(&keep);
    AE_CHECK(sweep(t, "versions", &keep, &n_removed, err));
    AE_CHECK(sweep(t, "data", &keep, &n_removed, err));
    AE_CHECK(sweep(t, "deletions", &keep, &n_removed, err));
    AE_CHECK(sweep(t, "index", &keep, &n_removed, err));
cleanup:
    if (removed) *removed = n_removed;
    ae_strlist_free(&keep);
    free(vs);
    return rc;
}

static int unlink_rel(const ae_table *t, const char *rel, ae_error *err)
{
    char *p = ae_path_join(t->dir, rel);
    int rc = p ? vio_unlink(p, err) : ae_fail(err, AE_ENOMEM, "out of memory");
    free(p);
    return rc;
}

static int fsync_sub(const ae_table *t, const char *sub, ae_error *err)
{
    char *p = ae_path_join(t->dir, sub);
    int rc = p ? vio_fsync_dir(p, err) : ae_fail(err, AE_ENOMEM, "out of memory");
    free(p);
    return rc;
}

/* The cheap cleanup run every AE_TABLE_CLEANUP_EVERY versions.  By C1 the
 * versions naming a file form one contiguous range, so a file named by a
 * removed manifest and not by the oldest kept one is named by no kept
 * manifest: only the removed manifests and the oldest kept one are read.
 * Stops (removing nothing more) at anything unexpected, such as a corrupt
 * manifest; orphans of crashed commits wait for a full cleanup. */
static int cleanup_incremental(ae_table *t, ae_error *err)
{
    uint64_t *vs = NULL;
    size_t n = 0;
    AE_TRY(manifest_list(t->dir, &vs, &n, err));
    ae_strlist drop = {0}, keep = {0};
    int rc = 0;
    int64_t cutoff = ae_now_ms() - t->opts.retention_ms;
    size_t limit = n > t->opts.keep_versions ? n - t->opts.keep_versions : 0, i = 0;
    ae_manifest m;
    char name[64];
    for (; i < limit; i++) {
        manifest_name(vs[i], name);
        char *path = ae_path_join(t->dir, name);
        int r = path ? manifest_read(path, &m, NULL) : AE_ENOMEM;
        free(path);
        if (r < 0) goto cleanup; /* unreadable: leave everything as it is */
        bool old = m.created_at < cutoff && m.version != t->snap->m.version;
        if (old) r = keep_files(&m, &drop);
        manifest_free(&m);
        if (r < 0) AE_FAIL(err, AE_ENOMEM, "out of memory");
        if (!old) break;
    }
    if (i == 0) goto cleanup;
    manifest_name(vs[i], name);
    char *path = ae_path_join(t->dir, name);
    int r = path ? manifest_read(path, &m, NULL) : AE_ENOMEM;
    free(path);
    if (r < 0) goto cleanup;
    r = keep_files(&m, &keep);
    manifest_free(&m);
    if (r < 0) AE_FAIL(err, AE_ENOMEM, "out of memory");
    ae_strlist_sort(&keep);
    ae_strlist_sort(&drop);
    for (size_t k = 0; k < i; k++) {
        manifest_name(vs[k], name);
        AE_CHECK(unlink_rel(t, name, err));
    }
    AE_CHECK(fsync_sub(t, "versions", err));
    bool data = false, dels = false, index = false;
    for (size_t k = 0; k < drop.len; k++) {
        const char *f = drop.items[k];
        if ((k && !strcmp(f, drop.items[k - 1])) || referenced(&keep, f)) continue;
        AE_CHECK(unlink_rel(t, f, err));
        data |= !strncmp(f, "data/", 5);
        dels |= !strncmp(f, "deletions/", 10);
        index |= !strncmp(f, "index/", 6);
    }
    if (data) AE_CHECK(fsync_sub(t, "data", err));
    if (dels) AE_CHECK(fsync_sub(t, "deletions", err));
    if (index) AE_CHECK(fsync_sub(t, "index", err));
cleanup:
    ae_strlist_free(&drop);
    ae_strlist_free(&keep);
    free(vs);
    return rc;
}

int ae_table_cleanup(ae_table *t, size_t *removed, ae_error *err)
{
    if (removed) *removed = 0;
    AE_TRY(table_lock(t, err));
    vio_phase_begin("compact");
    int rc = cleanup_locked(t, removed, err);
    vio_phase_end();
    return rc;
}

int ae_table_sweep_index_orphans(ae_table *t, size_t *removed, ae_error *err)
{
    if (removed) *removed = 0;
    AE_TRY(table_lock(t, err));
    uint64_t *vs = NULL;
    size_t n = 0;
    AE_TRY(manifest_list(t->dir, &vs, &n, err));
    ae_strlist keep = {0};
    int rc = 0;
    for (size_t i = 0; i < n; i++) { /* every manifest on disk: a reader may hold any */
        char name[64];
        manifest_name(vs[i], name);
        char *path = ae_path_join(t->dir, name);
        if (!path) AE_FAIL(err, AE_ENOMEM, "out of memory");
        ae_manifest m;
        int r = manifest_read(path, &m, NULL);
        free(path);
        if (r < 0) goto cleanup; /* unreadable: remove nothing (verify reports it) */
        r = keep_files(&m, &keep);
        manifest_free(&m);
        if (r < 0) AE_FAIL(err, AE_ENOMEM, "out of memory");
    }
    ae_strlist_sort(&keep);
    vio_phase_begin("compact");
    rc = sweep_ex(t, "index", &keep, false, removed, err);
    vio_phase_end();
cleanup:
    ae_strlist_free(&keep);
    free(vs);
    return rc;
}

int ae_table_optimize(ae_table *t, ae_error *err)
{
    AE_TRY(table_lock(t, err));
    vio_phase_begin("compact");
    int rc = compact(t, err);
    if (rc == 0) rc = cleanup_locked(t, NULL, err);
    vio_phase_end();
    return rc;
}
