/* Table handles: naming, opening, locking, upsert and delete.
 *
 * 1. A table directory is ours only if it holds the AETHER_TABLE marker with
 *    our magic; the marker also records the key (provider, model, dim), which
 *    is checked again against every manifest.  Anything else in the vectors
 *    directory is left alone.
 * 2. The writer lock is taken lazily at the first write and kept until close,
 *    so read-only users never block and are never blocked.
 * 3. An upsert is one commit: old rows of the batch's ids are deleted (found
 *    through the idmap) and the batch is appended as one fragment; within a
 *    batch the last record of an id wins.  The fragment writer reads each
 *    record's vector where the caller keeps it (no gathering copy). */
#include "vectors/table_internal.h"

#include "vectors/vs_validate.h"
#include "util/blake3.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"
#include "vectors/io.h"
#include "vectors/lock.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void sanitize(const char *s, char *out, size_t cap)
{
    size_t k = 0;
    for (; *s && k + 1 < cap; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        out[k++] = ok ? c : '_';
    }
    out[k] = '\0';
}

void ae_table_name(const char *provider, const char *model, uint32_t dim,
                   char out[AE_TABLE_NAME_MAX])
{
    char p[33], m[41], hex[AE_BLAKE3_HEX_LEN + 1];
    sanitize(provider, p, sizeof p);
    sanitize(model, m, sizeof m);
    char *key = ae_asprintf("%s\n%s\n%" PRIu32, provider, model, dim);
    blake3_hex(key ? key : "", key ? strlen(key) : 0, hex);
    free(key);
    snprintf(out, AE_TABLE_NAME_MAX, "d%" PRIu32 "-%s-%s-%.8s", dim, p, m, hex);
}

static int valid_key(const char *provider, const char *model, uint32_t dim, ae_error *err)
{
    AE_RETURN_IF(!provider || !*provider || strchr(provider, '\n'), err, AE_EINVAL,
                 "vector table needs a provider name without newlines");
    AE_RETURN_IF(!model || !*model || strchr(model, '\n'), err, AE_EINVAL,
                 "vector table needs a model name without newlines");
    AE_RETURN_IF(dim == 0 || dim > AE_MAX_DIM, err, AE_EINVAL,
                 "vector dimension must be 1..%d, not %" PRIu32, AE_MAX_DIM, dim);
    return 0;
}

/* Reads the marker: AE_ENOTOURS if missing or foreign. */
static int read_marker(const char *dir, char **provider, char **model, uint32_t *dim, ae_error *err)
{
    *provider = *model = NULL;
    char *path = ae_path_join(dir, AE_TABLE_MARKER);
    if (!path) return ae_fail(err, AE_ENOMEM, "out of memory");
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    free(path);
    const char *p = NULL, *m = NULL, *magic = NULL;
    json_int_t d = 0;
    int rc = 0;
    if (!j ||
        json_unpack(j, "{s:s,s:s,s:s,s:I}", "magic", &magic, "provider", &p, "model", &m, "dim",
                    &d) < 0 ||
        strcmp(magic, "aether-vector-table") || d <= 0 || d > AE_MAX_DIM) {
        rc = ae_fail(err, AE_ENOTOURS, "%s was not created by aether (no valid %s marker)", dir,
                     AE_TABLE_MARKER);
    } else {
        *provider = ae_strdup(p);
        *model = ae_strdup(m);
        *dim = (uint32_t)d;
        if (!*provider || !*model) rc = ae_fail(err, AE_ENOMEM, "out of memory");
    }
    json_decref(j);
    return rc;
}

int ae_table_read_key(const char *table_dir, char **provider, char **model, uint32_t *dim,
                      ae_error *err)
{
    return read_marker(table_dir, provider, model, dim, err);
}

static bool dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return false;
    struct dirent *de;
    bool empty = true;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) empty = false;
    closedir(d);
    return empty;
}

static int create_layout(const char *vectors_dir, const char *dir, const char *provider,
                         const char *model, uint32_t dim, ae_error *err)
{
    static const char *const subdirs[] = {"data", "deletions", "versions", "index"};
    AE_TRY(ae_mkdirs(dir, err));
    for (size_t i = 0; i < sizeof subdirs / sizeof *subdirs; i++) {
        char *p = ae_path_join(dir, subdirs[i]);
        if (!p) return ae_fail(err, AE_ENOMEM, "out of memory");
        int rc = vio_mkdir(p, err);
        free(p);
        if (rc < 0) return rc;
    }
    json_t *j =
        json_pack("{s:s,s:i,s:s,s:s,s:I}", "magic", "aether-vector-table", "format",
                  AE_MANIFEST_FORMAT, "provider", provider, "model", model, "dim", (json_int_t)dim);
    char *text = j ? json_dumps(j, JSON_SORT_KEYS) : NULL;
    json_decref(j);
    char *path = ae_path_join(dir, AE_TABLE_MARKER);
    int rc = 0;
    if (!text || !path)
        rc = ae_fail(err, AE_ENOMEM, "out of memory");
    else
        rc = ae_write_file_atomic(path, text, strlen(text), err);
    free(text);
    free(path);
    if (rc == 0) rc = vio_fsync_dir(dir, err);
    /* and the table's own entry: without it a power loss can drop the whole
     * table, acknowledged commits included (test_table_powerloss) */
    if (rc == 0) rc = vio_fsync_dir(vectors_dir, err);
    return rc;
}

/* Process-global (a process that only builds, e.g. the watcher's index child, waits longer);
 * 0: AE_LOCK_DEFAULT_TIMEOUT_MS. */
static int default_lock_timeout_ms;

void ae_table_set_default_lock_timeout(int ms)
{
    default_lock_timeout_ms = ms;
}

static void apply_defaults(ae_table_opts *o, const ae_table_opts *in)
{
    if (in)
        *o = *in;
    else
        memset(o, 0, sizeof *o);
    if (o->lock_timeout_ms == 0)
        o->lock_timeout_ms =
            default_lock_timeout_ms ? default_lock_timeout_ms : AE_LOCK_DEFAULT_TIMEOUT_MS;
    if (o->retention_ms == 0) o->retention_ms = AE_TABLE_DEFAULT_RETENTION_MS;
    if (o->retention_ms < 0) o->retention_ms = 0;
    if (o->retention_ms > AE_TABLE_MAX_RETENTION_MS) o->retention_ms = AE_TABLE_MAX_RETENTION_MS;
    if (o->keep_versions == 0) o->keep_versions = AE_TABLE_DEFAULT_KEEP_VERSIONS;
    if (o->fragment_rows == 0) o->fragment_rows = AE_TABLE_DEFAULT_FRAGMENT_ROWS;
    if (o->fragment_rows > AE_TABLE_MAX_FRAGMENT_ROWS)
        o->fragment_rows = AE_TABLE_MAX_FRAGMENT_ROWS;
}

static int finish_open(char *dir, char *name, char *provider, char *model, uint32_t dim,
                       const ae_table_opts *opts, ae_table **out, ae_error *err)
{
    ae_table *t = calloc(1, sizeof *t);
    if (!t || !dir || !name || !provider || !model) {
        free(t);
        free(dir);
        free(name);
        free(provider);
        free(model);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    t->dir = dir;
    t->name = name;
    t->provider = provider;
    t->model = model;
    t->dim = dim;
    t->lock_fd = -1;
    apply_defaults(&t->opts, opts);
    int rc = snapshot_load_latest(t, NULL, &t->snap, err);
    t->snap_gen = 1;
    if (rc < 0) {
        ae_table_close(t);
        return rc;
    }
    *out = t;
    return 0;
}

int ae_table_open(const char *vectors_dir, const char *provider, const char *model, uint32_t dim,
                  int create, const ae_table_opts *opts, ae_table **out, ae_error *err)
{
    *out = NULL;
    AE_TRY(valid_key(provider, model, dim, err));
    char name[AE_TABLE_NAME_MAX];
    ae_table_name(provider, model, dim, name);
    char *dir = ae_path_join(vectors_dir, name);
    if (!dir) return ae_fail(err, AE_ENOMEM, "out of memory");
    int rc = 0;
    char *mp = NULL, *mm = NULL;
    uint32_t md = 0;
    if (!ae_is_dir(dir)) {
        if (!create) {
            rc = ae_fail(err, AE_ENOTFOUND,
                         "no vector table for provider %s, model %s, dim %" PRIu32 " in %s",
                         provider, model, dim, vectors_dir);
            goto fail;
        }
        if ((rc = create_layout(vectors_dir, dir, provider, model, dim, err)) < 0) goto fail;
    } else {
        rc = read_marker(dir, &mp, &mm, &md, err);
        if (rc == AE_ENOTOURS && create && dir_is_empty(dir)) {
            rc = create_layout(vectors_dir, dir, provider, model, dim, err);
        } else if (rc == 0 && (md != dim || strcmp(mp, provider) || strcmp(mm, model))) {
            rc = ae_fail(err, AE_EINVAL,
                         "vector table %s holds provider %s, model %s, dim %" PRIu32
                         ", not %s, %s, %" PRIu32,
                         name, mp, mm, md, provider, model, dim);
        }
        free(mp);
        free(mm);
        if (rc < 0) goto fail;
    }
    return finish_open(dir, ae_strdup(name), ae_strdup(provider), ae_strdup(model), dim, opts, out,
                       err);
fail:
    free(dir);
    return rc;
}

int ae_table_open_dir(const char *table_dir, const ae_table_opts *opts, ae_table **out,
                      ae_error *err)
{
    *out = NULL;
    char *p = NULL, *m = NULL;
    uint32_t d = 0;
    AE_TRY(read_marker(table_dir, &p, &m, &d, err));
    const char *base = strrchr(table_dir, '/');
    base = base && base[1] ? base + 1 : table_dir;
    return finish_open(ae_strdup(table_dir), ae_strdup(base), p, m, d, opts, out, err);
}

void ae_table_close(ae_table *t)
{
    if (!t) return;
    vlock_release(t->lock_fd);
    snapshot_free(t->snap);
    idmap_free(&t->ids);
    free(t->versions_dir);
    free(t->dir);
    free(t->name);
    free(t->provider);
    free(t->model);
    free(t);
}

void ae_table_unlock(ae_table *t)
{
    if (!t || t->lock_fd < 0) return;
    vlock_release(t->lock_fd);
    t->lock_fd = -1;
}

static int reload(ae_table *t, ae_error *err)
{
    snapshot *ns = NULL;
    AE_TRY(snapshot_load_latest(t, t->snap, &ns, err));
    snapshot_free(t->snap);
    t->snap = ns;
    t->snap_gen++;
    idmap_free(&t->ids);
    t->ids_valid = false;
    return 0;
}

/* Milliseconds an mtime must be in the past before an unchanged one is trusted. */
#define VERSIONS_MTIME_SETTLE_MS 1000

/* Whether st shows versions/ as the last listing left it (and that listing's mtime was trusted). */
static bool versions_same(const ae_table *t, const struct stat *st)
{
    return t->versions_seen && st->st_ino == t->versions_ino &&
           st->st_mtim.tv_sec == t->versions_mtime.tv_sec &&
           st->st_mtim.tv_nsec == t->versions_mtime.tv_nsec;
}

/* Whether versions/ may have changed since the last listing; records what was
 * seen for the next call. */
static bool versions_changed(ae_table *t)
{
    if (!t->versions_dir && !(t->versions_dir = ae_path_join(t->dir, "versions"))) return true;
    struct stat st;
    if (stat(t->versions_dir, &st) != 0) {
        t->versions_seen = false;
        return true;
    }
    bool same = versions_same(t, &st);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t age_ms = (int64_t)(now.tv_sec - st.st_mtim.tv_sec) * 1000 +
                     (now.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
    t->versions_seen = age_ms > VERSIONS_MTIME_SETTLE_MS;
    t->versions_ino = st.st_ino;
    t->versions_mtime = st.st_mtim;
    return !same;
}

bool ae_table_refresh_due(const ae_table *t)
{
    if (t->lock_fd >= 0) return false;
    struct stat st;
    return !t->versions_dir || stat(t->versions_dir, &st) != 0 || !versions_same(t, &st);
}

int ae_table_refresh(ae_table *t, ae_error *err)
{
    if (t->lock_fd >= 0) return 0; /* we are the only writer: the snapshot is the newest */
    if (!versions_changed(t)) return 0;
    uint64_t next;
    int rc = snapshot_next_version(t->dir, &next, err);
    if (rc == 0 && !(next == t->snap->m.version + 1 || (next == 1 && t->snap->m.version == 0)))
        rc = reload(t, err);
    if (rc < 0) t->versions_seen = false; /* look again next time */
    return rc;
}

int table_lock(ae_table *t, ae_error *err)
{
    if (t->fatal)
        return ae_fail(err, AE_EFATAL, "vector table %s failed during a commit; reopen it",
                       t->name);
    if (t->lock_fd >= 0) return 0;
    AE_TRY(vlock_acquire(t->dir, t->name, t->opts.lock_timeout_ms, &t->lock_fd, err));
    /* C6: commit on top of the newest version.  When nobody committed since our snapshot
     * (a writer that unlocked between batches and re-locks) the snapshot and its id map
     * stay: no reload. */
    uint64_t next = 0;
    int rc = snapshot_next_version(t->dir, &next, err);
    if (rc == 0 && !(next == t->snap->m.version + 1 || (next == 1 && t->snap->m.version == 0))) {
        rc = reload(t, err);
        if (rc == 0) rc = snapshot_next_version(t->dir, &next, err);
    }
    if (rc == 0) t->next_version = next;
    if (rc < 0) {
        vlock_release(t->lock_fd);
        t->lock_fd = -1;
    }
    return rc;
}

static int ensure_ids(ae_table *t, ae_error *err)
{
    if (t->ids_valid) return 0;
    AE_TRY(idmap_build(&t->ids, t->snap, err));
    t->ids_valid = true;
    return 0;
}

int table_ensure_ids(ae_table *t, ae_error *err)
{
    return ensure_ids(t, err);
}

static int validate(const ae_table *t, const ae_vs_record *recs, size_t n, ae_error *err)
{
    AE_TRY(ae_vs_validate_records(recs, n, err));
    for (size_t i = 0; i < n; i++) {
        const ae_vs_record *r = &recs[i];
        size_t idlen = r->symbol_id ? strlen(r->symbol_id) : 0;
        AE_RETURN_IF(idlen == 0 || idlen > AE_SYMBOL_ID_MAX, err, AE_EINVAL,
                     "record %zu: symbol_id must be 1..%d bytes", i, AE_SYMBOL_ID_MAX);
        AE_RETURN_IF(!r->sir_hash, err, AE_EINVAL, "record %zu (%s): no sir_hash", i, r->symbol_id);
        AE_RETURN_IF(!r->provider || !r->model || strcmp(r->provider, t->provider) ||
                         strcmp(r->model, t->model),
                     err, AE_EINVAL, "record %zu (%s): provider/model %s/%s, table is %s/%s", i,
                     r->symbol_id, r->provider ? r->provider : "(null)",
                     r->model ? r->model : "(null)", t->provider, t->model);
        AE_RETURN_IF(r->dim != t->dim, err, AE_EINVAL,
                     "record %zu (%s): expected %" PRIu32 " dimensions, not %" PRIu32, i,
                     r->symbol_id, t->dim, r->dim);
        AE_RETURN_IF(!r->embedding, err, AE_EINVAL, "record %zu (%s): no embedding", i,
                     r->symbol_id);
        /* finite values: ae_vs_validate_records above */
    }
    return 0;
}

typedef struct pos {
    uint32_t frag, row;
} pos;

static int cmp_pos(const void *a, const void *b)
{
    const pos *x = a, *y = b;
    if (x->frag != y->frag) return x->frag < y->frag ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Sorted positions -> one commit_del per fragment (rows point into ps). */
static int group_dels(pos *ps, size_t n, uint32_t *rows, commit_del **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (!n) return 0;
    qsort(ps, n, sizeof *ps, cmp_pos);
    commit_del *d = ae_calloc_array(n, sizeof *d);
    if (!d) return AE_ENOMEM;
    size_t k = 0, w = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && ps[i].frag == ps[i - 1].frag && ps[i].row == ps[i - 1].row) continue;
        if (!k || d[k - 1].frag != ps[i].frag) {
            d[k].frag = ps[i].frag;
            d[k].rows = &rows[w];
            k++;
        }
        rows[w++] = ps[i].row;
        d[k - 1].n++;
    }
    *out = d;
    *n_out = k;
    return 0;
}

/* Finds the live rows of ids; fills ps (capacity n). */
static size_t find_rows(ae_table *t, const char *const *ids, size_t n, pos *ps)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t f, r;
        if (ids[i] && idmap_find(&t->ids, t->snap, ids[i], strlen(ids[i]), &f, &r) == 1)
            ps[k++] = (pos){f, r};
    }
    return k;
}

static int cmp_idx_by_id(const void *a, const void *b, void *ctx)
{
    const ae_vs_record *recs = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(recs[x].symbol_id, recs[y].symbol_id);
    if (c) return c;
    return x < y ? -1 : x > y;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

int ae_table_upsert(ae_table *t, const ae_vs_record *recs, size_t n, ae_error *err)
{
    AE_TRY(validate(t, recs, n, err));
    if (n == 0) return 0;
    if (n > UINT32_MAX) return ae_fail(err, AE_EINVAL, "batch of %zu rows is too large", n);
    AE_TRY(table_lock(t, err));
    AE_TRY(ensure_ids(t, err));
    int rc = 0;
    size_t *keep = ae_calloc_array(n, sizeof *keep);
    const char **ids = ae_calloc_array(n, sizeof *ids);
    const char **hashes = ae_calloc_array(n, sizeof *hashes);
    const char **provs = ae_calloc_array(n, sizeof *provs);
    const char **models = ae_calloc_array(n, sizeof *models);
    int64_t *updated = ae_calloc_array(n, sizeof *updated);
    const float **emb = ae_calloc_array(n, sizeof *emb); /* read in place by the writer */
    pos *ps = ae_calloc_array(n, sizeof *ps);
    uint32_t *rows = ae_calloc_array(n, sizeof *rows);
    commit_del *dels = NULL;
    size_t n_dels = 0;
    if (!keep || !ids || !hashes || !provs || !models || !updated || !emb || !ps || !rows)
        AE_FAIL(err, AE_ENOMEM, "out of memory for a batch of %zu rows", n);
    /* last record of an id wins: sort indices by (id, index), keep each run's last */
    for (size_t i = 0; i < n; i++)
        keep[i] = i;
    qsort_r(keep, n, sizeof *keep, cmp_idx_by_id, (void *)recs);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && !strcmp(recs[keep[i]].symbol_id, recs[keep[i + 1]].symbol_id)) continue;
        keep[m++] = keep[i];
    }
    qsort(keep, m, sizeof *keep, cmp_size); /* batch order, for a stable layout */
    int64_t now = ae_now_ms();
    for (size_t i = 0; i < m; i++) {
        const ae_vs_record *r = &recs[keep[i]];
        ids[i] = r->symbol_id;
        hashes[i] = r->sir_hash;
        provs[i] = r->provider;
        models[i] = r->model;
        updated[i] = r->updated_at ? r->updated_at : now;
        emb[i] = r->embedding;
    }
    size_t found = find_rows(t, ids, m, ps);
    if (group_dels(ps, found, rows, &dels, &n_dels) < 0) AE_FAIL(err, AE_ENOMEM, "out of memory");
    ae_fragment_rows fr = {m, t->dim, ids, hashes, provs, models, NULL, updated, emb};
    commit_plan plan = {.append = &fr, .dels = dels, .n_dels = n_dels};
    rc = commit_apply(t, &plan, err);
    if (rc == 0) compact_after_append(t);
cleanup:
    free(keep);
    free(ids);
    free(hashes);
    free(provs);
    free(models);
    free(updated);
    free(emb);
    free(ps);
    free(rows);
    free(dels);
    return rc;
}

int ae_table_delete(ae_table *t, const char *const *ids, size_t n, size_t *n_deleted, ae_error *err)
{
    if (n_deleted) *n_deleted = 0;
    if (n == 0) return 0;
    pos *ps = ae_calloc_array(n, sizeof *ps);
    uint32_t *rows = ae_calloc_array(n, sizeof *rows);
    commit_del *dels = NULL;
    size_t n_dels = 0;
    int rc = 0;
    if (!ps || !rows) AE_FAIL(err, AE_ENOMEM, "out of memory");
    if (t->lock_fd < 0) {
        /* none of the ids in the newest version: nothing to lock or commit */
        AE_CHECK(ae_table_refresh(t, err));
        AE_CHECK(ensure_ids(t, err));
        if (find_rows(t, ids, n, ps) == 0) goto cleanup;
    }
    AE_CHECK(table_lock(t, err));
    AE_CHECK(ensure_ids(t, err));
    size_t found = find_rows(t, ids, n, ps);
    if (group_dels(ps, found, rows, &dels, &n_dels) < 0) AE_FAIL(err, AE_ENOMEM, "out of memory");
    size_t total = 0;
    for (size_t i = 0; i < n_dels; i++)
        total += dels[i].n;
    if (total) {
        commit_plan plan = {.dels = dels, .n_dels = n_dels};
        AE_CHECK(commit_apply(t, &plan, err));
    }
    if (n_deleted) *n_deleted = total;
cleanup:
    free(ps);
    free(rows);
    free(dels);
    return rc;
}

uint64_t ae_table_version(const ae_table *t)
{
    return t->snap->m.version;
}

uint64_t ae_table_snapshot_gen(const ae_table *t)
{
    return t->snap_gen;
}

size_t ae_table_rows_live(const ae_table *t)
{
    return t->snap->rows_live;
}

uint32_t ae_table_dim(const ae_table *t)
{
    return t->dim;
}

const char *ae_table_provider(const ae_table *t)
{
    return t->provider;
}

const char *ae_table_model(const ae_table *t)
{
    return t->model;
}

const char *ae_table_get_name(const ae_table *t)
{
    return t->name;
}

const char *ae_table_dir(const ae_table *t)
{
    return t->dir;
}

int ae_table_status_get(ae_table *t, ae_table_status *st, ae_error *err)
{
    memset(st, 0, sizeof *st);
    snprintf(st->name, sizeof st->name, "%s", t->name);
    snprintf(st->provider, sizeof st->provider, "%s", t->provider);
    snprintf(st->model, sizeof st->model, "%s", t->model);
    st->dim = t->dim;
    st->version = t->snap->m.version;
    st->rows_live = t->snap->rows_live;
    st->rows_deleted = t->snap->rows_total - t->snap->rows_live;
    st->fragments = t->snap->m.n_fragments;
    st->has_index = t->snap->m.index.ref.file != NULL;
    st->index_covers_version = t->snap->m.index.covers_version;
    st->index_rows = t->snap->m.index.rows;
    if (st->has_index) st->index_tuned = t->snap->m.index.tuned;
    uint64_t *vs = NULL;
    AE_TRY(manifest_list(t->dir, &vs, &st->versions_retained, err));
    free(vs);
    return 0;
}

int ae_tables_list(const char *vectors_dir, ae_strlist *names, ae_error *err)
{
    memset(names, 0, sizeof *names);
    DIR *d = opendir(vectors_dir);
    if (!d) {
        if (errno == ENOENT) return 0;
        return ae_fail_errno(err, errno, "open %s", vectors_dir);
    }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char *dir = ae_path_join(vectors_dir, de->d_name);
        char *marker = dir ? ae_path_join(dir, AE_TABLE_MARKER) : NULL;
        if (!marker) {
            free(dir);
            rc = ae_fail(err, AE_ENOMEM, "out of memory");
            break;
        }
        char *p = NULL, *m = NULL;
        uint32_t dim = 0;
        bool ours = ae_path_exists(marker) && read_marker(dir, &p, &m, &dim, NULL) == 0;
        free(p);
        free(m);
        free(marker);
        free(dir);
        if (ours && ae_strlist_push(names, de->d_name) < 0) {
            rc = ae_fail(err, AE_ENOMEM, "out of memory");
            break;
        }
    }
    closedir(d);
    if (rc < 0)
        ae_strlist_free(names);
    else
        ae_strlist_sort(names);
    return rc;
}

int ae_tables_each(const char *vectors_dir, const ae_table_opts *opts, ae_table_each_fn fn,
                   void *ctx, ae_error *err)
{
    ae_strlist names = {0};
    AE_TRY(ae_tables_list(vectors_dir, &names, err));
    int rc = 0;
    for (size_t i = 0; i < names.len && rc == 0; i++) {
        char *path = ae_path_join(vectors_dir, names.items[i]);
        ae_table *t = NULL;
        rc = path ? ae_table_open_dir(path, opts, &t, err)
                  : ae_fail(err, AE_ENOMEM, "out of memory");
        free(path);
        if (rc == 0) rc = fn(&t, ctx, err);
        ae_table_close(t);
    }
    ae_strlist_free(&names);
    return rc;
}
