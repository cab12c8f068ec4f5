/* Re-indexing given paths (aether/watch.h: ae_workspace_index_paths), the watcher's batch.
 *
 *   normalize   workspace-relative, no "..", sorted, unique
 *   list        what the indexer would index at or under each path now (files.h), and what the
 *               store holds there (files table)
 *   chunks of AE_INDEX_BATCH_FILES files, each:
 *     write     stored-but-gone files removed, present files re-extracted into one index batch
 *               (index_batch.h: symbol diff, SIRs only where needed, one transaction)
 *     model     a learned embedder's drift check (model_train.h), as in a full pass
 *     embed     only the symbols of this chunk's files (embed_sync.h, by id); the vectors of
 *               symbols the chunk removed are pruned; a model rolled out meanwhile re-embeds all
 * Notes:
 * 1. Present files are always re-extracted (no mtime shortcut): an event says they changed,
 *    and a file whose content is unchanged costs one ctags run and no SIR.
 * 2. The result equals a full pass over the same files: both go through the same index batch,
 *    the same SIR decision and the same embedding text.  The learned model is the one
 *    difference a fresh store can show (docs/ARCHITECTURE.md, "Watching"). */
#include "workspace/workspace.h"

#include "sir/sir_provider.h"
#include "symbols/extract.h"
#include "symbols/files.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/fs.h"
#include "workspace/embed_sync.h"
#include "workspace/git_head.h"
#include "workspace/index_batch.h"
#include "workspace/model_train.h"
#include "workspace/write_lock.h"

#include <aether/watch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct paths_run {
    ae_workspace *ws;
    const ae_index_callbacks *cb;
    ae_index_stats *stats;
    ae_error *err;
    ix_batch *batch;
    const ae_strlist *present;   /* the chunk being extracted, sorted */
    const ae_file_state *states; /* their (mtime, size) before extraction (index_batch.h) */
} paths_run;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "./a//b/" -> "a/b"; absolute paths must lie under root.  AE_EINVAL for ".." or outside. */
static int normalize(const ae_workspace *ws, const char *in, char **out, ae_error *err)
{
    size_t rl = strlen(ws->root);
    const char *p = in;
    if (p[0] == '/') {
        if (!strcmp(p, ws->root)) {
            p = "";
        } else if (!strncmp(p, ws->root, rl) && p[rl] == '/') {
            p += rl + 1;
        } else {
            return ae_fail(err, AE_EINVAL, "path %s is outside the workspace %s", in, ws->root);
        }
    }
    char *o = malloc(strlen(p) + 1);
    if (!o) return ae_fail(err, AE_ENOMEM, "out of memory");
    size_t k = 0;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p) break;
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 1 && p[0] == '.') {
            p += len;
            continue;
        }
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            free(o);
            return ae_fail(err, AE_EINVAL, "path %s has a '..' component", in);
        }
        if (k) o[k++] = '/';
        memcpy(o + k, p, len);
        k += len;
        p += len;
    }
    o[k] = '\0';
    *out = o;
    return 0;
}

/* Stored files equal to path or under path/ ("" = all), appended to out. */
static int stored_under(ae_workspace *ws, const char *path, ae_strlist *out, ae_error *err)
{
    if (!path[0]) return ae_meta_file_list(ws->meta, out, err);
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(ws->meta,
                           "SELECT path FROM files WHERE path = ?1 "
                           "OR (path > ?1 || '/' AND path < ?1 || '0') ORDER BY path",
                           &st, err));
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    int rc = 0, s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        if (ae_strlist_push(out, (const char *)sqlite3_column_text(st, 0)) < 0) {
            rc = ae_fail(err, AE_ENOMEM, "out of memory");
            break;
        }
    if (rc == 0 && s != SQLITE_DONE) rc = ae_fail(err, AE_EIO, "meta.sqlite: list files");
    sqlite3_finalize(st);
    return rc;
}

static int on_file(const char *rel_path, const char *language, ae_symbol *syms, size_t n, void *ctx)
{
    paths_run *r = ctx;
    (void)language;
    if (r->ws->cancel && *r->ws->cancel)
        return ae_fail(r->err, AE_EBUSY, "indexing stopped (the batches written so far stay)");
    const char *const *hit =
        bsearch(&rel_path, r->present->items, r->present->len, sizeof *r->present->items, cmp_str);
    const ae_file_state *st = hit ? &r->states[hit - (const char *const *)r->present->items] : NULL;
    AE_TRY(ix_batch_add_file(r->batch, rel_path, st, syms, n, r->err));
    if (ix_batch_full(r->batch)) AE_TRY(ix_batch_apply(r->batch, r->err));
    return 0;
}

static int ids_of_files(ae_workspace *ws, const ae_strlist *files, ae_strlist *out, ae_error *err)
{
    for (size_t i = 0; i < files->len; i++)
        AE_TRY(ae_meta_symbol_ids_for_file(ws->meta, files->items[i], out, err));
    return 0;
}

/* One chunk: removals and re-extractions, then its embeddings. */
static int run_chunk(paths_run *r, const ae_strlist *gone, const ae_strlist *present)
{
    ae_workspace *ws = r->ws;
    ae_strlist old_ids = {0}, new_ids = {0};
    ae_ws_model_pass mp = {0};
    ae_file_state *states = NULL;
    size_t embedded0 = r->stats->embeddings_written;
    int rc = 0;
    AE_CHECK(ids_of_files(ws, gone, &old_ids, r->err));
    AE_CHECK(ids_of_files(ws, present, &old_ids, r->err));
    for (size_t i = 0; i < gone->len; i++)
        AE_CHECK(ix_batch_remove_file(r->batch, gone->items[i], r->err));
    if (present->len) {
        states = calloc(present->len, sizeof *states);
        if (!states) AE_FAIL(r->err, AE_ENOMEM, "out of memory");
        for (size_t i = 0; i < present->len; i++) {
            char *abs = ae_path_join(ws->root, present->items[i]);
            struct stat sb;
            if (abs && stat(abs, &sb) == 0)
                states[i] = (ae_file_state){.mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
                                                        sb.st_mtim.tv_nsec,
                                            .size = (int64_t)sb.st_size};
            else
                states[i] = (ae_file_state){.mtime_ns = -2, .size = -1}; /* unknown */
            free(abs);
        }
        r->present = present;
        r->states = states;
        AE_CHECK(ae_symbols_extract(ws->root, present, on_file, r, r->err));
    }
    AE_CHECK(ix_batch_apply(r->batch, r->err));
    r->stats->files_changed += present->len;
    if (!ws->config.embeddings.enabled) goto cleanup;
    AE_CHECK(ae_ws_model_prepare(ws, r->cb, &mp, r->err));
    if (mp.rolled_out) {
        /* a new model: every vector is of the old one */
        AE_CHECK(ae_ws_embed_prune(ws, NULL, r->stats, r->err));
        AE_CHECK(ae_ws_embed_sync(ws, r->cb, NULL, r->stats, r->err));
    } else {
        AE_CHECK(ae_ws_embed_prune(ws, &old_ids, r->stats, r->err));
        if (!mp.active || mp.has_model) {
            AE_CHECK(ids_of_files(ws, present, &new_ids, r->err));
            AE_CHECK(ae_ws_embed_sync(ws, r->cb, &new_ids, r->stats, r->err));
        }
    }
    AE_CHECK(ae_ws_model_settle(ws, &mp, r->stats->embeddings_written - embedded0, r->err));
cleanup:
    ae_strlist_free(&old_ids);
    ae_strlist_free(&new_ids);
    free(states);
    r->present = NULL;
    r->states = NULL;
    return rc;
}

static void unique(ae_strlist *l)
{
    ae_strlist_sort(l);
    size_t k = 0;
    for (size_t i = 0; i < l->len; i++) {
        if (k && !strcmp(l->items[k - 1], l->items[i])) {
            free(l->items[i]);
            continue;
        }
        l->items[k++] = l->items[i];
    }
    l->len = k;
}

static int index_paths_locked(ae_workspace *ws, const char *const *paths, size_t n_paths,
                              const ae_index_callbacks *cb, ae_index_stats *stats, ae_error *err);

int ae_workspace_index_paths(ae_workspace *ws, const char *const *paths, size_t n_paths,
                             const ae_index_callbacks *cb, ae_index_stats *stats, ae_error *err)
{
    ae_index_stats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    AE_RETURN_IF(!ws || ws->readonly || !ws->meta, err, AE_EINVAL,
                 "workspace %s was opened read-only", ws ? ws->root : "(null)");
    AE_TRY(ae_ws_write_begin(ws, err));
    int rc = index_paths_locked(ws, paths, n_paths, cb, stats, err);
    ae_ws_write_end(ws);
    return rc;
}

static int index_paths_locked(ae_workspace *ws, const char *const *paths, size_t n_paths,
                              const ae_index_callbacks *cb, ae_index_stats *stats, ae_error *err)
{
    ae_strlist_free(&ws->notices);
    AE_RETURN_IF(n_paths && !paths, err, AE_EINVAL, "ae_workspace_index_paths: paths is NULL");
    double t0 = ae_mono_s();
    ae_strlist rel = {0}, present = {0}, stored = {0}, gone = {0}, cgone = {0}, cpresent = {0};
    ae_sir_provider *sirp = NULL;
    paths_run r = {.ws = ws, .cb = cb, .stats = stats, .err = err};
    int rc = 0;
    for (size_t i = 0; i < n_paths; i++) {
        if (!paths[i]) AE_FAIL(err, AE_EINVAL, "ae_workspace_index_paths: path %zu is NULL", i);
        char *p = NULL;
        AE_CHECK(normalize(ws, paths[i], &p, err));
        AE_CHECK(ae_strlist_push_owned(&rel, p) < 0 ? ae_fail(err, AE_ENOMEM, "out of memory") : 0);
    }
    if (!rel.len) goto done;
    unique(&rel);
    AE_CHECK(ae_workspace_list_paths(ws->root, &rel, &present, err));
    for (size_t i = 0; i < rel.len; i++)
        AE_CHECK(stored_under(ws, rel.items[i], &stored, err));
    unique(&stored);
    stats->files_seen = present.len;
    for (size_t i = 0; i < stored.len; i++)
        if (!present.len ||
            !bsearch(&stored.items[i], present.items, present.len, sizeof *present.items, cmp_str))
            if (ae_strlist_push(&gone, stored.items[i]) < 0)
                AE_FAIL(err, AE_ENOMEM, "out of memory");

    AE_CHECK(ae_sir_provider_open(&ws->config, &sirp, err));
    /* A store whose record of a complete sync (embed_sync.h) holds before this batch writes is
     * complete after it once the batch embedded and pruned every symbol it touched: the
     * record is made again at the end, so a restart after saves skips the whole-store checks. */
    char key[AE_WS_SYNC_KEY_MAX];
    ae_ws_sync_key(ws, ae_sir_provider_name(sirp), ae_sir_provider_model(sirp), key);
    bool clean_at_start = ae_ws_sync_is_clean(ws, key);
    char commit_hash[AE_GIT_HASH_MAX + 1];
    ae_git_head(ws->root, commit_hash);
    ix_batch_config bc = {.ws = ws,
                          .cb = cb,
                          .stats = stats,
                          .sirp = sirp,
                          .sir_concurrency = ws->sir_concurrency,
                          .commit_hash = commit_hash[0] ? commit_hash : NULL};
    AE_CHECK(ix_batch_open(&bc, &r.batch, err));
    size_t gi = 0, pi = 0;
    while (gi < gone.len || pi < present.len) {
        ae_strlist_free(&cgone);
        ae_strlist_free(&cpresent);
        size_t room = AE_INDEX_BATCH_FILES;
        for (; gi < gone.len && room; gi++, room--)
            if (ae_strlist_push(&cgone, gone.items[gi]) < 0)
                AE_FAIL(err, AE_ENOMEM, "out of memory");
        for (; pi < present.len && room; pi++, room--)
            if (ae_strlist_push(&cpresent, present.items[pi]) < 0)
                AE_FAIL(err, AE_ENOMEM, "out of memory");
        AE_CHECK(run_chunk(&r, &cgone, &cpresent));
    }
    if (clean_at_start && !stats->sirs_failed) {
        ae_ws_sync_key(ws, ae_sir_provider_name(sirp), ae_sir_provider_model(sirp), key);
        AE_CHECK(ae_ws_sync_mark_clean(ws, key, err));
    }
done:
    if (stats->sirs_failed)
        ae_ws_notice(ws,
                     "SIR generation failed for %zu symbol%s: previous SIRs are kept and marked "
                     "stale, and are retried on the next pass",
                     stats->sirs_failed, stats->sirs_failed == 1 ? "" : "s");
    int64_t total = 0;
    AE_CHECK(ae_meta_symbol_count(ws->meta, &total, err));
    stats->symbols_total = (size_t)total;
    stats->seconds = ae_mono_s() - t0;
cleanup:
    ix_batch_close(r.batch);
    ae_sir_provider_close(sirp);
    ae_strlist_free(&rel);
    ae_strlist_free(&present);
    ae_strlist_free(&stored);
    ae_strlist_free(&gone);
    ae_strlist_free(&cgone);
    ae_strlist_free(&cpresent);
    return rc;
}
