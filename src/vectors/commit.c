/* The commit: how a new version of a table becomes visible.
 *
 * Invariants (tests cite them by number):
 *   C1. Files are immutable once written.  New rows go to a new fragment
 *       file, new deletions to a new deletion file (copy-on-write), a new
 *       version to a new manifest; a file named by a retained manifest is
 *       never modified or removed (cleanup removes only unreferenced files).
 *   C2. Before a manifest is published, every file it names is complete and
 *       durable: the file is fsynced, then its directory.
 *   C3. The manifest is written to versions/.tmp-<V>-<token>, fsynced, then link()ed
 *       to versions/<V>.manifest.  link never replaces an existing file, so a
 *       version is never overwritten, and a writer racing us (which the lock
 *       should make impossible) gets AE_EBUSY instead of a lost update.  The
 *       link is the point of no return.
 *   C4. After the link the versions directory is fsynced.  A failure there or
 *       later (installing the new snapshot) leaves the handle fatal: writes
 *       return AE_EFATAL until the table is reopened.
 *   C5. Readers open the highest version whose manifest is complete and valid
 *       (snapshot.c).  With C2 + C3, a crash at any step leaves either the old
 *       version or the new one as that version, complete; the files of an
 *       unpublished commit are orphans no manifest names.
 *   C6. Only the holder of the writer lock commits, on top of the newest
 *       version (table_lock refreshes after locking); V = highest manifest
 *       file name + 1, so a corrupt newest manifest is skipped, not reused.
 *   C7. Orphans of a failed or crashed commit are removed best-effort at once,
 *       and otherwise by the next cleanup (compact.c); readers ignore them.
 *
 * Writer states and their transitions (each a function below):
 *   READER    --table_lock (table.c)-->          WRITER  (lock held, snapshot newest)
 *   WRITER    --stage_append (write_fragment, write_deletion)
 *               | stage_replace (compaction), stage_index, sync_staged-->
 *                                                STAGED  (files durable, unpublished)
 *   STAGED    --publish_manifest (link)-->       PUBLISHED
 *   PUBLISHED --install_snapshot (fsync versions/, swap, idmap)--> WRITER
 *   WRITER|STAGED --error, rollback-->           WRITER  (orphans unlinked)
 *   PUBLISHED --error-->                         FATAL   (AE_EFATAL until reopened)
 *
 * commit_apply checks the preconditions (not fatal, the lock held) and opens
 * the I/O phase once around commit_apply_nolock, which is the transitions in
 * order; it then rolls back or marks the handle fatal.
 *
 * Every I/O call here goes through ae_vio (io.h) and is one numbered step of
 * the "commit" phase, so test_commit_crash can abort at each step in turn. */
#include "vectors/table_internal.h"

#include "util/blake3.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"
#include "vectors/deletion.h"
#include "vectors/io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct staging {
    ae_table *t;
    char token[9];      /* makes this commit's file names unique to it (C3) */
    ae_strlist created; /* absolute paths, for rollback */
    bool wrote_data, wrote_del;
} staging;

static int add_fragment_slot(ae_manifest *m, ae_manifest_fragment **out)
{
    ae_manifest_fragment *f = ae_realloc_array(m->fragments, m->n_fragments + 1, sizeof *f);
    if (!f) return AE_ENOMEM;
    m->fragments = f;
    *out = &f[m->n_fragments++];
    memset(*out, 0, sizeof **out);
    return 0;
}

void commit_token(char out[9])
{
    static uint32_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint32_t tok = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec * 2654435761u ^
                   (uint32_t)getpid() * 40503u ^ ++counter * 0x9e3779b9u;
    snprintf(out, 9, "%08" PRIx32, tok);
}

int commit_write_fragment(ae_table *t, const char *token, uint64_t id, const ae_fragment_rows *rows,
                          ae_manifest_fragment *mf, ae_error *err)
{
    memset(mf, 0, sizeof *mf);
    char rel[64];
    snprintf(rel, sizeof rel, "data/%020" PRIu64 "-%s.arrow", id, token);
    char *path = ae_path_join(t->dir, rel);
    if (!path) return ae_fail(err, AE_ENOMEM, "out of memory");
    int rc = vio_external(path, err);
    uint64_t size = 0;
    uint8_t digest[AE_FRAGMENT_CHECKSUM_LEN];
    if (rc == 0) rc = ae_fragment_write_ex(path, rows, &size, digest, &mf->layout, err);
    free(path);
    if (rc < 0) return rc;
    mf->has_layout = true;
    mf->id = id;
    mf->rows = rows->n;
    mf->data.size = size;
    ae_hex_encode(digest, sizeof digest, mf->data.checksum);
    if (!(mf->data.file = ae_strdup(rel))) return ae_fail(err, AE_ENOMEM, "out of memory");
    return 0;
}

/* WRITER -> STAGED, part 1: one new fragment file holding `rows`. */
static int write_fragment(staging *st, ae_manifest *next, const ae_fragment_rows *rows,
                          ae_error *err)
{
    uint64_t id = next->next_fragment_id++;
    ae_manifest_fragment *f;
    if (add_fragment_slot(next, &f) < 0) return ae_fail(err, AE_ENOMEM, "out of memory");
    char rel[64];
    snprintf(rel, sizeof rel, "data/%020" PRIu64 "-%s.arrow", id, st->token);
    char *path = ae_path_join(st->t->dir, rel);
    if (!path || ae_strlist_push_owned(&st->created, path) < 0)
        return ae_fail(err, AE_ENOMEM, "out of memory");
    int rc = commit_write_fragment(st->t, st->token, id, rows, f, err);
    if (rc < 0) {
        next->n_fragments--;
        return rc;
    }
    st->wrote_data = true;
    return 0;
}

/* Sorted union of the rows already deleted and the new ones. */
static uint32_t *merge_rows(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, size_t *n)
{
    uint32_t *out = ae_calloc_array(na + nb + 1, sizeof *out);
    if (!out) return NULL;
    size_t i = 0, j = 0, k = 0;
    while (i < na || j < nb) {
        uint32_t v;
        if (j >= nb || (i < na && a[i] <= b[j]))
            v = a[i++];
        else
            v = b[j++];
        if (k == 0 || out[k - 1] != v) out[k++] = v;
    }
    *n = k;
    return out;
}

/* WRITER -> STAGED, part 2: the new deletion file of one fragment. */
static int write_deletion(staging *st, ae_manifest *next, const commit_del *d, ae_error *err)
{
    const snap_frag *sf = &st->t->snap->frags[d->frag];
    ae_manifest_fragment *mf = &next->fragments[d->frag];
    size_t n = 0;
    uint32_t *rows = merge_rows(sf->del_rows, sf->n_del, d->rows, d->n, &n);
    if (!rows) return ae_fail(err, AE_ENOMEM, "out of memory");
    char *data = NULL;
    size_t len = 0;
    int rc = deletion_encode(mf->id, rows, n, &data, &len, err);
    free(rows);
    if (rc < 0) return rc;
    char rel[96];
    snprintf(rel, sizeof rel, "deletions/%020" PRIu64 "-%020" PRIu64 "-%s.del", mf->id,
             next->version, st->token);
    char *path = ae_path_join(st->t->dir, rel);
    if (!path || ae_strlist_push_owned(&st->created, path) < 0) {
        free(data);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    rc = vio_write_file(path, data, len, err);
    if (rc == 0) {
        st->wrote_del = true;
        free(mf->deletion.file);
        mf->deletion.file = ae_strdup(rel);
        mf->deletion.size = len;
        blake3_hex(data, len, mf->deletion.checksum);
        mf->deleted = n;
        if (!mf->deletion.file) rc = ae_fail(err, AE_ENOMEM, "out of memory");
    }
    free(data);
    return rc;
}

static void rollback(staging *st)
{
    for (size_t i = 0; i < st->created.len; i++)
        vio_unlink(st->created.items[i], NULL);
}

/* STAGED -> PUBLISHED: temp manifest, fsync, link (C3). */
static int publish_manifest(staging *st, const ae_manifest *next, ae_error *err)
{
    char *text = NULL;
    size_t len = 0;
    AE_TRY(manifest_encode(next, &text, &len, err));
    char rel[64], tmp_rel[80];
    manifest_name(next->version, rel);
    snprintf(tmp_rel, sizeof tmp_rel, "versions/.tmp-%020" PRIu64 "-%s", next->version, st->token);
    char *path = ae_path_join(st->t->dir, rel);
    char *tmp = ae_path_join(st->t->dir, tmp_rel);
    int rc = 0;
    if (!path || !tmp || ae_strlist_push(&st->created, tmp) < 0)
        AE_FAIL(err, AE_ENOMEM, "out of memory");
    AE_CHECK(vio_write_file(tmp, text, len, err));
    if (ae_vio_cur->link(tmp, path) < 0) {
        int e = errno;
        if (e == EEXIST)
            AE_FAIL(err, AE_EBUSY,
                    "vector table %s: version %" PRIu64 " was committed by another writer",
                    st->t->name, next->version);
        rc = ae_fail_errno(err, e, "link %s", path);
        goto cleanup;
    }
cleanup:
    free(text);
    free(path);
    free(tmp);
    return rc;
}

/* The idmap follows a commit row by row; where it cannot (a fragment that
 * does not give an id back), it is dropped and rebuilt on next use. */
static void ids_invalidate(ae_table *t)
{
    idmap_free(&t->ids);
    t->ids_valid = false;
}

/* Every row of fragments [from, n) of the current snapshot enters the idmap. */
static int ids_insert_from(ae_table *t, size_t from)
{
    const snapshot *s = t->snap;
    for (size_t f = from; f < s->m.n_fragments; f++) {
        for (size_t r = 0; r < s->frags[f].rows; r++) {
            const char *id;
            size_t len;
            if (ae_fragment_symbol_id(s->frags[f].frag, r, &id, &len) < 0 ||
                idmap_insert(&t->ids, id, len, (uint32_t)f, (uint32_t)r) < 0)
                return -1;
        }
    }
    return 0;
}

/* Moves the idmap along an append-only commit: the deleted rows leave, the
 * rows of the new fragments (from old_frags on) enter. */
static void update_ids(ae_table *t, const commit_plan *plan, size_t old_frags)
{
    if (!t->ids_valid) return;
    const snapshot *s = t->snap;
    for (size_t i = 0; i < plan->n_dels; i++) {
        const commit_del *d = &plan->dels[i];
        for (size_t r = 0; r < d->n; r++) {
            const char *id;
            size_t len;
            if (ae_fragment_symbol_id(s->frags[d->frag].frag, d->rows[r], &id, &len) < 0) {
                ids_invalidate(t);
                return;
            }
            idmap_remove(&t->ids, d->frag, d->rows[r], id, len);
        }
    }
    if (ids_insert_from(t, old_frags) < 0) ids_invalidate(t);
}

/* After a compaction of fragments [from, n): the old rows leave the idmap
 * (read from the old snapshot, still open), the new ones enter. */
static void replace_ids(ae_table *t, const snapshot *old, size_t from)
{
    if (!t->ids_valid) return;
    for (size_t f = from; f < old->m.n_fragments; f++) {
        const snap_frag *sf = &old->frags[f];
        for (size_t r = 0; r < sf->rows; r++) {
            const char *id;
            size_t len;
            if (snap_row_deleted(sf, r)) continue;
            if (!sf->frag || ae_fragment_symbol_id(sf->frag, r, &id, &len) < 0) {
                ids_invalidate(t);
                return;
            }
            idmap_remove(&t->ids, (uint32_t)f, (uint32_t)r, id, len);
        }
    }
    if (ids_insert_from(t, from) < 0) ids_invalidate(t);
}

/* --- the transitions of commit_apply, in order ------------------------------ */

/* WRITER -> STAGED for a compaction: fragments [replace_from, n) of the
 * manifest are replaced by the ones compact.c already wrote and fsynced; the
 * index slot survives only if none of the rows it covers moved. */
static int stage_replace(staging *st, ae_manifest *next, const commit_plan *plan, ae_error *err)
{
    const snapshot *s = st->t->snap;
    for (size_t i = plan->replace_from; i < next->n_fragments; i++) {
        free(next->fragments[i].data.file);
        free(next->fragments[i].deletion.file);
    }
    next->n_fragments = plan->replace_from;
    size_t first_moved =
        plan->replace_from < s->m.n_fragments ? s->frags[plan->replace_from].base : s->rows_total;
    if (next->index.ref.file && first_moved < next->index.rows) {
        free(next->index.ref.file);
        memset(&next->index, 0, sizeof next->index); /* its row numbers changed */
    }
    next->next_fragment_id = plan->next_fragment_id;
    for (size_t i = 0; i < plan->n_written; i++) {
        ae_manifest_fragment *f;
        if (add_fragment_slot(next, &f) < 0) return ae_fail(err, AE_ENOMEM, "out of memory");
        *f = plan->written[i];
        memset(&f->deletion, 0, sizeof f->deletion);
        f->deleted = 0;
        if (!(f->data.file = ae_strdup(plan->written[i].data.file)))
            return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    st->wrote_data = plan->n_written > 0;
    return 0;
}

/* WRITER -> STAGED for an upsert or delete: the new fragment, then the new
 * deletion file of each fragment that loses rows. */
static int stage_append(staging *st, ae_manifest *next, const commit_plan *plan, ae_error *err)
{
    if (plan->append) AE_TRY(write_fragment(st, next, plan->append, err));
    for (size_t i = 0; i < plan->n_dels; i++)
        AE_TRY(write_deletion(st, next, &plan->dels[i], err));
    return 0;
}

/* The index slot of the next manifest (its file is already durable). */
static int stage_index(ae_manifest *next, const ae_manifest_index *ix, ae_error *err)
{
    free(next->index.ref.file);
    next->index = *ix;
    if (!(next->index.ref.file = ae_strdup(ix->ref.file)))
        return ae_fail(err, AE_ENOMEM, "out of memory");
    return 0;
}

/* fsync of the table's subdirectory `sub`, so the entries created in it are
 * durable (C2 for data/ and deletions/, C4 for versions/). */
static int sync_subdir(const ae_table *t, const char *sub, ae_error *err)
{
    char *dir = ae_path_join(t->dir, sub);
    if (!dir) return ae_fail(err, AE_ENOMEM, "out of memory");
    int rc = vio_fsync_dir(dir, err);
    free(dir);
    return rc;
}

/* STAGED: every file the next manifest names is durable before it is
 * published (C2). */
static int sync_staged(const staging *st, ae_error *err)
{
    if (st->wrote_data) AE_TRY(sync_subdir(st->t, "data", err));
    if (st->wrote_del) AE_TRY(sync_subdir(st->t, "deletions", err));
    return 0;
}

/* PUBLISHED -> WRITER: the temp manifest name goes (an orphan now: its unlink
 * may fail), versions/ is fsynced (C4), and the new snapshot replaces the old
 * one in the handle, the idmap moved along. */
static int install_snapshot(staging *st, ae_manifest *next, const commit_plan *plan, ae_error *err)
{
    ae_table *t = st->t;
    vio_unlink(st->created.items[st->created.len - 1], NULL);
    AE_TRY(sync_subdir(t, "versions", err));
    snapshot *ns = NULL;
    AE_TRY(snapshot_open(t, next, t->snap, &ns, err));
    snapshot *old = t->snap;
    size_t old_frags = old->m.n_fragments;
    t->snap = ns;
    t->snap_gen++;
    if (plan->replace)
        replace_ids(t, old, plan->replace_from);
    else
        update_ids(t, plan, old_frags);
    snapshot_free(old);
    return 0;
}

/* The body of a commit, each step a transition of the diagram at the top.
 * The caller (commit_apply) holds the writer lock, has opened the "commit"
 * I/O phase and undoes a failure: nothing here takes, checks or releases
 * them.  *published is set at the point of no return (C3). */
static int commit_apply_nolock(staging *st, ae_manifest *next, const commit_plan *plan,
                               bool *published, ae_error *err)
{
    ae_table *t = st->t;
    if (plan->replace)
        AE_TRY(stage_replace(st, next, plan, err));
    else
        AE_TRY(stage_append(st, next, plan, err));
    if (plan->set_index) AE_TRY(stage_index(next, plan->set_index, err));
    AE_TRY(sync_staged(st, err));
    int rc = publish_manifest(st, next, err);
    if (rc == AE_EBUSY) t->next_version = 0; /* someone bypassed the lock: recount */
    if (rc < 0) return rc;
    *published = true;
    t->next_version = next->version + 1;
    return install_snapshot(st, next, plan, err);
}

int commit_apply(ae_table *t, const commit_plan *plan, ae_error *err)
{
    if (t->fatal)
        return ae_fail(err, AE_EFATAL, "vector table %s failed during a commit; reopen it",
                       t->name);
    if (t->lock_fd < 0)
        return ae_fail(err, AE_EINVAL, "vector table %s: commit without the writer lock", t->name);
    uint64_t version = t->next_version; /* no other writer while we hold the lock */
    if (version <= t->snap->m.version) AE_TRY(snapshot_next_version(t->dir, &version, err));
    staging st = {.t = t};
    commit_token(st.token);
    ae_manifest next;
    if (manifest_copy(&t->snap->m, &next) < 0) return ae_fail(err, AE_ENOMEM, "out of memory");
    /* entries of an older manifest get the layout of their open fragment,
     * so readers of this version map them without reading them */
    for (size_t i = 0; i < next.n_fragments; i++) {
        if (next.fragments[i].has_layout || !t->snap->frags[i].frag) continue;
        ae_fragment_get_layout(t->snap->frags[i].frag, &next.fragments[i].layout);
        next.fragments[i].has_layout = true;
    }
    next.version = version;
    next.created_at = ae_now_ms();
    bool published = false;

    vio_phase_begin("commit");
    int rc = commit_apply_nolock(&st, &next, plan, &published, err);
    vio_phase_end();

    if (rc < 0 && !published) rollback(&st); /* WRITER|STAGED --error--> WRITER */
    if (rc < 0 && published) {               /* PUBLISHED --error--> FATAL */
        t->fatal = true;
        ae_err_prefix(err,
                      "vector table %s: version %" PRIu64
                      " was published but the commit could not finish (reopen the table): ",
                      t->name, version);
    }
    ae_strlist_free(&st.created);
    manifest_free(&next);
    return rc;
}
