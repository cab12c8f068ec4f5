/* test_table_powerloss: power loss (unsynced writes lost) at every I/O step
 * of an upsert, a delete and a compaction.
 *
 * test_table_crash aborts the process, so the page cache survives and every
 * write made before the crash is still there.  Here an ae_vio layer of our
 * own models what a power cut keeps instead:
 *   - per file (inode), the bytes made durable by its last fsync versus the
 *     bytes written since;
 *   - per directory, the entries made durable by its last fsync (vio_fsync_dir
 *     opens the directory and fsyncs it) versus the creates, links, renames
 *     and unlinks done since, kept in order.
 * The operation runs with a "power cut" at step N: the N-th call and every
 * later one fail with EIO and do nothing.  Then the table directory is
 * rebuilt as the power loss could have left it: every file at its durable
 * content (never fsynced: empty), at a random prefix of its unsynced tail
 * (torn), or whole; the pending directory operations undone, replayed up to
 * a prefix of their order (metadata journaled in order), or replayed for any
 * subset of the directories (no order between directories).  Each distinct
 * state is reopened with the default I/O: it must hold exactly the old or
 * exactly the new version, ae_table_fsck must find nothing wrong, and the
 * next writer must commit on top.  Once the operation has returned success,
 * every state must hold the new version (the commit is durable, C4). */
#include "test_table_util.h"

#include "util/fs.h"
#include "util/mem.h"
#include "vectors/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

static const char *P = "hash", *M = "hash_v1";
enum { DIM = 8 };
enum { MAX_INO = 512, MAX_ENT = 128, MAX_DIRS = 8, MAX_OPS = 512, MAX_FD = 4096, NAME = 96 };

/* ---- the model ----------------------------------------------------------- */

typedef struct inode {
    ae_buf cur; /* everything written */
    ae_buf dur; /* as of the last fsync */
} inode;

typedef struct ent {
    char name[NAME];
    int ino;
} ent;

typedef struct dirm {
    char rel[32]; /* "" for the table directory itself */
    ent cur[MAX_ENT], dur[MAX_ENT];
    size_t ncur, ndur;
} dirm;

enum op_kind { OP_ADD, OP_DEL, OP_RENAME };

typedef struct dop {
    int dir;
    enum op_kind kind;
    char from[NAME], to[NAME]; /* OP_ADD: to; OP_DEL: from; OP_RENAME: both */
    int ino;
    bool settled; /* a later fsync of its directory made it durable */
} dop;

static struct {
    char root[512]; /* the table directory */
    inode ino[MAX_INO];
    size_t nino;
    dirm dirs[MAX_DIRS];
    size_t ndirs;
    dop ops[MAX_OPS];
    size_t nops;
    int fd_kind[MAX_FD]; /* 0 untracked, 1 file, 2 directory */
    int fd_obj[MAX_FD];
    unsigned steps, cut_at;
    bool cut;
    int unexpected; /* calls the model cannot follow */
} L;

static ent *ent_find(ent *l, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i].name, name)) return &l[i];
    return NULL;
}

static void ent_set(ent *l, size_t *n, const char *name, int ino)
{
    ent *e = ent_find(l, *n, name);
    if (!e) {
        assert_true(*n < MAX_ENT);
        e = &l[(*n)++];
        snprintf(e->name, sizeof e->name, "%s", name);
    }
    e->ino = ino;
}

static void ent_del(ent *l, size_t *n, const char *name)
{
    ent *e = ent_find(l, *n, name);
    if (e) *e = l[--*n];
}

static void apply_op(ent *l, size_t *n, const dop *o)
{
    if (o->kind == OP_DEL || o->kind == OP_RENAME) ent_del(l, n, o->from);
    if (o->kind == OP_ADD || o->kind == OP_RENAME) ent_set(l, n, o->to, o->ino);
}

static int new_inode(void)
{
    assert_true(L.nino < MAX_INO);
    memset(&L.ino[L.nino], 0, sizeof L.ino[L.nino]);
    return (int)L.nino++;
}

static void model_free(void)
{
    for (size_t i = 0; i < L.nino; i++) {
        ae_buf_free(&L.ino[i].cur);
        ae_buf_free(&L.ino[i].dur);
    }
    L.nino = L.ndirs = L.nops = 0;
}

/* Splits an absolute path under the table directory into (directory, name);
 * name is "" for a directory itself.  -1 if the path is elsewhere. */
static int split(const char *path, const char **name)
{
    size_t rl = strlen(L.root);
    if (strncmp(path, L.root, rl) || (path[rl] && path[rl] != '/')) return -1;
    const char *rel = path[rl] ? path + rl + 1 : path + rl;
    const char *slash = strchr(rel, '/');
    for (size_t d = 0; d < L.ndirs; d++) {
        const char *dr = L.dirs[d].rel;
        size_t dl = strlen(dr);
        if (!slash && d == 0) {
            /* a file in the root, or a subdirectory itself */
            for (size_t s = 1; s < L.ndirs; s++)
                if (!strcmp(L.dirs[s].rel, rel)) {
                    *name = "";
                    return (int)s;
                }
            *name = rel;
            return 0;
        }
        if (slash && d > 0 && (size_t)(slash - rel) == dl && !strncmp(rel, dr, dl) &&
            !strchr(slash + 1, '/')) {
            *name = slash + 1;
            return (int)d;
        }
    }
    return -1;
}

static void read_whole(const char *path, ae_buf *b)
{
    char *data = NULL;
    size_t len = 0;
    ae_error err;
    TT_OK(ae_read_file(path, &data, &len, &err));
    assert_int_equal(ae_buf_append(b, data, len), 0);
    free(data);
}

/* The table directory as it is now, all of it durable. */
static void model_scan(const char *root)
{
    model_free();
    snprintf(L.root, sizeof L.root, "%s", root);
    L.ndirs = 1;
    memset(&L.dirs[0], 0, sizeof L.dirs[0]);
    DIR *d = opendir(root);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char *p = ae_path_join(root, de->d_name);
        if (ae_is_dir(p)) {
            assert_true(L.ndirs < MAX_DIRS);
            dirm *dm = &L.dirs[L.ndirs++];
            memset(dm, 0, sizeof *dm);
            snprintf(dm->rel, sizeof dm->rel, "%.31s", de->d_name);
        }
        free(p);
    }
    closedir(d);
    for (size_t i = 0; i < L.ndirs; i++) {
        dirm *dm = &L.dirs[i];
        char *dp = i ? ae_path_join(root, dm->rel) : strdup(root);
        d = opendir(dp);
        assert_non_null(d);
        while ((de = readdir(d))) {
            char *p = ae_path_join(dp, de->d_name);
            if (!ae_is_dir(p)) {
                int n = new_inode();
                read_whole(p, &L.ino[n].cur);
                assert_int_equal(ae_buf_append(&L.ino[n].dur, L.ino[n].cur.data, L.ino[n].cur.len),
                                 0);
                ent_set(dm->cur, &dm->ncur, de->d_name, n);
            }
            free(p);
        }
        closedir(d);
        memcpy(dm->dur, dm->cur, sizeof dm->cur);
        dm->ndur = dm->ncur;
        free(dp);
    }
}

/* ---- the layer ----------------------------------------------------------- */

/* Counts one step; -1 with EIO once the power is cut. */
static int step(void)
{
    if (L.cut || ++L.steps >= L.cut_at) {
        L.cut = true;
        errno = EIO;
        return -1;
    }
    return 0;
}

static void log_op(int dir, enum op_kind kind, const char *from, const char *to, int ino)
{
    assert_true(L.nops < MAX_OPS);
    dop *o = &L.ops[L.nops++];
    memset(o, 0, sizeof *o);
    o->dir = dir;
    o->kind = kind;
    snprintf(o->from, sizeof o->from, "%s", from ? from : "");
    snprintf(o->to, sizeof o->to, "%s", to ? to : "");
    o->ino = ino;
    apply_op(L.dirs[dir].cur, &L.dirs[dir].ncur, o);
}

static int pl_open(const char *path, int flags, mode_t mode)
{
    if (step() < 0) return -1;
    const char *name;
    int d = split(path, &name);
    int fd = open(path, flags | O_CLOEXEC, mode);
    if (fd < 0) return fd;
    if (d < 0 || fd >= MAX_FD) {
        L.unexpected++;
        return fd;
    }
    if (!*name) { /* a directory, opened to fsync it */
        L.fd_kind[fd] = 2;
        L.fd_obj[fd] = d;
        return fd;
    }
    dirm *dm = &L.dirs[d];
    ent *e = ent_find(dm->cur, dm->ncur, name);
    int ino;
    if (e) {
        ino = e->ino;
        if (flags & O_TRUNC) L.ino[ino].cur.len = 0;
    } else {
        ino = new_inode();
        log_op(d, OP_ADD, NULL, name, ino);
    }
    L.fd_kind[fd] = 1;
    L.fd_obj[fd] = ino;
    return fd;
}

static ssize_t pl_write(int fd, const void *buf, size_t n)
{
    if (step() < 0) return -1;
    ssize_t w = write(fd, buf, n);
    if (w > 0 && fd < MAX_FD && L.fd_kind[fd] == 1)
        assert_int_equal(ae_buf_append(&L.ino[L.fd_obj[fd]].cur, buf, (size_t)w), 0);
    else if (w > 0)
        L.unexpected++;
    return w;
}

static int pl_fsync(int fd)
{
    if (step() < 0) return -1;
    /* the model is what survives; the real fsync would only cost time */
    if (fd >= MAX_FD || !L.fd_kind[fd]) {
        L.unexpected++;
        return 0;
    }
    if (L.fd_kind[fd] == 1) {
        inode *in = &L.ino[L.fd_obj[fd]];
        in->dur.len = 0;
        assert_int_equal(ae_buf_append(&in->dur, in->cur.data ? in->cur.data : "", in->cur.len), 0);
    } else {
        int d = L.fd_obj[fd];
        dirm *dm = &L.dirs[d];
        memcpy(dm->dur, dm->cur, sizeof dm->cur);
        dm->ndur = dm->ncur;
        for (size_t i = 0; i < L.nops; i++)
            if (L.ops[i].dir == d) L.ops[i].settled = true;
    }
    return 0;
}

static int pl_close(int fd)
{
    if (fd >= 0 && fd < MAX_FD) L.fd_kind[fd] = 0;
    return close(fd);
}

static int pl_rename(const char *from, const char *to)
{
    if (step() < 0) return -1;
    const char *nf, *nt;
    int df = split(from, &nf), dt = split(to, &nt);
    int rc = rename(from, to);
    if (rc < 0) return rc;
    ent *e = df >= 0 ? ent_find(L.dirs[df].cur, L.dirs[df].ncur, nf) : NULL;
    if (df < 0 || df != dt || !e) {
        L.unexpected++;
        return rc;
    }
    log_op(df, OP_RENAME, nf, nt, e->ino);
    return rc;
}

static int pl_link(const char *from, const char *to)
{
    if (step() < 0) return -1;
    const char *nf, *nt;
    int df = split(from, &nf), dt = split(to, &nt);
    int rc = link(from, to);
    if (rc < 0) return rc;
    ent *e = df >= 0 ? ent_find(L.dirs[df].cur, L.dirs[df].ncur, nf) : NULL;
    if (dt < 0 || !e) {
        L.unexpected++;
        return rc;
    }
    log_op(dt, OP_ADD, NULL, nt, e->ino);
    return rc;
}

static int pl_unlink(const char *path)
{
    if (step() < 0) return -1;
    const char *name;
    int d = split(path, &name);
    int rc = unlink(path);
    if (rc < 0) return rc;
    if (d < 0 || !ent_find(L.dirs[d].cur, L.dirs[d].ncur, name)) {
        L.unexpected++;
        return rc;
    }
    log_op(d, OP_DEL, name, NULL, -1);
    return rc;
}

static int pl_mkdir(const char *path, mode_t mode)
{
    if (step() < 0) return -1;
    int rc = mkdir(path, mode);
    if (rc == 0) L.unexpected++; /* the table's directories exist already */
    return rc;
}

static const ae_vio powerloss_vio = {
    pl_open, pl_write, pl_fsync, pl_close, pl_rename, pl_link, pl_unlink, pl_mkdir,
};

/* ---- rebuilding a state after the power loss ---------------------------- */

enum content { C_DURABLE, C_TORN, C_FULL };

typedef struct variant {
    enum content content;
    bool by_prefix;
    size_t prefix; /* pending operations replayed, in order */
    unsigned mask; /* or: the directories whose pending operations survive */
    uint64_t *rng;
} variant;

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 0x100000001b3ull;
    return h;
}

static int cmp_ent(const void *a, const void *b)
{
    return strcmp(((const ent *)a)->name, ((const ent *)b)->name);
}

/* Writes the state `v` selects into the table directory; returns its hash. */
static uint64_t materialize(const variant *v)
{
    static ent ns[MAX_DIRS][MAX_ENT];
    size_t nns[MAX_DIRS];
    size_t seen = 0;
    for (size_t d = 0; d < L.ndirs; d++) {
        memcpy(ns[d], L.dirs[d].dur, sizeof ns[d]);
        nns[d] = L.dirs[d].ndur;
    }
    for (size_t i = 0; i < L.nops; i++) {
        const dop *o = &L.ops[i];
        if (o->settled) continue;
        bool keep = v->by_prefix ? seen < v->prefix : (v->mask >> o->dir) & 1;
        seen++;
        if (keep) apply_op(ns[o->dir], &nns[o->dir], o);
    }
    /* the content of each inode, chosen once (hard links share it) */
    static size_t len[MAX_INO];
    static const char *src[MAX_INO];
    for (size_t i = 0; i < L.nino; i++) {
        const inode *in = &L.ino[i];
        src[i] = in->dur.data;
        len[i] = in->dur.len;
        bool extends = in->cur.len >= in->dur.len &&
                       (!in->dur.len || !memcmp(in->cur.data, in->dur.data, in->dur.len));
        if (v->content == C_FULL) {
            src[i] = in->cur.data;
            len[i] = in->cur.len;
        } else if (v->content == C_TORN && extends) {
            src[i] = in->cur.data;
            len[i] = in->dur.len + (size_t)(rnd(v->rng) % (in->cur.len - in->dur.len + 1));
        }
    }
    tt_rmrf(L.root);
    assert_int_equal(mkdir(L.root, 0755), 0);
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t d = 0; d < L.ndirs; d++) {
        char *dp = d ? ae_path_join(L.root, L.dirs[d].rel) : strdup(L.root);
        if (d) assert_int_equal(mkdir(dp, 0755), 0);
        qsort(ns[d], nns[d], sizeof(ent), cmp_ent);
        h = fnv(h, L.dirs[d].rel, strlen(L.dirs[d].rel) + 1);
        for (size_t i = 0; i < nns[d]; i++) {
            int n = ns[d][i].ino;
            char *p = ae_path_join(dp, ns[d][i].name);
            FILE *f = fopen(p, "wb");
            assert_non_null(f);
            if (len[n]) assert_int_equal(fwrite(src[n], 1, len[n], f), len[n]);
            assert_int_equal(fclose(f), 0);
            h = fnv(h, ns[d][i].name, strlen(ns[d][i].name) + 1);
            h = fnv(h, &len[n], sizeof len[n]);
            if (len[n]) h = fnv(h, src[n], len[n]);
            free(p);
        }
        free(dp);
    }
    return h;
}

/* The base table: "<dir>/<name>" then its content, alternately. */
static void save_base(ae_strlist *base, const char *root)
{
    static const char *const subs[] = {"", "data", "deletions", "versions", "index"};
    for (size_t s = 0; s < sizeof subs / sizeof *subs; s++) {
        char *dp = *subs[s] ? ae_path_join(root, subs[s]) : strdup(root);
        DIR *d = opendir(dp);
        assert_non_null(d);
        struct dirent *de;
        while ((de = readdir(d))) {
            char *p = ae_path_join(dp, de->d_name);
            if (!ae_is_dir(p)) {
                ae_buf b = {0};
                read_whole(p, &b);
                assert_int_equal(
                    ae_strlist_push_owned(base, ae_asprintf("%s/%s", subs[s], de->d_name)), 0);
                /* contents are text or binary: keep the length in front */
                char *blob = malloc(sizeof(size_t) + b.len + 1);
                assert_non_null(blob);
                memcpy(blob, &b.len, sizeof(size_t));
                if (b.len) memcpy(blob + sizeof(size_t), b.data, b.len);
                assert_int_equal(ae_strlist_push_owned(base, blob), 0);
                ae_buf_free(&b);
            }
            free(p);
        }
        closedir(d);
        free(dp);
    }
}

static void restore_base(const ae_strlist *base, const char *root)
{
    static const char *const subs[] = {"data", "deletions", "versions", "index"};
    tt_rmrf(root);
    assert_int_equal(mkdir(root, 0755), 0);
    for (size_t s = 0; s < sizeof subs / sizeof *subs; s++) {
        char *dp = ae_path_join(root, subs[s]);
        assert_int_equal(mkdir(dp, 0755), 0);
        free(dp);
    }
    for (size_t i = 0; i + 1 < base->len; i += 2) {
        const char *rel = base->items[i];
        char *p = ae_asprintf("%s/%s", root, rel[0] == '/' ? rel + 1 : rel);
        size_t len;
        memcpy(&len, base->items[i + 1], sizeof len);
        FILE *f = fopen(p, "wb");
        assert_non_null(f);
        if (len) assert_int_equal(fwrite(base->items[i + 1] + sizeof len, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
        free(p);
    }
}

/* ---- the table ------------------------------------------------------------ */

static int add_row(const ae_vs_record *rec, void *ctx)
{
    ae_strlist *l = ctx;
    char *s = ae_asprintf("%s %s %.6f", rec->symbol_id, rec->sir_hash, rec->embedding[0]);
    return ae_strlist_push_owned(l, s);
}

/* The table's content as one string (NULL and err set if it cannot open). */
static char *fingerprint(const char *vdir, ae_error *err)
{
    ae_table *t = NULL;
    if (ae_table_open(vdir, P, M, DIM, 0, NULL, &t, err) < 0) return NULL;
    ae_strlist rows = {0};
    ae_table_status st;
    if (ae_table_iterate(t, add_row, &rows, err) < 0 || ae_table_status_get(t, &st, err) < 0) {
        ae_strlist_free(&rows);
        ae_table_close(t);
        return NULL;
    }
    ae_strlist_sort(&rows);
    ae_buf b = {0};
    ae_buf_printf(&b, "version %llu, %zu fragments, %llu deleted\n", (unsigned long long)st.version,
                  st.fragments, (unsigned long long)st.rows_deleted);
    for (size_t i = 0; i < rows.len; i++) {
        ae_buf_puts(&b, rows.items[i]);
        ae_buf_puts(&b, "\n");
    }
    ae_strlist_free(&rows);
    ae_table_close(t);
    return b.data;
}

/* ae_table_fsck's problems, joined ("" if none). */
static char *verify_problems(const char *root)
{
    ae_error err;
    ae_table_fsck_report rep;
    TT_OK(ae_table_fsck(root, &rep, &err));
    ae_buf b = {0};
    ae_buf_puts(&b, "");
    for (size_t i = 0; i < rep.n_problems; i++)
        ae_buf_printf(&b, "%s; ", rep.problems[i].message);
    if (rep.versions_checked == 0) ae_buf_puts(&b, "no version at all");
    ae_table_fsck_report_free(&rep);
    return b.data;
}

/* Version 1: 20 rows; version 2: 3 deleted. */
static void make_base(const char *vdir)
{
    ae_error err;
    ae_table *t = NULL;
    TT_OK(ae_table_open(vdir, P, M, DIM, 1, NULL, &t, &err));
    tt_batch a = tt_make(P, M, DIM, 0, 20, 1);
    TT_OK(ae_table_upsert(t, a.recs, a.n, &err));
    const char *del[] = {"sym-000002", "sym-000011", "sym-000019"};
    TT_OK(ae_table_delete(t, del, 3, NULL, &err));
    ae_table_close(t);
    tt_free(&a);
}

enum change { CH_UPSERT, CH_DELETE, CH_OPTIMIZE };
static const char *const change_name[] = {"upsert", "delete", "optimize"};

/* Opens the table, runs the change with the layer installed and the power
 * cut at step cut_at (0: never), closes.  Returns the change's result. */
static int run_change(const char *vdir, enum change ch, unsigned cut_at)
{
    ae_error err;
    ae_table *t = NULL;
    ae_table_opts o = {.retention_ms = -1, .keep_versions = 1};
    TT_OK(ae_table_open(vdir, P, M, DIM, 0, &o, &t, &err));
    L.steps = 0;
    L.cut = false;
    L.cut_at = cut_at ? cut_at : UINT32_MAX;
    L.unexpected = 0;
    memset(L.fd_kind, 0, sizeof L.fd_kind);
    const ae_vio *prev = ae_vio_install(&powerloss_vio);
    int rc;
    if (ch == CH_UPSERT) {
        /* replaces 5 rows of a fragment with deletions, adds 5: a fragment,
         * a deletion file and a manifest */
        tt_batch b = tt_make(P, M, DIM, 15, 10, 2);
        rc = ae_table_upsert(t, b.recs, b.n, &err);
        tt_free(&b);
    } else if (ch == CH_DELETE) {
        const char *del[] = {"sym-000003", "sym-000015", "sym-000016"};
        rc = ae_table_delete(t, del, 3, NULL, &err);
    } else {
        rc = ae_table_optimize(t, &err);
    }
    ae_vio_install(prev);
    ae_table_close(t); /* not used after the cut: only freed */
    assert_int_equal(L.unexpected, 0);
    if (!cut_at) TT_OK(rc);
    return rc;
}

typedef struct tally {
    unsigned steps, acked, states, old, new_, skipped_dup;
} tally;

static bool seen_hash(uint64_t **hs, size_t *n, uint64_t h)
{
    for (size_t i = 0; i < *n; i++)
        if ((*hs)[i] == h) return true;
    uint64_t *p = realloc(*hs, (*n + 1) * sizeof **hs);
    assert_non_null(p);
    *hs = p;
    p[(*n)++] = h;
    return false;
}

/* One rebuilt state: old or new, verify clean, the next commit works. */
static void check_state(const char *vdir, const char *root, const char *old_fp, const char *new_fp,
                        bool must_be_new, const char *what, tally *ty)
{
    ae_error err;
    ae_error_clear(&err);
    char *got = fingerprint(vdir, &err);
    if (!got) fail_msg("%s: the table does not open: %s", what, err.message);
    if (!strcmp(got, new_fp)) {
        ty->new_++;
    } else if (!strcmp(got, old_fp) && !must_be_new) {
        ty->old++;
    } else {
        fail_msg("%s: the table is %s:\n%s", what,
                 must_be_new ? "not the acknowledged new version" : "neither old nor new", got);
    }
    free(got);
    char *probs = verify_problems(root);
    if (*probs) fail_msg("%s: verify: %s", what, probs);
    free(probs);
    ae_table *t = NULL;
    ae_table_opts o = {.retention_ms = -1, .keep_versions = 1};
    TT_OK(ae_table_open(vdir, P, M, DIM, 0, &o, &t, &err));
    tt_batch c = tt_make(P, M, DIM, 500, 1, 9);
    ae_error_clear(&err);
    int rc = ae_table_upsert(t, c.recs, 1, &err);
    if (rc < 0) fail_msg("%s: the next commit fails: %s", what, err.message);
    TT_OK(ae_table_cleanup(t, NULL, &err));
    ae_table_close(t);
    tt_free(&c);
    probs = verify_problems(root);
    if (*probs) fail_msg("%s: verify after the next commit: %s", what, probs);
    free(probs);
    ty->states++;
}

static void powerloss_loop(enum change ch, tally *ty)
{
    char *dir = tt_tmpdir();
    char *vdir = ae_path_join(dir, "vectors");
    char name[AE_TABLE_NAME_MAX];
    ae_table_name(P, M, DIM, name);
    char *root = ae_path_join(vdir, name);
    make_base(vdir);
    ae_error err;
    char *old_fp = fingerprint(vdir, &err);
    assert_non_null(old_fp);
    ae_strlist base = {0};
    save_base(&base, root);
    model_scan(root);
    run_change(vdir, ch, 0);
    unsigned total = L.steps;
    char *new_fp = fingerprint(vdir, &err);
    assert_non_null(new_fp);
    assert_string_not_equal(old_fp, new_fp);
    uint64_t rng = 0x2545f4914f6cdd1dull + (uint64_t)ch;
    uint64_t *hs = NULL;
    size_t nhs = 0;
    memset(ty, 0, sizeof *ty);
    for (unsigned n = 1; n <= total + 1; n++) {
        /* restore the base, all durable, and run the change up to the cut */
        restore_base(&base, root);
        model_scan(root);
        int rc = run_change(vdir, ch, n);
        /* a cut in a best-effort step (the temp manifest's unlink, the
         * cleanup after a commit) still returns success: acknowledged */
        bool done = rc == 0;
        if (n > total) TT_OK(rc);
        if (!done) assert_int_equal(rc, AE_EIO);
        ty->steps += n <= total;
        ty->acked += done;
        size_t pending = 0;
        unsigned dirs_pending = 0;
        for (size_t i = 0; i < L.nops; i++)
            if (!L.ops[i].settled) {
                pending++;
                dirs_pending |= 1u << L.ops[i].dir;
            }
        /* the variants: prefixes of the pending operations, and subsets of
         * the directories with pending operations, each with three kinds of
         * content (torn four times, at random) */
        variant vs[512];
        size_t nv = 0;
        static const enum content cs[] = {C_DURABLE, C_TORN, C_TORN, C_TORN, C_TORN, C_FULL};
        for (size_t c = 0; c < sizeof cs / sizeof *cs; c++) {
            for (size_t k = 0; k <= pending && nv < 512; k++)
                vs[nv++] = (variant){cs[c], true, k, 0, &rng};
            for (unsigned m = 0; m < (1u << L.ndirs) && nv < 512; m++)
                if ((m & ~dirs_pending) == 0) vs[nv++] = (variant){cs[c], false, 0, m, &rng};
        }
        for (size_t i = 0; i < nv; i++) {
            uint64_t h = materialize(&vs[i]);
            if (seen_hash(&hs, &nhs, h)) {
                ty->skipped_dup++;
                continue;
            }
            char what[160];
            snprintf(what, sizeof what, "%s, power cut at step %u of %u, %s content, %s %zu",
                     change_name[ch], n, total,
                     vs[i].content == C_DURABLE ? "durable"
                     : vs[i].content == C_TORN  ? "torn"
                                                : "whole",
                     vs[i].by_prefix ? "pending directory ops replayed:" : "directories kept: mask",
                     vs[i].by_prefix ? vs[i].prefix : (size_t)vs[i].mask);
            check_state(vdir, root, old_fp, new_fp, done, what, ty);
        }
    }
    print_message("%s: %u power-cut points (+1 after success; %u acknowledged), %u distinct "
                  "states checked: %u old, %u new (%u duplicate states skipped)\n",
                  change_name[ch], ty->steps, ty->acked, ty->states, ty->old, ty->new_,
                  ty->skipped_dup);
    assert_true(ty->old > 0 && ty->new_ > 0);
    model_free();
    ae_strlist_free(&base);
    free(hs);
    free(old_fp);
    free(new_fp);
    tt_rmrf(dir);
    free(root);
    free(vdir);
    free(dir);
}

static void test_upsert_powerloss(void **state)
{
    tally ty;
    powerloss_loop(CH_UPSERT, &ty);
    assert_true(ty.steps >= 12); /* fragment + deletion + manifest + fsyncs */
}

static void test_delete_powerloss(void **state)
{
    tally ty;
    powerloss_loop(CH_DELETE, &ty);
    assert_true(ty.steps >= 6);
}

static void test_optimize_powerloss(void **state)
{
    tally ty;
    powerloss_loop(CH_OPTIMIZE, &ty);
    assert_true(ty.steps >= 8);
}

/* The layer itself: a file never fsynced comes back empty, a rename without
 * a directory fsync may be undone, and fsyncs make both durable. */
static void test_model_semantics(void **state)
{
    char *dir = tt_tmpdir();
    char *root = ae_path_join(dir, "t");
    char *sub = ae_path_join(root, "d");
    assert_int_equal(ae_mkdirs(sub, NULL), 0);
    model_scan(root);
    L.steps = 0;
    L.cut = false;
    L.cut_at = UINT32_MAX;
    L.unexpected = 0;
    char *a = ae_path_join(sub, "a"), *b = ae_path_join(sub, "b"), *c = ae_path_join(sub, "c");
    const ae_vio *prev = ae_vio_install(&powerloss_vio);
    ae_error err;
    TT_OK(vio_write_file(a, "durable", 7, &err)); /* 3 steps: open, write, fsync */
    int fd = ae_vio_cur->open(b, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ae_vio_cur->write(fd, "lost", 4), 4);
    ae_vio_cur->close(fd);
    TT_OK(vio_fsync_dir(sub, &err));
    TT_OK(vio_rename(a, c, &err));
    L.cut_at = L.steps + 1;
    assert_int_equal(vio_unlink(b, &err), AE_EIO); /* the cut: not done */
    ae_vio_install(prev);
    assert_int_equal(L.unexpected, 0);
    assert_true(ae_path_exists(b));
    uint64_t rng = 1;
    variant v = {C_DURABLE, true, 0, 0, &rng};
    materialize(&v);
    char *data = NULL;
    size_t len = 0;
    TT_OK(ae_read_file(a, &data, &len, &err)); /* the rename is undone */
    assert_int_equal(len, 7);
    assert_memory_equal(data, "durable", 7);
    free(data);
    TT_OK(ae_read_file(b, &data, &len, &err)); /* named, never fsynced */
    assert_int_equal(len, 0);
    free(data);
    assert_false(ae_path_exists(c));
    v.prefix = 1; /* the rename survives */
    materialize(&v);
    assert_false(ae_path_exists(a));
    TT_OK(ae_read_file(c, &data, &len, &err));
    assert_int_equal(len, 7);
    free(data);
    v.content = C_FULL;
    materialize(&v);
    TT_OK(ae_read_file(b, &data, &len, &err));
    assert_int_equal(len, 4);
    free(data);
    model_free();
    free(a);
    free(b);
    free(c);
    free(sub);
    free(root);
    tt_rmrf(dir);
    free(dir);
}

/* Creating a table: a recording layer over the default one notes which
 * directories are fsynced.  The table directory's entry in vectors/ must be
 * made durable too, or a power loss after the first acknowledged commit
 * could drop the whole table (the layer above models only the table's own
 * directories, so this is checked directly). */
static struct {
    const ae_vio *under;
    int fd[64];
    char path[64][512];
    char synced[16][512];
    size_t nsynced;
} R;

static int rec_open(const char *path, int flags, mode_t mode)
{
    int fd = R.under->open(path, flags, mode);
    if (fd >= 0 && fd < 64 && (flags & O_DIRECTORY)) {
        R.fd[fd] = 1;
        snprintf(R.path[fd], sizeof R.path[fd], "%s", path);
    }
    return fd;
}

static ssize_t rec_write(int fd, const void *buf, size_t n)
{
    return R.under->write(fd, buf, n);
}

static int rec_fsync(int fd)
{
    if (fd >= 0 && fd < 64 && R.fd[fd] && R.nsynced < 16)
        memcpy(R.synced[R.nsynced++], R.path[fd], sizeof R.path[fd]);
    return R.under->fsync(fd);
}

static int rec_close(int fd)
{
    if (fd >= 0 && fd < 64) R.fd[fd] = 0;
    return R.under->close(fd);
}

static int rec_rename(const char *from, const char *to)
{
    return R.under->rename(from, to);
}

static int rec_link(const char *from, const char *to)
{
    return R.under->link(from, to);
}

static int rec_unlink(const char *path)
{
    return R.under->unlink(path);
}

static int rec_mkdir(const char *path, mode_t mode)
{
    return R.under->mkdir(path, mode);
}

static const ae_vio recording_vio = {
    rec_open, rec_write, rec_fsync, rec_close, rec_rename, rec_link, rec_unlink, rec_mkdir,
};

static void test_create_fsyncs_parent(void **state)
{
    char *dir = tt_tmpdir();
    char *vdir = ae_path_join(dir, "vectors");
    char name[AE_TABLE_NAME_MAX];
    ae_table_name(P, M, DIM, name);
    char *root = ae_path_join(vdir, name);
    memset(&R, 0, sizeof R);
    R.under = ae_vio_install(&recording_vio);
    ae_error err;
    ae_table *t = NULL;
    TT_OK(ae_table_open(vdir, P, M, DIM, 1, NULL, &t, &err));
    ae_vio_install(R.under);
    ae_table_close(t);
    size_t at_root = 99, at_vdir = 99;
    for (size_t i = 0; i < R.nsynced; i++) {
        if (!strcmp(R.synced[i], root)) at_root = i;
        if (!strcmp(R.synced[i], vdir)) at_vdir = i;
    }
    assert_true(at_root < R.nsynced); /* the subdirectories and the marker */
    assert_true(at_vdir < R.nsynced); /* the table directory itself */
    assert_true(at_vdir > at_root);
    tt_rmrf(dir);
    free(root);
    free(vdir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_semantics),    cmocka_unit_test(test_create_fsyncs_parent),
        cmocka_unit_test(test_upsert_powerloss),   cmocka_unit_test(test_delete_powerloss),
        cmocka_unit_test(test_optimize_powerloss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
