/* Verify: a full, read-only check of a table directory.
 *
 * 1. Every manifest in versions/ is decoded (checksum, completeness); every
 *    file a valid manifest names is read in full: size and BLAKE3 against the
 *    manifest, then the fragment's own structure and values, the deletion
 *    file's order and range, the row counts.
 * 2. A file named by several manifests is checked once.
 * 3. Problems are collected, not returned as the first error, so one run
 *    lists everything that is wrong, each with the file name. */
#include "vectors/table_internal.h"

#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"
#include "vectors/deletion.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_problem(ae_table_fsck_report *rep, int code, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int add_problem(ae_table_fsck_report *rep, int code, const char *file, const char *fmt, ...)
{
    ae_table_fsck_problem *p =
        ae_realloc_array(rep->problems, rep->n_problems + 1, sizeof *rep->problems);
    if (!p) return AE_ENOMEM;
    rep->problems = p;
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0) msg = NULL;
    va_end(ap);
    char *f = ae_strdup(file);
    if (!msg || !f) {
        free(msg);
        free(f);
        return AE_ENOMEM;
    }
    p[rep->n_problems++] = (ae_table_fsck_problem){code, f, msg};
    return 0;
}

void ae_table_fsck_report_free(ae_table_fsck_report *rep)
{
    if (!rep) return;
    for (size_t i = 0; i < rep->n_problems; i++) {
        free(rep->problems[i].file);
        free(rep->problems[i].message);
    }
    free(rep->problems);
    memset(rep, 0, sizeof *rep);
}

static int hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

/* Size and checksum of one referenced file; 1 if they match. */
static int check_ref(const char *dir, const ae_file_ref *ref, ae_table_fsck_report *rep)
{
    char *path = ae_path_join(dir, ref->file);
    if (!path) return AE_ENOMEM;
    char sum[AE_CHECKSUM_HEX_LEN + 1];
    uint64_t size = 0;
    ae_error e;
    ae_error_clear(&e);
    int rc = file_checksum(path, sum, &size, &e);
    free(path);
    rep->files_checked++;
    if (rc < 0) return add_problem(rep, rc, ref->file, "%s: %s", ref->file, e.message);
    if (size != ref->size)
        return add_problem(rep, AE_ECORRUPT, ref->file,
                           "%s: %" PRIu64 " bytes, manifest says %" PRIu64, ref->file, size,
                           ref->size);
    if (strcmp(sum, ref->checksum))
        return add_problem(rep, AE_ECORRUPT, ref->file, "%s: checksum mismatch", ref->file);
    return 1;
}

static int check_fragment(const char *dir, const ae_manifest *m, const ae_manifest_fragment *mf,
                          ae_table_fsck_report *rep)
{
    int ok = check_ref(dir, &mf->data, rep);
    if (ok <= 0) return ok;
    char *path = ae_path_join(dir, mf->data.file);
    if (!path) return AE_ENOMEM;
    ae_fragment *f = NULL;
    ae_error e;
    ae_error_clear(&e);
    uint8_t digest[AE_FRAGMENT_CHECKSUM_LEN];
    int rc = ae_fragment_open(path, &f, &e);
    free(path);
    if (rc == 0 && hex_to_bytes(mf->data.checksum, digest, sizeof digest) == 0)
        rc = ae_fragment_verify(f, digest, &e);
    if (rc < 0) {
        rc = add_problem(rep, rc, mf->data.file, "%s", e.message);
    } else if (ae_fragment_nrows(f) != mf->rows) {
        rc = add_problem(rep, AE_ECORRUPT, mf->data.file, "%s: %zu rows, manifest says %" PRIu64,
                         mf->data.file, ae_fragment_nrows(f), mf->rows);
    } else if (ae_fragment_dim(f) != m->dim) {
        rc = add_problem(rep, AE_ECORRUPT, mf->data.file,
                         "%s: %" PRIu32 " dimensions, manifest says %" PRIu32, mf->data.file,
                         ae_fragment_dim(f), m->dim);
    } else if (mf->has_layout) {
        ae_fragment_layout lay;
        ae_fragment_get_layout(f, &lay);
        if (memcmp(&lay, &mf->layout, sizeof lay) != 0)
            rc = add_problem(rep, AE_ECORRUPT, mf->data.file,
                             "%s: the manifest's layout of the fragment differs from the file's "
                             "(footer at %" PRIu64 ", manifest says %" PRIu64 ")",
                             mf->data.file, lay.footer, mf->layout.footer);
    }
    ae_fragment_close(f);
    return rc;
}

static int check_deletion(const char *dir, const ae_manifest_fragment *mf,
                          ae_table_fsck_report *rep)
{
    int ok = check_ref(dir, &mf->deletion, rep);
    if (ok <= 0) return ok;
    char *path = ae_path_join(dir, mf->deletion.file);
    if (!path) return AE_ENOMEM;
    uint32_t *rows = NULL;
    size_t n = 0;
    ae_error e;
    ae_error_clear(&e);
    int rc = deletion_read(path, mf->id, mf->rows, &rows, &n, &e);
    free(path);
    free(rows);
    if (rc < 0) return add_problem(rep, rc, mf->deletion.file, "%s", e.message);
    if (n != mf->deleted)
        return add_problem(rep, AE_ECORRUPT, mf->deletion.file,
                           "%s: %zu deleted rows, manifest says %" PRIu64, mf->deletion.file, n,
                           mf->deleted);
    return 0;
}

static bool seen_before(ae_strlist *seen, const char *file)
{
    for (size_t i = 0; i < seen->len; i++)
        if (!strcmp(seen->items[i], file)) return true;
    ae_strlist_push(seen, file);
    return false;
}

static int check_manifest(const char *dir, const ae_manifest *m, ae_strlist *seen,
                          ae_table_fsck_report *rep)
{
    int rc = 0;
    for (size_t i = 0; i < m->n_fragments && rc >= 0; i++) {
        const ae_manifest_fragment *mf = &m->fragments[i];
        if (!seen_before(seen, mf->data.file)) rc = check_fragment(dir, m, mf, rep);
        if (rc >= 0 && mf->deletion.file && !seen_before(seen, mf->deletion.file))
            rc = check_deletion(dir, mf, rep);
    }
    if (rc >= 0 && m->index.ref.file && !seen_before(seen, m->index.ref.file)) {
        rc = check_ref(dir, &m->index.ref, rep);
        if (rc >= 0 && m->index.covers_version > m->version)
            rc = add_problem(rep, AE_ECORRUPT, m->index.ref.file,
                             "%s: index covers version %" PRIu64 ", newer than %" PRIu64,
                             m->index.ref.file, m->index.covers_version, m->version);
    }
    return rc < 0 ? rc : 0;
}

int ae_table_fsck(const char *table_dir, ae_table_fsck_report *rep, ae_error *err)
{
    memset(rep, 0, sizeof *rep);
    uint64_t *vs = NULL;
    size_t n = 0;
    AE_TRY(manifest_list(table_dir, &vs, &n, err));
    ae_strlist seen = {0};
    int rc = 0;
    for (size_t i = n; i > 0; i--) { /* newest first: its files are the ones in use */
        char name[64];
        manifest_name(vs[i - 1], name);
        char *path = ae_path_join(table_dir, name);
        if (!path) AE_FAIL(err, AE_ENOMEM, "out of memory");
        ae_manifest m;
        ae_error e;
        ae_error_clear(&e);
        int r = manifest_read(path, &m, &e);
        free(path);
        rep->versions_checked++;
        if (r < 0) {
            if (add_problem(rep, r, name, "%s", e.message) < 0)
                AE_FAIL(err, AE_ENOMEM, "out of memory");
            continue;
        }
        if (m.version != vs[i - 1]) {
            r = add_problem(rep, AE_ECORRUPT, name, "%s: holds version %" PRIu64, name, m.version);
        } else {
            if (!rep->latest_version) {
                rep->latest_version = m.version;
                for (size_t f = 0; f < m.n_fragments; f++)
                    rep->rows_live += m.fragments[f].rows - m.fragments[f].deleted;
            }
            r = check_manifest(table_dir, &m, &seen, rep);
        }
        manifest_free(&m);
        if (r < 0) AE_FAIL(err, AE_ENOMEM, "out of memory verifying %s", table_dir);
    }
cleanup:
    ae_strlist_free(&seen);
    free(vs);
    if (rc < 0) ae_table_fsck_report_free(rep);
    return rc;
}
