/* A batch of the index pipeline (see index_batch.h for the recipe and its guarantees).
 * Notes:
 * 1. Symbols are deep-copied on add: the extractor frees its own after each file, and the
 *    SIRs are generated only once the batch is complete.
 * 2. The plan reads meta.sqlite without a transaction.  That is safe because this process is
 *    the only writer of symbols and SIRs (one-shot writers such as --import-embeddings touch
 *    only embedding state), so nothing the plan read can change before the write.
 * 3. Effects outside meta.sqlite (SIR mirrors, callbacks) wait for the commit and are dropped
 *    on rollback, so a mirror or a SIR_STORED line never shows an uncommitted SIR. */
#include "workspace/index_batch.h"

#include "meta/meta_sir.h"
#include "sir/sir.h"
#include "symbols/files.h"
#include "util/err.h"
#include "util/fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct ix_file {
    char *path;
    bool removed;
    bool written; /* in the transaction being committed */
    ae_symbol *syms;
    size_t n;
    size_t first_job, n_jobs; /* jobs[first_job .. +n_jobs] belong to this file */
    ae_file_state st;         /* before extraction; mtime_ns -2: unknown */
    /* The change event (only with a `changed` callback): per new symbol CH_SAME, CH_ADDED or
     * CH_UPDATED, and the stored symbols that are gone. */
    unsigned char *change;
    ae_symbol *gone;
    size_t n_gone;
    bool any_change;
} ix_file;

enum { CH_SAME, CH_ADDED, CH_UPDATED };

typedef struct ix_job {
    const ae_symbol *sym; /* in its file's syms (stable: the array is never reallocated) */
    size_t file;
} ix_job;

struct ix_batch {
    ix_batch_config cfg;
    ix_file *files;
    size_t n_files, cap_files;
    ix_job *jobs;
    size_t n_jobs, cap_jobs;
    bool sir_dir_ready;
    /* After the commit: mirrors to write (and SIR_STORED), stale notices, mirrors to remove. */
    ae_strlist pend_ids, pend_json, pend_hash, stale_ids, stale_errors, gone;
};

static int oom(ae_error *err)
{
    return ae_fail(err, AE_ENOMEM, "out of memory building an index batch");
}

static char *dup_or_null(const char *s, bool *bad)
{
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) *bad = true;
    return d;
}

static int symbol_copy(ae_symbol *dst, const ae_symbol *src)
{
    *dst = *src;
    bool bad = false;
    dst->language = dup_or_null(src->language, &bad);
    dst->file_path = dup_or_null(src->file_path, &bad);
    dst->kind = dup_or_null(src->kind, &bad);
    dst->name = dup_or_null(src->name, &bad);
    dst->qualified_name = dup_or_null(src->qualified_name, &bad);
    dst->signature = dup_or_null(src->signature, &bad);
    dst->source = dup_or_null(src->source, &bad);
    dst->doc = dup_or_null(src->doc, &bad);
    if (bad) {
        ae_symbol_clear(dst);
        return AE_ENOMEM;
    }
    return 0;
}

static void pending_drop(ix_batch *b)
{
    ae_strlist_free(&b->pend_ids);
    ae_strlist_free(&b->pend_json);
    ae_strlist_free(&b->pend_hash);
    ae_strlist_free(&b->stale_ids);
    ae_strlist_free(&b->stale_errors);
    ae_strlist_free(&b->gone);
}

static void files_drop(ix_batch *b)
{
    for (size_t i = 0; i < b->n_files; i++) {
        for (size_t j = 0; j < b->files[i].n; j++)
            ae_symbol_clear(&b->files[i].syms[j]);
        for (size_t j = 0; j < b->files[i].n_gone; j++)
            ae_symbol_clear(&b->files[i].gone[j]);
        free(b->files[i].syms);
        free(b->files[i].gone);
        free(b->files[i].change);
        free(b->files[i].path);
    }
    b->n_files = 0;
    b->n_jobs = 0;
}

int ix_batch_open(const ix_batch_config *cfg, ix_batch **out, ae_error *err)
{
    *out = NULL;
    AE_RETURN_IF(!cfg || !cfg->ws || !cfg->ws->meta || !cfg->sirp || !cfg->stats, err, AE_EINVAL,
                 "ix_batch_open: workspace, meta store, SIR provider and stats are required");
    ix_batch *b = calloc(1, sizeof *b);
    if (!b) return oom(err);
    b->cfg = *cfg;
    *out = b;
    return 0;
}

void ix_batch_close(ix_batch *b)
{
    if (!b) return;
    files_drop(b);
    pending_drop(b);
    free(b->files);
    free(b->jobs);
    free(b);
}

bool ix_batch_full(const ix_batch *b)
{
    return b->n_files >= AE_INDEX_BATCH_FILES || b->n_jobs >= AE_INDEX_BATCH_JOBS;
}

static ix_file *push_file(ix_batch *b, const char *rel_path)
{
    if (b->n_files == b->cap_files) {
        size_t cap = b->cap_files ? b->cap_files * 2 : 16;
        ix_file *nf = realloc(b->files, cap * sizeof *nf);
        if (!nf) return NULL;
        b->files = nf;
        b->cap_files = cap;
    }
    ix_file *f = &b->files[b->n_files];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(rel_path))) return NULL;
    f->first_job = b->n_jobs;
    b->n_files++;
    return f;
}

static int push_job(ix_batch *b, const ae_symbol *sym, size_t file)
{
    if (b->n_jobs == b->cap_jobs) {
        size_t cap = b->cap_jobs ? b->cap_jobs * 2 : 64;
        ix_job *nj = realloc(b->jobs, cap * sizeof *nj);
        if (!nj) return AE_ENOMEM;
        b->jobs = nj;
        b->cap_jobs = cap;
    }
    b->jobs[b->n_jobs++] = (ix_job){.sym = sym, .file = file};
    return 0;
}

static int needs_sir(ix_batch *b, const ae_symbol *s, bool *out, ae_error *err)
{
    ae_meta_sir_state st;
    AE_TRY(ae_meta_sir_state_get(b->cfg.ws->meta, s->id, s->content_hash, &st, err));
    *out = !st.symbol_same || !st.present || st.stale || !st.same_source ||
           strcmp(st.provider, ae_sir_provider_name(b->cfg.sirp)) != 0 ||
           strcmp(st.model, ae_sir_provider_model(b->cfg.sirp)) != 0;
    return 0;
}

static bool want_events(const ix_batch *b)
{
    return b->cfg.cb && b->cfg.cb->changed;
}

static char *col_dup(sqlite3_stmt *st, int col, bool *bad)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    char *d = strdup(t ? t : "");
    if (!d) *bad = true;
    return d;
}

/* The symbols stored for a file, by id (the previous extraction). */
static int stored_symbols(ix_batch *b, const char *path, ae_symbol **out, size_t *n, ae_error *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(b->cfg.ws->meta,
                           "SELECT id, language, file_path, kind, name, qualified_name, "
                           "signature_fingerprint, content_hash, start_line, end_line, "
                           "end_column FROM symbols WHERE file_path = ? ORDER BY id",
                           &st, err));
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    size_t cap = 0;
    int rc = 0, s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            ae_symbol *ns = ae_realloc_array(*out, nc, sizeof *ns);
            if (!ns) {
                rc = oom(err);
                break;
            }
            *out = ns;
            cap = nc;
        }
        ae_symbol *y = &(*out)[*n];
        memset(y, 0, sizeof *y);
        bool bad = false;
        snprintf(y->id, sizeof y->id, "%s", (const char *)sqlite3_column_text(st, 0));
        y->language = col_dup(st, 1, &bad);
        y->file_path = col_dup(st, 2, &bad);
        y->kind = col_dup(st, 3, &bad);
        y->name = col_dup(st, 4, &bad);
        y->qualified_name = col_dup(st, 5, &bad);
        const char *fp = (const char *)sqlite3_column_text(st, 6);
        const char *ch = (const char *)sqlite3_column_text(st, 7);
        snprintf(y->signature_fingerprint, sizeof y->signature_fingerprint, "%s", fp ? fp : "");
        snprintf(y->content_hash, sizeof y->content_hash, "%s", ch ? ch : "");
        y->start_line = sqlite3_column_int(st, 8);
        y->end_line = sqlite3_column_int(st, 9);
        y->end_column = sqlite3_column_int(st, 10); /* NULL (older rows): 0 */
        (*n)++;
        if (bad) {
            rc = oom(err);
            break;
        }
    }
    if (rc == 0 && s != SQLITE_DONE)
        rc = ae_fail(err, AE_EIO, "meta.sqlite: read the symbols of %s", path);
    sqlite3_finalize(st);
    if (rc < 0) {
        for (size_t i = 0; i < *n; i++)
            ae_symbol_clear(&(*out)[i]);
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

static int cmp_sym_id(const void *a, const void *b)
{
    return strcmp(((const ae_symbol *)a)->id, ((const ae_symbol *)b)->id);
}

/* Diffs f->syms against the stored symbols: fills f->change and f->gone. */
static int diff_file(ix_batch *b, ix_file *f, ae_error *err)
{
    ae_symbol *old;
    size_t n_old;
    AE_TRY(stored_symbols(b, f->path, &old, &n_old, err));
    bool *kept = n_old ? calloc(n_old, sizeof *kept) : NULL;
    if (f->n && !(f->change = calloc(f->n, 1))) {
        free(kept);
        for (size_t i = 0; i < n_old; i++)
            ae_symbol_clear(&old[i]);
        free(old);
        return oom(err);
    }
    if (n_old && !kept) {
        for (size_t i = 0; i < n_old; i++)
            ae_symbol_clear(&old[i]);
        free(old);
        return oom(err);
    }
    for (size_t i = 0; i < f->n; i++) {
        const ae_symbol *o =
            n_old ? bsearch(&f->syms[i], old, n_old, sizeof *old, cmp_sym_id) : NULL;
        if (!o) {
            f->change[i] = CH_ADDED;
        } else {
            kept[o - old] = true;
            f->change[i] = strcmp(o->content_hash, f->syms[i].content_hash) ? CH_UPDATED : CH_SAME;
        }
        if (f->change[i] != CH_SAME) f->any_change = true;
    }
    /* what is left in old is gone: compact it in place (still by id) */
    size_t g = 0;
    for (size_t i = 0; i < n_old; i++) {
        if (kept && kept[i]) {
            ae_symbol_clear(&old[i]);
            continue;
        }
        if (g != i) old[g] = old[i];
        g++;
    }
    free(kept);
    f->gone = old;
    f->n_gone = g;
    if (g) f->any_change = true;
    if (!g) {
        free(old);
        f->gone = NULL;
    }
    return 0;
}

int ix_batch_add_file(ix_batch *b, const char *rel_path, const ae_file_state *st,
                      const ae_symbol *syms, size_t n, ae_error *err)
{
    ix_file *f = push_file(b, rel_path);
    if (!f) return oom(err);
    f->st = st ? *st : (ae_file_state){.mtime_ns = -2, .size = -1};
    size_t fi = b->n_files - 1;
    if (n) {
        f->syms = calloc(n, sizeof *f->syms);
        if (!f->syms) return oom(err);
    }
    for (size_t i = 0; i < n; i++) {
        if (symbol_copy(&f->syms[i], &syms[i]) < 0) return oom(err);
        f->n = i + 1;
    }
    for (size_t i = 0; i < n; i++) {
        bool need;
        AE_TRY(needs_sir(b, &f->syms[i], &need, err));
        if (need && push_job(b, &f->syms[i], fi) < 0) return oom(err);
    }
    f->n_jobs = b->n_jobs - f->first_job;
    if (want_events(b)) AE_TRY(diff_file(b, f, err));
    return 0;
}

int ix_batch_remove_file(ix_batch *b, const char *rel_path, ae_error *err)
{
    ix_file *f = push_file(b, rel_path);
    if (!f) return oom(err);
    f->removed = true;
    if (want_events(b)) AE_TRY(diff_file(b, f, err));
    return 0;
}

/* ---- writing ------------------------------------------------------------------------------ */

static int delete_symbol(ix_batch *b, const char *id, ae_error *err)
{
    AE_TRY(ae_meta_symbol_delete(b->cfg.ws->meta, id, err));
    if (ae_strlist_push(&b->gone, id) < 0) return oom(err);
    b->cfg.stats->symbols_removed++;
    return 0;
}

static int write_removed(ix_batch *b, const ix_file *f, ae_error *err)
{
    ae_strlist ids = {0};
    int rc = 0;
    AE_CHECK(ae_meta_symbol_ids_for_file(b->cfg.ws->meta, f->path, &ids, err));
    for (size_t i = 0; i < ids.len; i++)
        AE_CHECK(delete_symbol(b, ids.items[i], err));
    AE_CHECK(ae_meta_file_delete(b->cfg.ws->meta, f->path, err));
    b->cfg.stats->files_removed++;
cleanup:
    ae_strlist_free(&ids);
    return rc;
}

static int write_outcome(ix_batch *b, const ix_job *j, ae_sir_outcome *o, int64_t now,
                         ae_error *err)
{
    ae_meta *m = b->cfg.ws->meta;
    const char *provider = ae_sir_provider_name(b->cfg.sirp);
    const char *model = ae_sir_provider_model(b->cfg.sirp);
    if (o->rc < 0) {
        AE_TRY(ae_meta_sir_mark_stale(m, j->sym->id, provider, model, o->error, now, err));
        b->cfg.stats->sirs_failed++;
        if (ae_strlist_push(&b->stale_ids, j->sym->id) < 0 ||
            ae_strlist_push(&b->stale_errors, o->error) < 0)
            return oom(err);
        return 0;
    }
    char *json = NULL;
    AE_TRY(ae_sir_canonical_json(&o->sir, &json, err));
    char hash[AE_BLAKE3_HEX_LEN + 1];
    blake3_hex(json, strlen(json), hash);
    bool changed = false;
    ae_meta_sir_write w = {.id = j->sym->id,
                           .sir_hash = hash,
                           .provider = provider,
                           .model = model,
                           .sir_json = json,
                           .source_hash = j->sym->content_hash,
                           .commit_hash = b->cfg.commit_hash,
                           .now_ms = now};
    int rc = ae_meta_sir_store(m, &w, &changed, err);
    if (rc == 0 && changed) {
        b->cfg.stats->sirs_written++;
        if (ae_strlist_push(&b->pend_ids, j->sym->id) < 0 ||
            ae_strlist_push(&b->pend_json, json) < 0 || ae_strlist_push(&b->pend_hash, hash) < 0)
            rc = oom(err);
    }
    free(json);
    return rc;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(((const ae_symbol *)a)->id, ((const ae_symbol *)b)->id);
}

static int write_file(ix_batch *b, ix_file *f, ae_sir_outcome *outs, int64_t now, ae_error *err)
{
    ae_meta *m = b->cfg.ws->meta;
    ae_strlist old = {0};
    int rc = 0;
    bool any_stale = false;
    AE_CHECK(ae_meta_symbol_ids_for_file(m, f->path, &old, err));
    for (size_t i = 0; i < f->n; i++) {
        bool content_changed;
        AE_CHECK(ae_meta_symbol_upsert(m, &f->syms[i], now, &content_changed, err));
    }
    for (size_t k = f->first_job; k < f->first_job + f->n_jobs; k++) {
        AE_CHECK(write_outcome(b, &b->jobs[k], &outs[k], now, err));
        if (outs[k].rc < 0) any_stale = true;
    }
    /* Symbols of this file that are gone (renamed, signature changed, deleted).  The jobs
     * point into syms, so search a sorted copy of the ids rather than sorting syms. */
    if (old.len) {
        ae_symbol *sorted = f->n ? malloc(f->n * sizeof *sorted) : NULL;
        if (f->n && !sorted) AE_FAIL(err, AE_ENOMEM, "out of memory");
        if (f->n) memcpy(sorted, f->syms, f->n * sizeof *sorted);
        if (f->n > 1) qsort(sorted, f->n, sizeof *sorted, cmp_id);
        for (size_t i = 0; i < old.len && rc == 0; i++) {
            ae_symbol key = {0};
            snprintf(key.id, sizeof key.id, "%s", old.items[i]);
            if (!f->n || !bsearch(&key, sorted, f->n, sizeof *sorted, cmp_id))
                rc = delete_symbol(b, old.items[i], err);
        }
        free(sorted); /* shallow: the strings belong to f->syms */
        if (rc < 0) goto cleanup;
    }
    /* The state from before the extraction (index_batch.h); a stale symbol or an unknown
     * state is recorded as mtime_ns = -1, so the next pass reads the file again. */
    ae_file_state fs = f->st;
    if (any_stale || fs.mtime_ns == -2) fs.mtime_ns = -1;
    AE_CHECK(ae_meta_file_put(m, f->path, &fs, err));
    b->cfg.stats->symbols_total += f->n;
cleanup:
    ae_strlist_free(&old);
    return rc;
}

static void mirror_remove(ix_batch *b, const char *id)
{
    char name[AE_BLAKE3_HEX_LEN + 8];
    snprintf(name, sizeof name, "%s.json", id);
    char *p = ae_path_join(b->cfg.ws->sir_dir, name);
    if (p) unlink(p);
    free(p);
}

static int mirror_write(ix_batch *b, const char *id, const char *json, ae_error *err)
{
    if (!b->cfg.ws->config.storage.mirror_sir_files) return 0;
    if (!b->sir_dir_ready) {
        AE_TRY(ae_mkdirs(b->cfg.ws->sir_dir, err));
        b->sir_dir_ready = true;
    }
    char name[AE_BLAKE3_HEX_LEN + 8];
    snprintf(name, sizeof name, "%s.json", id);
    char *p = ae_path_join(b->cfg.ws->sir_dir, name);
    if (!p) return ae_fail(err, AE_ENOMEM, "out of memory");
    FILE *f = fopen(p, "w");
    int rc = 0;
    if (!f || fputs(json, f) < 0 || fputc('\n', f) < 0)
        rc = ae_fail_errno(err, errno, "write %s", p);
    if (f && fclose(f) != 0 && rc == 0) rc = ae_fail_errno(err, errno, "write %s", p);
    free(p);
    return rc;
}

static ae_change_symbol change_symbol(const ae_symbol *s, bool with_source)
{
    return (ae_change_symbol){.id = s->id,
                              .language = s->language ? s->language : "",
                              .file_path = s->file_path ? s->file_path : "",
                              .kind = s->kind ? s->kind : "",
                              .name = s->name ? s->name : "",
                              .qualified_name = s->qualified_name ? s->qualified_name : "",
                              .signature_fingerprint = s->signature_fingerprint,
                              .content_hash = s->content_hash,
                              .start_line = s->start_line,
                              .start_column = 1,
                              .end_line = s->end_line,
                              /* a removed symbol: the column stored with it (1 for rows
                                 stored before the column existed) */
                              .end_column = with_source         ? ae_symbol_end_column(s->source)
                                            : s->end_column > 0 ? s->end_column
                                                                : 1};
}

/* One change event per written file with a non-empty diff. */
static int emit_changes(ix_batch *b, ae_error *err)
{
    const ae_index_callbacks *cb = b->cfg.cb;
    if (!want_events(b)) return 0;
    for (size_t i = 0; i < b->n_files; i++) {
        ix_file *f = &b->files[i];
        if (!f->written || !f->any_change) continue;
        size_t na = 0, nu = 0, cap = f->n + f->n_gone;
        ae_change_symbol *all = calloc(cap ? cap : 1, sizeof *all);
        if (!all) return oom(err);
        ae_change_symbol *added = all, *updated = all + f->n, *removed = all + f->n;
        /* added first, then updated, then removed, each in its own slice */
        for (size_t k = 0; k < f->n; k++)
            if (f->change[k] == CH_ADDED) added[na++] = change_symbol(&f->syms[k], true);
        updated = all + na;
        for (size_t k = 0; k < f->n; k++)
            if (f->change[k] == CH_UPDATED) updated[nu++] = change_symbol(&f->syms[k], true);
        removed = all + na + nu;
        for (size_t k = 0; k < f->n_gone; k++)
            removed[k] = change_symbol(&f->gone[k], false);
        ae_change_event ev = {.file_path = f->path,
                              .language = ae_language_for_path(f->path),
                              .added = added,
                              .n_added = na,
                              .updated = updated,
                              .n_updated = nu,
                              .removed = removed,
                              .n_removed = f->n_gone};
        if (!ev.language) ev.language = f->n ? f->syms[0].language : f->gone[0].language;
        cb->changed(cb->ctx, &ev);
        free(all);
    }
    return 0;
}

/* After the commit: mirrors and notifications of what it wrote, in write order. */
static int pending_apply(ix_batch *b, ae_error *err)
{
    const ae_index_callbacks *cb = b->cfg.cb;
    const char *provider = ae_sir_provider_name(b->cfg.sirp);
    int rc = 0;
    for (size_t i = 0; i < b->gone.len; i++)
        mirror_remove(b, b->gone.items[i]);
    for (size_t i = 0; i < b->pend_ids.len && rc == 0; i++) {
        rc = mirror_write(b, b->pend_ids.items[i], b->pend_json.items[i], err);
        if (rc == 0 && cb && cb->sir_stored)
            cb->sir_stored(cb->ctx, b->pend_ids.items[i], b->pend_hash.items[i], provider);
    }
    for (size_t i = 0; i < b->stale_ids.len && cb && cb->sir_stale; i++)
        cb->sir_stale(cb->ctx, b->stale_ids.items[i], b->stale_errors.items[i]);
    pending_drop(b);
    if (rc == 0) rc = emit_changes(b, err);
    return rc;
}

static void sir_progress(void *ctx, size_t done, size_t total)
{
    const ae_index_callbacks *cb = ((ix_batch *)ctx)->cfg.cb;
    if (!cb || !cb->progress) return;
    ae_index_progress p = {.phase = "sir", .done = done, .total = total};
    cb->progress(cb->ctx, &p);
}

/* Files with a symbol the provider never got to are left out whole. */
static bool file_complete(const ix_batch *b, const ix_file *f, const ae_sir_outcome *outs)
{
    for (size_t k = f->first_job; k < f->first_job + f->n_jobs; k++)
        if (!outs[k].attempted) return false;
    return true;
}

int ix_batch_apply(ix_batch *b, ae_error *err)
{
    ae_meta *m = b->cfg.ws->meta;
    ae_sir_outcome *outs = NULL;
    int rc = 0, gen_rc = 0;
    ae_error gen_err = {0};
    if (!b->n_files) return 0;
    if (b->n_jobs) {
        outs = calloc(b->n_jobs, sizeof *outs);
        if (!outs) AE_FAIL(err, AE_ENOMEM, "out of memory for %zu SIR outcomes", b->n_jobs);
        const ae_symbol **syms = malloc(b->n_jobs * sizeof *syms);
        if (!syms) AE_FAIL(err, AE_ENOMEM, "out of memory for %zu SIR jobs", b->n_jobs);
        for (size_t k = 0; k < b->n_jobs; k++)
            syms[k] = b->jobs[k].sym;
        ae_sir_batch_options o = {
            .concurrency = b->cfg.sir_concurrency, .progress = sir_progress, .progress_ctx = b};
        gen_rc = ae_sir_provider_generate_batch(b->cfg.sirp, (const ae_symbol *const *)syms,
                                                b->n_jobs, &o, outs, &gen_err);
        free(syms);
        /* Only a provider that stopped the batch still lets the finished files be written. */
        if (gen_rc < 0 && gen_rc != AE_EPROVIDER) {
            rc = gen_rc;
            if (err) *err = gen_err;
            goto cleanup;
        }
    }
    int64_t now = ae_now_ms();
    AE_CHECK(ae_meta_begin(m, err));
    for (size_t i = 0; i < b->n_files && rc == 0; i++) {
        ix_file *f = &b->files[i];
        if (f->removed) {
            rc = write_removed(b, f, err);
            f->written = true;
        } else if (!outs || file_complete(b, f, outs)) {
            rc = write_file(b, f, outs, now, err);
            f->written = true;
        }
    }
    if (rc == 0) rc = ae_meta_commit(m, err);
    if (rc < 0) {
        ae_meta_rollback(m);
        pending_drop(b);
        goto cleanup;
    }
    AE_CHECK(pending_apply(b, err));
    if (gen_rc < 0) {
        rc = gen_rc;
        if (err) *err = gen_err;
    }
cleanup:
    if (outs)
        for (size_t k = 0; k < b->n_jobs; k++)
            ae_sir_clear(&outs[k].sir);
    free(outs);
    pending_drop(b);
    files_drop(b);
    return rc;
}
