/* Repair of a table's damaged files (ae_table_repair, table.h).
 *
 * 1. What is damaged comes from ae_table_fsck, the same check `--fsck`
 *    reports: every problem names its file, relative to the table.
 * 2. Order, so a crash at any point leaves a table that reads and that a
 *    second repair finishes: first one commit (the usual temp + fsync + link
 *    + fsync, C2-C4) publishes a version without the damaged files, then the
 *    damaged files and every manifest still naming one move to quarantine/.
 *    Until the move, readers already see the new version (the highest valid
 *    one); after it, no retained manifest names a missing file.
 * 3. Nothing is deleted: quarantine/<file with '/' as '_'> keeps the bytes,
 *    and <same>.note (one line) says when and why.
 * 4. A fragment whose deletion file is damaged is dropped with it: which of
 *    its rows are live is unknown, and a resurrected deleted row would be a
 *    wrong answer without an error.  The caller rewrites the live rows. */
#include "vectors/table_internal.h"

#include "util/clock.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"
#include "vectors/io.h"
#include "vectors/lock.h"

#include <aether/strlist.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUARANTINE_DIR "quarantine"

static void act(ae_table_repair_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void act(ae_table_repair_report *rep, const char *fmt, ...)
{
    if (!rep->actions) return;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) >= 0) ae_strlist_push_owned(rep->actions, s);
    va_end(ap);
}

static bool in_list(const ae_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->len; i++)
        if (!strcmp(l->items[i], s)) return true;
    return false;
}

/* Why `file` is damaged (the fsck message without a leading "file: "), or NULL. */
static const char *damage_of(const ae_table_fsck_report *fr, const char *file)
{
    size_t n = strlen(file);
    for (size_t i = 0; i < fr->n_problems; i++) {
        if (!fr->problems[i].file || strcmp(fr->problems[i].file, file)) continue;
        const char *m = fr->problems[i].message;
        const char *at = strstr(m, file);
        if (at && at[n] == ':' && at[n + 1] == ' ') return at + n + 2;
        return m;
    }
    return NULL;
}

static bool names_damaged(const ae_manifest *m, const ae_table_fsck_report *fr)
{
    for (size_t i = 0; i < m->n_fragments; i++) {
        if (damage_of(fr, m->fragments[i].data.file)) return true;
        if (m->fragments[i].deletion.file && damage_of(fr, m->fragments[i].deletion.file))
            return true;
    }
    return m->index.ref.file && damage_of(fr, m->index.ref.file);
}

/* Moves table_dir/rel to quarantine/ and writes its note.  A file already
 * gone (a second repair after a crash) is fine. */
static int quarantine(const char *dir, const char *rel, const char *why,
                      ae_table_repair_report *rep, ae_error *err)
{
    char *src = ae_path_join(dir, rel);
    char *qdir = ae_path_join(dir, QUARANTINE_DIR);
    if (!src || !qdir) {
        free(src);
        free(qdir);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    int rc = 0;
    char flat[256];
    snprintf(flat, sizeof flat, "%s", rel);
    for (char *p = flat; *p; p++)
        if (*p == '/') *p = '_';
    char *dst = NULL, *note = NULL, *text = NULL;
    if (!ae_path_exists(src)) goto cleanup;
    AE_CHECK(vio_mkdir(qdir, err));
    dst = ae_path_join(qdir, flat);
    if (!dst) AE_FAIL(err, AE_ENOMEM, "out of memory");
    if (ae_path_exists(dst)) { /* a second copy of the same name: keep both */
        free(dst);
        char alt[300];
        snprintf(alt, sizeof alt, "%s.%" PRId64, flat, ae_now_ms());
        dst = ae_path_join(qdir, alt);
        if (!dst) AE_FAIL(err, AE_ENOMEM, "out of memory");
    }
    if (asprintf(&note, "%s.note", dst) < 0) note = NULL;
    int len = asprintf(&text, "quarantined %s at %" PRId64 " ms by aetherd --repair: %s\n", rel,
                       ae_now_ms(), why);
    if (!note || len < 0) AE_FAIL(err, AE_ENOMEM, "out of memory");
    AE_CHECK(vio_rename(src, dst, err));
    rep->files_quarantined++;
    (void)vio_unlink(note, NULL);
    AE_CHECK(vio_write_file(note, text, (size_t)len, err));
    AE_CHECK(vio_fsync_dir(qdir, err));
cleanup:
    free(src);
    free(qdir);
    free(dst);
    free(note);
    free(text);
    return rc;
}

/* Largest fragment id named in data/ (files of lost commits included), so a
 * rebuilt manifest never hands out an id twice. */
static uint64_t max_data_id(const char *dir)
{
    char *d = ae_path_join(dir, "data");
    DIR *dp = d ? opendir(d) : NULL;
    free(d);
    uint64_t max = 0;
    if (!dp) return 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        char *end;
        unsigned long long v = strtoull(e->d_name, &end, 10);
        if (end != e->d_name && *end == '-' && v > max) max = v;
    }
    closedir(dp);
    return max;
}

/* Files a lost commit wrote (data fragments with ids from the fallback's
 * next_fragment_id on, deletion files of later versions): nothing intact
 * names them and cleanup would delete them, so they go to quarantine, where
 * their rows stay for whoever wants them back (imported rows have no other
 * source). */
static int quarantine_lost_files(const char *dir, const ae_manifest *best, bool have_best,
                                 ae_table_repair_report *rep, ae_error *err)
{
    static const char *const subs[] = {"data", "deletions"};
    for (size_t s = 0; s < 2; s++) {
        char *d = ae_path_join(dir, subs[s]);
        if (!d) return ae_fail(err, AE_ENOMEM, "out of memory");
        DIR *dp = opendir(d);
        free(d);
        if (!dp) continue;
        ae_strlist names = {0};
        struct dirent *e;
        while ((e = readdir(dp))) {
            char *end;
            unsigned long long id = strtoull(e->d_name, &end, 10);
            if (end == e->d_name || *end != '-') continue;
            bool lost;
            if (s == 0) {
                lost = !have_best || id >= best->next_fragment_id;
            } else {
                unsigned long long v = strtoull(end + 1, &end, 10);
                lost = *end == '-' && (!have_best || v > best->version);
            }
            if (lost && ae_strlist_push(&names, e->d_name) < 0) {
                closedir(dp);
                ae_strlist_free(&names);
                return ae_fail(err, AE_ENOMEM, "out of memory");
            }
        }
        closedir(dp);
        int rc = 0;
        for (size_t i = 0; i < names.len && rc == 0; i++) {
            char rel[300];
            snprintf(rel, sizeof rel, "%s/%s", subs[s], names.items[i]);
            rc = quarantine(dir, rel, "written by a commit whose manifest is lost", rep, err);
            if (rc == 0)
                act(rep, "%s: written by a lost commit; moved to %s/", rel, QUARANTINE_DIR);
        }
        ae_strlist_free(&names);
        AE_TRY(rc);
    }
    return 0;
}

/* One commit of manifest `next` (version already set): temp, fsync, link,
 * fsync versions/ (C3, C4).  The caller holds the writer lock. */
static int publish(const char *dir, const ae_manifest *next, ae_error *err)
{
    char *text = NULL;
    size_t len = 0;
    AE_TRY(manifest_encode(next, &text, &len, err));
    char rel[64], tmp_rel[80], token[9];
    commit_token(token);
    manifest_name(next->version, rel);
    snprintf(tmp_rel, sizeof tmp_rel, "versions/.tmp-%020" PRIu64 "-%s", next->version, token);
    char *path = ae_path_join(dir, rel), *tmp = ae_path_join(dir, tmp_rel);
    char *vdir = ae_path_join(dir, "versions");
    int rc = 0;
    if (!path || !tmp || !vdir) AE_FAIL(err, AE_ENOMEM, "out of memory");
    AE_CHECK(vio_write_file(tmp, text, len, err));
    rc = vio_link(tmp, path, err);
    (void)vio_unlink(tmp, NULL);
    if (rc < 0) goto cleanup;
    rc = vio_fsync_dir(vdir, err);
cleanup:
    free(text);
    free(path);
    free(tmp);
    free(vdir);
    return rc;
}

/* The newest intact version minus its damaged files, committed. */
static int commit_without(const char *dir, const ae_manifest *best, const ae_table_fsck_report *fr,
                          uint64_t version, ae_table_repair_report *rep, ae_error *err)
{
    ae_manifest next;
    if (manifest_copy(best, &next) < 0) return ae_fail(err, AE_ENOMEM, "out of memory");
    next.version = version;
    next.created_at = ae_now_ms();
    size_t kept = 0;
    uint64_t base = 0, first_moved = UINT64_MAX;
    for (size_t i = 0; i < next.n_fragments; i++) {
        ae_manifest_fragment *f = &next.fragments[i];
        const char *why = damage_of(fr, f->data.file);
        const char *dwhy = f->deletion.file ? damage_of(fr, f->deletion.file) : NULL;
        if (why || dwhy) {
            uint64_t live = f->rows - (f->rows >= f->deleted ? f->deleted : f->rows);
            if (why)
                act(rep, "%s: damaged (%s); %" PRIu64 " live rows of %" PRIu64 " to rewrite",
                    f->data.file, why, live, f->rows);
            else
                act(rep,
                    "%s: damaged (%s); its fragment %s is dropped with it: %" PRIu64
                    " live rows to rewrite",
                    f->deletion.file, dwhy, f->data.file, live);
            rep->rows_dropped += live;
            rep->fragments_dropped++;
            if (first_moved == UINT64_MAX) first_moved = base;
            base += f->rows;
            free(f->data.file);
            free(f->deletion.file);
            continue;
        }
        base += f->rows;
        next.fragments[kept++] = *f;
    }
    next.n_fragments = kept;
    const char *iwhy = next.index.ref.file ? damage_of(fr, next.index.ref.file) : NULL;
    if (next.index.ref.file && (iwhy || first_moved < next.index.rows)) {
        if (iwhy)
            act(rep, "%s: damaged (%s); the index slot is cleared, the index is rebuilt when due",
                next.index.ref.file, iwhy);
        else
            act(rep, "%s: covered rows of a dropped fragment; the index slot is cleared",
                next.index.ref.file);
        free(next.index.ref.file);
        memset(&next.index, 0, sizeof next.index);
        rep->index_cleared = true;
    }
    uint64_t nid = max_data_id(dir) + 1;
    if (next.next_fragment_id < nid) next.next_fragment_id = nid;
    int rc = publish(dir, &next, err);
    manifest_free(&next);
    if (rc == 0) {
        rep->new_version = version;
        act(rep, "committed version %" PRIu64 " without the damaged files", version);
    }
    return rc;
}

/* Every corrupt manifest goes; so does every intact one naming a damaged
 * file (it cannot be read whole any more). */
static int quarantine_manifests(const char *dir, const uint64_t *vs, size_t n,
                                const ae_table_fsck_report *fr, uint64_t keep,
                                ae_table_repair_report *rep, ae_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (vs[i] == keep) continue;
        char name[64];
        manifest_name(vs[i], name);
        const char *why = damage_of(fr, name);
        if (why) {
            if (vs[i] > rep->fallback_version)
                act(rep, "%s: damaged (%s); the commit of version %" PRIu64 " is lost", name, why,
                    vs[i]);
            else
                act(rep, "%s: damaged (%s); an older version, nothing lost", name, why);
            AE_TRY(quarantine(dir, name, why, rep, err));
            continue;
        }
        char *path = ae_path_join(dir, name);
        if (!path) return ae_fail(err, AE_ENOMEM, "out of memory");
        ae_manifest m;
        ae_error e;
        int r = manifest_read(path, &m, &e);
        free(path);
        if (r < 0) continue; /* vanished or unreadable since the check: the next check says */
        bool bad = names_damaged(&m, fr);
        manifest_free(&m);
        if (!bad) continue;
        act(rep,
            "%s: names a damaged file; quarantined (version %" PRIu64 " can no longer be read)",
            name, vs[i]);
        AE_TRY(quarantine(dir, name, "names a damaged file", rep, err));
    }
    return 0;
}

static int repair_locked(const char *dir, ae_table_repair_report *rep, ae_error *err)
{
    ae_table_fsck_report fr;
    AE_TRY(ae_table_fsck(dir, &fr, err));
    uint64_t *vs = NULL;
    size_t n = 0;
    ae_manifest best = {0};
    bool have_best = false;
    int rc = 0;
    if (!fr.n_problems) goto cleanup;
    AE_CHECK(manifest_list(dir, &vs, &n, err));
    /* The newest manifest that reads (its files may be damaged). */
    for (size_t i = n; i > 0 && !have_best; i--) {
        char name[64];
        manifest_name(vs[i - 1], name);
        if (damage_of(&fr, name)) continue;
        char *path = ae_path_join(dir, name);
        if (!path) AE_FAIL(err, AE_ENOMEM, "out of memory");
        ae_error e;
        int r = manifest_read(path, &best, &e);
        free(path);
        if (r == 0 && best.version == vs[i - 1])
            have_best = true;
        else if (r == 0)
            manifest_free(&best);
    }
    rep->fallback_version = have_best ? best.version : 0;
    for (size_t i = 0; i < n; i++)
        if (vs[i] > rep->fallback_version) rep->versions_lost++;
    uint64_t keep = have_best ? best.version : 0;
    if (have_best && names_damaged(&best, &fr)) {
        AE_CHECK(commit_without(dir, &best, &fr, vs[n - 1] + 1, rep, err));
        keep = rep->new_version;
    } else if (rep->versions_lost) {
        act(rep, "the newest intact version is %" PRIu64 "; %" PRIu64 " newer commits are lost",
            rep->fallback_version, rep->versions_lost);
    }
    AE_CHECK(quarantine_manifests(dir, vs, n, &fr, keep, rep, err));
    if (rep->versions_lost) AE_CHECK(quarantine_lost_files(dir, &best, have_best, rep, err));
    /* The damaged data, deletion and index files themselves. */
    ae_strlist done = {0};
    for (size_t i = 0; i < fr.n_problems && rc == 0; i++) {
        const char *f = fr.problems[i].file;
        if (!f || !strncmp(f, "versions/", 9) || in_list(&done, f)) continue;
        if (ae_strlist_push(&done, f) < 0) {
            rc = ae_fail(err, AE_ENOMEM, "out of memory");
            break;
        }
        rc = quarantine(dir, f, fr.problems[i].message, rep, err);
        if (rc == 0) act(rep, "%s: moved to %s/", f, QUARANTINE_DIR);
    }
    ae_strlist_free(&done);
cleanup:
    if (have_best) manifest_free(&best);
    free(vs);
    ae_table_fsck_report_free(&fr);
    return rc;
}

int ae_table_repair(const char *table_dir, ae_table_repair_report *rep, ae_error *err)
{
    ae_strlist *actions = rep->actions;
    memset(rep, 0, sizeof *rep);
    rep->actions = actions;
    const char *base = strrchr(table_dir, '/');
    base = base && base[1] ? base + 1 : table_dir;
    int fd = -1;
    AE_TRY(vlock_acquire(table_dir, base, AE_LOCK_DEFAULT_TIMEOUT_MS, &fd, err));
    int rc = repair_locked(table_dir, rep, err);
    vlock_release(fd);
    if (rc < 0) ae_err_prefix(err, "repair of vector table %s: ", base);
    return rc;
}
