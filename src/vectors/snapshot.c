/* Snapshots: a committed version opened for reading.
 *
 * 1. Readers pick the highest version whose manifest is complete and valid;
 *    a corrupt newest manifest falls back to the one before it (verify reports
 *    it).  A manifest of a newer format is an error, never skipped, so an old
 *    build cannot silently show stale data.
 * 2. If a file named by the chosen manifest has vanished (a cleanup ran
 *    between reading the manifest and opening the file), the load starts over
 *    from the newest version, a bounded number of times.
 * 3. Fragments and unchanged deletion sets are handed over from the previous
 *    snapshot instead of being reopened, so a commit costs O(changed files).
 * 4. A manifest entry with a "layout" is mapped without reading the file:
 *    opening a table reads its manifest (and deletion files), not one footer
 *    per fragment.  Entries without one (older manifests) are opened by their
 *    footer, and the next commit writes their layout. */
#include "vectors/table_internal.h"

#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"
#include "vectors/deletion.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { LOAD_RETRIES = 5 };

void snapshot_free(snapshot *s)
{
    if (!s) return;
    if (s->frags) {
        for (size_t i = 0; i < s->m.n_fragments; i++) {
            ae_fragment_close(s->frags[i].frag);
            free(s->frags[i].del_rows);
            free(s->frags[i].deleted);
        }
    }
    free(s->frags);
    free(s->frag_of);
    manifest_free(&s->m);
    free(s);
}

/* Fills s->frag_of (table_internal.h) with about four slots per fragment, so
 * that snap_locate looks at one or two fragments instead of searching them
 * all (a re-rank looks up hundreds of rows per query).  Without memory for
 * it, lookups search every fragment: slower, same answers. */
static void index_rows(snapshot *s)
{
    size_t nf = s->m.n_fragments;
    if (nf < 2 || s->rows_total == 0 || nf > UINT32_MAX) return;
    unsigned shift = 0;
    while (shift < 40 && (s->rows_total >> shift) > 4 * nf)
        shift++;
    size_t slots = (s->rows_total >> shift) + 2;
    uint32_t *of = ae_calloc_array(slots, sizeof *of);
    if (!of) return;
    size_t f = 0;
    for (size_t j = 0; j < slots; j++) {
        size_t first = j << shift; /* the last fragment starting at or before it */
        while (f + 1 < nf && s->frags[f + 1].base <= first)
            f++;
        of[j] = (uint32_t)f;
    }
    s->frag_of = of;
    s->row_shift = shift;
}

void snapshot_advise(const snapshot *s, size_t from, bool sequential)
{
    for (size_t i = from; i < s->m.n_fragments; i++)
        if (s->frags[i].frag) ae_fragment_advise(s->frags[i].frag, sequential);
}

static int build_bitmap(snap_frag *sf)
{
    if (!sf->n_del) return 0;
    sf->deleted = calloc((sf->rows + 7) / 8, 1);
    if (!sf->deleted) return AE_ENOMEM;
    for (size_t i = 0; i < sf->n_del; i++)
        sf->deleted[sf->del_rows[i] >> 3] |= (uint8_t)(1u << (sf->del_rows[i] & 7));
    return 0;
}

static snap_frag *find_reusable(snapshot *reuse, uint64_t id, const char **del_file)
{
    if (!reuse) return NULL;
    for (size_t j = 0; j < reuse->m.n_fragments; j++) {
        if (reuse->frags[j].id == id && reuse->frags[j].frag) {
            *del_file = reuse->m.fragments[j].deletion.file;
            return &reuse->frags[j];
        }
    }
    return NULL;
}

/* Where a fragment of a new snapshot came from, so a failed open can give
 * everything back and leave the previous snapshot whole. */
typedef struct origin {
    snap_frag *old;
    bool took_del;
} origin;

static int open_frag(const ae_table *t, const ae_manifest_fragment *mf, snapshot *reuse,
                     snap_frag *sf, origin *o, ae_error *err)
{
    sf->id = mf->id;
    sf->rows = (size_t)mf->rows;
    const char *old_del = NULL;
    snap_frag *old = find_reusable(reuse, mf->id, &old_del);
    if (old) {
        o->old = old;
        sf->frag = old->frag;
        old->frag = NULL;
        bool same_del = (!old_del && !mf->deletion.file) ||
                        (old_del && mf->deletion.file && !strcmp(old_del, mf->deletion.file));
        if (same_del) {
            sf->del_rows = old->del_rows;
            sf->n_del = old->n_del;
            sf->deleted = old->deleted;
            old->del_rows = NULL;
            old->deleted = NULL;
            old->n_del = 0;
            o->took_del = true;
            return 0;
        }
    } else {
        char *path = ae_path_join(t->dir, mf->data.file);
        if (!path) return ae_fail(err, AE_ENOMEM, "out of memory");
        /* with the manifest's layout no page of the fragment is read (4.) */
        int rc = mf->has_layout
                     ? ae_fragment_open_layout(path, (size_t)mf->rows, t->dim, mf->data.size,
                                               &mf->layout, &sf->frag, err)
                     : ae_fragment_open(path, &sf->frag, err);
        free(path);
        if (rc < 0) return rc;
        if (ae_fragment_nrows(sf->frag) != mf->rows)
            return ae_fail(err, AE_ECORRUPT, "%s: %zu rows, manifest says %" PRIu64, mf->data.file,
                           ae_fragment_nrows(sf->frag), mf->rows);
        if (ae_fragment_dim(sf->frag) != t->dim)
            return ae_fail(err, AE_ECORRUPT, "%s: %" PRIu32 " dimensions, table has %" PRIu32,
                           mf->data.file, ae_fragment_dim(sf->frag), t->dim);
    }
    if (mf->deletion.file) {
        char *path = ae_path_join(t->dir, mf->deletion.file);
        if (!path) return ae_fail(err, AE_ENOMEM, "out of memory");
        int rc = deletion_read(path, mf->id, mf->rows, &sf->del_rows, &sf->n_del, err);
        free(path);
        if (rc < 0) return rc;
        if (sf->n_del != mf->deleted)
            return ae_fail(err, AE_ECORRUPT, "%s: %zu deleted rows, manifest says %" PRIu64,
                           mf->deletion.file, sf->n_del, mf->deleted);
        if (build_bitmap(sf) < 0) return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    return 0;
}

int snapshot_open(const ae_table *t, ae_manifest *m, snapshot *reuse, snapshot **out, ae_error *err)
{
    *out = NULL;
    snapshot *s = calloc(1, sizeof *s);
    if (!s) return ae_fail(err, AE_ENOMEM, "out of memory");
    s->frags = ae_calloc_array(m->n_fragments + 1, sizeof *s->frags);
    if (!s->frags) {
        free(s);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    origin *from = ae_calloc_array(m->n_fragments + 1, sizeof *from);
    if (!from) {
        free(s->frags);
        free(s);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    s->m = *m; /* taken over; on failure handed back untouched below */
    int rc = 0;
    for (size_t i = 0; i < m->n_fragments; i++) {
        rc = open_frag(t, &m->fragments[i], reuse, &s->frags[i], &from[i], err);
        if (rc < 0) break;
        s->frags[i].base = s->rows_total;
        s->rows_total += s->frags[i].rows;
        s->rows_live += s->frags[i].rows - s->frags[i].n_del;
    }
    if (rc < 0) {
        memset(&s->m, 0, sizeof s->m); /* the caller still owns m */
        for (size_t i = 0; i < m->n_fragments; i++) {
            snap_frag *sf = &s->frags[i], *old = from[i].old;
            if (old) {
                old->frag = sf->frag;
                sf->frag = NULL;
            }
            if (old && from[i].took_del) {
                old->del_rows = sf->del_rows;
                old->deleted = sf->deleted;
                old->n_del = sf->n_del;
                sf->del_rows = NULL;
                sf->deleted = NULL;
            }
            ae_fragment_close(sf->frag);
            free(sf->del_rows);
            free(sf->deleted);
        }
        free(from);
        free(s->frags);
        free(s);
        return rc;
    }
    free(from);
    memset(m, 0, sizeof *m);
    index_rows(s);
    *out = s;
    return 0;
}

static int check_key(const ae_table *t, const ae_manifest *m, const char *name, ae_error *err)
{
    if (m->dim != t->dim || strcmp(m->provider, t->provider) || strcmp(m->model, t->model))
        return ae_fail(err, AE_EINVAL,
                       "%s: manifest is for provider %s, model %s, dim %" PRIu32
                       "; the table is for %s, %s, %" PRIu32,
                       name, m->provider, m->model, m->dim, t->provider, t->model, t->dim);
    return 0;
}

static int empty_snapshot(const ae_table *t, snapshot **out, ae_error *err)
{
    ae_manifest m = {0};
    m.provider = ae_strdup(t->provider);
    m.model = ae_strdup(t->model);
    m.dim = t->dim;
    m.next_fragment_id = 1;
    if (!m.provider || !m.model) {
        manifest_free(&m);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    int rc = snapshot_open(t, &m, NULL, out, err);
    manifest_free(&m);
    return rc;
}

int snapshot_load_latest(const ae_table *t, snapshot *reuse, snapshot **out, ae_error *err)
{
    *out = NULL;
    for (int attempt = 0; attempt < LOAD_RETRIES; attempt++) {
        uint64_t *vs = NULL;
        size_t n = 0;
        AE_TRY(manifest_list(t->dir, &vs, &n, err));
        int rc = 0;
        bool retry = false;
        size_t i = n;
        for (; i > 0; i--) {
            char name[64];
            manifest_name(vs[i - 1], name);
            char *path = ae_path_join(t->dir, name);
            if (!path) {
                rc = ae_fail(err, AE_ENOMEM, "out of memory");
                break;
            }
            ae_manifest m;
            rc = manifest_read(path, &m, err);
            free(path);
            if (rc == AE_ECORRUPT || rc == AE_ENOTFOUND) {
                rc = 0; /* torn or vanished: the previous version is the newest valid one */
                continue;
            }
            if (rc < 0) break;
            if (m.version != vs[i - 1]) {
                manifest_free(&m);
                continue; /* a manifest under the wrong name is not trusted */
            }
            rc = check_key(t, &m, name, err);
            if (rc == 0) rc = snapshot_open(t, &m, reuse, out, err);
            manifest_free(&m);
            if (rc == AE_ENOTFOUND) retry = true;
            break;
        }
        free(vs);
        if (retry) continue;
        if (rc < 0) return rc;
        if (*out) return 0;
        return empty_snapshot(t, out, err);
    }
    return ae_err_prefix(err, "vector table %s kept changing while opening it: ", t->name);
}

int snapshot_next_version(const char *dir, uint64_t *v, ae_error *err)
{
    uint64_t *vs = NULL;
    size_t n = 0;
    AE_TRY(manifest_list(dir, &vs, &n, err));
    *v = n ? vs[n - 1] + 1 : 1;
    free(vs);
    return 0;
}
